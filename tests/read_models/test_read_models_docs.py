"""The analyst SQL in docs/read-models.md and docs/analytics.md runs against real
read models: every Postgres example (```sql) is followed by its SQLite version
(```sqlite), and both return rows."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from psycopg.sql import SQL, Identifier

from projections.db import PostgresDatabase
from support.analytics import populated
from support.stores import settings_for

DOCS = Path(__file__).parents[2] / "docs"
FENCE = re.compile(r"```(sql|sqlite)\n(.*?)```", flags=re.S)


def examples(doc: str) -> list[tuple[str, str]]:
    """(Postgres, SQLite) pairs, in the order the document shows them."""
    blocks = FENCE.findall((DOCS / doc).read_text())
    dialects = [dialect for dialect, _ in blocks]
    assert dialects == ["sql", "sqlite"] * (len(blocks) // 2), f"{doc}: each ```sql block is followed by ```sqlite"
    return [(blocks[i][1], blocks[i + 1][1]) for i in range(0, len(blocks), 2)]


QUERIES = [
    pytest.param(doc, dialect, query, id=f"{doc}-{n}-{dialect}")
    for doc in ("read-models.md", "analytics.md")
    for n, pair in enumerate(examples(doc), start=1)
    for dialect, query in zip(("postgres", "sqlite"), pair, strict=True)
]


def test_the_docs_have_example_queries_in_both_dialects() -> None:
    assert len(examples("read-models.md")) >= 3
    assert len(examples("analytics.md")) >= 5
    for postgres, sqlite in examples("analytics.md"):
        assert "analytics." in postgres and "analytics_" in sqlite, "the analytics examples read the analytics views"


@pytest.mark.parametrize(
    ("doc", "dialect", "query"),
    [p if p.values[1] == "sqlite" else pytest.param(*p.values, id=p.id, marks=pytest.mark.postgres) for p in QUERIES],
)
def test_example_query_runs_and_returns_rows(
    doc: str, dialect: str, query: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = settings_for(dialect, tmp_path, request)
    app, views = populated(settings)
    if dialect == "sqlite":
        with sqlite3.connect(f"file:{settings.sqlite_path}?mode=ro", uri=True) as conn:
            rows = conn.execute(query).fetchall()
    else:
        assert isinstance(views, PostgresDatabase)
        # The docs name the schema `analytics`; each test has its own (Settings.analytics_schema_name).
        query = re.sub(r"\banalytics\.", f'"{settings.analytics_schema_name()}".', query)
        with views.pool.connection() as conn:
            conn.execute(SQL("SET search_path TO {}").format(Identifier(settings.postgres_schema)))
            rows = conn.execute(query).fetchall()  # type: ignore[call-overload]
    assert rows, "the example returns rows for a small realistic data set"
    app.close()
    views.close()
