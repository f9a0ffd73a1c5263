"""The safety gate: before ``up`` runs anything, every pending migration is dry-run and analysed.

An error-level finding that the migration does not acknowledge (``allow_unsafe``, a
``-- kysera:allow`` comment, the runner's ``safety_allow``) stops the run before anything
changes. The same dry run tells which migrations hold statements that cannot run inside a
transaction (PostgreSQL's ``CONCURRENTLY``); the runner runs those outside one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ConfigurationError
from ..safety import Facts, LiveFacts, SafetyOptions, analyze
from .errors import MigrationStateError

if TYPE_CHECKING:
    from ..nodes import CompiledStatement
    from ..safety import Finding
    from .migration import Direction, Migration
    from .runner import MigrationRunner


class UnsafeMigrationError(MigrationStateError):
    """A pending migration has an error-level safety finding that nobody acknowledged."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        names = sorted({f.migration or "?" for f in findings})
        body = "\n\n".join(f.render() for f in findings)
        codes = ", ".join(sorted({f.code for f in findings}))
        super().__init__(
            f"refusing to run: {len(findings)} unsafe change(s) in {', '.join(names)}; nothing was changed.\n\n{body}\n\n"
            f"Use the safe recipe, or acknowledge the risk in the migration with allow_unsafe = [{', '.join(repr(c) for c in sorted({f.code for f in findings}))}] "
            f"(SQL files: -- kysera:allow {codes}), or run with --allow-unsafe (safety='warn')"
        )


class GateReport:
    """What the gate found. A plain class: defining a dataclass costs each ``migrate up`` about a
    millisecond at import."""

    __slots__ = ("findings", "outside_transaction", "replays", "unanalysed")

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        #: migrations whose statements cannot run in a transaction: the runner runs them outside one
        self.outside_transaction: set[str] = set()
        #: migrations that could not be dry-run in advance (they read what earlier ones create)
        self.unanalysed: list[str] = []
        #: migrations whose dry run built its statements without touching the database (see
        #: :class:`~kysera.database.Capture`): running those statements is running the migration
        self.replays: dict[str, list[CompiledStatement]] = {}

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.is_error]


def inspect_plan(
    runner: MigrationRunner, plan: list[tuple[Migration, Direction]], judge: bool, facts: Facts | None = None
) -> GateReport:
    """Dry-run the ``up`` steps of ``plan``; with ``judge``, analyse their statements too.

    ``facts`` defaults to the live database; ``OfflineFacts()`` assumes every table is large.
    """
    db = runner.db
    report = GateReport()
    baseline = runner.safety_start_after
    if judge and baseline is not None and not any(m.name == baseline for m in runner.migrations):
        from .runner import _unknown_message

        # a misspelt baseline would silently stop judging every migration that sorts before it
        raise ConfigurationError(
            f"safety_start_after ([safety] start_after in the config): {_unknown_message(baseline, [m.name for m in runner.migrations])}; "
            "name the newest migration that should not be judged"
        )
    options = SafetyOptions(large_table_rows=runner.large_table_rows, lock_timeout=bool(runner.statement_lock_timeout))
    if facts is None:
        facts = LiveFacts(db, options.large_table_rows)
    created: set[str] = set()
    with db.planning():  # a later migration's statements may change what an earlier one creates
        for migration, direction in plan:
            if direction != "up":
                continue
            in_tx = runner.use_transactions and migration.uses_transaction(direction)
            try:
                captured = migration.capture(db, direction, in_transaction=in_tx)
            except Exception:
                report.unanalysed.append(migration.name)
                continue
            outside = in_tx and any(not s.transactional for s in captured)
            if outside:
                report.outside_transaction.add(migration.name)
            elif in_tx and captured.replayable:
                report.replays[migration.name] = captured
            if not judge or (runner.safety_start_after is not None and migration.name <= runner.safety_start_after):
                continue
            report.findings.extend(
                analyze(
                    list(captured),
                    db.dialect,
                    facts,
                    migration=migration.name,
                    transactional=in_tx and not outside,
                    allow=migration.allow_unsafe | runner.safety_allow,
                    options=options,
                    created=created,
                )
            )
    return report
