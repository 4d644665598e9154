"""The application-family adapter: the only place that overrides or calls a
private method of `eventsourcing.application.Application`.

The domain's `DisputeApp` decides and saves through the library's public
API only. What the store needs beyond that lives here, in `StoreApp`, the
application the composition root builds:

- two overrides of hooks `Application.save` calls after recording
  (`_take_snapshots`, `_notify`), and
- public methods (`record`, `after_commit`) the group committer uses to split
  `save` in two: record many commands' events in one transaction, then run
  each save's aftermath. Without them it would have to call `_record`,
  `_take_snapshots` and `_notify` itself.

A library upgrade that renames or reshapes these hooks fails
tests/service/test_eventsourcing_contract.py, which names this module.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID

from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import Recording

from domain.application import DisputeApp
from domain.policy import Policy

log = logging.getLogger("disputes.application")


class StoreApp(DisputeApp):
    """`DisputeApp` with the store's post-commit behaviour and group-commit seam."""

    # The library names a subclass after its class unless it sets `name`, and the
    # name picks the Postgres tables (disputes_events, ...) and the env prefix.
    name = DisputeApp.name

    def __init__(self, env: Mapping[str, str] | None = None, policy: Policy | None = None) -> None:
        super().__init__(env, policy)
        self.observers: list[Callable[[list[Any]], None]] = []
        """Handed the domain events of each save once committed (business metrics)."""

    # ------------------------------------------------ public, for the store
    def record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        """Record the events collected in `processing_event` in one transaction,
        with its `saved_kwargs` (the idempotency claims) passed to the recorder,
        and return one recording per event (each with `.notification.id`).

        This is the first half of `Application.save`; call `after_commit` once it
        returns. Delegates to `Application._record` (looked up on the instance,
        so a test may replace it)."""
        return self._record(processing_event)

    def after_commit(self, processing_event: ProcessingEvent[UUID], recordings: list[Recording[UUID]]) -> None:
        """The second half of `Application.save`: take due snapshots (never
        raises, see `_take_snapshots`), then wake in-process listeners."""
        self._take_snapshots(processing_event)
        self._notify(recordings)

    # --------------------------------------- overrides of library hooks
    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """Why overridden: `Application.save` takes due snapshots after the events
        are committed, and the library lets a failure propagate. A snapshot is an
        optimisation, so a failure to take one must not report a committed command
        as failed (the client would retry and repeat it): log it instead."""
        try:
            super()._take_snapshots(processing_event)
        except Exception:
            log.exception("taking a snapshot failed after a commit; the events are saved")

    def _notify(self, recordings: list[Any]) -> None:
        """Why overridden: `_notify` is the library's hook, called after each save,
        that new events are committed. In-process followers (projections,
        scheduler) register in `listeners` to be woken instead of polling. A failing
        listener is logged: the events are saved whatever it does."""
        for observe in self.observers:
            try:
                observe([recording.domain_event for recording in recordings])
            except Exception:
                log.exception("a save observer failed; the events are saved")
        for listener in self.listeners:
            try:
                listener()
            except Exception:
                log.exception("a save listener failed; the events are saved")
