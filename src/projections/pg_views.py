"""Re-pointing a stable view on Postgres while keeping what analysts built on it.

A rebuild used to drop the stable view and create it again, which Postgres
refuses while other views depend on it (`DependentObjectsStillExist`), and
which loses the grants on it. Instead:

- when the new generation's table has the view's columns (same names and
  types; more is fine), `CREATE OR REPLACE VIEW` keeps the view itself: its
  columns keep their order and a new column comes last, so the views built on
  it and the grants on it are untouched;
- otherwise (a column changed type or went away) the view is dropped with the
  views that depend on it, directly or through other views, and all are
  created again from their saved definitions, with their owners, grants and
  comments. A dependent that no longer works on the new columns, or one that
  cannot be saved that way (a materialized view), fails the switch with
  ViewInUse naming it, and the transaction changes nothing.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.sql import SQL, Composable, Identifier, Literal

from projections.database import Row, ViewInUse

RELATION = SQL(
    "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s"
)
COLUMNS = SQL(
    "SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute "
    "WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
)
DEPENDENTS = SQL(
    "WITH RECURSIVE deps(oid, depth) AS ("
    " SELECT r.ev_class, 1 FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid"
    " WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass"
    " AND d.refobjid = %s AND r.ev_class <> d.refobjid"
    " UNION SELECT r.ev_class, deps.depth + 1 FROM deps JOIN pg_depend d ON d.refobjid = deps.oid"
    " AND d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass"
    " JOIN pg_rewrite r ON r.oid = d.objid WHERE r.ev_class <> deps.oid) "
    "SELECT c.oid, n.nspname AS schema, c.relname AS name, c.relkind AS kind, MAX(deps.depth) AS depth, "
    "pg_get_viewdef(c.oid) AS definition, pg_get_userbyid(c.relowner) AS owner, "
    "obj_description(c.oid, 'pg_class') AS comment "
    "FROM deps JOIN pg_class c ON c.oid = deps.oid JOIN pg_namespace n ON n.oid = c.relnamespace "
    "GROUP BY c.oid, n.nspname, c.relname, c.relkind, c.relowner ORDER BY MAX(deps.depth), n.nspname, c.relname"
)
GRANTS = SQL(
    "SELECT CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END AS grantee, "
    "a.privilege_type AS privilege, a.is_grantable AS grantable "
    "FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = %s AND a.grantee <> c.relowner"
)
PRIVILEGES = {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"}

Cursor = psycopg.Cursor[Row]


def _rows(cur: Cursor, query: SQL, *params: Any) -> list[Row]:
    cur.execute(query, list(params))
    return list(cur.fetchall())


def _oid(cur: Cursor, schema: str, name: str) -> int | None:
    found = _rows(cur, RELATION, schema, name)
    return int(found[0]["oid"]) if found else None


def point_view(cur: Cursor, schema: str, view: str, table: str) -> None:
    """Make `schema.view` select from `schema.table` (see the module's doc)."""
    table_oid = _oid(cur, schema, table)
    assert table_oid is not None, f"no table {schema}.{table}"
    wanted = {r["name"]: r["type"] for r in _rows(cur, COLUMNS, table_oid)}
    view_oid = _oid(cur, schema, view)
    current = _rows(cur, COLUMNS, view_oid) if view_oid is not None else []
    if view_oid is not None and all(wanted.get(r["name"]) == r["type"] for r in current):
        kept = [r["name"] for r in current]
        _create(cur, SQL("CREATE OR REPLACE VIEW"), Identifier(schema, view), schema, table, [
            *kept, *(c for c in wanted if c not in kept)])  # fmt: skip
        return
    if view_oid is None:
        _create(cur, SQL("CREATE VIEW"), Identifier(schema, view), schema, table, list(wanted))
        return
    # Definitions are saved with every name schema-qualified, whatever the search_path.
    cur.execute("SELECT current_setting('search_path') AS path, set_config('search_path', 'pg_catalog', true)")
    previous = cur.fetchall()[0]["path"]
    dependents = _rows(cur, DEPENDENTS, view_oid)
    frozen = [f"{d['schema']}.{d['name']}" for d in dependents if d["kind"] != "v"]
    if frozen:
        raise ViewInUse(
            f"{schema}.{view} cannot take the columns of {table} while the materialized view(s) "
            f"{', '.join(frozen)} depend on it: drop or adapt them, then rebuild again"
        )
    grants = {d["oid"]: _rows(cur, GRANTS, d["oid"]) for d in dependents} | {view_oid: _rows(cur, GRANTS, view_oid)}
    cur.execute(SQL("DROP VIEW {} CASCADE").format(Identifier(schema, view)))
    _create(cur, SQL("CREATE VIEW"), Identifier(schema, view), schema, table, list(wanted))
    _grant(cur, Identifier(schema, view), grants[view_oid])
    for d in dependents:
        name = Identifier(d["schema"], d["name"])
        try:
            with cur.connection.transaction():  # a savepoint: its end waits for the answer, even in a pipeline
                cur.execute(SQL("CREATE VIEW {} AS {}").format(name, SQL(d["definition"].rstrip().rstrip(";"))))
        except psycopg.Error as error:
            raise ViewInUse(
                f"{d['schema']}.{d['name']} (built on {schema}.{view}) does not work on the columns of {table}: "
                f"{error.diag.message_primary or error}; drop or adapt it, then rebuild again"
            ) from error
        cur.execute(SQL("ALTER VIEW {} OWNER TO {}").format(name, Identifier(d["owner"])))
        _grant(cur, name, grants[d["oid"]])
        if d["comment"] is not None:
            cur.execute(SQL("COMMENT ON VIEW {} IS {}").format(name, Literal(d["comment"])))
    cur.execute("SELECT set_config('search_path', %s, true)", [previous])


def _create(cur: Cursor, verb: SQL, name: Identifier, schema: str, table: str, columns: list[str]) -> None:
    select = SQL(", ").join(Identifier(c) for c in columns)
    cur.execute(SQL("{} {} AS SELECT {} FROM {}").format(verb, name, select, Identifier(schema, table)))


def _grant(cur: Cursor, name: Identifier, grants: list[Row]) -> None:
    for grant in grants:
        privilege = str(grant["privilege"])
        assert privilege in PRIVILEGES, privilege
        grantee: Composable = SQL("PUBLIC") if grant["grantee"] is None else Identifier(grant["grantee"])
        option = SQL(" WITH GRANT OPTION") if grant["grantable"] else SQL("")
        cur.execute(SQL("GRANT {} ON {} TO {}{}").format(SQL(privilege), name, grantee, option))
