"""The OpenAPI document is one a generated client is happy with (issue 13,
item 3): openapi-spec-validator passes, openapi-python-client generates a
client with no warnings, and that client drives whole disputes against the app
served by uvicorn on a free local port."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from api.auth import mint
from bootstrap import build_api
from domain.values import Role
from support.contract import PNG, SECRET, settings_for
from support.served import served as serving

PACKAGE = "disputes_api_client"
OPERATION_ID = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
UUID_IDS = ["DisputeOut.id", "OfferOut.id", "EvidenceOut.id", "MessageOut.id", "EvidenceRequestOut.id"]


@dataclass
class Served:
    url: str
    document: dict[str, Any]

    def token(self, role: Role, sub: str) -> str:
        return mint(SECRET, role, sub)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The app as `serve` runs it, in this process: uvicorn on 127.0.0.1."""
    with serving(build_api(settings_for(tmp_path_factory.mktemp("served")))) as url:
        yield Served(url, httpx.get(f"{url}/openapi.json", timeout=10).json())


@pytest.fixture(scope="module")
def generated(served: Served, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, ModuleType]:
    """openapi-python-client's output for the served document, and the generated package."""
    out = tmp_path_factory.mktemp("client")
    (out / "openapi.json").write_text(httpx.get(f"{served.url}/openapi.json", timeout=10).text)
    (out / "config.yaml").write_text("post_hooks: []\n")  # formatting the output is not under test
    tool = Path(sys.executable).parent / "openapi-python-client"
    run = subprocess.run(
        [str(tool), "generate", "--path", "openapi.json", "--output-path", "gen", "--config", "config.yaml"],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    sys.path.insert(0, str(out / "gen"))
    try:
        return output, importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out / "gen"))


def operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def test_the_served_document_passes_openapi_spec_validator(served: Served) -> None:
    validate(served.document)


def test_openapi_python_client_generates_a_client_with_no_warnings(generated: tuple[str, ModuleType]) -> None:
    output, package = generated
    assert "warning" not in output.lower(), output
    assert package.AuthenticatedClient is not None


def test_every_operation_has_its_own_snake_case_operation_id_and_one_tag(served: Served) -> None:
    ids = [op["operationId"] for _, op in operations(served.document)]
    assert len(ids) == len(set(ids))
    assert [i for i in ids if not OPERATION_ID.match(i)] == []
    assert {"open_dispute", "propose_offer", "accept_offer", "issue_ruling", "download_evidence"} <= set(ids)
    assert [name for name, op in operations(served.document) if len(op.get("tags", [])) != 1] == []


def test_every_operation_request_and_response_has_a_description_and_an_example(served: Served) -> None:
    schemas = served.document["components"]["schemas"]
    missing = []
    for name, op in operations(served.document):
        if not op.get("description"):
            missing.append(f"{name}: description")
        bodies = {"request": op.get("requestBody", {"content": {}}), **op["responses"]}
        for status, body in bodies.items():
            if status != "request" and not body.get("description"):
                missing.append(f"{name} {status}: description")
            for media_type, media in body.get("content", {}).items():
                ref = media.get("schema", {}).get("$ref", "/").rsplit("/", 1)[-1]
                if not (media.get("example") or media.get("examples") or schemas.get(ref, {}).get("examples")):
                    missing.append(f"{name} {status} {media_type}: example")
    assert missing == []


def test_every_problem_response_names_the_codes_it_can_carry(served: Served) -> None:
    for name, op in operations(served.document):
        for status, response in op["responses"].items():
            if "application/problem+json" not in response.get("content", {}):
                continue
            codes = op["x-error-codes"][status]
            examples = response["content"]["application/problem+json"]["examples"]
            assert codes and set(examples) == set(codes), f"{name} {status}"
            assert all(f"`{code}`" in response["description"] for code in codes), f"{name} {status}"
            assert all(e["value"]["status"] == int(status) for e in examples.values()), f"{name} {status}"


