"""The generated development secret lives beside the database: a token
minted from any directory with the same settings is one the server accepts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.auth import dev_secret_path, resolve_secret
from bootstrap import build_api
from cli.main import cli
from service.settings import Settings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("DISPUTES_"):
            monkeypatch.delenv(name)


@pytest.mark.usefixtures("clean_env")
def test_a_token_minted_in_another_directory_is_accepted_by_the_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    database = tmp_path / "data" / "disputes.sqlite"
    monkeypatch.setenv("DISPUTES_DATABASE_URL", f"sqlite:///{database}")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    minted = CliRunner().invoke(cli, ["token", "--role", "buyer", "--sub", "buyer-1"])
    assert minted.exit_code == 0, minted.output
    token = minted.stdout.strip().splitlines()[-1]
    assert (database.parent / "jwt-secret").exists() and not (elsewhere / "var").exists()

    server_dir = tmp_path / "server"
    server_dir.mkdir()
    monkeypatch.chdir(server_dir)
    with TestClient(build_api(Settings(in_process_workers=False))) as client:
        answer = client.get("/v1/disputes", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text


@pytest.mark.usefixtures("clean_env")
def test_the_secret_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    first, again = resolve_secret(settings), resolve_secret(settings)
    assert first == again and len(first) >= 32
    assert dev_secret_path(settings) == tmp_path / "jwt-secret"
    assert (tmp_path / "jwt-secret").stat().st_mode & 0o077 == 0


@pytest.mark.usefixtures("clean_env")
def test_postgres_databases_get_one_secret_each(tmp_path: Path) -> None:
    one = Settings(database_url="postgresql://u@db1/app", var_dir=tmp_path)
    other = Settings(database_url="postgresql://u@db1/app", postgres_schema="tenant2", var_dir=tmp_path)
    assert dev_secret_path(one) != dev_secret_path(other)
    assert dev_secret_path(one).parent == tmp_path
