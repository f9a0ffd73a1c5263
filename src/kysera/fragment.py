"""Raw SQL fragments: ``sql("... {} ...", value)``, ``sql.id``, ``sql.lit``, ``sql.ref``, ``sql.raw``.

Placeholder syntax: each ``{}`` in the text takes the next positional argument. Write ``{{`` and
``}}`` for literal braces, but only when there are arguments: text without arguments is taken
verbatim, so ``sql("'{}'::jsonb")`` is the JSON literal it looks like.

An argument that is itself a fragment (``sql.id("users")``, ``sql.lit("x")``, ``sql("now()")``)
is spliced in. Any other value becomes a bound parameter in a data statement and an escaped
literal inside DDL, which cannot take parameters.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .errors import BuilderError
from .nodes import ColumnRefNode, IdentifierNode, LiteralNode, RawNode, SelectNode, ValueNode

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .database import Database, Result
    from .nodes import CompiledStatement

RawPart = str | ValueNode | LiteralNode | IdentifierNode | ColumnRefNode | RawNode


class Sql:
    """A raw SQL fragment. Use it as a statement, a default, a type, a check or an index predicate."""

    __slots__ = ("node",)

    def __init__(self, node: RawNode) -> None:
        self.node = node

    def to_node(self) -> RawNode:
        return self.node

    def identifier(self) -> IdentifierNode | None:
        """The name when the fragment is ``sql.id(...)`` and nothing else, else None."""
        parts = self.node.parts
        return parts[0] if len(parts) == 1 and isinstance(parts[0], IdentifierNode) else None

    def as_(self, alias: str) -> Sql:
        """The expression under a name in a select list: ``select(sql("count(*)").as_("n"))``."""
        from .query.expressions import aliased_node  # local: the query layer imports this module

        return Sql(aliased_node(self.node, alias))

    def compile(self, db: Database) -> list[CompiledStatement]:
        """The statement(s) as ``db``'s engine would receive them."""
        return db.compile(self.node)

    def execute(self, db: Database) -> Result:
        """Run the fragment as a statement on ``db`` (several ``;``-separated statements are split)."""
        return db.execute(self)

    def __repr__(self) -> str:
        values: list[object] = []
        text = _preview(self.node, values)
        return f"sql({', '.join([repr(text), *map(repr, values)])})"


def name_node(name: object, what: str) -> IdentifierNode:
    """The name a builder was given for a table (view, type, foreign key target): ``"users"``,
    ``"app.users"`` (schema ``app``), or ``sql.id("a.b")`` for a name with a dot in it."""
    if isinstance(name, Sql):
        identifier = name.identifier()
        if identifier is None:
            raise BuilderError(f"{what} must be a string or sql.id(...), got {name!r}")
        return identifier
    if not isinstance(name, str) or not name:
        raise BuilderError(f"{what} must be a non-empty string or sql.id(...), got {name!r}")
    return IdentifierNode.parse(name)


def _preview(node: RawNode, values: list[object]) -> str:
    """The fragment's text with ``{}`` where a value is bound (collected into ``values``);
    names and inline literals as they will read, engine aside."""
    out: list[str] = []
    for part in node.parts:
        if isinstance(part, str):
            out.append(part.replace("{", "{{").replace("}", "}}"))  # as sql() would read it back
        elif isinstance(part, RawNode):
            out.append(_preview(part, values))
        elif isinstance(part, IdentifierNode):
            out.append(f'"{part.schema}"."{part.name}"' if part.schema else f'"{part.name}"')
        elif isinstance(part, ColumnRefNode):
            out.append(f"{part.table}.{part.column}" if part.table else part.column)
        elif isinstance(part, LiteralNode):
            value = part.value
            out.append("'" + value.replace("'", "''") + "'" if isinstance(value, str) else str(value))
        else:
            out.append("{}")
            if isinstance(part, ValueNode):
                values.append(part.value)
    return "".join(out)


#: the values most rows hold, which need no closer look
_PLAIN = frozenset({type(None), bool, int, float, str, bytes})


def bound_value(value: object) -> ValueNode:
    """``value`` as a bound value; a builder is refused: bound, it reached the driver as an object
    (PostgreSQL: "cannot adapt type 'SelectBuilder'"), never as the query it builds."""
    to_node = getattr(value, "to_node", None) if value.__class__ not in _PLAIN else None
    if callable(to_node) and callable(getattr(value, "compile", None)):
        kind = type(value).__name__
        if not callable(getattr(value, "fetch_all", None)) or not isinstance(to_node(), SelectNode):
            # an insert, update or delete with returning(...) has fetch_all() too: no subquery either
            raise BuilderError(f"a {kind} is not a value; run it on its own with .execute()")
        raise BuilderError(
            f"a {kind} is not a value: builders do not nest as subqueries; run it first (.fetch_all(), "
            ".fetch_one()) or write the subquery in sql(...): sql('(SELECT max(id) FROM {})', sql.id('users'))"
        )
    return ValueNode(value)


