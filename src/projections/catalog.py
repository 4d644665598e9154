"""Every read model the service maintains, by name."""

from __future__ import annotations

from projections.audit_log import AuditLog
from projections.deadlines import Deadlines
from projections.dispute_list import DisputeList
from projections.penalties import Penalties
from projections.projection import Projection
from projections.statistics import Statistics
from projections.timeline import Timeline
from projections.transparency import TransparencyLog

PROJECTIONS: dict[str, type[Projection]] = {
    Timeline.name: Timeline,
    AuditLog.name: AuditLog,
    DisputeList.name: DisputeList,
    Penalties.name: Penalties,
    Statistics.name: Statistics,
    Deadlines.name: Deadlines,
    TransparencyLog.name: TransparencyLog,
}
