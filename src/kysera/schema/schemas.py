"""``create_schema`` and ``drop_schema``: PostgreSQL schemas, MySQL/MariaDB databases."""

from __future__ import annotations

from ..nodes import CreateSchemaNode, DropSchemaNode
from .executable import Executable


class CreateSchemaBuilder(Executable[CreateSchemaNode]):
    __slots__ = ()

    def if_not_exists(self) -> CreateSchemaBuilder:
        return self._changed(if_not_exists=True)


class DropSchemaBuilder(Executable[DropSchemaNode]):
    __slots__ = ()

    def if_exists(self) -> DropSchemaBuilder:
        return self._changed(if_exists=True)

    def cascade(self) -> DropSchemaBuilder:
        """Also drop everything in the schema. On MySQL/MariaDB DROP DATABASE always does; without
        cascade() kysera refuses a database that holds tables."""
        return self._changed(cascade=True)
