"""One small database interface for the read models, on SQLite or Postgres
(the interface in projections.database, a dialect in projections.sqlite_db
and projections.postgres_db; import them all from here).

SQL is written once with `%s` parameters and `{name}` identifiers; each
dialect renders it (psycopg.sql identifiers on Postgres, quoted names and
`?` on SQLite) and adapts values (times as RFC 3339 text and JSON as text
on SQLite; timestamptz and jsonb on Postgres).
"""

from projections.database import (
    Cursor,
    Database,
    Row,
    SwitchFailed,
    ViewInUse,
    as_json,
    as_required_time,
    as_time,
    check_name,
)
from projections.postgres_db import PostgresDatabase
from projections.sqlite_db import SQLiteDatabase

__all__ = [
    "Cursor",
    "Database",
    "PostgresDatabase",
    "Row",
    "SQLiteDatabase",
    "SwitchFailed",
    "ViewInUse",
    "as_json",
    "as_required_time",
    "as_time",
    "check_name",
]
