"""Projections, their generations, and exactly-once batched processing.

A projection (projections.projection) owns a few tables. Each build of it is a *generation*: physical
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

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from projections.db import Cursor, Database, SwitchFailed, as_json, as_time
from projections.projection import Projection, physical

REGISTRY = "projection_generations"
TRACKING = "projection_tracking"
FAULTS = "projection_faults"  # a generation stopped at an event it cannot apply (projections.faults)
SKIPS = "projection_skips"  # every event an operator told a generation to skip, for the record
LAYOUT = "layout"
"""The generation parameter recording the table layout it was built with."""
log = logging.getLogger("disputes.projections")


class TrackingConflict(Exception):
    """The batch's start position is no longer the view's position."""


@dataclass(frozen=True)
class Fault:
    """The event a generation stopped at, and why."""

    position: int
    error: str
    at: datetime | None


@dataclass(frozen=True)
class Generation:
    projection: str
    number: int
    status: str
    params: dict[str, Any]
    position: int
    fault: Fault | None = None


TYPE_TOKENS = ("time", "json", "bigint", "text", "int", "bool", "float")


def render_ddl(projection: type[Projection], db: Database, generation: int) -> list[tuple[str, dict[str, str]]]:
    """DDL templates use `{table}` for tables, `{ix_name}` for indexes and
    `:time:`, `:json:`, `:bigint:`, `:bool:`... for dialect column types."""
    rendered = []
    for template in projection.ddl():
        statement = template
        for token in TYPE_TOKENS:
            statement = statement.replace(f":{token}:", db.type(token))
        names = {t: physical(t, generation) for t in projection.all_tables()}
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
        cur.run(
            "CREATE TABLE IF NOT EXISTS {faults} (projection text NOT NULL, generation integer NOT NULL, "
            f"position {db.type('bigint')} NOT NULL, error text NOT NULL, faulted_at {db.type('time')} NOT NULL, "
            "PRIMARY KEY (projection, generation))",
            faults=FAULTS,
        )
        cur.run(
            "CREATE TABLE IF NOT EXISTS {skips} (projection text NOT NULL, generation integer NOT NULL, "
            f"position {db.type('bigint')} NOT NULL, error text NOT NULL, reason text NOT NULL, "
            f"skipped_at {db.type('time')} NOT NULL, PRIMARY KEY (projection, generation, position))",
            skips=SKIPS,
        )


def generations(db: Database, name: str) -> list[Generation]:
    with db.reading() as cur:
        cur.run(
            "SELECT g.generation, g.status, g.params, t.position, f.position AS fault_position, f.error, "
            "f.faulted_at FROM {registry} g JOIN {tracking} t "
            "ON t.projection = g.projection AND t.generation = g.generation "
            "LEFT JOIN {faults} f ON f.projection = g.projection AND f.generation = g.generation "
            "WHERE g.projection = %s ORDER BY g.generation",
            [name],
            registry=REGISTRY,
            tracking=TRACKING,
            faults=FAULTS,
        )
        rows = cur.all()
    return [
        Generation(
            name,
            r["generation"],
            r["status"],
            as_json(r["params"]),
            r["position"],
            None if r["fault_position"] is None else Fault(r["fault_position"], r["error"], as_time(r["faulted_at"])),
        )
        for r in rows
    ]


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
    params = {**params, LAYOUT: projection.layout}
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
        cur.point_view(table, physical(table, number))
    cur.run(
        "UPDATE {registry} SET status = CASE WHEN generation = %s THEN 'active' ELSE 'retired' END, "
        "switched_at = CASE WHEN generation = %s THEN %s ELSE switched_at END "
        "WHERE projection = %s AND (generation = %s OR status = 'active')",
        [number, number, datetime.now(UTC), projection.name, number],
        registry=REGISTRY,
    )


def switch(db: Database, projection: type[Projection], number: int) -> None:
    """Re-point the stable views at generation `number`, atomically, keeping the views
    built on them and their grants (Cursor.point_view). On failure nothing changed for
    readers; the generation is marked `failed` (a later rebuild drops it), never left `building`."""
    try:
        with db.transaction() as cur:
            _point_views_at(cur, projection, number)
    except Exception as error:
        with db.transaction() as cur:
            cur.run("UPDATE {registry} SET status = 'failed' WHERE projection = %s AND generation = %s",
                    [projection.name, number], registry=REGISTRY)  # fmt: skip
        log.error("%s: could not switch to generation %s, marked failed: %s", projection.name, number, error)
        raise SwitchFailed(f"{projection.name}: generation {number} could not be switched to: {error}") from error


def drop_generation(db: Database, projection: type[Projection], number: int) -> None:
    with db.transaction() as cur:
        for table in projection.all_tables():
            cur.run("DROP TABLE IF EXISTS {table}", table=physical(table, number))
        cur.run(
            "DELETE FROM {tracking} WHERE projection = %s AND generation = %s",
            [projection.name, number],
            tracking=TRACKING,
        )
        for table in (FAULTS, SKIPS):
            cur.run("DELETE FROM {t} WHERE projection = %s AND generation = %s", [projection.name, number], t=table)
        cur.run(
            "DELETE FROM {registry} WHERE projection = %s AND generation = %s",
            [projection.name, number],
            registry=REGISTRY,
        )


def ensure_projection(db: Database, projection: type[Projection], params: dict[str, Any] | None = None) -> Generation:
    """The active generation, creating generation 1 (and its views) if there is none.

    A generation built with another table layout (an older version of the
    projection) is replaced by a fresh generation that the followers then
    build from position 0, and dropped."""
    found = active(db, projection.name)
    if found is not None and found.params.get(LAYOUT, 1) != projection.layout:
        log.warning("%s: generation %s has table layout %s, not %s; rebuilding it from position 0",
                    projection.name, found.number, found.params.get(LAYOUT, 1), projection.layout)  # fmt: skip
        create_generation(db, projection, {k: v for k, v in found.params.items() if k != LAYOUT}, activate=True)
        drop_generation(db, projection, found.number)
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
