"""``db.schema.alter_table(name)``: several actions chained in one call are all applied, in order."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from ..errors import BuilderError
from ..fragment import Sql, to_raw
from ..nodes import (
    AddColumnNode,
    AddConstraintNode,
    AlterColumnNode,
    AlterTableAction,
    AlterTableNode,
    ColumnAlteration,
    DropColumnNode,
    DropConstraintNode,
    DropDefaultNode,
    DropNotNullNode,
    ForeignKeyConstraintNode,
    RawNode,
    RenameColumnNode,
    RenameTableNode,
    SetDataTypeNode,
    SetDefaultNode,
    SetNotNullNode,
    ValidateConstraintNode,
)
from . import constraints as c
from .column import ColumnCallback, build_column, data_type_node, default_node, referential_action
from .executable import Executable


class AlterColumnBuilder:
    """What the ``alter_column(name, lambda col: ...)`` callback receives; chain one or more changes."""

    __slots__ = ("alterations",)

    def __init__(self, alterations: tuple[ColumnAlteration, ...] = ()) -> None:
        self.alterations = alterations

    def _add(self, alteration: ColumnAlteration) -> AlterColumnBuilder:
        return AlterColumnBuilder((*self.alterations, alteration))

    def set_data_type(self, data_type: object, *, using: Sql | None = None) -> AlterColumnBuilder:
        """Change the type; ``using=sql(...)`` converts values (PostgreSQL)."""
        return self._add(SetDataTypeNode(data_type_node(data_type), to_raw(using) if using is not None else None))

    def set_default(self, value: object) -> AlterColumnBuilder:
        return self._add(SetDefaultNode(default_node(value)))

    def drop_default(self) -> AlterColumnBuilder:
        return self._add(DropDefaultNode())

    def set_not_null(self) -> AlterColumnBuilder:
        return self._add(SetNotNullNode())

    def drop_not_null(self) -> AlterColumnBuilder:
        return self._add(DropNotNullNode())


class AlterTableBuilder(Executable[AlterTableNode]):
    """Immutable: each method returns a new builder with one more action."""

    __slots__ = ()

    def _add(self, *actions: AlterTableAction) -> AlterTableBuilder:
        return AlterTableBuilder(self._db, replace(self._node, actions=(*self._node.actions, *actions)))

    def add_column(self, name: str, data_type: object, build: ColumnCallback = None) -> AlterTableBuilder:
        return self._add(AddColumnNode(build_column(name, data_type, build)))

    def drop_column(self, name: str, *, if_exists: bool = False) -> AlterTableBuilder:
        return self._add(DropColumnNode(name, if_exists))

    def rename_column(self, name: str, new_name: str) -> AlterTableBuilder:
        return self._add(RenameColumnNode(name, new_name))

    def rename_to(self, new_name: str) -> AlterTableBuilder:
        return self._add(RenameTableNode(new_name))

    def alter_column(self, name: str, build: Callable[[AlterColumnBuilder], AlterColumnBuilder]) -> AlterTableBuilder:
        """``alter_column("name", lambda col: col.set_data_type("varchar(200)"))``."""
        result = build(AlterColumnBuilder())
        if not isinstance(result, AlterColumnBuilder) or not result.alterations:
            raise BuilderError(
                f"the callback for alter_column({name!r}) must return a change, e.g. lambda col: col.set_not_null()"
            )
        return self._add(*(AlterColumnNode(name, a) for a in result.alterations))

    def add_primary_key_constraint(self, name: str, columns: Sequence[str] | str) -> AlterTableBuilder:
        return self._add(AddConstraintNode(c.primary_key(name, columns)))

    def add_unique_constraint(
        self, name: str, columns: Sequence[str] | str, *, nulls_not_distinct: bool = False
    ) -> AlterTableBuilder:
        return self._add(AddConstraintNode(c.unique(name, columns, nulls_not_distinct)))

    def add_check_constraint(self, name: str, expression: Sql | str | RawNode) -> AlterTableBuilder:
        expr = expression if isinstance(expression, Sql | str) else Sql(expression)
        return self._add(AddConstraintNode(c.check(name, expr)))

    def add_foreign_key_constraint(
        self,
        name: str,
        columns: Sequence[str] | str,
        table: str,
        ref_columns: Sequence[str] | str,
        build: Callable[[c.ForeignKeyBuilder], c.ForeignKeyBuilder] | None = None,
    ) -> AlterTableBuilder:
        """A foreign key; chain ``.on_delete(...)`` / ``.on_update(...)`` right after it."""
        return self._add(AddConstraintNode(c.foreign_key(name, columns, table, ref_columns, build)))

    def _replace_last_fk(self, method: str, **changes: object) -> AlterTableBuilder:
        last = self._node.actions[-1] if self._node.actions else None
        if not (isinstance(last, AddConstraintNode) and isinstance(last.constraint, ForeignKeyConstraintNode)):
            raise BuilderError(f"{method}() must follow add_foreign_key_constraint(...)")
        fk = last.constraint
        fk = replace(fk, references=replace(fk.references, **changes))  # type: ignore[arg-type]
        actions = (*self._node.actions[:-1], replace(last, constraint=fk))
        return AlterTableBuilder(self._db, replace(self._node, actions=actions))

    def on_delete(self, action: str) -> AlterTableBuilder:
        return self._replace_last_fk("on_delete", on_delete=referential_action(action))

    def on_update(self, action: str) -> AlterTableBuilder:
        return self._replace_last_fk("on_update", on_update=referential_action(action))

    def drop_constraint(self, name: str, *, if_exists: bool = False, cascade: bool = False) -> AlterTableBuilder:
        return self._add(DropConstraintNode(name, if_exists, cascade))

    def validate_constraint(self, name: str) -> AlterTableBuilder:
        """Validate a constraint added with ``not_valid`` (PostgreSQL)."""
        return self._add(ValidateConstraintNode(name))