def test_every_example_matches_its_own_schema(served: Served) -> None:
    document = served.document
    checked = 0
    for name, schema in document["components"]["schemas"].items():
        validator = Draft202012Validator({**document, "$ref": f"#/components/schemas/{name}"})
        for example in schema.get("examples", []):
            errors = [e.message for e in validator.iter_errors(example)]
            assert errors == [], f"{name}: {errors}"
            checked += 1
    for op_name, op in operations(document):
        for status, response in op["responses"].items():
            for media in response.get("content", {}).values():
                named = media.get("examples", {}).values()
                for example in [*(e["value"] for e in named), *([media["example"]] if "example" in media else [])]:
                    validator = Draft202012Validator({**document, **media["schema"]})
                    assert [e.message for e in validator.iter_errors(example)] == [], f"{op_name} {status}"
                    checked += 1
    assert checked > 50


def test_ids_are_typed_as_uuids(served: Served) -> None:
    schemas = served.document["components"]["schemas"]
    for model, field in (i.split(".") for i in UUID_IDS):
        assert schemas[model]["properties"][field]["format"] == "uuid", model
    for name, op in operations(served.document):
        for parameter in op.get("parameters", []):
            if parameter["name"] in ("dispute_id", "offer_id", "evidence_id"):
                formats = {s.get("format") for s in parameter["schema"].get("anyOf", [parameter["schema"]])}
                assert "uuid" in formats, f"{name} {parameter['name']}"


def test_the_evidence_download_has_one_media_type_and_names_the_real_one_in_a_header(served: Served) -> None:
    ok = served.document["paths"]["/v1/disputes/{dispute_id}/evidence/{evidence_id}/content"]["get"]["responses"]["200"]
    assert list(ok["content"]) == ["application/octet-stream"]
    assert "X-Media-Type" in ok["headers"]


def test_operations_are_linked_from_what_creates_their_ids(served: Served) -> None:
    paths = served.document["paths"]
    opened = paths["/v1/disputes"]["post"]["responses"]["201"]["links"]
    assert opened["get_dispute"]["parameters"] == {"dispute_id": "$response.body#/id"}
    assert opened["accept_offer"]["parameters"]["offer_id"] == "$response.body#/pending_offer/id"
    proposed = paths["/v1/disputes/{dispute_id}/offers"]["post"]["responses"]["201"]["links"]
    assert proposed["reject_offer"]["parameters"]["offer_id"] == "$response.body#/id"
    uploaded = paths["/v1/disputes/{dispute_id}/evidence"]["post"]["responses"]["201"]["links"]
    assert uploaded["download_evidence"]["parameters"]["evidence_id"] == "$response.body#/id"


class Driver:
    """The generated client's functions, called as one role."""

    def __init__(self, package: ModuleType, served: Served, role: Role, sub: str) -> None:
        self.package = package
        self.client = package.AuthenticatedClient(base_url=served.url, token=served.token(role, sub), timeout=10.0)

    def call(self, operation: str, *args: Any, status: int = 200, **kwargs: Any) -> Any:
        tag, name = operation.split(".")
        module = importlib.import_module(f"{PACKAGE}.api.{tag}.{name}")
        response = module.sync_detailed(*args, client=self.client, **kwargs)
        assert response.status_code == status, f"{operation}: {response.status_code} {response.content!r}"
        return response


def models(package: ModuleType) -> Any:
    return importlib.import_module(f"{PACKAGE}.models")


