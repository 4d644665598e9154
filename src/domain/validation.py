"""Argument checks: is this value acceptable at all (text, ids, money, offer
and ruling terms, evidence files, durations)? Each raises a named domain error.

Whether this actor may take an action now is `domain.guards`; who may see
what is `domain.visibility`.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from domain.currencies import ISO_4217
from domain.errors import (
    CurrencyMismatch,
    EvidenceQuotaExceeded,
    InvalidValue,
    RefundExceedsOrder,
    RefundRequired,
    RoleNotAllowed,
    TextTooLong,
)
from domain.policy import MAX_AMOUNT_MINOR, MAX_SHORT_TEXT, MAX_TEXT
from domain.values import PARTIES, Actor, Money, Outcome, Remedy, Role

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


def identifier(name: str, value: Any) -> None:
    """An id a client chose (a token's sub, an order, a seller, a tracking number):
    1 to 255 printable characters, not blank. `str.isprintable` refuses control
    characters and Unicode format characters, bidi overrides and isolates among them."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(f"{name} must not be empty")
    if len(value) > MAX_SHORT_TEXT:
        raise TextTooLong(f"{name} is longer than {MAX_SHORT_TEXT} characters")
    if not value.isprintable():
        raise InvalidValue(f"{name} must be printable, without control or bidi-override characters")


def amount_minor(name: str, value: Any, *, allow_zero: bool = False) -> None:
    """Integer minor units (a bool is not one, nor a numeric string), positive or
    where a remedy allows it zero, and at most MAX_AMOUNT_MINOR."""
    if type(value) is not int:
        raise InvalidValue(f"{name} must be an integer number of minor units")
    if value < 0 or (value == 0 and not allow_zero):
        raise InvalidValue(f"{name} must be {'zero or more' if allow_zero else 'positive'}")
    if value > MAX_AMOUNT_MINOR:
        raise InvalidValue(f"{name} must be at most {MAX_AMOUNT_MINOR}")


def currency(name: str, value: Any) -> None:
    if not isinstance(value, str) or value not in ISO_4217:
        raise InvalidValue(f"{name} must be an ISO 4217 currency code like USD")


def valid_money(name: str, value: Money, *, allow_zero: bool = False) -> None:
    amount_minor(f"{name}.amount_minor", value.amount_minor, allow_zero=allow_zero)
    currency(f"{name}.currency", value.currency)


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
    identifier("buyer_id", buyer.id)
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
        if refund is not None:
            valid_money("refund", refund, allow_zero=True)
            if refund.amount_minor != 0:
                raise InvalidValue(f"a {outcome.value} ruling carries no refund")
        return None
    if outcome is Outcome.REFUND_FULL:
        if refund is None:
            return order_amount
        valid_money("refund", refund)
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
