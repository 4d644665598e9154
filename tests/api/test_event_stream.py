"""GET /v1/events/stream: server-sent events, heartbeats, a bounded life, Last-Event-ID resume."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bootstrap import build_api
from domain.values import Role
from service.settings import Settings
from support.api import SECRET, Caller
from support.feed import ROLES, caller_of, callers, feed, two_disputes
from support.stores import settings_for


@pytest.fixture
def client(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[TestClient]:
    settings: Settings = settings_for(
        backend, tmp_path, request, jwt_secret=SECRET, stream_heartbeat="PT0.2S", stream_max_duration="PT1S"
    )
    with TestClient(build_api(settings)) as test_client:
        yield test_client


def read_stream(caller: Caller, query: str = "", **headers: str) -> tuple[list[dict[str, Any]], list[str], str]:
    """(the events, the comment lines, the content type) of one whole stream (it ends after PT1S)."""
    response = caller.get(f"/v1/events/stream{query}", **headers)
    assert response.status_code == 200, response.text
    events, comments = [], []
    for block in response.text.split("\n\n"):
        lines = [line for line in block.split("\n") if line]
        comments += [line for line in lines if line.startswith(":")]
        fields = dict(line.split(": ", 1) for line in lines if not line.startswith(":"))
        if fields:
            item = json.loads(fields["data"])
            assert fields["id"] == str(item["position"]) and fields["event"] == item["type"]
            events.append(item)
    return events, comments, response.headers["content-type"]


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
def test_the_stream_carries_what_the_feed_reads(client: TestClient, role: Role) -> None:
    c = callers(client)
    two_disputes(c)
    me = caller_of(role, c)
    events, comments, content_type = read_stream(me)
    assert content_type.startswith("text/event-stream")
    assert events == feed(me)
    assert ": heartbeat" in comments  # a one-second stream with a 0.2 s heartbeat


def test_last_event_id_resumes_and_wins_over_after(client: TestClient) -> None:
    c = callers(client)
    two_disputes(c)
    agent = c["agent"]
    everything = feed(agent)
    resume = everything[4]["position"]
    events, _, _ = read_stream(agent, "?after=0", last_event_id=str(resume))
    assert events == everything[5:]
    events, _, _ = read_stream(agent, f"?after={resume}")
    assert events == everything[5:]
    types, _, _ = read_stream(agent, "?type=MessagePosted")
    assert [e["type"] for e in types] == ["MessagePosted", "MessagePosted"]
    assert agent.get("/v1/events/stream", last_event_id="nope").status_code == 422
