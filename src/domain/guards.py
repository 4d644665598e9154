"""State and turn rules: may this actor take this action on this dispute now?
The named checks every command runs first (argument checks are
`domain.validation`; who may see a dispute is `domain.visibility`).

`check(dispute, action, actor, at)` raises the named domain error that the
action would meet; `allowed_actions` is every action for which it raises
nothing, so the two can never disagree.
"""

from __future__ import annotations

from datetime import datetime

from domain.errors import (
    ActionWindowClosed,
    AlreadyEscalated,
    EvidenceNotAccepted,
    InvalidTransition,
    MessageLimitReached,
    NotClaimant,
    NotParty,
    RoleNotAllowed,
    SameAgent,
)
from domain.state import DisputeState
from domain.values import Action, Actor, Deadline, ResolvedHow, Role, Status
from domain.visibility import ensure_can_see

ROLES_FOR: dict[Action, frozenset[Role]] = {
    Action.PROPOSE_OFFER: frozenset({Role.BUYER, Role.SELLER}),
    Action.ACCEPT_OFFER: frozenset({Role.BUYER, Role.SELLER}),
    Action.REJECT_OFFER: frozenset({Role.BUYER, Role.SELLER}),
    Action.SUBMIT_EVIDENCE: frozenset({Role.BUYER, Role.SELLER, Role.AGENT}),
    Action.POST_MESSAGE: frozenset({Role.BUYER, Role.SELLER, Role.AGENT}),
    Action.ESCALATE: frozenset({Role.BUYER, Role.SELLER}),
    Action.WITHDRAW: frozenset({Role.BUYER}),
    Action.SHIP_RETURN: frozenset({Role.BUYER}),
    Action.CONFIRM_RETURN_RECEIPT: frozenset({Role.SELLER}),
    Action.REQUEST_EVIDENCE: frozenset({Role.AGENT}),
    Action.EXTEND_DEADLINE: frozenset({Role.AGENT}),
    Action.ISSUE_RULING: frozenset({Role.AGENT}),
    Action.APPEAL: frozenset({Role.BUYER, Role.SELLER}),
    Action.DECIDE_APPEAL: frozenset({Role.AGENT}),
    Action.CLAIM: frozenset({Role.AGENT}),
    Action.RELEASE: frozenset({Role.AGENT}),
}

NEGOTIABLE = frozenset({Status.AWAITING_SELLER, Status.NEGOTIATING})
ESCALATABLE = frozenset({Status.NEGOTIATING, Status.AWAITING_RETURN, Status.RETURN_IN_TRANSIT})
WITH_AN_AGENT = frozenset({Status.UNDER_REVIEW, Status.UNDER_APPEAL})
BEFORE_RESOLUTION = frozenset(s for s in Status if not s.is_terminal and s is not Status.UNDER_APPEAL)

STATUS_FOR: dict[Action, frozenset[Status]] = {
    Action.PROPOSE_OFFER: NEGOTIABLE,
    Action.ACCEPT_OFFER: NEGOTIABLE,
    Action.REJECT_OFFER: NEGOTIABLE,
    Action.ESCALATE: ESCALATABLE,
    Action.SHIP_RETURN: frozenset({Status.AWAITING_RETURN}),
    Action.CONFIRM_RETURN_RECEIPT: frozenset({Status.RETURN_IN_TRANSIT}),
    Action.REQUEST_EVIDENCE: WITH_AN_AGENT,
    Action.ISSUE_RULING: frozenset({Status.UNDER_REVIEW}),
    Action.WITHDRAW: BEFORE_RESOLUTION,
    Action.APPEAL: frozenset({Status.RESOLVED}),
    Action.DECIDE_APPEAL: frozenset({Status.UNDER_APPEAL}),
    Action.CLAIM: WITH_AN_AGENT,
    Action.RELEASE: WITH_AN_AGENT,
}
"""Actions not listed here are possible in every non-terminal status. Appealing
is the one action on a terminal status (a ruling's, within its window)."""

TURN_BOUND = frozenset({Action.PROPOSE_OFFER, Action.ACCEPT_OFFER, Action.REJECT_OFFER})

NEGOTIATION_WINDOWS = (Deadline.SELLER_RESPONSE, Deadline.NEGOTIATION)
WINDOW_FOR: dict[Action, tuple[Deadline, ...]] = {
    Action.PROPOSE_OFFER: NEGOTIATION_WINDOWS,
    Action.ACCEPT_OFFER: NEGOTIATION_WINDOWS,
    Action.REJECT_OFFER: NEGOTIATION_WINDOWS,
    Action.SHIP_RETURN: (Deadline.RETURN_SHIPPING,),
    Action.CONFIRM_RETURN_RECEIPT: (Deadline.RETURN_RECEIPT,),
    # Escalating past a missed return deadline would dodge its outcome; escalating
    # past the negotiation window is what the scheduler would do anyway.
    Action.ESCALATE: (Deadline.RETURN_SHIPPING, Deadline.RETURN_RECEIPT),
    Action.APPEAL: (Deadline.APPEAL_WINDOW,),
}
"""Actions a deadline closes: once it is due, acting is refused even before the
scheduler records the expiry, so a late answer never beats a missed deadline."""


