"""A read model compared with a clean rebuild: a fresh generation built from
position 0 by one follower, row for row."""

from __future__ import annotations

from domain.application import DisputeApp
from projections import base
from projections.catalog import PROJECTIONS
from projections.db import Database
from projections.runner import Follower
from service.settings import Settings

Rows = list[tuple[object, ...]]


def table_rows(db: Database, table: str) -> Rows:
    with db.reading() as cur:
        cur.run("SELECT * FROM {t}", t=table)
        rows = cur.all()
    return sorted((tuple(sorted((k, str(v)) for k, v in r.items())) for r in rows), key=repr)


def clean_copy(app: DisputeApp, db: Database, settings: Settings) -> dict[str, Rows]:
    """Every table as a fresh single-process build from position 0 would fill it."""
    copies = {}
    for projection in PROJECTIONS.values():
        number = base.create_generation(db, projection, projection.params_from(settings), activate=False)
        Follower(app, db, projection, generation_number=number).catch_up()
        for table in projection.tables:
            copies[table] = table_rows(db, base.physical(table, number))
        base.drop_generation(db, projection, number)
    return copies


def differences_from_a_clean_rebuild(app: DisputeApp, db: Database, settings: Settings) -> dict[str, int]:
    """Per table (the stable views, i.e. the active generations): rows that differ
    from a clean rebuild (0 everywhere when they are equal)."""
    differing = {}
    for table, rows in clean_copy(app, db, settings).items():
        served = table_rows(db, table)
        differing[table] = len(set(served) ^ set(rows)) + abs(len(served) - len(rows))
    return differing
