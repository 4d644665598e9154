"""Event-to-delivery delay of webhooks under load, on Postgres.

    .venv/bin/python scripts/bench_webhooks.py [--url postgresql://postgres@127.0.0.1:5432/test]
        [--rate 300] [--seconds 20] [--subscriptions 20] [--workers 1] [--threads 20]

In a scratch Postgres schema (dropped afterwards): creates --subscriptions
agent subscriptions (every event) to a receiver in this process on 127.0.0.1,
starts --workers `disputes webhooks run --threads N` processes, records
--rate events a second for --seconds (one dispute opened per event), and
waits until every subscription received every event. Prints how many
deliveries arrived, repeats, and the delay from each event's occurred_at to
its arrival at the receiver (p50, p95, p99, max). Benchmarks are scripts, not
timed tests: figures are for notes (docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
from psycopg.sql import SQL, Identifier

sys.path.insert(0, str(Path(__file__).parents[1] / "src"))

from bootstrap import connect
from domain.values import Actor, Context, Money, Reason, Remedy, Role
from service.feed import EventFeed
from service.settings import Settings
from service.webhooks.subscriptions import Webhooks
from store.webhooks import SqlWebhookStore

BUYER, AGENT = Actor("buyer", Role.BUYER), Actor("agent", Role.AGENT)


class Arrivals:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: dict[tuple[str, str], float] = {}
        self.repeats = 0
        self.occurred: dict[str, datetime] = {}

    def add(self, path: str, webhook_id: str, body: bytes) -> None:
        now = time.time()
        with self.lock:
            if (path, webhook_id) in self.seen:
                self.repeats += 1
                return
            self.seen[path, webhook_id] = now
            if webhook_id not in self.occurred:
                item = json.loads(body)
                self.occurred[webhook_id] = datetime.fromisoformat(item["occurred_at"].replace("Z", "+00:00"))


def receiver(arrivals: Arrivals) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the worker reuses connections

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            arrivals.add(self.path, self.headers["webhook-id"], body)
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    default_url = os.environ.get("DISPUTES_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--url", default=default_url)
    parser.add_argument("--rate", type=float, default=300)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--subscriptions", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=20)
    args = parser.parse_args()

    schema = f"bench_{secrets.token_hex(4)}"
    var = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    settings = Settings(env="test", database_url=args.url, postgres_schema=schema, jwt_secret="b" * 40, var_dir=var)
    app, views = connect(settings)
    arrivals = Arrivals()
    server = receiver(arrivals)
    port = server.server_address[1]
    webhooks = Webhooks(SqlWebhookStore(views), EventFeed(app), settings, lambda: datetime.now(UTC))
    for i in range(args.subscriptions):
        webhooks.create(AGENT, f"http://127.0.0.1:{port}/s{i}", ["*"], f"bench {i}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISPUTES_")}
    env.update(
        DISPUTES_ENV="test", DISPUTES_DATABASE_URL=args.url, DISPUTES_POSTGRES_SCHEMA=schema,
        DISPUTES_JWT_SECRET="b" * 40, DISPUTES_VAR_DIR=str(var),
    )  # fmt: skip
    disputes = str(Path(sys.executable).parent / "disputes")
    logs = [(var / f"worker-{n}.log").open("wb") for n in range(args.workers)]
    workers = [
        subprocess.Popen([disputes, "webhooks", "run", "--threads", str(args.threads)], env=env, stderr=log)
        for log in logs
    ]
    try:
        time.sleep(3)  # let the workers connect
        total = int(args.rate * args.seconds)
        started = time.monotonic()
        for n in range(total):
            time.sleep(max(0.0, started + n / args.rate - time.monotonic()))
            app.open_dispute(
                Context(BUYER, datetime.now(UTC), request_id="bench"), order_id=f"o-{uuid.uuid4().hex}",
                seller_id="seller", reason=Reason.DAMAGED, remedy=Remedy.REFUND_ONLY, refund=Money(1500, "USD"),
                order_amount=Money(2000, "USD"), description="",
            )  # fmt: skip
        recorded_in = time.monotonic() - started
        expected = total * args.subscriptions
        deadline = time.monotonic() + 300
        while len(arrivals.seen) < expected and time.monotonic() < deadline:
            time.sleep(0.2)
        drained_in = time.monotonic() - started
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        server.shutdown()
        app.close()
        views.close()
        with psycopg.connect(args.url, autocommit=True) as conn:
            conn.execute(SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(schema)))
    delays = [
        (at - arrivals.occurred[wid].timestamp()) * 1000 for (_, wid), at in arrivals.seen.items()
    ]
    per_path = Counter(path for path, _ in arrivals.seen)
    print(f"{total} events at {args.rate:g}/s recorded in {recorded_in:.1f} s; {args.subscriptions} subscriptions, "
          f"{args.workers} worker process(es) x {args.threads} threads")  # fmt: skip
    fewest = min(per_path.values()) if per_path else 0
    print(f"deliveries: {len(arrivals.seen)} of {expected} in {drained_in:.1f} s "
          f"(fewest to one subscription: {fewest}), repeats: {arrivals.repeats}")  # fmt: skip
    if delays:
        print(
            f"event-to-delivery delay: p50 {statistics.median(delays):.0f} ms, p95 {percentile(delays, 95):.0f} ms, "
            f"p99 {percentile(delays, 99):.0f} ms, max {max(delays):.0f} ms"
        )


if __name__ == "__main__":
    main()
