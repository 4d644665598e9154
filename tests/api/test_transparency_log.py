"""The transparency log over HTTP, on SQLite and Postgres: the signed
checkpoint and its key, inclusion and consistency proofs checked with the
RFC's own algorithms, refusals, roles, a dispute's bundle verified by
scripts/verify_bundle.py, the checkpoint worker and its files, the metrics."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bootstrap import build_api, build_services
from domain.values import Role
from projections.catalog import PROJECTIONS
from projections.fanout import Fanout
from service.hub import Services
from service.notes import Verifier, parse_checkpoint
from support.api import SECRET, Caller, Parties, ok
from support.rfc9162 import rfc_verify_consistency, rfc_verify_inclusion
from support.stores import settings_for

ROOT = Path(__file__).resolve().parents[2]
STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@dataclass
class Log:
    client: TestClient
    svc: Services
    parties: Parties
    auditor: Caller

    def catch_up(self) -> None:
        Fanout(self.svc.app, self.svc.views, list(PROJECTIONS.values())).catch_up()

    def checkpoint(self) -> str:
        assert self.svc.checkpoints is not None
        self.catch_up()
        self.svc.checkpoints.issue()
        response = self.auditor.get("/v1/audit/log/checkpoint")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/plain")
        return str(response.text)

    def dispute(self) -> dict[str, Any]:
        """A dispute with an evidence file (its bytes in the blob store) and an offer."""
        opened = self.parties.open()
        ok(self.parties.buyer.upload(f"/v1/disputes/{opened['id']}/evidence"), 201)
        return opened


@pytest.fixture(params=STORES)
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Log]:
    settings = settings_for(request.param, tmp_path, request, jwt_secret=SECRET)
    svc = build_services(settings, SECRET)
    with TestClient(build_api(settings, svc)) as client:
        yield Log(client, svc, Parties.on(client), Caller(client, Role.AUDITOR, "aud-1"))


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def verified(log: Log, note: str) -> tuple[int, bytes]:
    key = log.auditor.get("/v1/audit/log/key")
    assert key.status_code == 200 and key.headers["content-type"].startswith("text/plain")
    body = parse_checkpoint(Verifier.parse(key.text).open(note))
    assert body.origin == "disputes.local/log"
    return body.tree_size, body.root_hash


def test_every_event_is_proved_included_in_the_signed_tree_and_the_trees_are_consistent(log: Log) -> None:
    log.dispute()
    first_size, first_root = verified(log, log.checkpoint())
    assert first_size == 2
    log.dispute()
    log.dispute()
    size, root = verified(log, log.checkpoint())
    assert size == 6
    for position in range(1, size + 1):
        proof = ok(log.auditor.get(f"/v1/audit/log/inclusion?position={position}&tree_size={size}"), 200)
        assert (proof["leaf_index"], proof["tree_size"]) == (position - 1, size)
        hashes = [b64(p) for p in proof["proof"]]
        assert rfc_verify_inclusion(proof["leaf_index"], size, b64(proof["leaf_hash"]), hashes, root)
        older = ok(log.auditor.get(f"/v1/audit/log/inclusion?position={min(position, 2)}&tree_size=2"), 200)
        assert rfc_verify_inclusion(older["leaf_index"], 2, b64(older["leaf_hash"]), [b64(p) for p in older["proof"]],
                                    first_root)  # fmt: skip
    consistency = ok(log.auditor.get(f"/v1/audit/log/consistency?from=2&to={size}"), 200)
    assert (consistency["from"], consistency["to"]) == (2, size)
    assert rfc_verify_consistency(2, size, first_root, root, [b64(p) for p in consistency["proof"]])
    listed = ok(log.auditor.get("/v1/audit/log/checkpoints?limit=1"), 200)
    assert [c["tree_size"] for c in listed["items"]] == [2]
    rest = ok(log.auditor.get(f"/v1/audit/log/checkpoints?cursor={listed['next_cursor']}"), 200)
    assert [c["tree_size"] for c in rest["items"]] == [6] and rest["next_cursor"] is None
    assert b64(rest["items"][0]["root_hash"]) == root
    assert rest["items"][0]["note"] == log.auditor.get("/v1/audit/log/checkpoint").text


def test_history_items_carry_the_leaf_hash_the_log_proves(log: Log) -> None:
    opened = log.dispute()
    log.checkpoint()
    history = ok(log.auditor.get(f"/v1/disputes/{opened['id']}/history"), 200)["items"]
    assert [e["chain_valid"] for e in history] == [True, True]
    for entry in history:
        proof = ok(log.auditor.get(f"/v1/audit/log/inclusion?position={entry['position']}"), 200)
        assert entry["leaf_hash"] == proof["leaf_hash"]
    page = ok(log.auditor.get(f"/v1/disputes/{opened['id']}/history?limit=1"), 200)
    second = ok(log.auditor.get(f"/v1/disputes/{opened['id']}/history?cursor={page['next_cursor']}"), 200)
    assert second["items"][0]["chain_valid"] is True, "a page checks its first event against the one before"


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/v1/audit/log/inclusion?position=1&tree_size=3", 422, "tree_size_unknown"),
        ("/v1/audit/log/inclusion?position=99", 404, "leaf_not_found"),
        ("/v1/audit/log/inclusion?position=2&tree_size=1", 422, "leaf_not_in_tree"),
        ("/v1/audit/log/inclusion?position=0", 422, "validation_error"),
        ("/v1/audit/log/consistency?from=1&to=3", 422, "tree_size_unknown"),
        ("/v1/audit/log/consistency?from=2&to=1", 422, "validation_error"),
        ("/v1/audit/log/consistency?from=0&to=2", 422, "validation_error"),
        ("/v1/audit/log/checkpoints?cursor=nonsense", 422, "invalid_cursor"),
    ],
)
def test_proofs_beyond_the_latest_checkpoint_or_of_unknown_leaves_are_refused(
    log: Log, path: str, status: int, code: str
) -> None:
    log.dispute()
    log.checkpoint()
    log.dispute()  # recorded, maybe in the tree, but no checkpoint signs it yet
    log.catch_up()
    response = log.auditor.get(path)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


def test_only_auditors_and_agents_read_the_log_and_only_auditors_take_bundles(log: Log) -> None:
    opened = log.dispute()
    log.checkpoint()
    routes = ["/v1/audit/log/checkpoint", "/v1/audit/log/checkpoints", "/v1/audit/log/key",
              "/v1/audit/log/inclusion?position=1", "/v1/audit/log/consistency?from=1&to=2"]  # fmt: skip
    for path in routes:
        assert log.parties.agent.get(path).status_code == 200, path
        others = (Caller(log.client, Role.ANALYST, "an-1"), Caller(log.client, Role.PLATFORM, "pl-1"))
        for caller in (log.parties.buyer, log.parties.seller, *others):
            refused = caller.get(path)
            assert (refused.status_code, refused.json()["code"]) == (403, "role_not_allowed"), path
    bundle = f"/v1/disputes/{opened['id']}/bundle"
    assert log.parties.agent.get(bundle).json()["code"] == "role_not_allowed"
    assert Caller(log.client, Role.PLATFORM, "pl-1").get(bundle).json()["code"] == "role_not_allowed"
    assert Caller(log.client, Role.ANALYST, "an-1").get(bundle).json()["code"] == "role_not_allowed"
    assert log.parties.buyer.get(bundle).status_code == 403
    assert Caller(log.client, Role.BUYER, "someone-else").get(bundle).status_code == 404
    assert log.client.get("/v1/audit/log/checkpoint").status_code == 401


def verify_bundle(archive: bytes, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "bundle.zip"
    path.write_bytes(archive)
    script = str(ROOT / "scripts" / "verify_bundle.py")
    command = [sys.executable, script, str(path), *args]
    return subprocess.run(command, check=False, capture_output=True, text=True, timeout=60)


def test_a_bundle_verifies_offline_and_names_the_first_failure_once_altered(log: Log, tmp_path: Path) -> None:
    opened = log.dispute()
    log.dispute()
    log.catch_up()
    response = log.auditor.get(f"/v1/disputes/{opened['id']}/bundle?include=files")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"] == f'attachment; filename="dispute-{opened["id"]}.zip"'
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    evidence = json.loads(archive.read("evidence.json"))
    assert names == {"events.jsonl", "checkpoint.txt", "key.txt", "proofs.json", "evidence.json",
                     f"files/{evidence[0]['sha256']}"}  # fmt: skip
    assert [e["version"] for e in map(json.loads, archive.read("events.jsonl").splitlines())] == [1, 2]
    vkey = log.auditor.get("/v1/audit/log/key").text.strip()
    done = verify_bundle(response.content, tmp_path, "--key", vkey)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("OK: 2 events")
    without_files = log.auditor.get(f"/v1/disputes/{opened['id']}/bundle").content
    assert not any(n.startswith("files/") for n in zipfile.ZipFile(io.BytesIO(without_files)).namelist())

    def altered(name: str, change: Any) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as z:
            for item in archive.namelist():
                z.writestr(item, change(archive.read(item)) if item == name else archive.read(item))
        return out.getvalue()

    cases = {
        "events.jsonl": (lambda b: b.replace(b'"refund_only"', b'"replacement"', 1), "does not match its chain hash"),
        "checkpoint.txt": (lambda b: b.replace(b"\n4\n", b"\n5\n"), "signature does not verify"),
        "proofs.json": (lambda b: b.replace(b'"leaf_index": 0', b'"leaf_index": 1'), "inclusion proof"),
        f"files/{evidence[0]['sha256']}": (lambda b: b + b"x", "does not match its sha256"),
    }
    for name, (change, failure) in cases.items():
        done = verify_bundle(altered(name, change), tmp_path, "--key", vkey)
        assert done.returncode == 1, (name, done.stdout)
        assert done.stdout.startswith("FAILED:") and failure in done.stdout, (name, done.stdout)
    other_key = "disputes.local/log+00000000+" + base64.b64encode(b"\x01" + b"\x00" * 32).decode()
    assert verify_bundle(response.content, tmp_path, "--key", other_key).returncode == 1


def test_the_worker_issues_checkpoints_when_the_log_grew_and_writes_each_as_a_file(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    directory = tmp_path / "checkpoints"
    settings = settings_for("sqlite", tmp_path, request, jwt_secret=SECRET, in_process_workers=True,
                            checkpoint_interval="PT0.2S", checkpoint_dir=str(directory))  # fmt: skip
    with TestClient(build_api(settings)) as client:
        parties, auditor = Parties.on(client), Caller(client, Role.AUDITOR, "aud-1")
        parties.open()
        deadline = time.monotonic() + 10
        while not (directory / "1.txt").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        parties.open()
        while not (directory / "2.txt").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # a few more intervals: the log did not grow, so nothing new is issued
        assert sorted(p.name for p in directory.iterdir()) == ["1.txt", "2.txt"]
        assert (directory / "2.txt").read_text() == auditor.get("/v1/audit/log/checkpoint").text
        listed = ok(auditor.get("/v1/audit/log/checkpoints"), 200)["items"]
        assert [c["tree_size"] for c in listed] == [1, 2]
        metrics = client.get("/metrics").text
    assert "disputes_log_tree_behind 0.0" in metrics
    assert 'disputes_log_tree_size{of="tree"} 2.0' in metrics
    assert 'disputes_log_tree_size{of="checkpoint"} 2.0' in metrics
    age = next(line for line in metrics.splitlines() if line.startswith("disputes_log_checkpoint_age_seconds "))
    assert 0 <= float(age.split()[1]) < 5


def test_metrics_show_the_tree_behind_the_log_until_it_catches_up(log: Log) -> None:
    log.dispute()
    assert "disputes_log_tree_behind 2.0" in log.client.get("/metrics").text
    assert "\ndisputes_log_checkpoint_age_seconds " not in log.client.get("/metrics").text, "no checkpoint yet"
    log.checkpoint()
    assert "disputes_log_tree_behind 0.0" in log.client.get("/metrics").text
