"""The in-process half of `scripts/bench`: the write path (B), projections (C)
and the cost of a command on a long dispute (D), each against its baseline
measured in the same run, on the configured Postgres in a schema of its own."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.sql import SQL, Identifier

from bootstrap import build_services, build_views_db, ensure_views
from domain.application import DisputeApp
from domain.dispute import Dispute
from domain.values import Actor, Context, Money, Reason, Remedy, Role
from projections import base
from projections.catalog import PROJECTIONS
from projections.fanout import Fanout
from projections.runner import Follower
from service.commands import CommandRequest
from service.settings import Settings

BUYER = Actor("bench-buyer", Role.BUYER)
THREADS = 32


def settings_for(url: str, schema: str, **overrides: Any) -> Settings:
    return Settings(
        database_url=url, postgres_schema=schema, env="test", in_process_workers=False, jwt_secret="x" * 40, **overrides
    )


def ctx(i: int = 0) -> Context:
    return Context(BUYER, datetime.now(UTC), f"bench-{i}")


def new_dispute(app: DisputeApp, order: str) -> Dispute:
    return Dispute.open(
        ctx(),
        order_id=order,
        seller_id=f"seller-{hash(order) % 40}",
        reason=Reason.DAMAGED,
        remedy=Remedy.REFUND_ONLY,
        refund=Money(1000, "USD"),
        order_amount=Money(2000, "USD"),
        description="bench",
        policy=app.policy,
    )


def seed(app: DisputeApp, prefix: str, count: int, messages: int = 0, batch: int = 50) -> list[UUID]:
    """`count` disputes with `messages` messages each, saved `batch` disputes per transaction."""
    ids: list[UUID] = []
    for start in range(0, count, batch):
        disputes = [new_dispute(app, f"{prefix}-{i}") for i in range(start, min(count, start + batch))]
        for dispute in disputes:
            for m in range(messages):
                dispute.post_message(ctx(m), f"message {m}", None)
        app.save(*disputes)
        ids += [d.id for d in disputes]
    return ids


def for_seconds(seconds: float, threads: int, one: Callable[[int, int], None]) -> float:
    """Run `one(thread, n)` in `threads` threads for `seconds`; operations per second."""
    counts = [0] * threads
    stop = time.perf_counter() + seconds

    def loop(t: int) -> None:
        n = 0
        while time.perf_counter() < stop:
            one(t, n)
            n += 1
        counts[t] = n

    started = time.perf_counter()
    workers = [threading.Thread(target=loop, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(counts) / (time.perf_counter() - started)


def raw_insert_rate(url: str, schema: str, seconds: float) -> float:
    """The floor of a durable write: one single-row INSERT and COMMIT per operation."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SQL("CREATE TABLE {}.raw_rows (id bigserial PRIMARY KEY, body jsonb)").format(Identifier(schema)))
    conns = [psycopg.connect(url) for _ in range(THREADS)]
    insert = SQL("INSERT INTO {}.raw_rows (body) VALUES (%s)").format(Identifier(schema))

    def one(t: int, n: int) -> None:
        conns[t].execute(insert, ['{"body": "bench message"}'])
        conns[t].commit()

    try:
        return for_seconds(seconds, THREADS, one)
    finally:
        for c in conns:
            c.close()


def service_rate(url: str, schema: str, seconds: float) -> tuple[float, dict[str, int]]:
    """Commands through the application service as the API runs it (group commit, aggregate cache)."""
    svc = build_services(settings_for(url, schema))
    ids = seed(svc.app, "b", THREADS * 8)

    def one(t: int, n: int) -> None:
        dispute_id = ids[t + THREADS * (n % 8)]
        request = CommandRequest(ctx(n), None, "", "message", 201, lambda e: 409)
        svc.commands.run(request, lambda kw: svc.app.post_message(dispute_id, request.ctx, "bench message", **kw))

    try:
        rate = for_seconds(seconds, THREADS, one)
        committer = svc.app.committer
        shared = {"commands": getattr(committer, "commands", 0), "transactions": getattr(committer, "batches", 0)}
        return rate, shared
    finally:
        svc.close()


