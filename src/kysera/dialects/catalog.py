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

