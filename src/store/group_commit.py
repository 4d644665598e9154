"""Group commit: concurrent commands share one write transaction.

The event store serialises writers (a table lock on Postgres, the single
writer of SQLite) and pays a commit per transaction, which caps one command
per transaction at about a thousand a second. Here each command still
decides on its own aggregate, then hands its new events to one committer
thread, which saves whatever has queued meanwhile as a single
`save(*aggregates)`, with every command's idempotency claim, in one
transaction. Nothing waits on purpose: an idle store commits a lone command
at once; under load, batches form while the previous one commits.

If the batch fails on a conflict (two commands raced on one dispute, or an
idempotency key was taken), no event of it was written; the committer then
saves each command alone, so only the losers see the conflict and retry on
fresh state exactly as they would without batching.

It needs the application's `StoreApp` seam (`record`, `after_commit`) to
split `save` in two; it touches no private `eventsourcing` method itself.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import RecordConflictError, Recording

from domain.application import DisputeApp
from domain.dispute import Dispute
from service.ports import IdempotencyClaim, IdempotencyKeyTaken
from store.application_seam import StoreApp
from store.idempotency import ClaimAt

log = logging.getLogger("disputes.group_commit")


@dataclass
class _Pending:
    processing: ProcessingEvent[Any]
    claim: IdempotencyClaim | None
    done: Future[list[Recording[Any]]] = field(default_factory=Future)

    def claim_at(self) -> ClaimAt | None:
        if self.claim is None:
            return None
        last = self.processing.events[-1]
        return ClaimAt(self.claim, last.originator_id, last.originator_version)


class GroupCommitter:
    def __init__(self, app: DisputeApp, max_batch: int = 200) -> None:
        if not isinstance(app, StoreApp):
            raise TypeError("group commit needs the store's application, a StoreApp (see bootstrap.build_app)")
        self.app: StoreApp = app
        self.max_batch = max_batch
        self.batches = 0
        self.commands = 0
        self._queue: queue.Queue[_Pending | None] = queue.Queue()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="group-commit", daemon=True)
        self._thread.start()

    def save(self, dispute: Dispute, save_kwargs: Mapping[str, Any]) -> list[Recording[Any]]:
        """Called by the application in place of `save(dispute, **save_kwargs)`."""
        if self._closed:
            raise RuntimeError("the group committer is closed")
        unknown = set(save_kwargs) - {"idempotency"}
        if unknown:
            raise TypeError(f"group commit cannot carry {sorted(unknown)}")
        processing: ProcessingEvent[Any] = ProcessingEvent()
        processing.collect_events(dispute)
        pending = _Pending(processing, save_kwargs.get("idempotency"))
        self._queue.put(pending)
        return pending.done.result()

    def close(self) -> None:
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while (first := self._queue.get()) is not None:
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)
                    break
                batch.append(item)
            try:
                self._commit(batch)
            except BaseException as error:  # keep committing: one bad batch must not hang every caller
                log.exception("group commit failed unexpectedly")
                for pending in batch:
                    if not pending.done.done():
                        pending.done.set_exception(error)

    def _commit(self, batch: list[_Pending]) -> None:
        self.batches += 1
        self.commands += len(batch)
        if len(batch) == 1:
            self._commit_alone(batch[0])
            return
        merged: ProcessingEvent[Any] = ProcessingEvent()
        for pending in batch:
            merged.events.extend(pending.processing.events)
            merged.aggregates.update(pending.processing.aggregates)
        merged.saved_kwargs["idempotency"] = [c for c in (p.claim_at() for p in batch) if c]
        try:
            recordings = self.app.record(merged)
        except (RecordConflictError, IdempotencyKeyTaken):
            for pending in batch:
                self._commit_alone(pending)
            return
        except BaseException as error:
            log.exception("group commit of %d commands failed", len(batch))
            for pending in batch:
                pending.done.set_exception(error)
            return
        self._finish(merged, recordings)
        by_dispute: dict[Any, list[Recording[Any]]] = {}
        for recording in recordings:
            by_dispute.setdefault(recording.domain_event.originator_id, []).append(recording)
        for pending in batch:  # a batch that committed holds each dispute once
            pending.done.set_result(by_dispute[pending.processing.events[0].originator_id])

    def _commit_alone(self, pending: _Pending) -> None:
        if pending.claim is not None:
            pending.processing.saved_kwargs["idempotency"] = pending.claim
        try:
            recordings = self.app.record(pending.processing)
        except BaseException as error:
            pending.done.set_exception(error)
            return
        self._finish(pending.processing, recordings)
        pending.done.set_result(recordings)

    def _finish(self, processing: ProcessingEvent[Any], recordings: list[Recording[Any]]) -> None:
        """What `Application.save` does after recording: snapshots (never raising), then wake followers."""
        self.app.after_commit(processing, recordings)
