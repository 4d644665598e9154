"""The tree's proofs against an independent implementation written here from
RFC 9162 section 2.1 (recursive MTH, PATH, PROOF/SUBPROOF, and the RFC's own
verification algorithms), for every tree size from 1 to 300 and every leaf,
and every consistency pair up to 300 leaves."""

from __future__ import annotations

import functools
import hashlib

import pytest

from projections import merkle
from support.rfc9162 import rfc_verify_consistency, rfc_verify_inclusion


def rfc_leaf(d: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + d).digest()


def rfc_k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


@functools.cache
def mth(a: int, b: int) -> bytes:
    """MTH(D[a:b]) exactly as RFC 9162 2.1.1 defines it (remembered: the tests ask for the same subtrees often)."""
    if a == b:
        return hashlib.sha256(b"").digest()
    if b - a == 1:
        return rfc_leaf(D[a])
    k = rfc_k(b - a)
    return hashlib.sha256(b"\x01" + mth(a, a + k) + mth(a + k, b)).digest()


def path(m: int, a: int, b: int) -> list[bytes]:
    """PATH(m, D[a:b]), RFC 9162 2.1.3.1."""
    if b - a == 1:
        return []
    k = rfc_k(b - a)
    if m < k:
        return [*path(m, a, a + k), mth(a + k, b)]
    return [*path(m - k, a + k, b), mth(a, a + k)]


def subproof(m: int, a: int, b: int, whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[a:b], b), RFC 9162 2.1.4.1."""
    n = b - a
    if m == n:
        return [] if whole else [mth(a, b)]
    k = rfc_k(n)
    if m <= k:
        return [*subproof(m, a, a + k, whole), mth(a + k, b)]
    return [*subproof(m - k, a + k, b, False), mth(a, a + k)]


def data(i: int) -> bytes:
    return f"leaf {i}".encode()


def build(size: int) -> tuple[merkle.Builder, dict[merkle.Node, bytes]]:
    builder, nodes = merkle.Builder(), {}
    for i in range(size):
        for level, index, h in builder.append(merkle.leaf_hash(data(i))):
            nodes[(level, index)] = h
    return builder, nodes


MAX_SIZE = 300
BUILDER, NODES = build(MAX_SIZE)
D = [data(i) for i in range(MAX_SIZE)]


def read(wanted: list[merkle.Node]) -> dict[merkle.Node, bytes]:
    return {node: NODES[node] for node in wanted if node in NODES}


@pytest.mark.parametrize("size", range(1, MAX_SIZE + 1))
def test_every_root_and_inclusion_proof_matches_the_rfc(size: int) -> None:
    expected_root = mth(0, size)
    assert merkle.root(size, read) == expected_root
    assert merkle.Builder.resume(size, read).root() == expected_root
    for m in range(size):
        proof = merkle.inclusion_proof(m, size, read)
        assert proof == path(m, 0, size), (m, size)
        assert rfc_verify_inclusion(m, size, rfc_leaf(D[m]), proof, expected_root)


CONSISTENCY_MAX = 300


@pytest.mark.parametrize("new", range(1, CONSISTENCY_MAX + 1))
def test_every_consistency_proof_matches_the_rfc(new: int) -> None:
    new_root = mth(0, new)
    for old in range(1, new + 1):
        proof = merkle.consistency_proof(old, new, read)
        assert proof == (subproof(old, 0, new, True) if old < new else []), (old, new)
        assert rfc_verify_consistency(old, new, mth(0, old), new_root, proof)


def test_a_wrong_leaf_or_proof_does_not_verify() -> None:
    size, m = 37, 11
    root, proof = mth(0, size), merkle.inclusion_proof(m, size, read)
    assert not rfc_verify_inclusion(m, size, rfc_leaf(b"other"), proof, root)
    assert not rfc_verify_inclusion(m + 1, size, rfc_leaf(D[m]), proof, root)
    assert not rfc_verify_consistency(20, 37, mth(0, 21), root, merkle.consistency_proof(20, 37, read))


def test_the_builder_completes_every_node_and_nothing_else() -> None:
    assert BUILDER.size == MAX_SIZE
    expected = {(level, i) for level in range(9) for i in range(MAX_SIZE >> level)}
    assert set(NODES) == expected
    assert NODES[(2, 1)] == mth(4, 8)
