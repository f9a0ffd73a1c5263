"""The terminal methods every builder shares: ``to_node``, ``compile``, ``execute``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeVar

from ..nodes import OperationNode

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
        return self._db.compile(self._node)

    def execute(self) -> Result:
        """Compile and run the statement(s)."""
        return self._db.execute(self._node)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._node!r}>"
