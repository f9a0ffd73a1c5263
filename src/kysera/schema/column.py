"""``ColumnBuilder``: what the ``add_column(name, type, lambda col: ...)`` callback receives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..errors import BuilderError
from ..fragment import Sql, to_raw
from ..nodes import (
    REFERENTIAL_ACTIONS,
    ColumnDefinitionNode,
    DataTypeNode,
    Expression,
    IdentifierNode,
    LiteralNode,
    RawNode,
    ReferencesNode,
    ValueNode,
)


def data_type_node(data_type: object) -> DataTypeNode:
    if isinstance(data_type, str):
        if not data_type.strip():
            raise BuilderError("a column type cannot be empty")
        return DataTypeNode(data_type)
    if isinstance(data_type, Sql | RawNode):
        return DataTypeNode(to_raw(data_type))
    raise BuilderError(f"a column type is a string such as 'varchar(255)' or sql(...), not {data_type!r}")


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

    def check(self, expression: Sql | str) -> ColumnBuilder:
        """A CHECK constraint: ``check(sql("age >= 0"))`` (a plain string is taken as SQL)."""
        node = RawNode((expression,)) if isinstance(expression, str) else to_raw(expression)
        return self._with(check=node)

    def generated_always_as(self, expression: Sql | str) -> ColumnBuilder:
        node = RawNode((expression,)) if isinstance(expression, str) else to_raw(expression)
        return self._with(generated=node)

    def stored(self) -> ColumnBuilder:
        if self.node.generated is None:
            raise BuilderError(f"stored() must follow generated_always_as(...) on column {self.node.name!r}")
        return self._with(stored=True)

    def generated_always_as_identity(self) -> ColumnBuilder:
        return self._with(identity="always")

    def generated_by_default_as_identity(self) -> ColumnBuilder:
        return self._with(identity="by default")

    def unsigned(self) -> ColumnBuilder:
        return self._with(unsigned=True)

    def collate(self, collation: str) -> ColumnBuilder:
        return self._with(collate=collation)

    def comment(self, text: str) -> ColumnBuilder:
        return self._with(comment=text)

    def if_not_exists(self) -> ColumnBuilder:
        return self._with(if_not_exists=True)

    def modify_front(self, fragment: Sql) -> ColumnBuilder:
        return self._with(modify_front=to_raw(fragment))

    def modify_end(self, fragment: Sql) -> ColumnBuilder:
        return self._with(modify_end=to_raw(fragment))


ColumnCallback = Callable[[ColumnBuilder], ColumnBuilder] | None


def build_column(name: str, data_type: object, build: ColumnCallback) -> ColumnDefinitionNode:
    if not isinstance(name, str) or not name:
        raise BuilderError(f"a column name must be a non-empty string, got {name!r}")
    builder = ColumnBuilder(ColumnDefinitionNode(name, data_type_node(data_type)))
    if build is not None:
        result = build(builder)
        if not isinstance(result, ColumnBuilder):
            raise BuilderError(
                f"the callback for column {name!r} must return the builder, e.g. lambda col: col.not_null()"
            )
        builder = result
    return builder.node
