"""The `disputes` command: serve the API, mint tokens, run workers, audit."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated

import typer

from cli import audit as cli_audit
from cli import projections as cli_projections
from cli import scheduler as cli_scheduler
from domain.values import Role
from service.settings import Settings

cli = typer.Typer(help="Dispute resolution backend", no_args_is_help=True)
cli.add_typer(cli_projections.app, name="projections")
cli.add_typer(cli_scheduler.app, name="scheduler")
cli.add_typer(cli_audit.app, name="audit")


def _settings() -> Settings:
    return Settings()


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default: DISPUTES_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default: DISPUTES_PORT")] = None,
    workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes (more than 1: Postgres only)")] = 1,
    access_log: Annotated[bool, typer.Option(help="log every request (costs about as much as a small route)")] = False,
) -> None:
    """Serve the HTTP API (with in-process projections and scheduler unless disabled)."""
    import uvicorn

    from bootstrap import build_api

    settings = _settings()
    if workers > 1 and settings.backend != "postgres":
        raise typer.BadParameter("several workers need Postgres (SQLite and memory:// are one process's store)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    where = settings.database_url if settings.backend != "postgres" else "postgres"
    typer.echo(f"disputes: serving on http://{host or settings.host}:{port or settings.port} ({where})", err=True)
    # Several workers import the app by name, each building its own services from the same environment.
    target = "bootstrap:build_api" if workers > 1 else build_api(settings)
    uvicorn.run(
        target,
        factory=workers > 1,
        workers=workers,
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
        access_log=access_log,
    )


@cli.command()
def token(
    role: Annotated[Role, typer.Option(help="buyer, seller, agent, auditor or analyst")],
    sub: Annotated[str, typer.Option(help="the actor id")],
    ttl: Annotated[int, typer.Option(help="seconds until it expires")] = 3600,
) -> None:
    """Mint a bearer token for local use (signed with DISPUTES_JWT_SECRET)."""
    from api.auth import API_ROLES, mint, resolve_secret

    if role not in API_ROLES:
        raise typer.BadParameter("tokens are for buyer, seller, agent, auditor or analyst")
    typer.echo(mint(resolve_secret(_settings()), role, sub, timedelta(seconds=ttl)))


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
