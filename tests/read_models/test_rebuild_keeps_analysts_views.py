"""A rebuild re-points the stable views without dropping them: an analyst's
own views on a read model (or on the analytics views) and a role's GRANT on a
read model still work afterwards. A swap that cannot happen fails clearly,
leaves the generation `failed` (never `building`), and a later rebuild works."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.sql import SQL, Identifier
from typer.testing import CliRunner

from cli.main import cli
from projections import base
from projections.catalog import PROJECTIONS
from projections.db import PostgresDatabase, ViewInUse
from projections.deadlines import Deadlines
from projections.dispute_list import DisputeList
from projections.runner import Follower
from service.settings import Settings
from support.analytics import populated
from support.live_server import server_env
from support.stores import RUN_ID, schema_numbers, settings_for

pytestmark = pytest.mark.postgres


def cli_env(settings: Settings) -> dict[str, str]:
    return {k: v for k, v in server_env(settings).items() if k.startswith("DISPUTES_")}


@pytest.fixture
def reader_role(postgres_url: str) -> Iterator[str]:
    """A real role of the cluster, dropped with everything granted to it afterwards."""
    role = f"{RUN_ID}_reader_{next(schema_numbers)}"
    yield role
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
            conn.execute(SQL("DROP OWNED BY {}").format(Identifier(role)))
            conn.execute(SQL("DROP ROLE {}").format(Identifier(role)))


def query(url: str, statement: SQL, role: str | None = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        if role:
            conn.execute(SQL("SET ROLE {}").format(Identifier(role)))
        return conn.execute(statement).fetchall()


def statuses(views: PostgresDatabase, name: str) -> list[str]:
    return [g.status for g in base.generations(views, name)]


def test_a_rebuild_keeps_an_analysts_views_and_a_roles_grant(
    tmp_path: Path, request: pytest.FixtureRequest, postgres_url: str, reader_role: str
) -> None:
    settings = settings_for("postgres", tmp_path, request)
    schema, analytics = settings.postgres_schema, settings.analytics_schema_name()
    app, views = populated(settings)
    assert isinstance(views, PostgresDatabase)
    mine = Identifier(schema, "open_by_seller")
    on_analytics = Identifier(analytics, "refunds_by_seller")
    summaries = Identifier(schema, "dispute_summaries")
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(SQL("CREATE VIEW {} AS SELECT seller_id, COUNT(*) AS n FROM {} GROUP BY seller_id").format(
            mine, summaries))  # fmt: skip
        conn.execute(SQL(
            "CREATE VIEW {} AS SELECT seller_id, SUM(refund_minor) AS refunded FROM {} GROUP BY seller_id"
        ).format(on_analytics, Identifier(analytics, "disputes")))  # fmt: skip
        conn.execute(SQL("CREATE ROLE {} NOLOGIN").format(Identifier(reader_role)))
        conn.execute(SQL("GRANT USAGE ON SCHEMA {} TO {}").format(Identifier(schema), Identifier(reader_role)))
        conn.execute(SQL("GRANT SELECT ON {} TO {}").format(summaries, Identifier(reader_role)))
    count = SQL("SELECT COUNT(*) FROM {}").format(summaries)
    before = {
        "mine": query(postgres_url, SQL("SELECT * FROM {} ORDER BY seller_id").format(mine)),
        "analytics": query(postgres_url, SQL("SELECT * FROM {} ORDER BY seller_id").format(on_analytics)),
        "granted": query(postgres_url, count, role=reader_role),
    }
    assert before["granted"] == [(6,)] and before["mine"] and before["analytics"]

    for name in ("dispute_list", "statistics", "timeline"):
        rebuilt = CliRunner().invoke(cli, ["projections", "rebuild", name], env=cli_env(settings))
        assert rebuilt.exit_code == 0, rebuilt.output
        assert statuses(views, name) == ["active"] and base.active(views, name).number == 2  # type: ignore[union-attr]

    assert query(postgres_url, SQL("SELECT * FROM {} ORDER BY seller_id").format(mine)) == before["mine"]
    assert query(postgres_url, SQL("SELECT * FROM {} ORDER BY seller_id").format(on_analytics)) == before["analytics"]
    assert query(postgres_url, count, role=reader_role) == before["granted"], "the GRANT survived the rebuild"
    app.close()
    views.close()


class WiderDeadlines(Deadlines):
    """A later layout of `deadlines` whose `version` column became bigint: its
    stable view cannot keep its columns, so it must be dropped and created again."""

    @classmethod
    def ddl(cls) -> list[str]:
        return [statement.replace("version :int:", "version :bigint:") for statement in super().ddl()]


def test_a_new_layout_keeps_analysts_views_or_fails_clearly_and_can_be_retried(
    tmp_path: Path,
    request: pytest.FixtureRequest,
    postgres_url: str,
    reader_role: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = settings_for("postgres", tmp_path, request)
    schema = settings.postgres_schema
    app, views = populated(settings)
    assert isinstance(views, PostgresDatabase)
    deadlines, snapshot = Identifier(schema, "deadlines"), Identifier(schema, "due_snapshot")
    per_kind, latest = Identifier(schema, "due_per_kind"), Identifier(schema, "latest_due")
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(SQL("CREATE VIEW {} AS SELECT deadline, COUNT(*) AS n, MAX(version) AS v FROM {} "
                         "GROUP BY deadline").format(per_kind, deadlines))  # fmt: skip
        conn.execute(SQL("CREATE VIEW {} AS SELECT MAX(n) AS most FROM {}").format(latest, per_kind))
        conn.execute(SQL("CREATE MATERIALIZED VIEW {} AS SELECT * FROM {}").format(snapshot, deadlines))
        conn.execute(SQL("CREATE ROLE {} NOLOGIN").format(Identifier(reader_role)))
        conn.execute(SQL("GRANT USAGE ON SCHEMA {} TO {}").format(Identifier(schema), Identifier(reader_role)))
        for granted in (deadlines, latest):
            conn.execute(SQL("GRANT SELECT ON {} TO {}").format(granted, Identifier(reader_role)))
    counted = SQL("SELECT COUNT(*) FROM {}").format(deadlines)
    before = {
        "granted": query(postgres_url, counted, role=reader_role),
        "per_kind": query(postgres_url, SQL("SELECT * FROM {} ORDER BY deadline").format(per_kind)),
        "latest": query(postgres_url, SQL("SELECT * FROM {}").format(latest), role=reader_role),
    }
    assert before["granted"][0][0] > 0 and before["per_kind"] and before["latest"]
    monkeypatch.setitem(PROJECTIONS, "deadlines", WiderDeadlines)

    with caplog.at_level(logging.ERROR, logger="disputes.projections"):
        refused = CliRunner().invoke(cli, ["projections", "rebuild", "deadlines"], env=cli_env(settings))
    assert refused.exit_code == 1, refused.output
    assert f"materialized view(s) {schema}.due_snapshot depend on it" in refused.output
    assert "generation 2 is marked failed; the active generation keeps serving" in refused.output
    assert "could not switch to generation 2" in caplog.text
    assert statuses(views, "deadlines") == ["active", "failed"], "never left building"
    assert query(postgres_url, counted, role=reader_role) == before["granted"], "nothing changed for readers"

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(SQL("DROP MATERIALIZED VIEW {}").format(snapshot))
    retried = CliRunner().invoke(cli, ["projections", "rebuild", "deadlines"], env=cli_env(settings))
    assert retried.exit_code == 0, retried.output
    assert "dropped generation 2, which had failed to switch" in retried.output
    assert statuses(views, "deadlines") == ["active"] and base.active(views, "deadlines").number == 2  # type: ignore[union-attr]
    types = query(postgres_url, SQL(
        "SELECT table_name, data_type FROM information_schema.columns WHERE table_schema = {} "
        "AND table_name IN ('deadlines', 'due_per_kind') AND column_name IN ('version', 'v') ORDER BY 1"
    ).format(schema))  # fmt: skip
    assert types == [("deadlines", "bigint"), ("due_per_kind", "bigint")], "created again on the new layout"
    assert query(postgres_url, counted, role=reader_role) == before["granted"], "the GRANT was applied again"
    assert query(postgres_url, SQL("SELECT * FROM {} ORDER BY deadline").format(per_kind)) == before["per_kind"]
    assert query(postgres_url, SQL("SELECT * FROM {}").format(latest), role=reader_role) == before["latest"]
    app.close()
    views.close()


def test_a_column_added_anywhere_in_a_new_layout_comes_last_in_the_stable_view(
    tmp_path: Path, request: pytest.FixtureRequest, postgres_url: str
) -> None:
    settings = settings_for("postgres", tmp_path, request)
    schema = settings.postgres_schema
    views = PostgresDatabase(settings.postgres_params(), schema)
    with views.transaction() as cur:
        cur.run("CREATE SCHEMA {s}".replace("{s}", schema))
        cur.run("CREATE TABLE {t} (a integer, b text)", t="facts_g1")
        cur.run("INSERT INTO {t} VALUES (1, 'one')", t="facts_g1")
        cur.run("CREATE TABLE {t} (a integer, added boolean, b text)", t="facts_g2")
        cur.run("INSERT INTO {t} VALUES (2, true, 'two')", t="facts_g2")
        cur.point_view("facts", "facts_g1")
        cur.run("CREATE VIEW {mine} AS SELECT b FROM {v}", mine="mine", v="facts")
    with views.transaction() as cur:
        cur.point_view("facts", "facts_g2")
    assert query(postgres_url, SQL("SELECT * FROM {}").format(Identifier(schema, "facts"))) == [(2, "two", True)]
    assert query(postgres_url, SQL("SELECT * FROM {}").format(Identifier(schema, "mine"))) == [("two",)]
    with views.transaction() as cur:
        cur.run("CREATE TABLE {t} (a integer)", t="facts_g3")
    refused = rf"{schema}\.mine .*does not work.*column facts\.b does not exist"
    with pytest.raises(ViewInUse, match=refused), views.transaction() as cur:
        cur.point_view("facts", "facts_g3")
    assert query(postgres_url, SQL("SELECT * FROM {}").format(Identifier(schema, "mine"))) == [("two",)]
    views.close()


class DisputeListWithNote(DisputeList):
    """A later layout of `dispute_list` with a column added in the middle of its table."""

    layout = DisputeList.layout + 1

    @classmethod
    def ddl(cls) -> list[str]:
        return [s.replace("reason text NOT NULL, ", "reason text NOT NULL, note text, ") for s in super().ddl()]


def test_a_new_table_layout_at_start_keeps_an_analysts_view_and_a_roles_grant(
    tmp_path: Path, request: pytest.FixtureRequest, postgres_url: str, reader_role: str
) -> None:
    settings = settings_for("postgres", tmp_path, request)
    schema = settings.postgres_schema
    app, views = populated(settings)
    assert isinstance(views, PostgresDatabase)
    summaries, mine = Identifier(schema, "dispute_summaries"), Identifier(schema, "by_status")
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(SQL("CREATE VIEW {} AS SELECT status, COUNT(*) AS n FROM {} GROUP BY status").format(
            mine, summaries))  # fmt: skip
        conn.execute(SQL("CREATE ROLE {} NOLOGIN").format(Identifier(reader_role)))
        conn.execute(SQL("GRANT USAGE ON SCHEMA {} TO {}").format(Identifier(schema), Identifier(reader_role)))
        conn.execute(SQL("GRANT SELECT ON {} TO {}").format(summaries, Identifier(reader_role)))
    mine_before = query(postgres_url, SQL("SELECT * FROM {} ORDER BY status").format(mine))

    base.ensure_projection(views, DisputeListWithNote)  # what a process of the next version does at start
    Follower(app, views, DisputeListWithNote).catch_up()

    assert [(g.number, g.status) for g in base.generations(views, "dispute_list")] == [(2, "active")]
    columns = query(postgres_url, SQL(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = {} "
        "AND table_name = 'dispute_summaries' ORDER BY ordinal_position").format(schema))  # fmt: skip
    assert columns[-1] == ("note",), "the added column comes last in the stable view"
    assert query(postgres_url, SQL("SELECT * FROM {} ORDER BY status").format(mine)) == mine_before
    assert query(postgres_url, SQL("SELECT COUNT(*) FROM {}").format(summaries), role=reader_role) == [(6,)]
    app.close()
    views.close()