def ensure_role_may(action: Action, actor: Actor) -> None:
    if actor.role not in ROLES_FOR[action]:
        raise RoleNotAllowed(f"a {actor.role.value} may not {action.value.replace('_', ' ')}")


def ensure_status_allows(dispute: DisputeState, action: Action) -> None:
    allowed = STATUS_FOR.get(action)
    if dispute.status.is_terminal and (allowed is None or dispute.status not in allowed):
        raise InvalidTransition(f"the dispute is {dispute.status.value}")
    if allowed is not None and dispute.status not in allowed:
        raise InvalidTransition(f"cannot {action.value.replace('_', ' ')} while {dispute.status.value}")


def ensure_turn(dispute: DisputeState, action: Action, actor: Actor) -> None:
    if action in TURN_BOUND and dispute.party_to_act is not actor.role:
        raise InvalidTransition(f"it is not the {actor.role.value}'s move")
    if action in (Action.ACCEPT_OFFER, Action.REJECT_OFFER) and dispute.pending_offer_id is None:
        raise InvalidTransition("no offer is pending")


def ensure_window_open(dispute: DisputeState, action: Action, at: datetime) -> None:
    for name in WINDOW_FOR.get(action, ()):
        due = dispute.deadlines.get(name)
        if due is not None and at >= due:
            raise ActionWindowClosed(f"the {name.value.replace('_', ' ')} deadline passed at {due.isoformat()}")


def ensure_not_escalated(dispute: DisputeState) -> None:
    if dispute.escalated:
        raise AlreadyEscalated("the dispute has already been escalated once")


def ensure_appealable(dispute: DisputeState) -> None:
    """Only a ruling is appealed, once, before its outcome is final."""
    resolution = dispute.resolution
    if resolution is None or resolution.how is not ResolvedHow.RULING:
        raise InvalidTransition("only an agent's ruling may be appealed")
    if resolution.final or dispute.appeal is not None:
        raise InvalidTransition("the outcome is final")


def ensure_other_agent(dispute: DisputeState, actor: Actor) -> None:
    if dispute.appeal is not None and dispute.appeal.ruled_by == actor.id:
        raise SameAgent("the agent who issued the ruling may not decide its appeal")


def ensure_claim_changes(dispute: DisputeState, action: Action, actor: Actor) -> None:
    if action is Action.CLAIM and dispute.assigned_agent == actor.id:
        raise InvalidTransition("you already handle this dispute")
    if action is Action.RELEASE and dispute.assigned_agent != actor.id:
        raise NotClaimant("you do not handle this dispute")


def ensure_evidence_window_open(dispute: DisputeState, actor: Actor, at: datetime) -> None:
    if actor.role is Role.AGENT or dispute.status is Status.UNDER_APPEAL:
        return
    if evidence_window_open(dispute, actor.role, at):
        return
    raise EvidenceNotAccepted(
        "evidence may be submitted within the evidence window after opening, "
        "or later only while an evidence request addressed to you is open"
    )


def ensure_message_room(dispute: DisputeState, limit: int) -> None:
    if len(dispute.messages) >= limit:
        raise MessageLimitReached(f"a dispute holds at most {limit} messages")


def evidence_window_open(dispute: DisputeState, role: Role, at: datetime) -> bool:
    request = Deadline.EVIDENCE_REQUEST_BUYER if role is Role.BUYER else Deadline.EVIDENCE_REQUEST_SELLER
    return any(name in dispute.deadlines and at < dispute.deadlines[name] for name in (Deadline.EVIDENCE, request))


def check(dispute: DisputeState, action: Action, actor: Actor, at: datetime) -> None:
    ensure_can_see(dispute, actor)
    ensure_role_may(action, actor)
    ensure_status_allows(dispute, action)
    ensure_turn(dispute, action, actor)
    ensure_window_open(dispute, action, at)
    if action is Action.ESCALATE:
        ensure_not_escalated(dispute)
    if action is Action.SUBMIT_EVIDENCE:
        ensure_evidence_window_open(dispute, actor, at)
    if action is Action.EXTEND_DEADLINE and not dispute.deadlines:
        raise InvalidTransition("no deadline is open")
    if action is Action.APPEAL:
        ensure_appealable(dispute)
    if action is Action.DECIDE_APPEAL:
        ensure_other_agent(dispute, actor)
    if action in (Action.CLAIM, Action.RELEASE):
        ensure_claim_changes(dispute, action, actor)


def allowed_actions(dispute: DisputeState, actor: Actor, at: datetime) -> list[Action]:
    allowed = []
    for action in Action:
        try:
            check(dispute, action, actor, at)
        except (InvalidTransition, RoleNotAllowed, EvidenceNotAccepted, NotParty):
            continue
        allowed.append(action)
    return allowed
