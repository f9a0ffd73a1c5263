"""``db.schema.create_table(name)`` and ``db.schema.drop_table(name)``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from ..errors import BuilderError
from ..fragment import Sql, to_raw
from ..nodes import ConstraintNode, CreateTableNode, DropTableNode, ForeignKeyConstraintNode
from . import constraints as c
from .column import ColumnCallback, build_column, referential_action
from .executable import Executable


class CreateTableBuilder(Executable[CreateTableNode]):
    """Immutable: each method returns a new builder."""

    __slots__ = ()

    def _with(self, node: CreateTableNode) -> CreateTableBuilder:
        return CreateTableBuilder(self._db, node)

    def add_column(self, name: str, data_type: object, build: ColumnCallback = None) -> CreateTableBuilder:
        """A column: ``add_column("email", "varchar(255)", lambda col: col.not_null().unique())``."""
        if any(col.name == name for col in self._node.columns):
            raise BuilderError(f"column {name!r} is added twice to table {self._node.table.name!r}")
        column = build_column(name, data_type, build)
        return self._with(replace(self._node, columns=(*self._node.columns, column)))

    def if_not_exists(self) -> CreateTableBuilder:
        return self._with(replace(self._node, if_not_exists=True))

    def temporary(self) -> CreateTableBuilder:
        return self._with(replace(self._node, temporary=True))

    def as_(self, select: Sql) -> CreateTableBuilder:
        """``CREATE TABLE ... AS <select>``."""
        node = getattr(select, "to_select_raw", None)
        raw = node() if node is not None else to_raw(select)
        return self._with(replace(self._node, as_select=raw))

    def modify_front(self, fragment: Sql) -> CreateTableBuilder:
        return self._with(replace(self._node, modify_front=to_raw(fragment)))

    def modify_end(self, fragment: Sql) -> CreateTableBuilder:
        return self._with(replace(self._node, modify_end=to_raw(fragment)))

    def _add(self, constraint: ConstraintNode) -> CreateTableBuilder:
        return self._with(replace(self._node, constraints=(*self._node.constraints, constraint)))

    def add_primary_key_constraint(self, name: str, columns: Sequence[str] | str) -> CreateTableBuilder:
        return self._add(c.primary_key(name, columns))

    def add_unique_constraint(
        self, name: str, columns: Sequence[str] | str, *, nulls_not_distinct: bool = False
    ) -> CreateTableBuilder:
        return self._add(c.unique(name, columns, nulls_not_distinct))

    def add_check_constraint(self, name: str, expression: Sql | str) -> CreateTableBuilder:
        return self._add(c.check(name, expression))

    def add_foreign_key_constraint(
        self,
        name: str,
        columns: Sequence[str] | str,
        table: str,
        ref_columns: Sequence[str] | str,
        build: Callable[[c.ForeignKeyBuilder], c.ForeignKeyBuilder] | None = None,
    ) -> CreateTableBuilder:
        return self._add(c.foreign_key(name, columns, table, ref_columns, build))

    def _last_fk(self, method: str) -> ForeignKeyConstraintNode:
        last = self._node.constraints[-1] if self._node.constraints else None
        if not isinstance(last, ForeignKeyConstraintNode):
            raise BuilderError(f"{method}() must follow add_foreign_key_constraint(...)")
        return last

    def on_delete(self, action: str) -> CreateTableBuilder:
        """ON DELETE for the foreign key added just before."""
        fk = self._last_fk("on_delete")
        fk = replace(fk, references=replace(fk.references, on_delete=referential_action(action)))
        return self._with(replace(self._node, constraints=(*self._node.constraints[:-1], fk)))

    def on_update(self, action: str) -> CreateTableBuilder:
        """ON UPDATE for the foreign key added just before."""
        fk = self._last_fk("on_update")
        fk = replace(fk, references=replace(fk.references, on_update=referential_action(action)))
        return self._with(replace(self._node, constraints=(*self._node.constraints[:-1], fk)))


class DropTableBuilder(Executable[DropTableNode]):
    __slots__ = ()

    def if_exists(self) -> DropTableBuilder:
        return DropTableBuilder(self._db, replace(self._node, if_exists=True))

    def cascade(self) -> DropTableBuilder:
        """Also drop what depends on the table (PostgreSQL only)."""
        return DropTableBuilder(self._db, replace(self._node, cascade=True))
