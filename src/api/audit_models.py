"""Response models of the audit endpoints, and rendering history and log rows."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from api import examples as ex
from api.schemas import ActorOut, Page
from domain.chain import NotCanonical, canonical_time, normalise
from projections.common import METADATA
from projections.db import Row
from service.log_reads import CheckedEvent
from service.recorded import ChainReport, RecordedEvent


class HistoryEntryOut(BaseModel):
    position: int = Field(description="the event's global position (notification id) in the event store")
    version: int
    type: str
    actor: ActorOut | None
    occurred_at: datetime | None
    request_id: str | None
    idempotency_key: str | None
    data: dict[str, Any] | None = Field(description="the event's own fields, as recorded (not upcast)")
    chain_hash: str | None
    readable: bool = Field(description="false when the stored record cannot be decoded (see /verify)")
    leaf_hash: str = Field(description="base64 RFC 9162 leaf hash of this event as stored now (docs/audit.md)")
    chain_valid: bool = Field(
        description="its chain hash follows from the previous event's and its own content, and the transparency "
        "log's leaf for its position (once it has one) is this event's; false flags an edited, moved or "
        "re-hashed event"
    )


class VerifyOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.VERIFY))
    valid: bool
    events: int = Field(description="how many events are stored for the dispute")
    first_invalid_version: int | None
    problem: str | None = Field(default=None, description="why the first invalid version fails")
    head: str | None = Field(default=None, description="chain hash of the last event, when valid")


class AuditEntryOut(BaseModel):
    position: int
    dispute_id: UUID
    version: int
    type: str
    actor: ActorOut
    occurred_at: datetime
    request_id: str
    idempotency_key: str | None
    chain_hash: str
    payload: dict[str, Any]


class HistoryPage(Page[HistoryEntryOut]):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.page(ex.HISTORY_ENTRY)))


UNKNOWN_WHEN_UNREADABLE = ("actor", "occurred_at", "request_id", "idempotency_key", "data", "chain_hash")


class AuditPage(Page[AuditEntryOut]):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.page(ex.AUDIT_ENTRY)))


def history_entry(event: RecordedEvent) -> dict[str, Any]:
    """An event as recorded; one that cannot be decoded shows only where it is."""
    fields = event.fields
    where = {"position": event.position, "version": event.version, "type": event.type}
    if not event.readable:
        return {**where, **dict.fromkeys(UNKNOWN_WHEN_UNREADABLE), "readable": False}
    return {
        **where,
        "actor": {"id": fields.get("actor_id"), "role": fields.get("actor_role")},
        "occurred_at": shown(fields.get("timestamp")),
        "request_id": fields.get("request_id"),
        "idempotency_key": fields.get("idempotency_key"),
        "data": shown({k: v for k, v in fields.items() if k not in METADATA}),
        "chain_hash": event.chain_hash,
        "readable": True,
    }


def shown(value: Any) -> Any:
    """JSON for display. A tampered record may hold values with no canonical
    form (floats, naive times): show them as stored rather than fail the read."""
    try:
        return normalise(value)
    except NotCanonical:
        return json.loads(json.dumps(value, default=str))


def verify_out(report: ChainReport) -> dict[str, Any]:
    return VerifyOut(
        valid=report.valid,
        events=report.events,
        first_invalid_version=report.first_invalid_version,
        problem=report.problem,
        head=report.head,
    ).model_dump(mode="json")


def audit_document(row: Row) -> dict[str, Any]:
    """An audit-log row as a JSON document (the list's items and the JSONL lines)."""
    return {
        "position": row["position"],
        "dispute_id": row["dispute_id"],
        "version": row["version"],
        "type": row["type"],
        "actor": {"id": row["actor_id"], "role": row["actor_role"]},
        "occurred_at": canonical_time(row["occurred_at"]),
        "request_id": row["request_id"],
        "idempotency_key": row["idempotency_key"],
        "chain_hash": row["chain_hash"],
        "payload": row["payload"],
    }


class CheckpointOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.CHECKPOINT))
    tree_size: int
    root_hash: str = Field(description="base64 SHA-256 root of the first tree_size leaves")
    issued_at: datetime
    note: str = Field(description="the C2SP signed note, exactly as GET /v1/audit/log/checkpoint serves it")


class CheckpointPage(Page[CheckpointOut]):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.page(ex.CHECKPOINT)))


class InclusionOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.INCLUSION))
    leaf_index: int
    tree_size: int
    leaf_hash: str = Field(description="base64 SHA-256(0x00 || leaf data)")
    proof: list[str] = Field(description="base64 node hashes, RFC 9162 2.1.3 order (nearest the leaf first)")


class ConsistencyOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.CONSISTENCY))
    from_: int = Field(alias="from")
    to: int
    proof: list[str] = Field(description="base64 node hashes, RFC 9162 2.1.4 order")


def checked_entry(checked: CheckedEvent) -> dict[str, Any]:
    """A history item: the event as recorded, its leaf hash and whether it checks."""
    return {
        **history_entry(checked.event),
        "leaf_hash": base64.b64encode(checked.leaf_hash).decode(),
        "chain_valid": checked.chain_valid,
    }
