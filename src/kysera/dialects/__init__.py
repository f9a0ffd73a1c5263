"""One module per engine; each is imported only when a URL asks for it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..url import DatabaseUrl
    from .base import Dialect, DriverConnection


#: the modules a connection to each engine imports: kysera's own and the driver's (the command
#: line imports them early, while the migration files compile)
ENGINE_MODULES: dict[str, tuple[str, ...]] = {
    "sqlite": ("kysera.dialects.sqlite",),
    "postgres": ("kysera.dialects.postgres", "psycopg"),
    "mysql": ("kysera.dialects.mysql", "pymysql"),
}


def open_connection(url: DatabaseUrl) -> tuple[DriverConnection, Dialect]:
    """Open a driver connection for ``url`` and describe its engine."""
    if url.dialect == "sqlite":
        from .sqlite import open_sqlite

        return open_sqlite(url)
    if url.dialect == "postgres":
        from .postgres import open_postgres

        return open_postgres(url)
    from .mysql import open_mysql

    return open_mysql(url)


def offline_dialect(name: str) -> Dialect:
    """A dialect with no connection, for compiling SQL offline (``kysera migrate sql``)."""
    dialect = _dialect_named(name)
    dialect.offline = True
    return dialect


def _dialect_named(name: str) -> Dialect:
    from ..errors import ConfigurationError

    key = {"postgresql": "postgres", "pg": "postgres", "mariadb": "mysql"}.get(name.lower(), name.lower())
    if key == "sqlite":
        import sqlite3

        from .sqlite import SqliteDialect

        return SqliteDialect(tuple(sqlite3.sqlite_version_info), f"SQLite {sqlite3.sqlite_version}")
    if key == "postgres":
        from .postgres import PostgresDialect

        return PostgresDialect((15, 0), "PostgreSQL 15")
    if key == "mysql":
        from .mysql import MysqlDialect

        text = "MariaDB 10.11" if name.lower() == "mariadb" else "MySQL 8.0"
        return MysqlDialect((10, 11) if name.lower() == "mariadb" else (8, 0), text)
    raise ConfigurationError(f"unknown dialect {name!r}; use one of: postgres, mysql, mariadb, sqlite")
