"""Response and request models of the event feed, the stream and webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from api.schemas import ActorOut, Page


class EventItemOut(BaseModel):
    """One event as the caller may read it: the same shape in the feed, the stream and webhooks."""

    id: UUID
    position: int
    dispute_id: UUID | None
    type: str
    version: int
    actor: ActorOut
    occurred_at: datetime
    data: dict[str, Any]


EventPage = Page[EventItemOut]
