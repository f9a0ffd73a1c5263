"""``db.schema.alter_table(name)``: several actions chained in one call are all applied, in order."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..errors import BuilderError
from ..fragment import Sql, to_raw
from ..nodes import (
    DDL_ALGORITHMS,
    DDL_LOCKS,
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
    ModifyColumnNode,
    RawNode,
    RenameColumnNode,
    RenameConstraintNode,
    RenameTableNode,
    SetDataTypeNode,
    SetDefaultNode,
    SetNotNullNode,
    SetSchemaNode,
    TableCommentNode,
    ValidateConstraintNode,
    replace,
)
from . import constraints as c
from .column import ColumnCallback, build_column, data_type_node, default_node, referential_action
from .executable import Executable, ddl_option, name_of


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
        return self._add(AddColumnNode(build_column(name, data_type, build, self._schema)))

    def drop_column(self, name: str, *, if_exists: bool = False) -> AlterTableBuilder:
        return self._add(DropColumnNode(name_of(name, "a column name"), if_exists))

    def rename_column(self, name: str, new_name: str) -> AlterTableBuilder:
        return self._add(RenameColumnNode(name_of(name, "a column name"), name_of(new_name, "the new column name")))

    def rename_to(self, new_name: str) -> AlterTableBuilder:
        """Rename the table; it stays in its schema (later actions of this call use the new name)."""
        return self._add(RenameTableNode(name_of(new_name, "the new table name")))

    def set_schema(self, schema: str) -> AlterTableBuilder:
        """Move the table to another schema (PostgreSQL) or database (MySQL: ``RENAME TO db.table``)."""
        return self._add(SetSchemaNode(name_of(schema, "a schema name")))

    def modify_column(self, name: str, data_type: object, build: ColumnCallback = None) -> AlterTableBuilder:
        """MySQL's ``MODIFY COLUMN``: the column's whole new definition (what is not restated is
        dropped: default, NOT NULL, comment). Elsewhere use :meth:`alter_column`."""
        return self._add(ModifyColumnNode(build_column(name, data_type, build, self._schema)))

    def comment(self, text: str | None) -> AlterTableBuilder:
        """Set (None: remove) the table's comment; SQLite stores none, so nothing is emitted there."""
        if text is not None and not isinstance(text, str):
            raise BuilderError(f"comment() takes a string or None, got {text!r}")
        return self._add(TableCommentNode(text))

    def rename_constraint(self, name: str, new_name: str) -> AlterTableBuilder:
        """PostgreSQL only; elsewhere drop the constraint and add it again."""
        return self._add(RenameConstraintNode(name_of(name, "a constraint name"), name_of(new_name, "the new constraint name")))

    def alter_column(self, name: str, build: Callable[[AlterColumnBuilder], AlterColumnBuilder]) -> AlterTableBuilder:
        """``alter_column("name", lambda col: col.set_data_type("varchar(200)"))``."""
        if not callable(build):
            raise BuilderError(
                f"alter_column({name!r}, ...) takes a callback such as lambda col: col.set_data_type('varchar(200)'), got {build!r}"
            )
        result = build(AlterColumnBuilder())
        if not isinstance(result, AlterColumnBuilder) or not result.alterations:
            raise BuilderError(
                f"the callback for alter_column({name!r}) must return a change, e.g. lambda col: col.set_not_null()"
            )
        return self._add(*(AlterColumnNode(name, a) for a in result.alterations))

    def add_primary_key_constraint(
        self, name: str, columns: Sequence[str] | str | None = None, *, using_index: str | None = None
    ) -> AlterTableBuilder:
        """A primary key on ``columns``; or, with ``using_index`` (PostgreSQL), an existing unique
        index becomes the key, so nothing is built under the lock: build the index first with
        ``create_index(...).unique().concurrently()``. PostgreSQL also sets NOT NULL on its
        columns, scanning the table unless a validated ``CHECK (col IS NOT NULL)`` proves it."""
        return self._add(AddConstraintNode(c.primary_key(name, columns, using_index)))

    def add_unique_constraint(
        self,
        name: str,
        columns: Sequence[str] | str | None = None,
        build: Callable[[c.UniqueConstraintBuilder], c.UniqueConstraintBuilder] | None = None,
        *,
        nulls_not_distinct: bool = False,
        using_index: str | None = None,
    ) -> AlterTableBuilder:
        """A unique constraint on ``columns``; or, with ``using_index`` (PostgreSQL), an existing
        unique index becomes the constraint (build it first with ``.unique().concurrently()``).
        NULLS NOT DISTINCT (PostgreSQL 15+): ``nulls_not_distinct=True``, ``lambda u:
        u.nulls_not_distinct()`` or ``.nulls_not_distinct()`` chained right after it."""
        return self._add(AddConstraintNode(c.unique(name, columns, nulls_not_distinct, using_index, build)))

    def nulls_not_distinct(self) -> AlterTableBuilder:
        """NULLS NOT DISTINCT for the unique constraint added just before (PostgreSQL 15+)."""
        last = self._node.actions[-1] if self._node.actions else None
        constraint = last.constraint if isinstance(last, AddConstraintNode) else None
        unique = c.unique_nulls_not_distinct(constraint, "nulls_not_distinct")  # refuses anything else
        actions = (*self._node.actions[:-1], replace(last, constraint=unique))
        return AlterTableBuilder(self._db, replace(self._node, actions=actions))

    def add_check_constraint(
        self, name: str, expression: Sql | str | RawNode, *, not_valid: bool = False
    ) -> AlterTableBuilder:
        """``not_valid=True`` skips checking existing rows (PostgreSQL; run validate_constraint later)."""
        expr = expression if isinstance(expression, Sql | str) else Sql(expression)
        return self._add(AddConstraintNode(c.check(name, expr), not_valid))

    def add_foreign_key_constraint(
        self,
        name: str,
        columns: Sequence[str] | str,
        table: str | Sql,
        ref_columns: Sequence[str] | str,
        build: Callable[[c.ForeignKeyBuilder], c.ForeignKeyBuilder] | None = None,
        *,
        not_valid: bool = False,
    ) -> AlterTableBuilder:
        """A foreign key; chain ``.on_delete(...)`` / ``.on_update(...)`` / ``.deferrable()`` right after it.

        ``not_valid=True`` skips checking existing rows (PostgreSQL; run validate_constraint later).
        """
        fk = c.foreign_key(name, columns, table, ref_columns, build, self._schema)
        return self._add(AddConstraintNode(fk, not_valid))

    def _replace_last_fk(self, method: str, **changes: object) -> AlterTableBuilder:
        last = self._node.actions[-1] if self._node.actions else None
        if not (isinstance(last, AddConstraintNode) and isinstance(last.constraint, ForeignKeyConstraintNode)):
            raise BuilderError(f"{method}() must follow add_foreign_key_constraint(...)")
        fk = last.constraint
        fk = replace(fk, references=replace(fk.references, **changes))
        actions = (*self._node.actions[:-1], replace(last, constraint=fk))
        return AlterTableBuilder(self._db, replace(self._node, actions=actions))

    def on_delete(self, action: str) -> AlterTableBuilder:
        return self._replace_last_fk("on_delete", on_delete=referential_action(action))

    def on_update(self, action: str) -> AlterTableBuilder:
        return self._replace_last_fk("on_update", on_update=referential_action(action))

    def deferrable(self) -> AlterTableBuilder:
        return self._replace_last_fk("deferrable", deferrable=True)

    def initially_deferred(self) -> AlterTableBuilder:
        return self._replace_last_fk("initially_deferred", deferrable=True, initially_deferred=True)

    def drop_constraint(self, name: str, *, if_exists: bool = False, cascade: bool = False) -> AlterTableBuilder:
        return self._add(DropConstraintNode(name_of(name, "a constraint name"), if_exists, cascade))

    def validate_constraint(self, name: str) -> AlterTableBuilder:
        """Validate a constraint added with ``not_valid`` (PostgreSQL)."""
        return self._add(ValidateConstraintNode(name))

    def algorithm(self, value: str) -> AlterTableBuilder:
        """MySQL/MariaDB's ``ALGORITHM=`` clause on every ALTER TABLE statement of this call:
        ``"instant"``, ``"inplace"``, ``"nocopy"`` (MariaDB), ``"copy"`` or ``"default"``. The server
        refuses the change rather than doing it another way. Ignored on PostgreSQL and SQLite."""
        return AlterTableBuilder(self._db, replace(self._node, algorithm=ddl_option(value, DDL_ALGORITHMS, "algorithm")))

    def lock(self, value: str) -> AlterTableBuilder:
        """MySQL/MariaDB's ``LOCK=`` clause: ``"none"`` (reads and writes continue, or the server
        refuses), ``"shared"``, ``"exclusive"`` or ``"default"``. Ignored on PostgreSQL and SQLite."""
        return AlterTableBuilder(self._db, replace(self._node, lock=ddl_option(value, DDL_LOCKS, "lock")))
