"""The dispute list's query parameters: filters (a repeated filter means OR),
the order (`order_by`, a leading `-` for descending) and the keyset cursor
that stays correct under every order."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Query
from pydantic import StringConstraints

from api.instants import checked_instant
from api.pagination import cursor_str, cursor_time, decode_cursor, invalid_cursor
from api.schemas import NO_NUL
from domain.values import Outcome, Reason, Role, Status
from projections import dispute_list
from projections.db import Row

MAX_VALUES = 50
"""At most this many values of one repeated filter."""
Text = Annotated[str, StringConstraints(max_length=255, pattern=NO_NUL)]
OrderBy = Literal["opened_at", "-opened_at", "updated_at", "-updated_at", "deadline", "-deadline"]
DEFAULT_ORDER: OrderBy = "-opened_at"


def _many(what: str) -> Any:
    return Query(max_length=MAX_VALUES, description=f"{what}; repeat the parameter for several (OR)")


def _instant(what: str) -> Any:
    return Query(description=f"{what} (RFC 3339; UTC if no offset)")


def dispute_filters(
    status: Annotated[list[Status] | None, _many("the dispute's status")] = None,
    seller_id: Annotated[list[Text] | None, _many("the seller")] = None,
    buyer_id: Annotated[list[Text] | None, _many("the buyer")] = None,
    order_id: Annotated[list[Text] | None, _many("the order")] = None,
    reason: Annotated[list[Reason] | None, _many("the buyer's reason")] = None,
    party_to_act: Annotated[list[Role] | None, _many("who must act next")] = None,
    outcome: Annotated[list[Outcome] | None, _many("the resolution's outcome (resolved disputes only)")] = None,
    escalated: Annotated[bool | None, Query(description="escalated to review at some point (true) or never")] = None,
    opened_after: Annotated[datetime | None, _instant("opened at or after")] = None,
    opened_before: Annotated[datetime | None, _instant("opened before")] = None,
    updated_after: Annotated[datetime | None, _instant("last changed at or after")] = None,
    updated_before: Annotated[datetime | None, _instant("last changed before")] = None,
    deadline_before: Annotated[datetime | None, _instant("has an open deadline due before")] = None,
    assigned_agent: Annotated[
        str | None, Query(max_length=255, pattern=NO_NUL, description="disputes this agent has claimed")
    ] = None,
    unassigned: Annotated[bool, Query(description="true: only disputes no agent has claimed")] = False,
) -> dispute_list.Filters:
    return dispute_list.Filters(
        status=tuple(s.value for s in status or ()),
        seller_id=tuple(seller_id or ()),
        buyer_id=tuple(buyer_id or ()),
        order_id=tuple(order_id or ()),
        reason=tuple(r.value for r in reason or ()),
        party_to_act=tuple(r.value for r in party_to_act or ()),
        outcome=tuple(o.value for o in outcome or ()),
        escalated=escalated,
        opened_after=checked_instant(opened_after, "opened_after"),
        opened_before=checked_instant(opened_before, "opened_before"),
        updated_after=checked_instant(updated_after, "updated_after"),
        updated_before=checked_instant(updated_before, "updated_before"),
        deadline_before=checked_instant(deadline_before, "deadline_before"),
        assigned_agent=assigned_agent,
        unassigned=unassigned,
    )


DisputeFilters = Annotated[dispute_list.Filters, Depends(dispute_filters)]
OrderParam = Annotated[
    OrderBy,
    Query(
        description="the sort key: opened_at, updated_at or deadline (the earliest open deadline; disputes "
        "without one come last); a leading `-` sorts descending. Ties are broken by the dispute id, "
        "in the same direction."
    ),
]


def order_of(order_by: OrderBy) -> dispute_list.Order:
    return dispute_list.Order(order_by.lstrip("-"), order_by.startswith("-"))


def after_cursor(cursor: str | None, order_by: OrderBy) -> tuple[datetime | None, str] | None:
    """The keyset a cursor holds; a cursor issued for another order is invalid.
    (A cursor without `order` was issued before orders existed: `-opened_at`.)"""
    key = decode_cursor(cursor)
    if key is None:
        return None
    if key.get("order", DEFAULT_ORDER) != order_by:
        raise invalid_cursor()
    name = order_by.lstrip("-")
    if name not in key:
        raise invalid_cursor()
    at = None if key[name] is None and name == "deadline" else cursor_time(key, name)
    return at, cursor_str(key, "id")


def cursor_after(row: Row, order_by: OrderBy) -> dict[str, Any]:
    at = dispute_list.sort_key(row, order_of(order_by))
    return {"order": order_by, order_by.lstrip("-"): at.isoformat() if at else None, "id": row["dispute_id"]}

