"""Encoding the audit log as JSON Lines or CSV, a chunk of rows at a time, so
an export of any size is written in bounded memory (see projections.audit_log
for the batched read)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from enum import StrEnum
from itertools import islice
from typing import Any

from api.audit_models import audit_document
from domain.chain import canonical_time
from projections.audit_log import COLUMNS
from projections.db import Row

ROWS_PER_CHUNK = 500
# OWASP's CSV-injection list: a spreadsheet reads a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ExportFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


MEDIA_TYPES = {ExportFormat.JSONL: "application/x-ndjson", ExportFormat.CSV: "text/csv; charset=utf-8"}
CSV_DOC = "a header row, then one row per event: " + ", ".join(COLUMNS)
JSONL_EXAMPLE = '{"actor":{"id":"buyer-1","role":"buyer"},"position":1,"type":"DisputeOpened","version":1}\n'
CSV_EXAMPLE = ",".join(COLUMNS) + "\n"
OPENAPI_CONTENT: dict[str, Any] = {
    "application/x-ndjson": {
        "schema": {"type": "string", "description": "one audit entry (JSON) per line"},
        "example": JSONL_EXAMPLE,
    },
    "text/csv": {"schema": {"type": "string", "description": CSV_DOC}, "example": CSV_EXAMPLE},
}


def compact(document: Any) -> str:
    """Deterministic JSON (sorted keys), the same from SQLite text and Postgres jsonb."""
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def chunks(rows: Iterable[Row]) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, ROWS_PER_CHUNK)):
        yield chunk


def jsonl(rows: Iterable[Row]) -> Iterator[bytes]:
    for chunk in chunks(rows):
        lines = (compact(audit_document(r)) for r in chunk)
        yield ("\n".join(lines) + "\n").encode("utf-8")


def defused(value: Any) -> Any:
    """A text cell that starts like a formula gets a leading single quote (OWASP).
    One that already starts with a quote gets another, so removing one leading
    quote from every cell that has one gives back exactly the recorded value."""
    if isinstance(value, str) and value.startswith((*FORMULA_STARTS, "'")):
        return "'" + value
    return value


def csv_cells(row: Row) -> list[Any]:
    """Values as recorded, defused for spreadsheets (JSON Lines is the exact export)."""
    cells = [
        *(row[c] for c in COLUMNS[:6]),
        canonical_time(row["occurred_at"]),
        row["request_id"],
        row["idempotency_key"],
        row["chain_hash"],
        compact(row["payload"]),
    ]
    return [defused(c) for c in cells]


def csv_rows(rows: Iterable[Row]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for chunk in chunks(rows):
        writer.writerows(csv_cells(r) for r in chunk)
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def encode(fmt: ExportFormat, rows: Iterable[Row]) -> Iterator[bytes]:
    return jsonl(rows) if fmt is ExportFormat.JSONL else csv_rows(rows)
