"""Cursor pagination shared by every list: `?limit=` (default 50, <= 200) and
`?cursor=`; responses are `{"items": [...], "next_cursor": "..." | null}`.

Cursors are opaque to clients: URL-safe base64 of a small JSON document
holding the sort key of the last item returned."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import Query

from api.instants import in_range
from api.problems import ApiProblem

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
BIGINT = 2**63 - 1  # what a position, version or score column holds

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="page size (default 50, at most 200)")]
CursorParam = Annotated[str | None, Query(max_length=512, description="next_cursor of the previous page")]


def encode_cursor(key: dict[str, Any]) -> str:
    raw = json.dumps(key, sort_keys=True, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid_cursor() from None
    if not isinstance(key, dict):
        raise invalid_cursor()
    return key


def invalid_cursor() -> ApiProblem:
    return ApiProblem(422, "invalid_cursor", "the cursor is not one this API issued")


# A cursor comes back from the client: each field is checked before it reaches a query.
def cursor_int(key: dict[str, Any], name: str, minimum: int = -BIGINT) -> int:
    value = key.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= BIGINT:
        raise invalid_cursor()
    return value


def cursor_str(key: dict[str, Any], name: str) -> str:
    value = key.get(name)
    if not isinstance(value, str) or not 0 < len(value) <= 255 or "\x00" in value:
        raise invalid_cursor()
    return value


def cursor_time(key: dict[str, Any], name: str) -> datetime:
    try:
        value = datetime.fromisoformat(cursor_str(key, name))
    except ValueError:
        raise invalid_cursor() from None
    if not in_range(value):
        raise invalid_cursor()
    return value


def page(items: list[Any], limit: int, key_of: Any) -> dict[str, Any]:
    """Given up to limit+1 items, the page body: the first `limit`, and a cursor if more remain."""
    more = len(items) > limit
    shown = items[:limit]
    return {"items": shown, "next_cursor": encode_cursor(key_of(shown[-1])) if more and shown else None}
