"""``create_view``, ``drop_view`` and ``refresh_materialized_view``."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import BuilderError
from ..nodes import CreateViewNode, DropViewNode, IdentifierNode, RefreshMaterializedViewNode
from .executable import Executable, query_node


class CreateViewBuilder(Executable[CreateViewNode]):
    """``create_view(name).as_(db.select_from("t").where(...))``; values in the query are inlined
    as escaped literals (a view cannot take parameters)."""

    __slots__ = ()

    def as_(self, query: object) -> CreateViewBuilder:
        """The view's query: ``db.select_from(...)...``, ``sql(...)`` or SQL text."""
        return self._changed(query=query_node(query, "create_view(...).as_()"))

    def columns(self, names: Sequence[str]) -> CreateViewBuilder:
        """Names for the view's columns, in the query's order."""
        if isinstance(names, str) or not names or not all(isinstance(n, str) and n for n in names):
            raise BuilderError(f"columns() takes a non-empty list of names, got {names!r}")
        return self._changed(columns=tuple(names))

    def or_replace(self) -> CreateViewBuilder:
        """Replace a view of that name (SQLite: DROP VIEW IF EXISTS first, in the same transaction)."""
        return self._changed(or_replace=True)

    def if_not_exists(self) -> CreateViewBuilder:
        """Do nothing when the view exists (SQLite, MariaDB, and materialized views on PostgreSQL)."""
        return self._changed(if_not_exists=True)

    def temporary(self) -> CreateViewBuilder:
        """A view that lasts as long as the connection (PostgreSQL, SQLite)."""
        name = self._node.name
        if self._schema and name.schema == self._schema:
            name = IdentifierNode(name.name)
        return self._changed(temporary=True, name=name)

    def materialized(self) -> CreateViewBuilder:
        """A materialized view: the query's rows are stored (PostgreSQL)."""
        return self._changed(materialized=True)

    def with_no_data(self) -> CreateViewBuilder:
        """Create the materialized view empty; fill it with refresh_materialized_view (PostgreSQL)."""
        return self._changed(with_no_data=True)


class DropViewBuilder(Executable[DropViewNode]):
    __slots__ = ()

    def if_exists(self) -> DropViewBuilder:
        return self._changed(if_exists=True)

    def cascade(self) -> DropViewBuilder:
        """Also drop the views that use it (PostgreSQL)."""
        return self._changed(cascade=True)

    def materialized(self) -> DropViewBuilder:
        """The view is a materialized view (PostgreSQL)."""
        return self._changed(materialized=True)


class RefreshMaterializedViewBuilder(Executable[RefreshMaterializedViewNode]):
    """``REFRESH MATERIALIZED VIEW`` (PostgreSQL)."""

    __slots__ = ()

    def concurrently(self) -> RefreshMaterializedViewBuilder:
        """Refresh without locking out readers; the view needs a unique index. It can run inside a
        transaction."""
        return self._changed(concurrently=True, with_no_data=False)

    def with_no_data(self) -> RefreshMaterializedViewBuilder:
        """Empty the view (it cannot be read until the next refresh)."""
        return self._changed(with_no_data=True, concurrently=False)

    def with_data(self) -> RefreshMaterializedViewBuilder:
        """Fill the view from its query (the default)."""
        return self._changed(with_no_data=False)
