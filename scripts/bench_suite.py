"""`scripts/bench`: the figures of issue 10, each as a ratio to a baseline from the same run."""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bench_http
import bench_store
import psycopg
from psycopg.sql import SQL, Identifier

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def row(figure: str, value: float, unit: str, baseline: str, base: float | None, target: str, met: bool | None) -> dict:
    ratio = value / base if base else None
    return {
        "figure": figure,
        "value": round(value, 2),
        "unit": unit,
        "baseline": baseline,
        "baseline_value": None if base is None else round(base, 2),
        "ratio": None if ratio is None else round(ratio, 3),
        "target": target,
        "met": met,
    }


def print_table(rows: list[dict]) -> None:
    head = f"{'figure':<48} {'value':>12} {'baseline':<34} {'baseline':>10} {'ratio':>7}  {'target':<16} met"
    print(head)
    print("-" * len(head))
    for r in rows:
        value = f"{r['value']:,.1f} {r['unit']}"
        base = "" if r["baseline_value"] is None else f"{r['baseline_value']:,.1f}"
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.3f}"
        met = {True: "yes", False: "NO", None: ""}[r["met"]]
        print(f"{r['figure']:<48} {value:>12} {r['baseline']:<34} {base:>10} {ratio:>7}  {r['target']:<16} {met}")


def http_rows(args: argparse.Namespace, schema: str) -> list[dict]:
    bare = bench_http.bare_app(args.seconds)
    print(f"bare FastAPI app: {bare}", flush=True)
    pg = bench_http.http_figures(args.seconds, args.disputes, args.url, schema, None)
    print(f"postgres: {pg}", flush=True)
    b, h, m = bare["rps"], pg["healthz"]["rps"], pg["messages"]
    rows = [
        row("A'  GET /healthz (Postgres config)", h, "req/s", "bare FastAPI app, 1 worker", b, ">= 0.5x", h / b >= 0.5),
        row(
            "A   POST messages, 400 disputes (Postgres)",
            m["rps"],
            "cmd/s",
            "bare FastAPI app, 1 worker",
            b,
            ">= 0.1x",
            m["rps"] / b >= 0.1,
        ),
        row("A   same, against our /healthz", m["rps"], "cmd/s", "our /healthz, same server", h, "", None),
        row("A   POST messages p99 (Postgres)", m["p99_ms"], "ms", "", None, "< 50 ms", m["p99_ms"] < 50),
        row("A   POST messages errors (Postgres)", m["errors"], "", "", None, "0", m["errors"] == 0),
        row(
            "C   read-your-writes lag p99 under A", pg["lag_p99_ms"], "ms", "", None, "< 100 ms", pg["lag_p99_ms"] < 100
        ),
    ]
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory(prefix="bench-sqlite-") as tmp:
            lite = bench_http.http_figures(args.seconds, args.disputes, None, None, Path(tmp))
        print(f"sqlite: {lite}", flush=True)
        s = lite["messages"]
        rows += [
            row(
                "A   POST messages (SQLite default)", s["rps"], "cmd/s", "bare FastAPI app, 1 worker", b, "report", None
            ),
            row(
                "A   same, against our /healthz (SQLite)",
                s["rps"],
                "cmd/s",
                "our /healthz (SQLite)",
                lite["healthz"]["rps"],
                "report",
                None,
            ),
            row("A   POST messages p99 (SQLite)", s["p99_ms"], "ms", "", None, "report", None),
            row("A   POST messages errors (SQLite)", s["errors"], "", "", None, "report", None),
        ]
    return rows


def store_rows(args: argparse.Namespace, schemas: dict[str, str]) -> list[dict]:
    url, secs = args.url, args.seconds
    raw = bench_store.raw_insert_rate(url, schemas["raw"], secs)
    ours, shared = bench_store.service_rate(url, schemas["b"], secs)
    stock = bench_store.stock_rate(url, schemas["stock"], secs)
    print(f"B: raw {raw:.0f}/s, service {ours:.0f}/s ({shared}), stock {stock:.0f}/s", flush=True)
    head = bench_store.seed_events(url, schemas["c"], args.events)
    rates = bench_store.projection_rates(url, schemas["c"], head, min(args.stock_events, head))
    print(f"C: {head} events: {rates}", flush=True)
    cost = bench_store.command_cost(url, schemas["d"], args.long_events, 200)
    print(f"D: {cost}", flush=True)
    return [
        row("B   service, 32 clients", ours, "cmd/s", "raw INSERT+COMMIT, 32 threads", raw, ">= 1.0x", ours >= raw),
        row("B   service, 32 clients", ours, "cmd/s", "stock get+save, 32 threads", stock, ">= 3x", ours >= 3 * stock),
        row(
            f"C   rebuild all views, {head:,} events",
            rates["ours"],
            "ev/s",
            f"stock: txn/event, first {min(args.stock_events, head):,}",
            rates["stock"],
            ">= 10x",
            rates["ours"] >= 10 * rates["stock"],
        ),
        row(
            f"D   command at {args.long_events} events (median)",
            cost["long_ms"],
            "ms",
            "command on a new dispute",
            cost["new_ms"],
            "<= 1.2x",
            cost["long_ms"] <= 1.2 * cost["new_ms"],
        ),
    ]


def machine(url: str) -> dict[str, Any]:
    with psycopg.connect(url) as c:
        server = c.execute("SHOW server_version").fetchone()
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "postgres": server[0] if server else None,
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], check=False, capture_output=True, text=True
        ).stdout.strip(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    env_url = os.environ.get("DISPUTES_DATABASE_URL", "")
    parser.add_argument("--url", default=env_url if env_url.startswith("postgres") else DEFAULT_URL)
    parser.add_argument("--seconds", type=int, default=10, help="each timed load")
    parser.add_argument("--disputes", type=int, default=400)
    parser.add_argument("--events", type=int, default=200_000, help="C: events to rebuild from")
    parser.add_argument("--stock-events", type=int, default=2_000, help="C: events the stock way is timed over")
    parser.add_argument("--long-events", type=int, default=1_000, help="D: events on the long dispute")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-store", action="store_true", help="only the HTTP figures")
    parser.add_argument("--keep", action="store_true", help="keep the scratch schemas")
    args = parser.parse_args()
    tag = f"bench_{secrets.token_hex(3)}"
    schemas = {k: f"{tag}_{k}" for k in ("http", "raw", "b", "stock", "c", "d")}
    with psycopg.connect(args.url, autocommit=True) as conn:
        for name in schemas.values():
            conn.execute(SQL("CREATE SCHEMA {}").format(Identifier(name)))
    started = time.time()
    rows: list[dict] = []
    try:
        if not args.skip_http:
            rows += http_rows(args, schemas["http"])
        if not args.skip_store:
            rows += store_rows(args, schemas)
    finally:
        if not args.keep:
            with psycopg.connect(args.url, autocommit=True) as conn:
                for name in schemas.values():
                    conn.execute(SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(name)))
    print()
    print_table(rows)
    out = ROOT / "bench" / "results.json"
    out.parent.mkdir(exist_ok=True)
    result = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(time.time() - started),
        "machine": machine(args.url),
        "args": vars(args),
        "rows": rows,
    }
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
