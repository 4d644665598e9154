"""In-memory event store (fast unit tests), with idempotency records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder, POPOFactory

from store.idempotency import (
    IdempotencyClaim,
    IdempotencyKeyTaken,
    IdempotencyRecord,
    IdempotencyStore,
)


class MemoryRecorder(POPOApplicationRecorder, IdempotencyStore):
    def __init__(self) -> None:
        super().__init__()
        self._idempotency: dict[tuple[str, str], IdempotencyRecord] = {}

    def _insert_events(
        self,
        stored_events: Sequence[StoredEvent],
        *,
        idempotency: IdempotencyClaim | None = None,
        **kwargs: Any,
    ) -> Sequence[int] | None:
        with self._database_lock:
            if idempotency and (idempotency.scope, idempotency.key) in self._idempotency:
                raise IdempotencyKeyTaken(idempotency.key)
            ids = super()._insert_events(stored_events, **kwargs)
            if idempotency and ids:
                last = stored_events[-1]
                self._store(idempotency, str(last.originator_id), last.originator_version, ids[-1])
            return ids

    def _store(
        self, claim: IdempotencyClaim, dispute_id: str | None, version: int | None, position: int | None
    ) -> None:
        self._idempotency[(claim.scope, claim.key)] = IdempotencyRecord(
            claim.scope, claim.key, claim.fingerprint, claim.outcome, dispute_id, version, position
        )

    def select_idempotency(self, scope: str, key: str) -> IdempotencyRecord | None:
        with self._database_lock:
            return self._idempotency.get((scope, key))

    def insert_idempotency_outcome(self, claim: IdempotencyClaim) -> None:
        with self._database_lock:
            if (claim.scope, claim.key) not in self._idempotency:
                self._store(claim, None, None, None)


class Factory(POPOFactory):
    def application_recorder(self) -> ApplicationRecorder:
        return MemoryRecorder()
