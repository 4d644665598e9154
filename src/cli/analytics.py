"""`disputes analytics grant ROLE | export --format parquet|csv --out DIR`."""

from __future__ import annotations

import importlib.util
import logging
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from bootstrap import connect
from cli.progress import progress_bar
from projections import analytics, export
from projections.db import PostgresDatabase
from service.settings import Settings

app = typer.Typer(help="The analysts' views: a read-only role, exports to Parquet or CSV", no_args_is_help=True)
log = logging.getLogger("disputes.analytics")

SQLITE_READ_ONLY = (
    "SQLite has no roles to grant: give analysts a copy of the database file, or let them open it "
    "read-only (sqlite3 'file:var/disputes.sqlite?mode=ro'), and query the analytics_* views (docs/analytics.md)"
)


class Format(StrEnum):
    parquet = "parquet"
    csv = "csv"


@app.command()
def grant(
    role: Annotated[str, typer.Argument(help="the Postgres role (created if missing)")],
    password: Annotated[
        str | None, typer.Option(help="create the role with LOGIN and this password (default: NOLOGIN, to grant)")
    ] = None,
) -> None:
    """Let ROLE read the analytics views, and nothing else (Postgres only)."""
    settings = Settings()
    if settings.backend != "postgres":
        typer.echo(f"disputes analytics grant: {SQLITE_READ_ONLY}", err=True)
        raise typer.Exit(2)
    schema = settings.analytics_schema_name()
    events, views = connect(settings)
    try:
        assert isinstance(views, PostgresDatabase)
        created = analytics.grant_reader(views, schema, role, password)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None
    finally:
        events.close()
        views.close()
    log.info("role %s may read schema %s (%s)", role, schema, "created" if created else "existed")
    typer.echo(f"{role}: {'created, ' if created else ''}may read the views of schema {schema} and nothing else")


@app.command("export")
def export_command(
    fmt: Annotated[Format, typer.Option("--format", help="parquet (needs disputes[analytics]) or csv")],
    out: Annotated[Path, typer.Option("--out", help="the directory to write <read model>.<format> files into")],
) -> None:
    """Write every read model to OUT, one file per table, and a manifest.json."""
    if fmt is Format.parquet and importlib.util.find_spec("pyarrow") is None:
        typer.echo("disputes analytics export: Parquet needs pyarrow: pip install 'disputes[analytics]'", err=True)
        raise typer.Exit(2)
    events, views = connect(Settings())
    try:
        with progress_bar("export", None) as bar:

            def progress(table: export.Table, rows: int) -> export.Progress:
                bar.progress.update(bar.task, description=table.name, total=rows, completed=0)
                return bar.advance

            written = export.export(views, fmt.value, out, progress)
    finally:
        events.close()
        views.close()
    for table, rows in written.items():
        typer.echo(f"{out / f'{table}.{fmt.value}'}: {rows} rows")
