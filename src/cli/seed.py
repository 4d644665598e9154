"""`disputes seed`: fill the store with realistic demo disputes."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated

import typer

from bootstrap import build_services
from cli.progress import progress_bar
from projections.catalog import PROJECTIONS
from projections.fanout import Fanout
from service.demo.seeder import SeedConflict, Seeder
from service.settings import Settings

log = logging.getLogger("disputes.seed")


def seed(
    disputes: Annotated[int, typer.Option(min=1, max=100_000, help="how many disputes to open")] = 200,
    months: Annotated[float, typer.Option(min=0.25, max=60, help="spread their opening over this many months")] = 6,
    seed: Annotated[int, typer.Option(help="the random seed: the same seed (and --end) gives the same data")] = 1,
    end: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"],
            help="the simulation's end, e.g. 2026-06-30T12:00:00Z (default: now; UTC unless an offset is given)",
        ),
    ] = None,
) -> None:
    """Open demo disputes over months of simulated time and live each through
    negotiation, evidence, returns, escalation, rulings, withdrawals and deadlines."""
    if end is not None:
        end = end if end.tzinfo is not None else end.replace(tzinfo=UTC)
        if end > datetime.now(UTC):
            raise typer.BadParameter("the simulation cannot end in the future", param_hint="--end")
    settings = Settings()
    if settings.backend == "memory":
        raise typer.BadParameter("DISPUTES_DATABASE_URL is memory://: the disputes would vanish with this command")
    services = build_services(settings)
    try:
        seeder = Seeder(services.app, services.blobs, seed=seed, months=months, end=end, orders=services.orders.book)
        try:
            with progress_bar("seeding disputes", disputes) as bar:
                report = seeder.run(disputes, progress=bar.reach)
        except SeedConflict as conflict:
            typer.echo(f"disputes seed: {conflict}", err=True)
            raise typer.Exit(1) from None
        head = services.app.recorder.max_notification_id() or 0
        fanout = Fanout(services.app, services.views, list(PROJECTIONS.values()))
        with progress_bar("read models", head) as bar:
            while fanout.step():
                bar.reach(min(head, fanout.processed))
    finally:
        services.close()
    typer.echo(
        f"seeded {report.created} disputes ({report.skipped} already there) on {report.orders} orders registered, "
        f"{report.events} events, "
        f"in {report.seconds:.1f}s ({report.rate:.0f} disputes/s); read models at position {head}"
    )
    typer.echo("statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(report.statuses.items())))
    typer.echo("steps by: " + ", ".join(f"{k} {v}" for k, v in sorted(report.steps.items())))
    for refused in report.refused:
        typer.echo(f"refused: {refused}", err=True)
    if report.refused:
        raise typer.Exit(1)
