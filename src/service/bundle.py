"""A dispute's file anyone can verify offline: its events as recorded, a
signed checkpoint, the verifier key, an inclusion proof for every event and
the evidence files' digests (docs/audit.md, scripts/verify_bundle.py)."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from tempfile import SpooledTemporaryFile
from typing import IO, Any
from uuid import UUID

from eventsourcing.persistence import Notification

from domain.application import DisputeApp
from domain.errors import DisputeNotFound
from domain.values import Actor
from domain.visibility import Read
from projections import transparency
from projections.db import Database
from projections.records import event_type, raw_fields
from service.audit import authorize
from service.checkpoints import Checkpointer
from service.log_reads import b64
from service.notes import Verifier
from service.ports import BlobStore
from service.recorded import positioned

SPOOL_BYTES = 8 * 1024 * 1024
CHUNK = 64 * 1024


class TreeBehind(Exception):
    """The tree (or a checkpoint) does not cover the dispute's last event yet."""


@dataclass
class BundleSources:
    app: DisputeApp
    views: Database
    checkpoints: Checkpointer
    blobs: BlobStore
    verifier: Verifier


def stored_events(app: DisputeApp, dispute_id: UUID, page: int = 500) -> list[Notification]:
    recorder, after, found = positioned(app), 0, list[Notification]()
    while batch := recorder.select_events_with_positions(dispute_id, gt=after, limit=page):
        found.extend(batch)
        after = batch[-1].originator_version
    return found


def event_line(app: DisputeApp, n: Notification) -> dict[str, Any]:
    """An event as recorded: its columns, and its stored JSON (decrypted, not transcoded; null if unreadable)."""
    return {
        "position": n.id,
        "aggregate_id": str(n.originator_id),
        "version": n.originator_version,
        "topic": n.topic,
        "type": event_type(n.topic),
        "state": raw_fields(app.mapper, n.state),
    }


def evidence_of(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {k: line["state"].get(k) for k in ("evidence_id", "sha256", "size", "media_type", "blob_key")}
        for line in lines
        if line["type"] == "EvidenceSubmitted" and isinstance(line["state"], dict)
    ]


def build_bundle(src: BundleSources, dispute_id: UUID, actor: Actor, include_files: bool) -> IO[bytes]:
    """The ZIP archive, in a spooled temporary file positioned at its start."""
    authorize(src.app, dispute_id, actor, Read.BUNDLE)
    events = stored_events(src.app, dispute_id)
    if not events:
        raise DisputeNotFound(f"no dispute {dispute_id}")
    leaves = transparency.leaves_at(src.views, [n.id for n in events])
    if len(leaves) < len(events):
        raise TreeBehind(f"the transparency log has not yet recorded every event of dispute {dispute_id}")
    checkpoint = src.checkpoints.covering(max(leaf.leaf_index for leaf in leaves.values()) + 1)
    if checkpoint is None:
        raise TreeBehind("no checkpoint covers the dispute's last event yet")
    lines = [event_line(src.app, n) for n in events]
    proofs = [
        {
            "position": n.id,
            "leaf_index": leaves[n.id].leaf_index,
            "leaf_hash": b64(bytes.fromhex(leaves[n.id].leaf_hash)),
            "proof": [b64(p) for p in transparency.inclusion(src.views, leaves[n.id].leaf_index, checkpoint.tree_size)],
        }
        for n in events
    ]
    evidence = evidence_of(lines)
    archive: IO[bytes] = SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - returned open
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("events.jsonl", "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
        z.writestr("checkpoint.txt", checkpoint.note)
        z.writestr("key.txt", src.verifier.vkey + "\n")
        z.writestr("proofs.json", json.dumps({"tree_size": checkpoint.tree_size, "proofs": proofs}, indent=1))
        z.writestr("evidence.json", json.dumps([{k: v for k, v in e.items() if k != "blob_key"} for e in evidence],
                                               indent=1))  # fmt: skip
        if include_files:
            for item in {e["sha256"]: e for e in evidence}.values():
                with z.open(f"files/{item['sha256']}", "w") as sink:
                    for chunk in src.blobs.read(str(item["blob_key"]), str(item["sha256"])):
                        sink.write(chunk)
    archive.seek(0)
    return archive


def chunks(archive: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := archive.read(CHUNK):
            yield chunk
    finally:
        archive.close()
