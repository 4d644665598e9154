"""A projection: the writer of a read model's tables, one batch at a time.

Each event is dispatched (a singledispatchmethod) to writes on the projection's
own tables, named per generation (see projections.base for generations and
the exactly-once batch transaction).
"""

from __future__ import annotations

import inspect
from abc import ABC
from collections.abc import Sequence
from typing import Any, ClassVar

from eventsourcing.utils import get_topic

from projections.database import Cursor, check_name


class Projection(ABC):
    """Dispatches events (singledispatchmethod) to writes on its own tables."""

    name: ClassVar[str]
    tables: ClassVar[tuple[str, ...]]
    """Tables analysts query, through stable views of the active generation."""
    layout: ClassVar[int] = 1
    """Bumped when the projection's tables change shape: a generation built with
    another layout is replaced by a fresh one at the next start."""
    private_tables: ClassVar[tuple[str, ...]] = ()
    """The projection's own bookkeeping, per generation too, but without views."""

    def __init__(self, cursor: Cursor, generation: int, params: dict[str, Any]) -> None:
        self.cursor = cursor
        self.generation = generation
        self.params = params

    def table(self, logical: str) -> str:
        return physical(logical, self.generation)

    @classmethod
    def all_tables(cls) -> tuple[str, ...]:
        return cls.tables + cls.private_tables

    @classmethod
    def ddl(cls) -> list[str]:
        """CREATE statements (see render_ddl for the placeholders)."""
        raise NotImplementedError

    @classmethod
    def default_params(cls) -> dict[str, Any]:
        return {}

    @classmethod
    def params_from(cls, settings: Any) -> dict[str, Any]:
        """Parameters a new generation is built with (e.g. penalty weights), from settings."""
        return cls.default_params()

    records: ClassVar[bool] = False
    """True: fed every stored record (projections.records.Record, any topic,
    undecoded payload) instead of the decoded events of its handled topics."""

    dispatcher: ClassVar[str] = "project"
    """The singledispatchmethod whose registered event classes this projection handles."""

    @classmethod
    def handled_topics(cls) -> frozenset[str]:
        """Topics of every concrete event class the projection's dispatcher handles."""
        method = inspect.getattr_static(cls, cls.dispatcher)
        registered = [t for t in method.dispatcher.registry if t is not object]
        found: set[str] = set()
        pending = list(registered)
        while pending:
            event_class = pending.pop()
            found.add(get_topic(event_class))
            pending.extend(event_class.__subclasses__())
        return frozenset(found)

    def finish(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Called once after the batch's events, inside its transaction (flush per-batch state)."""

    def project(self, event: Any, position: int) -> None:
        """Subclasses define this as a singledispatchmethod; unregistered events change nothing."""
        raise NotImplementedError

    def run(self, template: str, params: Sequence[Any] = ()) -> None:
        self.cursor.run(template, params, **{t: self.table(t) for t in self.all_tables()})

    def upsert(self, table: str, **columns: Any) -> None:
        """Insert one dispute's row of `table`, or replace the columns given (keyed by dispute_id)."""
        names = [check_name(name) for name in columns]
        updates = ", ".join(f"{name} = excluded.{name}" for name in names if name != "dispute_id")
        self.run(
            f"INSERT INTO {{{table}}} ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))}) "  # noqa: S608
            f"ON CONFLICT (dispute_id) DO UPDATE SET {updates}",
            list(columns.values()),
        )


def physical(logical: str, generation: int) -> str:
    return f"{logical}_g{generation}"
