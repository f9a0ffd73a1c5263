"""``MigrationRunner``: applies and reverts migrations, one runner at a time, with a history.

.. code-block:: python

    from kysera import connect
    from kysera.migrations import create_migration_runner, load_migrations

    db = connect("sqlite:///app.db")
    runner = create_migration_runner(db, load_migrations("migrations"))
    runner.up()                      # every pending migration, in order
    runner.status().pending          # []
    runner.down(1)                   # the last one applied

Every call that changes the database takes the migration lock (see :mod:`kysera.dialects.locks`),
then reads the history, checks it (failed migrations waiting to be resolved, drifted checksums,
out-of-order migrations, missing ``down`` functions, unknown names) and only then runs anything.
Each migration runs in its own transaction together with its history row, where the engine
allows (see ``docs/migrations.md``).

A dry run (``dry_run=True``, on the runner or per call) runs the plan inside
:meth:`Database.capture`: statements are recorded, per migration, instead of executed; reads still
run. Nothing is written, not even the history table, and no lock is taken. On SQLite it is also a
:meth:`Database.rehearsal`: what it records runs too, in one transaction rolled back at the end.
Elsewhere, code that reads data to decide what to do, or that depends on what an earlier
statement of the same plan would have created, cannot be dry-run faithfully: it sees the
database as it is now.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, NoReturn, TypedDict, Unpack, cast

from ..database import Capture, ConnectionLostError, Database, NonTransactionalStatementError
from ..dialects import raw_text
from ..dialects.online import is_lock_timeout, lock_timeouts, needs_online_clauses, postgres_timeout
from ..dialects.session_settings import SessionGuard
from ..errors import (
    ConfigurationError,
    KyseraError,
    LockError,
    ReadOnlyDatabaseError,
    StatementError,
    driver_reason,
)
from ..nodes import (
    AlterTableNode,
    CompiledStatement,
    CreateIndexNode,
    DeleteNode,
    IdentifierNode,
    InsertNode,
    RawNode,
    UpdateNode,
    ValidateConstraintNode,
    replace,
)
from .errors import (
    DriftError,
    IrreversibleMigrationError,
    MigrationDefinitionError,
    MigrationError,
    MigrationStateError,
    OutOfOrderError,
    UnknownMigrationError,
    UnresolvedFailureError,
    names_shown,
    unknown_migration_message,
)
from .history import APPLIED, FAILED, RUNNING, HistoryRow, HistoryTable, newest_applied_position
from .log_target import Logger, LogTarget, as_logger
from .migration import Direction, Migration, call
from .results import MigrationResult, MigrationStep

if TYPE_CHECKING:
    from ..safety import Finding
    from ..safety.autofix import Rewriter
    from .gate import GateReport
    from .status import MigrationStatus

# a library's logger: silent unless the application configures logging (the runner never does)
logging.getLogger("kysera.migrations").addHandler(logging.NullHandler())

#: seconds a runner waits for another runner's lock before giving up
DEFAULT_LOCK_TIMEOUT = 120.0
DEFAULT_TABLE = "kysera_migrations"

BeforeHook = Callable[[Migration, Direction], object]
AfterHook = Callable[[Migration, Direction, float], object]
ErrorHook = Callable[[Migration, Direction, BaseException], object]
Migrations = Sequence[Migration] | str | os.PathLike[str]
Safety = Literal["error", "warn", "off", "auto"]
SAFETY_MODES = ("error", "warn", "off", "auto")
#: seconds a DDL statement may wait for a table lock before it is retried (PostgreSQL, MySQL)
DEFAULT_STATEMENT_LOCK_TIMEOUT = 5.0


class RunnerOptions(TypedDict, total=False):
    """The keyword options of :func:`create_migration_runner` (and the one-liners)."""

    use_transactions: bool
    logger: LogTarget | None
    dry_run: bool
    table_name: str
    lock_timeout: float | None
    allow_out_of_order: bool
    accept_changed: bool
    before: BeforeHook | None
    after: AfterHook | None
    on_error: ErrorHook | None
    #: the three hooks in one mapping, as ``{"before": ..., "after": ..., "on_error": ...}``
    hooks: Mapping[str, Callable[..., object] | None] | None
    safety: Safety
    safety_allow: Iterable[str]
    safety_start_after: str | None
    large_table_rows: int
    statement_lock_timeout: float | None
    statement_timeout: float | None
    lock_retries: int


@dataclass
class _State:
    """The history as read under the lock."""

    rows: list[HistoryRow]
    table_exists: bool
    by_name: dict[str, HistoryRow] = field(init=False)

    def __post_init__(self) -> None:
        self.by_name = {r.name: r for r in self.rows}

    @property
    def applied(self) -> list[HistoryRow]:
        """Applied rows in application order (batch, then id)."""
        return [r for r in self.rows if r.state == APPLIED]

    @property
    def unresolved(self) -> list[HistoryRow]:
        return [r for r in self.rows if r.state in (FAILED, RUNNING)]

    @property
    def next_batch(self) -> int:
        return max((r.batch for r in self.rows), default=0) + 1


Plan = list[tuple[Migration, Direction]]


class MigrationRunner:
    """Runs ``migrations`` (in list order) against ``db``. Make it with :func:`create_migration_runner`.

    Options:

    - ``use_transactions`` (True): run each migration and its history row in one transaction.
      A migration can opt out with ``transaction = False``.
    - ``logger``: a :class:`logging.Logger` (default ``kysera.migrations``; never configured
      here), an object with ``info``/``warning`` (or ``warn``)/``error`` methods, or a function such as
      ``print`` (see :mod:`kysera.migrations.log_target`).
    - ``dry_run`` (False): the default for every call's ``dry_run``.
    - ``table_name`` (``kysera_migrations``): the history table, optionally ``schema.table``.
    - ``lock_timeout`` (120 seconds; None for the default): how long to wait for another runner.
    - ``allow_out_of_order`` (False): run pending migrations that sort before applied ones.
    - ``accept_changed`` (False): accept applied migrations whose code changed (their new
      checksum is recorded) and tolerate ones whose code is gone, instead of refusing to run.
    - hooks: ``before(migration, direction)``, ``after(migration, direction, seconds)``,
      ``on_error(migration, direction, error)``; not called in dry runs.
    - ``safety`` (``"error"``): before ``up`` runs anything, the pending migrations are dry-run and
      analysed (docs/safety.md); ``"error"`` refuses to start on an unacknowledged error-level
      finding, ``"warn"`` logs the findings and runs, ``"off"`` skips the analysis, and
      ``"auto"`` runs the safe equivalent where one exists (concurrent index builds, NOT VALID
      then VALIDATE, SET NOT NULL through a validated CHECK; see kysera.safety.autofix) and
      refuses the rest like ``"error"``.
      ``safety_allow``: rule codes acknowledged everywhere; ``safety_start_after``: migrations
      named up to and including this one are not judged (a baseline); ``large_table_rows``
      (10,000): from this many rows a blocking change is an error.
    - ``statement_lock_timeout`` (5 s; None: off): how long one statement may wait for a table
      lock (PostgreSQL ``lock_timeout``, MySQL ``lock_wait_timeout``); a migration that timed out
      and rolled back cleanly is retried ``lock_retries`` times (3) with backoff.
      ``statement_timeout`` (off): PostgreSQL's limit on one statement's run time (lifted for
      concurrent index builds and VALIDATE CONSTRAINT, which block nobody).
    """

    def __init__(
        self,
        db: Database,
        migrations: Sequence[Migration],
        *,
        use_transactions: bool = True,
        logger: LogTarget | None = None,
        dry_run: bool = False,
        table_name: str = DEFAULT_TABLE,
        lock_timeout: float | None = None,
        allow_out_of_order: bool = False,
        accept_changed: bool = False,
        before: BeforeHook | None = None,
        after: AfterHook | None = None,
        on_error: ErrorHook | None = None,
        hooks: Mapping[str, Callable[..., object] | None] | None = None,
        safety: Safety = "error",
        safety_allow: Iterable[str] = (),
        safety_start_after: str | None = None,
        large_table_rows: int = 10_000,
        statement_lock_timeout: float | None = DEFAULT_STATEMENT_LOCK_TIMEOUT,
        statement_timeout: float | None = None,
        lock_retries: int = 3,
    ) -> None:
        if not isinstance(db, Database):
            hint = f" (a URL? connect it first: kysera.connect({db!r}))" if isinstance(db, str) else ""
            raise ConfigurationError(f"the runner takes a kysera Database as its first argument, got {db!r}{hint}")
        if safety not in SAFETY_MODES:
            raise ConfigurationError(f"safety must be one of {', '.join(SAFETY_MODES)}, got {safety!r}")
        if hooks is not None:
            before, after, on_error = _spread_hooks(hooks, before, after, on_error)
        for label, value in (("statement_lock_timeout", statement_lock_timeout), ("statement_timeout", statement_timeout)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value < 0):
                raise ConfigurationError(f"{label} must be a number of seconds or None, got {value!r}")
        if isinstance(lock_retries, bool) or not isinstance(lock_retries, int) or lock_retries < 0:
            raise ConfigurationError(f"lock_retries must be a whole number, 0 or more, got {lock_retries!r}")
        if isinstance(large_table_rows, bool) or not isinstance(large_table_rows, int) or large_table_rows < 1:
            raise ConfigurationError(f"large_table_rows must be a positive whole number, got {large_table_rows!r}")
        self.safety: Safety = safety
        allow = list(safety_allow)
        if allow:  # validated against the rule catalogue, which loads only then
            from ..safety.rules import resolve_codes

            self.safety_allow: frozenset[str] = frozenset(resolve_codes(allow, "safety_allow"))
        else:
            self.safety_allow = frozenset()
        self.safety_start_after = safety_start_after
        self.large_table_rows = large_table_rows
        self.statement_lock_timeout = statement_lock_timeout or None
        self.statement_timeout = statement_timeout or None
        self.lock_retries = lock_retries
        #: migrations the gate found must run outside a transaction (PostgreSQL CONCURRENTLY)
        #: the steps that run outside a transaction although their migration asks for one: their
        #: statements cannot run inside one (CONCURRENTLY, db.backfill), or auto-fix rewrote them
        self._outside: set[tuple[str, Direction]] = set()
        #: the current dry run also runs its statements and rolls them back (Database.rehearsal)
        self._rehearsed = False
        #: the history of the current run held no migration when it started (a first run, maybe
        #: on a database that another tool built: see _failed)
        self._first_run = False
        #: safety="auto": the node rewriter of each migration that gets a safe rewrite
        self._rewriters: dict[str, Rewriter] = {}
        #: the gate's statements of each migration whose dry run touched nothing (see _replay)
        self._replays: dict[str, Capture] = {}
        #: the same for the Python downs of the plan, dry-run by _precheck
        self._down_replays: dict[str, Capture] = {}
        #: what the gate found for the current run: the migrations it could not dry-run in
        #: advance are checked right before they run (see _check_now)
        self._report: GateReport | None = None
        if isinstance(migrations, str | bytes) or not isinstance(migrations, Iterable):
            raise MigrationDefinitionError(
                f"migrations must be a list of Migration objects (or a folder for create_migration_runner), got {migrations!r}"
            )
        listed = list(migrations)
        seen: set[str] = set()
        for item in listed:
            if not isinstance(item, Migration):
                raise MigrationDefinitionError(
                    f"every migration must be a kysera.migrations.Migration, got {item!r}; "
                    "write Migration(name, up, down) or use load_migrations(folder)"
                )
            if item.name in seen:
                raise MigrationDefinitionError(f"two migrations are named {item.name!r}; every name must be unique")
            seen.add(item.name)
        for flag, value in (
            ("use_transactions", use_transactions),
            ("dry_run", dry_run),
            ("allow_out_of_order", allow_out_of_order),
            ("accept_changed", accept_changed),
        ):
            if not isinstance(value, bool):
                raise ConfigurationError(f"the runner option {flag} must be True or False, got {value!r}")
        if not isinstance(table_name, str) or not table_name.strip() or table_name != table_name.strip():
            raise ConfigurationError(f"table_name must be a non-empty table name without spaces around it, got {table_name!r}")
        if lock_timeout is None:
            lock_timeout = DEFAULT_LOCK_TIMEOUT
        if isinstance(lock_timeout, bool) or not isinstance(lock_timeout, int | float) or not lock_timeout >= 0:
            raise ConfigurationError(f"lock_timeout must be a number of seconds, 0 or more, got {lock_timeout!r}")
        usable_logger = as_logger(logger)
        for hook_name, hook in (("before", before), ("after", after), ("on_error", on_error)):
            if hook is not None and not callable(hook):
                raise ConfigurationError(f"the {hook_name} hook must be a function, got {hook!r}")
        self.db = db
        self.migrations: list[Migration] = listed
        self.use_transactions = use_transactions
        self.logger: Logger = usable_logger if usable_logger is not None else logging.getLogger("kysera.migrations")
        self.dry_run = dry_run
        self.table_name = table_name
        self.lock_timeout = float(lock_timeout)
        self.allow_out_of_order = allow_out_of_order
        self.accept_changed = accept_changed
        self.before = before
        self.after = after
        self.on_error = on_error
        #: retries left for the step under way when a lock timeout rolls it back
        self._attempts_left = 0
        self.history = HistoryTable(db, table_name)
        #: sets back, when a migration ends, the session settings its raw SQL changed
        #: (``SET lock_timeout``, ``PRAGMA busy_timeout``...): each one starts as the run set it up
        self.session_guard = SessionGuard(db)
        self._by_name = {m.name: m for m in listed}
        self._position = {m.name: i for i, m in enumerate(listed)}

    def __repr__(self) -> str:
        return f"<MigrationRunner {len(self.migrations)} migrations, table {self.table_name}>"

    # ================================================================= public API

    def status(self) -> MigrationStatus:
        """Where every migration stands. Reads only: takes no lock and creates nothing."""
        from .status import read_status  # not needed to apply: up and down leave it unloaded

        return read_status(self.history, self.migrations)

    def up(self, steps: int | None = None, *, dry_run: bool | None = None, safety: Safety | None = None) -> MigrationResult:
        """Apply pending migrations in order: all of them, or the next ``steps``.

        ``safety`` (``"error"``, ``"warn"``, ``"auto"``, ``"off"``) overrides the runner's
        ``safety`` for this call: ``runner.up(safety="warn")`` is ``--allow-unsafe``."""
        if steps is not None:
            _check_steps(steps, "up")

        def plan(state: _State) -> Plan:
            pending = self._pending(state)
            chosen = pending if steps is None else pending[:steps]
            self._check_order(state, chosen)
            return [(m, "up") for m in chosen]

        return self._run("up", plan, dry_run, safety)

    def up_to(self, name: str, *, dry_run: bool | None = None, safety: Safety | None = None) -> MigrationResult:
        """Apply pending migrations up to and including ``name`` (``safety``: as in :meth:`up`)."""
        target = self._known(name)

        def plan(state: _State) -> Plan:
            limit = self._position[target.name]
            chosen = [m for m in self._pending(state) if self._position[m.name] <= limit]
            self._check_order(state, chosen)
            if not chosen:
                self.logger.info("%s is already applied; nothing to do", name)
            return [(m, "up") for m in chosen]

        return self._run("up", plan, dry_run, safety)

    def down(self, steps: int = 1, *, dry_run: bool | None = None) -> MigrationResult:
        """Roll back the last ``steps`` applied migrations (1 or more), newest first."""
        _check_steps(steps, "down", hint="use reset() to roll back everything")

        def plan(state: _State) -> Plan:
            rows = list(reversed(state.applied))[:steps]
            return self._rollback_plan(rows)

        return self._run("down", plan, dry_run)

    def down_to(self, name: str, *, dry_run: bool | None = None) -> MigrationResult:
        """Roll back every migration applied after ``name``; ``name`` itself stays applied."""
        _check_name(name)
        if name not in self._by_name and all(r.name != name for r in self._read_state().rows):
            self._known(name)  # raises: neither the code nor the history knows it

        def plan(state: _State) -> Plan:
            row = state.by_name.get(name)
            if row is None or row.state != APPLIED:
                applied = [r.name for r in state.applied]
                raise MigrationStateError(
                    f"migration {name} is not applied, so the rollback cannot stop at it (down --to, down_to); "
                    + (f"the applied migrations are {names_shown(applied)}" if applied else "no migration is applied")
                )
            later = [r for r in state.applied if r.order > row.order]
            return self._rollback_plan(list(reversed(later)))

        return self._run("down", plan, dry_run)

    def reset(self, *, dry_run: bool | None = None) -> MigrationResult:
        """Roll back every applied migration, newest first."""
        return self._run("down", lambda state: self._rollback_plan(list(reversed(state.applied))), dry_run)

    def redo(self, *, dry_run: bool | None = None, safety: Safety | None = None) -> MigrationResult:
        """Roll back the last applied migration and apply it again (under one lock; ``safety``:
        as in :meth:`up`)."""

        def plan(state: _State) -> Plan:
            applied = state.applied
            if not applied:
                return []
            steps = self._rollback_plan([applied[-1]])
            return [*steps, (steps[0][0], "up")]

        return self._run("redo", plan, dry_run, safety)

    def mark_applied(self, names: str | Iterable[str], *, dry_run: bool | None = None) -> list[str]:
        """Record migrations as applied without running them (a baseline); returns the names marked.

        ``names``: a list of names, one name, or ``"all"`` for every pending migration. Names
        already applied are left alone. With ``dry_run`` nothing is written: the names that would
        be marked are returned.
        """
        wanted: list[str] | None
        if isinstance(names, str):
            wanted = None if names == "all" else [names]
        else:
            listed = list(names) if isinstance(names, Iterable) else None
            if listed is None or not all(isinstance(n, str) for n in listed):
                raise ConfigurationError(f"mark_applied() takes migration names or 'all', got {names!r}")
            wanted = listed
        for name in wanted or []:
            self._known(name)
        dry = self._dry(dry_run)
        with self._locked(dry):
            state = self._read_state()
            self._check_unresolved(state)
            chosen = [
                m
                for m in self.migrations
                if m.name not in state.by_name and (wanted is None or m.name in wanted)
            ]
            if chosen and not dry:
                self._ensure_table(state)
                batch = state.next_batch
                for m in chosen:
                    self.history.insert(m.name, checksum=m.checksum, state=APPLIED, batch=batch)
                    self.logger.info("marked %s as applied (not run)", m.name)
            return [m.name for m in chosen]

    def resolve(self, name: str, applied: bool) -> None:
        """Settle a migration that failed part-way (or was interrupted).

        ``applied=True``: its changes are in place (you finished them by hand): it is recorded as
        applied. ``applied=False``: its changes are not there (you undid them): it goes back to
        pending (after a failed ``down``: it is recorded as rolled back). An *applied* migration
        can be recorded as not applied too, when its changes are not in the database: an ``up``
        that ran no statement (a builder left without ``.execute()``), fixed since.
        """
        _check_name(name)
        if not isinstance(applied, bool):
            raise ConfigurationError(f"resolve(): applied must be True or False, got {applied!r}")
        with self._locked():
            state = self._read_state()
            row = state.by_name.get(name)
            if row is None:
                self._known(name)
                raise MigrationStateError(
                    f"migration {name} has no failed run to resolve (it is pending); resolve is only for failed migrations"
                )
            if row.state == APPLIED and not applied:
                # the way out of an up that ran nothing (recorded applied, then its file fixed)
                self.history.delete(name)
                self.logger.warning(
                    "resolved %s: it was applied and is now recorded as not applied, as asked; the next up runs it "
                    "(whatever it changed the first time is still in the database)",
                    name,
                )
                return
            if row.state not in (FAILED, RUNNING):
                raise MigrationStateError(
                    f"migration {name} has not failed (it is {row.state}); resolve is only for failed migrations "
                    "(and --rolled-back for an applied one whose changes are not in the database)"
                )
            migration = self._by_name.get(name)
            if applied:
                self.history.update(
                    name,
                    state=APPLIED,
                    direction=None,
                    statement=None,
                    error=None,
                    checksum=migration.checksum if migration is not None else row.checksum,
                )
                self.logger.info("resolved %s: recorded as applied", name)
            else:
                self.history.delete(name)
                self.logger.info(
                    "resolved %s: recorded as %s", name, "rolled back" if row.direction == "down" else "not applied"
                )
                if row.direction != "down" and migration is not None and not (
                    self.db.dialect.transactional_ddl and self._in_transaction(migration, "up")
                ):
                    self._say_leftovers(migration)

    def _say_leftovers(self, migration: Migration) -> None:
        """After ``resolve --rolled-back`` of an ``up`` that kept what ran before it failed (MySQL's
        DDL, or a migration outside a transaction): warn of what the catalog still holds of it."""
        from .leftovers import leftovers

        found = leftovers(self, migration)
        if not found:
            return
        why = (
            f"{self.db.dialect.display_name} commits each DDL statement at once"
            if not self.db.dialect.transactional_ddl
            else "it runs outside a transaction"
        )
        self.logger.warning(
            "%s is recorded as not applied, but the database still holds %s, which its up creates: what ran "
            "before it failed stays (%s). Drop %s before the next up, which would fail on %s; or, if all of "
            "its changes are in place, record it as applied (kysera migrate resolve %s --applied)",
            migration.name, ", ".join(found), why, "it" if len(found) == 1 else "them", found[0], migration.name,
        )

    def accept(self, name: str) -> Literal["changed", "missing"]:
        """Accept the drift of an applied migration.

        Changed code: its new checksum is recorded. Missing code: it is removed from the history
        (its changes stay in the database). Returns which of the two it was.
        """
        _check_name(name)
        with self._locked():
            state = self._read_state()
            row = state.by_name.get(name)
            if row is None or row.state != APPLIED:
                if name not in self._by_name and row is None:
                    self._known(name)
                raise MigrationStateError(
                    f"migration {name} is not applied; only an applied migration whose file changed or is gone can be accepted"
                )
            migration = self._by_name.get(name)
            if migration is None:
                self.history.delete(name)
                self.logger.warning("forgot migration %s: its code is gone (its changes stay in the database)", name)
                return "missing"
            if row.checksum is None or row.checksum == migration.checksum:
                raise MigrationStateError(
                    f"migration {name} has not changed since it was applied; there is nothing to accept"
                )
            self.history.update(name, checksum=migration.checksum)
            self.logger.warning("accepted the changed code of migration %s", name)
            return "changed"

    def plan(self, action: Literal["up", "down", "reset", "redo"] = "up", steps: int | None = None) -> MigrationResult:
        """The dry run of ``action``: the migrations it would run, each with its compiled SQL."""
        if action == "up":
            return self.up(steps, dry_run=True)
        if action == "down":
            return self.down(1 if steps is None else steps, dry_run=True)
        if action == "reset":
            return self.reset(dry_run=True)
        if action == "redo":
            return self.redo(dry_run=True)
        raise ConfigurationError(f"plan(): unknown action {action!r}; use 'up', 'down', 'reset' or 'redo'")

    # ================================================================= planning

    def _dry(self, dry_run: object) -> bool:
        """A call's ``dry_run``: the runner's when None; else True or False, as the runner option
        must be (a string such as ``"no"`` would otherwise count as a dry run)."""
        if dry_run is None:
            return self.dry_run
        if not isinstance(dry_run, bool):
            raise ConfigurationError(f"dry_run must be True, False or None, got {dry_run!r}")
        return dry_run

    def _known(self, name: str) -> Migration:
        _check_name(name)
        found = self._by_name.get(name)
        if found is None:
            raise UnknownMigrationError(unknown_migration_message(name, [m.name for m in self.migrations]), name)
        return found

    def _pending(self, state: _State) -> list[Migration]:
        return [m for m in self.migrations if m.name not in state.by_name]

    def _newest_applied_position(self, state: _State) -> int:
        return newest_applied_position(state.rows, self._position)

    def _check_order(self, state: _State, chosen: list[Migration]) -> None:
        if self.allow_out_of_order:
            return
        newest = self._newest_applied_position(state)
        late = [m.name for m in chosen if self._position[m.name] < newest]
        if late:
            last = self.migrations[newest].name
            raise OutOfOrderError(
                f"pending migration{'s' if len(late) > 1 else ''} {names_shown(late)} sort{'' if len(late) > 1 else 's'} "
                f"before {last}, which is already applied; rename {'them' if len(late) > 1 else 'it'} to sort after "
                f"{last}, or run {'them' if len(late) > 1 else 'it'} anyway with allow_out_of_order=True "
                "(kysera migrate up --allow-out-of-order, or [migrations] allow_out_of_order = true)",
                late,
            )

    def _rollback_plan(self, rows: list[HistoryRow]) -> Plan:
        plan: Plan = []
        for row in rows:
            migration = self._by_name.get(row.name)
            if migration is None:
                raise IrreversibleMigrationError(
                    f"cannot roll back {row.name}: its code is gone; restore its file, or remove it from the "
                    f"history with `kysera migrate accept {row.name}` (runner.accept) if its changes can stay",
                    row.name,
                )
            if migration.down is None:
                if migration.is_sql_file:
                    how = "write the SQL that reverts it under its '-- migrate:down' line (a section that is empty or missing means it cannot be rolled back)"
                else:
                    how = "give it a down(db) function that reverts it"
                raise IrreversibleMigrationError(
                    f"cannot roll back {row.name}: it has no down migration; {how}. Nothing was rolled back",
                    row.name,
                )
            plan.append((migration, "down"))
        return plan

    def _in_transaction(self, migration: Migration, direction: Direction) -> bool:
        if (migration.name, direction) in self._outside:
            return False
        return self.use_transactions and migration.uses_transaction(direction)

    def _precheck(self, plan: Plan) -> None:
        """Steps whose statements cannot run inside a transaction (PostgreSQL's CONCURRENTLY,
        ``db.backfill`` on every engine) run outside one: found in a .sql file's text, or in a dry
        run of a Python ``down`` (the gate dry-runs every ``up``). A Python ``down`` that runs
        nothing is named, in a transaction or not."""
        for migration, direction in plan:
            in_tx = self._in_transaction(migration, direction)
            compiled = migration.sql_compiled(direction, self.db)
            if compiled is not None:
                if in_tx and any(not statement.transactional for statement in compiled):
                    self._outside.add((migration.name, direction))
            elif direction == "down":
                from ..database import Capture

                seen = Capture()
                started = time.perf_counter()
                try:
                    captured = migration.capture(self.db, direction, in_transaction=in_tx, into=seen)
                except Exception:
                    continue  # it needs the database as earlier steps leave it: it runs as it asks
                captured.seconds = time.perf_counter() - started
                if in_tx and any(not s.transactional for s in captured):
                    self._outside.add((migration.name, direction))
                elif in_tx and captured and captured.replayable:
                    # built without touching the database: the step replays it (see _replay)
                    self._down_replays[migration.name] = captured
                if not captured and not seen.consulted:
                    # the down of a file from migrate create, never written: the rollback would
                    # be recorded while what the up made stays
                    self.logger.warning(
                        "%s: its down() runs no statement, so rolling it back undoes nothing of what its up did "
                        "(the file from kysera migrate create has a down that only says pass); write its down, "
                        "or delete down() to make the migration irreversible",
                        migration.name,
                    )

    # ================================================================= checks on the history

    def _resume_interrupted_backfills(self, state: _State, dry: bool) -> None:
        """A migration that was interrupted while it ran, and whose only writes are backfills
        with a ``where`` that set values the same when run again (:func:`kysera.backfill.resumes_safely`),
        simply runs again.

        Its history row says ``running``; the process that wrote it is gone (this runner holds
        the lock). Anything else that was interrupted still waits for ``resolve``.
        """
        for row in [r for r in state.rows if r.state == RUNNING and (r.direction or "up") == "up"]:
            migration = self._by_name.get(row.name)
            if migration is None or not self._only_resumable_backfills(migration):
                continue
            self.logger.warning(
                "migration %s was interrupted during its backfill; it only backfills, and what it sets comes out "
                "the same for the rows already done, so it runs again",
                row.name,
            )
            if not dry:
                self.history.delete(row.name)
            state.rows.remove(row)
            state.by_name.pop(row.name, None)

    def _only_resumable_backfills(self, migration: Migration) -> bool:
        from ..backfill import resumes_safely
        from ..nodes import BackfillNode

        try:
            captured = migration.capture(self.db, "up", in_transaction=False)
        except Exception:
            return False
        writes = [s for s in captured if not s.reads]
        return bool(writes) and all(isinstance(s.node, BackfillNode) and resumes_safely(s.node) for s in writes)

    def _check_unresolved(self, state: _State) -> None:
        rows = state.unresolved
        if not rows:
            return
        parts = []
        for row in rows:
            if row.state == RUNNING:
                parts.append(
                    f"migration {row.name} was interrupted while running ({row.direction or 'up'}): "
                    "the process that ran it stopped before it finished"
                )
            else:
                detail = f" ({_first_line(row.error, 200)})" if row.error else ""
                on = f" on {_first_line(row.statement)}" if row.statement else ""
                parts.append(f"migration {row.name} failed ({row.direction or 'up'}){on}{detail}")
        names = [r.name for r in rows]
        partly = " or ".join(dict.fromkeys(_partly(r.direction) for r in rows))
        raise UnresolvedFailureError(
            "; ".join(parts)
            + (f". They may be partly {partly}, so no migration runs until they are resolved" if len(rows) > 1
               else f". It may be partly {partly}, so no migration runs until it is resolved")
            + f": check the database, then run {_resolve_advice(names[0], rows[0].direction)}",
            names,
        )

    def _drift(self, state: _State) -> tuple[list[str], list[str]]:
        changed: list[str] = []
        missing: list[str] = []
        for row in state.applied:
            migration = self._by_name.get(row.name)
            if migration is None:
                missing.append(row.name)
            elif row.checksum is not None and row.checksum != migration.checksum:
                changed.append(row.name)
        return changed, missing

    def _check_drift(self, state: _State, redone: str | None = None) -> list[str]:
        """Refuse drift (unless accept_changed); returns the changed names to accept. ``redone``:
        the migration a redo rolls back and applies again, which may have changed."""
        changed, missing = self._drift(state)
        if redone in changed:
            changed.remove(redone)
            self.logger.warning(
                "%s changed since it was applied: redo rolls it back with the down its file has now, then applies it again",
                redone,
            )
        if not changed and not missing:
            return []
        renamed = self._renamed(state, missing)
        if renamed:
            # accepting the missing one would run its renamed file a second time, whatever
            # accept_changed says
            old, new = next(iter(renamed.items()))
            raise DriftError(
                f"applied migration {old} is missing, and its contents are in {new}, which is not applied: "
                f"was {old} renamed? Rename it back, or record the new name: `kysera migrate accept {old}`, "
                f"then `kysera migrate mark-applied {new}` (accepting it alone would run {new} again)",
                changed,
                missing,
            )
        if missing and len(missing) == len(state.applied) and len(missing) > 1:
            # none of what the database says is applied is here: another project's folder, or
            # another project's database, far likelier than a dozen deleted files
            folder = next((m.path.parent for m in self.migrations if m.path is not None), None)
            raise DriftError(
                f"none of the {len(missing)} migrations applied to {self.db.url.redacted()} is among "
                f"{'the migrations in ' + str(folder) if folder else 'these migrations'} ({names_shown(missing)} are applied there): "
                "check that the migrations folder ([migrations] directory in the config) and the database URL "
                "belong to the same project. Accept them as gone only if their files were really deleted "
                "(`kysera migrate accept NAME` for each)",
                changed,
                missing,
            )
        if not self.accept_changed:
            parts = []
            if changed:
                parts.append(f"applied migration{'s' if len(changed) > 1 else ''} {names_shown(changed)} changed since {'they were' if len(changed) > 1 else 'it was'} applied")
            if missing:
                parts.append(f"applied migration{'s' if len(missing) > 1 else ''} {names_shown(missing)} {'are' if len(missing) > 1 else 'is'} missing (the file or code is gone)")
            names = changed + missing
            accept = (
                f"`kysera migrate accept {names[0]}`"
                if len(names) == 1
                else f"`kysera migrate accept NAME` for each of {names_shown(names)}"
            )
            raise DriftError(
                "; ".join(parts)
                + f". Restore the original{'s' if len(names) > 1 else ''}, or accept {'them' if len(names) > 1 else 'it'} with {accept} "
                f"(in code: runner.accept(name), or the runner option accept_changed=True)",
                changed,
                missing,
            )
        for name in missing:
            self.logger.warning("applied migration %s is missing (its file or code is gone); going on", name)
        return changed

    def _lock_holders(self, statement: CompiledStatement | None) -> str | None:
        """Who holds locks on the table of ``statement`` now (it gave up waiting for one)."""
        table = _table_of(statement, self.db.dialect.name) if statement is not None else None
        if table is None:
            return None
        try:
            return self.db.dialect.lock_holders(self.db, table, self.db.session_id)
        except Exception:  # a courtesy: never let it hide the failure
            return None

    def _renamed(self, state: _State, missing: list[str]) -> dict[str, str]:
        """Missing applied migrations whose file seems renamed: the same checksum as a migration
        that is not applied, by old name."""
        if not missing:
            return {}
        unapplied = {m.checksum: m.name for m in self.migrations if m.name not in state.by_name}
        out: dict[str, str] = {}
        for row in state.applied:
            if row.name in missing and row.checksum is not None and row.checksum in unapplied:
                out[row.name] = unapplied[row.checksum]
        return out

    def _accept_changed(self, changed: list[str], dry: bool) -> None:
        for name in changed:
            if dry:
                self.logger.warning("applied migration %s changed since it was applied; going on", name)
            else:
                self.history.update(name, checksum=self._by_name[name].checksum)
                self.logger.warning("applied migration %s changed since it was applied; recorded its new checksum", name)

    # ================================================================= running

    def holding_lock(self) -> AbstractContextManager[None]:
        """The migration lock, held for work around a run (the command line's backup before
        ``up``, the drops of ``fresh``): taken and released as a run does it, waiting up to
        ``lock_timeout`` and saying so in the log, ending an orphaned holder's session."""
        return self._locked()

    @contextmanager
    def _locked(self, dry: bool = False) -> Iterator[None]:
        if dry:
            yield
            return
        if self.db.in_transaction:
            # each migration commits on its own, with its history row: inside the caller's
            # transaction nothing would be committed, and rolling it back would undo the run
            raise MigrationStateError(
                "the migration runner was called inside an open transaction (db.transaction()); each migration "
                "commits on its own, so run the migrations outside that transaction (or on a connection of their own)"
            )
        from ..dialects.locks import migration_lock

        lock = migration_lock(self.db, self.history.node)

        def waiting(holder: str | None) -> None:
            self.logger.info(
                "waiting for the migration lock on %s (held by %s); giving up after %g s",
                lock.description,
                holder or "another process",
                self.lock_timeout,
            )

        lock.acquire(self.lock_timeout, waiting, lambda done: self.logger.warning("%s", done))

        def take_again() -> None:
            # a migration ran DISCARD ALL, pg_advisory_unlock_all() or RELEASE_ALL_LOCKS(): they
            # let go of every lock of the session, the migration lock among them
            if lock.still_held():
                return
            if not lock.try_acquire(0.0):
                raise LockError(
                    f"a statement of the migration let go of the migration lock on {lock.description} "
                    "(DISCARD ALL, pg_advisory_unlock_all() and RELEASE_ALL_LOCKS() release every lock of the "
                    f"session), and {lock.busy() or 'another process'} took it meanwhile: another run is "
                    "migrating this database. Leave that statement out of the migration"
                )
            self.logger.warning(
                "a statement of the migration let go of the migration lock on %s (it releases every lock of "
                "the session); taken again", lock.description,
            )

        self.session_guard.on_locks_lost = take_again
        try:
            yield
        finally:
            self.session_guard.on_locks_lost = None
            try:
                lock.release()
            except Exception as exc:
                reason = driver_reason(exc.cause) if isinstance(exc, StatementError) else driver_reason(exc)
                self.logger.warning("could not release the migration lock (%s); it ends with the connection", reason)

    def _read_state(self) -> _State:
        exists = self.history.exists()
        return _State(self.history.read_existing() if exists else [], exists)

    def _ensure_table(self, state: _State) -> None:
        if not state.table_exists:
            self.history.create()
            state.table_exists = True
            self.logger.debug("created the history table %s", self.history.shown)

    def _run(
        self, action: str, planner: Callable[[_State], Plan], dry_run: bool | None, safety: Safety | None = None
    ) -> MigrationResult:
        dry = self._dry(dry_run)
        if safety is not None and safety not in SAFETY_MODES:
            raise ConfigurationError(f"safety must be one of {', '.join(SAFETY_MODES)}, got {safety!r}")
        started = time.perf_counter()
        result = MigrationResult(dry_run=dry)
        runner_safety = self.safety
        if safety is not None:
            self.safety = safety  # for this call only
        try:
            with (
                self._locked(dry),
                lock_timeouts(self.db, self.statement_lock_timeout, self.statement_timeout) as own,
                self.session_guard.run(own),
                self.db.keep_session(),
            ):
                # session timeouts for the whole run: the gate's catalog reads and every statement
                # fail fast instead of queueing behind someone else's lock
                state = self._read_state()
                self._first_run = not state.rows
                if action == "up":
                    self._resume_interrupted_backfills(state, dry)
                self._check_unresolved(state)
                # redo is how a migration being written is tried again after an edit: the one it
                # redoes may have changed (its down as the file has it now rolls it back)
                redone = state.applied[-1].name if action == "redo" and state.applied else None
                changed = self._check_drift(state, redone)
                plan = planner(state)
                self._down_replays = {}
                self._precheck(plan)
                self._replays = {}
                self._gate(plan, dry, result)
                self._accept_changed(changed, dry)
                if action == "up":
                    result.skipped = [m.name for m in self.migrations if m.name in state.by_name]
                if not plan:
                    self.logger.info(
                        "no pending migrations" if action == "up" else "no migrations to roll back"
                    )
                elif not dry:
                    self._ensure_table(state)
                batch = state.next_batch
                with (
                    self.db.rehearsal() if dry else nullcontext(False) as self._rehearsed,
                    self.db.planning() if dry else nullcontext(),
                    self.db.many_commits() if not dry and len(plan) > 1 else nullcontext(),
                ):
                    for migration, direction in plan:
                        if dry:
                            self._dry_step(migration, direction, result)
                        else:
                            self._step_with_retries(migration, direction, batch, result)
        finally:
            self.safety = runner_safety
            result.duration = time.perf_counter() - started
        return result

    def _gate(self, plan: Plan, dry: bool, result: MigrationResult) -> None:
        """Dry-run and analyse the plan's ``up`` steps; refuse on unacknowledged errors."""
        from .gate import empty_migration_note, failure_reason, inspect_plan

        self._report = None
        if not any(d == "up" for _, d in plan):
            return
        # even with safety="off" the dry run finds what must run outside a transaction
        # (CONCURRENTLY, db.backfill)
        report = inspect_plan(self, plan, self.safety != "off")
        self._report = report
        for name, why in report.cannot_run().items():
            # a builder used wrongly, a misspelt name: it would fail after the migrations
            # before it were applied; stop now, before anything changes
            raise MigrationError(
                name,
                "up",
                None,
                why,
                message=(
                    f"migration {name} cannot run (up): {failure_reason(why)}\n"
                    "  nothing was changed: its dry run failed before any migration ran. Fix it and run again"
                ),
                result=result,
            )
        self._outside |= {(name, "up") for name in report.outside_transaction}
        self._replays = report.replays
        for name in report.unanalysed:
            self.logger.info(
                "safety: %s could not be dry-run in advance (%s); it is checked right before it runs",
                name,
                f"its code raised {failure_reason(report.why[name])}"
                if name in report.settled
                else "it uses what earlier migrations create",
            )
        for name in report.empty:
            self.logger.warning("%s", empty_migration_note(self._by_name[name]))
        self._judge(report.findings, dry, result)

    def _judge(self, findings: list[Finding], dry: bool, result: MigrationResult, applied: list[str] | None = None) -> None:
        """Add ``findings`` to ``result``, say what they mean, and refuse (a dry run: record
        in ``result.refused``) when one is an error nobody acknowledged and the mode refuses."""
        from .gate import UnsafeMigrationError

        findings = self.with_fixes(findings)
        result.findings.extend(findings)
        for finding in findings:
            if finding.suppressed or finding.severity.value == "info":
                self.logger.debug("safety: %s", finding.render())
            elif finding.fixed:
                self.logger.info("safety: %s %s will run its safe recipe instead", finding.code, finding.name)
            elif dry:
                self.logger.debug("safety: %s", finding.render())  # a dry run returns them: its caller shows them
            elif not (finding.is_error and self.safety in ("error", "auto")):
                self.logger.warning("safety: %s", finding.render())
        errors = [f for f in findings if f.is_error]
        if not errors or self.safety not in ("error", "auto"):
            return
        result.refused.extend(errors)  # a refused run's result (error.result, --json) names them too
        if dry:
            return
        raise UnsafeMigrationError(errors, applied, result)

    def _check_now(self, migration: Migration, result: MigrationResult) -> bool:
        """Before running a migration the gate could not dry-run in advance (it uses what earlier
        migrations of the run create): dry-run and judge it now, with those migrations applied.
        Raises :class:`UnsafeMigrationError` before it changes anything; False when it still
        cannot be dry-run: it then runs with each statement judged before it is sent."""
        report = self._report
        if report is None or migration.name not in report.unanalysed:
            return True
        from .gate import inspect_migration

        report.unanalysed.remove(migration.name)
        in_tx = self.use_transactions and migration.uses_transaction("up")
        findings = len(report.findings)
        judge = self.safety != "off"
        with self.db.planning():
            if not inspect_migration(self, migration, in_tx, judge, None, None, report):
                self.logger.info("safety: %s cannot be dry-run; each of its statements is judged before it runs", migration.name)
                return False
        if migration.name in report.outside_transaction:
            self._outside.add((migration.name, "up"))
        if migration.name in report.replays:
            self._replays[migration.name] = report.replays.pop(migration.name)
        self._judge(report.findings[findings:], False, result, applied=list(result.executed))
        return True

    def _judge_dry_step(
        self, migration: Migration, direction: Direction, step: MigrationStep, in_tx: bool, result: MigrationResult
    ) -> None:
        """In a dry run: judge a migration the gate could not dry-run in advance, now that the
        dry run got to it (on SQLite it ran the migrations before it, see Database.rehearsal)."""
        report = self._report
        if direction != "up" or report is None or migration.name not in report.unanalysed or self.safety == "off":
            return
        from .gate import judge_statements

        report.unanalysed.remove(migration.name)
        found = judge_statements(self, migration, step.statements, transactional=in_tx, created=report.created)
        self._judge(found, True, result)

    @contextmanager
    def _judging_each_statement(self, migration: Migration, in_tx: bool, result: MigrationResult) -> Iterator[None]:
        """Judge each statement of ``migration`` as it is about to run (a migration that cannot be
        dry-run even right before it runs): an unacknowledged error stops it before that statement."""
        from ..safety import LiveFacts
        from ..safety.analyzer import PlanState
        from .gate import judge_statements, safety_options

        report = self._report
        created = report.created if report is not None else PlanState()
        options = safety_options(self)
        facts = LiveFacts(self.db, options.large_table_rows)  # one for the whole migration
        applied = list(result.executed)
        refused: list[Exception] = []

        def judge(statement: CompiledStatement) -> None:
            found = judge_statements(
                self, migration, [statement], transactional=in_tx, created=created, facts=facts, options=options
            )
            try:
                self._judge(found, False, result, applied)
            except Exception as exc:
                refused.append(exc)
                raise

        listeners = self.db.listeners
        listeners.insert(0, judge)  # before the step's own listener records the statement as run
        try:
            yield
        finally:
            _remove(listeners, judge)
        if refused:  # the migration's code caught the refusal: it still stops the migration
            raise refused[0]

    def with_fixes(self, findings: list[Finding]) -> list[Finding]:
        """``findings``, those that safety="auto" fixes marked ``fixed`` (no longer errors); as
        they are in another mode. Plans the rewrites the run then makes."""
        if self.safety != "auto":
            return findings
        self._plan_rewrites(findings)
        return [replace(f, fixed=True) if self._fixed(f) else f for f in findings]

    def _plan_rewrites(self, findings: list[Finding]) -> None:
        from ..safety.autofix import Rewriter

        by_migration: dict[str, list[Finding]] = {}
        for finding in findings:
            if finding.migration:
                by_migration.setdefault(finding.migration, []).append(finding)
        for name, found in by_migration.items():
            rewriter = Rewriter(found, engine=self.db.dialect.name)
            if rewriter:
                self._rewriters[name] = rewriter
                self._outside.add((name, "up"))  # each rewritten statement commits on its own

    def _fixed(self, finding: Finding) -> bool:
        """Whether safety="auto" runs a safe rewrite of the statement ``finding`` is about: a
        rewritable code is not enough (raw SQL, or a node the rewriter does not handle, runs as written)."""
        from ..safety.autofix import FIXABLE

        rewriter = self._rewriters.get(finding.migration or "")
        node = finding.extra.get("node")
        return (
            rewriter is not None
            and finding.code in FIXABLE
            and node is not None
            and rewriter.rewrites(node)  # type: ignore[arg-type]
        )

    @contextmanager
    def _rewriting(self, migration: Migration, direction: Direction) -> Iterator[None]:
        from ..dialects.mysql_online import online_clauses

        rewriter = self._rewriters.get(migration.name) if direction == "up" else None
        if rewriter is None:
            with online_clauses(self.db, self.safety, migration.allow_unsafe | self.safety_allow):
                yield
            return
        self.db.rewriter = rewriter
        try:
            yield
        finally:
            self.db.rewriter = None
            for change in rewriter.applied:
                self.logger.info("safety auto-fix in %s: %s", migration.name, change)
            rewriter.applied.clear()

    def _step_with_retries(self, migration: Migration, direction: Direction, batch: int, result: MigrationResult) -> None:
        """One step with the session lock timeouts; a clean lock-timeout failure is retried with backoff."""
        attempt = 0
        # before the wrappers are chosen: judged now, it may get a safe rewrite (safety="auto")
        report = self._report
        checked = direction == "down" or report is None or not report.unanalysed or self._check_now(migration, result)
        # most steps need neither wrapper: skip making them (a run may have thousands of steps).
        # The INVALID-index cleanup is for concurrent builds, which never run in a transaction
        # (inside one, such a statement is refused and whatever the cleanup did rolls back).
        plain = (
            (not self.db.dialect.capabilities.concurrent_index or self._in_transaction(migration, direction))
            and (direction == "down" or migration.name not in self._rewriters)
            and (
                self.db.dialect.name != "mysql"
                or not needs_online_clauses(self.db, self.safety, migration.allow_unsafe | self.safety_allow)
            )
            # a VALIDATE CONSTRAINT runs in the migration's transaction: statement_timeout is lifted there too
            and not (self.db.dialect.name == "postgres" and self.statement_timeout)
        )
        while True:
            self._attempts_left = self.lock_retries - attempt
            try:
                if plain:
                    self._step(migration, direction, batch, result, checked)
                else:
                    with self._invalid_index_cleanup(), self._no_statement_timeout_for_online_scans(), self._rewriting(migration, direction):
                        self._step(migration, direction, batch, result, checked)
                return
            except MigrationError as exc:
                if not (exc.rolled_back and exc.cause is not None and is_lock_timeout(self.db, exc.cause)) or attempt >= self.lock_retries:
                    raise
                attempt += 1
                if result.steps and result.steps[-1].name == migration.name:
                    result.steps.pop()
                if result.failed and result.failed[-1] == migration.name:
                    result.failed.pop()
                wait = min(30.0, 0.5 * 2 ** (attempt - 1))
                self.logger.warning(
                    "%s %s waited too long for a lock (%s); it was rolled back, retrying in %.1f s (%d of %d)",
                    direction, migration.name, _first_line(driver_reason(exc.cause)), wait, attempt, self.lock_retries,
                )
                time.sleep(wait)

    @contextmanager
    def _invalid_index_cleanup(self) -> Iterator[None]:
        """PostgreSQL: before a concurrent index build, drop an INVALID index a failed build left."""
        if not self.db.dialect.capabilities.concurrent_index:
            yield
            return
        from ..dialects.online import drop_invalid_index

        def listener(statement: CompiledStatement) -> None:
            node = _concurrent_build(statement, self.db.dialect.name)
            if node is None or not node.name.name:
                return
            try:
                dropped = drop_invalid_index(self.db, node.name.name, node.name.schema)
            except StatementError as exc:
                # the failure reported next says nothing changed: true of this attempt, but the
                # earlier build's index is still there (a unique one still refuses duplicates)
                self.logger.warning(
                    "the INVALID index %s left by an earlier failed build is still there: dropping it failed (%s); "
                    "a unique one still refuses duplicates. The next run drops it and builds the index again",
                    node.name.name, _first_line(driver_reason(exc.cause)),
                )
                raise
            if dropped:
                self.logger.warning("dropped the INVALID index %s left by an earlier failed build", node.name.name)

        self.db.listeners.append(listener)
        try:
            yield
        finally:
            _remove(self.db.listeners, listener)

    @contextmanager
    def _no_statement_timeout_for_online_scans(self) -> Iterator[None]:
        """PostgreSQL, with ``statement_timeout`` set: a concurrent index build and a
        ``VALIDATE CONSTRAINT`` take no lock that stops reads or writes, and take as long as the
        table is big; they run without the timeout (it is set again for the statements after)."""
        if self.db.dialect.name != "postgres" or not self.statement_timeout:
            yield
            return
        limit = postgres_timeout("statement_timeout", self.statement_timeout)
        lifted = False

        def listener(statement: CompiledStatement) -> None:
            nonlocal lifted
            if self.session_guard.changed("statement_timeout"):
                return  # the migration set its own: it holds until the migration ends
            online = _scans_online(statement, self.db.dialect.name)
            if online != lifted:
                # kysera's own: not one of the migration's statements, nor a SET the session
                # guard would take for the migration's
                self.db.run_own("SET statement_timeout = 0" if online else limit)
                lifted = online

        self.db.listeners.append(listener)
        try:
            yield
        finally:
            _remove(self.db.listeners, listener)
            if lifted:
                try:
                    self.db.run_own(limit)
                except Exception:  # the connection may be gone; the setting dies with it
                    pass

    def _dry_step(self, migration: Migration, direction: Direction, result: MigrationResult) -> None:
        in_tx = self._in_transaction(migration, direction)
        step = MigrationStep(migration.name, direction, status="planned", transaction=in_tx)
        started = time.perf_counter()
        try:
            # on SQLite a dry run runs the statements too (a rehearsal): a SET of the migration's
            # ends with it there as well
            with self._rewriting(migration, direction), self.session_guard.isolated():
                migration.capture(self.db, direction, in_transaction=in_tx, into=step.statements)
        except Exception as exc:
            step.status = "failed"
            step.duration = time.perf_counter() - started
            result.steps.append(step)
            result.failed.append(migration.name)
            statement = exc.statement if isinstance(exc, StatementError) else None
            cause = exc.cause if isinstance(exc, StatementError) else exc
            reason = driver_reason(cause) if isinstance(exc, StatementError) else f"{type(exc).__name__}: {driver_reason(exc)}"
            message = f"migration {migration.name} failed ({direction}) in a dry run: {reason}"
            if statement:
                message += f"\n  statement: {_shorten(statement)}"
            if self._rehearsed:
                message += "\n  nothing was changed: the dry run ran the plan in a transaction and rolled it back"
            else:
                message += (
                    "\n  nothing was changed. A dry run only records statements, so code that needs what "
                    "earlier statements of the plan would have made (in this migration or an earlier one) "
                    "may fail here and still work for real"
                )
            raise MigrationError(
                migration.name, direction, statement, cause, message=message, result=result
            ) from exc
        step.duration = time.perf_counter() - started
        result.steps.append(step)
        self._judge_dry_step(migration, direction, step, in_tx, result)
        problem = self.db.rehearsal_problem()
        if problem is not None:
            result.failed.append(migration.name)
            step.status = "failed"
            raise MigrationError(
                migration.name,
                direction,
                None,
                KyseraError(problem),
                message=(
                    f"migration {migration.name} failed ({direction}) in a dry run: {problem}\n"
                    "  nothing was changed: the dry run ran the plan in a transaction and rolled it back"
                ),
                result=result,
            )
        blocked = next((s for s in step.statements if not s.transactional), None)
        if in_tx and blocked is not None:
            result.failed.append(migration.name)
            step.status = "failed"
            raise MigrationError(
                migration.name,
                direction,
                str(blocked),
                NonTransactionalStatementError(str(blocked)),
                message=(
                    f"migration {migration.name} ({direction}) runs in a transaction, but {_first_line(str(blocked))} "
                    f"cannot run inside one on {self.db.dialect.display_name}; "
                    f"{_no_transaction_advice(migration, direction)} (dry run: nothing was changed)"
                ),
                result=result,
            )
        result.executed.append(migration.name)
        self.logger.info(
            "dry run: %s %s would run %d statement(s)", direction, migration.name, len(step.statements)
        )

    def _step(
        self, migration: Migration, direction: Direction, batch: int, result: MigrationResult, checked: bool = True
    ) -> None:
        """Run one step. ``checked``: False for a migration that could not be dry-run even right
        before it ran (see :meth:`_check_now`); each of its statements is judged as it runs."""
        in_tx = self._in_transaction(migration, direction)
        atomic = in_tx and self.db.dialect.transactional_ddl
        step = MigrationStep(migration.name, direction, transaction=in_tx)
        fn = migration.function(direction)
        assert fn is not None
        if self.before is not None:
            try:
                self.before(migration, direction)
            except Exception as exc:
                step.status = "failed"
                result.steps.append(step)
                result.failed.append(migration.name)
                raise MigrationError(
                    migration.name,
                    direction,
                    None,
                    exc,
                    message=f"the before hook raised {type(exc).__name__}: {exc} for migration {migration.name} ({direction}); it did not run",
                    result=result,
                ) from exc
        self.logger.debug("running %s %s", direction, migration.name)
        if not atomic:
            self._mark_running(migration, direction, batch)
        replays = self._replays if direction == "up" else self._down_replays
        replay = replays.pop(migration.name, None) if atomic else None
        begun = time.perf_counter()
        # a replayed migration took the time its code built its statements in, in the dry run, too
        started = begun if replay is None else begun - replay.seconds
        session = self.session_guard
        try:
            if replay is None or not self._replay(replay, migration, direction, batch, started, step):
                started = begun
                listeners = self.db.listeners
                listener = step.statements.append  # what the code runs, as it runs it
                listeners.append(listener)
                try:
                    with self.db.transaction() if in_tx else nullcontext():
                        with (
                            session.watching(),
                            nullcontext() if checked else self._judging_each_statement(migration, in_tx, result),
                        ):
                            call(fn, self.db)
                        _remove(listeners, listener)  # the history row is not the migration's
                        # a SET of the migration's was its own: the history row, and the next
                        # migration, have the session as the run set it up (no-op without one)
                        session.restore()
                        self._record_success(migration, direction, batch, time.perf_counter() - started, atomic)
                finally:
                    _remove(listeners, listener)
        except Exception as exc:
            session.restore(quietly=True)  # after the rollback; what it had not set back
            step.duration = time.perf_counter() - started
            step.status = "failed"
            result.steps.append(step)
            result.failed.append(migration.name)
            self._failed(migration, direction, exc, step, in_tx, atomic, result)
        step.duration = time.perf_counter() - started
        result.steps.append(step)
        result.executed.append(migration.name)
        self.logger.info("migrated %s: %s in %.3f s", direction, migration.name, step.duration)
        if self.after is not None:
            try:
                self.after(migration, direction, step.duration)
            except Exception as exc:
                raise MigrationError(
                    migration.name,
                    direction,
                    None,
                    exc,
                    message=(
                        f"migration {migration.name} ({direction}) succeeded, but the after hook raised "
                        f"{type(exc).__name__}: {exc}; later migrations did not run"
                    ),
                    result=result,
                    rolled_back=False,
                ) from exc

    def _replay(
        self, replay: Capture, migration: Migration, direction: Direction, batch: int, started: float, step: MigrationStep
    ) -> bool:
        """Run the statements a dry run captured for ``migration`` (the gate's of an ``up``,
        :meth:`_precheck`'s of a ``down``) instead of calling its code again.

        Only for a migration whose dry run built its statements without touching the database
        (:class:`~kysera.database.Capture`), in an all-or-nothing transaction, with nothing that
        changes how nodes compile (auto-fix, MySQL's online clauses). When a statement fails,
        the transaction rolls back and False says to run the code itself, which then handles
        or reports the failure as it always would: the result is the same as running the code,
        without building and compiling every statement a second time.
        """
        if self.db.rewriter is not None or self.db.adjuster is not None:
            return False
        if self.session_guard.changes_any(replay):
            return False  # run by its code, whose SET statements the session guard sees
        replayed = False
        try:
            with self.db.transaction():
                self.db.replay(replay)
                replayed = True
                step.statements.extend(replay)
                self._record_success(migration, direction, batch, time.perf_counter() - started, True)
        except ConnectionLostError:
            raise
        except Exception as exc:
            cause = exc.cause if isinstance(exc, StatementError) else exc
            if replayed or is_lock_timeout(self.db, cause):
                raise  # not something the migration's code could have handled: report it
            self.logger.debug(
                "%s: a statement of its dry run failed (%s); running its %s() to handle or report that",
                migration.name,
                _first_line(str(exc)),
                direction,
            )
            return False
        return True

    # history bookkeeping around one step ----------------------------------------

    def _mark_running(self, migration: Migration, direction: Direction, batch: int) -> None:
        """Before a step that cannot roll back as a whole: a row that says it is under way."""
        if direction == "up":
            self.history.insert(
                migration.name, checksum=migration.checksum, state=RUNNING, batch=batch, direction="up"
            )
        else:
            self.history.update(migration.name, state=RUNNING, direction="down")

    def _record_success(
        self, migration: Migration, direction: Direction, batch: int, seconds: float, atomic: bool
    ) -> None:
        duration_ms = round(seconds * 1000)
        if direction == "down":
            self.history.delete(migration.name)
        elif atomic:
            self.history.insert(
                migration.name, checksum=migration.checksum, state=APPLIED, batch=batch, duration_ms=duration_ms
            )
        else:
            from .history import utc_now

            self.history.update(
                migration.name,
                state=APPLIED,
                direction=None,
                batch=batch,
                checksum=migration.checksum,
                duration_ms=duration_ms,
                applied_at=utc_now(),
            )

    def _failed(
        self,
        migration: Migration,
        direction: Direction,
        exc: Exception,
        step: MigrationStep,
        in_tx: bool,
        atomic: bool,
        result: MigrationResult,
    ) -> NoReturn:
        name = migration.name
        from_statement = (
            isinstance(exc, StatementError | NonTransactionalStatementError)
            and bool(step.statements)
            and (not isinstance(exc, StatementError) or exc.statement == str(step.statements[-1]))
        )
        failing = step.statements[-1] if from_statement else None
        succeeded = step.statements[:-1] if from_statement else step.statements
        if isinstance(exc, StatementError):
            statement: str | None = exc.statement
            cause: BaseException = exc.cause
        else:
            statement = str(failing) if failing is not None else None
            cause = exc
        from .gate import UnsafeMigrationError

        if isinstance(exc, UnsafeMigrationError):  # judged statement by statement (_judging_each_statement)
            reason = f"the safety check refused its next statement as it was about to run:\n\n{exc.advice}\n"
        elif isinstance(exc, NonTransactionalStatementError):
            reason = (
                f"{_first_line(statement or '')} cannot run inside a transaction on {self.db.dialect.display_name}; "
                f"{_no_transaction_advice(migration, direction)}"
            )
        elif isinstance(exc, StatementError):
            reason = driver_reason(cause)
        else:
            reason = f"{type(cause).__name__}: {driver_reason(cause)}"
        lost = isinstance(exc, ConnectionLostError)  # whether the server finished the statement, nobody can say
        unrun = isinstance(exc, StatementError) and not lost and self.db.dialect.refused_unrun(cause)
        # MySQL's DROP TABLE a, b drops the tables it finds before it fails on a missing one
        partial = not unrun and not self.db.dialect.transactional_ddl and failing is not None and _drops_several(failing, self.db.dialect.name)
        # a statement safety="auto" rewrote runs on its own, outside any transaction, yet an
        # ALTER TABLE that fails on PostgreSQL leaves nothing (unlike a concurrent build)
        rewritten = (
            self.db.dialect.transactional_ddl
            and failing is not None
            and not failing.transactional
            and isinstance(failing.node, AlterTableNode)
        )
        clean = atomic or (
            not partial and not (lost and failing is not None) and _nothing_left(in_tx, succeeded, failing, unrun or rewritten)
        )
        invalid_left = (
            not clean
            and failing is not None
            and _concurrent_build(failing, self.db.dialect.name) is not None
            and not any(not s.reads for s in succeeded)
            and is_lock_timeout(self.db, cause)
        )
        if invalid_left:
            # a concurrent build that gave up waiting for a lock left at most an INVALID index,
            # which the runner drops before it builds that index again: tried again like a
            # statement that rolled back, instead of recorded as failed
            clean = True
        recorded = False
        unrecorded: str | None = None  # why the history could not be brought up to date
        if not atomic:
            try:
                if clean:
                    self._unmark(migration, direction)
                else:
                    self.history.update(
                        name,
                        state=FAILED,
                        direction=direction,
                        statement=statement,
                        error=reason[:4000],
                    )
                    recorded = True
            except Exception as record_exc:
                recorded = True  # the "running" row stays; the next run reports it
                unrecorded = driver_reason(record_exc.cause) if isinstance(record_exc, StatementError) else driver_reason(record_exc)
                self.logger.error("could not record the failure of %s in the history: %s", name, unrecorded)
        # a lock timeout that rolled back cleanly is tried again (_step_with_retries says so): a
        # failure only if it is the last attempt
        retried = clean and self._attempts_left > 0 and cause is not None and is_lock_timeout(self.db, cause)
        if not retried:
            self.logger.error(
                "migration %s (%s) failed: %s%s", name, direction, reason, f"\n  statement: {statement}" if statement else ""
            )
        if self.on_error is not None and not retried:
            try:
                self.on_error(migration, direction, exc)
            except Exception as hook_exc:
                self.logger.error("the on_error hook raised %s: %s", type(hook_exc).__name__, hook_exc)
        message = f"migration {name} failed ({direction}): {reason}"
        if statement:
            at = f" ({failing.location})" if failing is not None and failing.location else ""
            message += f"\n  statement{at}: {_shorten(statement)}"
        if unrecorded is not None and direction == "up" and self._only_resumable_backfills(migration):
            # the next up runs it again (_resume_interrupted_backfills): resolving it by hand as
            # applied would record a backfill that stopped part-way as done
            message += (
                f"\n  the history could not be updated ({unrecorded}): {self.history.shown} still says it is "
                "running. It only backfills, and what it sets comes out the same for the rows already done, "
                "so the next `kysera migrate up` runs it again, resuming its backfill"
            )
        elif unrecorded is not None:
            # the connection is gone (or the history table refused the write): the row still
            # says "running", and the next run stops at it as interrupted
            what = (
                "none of its changes were made as far as kysera can tell"
                if clean
                else f"it may be partly {_partly(direction)}"
            )
            message += (
                f"\n  {what}, but the history could not be updated ({unrecorded}): {self.history.shown} still "
                f"says it is running, so the next run stops at it as interrupted. Check the database, then run "
                f"{_resolve_advice(name, direction)}"
            )
        elif clean:
            what = "it was rolled back, so none of its changes remain" if atomic or in_tx else "none of its changes were made"
            if invalid_left:
                what = "its index build stopped (an INVALID index it may have left is dropped before the next build)"
            done = (
                "the migrations applied before it stay applied"
                if direction == "up"
                else "the migrations rolled back before it stay rolled back"
            )
            if is_lock_timeout(self.db, cause):
                holders = self._lock_holders(failing or (CompiledStatement(statement) if statement else None))
                fix = (
                    "Another session held a lock it needed for longer than statement_lock_timeout"
                    + (f" ({holders})" if holders else "")
                    + ": run the migrations again when that session is done, or raise [safety] statement_lock_timeout"
                )
            elif isinstance(cause, ReadOnlyDatabaseError):
                fix = "Nothing in the migration is wrong: run the migrations again once the database can be written"
            elif lost:
                # the server ended the session (a restart, pg_terminate_backend, KILL, a network
                # cut): nothing in the migration to fix
                fix = "The connection to the database was lost: run the migrations again once it is back"
            elif in_tx and _refused_in_a_transaction(cause):
                # SQLite's PRAGMA journal_mode=WAL, PostgreSQL's CREATE DATABASE, ALTER SYSTEM ...:
                # what dbmate's transaction:false and goose's NO TRANSACTION are for
                fix = f"It cannot run inside a transaction: {_no_transaction_advice(migration, direction)}"
            elif self.db.dialect.name == "postgres" and _statement_timed_out(cause):
                limit = (
                    f"statement_timeout ({self.statement_timeout:g} s, [safety] statement_timeout in kysera.toml, "
                    "statement_timeout= in code): raise it"
                    if self.statement_timeout
                    else "the session's statement_timeout (set on the server, the role or the URL): raise it"
                )
                lift = ", lift it for this migration with SET LOCAL statement_timeout = 0 as its first statement," if in_tx else ""
                fix = f"The statement ran longer than {limit}{lift} or update a large table in batches with db.backfill"
            elif getattr(cause, "sqlstate", None) == "55P04":  # unsafe_new_enum_value_usage
                fix = (
                    "A value that ALTER TYPE ... ADD VALUE adds can be used only once the transaction that adds it "
                    "has committed: move the statements that use it to a later migration"
                )
            else:
                fix = "Fix it and run the migrations again"
                if direction == "up" and self._first_run and not result.executed and _already_exists(self.db, cause):
                    # Flyway's baseline, Alembic's stamp, Django's --fake: a database that has the
                    # schema already, from before kysera
                    fix += (
                        ". If the database had these changes before kysera managed it (adopting kysera on "
                        "an existing database), record the migrations it already has as applied without "
                        f"running them: `kysera migrate mark-applied {name}` (or --to NAME; in code: "
                        "runner.mark_applied([...])), then run the rest"
                    )
            message += f"\n  {what}; {done} and later ones did not run. {fix}"
        else:
            why = (
                "it ran outside a transaction"
                if not in_tx
                else f"{self.db.dialect.display_name} commits DDL statements at once"
            )
            kept = _kept_before_failure(succeeded, in_tx, failing, unrun)
            if kept:
                message += f"\n  before it, {_listed(kept)} ran and {'stays' if len(kept) == 1 else 'stay'}:" + "".join(
                    f"\n    {_first_line(str(s))}" for s in kept[:_KEPT_SHOWN]
                ) + (f"\n    ... and {len(kept) - _KEPT_SHOWN} more" if len(kept) > _KEPT_SHOWN else "")
            message += (
                f"\n  it may be partly {_partly(direction)} ({why}) and is recorded as failed "
                f"in {self.history.shown}; no migration runs until it is resolved: check the database, then run "
                f"{_resolve_advice(name, direction)}"
            )
            if direction == "up" and self._only_resumable_backfills(migration):
                # its committed batches are neither "in place" nor "not": --applied would record a
                # backfill that stopped part-way as done
                message += (
                    ". It only backfills, and what it sets comes out the same for the rows already done: once "
                    f"the cause is fixed, `kysera migrate resolve {name} --rolled-back`, then `kysera migrate up` "
                    "resumes its backfill"
                )
        raise MigrationError(
            name,
            direction,
            statement,
            cause,
            message=message,
            result=result,
            rolled_back=clean,
            recorded=recorded,
        ) from exc

    def _unmark(self, migration: Migration, direction: Direction) -> None:
        if direction == "up":
            self.history.delete(migration.name)
        else:
            self.history.update(migration.name, state=APPLIED, direction=None)

    # ================================================================= status


