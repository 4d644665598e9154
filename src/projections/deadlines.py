"""Open deadlines: one row per (dispute, deadline), indexed by due time.

Every event that changes a dispute's open deadlines carries the complete map
of them after the event, so a dispute's rows are simply replaced by that map,
recording the event's version: the version the scheduler expects the dispute
to still be at when it expires a deadline (see docs/scheduler.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod

from domain import events as ev
from domain.deadline_names import deadline_name
from projections.db import Database, Row, as_time
from projections.projection import Projection

VIEW = "deadlines"


class Deadlines(Projection):
    name = "deadlines"
    tables = (VIEW,)

    @classmethod
    def ddl(cls) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS {deadlines} ("
            "dispute_id text NOT NULL, deadline text NOT NULL, due_at :time: NOT NULL, version :int: NOT NULL, "
            "position :bigint: NOT NULL, PRIMARY KEY (dispute_id, deadline))",
            "CREATE INDEX IF NOT EXISTS {ix_deadlines_due} ON {deadlines} (due_at)",
        ]

    @singledispatchmethod
    def project(self, event: Any, position: int) -> None:
        pass

    @project.register
    def _(self, event: ev.DeadlinesChanged, position: int) -> None:
        dispute_id = str(event.originator_id)
        self.run("DELETE FROM {deadlines} WHERE dispute_id = %s", [dispute_id])
        rows = [
            [dispute_id, name, due_at, event.originator_version, position] for name, due_at in event.deadlines.items()
        ]
        if rows:
            self.cursor.many(
                "INSERT INTO {deadlines} (dispute_id, deadline, due_at, version, position) VALUES (%s, %s, %s, %s, %s)",
                rows,
                deadlines=self.table(VIEW),
            )


@dataclass(frozen=True)
class OpenDeadline:
    dispute_id: UUID
    deadline: str
    """A `Deadline` member, or an evidence request's own `evidence_request:<id>`."""
    due_at: datetime
    version: int
    """The dispute's version when this map of deadlines was set."""


def _open_deadline(row: Row) -> OpenDeadline:
    due_at = as_time(row["due_at"])
    assert due_at is not None, "due_at is NOT NULL"
    return OpenDeadline(UUID(row["dispute_id"]), deadline_name(row["deadline"]), due_at, int(row["version"]))


def due(db: Database, now: datetime, limit: int = 200) -> list[OpenDeadline]:
    """Open deadlines due at or before `now`, the longest overdue first."""
    with db.reading() as cur:
        cur.run(
            "SELECT * FROM {deadlines} WHERE due_at <= %s ORDER BY due_at, dispute_id, deadline LIMIT %s",
            [now, limit],
            deadlines=VIEW,
        )
        rows = cur.all()
    return [_open_deadline(r) for r in rows]


def upcoming(db: Database, limit: int = 20) -> list[OpenDeadline]:
    """The next open deadlines to fall due, whether or not they are due yet."""
    with db.reading() as cur:
        cur.run("SELECT * FROM {deadlines} ORDER BY due_at, dispute_id, deadline LIMIT %s", [limit], deadlines=VIEW)
        rows = cur.all()
    return [_open_deadline(r) for r in rows]


def of_dispute(db: Database, dispute_id: UUID) -> dict[str, OpenDeadline]:
    with db.reading() as cur:
        cur.run("SELECT * FROM {deadlines} WHERE dispute_id = %s", [str(dispute_id)], deadlines=VIEW)
        rows = cur.all()
    return {d.deadline: d for d in map(_open_deadline, rows)}


def overdue_count(db: Database, now: datetime) -> int:
    with db.reading() as cur:
        cur.run("SELECT count(*) AS n FROM {deadlines} WHERE due_at <= %s", [now], deadlines=VIEW)
        row = cur.one()
    return int(row["n"]) if row else 0
