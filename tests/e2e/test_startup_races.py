"""Startup and read-model lifetimes: generations and where views live."""

from __future__ import annotations

import threading
from pathlib import Path

from bootstrap import build_services, connect
from projections.catalog import PROJECTIONS
from projections.runner import Follower
from service.settings import Settings
from support.builders import Scenario

SECRET = "test-secret-0123456789abcdef0123456789"


def sqlite_settings(path: Path) -> Settings:
    return Settings(
        env="test",
        database_url=f"sqlite:///{path / 'disputes.sqlite'}",
        var_dir=path / "var",
        blob_dir=path / "blobs",
        jwt_secret=SECRET,
        in_process_workers=False,
    )


def test_processes_starting_together_on_a_fresh_sqlite_file_all_start(tmp_path: Path) -> None:
    """The API and a `projections run` worker started together on a new SQLite
    file both start: one creates the read models' first generation, the other
    finds it (or retries after a lost race, as on Postgres)."""
    failures: list[str] = []
    for attempt in range(10):
        settings = sqlite_settings(tmp_path / f"run{attempt}")
        barrier = threading.Barrier(3)

        def start(barrier: threading.Barrier = barrier, settings: Settings = settings) -> None:
            barrier.wait()
            try:
                events, views = connect(settings)
            except Exception as e:
                failures.append(repr(e))
                return
            events.close()
            views.close()

        threads = [threading.Thread(target=start) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not failures, failures[:3]


def test_read_models_of_the_memory_store_start_over_when_the_store_does(tmp_path: Path) -> None:
    """With `memory://` the events vanish on restart, and so do the read models:
    a new process's first events are projected, not skipped as already applied."""
    settings = sqlite_settings(tmp_path).model_copy(update={"database_url": "memory://"})
    opened: list[str] = []
    for _ in range(2):
        services = build_services(settings, SECRET)
        try:
            opened = [str(Scenario(services.app).open().id) for _ in range(2)]
            for projection in PROJECTIONS.values():
                Follower(services.app, services.views, projection).catch_up()
            with services.views.reading() as cur:
                cur.run("SELECT dispute_id FROM {v}", v="dispute_summaries")
                listed = sorted(r["dispute_id"] for r in cur.all())
        finally:
            services.close()
    assert listed == sorted(opened)
