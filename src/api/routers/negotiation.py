"""Offers, counter-offers, acceptances and rejections."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Header, Request
from fastapi.responses import JSONResponse

from api.commands import handle
from api.deps import CallerDep, ServicesDep
from api.routers.common import IDEMPOTENCY_DOC, IF_MATCH_DOC, command_docs
from api.routers.disputes import money_from_api
from api.schemas import DecisionNoteIn, DisputeOut, OfferIn, OfferOut, RejectionIn

router = APIRouter(prefix="/v1/disputes/{dispute_id}/offers", tags=["negotiation"])
IfMatch = Annotated[str | None, Header(description=IF_MATCH_DOC)]
IdempotencyKey = Annotated[str | None, Header(description=IDEMPOTENCY_DOC)]


@router.post(
    "",
    status_code=201,
    response_model=OfferOut,
    responses=command_docs(201, 403, 409, 412),
    summary="Propose a (counter-)offer; it supersedes the pending one",
)
def propose_offer(
    dispute_id: UUID,
    body: OfferIn,
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
        "offer",
        201,
        lambda ctx, kw: svc.app.propose_offer(
            dispute_id, ctx, body.remedy, money_from_api(body.refund), body.note, **kw
        ),
    )


@router.post(
    "/{offer_id}/accept",
    response_model=DisputeOut,
    responses=command_docs(200, 403, 409, 412),
    summary="Accept the pending offer (the party to act)",
)
def accept_offer(
    dispute_id: UUID,
    offer_id: str,
    request: Request,
    svc: ServicesDep,
    actor: CallerDep,
    body: Annotated[DecisionNoteIn | None, Body()] = None,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    note = body.note if body else ""
    return handle(
        request,
        svc,
        actor,
        {"note": note},
        "dispute",
        200,
        lambda ctx, kw: svc.app.accept_offer(dispute_id, ctx, offer_id, note, **kw),
    )


@router.post(
    "/{offer_id}/reject",
    response_model=DisputeOut,
    responses=command_docs(200, 403, 409, 412),
    summary="Reject the pending offer (the party to act)",
)
def reject_offer(
    dispute_id: UUID,
    offer_id: str,
    request: Request,
    svc: ServicesDep,
    actor: CallerDep,
    body: RejectionIn,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    reason = body.reason
    return handle(
        request,
        svc,
        actor,
        {"reason": reason},
        "dispute",
        200,
        lambda ctx, kw: svc.app.reject_offer(dispute_id, ctx, offer_id, reason, **kw),
    )
