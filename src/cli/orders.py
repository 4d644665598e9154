"""`disputes orders import FILE.jsonl`: register or update many orders at
once, through the same command as `PUT /v1/orders/{order_id}`.

Each line is one JSON object: `order_id` and the order's terms, exactly as
the PUT's body (`api.order_schemas.OrderLine`). Every good line is put on its
own, so a bad line (reported with its number on standard error) never keeps
the others out, and running the file again records nothing for the lines
already in. The exit status is 1 when any line was refused, so a script
notices; fix those lines and run the file again.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from api.order_schemas import OrderLine
from bootstrap import build_services
from cli.progress import progress_bar
from domain.values import Actor, Role
from service.orders import ParsedLine, now_context
from service.settings import Settings

app = typer.Typer(help="Orders the marketplace registers: bulk import", no_args_is_help=True)


def parse(line: str) -> ParsedLine:
    try:
        order = OrderLine.model_validate(json.loads(line))
    except ValidationError as e:
        problems = (f"{'.'.join(str(p) for p in error['loc']) or 'line'}: {error['msg']}" for error in e.errors())
        raise ValueError("; ".join(problems)) from None
    except json.JSONDecodeError as e:
        raise ValueError(f"not JSON: {e.msg} at column {e.colno}") from None
    return order.order_id, order.terms()


@app.command("import")
def import_orders(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSON lines, one order each")],
    actor: Annotated[str, typer.Option(help="the platform account recorded as the orders' author")] = "orders-import",
) -> None:
    """Put every order of FILE (JSON lines: order_id and the PUT body's fields).
    Exit status: 0 every line is in, 1 some lines were refused (the others are in)."""
    settings = Settings()
    services = build_services(settings, jwt_secret="")
    recorded = unchanged = 0
    bad: list[tuple[int, str]] = []
    try:
        with file.open(encoding="utf-8") as counting:
            total = sum(1 for _ in counting)
        ctx_for = now_context(Actor(actor, Role.PLATFORM), services.clock, f"import-{uuid.uuid4().hex[:12]}")
        with file.open(encoding="utf-8") as lines, progress_bar("importing orders", total) as bar:
            for result in services.orders.import_lines(lines, parse, ctx_for, bar.advance):
                if result.problem is not None:
                    bad.append((result.number, result.problem))
                    typer.echo(f"{file.name}:{result.number}: {result.problem}", err=True)
                elif result.changed:
                    recorded += 1
                else:
                    unchanged += 1
    finally:
        services.close()
    typer.echo(f"{recorded} recorded, {unchanged} unchanged, {len(bad)} refused", err=True)
    if bad:
        raise typer.Exit(1)
