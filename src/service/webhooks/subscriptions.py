"""The webhook use cases: each subscription is its creator's, visible and
changeable by its creator only (anyone else: not found)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from domain.values import Actor
from domain.visibility import Read, ensure_may_read
from service.feed import EVENT_TOPICS, EventFeed
from service.settings import Settings
from service.webhooks.model import (
    ALL_TYPES,
    DISABLED,
    ENABLED,
    POSITION_FIELDS,
    SECRET_FIELDS,
    SETTINGS_FIELDS,
    STATUS_FIELDS,
    Attempt,
    Subscription,
    WebhookStore,
)
from service.webhooks.signing import new_secret
from service.webhooks.urls import check_url

SECRET_OVERLAP = timedelta(hours=24)


class SubscriptionNotFound(Exception):
    """No subscription with this id belongs to the caller."""


class InvalidSubscription(Exception):
    """A subscription's fields are not acceptable (unknown event type, replay past the head...)."""


@dataclass(frozen=True)
class Changes:
    url: str | None = None
    event_types: list[str] | None = None
    description: str | None = None
    status: str | None = None


@dataclass
class Webhooks:
    store: WebhookStore
    feed: EventFeed
    settings: Settings
    clock: Callable[[], datetime]

    def check_url(self, url: str) -> None:
        check_url(url, production=self.settings.env == "production", allow_private=self.settings.allow_private_webhooks)

    def create(self, actor: Actor, url: str, event_types: list[str], description: str) -> Subscription:
        ensure_may_read(actor, Read.EVENTS)
        self.check_url(url)
        now = self.clock()
        subscription = Subscription(
            id=uuid.uuid4(),
            owner_id=actor.id,
            owner_role=actor.role.value,
            url=url,
            event_types=checked_types(event_types),
            description=description,
            status=ENABLED,
            secret=new_secret(),
            created_at=now,
            position=self.feed.head(),
            next_attempt_at=now,
        )
        self.store.add(subscription)
        return subscription

    def mine(self, actor: Actor, subscription_id: UUID) -> Subscription:
        ensure_may_read(actor, Read.EVENTS)
        found = self.store.get(subscription_id)
        if found is None or not found.owned_by(actor):
            raise SubscriptionNotFound("no webhook with this id is yours")
        return found

    def owned(self, actor: Actor, after: str | None, limit: int) -> list[Subscription]:
        ensure_may_read(actor, Read.EVENTS)
        return self.store.owned_by(actor, after, limit)

    def update(self, actor: Actor, subscription_id: UUID, changes: Changes) -> Subscription:
        found = self.mine(actor, subscription_id)
        if changes.url is not None:
            self.check_url(changes.url)
        updated = found.but(
            url=changes.url if changes.url is not None else found.url,
            event_types=checked_types(changes.event_types) if changes.event_types is not None else found.event_types,
            description=changes.description if changes.description is not None else found.description,
        )
        fields: tuple[str, ...] = SETTINGS_FIELDS
        if changes.status == DISABLED and found.status == ENABLED:
            updated, fields = updated.but(status=DISABLED, disabled_reason=None), SETTINGS_FIELDS + STATUS_FIELDS
        elif changes.status == ENABLED and found.status == DISABLED:
            # Resume exactly where it paused: the position is kept, the failure count starts over.
            updated = updated.but(status=ENABLED, disabled_reason=None, attempt=0, next_attempt_at=self.clock())
            fields = SETTINGS_FIELDS + STATUS_FIELDS
        self.store.save(updated, fields)
        return updated

    def delete(self, actor: Actor, subscription_id: UUID) -> None:
        self.store.delete(self.mine(actor, subscription_id).id)

    def rotate_secret(self, actor: Actor, subscription_id: UUID) -> Subscription:
        found = self.mine(actor, subscription_id)
        rotated = found.but(
            secret=new_secret(), previous_secret=found.secret, previous_secret_expires_at=self.clock() + SECRET_OVERLAP
        )
        self.store.save(rotated, SECRET_FIELDS)
        return rotated

    def replay(self, actor: Actor, subscription_id: UUID, after: int) -> Subscription:
        found = self.mine(actor, subscription_id)
        if not 0 <= after <= self.feed.head():
            raise InvalidSubscription("after must be a position from 0 to the log's head")
        replayed = found.but(
            position=after, attempt=0, next_attempt_at=self.clock(), status=ENABLED, disabled_reason=None
        )
        self.store.save(replayed, POSITION_FIELDS)
        return replayed

    def attempts(self, actor: Actor, subscription_id: UUID, after_seq: int, limit: int) -> list[Attempt]:
        return self.store.attempts(self.mine(actor, subscription_id).id, after_seq, limit)


def checked_types(event_types: list[str]) -> list[str]:
    if not event_types:
        raise InvalidSubscription('event_types must name at least one type, or be ["*"]')
    if ALL_TYPES in event_types:
        return [ALL_TYPES]
    unknown = sorted(set(event_types) - set(EVENT_TOPICS))
    if unknown:
        raise InvalidSubscription(f"unknown event type(s): {', '.join(unknown)}")
    return sorted(set(event_types))