def test_a_whole_dispute_through_the_generated_client(generated: tuple[str, ModuleType], served: Served) -> None:
    """Open, counter-offer, escalate, upload and download evidence, rule, and read it all back."""
    package = generated[1]
    m = models(package)
    buyer = Driver(package, served, Role.BUYER, "buyer-gen")
    seller = Driver(package, served, Role.SELLER, "seller-gen")
    agent = Driver(package, served, Role.AGENT, "agent-gen")

    def usd(amount_minor: int) -> Any:
        return m.MoneyIn(amount_minor=amount_minor, currency=m.MoneyInCurrency.USD)

    opening = m.OpenDisputeIn(
        order_id="order-gen-1",
        seller_id="seller-gen",
        reason=m.Reason.DAMAGED,
        remedy=m.Remedy.REFUND_ONLY,
        refund=usd(1500),
        order_amount=usd(2000),
        description="arrived broken",
    )
    opened = buyer.call("disputes.open_dispute", body=opening, status=201)
    dispute = opened.parsed
    assert dispute.status == m.Status.AWAITING_SELLER and opened.headers["location"].endswith(str(dispute.id))

    counter = m.OfferIn(remedy=m.Remedy.PARTIAL_REFUND, refund=usd(800), note="half?")
    offer = seller.call("negotiation.propose_offer", dispute.id, body=counter, status=201).parsed
    assert offer.status == m.OfferStatus.PENDING

    types = importlib.import_module(f"{PACKAGE}.types")
    upload = m.SubmitEvidenceBody(
        file=types.File(payload=__import__("io").BytesIO(PNG), file_name="box.png", mime_type="image/png"),
        kind=m.SubmitEvidenceBodyKind.PHOTO,
        description="the box",
    )
    evidence = buyer.call("evidence.submit_evidence", dispute.id, body=upload, status=201).parsed
    escalated = buyer.call("lifecycle.escalate", dispute.id, body=m.ReasonIn(reason="no agreement")).parsed
    assert escalated.status == m.Status.UNDER_REVIEW

    ruling = m.RulingIn(
        outcome=m.Outcome.REFUND_PARTIAL,
        refund=m.RulingMoneyIn(amount_minor=1000, currency=m.RulingMoneyInCurrency.USD),
        seller_at_fault=True,
        rationale="the photos show the damage",
    )
    ruled = agent.call("lifecycle.issue_ruling", dispute.id, body=ruling)
    position = ruled.headers["x-position"]

    download = agent.call("evidence.download_evidence", dispute.id, evidence.id)
    assert download.content == PNG
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["x-media-type"] == "image/png"

    read = buyer.call("disputes.get_dispute", dispute.id, x_min_position=position).parsed
    assert read.status == m.Status.RESOLVED
    assert (read.outcome.how, read.outcome.outcome) == (m.ResolvedHow.RULING, m.Outcome.REFUND_PARTIAL)
    assert read.outcome.refund.amount_minor == 1000 and read.offers[-1].id == offer.id
    timeline = agent.call("disputes.get_timeline", dispute.id, x_min_position=position).parsed
    assert [e.type_ for e in timeline.items][-1] == "DisputeResolved"
    listed = seller.call("disputes.list_disputes", x_min_position=position).parsed
    assert [d.id for d in listed.items] == [dispute.id]


def test_an_accepted_counter_offer_through_the_generated_client(
    generated: tuple[str, ModuleType], served: Served
) -> None:
    package = generated[1]
    m = models(package)
    buyer = Driver(package, served, Role.BUYER, "buyer-gen-2")
    seller = Driver(package, served, Role.SELLER, "seller-gen-2")
    opening = m.OpenDisputeIn(
        order_id="order-gen-2",
        seller_id="seller-gen-2",
        reason=m.Reason.NOT_AS_DESCRIBED,
        remedy=m.Remedy.REPLACEMENT,
        order_amount=m.MoneyIn(amount_minor=5000, currency=m.MoneyInCurrency.EUR),
    )
    dispute = buyer.call("disputes.open_dispute", body=opening, status=201).parsed
    counter = m.OfferIn(
        remedy=m.Remedy.PARTIAL_REFUND, refund=m.MoneyIn(amount_minor=900, currency=m.MoneyInCurrency.EUR)
    )
    offer = seller.call("negotiation.propose_offer", dispute.id, body=counter, status=201).parsed
    refused = seller.call("negotiation.accept_offer", dispute.id, offer.id, status=409).parsed
    assert refused.code == "invalid_transition"
    accepted = buyer.call("negotiation.accept_offer", dispute.id, offer.id, body=m.DecisionNoteIn(note="fine")).parsed
    assert accepted.status == m.Status.RESOLVED and accepted.outcome.how == m.ResolvedHow.AGREEMENT
    read = seller.call("disputes.get_dispute", dispute.id).parsed
    assert read.outcome.refund.amount_minor == 900 and read.pending_offer is None
