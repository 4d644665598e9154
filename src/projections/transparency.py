"""The transparency log: an RFC 9162 Merkle tree with one leaf per stored
event, of any aggregate, in position order (docs/audit.md).

It is a projection like the others (exactly once: its rows and its tracking
position commit together), fed every stored record rather than decoded
events. It keeps each leaf and every complete-subtree node (projections.merkle),
so a root, an inclusion proof or a consistency proof is one indexed read of
O(log N) rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from projections.database import Cursor, Database
from projections.merkle import Builder, Node, consistency_proof, inclusion_proof, leaf_hash, root
from projections.projection import Projection
from projections.records import Record, record_leaf_data

TREE = "transparency_log"


class TransparencyLog(Projection):
    name = TREE
    tables = ("tlog_leaves", "tlog_nodes")
    records: ClassVar[bool] = True

    @classmethod
    def ddl(cls) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS {tlog_leaves} (leaf_index :bigint: PRIMARY KEY, "
            "position :bigint: NOT NULL UNIQUE, aggregate_id text NOT NULL, version :int: NOT NULL, "
            "type text NOT NULL, chain_hash text, leaf_hash text NOT NULL)",
            "CREATE TABLE IF NOT EXISTS {tlog_nodes} (node :bigint: PRIMARY KEY, hash text NOT NULL)",
        ]

    @classmethod
    def handled_topics(cls) -> frozenset[str]:
        return frozenset()  # every record, whatever its topic

    def __init__(self, cursor: Cursor, generation: int, params: dict[str, Any]) -> None:
        super().__init__(cursor, generation, params)
        self.builder: Builder | None = None
        self.leaves: list[list[Any]] = []
        self.nodes: list[list[Any]] = []

    def project(self, event: Any, position: int) -> None:
        assert isinstance(event, Record), "the transparency log is fed stored records"
        if self.builder is None:
            self.builder = Builder.resume(stored_size(self.cursor, self.table("tlog_leaves")), self._read_nodes)
        data = record_leaf_data(event)
        leaf = leaf_hash(data)
        index = self.builder.size
        self.leaves.append(
            [index, position, str(event.aggregate_id), event.version, event.type, event.chain_hash, leaf.hex()]
        )
        self.nodes.extend([node_key(level, idx), h.hex()] for level, idx, h in self.builder.append(leaf))

    def _read_nodes(self, wanted: list[Node]) -> dict[Node, bytes]:
        return read_nodes(self.cursor, self.table("tlog_nodes"), wanted)

    def finish(self) -> None:
        # executemany: on Postgres one prepared statement per table, its rows pipelined (a
        # multi-row INSERT spent most of the build re-parsing its long text; see performance.md).
        if self.leaves:
            self.cursor.many(LEAF_INSERT, self.leaves, t=self.table("tlog_leaves"))
        if self.nodes:
            self.cursor.many("INSERT INTO {t} (node, hash) VALUES (%s, %s)", self.nodes, t=self.table("tlog_nodes"))


LEAF_INSERT = (
    "INSERT INTO {t} (leaf_index, position, aggregate_id, version, type, chain_hash, leaf_hash) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s)"
)


def stored_size(cur: Cursor, leaves: str = "tlog_leaves") -> int:
    cur.run("SELECT max(leaf_index) AS last FROM {t}", t=leaves)
    row = cur.one()
    return 0 if row is None or row["last"] is None else int(row["last"]) + 1


LEVEL_SHIFT = 48
"""A node's key: its level times 2**48 plus its index (a tree holds fewer than 2**48 leaves)."""


def node_key(level: int, index: int) -> int:
    return (level << LEVEL_SHIFT) | index


def read_nodes(cur: Cursor, nodes: str, wanted: Sequence[Node]) -> dict[Node, bytes]:
    """The stored hashes of `wanted`, in one indexed query."""
    if not wanted:
        return {}
    marks = ", ".join(["%s"] * len(wanted))
    keys = [node_key(level, index) for level, index in wanted]
    cur.run(f"SELECT node, hash FROM {{t}} WHERE node IN ({marks})", keys, t=nodes)  # noqa: S608
    mask = (1 << LEVEL_SHIFT) - 1
    return {(int(r["node"]) >> LEVEL_SHIFT, int(r["node"]) & mask): bytes.fromhex(r["hash"]) for r in cur.all()}


@dataclass(frozen=True)
class Leaf:
    leaf_index: int
    position: int
    aggregate_id: str
    version: int
    type: str
    chain_hash: str | None
    leaf_hash: str


def _leaf(row: dict[str, Any]) -> Leaf:
    return Leaf(
        int(row["leaf_index"]),
        int(row["position"]),
        row["aggregate_id"],
        int(row["version"]),
        row["type"],
        row["chain_hash"],
        row["leaf_hash"],
    )


LEAF_COLUMNS = "SELECT leaf_index, position, aggregate_id, version, type, chain_hash, leaf_hash FROM {tlog_leaves} "


def size(db: Database) -> int:
    """How many leaves the tree holds."""
    with db.reading() as cur:
        return stored_size(cur)


def leaf_at(db: Database, position: int) -> Leaf | None:
    with db.reading() as cur:
        cur.run(LEAF_COLUMNS + "WHERE position = %s", [position], tlog_leaves="tlog_leaves")
        row = cur.one()
    return _leaf(row) if row else None


def leaves_at(db: Database, positions: Sequence[int]) -> dict[int, Leaf]:
    """The leaves recorded for these positions (those the tree holds)."""
    if not positions:
        return {}
    marks = ", ".join(["%s"] * len(positions))
    with db.reading() as cur:
        cur.run(LEAF_COLUMNS + f"WHERE position IN ({marks})", list(positions), tlog_leaves="tlog_leaves")
        return {int(r["position"]): _leaf(r) for r in cur.all()}


def leaves(db: Database, after: int = 0, limit: int = 10_000) -> list[Leaf]:
    """Leaves with an index at or after `after`, in order."""
    with db.reading() as cur:
        cur.run(LEAF_COLUMNS + "WHERE leaf_index >= %s ORDER BY leaf_index LIMIT %s", [after, limit],
                tlog_leaves="tlog_leaves")  # fmt: skip
        return [_leaf(r) for r in cur.all()]


def _reader(cur: Cursor) -> Any:
    return lambda wanted: read_nodes(cur, "tlog_nodes", wanted)


def root_at(db: Database, tree_size: int) -> bytes:
    with db.reading() as cur:
        return root(tree_size, _reader(cur))


def leaf_and_proof(db: Database, position: int, tree_size: int) -> tuple[Leaf | None, list[bytes]]:
    """The leaf at `position` and its inclusion proof in the tree of `tree_size`, read in one transaction
    (no proof when there is no such leaf or it is not among the first `tree_size`)."""
    with db.reading() as cur:
        cur.run(LEAF_COLUMNS + "WHERE position = %s", [position], tlog_leaves="tlog_leaves")
        row = cur.one()
        if row is None or int(row["leaf_index"]) >= tree_size:
            return (_leaf(row) if row else None), []
        return _leaf(row), inclusion_proof(int(row["leaf_index"]), tree_size, _reader(cur))


def inclusion(db: Database, leaf_index: int, tree_size: int) -> list[bytes]:
    with db.reading() as cur:
        return inclusion_proof(leaf_index, tree_size, _reader(cur))


def consistency(db: Database, old: int, new: int) -> list[bytes]:
    with db.reading() as cur:
        return consistency_proof(old, new, _reader(cur))
