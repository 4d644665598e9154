"""`disputes scheduler run | upcoming`: the deadline scheduler as its own process."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer
from prometheus_client import start_http_server

from bootstrap import connect, observe_business_events
from projections import deadlines
from projections.runner import Follower
from service.hub import utc_now
from service.metrics import Metrics
from service.scheduler import build_scheduler
from service.settings import Settings

app = typer.Typer(help="The deadline scheduler: expire due deadlines as the system actor", no_args_is_help=True)
log = logging.getLogger("disputes.scheduler")


@app.command()
def run(
    name: Annotated[str | None, typer.Option(help="this instance's name, recorded in request ids")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="due deadlines taken per query")] = 200,
    concurrency: Annotated[int, typer.Option(min=1, help="disputes expired in parallel")] = 8,
    metrics_port: Annotated[int, typer.Option(help="serve Prometheus metrics on this port (0: off)")] = 0,
) -> None:
    """Every DISPUTES_SCHEDULER_INTERVAL, expire the due deadlines (until SIGTERM/SIGINT).

    Several may run against one database: each expiry still happens once."""
    settings = Settings()
    events, views = connect(settings)
    metrics = Metrics()
    observe_business_events(events, metrics)  # deadline expiries resolve disputes too
    scheduler = build_scheduler(
        events, views, utc_now, metrics, name=name, batch_size=batch_size, concurrency=concurrency
    )
    if metrics_port:
        start_http_server(metrics_port, registry=metrics.registry)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    typer.echo(f"{scheduler.name}: ready", err=True)
    try:
        scheduler.run_forever(stop, settings.scheduler_interval.total_seconds())
    finally:
        events.close()
        views.close()
    log.info("%s: stopped", scheduler.name)


@app.command()
def upcoming(limit: Annotated[int, typer.Option(min=1)] = 20) -> None:
    """The next open deadlines to fall due (after bringing the read model up to date)."""
    events, views = connect(Settings())
    Follower(events, views, deadlines.Deadlines).catch_up()
    now = utc_now()
    typer.echo(f"{'due_at':<32} {'overdue_s':>10} {'deadline':<24} {'version':>7} dispute_id")
    for d in deadlines.upcoming(views, limit):
        overdue = (now - d.due_at).total_seconds()
        typer.echo(f"{d.due_at.isoformat():<32} {overdue:>10.1f} {d.deadline:<24} {d.version:>7} {d.dispute_id}")
    events.close()
    views.close()
