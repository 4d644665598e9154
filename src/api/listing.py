"""The gate every list and statistic passes: who is calling, may it read
this, and does the query say only what the route understands.

Lists must never lie: a filter the route does not know (a typo, a filter of
another list, a parameter from a newer client) would otherwise be ignored
and the caller would take an unfiltered page for a filtered one. So a list
route declares its caller as `Lister(...)`: it authenticates (401), then
authorizes (403, or 404 for a dispute or webhook the caller may not see),
and only then refuses an unknown query parameter (422 `unknown_parameter`)
or a repeated one that takes one value (422 `validation_error`). The
parameters a route knows are read off its own signature (and those of its
dependencies), so there is no second list to keep in step.
"""

from __future__ import annotations

import types
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Union, get_args, get_origin
from uuid import UUID

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from api.deps import CallerDep, ServicesDep
from api.problems import ApiProblem
from domain.values import Actor
from domain.visibility import Read, ensure_may_read, ensure_may_read_seller
from service import audit as audit_reads
from service.hub import Services
from service.webhooks.subscriptions import SubscriptionNotFound

Check = Callable[[Services, Actor, Request], Awaitable[None]]
MAX_ID = 255


def known_parameters(route: APIRoute) -> dict[str, bool]:
    """Each query parameter the route reads (by the name clients send), and
    whether it may repeat (a list: repeats mean OR)."""
    found: dict[str, bool] = {}

    def walk(dependant: Dependant) -> None:
        for field in dependant.query_params:
            found[field.alias] = repeatable(field.field_info.annotation)
        for sub in dependant.dependencies:
            walk(sub)

    walk(route.dependant)
    return found


def repeatable(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin is Annotated:
        return repeatable(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return any(repeatable(a) for a in get_args(annotation) if a is not type(None))
    return origin in (list, set, frozenset, tuple)


def ensure_known_parameters(request: Request) -> None:
    route = request.scope.get("route")
    assert isinstance(route, APIRoute), "the gate runs inside a route"
    known = known_parameters(route)
    unknown = sorted({name for name in request.query_params if name not in known})
    if unknown:
        names = ", ".join(unknown)
        raise ApiProblem(422, "unknown_parameter", f"unknown query parameter(s): {names}", parameters=unknown)
    for name, may_repeat in known.items():
        if not may_repeat and len(request.query_params.getlist(name)) > 1:
            raise ApiProblem(422, "validation_error", f"{name} may be given only once")


class Lister:
    """A dependency: the caller of a list, once authorized (see the module)."""

    def __init__(self, check: Check) -> None:
        self.check = check

    async def __call__(self, request: Request, svc: ServicesDep, actor: CallerDep) -> Actor:
        await self.check(svc, actor, request)
        ensure_known_parameters(request)
        return actor


def _uuid_in_path(request: Request, name: str) -> UUID | None:
    """The path's id, or None when it is not one (the route's own validation then answers 422)."""
    try:
        return UUID(str(request.path_params[name]))
    except ValueError:
        return None


def reads(what: Read) -> Check:
    """Lists across disputes: the role decides."""

    async def check(_: Services, actor: Actor, __: Request) -> None:
        ensure_may_read(actor, what)

    return check


async def reads_timeline(svc: Services, actor: Actor, request: Request) -> None:
    """404 for a dispute the caller may not see, then the role (403)."""
    dispute_id = _uuid_in_path(request, "dispute_id")
    if dispute_id is not None:
        await run_in_threadpool(svc.app.dispute_for, dispute_id, actor)
    ensure_may_read(actor, Read.TIMELINE)


async def reads_history(svc: Services, actor: Actor, request: Request) -> None:
    """As `service.audit` decides (404 before 403); existence from the store
    itself, so a tampered history can still be listed."""
    dispute_id = _uuid_in_path(request, "dispute_id")
    if dispute_id is not None:
        await run_in_threadpool(audit_reads.ensure_listable, svc.app, dispute_id, actor)


async def reads_order_history(svc: Services, actor: Actor, request: Request) -> None:
    order_id = str(request.path_params["order_id"])
    if "\x00" in order_id or len(order_id) > MAX_ID:
        return  # not an id at all: the route's own validation answers 422
    await run_in_threadpool(audit_reads.ensure_order_listable, svc.app, order_id, actor)


async def reads_seller_score(_: Services, actor: Actor, request: Request) -> None:
    seller_id = str(request.path_params["seller_id"])
    if "\x00" in seller_id or len(seller_id) > MAX_ID:
        return  # not an id at all: the route's own validation answers 422, as for a malformed dispute id
    ensure_may_read_seller(actor, seller_id)


async def reads_webhook(svc: Services, actor: Actor, request: Request) -> None:
    """The caller's own subscription (404 for anyone else's)."""
    webhook_id = _uuid_in_path(request, "webhook_id")
    if svc.webhooks is None:
        raise ApiProblem(503, "unavailable", "webhooks are not configured on this server")
    if webhook_id is None:
        ensure_may_read(actor, Read.EVENTS)
        return
    try:
        await run_in_threadpool(svc.webhooks.mine, actor, webhook_id)
    except SubscriptionNotFound as e:
        raise ApiProblem(404, "webhook_not_found", str(e)) from None


DisputeListCaller = Annotated[Actor, Depends(Lister(reads(Read.DISPUTE_LIST)))]
TimelineCaller = Annotated[Actor, Depends(Lister(reads_timeline))]
HistoryCaller = Annotated[Actor, Depends(Lister(reads_history))]
OrderHistoryCaller = Annotated[Actor, Depends(Lister(reads_order_history))]
SellerListCaller = Annotated[Actor, Depends(Lister(reads(Read.SELLER_LIST)))]
SellerScoreCaller = Annotated[Actor, Depends(Lister(reads_seller_score))]
StatisticsCaller = Annotated[Actor, Depends(Lister(reads(Read.STATISTICS)))]
AuditLogCaller = Annotated[Actor, Depends(Lister(reads(Read.AUDIT_LOG)))]
EventsCaller = Annotated[Actor, Depends(Lister(reads(Read.EVENTS)))]
WebhookListCaller = Annotated[Actor, Depends(Lister(reads(Read.EVENTS)))]
DeliveriesCaller = Annotated[Actor, Depends(Lister(reads_webhook))]
CheckpointListCaller = Annotated[Actor, Depends(Lister(reads(Read.TRANSPARENCY_LOG)))]
