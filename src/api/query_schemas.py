"""Response models of the read-model queries (lists, timeline, scores, statistics)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from api.schemas import ActorOut, MoneyOut
from domain.values import Outcome, Reason, Remedy, ResolvedHow, Role, Status


class SummaryOutcomeOut(BaseModel):
    how: ResolvedHow
    outcome: Outcome
    refund: MoneyOut | None
    seller_at_fault: bool | None


class DisputeSummaryOut(BaseModel):
    id: UUID
    order_id: str
    buyer_id: str
    seller_id: str
    reason: Reason
    status: Status
    party_to_act: Role | None
    requested_remedy: Remedy
    requested_refund: MoneyOut | None
    order_amount: MoneyOut
    escalated: bool
    outcome: SummaryOutcomeOut | None
    deadlines: dict[str, datetime]
    next_deadline_at: datetime | None
    version: int
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class DisputeSummaryPage(BaseModel):
    items: list[DisputeSummaryOut]
    next_cursor: str | None


class TimelineEntryOut(BaseModel):
    position: int
    version: int
    type: str
    actor: ActorOut
    occurred_at: datetime
    summary: str
    data: dict[str, Any]


class TimelinePage(BaseModel):
    items: list[TimelineEntryOut]
    next_cursor: str | None


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


class SellerRankOut(BaseModel):
    seller_id: str
    score: int
    level: str


class SellerPage(BaseModel):
    items: list[SellerRankOut]
    next_cursor: str | None


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
