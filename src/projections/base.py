"""Projections, their generations, and exactly-once batched processing.

A projection owns a few tables. Each build of it is a *generation*: physical
tables named `<table>_g<N>`, and a tracking row (projection, generation,
position). Readers and analysts use stable SQL views named `<table>` that
point at the active generation; a rebuild fills generation N+1 from position
0 and then re-points the views in one transaction (no read downtime).

A batch of events is applied in one transaction that also advances the
tracking row with a compare-and-set from the batch's start position, so a
crash, a second worker or a concurrent rebuild can never apply an event twice
or skip one: a batch whose start position is no longer current rolls back.
"""

from __future__ import annotations

import inspect
import re
from abc import ABC
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from eventsourcing.utils import get_topic

from projections.db import Cursor, Database, as_json, check_name

REGISTRY = "projection_generations"
TRACKING = "projection_tracking"


class TrackingConflict(Exception):
    """The batch's start position is no longer the view's position."""


class Projection(ABC):
    """Dispatches events (singledispatchmethod) to writes on its own tables."""

    name: ClassVar[str]
    tables: ClassVar[tuple[str, ...]]

    def __init__(self, cursor: Cursor, generation: int, params: dict[str, Any]) -> None:
        self.cursor = cursor
        self.generation = generation
        self.params = params

    def table(self, logical: str) -> str:
        return physical(logical, self.generation)

    @classmethod
    def ddl(cls) -> list[str]:
        """CREATE statements (see render_ddl for the placeholders)."""
        raise NotImplementedError

    @classmethod
    def default_params(cls) -> dict[str, Any]:
        return {}

    @classmethod
    def params_from(cls, settings: Any) -> dict[str, Any]:
        """Parameters a new generation is built with (e.g. penalty weights), from settings."""
        return cls.default_params()

    dispatcher: ClassVar[str] = "project"
    """The singledispatchmethod whose registered event classes this projection handles."""

    @classmethod
    def handled_topics(cls) -> frozenset[str]:
        """Topics of every concrete event class the projection's dispatcher handles."""
        method = inspect.getattr_static(cls, cls.dispatcher)
        registered = [t for t in method.dispatcher.registry if t is not object]
        found: set[str] = set()
        pending = list(registered)
        while pending:
            event_class = pending.pop()
            found.add(get_topic(event_class))
            pending.extend(event_class.__subclasses__())
        return frozenset(found)

    def finish(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Called once after the batch's events, inside its transaction (flush per-batch state)."""

    def project(self, event: Any, position: int) -> None:
        """Subclasses define this as a singledispatchmethod; unregistered events change nothing."""
        raise NotImplementedError

    def run(self, template: str, params: Sequence[Any] = ()) -> None:
        self.cursor.run(template, params, **{t: self.table(t) for t in self.tables})

    def update_dispute(self, table: str, dispute_id: Any, **columns: Any) -> None:
        """Set `columns` on one dispute's row of `table` (keyed by dispute_id)."""
        assignments = ", ".join(f"{check_name(name)} = %s" for name in columns)
        self.run(
            f"UPDATE {{{table}}} SET {assignments} WHERE dispute_id = %s",  # noqa: S608 - checked identifiers
            [*columns.values(), str(dispute_id)],
        )


def physical(logical: str, generation: int) -> str:
    return f"{logical}_g{generation}"


@dataclass(frozen=True)
class Generation:
    projection: str
    number: int
    status: str
    params: dict[str, Any]
    position: int


TYPE_TOKENS = ("time", "json", "bigint", "text", "int", "bool")


def render_ddl(projection: type[Projection], db: Database, generation: int) -> list[tuple[str, dict[str, str]]]:
    """DDL templates use `{table}` for tables, `{ix_name}` for indexes and
    `:time:`, `:json:`, `:bigint:`, `:bool:`... for dialect column types."""
    rendered = []
    for template in projection.ddl():
        statement = template
        for token in TYPE_TOKENS:
            statement = statement.replace(f":{token}:", db.type(token))
        names = {t: physical(t, generation) for t in projection.tables}
        for index in re.findall(r"\{(ix_[a-z0-9_]+)\}", statement):
            names[index] = physical(index, generation)
        rendered.append((statement, names))
    return rendered


def ensure_registry(db: Database) -> None:
    with db.transaction() as cur:
        cur.run(
            "CREATE TABLE IF NOT EXISTS {registry} (projection text NOT NULL, generation integer NOT NULL, "
            f"status text NOT NULL, params {db.type('json')} NOT NULL, created_at {db.type('time')} NOT NULL, "
            f"switched_at {db.type('time')}, PRIMARY KEY (projection, generation))",
            registry=REGISTRY,
        )
        cur.run(
            "CREATE TABLE IF NOT EXISTS {tracking} (projection text NOT NULL, generation integer NOT NULL, "
            f"position {db.type('bigint')} NOT NULL, updated_at {db.type('time')} NOT NULL, "
            "PRIMARY KEY (projection, generation))",
            tracking=TRACKING,
        )


def generations(db: Database, name: str) -> list[Generation]:
    with db.reading() as cur:
        cur.run(
            "SELECT g.generation, g.status, g.params, t.position FROM {registry} g JOIN {tracking} t "
            "ON t.projection = g.projection AND t.generation = g.generation WHERE g.projection = %s "
            "ORDER BY g.generation",
            [name],
            registry=REGISTRY,
            tracking=TRACKING,
        )
        rows = cur.all()
    return [Generation(name, r["generation"], r["status"], as_json(r["params"]), r["position"]) for r in rows]


def active(db: Database, name: str) -> Generation | None:
    return next((g for g in generations(db, name) if g.status == "active"), None)


def create_generation(
    db: Database, projection: type[Projection], params: dict[str, Any], *, activate: bool, unless_active: bool = False
) -> int:
    """Create the next generation's tables; its number (or, with `unless_active`,
    the active generation's number when there is one).

    The numbering is read inside the write transaction, so processes starting
    together cannot both create the same generation (on SQLite the transaction
    is BEGIN IMMEDIATE; on Postgres the loser hits the primary key and retries)."""
    now = datetime.now(UTC)
    with db.transaction() as cur:
        cur.run("SELECT generation, status FROM {registry} WHERE projection = %s", [projection.name], registry=REGISTRY)
        existing = cur.all()
        active_numbers = [int(r["generation"]) for r in existing if r["status"] == "active"]
        if unless_active and active_numbers:
            return active_numbers[0]
        number = max((int(r["generation"]) for r in existing), default=0) + 1
        for statement, names in render_ddl(projection, db, number):
            cur.run(statement, **names)
        cur.run(
            "INSERT INTO {registry} (projection, generation, status, params, created_at) VALUES (%s, %s, %s, %s, %s)",
            [projection.name, number, "building", params, now],
            registry=REGISTRY,
        )
        cur.run(
            "INSERT INTO {tracking} (projection, generation, position, updated_at) VALUES (%s, %s, 0, %s)",
            [projection.name, number, now],
            tracking=TRACKING,
        )
        if activate:
            _point_views_at(cur, projection, number)
    return number


def _point_views_at(cur: Cursor, projection: type[Projection], number: int) -> None:
    for table in projection.tables:
        cur.run("DROP VIEW IF EXISTS {view}", view=table)
        cur.run("CREATE VIEW {view} AS SELECT * FROM {table}", view=table, table=physical(table, number))
    cur.run(
        "UPDATE {registry} SET status = CASE WHEN generation = %s THEN 'active' ELSE 'retired' END, "
        "switched_at = CASE WHEN generation = %s THEN %s ELSE switched_at END "
        "WHERE projection = %s AND (generation = %s OR status = 'active')",
        [number, number, datetime.now(UTC), projection.name, number],
        registry=REGISTRY,
    )


def switch(db: Database, projection: type[Projection], number: int) -> None:
    """Re-point the stable views at generation `number`, atomically."""
    with db.transaction() as cur:
        _point_views_at(cur, projection, number)


def drop_generation(db: Database, projection: type[Projection], number: int) -> None:
    with db.transaction() as cur:
        for table in projection.tables:
            cur.run("DROP TABLE IF EXISTS {table}", table=physical(table, number))
        cur.run(
            "DELETE FROM {tracking} WHERE projection = %s AND generation = %s",
            [projection.name, number],
            tracking=TRACKING,
        )
        cur.run(
            "DELETE FROM {registry} WHERE projection = %s AND generation = %s",
            [projection.name, number],
            registry=REGISTRY,
        )


def ensure_projection(db: Database, projection: type[Projection], params: dict[str, Any] | None = None) -> Generation:
    """The active generation, creating generation 1 (and its views) if there is none."""
    found = active(db, projection.name)
    if found is None:
        create_generation(db, projection, params or projection.default_params(), activate=True, unless_active=True)
        found = active(db, projection.name)
    assert found is not None
    return found


def apply_batch(
    db: Database,
    projection: type[Projection],
    generation: Generation,
    start: int,
    end: int,
    events: Sequence[tuple[Any, int]],
) -> None:
    """Apply `events` (already decoded, with positions in (start, end]) and move
    the tracking position from `start` to `end`, all in one transaction."""
    with db.transaction() as cur:
        cur.run(
            "UPDATE {tracking} SET position = %s, updated_at = %s "
            "WHERE projection = %s AND generation = %s AND position = %s RETURNING position",
            [end, datetime.now(UTC), projection.name, generation.number, start],
            tracking=TRACKING,
        )
        if cur.one() is None:
            raise TrackingConflict(f"{projection.name} g{generation.number} is no longer at {start}")
        writer = projection(cur, generation.number, generation.params)
        for event, position in events:
            writer.project(event, position)
        writer.finish()
