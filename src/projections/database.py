"""The read models' database interface, and values read back from either dialect.

SQL is written once with `%s` parameters and `{name}` identifiers; each
dialect (projections.sqlite_db, projections.postgres_db) renders it and
adapts values.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

Row = dict[str, Any]
NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def check_name(name: str) -> str:
    if not NAME.match(name) or len(name) > 63:
        raise ValueError(f"not a safe SQL identifier: {name!r}")
    return name


class ViewInUse(Exception):
    """A stable view cannot take the new generation's columns while other views depend on it."""


class SwitchFailed(Exception):
    """The stable views could not be re-pointed at a new generation (projections.base.switch)."""


class Cursor(ABC):
    """A cursor inside one transaction, speaking the shared SQL templates."""

    @abstractmethod
    def point_view(self, view: str, table: str) -> None:
        """Make the stable view `view` select from `table`, keeping the views
        that depend on it and the privileges granted on it."""

    @abstractmethod
    def run(self, template: str, params: Sequence[Any] = (), **names: str) -> None: ...

    @abstractmethod
    def many(self, template: str, rows: Sequence[Sequence[Any]], **names: str) -> None: ...

    @abstractmethod
    def all(self) -> list[Row]: ...

    def one(self) -> Row | None:
        rows = self.all()
        return rows[0] if rows else None


class Database(ABC):
    dialect: str

    @abstractmethod
    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        """A read-write transaction, committed on success, rolled back on error."""

    @abstractmethod
    @contextmanager
    def reading(self) -> Iterator[Cursor]:
        """A read-only unit of work."""

    @abstractmethod
    def type(self, logical: str) -> str:
        """The column type for a logical type: time, json, bigint, text, int, bool."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def stream(self, template: str, params: Sequence[Any] = (), batch: int = 1000, **names: str) -> Iterator[Row]:
        """Rows of a query fetched in batches (server-side on Postgres): bounded memory."""


def as_time(value: Any) -> datetime | None:
    """A time read back from either dialect."""
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def as_required_time(value: Any) -> datetime:
    parsed = as_time(value)
    if parsed is None:
        raise ValueError("a required time column is NULL")
    return parsed


def as_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value
