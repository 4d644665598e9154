"""Shared pieces of the routers: OpenAPI response docs and ID parsing."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header

from api.problems import RATE_LIMIT_FIELDS, responses

COMMAND_HEADERS = {
    "ETag": {"description": 'the dispute\'s version after the command, e.g. "4"', "schema": {"type": "string"}},
    "X-Position": {"description": "global position of the command's last event", "schema": {"type": "integer"}},
    **RATE_LIMIT_FIELDS,
}
READ_HEADERS = {"ETag": COMMAND_HEADERS["ETag"], **RATE_LIMIT_FIELDS}


def command_docs(status: int, *problems: int) -> dict[int | str, dict[str, Any]]:
    """The success response's headers, and the problems every command can give
    plus `problems`."""
    docs = responses(401, 404, 422, *problems)
    docs[status] = {"headers": COMMAND_HEADERS}
    return docs


IF_MATCH_DOC = 'Optional ETag of the version the command expects, e.g. "3"; 412 when stale'
IDEMPOTENCY_DOC = "Optional key (<= 255 chars): a repeat with the same body returns the original response"

MinPosition = Annotated[
    int | None,
    Header(
        ge=0,
        description="serve once the read source has processed this position (waits <= 2 s, then 503); "
        "a position never issued is 422 position_unknown",
    ),
]
READ_ERRORS = responses(401, 403, 404, 422, 503)
