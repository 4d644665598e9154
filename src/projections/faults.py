"""Poison events: a generation that cannot apply an event stops at it.

The follower records the fault (the event's position and the error) and
applies nothing more to that generation until an operator either retries
(clears the fault: the event is tried again, e.g. after a fix is deployed) or
skips it (the tracking position moves past that one event, and the skip is
recorded in `projection_skips`, in the same transaction). Other read models
are separate generations and go on.

Errors of the database itself (a lost connection, a lock timeout, a
serialisation failure) are not poison: they are retried, never recorded.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError

from projections.base import FAULTS, SKIPS, TRACKING, Fault, generations
from projections.db import Database

log = logging.getLogger("disputes.projections")
TRANSIENT: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    sqlite3.OperationalError,
    OperationalError,
    InterfaceError,
)
"""The database failed, not the event: try again later, never a fault."""
MAX_ERROR_TEXT = 2000


class NotFaulted(Exception):
    """Retry or skip asked of a generation that is not stopped (at that position)."""


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:MAX_ERROR_TEXT]


def record(db: Database, name: str, generation: int, position: int, error: str) -> None:
    """Stop `generation` of `name` at `position` (the first fault recorded wins)."""
    with db.transaction() as cur:
        cur.run(
            "INSERT INTO {faults} (projection, generation, position, error, faulted_at) VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (projection, generation) DO NOTHING",
            [name, generation, position, error, datetime.now(UTC)],
            faults=FAULTS,
        )


def _fault(db: Database, name: str, generation: int) -> Fault:
    found = next((g for g in generations(db, name) if g.number == generation), None)
    if found is None or found.fault is None:
        raise NotFaulted(f"{name} generation {generation} is not stopped at a faulted event")
    return found.fault


def retry(db: Database, name: str, generation: int) -> Fault:
    """Clear the fault: the followers try the event again (and stop again if it still fails)."""
    fault = _fault(db, name, generation)
    with db.transaction() as cur:
        cur.run("DELETE FROM {faults} WHERE projection = %s AND generation = %s", [name, generation], faults=FAULTS)
    log.warning("%s g%s: retrying the event at position %s (it failed with %s)",
                name, generation, fault.position, fault.error)  # fmt: skip
    return fault


def skip(db: Database, name: str, generation: int, position: int, reason: str) -> Fault:
    """Move past the one faulted event at `position` without applying it; recorded and logged."""
    fault = _fault(db, name, generation)
    if fault.position != position:
        raise NotFaulted(f"{name} generation {generation} is stopped at position {fault.position}, not {position}")
    now = datetime.now(UTC)
    with db.transaction() as cur:
        cur.run(
            "UPDATE {tracking} SET position = %s, updated_at = %s "
            "WHERE projection = %s AND generation = %s AND position < %s RETURNING position",
            [position, now, name, generation, position],
            tracking=TRACKING,
        )
        if cur.one() is None:
            raise NotFaulted(f"{name} generation {generation} is already past position {position}")
        cur.run(
            "INSERT INTO {skips} (projection, generation, position, error, reason, skipped_at) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            [name, generation, position, fault.error, reason, now],
            skips=SKIPS,
        )
        cur.run("DELETE FROM {faults} WHERE projection = %s AND generation = %s", [name, generation], faults=FAULTS)
    log.warning("%s g%s: skipped the event at position %s (%s); it failed with %s",
                name, generation, position, reason, fault.error)  # fmt: skip
    return fault


def skipped(db: Database, name: str) -> list[dict[str, object]]:
    """The skips recorded for `name`, oldest first."""
    with db.reading() as cur:
        cur.run(
            "SELECT generation, position, error, reason, skipped_at FROM {skips} WHERE projection = %s "
            "ORDER BY skipped_at, position",
            [name],
            skips=SKIPS,
        )
        return cur.all()
