"""Shared fixtures: the same tests run against every store.

Postgres tests use their own schema per test (named after this run), so
parallel runs never collide. Outside CI they skip loudly when Postgres is not
reachable; in CI (CI=true) they fail instead.
"""

from __future__ import annotations

import itertools
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.sql import SQL, Identifier

from bootstrap import build_api, build_app
from contract_support import settings_for as contract_settings
from domain.application import DisputeApp
from service.settings import Settings

PG_URL = os.environ.get("DISPUTES_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
RUN_ID = f"t{os.getpid()}_{secrets.token_hex(3)}"
_schema_numbers = itertools.count(1)


def _postgres_problem() -> str | None:
    try:
        with psycopg.connect(PG_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as e:
        return f"{type(e).__name__}: {e}"
    return None


@pytest.fixture(scope="session")
def postgres_url() -> str:
    problem = _postgres_problem()
    if problem:
        message = f"PostgreSQL at {PG_URL} is not reachable ({problem})"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI=true, so Postgres tests must run", pytrace=False)
        pytest.skip("SKIPPING POSTGRES TESTS: " + message)
    return PG_URL


@pytest.fixture
def pg_schema(postgres_url: str) -> Iterator[str]:
    schema = f"{RUN_ID}_{next(_schema_numbers)}"
    yield schema
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(schema)))


BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    return settings_for(backend, tmp_path, request)


def settings_for(backend: str, tmp_path: Path, request: pytest.FixtureRequest, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": "test",
        "var_dir": tmp_path / "var",
        "blob_dir": tmp_path / "blobs",
        "jwt_secret": "test-secret-0123456789abcdef0123456789",
        "snapshot_interval": 4,
        "in_process_workers": False,
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


@pytest.fixture
def app(settings: Settings) -> Iterator[DisputeApp]:
    application = build_app(settings)
    yield application
    application.close()


@pytest.fixture
def contract_client(tmp_path: Path) -> Iterator[TestClient]:
    """The app as an outside acceptance check builds it: SQLite, in-process workers."""
    with TestClient(build_api(contract_settings(tmp_path))) as client:
        yield client
