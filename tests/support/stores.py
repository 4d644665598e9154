"""Settings for a test on each store: memory, an SQLite file in the test's
folder, or a Postgres schema of its own (named after this run, so parallel
runs never collide)."""

from __future__ import annotations

import itertools
import os
import secrets
from pathlib import Path

import psycopg
import pytest

from service.settings import Settings

PG_URL = os.environ.get("DISPUTES_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
RUN_ID = f"t{os.getpid()}_{secrets.token_hex(3)}"
schema_numbers = itertools.count(1)


def postgres_problem() -> str | None:
    try:
        with psycopg.connect(PG_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as e:
        return f"{type(e).__name__}: {e}"
    return None


UNLIMITED = {"command_rate": 1_000_000, "command_burst": 1_000_000, "read_rate": 1_000_000}
"""Rate limits out of the way: a test about something else may send requests
faster than a real caller would (tests of the limits set their own)."""


def settings_for(backend: str, tmp_path: Path, request: pytest.FixtureRequest, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": "test",
        "var_dir": tmp_path / "var",
        "blob_dir": tmp_path / "blobs",
        "jwt_secret": "test-secret-0123456789abcdef0123456789",
        "snapshot_interval": 4,
        "in_process_workers": False,
        **UNLIMITED,
    }
    if backend == "memory":
        values["database_url"] = "memory://"
    elif backend == "sqlite":
        values["database_url"] = f"sqlite:///{tmp_path / 'disputes.sqlite'}"
    else:
        values["database_url"] = request.getfixturevalue("postgres_url")
        values["postgres_schema"] = request.getfixturevalue("pg_schema")
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]
