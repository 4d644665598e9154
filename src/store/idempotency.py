"""Durable idempotency records, written in the same transaction as the events
a command appends, so a retry after a crash between commit and response finds
the original outcome and appends nothing."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class IdempotencyClaim:
    """What a command's save() carries (as the `idempotency` keyword)."""

    scope: str
    key: str
    fingerprint: str
    outcome: dict[str, Any]


@dataclass(frozen=True)
class IdempotencyRecord:
    scope: str
    key: str
    fingerprint: str
    outcome: dict[str, Any]
    dispute_id: str | None
    version: int | None
    position: int | None


class IdempotencyKeyTaken(Exception):
    """Another request with this key committed first; nothing was appended."""


class IdempotencyStore(ABC):
    @abstractmethod
    def select_idempotency(self, scope: str, key: str) -> IdempotencyRecord | None:
        """The stored outcome of the request with this key, if any."""

    @abstractmethod
    def insert_idempotency_outcome(self, claim: IdempotencyClaim) -> None:
        """Record the outcome of a command that appended nothing (an error)."""


def encode_outcome(outcome: dict[str, Any]) -> str:
    return json.dumps(outcome, sort_keys=True, separators=(",", ":"))
