"""``db.schema.create_table(name)`` and ``db.schema.drop_table(name)``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..errors import BuilderError
from ..fragment import Sql, to_raw
from ..nodes import (
    ConstraintNode,
    CreateTableNode,
    DropTableNode,
    ForeignKeyConstraintNode,
    IdentifierNode,
    replace,
)
from . import constraints as c
from .column import ColumnCallback, build_column, referential_action
from .executable import Executable, query_node

ON_COMMIT_ACTIONS = ("preserve rows", "delete rows", "drop")


class CreateTableBuilder(Executable[CreateTableNode]):
    """Immutable: each method returns a new builder."""

    __slots__ = ()

    def _with(self, node: CreateTableNode) -> CreateTableBuilder:
        return CreateTableBuilder(self._db, node)

    def add_column(self, name: str, data_type: object, build: ColumnCallback = None) -> CreateTableBuilder:
        """A column: ``add_column("email", "varchar(255)", lambda col: col.not_null().unique())``."""
        for col in self._node.columns:
            if col.name == name:
                raise BuilderError(f"column {name!r} is added twice to table {self._node.table.name!r}")
        column = build_column(name, data_type, build, self._db._default_schema)
        return CreateTableBuilder(self._db, replace(self._node, columns=(*self._node.columns, column)))

    def if_not_exists(self) -> CreateTableBuilder:
        return self._with(replace(self._node, if_not_exists=True))

    def temporary(self) -> CreateTableBuilder:
        """A temporary table; it lives in the session's temporary schema, so ``db.with_schema``
        does not apply to it."""
        table = self._node.table
        if self._schema and table.schema == self._schema:
            table = IdentifierNode(table.name)
        return self._with(replace(self._node, temporary=True, table=table))

    def on_commit(self, action: str) -> CreateTableBuilder:
        """What a temporary table does at COMMIT: ``"preserve rows"``, ``"delete rows"`` or ``"drop"`` (PostgreSQL)."""
        normal = " ".join(str(action).lower().split())
        if normal not in ON_COMMIT_ACTIONS:
            raise BuilderError(f"on_commit() takes one of {', '.join(ON_COMMIT_ACTIONS)}; got {action!r}")
        return self._with(replace(self._node, on_commit=normal))

    def as_(self, query: object) -> CreateTableBuilder:
        """``CREATE TABLE ... AS <query>``: ``db.select_from(...)...`` or ``sql(...)``.

        Values in the query are written inline as escaped literals, as everywhere in DDL.
        """
        return self._with(replace(self._node, as_select=query_node(query, "create_table(...).as_()")))

    def comment(self, text: str | None) -> CreateTableBuilder:
        """A comment stored with the table: PostgreSQL ``COMMENT ON TABLE``, MySQL ``COMMENT=``;
        SQLite stores no comments and nothing is emitted there."""
        if text is not None and not isinstance(text, str):
            raise BuilderError(f"comment() takes a string, got {text!r}")
        return self._with(replace(self._node, comment=text))

    def modify_front(self, fragment: Sql) -> CreateTableBuilder:
        """Raw SQL between ``CREATE`` and ``TABLE`` (e.g. ``sql("UNLOGGED")``)."""
        return self._with(replace(self._node, modify_front=to_raw(fragment)))

    def modify_end(self, fragment: Sql) -> CreateTableBuilder:
        """Raw SQL after the column list (e.g. ``sql("STRICT")``, ``sql("ENGINE = InnoDB")``)."""
        return self._with(replace(self._node, modify_end=to_raw(fragment)))

    def _add(self, constraint: ConstraintNode) -> CreateTableBuilder:
        return self._with(replace(self._node, constraints=(*self._node.constraints, constraint)))

    def add_primary_key_constraint(self, name: str, columns: Sequence[str] | str) -> CreateTableBuilder:
        return self._add(c.primary_key(name, columns))

    def add_unique_constraint(
        self,
        name: str,
        columns: Sequence[str] | str,
        build: Callable[[c.UniqueConstraintBuilder], c.UniqueConstraintBuilder] | None = None,
        *,
        nulls_not_distinct: bool = False,
    ) -> CreateTableBuilder:
        """A unique constraint; NULLS NOT DISTINCT (PostgreSQL 15+) with ``nulls_not_distinct=True``,
        ``lambda u: u.nulls_not_distinct()`` or ``.nulls_not_distinct()`` chained right after it."""
        return self._add(c.unique(name, columns, nulls_not_distinct, build=build))

    def nulls_not_distinct(self) -> CreateTableBuilder:
        """NULLS NOT DISTINCT for the unique constraint added just before (PostgreSQL 15+)."""
        last = self._node.constraints[-1] if self._node.constraints else None
        unique = c.unique_nulls_not_distinct(last, "nulls_not_distinct")
        return self._with(replace(self._node, constraints=(*self._node.constraints[:-1], unique)))

    def add_check_constraint(self, name: str, expression: Sql | str) -> CreateTableBuilder:
        return self._add(c.check(name, expression))

    def add_foreign_key_constraint(
        self,
        name: str,
        columns: Sequence[str] | str,
        table: str | Sql,
        ref_columns: Sequence[str] | str,
        build: Callable[[c.ForeignKeyBuilder], c.ForeignKeyBuilder] | None = None,
    ) -> CreateTableBuilder:
        """A foreign key; chain ``.on_delete(...)`` / ``.on_update(...)`` / ``.deferrable()`` right after it."""
        return self._add(c.foreign_key(name, columns, table, ref_columns, build, self._schema))

    def _last_fk(self, method: str, **changes: object) -> CreateTableBuilder:
        last = self._node.constraints[-1] if self._node.constraints else None
        if not isinstance(last, ForeignKeyConstraintNode):
            raise BuilderError(f"{method}() must follow add_foreign_key_constraint(...)")
        fk = replace(last, references=replace(last.references, **changes))
        return self._with(replace(self._node, constraints=(*self._node.constraints[:-1], fk)))

    def on_delete(self, action: str) -> CreateTableBuilder:
        """ON DELETE for the foreign key added just before."""
        return self._last_fk("on_delete", on_delete=referential_action(action))

    def on_update(self, action: str) -> CreateTableBuilder:
        """ON UPDATE for the foreign key added just before."""
        return self._last_fk("on_update", on_update=referential_action(action))

    def deferrable(self) -> CreateTableBuilder:
        """DEFERRABLE for the foreign key added just before (PostgreSQL, SQLite)."""
        return self._last_fk("deferrable", deferrable=True)

    def initially_deferred(self) -> CreateTableBuilder:
        """DEFERRABLE INITIALLY DEFERRED for the foreign key added just before (PostgreSQL, SQLite)."""
        return self._last_fk("initially_deferred", deferrable=True, initially_deferred=True)


class DropTableBuilder(Executable[DropTableNode]):
    __slots__ = ()

    def if_exists(self) -> DropTableBuilder:
        return self._changed(if_exists=True)

    def cascade(self) -> DropTableBuilder:
        """Also drop what depends on the table (PostgreSQL only)."""
        return self._changed(cascade=True)

