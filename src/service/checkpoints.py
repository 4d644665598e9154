"""Signed checkpoints of the transparency log: issuing them, keeping them
(their own table, never events, so issuing one never grows the log), and
the key that signs them."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from projections import transparency
from projections.db import Database
from service.notes import Signer, checkpoint_text
from service.settings import ConfigurationError, Settings

log = logging.getLogger("disputes.checkpoints")


@dataclass(frozen=True)
class Checkpoint:
    tree_size: int
    root_hash: bytes
    issued_at: datetime
    note: str

    def document(self) -> dict[str, object]:
        return {
            "tree_size": self.tree_size,
            "root_hash": base64.b64encode(self.root_hash).decode(),
            "issued_at": self.issued_at,
            "note": self.note,
        }


class CheckpointStore(ABC):
    @abstractmethod
    def ensure_tables(self) -> None: ...

    @abstractmethod
    def add(self, checkpoint: Checkpoint) -> Checkpoint:
        """Keep `checkpoint`; the one kept for its tree size if another process issued it first."""

    @abstractmethod
    def latest(self) -> Checkpoint | None: ...

    @abstractmethod
    def page(self, after_size: int, limit: int) -> list[Checkpoint]:
        """Checkpoints with a tree size above `after_size`, oldest first."""

    def known_to_cover(self, size: int) -> bool:
        """True when a checkpoint of at least `size` leaves is known to exist without asking the
        database (checkpoints are never withdrawn, so what was once seen stays true)."""
        return False


def dev_key_path(settings: Settings) -> Path:
    """Beside the database, like the development JWT secret."""
    if settings.backend == "sqlite":
        return Path(settings.sqlite_path).resolve().parent / "log-signing-key"
    if settings.backend == "postgres":
        pg = settings.postgres_params()
        where = f"{pg['host']}:{pg['port']}/{pg['dbname']}/{pg['schema']}"
        return Path(settings.var_dir).resolve() / f"log-signing-key-{hashlib.sha256(where.encode()).hexdigest()[:12]}"
    return Path(settings.var_dir).resolve() / "log-signing-key"


def resolve_signer(settings: Settings) -> Signer:
    """The configured key; outside production one is generated once and kept beside the database."""
    if settings.log_signing_key:
        return Signer.parse(settings.log_signing_key)
    if settings.env == "production":
        raise ConfigurationError("DISPUTES_LOG_SIGNING_KEY is required in production (`disputes audit keygen`)")
    path = dev_key_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    signer = Signer.generate(settings.log_origin)
    try:  # exclusive create: processes starting together keep one key
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
            file.write(signer.text)
    except FileExistsError:
        for _ in range(50):  # the other writer may not have written it yet
            if existing := path.read_text().strip():
                return Signer.parse(existing)
            time.sleep(0.02)
        raise ConfigurationError(f"{path} is empty: delete it or set DISPUTES_LOG_SIGNING_KEY") from None
    print(f"Generated a development log signing key in {path} (verifier key {signer.verifier.vkey})", file=sys.stderr)
    return signer


@dataclass
class Checkpointer:
    """Signs the tree as it stands, when it grew since the latest checkpoint."""

    views: Database
    store: CheckpointStore
    signer: Signer
    origin: str
    clock: Callable[[], datetime]
    directory: Path | None = None

    def issue(self, *, empty: bool = False) -> Checkpoint | None:
        """A new checkpoint of the whole tree, or None when the latest one already covers it
        (or, unless `empty`, when there is none and the tree is still empty)."""
        latest = self.store.latest()
        size = transparency.size(self.views)
        if (latest is not None and latest.tree_size >= size) or (latest is None and size == 0 and not empty):
            return None
        root = transparency.root_at(self.views, size)
        note = self.signer.sign(checkpoint_text(self.origin, size, root))
        kept = self.store.add(Checkpoint(size, root, self.clock(), note))
        if self.directory is not None:
            self.write(kept)
        log.info("checkpoint issued", extra={"tree_size": size})
        return kept

    def covering(self, size: int) -> Checkpoint | None:
        """The latest checkpoint if it covers `size` leaves, else a new one (if the tree has them)."""
        latest = self.store.latest()
        if latest is not None and latest.tree_size >= size:
            return latest
        issued = self.issue()
        return issued if issued is not None and issued.tree_size >= size else None

    def write(self, checkpoint: Checkpoint) -> None:
        """One file per checkpoint, named by its tree size, written whole (a rename) and never replaced."""
        assert self.directory is not None
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / f"{checkpoint.tree_size}.txt"
        if target.exists():
            return
        partial = self.directory / f".{checkpoint.tree_size}.txt.{os.getpid()}"
        partial.write_text(checkpoint.note, encoding="utf-8")
        os.replace(partial, target)

    def run_forever(self, stop: threading.Event, interval: float) -> None:
        """Issue a checkpoint every `interval` seconds when the log grew; failures are logged and retried."""
        while not stop.is_set():
            try:
                self.issue()
            except Exception:
                log.exception("issuing a checkpoint failed; trying again in %.0fs", interval)
            stop.wait(interval)


def checkpoint_status(store: CheckpointStore, views: Database, now: datetime) -> dict[str, object] | None:
    """The latest checkpoint for `GET /v1/ops/status`: its size, root and age, and how many
    leaves the tree has taken in since (None while no checkpoint was issued)."""
    latest = store.latest()
    if latest is None:
        return None
    tree = transparency.size(views)
    return {
        "tree_size": latest.tree_size,
        "root_hash": base64.b64encode(latest.root_hash).decode(),
        "issued_at": latest.issued_at,
        "age_seconds": max((now - latest.issued_at).total_seconds(), 0.0),
        "tree_size_now": tree,
        "unsigned_leaves": max(tree - latest.tree_size, 0),
    }
