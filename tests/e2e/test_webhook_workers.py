"""`disputes webhooks run` as real processes: a worker killed (SIGKILL) in the
middle of a delivery loses nothing once restarted, and two workers on one
Postgres schema never make the same attempt twice."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bootstrap import build_api
from service.settings import Settings
from support.api import SECRET, ok, opening
from support.feed import callers, feed, two_disputes
from support.receiver import Received, Receiver, delivered_once
from support.stores import settings_for

pytestmark = pytest.mark.slow


def worker_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISPUTES_")}
    env.update(
        DISPUTES_ENV="test",
        DISPUTES_DATABASE_URL=settings.database_url,
        DISPUTES_POSTGRES_SCHEMA=settings.postgres_schema,
        DISPUTES_JWT_SECRET=SECRET,
        DISPUTES_VAR_DIR=str(settings.var_dir),
        DISPUTES_WEBHOOK_RETRY_SCHEDULE="PT0.2S,PT0.5S,PT1S",
    )
    return env


class Workers:
    """`disputes webhooks run` processes, each logging to its own file."""

    def __init__(self, settings: Settings, log_dir: Path) -> None:
        self.env, self.log_dir = worker_env(settings), log_dir
        self.processes: list[subprocess.Popen[bytes]] = []
        self.files = ExitStack()

    def start(self, threads: int = 2) -> subprocess.Popen[bytes]:
        log = self.log_dir / f"webhooks-{len(self.processes) + 1}.log"
        disputes = str(Path(sys.executable).parent / "disputes")
        process = subprocess.Popen(
            [disputes, "webhooks", "run", "--threads", str(threads)],
            env=self.env,
            stderr=self.files.enter_context(log.open("wb")),
            stdout=subprocess.DEVNULL,
        )
        self.processes.append(process)
        deadline = time.monotonic() + 30
        while ": ready" not in log.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        return process

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        self.files.close()


@pytest.fixture
def api(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[TestClient, Workers]]:
    settings = settings_for(backend, tmp_path, request, jwt_secret=SECRET, in_process_workers=False)
    workers = Workers(settings, tmp_path)
    try:
        with TestClient(build_api(settings)) as client:
            yield client, workers
    finally:
        workers.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_worker_killed_mid_delivery_loses_nothing_after_a_restart(
    api: tuple[TestClient, Workers], receiver: Receiver
) -> None:
    client, workers = api
    c = callers(client)
    arrived, release = threading.Event(), threading.Event()

    def hang_on_the_first(got: Received) -> int:
        if not arrived.is_set():
            arrived.set()
            release.wait(30)
        return 200

    receiver.answer = hang_on_the_first
    hook = ok(c["agent"].post("/v1/webhooks", {"url": receiver.url(), "event_types": ["*"]}), 201)
    two_disputes(c)
    expected = feed(c["agent"])
    first = workers.start()
    assert arrived.wait(20), "the worker never delivered"
    first.kill()  # SIGKILL, while the receiver holds the first delivery open
    first.wait(timeout=10)
    release.set()
    workers.start()
    receiver.wait_for(lambda: len(delivered_once(receiver.received)) >= len(expected))
    assert delivered_once(receiver.received) == expected
    assert [r.verified_with(hook["secret"])["position"] for r in receiver.received] == [
        expected[0]["position"], *(i["position"] for i in expected)
    ]  # the interrupted delivery was made again, with the same webhook-id, then the rest in order
    path, deadline = f"/v1/webhooks/{hook['id']}/deliveries?limit=200", time.monotonic() + 10
    while len(attempts := ok(c["agent"].get(path), 200)["items"]) < len(expected):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert [(a["position"], a["attempt"], a["status_code"]) for a in attempts] == [
        (i["position"], 1, 200) for i in expected
    ]  # the killed attempt was never recorded: it rolled back with its position move


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"])
def test_two_workers_never_make_the_same_attempt(api: tuple[TestClient, Workers], receiver: Receiver) -> None:
    client, workers = api
    c = callers(client)
    hooks: dict[str, dict[str, Any]] = {}
    for n in range(6):
        body = {"url": receiver.url(f"/h{n}"), "event_types": ["*"]}
        hooks[f"/h{n}"] = ok(c["agent"].post("/v1/webhooks", body), 201)
    workers.start(threads=3)
    workers.start(threads=3)
    two_disputes(c)
    for n in range(10):
        ok(c[f"buyer-{1 + n % 2}"].post("/v1/disputes", opening(f"seller-{1 + n % 2}", order_id=f"extra-{n}")), 201)
    expected = feed(c["agent"])
    receiver.wait_for(lambda: all(len(receiver.on(path)) >= len(expected) for path in hooks), timeout=60)
    time.sleep(0.5)  # a second attempt of anything would have arrived by now
    for path, hook in hooks.items():
        got = receiver.on(path)
        assert Counter(r.headers["webhook-id"] for r in got).most_common(1)[0][1] == 1, f"{path}: a repeat"
        assert [r.verified_with(hook["secret"]) for r in got] == expected
