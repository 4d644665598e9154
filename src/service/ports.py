"""What the use cases need from the outside world, declared here and built
in `store` (idempotency records, blobs) by the bootstrap.

The service layer depends only on these; `store` implements them. A new
backend (an S3 blob store, another database) implements these and nothing in
the service or API changes.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO


# ------------------------------------------------------------ idempotency
@dataclass(frozen=True)
class IdempotencyClaim:
    """What a command's save() carries (as the `idempotency` keyword)."""

    scope: str
    key: str
    fingerprint: str
    outcome: dict[str, Any]


@dataclass(frozen=True)
class IdempotencyRecord:
    scope: str
    key: str
    fingerprint: str
    outcome: dict[str, Any]
    dispute_id: str | None
    version: int | None
    position: int | None


class IdempotencyKeyTaken(Exception):
    """Another request with this key committed first; nothing was appended."""


class IdempotencyStore(ABC):
    @abstractmethod
    def select_idempotency(self, scope: str, key: str) -> IdempotencyRecord | None:
        """The stored outcome of the request with this key, if any."""

    @abstractmethod
    def insert_idempotency_outcome(self, claim: IdempotencyClaim) -> None:
        """Record the outcome of a command that appended nothing (an error)."""


# ------------------------------------------------------------------ blobs
class BlobIntegrityError(Exception):
    """A stored blob no longer matches the sha256 it was recorded with."""


class BlobTooLarge(Exception):
    pass


@dataclass
class PendingBlob:
    """A blob being received: bytes are hashed and counted as they arrive.
    `complete` is set by whoever receives it once the sender's message ended as
    it should (a multipart body's closing boundary): a cut-short upload is never evidence."""

    limit: int
    _file: BinaryIO
    _path: Path
    size: int = 0
    head: bytes = b""
    complete: bool = False
    _hash: hashlib._Hash = field(default_factory=hashlib.sha256)

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise BlobTooLarge(f"the file is larger than {self.limit} bytes")
        if len(self.head) < 64:
            self.head = (self.head + chunk)[:64]
        self._hash.update(chunk)
        self._file.write(chunk)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


class BlobStore(ABC):
    @abstractmethod
    def receive(self, limit: int) -> PendingBlob:
        """Start receiving a new blob of at most `limit` bytes."""

    @abstractmethod
    def commit(self, pending: PendingBlob) -> str:
        """Keep the received bytes; returns the blob key."""

    @abstractmethod
    def discard(self, pending: PendingBlob) -> None:
        """Drop a blob that was refused."""

    @abstractmethod
    def read(self, key: str, expected_sha256: str) -> Iterator[bytes]:
        """The blob's bytes, after checking they still match `expected_sha256`."""