# ===================================================================== helpers


def _remove(listeners: list[Callable[[CompiledStatement], None]], listener: Callable[[CompiledStatement], None]) -> None:
    if listener in listeners:
        listeners.remove(listener)


_DML_WORDS = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _is_dml(statement: CompiledStatement) -> bool:
    """A data change, which a transaction undoes on every engine (unlike DDL on MySQL)."""
    if isinstance(statement.node, InsertNode | UpdateNode | DeleteNode):
        return True
    if statement.node is None or isinstance(statement.node, RawNode):
        words = raw_text.leading_words(statement.sql, 1)
        return bool(words) and words[0] in _DML_WORDS
    return False


def _read_node(statement: CompiledStatement, dialect: str) -> object:
    """What ``statement`` does: the node it was compiled from, or what raw SQL text reads as."""
    node: object = statement.node
    if node is None or isinstance(node, RawNode):
        from ..safety.raw import classify

        node = classify(statement.sql, dialect)
    return node


def _table_of(statement: CompiledStatement, dialect: str) -> IdentifierNode | None:
    """The table a statement works on, when it says (for the sessions that hold its locks)."""
    table = getattr(_read_node(statement, dialect), "table", None)
    return table if isinstance(table, IdentifierNode) else None


def _concurrent_build(statement: CompiledStatement, dialect: str) -> CreateIndexNode | None:
    """The ``CREATE INDEX CONCURRENTLY`` that ``statement`` is (builder or raw SQL), else None.
    Raw text without the word is not read (a listener asks this of every statement)."""
    if (statement.node is None or isinstance(statement.node, RawNode)) and "CONCURRENTLY" not in statement.sql.upper():
        return None
    node = _read_node(statement, dialect)
    return node if isinstance(node, CreateIndexNode) and node.concurrently else None


