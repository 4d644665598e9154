"""One small database interface for the read models, on SQLite or Postgres.

SQL is written once with `%s` parameters and `{name}` identifiers; each
dialect renders it (psycopg.sql identifiers on Postgres, quoted names and
`?` on SQLite) and adapts values (times as RFC 3339 text and JSON as text
on SQLite; timestamptz and jsonb on Postgres).
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row
from psycopg.sql import SQL, Composed, Identifier
from psycopg_pool import ConnectionPool

from domain.chain import canonical_time

Row = dict[str, Any]
NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def check_name(name: str) -> str:
    if not NAME.match(name) or len(name) > 63:
        raise ValueError(f"not a safe SQL identifier: {name!r}")
    return name


class Cursor(ABC):
    """A cursor inside one transaction, speaking the shared SQL templates."""

    @abstractmethod
    def run(self, template: str, params: Sequence[Any] = (), **names: str) -> None: ...

    @abstractmethod
    def many(self, template: str, rows: Sequence[Sequence[Any]], **names: str) -> None: ...

    @abstractmethod
    def all(self) -> list[Row]: ...

    def one(self) -> Row | None:
        rows = self.all()
        return rows[0] if rows else None


class Database(ABC):
    dialect: str

    @abstractmethod
    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        """A read-write transaction, committed on success, rolled back on error."""

    @abstractmethod
    @contextmanager
    def reading(self) -> Iterator[Cursor]:
        """A read-only unit of work."""

    @abstractmethod
    def type(self, logical: str) -> str:
        """The column type for a logical type: time, json, bigint, text, int, bool."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def stream(self, template: str, params: Sequence[Any] = (), batch: int = 1000, **names: str) -> Iterator[Row]:
        """Rows of a query fetched in batches (server-side on Postgres): bounded memory."""


# --------------------------------------------------------------------- SQLite
def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return canonical_time(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return value


def _sqlite_sql(template: str, names: dict[str, str]) -> str:
    quoted = {k: '"' + check_name(v) + '"' for k, v in names.items()}
    return template.format(**quoted).replace("%s", "?")


class _SQLiteCursor(Cursor):
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self.cursor = cursor

    def run(self, template: str, params: Sequence[Any] = (), **names: str) -> None:
        self.cursor.execute(_sqlite_sql(template, names), [_sqlite_value(p) for p in params])

    def many(self, template: str, rows: Sequence[Sequence[Any]], **names: str) -> None:
        self.cursor.executemany(_sqlite_sql(template, names), [[_sqlite_value(p) for p in r] for r in rows])

    def all(self) -> list[Row]:
        return [dict(r) for r in self.cursor.fetchall()]


class SQLiteDatabase(Database):
    dialect = "sqlite"
    TYPES = {"time": "TEXT", "json": "TEXT", "bigint": "INTEGER", "text": "TEXT", "int": "INTEGER", "bool": "INTEGER"}

    def __init__(self, path: str, *, ephemeral: bool = False) -> None:
        self.path = path
        self.ephemeral = ephemeral  # delete the file on close (views of the in-memory store)
        self._local = threading.local()
        self._write_lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        conn = self._connection()
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield _SQLiteCursor(conn.cursor())
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[Cursor]:
        conn = self._connection()
        conn.execute("BEGIN")
        try:
            yield _SQLiteCursor(conn.cursor())
        finally:
            conn.execute("ROLLBACK")

    def type(self, logical: str) -> str:
        return self.TYPES[logical]

    def stream(self, template: str, params: Sequence[Any] = (), batch: int = 1000, **names: str) -> Iterator[Row]:
        conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        try:
            cursor = conn.execute(_sqlite_sql(template, names), [_sqlite_value(p) for p in params])
            while rows := cursor.fetchmany(batch):
                for r in rows:
                    yield dict(r)
        finally:
            conn.close()

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        if self.ephemeral:
            for suffix in ("", "-wal", "-shm"):
                Path(self.path + suffix).unlink(missing_ok=True)


# ------------------------------------------------------------------- Postgres
def _pg_value(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return value


class _PostgresCursor(Cursor):
    def __init__(self, cursor: psycopg.Cursor[Row], schema: str) -> None:
        self.cursor = cursor
        self.schema = schema

    def render(self, template: str, names: dict[str, str]) -> Composed:
        """Tables are schema-qualified; index names (`ix_...`) cannot be."""
        return SQL(template).format(
            **{
                k: Identifier(check_name(v)) if k.startswith("ix_") else Identifier(self.schema, check_name(v))
                for k, v in names.items()
            }
        )

    def run(self, template: str, params: Sequence[Any] = (), **names: str) -> None:
        self.cursor.execute(self.render(template, names), [_pg_value(p) for p in params])

    def many(self, template: str, rows: Sequence[Sequence[Any]], **names: str) -> None:
        self.cursor.executemany(self.render(template, names), [[_pg_value(p) for p in r] for r in rows])

    def all(self) -> list[Row]:
        return list(self.cursor.fetchall())


class PostgresDatabase(Database):
    dialect = "postgres"
    TYPES = {
        "time": "timestamptz",
        "json": "jsonb",
        "bigint": "bigint",
        "text": "text",
        "int": "integer",
        "bool": "boolean",
    }

    def __init__(self, conninfo: dict[str, str], schema: str, pool_size: int = 4) -> None:
        self.schema = check_name(schema) if schema != "public" else schema
        self.conninfo = {k: v for k, v in conninfo.items() if k != "schema"}
        self.pool: ConnectionPool[psycopg.Connection[Row]] = ConnectionPool(
            kwargs={**self.conninfo, "row_factory": dict_row},
            min_size=1,
            max_size=pool_size,
            open=True,
            name=f"views-{schema}",
        )

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            yield _PostgresCursor(cursor, self.schema)

    @contextmanager
    def reading(self) -> Iterator[Cursor]:
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            cursor.execute("SET TRANSACTION READ ONLY")
            yield _PostgresCursor(cursor, self.schema)

    def type(self, logical: str) -> str:
        return self.TYPES[logical]

    def stream(self, template: str, params: Sequence[Any] = (), batch: int = 1000, **names: str) -> Iterator[Row]:
        # A dedicated connection: a long export must not hold one of the pool's.
        with psycopg.connect(make_conninfo(**self.conninfo), row_factory=dict_row) as conn, conn.transaction():
            helper = _PostgresCursor(conn.cursor(), self.schema)
            with conn.cursor(name="stream", row_factory=dict_row) as cursor:
                cursor.itersize = batch
                cursor.execute(helper.render(template, names), [_pg_value(p) for p in params])
                yield from cursor

    def close(self) -> None:
        self.pool.close()


def as_time(value: Any) -> datetime | None:
    """A time read back from either dialect."""
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def as_required_time(value: Any) -> datetime:
    parsed = as_time(value)
    if parsed is None:
        raise ValueError("a required time column is NULL")
    return parsed


def as_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value
