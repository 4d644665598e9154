"""A deployment on one Postgres (a cluster of the test's own): 2 API processes, 2 projection workers and 2
schedulers, as real processes, under concurrent random valid and invalid
commands with second-long deadlines; then with processes SIGKILLed at random
points and started again. Afterwards every invariant holds (support.invariants).
The figures each test prints are the ones docs/reliability.md reports."""

from __future__ import annotations

import os
import random
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from bootstrap import build_app, build_views_db, ensure_views
from service.settings import Settings
from support.deployment import Deployment, settings_on
from support.invariants import report, verify
from support.load import Load
from support.pg_cluster import Cluster, own_cluster

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
SOAK = os.environ.get("DISPUTES_SOAK") == "1"
CLIENTS = 4
COMMANDS_EACH = 400 if SOAK else 60


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    """A cluster of the test's own: six processes' pools would take a large share of
    the shared cluster's connections (and another run's load made it refuse ours)."""
    yield from own_cluster()


@pytest.fixture
def settings(cluster: Cluster, tmp_path: Path) -> Settings:
    return settings_on(cluster.url, tmp_path)


@pytest.fixture
def deployment(settings: Settings, tmp_path: Path) -> Iterator[Deployment]:
    app, views = build_app(settings), build_views_db(settings)
    ensure_views(views, settings)  # created once here, not raced by six processes
    app.close()
    views.close()
    running = Deployment(settings, tmp_path)
    try:
        running.start()
        yield running
    finally:
        running.stop()


def test_two_of_each_process_under_concurrent_random_commands_keep_every_invariant(
    settings: Settings, deployment: Deployment
) -> None:
    load = Load(deployment.urls, settings.jwt_secret or "", seed=11)
    load.run(CLIENTS, COMMANDS_EACH)
    figures = verify(settings, deployment, load)
    assert figures["deadlines_fired"] > 0 and figures["refused_4xx"] > 0 and figures["acknowledged"] > 0
    report("multi-process", figures)


def test_processes_sigkilled_at_random_points_and_restarted_keep_every_invariant(
    settings: Settings, deployment: Deployment
) -> None:
    load = Load(deployment.urls, settings.jwt_secret or "", seed=23)
    rng = random.Random(20261129)
    done = threading.Event()
    killed: Counter[str] = Counter()

    def chaos() -> None:
        try:
            for _ in range(6 if SOAK else 1):
                for kind in rng.sample(["api", "worker", "scheduler"], 3):
                    done.wait(rng.uniform(0.2, 1.0))  # a random point of whatever it is doing
                    victim = rng.choice(deployment.of(kind))
                    victim.kill()
                    killed[kind] += 1
                    victim.start()
                    victim.wait_until_ready()
        finally:
            done.set()

    killer = threading.Thread(target=chaos)
    killer.start()
    load.run(CLIENTS, COMMANDS_EACH, until=done)
    killer.join()
    assert set(killed) == {"api", "worker", "scheduler"}, killed
    figures = verify(settings, deployment, load)
    report("sigkill", figures | {"sigkills": dict(killed)})
