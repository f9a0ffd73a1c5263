"""Small catalog questions every engine answers: does a table exist, which tables are there."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from ..nodes import IdentifierNode

if TYPE_CHECKING:
    from ..database import Database


def list_tables(db: Database, schema: str | None = None) -> list[str]:
    """Base tables of the current schema (or ``schema``), sorted by name."""
    name = db.dialect.name
    if name == "sqlite":
        rows = db.fetch(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
        )
    elif name == "postgres":
        rows = db.fetch(
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = "
            + ("%s" if schema else "current_schema()")
            + " AND table_type = 'BASE TABLE' ORDER BY table_name",
            [schema] if schema else [],
        )
    else:
        rows = db.fetch(
            "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
            + ("%s" if schema else "DATABASE()")
            # MariaDB's tables WITH SYSTEM VERSIONING are tables too, of their own type there
            + " AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') ORDER BY TABLE_NAME",
            [schema] if schema else [],
        )
    return [str(r["name"]) for r in rows]


def table_exists(db: Database, table: IdentifierNode) -> bool:
    name = db.dialect.name
    if name == "sqlite":
        # SQLite's names are not case-sensitive: "Events" is the table events; a schema is an
        # attached database, which keeps its own sqlite_master
        master = "sqlite_master" if table.schema is None else db.dialect.compiler().quote(table.schema) + ".sqlite_master"
        if table.schema is not None and table.schema.lower() != "temp" and not db.fetch(
            "SELECT 1 AS x FROM pragma_database_list WHERE name = ? COLLATE NOCASE", [table.schema]
        ):
            return False  # no database attached by that name, so no table in it (as on the servers)
        rows = db.fetch(f"SELECT 1 AS x FROM {master} WHERE type = 'table' AND name = ? COLLATE NOCASE", [table.name])
    elif name == "postgres":
        rows = db.fetch(
            "SELECT 1 AS x FROM information_schema.tables WHERE table_schema = "
            + ("%s" if table.schema else "current_schema()")
            + " AND table_name = %s",
            [table.schema, table.name] if table.schema else [table.name],
        )
    else:
        rows = db.fetch(
            "SELECT 1 AS x FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
            + ("%s" if table.schema else "DATABASE()")
            + " AND TABLE_NAME = %s",
            [table.schema, table.name] if table.schema else [table.name],
        )
    return bool(rows)


class SchemaObject(NamedTuple):
    """Something ``kysera migrate fresh`` drops: its kind as a person says it, its name, the statement."""

    kind: str
    name: str
    drop: str


#: PostgreSQL: what the current schema holds besides tables, none of it an extension's (pg_depend
#: 'e') and no sequence that a column owns ('a': serial, 'i': identity); in the order to drop it
_PG_OBJECTS = """
SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' ELSE 'sequence' END AS kind,
       c.relname AS name, NULL AS signature, CASE c.relkind WHEN 'S' THEN 3 ELSE 1 END AS pass
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('v', 'm', 'S')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('e', 'a', 'i'))
UNION ALL
SELECT CASE t.typtype WHEN 'd' THEN 'domain' ELSE 'type' END, t.typname, NULL, 4
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = current_schema() AND t.typtype IN ('e', 'd', 'r', 'c')
  AND (t.typtype <> 'c' OR (SELECT r.relkind FROM pg_class r WHERE r.oid = t.typrelid) = 'c')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END,
       p.proname, p.oid::regprocedure::text, 2
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = current_schema() AND p.prokind IN ('f', 'p', 'a', 'w')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype IN ('e', 'i'))
UNION ALL
SELECT 'collation', c.collname, NULL, 4
FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace
WHERE n.nspname = current_schema()
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
ORDER BY pass, kind, name
"""


def objects_besides_tables(db: Database) -> list[SchemaObject]:
    """Views, sequences, types, routines and collations of the current schema that the migrations may have
    made: what dropping every table leaves behind, none of it an extension's. Each comes with the
    statement that drops it (``IF EXISTS``: an earlier drop's ``CASCADE`` may have taken it)."""
    name = db.dialect.name
    compiler = db.dialect.compiler()
    q = compiler.quote
    if name == "sqlite":
        rows = db.fetch("SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name")
        return [SchemaObject("view", str(r["name"]), f"DROP VIEW IF EXISTS {q(str(r['name']))}") for r in rows]
    if name == "postgres":
        out = []
        for r in db.fetch(_PG_OBJECTS):
            kind, obj = str(r["kind"]), str(r["name"])
            target = str(r["signature"]) if r["signature"] else q(obj)
            out.append(SchemaObject(kind, obj, f"DROP {kind.upper()} IF EXISTS {target} CASCADE"))
        return out
    rows = db.fetch(
        "SELECT CASE TABLE_TYPE WHEN 'VIEW' THEN 'view' ELSE 'sequence' END AS kind, TABLE_NAME AS name "
        "FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE IN ('VIEW', 'SEQUENCE') "
        "UNION ALL SELECT LOWER(ROUTINE_TYPE), ROUTINE_NAME FROM information_schema.ROUTINES "
        "WHERE ROUTINE_SCHEMA = DATABASE() "
        "UNION ALL SELECT 'event', EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE() "
        "ORDER BY 1 DESC, 2"
    )
    return [
        SchemaObject(str(r["kind"]), str(r["name"]), f"DROP {str(r['kind']).upper()} IF EXISTS {q(str(r['name']))}")
        for r in rows
    ]


#: PostgreSQL: objects of other schemas that depend on this schema's (a column of a type from here,
#: a view or a foreign key on a table from here), which dropping this schema's with CASCADE would
#: take with them
_PG_OUTSIDE_DEPENDENTS = """
SELECT DISTINCT d.type || ' ' || d.identity || ' (uses ' || r.type || ' ' || r.identity || ')' AS what
FROM pg_depend dep
CROSS JOIN LATERAL pg_identify_object(dep.classid, dep.objid, dep.objsubid) d
CROSS JOIN LATERAL pg_identify_object(dep.refclassid, dep.refobjid, 0) r
WHERE dep.deptype = 'n' AND r.schema = current_schema()
  AND d.schema IS NOT NULL AND d.schema <> current_schema() AND left(d.schema, 3) <> 'pg_'
ORDER BY 1 LIMIT 10
"""


def outside_dependents(db: Database) -> list[str]:
    """What other schemas hold that depends on the current schema's objects (PostgreSQL; empty
    elsewhere, where a drop takes nothing of another database with it)."""
    if db.dialect.name != "postgres":
        return []
    return [str(r["what"]) for r in db.fetch(_PG_OUTSIDE_DEPENDENTS)]
