"""Response models of the read-model queries (lists, timeline, scores, statistics)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

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
    key: str = Field(description='the group\'s values joined by ","; "none" for a missing one (no outcome yet)')
    keys: dict[str, str | None] = Field(description="each group_by key and its value in this group")
    count: int
    by_status: dict[str, int]
    refund_totals: list[RefundTotalOut] = Field(description="refunds decided, per currency")
    median_resolution_seconds: float | None = Field(description="the same as p50_resolution_seconds")
    p50_resolution_seconds: float | None = Field(description="opening to resolution, resolved disputes")
    p90_resolution_seconds: float | None
    p50_seller_first_response_seconds: float | None = Field(
        description="opening to the seller's first action, disputes the seller has answered"
    )
    escalated: int
    escalation_rate: float = Field(description="escalated / count")
    sla_breaches: int


class StatsOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.STATS))
    group_by: str
    since: datetime | None
    until: datetime | None
    as_of: datetime | None = Field(description="the instant the figures stand at (null: now)")
    groups: list[StatsGroupOut]
