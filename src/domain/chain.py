"""The per-dispute hash chain (see docs/audit.md for the exact definition).

chain_hash(n) = sha256_hex( chain_hash(n-1) as ASCII || canonical_json(event n) )
with chain_hash(0) = GENESIS. The canonical document of an event is

    {"dispute_id": "<uuid>", "version": n, "type": "<EventName>", "data": {...}}

where `data` holds every recorded field of the event except the library's
bookkeeping (originator_id, originator_version, originator_topic,
class_version) and chain_hash itself.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Any
from uuid import UUID

GENESIS = "0" * 64

EXCLUDED_FIELDS = frozenset({"originator_id", "originator_version", "originator_topic", "class_version", "chain_hash"})


class NotCanonical(TypeError):
    """A value that has no canonical JSON form (floats, naive datetimes...)."""


def canonical_time(value: datetime) -> str:
    if value.tzinfo is None:
        raise NotCanonical(f"naive datetime {value!r} has no canonical form")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def normalise(value: Any) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Enum):
        return normalise(value.value)
    if isinstance(value, int):
        return value
    if isinstance(value, datetime):
        return canonical_time(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: normalise(getattr(value, f.name)) for f in dataclasses.fields(value)}
    raise NotCanonical(f"{type(value).__name__} has no canonical JSON form")


def canonical_json(document: Any) -> bytes:
    return json.dumps(normalise(document), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def event_document(dispute_id: UUID, version: int, event_type: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in fields.items() if k not in EXCLUDED_FIELDS}
    return {"dispute_id": dispute_id, "version": version, "type": event_type, "data": data}


def next_chain_hash(previous: str, dispute_id: UUID, version: int, event_type: str, fields: Mapping[str, Any]) -> str:
    document = canonical_json(event_document(dispute_id, version, event_type, fields))
    return hashlib.sha256(previous.encode("ascii") + document).hexdigest()
