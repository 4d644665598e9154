"""Content-addressed evidence blobs behind a small interface.

`LocalBlobStore` keeps files under one directory as sha256/ab/cd/<hash>; an
S3-compatible store would implement the same four methods. The client's file
name is never used as a path.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from service.ports import BlobIntegrityError, BlobStore, PendingBlob

CHUNK = 64 * 1024


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
