"""Checkpoints of the transparency log in their own table, beside the read
models (never in the event table: issuing one never grows the log)."""

from __future__ import annotations

from datetime import UTC

from projections.db import Database, Row, as_required_time
from service.checkpoints import Checkpoint, CheckpointStore

TABLE = "log_checkpoints"
COLUMNS = "SELECT tree_size, root_hash, issued_at, note FROM {t} "


def _checkpoint(row: Row) -> Checkpoint:
    return Checkpoint(
        int(row["tree_size"]), bytes.fromhex(row["root_hash"]), as_required_time(row["issued_at"]), row["note"]
    )


class SqlCheckpointStore(CheckpointStore):
    def __init__(self, db: Database) -> None:
        self.db = db
        self.largest_seen = -1

    def _seen(self, checkpoint: Checkpoint) -> Checkpoint:
        self.largest_seen = max(self.largest_seen, checkpoint.tree_size)
        return checkpoint

    def known_to_cover(self, size: int) -> bool:
        return size <= self.largest_seen

    def ensure_tables(self) -> None:
        with self.db.transaction() as cur:
            cur.run(
                f"CREATE TABLE IF NOT EXISTS {{t}} (tree_size {self.db.type('bigint')} PRIMARY KEY, "
                f"root_hash text NOT NULL, issued_at {self.db.type('time')} NOT NULL, note text NOT NULL)",
                t=TABLE,
            )

    def add(self, checkpoint: Checkpoint) -> Checkpoint:
        with self.db.transaction() as cur:
            cur.run(
                "INSERT INTO {t} (tree_size, root_hash, issued_at, note) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (tree_size) DO NOTHING",
                [
                    checkpoint.tree_size,
                    checkpoint.root_hash.hex(),
                    checkpoint.issued_at.astimezone(UTC),
                    checkpoint.note,
                ],
                t=TABLE,
            )
            cur.run(COLUMNS + "WHERE tree_size = %s", [checkpoint.tree_size], t=TABLE)
            row = cur.one()
        assert row is not None
        return self._seen(_checkpoint(row))

    def latest(self) -> Checkpoint | None:
        with self.db.reading() as cur:
            cur.run(COLUMNS + "ORDER BY tree_size DESC LIMIT 1", t=TABLE)
            row = cur.one()
        return self._seen(_checkpoint(row)) if row else None

    def page(self, after_size: int, limit: int) -> list[Checkpoint]:
        with self.db.reading() as cur:
            cur.run(COLUMNS + "WHERE tree_size > %s ORDER BY tree_size LIMIT %s", [after_size, limit], t=TABLE)
            return [_checkpoint(r) for r in cur.all()]
