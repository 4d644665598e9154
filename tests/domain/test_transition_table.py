"""Every status x every command x every role: the specified next status, or
the specified named error. The table below is written from the spec
(shared/spec/domain.md), not derived from the implementation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from domain.application import DisputeApp
from domain.errors import DeadlineNotOpen, DomainError, InvalidTransition, NotParty, RoleNotAllowed
from domain.values import (
    Actor,
    AppealDecision,
    Deadline,
    EvidenceKind,
    Outcome,
    Remedy,
    ReturnCondition,
    Role,
    Status,
)
from support.builders import (
    AGENT,
    ANALYST,
    AUDITOR,
    BUYER,
    OTHER_BUYER,
    OTHER_SELLER,
    SELLER,
    SYSTEM,
    Scenario,
    fake_file,
    scenario_in,
    usd,
)
from support.domain_app import in_memory_app

S = Status
BAD = InvalidTransition
Command = Callable[[DisputeApp, Scenario, Actor], object]


def _offer_id(app: DisputeApp, s: Scenario) -> str:
    dispute = app.dispute(s.id)
    return dispute.pending_offer_id or dispute.offers[-1].id


def _some_deadline(app: DisputeApp, s: Scenario) -> Deadline:
    deadlines = app.dispute(s.id).deadlines
    return next(iter(deadlines)) if deadlines else Deadline.SELLER_RESPONSE


MAIN_DEADLINE = {
    S.AWAITING_SELLER: Deadline.SELLER_RESPONSE,
    S.NEGOTIATING: Deadline.NEGOTIATION,
    S.AWAITING_RETURN: Deadline.RETURN_SHIPPING,
    S.RETURN_IN_TRANSIT: Deadline.RETURN_RECEIPT,
    S.UNDER_REVIEW: Deadline.REVIEW_SLA,
    S.UNDER_APPEAL: Deadline.APPEAL_REVIEW,
    S.RESOLVED: Deadline.SELLER_RESPONSE,
    S.WITHDRAWN: Deadline.SELLER_RESPONSE,
}

COMMANDS: dict[str, Command] = {
    "propose_offer": lambda app, s, a: app.propose_offer(
        s.id, s.clock.ctx(a), Remedy.PARTIAL_REFUND, usd(300), "how about this"
    ),
    "accept_offer": lambda app, s, a: app.accept_offer(s.id, s.clock.ctx(a), _offer_id(app, s), "fine"),
    "reject_offer": lambda app, s, a: app.reject_offer(s.id, s.clock.ctx(a), _offer_id(app, s), "no"),
    "submit_evidence": lambda app, s, a: app.submit_evidence(
        s.id,
        s.clock.ctx(a),
        kind=EvidenceKind.PHOTO,
        description="the box",
        sha256=fake_file()[0],
        size=fake_file()[1],
        media_type="image/png",
        blob_key="sha256/" + fake_file()[0],
    ),
    "post_message": lambda app, s, a: app.post_message(s.id, s.clock.ctx(a), "hello"),
    "escalate": lambda app, s, a: app.escalate(s.id, s.clock.ctx(a), "please decide"),
    "withdraw": lambda app, s, a: app.withdraw(s.id, s.clock.ctx(a), "changed my mind"),
    "ship_return": lambda app, s, a: app.ship_return(s.id, s.clock.ctx(a), "UPS", "1Z1"),
    "confirm_return_receipt": lambda app, s, a: app.confirm_return_receipt(
        s.id, s.clock.ctx(a), ReturnCondition.RECEIVED_OK, "got it"
    ),
    "request_evidence": lambda app, s, a: app.request_evidence(
        s.id, s.clock.ctx(a), Role.SELLER, "tracking please", timedelta(days=2)
    ),
    "extend_deadline": lambda app, s, a: app.extend_deadline(
        s.id, s.clock.ctx(a), _some_deadline(app, s), timedelta(days=1), "holiday"
    ),
    "issue_ruling": lambda app, s, a: app.issue_ruling(
        s.id, s.clock.ctx(a), Outcome.REFUND_PARTIAL, usd(500), True, "evidence shows damage"
    ),
    "appeal": lambda app, s, a: app.appeal(s.id, s.clock.ctx(a), "please look again"),
    "decide_appeal": lambda app, s, a: app.decide_appeal(
        s.id, s.clock.ctx(a), AppealDecision.UPHELD, None, None, None, "the ruling stands"
    ),
    "claim": lambda app, s, a: app.claim(s.id, s.clock.ctx(a), False, ""),
    "release": lambda app, s, a: app.release(s.id, s.clock.ctx(a), ""),
}


def expire(app: DisputeApp, s: Scenario, a: Actor, status: Status) -> object:
    s.clock.now += timedelta(days=60)
    return app.expire_deadline(s.id, s.clock.ctx(a), MAIN_DEADLINE[status])


# Roles the spec lets take each command at all; anyone else gets RoleNotAllowed (403).
MAY = {
    "propose_offer": {Role.BUYER, Role.SELLER},
    "accept_offer": {Role.BUYER, Role.SELLER},
    "reject_offer": {Role.BUYER, Role.SELLER},
    "submit_evidence": {Role.BUYER, Role.SELLER, Role.AGENT},
    "post_message": {Role.BUYER, Role.SELLER, Role.AGENT},
    "escalate": {Role.BUYER, Role.SELLER},
    "withdraw": {Role.BUYER},
    "ship_return": {Role.BUYER},
    "confirm_return_receipt": {Role.SELLER},
    "request_evidence": {Role.AGENT},
    "extend_deadline": {Role.AGENT},
    "issue_ruling": {Role.AGENT},
    "appeal": {Role.BUYER, Role.SELLER},
    "decide_appeal": {Role.AGENT},
    "claim": {Role.AGENT},
    "release": {Role.AGENT},
    "expire_deadline": {Role.SYSTEM},
}

SAME = "unchanged"
B, Se, Ag, Sy = Role.BUYER, Role.SELLER, Role.AGENT, Role.SYSTEM
TERMINAL_ROW = {cmd: dict.fromkeys(roles, BAD) for cmd, roles in MAY.items()}
TERMINAL_ROW["expire_deadline"] = {Sy: DeadlineNotOpen}

# status -> command -> role (among MAY) -> next status, SAME, or an error class
TABLE: dict[Status, dict[str, dict[Role, object]]] = {
    S.AWAITING_SELLER: {
        "propose_offer": {B: BAD, Se: S.NEGOTIATING},
        "accept_offer": {B: BAD, Se: S.RESOLVED},
        "reject_offer": {B: BAD, Se: S.NEGOTIATING},
        "submit_evidence": {B: SAME, Se: SAME, Ag: SAME},
        "post_message": {B: SAME, Se: SAME, Ag: SAME},
        "escalate": {B: BAD, Se: BAD},
        "withdraw": {B: S.WITHDRAWN},
        "ship_return": {B: BAD},
        "confirm_return_receipt": {Se: BAD},
        "request_evidence": {Ag: BAD},
        "extend_deadline": {Ag: SAME},
        "issue_ruling": {Ag: BAD},
        "appeal": {B: BAD, Se: BAD},
        "decide_appeal": {Ag: BAD},
        "claim": {Ag: BAD},
        "release": {Ag: BAD},
        "expire_deadline": {Sy: S.RESOLVED},
    },
    S.NEGOTIATING: {
        "propose_offer": {B: S.NEGOTIATING, Se: BAD},
        "accept_offer": {B: S.RESOLVED, Se: BAD},
        "reject_offer": {B: S.NEGOTIATING, Se: BAD},
        "submit_evidence": {B: SAME, Se: SAME, Ag: SAME},
        "post_message": {B: SAME, Se: SAME, Ag: SAME},
        "escalate": {B: S.UNDER_REVIEW, Se: S.UNDER_REVIEW},
        "withdraw": {B: S.WITHDRAWN},
        "ship_return": {B: BAD},
        "confirm_return_receipt": {Se: BAD},
        "request_evidence": {Ag: BAD},
        "extend_deadline": {Ag: SAME},
        "issue_ruling": {Ag: BAD},
        "appeal": {B: BAD, Se: BAD},
        "decide_appeal": {Ag: BAD},
        "claim": {Ag: BAD},
        "release": {Ag: BAD},
        "expire_deadline": {Sy: S.UNDER_REVIEW},
    },
    S.AWAITING_RETURN: {
        "propose_offer": {B: BAD, Se: BAD},
        "accept_offer": {B: BAD, Se: BAD},
        "reject_offer": {B: BAD, Se: BAD},
        "submit_evidence": {B: SAME, Se: SAME, Ag: SAME},
        "post_message": {B: SAME, Se: SAME, Ag: SAME},
        "escalate": {B: S.UNDER_REVIEW, Se: S.UNDER_REVIEW},
        "withdraw": {B: S.WITHDRAWN},
        "ship_return": {B: S.RETURN_IN_TRANSIT},
        "confirm_return_receipt": {Se: BAD},
        "request_evidence": {Ag: BAD},
        "extend_deadline": {Ag: SAME},
        "issue_ruling": {Ag: BAD},
        "appeal": {B: BAD, Se: BAD},
        "decide_appeal": {Ag: BAD},
        "claim": {Ag: BAD},
        "release": {Ag: BAD},
        "expire_deadline": {Sy: S.RESOLVED},
    },
    S.RETURN_IN_TRANSIT: {
        "propose_offer": {B: BAD, Se: BAD},
        "accept_offer": {B: BAD, Se: BAD},
        "reject_offer": {B: BAD, Se: BAD},
        "submit_evidence": {B: SAME, Se: SAME, Ag: SAME},
        "post_message": {B: SAME, Se: SAME, Ag: SAME},
        "escalate": {B: S.UNDER_REVIEW, Se: S.UNDER_REVIEW},
        "withdraw": {B: S.WITHDRAWN},
        "ship_return": {B: BAD},
        "confirm_return_receipt": {Se: S.RESOLVED},
        "request_evidence": {Ag: BAD},
        "extend_deadline": {Ag: SAME},
        "issue_ruling": {Ag: BAD},
        "appeal": {B: BAD, Se: BAD},
        "decide_appeal": {Ag: BAD},
        "claim": {Ag: BAD},
        "release": {Ag: BAD},
        "expire_deadline": {Sy: S.RESOLVED},
    },
    S.UNDER_REVIEW: {
        "propose_offer": {B: BAD, Se: BAD},
        "accept_offer": {B: BAD, Se: BAD},
        "reject_offer": {B: BAD, Se: BAD},
        "submit_evidence": {B: SAME, Se: SAME, Ag: SAME},
        "post_message": {B: SAME, Se: SAME, Ag: SAME},
        "escalate": {B: BAD, Se: BAD},
        "withdraw": {B: S.WITHDRAWN},
        "ship_return": {B: BAD},
        "confirm_return_receipt": {Se: BAD},
        "request_evidence": {Ag: SAME},
        "extend_deadline": {Ag: SAME},
        "issue_ruling": {Ag: S.RESOLVED},
        "appeal": {B: BAD, Se: BAD},
        "decide_appeal": {Ag: BAD},
        "claim": {Ag: SAME},
        "release": {Ag: BAD},
        "expire_deadline": {Sy: SAME},
    },
    S.UNDER_APPEAL: {
        "propose_offer": {B: BAD, Se: BAD},
        "accept_offer": {B: BAD, Se: BAD},
        "reject_offer": {B: BAD, Se: BAD},
        "submit_evidence": {B: SAME, Se: SAME, Ag: SAME},
        "post_message": {B: SAME, Se: SAME, Ag: SAME},
        "escalate": {B: BAD, Se: BAD},
        "withdraw": {B: BAD},
        "ship_return": {B: BAD},
        "confirm_return_receipt": {Se: BAD},
        "request_evidence": {Ag: SAME},
        "extend_deadline": {Ag: SAME},
        "issue_ruling": {Ag: BAD},
        "appeal": {B: BAD, Se: BAD},
        "decide_appeal": {Ag: S.RESOLVED},
        "claim": {Ag: SAME},
        "release": {Ag: BAD},
        "expire_deadline": {Sy: SAME},
    },
    S.RESOLVED: TERMINAL_ROW,
    S.WITHDRAWN: TERMINAL_ROW,
}

ROLES = [BUYER, SELLER, AGENT, AUDITOR, ANALYST, SYSTEM]
CELLS = [(status, command, actor) for status in Status for command in [*COMMANDS, "expire_deadline"] for actor in ROLES]


def expected_for(status: Status, command: str, role: Role) -> object:
    if role not in MAY[command]:
        return RoleNotAllowed
    return TABLE[status][command][role]


@pytest.fixture(scope="module")
def memory_app() -> DisputeApp:
    return in_memory_app()


def run(app: DisputeApp, s: Scenario, command: str, actor: Actor, status: Status) -> object:
    if command == "expire_deadline":
        return expire(app, s, actor, status)
    return COMMANDS[command](app, s, actor)


def cell_id(value: object) -> str:
    return str(getattr(value, "value", None) or getattr(value, "id", None) or value)


@pytest.mark.parametrize(("status", "command", "actor"), CELLS, ids=cell_id)
def test_transition_table(memory_app: DisputeApp, status: Status, command: str, actor: Actor) -> None:
    s = scenario_in(memory_app, status)
    before = memory_app.dispute(s.id)
    assert before.status is status
    expected = expected_for(status, command, actor.role)
    if isinstance(expected, type) and issubclass(expected, DomainError):
        with pytest.raises(expected):
            run(memory_app, s, command, actor, status)
        assert memory_app.dispute(s.id).version == before.version, "a refused command appends nothing"
        return
    run(memory_app, s, command, actor, status)
    after = memory_app.dispute(s.id)
    assert after.version > before.version
    assert after.status is (status if expected == SAME else expected)


def test_table_covers_every_status_command_and_role() -> None:
    assert len(CELLS) == len(Status) * 17 * 6
    for status in Status:
        assert set(TABLE[status]) == set(MAY), status


@pytest.mark.parametrize("command", [*COMMANDS, "expire_deadline"])
@pytest.mark.parametrize("stranger", [OTHER_BUYER, OTHER_SELLER], ids=["other_buyer", "other_seller"])
def test_buyers_and_sellers_of_other_disputes_are_told_it_does_not_exist(
    memory_app: DisputeApp, command: str, stranger: Actor
) -> None:
    s = scenario_in(memory_app, Status.NEGOTIATING)
    with pytest.raises(NotParty):
        run(memory_app, s, command, stranger, Status.NEGOTIATING)
