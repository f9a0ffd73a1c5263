"""Changes to a column that the same ``alter_table`` adds, folded into its definition.

``alter_table("t").add_column("x", "integer").alter_column("x", lambda c: c.set_data_type("bigint"))``
asks for one new ``bigint`` column. Written as it was chained, no engine runs it: PostgreSQL
performs the type change before it adds any column, and MySQL writes ``MODIFY COLUMN`` from the
column's current definition, which does not exist yet. So before a dialect compiles the node,
such a change becomes part of the added column (its type, NOT NULL, its default), and a rename
of it renames what is added. A default folded in fills the rows that exist, as a NOT NULL the
same call asks for needs: ``add_column("q", "integer").alter_column("q", lambda c:
c.set_not_null().set_default(0))`` adds ``q integer NOT NULL DEFAULT 0`` on every engine.
Dropping the default of a column the call adds runs as written. Alterations of a
column that the same call then drops are dropped with it. What is left runs in the order it
was chained.
"""

from __future__ import annotations

from .. import nodes as n


def fold_column_changes(node: n.AlterTableNode) -> n.AlterTableNode:
    """``node`` with the alterations of the columns it adds (or drops) folded away."""
    out: list[n.AlterTableAction] = []
    added: dict[str, int] = {}  # the name of a column this call adds -> its AddColumnNode in out
    for action in node.actions:
        if isinstance(action, n.AddColumnNode):
            added[action.column.name] = len(out)
        elif isinstance(action, n.AlterColumnNode | n.RenameColumnNode) and action.column in added:
            at = added[action.column]
            add = out[at]
            assert isinstance(add, n.AddColumnNode)
            if isinstance(action, n.RenameColumnNode):
                out[at] = n.replace(add, column=n.replace(add.column, name=action.new_name))
                added[action.new_name] = added.pop(action.column)
                continue
            folded = folded_column(add.column, action.alteration)
            if folded is not None:
                out[at] = n.replace(add, column=folded)
                continue
            del added[action.column]  # what cannot be folded runs as written, and so does the rest
        elif isinstance(action, n.DropColumnNode):
            # changes to a column that is dropped next would only make the drop fail
            out = [a for a in out if not (isinstance(a, n.AlterColumnNode) and a.column == action.column)]
            added = {name: i for i, a in enumerate(out) for name in _added_name(a) if name != action.column}
        elif _names_a_column(action):
            added.clear()
        out.append(action)
    return node if out == list(node.actions) else n.replace(node, actions=tuple(out))


def _added_name(action: n.AlterTableAction) -> list[str]:
    return [action.column.name] if isinstance(action, n.AddColumnNode) else []


def _names_a_column(action: n.AlterTableAction) -> bool:
    """Whether ``action`` may refer to columns by name (a constraint, a modify): folding a later
    change into a column it depends on would reorder them, so folding stops there."""
    return isinstance(action, n.AddConstraintNode | n.ModifyColumnNode)


def folded_column(column: n.ColumnDefinitionNode, change: n.ColumnAlteration) -> n.ColumnDefinitionNode | None:
    """``column`` with ``change`` written into its definition; None for a change that cannot be
    (a type change with USING, dropping NOT NULL from a primary key, dropping a default: the
    one the column is added with fills the rows that exist)."""
    if isinstance(change, n.SetDefaultNode):
        return n.replace(column, default=change.default)
    if isinstance(change, n.SetDataTypeNode):
        return n.replace(column, data_type=change.data_type) if change.using is None else None
    if isinstance(change, n.SetNotNullNode):
        return n.replace(column, not_null=True)
    if isinstance(change, n.DropNotNullNode):
        return None if column.primary_key else n.replace(column, not_null=False)
    return None


def split_where_columns_meet(actions: tuple[n.AlterTableAction, ...]) -> list[tuple[n.AlterTableAction, ...]]:
    """``actions`` cut into runs that each can be one ALTER TABLE (or one SQLite rebuild): a new
    run starts at an action that changes, drops or renames a column an earlier action of the
    run adds or renames to. Engines apply a statement's parts in an order of their own (and a
    rebuild copies rows once), so such a change would meet no column, or the wrong rows."""
    runs: list[list[n.AlterTableAction]] = [[]]
    introduced: set[str] = set()
    for action in actions:
        if isinstance(action, n.AlterColumnNode | n.DropColumnNode | n.RenameColumnNode) and action.column in introduced:
            runs.append([])
            introduced.clear()
        if isinstance(action, n.AddColumnNode):
            introduced.add(action.column.name)
        elif isinstance(action, n.RenameColumnNode):
            introduced.add(action.new_name)
        runs[-1].append(action)
    return [tuple(run) for run in runs if run]