def _scans_online(statement: CompiledStatement, dialect: str) -> bool:
    """Whether ``statement`` is long by design but blocks no reads or writes: what cannot run in
    a transaction (``CREATE``/``DROP INDEX CONCURRENTLY``), or a ``VALIDATE CONSTRAINT``."""
    if not statement.transactional:
        return True
    if (statement.node is None or isinstance(statement.node, RawNode)) and "VALIDATE" not in statement.sql.upper():
        return False
    node = _read_node(statement, dialect)
    return isinstance(node, AlterTableNode) and bool(node.actions) and all(
        isinstance(action, ValidateConstraintNode) for action in node.actions
    )


def _drops_several(statement: CompiledStatement, dialect: str) -> bool:
    """Whether ``statement`` drops several tables (raw SQL; the builder drops one a statement)."""
    from ..safety.raw import DropTables

    return isinstance(_read_node(statement, dialect), DropTables)


def _nothing_left(
    in_tx: bool, succeeded: list[CompiledStatement], failing: CompiledStatement | None, unrun: bool = False
) -> bool:
    """After a failure outside an all-or-nothing transaction: did none of its changes stay?

    ``unrun``: the server refused the failing statement before running it (a syntax error), so
    it committed nothing, even if it was DDL."""
    if failing is not None and not failing.transactional and not unrun:
        return False  # e.g. a failed CREATE INDEX CONCURRENTLY leaves an invalid index behind
    writes = [s for s in succeeded if not s.reads]
    if not writes:
        return True
    return in_tx and all(_is_dml(s) for s in writes) and (failing is None or unrun or failing.reads or _is_dml(failing))


