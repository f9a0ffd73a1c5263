"""Column references and filters for the data builders."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

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


def excluded(column: str) -> Ref:
    """In an upsert's update (``on_conflict(...).do_update_set`` or ``on_duplicate_key_update``),
    the value the insert proposed for ``column``: Kysely's ``eb.ref("excluded.name")``, which
    ``db.ref("excluded.name")`` also is. PostgreSQL and SQLite write ``excluded.name``, MariaDB
    (and MySQL for INSERT ... SELECT) ``VALUES(name)``, MySQL 8.0.19+ the new row's alias."""
    if not isinstance(column, str) or not column or "." in column:
        raise BuilderError(f"excluded() takes a column of the inserted row, such as excluded('name'), got {column!r}")
    return Ref(f"excluded.{column}")


def assignments(
    values: object, method: str, earlier: tuple[tuple[str, Expression], ...] = ()
) -> tuple[tuple[str, Expression], ...]:
    """``{column: value}`` of ``set`` / ``do_update_set`` / ``on_duplicate_key_update`` after the
    ``earlier`` pairs: a column set again takes its newest value, in the place it was first set."""
    if not isinstance(values, Mapping) or not values:
        raise BuilderError(f"{method}() takes a non-empty dict of column -> value, got {values!r}")
    pairs = {str(key): value_expression(value) for key, value in values.items()}
    kept = tuple((column, pairs.pop(column, value)) for column, value in earlier)
    return (*kept, *pairs.items())


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


def and_filter(current: FilterNode | None, new: FilterNode) -> FilterNode:
    """``current AND new`` (several ``where`` calls), flat."""
    if current is None:
        return new
    if isinstance(current, AndNode):
        return AndNode((*current.items, new))
    return AndNode((current, new))


def flattened(items: tuple[object, ...]) -> list[object]:
    """``("a", "b")`` or ``(["a", "b"],)`` as one list: the arguments of ``select``,
    ``returning`` and ``columns``, which take names one by one or as one list."""
    flat: list[object] = []
    for item in items:
        if isinstance(item, list | tuple):
            flat.extend(item)
        else:
            flat.append(item)
    return flat


def column_names(names: tuple[str | Sequence[str], ...], method: str) -> tuple[str, ...]:
    """``("a", "b")`` or ``(["a", "b"],)`` as the column names they are; BuilderError otherwise."""
    flat = flattened(names)
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
