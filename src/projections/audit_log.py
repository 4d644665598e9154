"""Audit log: one row per event across all disputes, filterable and exportable.

Rows are read in position order (the global notification id), so a page
cursor and a streamed export both walk the log in the order it was recorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod

from domain import events as ev
from projections.common import event_type, payload
from projections.db import Database, Row, as_json, as_time
from projections.projection import Projection

COLUMNS = (
    "position",
    "dispute_id",
    "version",
    "type",
    "actor_id",
    "actor_role",
    "occurred_at",
    "request_id",
    "idempotency_key",
    "chain_hash",
    "payload",
)
SELECT = (
    "SELECT position, dispute_id, version, type, actor_id, actor_role, occurred_at, request_id, "
    "idempotency_key, chain_hash, payload FROM {audit_log} "
)


class AuditLog(Projection):
    name = "audit_log"
    tables = ("audit_log",)

    @classmethod
    def ddl(cls) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS {audit_log} ("
            "position :bigint: PRIMARY KEY, dispute_id text NOT NULL, version :int: NOT NULL, type text NOT NULL, "
            "actor_id text NOT NULL, actor_role text NOT NULL, occurred_at :time: NOT NULL, "
            "request_id text NOT NULL, idempotency_key text, chain_hash text NOT NULL, payload :json: NOT NULL)",
            "CREATE INDEX IF NOT EXISTS {ix_audit_dispute} ON {audit_log} (dispute_id, position)",
            "CREATE INDEX IF NOT EXISTS {ix_audit_actor} ON {audit_log} (actor_id, position)",
            "CREATE INDEX IF NOT EXISTS {ix_audit_type} ON {audit_log} (type, position)",
            "CREATE INDEX IF NOT EXISTS {ix_audit_time} ON {audit_log} (occurred_at, position)",
        ]

    @singledispatchmethod
    def project(self, event: Any, position: int) -> None:
        pass

    @project.register
    def _(self, event: ev.DisputeEvent, position: int) -> None:
        self.run(
            "INSERT INTO {audit_log} (position, dispute_id, version, type, actor_id, actor_role, occurred_at, "
            "request_id, idempotency_key, chain_hash, payload) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                position,
                str(event.originator_id),
                event.originator_version,
                event_type(event),
                event.actor_id,
                event.actor_role,
                event.timestamp,
                event.request_id,
                event.idempotency_key,
                event.chain_hash,
                payload(event),
            ],
        )


@dataclass(frozen=True)
class AuditFilter:
    """Filters of the audit log; `since` is inclusive and `until` exclusive."""

    dispute_id: UUID | None = None
    actor_id: str | None = None
    type: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self, after: int = 0) -> tuple[str, list[Any]]:
        clauses: list[str] = ["position > %s"]
        params: list[Any] = [after]
        for clause, value in (
            ("dispute_id = %s", str(self.dispute_id) if self.dispute_id else None),
            ("actor_id = %s", self.actor_id),
            ("type = %s", self.type),
            ("occurred_at >= %s", self.since),
            ("occurred_at < %s", self.until),
        ):
            if value is not None:
                clauses.append(clause)
                params.append(value)
        return "WHERE " + " AND ".join(clauses) + " ", params


def entry(row: Row) -> Row:
    """A row as plain data, the same from either dialect."""
    return {
        **row,
        "position": int(row["position"]),
        "version": int(row["version"]),
        "occurred_at": as_time(row["occurred_at"]),
        "payload": as_json(row["payload"]),
    }


def entries(db: Database, filters: AuditFilter, after: int = 0, limit: int = 50) -> list[Row]:
    """One page of the audit log after position `after`."""
    where, params = filters.where(after)
    with db.reading() as cur:
        cur.run(SELECT + where + "ORDER BY position LIMIT %s", [*params, limit], audit_log="audit_log")
        return [entry(r) for r in cur.all()]


def all_entries(db: Database, filters: AuditFilter, batch: int = 2000) -> Iterator[Row]:
    """The whole filtered log, fetched in batches (a server-side cursor on Postgres)."""
    where, params = filters.where()
    for row in db.stream(SELECT + where + "ORDER BY position", params, batch=batch, audit_log="audit_log"):
        yield entry(row)
