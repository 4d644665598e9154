"""The projection worker as a real process: crashes, restarts and rebuilds."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bootstrap import build_app, build_views_db, ensure_views
from domain.application import DisputeApp
from domain.values import Outcome, Status
from projections import base, penalties
from projections.catalog import PROJECTIONS
from projections.db import Database
from projections.runner import Follower
from service.settings import Settings
from support.builders import AGENT, SELLER, T0, Scenario, scenario_in
from support.rebuild import clean_copy, table_rows
from support.stores import settings_for

pytestmark = [pytest.mark.slow]
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
DISPUTES_CLI = [sys.executable, "-m", "cli.main"]


def env_for(settings: Settings, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DISPUTES_ENV="test",
        DISPUTES_JWT_SECRET=settings.jwt_secret or "",
        DISPUTES_DATABASE_URL=settings.database_url,
        DISPUTES_POSTGRES_SCHEMA=settings.postgres_schema,
        DISPUTES_VAR_DIR=str(settings.var_dir),
        PYTHONPATH=str(Path(__file__).parents[2] / "src"),
    )
    env.update(extra)
    return env


def populate(app: DisputeApp, disputes: int) -> None:
    """A mix of lifecycles, so every projection has work."""
    statuses = [Status.RESOLVED, Status.WITHDRAWN, Status.UNDER_REVIEW, Status.RETURN_IN_TRANSIT]
    for i in range(disputes):
        s = scenario_in(app, statuses[i % len(statuses)])
        if i % 4 == 2:
            app.issue_ruling(s.id, s.clock.ctx(AGENT), Outcome.REFUND_FULL, None, True, "fault")


def progress(db: Database) -> int:
    """Events processed, summed over the views' active generations."""
    return sum(g.position for g in (base.active(db, p) for p in PROJECTIONS) if g is not None)


def caught_up(db: Database, head: int) -> bool:
    return progress(db) == head * len(PROJECTIONS)


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    return settings_for(request.param, tmp_path, request, in_process_workers=False)


@pytest.fixture
def world(settings: Settings) -> Iterator[tuple[DisputeApp, Database]]:
    app, views = build_app(settings), build_views_db(settings)
    ensure_views(views, settings)
    yield app, views
    app.close()
    views.close()


def test_a_worker_killed_at_random_points_ends_identical_to_a_clean_rebuild(
    settings: Settings, world: tuple[DisputeApp, Database]
) -> None:
    app, views = world
    populate(app, 160)
    head = app.recorder.max_notification_id()
    assert head is not None and head > 450
    rng = random.Random(20261121)
    kills = 0
    while not caught_up(views, head):
        worker = subprocess.Popen(
            [*DISPUTES_CLI, "projections", "run", "--batch-size", "3"],
            env=env_for(settings),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        kill_after = progress(views) + rng.randint(30, 400)
        deadline = time.monotonic() + 30
        while progress(views) < kill_after and not caught_up(views, head) and time.monotonic() < deadline:
            time.sleep(0.005)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        kills += 1
        assert kills < 60, "the worker makes progress between kills"
    assert kills >= 3, "the worker was killed mid catch-up several times"
    expected = clean_copy(app, views, settings)
    for table, rows in expected.items():
        assert table_rows(views, table) == rows, f"{table} differs from a clean rebuild"


def test_rebuilding_with_new_weights_rescores_history_while_reads_keep_answering(
    settings: Settings, world: tuple[DisputeApp, Database]
) -> None:
    app, views = world
    populate(app, 60)
    for projection in PROJECTIONS.values():
        Follower(app, views, projection).catch_up()
    as_of = T0 + timedelta(days=1)
    before = penalties.score(views, SELLER.id, as_of, settings.penalty_window)
    assert before.breakdown["opened"] == {"count": 45, "points": 45}, "60 opened, 15 withdrawn"
    reads: list[int] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def keep_reading() -> None:
        while not done.is_set():
            try:
                reads.append(penalties.score(views, SELLER.id, as_of, settings.penalty_window).score)
            except BaseException as e:  # collected and asserted below
                errors.append(e)
            time.sleep(0.005)

    reader = threading.Thread(target=keep_reading)
    reader.start()
    weights = '{"opened": 3, "escalated": 4}'
    result = subprocess.run(  # noqa: PLW1510 - the return code is asserted
        [*DISPUTES_CLI, "projections", "rebuild", "penalties", "--batch-size", "5"],
        env=env_for(settings, DISPUTES_PENALTY_WEIGHTS=weights),
        capture_output=True,
        text=True,
        timeout=120,
    )
    done.set()
    reader.join()
    assert result.returncode == 0, result.stderr
    after = penalties.score(views, SELLER.id, as_of, settings.penalty_window)
    assert after.breakdown["opened"] == {"count": 45, "points": 135}
    assert after.breakdown["escalated"]["points"] == 2 * before.breakdown["escalated"]["points"]
    assert errors == [], "reads kept answering during the rebuild"
    assert len(reads) > 10 and set(reads) <= {before.score, after.score}
    generations = base.generations(views, "penalties")
    assert [(g.number, g.status) for g in generations] == [(2, "active")], "the old tables were dropped"
    assert generations[0].params["weights"]["opened"] == 3


def test_status_prints_each_views_position_head_and_lag(settings: Settings, world: tuple[DisputeApp, Database]) -> None:
    app, _ = world
    Scenario(app).open()
    result = subprocess.run(  # noqa: PLW1510 - the return code is asserted
        [*DISPUTES_CLI, "projections", "status"], env=env_for(settings), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:]}
    assert set(lines) == set(PROJECTIONS)
    assert lines["timeline"][3:] == ["0", "1", "1"], "position 0, head 1, lag 1"
