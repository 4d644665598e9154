"""The API as a real process (`python -m cli.main serve`), for tests that kill it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from service.settings import Settings

START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(settings: Settings, **overrides: str) -> dict[str, str]:
    """The environment that makes `serve` use the same stores as `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISPUTES_")}
    env.update(
        DISPUTES_ENV="test",
        DISPUTES_DATABASE_URL=settings.database_url,
        DISPUTES_POSTGRES_SCHEMA=settings.postgres_schema,
        DISPUTES_JWT_SECRET=settings.jwt_secret or "",
        DISPUTES_VAR_DIR=str(settings.var_dir),
        DISPUTES_BLOB_DIR=str(settings.blob_dir),
        DISPUTES_IN_PROCESS_WORKERS="false",
    )
    env.update({f"DISPUTES_{k.upper()}": v for k, v in overrides.items()})
    return env


class LiveServer:
    """One server process at a time on one port; `start` again after it died."""

    def __init__(self, settings: Settings, log_dir: Path) -> None:
        self.settings, self.port, self.log_dir = settings, free_port(), log_dir
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, **overrides: str) -> None:
        assert self.process is None or self.process.poll() is not None, "already running"
        self.starts += 1
        log = (self.log_dir / f"server-{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "--port", str(self.port)],
            env=server_env(self.settings, **overrides),
            cwd=self.log_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self._wait_until_serving()

    def _wait_until_serving(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited on start:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError(f"the server did not start in {START_TIMEOUT}s:\n{self.log()}")

    def exit_code(self, timeout: float = 10) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def log(self) -> str:
        return (self.log_dir / f"server-{self.starts}.log").read_text(errors="replace")
