"""In-memory event store (fast unit tests), with idempotency records.

This is the memory-family adapter: the only module that overrides or reads a
private member of `eventsourcing.popo` (`_insert_events`, `_database_lock`,
`_stored_events`, `_stored_events_index`). Each is pinned by
tests/service/test_eventsourcing_contract.py, which names this module when a library
upgrade changes one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Notification, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder, POPOFactory

from service.ports import IdempotencyClaim, IdempotencyKeyTaken, IdempotencyRecord, IdempotencyStore
from store.idempotency import Claims, resolve_claims


class MemoryRecorder(POPOApplicationRecorder, IdempotencyStore):
    def __init__(self) -> None:
        super().__init__()
        self._idempotency: dict[tuple[str, str], IdempotencyRecord] = {}

    def _insert_events(
        self,
        stored_events: Sequence[StoredEvent],
        *,
        idempotency: Claims = None,
        **kwargs: Any,
    ) -> Sequence[int] | None:
        """Why overridden: the library's public `insert_events` calls this with the
        save's keyword arguments and then wakes its own listeners. Checking and
        storing the idempotency claims here, under the recorder's (reentrant)
        lock, makes them atomic with the events, as a transaction does in the
        SQL stores, and keeps the library's listener notification."""
        with self._database_lock:
            keys = [(c.scope, c.key) for c, *_ in resolve_claims(stored_events, [0] * len(stored_events), idempotency)]
            taken = [k for k in keys if k in self._idempotency]
            if taken or len(set(keys)) < len(keys):
                raise IdempotencyKeyTaken((taken or keys)[0][1])
            ids = super()._insert_events(stored_events, **kwargs)
            for claim, dispute_id, version, position in resolve_claims(stored_events, ids or [], idempotency):
                self._store(claim, dispute_id, version, position)
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

    def select_events_with_positions(
        self, originator_id: UUID, *, gt: int = 0, limit: int | None = None
    ) -> list[Notification]:
        """Events after version `gt` in version order, each with its notification id (audit history).

        The library has no such query: this reads its private table and index
        (notification id = position in `_stored_events` + 1)."""
        with self._database_lock:
            index = self._stored_events_index[str(originator_id)]
            found = []
            for version in sorted(v for v in index if v > gt)[:limit]:
                s = self._stored_events[index[version]]
                found.append(
                    Notification(
                        id=index[version] + 1,
                        originator_id=s.originator_id,
                        originator_version=s.originator_version,
                        topic=s.topic,
                        state=s.state,
                    )
                )
            return found

    def select_originator_ids(self, *, after: UUID | None = None, limit: int = 1000) -> list[UUID]:
        """Distinct originator ids in ascending order (verify --all)."""
        with self._database_lock:
            ids = sorted(UUID(k) for k, v in self._stored_events_index.items() if v)
        return [i for i in ids if after is None or i > after][:limit]


class Factory(POPOFactory):
    def application_recorder(self) -> ApplicationRecorder:
        return MemoryRecorder()
