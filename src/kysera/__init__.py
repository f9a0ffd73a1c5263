"""kysera: database schema migrations for PostgreSQL, MySQL/MariaDB and SQLite.

    from kysera import connect, sql
    db = connect("sqlite:///app.db")
    db.schema.create_table("users").add_column("id", "serial", lambda col: col.primary_key()).execute()

Names are loaded on first use, so ``import kysera`` stays cheap for the CLI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

from ._lazy import lazy_exports

if TYPE_CHECKING:
    from .database import Database, Result, connect
    from .errors import (
        BuilderError,
        ConfigurationError,
        ConnectionFailedError,
        InvalidUrlError,
        KyseraError,
        MissingDriverError,
        StatementError,
        UnknownSchemeError,
        UnsupportedError,
    )
    from .fragment import Sql, sql
    from .schema.column import enum_type

_EXPORTS = {
    "connect": "database",
    "Database": "database",
    "Result": "database",
    "sql": "fragment",
    "Sql": "fragment",
    "KyseraError": "errors",
    "ConfigurationError": "errors",
    "InvalidUrlError": "errors",
    "UnknownSchemeError": "errors",
    "MissingDriverError": "errors",
    "ConnectionFailedError": "errors",
    "UnsupportedError": "errors",
    "BuilderError": "errors",
    "StatementError": "errors",
    "enum_type": "schema.column",
}

__all__ = [
    "BuilderError",
    "ConfigurationError",
    "ConnectionFailedError",
    "Database",
    "InvalidUrlError",
    "KyseraError",
    "MissingDriverError",
    "Result",
    "Sql",
    "StatementError",
    "UnknownSchemeError",
    "UnsupportedError",
    "connect",
    "enum_type",
    "sql",
]


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
