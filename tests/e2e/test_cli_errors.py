"""The `disputes` command as a user meets it: a configuration or connection
mistake is one clear line and exit 2 (the traceback only with --debug);
`audit verify` exits 3 when the store cannot be reached; the long commands
draw progress bars on a terminal; every command logs JSON lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bootstrap import build_app
from cli.main import cli
from service.settings import Settings
from support.builders import Scenario

SRC = Path(__file__).resolve().parents[2] / "src"
UNREACHABLE_POSTGRES = "postgresql://nobody@127.0.0.1:1/nothing?connect_timeout=2"


def disputes(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DISPUTES_")}
    clean.update(PYTHONPATH=str(SRC), **env)
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "args", "said"),
    [
        ({"DISPUTES_DATABASE_URL": "mysql://db/x"}, ["projections", "status"], "DISPUTES_DATABASE_URL"),
        ({"DISPUTES_NEGOTIATION_WINDOW": "soon"}, ["scheduler", "upcoming"], "DISPUTES_NEGOTIATION_WINDOW"),
        ({"DISPUTES_ENV": "production"}, ["token", "--role", "buyer", "--sub", "b"], "DISPUTES_JWT_SECRET"),
        ({"DISPUTES_DATABASE_URL": UNREACHABLE_POSTGRES}, ["projections", "status"], "cannot reach the database"),
    ],
    ids=["bad-url", "bad-duration", "no-secret", "unreachable"],
)
def test_configuration_and_connection_errors_are_one_line_and_exit_2(
    tmp_path: Path, env: dict[str, str], args: list[str], said: str
) -> None:
    done = disputes(tmp_path, *args, **env)
    assert done.returncode == 2, done.stderr
    assert said in done.stderr
    assert done.stderr.strip().count("\n") == 0, f"more than one line:\n{done.stderr}"
    assert "Traceback" not in done.stderr
    with_debug = disputes(tmp_path, "--debug", *args, **env)
    assert with_debug.returncode != 0 and "Traceback" in with_debug.stderr


def test_audit_verify_exits_3_when_the_store_is_unreachable(tmp_path: Path) -> None:
    done = disputes(tmp_path, "audit", "verify", "--all", DISPUTES_DATABASE_URL=UNREACHABLE_POSTGRES)
    assert done.returncode == 3, done.stderr
    assert "unreachable" in done.stderr and "Traceback" not in done.stderr


def test_audit_verify_exits_0_when_every_chain_is_valid_and_2_for_an_unknown_dispute(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    with_disputes(url, 2)
    assert disputes(tmp_path, "audit", "verify", "--all", DISPUTES_DATABASE_URL=url).returncode == 0
    unknown = disputes(tmp_path, "audit", "verify", "00000000-0000-0000-0000-000000000001", DISPUTES_DATABASE_URL=url)
    assert unknown.returncode == 2


def with_disputes(url: str, count: int) -> None:
    app = build_app(Settings(database_url=url, env="test", jwt_secret="x" * 32))
    try:
        for _ in range(count):
            Scenario(app).open().seller_counters()
    finally:
        app.close()


@pytest.mark.parametrize(
    "args",
    [
        ["audit", "verify", "--all"],
        ["projections", "rebuild", "timeline"],
        ["audit", "export", "--format", "jsonl"],
        ["seed", "--disputes", "30"],
    ],
    ids=["verify-all", "rebuild", "export", "seed"],
)
def test_long_commands_draw_a_progress_bar_on_a_terminal(tmp_path: Path, args: list[str]) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    with_disputes(url, 3)
    env = {
        "DISPUTES_DATABASE_URL": url,
        "DISPUTES_ENV": "test",
        "DISPUTES_JWT_SECRET": "x" * 32,
        "DISPUTES_BLOB_DIR": str(tmp_path / "blobs"),
    }
    on_terminal = CliRunner().invoke(cli, args, env={**env, "TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1"})
    assert on_terminal.exit_code == 0, on_terminal.output
    assert "━" in on_terminal.stderr, on_terminal.stderr
    piped = CliRunner().invoke(cli, args, env={**env, "TTY_COMPATIBLE": "0"})
    assert piped.exit_code == 0 and "━" not in piped.stderr


def test_every_command_logs_json_lines_and_console_on_request(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    done = disputes(
        tmp_path, "projections", "rebuild", "timeline", DISPUTES_DATABASE_URL=url, DISPUTES_LOG_LEVEL="DEBUG"
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert lines, done.stderr
    for line in lines:
        assert {"time", "level", "logger", "process", "event"} <= set(line), line
        assert line["process"] == "projections"
    console = disputes(tmp_path, "projections", "status", DISPUTES_DATABASE_URL=url, DISPUTES_LOG_FORMAT="console")
    assert console.returncode == 0 and not any(line.startswith("{") for line in console.stderr.splitlines())
