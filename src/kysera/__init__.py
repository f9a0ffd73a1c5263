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
    from .compiled import CompiledQuery
    from .database import (
        ConnectionLostError,
        Database,
        NonTransactionalStatementError,
        Result,
        connect,
    )
    from .dialects.base import Row
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
    from .migrations import (
        Migration,
        MigrationError,
        MigrationResult,
        MigrationRunner,
        MigrationStatus,
        create_migration_runner,
        get_migration_status,
        load_migrations,
        rollback_migrations,
        run_migrations,
    )
    from .nodes import CompiledStatement
    from .query.expressions import excluded
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
    # an upsert's proposed row: on_conflict(...).do_update_set({"name": excluded("name")})
    "excluded": "query.expressions",
    "ConnectionLostError": "database",
    "NonTransactionalStatementError": "database",
    "Row": "dialects.base",
    # what .compile() returns: a CompiledQuery, a list of CompiledStatement
    "CompiledQuery": "compiled",
    "CompiledStatement": "nodes",
    # the runner's API, as the guide imports it (also from kysera.migrations)
    **dict.fromkeys(
        [
            "Migration",
            "MigrationError",
            "MigrationResult",
            "MigrationRunner",
            "MigrationStatus",
            "create_migration_runner",
            "get_migration_status",
            "load_migrations",
            "rollback_migrations",
            "run_migrations",
        ],
        "migrations",
    ),
}

__all__ = [
    "BuilderError",
    "CompiledQuery",
    "CompiledStatement",
    "ConfigurationError",
    "ConnectionFailedError",
    "ConnectionLostError",
    "Database",
    "InvalidUrlError",
    "KyseraError",
    "Migration",
    "MigrationError",
    "MigrationResult",
    "MigrationRunner",
    "MigrationStatus",
    "MissingDriverError",
    "NonTransactionalStatementError",
    "Result",
    "Row",
    "Sql",
    "StatementError",
    "UnknownSchemeError",
    "UnsupportedError",
    "connect",
    "create_migration_runner",
    "enum_type",
    "excluded",
    "get_migration_status",
    "load_migrations",
    "rollback_migrations",
    "run_migrations",
    "sql",
]


if not TYPE_CHECKING:  # to a type checker, only the names imported above exist
    __getattr__ = lazy_exports(__name__, _EXPORTS, globals())
