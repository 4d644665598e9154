"""Content-addressed evidence blobs behind a small interface.

`LocalBlobStore` keeps files under one directory as sha256/ab/cd/<hash>; an
S3-compatible store would implement the same four methods. The client's file
name is never used as a path.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

CHUNK = 64 * 1024


class BlobIntegrityError(Exception):
    """A stored blob no longer matches the sha256 it was recorded with."""


class BlobTooLarge(Exception):
    pass


@dataclass
class PendingBlob:
    """A blob being received: bytes are hashed and counted as they arrive."""

    limit: int
    _file: BinaryIO
    _path: Path
    size: int = 0
    head: bytes = b""
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


def blob_key(sha256: str) -> str:
    return f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"


class LocalBlobStore(BlobStore):
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        (self.root / "incoming").mkdir(parents=True, exist_ok=True)

    def receive(self, limit: int) -> PendingBlob:
        fd, name = tempfile.mkstemp(dir=self.root / "incoming")
        return PendingBlob(limit=limit, _file=os.fdopen(fd, "wb"), _path=Path(name))

    def commit(self, pending: PendingBlob) -> str:
        pending._file.close()
        key = blob_key(pending.sha256)
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists() and self._digest(target) == pending.sha256:
            pending._path.unlink(missing_ok=True)
        else:  # new, or a damaged copy that this good upload repairs
            os.replace(pending._path, target)
        return key

    def discard(self, pending: PendingBlob) -> None:
        pending._file.close()
        pending._path.unlink(missing_ok=True)

    def read(self, key: str, expected_sha256: str) -> Iterator[bytes]:
        path = self._path(key)
        if self._digest(path) != expected_sha256:
            raise BlobIntegrityError(f"blob {key} does not match its recorded sha256")
        return self._stream(path)

    @staticmethod
    def _digest(path: Path) -> str:
        digest = hashlib.sha256()
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(CHUNK), b""):
                digest.update(chunk)
        return digest.hexdigest()

    @staticmethod
    def _stream(path: Path) -> Iterator[bytes]:
        with path.open("rb") as f:
            yield from iter(lambda: f.read(CHUNK), b"")

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if len(parts) != 4 or parts[0] != "sha256" or not all(p.isalnum() for p in parts[1:]):
            raise BlobIntegrityError(f"malformed blob key {key!r}")
        return self.root.joinpath(*parts)


MAGIC: list[tuple[int, bytes, str]] = [
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"%PDF-", "application/pdf"),
]
MP4_BRANDS = frozenset({b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"dash"})


def sniff_media_type(head: bytes) -> str | None:
    """The evidence media type the leading bytes prove, or None."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp" and head[8:12] in MP4_BRANDS:
        return "video/mp4"
    for offset, magic, media_type in MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return media_type
    return None
