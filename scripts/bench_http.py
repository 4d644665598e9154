"""The HTTP half of `scripts/bench`: servers started as `scripts/run` starts
them, loaded with wrk from 127.0.0.1 only, each figure against the bare
FastAPI app measured in the same run."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-0123456789abcdef0123456789abcdef"
LUA = """
local ids = {%s}
local tokens = {%s}
local counter = 0
local started = 0
-- wrk's threads each run their own copy of this script: interleave them so the
-- requests in flight at one moment name different disputes, as real clients would.
setup = function(thread)
  thread:set("tid", started)
  started = started + 1
end
request = function()
  counter = counter + 1
  local i = ((counter * 2 + tid) %% #ids) + 1
  local headers = {["Authorization"] = "Bearer " .. tokens[i], ["Content-Type"] = "application/json"}
  return wrk.format("POST", "/v1/disputes/" .. ids[i] .. "/messages", headers, '{"body":"bench message"}')
end
"""


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: installing the Debian package", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "install", "-y", "wrk"], check=False, capture_output=True)
    if not shutil.which("wrk"):
        subprocess.run([*sudo, "apt-get", "update"], check=True, capture_output=True)
        subprocess.run([*sudo, "apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or "wrk"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


@contextmanager
def server(command: list[str], env: dict[str, str], health: str) -> Iterator[subprocess.Popen[bytes]]:
    log = tempfile.NamedTemporaryFile(prefix="bench-server-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_up(health)
        time.sleep(3)  # every worker process up, not only the first to answer
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited; see {log.name}")
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def wrk(url: str, seconds: int, script: str | None = None) -> dict[str, float]:
    cmd = [ensure_wrk(), "-t2", "-c32", f"-d{seconds}s", "--latency"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        if script:
            lua.write(script)
            cmd += ["-s", lua.name]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    if socket_errors:
        errors += sum(int(g) for g in socket_errors.groups())
    return {"rps": rps, "p50_ms": _latency(out, "50%"), "p99_ms": _latency(out, "99%"), "errors": errors}


def _latency(out: str, pct: str) -> float:
    match = re.search(rf"^\s+{re.escape(pct)}\s+([\d.]+)(us|ms|s)\s*$", out, flags=re.M)
    if not match:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def bare_app(seconds: int) -> dict[str, float]:
    port = free_port()
    cmd = [str(ROOT / ".venv/bin/uvicorn"), "--app-dir", "scripts", "bare_app:app", "--port", str(port)]
    cmd += ["--log-level", "warning", "--no-access-log"]
    with server(cmd, dict(os.environ), f"http://127.0.0.1:{port}/"):
        return wrk(f"http://127.0.0.1:{port}/", seconds)


def mint(role: str, sub: str) -> str:
    import jwt

    now = datetime.now(UTC).timestamp()
    return str(jwt.encode({"sub": sub, "role": role, "iat": now, "exp": now + 3600}, SECRET, algorithm="HS256"))


def open_disputes(base: str, count: int) -> list[tuple[str, str]]:
    """`count` disputes, each opened by its own buyer over HTTP: (id, that buyer's token)."""
    made: list[tuple[str, str]] = []
    lock = threading.Lock()
    tag = os.urandom(3).hex()

    def opener(start: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            for i in range(start, count, 8):
                token = mint("buyer", f"bench-buyer-{tag}-{i}")
                body = {
                    "order_id": f"bench-order-{tag}-{i}",
                    "seller_id": f"bench-seller-{i % 40}",
                    "reason": "damaged",
                    "remedy": "refund_only",
                    "refund": {"amount_minor": 1000, "currency": "USD"},
                    "order_amount": {"amount_minor": 2000, "currency": "USD"},
                    "description": "bench",
                }
                r = client.post("/v1/disputes", json=body, headers={"Authorization": f"Bearer {token}"})
                r.raise_for_status()
                with lock:
                    made.append((r.json()["id"], token))

    threads = [threading.Thread(target=opener, args=(s,)) for s in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return made


def message_script(disputes: list[tuple[str, str]]) -> str:
    ids = ",".join(f'"{d}"' for d, _ in disputes)
    tokens = ",".join(f'"{t}"' for _, t in disputes)
    return LUA % (ids, tokens)


class LagProbe(threading.Thread):
    """Read-your-writes lag under load: a command's response to its position
    being in both the timeline and the dispute list (their tracking rows)."""

    def __init__(self, base: str, dispute: tuple[str, str], pg: tuple[str, str] | None, interval: float = 0.1):
        super().__init__(daemon=True)
        self.base, self.dispute, self.pg, self.interval = base, dispute, pg, interval
        self.lags: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        dispute_id, token = self.dispute
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=self.base, timeout=30) as client:
            conn = psycopg.connect(self.pg[0], autocommit=True) if self.pg else None
            try:
                while not self.stop.is_set():
                    r = client.post(f"/v1/disputes/{dispute_id}/messages", json={"body": "probe"}, headers=headers)
                    answered = time.perf_counter()
                    position = int(r.headers.get("x-position", "0"))
                    while not self.stop.is_set() and not self._visible(client, conn, headers, position):
                        time.sleep(0.002)
                    self.lags.append(time.perf_counter() - answered)
                    self.stop.wait(self.interval)
            finally:
                if conn is not None:
                    conn.close()

    def _visible(self, client: httpx.Client, conn: Any, headers: dict[str, str], position: int) -> bool:
        if conn is not None:
            row = conn.execute(
                f"SELECT min(t.position) FROM {self.pg[1]}.projection_tracking t "  # type: ignore[index]
                f"JOIN {self.pg[1]}.projection_generations g USING (projection, generation) "  # type: ignore[index]
                "WHERE g.status = 'active' AND t.projection IN ('timeline', 'dispute_list')"
            ).fetchone()
            return bool(row and row[0] is not None and row[0] >= position)
        ready = client.get("/readyz").json()
        return all(ready["views"][v]["position"] >= position for v in ("timeline", "dispute_list"))


def our_server(port: int) -> list[str]:
    """`scripts/run`, or (to measure another build the same way) DISPUTES_BENCH_SERVER, e.g.
    "/work/main/.venv/bin/disputes serve"."""
    other = os.environ.get("DISPUTES_BENCH_SERVER")
    return [*(other.split() if other else [str(ROOT / "scripts/run")]), "--port", str(port)]


def http_figures(
    seconds: int, disputes: int, pg_url: str | None, schema: str | None, sqlite_dir: Path | None
) -> dict[str, Any]:
    """healthz and the message command on one configuration of `scripts/run`."""
    port = free_port()
    env = {**os.environ, "DISPUTES_JWT_SECRET": SECRET, "DISPUTES_ENV": "test", "DISPUTES_PORT": str(port)}
    env.pop("DISPUTES_IN_PROCESS_WORKERS", None)
    scratch = Path(tempfile.mkdtemp(prefix="bench-var-"))
    env.update(DISPUTES_VAR_DIR=str(scratch), DISPUTES_BLOB_DIR=str(scratch / "blobs"))
    if pg_url:
        env.update(DISPUTES_DATABASE_URL=pg_url, DISPUTES_POSTGRES_SCHEMA=schema or "")
    else:
        assert sqlite_dir is not None
        env.update(DISPUTES_DATABASE_URL=f"sqlite:///{sqlite_dir / 'disputes.sqlite'}")
    base = f"http://127.0.0.1:{port}"
    with server(our_server(port), env, f"{base}/healthz"):
        healthz = wrk(f"{base}/healthz", seconds)
        made = open_disputes(base, disputes + 1)
        probe = LagProbe(base, made[-1], (pg_url, schema) if pg_url and schema else None)
        probe.start()
        messages = wrk(f"{base}/", seconds, message_script(made[:-1]))
        probe.stop.set()
        probe.join(timeout=30)
    lags = sorted(probe.lags)
    p99 = lags[min(len(lags) - 1, int(0.99 * len(lags)))] * 1000 if lags else float("nan")
    return {"healthz": healthz, "messages": messages, "lag_p99_ms": p99, "lag_samples": len(lags)}