def _partly(direction: str | None) -> str:
    return "rolled back" if direction == "down" else "applied"


def _resolve_advice(name: str, direction: str | None) -> str:
    """The two ways to settle a migration that failed part-way, as they read for the direction
    it failed in: after a failed down, "its changes are in place" read as the down's changes
    would record a rolled-back migration as applied."""
    if direction == "down":
        applied, rolled_back = (
            "if it is still applied (you put back what its down had removed)",
            "if its rollback is complete (you finished it by hand)",
        )
    else:
        applied, rolled_back = "if its changes are in place", "if they are not"
    return (
        f"`kysera migrate resolve {name} --applied` {applied} or `kysera migrate resolve {name} --rolled-back` "
        f"{rolled_back} (in code: runner.resolve({name!r}, applied=True|False))"
    )


def _check_name(name: object) -> None:
    if not isinstance(name, str):
        raise ConfigurationError(f"a migration is named by a string, such as '001_create_users'; got {name!r}")


def _check_steps(steps: object, method: str, hint: str | None = None) -> None:
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ConfigurationError(
            f"{method}(steps={steps!r}): steps must be a whole number, 1 or more" + (f"; {hint}" if hint else "")
        )


def _no_transaction_advice(migration: Migration, direction: Direction) -> str:
    if migration.is_sql_file:
        return (
            f"add transaction:false to its '-- migrate:{direction}' line so that section runs outside a "
            "transaction (best with that statement alone in the migration)"
        )
    if migration.path is not None:
        return (
            f"set 'transaction = False' in {migration.path.name} so it runs outside a transaction "
            "(best with that statement alone in the migration)"
        )
    return "create it with Migration(..., transaction=False) so it runs outside a transaction"


