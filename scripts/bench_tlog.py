"""The transparency log at scale: tree build rate and proof latency.

    .venv/bin/python scripts/bench_tlog.py [--events 1000000] [--proofs 2000] [--append-seconds 10]

In a scratch Postgres schema (dropped afterwards, with its `_analytics` sibling; `DISPUTES_DATABASE_URL` if
it is Postgres, else postgresql://postgres@127.0.0.1:5432/test):

1. the event append rate: 16 threads running real `post_message` commands
   through the application (group commit, the aggregate cache, as the API
   runs it) for `--append-seconds`;
2. then `--events` synthetic events inserted directly into the event table
   with one SQL statement per 250,000 (`generate_series`: 20 events per
   aggregate, each state only `{"chain_hash": ...}`: the tree reads nothing
   else), so the log holds that many leaves without hours of commands;
3. the tree built from scratch over the whole log by the projection worker
   (`Fanout`, batches of 500, as `disputes projections run` does): leaves/s;
4. a signed checkpoint, then `--proofs` inclusion proofs of random positions
   and `--proofs` consistency proofs from random sizes to the checkpoint's,
   each through the service layer the API calls (one timing per proof,
   including its queries): p50, p99, max; next to the same figures for an
   empty read transaction (`SELECT 1`) on the same pool, the floor the
   machine's load sets.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import threading
import time
from pathlib import Path

import psycopg
from psycopg.sql import SQL, Identifier

sys.path.insert(0, str(Path(__file__).parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

from bootstrap import build_services
from projections.fanout import Fanout
from projections.transparency import TransparencyLog
from service import log_reads
from service.settings import Settings
from support.builders import BUYER, Scenario

FILL = (
    "INSERT INTO {events} (originator_id, originator_version, topic, state) "
    "SELECT md5('bench-' || (g / 20)::text)::uuid, g %% 20 + 1, 'domain.events:MessagePosted', "
    "convert_to('{{\"chain_hash\":\"' || encode(sha256(g::text::bytea), 'hex') || '\"}}', 'UTF8') "
    "FROM generate_series(%s::bigint, %s::bigint) g ORDER BY g"
)


def percentile(samples: list[float], p: float) -> float:
    return sorted(samples)[min(len(samples) - 1, int(len(samples) * p))]


def append_rate(svc: object, seconds: float) -> float:
    app = svc.app  # type: ignore[attr-defined]
    disputes = [Scenario(app).open() for _ in range(16)]
    counts, stop = [0] * 16, threading.Event()

    def post(i: int) -> None:
        while not stop.is_set():
            app.post_message(disputes[i].id, disputes[i].clock.ctx(BUYER), f"message {counts[i]}")
            counts[i] += 1

    threads = [threading.Thread(target=post, args=(i,)) for i in range(16)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--proofs", type=int, default=2000)
    parser.add_argument("--append-seconds", type=float, default=10.0)
    args = parser.parse_args()
    url = os.environ.get("DISPUTES_DATABASE_URL", "")
    url = url if url.startswith("postgres") else "postgresql://postgres@127.0.0.1:5432/test"
    schema = f"bench_tlog_{secrets.token_hex(3)}"
    settings = Settings(env="test", database_url=url, postgres_schema=schema, jwt_secret=secrets.token_urlsafe(32),
                        in_process_workers=False, var_dir=Path("var/bench-tlog"))  # fmt: skip
    svc = build_services(settings)
    try:
        rate = append_rate(svc, args.append_seconds)
        print(f"event append rate (16 threads of post_message, group commit): {rate:,.0f} events/s")
        events = Identifier(schema, "disputes_events")
        started = time.perf_counter()
        with psycopg.connect(url, autocommit=True) as conn:
            for first in range(1, args.events + 1, 250_000):
                conn.execute(SQL(FILL).format(events=events), [first, min(first + 249_999, args.events)])
            conn.execute(SQL("ANALYZE {}").format(events))
        head = svc.app.recorder.max_notification_id() or 0
        print(f"inserted {args.events:,} synthetic events in {time.perf_counter() - started:.1f}s (log head {head:,})")

        started = time.perf_counter()
        Fanout(svc.app, svc.views, [TransparencyLog]).catch_up()
        built = time.perf_counter() - started
        assert svc.checkpoints is not None
        checkpoint = svc.checkpoints.issue()
        assert checkpoint is not None
        size = checkpoint.tree_size
        print(f"tree built from scratch: {size:,} leaves in {built:.1f}s = {size / built:,.0f} leaves/s "
              f"({size / built / rate:.1f}x the append rate)")  # fmt: skip
        store = svc.checkpoints.store
        timings: dict[str, list[float]] = {"inclusion": [], "consistency": [], "baseline": []}
        rng = random.Random(7)
        for _ in range(args.proofs):
            t = time.perf_counter()
            with svc.views.reading() as cur:  # the floor: one read transaction that reads nothing
                cur.run("SELECT 1 AS one")
                cur.all()
            timings["baseline"].append(time.perf_counter() - t)
            position = rng.randint(1, head)
            t = time.perf_counter()
            log_reads.inclusion(svc.views, store, position, size)
            timings["inclusion"].append(time.perf_counter() - t)
            old = rng.randint(1, size)
            t = time.perf_counter()
            log_reads.consistency(svc.views, store, old, size)
            timings["consistency"].append(time.perf_counter() - t)
        print(f"{'proof':<12} {'count':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
        for name, samples in timings.items():
            ms = [s * 1000 for s in samples]
            print(f"{name:<12} {len(ms):>6} {statistics.median(ms):>8.2f} {percentile(ms, 0.99):>8.2f} {max(ms):>8.2f}")
    finally:
        svc.close()
        with psycopg.connect(url, autocommit=True) as conn:
            for name in (schema, settings.analytics_schema_name()):  # the analysts' schema is created beside it
                conn.execute(SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(name)))


if __name__ == "__main__":
    main()
