"""What the runner returns: :class:`MigrationResult` for runs, :class:`MigrationStatus` for status."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ..nodes import CompiledStatement
from .migration import Direction

if TYPE_CHECKING:
    from ..safety import Finding

#: the state of one migration in :class:`MigrationStatus`
State = Literal["applied", "pending", "failed", "running", "changed", "missing"]


@dataclass
class MigrationStep:
    """One migration run in one direction: what ran (or, in a dry run, would run) and how long it took.

    ``statements`` are the compiled statements for this engine, in order (data statements carry
    their parameters; ``str(statement)`` shows them inline). ``status`` is ``"executed"``,
    ``"failed"`` or, in a dry run, ``"planned"``.
    """

    name: str
    direction: Direction
    statements: list[CompiledStatement] = field(default_factory=list)
    duration: float = 0.0
    status: Literal["executed", "failed", "planned"] = "executed"
    transaction: bool = True

    def sql(self) -> str:
        """The statements as a script: one statement per line(s), each ending with ``;``."""
        return "\n".join(f"{statement};" for statement in self.statements)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "direction": self.direction,
            "status": self.status,
            "transaction": self.transaction,
            "duration": round(self.duration, 6),
            "statements": [str(s) for s in self.statements],
        }


@dataclass
class MigrationResult:
    """The outcome of ``up``, ``down``, ``reset``... (also on ``MigrationError.result``).

    ``executed``: names run (in a dry run: that would run), in order; ``skipped``: for ``up``, the
    migrations already applied; ``failed``: the migration that failed, if any; ``duration``:
    seconds for the whole call; ``steps``: one :class:`MigrationStep` per migration run, with its
    statements (the dry-run plan when ``dry_run`` is True).
    """

    executed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    duration: float = 0.0
    dry_run: bool = False
    steps: list[MigrationStep] = field(default_factory=list)
    #: safety findings of the pending migrations (see docs/safety.md), when the gate ran
    findings: list[Finding] = field(default_factory=list)

    @property
    def plan(self) -> list[MigrationStep]:
        """The steps (the name reads better for a dry run)."""
        return self.steps

    def statements(self, name: str) -> list[CompiledStatement]:
        """Every statement of migration ``name`` in this result, in order."""
        return [s for step in self.steps if step.name == name for s in step.statements]

    def sql(self) -> str:
        """All statements as one script, each migration under a ``-- name (direction)`` comment."""
        blocks = []
        for step in self.steps:
            header = f"-- {step.name} ({step.direction})" + ("" if step.transaction else " outside a transaction")
            blocks.append(header + ("\n" + step.sql() if step.statements else "\n-- (no statements)"))
        return "\n\n".join(blocks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "executed": list(self.executed),
            "skipped": list(self.skipped),
            "failed": list(self.failed),
            "duration": round(self.duration, 6),
            "dry_run": self.dry_run,
            "steps": [step.as_dict() for step in self.steps],
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class MigrationInfo:
    """One migration as :meth:`MigrationRunner.status` sees it.

    ``state``: ``applied``; ``pending``; ``failed`` (failed part-way, must be resolved);
    ``running`` (being applied now, or interrupted: its process died); ``changed`` (applied, but
    its file or code changed since); ``missing`` (applied, but its file or code is gone).
    ``checksum`` is the one recorded in the history, ``current_checksum`` the code's now.
    ``out_of_order`` marks a pending migration that sorts before the newest applied one.
    """

    name: str
    state: State
    applied_at: _dt.datetime | None = None
    duration: float | None = None
    batch: int | None = None
    checksum: str | None = None
    current_checksum: str | None = None
    description: str | None = None
    direction: str | None = None
    statement: str | None = None
    error: str | None = None
    out_of_order: bool = False
    has_down: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state,
            "applied_at": self.applied_at.isoformat() if self.applied_at else None,
            "duration": self.duration,
            "batch": self.batch,
            "checksum": self.checksum,
            "current_checksum": self.current_checksum,
            "description": self.description,
            "direction": self.direction,
            "statement": self.statement,
            "error": self.error,
            "out_of_order": self.out_of_order,
            "has_down": self.has_down,
        }


@dataclass(frozen=True)
class MigrationStatus:
    """``executed``: applied names in application order (including ``changed`` and ``missing``
    ones); ``pending``: names not applied, in order; ``total``: how many migrations the runner
    has; ``migrations``: a :class:`MigrationInfo` per migration (the runner's, then any in the
    history that the runner does not have)."""

    executed: list[str]
    pending: list[str]
    total: int
    migrations: list[MigrationInfo]
    table_exists: bool = True

    def _named(self, *states: str) -> list[str]:
        return [m.name for m in self.migrations if m.state in states]

    @property
    def failed(self) -> list[str]:
        """Migrations that failed part-way or were interrupted (``failed`` and ``running``)."""
        return self._named("failed", "running")

    @property
    def changed(self) -> list[str]:
        return self._named("changed")

    @property
    def missing(self) -> list[str]:
        return self._named("missing")

    @property
    def out_of_order(self) -> list[str]:
        return [m.name for m in self.migrations if m.out_of_order]

    @property
    def current(self) -> str | None:
        """The most recently applied migration, or None."""
        return self.executed[-1] if self.executed else None

    def get(self, name: str) -> MigrationInfo | None:
        return next((m for m in self.migrations if m.name == name), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "executed": list(self.executed),
            "pending": list(self.pending),
            "failed": self.failed,
            "changed": self.changed,
            "missing": self.missing,
            "total": self.total,
            "table_exists": self.table_exists,
            "migrations": [m.as_dict() for m in self.migrations],
        }