def stock_rate(url: str, schema: str, seconds: float) -> float:
    """The stock pattern: the library's recorder, `repository.get` then `save` per command."""
    settings = settings_for(url, schema)
    env = {**settings.eventsourcing_env(), "PERSISTENCE_MODULE": "eventsourcing.postgres"}
    env.pop("AGGREGATE_CACHE_MAXSIZE", None)
    env.pop("AGGREGATE_CACHE_FASTFORWARD", None)
    env["POSTGRES_POOL_SIZE"], env["POSTGRES_MAX_OVERFLOW"] = str(THREADS), "0"
    app = DisputeApp(env=env, policy=settings.policy())
    ids = seed(app, "s", THREADS * 8)

    def one(t: int, n: int) -> None:
        dispute = app.repository.get(ids[t + THREADS * (n % 8)])
        dispute.post_message(ctx(n), "bench message", None)
        app.save(dispute)

    try:
        return for_seconds(seconds, THREADS, one)
    finally:
        app.close()


def seed_events(url: str, schema: str, events: int, per_dispute: int = 20) -> int:
    """About `events` events (disputes of `per_dispute` events each); the head position."""
    settings = settings_for(url, schema, snapshot_interval=0)
    app = DisputeApp(env=settings.eventsourcing_env(), policy=settings.policy())
    try:
        seed(app, "c", max(1, events // per_dispute), messages=per_dispute - 1)
        return app.recorder.max_notification_id() or 0
    finally:
        app.close()


def projection_rates(url: str, schema: str, head: int, stock_events: int) -> dict[str, float]:
    """Events per second into every view: ours (one reader, batches, a transaction per view
    per batch) over all `head` events; the stock runner's way (a transaction per event per
    view) over the first `stock_events` of them."""
    settings = settings_for(url, schema)
    svc_app = DisputeApp(env=settings.eventsourcing_env(), policy=settings.policy())
    views = build_views_db(settings)
    ensure_views(views, settings)
    projections = list(PROJECTIONS.values())

    def fresh() -> dict[str, int]:
        return {p.name: base.create_generation(views, p, p.params_from(settings), activate=False) for p in projections}

    try:
        stock_numbers = fresh()
        started = time.perf_counter()
        for p in projections:
            follower = Follower(svc_app, views, p, generation_number=stock_numbers[p.name], batch_size=1)
            follower.catch_up(until=stock_events)
        stock = stock_events / (time.perf_counter() - started)
        started = time.perf_counter()
        Fanout(svc_app, views, projections, numbers=fresh()).catch_up()
        ours = head / (time.perf_counter() - started)
        return {"ours": ours, "stock": stock}
    finally:
        svc_app.close()
        views.close()


def command_cost(url: str, schema: str, long_events: int, samples: int) -> dict[str, float]:
    """Median seconds per message command: on a dispute with `long_events` events against
    one on a new dispute, with the defaults the API runs (snapshots, aggregate cache)."""
    # The long dispute gets `long_events` + `samples` messages: past the default cap of 1,000
    # messages a dispute holds (Policy.max_messages_per_dispute), so the cap is lifted here.
    svc = build_services(settings_for(url, schema, max_messages_per_dispute=long_events + samples + 10))
    app = svc.app
    try:
        [long_id] = seed(app, "d-long", 1, messages=long_events - 1, batch=1)
        fresh_ids = seed(app, "d-new", samples)

        def timed(dispute_id: UUID) -> float:
            started = time.perf_counter()
            app.post_message(dispute_id, ctx(), "bench message")
            return time.perf_counter() - started

        app.post_message(long_id, ctx(), "warm up")
        new = [timed(fresh_ids[i]) for i in range(samples)]
        long = [timed(long_id) for _ in range(samples)]
        return {"new_ms": statistics.median(new) * 1000, "long_ms": statistics.median(long) * 1000}
    finally:
        svc.close()
