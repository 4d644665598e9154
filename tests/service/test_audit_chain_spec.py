"""docs/audit.md defines the hash chain precisely enough to verify it without
our code: this file does exactly that (json and hashlib only) on the raw
stored bytes, and checks the worked example printed in the document."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from bootstrap import build_app
from domain.application import DisputeApp
from domain.values import Actor, Context, Money, Reason, Remedy
from service.settings import Settings
from support.audit import sql_events
from support.builders import AGENT, BUYER, SELLER, Scenario
from support.stores import settings_for

DOC = Path(__file__).parents[2] / "docs" / "audit.md"
GENESIS = "0" * 64
NOT_HASHED = {"originator_topic", "class_version", "chain_hash"}


# ----------------------------------------------------- a verifier from the docs
def unwrap(value: Any) -> Any:
    """Undo the transcoder's {"_type_", "_data_"} wrapping; times become UTC, microseconds, 'Z'."""
    if isinstance(value, dict) and set(value) == {"_type_", "_data_"}:
        if value["_type_"] == "datetime_iso":
            moment = datetime.fromisoformat(value["_data_"]).astimezone(UTC)
            return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if value["_type_"] == "uuid_hex":
            return str(UUID(hex=value["_data_"]))
        raise ValueError(f"no canonical form for {value['_type_']}")
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def canonical(dispute_id: str, version: int, topic: str, state: bytes) -> bytes:
    fields = unwrap(json.loads(state.decode("utf-8")))
    document = {
        "dispute_id": dispute_id,
        "version": version,
        "type": topic.rsplit(":", 1)[-1].rsplit(".", 1)[-1],
        "data": {k: v for k, v in fields.items() if k not in NOT_HASHED},
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def foreign_chain(settings: Settings, dispute_id: UUID) -> list[tuple[str, str, bytes]]:
    """(recomputed hash, stored hash, canonical document) for each stored event, in version order."""
    rows = sql_events(
        settings,
        "SELECT originator_version, topic, state FROM {events} WHERE originator_id = %s ORDER BY originator_version",
        dispute_id.hex,
    )
    chain, previous = [], GENESIS
    for expected_version, (version, topic, state) in enumerate(rows, start=1):
        assert version == expected_version
        document = canonical(str(dispute_id), version, topic, bytes(state))
        previous = hashlib.sha256(previous.encode("ascii") + document).hexdigest()
        chain.append((previous, json.loads(bytes(state))["chain_hash"], document))
    return chain


@pytest.fixture
def sqlite_app(tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    settings = settings_for("sqlite", tmp_path, request)
    app = build_app(settings)
    yield settings, app
    app.close()


def test_a_verifier_written_from_the_docs_reproduces_every_stored_chain_hash(sqlite_app: Any) -> None:
    settings, app = sqlite_app
    s = Scenario(app).open().seller_counters()
    for body in ("ça a cassé — 壊れた 🎁", 'quotes " and \\ backslash', "tab\tnew\nline \x01 </script>"):
        app.post_message(s.id, s.clock.ctx(BUYER), body)
    app.post_message(s.id, s.clock.ctx(SELLER, key="ключ-1"), "ok")
    s.buyer_escalates()
    app.post_message(s.id, s.clock.ctx(AGENT), "looking", None)
    chain = foreign_chain(settings, s.id)
    assert len(chain) == app.dispute(s.id).version == 8
    assert [recomputed for recomputed, _, _ in chain] == [stored for _, stored, _ in chain]


# ------------------------------------------------------ the documented example
def example_dispute(app: DisputeApp) -> UUID:
    """The short dispute printed in docs/audit.md (fixed ids and times)."""
    buyer, seller = Actor("buyer-42", BUYER.role), Actor("seller-7", SELLER.role)

    def ctx(actor: Actor, at: str, request_id: str, key: str | None = None) -> Context:
        return Context(actor, datetime.fromisoformat(at), request_id, key)

    opened = app.open_dispute(
        ctx(buyer, "2026-03-02T09:00:00+00:00", "req-0001"),
        order_id="order-1001",
        seller_id=seller.id,
        reason=Reason.DAMAGED,
        remedy=Remedy.PARTIAL_REFUND,
        refund=Money(1500, "EUR"),
        order_amount=Money(4999, "EUR"),
        description="Screen cracked on arrival",
    )
    dispute_id = opened.dispute_id
    app.propose_offer(
        dispute_id, ctx(seller, "2026-03-02T15:30:00+00:00", "req-0002", "k-7f3a"), Remedy.PARTIAL_REFUND,
        Money(1000, "EUR"), "We can refund 10 EUR",
    )  # fmt: skip
    offer_id = app.dispute(dispute_id).pending_offer_id
    assert offer_id is not None
    app.accept_offer(dispute_id, ctx(buyer, "2026-03-03T08:15:00.250000+00:00", "req-0003"), offer_id, "Deal")
    return dispute_id


def documented_hashes() -> list[str]:
    section = DOC.read_text(encoding="utf-8").split("## Worked example", 1)[1]
    return re.findall(r"^chain_hash\(\d+\) = ([0-9a-f]{64})$", section, flags=re.MULTILINE)


def test_the_worked_example_in_the_docs_is_what_the_code_records(sqlite_app: Any) -> None:
    settings, app = sqlite_app
    chain = foreign_chain(settings, example_dispute(app))
    assert [stored for _, stored, _ in chain] == [recomputed for recomputed, _, _ in chain]
    assert documented_hashes() == [GENESIS] + [stored for _, stored, _ in chain]
    doc = DOC.read_text(encoding="utf-8")
    for _, _, document in chain:
        assert document.decode("utf-8") in doc, "each canonical document is printed verbatim"
