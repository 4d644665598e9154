"""Webhook subscriptions: create, read, change, delete, rotate the secret,
replay, and the delivery attempts (`service.webhooks`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool

from api.deps import CallerDep, ServicesDep
from api.event_schemas import (
    DeliveryOut,
    DeliveryPage,
    ReplayIn,
    WebhookIn,
    WebhookOut,
    WebhookPage,
    WebhookPatch,
    WebhookWithSecret,
)
from api.listing import DeliveriesCaller, WebhookListCaller
from api.pagination import CursorParam, Limit, cursor_int, cursor_str, decode_cursor, page
from api.problems import ApiProblem
from api.routers.common import AUTHENTICATED, problem_docs
from service.hub import Services
from service.webhooks.model import Subscription
from service.webhooks.subscriptions import Changes, InvalidSubscription, SubscriptionNotFound, Webhooks
from service.webhooks.urls import UnsafeUrl

router = APIRouter(tags=["webhooks"])
T = TypeVar("T")
ERRORS = problem_docs(*AUTHENTICATED, "role_not_allowed", "webhook_not_found", "unsafe_url", "invalid_cursor")
LIST_ERRORS = problem_docs(
    *AUTHENTICATED, "role_not_allowed", "webhook_not_found", "invalid_cursor", "unknown_parameter"
)


def webhooks(svc: Services) -> Webhooks:
    if svc.webhooks is None:
        raise ApiProblem(503, "unavailable", "webhooks are not configured on this server")
    return svc.webhooks


async def call(work: Callable[..., T], *args: Any) -> T:
    try:
        return await run_in_threadpool(work, *args)
    except SubscriptionNotFound as e:
        raise ApiProblem(404, "webhook_not_found", str(e)) from None
    except UnsafeUrl as e:
        raise ApiProblem(422, "unsafe_url", str(e)) from None
    except InvalidSubscription as e:
        raise ApiProblem(422, "validation_error", str(e)) from None


def out(s: Subscription, *, secret: bool = False) -> dict[str, Any]:
    body = {
        "id": s.id,
        "url": s.url,
        "event_types": s.event_types,
        "description": s.description,
        "status": s.status,
        "disabled_reason": s.disabled_reason,
        "created_at": s.created_at,
        "after": s.position,
    }
    return {**body, "secret": s.secret} if secret else body


@router.post(
    "/v1/webhooks",
    status_code=201,
    response_model=WebhookWithSecret,
    responses=ERRORS,
    operation_id="create_webhook",
    response_description="the subscription, with its secret (shown only here and when rotated)",
    description="Subscribe a URL to the events the caller may read from the feed; "
    "delivery starts after the log's head.",
    summary="Subscribe a URL to the events the caller may read",
)
async def create_webhook(body: WebhookIn, svc: ServicesDep, actor: CallerDep) -> dict[str, Any]:
    created = await call(webhooks(svc).create, actor, body.url, body.event_types, body.description)
    return out(created, secret=True)


@router.get(
    "/v1/webhooks",
    response_model=WebhookPage,
    responses=LIST_ERRORS,
    operation_id="list_webhooks",
    response_description="a page of the caller's subscriptions",
    description="The caller's own webhook subscriptions, oldest first.",
    summary="The caller's webhooks",
)
async def list_webhooks(
    svc: ServicesDep, actor: WebhookListCaller, limit: Limit = 50, cursor: CursorParam = None
) -> Any:
    key = decode_cursor(cursor)
    after = cursor_str(key, "id") if key is not None else None
    found = await call(webhooks(svc).owned, actor, after, limit + 1)
    return page([out(s) for s in found], limit, lambda s: {"id": str(s["id"])})


@router.get(
    "/v1/webhooks/{webhook_id}",
    response_model=WebhookOut,
    responses=ERRORS,
    operation_id="get_webhook",
    response_description="the subscription",
    description="One of the caller's webhook subscriptions (404 for anyone else's).",
    summary="One of your webhooks",
)
async def get_webhook(webhook_id: UUID, svc: ServicesDep, actor: CallerDep) -> dict[str, Any]:
    return out(await call(webhooks(svc).mine, actor, webhook_id))


@router.patch(
    "/v1/webhooks/{webhook_id}",
    response_model=WebhookOut,
    responses=ERRORS,
    operation_id="update_webhook",
    response_description="the subscription as changed",
    description="Change a subscription's URL, event types, description or status; "
    "re-enabling resumes exactly where delivery paused.",
    summary="Change a webhook (re-enabling resumes where it paused)",
)
async def patch_webhook(webhook_id: UUID, body: WebhookPatch, svc: ServicesDep, actor: CallerDep) -> dict[str, Any]:
    changes = Changes(url=body.url, event_types=body.event_types, description=body.description, status=body.status)
    return out(await call(webhooks(svc).update, actor, webhook_id, changes))


@router.delete(
    "/v1/webhooks/{webhook_id}",
    status_code=204,
    responses=ERRORS,
    operation_id="delete_webhook",
    response_description="deleted",
    description="Delete a subscription; nothing more is delivered to it.",
    summary="Delete a webhook",
)
async def delete_webhook(webhook_id: UUID, svc: ServicesDep, actor: CallerDep) -> Response:
    await call(webhooks(svc).delete, actor, webhook_id)
    return Response(status_code=204)


@router.post(
    "/v1/webhooks/{webhook_id}/rotate-secret",
    response_model=WebhookWithSecret,
    responses=ERRORS,
    operation_id="rotate_webhook_secret",
    response_description="the subscription with its new secret",
    description="A new signing secret; the old one keeps signing alongside it for 24 hours (both signatures sent).",
    summary="A new secret; the old one keeps signing alongside for 24 h",
)
async def rotate_secret(webhook_id: UUID, svc: ServicesDep, actor: CallerDep) -> dict[str, Any]:
    return out(await call(webhooks(svc).rotate_secret, actor, webhook_id), secret=True)


@router.post(
    "/v1/webhooks/{webhook_id}/replay",
    status_code=202,
    response_model=WebhookOut,
    responses=ERRORS,
    operation_id="replay_webhook",
    response_description="delivery restarts after the position given",
    description="Deliver again, in order, every event of the subscription after a position.",
    summary="Deliver again every event after a position, in order",
)
async def replay(webhook_id: UUID, body: ReplayIn, svc: ServicesDep, actor: CallerDep) -> dict[str, Any]:
    return out(await call(webhooks(svc).replay, actor, webhook_id, body.after))


@router.get(
    "/v1/webhooks/{webhook_id}/deliveries",
    response_model=DeliveryPage,
    responses=LIST_ERRORS,
    operation_id="list_webhook_deliveries",
    response_description="a page of delivery attempts",
    description="The delivery attempts of a subscription, oldest first.",
    summary="The delivery attempts, oldest first",
)
async def deliveries(
    webhook_id: UUID, svc: ServicesDep, actor: DeliveriesCaller, limit: Limit = 50, cursor: CursorParam = None
) -> dict[str, Any]:
    key = decode_cursor(cursor)
    after = cursor_int(key, "seq", minimum=0) if key is not None else 0
    found = await call(webhooks(svc).attempts, actor, webhook_id, after, limit + 1)
    items = [(a.seq, DeliveryOut.model_validate(a, from_attributes=True)) for a in found]
    body = page(items, limit, lambda i: {"seq": i[0]})
    return {**body, "items": [i[1] for i in body["items"]]}
