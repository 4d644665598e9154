"""`disputes audit checkpoint | verify-log | keygen`: the transparency log offline."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from bootstrap import STORE_UNREACHABLE, build_app, build_checkpointer, build_views_db, ensure_views
from cli.errors import one_line
from domain.application import DisputeApp
from projections import transparency
from projections.db import Database
from projections.merkle import Builder, leaf_hash
from projections.records import Record, record, record_leaf_data
from projections.runner import Follower
from projections.transparency import TransparencyLog
from service.checkpoints import resolve_signer
from service.notes import NoteError, Signer, Verifier, parse_checkpoint
from service.settings import Settings

PAGE = 1000


def checkpoint(
    catch_up: Annotated[bool, typer.Option(help="bring the tree up to the event store first")] = True,
) -> None:
    """Issue a signed checkpoint of the transparency log now, and print it."""
    settings = Settings()
    try:
        events, views = build_app(settings), build_views_db(settings)
    except STORE_UNREACHABLE as e:
        typer.echo(f"disputes: the event store is unreachable: {one_line(e)}", err=True)
        raise typer.Exit(3) from None
    try:
        ensure_views(views, settings)
        if catch_up:
            Follower(events, views, TransparencyLog).catch_up()
        checkpointer = build_checkpointer(settings, views)
        issued = checkpointer.issue()
        latest = issued or checkpointer.store.latest()
        assert latest is not None
        if issued is None:
            typer.echo(f"the log has not grown since the checkpoint of size {latest.tree_size}", err=True)
        typer.echo(latest.note, nl=False)
    finally:
        events.close()
        views.close()


def keygen(
    name: Annotated[str | None, typer.Option(help="the key's name (default: DISPUTES_LOG_ORIGIN)")] = None,
) -> None:
    """Print a new Ed25519 signing key for DISPUTES_LOG_SIGNING_KEY (its verifier key on stderr)."""
    try:
        signer = Signer.generate(name or Settings().log_origin)
    except NoteError as e:
        raise typer.BadParameter(str(e)) from None
    typer.echo(signer.text)
    typer.echo(f"verifier key: {signer.verifier.vkey}", err=True)


def read_key(key: str | None, settings: Settings) -> Verifier:
    if key is None:
        typer.echo("warning: no --key given; trusting the configured signing key", err=True)
        return resolve_signer(settings).verifier
    text = Path(key).read_text(encoding="utf-8") if Path(key).is_file() else key
    return Verifier.parse(text)


def verify_log(
    checkpoint_file: Annotated[
        Path, typer.Option("--checkpoint", help="a signed checkpoint kept outside the database")
    ],
    key: Annotated[str | None, typer.Option("--key", help="the verifier key (vkey), or a file holding it")] = None,
) -> None:
    """Recompute the tree from the event store and check it against an older checkpoint.

    Exit status: 0 consistent, 1 tampered (naming the first bad position),
    2 the checkpoint or key is unusable, 3 the event store is unreachable."""
    settings = Settings()
    try:
        body = parse_checkpoint(read_key(key, settings).open(checkpoint_file.read_text(encoding="utf-8")))
    except (NoteError, OSError, UnicodeDecodeError) as e:
        typer.echo(f"disputes: the checkpoint cannot be used: {e}", err=True)
        raise typer.Exit(2) from None
    if body.origin != settings.log_origin:
        typer.echo(f"warning: the checkpoint's origin is {body.origin!r}, this log's {settings.log_origin!r}", err=True)
    try:
        verdict = check_store(settings, body.tree_size, body.root_hash)
    except STORE_UNREACHABLE as e:
        typer.echo(f"disputes: the event store is unreachable: {one_line(e)}", err=True)
        raise typer.Exit(3) from None
    typer.echo(verdict.line)
    if not verdict.consistent:
        raise typer.Exit(1)


@dataclass(frozen=True)
class Verdict:
    consistent: bool
    line: str


def stored_records(events: DisputeApp) -> Iterator[Record]:
    """Every stored event in position order, as the tree sees it."""
    after = 0
    while notifications := events.recorder.select_notifications(after, PAGE, inclusive_of_start=False):
        for n in notifications:
            yield record(events.mapper, n)
        after = notifications[-1].id


def check_store(settings: Settings, size: int, root: bytes) -> Verdict:
    """Rebuild the first `size` leaves from the event store and compare their root with the checkpoint's."""
    events, views = build_app(settings), build_views_db(settings)
    try:
        ensure_views(views, settings)
        builder, stored, first_diff = Builder(), 0, None
        expected = TreeLeaves(views)
        for each in stored_records(events):
            stored += 1
            if builder.size < size:
                leaf = leaf_hash(record_leaf_data(each))
                builder.append(leaf)
                if first_diff is None and expected.hash_at(builder.size - 1) != leaf.hex():
                    first_diff = (builder.size - 1, each)
        if builder.size == size and builder.root() == root:
            return Verdict(True, f"consistent: the store's first {size} events give the checkpoint's root "
                                 f"({stored} events stored now)")  # fmt: skip
        return Verdict(False, tampered(views, size, root, builder.size, first_diff))
    finally:
        events.close()
        views.close()


def tampered(views: Database, size: int, root: bytes, rebuilt: int, first_diff: tuple[int, Record] | None) -> str:
    """Name the first bad position, using the stored tree when the checkpoint vouches for it."""
    tree_matches = transparency.size(views) >= size and transparency.root_at(views, size) == root
    index = first_diff[0] if first_diff else rebuilt
    recorded = next(iter(transparency.leaves(views, index, 1)), None) if tree_matches else None
    found = first_diff[1] if first_diff else None
    now = f"the store now has {found.aggregate_id} v{found.version} at position {found.position}" if found else (
        f"the store ends after {rebuilt} events")  # fmt: skip
    if recorded is not None:
        return (
            f"TAMPERED first bad position {recorded.position}: the checkpoint's leaf {index} is "
            f"{recorded.aggregate_id} v{recorded.version} ({recorded.type}) at position {recorded.position}; {now}"
        )
    where = found.position if found else "past the end"
    return f"TAMPERED first bad position {where}: the store's leaves do not give the checkpoint's root ({now})"


class TreeLeaves:
    """The stored tree's leaf hashes, read a page at a time, to locate a difference."""

    def __init__(self, views: Database) -> None:
        self.views, self.start, self.page = views, 0, list[str]()

    def hash_at(self, index: int) -> str | None:
        if not self.start <= index < self.start + len(self.page):
            self.start, self.page = index, [leaf.leaf_hash for leaf in transparency.leaves(self.views, index, PAGE)]
        offset = index - self.start
        return self.page[offset] if offset < len(self.page) else None


def register(app: typer.Typer) -> None:
    app.command()(checkpoint)
    app.command(name="verify-log")(verify_log)
    app.command()(keygen)
