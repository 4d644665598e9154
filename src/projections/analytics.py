"""The analysts' views: a stable, documented surface over the read models.

On Postgres they live in a schema of their own (`analytics` by default, see
Settings.analytics_schema_name) that a read-only role can be given alone
(`disputes analytics grant ROLE`); on SQLite, which has no schemas, they are
views named `analytics_<name>` in the same file. Each view names its columns
(a column added to a read model never changes a view), drops what analysts
must not read (message bodies), and reads the stable views of the read
models, which rebuilds re-point without dropping (Cursor.point_view), so the
views built on these, and the grants on them, survive rebuilds.

Columns are only ever appended to these views, never renamed or removed:
docs/analytics.md is their data dictionary.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from psycopg.sql import SQL, Identifier, Literal

from projections.database import Database, check_name
from projections.penalties import RESTRICTED, WARNING
from projections.postgres_db import PostgresDatabase

SQLITE_PREFIX = "analytics_"
SOURCES = ("dispute_summaries", "timeline_entries", "audit_log", "penalty_rows", "dispute_facts", "deadlines")


@dataclass(frozen=True)
class AnalyticsView:
    name: str
    about: str
    postgres: str
    sqlite: str


def _same(select: str) -> tuple[str, str]:
    return select, select


def _views(window: timedelta) -> list[AnalyticsView]:
    seconds = int(window.total_seconds())
    level = (
        f"CASE WHEN score >= {RESTRICTED} THEN 'restricted' WHEN score >= {WARNING} THEN 'warning' ELSE 'good' END"
    )
    return [
        AnalyticsView(
            "disputes",
            "one row per dispute, as it stands now",
            *_same(
                "SELECT dispute_id, order_id, buyer_id, seller_id, reason, requested_remedy, requested_refund_minor, "
                "order_amount_minor, currency, status, party_to_act, escalated, outcome, resolved_how, refund_minor, "
                "seller_at_fault, next_deadline_at, opened_at, updated_at, closed_at, version, assigned_agent "
                "FROM {dispute_summaries}"
            ),
        ),
        AnalyticsView(
            "dispute_events",
            "one row per event of every dispute, message bodies left out",
            "SELECT position, dispute_id, version, type, actor_id, actor_role, occurred_at, summary, "
            "data - 'body' AS data FROM {timeline_entries}",
            "SELECT position, dispute_id, version, type, actor_id, actor_role, occurred_at, summary, "
            "json_remove(data, '$.body') AS data FROM {timeline_entries}",
        ),
        AnalyticsView(
            "audit_events",
            "the audit log: who did what, when, from which request; message bodies left out",
            "SELECT position, dispute_id, version, type, actor_id, actor_role, occurred_at, request_id, "
            "idempotency_key, chain_hash, payload - 'body' AS payload FROM {audit_log}",
            "SELECT position, dispute_id, version, type, actor_id, actor_role, occurred_at, request_id, "
            "idempotency_key, chain_hash, json_remove(payload, '$.body') AS payload FROM {audit_log}",
        ),
        AnalyticsView(
            "seller_penalties",
            "one row per penalised event of a seller",
            *_same("SELECT seller_id, dispute_id, kind, points, at, position, removed_at FROM {penalty_rows}"),
        ),
        AnalyticsView(
            "seller_scores",
            f"each seller's penalty score now, over the last {seconds} seconds (DISPUTES_PENALTY_WINDOW)",
            f"SELECT seller_id, score, {level} AS level FROM (SELECT seller_id, COALESCE(SUM(points) FILTER ("  # noqa: S608
            f"WHERE at > now() - make_interval(secs => {seconds}) AND at <= now() "
            "AND (removed_at IS NULL OR removed_at > now())), 0) AS score FROM {penalty_rows} GROUP BY seller_id) s",
            f"SELECT seller_id, score, {level} AS level FROM (SELECT seller_id, COALESCE(SUM(CASE WHEN "  # noqa: S608
            f"julianday(at) > julianday('now', '-{seconds} seconds') AND julianday(at) <= julianday('now') "
            "AND (removed_at IS NULL OR julianday(removed_at) > julianday('now')) THEN points END), 0) AS score "
            "FROM {penalty_rows} GROUP BY seller_id) s",
        ),
        AnalyticsView(
            "dispute_facts",
            "one row per dispute for statistics: outcome, refund, review and its SLA",
            *_same(
                "SELECT dispute_id, seller_id, reason, status, currency, opened_at, closed_at, outcome, "
                "resolved_how, refund_minor, review_started_at, review_due_at, sla_breached, escalated, "
                "seller_first_response_at, resolution_seconds, first_response_seconds, opened_week, opened_month "
                "FROM {dispute_facts}"
            ),
        ),
        AnalyticsView(
            "open_deadlines",
            "one row per open deadline of a dispute",
            *_same("SELECT dispute_id, deadline, due_at, version FROM {deadlines}"),
        ),
    ]


def view_names() -> list[str]:
    return [v.name for v in _views(timedelta(0))]


def ensure(db: Database, schema: str, penalty_window: timedelta) -> None:
    """Create or update the analysts' views (after the read models' stable views)."""
    views = _views(penalty_window)
    if isinstance(db, PostgresDatabase):
        _ensure_postgres(db, check_name(schema), views)
        return
    with db.transaction() as cur:
        for view in views:
            name = SQLITE_PREFIX + view.name
            cur.run("DROP VIEW IF EXISTS {view}", view=name)
            cur.run("CREATE VIEW {view} AS " + view.sqlite, view=name, **{s: s for s in SOURCES})


def _ensure_postgres(db: PostgresDatabase, schema: str, views: list[AnalyticsView]) -> None:
    # A marker on the schema tells whether these very views are there already, so
    # a process starting never takes the views' locks (analysts may be querying).
    marker = "disputes analytics " + hashlib.sha256(
        "\n".join(f"{db.schema} {v.name} {v.postgres}" for v in views).encode()
    ).hexdigest()[:16]
    sources = {s: Identifier(db.schema, s) for s in SOURCES}
    with db.pool.connection() as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [schema])
        found = conn.execute(
            "SELECT obj_description(n.oid, 'pg_namespace') AS marker, "
            "(SELECT COUNT(*) FROM pg_views v WHERE v.schemaname = n.nspname AND v.viewname = ANY(%s)) AS views "
            "FROM pg_namespace n WHERE n.nspname = %s",
            [[v.name for v in views], schema],
        ).fetchone()
        if found is not None and found["marker"] == marker and found["views"] == len(views):
            return
        if found is None:  # a schema created beforehand needs no CREATE privilege on the database
            conn.execute(SQL("CREATE SCHEMA {}").format(Identifier(schema)))
        for view in views:
            name = Identifier(schema, view.name)
            conn.execute(SQL("CREATE OR REPLACE VIEW {} AS ").format(name) + SQL(view.postgres).format(**sources))
            conn.execute(SQL("COMMENT ON VIEW {} IS {}").format(name, Literal(view.about)))
        conn.execute(SQL("COMMENT ON SCHEMA {} IS {}").format(Identifier(schema), Literal(marker)))


def grant_reader(db: PostgresDatabase, schema: str, role: str, password: str | None) -> bool:
    """Give `role` (created if missing; NOLOGIN unless a password is given) read
    access to the analytics schema and nothing else; whether it was created."""
    role, schema = check_name(role), check_name(schema)
    who, where = Identifier(role), Identifier(schema)
    with db.pool.connection() as conn, conn.transaction():
        created = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone() is None
        if created:
            login = SQL("LOGIN PASSWORD {}").format(Literal(password)) if password else SQL("NOLOGIN")
            conn.execute(SQL("CREATE ROLE {} ").format(who) + login)
        conn.execute(SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(who))
        conn.execute(SQL("GRANT USAGE ON SCHEMA {} TO {}").format(where, who))
        conn.execute(SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(where, who))
        # Views a later version adds to the schema are readable by the role too.
        conn.execute(SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(where, who))
    return created
