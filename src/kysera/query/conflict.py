"""``insert_into(...).on_conflict(lambda oc: ...)``: what an insert does with a row whose key is
taken (PostgreSQL and SQLite's ``ON CONFLICT``), as Kysely's ``onConflict`` spells it."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import BuilderError
from ..nodes import OnConflictNode, replace
from .expressions import and_filter, assignments, column_names, filter_node


class OnConflictAction:
    """What the callback of ``on_conflict`` returns: the conflict target and its action."""

    __slots__ = ("node",)

    def __init__(self, node: OnConflictNode) -> None:
        self.node = node

    def to_node(self) -> OnConflictNode:
        return self.node

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.node!r}>"


class OnConflictDoNothingBuilder(OnConflictAction):
    """``ON CONFLICT ... DO NOTHING``: a row whose key is taken is skipped."""

    __slots__ = ()


class OnConflictUpdateBuilder(OnConflictAction):
    """``ON CONFLICT (...) DO UPDATE SET ...``: the existing row is updated instead."""

    __slots__ = ()

    def where(self, *args: object) -> OnConflictUpdateBuilder:
        """Update only the existing rows this matches (the others are left as they are); as
        ``where`` of the other builders, several calls are joined with AND. Name the table's
        columns with the table (``"users.version"``) on PostgreSQL, where ``excluded`` has them too."""
        return OnConflictUpdateBuilder(replace(self.node, update_where=and_filter(self.node.update_where, filter_node(*args))))


class OnConflictBuilder:
    """The ``oc`` of ``on_conflict(lambda oc: oc.column("id").do_update_set({...}))``: name the
    conflict target (``column``, ``columns`` or, on PostgreSQL, ``constraint``), then end with
    ``do_nothing()`` or ``do_update_set({...})``."""

    __slots__ = ("node",)

    def __init__(self, node: OnConflictNode | None = None) -> None:
        self.node = node if node is not None else OnConflictNode()

    def column(self, name: str) -> OnConflictBuilder:
        """A column of the unique constraint or index whose conflict this handles."""
        return self.columns(name)

    def columns(self, *names: str | Sequence[str]) -> OnConflictBuilder:
        """The columns of the unique constraint or index: ``columns("tenant", "email")``."""
        if self.node.constraint is not None:
            raise BuilderError("on_conflict: the conflict target is columns or a constraint, not both")
        return OnConflictBuilder(replace(self.node, columns=column_names((self.node.columns, *names), "columns")))

    def constraint(self, name: str) -> OnConflictBuilder:
        """The unique or primary key constraint by name (PostgreSQL's ``ON CONSTRAINT``; SQLite
        names the columns instead)."""
        if not isinstance(name, str) or not name:
            raise BuilderError(f"constraint() takes the constraint's name, got {name!r}")
        if self.node.columns:
            raise BuilderError("on_conflict: the conflict target is columns or a constraint, not both")
        if self.node.where is not None:
            raise BuilderError("on_conflict: where() goes with the target's columns, not with a constraint")
        return OnConflictBuilder(replace(self.node, constraint=name))

    def where(self, *args: object) -> OnConflictBuilder:
        """The predicate of the partial unique index the target columns name
        (``ON CONFLICT (email) WHERE deleted_at IS NULL``)."""
        if not self.node.columns:
            raise BuilderError("on_conflict: where() names a partial unique index: give its columns first, oc.columns(...).where(...)")
        return OnConflictBuilder(replace(self.node, where=and_filter(self.node.where, filter_node(*args))))

    def do_nothing(self) -> OnConflictDoNothingBuilder:
        """Skip the row (without a target: a conflict with any unique constraint)."""
        return OnConflictDoNothingBuilder(replace(self.node, updates=None))

    def do_update_set(self, values: object) -> OnConflictUpdateBuilder:
        """Update the existing row: ``{"name": excluded("name"), "seen": sql("seen + 1")}``; a
        value is bound, or a ref, ``excluded(column)`` (the value the insert proposed) or ``sql(...)``."""
        if not self.node.columns and self.node.constraint is None:
            raise BuilderError(
                "on_conflict(...).do_update_set needs the conflict target: oc.column(name), oc.columns(...) "
                "or oc.constraint(name) before it"
            )
        return OnConflictUpdateBuilder(replace(self.node, updates=assignments(values, "do_update_set")))

    def __repr__(self) -> str:
        return f"<OnConflictBuilder {self.node!r}>"
