"""One settings object reads the documented variables and derives the store environment."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from service.settings import Settings


def test_defaults_are_the_embedded_sqlite_store_and_the_spec_durations(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("DISPUTES_"):
            monkeypatch.delenv(name)
    settings = Settings()
    assert settings.database_url == "sqlite:///var/disputes.sqlite"
    assert settings.backend == "sqlite"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.seller_response_window == timedelta(days=5)
    assert settings.negotiation_window == timedelta(days=15)
    assert settings.penalty_window == timedelta(days=90)
    assert settings.scheduler_interval == timedelta(seconds=1)
    assert settings.max_evidence_bytes == 10485760


def test_durations_are_read_as_iso_8601_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPUTES_SELLER_RESPONSE_WINDOW", "PT2S")
    monkeypatch.setenv("DISPUTES_RETURN_SHIPPING_WINDOW", "P1DT12H")
    settings = Settings()
    assert settings.seller_response_window == timedelta(seconds=2)
    assert settings.return_shipping_window == timedelta(days=1, hours=12)
    assert settings.policy().seller_response_window == timedelta(seconds=2)


@pytest.mark.parametrize("value", ["-PT1S", "PT0S", "soon"])
def test_bad_durations_are_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("DISPUTES_NEGOTIATION_WINDOW", value)
    with pytest.raises(ValidationError):
        Settings()


def test_sqlite_urls_are_spelled_as_sqlalchemy_does() -> None:
    assert Settings(database_url="sqlite:///var/x.sqlite").sqlite_path == "var/x.sqlite"
    assert Settings(database_url="sqlite:////srv/x.sqlite").sqlite_path == "/srv/x.sqlite"
    env = Settings(database_url="sqlite:////srv/x.sqlite").eventsourcing_env()
    assert env["PERSISTENCE_MODULE"] == "store.sqlite:Factory" and env["SQLITE_DBNAME"] == "/srv/x.sqlite"


def test_postgres_urls_become_the_library_environment() -> None:
    settings = Settings(database_url="postgresql://app:s%40cret@db.internal:6543/disputes?schema=tenant1")
    env = settings.eventsourcing_env()
    assert env["PERSISTENCE_MODULE"] == "store.postgres:Factory"
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_DBNAME"]) == ("db.internal", "6543", "disputes")
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"], env["POSTGRES_SCHEMA"]) == ("app", "s@cret", "tenant1")
    assert "POSTGRES_ENABLE_DB_FUNCTIONS" not in env, "it would skip the table lock readers rely on"


def test_unknown_database_schemes_and_penalty_weights_are_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(database_url="mysql://x")
    with pytest.raises(ValidationError):
        Settings(penalty_weights='{"bribery": 3}')
    assert Settings(penalty_weights='{"opened": 2}').penalty_weights == '{"opened": 2}'


def test_a_dotenv_file_in_the_working_directory_is_read_and_the_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in list(os.environ):
        if name.startswith("DISPUTES_"):
            monkeypatch.delenv(name)
    (tmp_path / ".env").write_text("DISPUTES_PORT=8123\nDISPUTES_LOG_FORMAT=console\nOTHER_TOOL=ignored\n")
    monkeypatch.chdir(tmp_path)
    assert (Settings().port, Settings().log_format) == (8123, "console")
    monkeypatch.setenv("DISPUTES_PORT", "8124")
    assert Settings().port == 8124


def test_postgres_url_parameters_are_parsed_by_libpq_and_kept() -> None:
    settings = Settings(
        database_url="postgres://app:p%2Fw@db.internal/disputes?sslmode=verify-full&sslrootcert=/etc/ca.pem"
        "&application_name=disputes-api&connect_timeout=7&schema=tenant1"
    )
    params = settings.postgres_params()
    assert params["sslmode"] == "verify-full" and params["sslrootcert"] == "/etc/ca.pem"
    assert (params["application_name"], params["connect_timeout"]) == ("disputes-api", "7")
    assert (params["password"], params["port"], params["schema"]) == ("p/w", "5432", "tenant1")
    env = settings.eventsourcing_env()
    assert json.loads(env["POSTGRES_EXTRA_CONNINFO"]) == {
        "sslmode": "verify-full",
        "sslrootcert": "/etc/ca.pem",
        "application_name": "disputes-api",
        "connect_timeout": "7",
    }


def test_a_postgres_url_libpq_refuses_is_a_configuration_error() -> None:
    with pytest.raises(ValidationError, match="libpq"):
        Settings(database_url="postgresql://host/db?sslmode=sometimes&nonsense_option=1")
