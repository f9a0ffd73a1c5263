"""Sequences: ``create_sequence``, ``alter_sequence``, ``drop_sequence`` (PostgreSQL, MariaDB 10.3+)."""

from __future__ import annotations

from typing import Generic, Self, TypeVar

from ..errors import BuilderError
from ..nodes import AlterSequenceNode, ColumnRefNode, CreateSequenceNode, DropSequenceNode, replace
from .column import parse_reference, qualify
from .executable import Executable

S = TypeVar("S", CreateSequenceNode, AlterSequenceNode)


def _int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BuilderError(f"{what}() takes an integer, got {value!r}")
    return value


class _SequenceOptions(Executable[S], Generic[S]):
    """The options CREATE and ALTER SEQUENCE share; each returns a new builder."""

    __slots__ = ()

    def _opt(self, **changes: object) -> Self:
        return self._changed(options=replace(self._node.options, **changes))

    def increment_by(self, n: int) -> Self:
        if _int(n, "increment_by") == 0:
            raise BuilderError("increment_by() cannot be 0")
        return self._opt(increment_by=n)

    def start_with(self, n: int) -> Self:
        return self._opt(start_with=_int(n, "start_with"))

    def min_value(self, n: int | None) -> Self:
        """The lowest value; None for the type's default (NO MINVALUE)."""
        if n is None:
            return self._opt(min_value=None, no_min_value=True)
        return self._opt(min_value=_int(n, "min_value"), no_min_value=False)

    def max_value(self, n: int | None) -> Self:
        """The highest value; None for the type's default (NO MAXVALUE)."""
        if n is None:
            return self._opt(max_value=None, no_max_value=True)
        return self._opt(max_value=_int(n, "max_value"), no_max_value=False)

    def cache(self, n: int) -> Self:
        if _int(n, "cache") < 1:
            raise BuilderError("cache() takes a positive integer")
        return self._opt(cache=n)

    def cycle(self, on: bool = True) -> Self:
        """Wrap around after the last value (``cycle(False)``: NO CYCLE)."""
        return self._opt(cycle=bool(on))

    def owned_by(self, column: str | None) -> Self:
        """``"table.column"``: the sequence is dropped with the column (PostgreSQL); None: OWNED BY NONE."""
        if column is None:
            return self._opt(owned_by="none")
        table, col = parse_reference(column)
        table = qualify(table, self._schema)
        return self._opt(owned_by=ColumnRefNode(col, table.dotted))


class CreateSequenceBuilder(_SequenceOptions[CreateSequenceNode]):
    __slots__ = ()

    def if_not_exists(self) -> CreateSequenceBuilder:
        return self._changed(if_not_exists=True)


class AlterSequenceBuilder(_SequenceOptions[AlterSequenceNode]):
    __slots__ = ()

    def restart(self) -> AlterSequenceBuilder:
        """Start again from the sequence's start value."""
        return self._opt(restart=True)

    def restart_with(self, n: int) -> AlterSequenceBuilder:
        return self._opt(restart_with=_int(n, "restart_with"))

    def if_exists(self) -> AlterSequenceBuilder:
        return self._changed(if_exists=True)


class DropSequenceBuilder(Executable[DropSequenceNode]):
    __slots__ = ()

    def if_exists(self) -> DropSequenceBuilder:
        return self._changed(if_exists=True)

    def cascade(self) -> DropSequenceBuilder:
        """Also drop the column defaults that use it (PostgreSQL)."""
        return self._changed(cascade=True)

