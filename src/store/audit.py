"""Reading events exactly as recorded, and verifying a dispute's hash chain.

Verification decodes each stored record (decrypting and decompressing as
configured) but does not upcast it: the chain covers the event as it was
written, so a later `class_version` upcast never breaks old chains.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent

from domain.application import DisputeApp
from domain.chain import GENESIS, next_chain_hash
from domain.dispute import Dispute

DISPUTE_TOPIC_PREFIX = "domain.events:"


@dataclass(frozen=True)
class RecordedEvent:
    version: int
    type: str
    fields: dict[str, Any]
    chain_hash: str | None
    readable: bool


@dataclass(frozen=True)
class ChainReport:
    valid: bool
    events: int
    first_invalid_version: int | None
    head: str | None


def event_type(topic: str) -> str:
    return topic.rsplit(":", 1)[-1].rsplit(".", 1)[-1]


def recorded_state(mapper: Mapper[UUID], stored: StoredEvent) -> dict[str, Any]:
    state = stored.state
    if mapper.cipher:
        state = mapper.cipher.decrypt(state)
    if mapper.compressor:
        state = mapper.compressor.decompress(state)
    decoded: dict[str, Any] = mapper.transcoder.decode(state)
    return decoded


def recorded_events(app: DisputeApp, dispute_id: UUID) -> Iterator[RecordedEvent]:
    for stored in app.recorder.select_events(dispute_id):
        try:
            fields = recorded_state(app.mapper, stored)
            readable = stored.topic.startswith(DISPUTE_TOPIC_PREFIX) and isinstance(fields, dict)
        except Exception:
            fields, readable = {}, False
        yield RecordedEvent(
            version=stored.originator_version,
            type=event_type(stored.topic),
            fields=fields,
            chain_hash=fields.get("chain_hash") if readable else None,
            readable=readable,
        )


def verify_chain(app: DisputeApp, dispute_id: UUID) -> ChainReport:
    """Recompute the chain from the stored events; name the first bad version."""
    previous = GENESIS
    first_invalid: int | None = None
    count = 0
    for count, event in enumerate(recorded_events(app, dispute_id), start=1):
        if first_invalid is not None:
            continue
        if not event.readable or event.version != count or not _topic_ok(event, count):
            first_invalid = count
            continue
        expected = next_chain_hash(previous, dispute_id, event.version, event.type, event.fields)
        if expected != event.chain_hash:
            first_invalid = count
            continue
        previous = expected
    valid = first_invalid is None
    return ChainReport(valid, count, first_invalid, previous if valid and count else None)


def _topic_ok(event: RecordedEvent, version: int) -> bool:
    if version == 1:
        return event.fields.get("originator_topic") == f"{Dispute.__module__}:{Dispute.__qualname__}"
    return True
