"""Postgres stopped and started again under load, on a cluster of the test's
own: while it is down every request is answered 503 `unavailable` with
Retry-After (no 500, none hanging past a bound), and the API processes, the
projection worker and the scheduler recover without being restarted; every
2xx is stored exactly once and every read model equals a clean rebuild."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bootstrap import build_app, build_views_db, ensure_views
from service.settings import Settings
from support.deployment import Deployment, settings_on
from support.invariants import report, verify
from support.load import Load
from support.pg_cluster import Cluster, own_cluster

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
SOAK = os.environ.get("DISPUTES_SOAK") == "1"
CONNECT_TIMEOUT = 1
BOUND = 20.0
"""Seconds any request may take while the database is down: the event store
library retries a read up to 10 times, each waiting CONNECT_TIMEOUT for a
connection, plus our own attempt."""
READYZ_BOUND = 3 * CONNECT_TIMEOUT
"""/readyz asks the read models' database first: one bounded attempt."""
DOWN_FOR = 4.0


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    yield from own_cluster()


@pytest.fixture
def settings(cluster: Cluster, tmp_path: Path) -> Settings:
    return settings_on(cluster.url, tmp_path, postgres_connect_timeout=CONNECT_TIMEOUT)


def test_postgres_restarting_under_load_is_503_with_retry_after_then_recovers_without_restarting_us(
    cluster: Cluster, settings: Settings, tmp_path: Path
) -> None:
    app, views = build_app(settings), build_views_db(settings)
    ensure_views(views, settings)
    app.close()
    views.close()
    deployment = Deployment(settings, tmp_path, apis=2, workers=1, schedulers=1,
                            overrides={"postgres_connect_timeout": str(CONNECT_TIMEOUT)})  # fmt: skip
    done = threading.Event()
    outages: list[dict[str, float | int]] = []
    try:
        deployment.start()
        load = Load(deployment.urls, settings.jwt_secret or "", seed=31)

        def readiness(outage: dict[str, float | int]) -> None:
            started = time.monotonic()
            ready = httpx.get(f"{deployment.urls[0]}/readyz", timeout=BOUND + 5)
            outage.update(readyz_status=ready.status_code, readyz_s=round(time.monotonic() - started, 2))

        def outage() -> None:
            try:
                for _ in range(3 if SOAK else 1):
                    done.wait(2.0)
                    cluster.stop()
                    started = time.monotonic()
                    outages.append({})
                    probe = threading.Thread(target=readiness, args=(outages[-1],))
                    probe.start()
                    time.sleep(DOWN_FOR)
                    cluster.start()
                    outages[-1]["down_s"] = round(time.monotonic() - started, 2)
                    probe.join()
                done.wait(3.0)  # load goes on after the database is back
            finally:
                done.set()

        breaker = threading.Thread(target=outage)
        breaker.start()
        load.run(4, 40 if not SOAK else 200, until=done)
        breaker.join()
        assert all(p.running() and p.starts == 1 for p in deployment.processes), "recovered without a restart"
        figures = verify(settings, deployment, load)
    finally:
        deployment.stop()
    assert all(o["readyz_status"] == 503 and o["readyz_s"] < READYZ_BOUND for o in outages), outages
    assert figures["answers_503"] > 0, "requests during the outage were answered 503"
    assert figures["max_latency_s"] < BOUND
    report("postgres-restart", figures | {"outages": outages, "connect_timeout_s": CONNECT_TIMEOUT})
