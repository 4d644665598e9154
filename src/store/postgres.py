"""Postgres event store through psycopg 3, with idempotency records.

Writes keep the library's guarantee that notification ids are committed in
order (an EXCLUSIVE table lock per write transaction, which readers do not
wait for), and send the lock, NOTIFY, insert and idempotency row in one
pipelined round trip.

This is the Postgres-family adapter: the only module that calls a private
method of `eventsourcing.postgres` (`_lock_table`, `_notify_channel`), pinned
by tests/service/test_eventsourcing_contract.py, which names this module when a
library upgrade changes one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore, PostgresFactory
from eventsourcing.utils import Environment
from psycopg.conninfo import make_conninfo
from psycopg.sql import SQL, Identifier

from service.ports import IdempotencyClaim, IdempotencyKeyTaken, IdempotencyRecord, IdempotencyStore
from store.idempotency import Claims, claim_targets, encode_outcome


class PostgresRecorder(PostgresApplicationRecorder, IdempotencyStore):
    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.idempotency_table = Identifier(datastore.schema, "idempotency_keys")
        self.idempotency_pkey = "idempotency_keys_pkey"
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {table} ("
                "scope text NOT NULL, key text NOT NULL, fingerprint text NOT NULL, "
                "outcome jsonb NOT NULL, dispute_id uuid, version bigint, position bigint, "
                "created_at timestamptz NOT NULL DEFAULT now(), "
                "CONSTRAINT {pkey} PRIMARY KEY (scope, key))"
            ).format(table=self.idempotency_table, pkey=Identifier(self.idempotency_pkey))
        )
        self.insert_claim_statement = SQL(
            "INSERT INTO {table} (scope, key, fingerprint, outcome, dispute_id, version, position) "
            "VALUES (%s, %s, %s, %s::jsonb, %s, %s, %s)"
        ).format(table=self.idempotency_table)
        # In a write, the claim's position is read back from the row just inserted,
        # so the whole transaction goes to the server in one round trip.
        self.insert_claim_with_event_statement = SQL(
            "INSERT INTO {table} (scope, key, fingerprint, outcome, dispute_id, version, position) "
            "SELECT %s, %s, %s, %s::jsonb, originator_id, originator_version, notification_id "
            "FROM {events} WHERE originator_id = %s AND originator_version = %s"
        ).format(table=self.idempotency_table, events=Identifier(datastore.schema, events_table_name))

    def insert_events(
        self,
        stored_events: Sequence[StoredEvent],
        *,
        idempotency: Claims = None,
        **kwargs: Any,
    ) -> Sequence[int] | None:
        if not stored_events:
            return []
        rows = [
            self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
            for e in stored_events
        ]
        with self.datastore.get_connection() as conn:
            try:
                return self._insert_rows(conn, rows, stored_events, idempotency)
            except psycopg.errors.UniqueViolation as e:
                if idempotency and e.diag.constraint_name == self.idempotency_pkey:
                    raise IdempotencyKeyTaken(str(e.diag.message_detail or "")) from None
                raise

    def _insert_rows(
        self,
        conn: psycopg.Connection[Any],
        rows: list[Any],
        stored_events: Sequence[StoredEvent],
        idempotency: Claims,
    ) -> list[int]:
        """Lock, NOTIFY, insert, claims and COMMIT, pipelined: one round trip.

        Why the private calls: `insert_events` is replaced to pipeline the claims
        with the events, but the table lock and the NOTIFY stay the library's own
        (`_lock_table`, `_notify_channel`, each run on the transaction's cursor), so
        its guarantee that notification ids commit in order, and the channel its
        listeners wait on, are kept exactly."""
        claims = [
            (c.scope, c.key, c.fingerprint, encode_outcome(c.outcome), dispute_id, version)
            for c, dispute_id, version in claim_targets(stored_events, idempotency)
        ]
        with conn.cursor() as inserted:
            with conn.pipeline(), conn.transaction():
                with conn.cursor() as curs:
                    self._lock_table(curs)
                    self._notify_channel(curs)
                inserted.execute(self.insert_events_statement, (rows,), prepare=True)
                if claims:
                    with conn.cursor() as curs:
                        curs.executemany(self.insert_claim_with_event_statement, claims)
            return [row["notification_id"] for row in inserted.fetchall()]

    @staticmethod
    def _claim_params(
        claim: IdempotencyClaim, dispute_id: object, version: int | None, position: int | None
    ) -> tuple[object, ...]:
        return (
            claim.scope,
            claim.key,
            claim.fingerprint,
            encode_outcome(claim.outcome),
            dispute_id,
            version,
            position,
        )

    def select_idempotency(self, scope: str, key: str) -> IdempotencyRecord | None:
        statement = SQL("SELECT * FROM {table} WHERE scope = %s AND key = %s").format(table=self.idempotency_table)
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (scope, key))
            row = curs.fetchone()
        if row is None:
            return None
        outcome = row["outcome"] if isinstance(row["outcome"], dict) else json.loads(row["outcome"])
        dispute_id = str(row["dispute_id"]) if row["dispute_id"] else None
        return IdempotencyRecord(
            row["scope"], row["key"], row["fingerprint"], outcome, dispute_id, row["version"], row["position"]
        )

    def insert_idempotency_outcome(self, claim: IdempotencyClaim) -> None:
        statement = self.insert_claim_statement + SQL(" ON CONFLICT DO NOTHING")
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, self._claim_params(claim, None, None, None))

    def select_events_with_positions(
        self, originator_id: UUID, *, gt: int = 0, limit: int | None = None
    ) -> list[Notification]:
        """Events after version `gt` in version order, each with its notification id."""
        statement = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM {table} "
            "WHERE originator_id = %s AND originator_version > %s ORDER BY originator_version LIMIT %s"
        ).format(table=Identifier(self.datastore.schema, self.events_table_name))
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (originator_id, gt, limit))
            return [
                Notification(
                    id=row["notification_id"],
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]

    def select_originator_ids(self, *, after: UUID | None = None, limit: int = 1000) -> list[UUID]:
        """Distinct originator ids in ascending order (verify --all), read from the primary key."""
        where = SQL("WHERE originator_id > %s ") if after is not None else SQL("")
        statement = SQL("SELECT DISTINCT originator_id FROM {table} {where}ORDER BY originator_id LIMIT %s").format(
            table=Identifier(self.datastore.schema, self.events_table_name), where=where
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (after, limit) if after is not None else (limit,))
            return [row["originator_id"] for row in curs.fetchall()]


class Factory(PostgresFactory):
    """The library's factory, plus the libpq parameters it does not pass itself
    (sslmode, sslrootcert, connect_timeout...): Settings.postgres_params parses
    the URL with psycopg's conninfo and hands the rest over as JSON."""

    application_recorder_class = PostgresRecorder

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        extra = json.loads(env.get("POSTGRES_EXTRA_CONNINFO") or "{}")
        # The pool opens lazily, so its connection arguments can still grow here.
        kwargs = self.datastore.pool.kwargs
        assert isinstance(kwargs, dict), "the library hands the pool a dict of connection arguments"
        kwargs.update(extra)


def ensure_schema(params: dict[str, str]) -> None:
    """Create the configured schema (tables are created by the recorders)."""
    conninfo = make_conninfo(**{"connect_timeout": "5", **{k: v for k, v in params.items() if k != "schema"}})
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(SQL("CREATE SCHEMA IF NOT EXISTS {}").format(Identifier(params["schema"])))
