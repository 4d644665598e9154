"""Per-actor rate limits with the `limits` library: in memory by default, in
Redis (`DISPUTES_RATE_LIMIT_STORAGE=redis://...`) so that several API
processes share one budget.

Commands get a burst and a sustained rate: a moving window of
`ceil(burst / rate)` seconds holding `burst` hits (a token bucket's shape: up
to `burst` at once, then about `rate` per second). Reads get `rate` per second.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from enum import StrEnum

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

from domain.values import Actor
from service.settings import Settings


class Budget(StrEnum):
    COMMANDS = "commands"
    READS = "reads"


@dataclass(frozen=True)
class Verdict:
    """One request's hit against its budget, and what the headers say about it."""

    budget: Budget
    allowed: bool
    quota: int
    window_seconds: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        """The IETF RateLimit and RateLimit-Policy fields (draft-ietf-httpapi-ratelimit-headers)."""
        headers = {
            "RateLimit-Policy": f'"{self.budget.value}";q={self.quota};w={self.window_seconds}',
            "RateLimit": f'"{self.budget.value}";r={self.remaining};t={self.reset_seconds}',
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset_seconds)
        return headers


class RateLimitsUnavailable(Exception):
    """The shared counters (Redis) cannot be reached: the request is refused
    for now (503), never let through uncounted nor failed as a 500."""


UNREACHABLE = (StorageError, RedisError, OSError)


class RateLimits:
    def __init__(self, settings: Settings) -> None:
        self.prefix = settings.rate_limit_prefix
        self.limiter = MovingWindowRateLimiter(storage_from_string(settings.rate_limit_storage))
        window = max(1, math.ceil(settings.command_burst / settings.command_rate))
        self.items: dict[Budget, RateLimitItem] = {
            Budget.COMMANDS: RateLimitItemPerSecond(settings.command_burst, window),
            Budget.READS: RateLimitItemPerSecond(settings.read_rate, 1),
        }

    def hit(self, budget: Budget, actor: Actor) -> Verdict:
        item = self.items[budget]
        key = (self.prefix, budget.value, actor.role.value, actor.id)
        try:
            allowed = self.limiter.hit(item, *key)
            stats = self.limiter.get_window_stats(item, *key)
        except UNREACHABLE as error:
            raise RateLimitsUnavailable(f"the rate-limit storage cannot be reached: {error}") from error
        reset = max(1, math.ceil(stats.reset_time - time.time()))
        return Verdict(budget, allowed, item.amount, item.get_expiry(), stats.remaining, reset)
