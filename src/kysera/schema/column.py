"""``ColumnBuilder``: what the ``add_column(name, type, lambda col: ...)`` callback receives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import BuilderError
from ..fragment import Sql, to_raw
from ..nodes import (
    REFERENTIAL_ACTIONS,
    ColumnDefinitionNode,
    DataTypeNode,
    EnumTypeNode,
    Expression,
    IdentifierNode,
    LiteralNode,
    RawNode,
    ReferencesNode,
    ValueNode,
    replace,
)


def data_type_node(data_type: object) -> DataTypeNode:
    if isinstance(data_type, str):
        if not data_type.strip():
            raise BuilderError("a column type cannot be empty")
        return DataTypeNode(data_type)
    if isinstance(data_type, Sql | RawNode):
        return DataTypeNode(to_raw(data_type))
    if isinstance(data_type, EnumTypeNode):
        return DataTypeNode(data_type)
    raise BuilderError(
        f"a column type is a string such as 'varchar(255)', sql(...) or enum_type(...), not {data_type!r}"
    )


def enum_values(values: object, what: str) -> tuple[str, ...]:
    """Enum labels: a non-empty list of distinct, non-empty strings."""
    if isinstance(values, str) or not isinstance(values, list | tuple):
        raise BuilderError(f"{what} takes a list of strings, got {values!r}")
    out = tuple(values)
    if not out or not all(isinstance(v, str) and v for v in out):
        raise BuilderError(f"{what} needs a non-empty list of non-empty strings, got {values!r}")
    if len(set(out)) != len(out):
        raise BuilderError(f"{what} lists a value twice: {list(out)!r}")
    return out


def enum_type(name: str, values: list[str] | tuple[str, ...]) -> EnumTypeNode:
    """A portable enum column type: the named type on PostgreSQL (made by
    ``db.schema.create_type(name).as_enum(values)``), ``enum(...)`` on MySQL, and ``text`` with a
    ``CHECK (col IN (...))`` on SQLite. ``"app.mood"`` names a type in schema ``app``."""
    if not isinstance(name, str) or not name:
        raise BuilderError(f"an enum type name must be a non-empty string, got {name!r}")
    return EnumTypeNode(IdentifierNode.parse(name), enum_values(values, f"enum_type({name!r})"))


def qualify(node: IdentifierNode, schema: str | None) -> IdentifierNode:
    """``node`` in ``schema`` when it names none (``db.with_schema``)."""
    if schema and node.schema is None:
        return IdentifierNode(node.name, schema)
    return node


def qualify_column(col: ColumnDefinitionNode, schema: str | None) -> ColumnDefinitionNode:
    """The column's foreign key target and enum type in ``schema`` when they name none."""
    if not schema:
        return col
    if col.references is not None:
        col = replace(col, references=replace(col.references, table=qualify(col.references.table, schema)))
    if isinstance(col.data_type.name, EnumTypeNode):
        enum = col.data_type.name
        col = replace(col, data_type=DataTypeNode(replace(enum, name=qualify(enum.name, schema))))
    return col


def default_node(value: object) -> Expression:
    """A default: a plain value becomes an escaped literal; ``sql(...)`` is used as written."""
    if isinstance(value, Sql):
        return value.node
    if isinstance(value, RawNode | LiteralNode):
        return value
    return ValueNode(value)


def referential_action(action: str) -> str:
    normal = " ".join(str(action).lower().split())
    if normal not in REFERENTIAL_ACTIONS:
        raise BuilderError(f"unknown referential action {action!r}; use one of: {', '.join(REFERENTIAL_ACTIONS)}")
    return normal


def parse_reference(target: str) -> tuple[IdentifierNode, str]:
    """``"users.id"`` -> (users, id); ``"app.users.id"`` -> (app.users, id)."""
    if not isinstance(target, str) or target.count(".") < 1:
        raise BuilderError(f"references() takes 'table.column', got {target!r}")
    table, _, column = target.rpartition(".")
    if not table or not column:
        raise BuilderError(f"references() takes 'table.column', got {target!r}")
    return IdentifierNode.parse(table), column


