#!/usr/bin/env python3
"""Verify a dispute bundle (GET /v1/disputes/{id}/bundle) offline.

    python3 scripts/verify_bundle.py BUNDLE.zip [--key VKEY]

Needs only the standard library and `cryptography`. It checks, as
docs/audit.md ("Verifying a bundle") describes: the checkpoint's Ed25519
signature (with --key, a verifier key obtained out of band; otherwise the
bundle's own key.txt, which proves only that the bundle is self-consistent),
every event's hash chain, every event's leaf and inclusion proof against the
signed root, and the evidence digests (and files, when included). It prints
OK and exits 0, or names the first failure and exits 1; an unreadable
archive exits 2.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import zipfile
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

GENESIS = "0" * 64
DISPUTE_TOPIC = "domain.dispute:Dispute"
NOT_HASHED = ("chain_hash", "originator_topic", "class_version")


class Failure(Exception):
    pass


# ------------------------------------------------------------------ notes
def verifier(vkey: str) -> tuple[str, bytes, bytes]:
    """(name, key id, public key) of a `<name>+<hex id>+<base64(0x01 || key)>` verifier key."""
    name, hex_id, key = vkey.strip().split("+", 2)
    raw = base64.b64decode(key, validate=True)
    if len(raw) != 33 or raw[0] != 1:
        raise Failure("key.txt: not an Ed25519 verifier key")
    key_id = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    if key_id.hex() != hex_id:
        raise Failure("key.txt: the key id does not match the name and key")
    return name, key_id, raw[1:]


def open_note(note: str, vkey: str) -> str:
    name, key_id, public = verifier(vkey)
    text, sep, block = note.partition("\n\n")
    if not sep:
        raise Failure("checkpoint.txt: not a signed note")
    for line in block.splitlines():
        if line.startswith("\u2014 ") and line[2:].split(" ")[0] == name:
            blob = base64.b64decode(line[2:].split(" ")[1], validate=True)
            if blob[:4] != key_id:
                continue
            try:
                Ed25519PublicKey.from_public_bytes(public).verify(blob[4:], (text + "\n").encode())
            except InvalidSignature:
                raise Failure("checkpoint.txt: the signature does not verify") from None
            return text + "\n"
    raise Failure(f"checkpoint.txt: no signature by {name}")


# ------------------------------------------------------------------ chain
def canonical_value(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"_type_", "_data_"}:
            if value["_type_"] == "datetime_iso":
                instant = datetime.fromisoformat(value["_data_"])
                if instant.tzinfo is None:
                    raise Failure("a time without an offset has no canonical form")
                return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            if value["_type_"] == "uuid_hex":
                h = value["_data_"]
                return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
            raise Failure(f"unknown wrapped value {value['_type_']}")
        return {k: canonical_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [canonical_value(v) for v in value]
    if isinstance(value, float):
        raise Failure("a float has no canonical form")
    return value


def canonical(document: Any) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def chain_hash(previous: str, event: dict[str, Any]) -> str:
    data = {k: v for k, v in event["state"].items() if k not in NOT_HASHED}
    document = {
        "dispute_id": event["aggregate_id"],
        "version": event["version"],
        "type": event["type"],
        "data": canonical_value(data),
    }
    return hashlib.sha256(previous.encode("ascii") + canonical(document)).hexdigest()


# ------------------------------------------------------------------ tree
def leaf_hash(event: dict[str, Any]) -> bytes:
    data = canonical(
        {
            "aggregate_id": event["aggregate_id"],
            "chain_hash": event["state"].get("chain_hash") if isinstance(event["state"], dict) else None,
            "position": event["position"],
            "type": event["type"],
            "version": event["version"],
        }
    )
    return hashlib.sha256(b"\x00" + data).digest()


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def included(index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes) -> bool:
    """RFC 9162 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while fn & 1 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


# ------------------------------------------------------------------ bundle
def verify(archive: zipfile.ZipFile, vkey: str | None) -> str:
    names = set(archive.namelist())
    for required in ("events.jsonl", "checkpoint.txt", "key.txt", "proofs.json", "evidence.json"):
        if required not in names:
            raise Failure(f"the bundle has no {required}")
    key = vkey or archive.read("key.txt").decode()
    text = open_note(archive.read("checkpoint.txt").decode(), key)
    origin, size_line, root_line = text.split("\n")[:3]
    size, root = int(size_line), base64.b64decode(root_line, validate=True)
    events = [json.loads(line) for line in archive.read("events.jsonl").decode().splitlines() if line]
    proofs = json.loads(archive.read("proofs.json"))
    if proofs["tree_size"] != size:
        raise Failure(f"proofs.json is for a tree of {proofs['tree_size']}, the checkpoint for {size}")
    by_position = {p["position"]: p for p in proofs["proofs"]}
    previous, head = GENESIS, GENESIS
    for expected, event in enumerate(events, start=1):
        where = f"position {event['position']} (version {event['version']})"
        if event["version"] != expected:
            raise Failure(f"{where}: expected version {expected}")
        if not isinstance(event["state"], dict):
            raise Failure(f"{where}: the stored state could not be read")
        if expected == 1 and event["state"].get("originator_topic") != DISPUTE_TOPIC:
            raise Failure(f"{where}: version 1 does not create a Dispute")
        if chain_hash(previous, event) != event["state"].get("chain_hash"):
            raise Failure(f"{where}: does not match its chain hash")
        previous = head = event["state"]["chain_hash"]
        proof = by_position.get(event["position"])
        if proof is None:
            raise Failure(f"{where}: no inclusion proof")
        leaf = leaf_hash(event)
        if base64.b64decode(proof["leaf_hash"]) != leaf:
            raise Failure(f"{where}: its leaf hash is not the one proved")
        if not included(proof["leaf_index"], size, leaf, [base64.b64decode(p) for p in proof["proof"]], root):
            raise Failure(f"{where}: the inclusion proof does not lead to the signed root")
    submitted = {
        (e["state"]["sha256"], e["state"]["size"], e["state"]["media_type"])
        for e in events
        if e["type"] == "EvidenceSubmitted"
    }
    for item in json.loads(archive.read("evidence.json")):
        if (item["sha256"], item["size"], item["media_type"]) not in submitted:
            raise Failure(f"evidence {item['evidence_id']}: not as the events record it")
        path = f"files/{item['sha256']}"
        if path in names:
            content = archive.read(path)
            if hashlib.sha256(content).hexdigest() != item["sha256"] or len(content) != item["size"]:
                raise Failure(f"{path}: does not match its sha256 and size")
    return f"OK: {len(events)} events, chain head {head}, each included in the tree of {size} signed by {origin}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle")
    parser.add_argument("--key", help="the log's verifier key, obtained out of band (default: the bundle's key.txt)")
    args = parser.parse_args(argv)
    try:
        archive = zipfile.ZipFile(args.bundle)
    except (OSError, zipfile.BadZipFile) as e:
        print(f"cannot read {args.bundle}: {e}", file=sys.stderr)
        return 2
    with archive:
        try:
            print(verify(archive, args.key))
        except (Failure, KeyError, ValueError, TypeError) as e:
            print(f"FAILED: {e}")
            return 1
    if args.key is None:
        print("note: checked against the bundle's own key.txt; pass --key to check against the log's published key")
    return 0


if __name__ == "__main__":
    sys.exit(main())
