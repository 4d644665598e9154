"""One reader of the notification log per batch, feeding every view.

Six `Follower`s each read the same notifications, decode the same events and
look up their generation before every step. A `Fanout` reads a batch once
(from the lowest position among the views it feeds), decodes each event once,
and hands every view its part of the batch. Each view still commits its rows
and its tracking position together, in a transaction of its own, with the
same compare-and-set as a `Follower` (so a second worker or a rebuild that
raced it rolls back and re-reads). A view that cannot apply a batch stops
alone: it is left out for a while (`retry_after`) and retried, while the
others go on.

Generations are read at start, after any conflict or failure, and at most
once every `refresh_every` seconds (so a rebuild's switch is picked up),
never per step.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any

from domain.application import DisputeApp
from projections import base, faults
from projections.base import Generation, TrackingConflict
from projections.db import Database
from projections.projection import Projection
from projections.records import record
from projections.runner import DEFAULT_BATCH, Follower, Waiter

log = logging.getLogger("disputes.projections")


@dataclass
class Fanout:
    app: DisputeApp
    db: Database
    projections: list[type[Projection]]
    batch_size: int = DEFAULT_BATCH
    refresh_every: float = 1.0
    retry_after: float = 1.0
    numbers: dict[str, int] | None = None
    """Fixed generations to write (a rebuild's); by default each view's active one."""
    processed: int = 0
    _generations: dict[str, Generation] = field(default_factory=dict)
    _refreshed: float = 0.0
    _failed: dict[str, float] = field(default_factory=dict)
    _topics: dict[str, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._topics = {p.name: p.handled_topics() for p in self.projections}

    def _current(self) -> dict[str, Generation]:
        now = time.monotonic()
        missing = [p for p in self.projections if p.name not in self._generations]
        if missing or now - self._refreshed > self.refresh_every:
            for projection in self.projections:
                found = self._generation(projection.name)
                if found is None:
                    self._generations.pop(projection.name, None)
                else:
                    self._generations[projection.name] = found
            self._refreshed = now
        return {
            name: g
            for name, g in self._generations.items()
            if g.fault is None and now - self._failed.get(name, -1e9) > self.retry_after
        }

    def _generation(self, name: str) -> Generation | None:
        if self.numbers is None:
            return base.active(self.db, name)
        return next((g for g in base.generations(self.db, name) if g.number == self.numbers[name]), None)

    def _forget(self, name: str) -> None:
        self._generations.pop(name, None)

    def step(self) -> int:
        """Read one batch and feed it to every view; the notifications read (0 when all caught up)."""
        feeding = self._current()
        if not feeding:
            return 0
        start = min(g.position for g in feeding.values())
        notifications = self.app.recorder.select_notifications(start, self.batch_size, inclusive_of_start=False)
        if not notifications:
            return 0
        end = notifications[-1].id
        decoded: dict[int, Any] = {}

        def event(n: Any) -> Any:
            if n.id not in decoded:
                decoded[n.id] = self.app.mapper.to_domain_event(n)
            return decoded[n.id]

        for projection in self.projections:
            generation = feeding.get(projection.name)
            if generation is None or generation.position >= end:
                continue
            topics = self._topics[projection.name]
            if projection.records:
                events = [(record(self.app.mapper, n), n.id) for n in notifications if n.id > generation.position]
            else:
                events = [(event(n), n.id) for n in notifications if n.id > generation.position and n.topic in topics]
            try:
                base.apply_batch(self.db, projection, generation, generation.position, end, events)
            except TrackingConflict as conflict:
                log.info("%s: %s; another writer got there first, re-reading", projection.name, conflict)
                self._forget(projection.name)
                continue
            except faults.TRANSIENT:
                raise
            except Exception:  # an event this view cannot apply: find it, record the fault, stop this view alone
                pending = [n for n in notifications if n.id > generation.position]
                follower = Follower(self.app, self.db, projection, generation_number=generation.number)
                follower._one_by_one(generation, pending)
                self._failed[projection.name] = time.monotonic()
                self._forget(projection.name)
                continue
            self._failed.pop(projection.name, None)
            self._generations[projection.name] = replace(generation, position=end)
        self.processed += len(notifications)
        return len(notifications)

    def catch_up(self) -> None:
        while self.step():
            pass

    def run_forever(self, stop: threading.Event, waiter: Waiter, idle_wait: float = 1.0) -> None:
        while not stop.is_set():
            try:
                if self.step() == 0:
                    waiter.wait(idle_wait)
            except faults.TRANSIENT as e:
                log.warning("projections: the database failed (%s); retrying in 1s", faults.describe(e))
                self._generations.clear()
                stop.wait(1.0)
            except Exception:
                log.exception("projections: reading the event store failed; retrying in 1s")
                self._generations.clear()
                stop.wait(1.0)
