"""The columns a dry run's recorded statements would create, for compilers that read the catalog.

A dry run records statements instead of running them, so the catalog never shows what they
create. Most statements compile without the catalog; MySQL's ``MODIFY COLUMN`` does not (it
restates the column's whole definition). When a later migration of the plan, or a later call
of the same migration, changes a column that an earlier recorded statement creates, the
compiler asks :func:`planned_column`: the column's definition replayed from the recorded nodes
(``create_table``, ``add_column``, ``modify_column``, ``alter_column``, ``rename_column``,
``drop_column``, ``drop_table``), in order.
"""

from __future__ import annotations

from collections.abc import Iterable

from . import nodes as n
from .dialects.alter_folding import folded_column


def planned_column(
    statements: Iterable[n.CompiledStatement], table: n.IdentifierNode, column: str
) -> n.ColumnDefinitionNode | str | None:
    """``column`` of ``table`` as ``statements`` leave it, if they create it; the name it has in
    the catalog, if they only rename an existing column to it; else None."""
    columns: dict[str, n.ColumnDefinitionNode | str] = {}
    seen: set[int] = set()  # one node compiles to several statements: replay it once
    for statement in statements:
        node = statement.node
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, n.CreateTableNode) and _same(node.table, table):
            columns = {c.name: c for c in node.columns}
        elif isinstance(node, n.DropTableNode) and _same(node.table, table):
            columns = {}
        elif isinstance(node, n.AlterTableNode) and _same(node.table, table):
            for action in node.actions:
                _apply(action, columns)
    return columns.get(column)


def _apply(action: n.AlterTableAction, columns: dict[str, n.ColumnDefinitionNode | str]) -> None:
    if isinstance(action, n.AddColumnNode | n.ModifyColumnNode):
        columns[action.column.name] = action.column
    elif isinstance(action, n.DropColumnNode):
        columns.pop(action.column, None)
    elif isinstance(action, n.RenameColumnNode):
        # a column the plan made keeps its definition; one of the catalog's is known by its old name
        before = columns.pop(action.column, action.column)
        columns[action.new_name] = before if isinstance(before, str) else n.replace(before, name=action.new_name)
    elif isinstance(action, n.AlterColumnNode):
        known = columns.get(action.column)
        changed = folded_column(known, action.alteration) if isinstance(known, n.ColumnDefinitionNode) else None
        if changed is not None:
            columns[action.column] = changed


def _same(a: n.IdentifierNode, b: n.IdentifierNode) -> bool:
    return a.name == b.name and (a.schema or None) == (b.schema or None)
