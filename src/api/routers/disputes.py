"""Opening and reading disputes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api import presenters
from api.commands import handle
from api.deps import CallerDep, ServicesDep
from api.readiness import wait_for_event_store
from api.routers.common import (
    COMMAND,
    CREATED_HEADERS,
    DISPUTE_READ,
    MONEY,
    DisputeId,
    IdempotencyKey,
    MinPosition,
    problem_docs,
    read_docs,
)
from api.schemas import DisputeOut, OpenDisputeIn
from domain.values import Money

router = APIRouter(prefix="/v1/disputes", tags=["disputes"])


def money_from_api(value: object) -> Money | None:
    if value is None:
        return None
    return Money(value.amount_minor, value.currency)  # type: ignore[attr-defined]


NOT_YET_A_DISPUTE = ("not_party", "dispute_not_found", "invalid_transition", "version_conflict")
OPENING = tuple(code for code in COMMAND if code not in NOT_YET_A_DISPUTE)
ORDER_RULES = ("not_party", "order_unknown", "order_mismatch", "protection_expired")
"""What a registered order (or DISPUTES_REQUIRE_KNOWN_ORDERS) refuses (domain.order.opening_terms)."""


@router.post(
    "",
    status_code=201,
    operation_id="open_dispute",
    response_model=DisputeOut,
    response_description="the dispute opened, as the buyer sees it",
    responses={
        **problem_docs(*OPENING, *MONEY, *ORDER_RULES, "dispute_exists"),
        201: {"headers": CREATED_HEADERS},
    },
    summary="Open a dispute on an order (buyers)",
)
def open_dispute(
    body: OpenDisputeIn,
    request: Request,
    svc: ServicesDep,
    actor: CallerDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """A buyer opens one dispute per order, asking for a remedy (and a refund for
    refund remedies); the seller is the first to act. On an order the platform
    registered, only its buyer may (404 `not_party` for anyone else), before its
    `protection_ends_at` (409 `protection_expired`); `seller_id` and
    `order_amount` may be omitted and, if sent, must be the order's (422
    `order_mismatch`). On an unregistered order both are required, and with
    `DISPUTES_REQUIRE_KNOWN_ORDERS=true` opening is 404 `order_unknown`."""
    return handle(
        request,
        svc,
        actor,
        body.model_dump(mode="json"),
        "dispute",
        201,
        lambda ctx, kw: svc.orders.book.open_dispute(
            ctx,
            order_id=body.order_id,
            seller_id=body.seller_id,
            reason=body.reason,
            remedy=body.remedy,
            refund=money_from_api(body.refund),
            order_amount=money_from_api(body.order_amount),
            description=body.description,
            save_kwargs=kw["save_kwargs"],
        ),
    )


@router.get(
    "/{dispute_id}",
    operation_id="get_dispute",
    response_model=DisputeOut,
    response_description="the dispute, as the caller may see it",
    responses=read_docs(*DISPUTE_READ, "integrity_error", etag=True),
    summary="Read a dispute as the caller may see it",
)
async def get_dispute(
    dispute_id: DisputeId,
    svc: ServicesDep,
    actor: CallerDep,
    x_min_position: MinPosition = None,
) -> JSONResponse:
    """Read from the event store itself: parties see what they may read, analysts
    see no message bodies. `allowed_actions` lists what the caller may do now."""
    await wait_for_event_store(svc, x_min_position)
    ctx_now = svc.clock()
    dispute = await run_in_threadpool(svc.app.dispute_for, dispute_id, actor)
    body = presenters.dispute(dispute, actor, ctx_now).model_dump(mode="json")
    return JSONResponse(body, headers={"ETag": f'"{dispute.version}"'})
