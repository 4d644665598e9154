"""Names of open deadlines: the fixed `Deadline` names, and one
`evidence_request:<id>` per open evidence request.

A dispute's map of open deadlines is keyed by these names: `Deadline` members
for the fixed ones (a `StrEnum`, so they compare and hash as their text) and
plain text for a request's own deadline.
"""

from __future__ import annotations

import re

from domain.errors import InvalidValue
from domain.values import Deadline, Role

REQUEST_PREFIX = "evidence_request:"
REQUEST_LABEL = "evidence_request"
"""What metrics call every request's own deadline (one label, not one per id)."""
UUID_TEXT = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
REQUEST_PATTERN = f"^{REQUEST_PREFIX}{UUID_TEXT}$"
_REQUEST = re.compile(REQUEST_PATTERN)


def request_deadline(request_id: str) -> str:
    """The name of one evidence request's own deadline."""
    return f"{REQUEST_PREFIX}{request_id}"


def party_deadline(party: Role) -> Deadline:
    """The party's deadline: the earliest due time of its open evidence requests."""
    return Deadline.EVIDENCE_REQUEST_BUYER if party is Role.BUYER else Deadline.EVIDENCE_REQUEST_SELLER


PARTY_DEADLINES: dict[str, Role] = {party_deadline(Role.BUYER): Role.BUYER, party_deadline(Role.SELLER): Role.SELLER}


def requested_id(name: str) -> str | None:
    """The evidence request whose own deadline `name` is, if it is one."""
    return name[len(REQUEST_PREFIX) :] if name.startswith(REQUEST_PREFIX) else None


def deadline_name(text: str) -> str:
    """A deadline name as stored or asked for: a `Deadline` member, or a
    request's own deadline; anything else is InvalidValue."""
    try:
        return Deadline(text)
    except ValueError:
        pass
    if _REQUEST.match(text):
        return text
    raise InvalidValue(f"{text!r} is not a deadline: one of {', '.join(Deadline)} or evidence_request:<request id>")


def deadline_label(name: str) -> str:
    """A bounded label for metrics and logs: every request's own deadline is `evidence_request`."""
    return REQUEST_LABEL if name.startswith(REQUEST_PREFIX) else str(name)
