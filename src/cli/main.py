"""The `disputes` command: serve the API, mint tokens, run workers, audit."""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from typing import Annotated, Any

import typer

from cli import analytics as cli_analytics
from cli import audit as cli_audit
from cli import orders as cli_orders
from cli import projections as cli_projections
from cli import scheduler as cli_scheduler
from cli import seed as cli_seed
from cli import transparency as cli_transparency
from cli import webhooks as cli_webhooks
from cli.errors import EXPECTED, describe
from domain.values import Role
from service.logs import configure_logging
from service.settings import Settings

cli = typer.Typer(help="Dispute resolution backend", no_args_is_help=True)
cli.add_typer(cli_projections.app, name="projections")
cli.add_typer(cli_scheduler.app, name="scheduler")
cli_transparency.register(cli_audit.app)
cli.add_typer(cli_audit.app, name="audit")
cli.add_typer(cli_webhooks.app, name="webhooks")
cli.add_typer(cli_analytics.app, name="analytics")
cli.add_typer(cli_orders.app, name="orders")
cli.command("seed")(cli_seed.seed)


debugging = {"on": False}


def _settings() -> Settings:
    return Settings()


@cli.callback()
def everything(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="tracebacks for configuration and connection errors")] = False,
) -> None:
    """Every command logs JSON lines to standard error (DISPUTES_LOG_FORMAT=console for humans)."""
    debugging["on"] = debug
    settings = _settings()
    configure_logging(settings.log_format, "DEBUG" if debug else settings.log_level, ctx.invoked_subcommand or "cli")


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default: DISPUTES_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default: DISPUTES_PORT")] = None,
    workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes (more than 1: Postgres only)")] = 1,
    access_log: Annotated[
        bool, typer.Option(help="uvicorn's line per request (--no-access-log saves its cost)")
    ] = True,
) -> None:
    """Serve the HTTP API (with in-process projections and scheduler unless disabled)."""
    import uvicorn

    from bootstrap import build_api

    settings = _settings()
    workers = workers if workers > 1 else settings.web_workers
    if workers > 1 and settings.backend != "postgres":
        raise typer.BadParameter("several workers need Postgres (SQLite and memory:// are one process's store)")
    where = settings.database_url if settings.backend != "postgres" else "postgres"
    typer.echo(f"disputes: serving on http://{host or settings.host}:{port or settings.port} ({where})", err=True)
    # Several workers import the app by name, each building its own services from the same environment.
    uvicorn.run(
        "bootstrap:build_api" if workers > 1 else build_api(settings),
        factory=workers > 1,
        workers=workers,
        access_log=access_log,
        host=host or settings.host,
        port=port or settings.port,
        log_config=None,  # the loggers are ours (service.logs): JSON lines, access log included
        log_level=settings.log_level.lower(),
        # Idle keep-alive connections are closed; with h11 the server itself refuses
        # a header block past the limit before buffering it (api.limits answers 431
        # for any server). Body reads are timed in api.limits, never responses.
        timeout_keep_alive=max(1, int(settings.keep_alive_timeout.total_seconds())),
        h11_max_incomplete_event_size=settings.max_header_bytes + 1024,
        **_worker_patience(uvicorn),
    )


def _worker_patience(uvicorn: Any) -> dict[str, Any]:
    """A spawned worker answers the supervisor's health ping only once it has re-imported the
    app (~2.5 s of CPU); on a loaded machine that passed uvicorn's 5 s default and every worker
    was killed and respawned in a loop, never serving. (Older uvicorns have no such check.)"""
    import inspect

    known = "timeout_worker_healthcheck" in inspect.signature(uvicorn.Config).parameters
    return {"timeout_worker_healthcheck": 30} if known else {}


@cli.command()
def token(
    role: Annotated[Role, typer.Option(help="buyer, seller, agent, auditor, analyst or platform")],
    sub: Annotated[str, typer.Option(help="the actor id")],
    ttl: Annotated[int, typer.Option(help="seconds until it expires")] = 3600,
) -> None:
    """Mint a bearer token for local use (signed with DISPUTES_JWT_SECRET)."""
    from api.auth import API_ROLES, mint, resolve_secret

    if role not in API_ROLES:
        raise typer.BadParameter("tokens are for buyer, seller, agent, auditor, analyst or platform")
    if _settings().jwt_jwks_url:
        raise typer.BadParameter("DISPUTES_JWT_JWKS_URL is set: tokens come from the identity provider")
    typer.echo(mint(resolve_secret(_settings()), role, sub, timedelta(seconds=ttl)))


@cli.command("wait-ready")
def wait_ready(
    url: Annotated[str | None, typer.Option(help="default: http://DISPUTES_HOST:DISPUTES_PORT/readyz")] = None,
    timeout: Annotated[float, typer.Option(help="seconds to wait at most")] = 180,
) -> None:
    """Wait until the API answers /readyz with 200 (exit 1 if it does not in time)."""
    settings = _settings()
    url = url or f"http://{settings.host}:{settings.port}/readyz"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - a URL the user gave
                if answer.status == 200:
                    typer.echo(f"ready: {url}", err=True)
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    typer.echo(f"not ready after {timeout:g}s: {url}", err=True)
    raise typer.Exit(1)


def main() -> None:
    try:
        cli()
    except EXPECTED as e:
        if debugging["on"]:
            raise
        typer.echo(f"disputes: {describe(e)}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
