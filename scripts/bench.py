"""Throughput of the event store and the projections, printed as figures.

    .venv/bin/python scripts/bench.py [--url postgresql://postgres@127.0.0.1:5432/test] [--commands 3000]

Writes into a scratch Postgres schema (dropped afterwards) and compares:
  1. one command per transaction: the stock eventsourcing Postgres recorder
     versus ours (same guarantees, lock + NOTIFY + insert + idempotency claim
     pipelined in one round trip), with 1 and 4 writer threads;
  2. many commands per transaction: `save(*aggregates)` in batches of 100, and
     group commit (concurrent commands sharing transactions) with 4 and 16 threads;
  3. projections: one transaction per event (what the stock ProjectionRunner
     does) versus our follower's batches of 500 events per transaction.
Benchmarks are scripts, not timed tests: machines differ, figures are for notes.
"""

from __future__ import annotations

import argparse
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg
from psycopg.sql import SQL, Identifier

from bootstrap import build_views_db, ensure_views
from domain.application import DisputeApp
from domain.dispute import Dispute
from domain.values import Actor, Context, Money, Reason, Remedy, Role
from projections import base
from projections.catalog import PROJECTIONS
from projections.runner import Follower
from service.ports import IdempotencyClaim
from service.settings import Settings
from store.application_seam import StoreApp
from store.group_commit import GroupCommitter

BUYER = Actor("bench-buyer", Role.BUYER)


def settings_for(url: str, schema: str) -> Settings:
    return Settings(database_url=url, postgres_schema=schema, env="test", snapshot_interval=0)


def open_kwargs(order_id: str) -> dict[str, object]:
    return {
        "order_id": order_id,
        "seller_id": f"seller-{hash(order_id) % 50}",
        "reason": Reason.DAMAGED,
        "remedy": Remedy.REFUND_ONLY,
        "refund": Money(1000, "USD"),
        "order_amount": Money(2000, "USD"),
        "description": "bench",
    }


def timed(label: str, count: int, work: Callable[[], None]) -> float:
    started = time.perf_counter()
    work()
    elapsed = time.perf_counter() - started
    rate = count / elapsed
    print(f"  {label:<58} {count:>6} in {elapsed:6.2f} s = {rate:8.0f}/s")
    return rate


def in_threads(threads: int, count: int, one: Callable[[int], None]) -> Callable[[], None]:
    def run() -> None:
        share = count // threads
        workers = [
            threading.Thread(target=lambda t=t: [one(t * share + i) for i in range(share)]) for t in range(threads)
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join()

    return run


def single_commands(app: DisputeApp, prefix: str, count: int, threads: int, *, claims: bool) -> Callable[[], None]:
    def one(i: int) -> None:
        ctx = Context(BUYER, datetime.now(UTC), f"r{i}", f"k{i}" if claims else None)
        kw = {"idempotency": IdempotencyClaim(BUYER.id, f"{prefix}{i}", "fp", {"status": 201})} if claims else {}
        app.open_dispute(ctx, **open_kwargs(f"{prefix}-{i}"), save_kwargs=kw)  # type: ignore[arg-type]

    return in_threads(threads, count, one)


def batched_commands(app: DisputeApp, prefix: str, count: int, batch: int) -> Callable[[], None]:
    def run() -> None:
        for start in range(0, count, batch):
            now = datetime.now(UTC)
            disputes = [
                Dispute.open(Context(BUYER, now, f"r{i}"), policy=app.policy, **open_kwargs(f"{prefix}-{i}"))  # type: ignore[arg-type]
                for i in range(start, start + batch)
            ]
            app.save(*disputes)

    return run


def projection_rate(app: DisputeApp, settings: Settings, batch_size: int, events: int) -> Callable[[], None]:
    views = build_views_db(settings)
    ensure_views(views, settings)

    def run() -> None:
        for projection in PROJECTIONS.values():
            number = base.create_generation(views, projection, projection.params_from(settings), activate=False)
            Follower(app, views, projection, generation_number=number, batch_size=batch_size).catch_up(until=events)

    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--commands", type=int, default=3000)
    parser.add_argument("--projection-events", type=int, default=4000, help="events each projection run processes")
    args = parser.parse_args()
    schema = f"bench_{secrets.token_hex(4)}"
    n = args.commands
    try:
        with psycopg.connect(args.url, autocommit=True) as conn:
            for name in (schema, schema + "_stock"):
                conn.execute(SQL("CREATE SCHEMA {}").format(Identifier(name)))
        settings = settings_for(args.url, schema)
        ours = StoreApp(env=settings.eventsourcing_env(), policy=settings.policy())
        stock_env = {
            **settings.eventsourcing_env(),
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_SCHEMA": schema + "_stock",
        }
        stock = DisputeApp(env=stock_env, policy=settings.policy())
        print(f"event store (Postgres, schema {schema}), {n} commands each:")
        timed(
            "stock recorder, 1 thread, one command per transaction", n, single_commands(stock, "s1", n, 1, claims=False)
        )
        timed("ours, 1 thread, one command per transaction", n, single_commands(ours, "o1", n, 1, claims=False))
        timed("ours, 1 thread, + idempotency claim in the same txn", n, single_commands(ours, "c1", n, 1, claims=True))
        timed(
            "stock recorder, 4 threads, one command per transaction",
            n,
            single_commands(stock, "s4", n, 4, claims=False),
        )
        timed("ours, 4 threads, one command per transaction", n, single_commands(ours, "o4", n, 4, claims=False))
        timed("ours, 1 thread, 100 commands per transaction", n, batched_commands(ours, "b100", n, 100))
        timed("ours, 16 threads, one transaction per command", n, single_commands(ours, "t16", n, 16, claims=True))
        ours.committer = GroupCommitter(ours)
        timed(
            "ours, 16 threads, group commit (shared transactions)", n, single_commands(ours, "g16", n, 16, claims=True)
        )
        timed("ours, 4 threads, group commit (shared transactions)", n, single_commands(ours, "g4", n, 4, claims=True))
        committer = ours.committer
        print(f"  group commit: {committer.commands} commands in {committer.batches} transactions")
        committer.close()
        ours.committer = None
        head = min(ours.recorder.max_notification_id() or 0, args.projection_events)
        work = head * len(PROJECTIONS)
        print(f"projections: {len(PROJECTIONS)} views x {head} events = {work} event applications:")
        timed(
            "one transaction per event (stock ProjectionRunner style)", work, projection_rate(ours, settings, 1, head)
        )
        timed("batches of 500 events per transaction (ours)", work, projection_rate(ours, settings, 500, head))
        ours.close()
        stock.close()
    finally:
        with psycopg.connect(args.url, autocommit=True) as conn:
            for name in (schema, schema + "_stock"):
                conn.execute(SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(name)))


if __name__ == "__main__":
    main()
