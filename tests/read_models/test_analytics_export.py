"""`disputes analytics export` writes every read model: the Parquet files read
back with pyarrow, and the CSV files with the csv module, hold what SQL reads
from the stable views (row counts, sums and a checksum of every value)."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cli.main import cli
from projections import export
from projections.catalog import PROJECTIONS
from projections.db import Database, as_json, as_time
from support.analytics import populated
from support.live_server import server_env
from support.stores import settings_for

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def canonical(value: Any, kind: str) -> str:
    """One text for a value, whichever way it was read (SQL on either dialect, Parquet, CSV)."""
    if value is None or value == "":
        return "NULL"
    if kind == "time":
        moment = value if isinstance(value, datetime) else as_time(value)
        assert moment is not None
        return moment.astimezone(UTC).isoformat()
    if kind == "json":
        return json.dumps(as_json(value), sort_keys=True)
    if kind == "bool":
        return str(value in (True, 1, "true"))
    if kind == "float":
        return repr(float(value))
    return str(value)


def checksum(rows: list[dict[str, Any]], table: export.Table) -> str:
    lines = sorted("|".join(canonical(row[name], kind) for name, kind in table.columns) for row in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def summed_column(table: export.Table) -> str:
    return next(c for c in ("position", "version", "refund_minor", "node") if c in dict(table.columns))


def by_sql(db: Database, table: export.Table) -> tuple[int, int | None, str]:
    """(rows, the sum of an integer column, checksum), straight from the stable view."""
    summed = summed_column(table)
    with db.reading() as cur:
        cur.run(f"SELECT COUNT(*) AS n, SUM({summed}) AS s FROM {{t}}", t=table.name)
        totals = cur.one()
        cur.run("SELECT * FROM {t}", t=table.name)
        rows = cur.all()
    assert totals is not None
    return int(totals["n"]), None if totals["s"] is None else int(totals["s"]), checksum(rows, table)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_parquet_export_holds_what_sql_reads(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    settings = settings_for(backend, tmp_path, request)
    app, views = populated(settings)
    out = tmp_path / "export"
    env = {k: v for k, v in server_env(settings).items() if k.startswith("DISPUTES_")}
    result = CliRunner().invoke(cli, ["analytics", "export", "--format", "parquet", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output

    tables = export.tables()
    assert {t.name for t in tables} == {name for p in PROJECTIONS.values() for name in p.tables}
    manifest = json.loads((out / "manifest.json").read_text())
    for table in tables:
        parquet = pq.read_table(out / f"{table.name}.parquet")
        assert parquet.column_names == [name for name, _ in table.columns]
        summed = summed_column(table)
        rows, total, digest = by_sql(views, table)
        assert rows > 0, f"{table.name}: the data set fills every read model"
        assert (parquet.num_rows, pc.sum(parquet[summed]).as_py()) == (rows, total), table.name
        assert checksum(parquet.to_pylist(), table) == digest, table.name
        assert manifest["tables"][table.name]["rows"] == rows
        assert f"{table.name}.parquet: {rows} rows" in result.output
    opened_at = pq.read_table(out / "dispute_summaries.parquet").schema.field("opened_at").type
    assert str(opened_at) == "timestamp[us, tz=UTC]"
    app.close()
    views.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_csv_export_has_a_header_rfc_4180_quoting_and_what_sql_reads(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = settings_for(backend, tmp_path, request)
    app, views = populated(settings)
    out = tmp_path / "export"
    env = {k: v for k, v in server_env(settings).items() if k.startswith("DISPUTES_")}
    result = CliRunner().invoke(cli, ["analytics", "export", "--format", "csv", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output

    for table in export.tables():
        raw = (out / f"{table.name}.csv").read_bytes()
        assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b""), "CRLF line ends only"
        with (out / f"{table.name}.csv").open(newline="", encoding="utf-8") as file:
            reader = csv.DictReader(file)
            assert reader.fieldnames == [name for name, _ in table.columns]
            rows = list(reader)
        count, _, digest = by_sql(views, table)
        assert (len(rows), checksum(rows, table)) == (count, digest), table.name
    timeline = (out / "timeline_entries.csv").read_text(encoding="utf-8")
    assert '"{""body"":""a private word about the parcel""' in timeline, "JSON quoted, quotes doubled"
    app.close()
    views.close()


def test_an_unknown_format_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["analytics", "export", "--format", "xlsx", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "xlsx" in result.output


def test_the_export_reports_each_tables_rows_to_the_progress_bar(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    app, views = populated(settings_for("sqlite", tmp_path, request))
    totals: dict[str, int] = {}
    advanced: dict[str, int] = {}

    def progress(table: export.Table, rows: int) -> export.Progress:
        totals[table.name], advanced[table.name] = rows, 0
        return lambda n: advanced.__setitem__(table.name, advanced[table.name] + n)

    written = export.export(views, "csv", tmp_path / "out", progress)
    assert totals == advanced == written and all(n > 0 for n in written.values())
    app.close()
    views.close()


def test_parquet_without_pyarrow_says_which_extra_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pyarrow" else found(name, *a))
    result = CliRunner().invoke(cli, ["analytics", "export", "--format", "parquet", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "pip install 'disputes[analytics]'" in result.output
    assert not any(tmp_path.iterdir()), "nothing written"
