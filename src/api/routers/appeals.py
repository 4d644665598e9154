"""Appeals of rulings, and agents claiming and releasing the disputes they handle."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse

from api.commands import handle
from api.deps import CallerDep, ServicesDep
from api.routers.common import MONEY, DisputeId, IdempotencyKey, IfMatch, command_docs
from api.routers.disputes import money_from_api
from api.schemas import AppealDecisionIn, AppealIn, ClaimIn, DisputeOut, ReasonIn

router = APIRouter(prefix="/v1/disputes/{dispute_id}", tags=["appeals"])


@router.post(
    "/appeal",
    operation_id="appeal",
    response_model=DisputeOut,
    response_description="the dispute, now under appeal",
    responses=command_docs(200),
    summary="Appeal a ruling (buyer or seller)",
)
def appeal(
    dispute_id: DisputeId,
    body: AppealIn,
    request: Request,
    svc: ServicesDep,
    actor: CallerDep,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Within the appeal window after a ruling (`outcome.appealable_until`), the buyer
    or the seller asks another agent to look again, once per dispute. Agreements,
    withdrawals and deadline outcomes are final and cannot be appealed (409)."""
    return handle(
        request,
        svc,
        actor,
        body.model_dump(mode="json"),
        "dispute",
        200,
        lambda ctx, kw: svc.app.appeal(dispute_id, ctx, body.reason, **kw),
    )


@router.post(
    "/appeal-decision",
    operation_id="decide_appeal",
    response_model=DisputeOut,
    response_description="the dispute, resolved again by the appeal (final)",
    responses=command_docs(200, "same_agent", "outcome_required", *MONEY),
    summary="Uphold or overturn an appealed ruling (agents)",
)
def decide_appeal(
    dispute_id: DisputeId,
    body: AppealDecisionIn,
    request: Request,
    svc: ServicesDep,
    actor: CallerDep,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """An agent other than the one who ruled decides the appeal: `upheld` keeps the
    ruling's outcome (send no outcome fields), `overturned` names the new `outcome`,
    `refund` and `seller_at_fault`. Either way the dispute is resolved again with
    `how: "appeal"` and the outcome is final."""
    return handle(
        request,
        svc,
        actor,
        body.model_dump(mode="json"),
        "dispute",
        200,
        lambda ctx, kw: svc.app.decide_appeal(
            dispute_id,
            ctx,
            body.decision,
            body.outcome,
            money_from_api(body.refund),
            body.seller_at_fault,
            body.rationale,
            **kw,
        ),
    )


@router.post(
    "/claim",
    operation_id="claim",
    response_model=DisputeOut,
    response_description="the dispute, now handled by the caller (`assigned_agent`)",
    responses=command_docs(200, "claimed_by_another_agent"),
    summary="Claim a dispute under review or under appeal (agents)",
)
def claim(
    dispute_id: DisputeId,
    request: Request,
    svc: ServicesDep,
    actor: CallerDep,
    body: Annotated[ClaimIn | None, Body()] = None,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """The calling agent records that it handles the dispute. A dispute another agent
    holds is 409 `claimed_by_another_agent` unless `force` is true with a `reason`
    (both recorded in the event). The body may be omitted."""
    claim_in = body or ClaimIn()
    return handle(
        request,
        svc,
        actor,
        claim_in.model_dump(mode="json"),
        "dispute",
        200,
        lambda ctx, kw: svc.app.claim(dispute_id, ctx, claim_in.force, claim_in.reason, **kw),
    )


@router.post(
    "/release",
    operation_id="release",
    response_model=DisputeOut,
    response_description="the dispute, handled by no one",
    responses=command_docs(200, "not_claimant"),
    summary="Release a dispute you hold (agents)",
)
def release(
    dispute_id: DisputeId,
    request: Request,
    svc: ServicesDep,
    actor: CallerDep,
    body: Annotated[ReasonIn | None, Body()] = None,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """The agent who holds the dispute gives it back; releasing one you do not hold
    is 409 `not_claimant`. The body may be omitted."""
    reason = body.reason if body else ""
    return handle(
        request,
        svc,
        actor,
        {"reason": reason},
        "dispute",
        200,
        lambda ctx, kw: svc.app.release(dispute_id, ctx, reason, **kw),
    )
