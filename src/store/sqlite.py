"""SQLite event store (the embedded default), with idempotency records.

This is the SQLite-family adapter: the only module that overrides or calls a
private method of `eventsourcing.sqlite` (`_insert_events`), pinned by
tests/service/test_eventsourcing_contract.py, which names this module when a library
upgrade changes it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteFactory

from service.ports import IdempotencyClaim, IdempotencyKeyTaken, IdempotencyRecord, IdempotencyStore
from store.idempotency import Claims, encode_outcome, resolve_claims

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
        idempotency: Claims = None,
        **kwargs: Any,
    ) -> Sequence[int] | None:
        """Why overridden: the library's public `insert_events` opens the write
        transaction and calls this inside it, with the save's keyword arguments
        and the transaction's cursor. Inserting the idempotency claims on that
        cursor commits them with the events, or (a taken key) neither."""
        ids = super()._insert_events(c, stored_events, **kwargs)
        for claim, dispute_id, version, position in resolve_claims(stored_events, ids or [], idempotency):
            try:
                self._insert_claim(c, claim, dispute_id, version, position)
            except sqlite3.IntegrityError:
                raise IdempotencyKeyTaken(claim.key) from None
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

    def select_events_with_positions(
        self, originator_id: UUID, *, gt: int = 0, limit: int | None = None
    ) -> list[Notification]:
        """Events after version `gt` in version order, each with its notification id (the rowid)."""
        statement = (
            f"SELECT rowid, * FROM {self.events_table_name} "  # noqa: S608 - the recorder's own table name
            "WHERE originator_id = ? AND originator_version > ? ORDER BY originator_version LIMIT ?"
        )
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, (originator_id.hex, gt, -1 if limit is None else limit))
            return [
                Notification(
                    id=row["rowid"],
                    originator_id=self.convert_originator_id(row["originator_id"]),
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in c.fetchall()
            ]

    def select_originator_ids(self, *, after: UUID | None = None, limit: int = 1000) -> list[UUID]:
        """Distinct originator ids in ascending order (verify --all), read from the primary key."""
        statement = (
            f"SELECT DISTINCT originator_id FROM {self.events_table_name} "  # noqa: S608 - own table name
            "WHERE originator_id > ? ORDER BY originator_id LIMIT ?"
        )
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, (after.hex if after else "", limit))
            return [UUID(row["originator_id"]) for row in c.fetchall()]


class Factory(SQLiteFactory):
    application_recorder_class = SQLiteRecorder
