"""`disputes audit replay ID | verify [ID | --all] | export`: for auditors
working offline against the database named by DISPUTES_DATABASE_URL."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, BinaryIO, TypeVar
from uuid import UUID

import typer
from eventsourcing.domain import OriginatorVersionError
from eventsourcing.persistence import MapperDeserialisationError

from api import audit_export, presenters
from api.audit_models import history_entry
from bootstrap import STORE_UNREACHABLE, build_app, build_views_db, ensure_views
from cli.errors import one_line
from cli.progress import Bar, progress_bar
from domain.application import DisputeApp
from domain.values import Actor, Role
from projections.audit_log import AuditFilter, AuditLog, all_entries
from projections.db import Database
from projections.runner import Follower, lag
from service import audit as audit_reads
from service.recorded import AGGREGATE_TOPICS, ChainReport, dispute_ids, verify_chain
from service.settings import Settings

app = typer.Typer(help="Offline audit: replay a dispute, verify chains, export the audit log", no_args_is_help=True)
T = TypeVar("T")
OFFLINE_AUDITOR = Actor("offline-auditor", Role.AUDITOR)


def compact(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


@contextmanager
def event_store() -> Iterator[DisputeApp]:
    events = build_app(Settings())
    try:
        yield events
    finally:
        events.close()


@app.command()
def replay(
    dispute_id: Annotated[UUID, typer.Argument(help="the dispute to replay")],
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per event: {event, state}")] = False,
) -> None:
    """Print each recorded event of DISPUTE_ID and the dispute's state right after it."""
    replayed = 0
    with event_store() as events:
        try:
            for recorded, dispute in audit_reads.replay(events, dispute_id):
                entry = history_entry(recorded)
                assert dispute.modified_on is not None
                state = presenters.dispute(dispute, OFFLINE_AUDITOR, dispute.modified_on).model_dump(mode="json")
                typer.echo(compact({"event": entry, "state": state}) if as_json else describe(entry, state))
                replayed += 1
        except (MapperDeserialisationError, OriginatorVersionError) as e:
            typer.echo(f"cannot replay past version {replayed}: {e}", err=True)
            typer.echo(f"run `disputes audit verify {dispute_id}` to locate the damage", err=True)
            raise typer.Exit(1) from None
    if not replayed:
        typer.echo(f"no events for dispute {dispute_id}", err=True)
        raise typer.Exit(2)


def describe(entry: dict[str, Any], state: dict[str, Any]) -> str:
    actor = entry["actor"]
    return "\n".join(
        [
            f"v{entry['version']} {entry['type']} at {entry['occurred_at']} by {actor['id']} ({actor['role']}), "
            f"position {entry['position']}",
            f"  request {entry['request_id']}, idempotency key {entry['idempotency_key'] or '-'}",
            f"  chain_hash {entry['chain_hash']}",
            f"  data  {compact(entry['data'])}",
            f"  state {compact(state)}",
        ]
    )


@app.command()
def verify(
    dispute_id: Annotated[UUID | None, typer.Argument(help="the dispute to verify")] = None,
    all_disputes: Annotated[
        bool, typer.Option("--all", help="verify every dispute (and every order) in the store")
    ] = False,
) -> None:
    """Recompute hash chains from the stored events (orders' chains too: each
    order's aggregate id is checked like a dispute's).

    Exit status: 0 every chain is valid, 1 a chain is broken (tampered),
    2 no such dispute or bad arguments, 3 the event store is unreachable."""
    if (dispute_id is None) == (not all_disputes):
        raise typer.BadParameter("give a dispute id or --all (not both)")
    try:
        checked, broken = verify_chains(dispute_id)
    except STORE_UNREACHABLE as e:
        typer.echo(f"disputes: the event store is unreachable: {one_line(e)}", err=True)
        raise typer.Exit(3) from None
    typer.echo(f"{checked} checked, {broken} broken", err=True)
    if broken:
        raise typer.Exit(1)


def verify_chains(dispute_id: UUID | None) -> tuple[int, int]:
    """(checked, broken): one dispute, or every dispute (with a progress bar)."""
    broken = checked = 0
    with event_store() as events:
        ids = [dispute_id] if dispute_id is not None else list(dispute_ids(events))
        with progress_bar("verifying chains", len(ids) if dispute_id is None else None) as bar:
            for each in ids:
                report = verify_chain(events, each, creates=AGGREGATE_TOPICS)
                if report.events == 0:
                    typer.echo(f"no events for dispute {each}", err=True)
                    raise typer.Exit(2)
                typer.echo(verdict(each, report))
                broken, checked = broken + (not report.valid), checked + 1
                bar.advance()
    return checked, broken


def verdict(dispute_id: UUID, report: ChainReport) -> str:
    if report.valid:
        return f"{dispute_id} valid {report.events} events head {report.head}"
    return f"{dispute_id} INVALID first_invalid_version {report.first_invalid_version}: {report.problem}"


@app.command()
def export(
    fmt: Annotated[audit_export.ExportFormat, typer.Option("--format", help="jsonl or csv")],
    dispute_id: Annotated[UUID | None, typer.Option(help="only this dispute")] = None,
    actor_id: Annotated[str | None, typer.Option(help="only events by this actor")] = None,
    event_type: Annotated[str | None, typer.Option("--type", help="only this event type")] = None,
    since: Annotated[str | None, typer.Option(help="occurred at or after (ISO 8601; UTC if no offset)")] = None,
    until: Annotated[str | None, typer.Option(help="occurred before (ISO 8601; UTC if no offset)")] = None,
    output: Annotated[Path | None, typer.Option(help="write here instead of standard output")] = None,
    catch_up: Annotated[bool, typer.Option(help="bring the audit log up to the event store first")] = False,
) -> None:
    """Stream the audit log (the audit_log read model) as JSON Lines or CSV."""
    settings = Settings()
    filters = AuditFilter(dispute_id, actor_id, event_type, parse_time(since, "--since"), parse_time(until, "--until"))
    with event_store() as events:
        views = build_views_db(settings)
        try:
            ensure_views(views, settings)
            behind = catch_up_or_warn(events, views, catch_up)
            with open_output(output) as sink, progress_bar("exporting the audit log", None) as bar:
                for chunk in audit_export.encode(fmt, counted(all_entries(views, filters), bar)):
                    sink.write(chunk)
        finally:
            views.close()
    if behind:
        typer.echo(f"warning: the audit log trails the event store by {behind} events (use --catch-up)", err=True)


def counted(entries: Iterable[T], bar: Bar) -> Iterator[T]:
    for entry in entries:
        bar.advance()
        yield entry


def catch_up_or_warn(events: DisputeApp, views: Database, catch_up: bool) -> int:
    """How many events the audit log trails the store by (after catching up, if asked)."""
    if catch_up:
        Follower(events, views, AuditLog).catch_up()
    position, head = lag(events, views, AuditLog)
    return max(head - (position or 0), 0)


def parse_time(value: str | None, option: str) -> datetime | None:
    """RFC 3339 / ISO 8601; a time without an offset is taken as UTC."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{option} must be an ISO 8601 time, e.g. 2026-03-02T09:00:00Z") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@contextmanager
def open_output(path: Path | None) -> Iterator[BinaryIO]:
    if path is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    with path.open("wb") as sink:
        yield sink
