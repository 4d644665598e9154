"""Offers, counter-offers, acceptances and rejections."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse

from api.commands import handle
from api.deps import CallerDep, ServicesDep
from api.routers.common import MONEY, DisputeId, IdempotencyKey, IfMatch, OfferId, command_docs
from api.routers.disputes import money_from_api
from api.schemas import DecisionNoteIn, DisputeOut, OfferIn, OfferOut, RejectionIn

router = APIRouter(prefix="/v1/disputes/{dispute_id}/offers", tags=["negotiation"])


@router.post(
    "",
    status_code=201,
    response_model=OfferOut,
    operation_id="propose_offer",
    response_description="the offer proposed, now pending",
    responses=command_docs(201, *MONEY),
    summary="Propose a (counter-)offer; it supersedes the pending one",
)
def propose_offer(
    dispute_id: DisputeId,
    body: OfferIn,
    request: Request,
    svc: ServicesDep,
    actor: CallerDep,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """The party to act proposes a remedy (and a refund for refund remedies),
    a counter-offer to the pending one; the other party acts next."""
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
    operation_id="accept_offer",
    response_description="the dispute after the acceptance",
    responses=command_docs(200, "offer_not_found"),
    summary="Accept the pending offer (the party to act)",
)
def accept_offer(
    dispute_id: DisputeId,
    offer_id: OfferId,
    request: Request,
    svc: ServicesDep,
    actor: CallerDep,
    body: Annotated[DecisionNoteIn | None, Body()] = None,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """The party to act accepts the pending offer: the dispute resolves by
    agreement, or waits for the return when the offer is a return and refund.
    The body may be omitted."""
    note = body.note if body else ""
    return handle(
        request,
        svc,
        actor,
        {"note": note},
        "dispute",
        200,
        lambda ctx, kw: svc.app.accept_offer(dispute_id, ctx, str(offer_id), note, **kw),
    )


@router.post(
    "/{offer_id}/reject",
    response_model=DisputeOut,
    operation_id="reject_offer",
    response_description="the dispute after the rejection",
    responses=command_docs(200, "offer_not_found"),
    summary="Reject the pending offer (the party to act)",
)
def reject_offer(
    dispute_id: DisputeId,
    offer_id: OfferId,
    request: Request,
    svc: ServicesDep,
    actor: CallerDep,
    body: RejectionIn,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """The party to act rejects the pending offer, with a reason; it may then
    propose its own offer or escalate."""
    reason = body.reason
    return handle(
        request,
        svc,
        actor,
        {"reason": reason},
        "dispute",
        200,
        lambda ctx, kw: svc.app.reject_offer(dispute_id, ctx, str(offer_id), reason, **kw),
    )
