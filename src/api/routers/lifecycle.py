"""Messages, escalation, withdrawal, the return flow, and the agent's commands."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse

from api.commands import handle
from api.deps import CallerDep, ServicesDep
from api.routers.common import MONEY, DisputeId, IdempotencyKey, IfMatch, command_docs
from api.routers.disputes import money_from_api
from api.schemas import (
    DeadlineExtensionIn,
    DisputeOut,
    EvidenceRequestIn,
    EvidenceRequestOut,
    MessageIn,
    MessageOut,
    ReasonIn,
    ReturnReceiptIn,
    ReturnShipmentIn,
    RulingIn,
)

router = APIRouter(prefix="/v1/disputes/{dispute_id}", tags=["lifecycle"])


@router.post(
    "/messages",
    status_code=201,
    operation_id="post_message",
    response_model=MessageOut,
    response_description="the message posted",
    responses=command_docs(201),
    summary="Post a message on the dispute",
)
def post_message(
    dispute_id: DisputeId,
    body: MessageIn,
    request: Request,
    svc: ServicesDep,
    actor: CallerDep,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Parties and agents write messages; an agent may address one party (`to`).
    After escalation each party's messages are seen only by it and the agent."""
    return handle(
        request,
        svc,
        actor,
        body.model_dump(mode="json"),
        "message",
        201,
        lambda ctx, kw: svc.app.post_message(dispute_id, ctx, body.body, body.to, **kw),
    )


@router.post(
    "/escalate",
    operation_id="escalate",
    response_model=DisputeOut,
    response_description="the dispute, now under review",
    responses=command_docs(200),
    summary="Escalate to an agent (buyer or seller)",
)
def escalate(
    dispute_id: DisputeId,
    request: Request,
    svc: ServicesDep,
    actor: CallerDep,
    body: Annotated[ReasonIn | None, Body()] = None,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Either party hands the dispute to an agent for a ruling. The body may be omitted."""
    reason = body.reason if body else ""
    return handle(
        request,
        svc,
        actor,
        {"reason": reason},
        "dispute",
        200,
        lambda ctx, kw: svc.app.escalate(dispute_id, ctx, reason, **kw),
    )


@router.post(
    "/withdraw",
    operation_id="withdraw",
    response_model=DisputeOut,
    response_description="the dispute, now withdrawn",
    responses=command_docs(200),
    summary="Withdraw the dispute (buyers)",
)
def withdraw(
    dispute_id: DisputeId,
    request: Request,
    svc: ServicesDep,
    actor: CallerDep,
    body: Annotated[ReasonIn | None, Body()] = None,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """The buyer withdraws the dispute; it closes with no refund. The body may be omitted."""
    reason = body.reason if body else ""
    return handle(
        request,
        svc,
        actor,
        {"reason": reason},
        "dispute",
        200,
        lambda ctx, kw: svc.app.withdraw(dispute_id, ctx, reason, **kw),
    )


@router.post(
    "/return-shipment",
    operation_id="ship_return",
    response_model=DisputeOut,
    response_description="the dispute, now with the return in transit",
    responses=command_docs(200),
    summary="Record the return shipment (buyers)",
)
def ship_return(
    dispute_id: DisputeId,
    body: ReturnShipmentIn,
    request: Request,
    svc: ServicesDep,
    actor: CallerDep,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """After a return and refund is agreed, the buyer records the carrier and tracking number."""
    return handle(
        request,
        svc,
        actor,
        body.model_dump(mode="json"),
        "dispute",
        200,
        lambda ctx, kw: svc.app.ship_return(dispute_id, ctx, body.carrier, body.tracking_number, **kw),
    )


@router.post(
    "/return-receipt",
    operation_id="confirm_return_receipt",
    response_model=DisputeOut,
    response_description="the dispute after the seller's confirmation",
    responses=command_docs(200),
    summary="Confirm the return's receipt and condition (sellers)",
)
def confirm_return_receipt(
    dispute_id: DisputeId,
    body: ReturnReceiptIn,
    request: Request,
    svc: ServicesDep,
    actor: CallerDep,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """The seller says in what condition the return arrived; a good return resolves the dispute."""
    return handle(
        request,
        svc,
        actor,
        body.model_dump(mode="json"),
        "dispute",
        200,
        lambda ctx, kw: svc.app.confirm_return_receipt(dispute_id, ctx, body.condition, body.note, **kw),
    )


@router.post(
    "/evidence-requests",
    status_code=201,
    operation_id="request_evidence",
    response_model=EvidenceRequestOut,
    response_description="the evidence request",
    responses=command_docs(201),
    summary="Ask a party for evidence (agents)",
)
def request_evidence(
    dispute_id: DisputeId,
    body: EvidenceRequestIn,
    request: Request,
    svc: ServicesDep,
    actor: CallerDep,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """An agent asks one party for evidence by a due time; that party may upload until then."""
    return handle(
        request,
        svc,
        actor,
        body.model_dump(mode="json"),
        "evidence_request",
        201,
        lambda ctx, kw: svc.app.request_evidence(dispute_id, ctx, body.party, body.note, body.due_in, **kw),
    )


@router.post(
    "/deadline-extensions",
    operation_id="extend_deadline",
    response_model=DisputeOut,
    response_description="the dispute with the deadline moved",
    responses=command_docs(200, "deadline_not_open"),
    summary="Extend an open deadline (agents)",
)
def extend_deadline(
    dispute_id: DisputeId,
    body: DeadlineExtensionIn,
    request: Request,
    svc: ServicesDep,
    actor: CallerDep,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """An agent moves an open deadline later, with a reason."""
    return handle(
        request,
        svc,
        actor,
        body.model_dump(mode="json"),
        "dispute",
        200,
        lambda ctx, kw: svc.app.extend_deadline(dispute_id, ctx, body.deadline, body.extend_by, body.reason, **kw),
    )


@router.post(
    "/ruling",
    operation_id="issue_ruling",
    response_model=DisputeOut,
    response_description="the dispute, resolved by the ruling",
    responses=command_docs(200, *MONEY),
    summary="Rule on an escalated dispute (agents)",
)
def issue_ruling(
    dispute_id: DisputeId,
    body: RulingIn,
    request: Request,
    svc: ServicesDep,
    actor: CallerDep,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """An agent decides an escalated dispute: the outcome, the refund if any, and whether the seller was at fault."""
    return handle(
        request,
        svc,
        actor,
        body.model_dump(mode="json"),
        "dispute",
        200,
        lambda ctx, kw: svc.app.issue_ruling(
            dispute_id, ctx, body.outcome, money_from_api(body.refund), body.seller_at_fault, body.rationale, **kw
        ),
    )
