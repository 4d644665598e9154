"""Two `disputes scheduler run` processes against one Postgres schema, over
hundreds of disputes with staggered deadlines: every deadline expires exactly
once (counted in the event store). Figures for the firing delay under load
come from scripts/bench_scheduler.py, not from this test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from eventsourcing.utils import get_topic

from bootstrap import build_app
from domain.application import DisputeApp
from domain.events import DEADLINE_EVENTS, DeadlinePassed
from domain.values import Actor, Context, Deadline, Reason, Remedy
from service.settings import Settings
from support.builders import AGENT, BUYER, SELLER, usd
from support.stores import settings_for

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
DISPUTES = 300
SPREAD = 3.0
"""Seconds over which the disputes are opened, so their deadlines fall due staggered."""
WINDOWS = {
    "evidence_window": "PT1S",
    "seller_response_window": "PT2S",
    "negotiation_window": "PT2.5S",
    "review_sla": "PT1.5S",
}
"""Shared by the test's app and the schedulers (which escalate, so start the review SLA)."""
EXPECTED = {
    "ignored": {"evidence", "seller_response"},
    "countered": {"evidence", "negotiation", "review_sla"},
    "extended": {"evidence", "seller_response"},
}


def ctx(actor: Actor) -> Context:
    return Context(actor, datetime.now(UTC), request_id="load")


def open_one(app: DisputeApp, kind: str, i: int) -> uuid.UUID:
    opened = app.open_dispute(
        ctx(BUYER),
        order_id=f"order-{uuid.uuid4().hex}",
        seller_id=SELLER.id,
        reason=Reason.DAMAGED,
        remedy=Remedy.REFUND_ONLY,
        refund=usd(1500),
        order_amount=usd(2000),
        description="broken",
    )
    if kind == "countered":
        app.propose_offer(opened.dispute_id, ctx(SELLER), Remedy.PARTIAL_REFUND, usd(700), "half?")
    elif kind == "extended":
        extra = timedelta(milliseconds=10 * (1 + i % 40))  # stays before negotiation
        app.extend_deadline(opened.dispute_id, ctx(AGENT), Deadline.SELLER_RESPONSE, extra, "staggered")
    return opened.dispute_id


def open_staggered(app: DisputeApp) -> dict[uuid.UUID, str]:
    kinds = list(EXPECTED)
    opened: dict[uuid.UUID, str] = {}
    started = time.monotonic()
    for i in range(DISPUTES):
        time.sleep(max(0.0, started + SPREAD * i / DISPUTES - time.monotonic()))
        kind = kinds[i % len(kinds)]
        opened[open_one(app, kind, i)] = kind
    return opened


def expiries(app: DisputeApp) -> list[DeadlinePassed]:
    topics = [get_topic(cls) for cls in set(DEADLINE_EVENTS.values())]
    notifications = app.recorder.select_notifications(0, 1_000_000, topics=topics)
    found = [app.mapper.to_domain_event(n) for n in notifications]
    return [e for e in found if isinstance(e, DeadlinePassed)]


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    return settings_for("postgres", tmp_path, request, **WINDOWS)


@pytest.fixture
def schedulers(settings: Settings, tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    env = {
        **os.environ,
        "DISPUTES_ENV": "test",
        "DISPUTES_DATABASE_URL": settings.database_url,
        "DISPUTES_POSTGRES_SCHEMA": settings.postgres_schema,
        "DISPUTES_SCHEDULER_INTERVAL": "PT0.2S",
        "DISPUTES_JWT_SECRET": settings.jwt_secret or "",
        **{f"DISPUTES_{name.upper()}": value for name, value in WINDOWS.items()},
    }
    disputes = str(Path(sys.executable).parent / "disputes")
    logs = [tmp_path / f"scheduler-{i}.log" for i in (1, 2)]
    with ExitStack() as files:
        processes = [
            subprocess.Popen(
                [disputes, "scheduler", "run", "--name", f"s{i}"],
                env=env,
                stderr=files.enter_context(log.open("wb")),
                stdout=subprocess.DEVNULL,
            )
            for i, log in zip((1, 2), logs, strict=True)
        ]
        try:
            wait_until_ready(logs, processes)
            yield processes
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait(timeout=10)


def wait_until_ready(logs: list[Path], processes: list[subprocess.Popen[bytes]], timeout: float = 30) -> None:
    stop = time.monotonic() + timeout
    while time.monotonic() < stop:
        if all(f"s{i}: ready" in log.read_text() for i, log in enumerate(logs, start=1)):
            return
        assert all(p.poll() is None for p in processes), "\n".join(log.read_text() for log in logs)
        time.sleep(0.05)
    raise AssertionError("schedulers did not start:\n" + "\n".join(log.read_text() for log in logs))


def test_two_scheduler_processes_expire_every_deadline_exactly_once(
    settings: Settings, schedulers: list[subprocess.Popen[bytes]]
) -> None:
    app = build_app(settings)
    kinds = open_staggered(app)
    wanted = sum(len(EXPECTED[kind]) for kind in kinds.values())
    stop = time.monotonic() + 30
    while len(expiries(app)) < wanted and time.monotonic() < stop:
        time.sleep(0.2)
    time.sleep(1.0)  # several more ticks of both schedulers: time for any double expiry to show

    fired = expiries(app)
    per_deadline = Counter((e.originator_id, e.deadline) for e in fired)
    assert [key for key, n in per_deadline.items() if n > 1] == []
    expired: dict[uuid.UUID, set[str]] = {dispute_id: set() for dispute_id in kinds}
    for dispute_id, deadline in per_deadline:
        expired[dispute_id].add(deadline)
    assert expired == {dispute_id: EXPECTED[kind] for dispute_id, kind in kinds.items()}
    assert len(fired) == wanted
    assert all(e.timestamp >= e.due_at for e in fired)
    by_scheduler = Counter(e.request_id.split("/")[0] for e in fired)
    assert set(by_scheduler) == {"s1", "s2"}, by_scheduler

    for process in schedulers:
        process.send_signal(signal.SIGTERM)
    assert [p.wait(timeout=15) for p in schedulers] == [0, 0]
    app.close()
