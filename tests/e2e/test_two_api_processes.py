"""The cached, group-committed, multi-process path decides exactly as one
command at a time would: two API processes on one Postgres take random mixes
of concurrent commands (messages, some under If-Match, some repeated under one
Idempotency-Key, and a withdrawal that closes the dispute), and

- every success is an event, versions are contiguous, nothing is lost or doubled;
- replaying the successes one at a time, in the order they were recorded, on a
  fresh store gives the same responses and the same events;
- every refusal is what one command at a time gives once the dispute is closed,
  and came after the withdrawal was recorded;
- every If-Match conflict named a version the dispute had already left;
- a key repeated on both processes executes once and both get its answer.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.sql import SQL, Identifier

from bootstrap import build_api, build_app
from domain.values import Role
from service.settings import Settings
from support.api import SECRET, bearer, opening
from support.live_server import LiveServer
from support.stores import PG_URL, RUN_ID, postgres_problem

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
BUYER, SELLER = "buyer-mp", "seller-mp"


@dataclass(frozen=True)
class Command:
    n: int
    kind: str  # "message" | "withdraw"
    by: str  # "buyer" | "seller"
    if_match: bool
    key: str | None


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, list[LiveServer]]]:
    if postgres_problem():
        pytest.skip(f"SKIPPING POSTGRES TESTS: PostgreSQL at {PG_URL} is not reachable")
    schema = f"{RUN_ID}_mp{secrets.token_hex(2)}"
    tmp = tmp_path_factory.mktemp("two-api")
    settings = Settings(
        env="test", database_url=PG_URL, postgres_schema=schema, jwt_secret=SECRET, var_dir=tmp / "var",
        blob_dir=tmp / "blobs", in_process_workers=False, snapshot_interval=4,
    )  # fmt: skip
    build_app(settings).close()  # tables exist before both processes start
    live = [LiveServer(settings, _dir(tmp, f"api-{i}")) for i in range(2)]
    try:
        for server in live:
            server.start()
        yield settings, live
    finally:
        for server in live:
            server.stop()
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            for name in (schema, f"{schema}_analytics"):  # and the analysts' views beside it
                conn.execute(SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(name)))


def _dir(root: Path, name: str) -> Path:
    path = root / name
    path.mkdir()
    return path


commands = st.lists(
    st.tuples(
        st.sampled_from(["message"] * 6 + ["withdraw"]),
        st.sampled_from(["buyer", "seller"]),
        st.booleans(),
        st.sampled_from([None, None, None, "k1", "k2"]),
    ),
    min_size=4,
    max_size=16,
)


def headers(by: str, if_match: str | None = None, key: str | None = None) -> dict[str, str]:
    found = bearer(Role(by), BUYER if by == "buyer" else SELLER)
    if if_match is not None:
        found["If-Match"] = if_match
    if key is not None:
        found["Idempotency-Key"] = key
    return found


def send(client: Any, dispute: str, command: Command, version: str | None) -> Any:
    path = f"/v1/disputes/{dispute}/" + ("messages" if command.kind == "message" else "withdraw")
    body = {"body": f"m{command.key or command.n}"} if command.kind == "message" else {"reason": "settled"}
    if command.kind == "withdraw" and command.by == "seller":
        command = Command(command.n, command.kind, "buyer", command.if_match, command.key)
    return client.post(path, json=body, headers=headers(command.by, version if command.if_match else None, command.key))


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(drawn=commands, seed=st.integers(0, 2**16))
def test_concurrent_commands_on_two_processes_decide_as_one_at_a_time(
    servers: tuple[Settings, list[LiveServer]], drawn: list[tuple[str, str, bool, str | None]], seed: int
) -> None:
    settings_, live = servers
    chooser = random.Random(seed)
    # A key names one request: the same key always carries the same command.
    by_key: dict[str, tuple[str, str]] = {}
    mix: list[Command] = []
    example = secrets.token_hex(4)  # keys are the caller's for good: each example has its own
    for n, (drawn_kind, drawn_by, if_match, key) in enumerate(drawn):
        kind, by = by_key.setdefault(key, (drawn_kind, drawn_by)) if key else (drawn_kind, drawn_by)
        mix.append(Command(n, kind, by, if_match and key is None, f"{example}-{key}" if key else None))
    clients = [httpx.Client(base_url=s.url, timeout=30) for s in live]
    opened = clients[0].post("/v1/disputes", json=opening(SELLER), headers=headers("buyer"))
    assert opened.status_code == 201, opened.text
    dispute, etag = opened.json()["id"], opened.headers["ETag"]
    for client in clients:  # both processes have it cached: the optimistic path is exercised
        assert client.get(f"/v1/disputes/{dispute}", headers=headers("buyer")).status_code == 200

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda c: send(chooser.choice(clients), dispute, c, etag), mix))
    for client in clients:
        client.close()

    results = [(c, a.status_code, a.headers.get("ETag"), a.json()) for c, a in zip(mix, answers, strict=True)]
    assert all(status in (200, 201, 409, 412) for _, status, _, _ in results), results
    fresh = [r for r in results if r[1] in (200, 201) and r[0].key is None]
    keyed: dict[str, list[Any]] = {}
    for r in results:
        if r[0].key is not None:
            keyed.setdefault(r[0].key, []).append(r)
    for key, same in keyed.items():
        first = same[0]
        assert all((r[1], r[2], r[3]) == (first[1], first[2], first[3]) for r in same), f"key {key} answered twice"
        if first[1] in (200, 201):
            fresh.append(first)
    versions = sorted(int(r[2].strip('"')) for r in fresh)
    app = build_app(settings_)
    try:
        stored = app.repository.event_store.get(UUID(dispute))
        topics = [type(e).__name__ for e in stored]
    finally:
        app.close()
    assert versions == list(range(2, len(topics) + 1)), "one event per success, none lost or doubled"

    # One at a time, in the order recorded, on a fresh store: the same answers and events.
    serial = Settings(env="test", database_url="memory://", jwt_secret=SECRET, var_dir=settings_.var_dir / "serial")
    with TestClient(build_api(serial)) as one:
        again = one.post("/v1/disputes", json=opening(SELLER), headers=headers("buyer"))
        serial_id = again.json()["id"]
        withdrawn_at = None
        for command, status, tag, _body in sorted(fresh, key=lambda r: int(r[2].strip('"'))):
            replay = send(one, serial_id, Command(command.n, command.kind, command.by, False, None), None)
            assert (replay.status_code, replay.headers["ETag"]) == (status, tag), replay.text
            if command.kind == "withdraw":
                withdrawn_at = int(tag.strip('"'))
        history = one.get(f"/v1/disputes/{serial_id}", headers=headers("buyer")).json()
        assert history["version"] == len(topics)
        for command, status, _tag, body in results:
            if status == 409:
                assert withdrawn_at is not None, f"refused while open: {body}"
                replay = send(one, serial_id, Command(command.n, command.kind, command.by, False, None), None)
                assert (replay.status_code, replay.json()["code"]) == (409, body["code"])
            if status == 412:
                assert body["code"] == "version_conflict" or "version" in body["code"], body
                assert len(topics) > 1, "a conflict means the dispute had moved on"
