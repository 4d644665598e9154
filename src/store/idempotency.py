"""Durable idempotency records, written in the same transaction as the events
a command appends, so a retry after a crash between commit and response finds
the original outcome and appends nothing."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import StoredEvent

from service.ports import IdempotencyClaim


def encode_outcome(outcome: dict[str, Any]) -> str:
    return json.dumps(outcome, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class ClaimAt:
    """A claim and the event it guards, for saves that carry several commands."""

    claim: IdempotencyClaim
    dispute_id: Any
    version: int


Claims = IdempotencyClaim | Sequence[ClaimAt] | None


def claim_targets(stored_events: Sequence[StoredEvent], claims: Claims) -> list[tuple[IdempotencyClaim, str, int]]:
    """(claim, dispute id, version) for each claim of a save: a single claim
    guards the save's last event; a list names each event."""
    if not claims or not stored_events:
        return []
    if isinstance(claims, IdempotencyClaim):
        last = stored_events[-1]
        return [(claims, str(last.originator_id), last.originator_version)]
    return [(c.claim, str(c.dispute_id), c.version) for c in claims]


def resolve_claims(
    stored_events: Sequence[StoredEvent], ids: Sequence[int], claims: Claims
) -> list[tuple[IdempotencyClaim, str, int, int]]:
    """(claim, dispute id, version, position) for each claim of a save."""
    position = {(str(e.originator_id), e.originator_version): i for e, i in zip(stored_events, ids, strict=False)}
    return [(c, d, v, position[(d, v)]) for c, d, v in claim_targets(stored_events, claims) if ids]
