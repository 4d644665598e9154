"""Response models of the read-model queries (lists, timeline, scores, statistics)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from api.schemas import ActorOut, DisputeOut, Page


class TimelineEntryOut(BaseModel):
    position: int
    version: int
    type: str
    actor: ActorOut
    occurred_at: datetime
    summary: str
    data: dict[str, Any]


class BreakdownOut(BaseModel):
    count: int
    points: int


class SellerScoreOut(BaseModel):
    seller_id: str
    score: int
    level: str
    window: timedelta
    as_of: datetime
    breakdown: dict[str, BreakdownOut]


DisputePage = Page[DisputeOut]  # full dispute bodies, as the caller may see them
TimelinePage = Page[TimelineEntryOut]
SellerPage = Page[SellerScoreOut]


class RefundTotalOut(BaseModel):
    currency: str
    amount_minor: int


class StatsGroupOut(BaseModel):
    key: str
    count: int
    by_status: dict[str, int]
    refund_totals: list[RefundTotalOut]
    median_resolution_seconds: float | None
    sla_breaches: int


class StatsOut(BaseModel):
    group_by: str
    since: datetime | None
    until: datetime | None
    groups: list[StatsGroupOut]
