"""The statistics' figures, computed in Python over the fact rows, so SQLite and
Postgres give the same numbers by construction.

Groups: by `reason`, `status`, `seller`, `outcome`, `how`, the ISO `week` or
the `month` the dispute was opened in (UTC), or two of them together.
Percentiles interpolate linearly between the closest ranks: for n sorted
values x[0..n-1] and a fraction p, rank r = p * (n - 1) and the percentile is
x[floor r] + (r - floor r) * (x[floor r + 1] - x[floor r]); Postgres's
`percentile_cont` and numpy's default define it the same way, and p50 is the
median."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

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
COLUMNS = (
    *KEYS.values(),
    "currency",
    "refund_minor",
    "escalated",
    "resolution_seconds",
    "first_response_seconds",
)
"""What the figures read of each fact row (beside `breached`, computed by the query at its instant)."""
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


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks (see the module); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = fraction * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (rank - low) * (ordered[high] - ordered[low])


def summarise(rows: list[dict[str, Any]], names: list[str]) -> list[dict[str, Any]]:
    """Per group: counts, refunds per currency, percentiles of the time to
    resolution and to the seller's first response, escalations and SLA breaches
    (`breached`: recorded, or a review still open past its target at the instant asked)."""
    columns = [KEYS[name] for name in names]
    groups: dict[tuple[str | None, ...], dict[str, Any]] = defaultdict(
        lambda: {
            "count": 0,
            "by_status": defaultdict(int),
            "refunds": defaultdict(int),
            "resolution": [],
            "first_response": [],
            "escalated": 0,
            "sla_breaches": 0,
        }
    )
    for r in rows:
        g = groups[tuple(r[c] for c in columns)]
        g["count"] += 1
        g["by_status"][r["status"]] += 1
        if r["refund_minor"]:
            g["refunds"][r["currency"]] += int(r["refund_minor"])
        if r["resolution_seconds"] is not None:
            g["resolution"].append(float(r["resolution_seconds"]))
        if r["first_response_seconds"] is not None:
            g["first_response"].append(float(r["first_response_seconds"]))
        g["escalated"] += bool(r["escalated"])
        g["sla_breaches"] += int(r["breached"])
    return [
        {
            "key": ",".join(NONE if v is None else v for v in key),
            "keys": dict(zip(names, key, strict=True)),
            "count": g["count"],
            "by_status": dict(sorted(g["by_status"].items())),
            "refund_totals": [{"currency": c, "amount_minor": a} for c, a in sorted(g["refunds"].items())],
            "median_resolution_seconds": percentile(g["resolution"], 0.5),
            "p50_resolution_seconds": percentile(g["resolution"], 0.5),
            "p90_resolution_seconds": percentile(g["resolution"], 0.9),
            "p50_seller_first_response_seconds": percentile(g["first_response"], 0.5),
            "escalated": g["escalated"],
            "escalation_rate": g["escalated"] / g["count"],
            "sla_breaches": g["sla_breaches"],
        }
        for key, g in sorted(groups.items(), key=lambda item: tuple(v or "" for v in item[0]))
    ]
