"""The `disputes` command: serve the API, mint tokens, run workers, audit."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated

import typer

from cli import audit as cli_audit
from cli import projections as cli_projections
from cli import scheduler as cli_scheduler
from cli import webhooks as cli_webhooks
from domain.values import Role
from service.settings import Settings

cli = typer.Typer(help="Dispute resolution backend", no_args_is_help=True)
cli.add_typer(cli_projections.app, name="projections")
cli.add_typer(cli_scheduler.app, name="scheduler")
cli.add_typer(cli_audit.app, name="audit")
cli.add_typer(cli_webhooks.app, name="webhooks")


def _settings() -> Settings:
    return Settings()


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default: DISPUTES_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default: DISPUTES_PORT")] = None,
) -> None:
    """Serve the HTTP API (with in-process projections and scheduler unless disabled)."""
    import uvicorn

    from bootstrap import build_api

    settings = _settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    where = settings.database_url if settings.backend != "postgres" else "postgres"
    typer.echo(f"disputes: serving on http://{host or settings.host}:{port or settings.port} ({where})", err=True)
    uvicorn.run(build_api(settings), host=host or settings.host, port=port or settings.port, log_level="info")


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
