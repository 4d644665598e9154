"""Reading events exactly as recorded, and verifying a dispute's hash chain.

Verification decodes each stored record (decrypting and decompressing as
configured) but does not upcast it: the chain covers the event as it was
written, so a later `class_version` upcast never breaks old chains. It reads
the event store page by page, so a long history is checked in bounded memory.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.persistence import Mapper, Notification, StoredEvent

from domain.application import DisputeApp
from domain.chain import GENESIS, NotCanonical, next_chain_hash
from domain.dispute import Dispute
from domain.order import Order
from domain.order_events import OrderEvent

log = logging.getLogger("disputes.audit")
DISPUTE_TOPIC_PREFIX = "domain.events:"
ORDER_TOPIC_PREFIX = f"{OrderEvent.__module__}:"
DISPUTE_TOPIC = f"{Dispute.__module__}:{Dispute.__qualname__}"
ORDER_TOPIC = f"{Order.__module__}:{Order.__qualname__}"
AGGREGATE_TOPICS = frozenset({DISPUTE_TOPIC, ORDER_TOPIC})
"""What the first event of a chain may create: a dispute, or an order (each chained alike)."""
DISPUTES_ONLY = frozenset({DISPUTE_TOPIC})
PAGE = 500
# What a stored record that is not what we wrote raises: a failed AES-GCM tag
# or bad JSON (ValueError), a bad transcoding (TypeError, KeyError), bad zlib.
UNREADABLE = (ValueError, TypeError, KeyError, zlib.error)


@runtime_checkable
class PositionedRecorder(Protocol):
    """The recorder additions the audit needs (see store.memory/sqlite/postgres)."""

    def select_events_with_positions(
        self, originator_id: UUID, *, gt: int = 0, limit: int | None = None
    ) -> Sequence[Notification]: ...

    def select_originator_ids(self, *, after: UUID | None = None, limit: int = 1000) -> Sequence[UUID]: ...


@dataclass(frozen=True)
class RecordedEvent:
    position: int
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
    problem: str | None = None


def event_type(topic: str) -> str:
    return topic.rsplit(":", 1)[-1].rsplit(".", 1)[-1]


def positioned(app: DisputeApp) -> PositionedRecorder:
    recorder = app.recorder
    if not isinstance(recorder, PositionedRecorder):
        raise TypeError(f"{type(recorder).__name__} cannot list events with their positions")
    return recorder


def recorded_state(mapper: Mapper[UUID], stored: StoredEvent) -> dict[str, Any]:
    state = stored.state
    if mapper.cipher:
        state = mapper.cipher.decrypt(state)
    if mapper.compressor:
        state = mapper.compressor.decompress(state)
    decoded: dict[str, Any] = mapper.transcoder.decode(state)
    return decoded


def decode(mapper: Mapper[UUID], stored: Notification) -> RecordedEvent:
    try:
        fields = recorded_state(mapper, stored)
        readable = stored.topic.startswith((DISPUTE_TOPIC_PREFIX, ORDER_TOPIC_PREFIX)) and isinstance(fields, dict)
    except UNREADABLE as e:
        log.warning("event %s v%s cannot be decoded: %r", stored.originator_id, stored.originator_version, e)
        fields, readable = {}, False
    return RecordedEvent(
        position=stored.id,
        version=stored.originator_version,
        type=event_type(stored.topic),
        fields=fields if readable else {},
        chain_hash=fields.get("chain_hash") if readable else None,
        readable=readable,
    )


def recorded_page(app: DisputeApp, dispute_id: UUID, *, after: int = 0, limit: int = PAGE) -> list[RecordedEvent]:
    """Up to `limit` events after version `after`, as recorded, with their positions."""
    stored = positioned(app).select_events_with_positions(dispute_id, gt=after, limit=limit)
    return [decode(app.mapper, s) for s in stored]


def recorded_events(app: DisputeApp, dispute_id: UUID) -> Iterator[RecordedEvent]:
    """Every event of a dispute, as recorded, read a page at a time."""
    after = 0
    while page := recorded_page(app, dispute_id, after=after):
        yield from page
        after = page[-1].version


def dispute_ids(app: DisputeApp, page: int = 1000) -> Iterator[UUID]:
    """Every aggregate id in the event store, in ascending order."""
    recorder, after = positioned(app), None
    while ids := recorder.select_originator_ids(after=after, limit=page):
        yield from ids
        after = ids[-1]


def verify_chain(app: DisputeApp, dispute_id: UUID, creates: frozenset[str] = DISPUTES_ONLY) -> ChainReport:
    """Recompute the chain from the stored events; name the first bad version.
    `creates`: the aggregates its first event may create (a dispute, unless told)."""
    snapshot = latest_snapshot(app, dispute_id)
    previous, count, hash_at_snapshot = GENESIS, 0, None
    first_bad: tuple[int, str] | None = None
    for count, event in enumerate(recorded_events(app, dispute_id), start=1):
        if first_bad:
            continue
        problem = event_problem(event, count, previous, dispute_id, creates)
        if problem:
            first_bad = (count, problem)
            continue
        previous = str(event.chain_hash)
        if snapshot and snapshot[0] == count:
            hash_at_snapshot = previous
    if first_bad:
        return ChainReport(False, count, first_bad[0], None, first_bad[1])
    if snapshot and snapshot[0] > count:
        problem = f"a snapshot exists at version {snapshot[0]} but the events end at version {count}"
        return ChainReport(False, count, count + 1, None, problem)
    if snapshot and hash_at_snapshot != snapshot[1]:
        problem = f"the snapshot at version {snapshot[0]} records a different chain hash"
        return ChainReport(False, count, snapshot[0], None, problem)
    return ChainReport(True, count, None, previous if count else None)


def event_problem(
    event: RecordedEvent, expected_version: int, previous: str, dispute_id: UUID, creates: frozenset[str]
) -> str | None:
    if event.version != expected_version:
        return f"version {expected_version} is missing (the next stored event is version {event.version})"
    if not event.readable:
        return f"version {expected_version} cannot be decoded"
    if expected_version == 1 and event.fields.get("originator_topic") not in creates:
        names = " or ".join(sorted(topic.rsplit(":", 1)[-1] for topic in creates))
        return f"version 1 does not create a{'n' if names[0] in 'AEIOU' else ''} {names}"
    try:
        expected = next_chain_hash(previous, dispute_id, event.version, event.type, event.fields)
    except NotCanonical as e:
        return f"version {expected_version} holds a value with no canonical form ({e})"
    if expected != event.chain_hash:
        return f"version {expected_version} does not match its chain hash"
    return None


def latest_snapshot(app: DisputeApp, dispute_id: UUID) -> tuple[int, str | None] | None:
    """(version, chain_hash) of the newest snapshot: an anchor that reveals a truncated tail."""
    if app.snapshots is None:
        return None
    stored = app.snapshots.recorder.select_events(dispute_id, desc=True, limit=1)
    if not stored:
        return None
    try:
        state = recorded_state(app.mapper, stored[0]).get("state", {})
    except UNREADABLE as e:
        log.warning("snapshot of %s v%s cannot be decoded: %r", dispute_id, stored[0].originator_version, e)
        return stored[0].originator_version, None
    return stored[0].originator_version, state.get("chain_hash")
