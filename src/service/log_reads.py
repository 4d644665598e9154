"""Reads of the transparency log: proofs against a signed checkpoint, and a
dispute's history with each event checked against its chain and its leaf."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from uuid import UUID

from domain.application import DisputeApp
from domain.chain import GENESIS, NotCanonical, next_chain_hash
from domain.values import Actor
from projections import transparency
from projections.db import Database
from projections.merkle import leaf_hash
from projections.records import leaf_data
from service.audit import history
from service.checkpoints import CheckpointStore
from service.recorded import DISPUTE_TOPIC, RecordedEvent, recorded_page


class LogReadError(Exception):
    code = "validation_error"


class BeyondCheckpoint(LogReadError):
    """A tree size above the latest checkpoint: nothing signed vouches for it yet."""

    code = "tree_size_unknown"


class LeafNotFound(LogReadError):
    code = "leaf_not_found"


class LeafNotInTree(LogReadError):
    code = "leaf_not_in_tree"


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def signed_size(store: CheckpointStore, tree_size: int | None) -> int:
    """`tree_size` (default: the latest checkpoint's), refused above the latest checkpoint."""
    if tree_size is not None and store.known_to_cover(tree_size):
        return tree_size
    latest = store.latest()
    if latest is None or (tree_size is not None and tree_size > latest.tree_size):
        signed = latest.tree_size if latest else "none"
        raise BeyondCheckpoint(f"tree size {tree_size} is above the latest checkpoint's ({signed})")
    return latest.tree_size if tree_size is None else tree_size


def inclusion(views: Database, store: CheckpointStore, position: int, tree_size: int | None) -> dict[str, object]:
    size = signed_size(store, tree_size)
    leaf, proof = transparency.leaf_and_proof(views, position, size)
    if leaf is None:
        raise LeafNotFound(f"the log has no leaf for position {position}")
    if leaf.leaf_index >= size:
        raise LeafNotInTree(f"position {position} is leaf {leaf.leaf_index}, not in the first {size} leaves")
    return {
        "leaf_index": leaf.leaf_index,
        "tree_size": size,
        "leaf_hash": b64(bytes.fromhex(leaf.leaf_hash)),
        "proof": [b64(p) for p in proof],
    }


def consistency(views: Database, store: CheckpointStore, old: int, new: int) -> dict[str, object]:
    if not 1 <= old <= new:
        raise LogReadError(f"need 1 <= from <= to, not from={old} to={new}")
    signed_size(store, new)
    return {"from": old, "to": new, "proof": [b64(p) for p in transparency.consistency(views, old, new)]}


def event_leaf_hash(dispute_id: UUID, event: RecordedEvent) -> bytes:
    return leaf_hash(leaf_data(event.position, dispute_id, event.version, event.type, event.chain_hash))


@dataclass(frozen=True)
class CheckedEvent:
    event: RecordedEvent
    leaf_hash: bytes
    chain_valid: bool
    """Its chain hash follows from its predecessor's as stored and from its own
    content, and the tree's leaf for its position (once the tree has it) is this event's."""


def checked_history(
    app: DisputeApp, views: Database, dispute_id: UUID, actor: Actor, after: int, limit: int
) -> list[CheckedEvent]:
    events = history(app, dispute_id, actor, after, limit)
    previous = recorded_page(app, dispute_id, after=after - 1, limit=1) if after > 0 and events else []
    tree = transparency.leaves_at(views, [e.position for e in events])
    before, checked = (previous[0] if previous else None), []
    for event in events:
        leaf = event_leaf_hash(dispute_id, event)
        in_tree = tree.get(event.position)
        valid = links(before, event, dispute_id) and (in_tree is None or in_tree.leaf_hash == leaf.hex())
        checked.append(CheckedEvent(event, leaf, valid))
        before = event
    return checked


def links(before: RecordedEvent | None, event: RecordedEvent, dispute_id: UUID) -> bool:
    """Whether `event` is the valid successor of `before` (None: it must be version 1)."""
    if not event.readable or event.version != (before.version + 1 if before else 1):
        return False
    if before is None and event.fields.get("originator_topic") != DISPUTE_TOPIC:
        return False
    previous = before.chain_hash if before else GENESIS
    if previous is None:
        return False
    try:
        return next_chain_hash(previous, dispute_id, event.version, event.type, event.fields) == event.chain_hash
    except NotCanonical:
        return False