def _to_part(value: object) -> RawPart:
    if isinstance(value, Sql):
        return value.node
    if isinstance(value, RawNode | IdentifierNode | ColumnRefNode | LiteralNode | ValueNode):
        return value
    from .query.expressions import Ref  # local: the query layer imports this module

    if isinstance(value, Ref):
        return value.node
    return bound_value(value)


#: the text before a placeholder that an IN list goes into: "id IN (", "id not in "
_AFTER_IN = r"(?i)\bIN\s*\(?\s*$"  # compiled when first used (re's cache): few fragments need it


def _parse(text: str, params: tuple[object, ...]) -> RawNode:
    if not params:
        return RawNode((text,))
    parts: list[RawPart] = []
    buf: list[str] = []
    i, used, n = 0, 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "{" and i + 1 < n and text[i + 1] == "{":
            buf.append("{")
            i += 2
        elif ch == "}" and i + 1 < n and text[i + 1] == "}":
            buf.append("}")
            i += 2
        elif ch == "{" and i + 1 < n and text[i + 1] == "}":
            if used >= len(params):
                raise BuilderError(
                    f"sql(): the text has more {{}} placeholders than the {len(params)} argument(s) given"
                )
            if buf:
                parts.append("".join(buf))
                buf = []
            if isinstance(params[used], list | tuple) and parts and isinstance(parts[-1], str) and re.search(_AFTER_IN, parts[-1]):
                raise BuilderError(
                    f"sql(): the list after IN would be bound as one value (JSON text on SQLite and MySQL, an array "
                    f"on PostgreSQL), not as the IN list; spread it with sql.join: sql({text!r}, sql.join(values))"
                )
            parts.append(_to_part(params[used]))
            used += 1
            i += 2
        else:
            buf.append(ch)
            i += 1
    if buf:
        parts.append("".join(buf))
    if used != len(params):
        raise BuilderError(
            f"sql(): {len(params)} argument(s) given but the text has {used} {{}} placeholder(s); "
            "write {{ and }} for literal braces"
        )
    return RawNode(tuple(parts))


class _SqlFactory:
    """The ``sql`` object: call it for a fragment; its methods make special fragments."""

    def __call__(self, text: str, *params: object) -> Sql:
        if not isinstance(text, str):
            raise BuilderError(f"sql() takes the SQL text as a string, not {type(text).__name__}")
        return Sql(_parse(text, params))

    def raw(self, text: str) -> Sql:
        """Text used exactly as written: no placeholders are looked for."""
        return Sql(RawNode((text,)))

    def id(self, *names: str) -> Sql:
        """A quoted identifier; ``sql.id("app", "users")`` is ``"app"."users"``."""
        if not names or not all(isinstance(n, str) and n for n in names):
            raise BuilderError("sql.id() needs one or more non-empty names")
        if len(names) == 1:
            return Sql(RawNode((IdentifierNode(names[0]),)))
        *schema, name = names
        return Sql(RawNode((IdentifierNode(name, ".".join(schema)),)))

    def lit(self, value: object) -> Sql:
        """A value rendered inline as an escaped literal, never as a parameter."""
        return Sql(RawNode((LiteralNode(value),)))

    def ref(self, column: str) -> Sql:
        """A quoted column reference; ``"users.email"`` is qualified by its table."""
        return Sql(RawNode((ColumnRefNode.parse(column),)))

    def join(self, items: Sequence[object], separator: str = ", ") -> Sql:
        """Fragments joined by ``separator``; an item that is not a fragment is a bound value,
        so ``sql("id IN ({})", sql.join([1, 2, 3]))`` binds three values."""
        parts: list[RawPart] = []
        for i, item in enumerate(items):
            if i:
                parts.append(separator)
            parts.append(_to_part(item))
        return Sql(RawNode(tuple(parts)))


sql = _SqlFactory()


def to_raw(value: object) -> RawNode:
    """Coerce a fragment (``Sql``) to its node; anything else is a builder error."""
    if isinstance(value, Sql):
        return value.node
    if isinstance(value, RawNode):
        return value
    raise BuilderError(f"expected a sql(...) fragment, got {type(value).__name__}: {value!r}")
