"""The analyst SQL in docs/read-models.md runs against real read models."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from psycopg.sql import SQL, Identifier

from bootstrap import build_app, build_views_db, ensure_views
from domain.values import Outcome, Status
from projections.catalog import PROJECTIONS
from projections.db import PostgresDatabase
from projections.runner import Follower
from support.builders import AGENT, Clock, scenario_in
from support.stores import settings_for

DOC = Path(__file__).parents[2] / "docs" / "read-models.md"
QUERIES = re.findall(r"```sql\n(.*?)```", DOC.read_text(), flags=re.S)


def test_the_data_dictionary_has_example_queries() -> None:
    assert len(QUERIES) >= 3


@pytest.mark.postgres
@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.split("\n")[0][:40])
def test_example_query_runs_and_returns_rows(query: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    settings = settings_for("postgres", tmp_path, request)
    app, views = build_app(settings), build_views_db(settings)
    ensure_views(views, settings)
    yesterday = datetime.now(UTC) - timedelta(days=1)  # the examples look back from now()
    for status in (Status.RESOLVED, Status.UNDER_REVIEW, Status.WITHDRAWN):
        scenario_in(app, status, Clock(now=yesterday))
    s = scenario_in(app, Status.UNDER_REVIEW, Clock(now=yesterday))
    app.issue_ruling(s.id, s.clock.ctx(AGENT), Outcome.REFUND_FULL, None, True, "fault")
    for projection in PROJECTIONS.values():
        Follower(app, views, projection).catch_up()
    assert isinstance(views, PostgresDatabase)
    with views.pool.connection() as conn:
        conn.execute(SQL("SET search_path TO {}").format(Identifier(settings.postgres_schema)))
        rows = conn.execute(query).fetchall()  # type: ignore[call-overload]
    assert rows, "the example returns rows for a small realistic data set"
    app.close()
    views.close()
