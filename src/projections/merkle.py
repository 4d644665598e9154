"""RFC 9162 section 2.1 Merkle trees over complete-subtree nodes.

A node is `(level, index)`: the hash of the complete subtree of 2**level
leaves starting at leaf `index * 2**level` (level 0: the leaf hashes). Those
are the only hashes a tree ever stores: every proof and every root is made
of at most about 2 * log2(N) of them, whatever the tree size N, so reading a
proof costs one query for O(log N) rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

Node = tuple[int, int]
Range = tuple[int, int]
"""Leaves [start, end) of the tree."""
Nodes = Callable[[list[Node]], dict[Node, bytes]]
"""Reads the stored hashes of the nodes asked for."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The subtrees whose hashes make the inclusion proof of leaf `index` (RFC 9162 2.1.3.1)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    ranges: list[Range] = []
    start, n = 0, size
    while n > 1:
        k = split(n)
        if index - start < k:
            ranges.append((start + k, start + n))
            n = k
        else:
            ranges.append((start, start + k))
            start, n = start + k, n - k
    ranges.reverse()  # the proof lists the sibling nearest the leaf first
    return ranges


def consistency_ranges(old: int, new: int) -> list[Range]:
    """The subtrees whose hashes make the consistency proof from `old` to `new` (RFC 9162 2.1.4.1)."""
    if not 0 < old <= new:
        raise ValueError(f"no consistency proof from {old} to {new}")
    ranges: list[Range] = []
    start, n, m, whole = 0, new, old, True
    while m != n:
        k = split(n)
        if m <= k:
            ranges.append((start + k, start + n))
            n = k
        else:
            ranges.append((start, start + k))
            start, n, m, whole = start + k, n - k, m - k, False
    if not whole:
        ranges.append((start, start + n))
    ranges.reverse()
    return ranges


def complete_subtrees(start: int, end: int) -> list[Node]:
    """[start, end) as complete subtrees, largest first (`start` is aligned, as in every proof)."""
    nodes: list[Node] = []
    while start < end:
        level = (end - start).bit_length() - 1
        while start % (1 << level):
            level -= 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def range_hash(nodes: list[Node], hashes: dict[Node, bytes]) -> bytes:
    """The RFC 9162 hash of a range from its complete subtrees (folded from the right)."""
    result = hashes[nodes[-1]]
    for node in reversed(nodes[:-1]):
        result = node_hash(hashes[node], result)
    return result


def resolve(ranges: Iterable[Range], read: Nodes) -> list[bytes]:
    """The hashes of `ranges`, reading every node they need at once."""
    decomposed = [complete_subtrees(a, b) for a, b in ranges]
    wanted = sorted({node for nodes in decomposed for node in nodes})
    hashes = read(wanted) if wanted else {}
    missing = [node for node in wanted if node not in hashes]
    if missing:
        raise LookupError(f"the tree has no node {missing[0]}")
    return [range_hash(nodes, hashes) for nodes in decomposed]


def inclusion_proof(index: int, size: int, read: Nodes) -> list[bytes]:
    return resolve(inclusion_ranges(index, size), read)


def consistency_proof(old: int, new: int, read: Nodes) -> list[bytes]:
    return [] if old == new else resolve(consistency_ranges(old, new), read)


def root(size: int, read: Nodes) -> bytes:
    """The root of the first `size` leaves (the empty tree's is SHA-256 of nothing)."""
    if size == 0:
        return hashlib.sha256(b"").digest()
    return resolve([(0, size)], read)[0]


@dataclass
class Builder:
    """Appends leaves and yields every complete-subtree node they complete.

    It holds only the right-most complete subtrees of the tree so far (the
    "frontier", one per set bit of the size), so it builds a tree of any size
    in O(log N) memory."""

    size: int = 0
    frontier: dict[int, bytes] = field(default_factory=dict)
    """level -> hash of the complete subtree at that level on the right edge."""

    @classmethod
    def resume(cls, size: int, read: Nodes) -> Builder:
        nodes = complete_subtrees(0, size)
        hashes = read(nodes) if nodes else {}
        return cls(size, {level: hashes[(level, index)] for level, index in nodes})

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf hash; the (level, index, hash) nodes it completes, the leaf first."""
        index, level, current = self.size, 0, leaf
        made = [(0, index, leaf)]
        while (index >> level) & 1:
            current = node_hash(self.frontier.pop(level), current)
            level += 1
            made.append((level, index >> level, current))
        self.frontier[level] = current
        self.size += 1
        return made

    def root(self) -> bytes:
        if not self.size:
            return hashlib.sha256(b"").digest()
        levels = sorted(self.frontier)
        result = self.frontier[levels[0]]
        for level in levels[1:]:
            result = node_hash(self.frontier[level], result)
        return result