def _statement_timed_out(error: BaseException | None) -> bool:
    """PostgreSQL cancelled the statement because it ran longer than ``statement_timeout``."""
    return getattr(error, "sqlstate", None) == "57014" and "statement timeout" in str(error)


def _refused_in_a_transaction(error: BaseException | None) -> bool:
    """True when the engine refused a statement because a transaction is open."""
    if getattr(error, "sqlstate", None) == "25001":  # PostgreSQL: active_sql_transaction
        return True
    text = str(error)
    return "within a transaction" in text  # SQLite: cannot change into wal mode from within a transaction


def _already_exists(db: Database, error: BaseException | None) -> bool:
    """True when ``error`` says that what a statement creates exists already (a table, an index,
    a type, a column)."""
    name = db.dialect.name
    if name == "postgres":
        # duplicate_table, duplicate_object, duplicate_column, duplicate_schema, duplicate_function
        return getattr(error, "sqlstate", None) in ("42P07", "42710", "42701", "42P06", "42723")
    if name == "mysql":
        args: tuple[object, ...] = tuple(getattr(error, "args", ()))
        # table exists, duplicate column, duplicate key name, routine exists, trigger exists
        return bool(args) and args[0] in (1050, 1060, 1061, 1304, 1359)
    return "already exists" in str(error)


