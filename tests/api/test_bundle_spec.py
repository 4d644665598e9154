"""A bundle verifier written from docs/audit.md ("The transparency log",
"Verifying a bundle") alone, with only the standard library and
`cryptography`, run on bundles the API serves; and the page's worked leaf
example checked byte for byte."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi.testclient import TestClient

from bootstrap import build_api, build_services
from domain.values import Role
from projections.catalog import PROJECTIONS
from projections.fanout import Fanout
from support.api import SECRET, Caller, Parties, ok
from support.stores import settings_for

DOC = (Path(__file__).resolve().parents[2] / "docs" / "audit.md").read_text(encoding="utf-8")
STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def canonical(doc: Any) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def unwrap(value: Any) -> Any:
    """Rule 1 of the canonical JSON: times to UTC with six fractional digits and a Z."""
    if isinstance(value, dict) and value.get("_type_") == "datetime_iso":
        return datetime.fromisoformat(value["_data_"]).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def leaf(position: int, aggregate_id: str, version: int, type_: str, chain_hash: str | None) -> bytes:
    data = canonical(
        {
            "aggregate_id": aggregate_id,
            "chain_hash": chain_hash,
            "position": position,
            "type": type_,
            "version": version,
        }
    )
    return hashlib.sha256(b"\x00" + data).digest()


def proves(index: int, size: int, leaf_hash: bytes, proof: list[bytes], root: bytes) -> bool:
    """RFC 9162 2.1.3.2, as the page asks."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            while fn % 2 == 0 and fn != 0:
                fn //= 2
                sn //= 2
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn //= 2
        sn //= 2
    return sn == 0 and r == root


def check_bundle(archive: zipfile.ZipFile, vkey: str) -> str | None:
    """None if the bundle verifies, else the first failure (steps 1-6 of the page)."""
    name, key_id_hex, key_b64 = vkey.strip().split("+", 2)
    raw_key = base64.b64decode(key_b64)
    if len(raw_key) != 33 or raw_key[:1] != b"\x01":
        return "key"
    key_id = hashlib.sha256(name.encode() + b"\x0a" + raw_key).digest()[:4]
    if key_id.hex() != key_id_hex:
        return "key id"
    note = archive.read("checkpoint.txt").decode()
    body, _, signatures = note.partition("\n\n")
    body += "\n"
    signed = False
    for line in signatures.splitlines():
        dash, signer, blob = line.split(" ")
        raw = base64.b64decode(blob)
        if dash == "\u2014" and signer == name and raw[:4] == key_id:
            try:
                Ed25519PublicKey.from_public_bytes(raw_key[1:]).verify(raw[4:], body.encode())
                signed = True
            except Exception:
                return "signature"
    if not signed:
        return "signature"
    _origin, size_text, root_text = body.splitlines()
    size, root = int(size_text), base64.b64decode(root_text)
    proofs = json.loads(archive.read("proofs.json"))
    if proofs["tree_size"] != size:
        return "tree size"
    by_position = {p["position"]: p for p in proofs["proofs"]}
    previous = "0" * 64
    submitted = set()
    for expected, line in enumerate(archive.read("events.jsonl").decode().splitlines(), start=1):
        event = json.loads(line)
        state = event["state"]
        if event["version"] != expected or not isinstance(state, dict):
            return f"version {expected}"
        if expected == 1 and state.get("originator_topic") != "domain.dispute:Dispute":
            return "not a dispute"
        data = unwrap({k: v for k, v in state.items() if k not in ("chain_hash", "originator_topic", "class_version")})
        doc = {"dispute_id": event["aggregate_id"], "version": event["version"], "type": event["type"], "data": data}
        if hashlib.sha256(previous.encode() + canonical(doc)).hexdigest() != state["chain_hash"]:
            return f"chain at version {expected}"
        previous = state["chain_hash"]
        mine = leaf(event["position"], event["aggregate_id"], event["version"], event["type"], state["chain_hash"])
        proof = by_position[event["position"]]
        if base64.b64decode(proof["leaf_hash"]) != mine:
            return f"leaf at version {expected}"
        if not proves(proof["leaf_index"], size, mine, [base64.b64decode(p) for p in proof["proof"]], root):
            return f"inclusion at version {expected}"
        if event["type"] == "EvidenceSubmitted":
            submitted.add((state["sha256"], state["size"], state["media_type"]))
    for item in json.loads(archive.read("evidence.json")):
        if (item["sha256"], item["size"], item["media_type"]) not in submitted:
            return "evidence"
        path = f"files/{item['sha256']}"
        if path in archive.namelist():
            content = archive.read(path)
            if hashlib.sha256(content).hexdigest() != item["sha256"] or len(content) != item["size"]:
                return "file"
    return None


@pytest.fixture(params=STORES)
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Parties, Caller, Any]]:
    settings = settings_for(request.param, tmp_path, request, jwt_secret=SECRET)
    svc = build_services(settings, SECRET)
    with TestClient(build_api(settings, svc)) as client:
        yield Parties.on(client), Caller(client, Role.AUDITOR, "aud-1"), svc


def test_a_verifier_written_from_the_docs_accepts_served_bundles_and_catches_changes(served: Any) -> None:
    parties, auditor, svc = served
    opened = parties.open()
    ok(parties.buyer.upload(f"/v1/disputes/{opened['id']}/evidence"), 201)
    ok(parties.seller.post(f"/v1/disputes/{opened['id']}/messages", {"body": 'Ünïcødé "quotes" \\ and\ttabs'}), 201)
    Fanout(svc.app, svc.views, list(PROJECTIONS.values())).catch_up()
    vkey = auditor.get("/v1/audit/log/key").text
    response = auditor.get(f"/v1/disputes/{opened['id']}/bundle?include=files")
    assert response.status_code == 200, response.text
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert check_bundle(archive, vkey) is None
    events = archive.read("events.jsonl").decode()
    changed = io.BytesIO()
    with zipfile.ZipFile(changed, "w") as z:
        for item in archive.namelist():
            z.writestr(item, events.replace("Ünïcødé", "Unicode") if item == "events.jsonl" else archive.read(item))
    assert check_bundle(zipfile.ZipFile(changed), vkey) == "chain at version 3"


def test_the_worked_leaf_example_is_exact() -> None:
    dispute = "0989a1c8-e795-5398-b92f-97d29a4a99ff"
    chain = re.findall(r"chain_hash\((\d)\) = ([0-9a-f]{64})", DOC)
    hashes = {int(k): v for k, v in chain}
    first = leaf(1, dispute, 1, "DisputeOpened", hashes[1])
    second = leaf(2, dispute, 2, "OfferProposed", hashes[2])
    data = canonical({"aggregate_id": dispute, "chain_hash": hashes[1], "position": 1, "type": "DisputeOpened",
                      "version": 1}).decode()  # fmt: skip
    assert f"```text\n{data}\n```" in DOC
    assert f"leaf hash `{first.hex()}`" in DOC and f"(`{base64.b64encode(first).decode()}`)" in DOC
    assert f"has leaf hash `{second.hex()}`" in DOC
    root = hashlib.sha256(b"\x01" + first + second).digest()
    assert f"`{root.hex()}`" in DOC and f"(`{base64.b64encode(root).decode()}`)" in DOC
    assert base64.b64encode(hashlib.sha256(b"").digest()).decode() in DOC
