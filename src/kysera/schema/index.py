"""``db.schema.create_index(name)`` and ``db.schema.drop_index(name)``."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import BuilderError
from ..fragment import Sql, to_raw
from ..nodes import (
    DDL_ALGORITHMS,
    DDL_LOCKS,
    AndNode,
    CreateIndexNode,
    DropIndexNode,
    FilterNode,
    IdentifierNode,
    IndexColumnNode,
    RawNode,
)
from ..query.expressions import filter_node
from .executable import Executable, ddl_option


def _index_column(column: str | Sql) -> IndexColumnNode:
    if isinstance(column, Sql):
        return IndexColumnNode(column.node)
    if not isinstance(column, str) or not column.strip():
        raise BuilderError(f"an index column is a name or sql(...), got {column!r}")
    words = column.strip().rsplit(None, 1)
    if len(words) == 2 and words[1].lower() in ("asc", "desc"):
        return IndexColumnNode(words[0], words[1].lower() == "desc")
    return IndexColumnNode(column.strip())


class CreateIndexBuilder(Executable[CreateIndexNode]):
    __slots__ = ()

    def on(self, table: str | Sql) -> CreateIndexBuilder:
        """The indexed table: ``"users"``, ``"app.users"`` or ``sql.id(...)``."""
        return self._changed(table=self._db._table(table))

    def column(self, column: str | Sql) -> CreateIndexBuilder:
        """One column (``"created_at desc"`` sorts descending) or an expression ``sql("lower(email)")``."""
        return self._changed(columns=(*self._node.columns, _index_column(column)))

    def columns(self, columns: Sequence[str | Sql]) -> CreateIndexBuilder:
        if isinstance(columns, str):
            raise BuilderError("columns() takes a list; use column() for one")
        return self._changed(columns=(*self._node.columns, *(_index_column(c) for c in columns)))

    def expression(self, expression: Sql) -> CreateIndexBuilder:
        return self.column(expression)

    def unique(self) -> CreateIndexBuilder:
        return self._changed(unique=True)

    def if_not_exists(self) -> CreateIndexBuilder:
        return self._changed(if_not_exists=True)

    def concurrently(self) -> CreateIndexBuilder:
        """Build without blocking writes: PostgreSQL's CONCURRENTLY (outside a transaction).

        MySQL/MariaDB build secondary indexes online already; SQLite has no online build.
        """
        return self._changed(concurrently=True)

    def where(self, *args: object) -> CreateIndexBuilder:
        """A partial index (PostgreSQL, SQLite): ``where(sql("status = {}", "active"))``, SQL
        text, or as the data builders filter: ``where("status", "=", "active")``,
        ``where({"status": "active"})``. Values are written as literals; several calls are
        joined with AND."""
        node: FilterNode
        if len(args) == 1 and isinstance(args[0], str):
            node = RawNode((args[0],))
        elif len(args) == 1 and isinstance(args[0], Sql):
            node = to_raw(args[0])
        else:
            node = filter_node(*args)
        if self._node.where is not None:
            node = AndNode((self._node.where, node))
        return self._changed(where=node)

    def using(self, method: str) -> CreateIndexBuilder:
        return self._changed(using=method)

    def include(self, columns: Sequence[str]) -> CreateIndexBuilder:
        return self._changed(include=tuple(columns))

    def nulls_not_distinct(self) -> CreateIndexBuilder:
        return self._changed(nulls_not_distinct=True)

    def algorithm(self, value: str) -> CreateIndexBuilder:
        """MySQL/MariaDB's ``ALGORITHM=`` clause: ``"inplace"`` (writes continue), ``"nocopy"``
        (MariaDB), ``"copy"`` or ``"default"``; no index is built instantly. Ignored on PostgreSQL
        (use ``concurrently()``) and SQLite."""
        return self._changed(algorithm=ddl_option(value, DDL_ALGORITHMS, "algorithm"))

    def lock(self, value: str) -> CreateIndexBuilder:
        """MySQL/MariaDB's ``LOCK=`` clause: ``"none"``, ``"shared"``, ``"exclusive"`` or ``"default"``."""
        return self._changed(lock=ddl_option(value, DDL_LOCKS, "lock"))


class DropIndexBuilder(Executable[DropIndexNode]):
    __slots__ = ()

    def on(self, table: str | Sql) -> DropIndexBuilder:
        """The index's table: MySQL needs it; the other engines accept and ignore it."""
        return self._changed(table=self._db._table(table))

    def if_exists(self) -> DropIndexBuilder:
        return self._changed(if_exists=True)

    def concurrently(self) -> DropIndexBuilder:
        return self._changed(concurrently=True)

    def cascade(self) -> DropIndexBuilder:
        return self._changed(cascade=True)

    def algorithm(self, value: str) -> DropIndexBuilder:
        """MySQL/MariaDB's ``ALGORITHM=`` clause (MariaDB: as ``ALTER TABLE ... DROP INDEX``);
        ignored on PostgreSQL and SQLite."""
        return self._changed(algorithm=ddl_option(value, DDL_ALGORITHMS, "algorithm"))

    def lock(self, value: str) -> DropIndexBuilder:
        """MySQL/MariaDB's ``LOCK=`` clause; ignored on PostgreSQL and SQLite."""
        return self._changed(lock=ddl_option(value, DDL_LOCKS, "lock"))


def index_name(name: str, default_schema: str | None) -> IdentifierNode:
    node = IdentifierNode.parse(name)
    if node.schema is None and default_schema:
        return IdentifierNode(node.name, default_schema)
    return node
