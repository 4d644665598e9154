"""How long `GET /v1/stats/disputes` takes to compute its figures (percentiles
in Python over the fact rows) as the number of disputes grows.

    .venv/bin/python scripts/bench_statistics.py [--disputes 10000 100000] [--postgres URL]

Fills a scratch SQLite file (and, with --postgres, a scratch schema, dropped
afterwards) with `--disputes` disputes of four fact versions each in
`dispute_fact_history` (no events needed), then times
projections.statistics.dispute_statistics, the function the route runs, for
a few groupings, now and `as_of` a past instant. Benchmarks are scripts, not
timed tests: machines differ, figures are for notes.
"""

from __future__ import annotations

import argparse
import random
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg.sql import SQL, Identifier

sys.path.insert(0, str(Path(__file__).parents[1] / "src"))

from bootstrap import build_views_db, ensure_views
from projections import base, figures, statistics
from projections.db import Database
from projections.projection import physical
from service.settings import Settings

T0 = datetime(2026, 1, 5, tzinfo=UTC)
REASONS = ["damaged", "not_received", "wrong_item", "quality_issue"]


def versions(i: int, rng: random.Random) -> list[dict[str, Any]]:
    """Four versions of one dispute's facts: opened, answered, escalated, resolved."""
    opened = T0 + timedelta(minutes=i * 7)
    answered = opened + timedelta(minutes=rng.randint(5, 5000))
    escalated = answered + timedelta(hours=rng.randint(1, 100))
    closed = escalated + timedelta(hours=rng.randint(1, 300))
    base: dict[str, Any] = {
        "dispute_id": f"d-{i:08d}", "seller_id": f"seller-{i % 500}", "reason": REASONS[i % 4], "currency": "USD",
        "opened_at": opened, "closed_at": None, "outcome": None, "resolved_how": None, "refund_minor": None,
        "review_started_at": None, "review_due_at": None, "sla_breached": False, "escalated": False,
        "seller_first_response_at": None, "resolution_seconds": None, "first_response_seconds": None,
        "opened_week": figures.week_of(opened), "opened_month": figures.month_of(opened),
    }  # fmt: skip
    steps = [
        (opened, answered, {"status": "awaiting_seller"}),
        (answered, escalated, {"status": "negotiating", "seller_first_response_at": answered,
                               "first_response_seconds": (answered - opened).total_seconds()}),
        (escalated, closed, {"status": "under_review", "escalated": True, "review_started_at": escalated,
                             "review_due_at": escalated + timedelta(days=7)}),
        (closed, None, {"status": "resolved", "closed_at": closed, "outcome": "refund_partial",
                        "resolved_how": "ruling", "refund_minor": rng.randint(100, 5000),
                        "resolution_seconds": (closed - opened).total_seconds()}),
    ]  # fmt: skip
    rows, facts = [], dict(base)
    for version, (start, end, change) in enumerate(steps, start=1):
        facts = {**facts, **change}
        rows.append({**facts, "version": version, "valid_from": start, "valid_until": end})
    return rows


def fill(db: Database, disputes: int) -> None:
    rng = random.Random(7)
    generation = base.active(db, "statistics")
    assert generation is not None
    table = physical("dispute_fact_history", generation.number)  # views cannot be written
    with db.transaction() as cur:
        batch: list[dict[str, Any]] = []
        for i in range(disputes):
            batch += versions(i, rng)
            if len(batch) >= 4000 or i == disputes - 1:
                names = list(batch[0])
                cur.many(
                    f"INSERT INTO {{h}} ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))})",
                    [[row[n] for n in names] for row in batch],
                    h=table,
                )
                batch = []


def timed(db: Database, group_by: str, as_of: datetime | None, now: datetime) -> tuple[float, float, int]:
    """The best of three: wall seconds, this process's CPU seconds (SQLite runs in it), groups."""
    best, cpu, groups = float("inf"), float("inf"), 0
    for _ in range(3):
        started, started_cpu = time.perf_counter(), time.process_time()
        groups = len(statistics.dispute_statistics(db, group_by, None, None, now, as_of))
        best, cpu = min(best, time.perf_counter() - started), min(cpu, time.process_time() - started_cpu)
    return best, cpu, groups


def run(label: str, settings: Settings, disputes: int) -> None:
    db = build_views_db(settings)
    ensure_views(db, settings)
    fill(db, disputes)
    now = T0 + timedelta(days=400)
    middle = T0 + timedelta(minutes=disputes * 7 // 2)
    for group_by in ("reason", "reason,week", "seller,month"):
        for as_of in (None, middle):
            seconds, cpu, groups = timed(db, group_by, as_of, now)
            when = "now" if as_of is None else "as_of middle"
            print(f"{label:8} {disputes:>7} disputes  group_by={group_by:13} {when:12} {groups:>6} groups  "
                  f"{seconds * 1000:8.1f} ms wall {cpu * 1000:8.1f} ms CPU here")  # fmt: skip
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--disputes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--postgres", default=None, help="e.g. postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    for disputes in args.disputes:
        with tempfile.TemporaryDirectory() as tmp:
            sqlite = Settings(env="test", database_url=f"sqlite:///{tmp}/bench.sqlite", var_dir=Path(tmp))
            run("sqlite", sqlite, disputes)
        if args.postgres:
            schema = f"bench_stats_{secrets.token_hex(3)}"
            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(SQL("CREATE SCHEMA {}").format(Identifier(schema)))
            try:
                run("postgres", Settings(env="test", database_url=args.postgres, postgres_schema=schema), disputes)
            finally:
                with psycopg.connect(args.postgres, autocommit=True) as conn:
                    conn.execute(SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(schema)))


if __name__ == "__main__":
    main()
