"""What a failed ``up`` may have left behind, for ``resolve NAME --rolled-back`` to point out.

On MySQL/MariaDB each DDL statement commits at once, and a migration run outside a transaction
keeps what ran on any engine: when such a migration fails part-way, the tables, columns and
indexes its earlier statements made stay. ``resolve --rolled-back`` records that the user undid
them; when the catalog still holds one, the next ``up`` would fail on it ("table already exists").
This reads the migration's statements from a dry run (its code builds them, nothing runs) and
looks each object up in the catalog, so that ``resolve`` can say so at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..nodes import (
    AddColumnNode,
    AlterTableNode,
    CreateIndexNode,
    CreateTableNode,
    IdentifierNode,
    RawNode,
)

if TYPE_CHECKING:
    from ..database import Database
    from ..introspection.model import TableInfo
    from .migration import Migration
    from .runner import MigrationRunner


def leftovers(runner: MigrationRunner, migration: Migration) -> list[str]:
    """The objects ``migration``'s ``up`` creates that the database holds now ("table b1",
    "column users.nickname", "index ix_users_nick"). Best effort: a migration whose dry run
    fails (its code needs what ran before it), or a catalog that cannot be read, gives none."""
    db = runner.db
    try:
        with db.planning(), runner.session_guard.isolated():
            statements = migration.capture(db, "up", in_transaction=False)
    except Exception:
        return []
    found: list[str] = []
    tables: dict[tuple[str | None, str], TableInfo | None] = {}

    def table(node: IdentifierNode) -> TableInfo | None:
        key = (node.schema, node.name)
        if key not in tables:
            tables[key] = _introspect(db, node)
        return tables[key]

    for statement in statements:
        node = statement.node
        if isinstance(node, RawNode) or node is None:  # a .sql migration's statement, or sql(...)
            node = _read(statement.sql, db.dialect.name)
        if isinstance(node, CreateTableNode):
            if not node.if_not_exists and not node.temporary and table(node.table) is not None:
                found.append(f"table {node.table.dotted}")
        elif isinstance(node, CreateIndexNode):
            info = table(node.table) if node.table is not None and not node.if_not_exists else None
            if info is not None and any(index.name == node.name.name for index in info.indexes):
                found.append(f"index {node.name.name}")
        elif isinstance(node, AlterTableNode):
            info = table(node.table)
            if info is None:
                continue
            have = {column.name.lower() if db.dialect.name != "postgres" else column.name for column in info.columns}
            for action in node.actions:
                if isinstance(action, AddColumnNode):
                    name = action.column.name
                    if (name.lower() if db.dialect.name != "postgres" else name) in have:
                        found.append(f"column {node.table.dotted}.{name}")
    return list(dict.fromkeys(found))  # each once, in the order the migration makes them


def _introspect(db: Database, node: IdentifierNode) -> TableInfo | None:
    try:
        return db.introspect_table(node.dotted)
    except Exception:  # a catalog that cannot be read: nothing to say
        return None


def _read(text: str, dialect: str) -> CreateTableNode | CreateIndexNode | AlterTableNode | None:
    """A raw statement as the safety analysis reads it, when it makes a table, an index or a
    column (a plain ``CREATE TABLE`` comes back as a node naming the table alone)."""
    from ..safety import raw

    classified = raw.classify(text, dialect)
    if isinstance(classified, raw.PartlyKnown):
        classified = classified.known
    if isinstance(classified, raw.Harmless):
        if classified.verb == "CREATE TABLE" and classified.table and not classified.if_not_exists:
            return CreateTableNode(IdentifierNode.parse(classified.table))
        return None
    return classified if isinstance(classified, CreateIndexNode | AlterTableNode) else None
