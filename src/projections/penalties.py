"""Seller penalty score: penalty rows per the spec's table, summed over a
rolling window ending at `as_of`.

The weights a generation was built with are stored with the generation, so
changing them (DISPUTES_PENALTY_WEIGHTS) and rebuilding re-scores all history
while workers keep applying each generation's own weights.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from eventsourcing.dispatch import singledispatchmethod

from domain import events as ev
from domain.values import Outcome
from projections.db import Cursor, Database
from projections.projection import Projection

DEFAULT_WEIGHTS = {
    "opened": 1,
    "response_deadline_missed": 5,
    "escalated": 2,
    "ruling_refund_full_at_fault": 10,
    "ruling_refund_partial_at_fault": 6,
}
REMOVABLE = ("opened", "escalated")
WARNING, RESTRICTED = 10, 30


def level(score: int) -> str:
    if score >= RESTRICTED:
        return "restricted"
    return "warning" if score >= WARNING else "good"


class Penalties(Projection):
    name = "penalties"
    tables = ("penalty_rows",)

    @classmethod
    def ddl(cls) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS {penalty_rows} ("
            "seller_id text NOT NULL, dispute_id text NOT NULL, kind text NOT NULL, points :int: NOT NULL, "
            "at :time: NOT NULL, position :bigint: NOT NULL, removed_at :time:, "
            "PRIMARY KEY (dispute_id, kind, position))",
            "CREATE INDEX IF NOT EXISTS {ix_penalty_seller} ON {penalty_rows} (seller_id, at)",
        ]

    @classmethod
    def default_params(cls) -> dict[str, Any]:
        return {"weights": dict(DEFAULT_WEIGHTS)}

    @classmethod
    def params_from(cls, settings: Any) -> dict[str, Any]:
        return {"weights": {**DEFAULT_WEIGHTS, **json.loads(settings.penalty_weights or "{}")}}

    def penalise(self, event: ev.DisputeEvent, kind: str, position: int) -> None:
        """A row for the dispute's seller (known from its opening row)."""
        self.run(
            "INSERT INTO {penalty_rows} (seller_id, dispute_id, kind, points, at, position) "
            "SELECT seller_id, dispute_id, %s, %s, %s, %s FROM {penalty_rows} "
            "WHERE dispute_id = %s AND kind = 'opened' ORDER BY position LIMIT 1",
            [kind, self.params["weights"][kind], event.timestamp, position, str(event.originator_id)],
        )

    def forgive(self, event: ev.DisputeEvent) -> None:
        """Withdrawal, or a resolution without seller fault, removes the +1 and +2 from now on."""
        self.run(
            "UPDATE {penalty_rows} SET removed_at = %s "
            "WHERE dispute_id = %s AND kind IN ('opened', 'escalated') AND removed_at IS NULL",
            [event.timestamp, str(event.originator_id)],
        )

    @singledispatchmethod
    def project(self, event: Any, position: int) -> None:
        pass

    @project.register
    def _(self, event: ev.DisputeOpened, position: int) -> None:
        self.run(
            "INSERT INTO {penalty_rows} (seller_id, dispute_id, kind, points, at, position) "
            "VALUES (%s, %s, 'opened', %s, %s, %s)",
            [event.seller_id, str(event.originator_id), self.params["weights"]["opened"], event.timestamp, position],
        )

    @project.register
    def _(self, event: ev.SellerResponseDeadlineMissed, position: int) -> None:
        self.penalise(event, "response_deadline_missed", position)

    @project.register
    def _(self, event: ev.DisputeEscalated, position: int) -> None:
        self.penalise(event, "escalated", position)

    @project.register
    def _(self, event: ev.DisputeWithdrawn, position: int) -> None:
        self.forgive(event)

    @project.register
    def _(self, event: ev.DisputeResolved, position: int) -> None:
        if event.how == "appeal":
            return  # scored by the AppealDecided before it
        self.score_ruling(event, event.how, event.outcome, event.seller_at_fault, position)

    @project.register
    def _(self, event: ev.AppealDecided, position: int) -> None:
        """An upheld ruling keeps its points; an overturned one loses them from now on,
        and the new outcome is scored as a ruling would be."""
        if event.decision != "overturned":
            return
        dispute_id = str(event.originator_id)
        self.run(
            "UPDATE {penalty_rows} SET removed_at = %s WHERE dispute_id = %s AND removed_at IS NULL "
            "AND kind IN ('ruling_refund_full_at_fault', 'ruling_refund_partial_at_fault')",
            [event.timestamp, dispute_id],
        )
        if event.seller_at_fault:
            self.restore_forgiven(event, position)
        assert event.outcome is not None, "an overturned ruling names its new outcome"
        self.score_ruling(event, "ruling", event.outcome, event.seller_at_fault, position)

    def score_ruling(
        self, event: ev.DisputeEvent, how: str, outcome: str, seller_at_fault: bool | None, position: int
    ) -> None:
        if seller_at_fault is False:
            self.forgive(event)
        elif seller_at_fault and how == "ruling" and outcome == Outcome.REFUND_FULL.value:
            self.penalise(event, "ruling_refund_full_at_fault", position)
        elif seller_at_fault and how == "ruling" and outcome == Outcome.REFUND_PARTIAL.value:
            self.penalise(event, "ruling_refund_partial_at_fault", position)

    def restore_forgiven(self, event: ev.DisputeEvent, position: int) -> None:
        """The overturned ruling had forgiven the +1 and +2 (seller not at fault): they count again from now."""
        self.run(
            "INSERT INTO {penalty_rows} (seller_id, dispute_id, kind, points, at, position) "
            "SELECT seller_id, dispute_id, kind, points, %s, %s FROM {penalty_rows} "
            "WHERE dispute_id = %s AND kind IN ('opened', 'escalated') AND removed_at IS NOT NULL",
            [event.timestamp, position, str(event.originator_id)],
        )


