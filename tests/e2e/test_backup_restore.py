"""Backup and restore as docs/operations.md tells it: the database first
(Postgres: pg_dump; SQLite: its online backup API), then the evidence files,
both while the deployment runs; restored into a fresh deployment (a NEW
Postgres database, made here and dropped after, or a new SQLite file, and a
new blob folder) with the original gone, `disputes audit verify --all` exits 0
and every evidence download still matches its sha256."""

from __future__ import annotations

import hashlib
import itertools
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.sql import SQL, Identifier

from bootstrap import build_api
from domain.values import Role
from service.settings import Settings
from support.api import PDF, PNG, Caller, ok, opening
from support.live_server import server_env
from support.stores import RUN_ID, settings_for

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
databases = itertools.count(1)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def new_database(backend: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    """A new, empty Postgres database to restore into (its URL), dropped afterwards."""
    if backend != "postgres":
        yield None
        return
    server: str = request.getfixturevalue("postgres_url")
    name = f"{RUN_ID}_restore_{next(databases)}".lower()
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(SQL("CREATE DATABASE {}").format(Identifier(name)))
    yield urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(Identifier(name)))


def run(*command: str | Path, attempts: int = 1) -> None:
    for attempt in range(1, attempts + 1):
        done = subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=300, check=False)
        if done.returncode == 0:
            return
        print(f"attempt {attempt}: {command[0]} exited {done.returncode}: {done.stderr}")
    raise AssertionError(f"{command[0]} exited {done.returncode}: {done.stderr}")


def sqlite_backup(source: Path | str, target: Path | str) -> None:
    """SQLite's online backup API: one consistent state, while others write."""
    with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(target)) as copy:
        live.backup(copy)


def back_up_database(settings: Settings, backup: Path) -> None:
    if settings.backend == "sqlite":
        sqlite_backup(settings.sqlite_path, backup / "disputes.sqlite")
        return
    # pg_dump reads the whole catalog while other tests drop their schemas in this
    # shared test database, which can fail it ("cache lookup failed"): a race of
    # the test database, not of the backup, so a failed dump is taken again.
    schema, dump = settings.postgres_params()["schema"], backup / "disputes.dump"
    run("pg_dump", "--format=custom", f"--schema={schema}", f"--file={dump}", settings.database_url, attempts=3)


def back_up_blobs(settings: Settings, backup: Path) -> None:
    run("tar", "--create", "--gzip", "--file", backup / "blobs.tar.gz", "--directory", settings.blob_dir,
        "--exclude=./incoming", ".")  # fmt: skip


def restore(backup: Path, into: Settings) -> None:
    into.blob_dir.mkdir(parents=True)
    run("tar", "--extract", "--gzip", "--file", backup / "blobs.tar.gz", "--directory", into.blob_dir)
    if into.backend == "sqlite":
        sqlite_backup(backup / "disputes.sqlite", into.sqlite_path)
    else:
        run("pg_restore", "--no-owner", "--exit-on-error", f"--dbname={into.database_url}", backup / "disputes.dump")


def discard(settings: Settings, folder: Path) -> None:
    """The original deployment is gone: nothing of it can be read by mistake."""
    shutil.rmtree(folder)
    if settings.backend == "postgres":
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute(SQL("DROP SCHEMA {} CASCADE").format(Identifier(settings.postgres_schema)))


def populate(client: TestClient) -> tuple[list[str], dict[str, str]]:
    """Disputes with messages and evidence files; their ids and each file's sha256 by evidence id."""
    buyer, seller = Caller(client, Role.BUYER, "buyer-1"), Caller(client, Role.SELLER, "seller-1")
    disputes, files = [], {}
    for n in range(3):
        dispute = ok(buyer.post("/v1/disputes", opening(seller.id)), 201)
        disputes.append(dispute["id"])
        ok(seller.post(f"/v1/disputes/{dispute['id']}/messages", {"body": f"looking into it ({n})"}), 201)
        for who, content in ((buyer, PNG + bytes([n])), (seller, PDF + bytes([n]))):
            evidence = ok(who.upload(f"/v1/disputes/{dispute['id']}/evidence", content), 201)
            assert evidence["sha256"] == hashlib.sha256(content).hexdigest()
            files[evidence["id"]] = evidence["sha256"]
    return disputes, files


def verify_all(settings: Settings, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "cli.main", "audit", "verify", "--all"]
    return subprocess.run(command, env=server_env(settings), cwd=cwd, capture_output=True, text=True, check=False)


def downloads(client: TestClient, dispute_ids: list[str]) -> dict[str, str]:
    """Each evidence file's recorded sha256 by id, after checking its download against it."""
    agent = Caller(client, Role.AGENT, "agent-1")
    recorded = {}
    for dispute_id in dispute_ids:
        for evidence in ok(agent.get(f"/v1/disputes/{dispute_id}"), 200)["evidence"]:
            content = agent.get(f"/v1/disputes/{dispute_id}/evidence/{evidence['id']}/content")
            assert content.status_code == 200, content.text
            assert hashlib.sha256(content.content).hexdigest() == evidence["sha256"]
            recorded[evidence["id"]] = evidence["sha256"]
    return recorded


def test_a_backup_restored_into_a_fresh_deployment_verifies_and_serves_every_evidence_file(
    backend: str, new_database: str | None, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    live = settings_for(backend, tmp_path / "live", request, in_process_workers=True)
    backup = tmp_path / "backup"
    backup.mkdir()
    with TestClient(build_api(live)) as client:  # backed up while it runs
        dispute_ids, files = populate(client)
        back_up_database(live, backup)
        # Uploaded between the two steps: its blob is in the backup, its event is not (harmless).
        Caller(client, Role.BUYER, "buyer-1").upload(f"/v1/disputes/{dispute_ids[0]}/evidence", PNG + b"late")
        back_up_blobs(live, backup)
    discard(live, tmp_path / "live")

    overrides: dict[str, Any] = {"in_process_workers": True}
    if new_database is not None:
        overrides.update(database_url=new_database, postgres_schema=live.postgres_schema)
    restored = settings_for(backend, tmp_path / "restored", request, **overrides)
    restore(backup, restored)

    verified = verify_all(restored, tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"{len(dispute_ids)} checked, 0 broken" in verified.stderr
    with TestClient(build_api(restored)) as client:
        assert downloads(client, dispute_ids) == files
        buyer = Caller(client, Role.BUYER, "buyer-1")
        listed = ok(buyer.get("/v1/disputes"), 200)
        assert {d["id"] for d in listed["items"]} == set(dispute_ids)
        ok(buyer.post(f"/v1/disputes/{dispute_ids[0]}/messages", {"body": "after the restore"}), 201)
