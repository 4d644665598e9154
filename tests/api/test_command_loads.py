"""A command reads its dispute from the store at most once: to decide. Its
answer is rendered from the aggregate in hand, not from a second load.

The aggregate cache is off here, so every load really reaches the recorder;
the recorder's event selects for the dispute are counted around one request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from bootstrap import build_api
from support.api import Parties, ok
from support.stores import settings_for


@contextmanager
def counting_selects(recorder: Any, dispute_id: str) -> Iterator[Callable[[], int]]:
    """Count `recorder.select_events` calls that read `dispute_id`'s events."""
    calls: list[UUID] = []
    original = recorder.select_events

    def select_events(originator_id: UUID, *args: Any, **kwargs: Any) -> Any:
        if str(originator_id) == dispute_id:
            calls.append(originator_id)
        return original(originator_id, *args, **kwargs)

    recorder.select_events = select_events
    try:
        yield lambda: len(calls)
    finally:
        del recorder.select_events


@pytest.fixture
def client(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[TestClient]:
    settings = settings_for(backend, tmp_path, request, aggregate_cache_size=0, snapshot_interval=2)
    with TestClient(build_api(settings)) as c:
        yield c


COMMANDS: dict[str, Callable[[Parties, dict[str, Any]], Any]] = {
    "message (201, created item)": lambda p, d: p.buyer.post(f"/v1/disputes/{d['id']}/messages", {"body": "hello"}),
    "offer (201, created item)": lambda p, d: p.seller.post(
        f"/v1/disputes/{d['id']}/offers",
        {"remedy": "partial_refund", "refund": {"amount_minor": 500, "currency": "USD"}},
    ),
    "withdrawal (200, the dispute)": lambda p, d: p.buyer.post(f"/v1/disputes/{d['id']}/withdraw", {"reason": "ok"}),
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("key", [None, "key-1"], ids=["no key", "idempotency key"])
def test_a_command_reads_its_dispute_once(client: TestClient, command: str, key: str | None) -> None:
    parties = Parties.on(client)
    dispute = parties.open()
    parties.seller.post(f"/v1/disputes/{dispute['id']}/messages", {"body": "a snapshot's worth of history"})
    headers = {"Idempotency-Key": key} if key else {}
    recorder = client.app.state.services.app.recorder  # type: ignore[attr-defined]
    with counting_selects(recorder, dispute["id"]) as loads:
        response = COMMANDS[command](_with_headers(parties, headers), dispute)
        assert response.status_code in (200, 201), response.text
    assert loads() == 1


def test_a_replay_reads_the_recorded_version_and_appends_nothing(client: TestClient) -> None:
    parties = Parties.on(client)
    dispute = parties.open()
    path = f"/v1/disputes/{dispute['id']}/messages"
    first = ok(parties.buyer.post(path, {"body": "once"}, idempotency_key="k"), 201)
    again = parties.buyer.post(path, {"body": "once"}, idempotency_key="k")
    assert ok(again, 201) == first
    assert again.headers["Idempotent-Replayed"] == "true"
    assert ok(parties.buyer.get(f"/v1/disputes/{dispute['id']}"), 200)["version"] == 2


def _with_headers(parties: Parties, headers: dict[str, str]) -> Parties:
    for caller in (parties.buyer, parties.seller, parties.agent):
        caller.headers = {**caller.headers, **headers}
    return parties
