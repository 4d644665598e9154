"""The analysts' views (a schema of their own on Postgres, `analytics_*` views on
SQLite) and `disputes analytics grant ROLE`: a role that reads those views and
nothing else, still after a rebuild."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from psycopg.sql import SQL, Identifier
from typer.testing import CliRunner

from cli.main import cli
from projections import analytics, penalties
from service.settings import Settings
from support.analytics import populated
from support.builders import AGENT, SELLER
from support.live_server import server_env
from support.stores import RUN_ID, schema_numbers, settings_for

DICTIONARY = Path(__file__).parents[2] / "docs" / "analytics.md"


def documented_columns() -> dict[str, list[str]]:
    """Each view's columns in the order docs/analytics.md's data dictionary lists them."""
    text = DICTIONARY.read_text().split("## The views", 1)[1].split("## Example queries", 1)[0]
    columns: dict[str, list[str]] = {}
    for name, table in re.findall(r"^### `(\w+)`.*?\n((?:\|.*\n)+)", text, flags=re.M):
        rows = table.splitlines()[2:]  # after the header and its rule
        columns[name] = [c.strip() for row in rows for c in row.split("|")[1].split(",")]
    return columns


def cli_env(settings: Settings) -> dict[str, str]:
    return {k: v for k, v in server_env(settings).items() if k.startswith("DISPUTES_")}


@pytest.fixture
def analyst_role(postgres_url: str) -> Iterator[str]:
    role = f"{RUN_ID}_analyst_{next(schema_numbers)}"
    yield role
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
            conn.execute(SQL("DROP OWNED BY {}").format(Identifier(role)))
            conn.execute(SQL("DROP ROLE {}").format(Identifier(role)))


def test_the_sqlite_views_carry_the_read_models_without_message_bodies(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = settings_for("sqlite", tmp_path, request)
    app, views = populated(settings)
    with sqlite3.connect(f"file:{settings.sqlite_path}?mode=ro", uri=True) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'view'")}
        assert {f"analytics_{v}" for v in analytics.view_names()} <= names
        assert conn.execute("SELECT COUNT(*) FROM analytics_disputes").fetchone() == (6,)
        posted = conn.execute("SELECT data FROM analytics_dispute_events WHERE type = 'MessagePosted'").fetchall()
        assert posted and all("a private word" not in r[0] and '"message_id"' in r[0] for r in posted)
        leaked = "SELECT COUNT(*) FROM analytics_audit_events WHERE payload LIKE '%private word%'"
        assert conn.execute(leaked).fetchone() == (0,)
        scored = conn.execute("SELECT score, level FROM analytics_seller_scores WHERE seller_id = ?", [SELLER.id])
        expected = penalties.score(views, SELLER.id, datetime.now(UTC), settings.penalty_window)
        assert scored.fetchone() == (expected.score, expected.level) and expected.score > 0
    refused = CliRunner().invoke(cli, ["analytics", "grant", "someone"], env=cli_env(settings))
    assert refused.exit_code == 2 and "SQLite has no roles to grant" in refused.output and "mode=ro" in refused.output
    app.close()
    views.close()


@pytest.mark.postgres
def test_a_granted_role_reads_the_analytics_views_and_nothing_else_even_after_a_rebuild(
    tmp_path: Path, request: pytest.FixtureRequest, postgres_url: str, analyst_role: str
) -> None:
    settings = settings_for("postgres", tmp_path, request)
    schema, schema_of_views = settings.postgres_schema, settings.analytics_schema_name()
    assert schema_of_views == f"{schema}_analytics"
    app, views = populated(settings)
    env = cli_env(settings)

    granted = CliRunner().invoke(cli, ["analytics", "grant", analyst_role, "--password", "s3cret-pw"], env=env)
    assert granted.exit_code == 0, granted.output
    assert f"{analyst_role}: created, may read the views of schema {schema_of_views}" in granted.output
    again = CliRunner().invoke(cli, ["analytics", "grant", analyst_role], env=env)
    assert again.exit_code == 0 and "created" not in again.output, "granting twice is harmless"

    params = {**settings.postgres_params(), "user": analyst_role, "password": "s3cret-pw"}
    params.pop("schema")
    disputes = SQL("SELECT COUNT(*) FROM {}").format(Identifier(schema_of_views, "disputes"))
    with psycopg.connect(**params, autocommit=True) as conn:  # type: ignore[arg-type]
        assert conn.execute("SHOW default_transaction_read_only").fetchone() == ("on",)
        assert conn.execute(disputes).fetchone() == (6,)
        for view in analytics.view_names():
            conn.execute(SQL("SELECT * FROM {} LIMIT 1").format(Identifier(schema_of_views, view)))
        for forbidden in ("dispute_summaries", "audit_log", "disputes_events"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(SQL("SELECT 1 FROM {} LIMIT 1").format(Identifier(schema, forbidden)))
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute(SQL("CREATE TABLE {} (x int)").format(Identifier(schema_of_views, "mine")))
        conn.execute("SET default_transaction_read_only = off")  # a session may lift it: privileges still hold
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(SQL("CREATE TABLE {} (x int)").format(Identifier(schema_of_views, "mine")))

    rebuilt = CliRunner().invoke(cli, ["projections", "rebuild", "dispute_list"], env=env)
    assert rebuilt.exit_code == 0, rebuilt.output
    with psycopg.connect(**params, autocommit=True) as conn:  # type: ignore[arg-type]
        assert conn.execute(disputes).fetchone() == (6,)
        events = SQL("SELECT data FROM {} WHERE type = 'MessagePosted'").format(
            Identifier(schema_of_views, "dispute_events"))  # fmt: skip
        posted = [r[0] for r in conn.execute(events).fetchall()]
        assert posted and all("body" not in data and "message_id" in data for data in posted)
        scores = SQL("SELECT score, level FROM {} WHERE seller_id = %s").format(
            Identifier(schema_of_views, "seller_scores"))  # fmt: skip
        expected = penalties.score(views, SELLER.id, datetime.now(UTC), settings.penalty_window)
        assert conn.execute(scores, [SELLER.id]).fetchone() == (expected.score, expected.level)
    app.close()
    views.close()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_the_views_have_the_documented_columns_in_order_with_the_claiming_agent_last(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = settings_for(backend, tmp_path, request)
    app, views = populated(settings)
    documented = documented_columns()
    assert set(documented) == set(analytics.view_names())
    assert documented["disputes"][-1] == "assigned_agent", "a column a read model gains is appended to its view"
    assert documented["dispute_facts"][-6:] == [
        *("escalated", "seller_first_response_at", "resolution_seconds", "first_response_seconds"),
        *("opened_week", "opened_month"),
    ]
    found: dict[str, list[str]] = {}
    if backend == "sqlite":
        with sqlite3.connect(f"file:{settings.sqlite_path}?mode=ro", uri=True) as conn:
            for view in documented:
                found[view] = [r[1] for r in conn.execute(f"PRAGMA table_info(analytics_{view})")]
            assigned = conn.execute("SELECT COALESCE(assigned_agent, '-') FROM analytics_disputes")
            agents = sorted(r[0] for r in assigned.fetchall())
    else:
        schema = settings.analytics_schema_name()
        with psycopg.connect(**{k: v for k, v in settings.postgres_params().items() if k != "schema"}) as conn:  # type: ignore[arg-type]
            for view in documented:
                rows = conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
                    "ORDER BY ordinal_position",
                    [schema, view],
                )
                found[view] = [r[0] for r in rows.fetchall()]
            disputes = SQL("SELECT COALESCE(assigned_agent, '-') FROM {}").format(Identifier(schema, "disputes"))
            assigned = conn.execute(disputes)
            agents = sorted(r[0] for r in assigned.fetchall())
    assert found == documented, "docs/analytics.md lists every view's columns, in order"
    assert agents == ["-"] * 5 + [AGENT.id], "the claimed dispute names its agent, the others none"
    app.close()
    views.close()


def test_the_analytics_schema_is_named_after_the_read_models_schema() -> None:
    url = "postgresql://app@db.internal:5432/disputes"
    assert Settings(database_url=url).analytics_schema_name() == "analytics"
    assert Settings(database_url=url, postgres_schema="tenant1").analytics_schema_name() == "tenant1_analytics"
    assert Settings(database_url=url + "?schema=tenant2").analytics_schema_name() == "tenant2_analytics"
    assert Settings(database_url=url, postgres_schema="t", analytics_schema="bi").analytics_schema_name() == "bi"
