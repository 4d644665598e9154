"""`disputes orders import FILE.jsonl` as a user runs it, on SQLite and
Postgres: good lines are recorded (each as PUT /v1/orders would), bad lines
are named by number on standard error and make the exit status 1, a second
run records nothing new, and a terminal gets a progress bar."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bootstrap import build_app
from cli.main import cli
from domain.order_book import OrderBook
from service.settings import Settings

SRC = Path(__file__).resolve().parents[2] / "src"
SECRET = "x" * 32


def order(order_id: str, buyer: str = "buyer-1", **changes: Any) -> str:
    document = {
        "order_id": order_id,
        "buyer_id": buyer,
        "seller_id": "seller-1",
        "amount": {"amount_minor": 2000, "currency": "USD"},
        "placed_at": "2026-01-10T08:00:00Z",
        "delivered_at": None,
        "protection_ends_at": "2026-03-10T08:00:00Z",
        **changes,
    }
    return json.dumps(document)


LINES = [
    order("o-1"),
    "{not json",
    order("o-2", buyer="seller-1"),  # the seller cannot be the buyer
    "",
    order("o-3", amount={"amount_minor": -5, "currency": "USD"}),
    order("o-4", delivered_at="2026-01-12T10:00:00Z"),
]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    found = {"DISPUTES_ENV": "test", "DISPUTES_JWT_SECRET": SECRET, "DISPUTES_VAR_DIR": str(tmp_path / "var")}
    if request.param == "sqlite":
        found["DISPUTES_DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite'}"
    else:
        found["DISPUTES_DATABASE_URL"] = request.getfixturevalue("postgres_url")
        found["DISPUTES_POSTGRES_SCHEMA"] = request.getfixturevalue("pg_schema")
    return found


def disputes(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DISPUTES_")}
    clean.update(PYTHONPATH=str(SRC), **env)
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def stored_orders(env: dict[str, str], *order_ids: str) -> dict[str, Any]:
    settings = Settings(
        database_url=env["DISPUTES_DATABASE_URL"], postgres_schema=env.get("DISPUTES_POSTGRES_SCHEMA", "public"),
        env="test", jwt_secret=SECRET,
    )  # fmt: skip
    app = build_app(settings)
    try:
        book = OrderBook(app)
        return {i: book.order(i) for i in order_ids}
    finally:
        app.close()


def test_good_lines_are_recorded_and_bad_ones_named_by_number(tmp_path: Path, env: dict[str, str]) -> None:
    path = tmp_path / "orders.jsonl"
    path.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    done = disputes(tmp_path, env, "orders", "import", str(path))
    assert done.returncode == 1, done.stderr
    refused = [line for line in done.stderr.splitlines() if line.startswith("orders.jsonl:")]
    assert [line.split(":")[1] for line in refused] == ["2", "3", "5"]
    assert "invalid_value: the seller cannot be the buyer" in refused[1]
    assert "amount.amount_minor" in refused[2]
    assert "2 recorded, 0 unchanged, 3 refused" in done.stderr
    found = stored_orders(env, "o-1", "o-2", "o-3", "o-4")
    assert found["o-2"] is None and found["o-3"] is None
    assert found["o-1"].buyer_id == "buyer-1" and found["o-4"].current.delivered_at is not None

    again = disputes(tmp_path, env, "orders", "import", str(path))
    assert again.returncode == 1 and "0 recorded, 2 unchanged, 3 refused" in again.stderr

    fixed = tmp_path / "fixed.jsonl"
    fixed.write_text("\n".join([order("o-2", buyer="buyer-2"), order("o-1", buyer="buyer-9")]), encoding="utf-8")
    done = disputes(tmp_path, env, "orders", "import", str(fixed))
    assert done.returncode == 0, done.stderr
    assert "2 recorded, 0 unchanged, 0 refused" in done.stderr
    found = stored_orders(env, "o-1", "o-2")
    assert found["o-1"].version == 2 and found["o-1"].buyer_id == "buyer-9" and found["o-2"].buyer_id == "buyer-2"

    verified = disputes(tmp_path, env, "audit", "verify", "--all")
    assert verified.returncode == 0, verified.stderr
    assert "3 checked, 0 broken" in verified.stderr


def test_a_missing_file_is_a_usage_error(tmp_path: Path, env: dict[str, str]) -> None:
    done = disputes(tmp_path, env, "orders", "import", "nowhere.jsonl")
    assert done.returncode == 2 and "nowhere.jsonl" in done.stderr


def test_the_import_draws_a_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    env = {"DISPUTES_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}", "DISPUTES_ENV": "test",
           "DISPUTES_JWT_SECRET": SECRET}  # fmt: skip
    path = tmp_path / "orders.jsonl"
    path.write_text("\n".join(order(f"o-{n}") for n in range(5)), encoding="utf-8")
    args = ["orders", "import", str(path)]
    on_terminal = CliRunner().invoke(cli, args, env={**env, "TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1"})
    assert on_terminal.exit_code == 0, on_terminal.output
    assert "━" in on_terminal.stderr and "5 recorded" in on_terminal.stderr
    piped = CliRunner().invoke(cli, args, env={**env, "TTY_COMPATIBLE": "0"})
    assert piped.exit_code == 0 and "━" not in piped.stderr and "5 unchanged" in piped.stderr
