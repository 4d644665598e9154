"""`disputes audit checkpoint | verify-log | keygen`: the transparency log offline."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer

from bootstrap import STORE_UNREACHABLE, build_app, build_checkpointer, build_views_db, ensure_views
from cli.errors import one_line
from domain.application import DisputeApp
from domain.chain import GENESIS, NotCanonical, next_chain_hash
from projections import transparency
from projections.db import Database
from projections.merkle import Builder, leaf_hash
from projections.records import Record, record, record_leaf_data
from projections.runner import Follower
from projections.transparency import TransparencyLog
from service.checkpoints import resolve_signer
from service.notes import NoteError, Signer, Verifier, parse_checkpoint
from service.recorded import UNREADABLE, recorded_state
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
        issued = checkpointer.issue(empty=True)
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


def stored_records(events: DisputeApp) -> Iterator[tuple[Record, dict[str, Any] | None]]:
    """Every stored event in position order: as the tree sees it, and its decoded fields (None if unreadable)."""
    after = 0
    while notifications := events.recorder.select_notifications(after, PAGE, inclusive_of_start=False):
        for n in notifications:
            try:
                fields: dict[str, Any] | None = recorded_state(events.mapper, n)
            except UNREADABLE:
                fields = None
            yield record(events.mapper, n), fields if isinstance(fields, dict) else None
        after = notifications[-1].id


@dataclass
class Chains:
    """Each aggregate's chain, followed in position order: the first event that does not link.
    Any aggregate whose events record a `chain_hash` is followed (disputes, and others that chain)."""

    heads: dict[UUID, tuple[int, str]] = field(default_factory=dict)
    first_bad: Record | None = None

    def follow(self, leaf: Record, fields: dict[str, Any] | None) -> None:
        if fields is not None and "chain_hash" not in fields and leaf.aggregate_id not in self.heads:
            return  # an aggregate without a hash chain: its leaf alone covers it
        version, previous = self.heads.get(leaf.aggregate_id, (0, GENESIS))
        try:
            expected = None if fields is None else next_chain_hash(previous, leaf.aggregate_id, leaf.version,
                                                                   leaf.type, fields)  # fmt: skip
        except NotCanonical:
            expected = None
        links = expected is not None and leaf.version == version + 1 and fields is not None and (
            fields.get("chain_hash") == expected)  # fmt: skip
        if not links and self.first_bad is None:
            self.first_bad = leaf
        self.heads[leaf.aggregate_id] = (leaf.version, str(fields.get("chain_hash") if fields else None))


def check_store(settings: Settings, size: int, root: bytes) -> Verdict:
    """Rebuild the first `size` leaves from the event store and compare their root with the
    checkpoint's; follow every chain too (the leaves hold chain hashes, the chains cover the data)."""
    events, views = build_app(settings), build_views_db(settings)
    try:
        ensure_views(views, settings)
        builder, stored, first_diff, chains = Builder(), 0, None, Chains()
        expected = TreeLeaves(views)
        for each, recorded in stored_records(events):
            stored += 1
            chains.follow(each, recorded)
            if builder.size < size:
                leaf = leaf_hash(record_leaf_data(each))
                builder.append(leaf)
                if first_diff is None and expected.hash_at(builder.size - 1) != leaf.hex():
                    first_diff = (builder.size - 1, each)
        problems = [] if chains.first_bad is None else [chain_problem(chains.first_bad)]
        if builder.size != size or builder.root() != root:
            problems.append(tree_problem(views, size, root, builder.size, first_diff))
        if not problems:
            return Verdict(True, f"consistent: the store's first {size} events give the checkpoint's root "
                                 f"and every chain holds ({stored} events stored now)")  # fmt: skip
        position, _ = min(problems, key=lambda p: p[0])
        return Verdict(False, f"TAMPERED first bad position {position}: " + "; ".join(p[1] for p in problems))
    finally:
        events.close()
        views.close()


LAST = 2**63 - 1


def chain_problem(bad: Record) -> tuple[int, str]:
    return bad.position, f"{bad.aggregate_id} v{bad.version} at position {bad.position} does not match its chain hash"


def tree_problem(
    views: Database, size: int, root: bytes, rebuilt: int, first_diff: tuple[int, Record] | None
) -> tuple[int, str]:
    """Where the store's leaves stop giving the checkpoint's root: the stored tree names
    the position the checkpoint recorded there, when the checkpoint vouches for that tree."""
    tree_matches = transparency.size(views) >= size and transparency.root_at(views, size) == root
    index = first_diff[0] if first_diff else rebuilt
    recorded = next(iter(transparency.leaves(views, index, 1)), None) if tree_matches else None
    found = first_diff[1] if first_diff else None
    now = f"the store now has {found.aggregate_id} v{found.version} at position {found.position}" if found else (
        f"the store ends after {rebuilt} events")  # fmt: skip
    if recorded is not None:
        return recorded.position, (
            f"the checkpoint's leaf {index} is {recorded.aggregate_id} v{recorded.version} ({recorded.type}) "
            f"at position {recorded.position}; {now}"
        )
    return (found.position if found else LAST), f"the store's leaves do not give the checkpoint's root ({now})"


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