#: how many of the statements that stay after a failure the message lists
_KEPT_SHOWN = 5


def _kept_before_failure(
    succeeded: Sequence[CompiledStatement], in_tx: bool, failing: CompiledStatement | None = None, unrun: bool = False
) -> list[CompiledStatement]:
    """The changes that stay after a failure where they are not all undone: outside a transaction
    every statement that ran; inside one on MySQL/MariaDB, every statement up to the last DDL
    statement (which committed, with what ran before it), not the data changes after it. A
    failing DDL statement that the server ran committed everything before it too (MySQL commits
    before it runs a DDL statement, whether it then succeeds or not)."""
    changes = [s for s in succeeded if not s.reads]
    if not in_tx:
        return changes
    if failing is not None and not unrun and not failing.reads and not _is_dml(failing):
        return changes
    last_ddl = max((i for i, s in enumerate(changes) if not _is_dml(s)), default=-1)
    return changes[: last_ddl + 1]


def _listed(statements: Sequence[CompiledStatement]) -> str:
    return "this statement" if len(statements) == 1 else f"these {len(statements)} statements"


def _first_line(text: str | None, limit: int = 120) -> str:
    stripped = (text or "").strip()
    line = stripped.splitlines()[0] if stripped else ""
    return line if len(line) <= limit else line[: limit - 3].rstrip() + "..."


