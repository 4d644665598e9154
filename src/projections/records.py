"""Stored records as the transparency log sees them: any aggregate's event,
with only what its leaf holds (no payload, so no personal data)."""

from __future__ import annotations

import json
import logging
import zlib
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, Notification

log = logging.getLogger("disputes.projections")
UNREADABLE = (ValueError, TypeError, KeyError, zlib.error)


@dataclass(frozen=True)
class Record:
    position: int
    aggregate_id: UUID
    version: int
    type: str
    chain_hash: str | None
    """The `chain_hash` the event records, or None (undecodable, or an aggregate without a chain)."""


def event_type(topic: str) -> str:
    return topic.rsplit(":", 1)[-1].rsplit(".", 1)[-1]


def plaintext(mapper: Mapper[UUID], state: bytes) -> bytes:
    """The stored `state` decrypted and decompressed as configured: the JSON as written."""
    if mapper.cipher:
        state = mapper.cipher.decrypt(state)
    if mapper.compressor:
        state = mapper.compressor.decompress(state)
    return state


def raw_fields(mapper: Mapper[UUID], state: bytes) -> dict[str, Any] | None:
    """The stored JSON object, untranscoded (`datetime_iso` wrappers kept); None if unreadable."""
    try:
        fields = json.loads(plaintext(mapper, state))
    except UNREADABLE:
        return None
    return fields if isinstance(fields, dict) else None


def record(mapper: Mapper[UUID], n: Notification) -> Record:
    fields = raw_fields(mapper, n.state)
    chain_hash = fields.get("chain_hash") if fields else None
    if fields is None:
        log.warning("event at position %s cannot be decoded; its leaf records no chain hash", n.id)
    return Record(
        n.id,
        n.originator_id if isinstance(n.originator_id, UUID) else UUID(n.originator_id),
        n.originator_version,
        event_type(n.topic),
        chain_hash if isinstance(chain_hash, str) else None,
    )


def leaf_data(position: int, aggregate_id: UUID, version: int, type_: str, chain_hash: str | None) -> bytes:
    """The leaf's bytes: canonical JSON (sorted keys, no whitespace, UTF-8), see docs/audit.md."""
    document = {
        "aggregate_id": str(aggregate_id),
        "chain_hash": chain_hash,
        "position": position,
        "type": type_,
        "version": version,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def record_leaf_data(r: Record) -> bytes:
    return leaf_data(r.position, r.aggregate_id, r.version, r.type, r.chain_hash)
