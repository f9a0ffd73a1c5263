"""``db.schema``: the entry point of the fluent DDL builders."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import BuilderError
from ..nodes import (
    AlterTableNode,
    CreateIndexNode,
    CreateTableNode,
    DropIndexNode,
    DropTableNode,
    IdentifierNode,
)
from .alter_table import AlterTableBuilder
from .create_table import CreateTableBuilder, DropTableBuilder
from .index import CreateIndexBuilder, DropIndexBuilder, index_name

if TYPE_CHECKING:
    from ..database import Database


class SchemaModule:
    """Builders for DDL; nothing touches the database until ``.execute()``."""

    __slots__ = ("_db", "_schema")

    def __init__(self, db: Database, schema: str | None = None) -> None:
        self._db = db
        self._schema = schema

    def _table(self, name: str) -> IdentifierNode:
        if not isinstance(name, str) or not name:
            raise BuilderError(f"a table name must be a non-empty string, got {name!r}")
        node = IdentifierNode.parse(name)
        if node.schema is None and self._schema:
            return IdentifierNode(node.name, self._schema)
        return node

    def create_table(self, name: str) -> CreateTableBuilder:
        return CreateTableBuilder(self._db, CreateTableNode(self._table(name)))

    def alter_table(self, name: str) -> AlterTableBuilder:
        return AlterTableBuilder(self._db, AlterTableNode(self._table(name)))

    def drop_table(self, name: str) -> DropTableBuilder:
        return DropTableBuilder(self._db, DropTableNode(self._table(name)))

    def create_index(self, name: str) -> CreateIndexBuilder:
        if not isinstance(name, str) or not name:
            raise BuilderError(f"an index name must be a non-empty string, got {name!r}")
        return CreateIndexBuilder(self._db, CreateIndexNode(index_name(name, self._schema)))

    def drop_index(self, name: str) -> DropIndexBuilder:
        if not isinstance(name, str) or not name:
            raise BuilderError(f"an index name must be a non-empty string, got {name!r}")
        return DropIndexBuilder(self._db, DropIndexNode(index_name(name, self._schema)))
