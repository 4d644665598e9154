"""The read models on Postgres: psycopg.sql identifiers (schema-qualified
tables), timestamptz and jsonb."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row
from psycopg.sql import SQL, Composed, Identifier
from psycopg_pool import ConnectionPool

from projections import pg_views
from projections.database import Cursor, Database, Row, check_name


def _pg_value(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return value


_RENDERED: dict[tuple[str, str, tuple[tuple[str, str], ...]], bytes] = {}


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
        self.cursor.execute(self._rendered(template, names), [_pg_value(p) for p in params])

    def _rendered(self, template: str, names: dict[str, str]) -> bytes:
        # A view runs the same few statements for every event: compose each once.
        key = (self.schema, template, tuple(sorted(names.items())))
        found = _RENDERED.get(key)
        if found is None:
            found = _RENDERED[key] = self.render(template, names).as_bytes(self.cursor)
        return found

    def many(self, template: str, rows: Sequence[Sequence[Any]], **names: str) -> None:
        self.cursor.executemany(self.render(template, names), [[_pg_value(p) for p in r] for r in rows])

    def all(self) -> list[Row]:
        return list(self.cursor.fetchall())

    def point_view(self, view: str, table: str) -> None:
        pg_views.point_view(self.cursor, self.schema, check_name(view), check_name(table))


class PostgresDatabase(Database):
    dialect = "postgres"
    TYPES = {
        "time": "timestamptz",
        "json": "jsonb",
        "bigint": "bigint",
        "text": "text",
        "int": "integer",
        "bool": "boolean",
        "float": "double precision",
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
            # Waiting for a connection is bounded like connecting: a database that is
            # down fails a read in seconds (503 at the API), never hangs it.
            timeout=float(self.conninfo.get("connect_timeout") or 30),
        )

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        # Pipeline mode: writes whose results nobody reads (a view's inserts and
        # upserts) go out without waiting for each answer; a read (`one`, `all`)
        # waits for everything before it. One round trip per read, not per row.
        with self.pool.connection() as conn, conn.pipeline(), conn.transaction(), conn.cursor() as cursor:
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
