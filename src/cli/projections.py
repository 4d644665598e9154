"""`disputes projections run | rebuild NAME | status | retry NAME | skip NAME --position P`."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer

from bootstrap import build_checkpointer, connect, new_waiter
from cli.progress import progress_bar
from projections import base, faults
from projections.catalog import PROJECTIONS
from projections.db import Database, SwitchFailed
from projections.fanout import Fanout
from projections.runner import Follower
from projections.transparency import TransparencyLog
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
    settings = Settings()
    events, views = connect(settings)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    chosen = _names(name)
    fanout = Fanout(events, views, [PROJECTIONS[n] for n in chosen], batch_size=batch_size)
    waiter = new_waiter(settings, events, stop, in_process=False)
    log.info("following the event store for %s (one reader for all)", ", ".join(chosen))
    checkpoints = None
    if TransparencyLog.name in chosen:  # the worker that grows the tree also signs it
        checkpointer, every = build_checkpointer(settings, views), settings.checkpoint_interval.total_seconds()
        checkpoints = threading.Thread(target=checkpointer.run_forever, args=(stop, every), name="checkpoints")
        checkpoints.start()
    try:
        fanout.run_forever(stop, waiter)
    finally:
        waiter.close()
        stop.set()
        if checkpoints is not None:
            checkpoints.join(timeout=10)
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
    for leftover in base.generations(views, projection.name):
        if leftover.status == "failed":
            base.drop_generation(views, projection, leftover.number)
            typer.echo(f"{name}: dropped generation {leftover.number}, which had failed to switch")
    number = base.create_generation(views, projection, projection.params_from(settings), activate=False)
    typer.echo(f"{name}: building generation {number} with {projection.params_from(settings)}")
    follower = Follower(events, views, projection, generation_number=number, batch_size=batch_size)
    with progress_bar(f"{name}: generation {number}", events.recorder.max_notification_id() or 0) as bar:
        while follower.step():
            bar.reach(follower.generation().position)
    fault = follower.generation().fault
    if fault is not None:
        typer.echo(f"{name}: generation {number} stopped at position {fault.position}: {fault.error}", err=True)
        typer.echo(f"{name}: generation {number} is not switched to; the active generation keeps serving", err=True)
        raise typer.Exit(1)
    try:
        base.switch(views, projection, number)
    except SwitchFailed as e:
        typer.echo(f"{e}", err=True)
        typer.echo(f"{name}: generation {number} is marked failed; the active generation keeps serving", err=True)
        raise typer.Exit(1) from None
    follower.catch_up()
    typer.echo(f"{name}: generation {number} is active at position {follower.generation().position}")
    log.info("rebuilt %s: generation %d is active", name, number)
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
    stopped = []
    for projection_name in PROJECTIONS:
        for g in base.generations(views, projection_name):
            state = "faulted" if g.fault else g.status
            typer.echo(
                f"{projection_name:<12} {g.number:>10} {state:>9} {g.position:>10} {head:>10} {head - g.position:>8}"
            )
            if g.fault:
                where = f"{projection_name} g{g.number} at position {g.fault.position}"
                stopped.append(f"faulted: {where}: {g.fault.error}")
    for line in stopped:
        typer.echo(line)
    events.close()
    views.close()


def _generation(views: Database, name: str, number: int | None) -> int:
    """The generation an operator means: the one given, else the active one."""
    if number is not None:
        return number
    active = base.active(views, name)
    if active is None:
        raise typer.BadParameter(f"{name} has no active generation")
    return active.number


@app.command()
def retry(
    name: Annotated[str, typer.Argument(help="the faulted projection")],
    generation: Annotated[int | None, typer.Option(help="default: the active generation")] = None,
) -> None:
    """Clear NAME's fault: its followers try the event it stopped at again."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    events, views = connect(Settings())
    try:
        fault = faults.retry(views, name, _generation(views, _names([name])[0], generation))
    except faults.NotFaulted as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(1) from None
    finally:
        events.close()
        views.close()
    typer.echo(f"{name}: retrying the event at position {fault.position}")


@app.command()
def skip(
    name: Annotated[str, typer.Argument(help="the faulted projection")],
    position: Annotated[int, typer.Option(help="the faulted event's position (as `status` shows it)")],
    reason: Annotated[str, typer.Option(help="why, kept with the record")] = "skipped by an operator",
    generation: Annotated[int | None, typer.Option(help="default: the active generation")] = None,
) -> None:
    """Move NAME past the one event it stopped at, without applying it (recorded in projection_skips, logged)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    events, views = connect(Settings())
    try:
        fault = faults.skip(views, name, _generation(views, _names([name])[0], generation), position, reason)
    except faults.NotFaulted as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(1) from None
    finally:
        events.close()
        views.close()
    typer.echo(f"{name}: skipped the event at position {position} ({fault.error})")
