"""Example documents for the OpenAPI description: one per request and response
body. tests/api/test_openapi_client.py checks each against its own schema."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

DISPUTE_ID = "0b5e8f0e-3f5c-5d1a-9a57-3c2f1f7c9a10"
OFFER_ID = "6f1c2d3e-4b5a-5c6d-8e7f-9a0b1c2d3e4f"
COUNTER_ID = "7a2d3e4f-5c6b-5d7e-9f80-a1b2c3d4e5f6"
EVIDENCE_ID = "8b3e4f50-6d7c-5e8f-a091-b2c3d4e5f607"
MESSAGE_ID = "9c4f5061-7e8d-5f90-b1a2-c3d4e5f60718"
REQUEST_ID = "ad506172-8f9e-5a01-c2b3-d4e5f6071829"
SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
OPENED_AT = "2026-03-02T09:15:00Z"
LATER = "2026-03-03T10:00:00Z"

USD_15 = {"amount_minor": 1500, "currency": "USD"}
USD_8 = {"amount_minor": 800, "currency": "USD"}
USD_20 = {"amount_minor": 2000, "currency": "USD"}
BUYER = {"id": "buyer-1", "role": "buyer"}
SELLER = {"id": "seller-1", "role": "seller"}

OPEN_DISPUTE = {
    "order_id": "order-1001",
    "seller_id": "seller-1",
    "reason": "damaged",
    "remedy": "refund_only",
    "refund": USD_15,
    "order_amount": USD_20,
    "description": "arrived broken",
}
OPEN_ON_REGISTERED_ORDER = {
    "order_id": "order-1001",
    "reason": "damaged",
    "remedy": "refund_only",
    "refund": USD_15,
    "description": "arrived broken",
}
"""On an order the platform registered: its seller and amount are the order's."""
COUNTER_OFFER = {"remedy": "partial_refund", "refund": USD_8, "note": "half the price?"}
DECISION_NOTE = {"note": "agreed"}
REASON = {"reason": "we cannot agree"}
REJECTION = {"reason": "too little"}
MESSAGE_IN = {"body": "photos of the box are attached", "to": None}
RETURN_SHIPMENT_IN = {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"}
RETURN_RECEIPT_IN = {"condition": "received_ok", "note": "all parts present"}
EVIDENCE_REQUEST_IN = {"party": "seller", "note": "the courier's receipt, please", "due_in": "P3D"}
DEADLINE_EXTENSION_IN = {"deadline": "review_sla", "extend_by": "P2D", "reason": "waiting for the courier"}
APPEAL_IN = {"reason": "the photos show the damage the ruling missed"}
APPEAL_DECISION_IN = {
    "decision": "overturned",
    "outcome": "refund_full",
    "refund": {"amount_minor": 2000, "currency": "USD"},
    "seller_at_fault": True,
    "rationale": "the second photo shows the crack before shipping",
}
CLAIM_IN = {"force": False, "reason": ""}
RELEASE_IN = {"reason": "end of shift"}
RULING_IN = {"outcome": "refund_partial", "refund": USD_8, "seller_at_fault": True, "rationale": "photos show damage"}

OPENING_OFFER = {
    "id": OFFER_ID,
    "actor": BUYER,
    "remedy": "refund_only",
    "refund": USD_15,
    "note": "arrived broken",
    "status": "superseded",
    "proposed_at": OPENED_AT,
    "decided_at": LATER,
}
OFFER = {
    "id": COUNTER_ID,
    "actor": SELLER,
    "remedy": "partial_refund",
    "refund": USD_8,
    "note": "half the price?",
    "status": "pending",
    "proposed_at": LATER,
    "decided_at": None,
}
EVIDENCE = {
    "id": EVIDENCE_ID,
    "kind": "photo",
    "description": "the box",
    "sha256": SHA256,
    "size": 48213,
    "media_type": "image/png",
    "submitted_by": BUYER,
    "submitted_at": OPENED_AT,
}
MESSAGE = {
    "id": MESSAGE_ID,
    "actor": BUYER,
    "body": "photos of the box are attached",
    "visible_to": ["buyer", "seller", "agent"],
    "posted_at": OPENED_AT,
}
EVIDENCE_REQUEST = {
    "id": REQUEST_ID,
    "party": "seller",
    "note": "the courier's receipt, please",
    "due_at": "2026-03-06T10:00:00Z",
    "requested_at": LATER,
    "status": "open",
    "fulfilled_by": None,
    "fulfilled_at": None,
    "expired_at": None,
    "cancelled_at": None,
}
DISPUTE: dict[str, Any] = {
    "id": DISPUTE_ID,
    "order_id": "order-1001",
    "buyer_id": "buyer-1",
    "seller_id": "seller-1",
    "reason": "damaged",
    "description": "arrived broken",
    "status": "negotiating",
    "party_to_act": "buyer",
    "requested_remedy": "refund_only",
    "requested_refund": USD_15,
    "order_amount": USD_20,
    "pending_offer": OFFER,
    "offers": [OPENING_OFFER, OFFER],
    "evidence": [EVIDENCE],
    "messages": [MESSAGE],
    "evidence_requests": [],
    "deadlines": {"negotiation": "2026-03-10T10:00:00Z"},
    "outcome": None,
    "return_shipment": None,
    "return_condition": None,
    "escalated": False,
    "assigned_agent": None,
    "appeal": None,
    "version": 4,
    "allowed_actions": ["accept_offer", "reject_offer", "propose_offer", "post_message", "escalate", "withdraw"],
    "opened_at": OPENED_AT,
    "updated_at": LATER,
    "closed_at": None,
}
ACTOR_EVENT = {"position": 12, "version": 2, "type": "OfferProposed", "actor": SELLER, "occurred_at": LATER}
TIMELINE_ENTRY = {
    **ACTOR_EVENT,
    "summary": "seller-1 offered a partial refund of 8.00 USD",
    "data": {"offer_id": COUNTER_ID, "remedy": "partial_refund", "refund": USD_8, "note": "half the price?"},
}
CHAIN_HASH = "5d41402abc4b2a76b9719d911017c592ae2b3c4d5e6f708192a3b4c5d6e7f801"
HISTORY_ENTRY = {
    **ACTOR_EVENT,
    "request_id": "4f3c2a1b0e9d8c7b6a594837261504f3",
    "idempotency_key": "offer-42",
    "data": TIMELINE_ENTRY["data"],
    "chain_hash": CHAIN_HASH,
    "readable": True,
    "leaf_hash": "JYZSx0vW2nFo8rZ3Hq1bL0cBd0mT2Qw4bXk1s5u9e3Q=",
    "chain_valid": True,
}
AUDIT_ENTRY = {
    **ACTOR_EVENT,
    "dispute_id": DISPUTE_ID,
    "request_id": "4f3c2a1b0e9d8c7b6a594837261504f3",
    "idempotency_key": "offer-42",
    "chain_hash": CHAIN_HASH,
    "payload": TIMELINE_ENTRY["data"],
}
SELLER_SCORE = {
    "seller_id": "seller-1",
    "score": 7,
    "level": "watch",
    "window": "P90D",
    "as_of": LATER,
    "breakdown": {"ruled_at_fault": {"count": 1, "points": 5}, "missed_deadline": {"count": 2, "points": 2}},
}
STATS = {
    "group_by": "reason,month",
    "since": None,
    "until": None,
    "as_of": "2026-03-31T00:00:00Z",
    "groups": [
        {
            "key": "damaged,2026-03",
            "keys": {"reason": "damaged", "month": "2026-03"},
            "count": 3,
            "by_status": {"negotiating": 1, "resolved": 2},
            "refund_totals": [USD_20],
            "median_resolution_seconds": 86400.0,
            "p50_resolution_seconds": 86400.0,
            "p90_resolution_seconds": 155520.0,
            "p50_seller_first_response_seconds": 5400.0,
            "escalated": 1,
            "escalation_rate": 0.3333333333333333,
            "sla_breaches": 0,
        }
    ],
}
VERIFY = {"valid": True, "events": 4, "first_invalid_version": None, "problem": None, "head": CHAIN_HASH}
READINESS = {
    "status": "ready",
    "database": "ok",
    "head_position": 12,
    "views": {"timeline": {"position": 12, "lag": 0}},
}
NEXT_CURSOR = "eyJwb3NpdGlvbiI6MTJ9"
WEBHOOK_ID = "5d2b6c1e-8f3a-4c7e-9b1d-2a4f6e8c0b13"
EVENT_ITEM = {
    "id": "7c9e6679-7425-50de-944b-e07fc1f90ae7",
    "position": 12,
    "dispute_id": DISPUTE_ID,
    "order_id": "order-1001",
    "type": "OfferProposed",
    "version": 2,
    "actor": SELLER,
    "occurred_at": LATER,
    "data": {"offer_id": COUNTER_ID, "remedy": "partial_refund", "refund": USD_20, "note": "half back"},
}
WEBHOOK_IN = {"url": "https://hooks.example.com/disputes", "event_types": ["*"], "description": "our CRM"}
WEBHOOK_PATCH = {"status": "disabled"}
WEBHOOK = {
    "id": WEBHOOK_ID,
    "url": "https://hooks.example.com/disputes",
    "event_types": ["*"],
    "description": "our CRM",
    "status": "enabled",
    "disabled_reason": None,
    "created_at": OPENED_AT,
    "after": 12,
}
WEBHOOK_WITH_SECRET = {**WEBHOOK, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
REPLAY_IN = {"after": 0}
DELIVERY = {
    "event_id": "7c9e6679-7425-50de-944b-e07fc1f90ae7",
    "position": 12,
    "attempt": 1,
    "status_code": 200,
    "error": None,
    "duration_ms": 42,
    "attempted_at": LATER,
    "next_attempt_at": None,
}
SSE_EXAMPLE = {"id": "12", "event": "OfferProposed", "data": json.dumps(EVENT_ITEM)}
"""One server-sent event, as the schema describes its lines (`id: 12`, `event: ...`, `data: ...`)."""


def page(item: dict[str, Any]) -> dict[str, Any]:
    return {"items": [item], "next_cursor": NEXT_CURSOR}


BY_MODEL: dict[str, list[dict[str, Any]]] = {}
"""Each model's examples by its name. FastAPI drops every null from the
document it renders, examples' included; api.openapi puts them back from here."""


def examples(*documents: dict[str, Any]) -> Callable[[dict[str, Any], type], None]:
    """A model's `json_schema_extra`: its examples."""

    def extra(schema: dict[str, Any], model: type) -> None:
        schema["examples"] = BY_MODEL[model.__name__] = list(documents)

    return extra
ROOT_HASH = "NtD+ogq3MNtXIJntN48rZ4UHG8fjxwlQE9ns1wTr3eU="
CHECKPOINT_NOTE = (
    "disputes.local/log\n16\n" + ROOT_HASH + "\n\n\u2014 disputes.local/log "
    "6TSCdEJ4JMtohm8utbbDQygMox+pUWxFtciwxBGgR3Mv+/Dv/BRwqH14TLnCRBnNoJBsOH65AFVK4iTUGTQoaoZOhQg=\n"
)
VKEY = "disputes.local/log+e9348274+AU2AkSS7PZVVjgSw/HaoMDdETJAmttiXI89l3sSNlNiM"
CHECKPOINT = {"tree_size": 16, "root_hash": ROOT_HASH, "issued_at": "2026-03-02T09:01:00Z", "note": CHECKPOINT_NOTE}
PROOF = [
    "AS8s9GZIQElGIJulz/+EHXXCzxZf2qsGWy//F6JWy+s=",
    "jth7Glu82JW/cB+VFuHNOtoUX7EXKHunwdolZMsZOX4=",
    "lBc30O8I3ZSXZmRgV1Bb210RbI9MtrlPn5YFtDuRFvs=",
    "G7crXkyrOKUvizSkVPnJGfQYWufKC9kwtRWlAxV84KE=",
]
LEAF_HASH = "JYZSx0vW2nFo8rZ3Hq1bL0cBd0mT2Qw4bXk1s5u9e3Q="
INCLUSION = {"leaf_index": 3, "tree_size": 16, "leaf_hash": LEAF_HASH, "proof": PROOF}
CONSISTENCY = {"from": 12, "to": 16, "proof": PROOF[2:]}
