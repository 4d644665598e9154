"""Opening and reading disputes."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api import presenters
from api.commands import handle
from api.deps import CallerDep, ServicesDep
from api.problems import responses
from api.readiness import wait_for_event_store
from api.routers.common import IDEMPOTENCY_DOC, READ_HEADERS, MinPosition, command_docs
from api.schemas import DisputeOut, OpenDisputeIn
from domain.values import Money

router = APIRouter(prefix="/v1/disputes", tags=["disputes"])


def money_from_api(value: object) -> Money | None:
    if value is None:
        return None
    return Money(value.amount_minor, value.currency)  # type: ignore[attr-defined]


@router.post(
    "",
    status_code=201,
    response_model=DisputeOut,
    responses=command_docs(201, 403, 409),
    summary="Open a dispute on an order (buyers)",
)
def open_dispute(
    body: OpenDisputeIn,
    request: Request,
    svc: ServicesDep,
    actor: CallerDep,
    idempotency_key: Annotated[str | None, Header(description=IDEMPOTENCY_DOC)] = None,
) -> JSONResponse:
    return handle(
        request,
        svc,
        actor,
        body.model_dump(mode="json"),
        "dispute",
        201,
        lambda ctx, kw: svc.app.open_dispute(
            ctx,
            order_id=body.order_id,
            seller_id=body.seller_id,
            reason=body.reason,
            remedy=body.remedy,
            refund=money_from_api(body.refund),
            order_amount=Money(body.order_amount.amount_minor, body.order_amount.currency),
            description=body.description,
            save_kwargs=kw["save_kwargs"],
        ),
    )


@router.get(
    "/{dispute_id}",
    response_model=DisputeOut,
    responses={**responses(401, 404, 422, 503), 200: {"headers": READ_HEADERS}},
    summary="Read a dispute as the caller may see it",
)
async def get_dispute(
    dispute_id: UUID,
    svc: ServicesDep,
    actor: CallerDep,
    x_min_position: MinPosition = None,
) -> JSONResponse:
    await wait_for_event_store(svc, x_min_position)
    ctx_now = svc.clock()
    dispute = await run_in_threadpool(svc.app.dispute_for, dispute_id, actor)
    body = presenters.dispute(dispute, actor, ctx_now).model_dump(mode="json")
    return JSONResponse(body, headers={"ETag": f'"{dispute.version}"'})
