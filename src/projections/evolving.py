"""Projections whose rows are read off the evolved Dispute aggregate.

The domain's events say how a dispute changes (`evolve` in domain.events):
that is the one state machine. A read model that shows a dispute's status,
party to act, deadlines, escalation or outcome must not restate those rules
in SQL or Python; it evolves the dispute's aggregate with each event, exactly
as the event store does, and writes what the aggregate then says.

Between batches the aggregate is kept as a document (projections.documents)
in the projection's own tables, so it is rebuilt along with them (a new
generation replays from position 0) and written in the batch's transaction.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any

from eventsourcing.dispatch import singledispatchmethod

from domain import events as ev
from domain.dispute import Dispute
from domain.values import Status
from projections.database import Cursor
from projections.projection import Projection


@dataclass(frozen=True)
class Step:
    """One event applied to a dispute: the aggregate after it, and what it was before."""

    event: ev.DisputeEvent
    position: int
    dispute: Dispute
    status_before: Status | None
    """None for the opening event."""
    closed_before: bool

    def entered(self, status: Status) -> bool:
        """The event moved the dispute into `status`."""
        return self.dispute.status is status and self.status_before is not status

    @property
    def closed(self) -> bool:
        """The event closed the dispute."""
        return self.dispute.closed_at is not None and not self.closed_before


class EvolvingProjection(Projection):
    """Evolves each dispute's aggregate with the batch's events; subclasses
    `observe` each step (optional) and `save` each touched dispute once, at
    the end of the batch, with the position of its last event."""

    dispatcher = "evolve"

    def __init__(self, cursor: Cursor, generation: int, params: dict[str, Any]) -> None:
        super().__init__(cursor, generation, params)
        self.disputes: dict[str, Dispute] = {}
        self.positions: dict[str, int] = {}

    @abstractmethod
    def load(self, dispute_id: str) -> Dispute:
        """The dispute as this projection last saved it."""

    @abstractmethod
    def save(self, dispute_id: str, dispute: Dispute, position: int) -> None:
        """Write the dispute's rows (and its document) as of `position`."""

    def observe(self, step: Step) -> None:
        """A hook for facts about the change itself (e.g. when review began)."""

    def project(self, event: Any, position: int) -> None:
        self.evolve(event, position)

    @singledispatchmethod
    def evolve(self, event: Any, position: int) -> None:
        pass

    @evolve.register
    def _(self, event: ev.DisputeEvent, position: int) -> None:
        key = str(event.originator_id)
        before = None if isinstance(event, ev.DisputeOpened) else self.disputes.get(key) or self.load(key)
        status_before = before.status if before is not None else None
        closed_before = before is not None and before.closed_at is not None
        dispute = event.mutate(before)
        assert isinstance(dispute, Dispute)
        self.disputes[key] = dispute
        self.positions[key] = position
        self.observe(Step(event, position, dispute, status_before, closed_before))

    def finish(self) -> None:
        for key, dispute in self.disputes.items():
            self.save(key, dispute, self.positions[key])
