"""Who may read what (the query side of the roles table in the spec)."""

from __future__ import annotations

from enum import StrEnum

from domain.errors import RoleNotAllowed
from domain.values import Actor, Role

B, S, AG, AU, AN = Role.BUYER, Role.SELLER, Role.AGENT, Role.AUDITOR, Role.ANALYST


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


READERS: dict[Read, frozenset[Role]] = {
    Read.DISPUTE: frozenset({B, S, AG, AU, AN}),
    Read.DISPUTE_LIST: frozenset({B, S, AG, AU, AN}),
    Read.TIMELINE: frozenset({B, S, AG, AU}),
    Read.HISTORY: frozenset({AG, AU}),
    Read.STATE_AS_OF: frozenset({AG, AU}),
    Read.VERIFY: frozenset({AU}),
    Read.EVIDENCE_FILE: frozenset({B, S, AG, AU}),
    Read.SELLER_SCORE: frozenset({S, AG, AU, AN}),
    Read.SELLER_LIST: frozenset({AG, AU, AN}),
    Read.AUDIT_LOG: frozenset({AU}),
    Read.STATISTICS: frozenset({AG, AU, AN}),
}


def ensure_may_read(actor: Actor, what: Read) -> None:
    if actor.role not in READERS[what]:
        raise RoleNotAllowed(f"a {actor.role.value} may not read the {what.value.replace('_', ' ')}")


def ensure_may_read_seller(actor: Actor, seller_id: str) -> None:
    """A seller reads only its own score (403: seller ids are not secret, unlike disputes)."""
    ensure_may_read(actor, Read.SELLER_SCORE)
    if actor.role is Role.SELLER and actor.id != seller_id:
        raise RoleNotAllowed("a seller may read only its own score")
