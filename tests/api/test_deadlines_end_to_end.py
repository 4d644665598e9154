"""Each deadline of the spec, end to end over HTTP with second-long windows and the
in-process scheduler: it expires once, with the right events and outcome, and a
party acting just before it wins (no expiry, no double transition)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bootstrap import build_api
from support.builders import AGENT, BUYER, SELLER
from support.deadline_api import (
    LEAD,
    SETTLE,
    TICK,
    WINDOW,
    DeadlineApi,
    assert_expired_by_the_system_on_time,
    money,
    sleep_until,
)
from support.stores import settings_for

pytestmark = pytest.mark.slow
LONG = timedelta(days=5)
WINDOWS = (
    "seller_response_window",
    "negotiation_window",
    "return_shipping_window",
    "return_receipt_window",
    "evidence_window",
    "review_sla",
)
Serve = Callable[..., DeadlineApi]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def serve(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Serve]:
    """Start the API with every window long except the ones a test shortens."""
    with ExitStack() as stack:

        def start(**short: timedelta) -> DeadlineApi:
            windows = {name: LONG for name in WINDOWS} | short
            settings = settings_for(
                request.param, tmp_path, request, in_process_workers=True, scheduler_interval=TICK, **windows
            )
            return DeadlineApi(stack.enter_context(TestClient(build_api(settings))))

        yield start


def test_seller_response_missed_resolves_for_the_buyer_with_the_seller_at_fault(serve: Serve) -> None:
    api = serve(seller_response_window=WINDOW)
    dispute = api.open(refund=2000)
    assert_expired_by_the_system_on_time(api.wait_for_event(dispute, "SellerResponseDeadlineMissed"))
    api.wait_for_event(dispute, "DisputeResolved")
    assert api.types(dispute) == ["DisputeOpened", "SellerResponseDeadlineMissed", "DisputeResolved"]
    body = api.get(dispute)
    assert (body["status"], body["deadlines"]) == ("resolved", {})
    outcome = body["outcome"]
    assert (outcome["how"], outcome["outcome"], outcome["refund"]) == ("deadline", "refund_full", money(2000))
    assert outcome["seller_at_fault"] is True
    metrics = api.client.get("/metrics").text
    assert 'disputes_deadlines_fired_total{deadline="seller_response"} 1.0' in metrics
    assert 'disputes_deadline_firing_delay_seconds_count{deadline="seller_response"} 1.0' in metrics


def test_seller_responding_just_before_the_deadline_wins(serve: Serve) -> None:
    api = serve(seller_response_window=WINDOW)
    dispute = api.open()
    due = api.due(dispute, "seller_response")
    sleep_until(due - LEAD)
    api.call(SELLER, f"/v1/disputes/{dispute['id']}/offers", {"remedy": "partial_refund", "refund": money(800)}, 201)
    sleep_until(due + SETTLE)
    assert api.types(dispute) == ["DisputeOpened", "OfferProposed"]
    assert api.get(dispute)["status"] == "negotiating"


def test_an_agent_extension_just_before_the_deadline_moves_the_expiry(serve: Serve) -> None:
    api = serve(seller_response_window=WINDOW)
    dispute = api.open()
    due = api.due(dispute, "seller_response")
    sleep_until(due - LEAD)
    extension = {"deadline": "seller_response", "extend_by": "PT2S", "reason": "courier strike"}
    api.act(AGENT, dispute, "deadline-extensions", extension)
    sleep_until(due + SETTLE)
    assert api.get(dispute)["status"] == "awaiting_seller"
    missed = api.wait_for_event(dispute, "SellerResponseDeadlineMissed")
    assert missed.due_at == due + WINDOW  # type: ignore[attr-defined]
    assert_expired_by_the_system_on_time(missed)
    assert api.types(dispute).count("SellerResponseDeadlineMissed") == 1


def test_negotiation_window_ending_escalates_to_the_platform(serve: Serve) -> None:
    api = serve(negotiation_window=WINDOW)
    dispute = api.open()
    api.call(SELLER, f"/v1/disputes/{dispute['id']}/offers", {"remedy": "partial_refund", "refund": money(800)}, 201)
    assert_expired_by_the_system_on_time(api.wait_for_event(dispute, "NegotiationDeadlineMissed"))
    escalated = api.wait_for_event(dispute, "DisputeEscalated")
    assert escalated.actor_role == "system"
    assert api.types(dispute) == ["DisputeOpened", "OfferProposed", "NegotiationDeadlineMissed", "DisputeEscalated"]
    body = api.get(dispute)
    assert (body["status"], body["party_to_act"], body["pending_offer"]) == ("under_review", "agent", None)
    assert set(body["deadlines"]) == {"evidence", "review_sla"}


def test_agreeing_just_before_the_negotiation_deadline_wins(serve: Serve) -> None:
    api = serve(negotiation_window=WINDOW)
    dispute = api.open()
    api.call(SELLER, f"/v1/disputes/{dispute['id']}/offers", {"remedy": "partial_refund", "refund": money(800)}, 201)
    due = api.due(dispute, "negotiation")
    sleep_until(due - LEAD)
    api.accept_pending(BUYER, dispute)
    sleep_until(due + SETTLE)
    assert api.types(dispute) == ["DisputeOpened", "OfferProposed", "OfferAccepted", "DisputeResolved"]
    outcome = api.get(dispute)["outcome"]
    assert (outcome["how"], outcome["outcome"], outcome["refund"]) == ("agreement", "refund_partial", money(800))


def test_return_not_shipped_in_time_resolves_with_no_refund_and_no_seller_fault(serve: Serve) -> None:
    api = serve(return_shipping_window=WINDOW)
    dispute = api.open(remedy="return_and_refund")
    api.accept_pending(SELLER, dispute)
    assert_expired_by_the_system_on_time(api.wait_for_event(dispute, "ReturnShippingDeadlineMissed"))
    api.wait_for_event(dispute, "DisputeResolved")
    assert api.types(dispute) == ["DisputeOpened", "OfferAccepted", "ReturnShippingDeadlineMissed", "DisputeResolved"]
    outcome = api.get(dispute)["outcome"]
    assert (outcome["how"], outcome["outcome"], outcome["refund"]) == ("deadline", "no_refund", None)
    assert outcome["seller_at_fault"] is False


def test_shipping_the_return_just_before_the_deadline_wins(serve: Serve) -> None:
    api = serve(return_shipping_window=WINDOW)
    dispute = api.open(remedy="return_and_refund")
    api.accept_pending(SELLER, dispute)
    due = api.due(dispute, "return_shipping")
    sleep_until(due - LEAD)
    api.act(BUYER, dispute, "return-shipment", {"carrier": "UPS", "tracking_number": "1Z999"})
    sleep_until(due + SETTLE)
    assert api.types(dispute) == ["DisputeOpened", "OfferAccepted", "ReturnShipped"]
    body = api.get(dispute)
    assert body["status"] == "return_in_transit"
    assert "return_receipt" in body["deadlines"]


def test_return_receipt_not_confirmed_in_time_refunds_as_agreed_with_the_seller_at_fault(serve: Serve) -> None:
    api = serve(return_receipt_window=WINDOW)
    dispute = api.open(remedy="return_and_refund", refund=1500)
    api.accept_pending(SELLER, dispute)
    api.act(BUYER, dispute, "return-shipment", {"carrier": "UPS", "tracking_number": "1Z999"})
    assert_expired_by_the_system_on_time(api.wait_for_event(dispute, "ReturnReceiptDeadlineMissed"))
    api.wait_for_event(dispute, "DisputeResolved")
    assert api.types(dispute)[-3:] == ["ReturnShipped", "ReturnReceiptDeadlineMissed", "DisputeResolved"]
    outcome = api.get(dispute)["outcome"]
    assert (outcome["how"], outcome["outcome"], outcome["refund"]) == ("deadline", "refund_partial", money(1500))
    assert outcome["seller_at_fault"] is True


def test_confirming_receipt_just_before_the_deadline_wins(serve: Serve) -> None:
    api = serve(return_receipt_window=WINDOW)
    dispute = api.open(remedy="return_and_refund")
    api.accept_pending(SELLER, dispute)
    api.act(BUYER, dispute, "return-shipment", {"carrier": "UPS", "tracking_number": "1Z999"})
    due = api.due(dispute, "return_receipt")
    sleep_until(due - LEAD)
    api.act(SELLER, dispute, "return-receipt", {"condition": "received_ok"})
    sleep_until(due + SETTLE)
    assert api.types(dispute)[-3:] == ["ReturnShipped", "ReturnReceiptConfirmed", "DisputeResolved"]
    outcome = api.get(dispute)["outcome"]
    assert (outcome["how"], outcome["outcome"], outcome["refund"]) == ("agreement", "refund_full", money(2000))


def test_the_evidence_window_closes_once_and_then_refuses_evidence(serve: Serve) -> None:
    api = serve(evidence_window=WINDOW)
    dispute = api.open()
    assert_expired_by_the_system_on_time(api.wait_for_event(dispute, "EvidenceWindowClosed"))
    assert api.types(dispute) == ["DisputeOpened", "EvidenceWindowClosed"]
    refused = api.submit_evidence(BUYER, dispute)
    assert (refused.status_code, refused.json()["code"]) == (409, "evidence_window_closed")
    assert api.get(dispute)["status"] == "awaiting_seller"


def test_evidence_submitted_just_before_the_window_closes_is_kept(serve: Serve) -> None:
    api = serve(evidence_window=WINDOW)
    dispute = api.open()
    due = api.due(dispute, "evidence")
    sleep_until(due - LEAD)
    assert api.submit_evidence(SELLER, dispute).status_code == 201
    api.wait_for_event(dispute, "EvidenceWindowClosed")
    sleep_until(due + SETTLE)
    assert api.types(dispute) == ["DisputeOpened", "EvidenceSubmitted", "EvidenceWindowClosed"]


def escalated(api: DeadlineApi) -> dict[str, Any]:
    dispute = api.open()
    api.call(SELLER, f"/v1/disputes/{dispute['id']}/offers", {"remedy": "partial_refund", "refund": money(800)}, 201)
    api.act(BUYER, dispute, "escalate", {"reason": "no agreement"})
    return dispute


def test_unanswered_evidence_requests_expire_one_by_one(serve: Serve) -> None:
    api = serve()
    dispute = escalated(api)
    for party, due_in in (("buyer", "PT1S"), ("seller", "PT1.2S")):
        api.call(AGENT, f"/v1/disputes/{dispute['id']}/evidence-requests", {"party": party, "due_in": due_in}, 201)
    api.wait_for_event(dispute, "EvidenceRequestExpired")
    sleep_until(api.due(dispute, "evidence_request_seller") + SETTLE)
    expired = [e for e in api.events(dispute) if type(e).__name__ == "EvidenceRequestExpired"]
    assert [e.deadline for e in expired] == ["evidence_request_buyer", "evidence_request_seller"]  # type: ignore[attr-defined]
    for event in expired:
        assert_expired_by_the_system_on_time(event)
    body = api.get(dispute)
    assert (body["status"], set(body["deadlines"])) == ("under_review", {"evidence", "review_sla"})


def test_a_ruling_just_before_an_evidence_request_expires_wins(serve: Serve) -> None:
    api = serve()
    dispute = escalated(api)
    api.call(AGENT, f"/v1/disputes/{dispute['id']}/evidence-requests", {"party": "seller", "due_in": "PT2S"}, 201)
    due = api.due(dispute, "evidence_request_seller")
    sleep_until(due - LEAD)
    ruling = {"outcome": "refund_full", "refund": money(2000), "seller_at_fault": True, "rationale": "photos"}
    api.act(AGENT, dispute, "ruling", ruling)
    sleep_until(due + SETTLE)
    assert api.types(dispute)[-2:] == ["EvidenceRequested", "DisputeResolved"]
    assert api.get(dispute)["outcome"]["how"] == "ruling"


def test_a_review_past_its_sla_is_recorded_but_stays_under_review(serve: Serve) -> None:
    api = serve(review_sla=WINDOW)
    dispute = escalated(api)
    assert_expired_by_the_system_on_time(api.wait_for_event(dispute, "ReviewSlaBreached"))
    sleep_until(api.events(dispute)[-1].timestamp + SETTLE)
    assert api.types(dispute)[-2:] == ["DisputeEscalated", "ReviewSlaBreached"]
    body = api.get(dispute)
    assert (body["status"], "review_sla" in body["deadlines"]) == ("under_review", False)


def test_a_ruling_just_before_the_review_sla_wins(serve: Serve) -> None:
    api = serve(review_sla=WINDOW)
    dispute = escalated(api)
    due = api.due(dispute, "review_sla")
    sleep_until(due - LEAD)
    ruling = {"outcome": "no_refund", "seller_at_fault": False, "rationale": "as described"}
    api.act(AGENT, dispute, "ruling", ruling)
    sleep_until(due + SETTLE)
    assert api.types(dispute)[-2:] == ["DisputeEscalated", "DisputeResolved"]
    assert api.get(dispute)["status"] == "resolved"
