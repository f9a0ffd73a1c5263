"""Introspection: what tables, columns, indexes, constraints, views, triggers and routines a database has.

    info = db.introspect()                 # SchemaInfo of the current schema / database
    users = db.introspect_table("users")   # TableInfo, or None when there is no such table
    print(before.diff(after))              # readable differences between two SchemaInfo

Each engine has one reader module: ``postgres`` (pg_catalog), ``mysql`` (information_schema) and
``sqlite`` (sqlite_master and the table-valued pragmas).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .model import (
    CheckConstraintInfo,
    ColumnInfo,
    ForeignKeyInfo,
    IndexInfo,
    RoutineInfo,
    SchemaInfo,
    SequenceInfo,
    TableInfo,
    TriggerInfo,
    UniqueConstraintInfo,
    ViewInfo,
)

if TYPE_CHECKING:
    from ..database import Database

__all__ = [
    "CheckConstraintInfo",
    "ColumnInfo",
    "ForeignKeyInfo",
    "IndexInfo",
    "RoutineInfo",
    "SchemaInfo",
    "SequenceInfo",
    "TableInfo",
    "TriggerInfo",
    "UniqueConstraintInfo",
    "ViewInfo",
    "introspect",
    "introspect_table",
]


def introspect(db: Database, schema: str | None = None, *, exclude: Iterable[str] = ()) -> SchemaInfo:
    """Describe ``schema`` (default: the connection's current schema or database).

    ``exclude`` names tables and views to leave out, e.g. ``("kysera_migrations",)``. SQLite's
    internal ``sqlite_*`` tables are always left out. ``schema`` is the PostgreSQL schema or
    the MySQL database; SQLite has only ``main``.
    """
    skip = tuple(exclude)
    engine = db.dialect.name
    if engine == "sqlite":
        from . import sqlite

        _sqlite_schema(schema)
        return sqlite.read_schema(db, skip)
    if engine == "postgres":
        from . import postgres

        return postgres.read_schema(db, schema, skip)
    from . import mysql

    return mysql.read_schema(db, schema, skip)


def introspect_table(db: Database, name: str, schema: str | None = None) -> TableInfo | None:
    """Describe one table; ``"app.users"`` names a schema too. None when it does not exist."""
    if schema is None and "." in name:
        schema, _, name = name.rpartition(".")
    engine = db.dialect.name
    if engine == "sqlite":
        from . import sqlite

        _sqlite_schema(schema)
        return sqlite.read_table(db, name)
    if engine == "postgres":
        from . import postgres

        return postgres.read_table(db, name, schema)
    from . import mysql

    return mysql.read_table(db, name, schema)


def _sqlite_schema(schema: str | None) -> None:
    if schema not in (None, "main"):
        from ..errors import UnsupportedError

        raise UnsupportedError(
            f"introspecting schema {schema!r}", "SQLite", "introspect the main database (schema=None)"
        )
