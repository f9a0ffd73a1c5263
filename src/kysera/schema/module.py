"""``db.schema``: the entry point of the fluent DDL builders."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import BuilderError
from ..fragment import Sql, name_node
from ..nodes import (
    AlterSequenceNode,
    AlterTableNode,
    AlterTypeNode,
    CreateIndexNode,
    CreateSchemaNode,
    CreateSequenceNode,
    CreateTableNode,
    CreateTypeNode,
    CreateViewNode,
    DropIndexNode,
    DropSchemaNode,
    DropSequenceNode,
    DropTableNode,
    DropTypeNode,
    DropViewNode,
    EnumTypeNode,
    IdentifierNode,
    RefreshMaterializedViewNode,
)
from .column import qualify
from .create_table import CreateTableBuilder, DropTableBuilder
from .executable import name_of
from .index import CreateIndexBuilder, DropIndexBuilder, index_name

if TYPE_CHECKING:
    from ..database import Database
    from .alter_table import AlterTableBuilder
    from .schemas import CreateSchemaBuilder, DropSchemaBuilder
    from .sequence import AlterSequenceBuilder, CreateSequenceBuilder, DropSequenceBuilder
    from .types import AlterTypeBuilder, CreateTypeBuilder, DropTypeBuilder
    from .view import CreateViewBuilder, DropViewBuilder, RefreshMaterializedViewBuilder


class SchemaModule:
    """Builders for DDL; nothing touches the database until ``.execute()``.

    Names may be dotted (``"app.users"``: schema ``app``); unqualified names go to the schema of
    ``db.with_schema(...)`` (or ``db.schema.with_schema(...)``) when there is one.
    """

    __slots__ = ("_db", "_schema")

    def __init__(self, db: Database, schema: str | None = None) -> None:
        self._db = db
        self._schema = schema

    def with_schema(self, schema: str) -> SchemaModule:
        """Builders whose unqualified names (tables, foreign key targets, indexes, views, types,
        sequences) are in ``schema``: a PostgreSQL schema, a MySQL database, an attached SQLite database."""
        return SchemaModule(self._db.with_schema(name_of(schema, "a schema name")), schema)

    def _name(self, name: str | Sql, what: str) -> IdentifierNode:
        """``"users"``, ``"app.users"`` (schema ``app``), or ``sql.id("a.b")`` for a name with a dot in it."""
        node = name_node(name, what)
        return qualify(node, self._schema) if self._schema else node

    def _table(self, name: str | Sql) -> IdentifierNode:
        return self._name(name, "a table name")

    # ----------------------------------------------------------------- tables and indexes

    def create_table(self, name: str | Sql) -> CreateTableBuilder:
        return CreateTableBuilder(self._db, CreateTableNode(self._table(name)))

    def alter_table(self, name: str | Sql) -> AlterTableBuilder:
        from .alter_table import AlterTableBuilder

        return AlterTableBuilder(self._db, AlterTableNode(self._table(name)))

    def drop_table(self, name: str | Sql) -> DropTableBuilder:
        return DropTableBuilder(self._db, DropTableNode(self._table(name)))

    def create_index(self, name: str) -> CreateIndexBuilder:
        if not isinstance(name, str) or not name:
            raise BuilderError(f"an index name must be a non-empty string, got {name!r}")
        return CreateIndexBuilder(self._db, CreateIndexNode(index_name(name, self._schema)))

    def drop_index(self, name: str) -> DropIndexBuilder:
        if not isinstance(name, str) or not name:
            raise BuilderError(f"an index name must be a non-empty string, got {name!r}")
        return DropIndexBuilder(self._db, DropIndexNode(index_name(name, self._schema)))

    # ----------------------------------------------------------------- views

    def create_view(self, name: str | Sql) -> CreateViewBuilder:
        """``create_view("active_users").as_(db.select_from("users").where("active", "=", True))``."""
        from .view import CreateViewBuilder

        return CreateViewBuilder(self._db, CreateViewNode(self._name(name, "a view name")))

    def drop_view(self, name: str | Sql) -> DropViewBuilder:
        from .view import DropViewBuilder

        return DropViewBuilder(self._db, DropViewNode(self._name(name, "a view name")))

    def refresh_materialized_view(self, name: str | Sql) -> RefreshMaterializedViewBuilder:
        """Recompute a materialized view's rows (PostgreSQL)."""
        from .view import RefreshMaterializedViewBuilder

        return RefreshMaterializedViewBuilder(self._db, RefreshMaterializedViewNode(self._name(name, "a view name")))

    # ----------------------------------------------------------------- schemas

    def create_schema(self, name: str) -> CreateSchemaBuilder:
        """A PostgreSQL schema; a database on MySQL/MariaDB; on SQLite attach a database file instead."""
        from .schemas import CreateSchemaBuilder

        return CreateSchemaBuilder(self._db, CreateSchemaNode(name_of(name, "a schema name")))

    def drop_schema(self, name: str) -> DropSchemaBuilder:
        from .schemas import DropSchemaBuilder

        return DropSchemaBuilder(self._db, DropSchemaNode(name_of(name, "a schema name")))

    # ----------------------------------------------------------------- types

    def create_type(self, name: str | EnumTypeNode) -> CreateTypeBuilder:
        """``create_type("mood").as_enum(["happy", "sad"])``, or ``create_type(enum_type(...))``.

        PostgreSQL creates the type; MySQL and SQLite need none (nothing is emitted)."""
        from .types import CreateTypeBuilder

        if isinstance(name, EnumTypeNode):
            return CreateTypeBuilder(self._db, CreateTypeNode(qualify(name.name, self._schema), name.values))
        return CreateTypeBuilder(self._db, CreateTypeNode(self._name(name, "a type name")))

    def alter_type(self, name: str | EnumTypeNode) -> AlterTypeBuilder:
        from .types import AlterTypeBuilder

        ident = qualify(name.name, self._schema) if isinstance(name, EnumTypeNode) else self._name(name, "a type name")
        return AlterTypeBuilder(self._db, AlterTypeNode(ident))

    def drop_type(self, name: str | EnumTypeNode) -> DropTypeBuilder:
        from .types import DropTypeBuilder

        ident = qualify(name.name, self._schema) if isinstance(name, EnumTypeNode) else self._name(name, "a type name")
        return DropTypeBuilder(self._db, DropTypeNode(ident))

    # ----------------------------------------------------------------- sequences

    def create_sequence(self, name: str | Sql) -> CreateSequenceBuilder:
        """PostgreSQL and MariaDB 10.3+: ``create_sequence("order_no").start_with(1000).increment_by(10)``."""
        from .sequence import CreateSequenceBuilder

        return CreateSequenceBuilder(self._db, CreateSequenceNode(self._name(name, "a sequence name")))

    def alter_sequence(self, name: str | Sql) -> AlterSequenceBuilder:
        from .sequence import AlterSequenceBuilder

        return AlterSequenceBuilder(self._db, AlterSequenceNode(self._name(name, "a sequence name")))

    def drop_sequence(self, name: str | Sql) -> DropSequenceBuilder:
        from .sequence import DropSequenceBuilder

        return DropSequenceBuilder(self._db, DropSequenceNode(self._name(name, "a sequence name")))