def _shorten(text: str, limit: int = 500) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ===================================================================== entry points


def create_migration_runner(
    db: Database, migrations: Migrations, options: RunnerOptions | None = None, **keywords: Unpack[RunnerOptions]
) -> MigrationRunner:
    """A :class:`MigrationRunner` for ``migrations``: a list of :class:`Migration` or a folder.

    Options are keywords (``dry_run=True``), or a dict in the third place (``options``), as the
    TypeScript call passes its object (``create_migration_runner(db, migrations, {"dry_run":
    True})``); a keyword wins over the same key in the dict. The hooks can be given one by one
    (``before=``, ``after=``, ``on_error=``) or together (``hooks={"before": ..., ...}``). An
    unknown option is a :class:`~kysera.errors.ConfigurationError` naming the known ones.
    """
    checked = _checked_options(_merged(options, keywords))
    if isinstance(migrations, str | os.PathLike):
        from .loader import load_migrations

        migrations = load_migrations(migrations)
    return MigrationRunner(db, migrations, **checked)


_HOOKS = ("before", "after", "on_error")


def _merged(options: object, keywords: RunnerOptions) -> RunnerOptions:
    """The options of a dict given in the third place, then the keywords."""
    if options is None:
        return keywords
    if not isinstance(options, Mapping):
        raise ConfigurationError(
            f"the options come as keywords (dry_run=True) or as one dict ({{'dry_run': True}}), got {options!r}"
        )
    bad = [key for key in options if not isinstance(key, str)]
    if bad:
        raise ConfigurationError(f"option names are strings, got {bad[0]!r}")
    return cast("RunnerOptions", {**options, **keywords})


