"""What the analysis knows about the live database: table sizes, column types, the version.

Offline (``kysera migrate lint`` without a database) nothing is known, and every existing table
is assumed to be large: the conservative answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ..nodes import IdentifierNode

if TYPE_CHECKING:
    from ..database import Database


class Facts(Protocol):
    def rows(self, table: IdentifierNode) -> int | None:
        """Rows in ``table``, counted up to the large-table threshold; None when unknown."""
        ...

    def column_type(self, table: IdentifierNode, column: str) -> str | None: ...


class OfflineFacts:
    """Knows nothing: every table may be large."""

    def rows(self, table: IdentifierNode) -> int | None:
        return None

    def column_type(self, table: IdentifierNode, column: str) -> str | None:
        return None


class LiveFacts:
    """Reads a connected database. Counts are bounded, so a huge table costs no more than the threshold."""

    def __init__(self, db: Database, threshold: int) -> None:
        self._db = db
        self._threshold = max(1, threshold)
        self._rows: dict[tuple[str | None, str], int | None] = {}

    def rows(self, table: IdentifierNode) -> int | None:
        key = (table.schema, table.name)
        if key not in self._rows:
            self._rows[key] = self._count(table)
        return self._rows[key]

    def _count(self, table: IdentifierNode) -> int | None:
        if not self._db.table_exists(table.name if table.schema is None else f"{table.schema}.{table.name}"):
            return 0
        name = self._db.dialect.compiler().table_name(table)
        try:
            rows = self._db.fetch(f"SELECT count(*) AS n FROM (SELECT 1 AS one FROM {name} LIMIT {self._threshold}) AS bounded")
        except Exception:
            return None
        return int(str(rows[0]["n"])) if rows else None

    def column_type(self, table: IdentifierNode, column: str) -> str | None:
        name = self._db.dialect.name
        try:
            if name == "sqlite":
                quoted = self._db.dialect.compiler().quote(table.name)
                for r in self._db.fetch(f"PRAGMA table_info({quoted})"):
                    if r["name"] == column:
                        return str(r["type"]).lower()
                return None
            if name == "postgres":
                rows = self._db.fetch(
                    "SELECT format_type(a.atttypid, a.atttypmod) AS t FROM pg_attribute a "
                    "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE c.relname = %s AND a.attname = %s AND a.attnum > 0 AND NOT a.attisdropped "
                    "AND n.nspname = " + ("%s" if table.schema else "current_schema()"),
                    [table.name, column, *([table.schema] if table.schema else [])],
                )
            else:
                rows = self._db.fetch(
                    "SELECT COLUMN_TYPE AS t FROM information_schema.COLUMNS WHERE TABLE_NAME = %s AND COLUMN_NAME = %s "
                    "AND TABLE_SCHEMA = " + ("%s" if table.schema else "DATABASE()"),
                    [table.name, column, *([table.schema] if table.schema else [])],
                )
        except Exception:
            return None
        return str(rows[0]["t"]).lower() if rows else None
