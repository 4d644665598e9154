"""Every read model written to files: Parquet (with pyarrow, the optional
`disputes[analytics]` extra) or CSV (RFC 4180).

A read model's columns and their types come from its own DDL (one source of
truth), so a column added to a read model is exported without a change here.
Rows are streamed from the stable views (bounded memory) in a stable order.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from domain.chain import canonical_time
from projections.catalog import PROJECTIONS
from projections.database import Database, as_json, as_time
from projections.projection import Projection

FORMATS = ("parquet", "csv")
BATCH = 5000
Progress = Callable[[int], None]


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[tuple[str, str], ...]
    """(name, logical type: time, json, bigint, int, bool or text), in the DDL's order."""


def _definition(projection: type[Projection], table: str) -> str:
    head = f"CREATE TABLE IF NOT EXISTS {{{table}}} ("
    statement = next(s for s in projection.ddl() if s.startswith(head))
    return statement[len(head) : statement.rindex(")")]


def _top_level_parts(body: str) -> list[str]:
    parts: list[str] = []
    depth, current = 0, ""
    for char in body:
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [p.strip() for p in [*parts, current] if p.strip()]


def tables() -> list[Table]:
    """Every read model's analyst-facing tables, with their columns."""
    found = []
    for projection in PROJECTIONS.values():
        for table in projection.tables:
            columns = []
            for part in _top_level_parts(_definition(projection, table)):
                match = re.match(r"([a-z_][a-z0-9_]*) (?::([a-z]+):|(text))", part)
                if match and not part.upper().startswith(("PRIMARY KEY", "UNIQUE")):
                    columns.append((match.group(1), match.group(2) or match.group(3)))
            found.append(Table(table, tuple(columns)))
    return found


def count(db: Database, table: Table) -> int:
    with db.reading() as cur:
        cur.run("SELECT COUNT(*) AS n FROM {t}", t=table.name)
        row = cur.one()
    return int(row["n"]) if row else 0


def rows(db: Database, table: Table) -> Iterator[dict[str, Any]]:
    """The table's rows, typed alike on both dialects: datetime (UTC), int, bool,
    str, and JSON as compact text with sorted keys."""
    names = ", ".join(name for name, _ in table.columns)
    for row in db.stream(f"SELECT {names} FROM {{t}} ORDER BY 1, 2", t=table.name):  # noqa: S608 - names from DDL
        yield {name: _typed(row[name], kind) for name, kind in table.columns}


def _typed(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "time":
        return as_time(value)
    if kind == "json":
        return json.dumps(as_json(value), sort_keys=True, separators=(",", ":"))
    if kind in ("bigint", "int"):
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "bool":
        return bool(value)
    return str(value)


def export(db: Database, fmt: str, out: Path, progress: Callable[[Table, int], Progress]) -> dict[str, int]:
    """Write every read model to `out/<table>.<fmt>`; rows written per table.
    `progress(table, rows)` gives the callback each batch of rows is reported to."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known: {FORMATS}")
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for table in tables():
        advance = progress(table, count(db, table))
        path = out / f"{table.name}.{fmt}"
        writer = _write_parquet if fmt == "parquet" else _write_csv
        written[table.name] = writer(table, rows(db, table), path, advance)
    manifest = {t.name: {"rows": written[t.name], "columns": dict(t.columns)} for t in tables()}
    (out / "manifest.json").write_text(json.dumps({"format": fmt, "tables": manifest}, indent=2) + "\n")
    return written


def _batches(source: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in source:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _write_parquet(table: Table, source: Iterator[dict[str, Any]], path: Path, advance: Progress) -> int:
    # The optional `disputes[analytics]` extra, imported only when Parquet is asked for.
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    types = {
        "time": pa.timestamp("us", tz="UTC"),
        "json": pa.string(),
        "bigint": pa.int64(),
        "int": pa.int32(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "text": pa.string(),
    }
    schema = pa.schema([(name, types[kind]) for name, kind in table.columns])
    written = 0
    with pq.ParquetWriter(path, schema) as writer:
        for batch in _batches(source):
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            written += len(batch)
            advance(len(batch))
        if written == 0:
            writer.write_table(schema.empty_table())
    return written


def _write_csv(table: Table, source: Iterator[dict[str, Any]], path: Path, advance: Progress) -> int:
    written = 0
    with path.open("w", newline="", encoding="utf-8") as file:
        out = csv.writer(file, lineterminator="\r\n")  # RFC 4180: CRLF, quotes only where needed, "" inside
        out.writerow([name for name, _ in table.columns])
        for batch in _batches(source):
            out.writerows([[_csv_value(row[name]) for name, _ in table.columns] for row in batch])
            written += len(batch)
            advance(len(batch))
    return written


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return canonical_time(value)
    return str(value)
