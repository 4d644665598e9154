"""A new user's demo: in a fresh copy, `scripts/run` in the background says
where the docs and the console are and how to seed; `disputes seed` then fills
the store while the server (its projections and deadline scheduler included)
runs, and the API lists the disputes at once. The server's scheduler never
steps into a half-seeded dispute: every dispute's timeline stays in time order."""

from __future__ import annotations

import os
import subprocess
import time
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from support.fresh_copy import fresh_copy
from support.live_server import free_port

pytestmark = [pytest.mark.slow]


def test_a_fresh_copy_serves_and_seeds_demo_data_while_it_runs(tmp_path: Path) -> None:
    clone = fresh_copy(tmp_path / "clone")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISPUTES_")}
    env["DISPUTES_PORT"] = str(port)
    (clone / "var").mkdir()
    log = (clone / "var" / "server.log").open("w")
    server = subprocess.Popen(["scripts/run"], cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        ready = subprocess.run(
            [".venv/bin/disputes", "wait-ready", "--timeout", "120"],
            cwd=clone,
            env=env,
            capture_output=True,
            check=False,
        )
        said = (clone / "var" / "server.log").read_text()
        assert ready.returncode == 0, said
        url = f"http://127.0.0.1:{port}"
        assert f"{url}/docs" in said and f"{url}/console" in said, "scripts/run says where to look"
        assert "disputes seed --disputes 500" in said and "docs/demo.md" in said, "and how to seed"

        started = time.monotonic()
        seeded = subprocess.run(
            [".venv/bin/disputes", "seed", "--disputes", "80", "--months", "3"],
            cwd=clone,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        took = time.monotonic() - started
        assert seeded.returncode == 0, seeded.stderr[-3000:]
        assert "seeded 80 disputes (0 already there)" in seeded.stdout
        token = subprocess.run(
            [".venv/bin/disputes", "token", "--role", "agent", "--sub", "agent-1"],
            cwd=clone,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            listed = client.get("/v1/disputes", params={"limit": 100})
            assert listed.status_code == 200
            disputes = listed.json()["items"]
            assert len(disputes) == 80, f"the seed's read models answer at once (seeded in {took:.1f}s)"
            stats = client.get("/v1/stats/disputes", params={"group_by": "reason"}).json()
            assert sum(g["count"] for g in stats["groups"]) == 80
            assert client.get("/v1/sellers").json()["items"], "seller scores are populated"
            for d in disputes:
                entries = client.get(f"/v1/disputes/{d['id']}/timeline", params={"limit": 100}).json()["items"]
                times = [datetime.fromisoformat(e["occurred_at"]) for e in entries]
                assert times == sorted(times), f"dispute {d['id']} has events out of time order"
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
