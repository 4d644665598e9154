"""Dispute documents: the aggregate's state kept in a read model, so a list
can render full dispute bodies (with each caller's allowed actions and
visible messages) without replaying events at query time."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.dispute import Dispute
from domain.transcodings import standalone_transcoder

TRANSCODER = standalone_transcoder()
TOPIC = get_topic(Dispute)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def encode(dispute: Dispute) -> dict[str, Any]:
    """The dispute's state as JSON (the same form its snapshots take)."""
    state = Dispute.Snapshot.take(dispute).state
    document: dict[str, Any] = json.loads(TRANSCODER.encode({"version": dispute.version, "state": state}))
    return document


def decode(dispute_id: str, document: dict[str, Any] | str) -> Dispute:
    raw = json.dumps(document) if isinstance(document, dict) else document
    decoded = TRANSCODER.decode(raw.encode())
    snapshot = Dispute.Snapshot(
        originator_id=UUID(dispute_id),
        originator_version=decoded["version"],
        timestamp=EPOCH,
        topic=TOPIC,
        state=decoded["state"],
    )
    return snapshot.mutate(None)
