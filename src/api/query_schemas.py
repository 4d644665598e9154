"""Response models of the read-model queries (lists, timeline, scores, statistics)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from api import examples as ex
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
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.SELLER_SCORE))
    seller_id: str
    score: int
    level: str
    window: timedelta
    as_of: datetime
    breakdown: dict[str, BreakdownOut]


class DisputePage(Page[DisputeOut]):
    """Full dispute bodies, as the caller may see them."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.page(ex.DISPUTE)))


class TimelinePage(Page[TimelineEntryOut]):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.page(ex.TIMELINE_ENTRY)))


class SellerPage(Page[SellerScoreOut]):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.page(ex.SELLER_SCORE)))


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
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.STATS))
    group_by: str
    since: datetime | None
    until: datetime | None
    groups: list[StatsGroupOut]
