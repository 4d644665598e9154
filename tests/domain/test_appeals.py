"""Appeals of rulings and agents' claims, rule by rule (shared/spec and issue 14)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import events as ev
from domain.application import DisputeApp
from domain.errors import (
    ActionWindowClosed,
    ClaimedByAnotherAgent,
    InvalidTransition,
    InvalidValue,
    NotClaimant,
    OutcomeRequired,
    RoleNotAllowed,
    SameAgent,
)
from domain.policy import Policy
from domain.values import Action, AppealDecision, Deadline, Outcome, ResolvedHow, Status
from support.builders import AGENT, BUYER, OTHER_AGENT, SELLER, SYSTEM, Scenario, scenario_in, usd
from support.domain_app import in_memory_app

WINDOW = timedelta(days=10)


@pytest.fixture
def app() -> DisputeApp:
    return in_memory_app(policy=Policy(appeal_window=WINDOW))


def ruled(app: DisputeApp, outcome: Outcome = Outcome.NO_REFUND) -> Scenario:
    return scenario_in(app, Status.UNDER_REVIEW).agent_rules(AGENT, outcome)


def test_a_ruling_is_not_final_until_its_appeal_window_ends(app: DisputeApp) -> None:
    s = ruled(app)
    d = app.dispute(s.id)
    assert d.resolution is not None and d.resolution.how is ResolvedHow.RULING
    assert d.resolution.final is False
    assert d.resolution.appealable_until == d.resolution.resolved_at + WINDOW
    assert d.deadlines == {Deadline.APPEAL_WINDOW: d.resolution.appealable_until}
    assert Action.APPEAL in d.allowed_actions(BUYER, s.clock.now)
    assert Action.APPEAL in d.allowed_actions(SELLER, s.clock.now)


@pytest.mark.parametrize("how", ["agreement", "deadline"])
def test_agreements_and_deadline_outcomes_are_final_at_once(app: DisputeApp, how: str) -> None:
    s = scenario_in(app, Status.RESOLVED)
    if how == "deadline":
        s = Scenario(app).open()
        s.clock.now += timedelta(days=30)
        app.expire_deadline(s.id, s.clock.ctx(SYSTEM), Deadline.SELLER_RESPONSE)
    d = app.dispute(s.id)
    assert d.resolution is not None and d.resolution.how.value == how
    assert d.resolution.final is True and d.resolution.appealable_until is None and d.deadlines == {}
    with pytest.raises(InvalidTransition, match="only an agent's ruling"):
        app.appeal(s.id, s.clock.ctx(BUYER), "unfair")


@pytest.mark.parametrize("party", [BUYER, SELLER], ids=["buyer", "seller"])
def test_either_party_appeals_a_ruling_and_an_agent_must_act(app: DisputeApp, party: object) -> None:
    s = ruled(app)
    app.appeal(s.id, s.clock.ctx(party), "the photos show the damage")  # type: ignore[arg-type]
    d = app.dispute(s.id)
    assert d.status is Status.UNDER_APPEAL and d.party_to_act is AGENT.role and d.closed_at is None
    assert set(d.deadlines) == {Deadline.APPEAL_REVIEW}
    assert d.deadlines[Deadline.APPEAL_REVIEW] == d.modified_on + Policy().review_sla
    assert d.appeal is not None and d.appeal.appealed_by == party and d.appeal.ruled_by == AGENT.id


def test_an_appeal_needs_a_reason_and_a_party(app: DisputeApp) -> None:
    s = ruled(app)
    with pytest.raises(InvalidValue):
        app.appeal(s.id, s.clock.ctx(BUYER), "  ")
    with pytest.raises(RoleNotAllowed):
        app.appeal(s.id, s.clock.ctx(AGENT), "second thoughts")
    assert app.dispute(s.id).status is Status.RESOLVED


def test_an_appeal_after_the_window_is_refused_before_and_after_the_scheduler_closes_it(app: DisputeApp) -> None:
    s = ruled(app)
    s.clock.now += WINDOW
    with pytest.raises(ActionWindowClosed):
        app.appeal(s.id, s.clock.ctx(BUYER), "late")
    app.expire_deadline(s.id, s.clock.ctx(SYSTEM), Deadline.APPEAL_WINDOW)
    d = app.dispute(s.id)
    assert isinstance(list(app.events.get(s.id))[-1], ev.AppealWindowClosed)
    assert d.resolution is not None and d.resolution.final and d.deadlines == {}
    assert d.status is Status.RESOLVED and d.allowed_actions(BUYER, s.clock.now) == []
    with pytest.raises(InvalidTransition, match="final"):
        app.appeal(s.id, s.clock.ctx(BUYER), "late")


def test_the_agent_who_ruled_may_not_decide_the_appeal(app: DisputeApp) -> None:
    s = ruled(app).buyer_appeals()
    assert Action.DECIDE_APPEAL not in app.dispute(s.id).allowed_actions(AGENT, s.clock.now)
    assert Action.DECIDE_APPEAL in app.dispute(s.id).allowed_actions(OTHER_AGENT, s.clock.now)
    with pytest.raises(SameAgent) as refused:
        app.decide_appeal(s.id, s.clock.ctx(AGENT), AppealDecision.UPHELD, None, None, None, "stands")
    assert refused.value.code == "same_agent"


def test_an_upheld_ruling_is_final_with_its_outcome(app: DisputeApp) -> None:
    s = ruled(app, Outcome.REFUND_PARTIAL).buyer_appeals()
    app.decide_appeal(s.id, s.clock.ctx(OTHER_AGENT), AppealDecision.UPHELD, None, None, None, "it stands")
    d = app.dispute(s.id)
    assert d.status is Status.RESOLVED and d.resolution is not None
    assert (d.resolution.how, d.resolution.outcome, d.resolution.refund) == (
        ResolvedHow.APPEAL,
        Outcome.REFUND_PARTIAL,
        usd(500),
    )
    assert d.resolution.final and d.deadlines == {} and d.closed_at == d.resolution.resolved_at
    assert d.appeal is not None and d.appeal.decision is AppealDecision.UPHELD and d.appeal.decided_by == OTHER_AGENT.id


def test_an_overturned_ruling_is_replaced_by_the_new_outcome(app: DisputeApp) -> None:
    s = ruled(app).buyer_appeals()
    app.decide_appeal(
        s.id, s.clock.ctx(OTHER_AGENT), AppealDecision.OVERTURNED, Outcome.REFUND_FULL, usd(2000), True, "damaged"
    )
    d = app.dispute(s.id)
    assert d.resolution is not None and d.resolution.how is ResolvedHow.APPEAL and d.resolution.final
    assert (d.resolution.outcome, d.resolution.refund, d.resolution.seller_at_fault) == (
        Outcome.REFUND_FULL,
        usd(2000),
        True,
    )
    with pytest.raises(InvalidTransition):
        app.appeal(s.id, s.clock.ctx(SELLER), "once per dispute")


def test_an_overturn_needs_its_outcome_and_an_uphold_takes_none(app: DisputeApp) -> None:
    s = ruled(app).buyer_appeals()
    version = app.dispute(s.id).version
    with pytest.raises(OutcomeRequired):
        app.decide_appeal(s.id, s.clock.ctx(OTHER_AGENT), AppealDecision.OVERTURNED, None, None, None, "x")
    with pytest.raises(OutcomeRequired):
        app.decide_appeal(s.id, s.clock.ctx(OTHER_AGENT), AppealDecision.OVERTURNED, Outcome.NO_REFUND, None, None, "x")
    with pytest.raises(InvalidValue):
        app.decide_appeal(s.id, s.clock.ctx(OTHER_AGENT), AppealDecision.UPHELD, Outcome.NO_REFUND, None, False, "x")
    assert app.dispute(s.id).version == version


def test_under_appeal_parties_add_evidence_and_messages_but_not_offers_escalation_or_withdrawal(
    app: DisputeApp,
) -> None:
    s = ruled(app).buyer_appeals()
    s.clock.now += timedelta(days=8)  # the evidence window after opening is long gone
    allowed = app.dispute(s.id).allowed_actions(BUYER, s.clock.now)
    assert allowed == [Action.SUBMIT_EVIDENCE, Action.POST_MESSAGE]
    for refused in (Action.WITHDRAW, Action.ESCALATE, Action.PROPOSE_OFFER):
        assert refused not in allowed
    with pytest.raises(InvalidTransition):
        app.withdraw(s.id, s.clock.ctx(BUYER), "never mind")


def test_claiming_another_agents_dispute_needs_force_and_a_reason(app: DisputeApp) -> None:
    s = scenario_in(app, Status.UNDER_REVIEW)
    app.claim(s.id, s.clock.ctx(AGENT), False, "")
    with pytest.raises(ClaimedByAnotherAgent):
        app.claim(s.id, s.clock.ctx(OTHER_AGENT), False, "")
    with pytest.raises(InvalidValue):
        app.claim(s.id, s.clock.ctx(OTHER_AGENT), True, "")
    with pytest.raises(InvalidTransition, match="already"):
        app.claim(s.id, s.clock.ctx(AGENT), False, "")
    app.claim(s.id, s.clock.ctx(OTHER_AGENT), True, "agent-1 is on leave")
    claimed = list(app.events.get(s.id))[-1]
    assert isinstance(claimed, ev.DisputeClaimed)
    assert (claimed.previous_agent, claimed.forced, claimed.reason) == (AGENT.id, True, "agent-1 is on leave")
    assert app.dispute(s.id).assigned_agent == OTHER_AGENT.id


def test_only_the_holder_releases_and_a_resolution_clears_the_claim(app: DisputeApp) -> None:
    s = scenario_in(app, Status.UNDER_REVIEW)
    app.claim(s.id, s.clock.ctx(AGENT), False, "")
    with pytest.raises(NotClaimant):
        app.release(s.id, s.clock.ctx(OTHER_AGENT), "")
    app.release(s.id, s.clock.ctx(AGENT), "end of shift")
    assert app.dispute(s.id).assigned_agent is None
    app.claim(s.id, s.clock.ctx(AGENT), False, "")
    s.agent_rules()
    assert app.dispute(s.id).assigned_agent is None
    with pytest.raises(InvalidTransition):
        app.claim(s.id, s.clock.ctx(OTHER_AGENT), False, "")
    s.buyer_appeals()
    app.claim(s.id, s.clock.ctx(OTHER_AGENT), False, "")
    assert app.dispute(s.id).assigned_agent == OTHER_AGENT.id
