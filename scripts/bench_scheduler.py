"""Delay between a deadline's due time and its expiry, with several scheduler processes.

    .venv/bin/python scripts/bench_scheduler.py [--url postgresql://postgres@127.0.0.1:5432/test]
        [--disputes 600] [--spread 5] [--schedulers 2] [--interval PT1S]

Starts `disputes scheduler run` processes against a scratch Postgres schema
(dropped afterwards), opens disputes at an even pace over --spread seconds so
their deadlines fall due staggered (a third ignored by the seller, a third
countered then left to the negotiation deadline and the review SLA, a third
with the seller's deadline extended by an agent), waits until every deadline
has expired, then prints: whether each expired exactly once (counted in the
event store), who fired what, what the schedulers skipped (their /metrics),
and the delay from due time to expiry (the expiry event's time minus its due
time). Benchmarks are scripts, not timed tests: figures are for notes.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from eventsourcing.utils import get_topic
from psycopg.sql import SQL, Identifier

sys.path.insert(0, str(Path(__file__).parents[1] / "src"))

from bootstrap import build_app
from domain.application import DisputeApp
from domain.events import DEADLINE_EVENTS, DeadlinePassed
from domain.values import Actor, Context, Deadline, Money, Reason, Remedy, Role
from service.settings import Settings

WINDOWS = {
    "evidence_window": "PT2S",
    "seller_response_window": "PT4S",
    "negotiation_window": "PT5S",
    "review_sla": "PT2S",
}
EXPIRIES = {"ignored": 2, "countered": 3, "extended": 2}
BUYER, SELLER, AGENT = Actor("buyer", Role.BUYER), Actor("seller", Role.SELLER), Actor("agent", Role.AGENT)


def ctx(actor: Actor) -> Context:
    return Context(actor, datetime.now(UTC), request_id="bench")


def open_one(app: DisputeApp, kind: str, i: int) -> None:
    usd = Money(1500, "USD")
    opened = app.open_dispute(
        ctx(BUYER),
        order_id=f"o-{uuid.uuid4().hex}",
        seller_id=SELLER.id,
        reason=Reason.DAMAGED,
        remedy=Remedy.REFUND_ONLY,
        refund=usd,
        order_amount=Money(2000, "USD"),
        description="",
    )
    if kind == "countered":
        app.propose_offer(opened.dispute_id, ctx(SELLER), Remedy.PARTIAL_REFUND, Money(700, "USD"), "")
    elif kind == "extended":
        extra = timedelta(milliseconds=10 * (1 + i % 90))
        app.extend_deadline(opened.dispute_id, ctx(AGENT), Deadline.SELLER_RESPONSE, extra, "bench")


def open_load(app: DisputeApp, disputes: int, spread: float) -> int:
    kinds, started, expected = list(EXPIRIES), time.monotonic(), 0
    for i in range(disputes):
        time.sleep(max(0.0, started + spread * i / disputes - time.monotonic()))
        kind = kinds[i % len(kinds)]
        open_one(app, kind, i)
        expected += EXPIRIES[kind]
    print(f"opened {disputes} disputes in {time.monotonic() - started:.1f}s (paced over {spread:.1f}s)")
    return expected


def expiries(app: DisputeApp) -> list[DeadlinePassed]:
    topics = [get_topic(cls) for cls in set(DEADLINE_EVENTS.values())]
    found = app.recorder.select_notifications(0, 10_000_000, topics=topics)
    return [app.mapper.to_domain_event(n) for n in found]  # type: ignore[misc]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_schedulers(count: int, env: dict[str, str], logs: Path) -> list[tuple[subprocess.Popen[bytes], int]]:
    disputes = str(Path(sys.executable).parent / "disputes")
    started = []
    for i in range(1, count + 1):
        port = free_port()
        command = [disputes, "scheduler", "run", "--name", f"s{i}", "--metrics-port", str(port)]
        log = (logs / f"s{i}.log").open("wb")
        started.append((subprocess.Popen(command, env=env, stderr=log, stdout=subprocess.DEVNULL), port))
    stop = time.monotonic() + 60
    while not all(f"s{i}: ready" in (logs / f"s{i}.log").read_text() for i in range(1, count + 1)):
        if time.monotonic() > stop or any(p.poll() is not None for p, _ in started):
            raise SystemExit(f"schedulers did not start; see {logs}")
        time.sleep(0.05)
    return started


def skipped(port: int) -> Counter[str]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    counts: Counter[str] = Counter()
    for line in text.splitlines():
        if line.startswith("disputes_deadlines_skipped_total{"):
            reason = line.split('reason="')[1].split('"')[0]
            counts[reason] += int(float(line.rsplit(" ", 1)[1]))
    return counts


def percentile(values: list[float], p: float) -> float:
    return sorted(values)[min(len(values) - 1, int(p / 100 * len(values)))]


def report(fired: list[DeadlinePassed], expected: int, skips: dict[str, Counter[str]]) -> None:
    per_deadline = Counter((e.originator_id, e.deadline) for e in fired)
    doubles = sum(1 for n in per_deadline.values() if n > 1)
    print(f"expiries: expected {expected}, recorded {len(fired)}, distinct {len(per_deadline)}, duplicated {doubles}")
    for name, n in sorted(Counter(e.request_id.split("/")[0] for e in fired).items()):
        print(f"  {name}: fired {n}, skipped {dict(skips.get(name, {}))}")
    delays = [(e.timestamp - e.due_at).total_seconds() for e in fired]
    print(
        "delay due -> expiry (s): "
        + ", ".join(
            f"{label} {value:.3f}"
            for label, value in (
                ("min", min(delays)),
                ("p50", percentile(delays, 50)),
                ("p90", percentile(delays, 90)),
                ("p99", percentile(delays, 99)),
                ("max", max(delays)),
                ("mean", statistics.fmean(delays)),
            )
        )
    )
    for deadline in sorted({e.deadline for e in fired}):
        mine = [(e.timestamp - e.due_at).total_seconds() for e in fired if e.deadline == deadline]
        print(f"  {deadline:<16} n={len(mine):<4} p50 {percentile(mine, 50):.3f}  max {max(mine):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url", default=os.environ.get("DISPUTES_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    )
    parser.add_argument("--disputes", type=int, default=600)
    parser.add_argument("--spread", type=float, default=5.0)
    parser.add_argument("--schedulers", type=int, default=2)
    parser.add_argument("--interval", default="PT1S")
    args = parser.parse_args()
    schema = f"bench_sched_{secrets.token_hex(4)}"
    env = {
        **os.environ,
        "DISPUTES_ENV": "test",
        "DISPUTES_DATABASE_URL": args.url,
        "DISPUTES_POSTGRES_SCHEMA": schema,
        "DISPUTES_SCHEDULER_INTERVAL": args.interval,
        "DISPUTES_JWT_SECRET": secrets.token_hex(32),
        **{f"DISPUTES_{k.upper()}": v for k, v in WINDOWS.items()},
    }
    settings = Settings(
        database_url=args.url,
        postgres_schema=schema,
        env="test",
        jwt_secret="x" * 32,
        scheduler_interval=args.interval,
        **WINDOWS,
    )  # type: ignore[arg-type]
    print(f"{args.schedulers} scheduler processes, interval {args.interval}, windows {WINDOWS}, schema {schema}")
    logs = Path(tempfile.mkdtemp(prefix=f"{schema}-"))
    schedulers = start_schedulers(args.schedulers, env, logs)
    app = build_app(settings)
    try:
        expected = open_load(app, args.disputes, args.spread)
        stop = time.monotonic() + 120
        while len(expiries(app)) < expected and time.monotonic() < stop:
            time.sleep(0.2)
        time.sleep(2 * settings.scheduler_interval.total_seconds())  # time for any double expiry to show
        skips = {f"s{i}": skipped(port) for i, (_, port) in enumerate(schedulers, start=1)}
        report(expiries(app), expected, skips)
    finally:
        for process, _ in schedulers:
            process.send_signal(signal.SIGTERM)
        print("scheduler exit codes:", [process.wait(timeout=30) for process, _ in schedulers])
        app.close()
        with psycopg.connect(args.url, autocommit=True) as conn:
            conn.execute(SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(schema)))
        print(f"scheduler logs: {logs}")


if __name__ == "__main__":
    main()
