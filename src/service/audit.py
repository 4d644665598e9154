"""What auditors read from the event store itself: raw history, state as of a
version or an instant, chain verification and replay. Shared by the HTTP
routes and the offline `disputes audit` commands."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from uuid import UUID

from domain.application import DisputeApp
from domain.dispute import Dispute
from domain.errors import DisputeNotFound
from domain.order import OrderNotFound, order_aggregate_id
from domain.values import Actor
from domain.visibility import Read, ensure_may_read, ensure_may_read_of_dispute
from service.recorded import (
    ORDER_TOPIC,
    ChainReport,
    RecordedEvent,
    decode,
    positioned,
    recorded_page,
    verify_chain,
)


class VersionNotFound(DisputeNotFound):
    code = "version_not_found"


def authorize(app: DisputeApp, dispute_id: UUID, actor: Actor, what: Read) -> None:
    """404 before 403: a caller who may not read `what` first learns only
    whether it may see the dispute at all (parties never learn others' ids)."""
    ensure_may_read_of_dispute(actor, what, lambda: app.dispute_for(dispute_id, actor))


def ensure_listable(app: DisputeApp, dispute_id: UUID, actor: Actor) -> None:
    """What `history` checks before reading a page: the caller may list this dispute's events."""
    authorize(app, dispute_id, actor, Read.HISTORY)
    if not exists(app, dispute_id):
        raise DisputeNotFound(f"no dispute {dispute_id}")


def exists(app: DisputeApp, dispute_id: UUID) -> bool:
    return bool(positioned(app).select_events_with_positions(dispute_id, limit=1))


def history(app: DisputeApp, dispute_id: UUID, actor: Actor, after: int, limit: int) -> list[RecordedEvent]:
    """Events after version `after`, as recorded. Existence is read from the
    store, not the aggregate, so a tampered history can still be inspected."""
    authorize(app, dispute_id, actor, Read.HISTORY)
    events = recorded_page(app, dispute_id, after=after, limit=limit)
    if not events and not exists(app, dispute_id):
        raise DisputeNotFound(f"no dispute {dispute_id}")
    return events


def verify(app: DisputeApp, dispute_id: UUID, actor: Actor) -> ChainReport:
    authorize(app, dispute_id, actor, Read.VERIFY)
    report = verify_chain(app, dispute_id)
    if report.events == 0:
        raise DisputeNotFound(f"no dispute {dispute_id}")
    return report


def version_at(app: DisputeApp, dispute_id: UUID, at: datetime) -> int:
    """The longest prefix of the history that had happened by `at` (its last
    version). With ordered timestamps this is the last version occurring at or
    before `at`; a later event stamped earlier never pulls in the ones between."""
    version, seen = 0, False
    for event in app.events.get(dispute_id):
        seen = True
        if event.timestamp > at:  # type: ignore[attr-defined]
            break
        version = event.originator_version
    if not seen:
        raise DisputeNotFound(f"no dispute {dispute_id}")
    if version == 0:
        raise VersionNotFound(f"the dispute was not yet opened at {at.isoformat()}")
    return version


def state_as_of(
    app: DisputeApp, dispute_id: UUID, actor: Actor, version: int | None = None, at: datetime | None = None
) -> Dispute:
    """The dispute rebuilt from the store at `version`, or as it was at `at`."""
    authorize(app, dispute_id, actor, Read.STATE_AS_OF)
    wanted = version_at(app, dispute_id, at) if at is not None else version
    dispute = app.dispute_for(dispute_id, actor, wanted)
    if wanted is not None and dispute.version != wanted:
        raise VersionNotFound(f"the dispute has no version {wanted}; its latest is {dispute.version}")
    return dispute


def replay(app: DisputeApp, dispute_id: UUID, page: int = 500) -> Iterator[tuple[RecordedEvent, Dispute]]:
    """Each event as recorded, with the dispute's state right after it, folding
    the events one by one without snapshots. The dispute is updated in place:
    use it before asking for the next event."""
    recorder, dispute, after = positioned(app), None, 0
    while stored := recorder.select_events_with_positions(dispute_id, gt=after, limit=page):
        for notification in stored:
            dispute = app.mapper.to_domain_event(notification).mutate(dispute)  # type: ignore[attr-defined]
            assert isinstance(dispute, Dispute)
            yield decode(app.mapper, notification), dispute
        after = stored[-1].originator_version


# -------------------------------------------------------------------- orders
def ensure_order_listable(app: DisputeApp, order_id: str, actor: Actor) -> None:
    """What `order_history` checks before reading a page (role, then existence)."""
    ensure_may_read(actor, Read.HISTORY)
    if not exists(app, order_aggregate_id(order_id)):
        raise OrderNotFound(f"no order {order_id}")


def order_history(app: DisputeApp, order_id: str, actor: Actor, after: int, limit: int) -> list[RecordedEvent]:
    """An order's events as recorded (agents, auditors: the same readers as a dispute's)."""
    ensure_may_read(actor, Read.HISTORY)
    aggregate_id = order_aggregate_id(order_id)
    events = recorded_page(app, aggregate_id, after=after, limit=limit)
    if not events and not exists(app, aggregate_id):
        raise OrderNotFound(f"no order {order_id}")
    return events


def order_verify(app: DisputeApp, order_id: str, actor: Actor) -> ChainReport:
    """Recompute an order's hash chain (auditors), as for a dispute's."""
    ensure_may_read(actor, Read.VERIFY)
    report = verify_chain(app, order_aggregate_id(order_id), creates=frozenset({ORDER_TOPIC}))
    if report.events == 0:
        raise OrderNotFound(f"no order {order_id}")
    return report
