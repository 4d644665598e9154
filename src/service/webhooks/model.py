"""A subscription, one delivery attempt, and the store both live in (a port,
implemented in `store.webhooks`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.values import Actor, Role

ENABLED, DISABLED = "enabled", "disabled"
ALL_TYPES = "*"
SETTINGS_FIELDS = ("url", "event_types", "description")
SECRET_FIELDS = ("secret", "previous_secret", "previous_secret_expires_at")
STATUS_FIELDS = ("status", "disabled_reason", "attempt", "next_attempt_at")
POSITION_FIELDS = ("position", *STATUS_FIELDS)


@dataclass(frozen=True)
class Subscription:
    id: UUID
    owner_id: str
    owner_role: str
    url: str
    event_types: list[str]
    description: str
    status: str
    secret: str
    created_at: datetime
    position: int
    """Delivery resumes after this position (the log head at creation, then each delivered event's)."""
    attempt: int = 0
    """Failed attempts at the event after `position` so far."""
    next_attempt_at: datetime | None = None
    disabled_reason: str | None = None
    previous_secret: str | None = None
    previous_secret_expires_at: datetime | None = None

    @property
    def owner(self) -> Actor:
        return Actor(self.owner_id, Role(self.owner_role))

    def owned_by(self, actor: Actor) -> bool:
        return self.owner_id == actor.id and self.owner_role == actor.role.value

    @property
    def types(self) -> list[str]:
        """The event types to deliver; empty means all."""
        return [] if ALL_TYPES in self.event_types else self.event_types

    def secrets(self, now: datetime) -> list[str]:
        """The secrets that sign a delivery now: the current one, and the previous for 24 h after a rotation."""
        live = [self.secret]
        if self.previous_secret and self.previous_secret_expires_at and now < self.previous_secret_expires_at:
            live.append(self.previous_secret)
        return live

    def but(self, **changes: Any) -> Subscription:
        return replace(self, **changes)


@dataclass(frozen=True)
class Attempt:
    subscription_id: UUID
    event_id: UUID
    position: int
    attempt: int
    status_code: int | None
    error: str | None
    duration_ms: int
    attempted_at: datetime
    next_attempt_at: datetime | None
    response_body: str = ""
    seq: int = field(default=0, compare=False)

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Claim(ABC):
    """A due subscription held by one delivery worker until the context exits."""

    subscription: Subscription
    lost: bool = False
    """The subscription changed under the claim (SQLite: replayed, paused, deleted); deliver no more."""

    @abstractmethod
    def record(self, attempt: Attempt | None, after: Subscription) -> None:
        """The attempt (if any) and the subscription's new state, in one transaction."""


class WebhookStore(ABC):
    @abstractmethod
    def ensure_tables(self) -> None: ...

    @abstractmethod
    def add(self, subscription: Subscription) -> None: ...

    @abstractmethod
    def get(self, subscription_id: UUID) -> Subscription | None: ...

    @abstractmethod
    def owned_by(self, actor: Actor, after: str | None, limit: int) -> list[Subscription]:
        """The actor's subscriptions in id order, after the id `after`."""

    @abstractmethod
    def save(self, subscription: Subscription, fields: tuple[str, ...]) -> None:
        """Write these fields of an existing subscription."""

    @abstractmethod
    def delete(self, subscription_id: UUID) -> None: ...

    @abstractmethod
    def attempts(self, subscription_id: UUID, after_seq: int, limit: int) -> list[Attempt]:
        """Attempts in the order they were made."""

    @abstractmethod
    def claim(self, now: datetime, head: int) -> AbstractContextManager[Claim | None]:
        """An enabled subscription that is due (next_attempt_at <= now) and behind
        `head`, which no other worker holds; None when there is none."""

    @abstractmethod
    def backlog(self, head: int) -> dict[str, int]:
        """Enabled subscriptions' distance behind `head`, by id."""

    @abstractmethod
    def disabled_count(self) -> int: ...

    def all_attempts(self, subscription_id: UUID) -> Iterator[Attempt]:
        after = 0
        while batch := self.attempts(subscription_id, after, 500):
            yield from batch
            after = batch[-1].seq
