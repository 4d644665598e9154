"""The read models on SQLite: quoted names, `?` parameters, times as RFC 3339
text and JSON as text."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from domain.chain import canonical_time
from projections.database import Cursor, Database, Row, check_name


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

    def point_view(self, view: str, table: str) -> None:
        # SQLite resolves a view's references when it is queried, not when it is
        # created: views built on this one keep working; it has no grants.
        self.run("DROP VIEW IF EXISTS {view}", view=view)
        self.run("CREATE VIEW {view} AS SELECT * FROM {table}", view=view, table=table)


class SQLiteDatabase(Database):
    dialect = "sqlite"
    TYPES = {
        "time": "TEXT",
        "json": "TEXT",
        "bigint": "INTEGER",
        "text": "TEXT",
        "int": "INTEGER",
        "bool": "INTEGER",
        "float": "REAL",
    }

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
