"""Enum types: ``create_type``, ``alter_type``, ``drop_type`` and the portable ``enum_type`` column type.

On PostgreSQL an enum is a named type; on MySQL it is the column type ``enum(...)``; on SQLite a
``text`` column with a CHECK. ``create_type``/``drop_type`` compile to nothing on MySQL and SQLite,
so the same migration runs everywhere::

    MOOD = enum_type("mood", ["happy", "sad"])
    db.schema.create_type(MOOD).execute()
    db.schema.create_table("people").add_column("mood", MOOD).execute()
"""

from __future__ import annotations

from ..errors import BuilderError
from ..nodes import (
    AddEnumValueNode,
    AlterTypeAction,
    AlterTypeNode,
    CreateTypeNode,
    DropTypeNode,
    RenameEnumValueNode,
    RenameTypeNode,
)
from .column import enum_type, enum_values
from .executable import Executable, name_of

__all__ = ["AlterTypeBuilder", "CreateTypeBuilder", "DropTypeBuilder", "enum_type"]


class CreateTypeBuilder(Executable[CreateTypeNode]):
    __slots__ = ()

    def as_enum(self, values: list[str] | tuple[str, ...]) -> CreateTypeBuilder:
        """``CREATE TYPE name AS ENUM (...)`` on PostgreSQL; nothing on MySQL and SQLite."""
        checked = enum_values(values, f"create_type({self._node.name.name!r}).as_enum()")
        return self._changed(values=checked)

    def if_not_exists(self) -> CreateTypeBuilder:
        """Do nothing when the type exists (PostgreSQL: a DO block that ignores the duplicate)."""
        return self._changed(if_not_exists=True)


class AlterTypeBuilder(Executable[AlterTypeNode]):
    """Changes to an enum type (PostgreSQL); each action is its own statement, in order."""

    __slots__ = ()

    def _add(self, action: AlterTypeAction) -> AlterTypeBuilder:
        return self._changed(actions=(*self._node.actions, action))

    def add_value(
        self,
        value: str,
        *,
        before: str | None = None,
        after: str | None = None,
        if_not_exists: bool = False,
    ) -> AlterTypeBuilder:
        """A new label, last or ``before=``/``after=`` another one. It can be used once the
        transaction that adds it commits."""
        if before is not None and after is not None:
            raise BuilderError("add_value() takes before= or after=, not both")
        for v in (value, before, after):
            if v is not None and (not isinstance(v, str) or not v):
                raise BuilderError(f"an enum value must be a non-empty string, got {v!r}")
        return self._add(AddEnumValueNode(value, before, after, if_not_exists))

    def rename_value(self, value: str, new_value: str) -> AlterTypeBuilder:
        return self._add(RenameEnumValueNode(name_of(value, "an enum value"), name_of(new_value, "the new enum value")))

    def rename_to(self, new_name: str) -> AlterTypeBuilder:
        return self._add(RenameTypeNode(name_of(new_name, "the new type name")))


class DropTypeBuilder(Executable[DropTypeNode]):
    __slots__ = ()

    def if_exists(self) -> DropTypeBuilder:
        return self._changed(if_exists=True)

    def cascade(self) -> DropTypeBuilder:
        """Also drop the columns that use the type (PostgreSQL)."""
        return self._changed(cascade=True)

