"""Read models with a little of everything in them, for the analysts' views,
their documented queries and the exports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bootstrap import build_app, build_views_db, ensure_views
from domain.application import DisputeApp
from domain.values import Outcome, Status
from projections.catalog import PROJECTIONS
from projections.db import Database
from projections.runner import Follower
from service.settings import Settings
from support.builders import AGENT, Clock, scenario_in


def populated(settings: Settings) -> tuple[DisputeApp, Database]:
    """Disputes opened yesterday (the documented queries look back from now) in
    several statuses, a message posted, a ruling at fault, an appeal an agent
    claimed; every read model caught up."""
    app, views = build_app(settings), build_views_db(settings)
    ensure_views(views, settings)
    yesterday = datetime.now(UTC) - timedelta(days=1)
    for status in (Status.RESOLVED, Status.UNDER_REVIEW, Status.WITHDRAWN, Status.NEGOTIATING):
        scenario_in(app, status, Clock(now=yesterday))
    appealed = scenario_in(app, Status.UNDER_APPEAL, Clock(now=yesterday))
    app.claim(appealed.id, appealed.clock.ctx(AGENT), False, "")
    s = scenario_in(app, Status.UNDER_REVIEW, Clock(now=yesterday))
    app.post_message(s.id, s.clock.ctx(AGENT), "a private word about the parcel", None)
    app.issue_ruling(s.id, s.clock.ctx(AGENT), Outcome.REFUND_FULL, None, True, "fault")
    catch_up(app, views)
    return app, views


def catch_up(app: DisputeApp, views: Database) -> None:
    for projection in PROJECTIONS.values():
        Follower(app, views, projection).catch_up()
