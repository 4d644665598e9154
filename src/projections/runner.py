"""Following the event store and feeding projections in batches.

`Follower.step()` reads the next batch of notifications after the view's
tracked position, decodes only the events the projection handles, and applies
the batch with the tracking update in one transaction. `run_forever` repeats
it, waiting between empty steps on a `Waiter`: Postgres LISTEN/NOTIFY with a
bounded timeout (a lost notification only delays, never stalls), a plain poll
for SQLite (its recorder has no subscribe), or an in-process signal.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from eventsourcing.persistence import Notification
from psycopg.conninfo import make_conninfo
from psycopg.sql import SQL, Identifier

from domain.application import DisputeApp
from projections import base, faults
from projections.base import Generation, TrackingConflict
from projections.db import Database
from projections.projection import Projection
from projections.records import record

log = logging.getLogger("disputes.projections")
DEFAULT_BATCH = 500


class Waiter(ABC):
    @abstractmethod
    def wait(self, timeout: float) -> None:
        """Return when new events may have been recorded, or after `timeout`."""

    def close(self) -> None:  # noqa: B027 - optional hook
        pass


class PollingWaiter(Waiter):
    """For a worker process on SQLite, whose recorder has no subscribe(): poll."""

    def __init__(self, stop: threading.Event, interval: float = 0.2) -> None:
        self.stop = stop
        self.interval = interval

    def wait(self, timeout: float) -> None:
        self.stop.wait(min(timeout, self.interval))


class SignalWaiter(Waiter):
    """Woken by the in-process application after each save (see DisputeApp.listeners)."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self.signal = threading.Event()

    def notify(self) -> None:
        self.signal.set()

    def wait(self, timeout: float) -> None:
        self.signal.wait(timeout)
        self.signal.clear()


class ListenWaiter(Waiter):
    """LISTEN on the event table's channel (the recorder NOTIFYs on every insert)."""

    def __init__(self, conninfo: dict[str, str], channel: str) -> None:
        self.params = make_conninfo(**{k: v for k, v in conninfo.items() if k != "schema" and v})
        self.channel = channel
        self.conn = self._listen()

    def _listen(self) -> psycopg.Connection[Any]:
        conn = psycopg.connect(self.params, autocommit=True)
        conn.execute(SQL("LISTEN {}").format(Identifier(self.channel)))
        return conn

    def wait(self, timeout: float) -> None:
        try:
            for _ in self.conn.notifies(timeout=timeout, stop_after=1):
                pass
            # Coalesce: the notifications that queued meanwhile are all answered by the next step.
            for _ in self.conn.notifies(timeout=0.0):
                pass
        except psycopg.OperationalError as e:
            log.warning("LISTEN connection lost (%s); reconnecting", e)
            self.conn.close()
            time.sleep(min(timeout, 1.0))
            self.conn = self._listen()

    def close(self) -> None:
        self.conn.close()


@dataclass
class Follower:
    app: DisputeApp
    db: Database
    projection: type[Projection]
    generation_number: int | None = None
    batch_size: int = DEFAULT_BATCH
    processed: int = 0
    _topics: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        self._topics = self.projection.handled_topics()

    def generation(self) -> Generation:
        """The generation this follower writes: a fixed one (rebuilds), or the active one."""
        found = (
            base.active(self.db, self.projection.name)
            if self.generation_number is None
            else next(
                (g for g in base.generations(self.db, self.projection.name) if g.number == self.generation_number),
                None,
            )
        )
        if found is None:
            raise LookupError(f"no generation {self.generation_number or 'active'} of {self.projection.name}")
        return found

    def step(self) -> int:
        """Process one batch; the number of notifications consumed (0 when caught up or stopped at a fault)."""
        generation = self.generation()
        if generation.fault is not None:
            return 0
        start = generation.position
        notifications = self.app.recorder.select_notifications(start, self.batch_size, inclusive_of_start=False)
        if not notifications:
            return 0
        try:
            events = [self._event(n) for n in notifications if self.projection.records or n.topic in self._topics]
            base.apply_batch(self.db, self.projection, generation, start, notifications[-1].id, events)
        except TrackingConflict as conflict:
            log.info("%s: %s; another writer got there first, re-reading", self.projection.name, conflict)
            return len(notifications)
        except faults.TRANSIENT:
            raise
        except Exception:  # the batch holds an event this projection cannot apply: find it
            return self._one_by_one(generation, notifications)
        self.processed += len(notifications)
        return len(notifications)

    def _event(self, n: Notification) -> tuple[Any, int]:
        """What the projection is fed: the decoded event, or the stored record."""
        if self.projection.records:
            return record(self.app.mapper, n), n.id
        return self.app.mapper.to_domain_event(n), n.id

    def _one_by_one(self, generation: Generation, notifications: Sequence[Notification]) -> int:
        """Apply a failed batch one event per transaction, up to the one that fails, and stop there."""
        start, consumed = generation.position, 0
        for n in notifications:
            try:
                events = [self._event(n)] if self.projection.records or n.topic in self._topics else []
                base.apply_batch(self.db, self.projection, generation, start, n.id, events)
            except TrackingConflict:
                return consumed
            except faults.TRANSIENT:
                raise
            except Exception as error:
                faults.record(self.db, self.projection.name, generation.number, n.id, faults.describe(error))
                name = self.projection.name
                log.exception("%s g%s: cannot apply the event at position %s; stopped there until "
                              "`disputes projections retry|skip`", name, generation.number, n.id)  # fmt: skip
                return consumed
            start, consumed = n.id, consumed + 1
            self.processed += 1
        return consumed

    def catch_up(self, until: int | None = None) -> None:
        """Process until no events are left (or the view has reached `until`)."""
        while True:
            if until is not None and self.generation().position >= until:
                return
            if self.step() == 0:
                return

    def run_forever(self, stop: threading.Event, waiter: Waiter, idle_wait: float = 1.0) -> None:
        while not stop.is_set():
            try:
                if self.step() == 0:
                    waiter.wait(idle_wait)
            except faults.TRANSIENT as e:
                log.warning("%s: the database failed (%s); retrying in 1s", self.projection.name, faults.describe(e))
                stop.wait(1.0)
            except Exception:
                log.exception("%s: projection step failed; retrying in 1s", self.projection.name)
                stop.wait(1.0)


def lag(app: DisputeApp, db: Database, projection: type[Projection]) -> tuple[int | None, int]:
    """(the active generation's position, the store's head)."""
    head = app.recorder.max_notification_id() or 0
    generation = base.active(db, projection.name)
    return (generation.position if generation else None), head
