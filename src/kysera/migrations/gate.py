"""The safety gate: before ``up`` runs anything, every pending migration is dry-run and analysed.

An error-level finding that the migration does not acknowledge (``allow_unsafe``, a
``-- kysera:allow`` comment, the runner's ``safety_allow``) stops the run before anything
changes. The same dry run tells which migrations hold statements that cannot run inside a
transaction (PostgreSQL's ``CONCURRENTLY``); the runner runs those outside one.
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from typing import TYPE_CHECKING

from ..database import Capture
from ..errors import ConfigurationError, KyseraError
from ..safety import Facts, LiveFacts, OfflineFacts, SafetyOptions, analyze
from ..safety.analyzer import PlanState
from .errors import MigrationStateError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..nodes import CompiledStatement
    from ..safety import Finding
    from .migration import Direction, Migration
    from .results import MigrationResult
    from .runner import MigrationRunner


class UnsafeMigrationError(MigrationStateError):
    """A pending migration has an error-level safety finding that nobody acknowledged.

    ``applied``: the migrations this run applied before the refusal (a migration that could only
    be checked once the migrations before it had run); ``result`` is the run's result then (its
    ``refused`` names the findings; made from ``findings`` when none is given).
    """

    def __init__(self, findings: list[Finding], applied: list[str] | None = None, result: MigrationResult | None = None) -> None:
        self.findings = findings
        self.applied = list(applied or [])
        if result is None:
            from .results import MigrationResult

            result = MigrationResult(executed=list(self.applied), findings=list(findings), refused=list(findings))
        self.result: MigrationResult = result
        names = sorted({f.migration or "?" for f in findings})
        codes = ", ".join(sorted({f.code for f in findings}))
        #: the findings and how to go on, without what was or was not changed
        self.advice = "\n\n".join(f.render() for f in findings) + (
            f"\n\nUse the safe recipe, or acknowledge the risk in the migration with allow_unsafe = [{', '.join(repr(c) for c in sorted({f.code for f in findings}))}] "
            f"(SQL files: -- kysera:allow {codes}), or run with --allow-unsafe (safety='warn')"
        )
        if self.applied:
            count = len(self.applied)
            done = (
                f"{', '.join(names)} could only be checked once the {count} migration{'s' if count != 1 else ''} "
                f"before it in this run had been applied ({', '.join(self.applied)}): those stay applied, "
                f"{', '.join(names)} and later ones did not run"
            )
        else:
            done = "nothing was changed"
        changes = f"{len(findings)} unsafe change{'s' if len(findings) != 1 else ''}"  # as the dry run's last line says it
        super().__init__(f"refusing to run: {changes} in {', '.join(names)}; {done}.\n\n{self.advice}")


class GateReport:
    """What the gate found. A plain class: defining a dataclass costs each ``migrate up`` about a
    millisecond at import."""

    __slots__ = ("created", "empty", "findings", "outside_transaction", "replays", "settled", "unanalysed", "why")

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        #: migrations whose statements cannot run in a transaction: the runner runs them outside one
        self.outside_transaction: set[str] = set()
        #: migrations that could not be dry-run in advance (they use what earlier ones create):
        #: the runner checks each of them right before it runs (see :func:`inspect_migration`)
        self.unanalysed: list[str] = []
        #: why each of them could not be dry-run: the error its code raised
        self.why: dict[str, Exception] = {}
        #: those of them whose dry run failed without consulting the database, with every
        #: migration before them dry-run: what runs first cannot change that, so the real run
        #: would fail the same way (see :func:`fails_anyway`)
        self.settled: set[str] = set()
        #: migrations whose dry run built its statements without touching the database (see
        #: :class:`~kysera.database.Capture`): running those statements is running the migration
        self.replays: dict[str, Capture] = {}
        #: what the plan's migrations did so far that the catalog does not show yet (the tables
        #: they create, rename, let NULL into ...)
        self.created = PlanState()
        #: migrations whose ``up`` ran no statement and read nothing: a builder left without
        #: ``.execute()``, or a file from ``kysera migrate create`` not filled in yet
        self.empty: list[str] = []

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.is_error]

    def add(self, other: GateReport) -> None:
        """Take in the report of another plan (``kysera migrate lint --all`` judges migrations
        already applied one by one, apart from the pending ones)."""
        self.findings.extend(other.findings)
        self.outside_transaction |= other.outside_transaction
        self.unanalysed.extend(other.unanalysed)
        self.why.update(other.why)
        self.settled |= other.settled
        self.replays.update(other.replays)
        self.created.update(other.created)
        self.empty.extend(other.empty)

    def cannot_run(self, *, raised: bool = False) -> dict[str, Exception]:
        """The migrations whose dry run failed in a way that running the ones before them
        cannot mend, with their errors: the run should stop before it changes anything.
        ``raised``: also those whose code raised an exception of its own without reading the
        database (lint reports them; ``up`` applies the migrations before them first)."""
        return {
            name: why for name in self.unanalysed
            if (why := self.why.get(name)) is not None
            and fails_anyway(why, settled=name in self.settled, raised=raised)
        }


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
        from .errors import unknown_migration_message

        # a misspelt baseline would silently stop judging every migration that sorts before it
        raise ConfigurationError(
            f"safety_start_after ([safety] start_after in the config): {unknown_migration_message(baseline, [m.name for m in runner.migrations])}; "
            "name the newest migration that should not be judged"
        )
    options = safety_options(runner)
    if facts is None:
        facts = LiveFacts(db, options.large_table_rows)
    # redo: an up that comes after a down is judged as the down leaves the database, so the run
    # can refuse before it rolls anything back. SQLite runs the downs in a transaction rolled back
    # at the end (a rehearsal); elsewhere they are recorded, which MySQL's planned columns follow.
    first_down = next((i for i, (_, d) in enumerate(plan) if d == "down"), None)
    downs_first = first_down is not None and any(d == "up" for _, d in plan[first_down:])
    if downs_first:
        from dataclasses import replace as with_changes

        options = with_changes(options, catalog_current=False)
    # what a dry run runs (SQLite's rehearsal, a query) may change a session setting: it is set back
    # after each migration (SessionGuard.isolated), as a real run does, and the real run starts
    # from the session as it was
    with db.rehearsal() if downs_first else nullcontext(False), db.planning():
        for migration, direction in plan:
            in_tx = runner.use_transactions and migration.uses_transaction(direction)
            if direction != "up":
                if downs_first:
                    try:
                        with runner.session_guard.isolated():
                            migration.capture(runner.db, direction, in_transaction=in_tx)
                    except Exception:  # what it does is judged no better than without this step
                        pass
                continue
            inspect_migration(runner, migration, in_tx, judge, facts, options, report)
    if downs_first:
        report.settled.clear()  # the ups follow downs that were only recorded (or rehearsed)
    # offline (migrate lint --dialect sqlite) there is no database to rehearse the plan in: what
    # could not be dry-run alone stays "not analysed", with its reason
    if report.unanalysed and not downs_first and db.dialect.rehearses_dry_runs and not isinstance(facts, OfflineFacts):
        _inspect_rehearsed(runner, plan, judge, facts, options, report)
    return report


def _inspect_rehearsed(
    runner: MigrationRunner,
    plan: list[tuple[Migration, Direction]],
    judge: bool,
    facts: Facts,
    options: SafetyOptions,
    report: GateReport,
) -> None:
    """SQLite: the migrations that could not be dry-run alone (they change what an earlier one of
    the plan makes) are dry-run again after the plan's earlier statements ran, in a transaction
    rolled back at the end, as ``up --dry-run`` does: the run refuses before it applies anything."""
    later = set(report.unanalysed)
    db = runner.db
    with db.rehearsal() as rehearsing, db.planning():
        if not rehearsing:
            return
        report.unanalysed = []
        for migration, direction in plan:
            if direction != "up":
                continue
            in_tx = runner.use_transactions and migration.uses_transaction(direction)
            if migration.name in later:
                inspect_migration(runner, migration, in_tx, judge, facts, options, report)
                report.replays.pop(migration.name, None)  # compiled in the rehearsal: the run compiles it again
            else:
                try:
                    with runner.session_guard.isolated():
                        migration.capture(db, "up", in_transaction=in_tx)  # runs, for those after it
                except Exception:
                    pass


def inspect_migration(
    runner: MigrationRunner,
    migration: Migration,
    in_tx: bool,
    judge: bool,
    facts: Facts | None,
    options: SafetyOptions | None,
    report: GateReport,
) -> bool:
    """Dry-run the ``up`` of one migration into ``report`` (and, with ``judge``, analyse it);
    False when it cannot be dry-run (it is then listed in ``report.unanalysed``).

    The runner also calls it right before a migration the gate could not dry-run in advance:
    the migrations before it have run by then, so its dry run usually works, and its findings
    stop the run before it changes anything.
    """
    seen = Capture()
    started = time.perf_counter()
    try:
        with runner.session_guard.isolated():
            captured = migration.capture(runner.db, "up", in_transaction=in_tx, into=seen)
        captured.seconds = time.perf_counter() - started  # a replay counts the time the code took
    except Exception as exc:
        if not seen.consulted and not report.unanalysed:
            report.settled.add(migration.name)
        report.unanalysed.append(migration.name)
        report.why[migration.name] = exc
        return False
    if not captured and not seen.consulted:
        report.empty.append(migration.name)
    outside = in_tx and any(not s.transactional for s in captured)
    if outside:
        report.outside_transaction.add(migration.name)
    elif in_tx and captured.replayable:
        report.replays[migration.name] = captured
    if not judge or (runner.safety_start_after is not None and migration.name <= runner.safety_start_after):
        return True
    report.findings.extend(
        judge_statements(
            runner, migration, captured, transactional=in_tx and not outside, created=report.created, facts=facts,
            options=options, moved_outside=outside,
        )
    )
    return True


def empty_migration_note(migration: Migration) -> str:
    """What to say of a migration whose ``up`` runs no statement (:attr:`GateReport.empty`)."""
    if migration.is_sql_file:
        return f"{migration.name} changes nothing: its '-- migrate:up' section holds no statement"
    return (
        f"{migration.name} changes nothing: its up() ran no statement (a builder runs only with .execute(), "
        "as in db.schema.alter_table(...).add_column(...).execute()). Applied like this and fixed later, it "
        f"runs again after kysera migrate resolve {migration.name} --rolled-back"
    )


def safety_options(runner: MigrationRunner) -> SafetyOptions:
    """The analysis settings of ``runner`` (large tables, whether it sets lock timeouts)."""
    return SafetyOptions(large_table_rows=runner.large_table_rows, lock_timeout=bool(runner.statement_lock_timeout))


def judge_statements(
    runner: MigrationRunner,
    migration: Migration,
    statements: Sequence[CompiledStatement],
    *,
    transactional: bool,
    created: PlanState,
    facts: Facts | None = None,
    options: SafetyOptions | None = None,
    moved_outside: bool = False,
) -> list[Finding]:
    """The findings for ``statements`` of ``migration`` under ``runner``'s settings and
    acknowledgements; ``facts`` default to the live database. ``created`` carries what the
    plan did so far, ``moved_outside`` that it runs outside the transaction it asked for (see
    :func:`~kysera.safety.analyze`)."""
    if options is None:
        options = safety_options(runner)
    if facts is None:
        facts = LiveFacts(runner.db, options.large_table_rows)
    findings = analyze(
        list(statements),
        runner.db.dialect,
        facts,
        migration=migration.name,
        transactional=transactional,
        allow=migration.allow_unsafe | runner.safety_allow,
        options=options,
        created=created,
        moved_outside=moved_outside,
    )
    if migration.is_sql_file:
        # the recipes are kysera's Python: say where they go, and how a .sql file acknowledges
        from dataclasses import replace

        findings = [replace(f, recipe=_SQL_FILE_NOTE.format(code=f.code) + f.recipe) if f.recipe else f for f in findings]
    return findings


#: heads the recipe of a finding in a .sql migration
_SQL_FILE_NOTE = (
    "# kysera's Python, for a .py migration; in this .sql file, acknowledge the risk with a\n"
    "# '-- kysera:allow {code}' line above the statement\n"
)


#: what a dry run raises for code that cannot run as written: kysera refusing a builder used
#: wrongly or a value it cannot write, a misspelt name or method, a wrong call, a missing module
CODE_THAT_CANNOT_RUN: tuple[type[BaseException], ...] = (KyseraError, NameError, AttributeError, TypeError, ImportError)


def fails_anyway(exc: BaseException, *, settled: bool = False, raised: bool = False) -> bool:
    """Whether a dry run's failure ``exc`` fails the real run whatever runs before it: what the
    engine cannot do at all, a builder used wrongly (refused while the statement was built,
    before the engine's compiler, which may read the catalog, saw it), a misspelt name, or
    code that cannot run as written in a dry run that is ``settled`` (:attr:`GateReport.settled`:
    it consulted nothing that earlier migrations change, such as a literal the compiler cannot
    write or a misspelt method). Other failures may only mean that the code needs what earlier
    migrations of the run create; and an exception the migration's own code raises (a
    ``raise``, a failed check, ``sys.exit``) fails that migration when its turn comes, after
    the ones before it were applied, as any failure does (``raised``: count it here too)."""
    from ..errors import BuilderError, CatalogNeededError, UnsupportedError

    if settled and (raised or isinstance(exc, CODE_THAT_CANNOT_RUN)):
        return not isinstance(exc, CatalogNeededError)  # (offline, the catalog is what it lacked)
    if isinstance(exc, UnsupportedError):
        return not isinstance(exc, CatalogNeededError)
    if isinstance(exc, NameError):
        return True
    if not isinstance(exc, BuilderError):
        return False
    frame = exc.__traceback__
    raised_in = ""
    while frame is not None:
        raised_in = str(frame.tb_frame.f_globals.get("__name__", ""))
        frame = frame.tb_next
    return not raised_in.startswith("kysera.dialects")


def failure_reason(exc: BaseException) -> str:
    """``exc`` as one line of a report: kysera's own message, or the exception's type and text."""
    from ..errors import KyseraError

    return str(exc) if isinstance(exc, KyseraError) else f"{type(exc).__name__}: {exc}"
