"""Small catalog questions every engine answers: does a table exist, which tables are there."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
            + " AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
            [schema] if schema else [],
        )
    return [str(r["name"]) for r in rows]


def table_exists(db: Database, table: IdentifierNode) -> bool:
    name = db.dialect.name
    if name == "sqlite":
        rows = db.fetch("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?", [table.name])
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


def primary_key_columns(db: Database, table: IdentifierNode) -> list[str]:
    """The primary key's columns, in key order (empty when the table has none)."""
    name = db.dialect.name
    if name == "sqlite":
        quoted = db.dialect.compiler().table_name(IdentifierNode(table.name))
        prefix = f"{db.dialect.compiler().quote(table.schema)}." if table.schema else ""
        rows = [r for r in db.fetch(f"PRAGMA {prefix}table_info({quoted})") if r["pk"]]
        rows.sort(key=lambda r: int(str(r["pk"])))
        return [str(r["name"]) for r in rows]
    if name == "postgres":
        rows = db.fetch(
            "SELECT a.attname AS col FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid "
            "JOIN pg_namespace n ON n.oid = t.relnamespace "
            "JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord) ON true "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum "
            "WHERE ix.indisprimary AND t.relname = %s AND n.nspname = "
            + ("%s" if table.schema else "current_schema()")
            + " ORDER BY k.ord",
            [table.name, table.schema] if table.schema else [table.name],
        )
    else:
        rows = db.fetch(
            "SELECT COLUMN_NAME AS col FROM information_schema.KEY_COLUMN_USAGE WHERE CONSTRAINT_NAME = 'PRIMARY' "
            "AND TABLE_NAME = %s AND TABLE_SCHEMA = "
            + ("%s" if table.schema else "DATABASE()")
            + " ORDER BY ORDINAL_POSITION",
            [table.name, table.schema] if table.schema else [table.name],
        )
    return [str(r["col"]) for r in rows]
