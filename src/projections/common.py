"""Helpers shared by the projections: event names, payloads, money text."""

from __future__ import annotations

from typing import Any

from domain.chain import normalise
from domain.events import DisputeEvent

METADATA = frozenset(
    {
        "originator_id",
        "originator_version",
        "originator_topic",
        "timestamp",
        "actor_id",
        "actor_role",
        "request_id",
        "idempotency_key",
        "chain_hash",
        "class_version",
    }
)
MINOR_UNITS = {"BHD": 3, "CLP": 0, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3, "OMR": 3, "TND": 3, "VND": 0}


def event_type(event: DisputeEvent) -> str:
    return type(event).__name__


def payload(event: DisputeEvent) -> dict[str, Any]:
    """The event's own data (no metadata), as JSON-native values."""
    data: dict[str, Any] = normalise({k: v for k, v in vars(event).items() if k not in METADATA})
    return data


def money_text(money: dict[str, Any] | None) -> str:
    if not money:
        return "nothing"
    digits = MINOR_UNITS.get(str(money["currency"]), 2)
    amount = int(money["amount_minor"])
    if digits == 0:
        return f"{amount} {money['currency']}"
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10**digits)
    return f"{sign}{whole}.{fraction:0{digits}d} {money['currency']}"
