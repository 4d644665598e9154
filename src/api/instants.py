"""Instants from clients (query parameters, cursors): RFC 3339 (a bare date,
or a time without an offset, is read as UTC), and within the range the stores and the window arithmetic can handle
(year 1 or 9999 in an extreme offset does not even convert to UTC)."""

from __future__ import annotations

from datetime import UTC, datetime

from api.problems import ApiProblem

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)


def in_range(value: datetime) -> bool:
    return value.tzinfo is not None and EARLIEST <= value <= LATEST


def checked_instant(value: datetime | None, name: str) -> datetime | None:
    """`value` if it is a usable instant; otherwise 422 naming the parameter."""
    if value is None:
        return None
    if value.tzinfo is None:  # a bare date or a time without offset is read as UTC
        value = value.replace(tzinfo=UTC)
    if not in_range(value):
        raise ApiProblem(422, "validation_error", f"{name} must lie between 1970-01-01 and 9999-01-01 (UTC)")
    return value
