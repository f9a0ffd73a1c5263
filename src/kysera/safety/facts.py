"""What the analysis knows about the live database: table sizes, column types, the version.

Offline (``kysera migrate lint`` without a database) nothing is known, and every existing table
is assumed to be large: the conservative answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ..nodes import IdentifierNode

if TYPE_CHECKING:
    from ..database import Database
    from ..introspection import ColumnInfo, TableInfo


class Facts(Protocol):
    def rows(self, table: IdentifierNode) -> int | None:
        """Rows in ``table``, counted up to the large-table threshold; None when unknown."""
        ...

    def column_type(self, table: IdentifierNode, column: str) -> str | None: ...

    def has_column(self, table: IdentifierNode, column: str) -> bool | None:
        """Whether the table has the column now; None when unknown (no such table yet, offline)."""
        ...

    def not_null_proofs(self, table: IdentifierNode, column: str) -> set[str]:
        """The validated CHECK (column IS NOT NULL) constraints of the table, by name (PostgreSQL)."""
        ...

    def nullable(self, table: IdentifierNode, column: str) -> bool | None:
        """Whether the column takes NULL now; None when unknown."""
        ...

    def not_null_check(self, table: IdentifierNode, name: str) -> str | None:
        """The column the table's CHECK ``name`` says IS NOT NULL, validated or not (PostgreSQL);
        None for another check, or when unknown."""
        ...

    def index_columns(self, table: IdentifierNode, index: str) -> tuple[str, ...] | None:
        """The key columns of the table's index ``index``; None when unknown (an index this
        plan creates, offline)."""
        ...

    def index_table(self, index: IdentifierNode) -> IdentifierNode | None:
        """The table of the index ``index`` (PostgreSQL's DROP INDEX does not name it); None when unknown."""
        ...

    def volatile_functions(self, names: set[str]) -> set[str] | None:
        """Which of the functions ``names`` (lower case) are volatile, or unknown to the server
        (PostgreSQL's ``pg_proc``); None when the catalog cannot say."""
        ...

    def partitioned(self, table: IdentifierNode) -> bool | None:
        """Whether ``table`` is a partitioned table (PostgreSQL), which builds and drops no index
        concurrently; None when unknown."""
        ...


class OfflineFacts:
    """Knows nothing: every table may be large."""

    def rows(self, table: IdentifierNode) -> int | None:
        return None

    def column_type(self, table: IdentifierNode, column: str) -> str | None:
        return None

    def has_column(self, table: IdentifierNode, column: str) -> bool | None:
        return None

    def not_null_proofs(self, table: IdentifierNode, column: str) -> set[str]:
        return set()

    def nullable(self, table: IdentifierNode, column: str) -> bool | None:
        return None

    def not_null_check(self, table: IdentifierNode, name: str) -> str | None:
        return None

    def index_columns(self, table: IdentifierNode, index: str) -> tuple[str, ...] | None:
        return None

    def index_table(self, index: IdentifierNode) -> IdentifierNode | None:
        return None

    def volatile_functions(self, names: set[str]) -> set[str] | None:
        return None

    def partitioned(self, table: IdentifierNode) -> bool | None:
        return None


def not_null_check_column(expression: str) -> str | None:
    """The column of a CHECK that says ``col IS NOT NULL`` and nothing else, else None."""
    import re

    m = re.fullmatch(r'[\s(]*("(?:[^"]|"")+"|`(?:[^`]|``)+`|[A-Za-z_][A-Za-z0-9_$]*)\s+IS\s+NOT\s+NULL[\s)]*', expression, re.I)
    if m is None:
        return None
    name = m.group(1)
    if name[0] in '"`':
        return name[1:-1].replace(name[0] * 2, name[0])
    return name.lower()  # PostgreSQL folds an unquoted name to lower case


class LiveFacts:
    """Reads a connected database. Counts are bounded, so a huge table costs no more than the threshold."""

    def __init__(self, db: Database, threshold: int) -> None:
        self._db = db
        self._threshold = max(1, threshold)
        self._rows: dict[tuple[str | None, str], int | None] = {}
        self._tables: dict[tuple[str | None, str], TableInfo | None] = {}

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
        """The column's current type, as introspection spells it (lower case)."""
        found = self._column(table, column)
        return found.data_type if found else None

    def has_column(self, table: IdentifierNode, column: str) -> bool | None:
        if self._table(table) is None:
            return None
        return self._column(table, column) is not None

    def _table(self, table: IdentifierNode) -> TableInfo | None:
        key = (table.schema, table.name)
        if key not in self._tables:
            name = table.name if table.schema is None else f"{table.schema}.{table.name}"
            try:
                self._tables[key] = self._db.introspect_table(name)
            except Exception:  # a table created earlier in the same plan, an odd catalog: unknown
                self._tables[key] = None
        return self._tables[key]

    def _column(self, table: IdentifierNode, column: str) -> ColumnInfo | None:
        info = self._table(table)
        if info is None:
            return None
        found = next((c for c in info.columns if c.name == column), None)
        if found is None and self._db.dialect.name != "postgres":
            # SQLite's and MySQL's column names are not case-sensitive
            found = next((c for c in info.columns if c.name.lower() == column.lower()), None)
        return found

    def nullable(self, table: IdentifierNode, column: str) -> bool | None:
        found = self._column(table, column)
        return found.nullable if found else None

    def index_columns(self, table: IdentifierNode, index: str) -> tuple[str, ...] | None:
        info = self._table(table)
        found = info.index(index) if info is not None else None
        return found.columns if found else None

    def not_null_check(self, table: IdentifierNode, name: str) -> str | None:
        if self._db.dialect.name != "postgres":
            return None
        try:
            rows = self._db.fetch(
                "SELECT pg_get_constraintdef(oid) AS d FROM pg_constraint WHERE conrelid = to_regclass(%s) "
                "AND contype = 'c' AND conname = %s",
                [self._db.dialect.compiler().table_name(table), name],
            )
        except Exception:  # a table this plan creates: unknown
            return None
        if not rows:
            return None
        text = str(rows[0]["d"]).removeprefix("CHECK").strip()
        return not_null_check_column(text.removesuffix("NOT VALID").strip())

    def not_null_proofs(self, table: IdentifierNode, column: str) -> set[str]:
        if self._db.dialect.name != "postgres":
            return set()
        try:
            rows = self._db.fetch(
                "SELECT conname AS name, pg_get_constraintdef(oid) AS d FROM pg_constraint "
                "WHERE conrelid = to_regclass(%s) AND contype = 'c' AND convalidated",
                [self._db.dialect.compiler().table_name(table)],
            )
        except Exception:  # a table this plan creates: nothing proven
            return set()
        return {str(r["name"]) for r in rows if not_null_check_column(str(r["d"]).removeprefix("CHECK")) == column}

    def index_table(self, index: IdentifierNode) -> IdentifierNode | None:
        if self._db.dialect.name != "postgres":
            return None
        try:
            rows = self._db.fetch(
                "SELECT n.nspname AS s, t.relname AS t, n.nspname = current_schema() AS here FROM pg_index i "
                "JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
                "WHERE i.indexrelid = to_regclass(%s)",
                [self._db.dialect.compiler().table_name(index)],
            )
        except Exception:  # an index this plan creates: unknown
            return None
        if not rows:
            return None
        return IdentifierNode(str(rows[0]["t"]), None if rows[0]["here"] else str(rows[0]["s"]))

    def volatile_functions(self, names: set[str]) -> set[str] | None:
        if self._db.dialect.name != "postgres":
            return None
        try:
            rows = self._db.fetch(
                "SELECT proname AS n, bool_or(provolatile = 'v') AS v FROM pg_proc WHERE proname = ANY(%s) GROUP BY proname",
                [sorted(names)],
            )
        except Exception:
            return None
        known = {str(r["n"]): bool(r["v"]) for r in rows}
        return {name for name in names if known.get(name, True)}  # a function it does not know may be anything

    def partitioned(self, table: IdentifierNode) -> bool | None:
        if self._db.dialect.name != "postgres":
            return False
        try:
            rows = self._db.fetch(
                "SELECT relkind = 'p' AS p FROM pg_class WHERE oid = to_regclass(%s)",
                [self._db.dialect.compiler().table_name(table)],
            )
        except Exception:  # a table this plan creates: unknown
            return None
        return bool(rows[0]["p"]) if rows else None
