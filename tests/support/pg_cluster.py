"""A Postgres cluster of the test's own (initdb and pg_ctl on a free port in a
temporary folder), for tests that stop and restart the database: never the
machine's shared cluster. As root, the cluster runs as the `postgres` user
(initdb refuses root)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.live_server import free_port

BIN = Path(os.environ.get("DISPUTES_TEST_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
RUN_AS = "postgres"


def missing() -> str | None:
    """Why a cluster of our own cannot be made here (None when it can)."""
    if not (BIN / "initdb").exists():
        return f"no initdb in {BIN} (set DISPUTES_TEST_POSTGRES_BIN)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser"
    return None


class Cluster:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="disputes-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.root, RUN_AS, RUN_AS)
        self.running = False

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str) -> None:
        command = [str(BIN / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", RUN_AS, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, f"{program} failed:\n{result.stdout}\n{result.stderr}\n{self.log()}"

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "postgres.log"), "-w", "-t", "60",
                  "-o", options, "start")  # fmt: skip
        self.running = True

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")
        self.running = False

    def log(self) -> str:
        path = self.root / "postgres.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def destroy(self) -> None:
        if self.running:
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def own_cluster() -> Iterator[Cluster]:
    """A started cluster of our own for one test (as a fixture body); it fails
    instead of skipping when CI=true, like every Postgres test."""
    problem = missing()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot run a Postgres cluster of our own: {problem}; CI=true, so this test must run")
        pytest.skip(f"SKIPPING: cannot run a Postgres cluster of our own: {problem}")
    cluster = Cluster()
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()
