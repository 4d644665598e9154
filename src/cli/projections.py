"""`disputes projections run | rebuild NAME | status`."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer

from bootstrap import connect, new_waiter
from projections import base
from projections.catalog import PROJECTIONS
from projections.fanout import Fanout
from projections.runner import Follower
from service.settings import Settings

app = typer.Typer(help="Read models: run the worker, rebuild one, show positions", no_args_is_help=True)
log = logging.getLogger("disputes.projections")


def _names(names: list[str] | None) -> list[str]:
    chosen = names or list(PROJECTIONS)
    unknown = [n for n in chosen if n not in PROJECTIONS]
    if unknown:
        raise typer.BadParameter(f"unknown projection(s) {unknown}; known: {sorted(PROJECTIONS)}")
    return chosen


@app.command()
def run(
    name: Annotated[list[str] | None, typer.Option("--name", help="only these projections (repeatable)")] = None,
    batch_size: Annotated[int, typer.Option(min=1)] = 500,
) -> None:
    """Follow the event store and keep the read models up to date (until SIGTERM/SIGINT)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings()
    events, views = connect(settings)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    chosen = _names(name)
    fanout = Fanout(events, views, [PROJECTIONS[n] for n in chosen], batch_size=batch_size)
    waiter = new_waiter(settings, events, stop, in_process=False)
    log.info("following the event store for %s (one reader for all)", ", ".join(chosen))
    try:
        fanout.run_forever(stop, waiter)
    finally:
        waiter.close()
    events.close()
    views.close()


@app.command()
def rebuild(
    name: Annotated[str, typer.Argument(help="the projection to rebuild")],
    batch_size: Annotated[int, typer.Option(min=1)] = 1000,
    keep_old: Annotated[bool, typer.Option(help="keep the old generation's tables")] = False,
) -> None:
    """Build NAME into new tables from position 0, switch readers over atomically, drop the old tables."""
    projection = PROJECTIONS[_names([name])[0]]
    settings = Settings()
    events, views = connect(settings)
    previous = base.active(views, projection.name)
    number = base.create_generation(views, projection, projection.params_from(settings), activate=False)
    typer.echo(f"{name}: building generation {number} with {projection.params_from(settings)}")
    follower = Follower(events, views, projection, generation_number=number, batch_size=batch_size)
    follower.catch_up()
    base.switch(views, projection, number)
    follower.catch_up()
    typer.echo(f"{name}: generation {number} is active at position {follower.generation().position}")
    if previous is not None and not keep_old:
        for generation in base.generations(views, projection.name):
            if generation.status == "retired":
                base.drop_generation(views, projection, generation.number)
                typer.echo(f"{name}: dropped generation {generation.number}")
    events.close()
    views.close()


@app.command()
def status() -> None:
    """Each view's active generation, position, the store's head and the lag."""
    events, views = connect(Settings())
    head = events.recorder.max_notification_id() or 0
    typer.echo(f"{'view':<12} {'generation':>10} {'status':>9} {'position':>10} {'head':>10} {'lag':>8}")
    for projection_name in PROJECTIONS:
        for g in base.generations(views, projection_name):
            typer.echo(
                f"{projection_name:<12} {g.number:>10} {g.status:>9} {g.position:>10} {head:>10} {head - g.position:>8}"
            )
    events.close()
    views.close()
