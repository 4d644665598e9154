"""Failures after a commit, or inside shared machinery, never lose or hang commands."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from domain.application import DisputeApp
from domain.dispute import Dispute
from service.ports import BlobIntegrityError
from store.blobs import LocalBlobStore, blob_key
from store.group_commit import GroupCommitter
from support.builders import BUYER, Scenario


def test_a_snapshot_that_fails_after_the_commit_is_logged_not_reported_as_a_failed_command(
    app: DisputeApp, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    s = Scenario(app).open()
    for _ in range(2):
        app.post_message(s.id, s.clock.ctx(BUYER), "before")

    def broken(cls: Any, aggregate: Any) -> Any:
        raise RuntimeError("snapshot store unavailable")

    monkeypatch.setattr(Dispute.Snapshot, "take", classmethod(broken))
    result = app.post_message(s.id, s.clock.ctx(BUYER), "the fourth event: a snapshot is due")
    assert result.version == 4
    assert app.dispute(s.id).version == 4, "the command committed"
    assert any("snapshot failed" in r.getMessage() for r in caplog.records)


def test_the_group_committer_survives_an_unexpected_error_and_refuses_work_once_closed(
    app: DisputeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    committer = GroupCommitter(app)
    app.committer = committer
    s = Scenario(app).open()
    original = app._record
    calls = {"n": 0}

    def fail_once(processing: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise MemoryError("a failure nobody planned for")
        return original(processing)

    monkeypatch.setattr(app, "_record", fail_once)
    with pytest.raises(MemoryError):
        app.post_message(s.id, s.clock.ctx(BUYER), "lost to the failure")
    assert app.post_message(s.id, s.clock.ctx(BUYER), "the committer still works").version == 2
    committer.close()
    with pytest.raises(RuntimeError, match="closed"):
        app.post_message(s.id, s.clock.ctx(BUYER), "too late")


def test_a_damaged_blob_is_repaired_by_uploading_the_same_bytes_again(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path)
    content = b"\x89PNG\r\n\x1a\n evidence bytes"
    digest = hashlib.sha256(content).hexdigest()

    def upload() -> str:
        pending = blobs.receive(limit=1024)
        pending.write(content)
        return blobs.commit(pending)

    key = upload()
    assert key == blob_key(digest)
    stored = tmp_path.joinpath(*key.split("/"))
    stored.write_bytes(b"bit rot")
    with pytest.raises(BlobIntegrityError):
        blobs.read(key, digest)
    assert upload() == key
    assert b"".join(blobs.read(key, digest)) == content
