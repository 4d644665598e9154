"""Schemathesis over the live OpenAPI document, on SQLite and Postgres.

Generated requests, valid and invalid, from callers of every role, aimed at
real seeded disputes about half of the time and at generated ids otherwise,
must never get a 5xx or a response the document does not describe (status
code, content type, body schema, headers). Afterwards every read model must
have caught up with the store: no request may stall a projection.

The suite's run is derandomized (the same examples every time); for a deeper
search run `FUZZ_RANDOM=1 FUZZ_EXAMPLES=300 pytest tests/test_api_fuzz.py -n 4`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from psycopg.sql import SQL, Identifier
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bootstrap import build_api
from domain.values import Role
from service.settings import Settings
from support.api import SECRET, Caller, Parties, ok
from support.stores import RUN_ID, settings_for

ROLES = [Role.BUYER, Role.SELLER, Role.AGENT, Role.AUDITOR, Role.ANALYST]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
# schemathesis's own negative-mode strategies draw from `random`; nothing here does.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies:hypothesis.errors.HypothesisDeprecationWarning"
)
BASE_URL = f"http://{asgi.HOST}"

# The document fuzzed is the app's own (the fixture checks the live app serves
# the same). It is loaded at import because schemathesis's lazy fixture loader
# does not work with pytest 9; requests go through schemathesis's ASGI session.
DOCUMENT = build_api(Settings(env="test", database_url="memory://", jwt_secret=SECRET)).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT)


@dataclass
class Fuzzed:
    session: Any
    callers: dict[Role, Caller]
    disputes: list[dict[str, Any]]

    def ids(self, index: int) -> dict[str, str]:
        """Real path parameters from seeded dispute `index`."""
        d = self.disputes[index]
        offer = d["pending_offer"] or d["offers"][-1]
        return {
            "dispute_id": d["id"],
            "offer_id": offer["id"],
            "evidence_id": d["evidence"][0]["id"] if d["evidence"] else offer["id"],
            "seller_id": d["seller_id"],
        }

    def readiness(self) -> dict[str, Any]:
        body: dict[str, Any] = self.session.get("/readyz").json()
        return body

    def views_reached(self) -> int:
        return min(int(v["position"] or 0) for v in self.readiness()["views"].values())


def seed(parties: Parties) -> list[dict[str, Any]]:
    with_evidence = parties.open()
    ok(parties.buyer.upload(f"/v1/disputes/{with_evidence['id']}/evidence"), 201)
    ok(parties.buyer.post(f"/v1/disputes/{with_evidence['id']}/messages", {"body": "photos attached"}), 201)
    return [
        parties.read(with_evidence["id"]),
        parties.in_status("under_review"),
        parties.in_status("return_in_transit"),
        parties.in_status("withdrawn"),
    ]


def assert_views_catch_up(fuzzed: Fuzzed, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while (lagging := fuzzed.readiness())["status"] != "ready" or any(v["lag"] for v in lagging["views"].values()):
        assert time.monotonic() < deadline, f"read models stalled after fuzzing: {lagging}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def module_store(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """Where the module's API keeps its data: its own SQLite file, or its own Postgres schema."""
    if request.param == "sqlite":
        yield {}
        return
    url, schema_name = request.getfixturevalue("postgres_url"), f"{RUN_ID}_fuzz"
    yield {"database_url": url, "postgres_schema": schema_name}
    with psycopg.connect(url, autocommit=True) as conn:
        for name in (schema_name, f"{schema_name}_analytics"):  # and the analysts' views beside it
            conn.execute(SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(name)))


@pytest.fixture(scope="module")
def fuzzed(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest, module_store: dict[str, str]
) -> Iterator[Fuzzed]:
    tmp = Path(tmp_path_factory.mktemp("fuzz"))
    app = build_api(
        settings_for("sqlite", tmp, request, in_process_workers=True, stream_max_duration="PT0.3S", **module_store)
    )
    with asgi.get_client(app) as session:
        try:
            assert session.get("/openapi.json").json() == DOCUMENT
            callers = {role: Caller(session, role, f"{role.value}-1") for role in ROLES}
            disputes = seed(Parties(callers[Role.BUYER], callers[Role.SELLER], callers[Role.AGENT]))
            fuzzed = Fuzzed(session, callers, disputes)
            yield fuzzed
            assert_views_catch_up(fuzzed)
        finally:
            asgi.shutdown_lifespans()


def reachable(headers: dict[str, Any], reached: int) -> dict[str, Any]:
    """A generated X-Min-Position beyond what the read models reached only waits
    2 s for the documented 503 (tested on its own in test_api_odd_input.py), so
    integers are capped at the reached position; malformed values go as sent."""
    shaped = dict(headers)
    for name, value in headers.items():
        if name.lower() != "x-min-position":
            continue
        if isinstance(value, int) and not isinstance(value, bool):
            shaped[name] = min(value, reached)
        elif isinstance(value, str) and value.isdigit():
            shaped[name] = str(min(int(value), reached))
    return shaped


@pytest.mark.parametrize(
    "module_store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True, scope="module"
)
@schema.given(role=st.sampled_from(ROLES), target=st.integers(min_value=-4, max_value=3))
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    phases=[Phase.generate],  # generated cases only: the examples are checked in test_openapi_client.py
    derandomize=not os.environ.get("FUZZ_RANDOM"),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
def test_the_api_keeps_to_its_documented_contract(case: Any, fuzzed: Fuzzed, role: Role, target: int) -> None:
    if target >= 0 and case.path_parameters:
        ids = fuzzed.ids(target)
        case.path_parameters = {k: ids.get(k, v) for k, v in case.path_parameters.items()}
    headers = {**reachable(case.headers or {}, fuzzed.views_reached()), **fuzzed.callers[role].headers}
    case.call_and_validate(session=fuzzed.session, base_url=BASE_URL, headers=headers, checks=CHECKS)
