"""What the runner returns for a run (``up``, ``down``, ...): :class:`MigrationResult`.

What ``status()`` returns is in :mod:`kysera.migrations.status`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ..nodes import CompiledStatement
from .migration import Direction

if TYPE_CHECKING:
    from ..safety import Finding

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

    def sql(self, *, mysql_client: bool = False) -> str:
        """The statements as a script: one statement per line(s), each ending with ``;`` (with
        ``mysql_client``, routine and trigger bodies between ``DELIMITER`` lines)."""
        from ..compiled import script_statement

        return "\n".join(script_statement(statement, mysql_client) for statement in self.statements)

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
    #: the findings for which the run refused to start (in a dry run: would refuse); they are
    #: errors nobody acknowledged. Empty when it goes ahead
    refused: list[Finding] = field(default_factory=list)

    def __repr__(self) -> str:
        # what a REPL user wants to see after runner.up(): the names; the steps' statements and
        # the findings' texts are a call away (.sql(), .steps, .findings), not printed whole
        steps = f"<{len(self.steps)} step{'s' if len(self.steps) != 1 else ''}: .sql() shows them>"
        findings = [f"{f.code} {f.migration}" for f in self.findings]
        refused = [f"{f.code} {f.migration}" for f in self.refused]
        return (
            f"MigrationResult(executed={self.executed!r}, skipped={self.skipped!r}, failed={self.failed!r}, "
            f"duration={self.duration:.3f}, dry_run={self.dry_run!r}, steps={steps}, findings={findings!r}, refused={refused!r})"
        )

    @property
    def plan(self) -> list[MigrationStep]:
        """The steps (the name reads better for a dry run)."""
        return self.steps

    def statements(self, name: str) -> list[CompiledStatement]:
        """Every statement of migration ``name`` in this result, in order."""
        return [s for step in self.steps if step.name == name for s in step.statements]

    def sql(self, *, mysql_client: bool = False) -> str:
        """All statements as one script, each migration under a ``-- name (direction)`` comment
        (``mysql_client``: see :meth:`MigrationStep.sql`)."""
        blocks = []
        for step in self.steps:
            header = f"-- {step.name} ({step.direction})" + ("" if step.transaction else " outside a transaction")
            body = step.sql(mysql_client=mysql_client)
            blocks.append(header + ("\n" + body if step.statements else "\n-- (no statements)"))
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
            "refused": [f.to_dict() for f in self.refused],
        }
