"""Rate limits (issue 11, item 7): per-caller budgets for commands (burst, then
a sustained rate) and reads, 429 `rate_limited` with `Retry-After` and the
IETF RateLimit fields, in memory or shared through Redis by several API
processes; and at most N messages per dispute (409 `message_limit`)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from bootstrap import build_api
from domain.values import Role
from service.settings import Settings
from support.api import Caller, Parties, opening
from support.stores import settings_for

COMMANDS = {"command_burst": 4, "command_rate": 1}  # 4 commands in any 4 s


def command(caller: Caller) -> Any:
    """A command that is refused (404) after its budget was charged."""
    return caller.post(f"/v1/disputes/{uuid.uuid4()}/messages", {"body": "hello"})


def assert_rate_limited(response: Any, budget: str) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["RateLimit-Policy"].startswith(f'"{budget}";q=')
    assert f'"{budget}";r=0;t=' in response.headers["RateLimit"]


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(build_api(settings.model_copy(update=COMMANDS | {"read_rate": 5}))) as c:
        yield c


def test_commands_past_the_burst_are_429_with_retry_after_and_ratelimit_fields(client: TestClient) -> None:
    buyer = Caller(client, Role.BUYER, "buyer-1")
    answers = [command(buyer) for _ in range(4)]
    assert [r.status_code for r in answers] == [404] * 4
    assert [r.headers["RateLimit"].split(";t=")[0] for r in answers] == [f'"commands";r={n}' for n in (3, 2, 1, 0)]
    assert answers[0].headers["RateLimit-Policy"] == '"commands";q=4;w=4'
    assert_rate_limited(command(buyer), "commands")
    assert command(Caller(client, Role.BUYER, "buyer-2")).status_code == 404, "each caller has its own budget"


def test_reads_have_their_own_budget(client: TestClient) -> None:
    agent = Caller(client, Role.AGENT, "agent-1")
    for _attempt in range(3):  # a window is 1 s: try again if this machine was too slow for it
        started = time.monotonic()
        answers = [agent.get("/v1/disputes") for _ in range(6)]
        if time.monotonic() - started < 0.9:
            break
        time.sleep(1.1)
    assert [r.status_code for r in answers[:5]] == [200] * 5
    assert answers[0].headers["RateLimit-Policy"] == '"reads";q=5;w=1'
    assert_rate_limited(answers[5], "reads")
    assert command(agent).status_code == 404, "reads do not spend the command budget"


def test_two_api_processes_share_one_budget_through_redis(
    settings: Settings, redis_url: str, rate_limit_prefix: str
) -> None:
    shared = COMMANDS | {"rate_limit_storage": redis_url, "rate_limit_prefix": rate_limit_prefix}
    one = build_api(settings.model_copy(update=shared))
    two = build_api(settings.model_copy(update=shared | {"var_dir": settings.var_dir / "two"}))
    with TestClient(one) as a, TestClient(two) as b:
        on_a, on_b = Caller(a, Role.BUYER, "buyer-1"), Caller(b, Role.BUYER, "buyer-1")
        assert [command(on_a).status_code, command(on_b).status_code] == [404, 404]
        assert [command(on_a).status_code, command(on_b).status_code] == [404, 404]
        assert_rate_limited(command(on_b), "commands")
        assert_rate_limited(command(on_a), "commands")
    assert redis.Redis.from_url(redis_url).keys(f"*{rate_limit_prefix}*"), "the budget lived in Redis"


def test_a_dispute_holds_at_most_the_configured_messages_then_409_message_limit(settings: Settings) -> None:
    with TestClient(build_api(settings.model_copy(update={"max_messages_per_dispute": 2}))) as client:
        parties = Parties.on(client)
        d = parties.open()
        path = f"/v1/disputes/{d['id']}/messages"
        assert [parties.buyer.post(path, {"body": f"m{i}"}).status_code for i in range(2)] == [201, 201]
        refused = parties.seller.post(path, {"body": "one too many"})
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "message_limit"
        assert len(parties.read(d["id"])["messages"]) == 2
        operation = client.get("/openapi.json").json()["paths"]["/v1/disputes/{dispute_id}/messages"]["post"]
        assert "409" in operation["responses"]


def test_an_unreachable_rate_limit_storage_is_503_with_retry_after_not_a_500(
    tmp_path: Path, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing listens on port 1: the shared counters cannot be reached, so the
    request is refused for now (and logged), never let through uncounted."""
    settings = settings_for("sqlite", tmp_path, request, rate_limit_storage="redis://127.0.0.1:1/0")
    with TestClient(build_api(settings), raise_server_exceptions=False) as c:
        parties = Parties.on(c)
        response = parties.buyer.get("/v1/disputes")
        assert response.status_code == 503, response.text
        assert response.json()["code"] == "unavailable"
        assert response.headers["Retry-After"] == "1"
        assert parties.buyer.post("/v1/disputes", opening("seller-1")).status_code == 503
    assert "rate-limit storage cannot be reached" in caplog.text
