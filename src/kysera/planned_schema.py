"""The columns as a dry run's recorded statements would leave them, for compilers that read the catalog.

A dry run records statements instead of running them, so the catalog never shows what they
change. Most statements compile without the catalog; MySQL's ``MODIFY COLUMN`` does not (it
restates the column's whole definition). When a migration of the plan changes a column that an
earlier recorded statement created, added, renamed, retyped or gave a default, the compiler
asks :class:`PlannedSchema`: the column replayed from the recorded nodes (``create_table``,
``add_column``, ``modify_column``, ``alter_column``, ``rename_column``, ``drop_column``,
``rename_to``, ``drop_table``, and the renames and drops of raw ``ALTER TABLE``/``DROP TABLE``
text), in order, as a definition the plan made or as the catalog's column (under the names the
catalog knows) with the changes the plan makes to it. MySQL's ``DROP INDEX`` names the index's
table: for an index the plan creates or drops, :meth:`PlannedSchema.index_table` says which.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import nodes as n
from .dialects.alter_folding import folded_column


@dataclass
class PlannedColumn:
    """One column as the recorded statements leave it."""

    #: its definition, when a recorded statement made it; None: it is the catalog's column
    made: n.ColumnDefinitionNode | None
    #: where the catalog has it (the names before the plan renames them)
    catalog_table: n.IdentifierNode
    catalog_column: str
    #: changes to apply, in order, on top of that
    changes: list[n.ColumnAlteration] = field(default_factory=list)


@dataclass
class _Table:
    catalog: n.IdentifierNode
    columns: dict[str, PlannedColumn] = field(default_factory=dict)


class PlannedSchema:
    """What a dry run has recorded so far, replayed as columns when a compiler asks.

    :meth:`add` only keeps the statement (the safety gate records thousands before any
    ``MODIFY COLUMN`` asks); :meth:`column` replays those not replayed yet, so each statement is
    replayed once however often the compiler asks.
    """

    def __init__(self) -> None:
        self._statements: list[n.CompiledStatement] = []
        self._replayed = 0
        self._tables: dict[tuple[str | None, str], _Table] = {}
        #: indexes the plan creates (their table) or drops (None), by (schema, index name)
        self._indexes: dict[tuple[str | None, str], n.IdentifierNode | None] = {}
        self._last: object = None  # one node compiles to several statements: replay it once

    def add(self, statement: n.CompiledStatement) -> None:
        self._statements.append(statement)

    def column(self, table: n.IdentifierNode, column: str) -> PlannedColumn | None:
        """``column`` of ``table`` as the recorded statements leave it, when they touch it."""
        self._catch_up()
        found = self._tables.get(_key(table))
        return found.columns.get(column) if found is not None else None

    def index_table(self, index: n.IdentifierNode) -> tuple[bool, n.IdentifierNode | None]:
        """Whether the recorded statements create or drop index ``index``, and its table then
        (None: they drop it, or the table it is on)."""
        self._catch_up()
        key = _key(index)
        return (key in self._indexes, self._indexes.get(key))

    def _catch_up(self) -> None:
        for statement in self._statements[self._replayed :]:
            node = statement.node
            self._replay(_from_raw(statement.sql) if isinstance(node, n.RawNode) else node)
        self._replayed = len(self._statements)

    def _replay(self, node: object) -> None:
        if node is None or node is self._last:
            return
        self._last = node
        tables = self._tables
        if isinstance(node, n.CreateTableNode):
            made = _Table(node.table)
            made.columns = {c.name: PlannedColumn(c, node.table, c.name) for c in node.columns}
            tables[_key(node.table)] = made
        elif isinstance(node, n.DropTableNode):
            tables.pop(_key(node.table), None)
            self._move_indexes(node.table, None)
        elif isinstance(node, n.AlterTableNode):
            state = tables.setdefault(_key(node.table), _Table(node.table))
            for action in node.actions:
                if isinstance(action, n.RenameTableNode):
                    tables.pop(_key(node.table), None)
                    tables[(node.table.schema or None, action.new_name)] = state
                    self._move_indexes(node.table, n.IdentifierNode(action.new_name, node.table.schema))
                else:
                    _apply(action, state)
        elif isinstance(node, n.CreateIndexNode) and node.table is not None:
            schema = node.name.schema or node.table.schema
            self._indexes[(schema or None, node.name.name)] = node.table
        elif isinstance(node, n.DropIndexNode):
            self._indexes[_key(node.name)] = None

    def _move_indexes(self, table: n.IdentifierNode, to: n.IdentifierNode | None) -> None:
        """The plan's indexes on ``table`` follow it to its new name (``to``), or go with it."""
        for key, on in self._indexes.items():
            if on is not None and _key(on) == _key(table):
                self._indexes[key] = to


def _apply(action: n.AlterTableAction, table: _Table) -> None:
    columns = table.columns
    if isinstance(action, n.AddColumnNode | n.ModifyColumnNode):
        columns[action.column.name] = PlannedColumn(action.column, table.catalog, action.column.name)
    elif isinstance(action, n.DropColumnNode):
        columns.pop(action.column, None)
    elif isinstance(action, n.RenameColumnNode):
        moved = columns.pop(action.column, None) or PlannedColumn(None, table.catalog, action.column)
        if moved.made is not None:
            moved.made = n.replace(moved.made, name=action.new_name)
        columns[action.new_name] = moved
    elif isinstance(action, n.AlterColumnNode):
        planned = columns.setdefault(action.column, PlannedColumn(None, table.catalog, action.column))
        folded = folded_column(planned.made, action.alteration) if planned.made is not None and not planned.changes else None
        if folded is not None:
            planned.made = folded
        else:
            planned.changes.append(action.alteration)


#: what raw SQL can say that the plan follows: names only (a raw column definition is not
#: read back into one, so a raw ADD or MODIFY COLUMN leaves the column to the catalog)
_RAW_FOLLOWED = (n.RenameColumnNode, n.DropColumnNode, n.RenameTableNode)


def _from_raw(text: str) -> object:
    """The part of a raw statement (``sql("ALTER TABLE users RENAME COLUMN a TO b")``) the plan
    follows, as a node; None for anything else."""
    from .safety.raw import classify

    found = classify(text, "mysql")
    if isinstance(found, n.DropTableNode):
        return found
    if isinstance(found, n.AlterTableNode):
        kept = tuple(a for a in found.actions if isinstance(a, _RAW_FOLLOWED))
        return n.replace(found, actions=kept) if kept else None
    return None


def _key(table: n.IdentifierNode) -> tuple[str | None, str]:
    return (table.schema or None, table.name)
