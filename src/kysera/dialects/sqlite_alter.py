"""SQLite ALTER TABLE (placeholder until the rebuild lands): native forms only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..nodes import (
    AddColumnNode,
    AlterTableNode,
    CompiledStatement,
    DropColumnNode,
    RenameColumnNode,
    RenameTableNode,
)
from .compiler import Writer

if TYPE_CHECKING:
    from .sqlite import SqliteCompiler


def compile_sqlite_alter_table(compiler: SqliteCompiler, node: AlterTableNode) -> list[CompiledStatement]:
    out = []
    for action in node.actions:
        if not isinstance(action, AddColumnNode | DropColumnNode | RenameColumnNode | RenameTableNode):
            raise compiler.unsupported(f"{type(action).__name__} on SQLite (table rebuild pending)")
        for clause in compiler.alter_action(node, action):
            w = Writer(compiler, inline=True).text("ALTER TABLE ").table(node.table).text(" " + clause)
            out.append(w.finish(node))
    return out
