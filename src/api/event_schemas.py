"""Response and request models of the event feed, the stream and webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from api import examples as ex
from api.schemas import ActorOut, Page


class EventItemOut(BaseModel):
    """One event as the caller may read it: the same shape in the feed, the stream and webhooks."""

    id: UUID
    position: int
    dispute_id: UUID | None = Field(description="null for an order's event")
    order_id: str = Field(description="the order the event is about (a dispute's order, or the order itself)")
    type: str
    version: int
    actor: ActorOut
    occurred_at: datetime
    data: dict[str, Any]

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.EVENT_ITEM))


class EventPage(Page[EventItemOut]):
    """A page of events, in position order."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.page(ex.EVENT_ITEM)))


class WebhookIn(BaseModel):
    url: str = Field(max_length=2048, description="where to POST: https (http outside production)")
    event_types: list[str] = Field(min_length=1, max_length=100, description='["*"] for all, or event type names')
    description: str = Field(default="", max_length=500)

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.WEBHOOK_IN))


class WebhookPatch(BaseModel):
    url: str | None = Field(default=None, max_length=2048)
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    status: Literal["enabled", "disabled"] | None = None

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.WEBHOOK_PATCH))


class WebhookOut(BaseModel):
    id: UUID
    url: str
    event_types: list[str]
    description: str
    status: Literal["enabled", "disabled"]
    disabled_reason: str | None
    created_at: datetime
    after: int = Field(description="delivery resumes after this position (at creation: the log's head)")

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.WEBHOOK))


class WebhookWithSecret(WebhookOut):
    secret: str = Field(description="whsec_...: shown only when created and when rotated")

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.WEBHOOK_WITH_SECRET))


class ReplayIn(BaseModel):
    after: int = Field(ge=0, description="deliver again every event after this position")

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.REPLAY_IN))


class DeliveryOut(BaseModel):
    event_id: UUID
    position: int
    attempt: int
    status_code: int | None
    error: str | None
    duration_ms: int
    attempted_at: datetime
    next_attempt_at: datetime | None

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.DELIVERY))


class WebhookPage(Page[WebhookOut]):
    """A page of the caller's webhook subscriptions."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.page(ex.WEBHOOK)))


class DeliveryPage(Page[DeliveryOut]):
    """A page of delivery attempts, oldest first."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.page(ex.DELIVERY)))
