"""The demo seeder at the service layer: every script plays by the rules, time
only moves forward inside the simulated span, the system actor expires
deadlines no earlier than they fall due, files are valid, and a seed and an
end give the same events every time."""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bootstrap import build_services
from domain import events as ev
from domain import order_events as oe
from domain.values import Money, Role
from service.demo import files
from service.demo.scripts import SCRIPTS
from service.demo.seeder import MONTH, SeedConflict, Seeder, SeedReport
from service.hub import Services
from support.stores import settings_for

END = datetime(2026, 6, 30, 12, tzinfo=UTC)


@pytest.fixture
def services(tmp_path: Path, request: pytest.FixtureRequest) -> Services:
    built = build_services(settings_for("memory", tmp_path, request))
    request.addfinalizer(built.close)
    return built


def seeded(services: Services, count: int, seed: int = 7, months: float = 6) -> SeedReport:
    return Seeder(services.app, services.blobs, seed=seed, months=months, end=END).run(count)


def recorded(services: Services) -> list[ev.DisputeEvent]:
    """The disputes' events (not the orders')."""
    return [e for e in everything(services) if isinstance(e, ev.DisputeEvent)]


def everything(services: Services) -> list[object]:
    notifications = services.app.recorder.select_notifications(1, 1_000_000)
    return [services.app.mapper.to_domain_event(n) for n in notifications]


def test_every_script_plays_by_the_rules_within_the_simulated_months(services: Services) -> None:
    report = seeded(services, 300)
    assert report.refused == [], "a script asked for a step the domain refuses"
    assert (report.created, report.skipped) == (300, 0)
    assert set(report.scripts) == {s.name for s in SCRIPTS}, "every script is played"
    assert set(report.steps) == {"buyer", "seller", "agent", "system"}
    by_dispute: dict[object, list[ev.DisputeEvent]] = {}
    for event in recorded(services):
        by_dispute.setdefault(event.originator_id, []).append(event)
    assert len(by_dispute) == 300
    assert report.events == sum(len(h) for h in by_dispute.values())
    for history in by_dispute.values():
        times = [e.timestamp for e in history]
        assert times == sorted(times), "a dispute's events happen in order"
        assert times[0] >= END - 6 * MONTH and times[-1] <= END
    openings = sorted(h[0].timestamp for h in by_dispute.values())
    months = Counter((t.year, t.month) for t in openings)
    assert len(months) >= 6 and min(months.values()) >= 10, f"openings bunch up: {months}"


def test_the_system_actor_expires_deadlines_when_they_fall_due(services: Services) -> None:
    seeded(services, 200)
    expiries = [e for e in recorded(services) if isinstance(e, tuple(ev.DEADLINE_EVENTS.values()))]
    assert {type(e) for e in expiries} == set(ev.DEADLINE_EVENTS.values()), "every kind of deadline expires"
    assert any(isinstance(e, ev.AppealWindowClosed) for e in expiries) and any(
        isinstance(e, ev.AppealReviewSlaBreached) for e in expiries
    ), "rulings become final, and appeals' reviews run late"
    for expiry in expiries:
        assert (expiry.actor_role, expiry.actor_id) == (Role.SYSTEM.value, "scheduler")
        late = expiry.timestamp - expiry.due_at
        assert timedelta(0) <= late <= timedelta(seconds=2), "expired at its due time, as the scheduler would"


