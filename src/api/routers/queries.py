"""Read-model queries: dispute search, timelines, seller scores, statistics."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool

from api import presenters
from api.deps import ServicesDep
from api.instants import checked_instant
from api.list_filters import DEFAULT_ORDER, DisputeFilters, OrderParam, after_cursor, cursor_after, order_of
from api.listing import DisputeListCaller, SellerListCaller, SellerScoreCaller, StatisticsCaller, TimelineCaller
from api.pagination import CursorParam, Limit, cursor_int, cursor_str, decode_cursor, page
from api.problems import ApiProblem
from api.query_schemas import DisputePage, SellerPage, SellerScoreOut, StatsOut, TimelinePage
from api.readiness import wait_for_view
from api.routers.common import DISPUTE_READ, LIST, LISTED, DisputeId, MinPosition, read_docs
from api.schemas import NO_NUL
from domain.errors import InvalidValue, RoleNotAllowed
from domain.values import PARTIES, Actor
from projections import dispute_list, figures, penalties, statistics, timeline

router = APIRouter()


@router.get(
    "/v1/disputes",
    operation_id="list_disputes",
    response_model=DisputePage,
    response_description="a page of disputes in the order asked (newest opened first by default)",
    responses=read_docs(*LIST, "role_not_allowed", "invalid_value"),
    tags=["disputes"],
    summary="Search disputes (each caller sees what it may see)",
)
async def list_disputes(
    svc: ServicesDep,
    actor: DisputeListCaller,
    filters: DisputeFilters,
    order_by: OrderParam = DEFAULT_ORDER,
    limit: Limit = 50,
    cursor: CursorParam = None,
    x_min_position: MinPosition = None,
) -> dict[str, Any]:
    """From the dispute_list read model (it may trail the store: use X-Min-Position).
    Buyers and sellers only ever see their own disputes, whatever the filters say,
    and may not filter by assignment (`assigned_agent`, `unassigned`: 403).
    Filters combine with AND; the values of one repeated filter with OR."""
    ensure_may_filter_by_assignment(actor, filters.assigned_agent, filters.unassigned)
    await wait_for_view(svc, dispute_list.DisputeList.name, x_min_position)
    after = after_cursor(cursor, order_by)
    order = order_of(order_by)
    rows = await run_in_threadpool(dispute_list.search, svc.views, actor, filters, after, limit + 1, order)
    now = svc.clock()
    shown = [(row, presenters.dispute(dispute_list.document_of(row), actor, now)) for row in rows]
    body = page(shown, limit, lambda item: cursor_after(item[0], order_by))
    return {**body, "items": [item[1] for item in body["items"]]}


def ensure_may_filter_by_assignment(actor: Actor, assigned_agent: str | None, unassigned: bool) -> None:
    """Buyers and sellers never see who handles a dispute, so they may not search by it."""
    if assigned_agent is None and not unassigned:
        return
    if actor.role in PARTIES:
        raise RoleNotAllowed(f"a {actor.role.value} may not filter disputes by their assigned agent")
    if assigned_agent is not None and unassigned:
        raise InvalidValue("assigned_agent and unassigned=true exclude each other")


@router.get(
    "/v1/disputes/{dispute_id}/timeline",
    operation_id="get_timeline",
    response_model=TimelinePage,
    response_description="a page of timeline entries, in order",
    responses=read_docs(*DISPUTE_READ, "role_not_allowed", "invalid_cursor", "unknown_parameter"),
    tags=["disputes"],
    summary="A dispute's timeline (human summaries and event data)",
)
async def get_timeline(
    dispute_id: DisputeId,
    svc: ServicesDep,
    actor: TimelineCaller,
    limit: Limit = 50,
    cursor: CursorParam = None,
    x_min_position: MinPosition = None,
) -> dict[str, Any]:
    """What happened, in order, each entry with a human summary and its data,
    as the caller may read it (from the timeline read model)."""
    await wait_for_view(svc, timeline.Timeline.name, x_min_position)
    key = decode_cursor(cursor)
    after = cursor_int(key, "position", minimum=0) if key is not None else 0
    rows = await run_in_threadpool(timeline.entries, svc.views, dispute_id, actor.role, after, limit + 1)
    items = [
        {
            "position": e.position,
            "version": e.version,
            "type": e.type,
            "actor": {"id": e.actor_id, "role": e.actor_role},
            "occurred_at": e.occurred_at,
            "summary": e.summary,
            "data": e.data,
        }
        for e in rows
    ]
    return page(items, limit, lambda e: {"position": e["position"]})


@router.get(
    "/v1/sellers/{seller_id}/score",
    operation_id="get_seller_score",
    response_model=SellerScoreOut,
    response_description="the seller's score, level and breakdown",
    responses=read_docs(*LISTED, "role_not_allowed"),
    tags=["sellers"],
    summary="A seller's penalty score over the rolling window ending at as_of",
)
async def seller_score(
    seller_id: Annotated[str, Path(max_length=255, pattern=NO_NUL)],
    svc: ServicesDep,
    actor: SellerScoreCaller,
    as_of: datetime | None = None,
    x_min_position: MinPosition = None,
) -> SellerScoreOut:
    """For the seller itself, agents, auditors and analysts. A seller with no
    penalties in the window scores 0."""
    await wait_for_view(svc, penalties.Penalties.name, x_min_position)
    when = checked_instant(as_of, "as_of") or svc.clock()
    found = await run_in_threadpool(penalties.score, svc.views, seller_id, when, svc.settings.penalty_window)
    return SellerScoreOut.model_validate(found, from_attributes=True)


@router.get(
    "/v1/sellers",
    operation_id="list_sellers",
    response_model=SellerPage,
    response_description="a page of seller scores, highest first",
    responses=read_docs(*LIST, "role_not_allowed"),
    tags=["sellers"],
    summary="Sellers ranked by penalty score",
)
async def list_sellers(
    svc: ServicesDep,
    actor: SellerListCaller,
    order_by: Literal["score"] = "score",
    as_of: datetime | None = None,
    limit: Limit = 50,
    cursor: CursorParam = None,
    x_min_position: MinPosition = None,
) -> dict[str, Any]:
    """Sellers with penalties in the window ending at `as_of`, highest score first
    (agents, auditors, analysts)."""
    await wait_for_view(svc, penalties.Penalties.name, x_min_position)
    when = checked_instant(as_of, "as_of") or svc.clock()
    key = decode_cursor(cursor)
    after = (cursor_int(key, "score"), cursor_str(key, "seller_id")) if key is not None else None
    scores = await run_in_threadpool(penalties.ranking, svc.views, when, svc.settings.penalty_window, after, limit + 1)
    items = [SellerScoreOut.model_validate(score, from_attributes=True) for score in scores]
    return page(items, limit, lambda i: {"score": i.score, "seller_id": i.seller_id})


GROUP_BY = Query(
    pattern=r"^[a-z]+(,[a-z]+)?$",
    description="one key, or two separated by a comma (e.g. `reason,week`): "
    + ", ".join(f"`{k}`" for k in figures.KEYS)
    + " (`week` is the ISO week, `month` the month the dispute was opened in, UTC)",
)


@router.get(
    "/v1/stats/disputes",
    operation_id="get_dispute_statistics",
    response_model=StatsOut,
    response_description="the statistics, one group per key (or pair of keys)",
    responses=read_docs(*LISTED, "role_not_allowed"),
    tags=["statistics"],
    summary="Counts, refunds, percentiles of resolution and first-response times, escalations and SLA breaches",
)
async def dispute_stats(
    svc: ServicesDep,
    actor: StatisticsCaller,
    group_by: Annotated[str, GROUP_BY] = "reason",
    since: Annotated[datetime | None, Query(description="opened at or after")] = None,
    until: Annotated[datetime | None, Query(description="opened before")] = None,
    as_of: Annotated[
        datetime | None, Query(description="the figures as they stood at this instant (not after now)")
    ] = None,
    x_min_position: MinPosition = None,
) -> dict[str, Any]:
    """Disputes opened in [since, until), grouped (analysts, agents, auditors).
    Percentiles interpolate linearly between the closest ranks (as Postgres's
    percentile_cont): for n sorted values and a fraction p, rank p*(n-1)."""
    since, until = checked_instant(since, "since"), checked_instant(until, "until")
    as_of, now = checked_instant(as_of, "as_of"), svc.clock()
    if as_of is not None and as_of > now:
        raise ApiProblem(422, "validation_error", "as_of must not be later than now: the future is not recorded")
    try:
        figures.grouping(group_by)
    except figures.BadGrouping as e:
        raise ApiProblem(422, "validation_error", str(e)) from None
    await wait_for_view(svc, statistics.Statistics.name, x_min_position)
    groups = await run_in_threadpool(statistics.dispute_statistics, svc.views, group_by, since, until, now, as_of)
    return {"group_by": group_by, "since": since, "until": until, "as_of": as_of, "groups": groups}
