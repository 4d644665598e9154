"""Who may see what: the one rule for seeing a dispute, the one rule for reading
a message, who a new message is for, and the per-read role table (the query
side of the roles table in the spec).

Every path decides with these functions: the application (`dispute_for`), the
guards every command runs, the API's presenters and audit reads, and the
timeline read model.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from enum import StrEnum
from typing import Protocol

from domain.errors import DisputeNotFound, DomainError, InvalidValue, NotParty, RoleNotAllowed
from domain.validation import party
from domain.values import PARTIES, Actor, Role

B, S, AG, AU, AN, PL = Role.BUYER, Role.SELLER, Role.AGENT, Role.AUDITOR, Role.ANALYST, Role.PLATFORM

NOT_YOURS = "no dispute with this id is visible to you"


class HasParties(Protocol):
    """Anything that names a dispute's parties (the aggregate, a read-model row)."""

    @property
    def buyer_id(self) -> str: ...

    @property
    def seller_id(self) -> str: ...


# ------------------------------------------------------------------ disputes
def may_see(actor: Actor, dispute: HasParties) -> bool:
    """Buyers and sellers see only their own disputes; every other role sees all."""
    if actor.role is Role.BUYER:
        return actor.id == dispute.buyer_id
    if actor.role is Role.SELLER:
        return actor.id == dispute.seller_id
    return True


def visible_parties(actor: Actor) -> dict[str, str]:
    """The same rule as a filter for a query over many disputes: the party
    columns a row must match for `actor` to see it (none: every row)."""
    if actor.role is Role.BUYER:
        return {"buyer_id": actor.id}
    if actor.role is Role.SELLER:
        return {"seller_id": actor.id}
    return {}


def missing_dispute(actor: Actor, detail: str) -> DomainError:
    """What a caller learns of a dispute that does not exist: a party gets the
    same NotParty as for someone else's dispute (ids do not leak)."""
    return NotParty(NOT_YOURS) if actor.role in PARTIES else DisputeNotFound(detail)


def ensure_can_see(dispute: HasParties, actor: Actor) -> None:
    """Someone else's dispute is NotParty (404, not 403): its id does not leak."""
    if not may_see(actor, dispute):
        raise NotParty(NOT_YOURS)


# ------------------------------------------------------------------ messages
def may_read_message(viewer: Role, visible_to: Collection[str]) -> bool:
    """Parties read the messages addressed to their role; every other reader
    (agents, auditors, analysts) reads all (the presenter hides bodies from analysts)."""
    return viewer not in PARTIES or viewer in visible_to


def reads_message_bodies(viewer: Role) -> bool:
    """Analysts and the platform's integration account see that messages exist, never their bodies."""
    return viewer not in (Role.ANALYST, Role.PLATFORM)


def message_audience(author: Role, to: Role | None, *, private: bool) -> tuple[Role, ...]:
    """Who may read a new message. Once a dispute has gone to review, each party's
    messages are visible to the agent and that party only (PayPal's rule)."""
    everyone = (Role.BUYER, Role.SELLER, Role.AGENT)
    if author is Role.AGENT:
        if to is None:
            return everyone
        party(to)
        return (to, Role.AGENT)
    if to is not None:
        raise InvalidValue("only an agent addresses a message to one party")
    return (author, Role.AGENT) if private else everyone


# --------------------------------------------------------------------- reads
class Read(StrEnum):
    DISPUTE = "dispute"
    DISPUTE_LIST = "dispute_list"
    TIMELINE = "timeline"
    HISTORY = "history"
    STATE_AS_OF = "state_as_of"
    VERIFY = "verify"
    EVIDENCE_FILE = "evidence_file"
    SELLER_SCORE = "seller_score"
    SELLER_LIST = "seller_list"
    AUDIT_LOG = "audit_log"
    STATISTICS = "statistics"
    EVENTS = "events"
    ORDER = "order"


READERS: dict[Read, frozenset[Role]] = {
    Read.DISPUTE: frozenset({B, S, AG, AU, AN, PL}),
    Read.DISPUTE_LIST: frozenset({B, S, AG, AU, AN, PL}),
    Read.TIMELINE: frozenset({B, S, AG, AU}),
    Read.HISTORY: frozenset({AG, AU}),
    Read.STATE_AS_OF: frozenset({AG, AU}),
    Read.VERIFY: frozenset({AU}),
    Read.EVIDENCE_FILE: frozenset({B, S, AG, AU}),
    Read.SELLER_SCORE: frozenset({S, AG, AU, AN}),
    Read.SELLER_LIST: frozenset({AG, AU, AN}),
    Read.AUDIT_LOG: frozenset({AU}),
    Read.STATISTICS: frozenset({AG, AU, AN}),
    Read.EVENTS: frozenset({B, S, AG, AU, PL}),  # the feed, the stream and webhooks
    Read.ORDER: frozenset({B, S, AG, AU, PL}),  # parties: only their own orders (domain.order)
}


def ensure_may_read(actor: Actor, what: Read) -> None:
    if actor.role not in READERS[what]:
        raise RoleNotAllowed(f"a {actor.role.value} may not read the {what.value.replace('_', ' ')}")


def ensure_may_read_of_dispute(actor: Actor, what: Read, see_dispute: Callable[[], object]) -> None:
    """404 before 403 for a read of one dispute: a caller whose role may not read
    `what` first learns only whether it may see the dispute at all (`see_dispute`
    raises NotParty or DisputeNotFound), so parties never learn others' ids.
    Callers that go on to load the dispute anyway call `see_dispute` themselves."""
    if actor.role not in READERS[what]:
        see_dispute()
        ensure_may_read(actor, what)


def ensure_may_read_seller(actor: Actor, seller_id: str) -> None:
    """A seller reads only its own score (403: seller ids are not secret, unlike disputes)."""
    ensure_may_read(actor, Read.SELLER_SCORE)
    if actor.role is Role.SELLER and actor.id != seller_id:
        raise RoleNotAllowed("a seller may read only its own score")