@dataclass(frozen=True)
class Score:
    seller_id: str
    score: int
    level: str
    window: timedelta
    as_of: datetime
    breakdown: dict[str, dict[str, int]]


IN_WINDOW = "at <= %s AND at > %s AND (removed_at IS NULL OR removed_at > %s)"


def score(db: Database, seller_id: str, as_of: datetime, window: timedelta) -> Score:
    with db.reading() as cur:
        cur.run(
            f"SELECT kind, COUNT(*) AS n, SUM(points) AS points FROM {{penalty_rows}} "  # noqa: S608 - fixed text
            f"WHERE seller_id = %s AND {IN_WINDOW} GROUP BY kind",
            [seller_id, as_of, as_of - window, as_of],
            penalty_rows="penalty_rows",
        )
        rows = cur.all()
    return _score(
        seller_id, {r["kind"]: {"count": int(r["n"]), "points": int(r["points"])} for r in rows}, as_of, window
    )


def ranking(db: Database, as_of: datetime, window: timedelta, after: tuple[int, str] | None, limit: int) -> list[Score]:
    """Sellers with penalty rows in the window, highest score first, each with its breakdown."""
    having = ""
    params: list[Any] = [as_of, as_of - window, as_of]
    if after:
        having = "HAVING SUM(points) < %s OR (SUM(points) = %s AND seller_id > %s)"
        params += [after[0], after[0], after[1]]
    with db.reading() as cur:
        cur.run(
            f"SELECT seller_id, SUM(points) AS score FROM {{penalty_rows}} WHERE {IN_WINDOW} "  # noqa: S608
            f"GROUP BY seller_id {having} ORDER BY score DESC, seller_id LIMIT %s",
            [*params, limit],
            penalty_rows="penalty_rows",
        )
        ranked = [r["seller_id"] for r in cur.all()]
        breakdowns = _breakdowns(cur, ranked, as_of, window)
    return [_score(seller, breakdowns.get(seller, {}), as_of, window) for seller in ranked]


def _breakdowns(
    cur: Cursor, sellers: list[str], as_of: datetime, window: timedelta
) -> dict[str, dict[str, dict[str, int]]]:
    if not sellers:
        return {}
    placeholders = ", ".join(["%s"] * len(sellers))
    cur.run(
        f"SELECT seller_id, kind, COUNT(*) AS n, SUM(points) AS points FROM {{penalty_rows}} "  # noqa: S608
        f"WHERE seller_id IN ({placeholders}) AND {IN_WINDOW} GROUP BY seller_id, kind",
        [*sellers, as_of, as_of - window, as_of],
        penalty_rows="penalty_rows",
    )
    found: dict[str, dict[str, dict[str, int]]] = {}
    for r in cur.all():
        found.setdefault(r["seller_id"], {})[r["kind"]] = {"count": int(r["n"]), "points": int(r["points"])}
    return found


def _score(seller_id: str, breakdown: dict[str, dict[str, int]], as_of: datetime, window: timedelta) -> Score:
    total = sum(b["points"] for b in breakdown.values())
    return Score(seller_id, total, level(total), window, as_of, breakdown)