class ColumnBuilder:
    """Immutable: every method returns a new builder. Return it from the callback."""

    __slots__ = ("node",)

    def __init__(self, node: ColumnDefinitionNode) -> None:
        self.node = node

    def _with(self, **changes: Any) -> ColumnBuilder:
        return ColumnBuilder(replace(self.node, **changes))

    def primary_key(self) -> ColumnBuilder:
        return self._with(primary_key=True)

    def not_null(self) -> ColumnBuilder:
        return self._with(not_null=True)

    def unique(self) -> ColumnBuilder:
        return self._with(unique=True)

    def nulls_not_distinct(self) -> ColumnBuilder:
        return self._with(nulls_not_distinct=True)

    def auto_increment(self) -> ColumnBuilder:
        return self._with(auto_increment=True)

    def default_to(self, value: object) -> ColumnBuilder:
        """A default value: a Python value (stored as a literal) or ``sql("CURRENT_TIMESTAMP")``."""
        return self._with(default=default_node(value))

    def references(self, target: str) -> ColumnBuilder:
        """A foreign key to ``"table.column"``."""
        table, column = parse_reference(target)
        return self._with(references=ReferencesNode(table, (column,)))

    def _reference(self, method: str) -> ReferencesNode:
        if self.node.references is None:
            raise BuilderError(f"{method}() must follow references('table.column') on column {self.node.name!r}")
        return self.node.references

    def on_delete(self, action: str) -> ColumnBuilder:
        return self._with(references=replace(self._reference("on_delete"), on_delete=referential_action(action)))

    def on_update(self, action: str) -> ColumnBuilder:
        return self._with(references=replace(self._reference("on_update"), on_update=referential_action(action)))

    def deferrable(self) -> ColumnBuilder:
        """The foreign key is checked at COMMIT when the transaction asks for it (PostgreSQL, SQLite)."""
        return self._with(references=replace(self._reference("deferrable"), deferrable=True))

    def initially_deferred(self) -> ColumnBuilder:
        """The foreign key is checked at COMMIT (PostgreSQL, SQLite)."""
        ref = self._reference("initially_deferred")
        return self._with(references=replace(ref, deferrable=True, initially_deferred=True))

    def check(self, expression: Sql | str) -> ColumnBuilder:
        """A CHECK constraint: ``check(sql("age >= 0"))`` (a plain string is taken as SQL)."""
        node = RawNode((expression,)) if isinstance(expression, str) else to_raw(expression)
        return self._with(check=node)

    def generated_always_as(self, expression: Sql | str) -> ColumnBuilder:
        node = RawNode((expression,)) if isinstance(expression, str) else to_raw(expression)
        return self._with(generated=node)

    def stored(self) -> ColumnBuilder:
        """The generated value is computed on write and stored (the default is virtual)."""
        if self.node.generated is None:
            raise BuilderError(f"stored() must follow generated_always_as(...) on column {self.node.name!r}")
        return self._with(stored=True)

    def generated_always_as_identity(self) -> ColumnBuilder:
        return self._with(identity="always")

    def generated_by_default_as_identity(self) -> ColumnBuilder:
        return self._with(identity="by default")

    def unsigned(self) -> ColumnBuilder:
        """MySQL/MariaDB only; elsewhere use ``check(sql("col >= 0"))``."""
        return self._with(unsigned=True)

    def collate(self, collation: str) -> ColumnBuilder:
        """The column's collation, by this engine's name (``"C"``, ``utf8mb4_bin``, ``NOCASE``)."""
        if not isinstance(collation, str) or not collation:
            raise BuilderError(f"collate() takes a collation name, got {collation!r}")
        return self._with(collate=collation)

    def comment(self, text: str) -> ColumnBuilder:
        """A comment stored with the column (not stored on SQLite)."""
        if not isinstance(text, str):
            raise BuilderError(f"comment() takes a string, got {text!r}")
        return self._with(comment=text)

    def if_not_exists(self) -> ColumnBuilder:
        """For ``alter_table(...).add_column``: do nothing when the column exists."""
        return self._with(if_not_exists=True)

    def modify_front(self, fragment: Sql) -> ColumnBuilder:
        """Raw SQL right after the type (and unsigned/collate)."""
        return self._with(modify_front=to_raw(fragment))

    def modify_end(self, fragment: Sql) -> ColumnBuilder:
        """Raw SQL at the end of the column definition."""
        return self._with(modify_end=to_raw(fragment))


ColumnCallback = Callable[[ColumnBuilder], ColumnBuilder] | None


def build_column(name: str, data_type: object, build: ColumnCallback, schema: str | None = None) -> ColumnDefinitionNode:
    if not isinstance(name, str) or not name:
        raise BuilderError(f"a column name must be a non-empty string, got {name!r}")
    node = ColumnDefinitionNode(name, data_type_node(data_type))
    if build is not None:
        if not callable(build):
            raise BuilderError(
                f"the third argument of add_column({name!r}, ...) is a callback such as lambda col: col.not_null(), got {build!r}"
            )
        result = build(ColumnBuilder(node))
        if not isinstance(result, ColumnBuilder):
            raise BuilderError(
                f"the callback for column {name!r} must return the builder, e.g. lambda col: col.not_null()"
            )
        node = result.node
    return qualify_column(node, schema) if schema else node
