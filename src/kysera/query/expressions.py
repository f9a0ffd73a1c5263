"""Column references and filters for the data builders."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..errors import BuilderError
from ..fragment import Sql, bound_value
from ..nodes import (
    AndNode,
    BinaryFilterNode,
    ColumnRefNode,
    Expression,
    FilterNode,
    IdentifierNode,
    LiteralNode,
    OrNode,
    RawNode,
    ValueNode,
)


class Ref:
    """A column reference, from ``db.ref("email")``: the column's value, not a string."""

    __slots__ = ("node",)

    def __init__(self, column: str) -> None:
        if not isinstance(column, str) or not column:
            raise BuilderError(f"ref() takes a column name, got {column!r}")
        self.node = ColumnRefNode.parse(column)

    def as_(self, alias: str) -> Sql:
        """The column under another name in a select list: ``select(db.ref("email").as_("contact"))``."""
        return Sql(aliased_node(self.node, alias))

    def __repr__(self) -> str:
        return f"ref({self.node.column!r})"


def aliased_node(expr: Expression, alias: object) -> RawNode:
    """``expr AS "alias"``, a selected expression and the name it comes back under."""
    if not isinstance(alias, str) or not alias:
        raise BuilderError(f"as_() takes the name the column comes back under, got {alias!r}")
    return RawNode((expr, " AS ", IdentifierNode(alias)))


def value_expression(value: object) -> Expression:
    """A value in a data statement: a bound parameter, unless it is a ref or an SQL fragment."""
    if isinstance(value, Ref):
        return value.node
    if isinstance(value, Sql):
        return value.node
    if isinstance(value, RawNode | ColumnRefNode | LiteralNode | IdentifierNode | ValueNode):
        return value
    return bound_value(value)


def column_expression(column: object) -> Expression:
    """A selected or compared column: a name (``"users.email"``), a ref, or an SQL fragment."""
    if isinstance(column, str):
        return ColumnRefNode.parse(column)
    if isinstance(column, Ref | Sql):
        return column.node
    raise BuilderError(f"expected a column name, db.ref(...) or sql(...), got {column!r}")


def filter_node(*args: object) -> FilterNode:
    """``where("col", "=", value)``, ``where(sql(...))`` or ``where({"col": value, ...})``."""
    if len(args) == 1:
        (only,) = args
        if isinstance(only, Sql):
            return only.node
        if isinstance(only, dict):
            items = tuple(filter_node(k, "=", v) for k, v in only.items())
            if not items:
                raise BuilderError("where({}) needs at least one column")
            return items[0] if len(items) == 1 else AndNode(items)
        if isinstance(only, AndNode | OrNode | BinaryFilterNode | RawNode):
            return only
        raise BuilderError(f"where() takes (column, operator, value), a dict or sql(...), got {only!r}")
    if len(args) == 3:
        column, op, value = args
        if not isinstance(op, str):
            raise BuilderError(f"the operator must be a string such as '=' or 'in', got {op!r}")
        right: Expression | tuple[Expression, ...]
        if " ".join(op.lower().split()) in ("in", "not in"):  # as the compiler reads it
            if isinstance(value, str | bytes | bytearray | dict) or not isinstance(value, Iterable):
                bound_value(value)  # a builder: say what to do instead
                raise BuilderError(f"{op!r} takes a list of values, got {value!r}")
            right = tuple(value_expression(v) for v in value)
        else:
            right = value_expression(value)
        return BinaryFilterNode(column_expression(column), op, right)
    raise BuilderError("where() takes (column, operator, value), a dict or sql(...)")


def column_names(names: tuple[str | Sequence[str], ...], method: str) -> tuple[str, ...]:
    """``("a", "b")`` or ``(["a", "b"],)`` as the column names they are; BuilderError otherwise."""
    flat: list[object] = []
    for item in names:
        if isinstance(item, list | tuple):
            flat.extend(item)
        else:
            flat.append(item)
    if not flat:
        raise BuilderError(f"{method}() takes one or more column names")
    out: list[str] = []
    for name in flat:
        if not isinstance(name, str) or not name:
            raise BuilderError(f"{method}() takes column names (non-empty strings), got {name!r}")
        if name in out:
            raise BuilderError(f"{method}() names column {name!r} twice")
        out.append(name)
    return tuple(out)


def and_(*filters: FilterNode) -> AndNode:
    return AndNode(filters)


def or_(*filters: FilterNode) -> OrNode:
    return OrNode(filters)
