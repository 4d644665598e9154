"""Orders: the marketplace's platform account puts them, the parties and the
platform's staff read them (`service.orders`, `domain.order`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.audit_models import HistoryPage, VerifyOut, history_entry, verify_out
from api.deps import CallerDep, ServicesDep
from api.listing import OrderHistoryCaller
from api.order_schemas import OrderIn, OrderOut, order_out
from api.pagination import CursorParam, Limit, page
from api.readiness import wait_for_event_store
from api.routers.audit import cursor_position
from api.routers.common import (
    AUTHENTICATED,
    COMMAND_HEADERS,
    READ,
    READ_HEADERS,
    MinPosition,
    problem_docs,
    read_docs,
)
from api.schemas import NO_NUL
from domain.values import Context
from service import audit as audit_reads

router = APIRouter(prefix="/v1/orders", tags=["orders"])
OrderId = Annotated[
    str,
    Path(min_length=1, max_length=255, pattern=NO_NUL, description="the order id", examples=["order-1001"]),
]
PUT_CODES = (*AUTHENTICATED, "role_not_allowed", "invalid_value", "text_too_long", "concurrent_modification")
GET_CODES = (*READ, "role_not_allowed", "not_party", "order_not_found")


@router.put(
    "/{order_id}",
    operation_id="put_order",
    response_model=OrderOut,
    response_description="the order as it now stands (the same answer for the same terms again)",
    responses={**problem_docs(*PUT_CODES), 200: {"headers": COMMAND_HEADERS}},
    summary="Register an order or change its terms (the platform)",
)
def put_order(order_id: OrderId, body: OrderIn, request: Request, svc: ServicesDep, actor: CallerDep) -> JSONResponse:
    """The marketplace's integration account (role `platform`) states an order's
    terms, all of them every time. The first PUT records `OrderRegistered`; other
    terms record one `OrderUpdated` naming the fields that `changed`; the same
    terms again record nothing and answer exactly as before (same body, `ETag`
    and `X-Position`: the position of the event that recorded them)."""
    ctx = Context(actor, svc.clock(), request_id=request.state.request_id)
    outcome = svc.orders.put(ctx, order_id, body.terms())
    headers = {"ETag": f'"{outcome.order.version}"', "X-Position": str(outcome.position)}
    return JSONResponse(order_out(outcome.order).model_dump(mode="json"), headers=headers)


@router.get(
    "/{order_id}",
    operation_id="get_order",
    response_model=OrderOut,
    response_description="the order, for the platform, agents, auditors and its own buyer and seller",
    responses={**problem_docs(*GET_CODES), 200: {"headers": READ_HEADERS}},
    summary="Read an order (platform, agents, auditors, its buyer and seller)",
)
async def get_order(
    order_id: OrderId, svc: ServicesDep, actor: CallerDep, x_min_position: MinPosition = None
) -> JSONResponse:
    """Read from the event store itself. A buyer or a seller who is not the
    order's gets the same 404 `not_party` as for an order never registered."""
    await wait_for_event_store(svc, x_min_position)
    order = await run_in_threadpool(svc.orders.get, order_id, actor)
    body = order_out(order).model_dump(mode="json")
    return JSONResponse(body, headers={"ETag": f'"{order.version}"'})


@router.get(
    "/{order_id}/history",
    operation_id="get_order_history",
    response_model=HistoryPage,
    response_description="a page of the order's stored events, in order",
    responses=read_docs(*READ, "role_not_allowed", "order_not_found", "invalid_cursor", "unknown_parameter"),
    summary="Every stored event of an order, as recorded, with positions and chain hashes",
)
async def order_history(
    order_id: OrderId,
    svc: ServicesDep,
    actor: OrderHistoryCaller,
    limit: Limit = 50,
    cursor: CursorParam = None,
    x_min_position: MinPosition = None,
) -> JSONResponse:
    """The order's raw events as recorded, read from the event store (auditors, agents)."""
    after = cursor_position(cursor, "version")
    await wait_for_event_store(svc, x_min_position)
    events = await run_in_threadpool(audit_reads.order_history, svc.app, order_id, actor, after, limit + 1)
    return JSONResponse(page([history_entry(e) for e in events], limit, lambda e: {"version": e["version"]}))


@router.get(
    "/{order_id}/verify",
    operation_id="verify_order",
    response_model=VerifyOut,
    response_description="whether the order's chain holds, and where it breaks if not",
    responses=read_docs(*READ, "role_not_allowed", "order_not_found"),
    summary="Recompute the order's hash chain from the stored events (auditors)",
)
async def verify_order(
    order_id: OrderId, svc: ServicesDep, actor: CallerDep, x_min_position: MinPosition = None
) -> Any:
    """Recompute every event's chain hash from the stored records (auditors)."""
    await wait_for_event_store(svc, x_min_position)
    return verify_out(await run_in_threadpool(audit_reads.order_verify, svc.app, order_id, actor))
