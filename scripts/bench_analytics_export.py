"""Time and memory of `disputes analytics export` (every read model to Parquet and CSV).

    .venv/bin/python scripts/bench_analytics_export.py [--disputes 2000]
        [--url sqlite:///PATH | postgresql://postgres@127.0.0.1:5432/test]

Creates disputes through the application in several statuses (a scratch
SQLite file, or a scratch Postgres schema dropped afterwards), brings every
read model up to date, then exports them with the real code
(projections.export) in each format, printing rows, seconds and the process's
peak RSS. Benchmarks are scripts, not timed tests: figures are for notes.
"""

from __future__ import annotations

import argparse
import resource
import secrets
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg.sql import SQL, Identifier

sys.path.insert(0, str(Path(__file__).parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

from bootstrap import connect
from domain.values import Status
from projections import export
from service.settings import Settings
from support.analytics import catch_up
from support.builders import scenario_in

STATUSES = [Status.RESOLVED, Status.UNDER_REVIEW, Status.WITHDRAWN, Status.NEGOTIATING, Status.AWAITING_SELLER]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--disputes", type=int, default=2000)
    parser.add_argument("--url", default="")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-analytics-"))
    schema = f"bench_analytics_{secrets.token_hex(3)}"
    url = args.url or f"sqlite:///{scratch / 'disputes.sqlite'}"
    postgres = url.startswith("postgres")
    settings = Settings(
        env="test", database_url=url, postgres_schema=schema if postgres else "", var_dir=scratch,
        jwt_secret="bench-secret-0123456789abcdef0123456789", in_process_workers=False,
    )  # fmt: skip
    app, views = connect(settings)
    try:
        started = time.perf_counter()
        for n in range(args.disputes):
            scenario_in(app, STATUSES[n % len(STATUSES)])
        catch_up(app, views)
        print(f"{args.disputes} disputes, {app.recorder.max_notification_id()} events "
              f"in {time.perf_counter() - started:.1f}s ({settings.backend})")  # fmt: skip
        for fmt in export.FORMATS:
            started = time.perf_counter()
            written = export.export(views, fmt, scratch / fmt, lambda table, rows: lambda n: None)
            seconds = time.perf_counter() - started
            size = sum(f.stat().st_size for f in (scratch / fmt).iterdir())
            peak, rows = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, sum(written.values())
            print(f"{fmt:>8}: {rows} rows in {seconds:.2f}s ({rows / seconds:.0f} rows/s), "
                  f"{size / 1e6:.1f} MB, peak RSS {peak} MB")  # fmt: skip
    finally:
        app.close()
        views.close()
        if postgres:
            with psycopg.connect(url, autocommit=True) as conn:
                for name in (schema, f"{schema}_analytics"):
                    conn.execute(SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(name)))


if __name__ == "__main__":
    main()
