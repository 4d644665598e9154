"""Every read model the service maintains, by name."""

from __future__ import annotations

from projections.base import Projection
from projections.timeline import Timeline

PROJECTIONS: dict[str, type[Projection]] = {
    Timeline.name: Timeline,
}
