"""`disputes webhooks run`: the webhook delivery worker as its own process."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer
from prometheus_client import start_http_server

from bootstrap import connect
from bootstrap.workers import build_delivery, relay_commits
from service.feed import CommitSignal, EventFeed
from service.hub import utc_now
from service.metrics import Metrics
from service.settings import Settings

app = typer.Typer(help="Webhook delivery: POST each subscription's events in order", no_args_is_help=True)
log = logging.getLogger("disputes.webhooks")


@app.command()
def run(
    threads: Annotated[int | None, typer.Option(min=1, help="default: DISPUTES_WEBHOOK_WORKERS")] = None,
    metrics_port: Annotated[int, typer.Option(help="serve Prometheus metrics on this port (0: off)")] = 0,
) -> None:
    """Deliver webhooks until SIGTERM/SIGINT. On Postgres several may run at once
    (each subscription is held by one at a time); on SQLite run one per database."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings()
    events, views = connect(settings)
    metrics = Metrics()
    feed = EventFeed(events)
    worker, close = build_delivery(settings, views, feed, metrics, utc_now)
    if metrics_port:
        start_http_server(metrics_port, registry=metrics.registry)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    commits = CommitSignal()
    relay = None
    if settings.backend == "postgres":
        relay = threading.Thread(target=relay_commits, args=(settings, events, commits, stop), daemon=True)
        relay.start()
    typer.echo(f"{worker.name}: ready", err=True)
    try:
        worker.run_forever(stop, commits, threads or settings.webhook_workers)
    finally:
        close()
        events.close()
        views.close()
    log.info("%s: stopped", worker.name)
