"""The statistics' figures, computed in SQL both dialects run alike (GROUP BY
and window functions over `dispute_fact_history`), the last step of each
percentile (interpolating between two ranked values) in Python with exact
integer ranks, so SQLite and Postgres give the same numbers.

Groups: by `reason`, `status`, `seller`, `outcome`, `how`, the ISO `week` or
the `month` the dispute was opened in (UTC), or two of them together.
Percentiles interpolate linearly between the closest ranks: for n sorted
values x[0..n-1] and a fraction p, rank r = p * (n - 1) and the percentile is
x[floor r] + (r - floor r) * (x[floor r + 1] - x[floor r]); Postgres's
`percentile_cont` and numpy's default define it the same way, and p50 is the
median. The percentiles asked for are in tenths (5: p50, 9: p90), so floor r
is the integer (n - 1) * tenths / 10 in SQL and in Python alike."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from projections.db import Cursor

Key = tuple[str | None, ...]

KEYS = {
    "reason": "reason",
    "status": "status",
    "seller": "seller_id",
    "outcome": "outcome",
    "how": "resolved_how",
    "week": "opened_week",
    "month": "opened_month",
}
"""Each `group_by` key and the fact column it groups by."""
PERCENTILES = {"resolution_seconds": (5, 9), "first_response_seconds": (5,)}
"""The durations and the percentiles (in tenths) of each."""
NONE = "none"
"""The key of a group whose value is missing (the outcome of an open dispute)."""
MAX_DIMENSIONS = 2


def week_of(at: datetime) -> str:
    """The ISO week of an instant, in UTC: `2026-W10`."""
    year, week, _ = at.astimezone(UTC).isocalendar()
    return f"{year}-W{week:02d}"


def month_of(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m")


class BadGrouping(ValueError):
    """`group_by` names no known key, a key twice, or more than two."""


def grouping(group_by: str) -> list[str]:
    names = group_by.split(",")
    unknown = [n for n in names if n not in KEYS]
    if unknown or not 0 < len(names) <= MAX_DIMENSIONS or len(set(names)) != len(names):
        raise BadGrouping(
            f"group_by must be one or two distinct keys of {', '.join(KEYS)} separated by a comma, not {group_by!r}"
        )
    return names


def interpolate(ranked: dict[int, float], n: int, tenths: int) -> float:
    """The percentile from the values at ranks floor r and floor r + 1 (0-based) of n."""
    low, remainder = divmod((n - 1) * tenths, 10)
    high = min(low + 1, n - 1)
    return ranked[low] + remainder / 10 * (ranked[high] - ranked[low])


def percentile(values: Sequence[float], tenths: int) -> float | None:
    """The same definition over a list (see the module); None for no values."""
    if not values:
        return None
    return interpolate(dict(enumerate(sorted(values))), len(values), tenths)


def compute(cur: Cursor, names: list[str], where: str, params: list[Any], at: datetime) -> list[dict[str, Any]]:
    """Per group of the fact rows `where` selects: counts, refunds per currency,
    percentiles of the time to resolution and to the seller's first response,
    escalations and SLA breaches (recorded, or a review still open past its
    target at `at`). `where` is fixed text with `%s` parameters."""
    keys = ", ".join(KEYS[name] for name in names)
    source = f"FROM {{dispute_fact_history}} WHERE {where}"

    def rows(sql: str, extra: Sequence[Any] = ()) -> list[tuple[Key, dict[str, Any]]]:
        cur.run(sql, [*extra, *params], dispute_fact_history="dispute_fact_history")
        return [(tuple(r[KEYS[n]] for n in names), r) for r in cur.all()]

    groups: dict[Key, dict[str, Any]] = {}
    breached = "sla_breached OR (status IN ('under_review', 'under_appeal') AND review_due_at < %s)"
    for key, r in rows(
        f"SELECT {keys}, COUNT(*) AS n, SUM(CASE WHEN escalated THEN 1 ELSE 0 END) AS escalated, "
        f"SUM(CASE WHEN {breached} THEN 1 ELSE 0 END) AS breaches {source} GROUP BY {keys}",
        [at],
    ):
        groups[key] = {"count": int(r["n"]), "escalated": int(r["escalated"]), "sla_breaches": int(r["breaches"]),
                       "by_status": {}, "refunds": {}, "percentiles": defaultdict(lambda: None)}  # fmt: skip
    for key, r in rows(f"SELECT {keys}, status, COUNT(*) AS n {source} GROUP BY {keys}, status"):
        groups[key]["by_status"][r["status"]] = int(r["n"])
    for key, r in rows(
        f"SELECT {keys}, currency, SUM(refund_minor) AS amount {source} "
        f"AND refund_minor IS NOT NULL AND refund_minor <> 0 GROUP BY {keys}, currency"
    ):
        groups[key]["refunds"][r["currency"]] = int(r["amount"])
    for column, wanted in PERCENTILES.items():
        ranks = ", ".join(f"(n - 1) * {t} / 10, (n - 1) * {t} / 10 + 1" for t in wanted)
        ranked: dict[Key, tuple[int, dict[int, float]]] = {}
        for key, r in rows(
            f"SELECT {keys}, v, i, n FROM (SELECT {keys}, {column} AS v, "  # noqa: S608
            f"ROW_NUMBER() OVER (PARTITION BY {keys} ORDER BY {column}) - 1 AS i, "
            f"COUNT(*) OVER (PARTITION BY {keys}) AS n {source} AND {column} IS NOT NULL) ranked "
            f"WHERE i IN ({ranks})"
        ):
            ranked.setdefault(key, (int(r["n"]), {}))[1][int(r["i"])] = float(r["v"])
        for key, (n, values) in ranked.items():
            for tenths in wanted:
                groups[key]["percentiles"][(column, tenths)] = interpolate(values, n, tenths)
    return [render(names, key, g) for key, g in sorted(groups.items(), key=lambda item: [v or "" for v in item[0]])]


def render(names: list[str], key: Key, g: dict[str, Any]) -> dict[str, Any]:
    p = g["percentiles"]
    return {
        "key": ",".join(NONE if v is None else v for v in key),
        "keys": dict(zip(names, key, strict=True)),
        "count": g["count"],
        "by_status": dict(sorted(g["by_status"].items())),
        "refund_totals": [{"currency": c, "amount_minor": a} for c, a in sorted(g["refunds"].items())],
        "median_resolution_seconds": p[("resolution_seconds", 5)],
        "p50_resolution_seconds": p[("resolution_seconds", 5)],
        "p90_resolution_seconds": p[("resolution_seconds", 9)],
        "p50_seller_first_response_seconds": p[("first_response_seconds", 5)],
        "escalated": g["escalated"],
        "escalation_rate": g["escalated"] / g["count"],
        "sla_breaches": g["sla_breaches"],
    }
