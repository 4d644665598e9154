"""Argument checks: is this value acceptable at all (text, ids, money, offer
and ruling terms, evidence files, durations)? Each raises a named domain error.

Whether this actor may take an action now is `domain.guards`; who may see
what is `domain.visibility`.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from domain.errors import (
    CurrencyMismatch,
    EvidenceQuotaExceeded,
    InvalidValue,
    RefundExceedsOrder,
    RefundRequired,
    RoleNotAllowed,
    TextTooLong,
)
from domain.policy import MAX_SHORT_TEXT, MAX_TEXT
from domain.values import PARTIES, Actor, Money, Outcome, Remedy, Role

CURRENCY = re.compile(r"^[A-Z]{3}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
EVIDENCE_MEDIA_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif", "video/mp4", "application/pdf"})


def text(name: str, value: str, *, short: bool = False) -> None:
    limit = MAX_SHORT_TEXT if short else MAX_TEXT
    if len(value) > limit:
        raise TextTooLong(f"{name} is longer than {limit} characters")


def required_text(name: str, value: str, *, short: bool = False) -> None:
    if not value.strip():
        raise InvalidValue(f"{name} must not be empty")
    text(name, value, short=short)


def identifier(name: str, value: str) -> None:
    required_text(name, value, short=True)


def valid_money(name: str, value: Money) -> None:
    if not CURRENCY.match(value.currency):
        raise InvalidValue(f"{name}.currency must be an ISO 4217 code like USD")
    if value.amount_minor <= 0:
        raise InvalidValue(f"{name}.amount_minor must be positive")


def offer_terms(remedy: Remedy, refund: Money | None, order_amount: Money) -> None:
    if not remedy.needs_refund:
        if refund is not None:
            raise InvalidValue("a replacement carries no refund")
        return
    if refund is None:
        raise RefundRequired(f"a {remedy.value} offer needs a refund amount")
    valid_money("refund", refund)
    if refund.currency != order_amount.currency:
        raise CurrencyMismatch(f"refund is in {refund.currency}, the order in {order_amount.currency}")
    if refund.amount_minor > order_amount.amount_minor:
        raise RefundExceedsOrder("the refund exceeds the order amount")


def opening(
    buyer: Actor,
    order_id: str,
    seller_id: str,
    remedy: Remedy,
    refund: Money | None,
    order_amount: Money,
    description: str,
) -> None:
    if buyer.role is not Role.BUYER:
        raise RoleNotAllowed("only a buyer opens a dispute")
    identifier("order_id", order_id)
    identifier("seller_id", seller_id)
    if seller_id == buyer.id:
        raise InvalidValue("the seller cannot be the buyer")
    valid_money("order_amount", order_amount)
    offer_terms(remedy, refund, order_amount)
    text("description", description)


def ruling_refund(outcome: Outcome, refund: Money | None, order_amount: Money) -> Money | None:
    """The refund a ruling of `outcome` carries, checked against the order."""
    if outcome in (Outcome.NO_REFUND, Outcome.REPLACEMENT):
        if refund is not None and refund.amount_minor != 0:
            raise InvalidValue(f"a {outcome.value} ruling carries no refund")
        return None
    if outcome is Outcome.REFUND_FULL:
        if refund is None:
            return order_amount
        if refund != order_amount:
            raise InvalidValue("a refund_full ruling refunds exactly the order amount")
        return refund
    if refund is None:
        raise RefundRequired("a refund_partial ruling needs a refund amount")
    offer_terms(Remedy.PARTIAL_REFUND, refund, order_amount)
    if refund.amount_minor >= order_amount.amount_minor:
        raise InvalidValue("a refund_partial ruling refunds less than the order amount")
    return refund


def evidence_file(sha256: str, size: int, media_type: str) -> None:
    if not SHA256.match(sha256):
        raise InvalidValue("sha256 must be 64 lowercase hex digits")
    if size <= 0:
        raise InvalidValue("an evidence file cannot be empty")
    if media_type not in EVIDENCE_MEDIA_TYPES:
        raise InvalidValue(f"{media_type} is not an accepted evidence type")


def evidence_quota(used: int, size: int, limit: int) -> None:
    if used + size > limit:
        raise EvidenceQuotaExceeded(f"evidence would total {used + size} bytes, over the {limit} byte limit per party")


def party(role: Role) -> None:
    if role not in PARTIES:
        raise InvalidValue("party must be buyer or seller")


def positive_duration(name: str, value: timedelta) -> None:
    if value <= timedelta(0):
        raise InvalidValue(f"{name} must be a positive duration")


def due_after(start: datetime, delta: timedelta, name: str) -> datetime:
    """`start + delta`, refusing durations that run past the calendar (year 9999)."""
    try:
        return start + delta
    except OverflowError:
        raise InvalidValue(f"{name} is too long") from None
