"""The event feed: the notification log as each caller may read it.

One event item shape serves the feed, the stream and webhooks. An item's
`data` is the timeline's data for that event and caller (`projections.timeline`
decides, with `domain.visibility`); events of disputes the caller may not see,
and messages it may not read, are absent, never redacted.

The log is read straight from the event store (not a read model), so an item
is readable as soon as its command commits; `CommitSignal` wakes long polls.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain import events as ev
from domain import order_events as oe
from domain.application import DisputeApp
from domain.chain import normalise
from domain.order import may_see_order
from domain.values import Actor
from domain.visibility import may_see, reads_message_bodies
from projections.common import METADATA
from projections.timeline import entry_data, shown_to

BATCH = 500
SCAN_LIMIT = 5000  # notifications one page reads at most before answering with a cursor
EVENT_TOPICS: dict[str, str] = {
    cls.__name__: f"{cls.__module__}:{cls.__qualname__}"
    for cls in vars(ev).values()
    if isinstance(cls, type) and issubclass(cls, ev.DisputeEvent) and cls not in (ev.DisputeEvent, ev.DeadlinesChanged)
} | {cls.__name__: f"{cls.__module__}:{cls.__qualname__}" for cls in (oe.OrderRegistered, oe.OrderUpdated)}
"""Every event type the feed shows: the dispute's, and the order's (domain.order_events)."""


def event_uuid(aggregate_id: UUID, version: int) -> UUID:
    """A stable id per event (the same on every read and every webhook retry)."""
    return uuid.uuid5(aggregate_id, str(version))


@dataclass(frozen=True)
class EventItem:
    id: UUID
    position: int
    dispute_id: UUID | None
    """None for an order's event."""
    order_id: str
    type: str
    version: int
    actor_id: str
    actor_role: str
    occurred_at: datetime
    data: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "position": self.position,
            "dispute_id": str(self.dispute_id) if self.dispute_id is not None else None,
            "order_id": self.order_id,
            "type": self.type,
            "version": self.version,
            "actor": {"id": self.actor_id, "role": self.actor_role},
            "occurred_at": self.occurred_at.isoformat().replace("+00:00", "Z"),  # as the API's models write it
            "data": self.data,
        }


@dataclass(frozen=True)
class Parties:
    buyer_id: str
    seller_id: str
    order_id: str


@dataclass(frozen=True)
class FeedPage:
    items: list[EventItem]
    more: bool
    """More may follow `resume_after` right now (a full page, or the scan limit reached)."""
    resume_after: int
    """The position the next read starts after (the last item's, or the last one scanned)."""


class EventFeed:
    def __init__(self, app: DisputeApp, cache_size: int = 100_000) -> None:
        self.app = app
        self.cache_size = cache_size
        self._parties: OrderedDict[UUID, Parties] = OrderedDict()
        self._lock = threading.Lock()

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def read(
        self,
        actor: Actor,
        after: int,
        limit: int,
        dispute_id: UUID | None = None,
        types: Collection[str] = (),
        scan_limit: int = SCAN_LIMIT,
    ) -> FeedPage:
        """Up to `limit` items after position `after`, in position order."""
        topics = [EVENT_TOPICS[t] for t in types]
        items: list[EventItem] = []
        position, scanned = after, 0
        while scanned < scan_limit:
            want = min(BATCH, scan_limit - scanned)
            batch = self.app.recorder.select_notifications(position, want, topics=topics, inclusive_of_start=False)
            for notification in batch:
                position, scanned = notification.id, scanned + 1
                if dispute_id is not None and notification.originator_id != dispute_id:
                    continue
                event = self.app.mapper.to_domain_event(notification)
                if isinstance(event, ev.DisputeEvent) and self.shows(actor, event):
                    items.append(item_of(event, notification.id, self.parties(event).order_id, actor))
                elif isinstance(event, oe.OrderEvent) and may_see_order(actor, event):
                    items.append(order_item_of(event, notification.id))
                    if len(items) > limit:  # one more than asked: more remain
                        return FeedPage(items[:limit], True, items[limit - 1].position)
            if len(batch) < want:
                return FeedPage(items, False, position)
        return FeedPage(items, True, position)

    def shows(self, actor: Actor, event: ev.DisputeEvent) -> bool:
        return may_see(actor, self.parties(event)) and shown_to(event, actor.role)

    def parties(self, event: ev.DisputeEvent) -> Parties:
        dispute_id = event.originator_id
        with self._lock:
            found = self._parties.get(dispute_id)
        if found is None:
            opened = event if isinstance(event, ev.DisputeOpened) else self._opened(dispute_id)
            found = Parties(opened.buyer_id, opened.seller_id, opened.order_id)
            with self._lock:
                self._parties[dispute_id] = found
                while len(self._parties) > self.cache_size:
                    self._parties.popitem(last=False)
        return found

    def _opened(self, dispute_id: UUID) -> ev.DisputeOpened:
        stored = self.app.recorder.select_events(dispute_id, lte=1)
        opened = self.app.mapper.to_domain_event(stored[0])
        assert isinstance(opened, ev.DisputeOpened), "a dispute's first event opens it"
        return opened


def item_of(event: ev.DisputeEvent, position: int, order_id: str, viewer: Actor) -> EventItem:
    data = entry_data(event)
    if isinstance(event, ev.MessagePosted) and not reads_message_bodies(viewer.role):
        data["body"] = None  # as the dispute shows it them: the message exists, its body is not theirs
    return EventItem(
        id=event_uuid(event.originator_id, event.originator_version),
        position=position,
        dispute_id=event.originator_id,
        order_id=order_id,
        type=type(event).__name__,
        version=event.originator_version,
        actor_id=event.actor_id,
        actor_role=event.actor_role,
        occurred_at=event.timestamp,
        data=data,
    )


def order_item_of(event: oe.OrderEvent, position: int) -> EventItem:
    """An order's event: no dispute, its order's id, and the order's terms as data."""
    data: dict[str, Any] = normalise({k: v for k, v in vars(event).items() if k not in METADATA})
    return EventItem(
        id=event_uuid(event.originator_id, event.originator_version),
        position=position,
        dispute_id=None,
        order_id=event.order_id,
        type=type(event).__name__,
        version=event.originator_version,
        actor_id=event.actor_id,
        actor_role=event.actor_role,
        occurred_at=event.timestamp,
        data=data,
    )


class CommitSignal:
    """Wakes whoever waits for new events: called after each local save (the
    application's listeners) and, on Postgres, by a LISTEN thread for commits
    of other processes. A sequence number makes "read, then wait" race-free:
    a wait returns at once if anything was committed since `seq` was taken."""

    def __init__(self) -> None:
        self.seq = 0
        self._lock = threading.Lock()
        self._async: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._threads = threading.Condition(self._lock)

    def notify(self) -> None:
        with self._lock:
            self.seq += 1
            for loop, event in list(self._async):
                loop.call_soon_threadsafe(event.set)
            self._threads.notify_all()

    async def wait(self, seq: int, timeout: float) -> None:
        """Until something is committed after `seq` was read, or `timeout` seconds."""
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            if self.seq != seq:
                return
            self._async.add(entry)
        try:
            await asyncio.wait_for(entry[1].wait(), timeout)
        except TimeoutError:
            pass
        finally:
            with self._lock:
                self._async.discard(entry)

    def wait_blocking(self, seq: int, timeout: float) -> None:
        with self._threads:
            if self.seq == seq:
                self._threads.wait(timeout)
