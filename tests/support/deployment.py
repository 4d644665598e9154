"""A deployment of real processes on one database: API servers (`disputes
serve` without in-process workers), projection workers (`disputes projections
run`) and deadline schedulers (`disputes scheduler run`), each with its own
log and, for the API, its own port. Any of them can be SIGKILLed and started
again."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from service.settings import Settings
from support.live_server import free_port, server_env

CLI = [sys.executable, "-m", "cli.main"]
START_TIMEOUT = 60.0
WINDOWS = {
    "evidence_window": "PT1S",
    "seller_response_window": "PT2S",
    "negotiation_window": "PT3S",
    "review_sla": "PT1S",
    "return_shipping_window": "PT2S",
    "return_receipt_window": "PT2S",
}
"""Deadlines fall due within seconds, while the load is running."""
PROCESS_SETTINGS = {
    "scheduler_interval": "PT0.3S",
    "postgres_pool_size": "1",
    "postgres_max_overflow": "3",
    **WINDOWS,
}
"""Small pools: six processes share a Postgres that other test runs use too."""


def settings_on(database_url: str, tmp_path: Path, **overrides: object) -> Settings:
    """The settings of a deployment (and of the test checking it) on a database of its own."""
    values: dict[str, object] = {
        "env": "test",
        "database_url": database_url,
        "postgres_schema": "disputes",
        "jwt_secret": "test-secret-0123456789abcdef0123456789",
        "var_dir": tmp_path / "var",
        "blob_dir": tmp_path / "blobs",
        "in_process_workers": False,
        **WINDOWS,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@dataclass
class Process:
    kind: str
    """api, worker or scheduler"""
    name: str
    args: list[str]
    env: dict[str, str]
    log_dir: Path
    port: int = 0
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0
    kills: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.name}-{self.starts}.log"

    def start(self) -> None:
        assert self.popen is None or self.popen.poll() is not None, f"{self.name} is running"
        self.starts += 1
        with self.log_path.open("wb") as log:
            self.popen = subprocess.Popen(
                self.args, env=self.env, cwd=self.log_dir, stdout=log, stderr=subprocess.STDOUT
            )

    def ready(self) -> bool:
        assert self.popen is not None
        if self.popen.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.popen.returncode}:\n{self.log()}")
        if self.kind == "api":
            try:
                return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False
        if self.kind == "scheduler":
            return f"{self.name}: ready" in self.log()
        return "following the event store for" in self.log()  # one reader feeds every read model

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not self.ready():
            assert time.monotonic() < deadline, f"{self.name} did not start in {START_TIMEOUT}s:\n{self.log()}"
            time.sleep(0.05)

    def kill(self) -> None:
        assert self.popen is not None
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)
        self.kills += 1

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self) -> int | None:
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                return self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)
        return self.popen.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass
class Deployment:
    settings: Settings
    log_dir: Path
    apis: int = 2
    workers: int = 2
    schedulers: int = 2
    worker_batch: int = 5
    overrides: dict[str, str] = field(default_factory=dict)
    processes: list[Process] = field(default_factory=list)

    def __post_init__(self) -> None:
        env = server_env(self.settings, **(PROCESS_SETTINGS | self.overrides))
        for i in range(1, self.apis + 1):
            port = free_port()
            args = [*CLI, "serve", "--port", str(port)]
            self.processes.append(Process("api", f"api{i}", args, env, self.log_dir, port))
        for i in range(1, self.workers + 1):
            args = [*CLI, "projections", "run", "--batch-size", str(self.worker_batch)]
            self.processes.append(Process("worker", f"worker{i}", args, env, self.log_dir))
        for i in range(1, self.schedulers + 1):
            args = [*CLI, "scheduler", "run", "--name", f"s{i}"]
            self.processes.append(Process("scheduler", f"s{i}", args, env, self.log_dir))

    def start(self) -> None:
        for process in self.processes:
            process.start()
        for process in self.processes:
            process.wait_until_ready()

    def of(self, kind: str) -> list[Process]:
        return [p for p in self.processes if p.kind == kind]

    @property
    def urls(self) -> list[str]:
        return [p.url for p in self.of("api")]

    def stop(self) -> dict[str, int | None]:
        return {p.name: p.stop() for p in self.processes}

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.log()[-3000:]}" for p in self.processes)
