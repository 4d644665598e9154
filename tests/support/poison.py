"""A read model that cannot apply the event at a chosen position: the timeline,
raising on that one event until it is healed (as a deployed fix would)."""

from __future__ import annotations

from typing import Any, ClassVar

from projections.projection import Projection
from projections.timeline import Timeline


class PoisonedTimeline(Timeline):
    poison_at: ClassVar[int] = 0
    healed: ClassVar[bool] = False
    attempts: ClassVar[int] = 0
    dispatcher: ClassVar[str] = "handles"
    handles = Timeline.__dict__["project"]  # the timeline's own handlers decide which events it takes

    def project(self, event: Any, position: int) -> None:
        if position == self.poison_at and not self.healed:
            type(self).attempts += 1
            raise ValueError(f"cannot apply {type(event).__name__} at {position}")
        super().project(event, position)


def poisoned_timeline(position: int) -> type[PoisonedTimeline]:
    """A fresh class per test (its counters are class state)."""
    return type("PoisonedTimeline", (PoisonedTimeline,), {"poison_at": position, "healed": False, "attempts": 0})


def heal(projection: type[Projection]) -> None:
    assert issubclass(projection, PoisonedTimeline)
    projection.healed = True
