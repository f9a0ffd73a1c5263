"""The terminal methods every builder shares: ``to_node``, ``compile``, ``execute``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, Self, TypeVar

from ..errors import BuilderError
from ..fragment import Sql
from ..nodes import OperationNode, QueryNode, RawNode, SelectNode, replace

if TYPE_CHECKING:
    from ..compiled import CompiledQuery
    from ..database import Database, Result

N = TypeVar("N", bound=OperationNode)


class Executable(Generic[N]):
    """An immutable builder around one operation node, bound to a database."""

    __slots__ = ("_db", "_node")

    def __init__(self, db: Database, node: N) -> None:
        self._db = db
        self._node = node

    def to_node(self) -> N:
        return self._node

    def compile(self) -> CompiledQuery:
        """The SQL this engine would run, as one or more statements; nothing is executed."""
        return self._db._compile_node(self._node)

    def execute(self) -> Result:
        """Compile and run the statement(s)."""
        db = self._db
        return db.run_compiled(db._compile_node(self._node))

    def _changed(self, **changes: object) -> Self:
        """A new builder of this kind around the node with ``changes`` (the builders are immutable)."""
        return type(self)(self._db, replace(self._node, **changes))

    @property
    def _schema(self) -> str | None:
        """The schema of ``db.with_schema(...)``, which unqualified names are put in."""
        return self._db._default_schema

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._node!r}>"


def query_node(query: object, what: str) -> QueryNode:
    """The query of ``as_(...)``: ``db.select_from(...)`` (a builder), ``sql(...)`` or SQL text."""
    if isinstance(query, str):
        if not query.strip():
            raise BuilderError(f"{what} needs a query, got an empty string")
        return RawNode((query,))
    if isinstance(query, Sql):
        return query.node
    if isinstance(query, RawNode | SelectNode):
        return query
    to_node = getattr(query, "to_node", None)
    if callable(to_node):
        node = to_node()
        if isinstance(node, SelectNode | RawNode):
            return node
    raise BuilderError(f"{what} takes db.select_from(...), sql(...) or SQL text, got {query!r}")


def name_of(name: object, what: str) -> str:
    if not isinstance(name, str) or not name:
        raise BuilderError(f"{what} must be a non-empty string, got {name!r}")
    return name


def ddl_option(value: object, allowed: tuple[str, ...], method: str) -> str:
    """A value of ``.algorithm(...)`` / ``.lock(...)``, lower case; BuilderError naming the allowed ones."""
    text = value.strip().lower() if isinstance(value, str) else None
    if text not in allowed:
        choices = ", ".join(f'"{a}"' for a in allowed)
        raise BuilderError(f"{method}() takes one of {choices}, got {value!r}")
    return text
