"""``safety="auto"``: where a safe equivalent exists, run it instead of refusing.

Rewrites work on operation nodes, for PostgreSQL, on the tables the analysis found too large for
the plain form:

- ``CREATE INDEX`` -> ``CREATE INDEX CONCURRENTLY`` (KS201), ``DROP INDEX`` -> concurrently (KS202);
- a foreign key or CHECK -> added ``NOT VALID``, then ``VALIDATE CONSTRAINT`` (KS203, KS204);
- ``SET NOT NULL`` -> ``CHECK (col IS NOT NULL) NOT VALID``, ``VALIDATE``, ``SET NOT NULL`` (which
  then skips its scan), and the helper check dropped (KS205).

Each rewritten statement must run on its own, outside a transaction (a validation inside the
transaction that added the constraint would hold its exclusive lock all along), so a migration
that gets a rewrite runs outside a transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..nodes import (
    AddConstraintNode,
    AlterColumnNode,
    AlterTableNode,
    CheckConstraintNode,
    ColumnRefNode,
    CreateIndexNode,
    DropConstraintNode,
    DropIndexNode,
    ForeignKeyConstraintNode,
    OperationNode,
    RawNode,
    SetNotNullNode,
    ValidateConstraintNode,
    replace,
)
from .findings import Finding

#: the findings a rewrite makes safe
FIXABLE = frozenset({"KS201", "KS202", "KS203", "KS204", "KS205"})


class Rewriter:
    """Rewrites the nodes a migration executes; built from the findings of its dry run."""

    def __init__(self, findings: Iterable[Finding]) -> None:
        self.targets: set[tuple[str, str]] = {
            (f.code, (f.table or "").lower()) for f in findings if f.code in FIXABLE and f.is_error
        }
        self.applied: list[str] = []

    def __bool__(self) -> bool:
        return bool(self.targets)

    def _wants(self, code: str, table: str | None) -> bool:
        return (code, (table or "").lower()) in self.targets

    def __call__(self, node: OperationNode) -> list[OperationNode] | None:
        if isinstance(node, CreateIndexNode | DropIndexNode) and not node.concurrently and node.table is not None:
            code = "KS201" if isinstance(node, CreateIndexNode) else "KS202"
            if not self._wants(code, node.table.name):
                return None
            verb = "built" if code == "KS201" else "dropped"
            self.applied.append(f"{code}: {node.name.name} {verb} concurrently")
            return [replace(node, concurrently=True)]
        if isinstance(node, AlterTableNode) and len(node.actions) == 1:
            return self._alter(node, node.actions[0])
        return None

    def _alter(self, node: AlterTableNode, action: object) -> list[OperationNode] | None:
        table = node.table.name
        if isinstance(action, AddConstraintNode) and not action.not_valid and action.constraint.name:
            name = action.constraint.name
            c = action.constraint
            code = "KS203" if isinstance(c, ForeignKeyConstraintNode) else "KS204" if isinstance(c, CheckConstraintNode) else None
            if code is None or not self._wants(code, table):
                return None
            self.applied.append(f"{code}: {name} added NOT VALID, then validated")
            return [
                replace(node, actions=(replace(action, not_valid=True),)),
                replace(node, actions=(ValidateConstraintNode(name),)),
            ]
        if isinstance(action, AlterColumnNode) and isinstance(action.alteration, SetNotNullNode):
            if not self._wants("KS205", table):
                return None
            helper = f"{table}_{action.column}_not_null"[:63]
            check = CheckConstraintNode(helper, RawNode((ColumnRefNode(action.column), " IS NOT NULL")))
            self.applied.append(f"KS205: {action.column} set NOT NULL through a validated CHECK")
            return [
                replace(node, actions=(AddConstraintNode(check, not_valid=True),)),
                replace(node, actions=(ValidateConstraintNode(helper),)),
                node,
                replace(node, actions=(DropConstraintNode(helper),)),
            ]
        return None