def test_the_same_seed_and_end_give_the_same_events_and_another_seed_others(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    def run(seed: int, folder: str) -> list[tuple[object, ...]]:
        services = build_services(settings_for("memory", tmp_path / folder, request))
        try:
            seeded(services, 60, seed=seed)
            return [(e.originator_id, e.originator_version, e.chain_hash) for e in recorded(services)]
        finally:
            services.close()

    first = run(3, "a")
    assert run(3, "b") == first, "same seed, same end: the same events, hash for hash"
    assert {i for i, *_ in run(4, "c")}.isdisjoint({i for i, *_ in first}), "another seed, other orders"


def test_seeding_again_with_the_same_seed_skips_what_is_there(services: Services) -> None:
    seeded(services, 40)
    head = services.app.recorder.max_notification_id()
    again = seeded(services, 50)
    assert (again.skipped, again.created) == (40, 10), "the first 40 are there; only the 10 new ones are lived"
    assert services.app.recorder.max_notification_id() == head + again.events + again.orders, "and one order each"


def test_evidence_files_are_valid_png_and_pdf(services: Services) -> None:
    seeded(services, 40)
    evidence = [e for e in recorded(services) if isinstance(e, ev.EvidenceSubmitted)]
    assert {e.media_type for e in evidence} == {"image/png", "application/pdf"}
    for e in evidence[:30]:
        content = b"".join(services.blobs.read(e.blob_key, e.sha256))
        assert len(content) == e.size
        (check_png if e.media_type == "image/png" else check_pdf)(content)


def check_png(content: bytes) -> None:
    assert content[:8] == b"\x89PNG\r\n\x1a\n"
    at, chunks = 8, {}
    while at < len(content):
        (length,) = struct.unpack(">I", content[at : at + 4])
        kind, data = content[at + 4 : at + 8], content[at + 8 : at + 8 + length]
        assert struct.unpack(">I", content[at + 8 + length : at + 12 + length])[0] == zlib.crc32(kind + data)
        chunks[kind] = data
        at += 12 + length
    width, height = struct.unpack(">II", chunks[b"IHDR"][:8])
    assert len(zlib.decompress(chunks[b"IDAT"])) == height * (1 + 3 * width)
    assert b"IEND" in chunks


def check_pdf(content: bytes) -> None:
    assert content.startswith(b"%PDF-1.4") and content.endswith(b"%%EOF\n")
    start = int(content.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert content[start:].startswith(b"xref\n")
    rows = content[start:].split(b"\n")[3:]
    offsets = [int(row[:10]) for row in rows if row.endswith(b" n ")]
    for number, offset in enumerate(offsets, start=1):
        assert content[offset:].startswith(b"%d 0 obj" % number), "the xref table names each object's offset"


def test_the_pdf_escapes_what_would_end_its_strings() -> None:
    document = files.pdf("Receipt (copy)", ["back\\slash", "naïve"])
    check_pdf(document)
    assert b"(Receipt \\(copy\\)) Tj" in document and b"(back\\\\slash) Tj" in document and b"(na?ve) Tj" in document


class Blind(Seeder):
    """A seeder that checks for existing orders before another process commits them."""

    def _known(self, order_id: str) -> bool:
        return False


def test_a_batch_another_writer_got_to_first_is_not_saved_and_a_second_run_completes(services: Services) -> None:
    seeded(services, 10)
    head = services.app.recorder.max_notification_id()
    with pytest.raises(SeedConflict, match="run the same command again"):
        Blind(services.app, services.blobs, seed=7, end=END).run(30)
    assert services.app.recorder.max_notification_id() == head, "the conflicting batch saved nothing"
    again = seeded(services, 30)
    assert (again.skipped, again.created) == (10, 20)


def test_rulings_are_appealed_and_decided_by_another_agent_and_agents_claim_reviews(services: Services) -> None:
    report = seeded(services, 300)
    assert report.refused == []
    by_dispute: dict[object, list[ev.DisputeEvent]] = {}
    for event in recorded(services):
        by_dispute.setdefault(event.originator_id, []).append(event)
    appealed = [h for h in by_dispute.values() if any(isinstance(e, ev.DisputeAppealed) for e in h)]
    decisions = Counter(e.decision for h in appealed for e in h if isinstance(e, ev.AppealDecided))
    assert decisions["upheld"] >= 2 and decisions["overturned"] >= 2, decisions
    for history in appealed:
        ruling = next(e for e in history if isinstance(e, ev.DisputeResolved) and e.how == "ruling")
        decided = [e for e in history if isinstance(e, ev.AppealDecided)]
        assert all(d.actor_id != ruling.actor_id for d in decided), "another agent decides the appeal"
        by_appeal = [e for e in history if isinstance(e, ev.DisputeResolved) and e.how == "appeal"]
        assert len(by_appeal) == len(decided), "each decided appeal resolves the dispute again"
    claimed = {e.originator_id for h in by_dispute.values() for e in h if isinstance(e, ev.DisputeClaimed)}
    released = [e for h in by_dispute.values() for e in h if isinstance(e, ev.DisputeReleased)]
    assert len(claimed) >= 30 and released, "agents claim the disputes they review, and hand some back"
    ruled = {
        i
        for i, h in by_dispute.items()
        if any(isinstance(e, ev.DisputeResolved) and e.how in ("ruling", "appeal") for e in h)
    }
    assert len(claimed & ruled) >= 20, "the agents who rule mostly claimed the dispute first"


def test_the_demo_orders_are_registered_so_known_orders_may_be_required(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    services = build_services(settings_for("memory", tmp_path, request, require_known_orders=True))
    request.addfinalizer(services.close)
    book = services.orders.book
    assert book.require_known
    report = Seeder(services.app, services.blobs, seed=7, end=END, orders=book).run(40)
    assert (report.created, report.orders, report.refused) == (40, 40, [])
    opened = [e for e in recorded(services) if isinstance(e, ev.DisputeOpened)]
    assert len(opened) == 40
    for e in opened:
        order = book.order(e.order_id)
        assert order is not None, f"order {e.order_id} is registered"
        assert (order.buyer_id, order.seller_id) == (e.actor_id, e.seller_id)
        assert order.current.amount == Money.from_dict(e.order_amount)
        assert order.current.placed_at < e.timestamp <= order.current.protection_ends_at
    orders = [e for e in everything(services) if isinstance(e, oe.OrderRegistered)]
    assert {e.actor_role for e in orders} == {Role.PLATFORM.value} and len(orders) == 40
    again = Seeder(services.app, services.blobs, seed=7, end=END, orders=book).run(50)
    assert (again.skipped, again.created, again.orders) == (40, 10, 10), "registered once"
