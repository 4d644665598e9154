"""Every Postgres connection honours the parameters of DISPUTES_DATABASE_URL
(parsed by libpq's rules): the event store's pool, the read models' pool and
the LISTEN connection all report the URL's application_name, and an sslmode
the server cannot meet is refused rather than dropped."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest

from bootstrap import build_app, build_views_db, new_waiter
from service.settings import Settings
from support.stores import settings_for

pytestmark = [pytest.mark.postgres]


def with_query(url: str, query: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{query}"


def application_name(cursor_owner: psycopg.Connection) -> str:  # type: ignore[type-arg]
    row = cursor_owner.execute("SELECT current_setting('application_name') AS name").fetchone()
    assert row is not None
    return str(row["name"] if isinstance(row, dict) else row[0])


def test_the_urls_parameters_reach_every_connection(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    base = settings_for("postgres", tmp_path, request)
    settings = base.model_copy(
        update={"database_url": with_query(base.database_url, "application_name=disputes-conninfo-test")}
    )
    app = build_app(settings)
    views = build_views_db(settings)
    try:
        with app.recorder.datastore.get_connection() as conn:  # type: ignore[attr-defined]
            assert application_name(conn) == "disputes-conninfo-test"
        with views.pool.connection() as conn:  # type: ignore[attr-defined]
            assert application_name(conn) == "disputes-conninfo-test"
        waiter = new_waiter(settings, app, threading.Event(), in_process=False)
        try:
            assert application_name(waiter.conn) == "disputes-conninfo-test"  # type: ignore[attr-defined]
        finally:
            waiter.close()
    finally:
        views.close()
        app.close()


def test_an_sslmode_the_server_cannot_meet_is_refused_not_ignored(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        ssl_on = conn.execute("SHOW ssl").fetchone() == ("on",)
    if ssl_on:
        pytest.skip("this server offers SSL, so sslmode=require would succeed")
    settings = Settings(database_url=with_query(postgres_url, "sslmode=require"), env="test", jwt_secret="x" * 32)
    with pytest.raises(psycopg.OperationalError, match="SSL"):
        build_app(settings)
