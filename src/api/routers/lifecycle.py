"""Messages, escalation, withdrawal, the return flow, and the agent's commands."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Header, Request
from fastapi.responses import JSONResponse

from api.commands import handle
from api.deps import CallerDep, ServicesDep
from api.routers.common import IDEMPOTENCY_DOC, IF_MATCH_DOC, command_docs
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
IfMatch = Annotated[str | None, Header(description=IF_MATCH_DOC)]
IdempotencyKey = Annotated[str | None, Header(description=IDEMPOTENCY_DOC)]


@router.post("/messages", status_code=201, response_model=MessageOut, responses=command_docs(201, 403, 409, 412))
def post_message(
    dispute_id: UUID,
    body: MessageIn,
    request: Request,
    svc: ServicesDep,
    actor: CallerDep,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return handle(
        request,
        svc,
        actor,
        body.model_dump(mode="json"),
        "message",
        201,
        lambda ctx, kw: svc.app.post_message(dispute_id, ctx, body.body, body.to, **kw),
    )


@router.post("/escalate", response_model=DisputeOut, responses=command_docs(200, 403, 409, 412))
def escalate(
    dispute_id: UUID,
    request: Request,
    svc: ServicesDep,
    actor: CallerDep,
    body: Annotated[ReasonIn | None, Body()] = None,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
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


@router.post("/withdraw", response_model=DisputeOut, responses=command_docs(200, 403, 409, 412))
def withdraw(
    dispute_id: UUID,
    request: Request,
    svc: ServicesDep,
    actor: CallerDep,
    body: Annotated[ReasonIn | None, Body()] = None,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
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


@router.post("/return-shipment", response_model=DisputeOut, responses=command_docs(200, 403, 409, 412))
def ship_return(
    dispute_id: UUID,
    body: ReturnShipmentIn,
    request: Request,
    svc: ServicesDep,
    actor: CallerDep,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return handle(
        request,
        svc,
        actor,
        body.model_dump(mode="json"),
        "dispute",
        200,
        lambda ctx, kw: svc.app.ship_return(dispute_id, ctx, body.carrier, body.tracking_number, **kw),
    )


@router.post("/return-receipt", response_model=DisputeOut, responses=command_docs(200, 403, 409, 412))
def confirm_return_receipt(
    dispute_id: UUID,
    body: ReturnReceiptIn,
    request: Request,
    svc: ServicesDep,
    actor: CallerDep,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
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
    response_model=EvidenceRequestOut,
    responses=command_docs(201, 403, 409, 412),
)
def request_evidence(
    dispute_id: UUID,
    body: EvidenceRequestIn,
    request: Request,
    svc: ServicesDep,
    actor: CallerDep,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return handle(
        request,
        svc,
        actor,
        body.model_dump(mode="json"),
        "evidence_request",
        201,
        lambda ctx, kw: svc.app.request_evidence(dispute_id, ctx, body.party, body.note, body.due_in, **kw),
    )


@router.post("/deadline-extensions", response_model=DisputeOut, responses=command_docs(200, 403, 409, 412))
def extend_deadline(
    dispute_id: UUID,
    body: DeadlineExtensionIn,
    request: Request,
    svc: ServicesDep,
    actor: CallerDep,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return handle(
        request,
        svc,
        actor,
        body.model_dump(mode="json"),
        "dispute",
        200,
        lambda ctx, kw: svc.app.extend_deadline(dispute_id, ctx, body.deadline, body.extend_by, body.reason, **kw),
    )


@router.post("/ruling", response_model=DisputeOut, responses=command_docs(200, 403, 409, 412))
def issue_ruling(
    dispute_id: UUID,
    body: RulingIn,
    request: Request,
    svc: ServicesDep,
    actor: CallerDep,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
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
