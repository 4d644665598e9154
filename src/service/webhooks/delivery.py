"""The delivery worker: for each due subscription, the next events its owner
may read (from the notification log, through the feed), POSTed in position
order with Standard Webhooks signatures. Each attempt is recorded with the
subscription's new position in one transaction (the claim's); a failure waits
per DISPUTES_WEBHOOK_RETRY_SCHEDULE, and when the schedule is used up the
subscription is disabled with a reason. See docs/webhooks.md."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import httpx
import prometheus_client

from service.feed import CommitSignal, EventFeed, EventItem
from service.metrics import Metrics
from service.settings import Settings
from service.webhooks import signing
from service.webhooks.model import DISABLED, Attempt, Claim, Subscription, WebhookStore
from service.webhooks.urls import UnsafeUrl, check_url

log = logging.getLogger("disputes.webhooks")
TIMEOUT = 10.0
KEPT_BYTES = 1024
BATCH = 20  # events one claim may deliver in a row while they succeed
IDLE_WAIT = 0.5


@dataclass(frozen=True)
class Reply:
    status_code: int | None
    error: str | None
    body: str


class Sender:
    """POST with no redirects, a 10 s timeout, and at most 1 KiB of the reply kept."""

    def __init__(self, timeout: float = TIMEOUT) -> None:
        self.client = httpx.Client(follow_redirects=False, timeout=timeout)

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Reply:
        sent = {**headers, "content-type": "application/json", "user-agent": "disputes-webhooks/1"}
        try:
            with self.client.stream("POST", url, content=body, headers=sent) as response:
                kept = b""
                for chunk in response.iter_bytes():
                    kept += chunk
                    if len(kept) >= KEPT_BYTES:
                        break
                return Reply(response.status_code, None, kept[:KEPT_BYTES].decode(errors="replace"))
        except httpx.TimeoutException:
            return Reply(None, "timeout", "")
        except httpx.HTTPError as e:
            return Reply(None, f"{type(e).__name__}: {e}"[:300], "")

    def close(self) -> None:
        self.client.close()


class DeliveryMetrics:
    DELAY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600)

    def __init__(self, metrics: Metrics, store: WebhookStore, feed: EventFeed) -> None:
        registry = metrics.registry
        self.deliveries = prometheus_client.Counter(
            "disputes_webhook_deliveries",
            "Webhook delivery attempts by outcome (delivered, failed, gave_up)",
            ["outcome"],
            registry=registry,
        )
        self.delay = prometheus_client.Histogram(
            "disputes_webhook_delivery_delay_seconds",
            "From an event's occurrence to its successful delivery",
            buckets=self.DELAY_BUCKETS,
            registry=registry,
        )
        metrics.gauge(
            "disputes_webhook_backlog",
            "Events an enabled subscription trails the log's head by",
            lambda: {(sid,): float(n) for sid, n in store.backlog(feed.head()).items()},
            ("subscription",),
        )
        metrics.gauge(
            "disputes_webhook_disabled_subscriptions",
            "Subscriptions that are disabled",
            lambda: {(): float(store.disabled_count())},
        )


def default_name() -> str:
    return f"webhooks@{socket.gethostname()}:{os.getpid()}"


@dataclass
class DeliveryWorker:
    store: WebhookStore
    feed: EventFeed
    settings: Settings
    clock: Callable[[], datetime]
    metrics: DeliveryMetrics
    sender: Sender = field(default_factory=Sender)
    name: str = field(default_factory=default_name)

    def step(self) -> bool:
        """Claim one due subscription and deliver what is next for it; False when none is due."""
        with self.store.claim(self.clock(), self.feed.head()) as claim:
            if claim is None:
                return False
            self.deliver(claim)
        return True

    def deliver(self, claim: Claim) -> None:
        sub = claim.subscription
        page = self.feed.read(sub.owner, sub.position, BATCH, types=sub.types)
        if not page.items:  # nothing its owner may read up to there: move on without a delivery
            claim.record(None, sub.but(position=page.resume_after))
            return
        for item in page.items:
            sub = self.attempt(claim, sub, item)
            if sub.position != item.position or claim.lost:
                return  # failed (the next try waits for its time), or changed meanwhile
        if not page.more and page.resume_after > sub.position:  # skip what the owner may not read
            claim.record(None, sub.but(position=page.resume_after))

    def attempt(self, claim: Claim, sub: Subscription, item: EventItem) -> Subscription:
        body = json.dumps(item.as_json(), separators=(",", ":")).encode()
        attempted_at = self.clock()
        started = time.monotonic()
        try:
            check_url(sub.url, production=self.settings.env == "production",
                      allow_private=self.settings.allow_private_webhooks)  # fmt: skip
            headers = signing.headers(sub.secrets(attempted_at), str(item.id), int(attempted_at.timestamp()), body)
            reply = self.sender.post(sub.url, body, headers)
        except UnsafeUrl as e:
            reply = Reply(None, f"refused: {e}", "")
        number = sub.attempt + 1
        after, next_at, outcome = self.outcome(sub, item, reply, number, attempted_at)
        done = Attempt(
            subscription_id=sub.id,
            event_id=item.id,
            position=item.position,
            attempt=number,
            status_code=reply.status_code,
            error=reply.error,
            duration_ms=int((time.monotonic() - started) * 1000),
            attempted_at=attempted_at,
            next_attempt_at=next_at,
            response_body=reply.body,
        )
        claim.record(done, after)
        self.metrics.deliveries.labels(outcome).inc()
        if outcome == "delivered":
            self.metrics.delay.observe((self.clock() - item.occurred_at).total_seconds())
        else:
            log.info("%s: %s %s of position %d to %s: %s", self.name, outcome, number, item.position, sub.id, reply)
        return after

    def outcome(
        self, sub: Subscription, item: EventItem, reply: Reply, number: int, at: datetime
    ) -> tuple[Subscription, datetime | None, str]:
        if reply.status_code is not None and 200 <= reply.status_code < 300:
            return sub.but(position=item.position, attempt=0, next_attempt_at=at), None, "delivered"
        schedule = self.settings.retry_schedule
        if number > len(schedule):
            why = reply.error or f"status {reply.status_code}"
            reason = f"gave up on the event at position {item.position} after {number} attempts (last: {why})"
            return sub.but(status=DISABLED, disabled_reason=reason, attempt=number), None, "gave_up"
        next_at = at + schedule[number - 1]
        return sub.but(attempt=number, next_attempt_at=next_at), next_at, "failed"

    def run_forever(self, stop: threading.Event, commits: CommitSignal, threads: int) -> None:
        """`threads` loops, each delivering to one subscription at a time, until `stop`."""
        log.info("%s: delivering with %d threads", self.name, threads)
        loops = [
            threading.Thread(target=self._loop, args=(stop, commits), name=f"{self.name}-{i}") for i in range(threads)
        ]
        for loop in loops:
            loop.start()
        for loop in loops:
            loop.join()
        self.sender.close()

    def _loop(self, stop: threading.Event, commits: CommitSignal) -> None:
        while not stop.is_set():
            seq = commits.seq
            try:
                busy = self.step()
            except Exception:
                log.exception("%s: a delivery step failed; trying again in 1 s", self.name)
                stop.wait(1.0)
                continue
            if not busy:
                commits.wait_blocking(seq, IDLE_WAIT)
