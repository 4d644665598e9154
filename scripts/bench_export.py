"""Memory of a large audit-log export: peak RSS stays flat as rows stream out.

    .venv/bin/python scripts/bench_export.py [--url postgresql://postgres@127.0.0.1:5432/test]
        [--rows 1000000] [--format jsonl|csv] [--http]

Creates a scratch Postgres schema (dropped afterwards), bulk-inserts `--rows`
audit-log rows with one INSERT ... SELECT generate_series (no events needed),
then streams the export through the real code (projections.audit_log.all_entries,
a server-side cursor, and api.audit_export.encode) into /dev/null, printing the
process's peak RSS (getrusage ru_maxrss) at 10k, 100k and 1M rows. With --http
it serves the API with uvicorn in a child process and streams
GET /v1/audit/export from it instead, reporting the server's peak RSS (VmHWM).
Benchmarks are scripts, not timed tests: machines differ, figures are for notes.
"""

from __future__ import annotations

import argparse
import os
import resource
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import httpx
import psycopg
from psycopg.sql import SQL, Identifier

sys.path.insert(0, str(Path(__file__).parents[1] / "src"))

from api import audit_export
from api.auth import mint
from domain.values import Role
from projections import audit_log, base
from projections.db import PostgresDatabase
from service.settings import Settings

ROOT = Path(__file__).parents[1]
CHECKPOINTS = (10_000, 100_000, 1_000_000)
SECRET = secrets.token_urlsafe(32)
FILL = (
    "INSERT INTO {table} (position, dispute_id, version, type, actor_id, actor_role, occurred_at, request_id, "
    "idempotency_key, chain_hash, payload) SELECT g, md5((g / 12)::text)::uuid::text, g %% 12 + 1, "
    "(ARRAY['DisputeOpened','OfferProposed','MessagePosted','EvidenceSubmitted'])[g %% 4 + 1], "
    "'buyer-' || (g %% 5000), 'buyer', timestamptz '2026-01-01 00:00Z' + g * interval '1 second', "
    "'req-' || left(md5(g::text), 12), CASE WHEN g %% 3 = 0 THEN 'key-' || g END, "
    "encode(sha256(g::text::bytea), 'hex'), jsonb_build_object('body', 'message ' || g || ': ' || repeat('x', 160), "
    "'offer_id', md5(g::text)::uuid::text, 'refund', jsonb_build_object('amount_minor', g %% 5000, 'currency', 'USD'))"
    " FROM generate_series(%s, %s) g"
)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def server_rss_mb(pid: int) -> tuple[float, float]:
    """(peak, current) resident set of another process, from /proc."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(status["VmHWM"].split()[0]) / 1024, int(status["VmRSS"].split()[0]) / 1024


def fill(db: PostgresDatabase, rows: int) -> None:
    base.ensure_registry(db)
    generation = base.ensure_projection(db, audit_log.AuditLog)
    table = base.physical("audit_log", generation.number)
    started = time.perf_counter()
    for first in range(1, rows + 1, 250_000):
        with db.transaction() as cur:
            cur.run(FILL, [first, min(first + 249_999, rows)], table=table)
    with db.transaction() as cur:
        cur.run("ANALYZE {table}", table=table)
    print(f"inserted {rows:,} audit rows in {time.perf_counter() - started:.1f}s")


def report(chunks: Iterable[bytes], fmt: str, rss: Iterator[tuple[float, float]]) -> None:
    started, rows, size, marks = time.perf_counter(), -1 if fmt == "csv" else 0, 0, list(CHECKPOINTS)
    print(f"{'rows':>10} {'MB out':>9} {'seconds':>8} {'peak RSS MB':>12} {'RSS now MB':>11}")
    for chunk in chunks:
        rows, size = rows + chunk.count(b"\n"), size + len(chunk)
        while marks and rows >= marks[0]:
            peak, now = next(rss)
            seconds = time.perf_counter() - started
            print(f"{marks.pop(0):>10,} {size / 2**20:>9.1f} {seconds:>8.1f} {peak:>12.1f} {now:>11.1f}")
    print(f"exported {rows:,} rows ({size / 2**20:.1f} MB of {fmt})")


def own_rss() -> Iterator[tuple[float, float]]:
    while True:
        current = int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        yield peak_rss_mb(), current


def in_process(db: PostgresDatabase, fmt: str) -> None:
    print(f"in-process export; before streaming: peak RSS {peak_rss_mb():.1f} MB")
    rows = audit_log.all_entries(db, audit_log.AuditFilter())
    report(audit_export.encode(audit_export.ExportFormat(fmt), rows), fmt, own_rss())


def over_http(url: str, schema: str, fmt: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "DISPUTES_DATABASE_URL": url,
        "DISPUTES_POSTGRES_SCHEMA": schema,
        "DISPUTES_ENV": "test",
        "DISPUTES_JWT_SECRET": SECRET,
        "DISPUTES_IN_PROCESS_WORKERS": "false",
        "PYTHONPATH": str(ROOT / "src"),
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "bootstrap:build_api",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, env=env)
    try:
        wait_until_up(port)
        before = server_rss_mb(server.pid)[0]
        print(f"HTTP export from uvicorn (pid {server.pid}); before streaming: peak RSS {before:.1f} MB")
        token = mint(SECRET, Role.AUDITOR, "bench-auditor")
        request = {"params": {"format": fmt}, "headers": {"Authorization": f"Bearer {token}"}, "timeout": None}
        with httpx.stream("GET", f"http://127.0.0.1:{port}/v1/audit/export", **request) as response:  # type: ignore[arg-type]
            response.raise_for_status()
            report(response.iter_raw(), fmt, (server_rss_mb(server.pid) for _ in iter(int, 1)))
    finally:
        server.terminate()
        server.wait(timeout=10)


def wait_until_up(port: int) -> None:
    for _ in range(100):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("the API did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url", default=os.environ.get("DISPUTES_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    parser.add_argument("--http", action="store_true", help="stream from a uvicorn server and measure its memory")
    args = parser.parse_args()
    schema = f"bench_export_{os.getpid()}"
    params = Settings(database_url=args.url, postgres_schema=schema).postgres_params()
    with psycopg.connect(args.url, autocommit=True) as conn:
        conn.execute(SQL("CREATE SCHEMA {}").format(Identifier(schema)))
    db = PostgresDatabase(params, schema)
    try:
        fill(db, args.rows)
        over_http(args.url, schema, args.format) if args.http else in_process(db, args.format)
    finally:
        db.close()
        with psycopg.connect(args.url, autocommit=True) as conn:
            conn.execute(SQL("DROP SCHEMA {} CASCADE").format(Identifier(schema)))


if __name__ == "__main__":
    main()
