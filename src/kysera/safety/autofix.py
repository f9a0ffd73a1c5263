"""``safety="auto"``: where a safe equivalent exists, run it instead of refusing.

Rewrites work on operation nodes, for PostgreSQL, on the tables the analysis found too large for
the plain form:

- ``CREATE INDEX`` -> ``CREATE INDEX CONCURRENTLY`` (KS201), ``DROP INDEX`` -> concurrently (KS202);
- a foreign key or CHECK -> added ``NOT VALID``, then ``VALIDATE CONSTRAINT`` (KS203, KS204);
- ``SET NOT NULL`` -> ``CHECK (col IS NOT NULL) NOT VALID``, ``VALIDATE``, ``SET NOT NULL`` (which
  then skips its scan), and the helper check dropped (KS205).

An ``ALTER TABLE`` with several actions keeps them in one statement, in their order: each action
to fix is replaced there by its instant part (the constraint, or the helper check, added
``NOT VALID``), and what scans the table follows that statement, one action at a time, in the
order the actions were written: ``VALIDATE``, then for ``SET NOT NULL`` the ``SET NOT NULL`` and
the helper check's removal. PostgreSQL itself applies every change of one ``ALTER TABLE`` before
it checks any row, so columns added by the statement exist before anything is validated, as
they did. A rename written after a fixed action (of the table, the column or the constraint) is
followed: the later statements use the new names. Actions the analysis did not target stay
exactly as written.

Each rewritten statement must run on its own, outside a transaction (a validation inside the
transaction that added the constraint would hold its exclusive lock all along), so a migration
that gets a rewrite runs outside a transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..nodes import (
    AddConstraintNode,
    AlterColumnNode,
    AlterTableAction,
    AlterTableNode,
    CheckConstraintNode,
    ColumnRefNode,
    CreateIndexNode,
    DropConstraintNode,
    DropIndexNode,
    ForeignKeyConstraintNode,
    IdentifierNode,
    OperationNode,
    RawNode,
    RenameColumnNode,
    RenameConstraintNode,
    RenameTableNode,
    SetNotNullNode,
    SetSchemaNode,
    ValidateConstraintNode,
    replace,
)
from .findings import Finding

#: the findings a rewrite makes safe
FIXABLE = frozenset({"KS201", "KS202", "KS203", "KS204", "KS205"})

#: PostgreSQL's longest identifier, in bytes
_MAX_NAME = 63


def _index_key(node: DropIndexNode) -> str:
    return "index:" + (f"{node.name.schema}.{node.name.name}" if node.name.schema else node.name.name).lower()


@dataclass(frozen=True)
class _Deferred:
    """What runs after the rewritten ALTER TABLE for one fixed action."""

    position: int  # the action's index in the ALTER TABLE
    constraint: str  # validated: the user's constraint, or the helper check of a SET NOT NULL
    set_not_null: AlterColumnNode | None = None  # KS205: run once the helper check is valid


class Rewriter:
    """Rewrites the nodes a migration executes; built from the findings of its dry run.

    ``engine`` is the dialect's name: the rewrites are PostgreSQL's, so on another engine the
    rewriter targets nothing (and is false).
    """

    def __init__(self, findings: Iterable[Finding], *, engine: str = "postgres") -> None:
        # (nothing is built or dropped concurrently on a partitioned table: PostgreSQL refuses it)
        fixable = (
            [f for f in findings if f.code in FIXABLE and f.is_error and not f.extra.get("partitioned")]
            if engine == "postgres"
            else []
        )
        self.targets: set[tuple[str, str]] = {(f.code, (f.table or "").lower()) for f in fixable}
        # a drop_index(name) names no table: found by the index (the analysis looked its table up)
        self.targets |= {
            ("KS202", _index_key(node)) for f in fixable if isinstance(node := f.extra.get("node"), DropIndexNode)
        }
        self.applied: list[str] = []

    def __bool__(self) -> bool:
        return bool(self.targets)

    def _wants(self, code: str, table: str | None) -> bool:
        return (code, (table or "").lower()) in self.targets

    def __call__(self, node: OperationNode) -> list[OperationNode] | None:
        """The statements to run instead of ``node`` (and what was changed, in ``applied``); None: as is."""
        planned = self._plan(node)
        if planned is None:
            return None
        nodes, notes = planned
        self.applied.extend(notes)
        return nodes

    def rewrites(self, node: OperationNode) -> bool:
        """Whether ``node`` would be rewritten (nothing is recorded in ``applied``)."""
        return self._plan(node) is not None

    # ----------------------------------------------------------------- planning

    def _plan(self, node: OperationNode) -> tuple[list[OperationNode], list[str]] | None:
        if isinstance(node, CreateIndexNode | DropIndexNode) and not node.concurrently:
            code = "KS201" if isinstance(node, CreateIndexNode) else "KS202"
            if isinstance(node, DropIndexNode) and node.table is None:
                if (code, _index_key(node)) not in self.targets:
                    return None
            elif node.table is None or not self._wants(code, node.table.name):
                return None
            verb = "built" if code == "KS201" else "dropped"
            return [replace(node, concurrently=True)], [f"{code}: {node.name.name} {verb} concurrently"]
        if isinstance(node, AlterTableNode):
            return self._alter(node)
        return None

    def _code(self, table: str, action: AlterTableAction) -> str | None:
        """The finding code this action is rewritten for, when the analysis targeted it."""
        code: str | None = None
        if isinstance(action, AddConstraintNode) and not action.not_valid and action.constraint.name:
            if isinstance(action.constraint, ForeignKeyConstraintNode):
                code = "KS203"
            elif isinstance(action.constraint, CheckConstraintNode):
                code = "KS204"
        elif isinstance(action, AlterColumnNode) and isinstance(action.alteration, SetNotNullNode):
            code = "KS205"
        return code if code is not None and self._wants(code, table) else None

    def _alter(self, node: AlterTableNode) -> tuple[list[OperationNode], list[str]] | None:
        table = node.table.name
        # every action stays in the first statement, in order; a fixed one only loses its scan
        first: list[AlterTableAction] = []
        deferred: list[_Deferred] = []
        notes: list[str] = []
        taken = {a.constraint.name for a in node.actions if isinstance(a, AddConstraintNode) and a.constraint.name}
        for position, action in enumerate(node.actions):
            code = self._code(table, action)
            if code is None:
                first.append(action)
            elif isinstance(action, AlterColumnNode):
                helper = _helper_name(f"{table}_{action.column}_not_null", taken)
                taken.add(helper)
                check = CheckConstraintNode(helper, RawNode((ColumnRefNode(action.column), " IS NOT NULL")))
                first.append(AddConstraintNode(check, not_valid=True))
                deferred.append(_Deferred(position, helper, action))
                notes.append(f"{code}: {action.column} set NOT NULL through a validated CHECK")
            elif isinstance(action, AddConstraintNode) and action.constraint.name:
                first.append(replace(action, not_valid=True))
                deferred.append(_Deferred(position, action.constraint.name))
                notes.append(f"{code}: {action.constraint.name} added NOT VALID, then validated")
            else:
                first.append(action)
        if not deferred:
            return None
        out: list[OperationNode] = [replace(node, actions=tuple(first))]
        for step in deferred:
            column = step.set_not_null.column if step.set_not_null is not None else None
            table_now, column_now, constraint_now = _names_after(node, step.position, column, step.constraint)
            out.append(replace(node, table=table_now, actions=(ValidateConstraintNode(constraint_now),)))
            if step.set_not_null is not None and column_now is not None:
                out.append(replace(node, table=table_now, actions=(replace(step.set_not_null, column=column_now),)))
                out.append(replace(node, table=table_now, actions=(DropConstraintNode(constraint_now),)))
        return out, notes


def _names_after(
    node: AlterTableNode, position: int, column: str | None, constraint: str
) -> tuple[IdentifierNode, str | None, str]:
    """The table's name once ``node`` ran, and the column's and constraint's after the actions that
    follow ``position`` (a rename before it was already in effect when the action ran)."""
    table = node.table
    for index, action in enumerate(node.actions):
        if isinstance(action, RenameTableNode):
            table = IdentifierNode(action.new_name, table.schema)
        elif isinstance(action, SetSchemaNode):
            table = IdentifierNode(table.name, action.schema)
        elif index <= position:
            continue
        elif isinstance(action, RenameColumnNode) and action.column == column:
            column = action.new_name
        elif isinstance(action, RenameConstraintNode) and action.name == constraint:
            constraint = action.new_name
    return table, column, constraint


def _helper_name(base: str, taken: set[str]) -> str:
    """``base`` cut to PostgreSQL's identifier length, with a number added if the name is taken."""
    name = _cut(base, _MAX_NAME)
    number = 1
    while name in taken:
        number += 1
        suffix = f"_{number}"
        name = _cut(base, _MAX_NAME - len(suffix)) + suffix
    return name


def _cut(text: str, size: int) -> str:
    """``text`` in at most ``size`` UTF-8 bytes, without splitting a character."""
    return text.encode()[:size].decode(errors="ignore")