#: options of the TypeScript Kysera runner that kysera has no counterpart for: what to do instead
_THEIRS = {
    "stop_on_error": "kysera always stops at the first migration that fails (the ones after it do not run): "
    "leave it out, fix that migration and run again",
    "verbose": "how much the runner says is its logger's level: leave it out, and set "
    "logging.getLogger('kysera.migrations') (or your logger=) to DEBUG for each statement",
    "plugins": "its hooks are before=, after= and on_error= (or hooks={...})",
}


def _checked_options(options: RunnerOptions) -> RunnerOptions:
    """``options``, once every name is known (else a ConfigurationError naming the known ones)."""
    known = RunnerOptions.__annotations__.keys()
    for name in options:
        if name not in known:
            from difflib import get_close_matches

            theirs = _THEIRS.get("".join(f"_{c.lower()}" if c.isupper() else c for c in name))
            close = get_close_matches(name, list(known), n=1)
            hint = f"{theirs}; " if theirs else f"did you mean {close[0]!r}? " if close else ""
            raise ConfigurationError(
                f"create_migration_runner() has no option {name!r}; {hint}the options are {', '.join(sorted(known))}"
            )
    return options


def _spread_hooks(
    hooks: Mapping[str, Callable[..., object] | None],
    before: BeforeHook | None,
    after: AfterHook | None,
    on_error: ErrorHook | None,
) -> tuple[BeforeHook | None, AfterHook | None, ErrorHook | None]:
    """The hooks of ``hooks={"before": ..., "after": ..., "on_error": ...}`` as the three options."""
    if not isinstance(hooks, Mapping) or not all(isinstance(k, str) and k in _HOOKS for k in hooks):
        raise ConfigurationError(f"hooks= takes a mapping of {', '.join(_HOOKS)} to functions; got {hooks!r}")
    given = {"before": before, "after": after, "on_error": on_error}
    for name, hook in hooks.items():
        if given[name] is not None:
            raise ConfigurationError(f"the {name} hook is given twice: as {name}= and in hooks=; give it once")
        given[name] = hook
    return (
        cast("BeforeHook | None", given["before"]),
        cast("AfterHook | None", given["after"]),
        cast("ErrorHook | None", given["on_error"]),
    )


def run_migrations(
    db: Database, migrations: Migrations, options: RunnerOptions | None = None, **keywords: Unpack[RunnerOptions]
) -> MigrationResult:
    """Apply every pending migration: ``create_migration_runner(db, migrations, ...).up()``."""
    return create_migration_runner(db, migrations, options, **keywords).up()


def rollback_migrations(
    db: Database,
    migrations: Migrations,
    steps: int = 1,
    options: RunnerOptions | None = None,
    **keywords: Unpack[RunnerOptions],
) -> MigrationResult:
    """Roll back the last ``steps`` migrations: ``create_migration_runner(...).down(steps)``."""
    return create_migration_runner(db, migrations, options, **keywords).down(steps)


def get_migration_status(
    db: Database, migrations: Migrations, options: RunnerOptions | None = None, **keywords: Unpack[RunnerOptions]
) -> MigrationStatus:
    """``create_migration_runner(db, migrations, ...).status()``."""
    return create_migration_runner(db, migrations, options, **keywords).status()
