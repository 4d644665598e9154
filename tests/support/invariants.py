"""What must hold after any load, crash or outage, checked against the event
store itself: every dispute replays with a valid hash chain, every deadline
fired at most once and none is left overdue, every acknowledged command is
stored exactly once (and every refused one not at all), and every read model
equals a clean rebuild."""

from __future__ import annotations

import json
import signal
import time
import uuid
from collections import Counter, defaultdict
from typing import Any

from bootstrap import build_app, build_views_db
from domain.application import DisputeApp
from domain.events import DeadlinePassed, DisputeEvent
from projections import base
from projections.catalog import PROJECTIONS
from projections.db import Database
from service.recorded import verify_chain
from service.settings import Settings
from support.deployment import Deployment
from support.load import Load
from support.rebuild import differences_from_a_clean_rebuild


def all_events(app: DisputeApp) -> list[DisputeEvent]:
    notifications = app.recorder.select_notifications(1, 10_000_000)
    return [app.mapper.to_domain_event(n) for n in notifications]


def settle(app: DisputeApp, views: Database, timeout: float = 90.0) -> None:
    """Wait until no dispute has an open deadline and every read model is at the head."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        head = app.recorder.max_notification_id() or 0
        positions = [g.position if g else -1 for g in (base.active(views, name) for name in PROJECTIONS)]
        open_deadlines = sum(len(app.repository.get(i).deadlines) for i in dispute_ids(app))
        if open_deadlines == 0 and all(p == head for p in positions):
            time.sleep(1.0)  # a few more scheduler ticks: time for any duplicate expiry to show
            if (app.recorder.max_notification_id() or 0) == head:
                return
        time.sleep(0.5)
    raise AssertionError(f"not settled in {timeout}s: head {head}, views {positions}, open deadlines {open_deadlines}")


def report(name: str, figures: dict[str, Any]) -> None:
    """Print the figures (docs/reliability.md quotes them; run with -s to see them)."""
    print(f"\nFIGURES {name}: {json.dumps(figures, sort_keys=True)}")


def verify(settings: Settings, deployment: Deployment, load: Load) -> dict[str, Any]:
    """Let the deployment settle, stop it (each process exits cleanly), check every invariant."""
    app, views = build_app(settings), build_views_db(settings)
    try:
        settle(app, views)
        exits = deployment.stop()
        # uvicorn re-raises the SIGTERM it handled once it has shut down gracefully
        assert all(code in (0, -signal.SIGTERM) for code in exits.values()), (exits, deployment.logs())
        return check(app, views, settings, load)
    finally:
        app.close()
        views.close()


def dispute_ids(app: DisputeApp) -> set[uuid.UUID]:
    return {e.originator_id for e in all_events(app)}


def check(app: DisputeApp, views: Database, settings: Settings, load: Load) -> dict[str, Any]:
    """Assert every invariant; the figures measured on the way."""
    events = all_events(app)
    disputes = {e.originator_id for e in events}
    chains = [verify_chain(app, i) for i in disputes]
    bad_chains = [r for r in chains if not r.valid]
    replayed = [app.repository.get(i) for i in disputes]
    left_open = sum(len(d.deadlines) for d in replayed)

    expiries = Counter((e.originator_id, e.deadline) for e in events if isinstance(e, DeadlinePassed))
    by_key: dict[str, list[DisputeEvent]] = defaultdict(list)
    for e in events:
        if e.idempotency_key:
            by_key[e.idempotency_key].append(e)
    lost, duplicated, misplaced, stored_refused = [], [], [], []
    for record in load.records:
        stored = by_key.get(record.key, [])
        if 200 <= record.status < 300:
            executions = {e.request_id for e in stored}
            versions = sorted(e.originator_version for e in stored)
            if not stored:
                lost.append(record.key)
            elif len(executions) > 1 or versions != list(range(versions[0], versions[0] + len(versions))):
                duplicated.append(record.key)
            elif {str(e.originator_id) for e in stored} != {record.dispute_id} or versions[-1] != record.version:
                misplaced.append(record.key)
        elif stored:
            stored_refused.append((record.key, record.status))
    answered = {r.key for r in load.records}
    unacknowledged_stored = [k for k in by_key if k not in answered or not any(
        r.key == k and 200 <= r.status < 300 for r in load.records)]  # fmt: skip
    differing = differences_from_a_clean_rebuild(app, views, settings)

    figures = load.figures() | {
        "stored": sum(1 for r in load.records if 200 <= r.status < 300 and by_key.get(r.key)),
        "lost": len(lost),
        "duplicated": len(duplicated),
        "refused_but_stored": len(stored_refused),
        "stored_unacknowledged": len(unacknowledged_stored),
        "events": len(events),
        "disputes": len(disputes),
        "invalid_chains": len(bad_chains),
        "deadlines_fired": sum(expiries.values()),
        "deadlines_fired_twice": sum(1 for n in expiries.values() if n > 1),
        "deadlines_left_open": left_open,
        "read_model_rows_differing": sum(differing.values()),
    }
    assert figures["unanswered"] == 0, "every command got a definitive answer"
    assert figures["server_errors_5xx"] == 0, [r for r in load.records if r.server_errors][:3]
    assert figures["503_without_retry_after"] == 0
    assert (lost, duplicated, misplaced, stored_refused) == ([], [], [], [])
    assert unacknowledged_stored == [], "every stored command was answered 2xx"
    assert bad_chains == []
    assert figures["deadlines_fired_twice"] == 0 and left_open == 0
    assert differing == dict.fromkeys(differing, 0), differing
    return figures
