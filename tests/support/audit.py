"""Helpers for the audit tests: HTTP clients, the CLI, and raw SQL on the event table."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from uuid import UUID

import psycopg
from fastapi.testclient import TestClient
from psycopg.sql import SQL, Identifier
from typer.testing import CliRunner, Result

from api.auth import mint
from bootstrap import Services, build_api, build_services
from cli.main import cli
from domain.application import DisputeApp
from domain.values import Actor, Deadline, EvidenceKind, Outcome, Remedy, ReturnCondition, Role
from service.settings import Settings
from support.builders import AGENT, BUYER, SELLER, T0, Scenario, fake_file, usd

AUDITOR_ID = "aud-1"


@contextmanager
def client(settings: Settings) -> Iterator[TestClient]:
    """An API client whose clock stands still at T0, so no deadline of the
    scenarios (which start at T0) ever falls due under an in-process scheduler."""
    assert settings.jwt_secret is not None
    svc = build_services(settings, settings.jwt_secret)
    svc.clock = lambda: T0
    with TestClient(build_api(settings, svc)) as c:
        yield c


def services(c: TestClient) -> Services:
    found: Services = c.app.state.services  # type: ignore[attr-defined]
    return found


def headers(settings: Settings, role: Role = Role.AUDITOR, sub: str = AUDITOR_ID) -> dict[str, str]:
    assert settings.jwt_secret is not None
    return {"Authorization": f"Bearer {mint(settings.jwt_secret, role, sub)}"}


def as_actor(settings: Settings, actor: Actor) -> dict[str, str]:
    return headers(settings, actor.role, actor.id)


def run_cli(settings: Settings, *args: str) -> Result:
    env = {"DISPUTES_DATABASE_URL": settings.database_url, "DISPUTES_ENV": "test", "DISPUTES_SNAPSHOT_INTERVAL": "4"}
    if settings.backend == "postgres":
        env["DISPUTES_POSTGRES_SCHEMA"] = settings.postgres_params()["schema"]
    if settings.cipher_key:
        env["DISPUTES_CIPHER_KEY"] = settings.cipher_key
    env["DISPUTES_VAR_DIR"] = str(settings.var_dir)
    return CliRunner().invoke(cli, ["audit", *args], env=env)


def long_dispute(app: DisputeApp, after_each: Any = None) -> Scenario:
    """Every kind of step a dispute can take, calling `after_each(scenario)` after each command."""
    s = Scenario(app)
    sha, size = fake_file()
    steps = [
        lambda: s.open(Remedy.RETURN_AND_REFUND),
        lambda: app.post_message(s.id, s.clock.ctx(BUYER), "it came in pieces"),
        lambda: app.submit_evidence(s.id, s.clock.ctx(BUYER, key="ev-1"), kind=EvidenceKind.PHOTO,
                                    description="the box", sha256=sha, size=size, media_type="image/png",
                                    blob_key=sha),
        lambda: s.seller_counters(800),
        lambda: app.reject_offer(s.id, s.clock.ctx(BUYER), s.pending_offer_id(), "too little"),
        lambda: app.propose_offer(s.id, s.clock.ctx(SELLER), Remedy.RETURN_AND_REFUND, usd(1500), "send it back"),
        lambda: app.accept_offer(s.id, s.clock.ctx(BUYER), s.pending_offer_id(), "fine"),
        s.buyer_ships_return,
        lambda: app.confirm_return_receipt(s.id, s.clock.ctx(SELLER), ReturnCondition.RECEIVED_DAMAGED, "smashed"),
        # The seller's photos come before the agent's request, which the ruling then cancels: an upload
        # answering a request would add an event, and the audit tests count this story's 14.
        lambda: app.submit_evidence(s.id, s.clock.ctx(SELLER), kind=EvidenceKind.PHOTO, description="packed well",
                                    sha256=sha, size=size, media_type="image/png", blob_key=sha),
        lambda: app.request_evidence(s.id, s.clock.ctx(AGENT), Role.SELLER, "packing photos?", timedelta(days=2)),
        lambda: app.extend_deadline(s.id, s.clock.ctx(AGENT), Deadline.REVIEW_SLA, timedelta(days=1), "holiday"),
        lambda: app.post_message(s.id, s.clock.ctx(AGENT), "reviewing", Role.BUYER),
        lambda: app.issue_ruling(s.id, s.clock.ctx(AGENT), Outcome.REFUND_PARTIAL, usd(1000), True, "both partly"),
    ]  # fmt: skip
    for step in steps:
        step()
        if after_each is not None:
            after_each(s)
    return s


# ------------------------------------------------------------ raw event table
def sql_events(settings: Settings, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    """Run `statement` (`{events}` and `{snapshots}` name the store's tables; `%s` parameters) on the store."""
    if settings.backend == "sqlite":
        with sqlite3.connect(settings.sqlite_path) as conn:
            sql = statement.format(events="stored_events", snapshots="stored_snapshots")
            return conn.execute(sql.replace("%s", "?"), params).fetchall()
    pg = settings.postgres_params()
    tables = {
        "events": Identifier(pg["schema"], "disputes_events"),
        "snapshots": Identifier(pg["schema"], "disputes_snapshots"),
    }
    query = SQL(statement).format(**tables)  # type: ignore[arg-type]
    with psycopg.connect(settings.database_url, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall() if cur.description else []


def stored_id(settings: Settings, dispute_id: UUID) -> Any:
    return dispute_id.hex if settings.backend == "sqlite" else dispute_id


def stored_state(settings: Settings, dispute_id: UUID, version: int) -> bytes:
    rows = sql_events(
        settings,
        "SELECT state FROM {events} WHERE originator_id = %s AND originator_version = %s",
        stored_id(settings, dispute_id),
        version,
    )
    return bytes(rows[0][0])


def overwrite_state(settings: Settings, dispute_id: UUID, version: int, state: bytes) -> None:
    sql_events(
        settings,
        "UPDATE {events} SET state = %s WHERE originator_id = %s AND originator_version = %s",
        state,
        stored_id(settings, dispute_id),
        version,
    )


def delete_event(settings: Settings, dispute_id: UUID, version: int) -> None:
    sql_events(
        settings,
        "DELETE FROM {events} WHERE originator_id = %s AND originator_version = %s",
        stored_id(settings, dispute_id),
        version,
    )
