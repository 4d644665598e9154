"""Shared fixtures: the same tests run against every store; tests by tier.

Postgres tests use their own schema per test (named after this run), so
parallel runs never collide. Outside CI they skip loudly when Postgres is not
reachable; in CI (CI=true) they fail instead.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from fastapi.testclient import TestClient
from psycopg.sql import SQL, Identifier

from bootstrap import build_api, build_app
from domain.application import DisputeApp
from service.settings import Settings
from support.contract import settings_for as contract_settings
from support.stores import PG_URL, RUN_ID, postgres_problem, schema_numbers, settings_for

TIERS = ("domain", "service", "read_models", "api", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its tier (its directory), so `-m domain` selects it."""
    for item in items:
        tier = item.path.parent.name
        if tier in TIERS:
            item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """A CLI test configures logging for the whole process (cli.main's callback): undo it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers, root.level = handlers, level


@pytest.fixture(scope="session")
def postgres_url() -> str:
    problem = postgres_problem()
    if problem:
        message = f"PostgreSQL at {PG_URL} is not reachable ({problem})"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI=true, so Postgres tests must run", pytrace=False)
        pytest.skip("SKIPPING POSTGRES TESTS: " + message)
    return PG_URL


REDIS_URL = os.environ.get("DISPUTES_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """Redis for the shared rate-limit budget. Outside CI the tests skip loudly
    when it is unreachable; in CI (CI=true) they fail instead."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as e:
        message = f"Redis at {REDIS_URL} is not reachable ({type(e).__name__}: {e})"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI=true, so Redis tests must run", pytrace=False)
        pytest.skip("SKIPPING REDIS TESTS: " + message)
    return REDIS_URL


@pytest.fixture
def rate_limit_prefix() -> str:
    """A Redis key prefix of this test's own, so tests and runs never share a budget."""
    return f"{RUN_ID}-{next(schema_numbers)}"


@pytest.fixture
def pg_schema(postgres_url: str) -> Iterator[str]:
    schema = f"{RUN_ID}_{next(schema_numbers)}"
    yield schema
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        for name in (schema, f"{schema}_analytics"):  # the analysts' views beside it (Settings.analytics_schema_name)
            conn.execute(SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(name)))


BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    return settings_for(backend, tmp_path, request)


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
