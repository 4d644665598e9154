"""SQLite event store (the embedded default), with idempotency records."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteFactory

from store.idempotency import (
    IdempotencyClaim,
    IdempotencyKeyTaken,
    IdempotencyRecord,
    IdempotencyStore,
    encode_outcome,
)

IDEMPOTENCY_TABLE = "idempotency_keys"


class SQLiteRecorder(SQLiteApplicationRecorder, IdempotencyStore):
    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {IDEMPOTENCY_TABLE} ("
            "scope TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, "
            "outcome TEXT NOT NULL, dispute_id TEXT, version INTEGER, position INTEGER, "
            "created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), "
            "PRIMARY KEY (scope, key))",
        ]

    def _insert_events(
        self,
        c: SQLiteCursor,
        stored_events: Sequence[StoredEvent],
        *,
        idempotency: IdempotencyClaim | None = None,
        **kwargs: Any,
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        if idempotency and ids:
            last = stored_events[-1]
            try:
                self._insert_claim(c, idempotency, str(last.originator_id), last.originator_version, ids[-1])
            except sqlite3.IntegrityError:
                raise IdempotencyKeyTaken(idempotency.key) from None
        return ids

    @staticmethod
    def _insert_claim(
        c: SQLiteCursor,
        claim: IdempotencyClaim,
        dispute_id: str | None,
        version: int | None,
        position: int | None,
        *,
        or_ignore: bool = False,
    ) -> None:
        verb = "INSERT OR IGNORE" if or_ignore else "INSERT"
        c.execute(
            f"{verb} INTO {IDEMPOTENCY_TABLE} "
            "(scope, key, fingerprint, outcome, dispute_id, version, position) "
            "VALUES (?,?,?,?,?,?,?)",
            (claim.scope, claim.key, claim.fingerprint, encode_outcome(claim.outcome), dispute_id, version, position),
        )

    def select_idempotency(self, scope: str, key: str) -> IdempotencyRecord | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT * FROM idempotency_keys WHERE scope=? AND key=?",
                (scope, key),
            )
            row = c.fetchone()
        if row is None:
            return None
        return IdempotencyRecord(
            row["scope"],
            row["key"],
            row["fingerprint"],
            json.loads(row["outcome"]),
            row["dispute_id"],
            row["version"],
            row["position"],
        )

    def insert_idempotency_outcome(self, claim: IdempotencyClaim) -> None:
        with self.datastore.transaction(commit=True) as c:
            self._insert_claim(c, claim, None, None, None, or_ignore=True)


class Factory(SQLiteFactory):
    application_recorder_class = SQLiteRecorder
