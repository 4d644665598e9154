"""Webhook subscriptions and delivery attempts in their own tables, beside the
events (the same SQLite file or Postgres schema), through `projections.db`.

Claiming a due subscription (see docs/webhooks.md):
- Postgres: `SELECT ... FOR UPDATE SKIP LOCKED` in a transaction held while the
  worker delivers; the attempt and the position move are written in that same
  transaction. Another worker skips the locked row, so no attempt is ever made
  twice at once; a worker that dies rolls back and releases the row.
- SQLite (one delivery worker process per database file): threads of the
  worker claim in memory; the attempt and the position move are one write
  transaction that first checks the row is still as claimed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.values import Actor
from projections.db import Cursor, Database, Row, as_json, as_required_time, as_time
from service.webhooks.model import DISABLED, ENABLED, Attempt, Claim, Subscription, WebhookStore

SUBS, ATTEMPTS = "webhook_subscriptions", "webhook_attempts"
COLUMNS = (
    "id, owner_id, owner_role, url, event_types, description, status, secret, created_at, position, attempt, "
    "next_attempt_at, disabled_reason, previous_secret, previous_secret_expires_at"
)
ATTEMPT_COLUMNS = (
    "subscription_id, event_id, position, attempt, status_code, error, duration_ms, attempted_at, "
    "next_attempt_at, response_body"
)


DELIVERY_FIELDS = ("position", "attempt", "next_attempt_at", "status", "disabled_reason")


def values(s: Subscription) -> list[Any]:
    return [
        str(s.id), s.owner_id, s.owner_role, s.url, s.event_types, s.description, s.status, s.secret,
        s.created_at, s.position, s.attempt, s.next_attempt_at, s.disabled_reason, s.previous_secret,
        s.previous_secret_expires_at,
    ]  # fmt: skip


def subscription(r: Row) -> Subscription:
    return Subscription(
        id=UUID(r["id"]),
        owner_id=r["owner_id"],
        owner_role=r["owner_role"],
        url=r["url"],
        event_types=as_json(r["event_types"]),
        description=r["description"],
        status=r["status"],
        secret=r["secret"],
        created_at=as_required_time(r["created_at"]),
        position=int(r["position"]),
        attempt=int(r["attempt"]),
        next_attempt_at=as_time(r["next_attempt_at"]),
        disabled_reason=r["disabled_reason"],
        previous_secret=r["previous_secret"],
        previous_secret_expires_at=as_time(r["previous_secret_expires_at"]),
    )


def attempt(r: Row) -> Attempt:
    return Attempt(
        subscription_id=UUID(r["subscription_id"]),
        event_id=UUID(r["event_id"]),
        position=int(r["position"]),
        attempt=int(r["attempt"]),
        status_code=r["status_code"],
        error=r["error"],
        duration_ms=int(r["duration_ms"]),
        attempted_at=as_required_time(r["attempted_at"]),
        next_attempt_at=as_time(r["next_attempt_at"]),
        response_body=r["response_body"],
        seq=int(r["seq"]),
    )


def write(cur: Cursor, done: Attempt | None, after: Subscription) -> None:
    if done is not None:
        cur.run(
            f"INSERT INTO {{a}} ({ATTEMPT_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",  # noqa: S608
            [
                str(done.subscription_id), str(done.event_id), done.position, done.attempt, done.status_code,
                done.error, done.duration_ms, done.attempted_at, done.next_attempt_at, done.response_body,
            ],
            a=ATTEMPTS,
        )
    update(cur, after, DELIVERY_FIELDS)


def update(cur: Cursor, changed: Subscription, fields: tuple[str, ...]) -> None:
    """Write only `fields`: the owner's edits and the worker's progress never overwrite each other."""
    names = [c.strip() for c in COLUMNS.split(",")]
    row = dict(zip(names, values(changed), strict=True))
    sets = ", ".join(f"{check_field(f)} = %s" for f in fields)
    cur.run(f"UPDATE {{s}} SET {sets} WHERE id = %s", [*(row[f] for f in fields), str(changed.id)], s=SUBS)  # noqa: S608


def check_field(name: str) -> str:
    if name not in COLUMNS:
        raise ValueError(f"no column {name}")
    return name


class _HeldClaim(Claim):
    """Postgres: the row stays locked (FOR UPDATE) until the transaction ends."""

    def __init__(self, cur: Cursor, found: Subscription) -> None:
        self.cur, self.subscription = cur, found

    def record(self, attempt: Attempt | None, after: Subscription) -> None:
        write(self.cur, attempt, after)
        self.subscription = after


class _CheckedClaim(Claim):
    """SQLite: written only if the row is still as it was claimed."""

    def __init__(self, db: Database, found: Subscription) -> None:
        self.db, self.subscription = db, found
        self.lost = False

    def record(self, attempt: Attempt | None, after: Subscription) -> None:
        if self.lost:
            return
        with self.db.transaction() as cur:
            cur.run("SELECT position, attempt, status FROM {s} WHERE id = %s", [str(after.id)], s=SUBS)
            row = cur.one()
            claimed = self.subscription
            if row is None or (int(row["position"]), int(row["attempt"]), row["status"]) != (
                claimed.position, claimed.attempt, claimed.status,
            ):  # fmt: skip
                self.lost = True  # changed meanwhile (deleted, replayed, paused): the owner's change wins
                return
            write(cur, attempt, after)
        self.subscription = after


class SqlWebhookStore(WebhookStore):
    def __init__(self, db: Database) -> None:
        self.db = db
        self._held: set[UUID] = set()
        self._lock = threading.Lock()

    def ensure_tables(self) -> None:
        t = self.db.type
        identity = "bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
        seq = "INTEGER PRIMARY KEY" if self.db.dialect == "sqlite" else identity
        with self.db.transaction() as cur:
            cur.run(
                "CREATE TABLE IF NOT EXISTS {s} (id text PRIMARY KEY, owner_id text NOT NULL, "
                f"owner_role text NOT NULL, url text NOT NULL, event_types {t('json')} NOT NULL, "
                f"description text NOT NULL, status text NOT NULL, secret text NOT NULL, created_at {t('time')} "
                f"NOT NULL, position {t('bigint')} NOT NULL, attempt {t('int')} NOT NULL, next_attempt_at "
                f"{t('time')}, disabled_reason text, previous_secret text, previous_secret_expires_at {t('time')})",
                s=SUBS,
            )
            cur.run(
                "CREATE INDEX IF NOT EXISTS {ix_webhook_owner} ON {s} (owner_id, owner_role, id)",
                ix_webhook_owner="ix_webhook_owner",
                s=SUBS,
            )
            cur.run(
                f"CREATE TABLE IF NOT EXISTS {{a}} (seq {seq}, subscription_id text NOT NULL, event_id text NOT NULL, "
                f"position {t('bigint')} NOT NULL, attempt {t('int')} NOT NULL, status_code {t('int')}, error text, "
                f"duration_ms {t('int')} NOT NULL, attempted_at {t('time')} NOT NULL, next_attempt_at {t('time')}, "
                "response_body text NOT NULL)",
                a=ATTEMPTS,
            )
            cur.run(
                "CREATE INDEX IF NOT EXISTS {ix_webhook_attempts} ON {a} (subscription_id, seq)",
                ix_webhook_attempts="ix_webhook_attempts",
                a=ATTEMPTS,
            )

    def add(self, subscription: Subscription) -> None:
        with self.db.transaction() as cur:
            marks = ", ".join(["%s"] * len(COLUMNS.split(",")))
            cur.run(f"INSERT INTO {{s}} ({COLUMNS}) VALUES ({marks})", values(subscription), s=SUBS)  # noqa: S608

    def get(self, subscription_id: UUID) -> Subscription | None:
        with self.db.reading() as cur:
            cur.run("SELECT * FROM {s} WHERE id = %s", [str(subscription_id)], s=SUBS)
            row = cur.one()
        return subscription(row) if row else None

    def owned_by(self, actor: Actor, after: str | None, limit: int) -> list[Subscription]:
        with self.db.reading() as cur:
            cur.run(
                "SELECT * FROM {s} WHERE owner_id = %s AND owner_role = %s AND id > %s ORDER BY id LIMIT %s",
                [actor.id, actor.role.value, after or "", limit],
                s=SUBS,
            )
            return [subscription(r) for r in cur.all()]

    def save(self, subscription: Subscription, fields: tuple[str, ...]) -> None:
        with self.db.transaction() as cur:
            update(cur, subscription, fields)

    def delete(self, subscription_id: UUID) -> None:
        with self.db.transaction() as cur:
            cur.run("DELETE FROM {a} WHERE subscription_id = %s", [str(subscription_id)], a=ATTEMPTS)
            cur.run("DELETE FROM {s} WHERE id = %s", [str(subscription_id)], s=SUBS)

    def attempts(self, subscription_id: UUID, after_seq: int, limit: int) -> list[Attempt]:
        with self.db.reading() as cur:
            cur.run(
                "SELECT * FROM {a} WHERE subscription_id = %s AND seq > %s ORDER BY seq LIMIT %s",
                [str(subscription_id), after_seq, limit],
                a=ATTEMPTS,
            )
            return [attempt(r) for r in cur.all()]

    DUE = (
        "SELECT * FROM {s} WHERE status = %s AND position < %s AND (next_attempt_at IS NULL OR next_attempt_at <= %s) "
        "ORDER BY next_attempt_at"
    )

    @contextmanager
    def claim(self, now: datetime, head: int) -> Iterator[Claim | None]:
        if self.db.dialect == "postgres":
            with self.db.transaction() as cur:
                cur.run(self.DUE + " LIMIT 1 FOR UPDATE SKIP LOCKED", [ENABLED, head, now], s=SUBS)
                row = cur.one()
                yield _HeldClaim(cur, subscription(row)) if row else None
            return
        with self.db.reading() as cur:
            cur.run(self.DUE + " LIMIT 50", [ENABLED, head, now], s=SUBS)
            rows = cur.all()
        with self._lock:
            found = next((subscription(r) for r in rows if UUID(r["id"]) not in self._held), None)
            if found is not None:
                self._held.add(found.id)
        held = found.id if found is not None else None
        try:
            if found is not None:
                # Read it again now that it is ours: the rows above may predate another
                # thread's delivery, and a stale position would send that event again.
                found = self._still_due(found.id, now, head)
            yield _CheckedClaim(self.db, found) if found else None
        finally:
            if held is not None:
                with self._lock:
                    self._held.discard(held)

    def _still_due(self, subscription_id: UUID, now: datetime, head: int) -> Subscription | None:
        with self.db.reading() as cur:
            cur.run(
                "SELECT * FROM {s} WHERE id = %s AND status = %s AND position < %s "
                "AND (next_attempt_at IS NULL OR next_attempt_at <= %s)",
                [str(subscription_id), ENABLED, head, now],
                s=SUBS,
            )
            row = cur.one()
        return subscription(row) if row else None

    def backlog(self, head: int) -> dict[str, int]:
        with self.db.reading() as cur:
            cur.run("SELECT id, position FROM {s} WHERE status = %s", [ENABLED], s=SUBS)
            return {r["id"]: max(head - int(r["position"]), 0) for r in cur.all()}

    def disabled_count(self) -> int:
        with self.db.reading() as cur:
            cur.run("SELECT count(*) AS n FROM {s} WHERE status = %s", [DISABLED], s=SUBS)
            row = cur.one()
        return int(row["n"]) if row else 0
