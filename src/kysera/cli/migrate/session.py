"""What the migrate commands share: options, the runner session, and how results are printed."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .. import keep_until_exit
from ..common import (
    EXIT_FAILED,
    State,
    work_begins,
)
from ..output import Output, format_duration, plural

if TYPE_CHECKING:
    import logging

    from ...database import Database
    from ...migrations import Migration, MigrationResult
    from ...safety import Finding

F = TypeVar("F", bound=Callable[..., Any])


if TYPE_CHECKING:
    _IntParam = click.ParamType[int]  # generic from click 8.2; kysera takes 8.1 too
else:
    _IntParam = click.ParamType


class _Steps(_IntParam):
    """A whole number of migrations, 1 or more (click's IntRange says "not a valid integer range")."""

    name = "N"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = int(str(value).strip())
            except ValueError:
                self.fail(f"{value!r} is not a number of migrations; give a whole number, 1 or more", param, ctx)
        if number < 1:
            self.fail(f"{number} is not a number of migrations; give a whole number, 1 or more", param, ctx)
        return number


_STEPS = _Steps()


def steps_option(default: int | None, help_text: str) -> Callable[[F], F]:
    return click.option(
        "--steps", type=_STEPS, default=default, metavar="N", help=help_text
    )


def dry_run_option(func: F) -> F:
    return click.option(
        "--dry-run", is_flag=True, help="Print the SQL that would run, as a script; change nothing."
    )(func)


def yes_option(func: F) -> F:
    return click.option(
        "--yes", "-y", is_flag=True, help="Do not ask for confirmation (needed without a terminal)."
    )(func)


class Session:
    """A command's database connection and runner; prints each migration as it finishes.

    ``applies``: the command applies migrations (up, redo, fresh), so the safety gate runs.
    """

    def __init__(
        self,
        state: State,
        *,
        read_only: bool = False,
        safety: str | None = None,
        applies: bool = False,
        allow_out_of_order: bool = False,
    ) -> None:
        from ...migrations import create_migration_runner

        self.state = state
        self.out = state.out
        settings = state.settings()
        self.settings = settings
        # the code cache of a first run is written when the session ends, after its commits
        self.migrations = load_project_migrations(
            state, meanwhile=lambda: _import_run_modules(state, applies), cache_later=True
        )
        # Start-up is over once the migrations are loaded: they are frozen with the rest of it.
        # A command that applies them dry-runs every pending one first (the safety gate) and
        # keeps the statements for the run: that is start-up too, so the collector comes back
        # with the first migration (or never, when nothing runs).
        self._collector_off = applies
        if not applies:
            work_begins()
        self.db = state.connect(read_only=read_only, start_work=False)  # decided just above
        from .. import watchdog

        self._peer: Database | None = None  # the watchdog's own connection, opened when needed
        self._watchdog = watchdog.Watchdog(
            self.out.aside, self._describe, first=watchdog.FIRST_NOTE, every=watchdog.EVERY
        )
        try:
            self.runner = create_migration_runner(
                self.db,
                self.migrations,
                table_name=settings.table,
                lock_timeout=settings.lock_timeout,
                allow_out_of_order=allow_out_of_order or settings.allow_out_of_order,
                logger=_runner_logger(self.out),
                before=self._before,
                after=self._after,
                on_error=self._on_error,
                **{**settings.safety, **({"safety": safety} if safety else {})},
            )
        except BaseException:
            self.db.close()
            raise
        #: the step running now, and how many finished
        self._running: tuple[Migration, str] | None = None
        self._started = 0.0  # when the step running now began (time.perf_counter)
        self._finished = 0
        self._done: list[str] = []  # their names, for --json
        self._last_direction = "up"
        state.interrupted = self._interrupted
        state.interrupted_result = lambda: {
            "executed": list(self._done),
            "interrupted": self._running[0].name if self._running is not None else None,
        }

    def _interrupted(self) -> str:
        """What Ctrl-C left behind, for this engine and this step."""
        done = (
            f"the {plural(self._finished, 'migration')} it finished before stay{'s' if self._finished == 1 else ''} "
            f"{'applied' if self._last_direction == 'up' else 'rolled back'}"
            if self._finished else "no migration had finished"
        )
        if self._running is None:
            return f"interrupted while no migration was running: {done}; `kysera migrate status` shows the state"
        migration, direction = self._running
        in_tx = self.runner._in_transaction(migration, direction)  # type: ignore[arg-type]
        if in_tx and self.db.dialect.transactional_ddl:
            return (
                f"interrupted while {migration.name} was running ({direction}): it rolled back, nothing of it "
                f"remains; {done}. Run the command again to go on"
            )
        why = f"{self.db.dialect.display_name} commits DDL at once" if in_tx else "outside a transaction"
        return (
            f"interrupted while {migration.name} was running ({direction}, {why}): it may be partly "
            f"{'rolled back' if direction == 'down' else 'applied'} and "
            f"is recorded as interrupted; {done}. Check the database, then `kysera migrate resolve {migration.name} "
            "--applied` or `--rolled-back`"
        )

    def full_name(self, name: str, *, history: bool = False) -> str:
        """NAME as given on the command line, made the full name of one of the project's
        migrations (see :func:`full_name`); ``history``: also of a migration only the history
        table has (its file gone)."""
        known = [m.name for m in self.migrations]
        if name in known or not history:
            return full_name(name, known)
        in_code = set(known)
        recorded = [m.name for m in self.runner.status().migrations if m.name not in in_code]
        return full_name(name, known + recorded)

    @property
    def mysql(self) -> bool:
        """Whether scripts this session prints are for the mysql/mariadb client (DELIMITER lines)."""
        return self.db.dialect.name == "mysql"

    def __enter__(self) -> Session:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        from ...migrations.code_cache import save_deferred

        if exc_type is not None and issubclass(exc_type, KeyboardInterrupt) and self._running is not None:
            self._settle_running()
        try:
            self._watchdog.close()
            self.out.end_progress()
        except OSError:
            # stdout's reader went away: that is the error to report only when the run had none
            if exc_type is None:
                raise
        finally:
            if exc_type is not None and issubclass(exc_type, KeyboardInterrupt) and self._running is not None:
                self._end_server_statement()
            if self._peer is not None:
                self._peer.close()
            self.db.close()
            save_deferred()
            keep_until_exit(self)  # the runner and its migrations: freed by the process's end

    def _end_server_statement(self) -> None:
        """Ctrl-C or SIGTERM cut PyMySQL off in the middle of a statement, but the server ran it
        on to its end (an ALTER TABLE: for hours), holding the migration lock meanwhile: status
        said the migration was "running now", and the next run or resolve waited for it. Its
        session is ended from a second connection, as closing it would end an idle one
        (psycopg cancels PostgreSQL's statement itself)."""
        if self.db.dialect.name != "mysql":
            return
        try:
            session = self.db.session_id
            if session is None:
                return
            if self._peer is None:
                from ...database import connect

                self._peer = connect(self.db.url)
            self._peer.execute(f"KILL CONNECTION {int(session)}")
        except Exception:  # gone already, or the server cannot be reached: the message still holds
            pass

    def _settle_running(self) -> None:
        """Ctrl-C or SIGTERM while a step ran: Python raises it once the call it came during
        returns, and that call is often the step's COMMIT (the fsync of SQLite's, the round trip
        of a server's), which then went through. The history says whether the step finished: when
        it did, it is counted as finished, not said to have rolled back (or to wait for resolve)."""
        from ...migrations.history import APPLIED

        assert self._running is not None
        migration, direction = self._running
        history = self.runner.history
        try:
            rows = history.db.select_from(history.name).select(["state"]).where("name", "=", migration.name).fetch_all()
        except Exception:  # the connection is in no state to answer: the step's own words stand
            return
        if (rows and str(rows[0]["state"]) == APPLIED) if direction == "up" else not rows:
            self._running = None
            self._finished += 1
            self._done.append(migration.name)

    # live progress, one line per migration (hooks are not called in dry runs)
    def _before(self, migration: Migration, direction: str) -> None:
        self._started = time.perf_counter()
        self._running = (migration, direction)
        self._last_direction = direction
        if self._collector_off:
            self._collector_off = False
            work_begins()
        self._watchdog.started(migration.name)
        if self.out.verbose:
            self.out.detail(f"{'applying' if direction == 'up' else 'rolling back'} {migration.name} ...")

    def _describe(self) -> str | None:
        """What the migration's session is doing, as the server tells it (the watchdog's thread)."""
        session = self.db.session_id
        if session is None:
            return None
        if self._peer is None:
            from ...database import connect

            self._peer = connect(self.db.url)
        return self.db.dialect.describe_session(self._peer, session)

    def _after(self, migration: Migration, direction: str, seconds: float) -> None:
        self._running = None
        self._finished += 1
        self._done.append(migration.name)
        self._watchdog.finished()
        verb = "applied " if direction == "up" else "reverted"
        colour = "green" if direction == "up" else "yellow"
        self.out.progress(f"{self.out.style(verb, fg=colour)}  {migration.name}  ({format_duration(seconds)})")

    def _on_error(self, migration: Migration, direction: str, error: BaseException) -> None:
        self._running = None
        self._watchdog.finished()
        seconds = time.perf_counter() - self._started
        self.out.line(
            f"{self.out.style('FAILED  ', fg='red', bold=True)}  {migration.name}  ({format_duration(seconds)})"
        )


def load_project_migrations(
    state: State, meanwhile: Callable[[], object] | None = None, *, cache_later: bool = False
) -> list[Migration]:
    """The project's migrations (every file checked: one bad file stops the command)."""
    from ...migrations.loader import load_migrations

    directory = state.settings().directory
    migrations = load_migrations(directory, meanwhile=meanwhile, cache_later=cache_later)
    state.out.detail(f"migrations: {len(migrations)} in {directory}")
    return migrations


#: what a run imports after loading the migrations, besides the engine's module and driver
_RUN_MODULES = (
    "kysera.database",
    "kysera.migrations.runner",
    "kysera.migrations.gate",
    "kysera.schema.module",
    "kysera.dialects.support",
)
#: and what applying migrations adds: the safety analysis of the gate (its rule catalogue loads
#: with the first finding, which most runs never make)
_APPLY_MODULES = ("kysera.safety.analyzer",)


def _import_run_modules(state: State, applies: bool) -> None:
    """Import what the run needs next while the migration files compile (on a first run, in a
    second process: see :func:`~kysera.migrations.load_migrations`); those imports are a good
    part of a command's start-up, and a database driver is the largest. Whatever fails here
    (no URL, a driver not installed) is left for the command to report where it needs it."""
    import importlib

    from ...config import resolve_url
    from ...dialects import ENGINE_MODULES

    try:
        engine = resolve_url(state.settings(), state.url).url.dialect  # quietly: connect() notes it
    except Exception:
        engine = None
    extra = _APPLY_MODULES if applies else ()
    for name in (*_RUN_MODULES, *extra, *ENGINE_MODULES.get(engine or "", ())):
        try:
            importlib.import_module(name)
        except Exception:  # reported by the command, where it needs the module
            continue


def _runner_logger(out: Output) -> logging.Logger:
    """The runner's log: warnings always, lock waits always, the rest with -v (debug with -vv)."""
    import logging

    class RunnerLog(logging.Logger):
        """Makes records only for what will be shown: a run logs a few per migration, and a
        record costs more than the statements of a small migration."""

        def info(self, msg: object, *args: object, **kwargs: Any) -> None:
            text = str(msg)
            if text.startswith(_LOCK_WAIT) or (out.verbose and not text.startswith(_PRINTED_BY_COMMAND)):
                super().info(msg, *args, **kwargs)

    logger = RunnerLog("kysera.cli.runner")
    logger.propagate = False
    # debug records are only made when they will be shown (-vv)
    logger.setLevel(logging.DEBUG if out.verbose > 1 else logging.INFO)

    class ToOutput(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage()
            if record.levelno >= logging.ERROR:
                out.detail(message)  # the error itself is reported once, by the command
            elif record.levelno >= logging.WARNING:
                out.warn(message)
            elif record.levelno >= logging.INFO:  # only what RunnerLog.info let through
                if message.startswith(_LOCK_WAIT):
                    out.note(message + " ...")
                else:
                    out.detail(message)
            elif out.verbose > 1:
                out.detail(message)

    logger.addHandler(ToOutput())
    _show_backfill_progress(out)
    return logger


#: the runner's INFO lines that the command prints itself, in its summary
_PRINTED_BY_COMMAND = ("migrated ", "dry run: ")
#: the runner's INFO line about waiting for another runner's lock: shown even without -v
_LOCK_WAIT = "waiting for"


def _show_backfill_progress(out: Output) -> None:
    """``db.backfill`` progress (rows done, rate, time left) with -v when stderr is no terminal
    (a CI log); on a terminal the backfill redraws its progress line, through ``out``."""
    import logging
    import sys

    backfill_log = logging.getLogger("kysera.backfill")
    for handler in [h for h in backfill_log.handlers if getattr(h, "kysera_cli", False)]:
        backfill_log.removeHandler(handler)
    if sys.stderr.isatty():
        from ... import backfill

        # the line goes through the printer: after the progress lines before it, none with -q
        backfill.draw_progress = out.redraw
        return
    if not out.verbose:
        return

    class Progress(logging.Handler):
        kysera_cli = True

        def emit(self, record: logging.LogRecord) -> None:
            out.detail(record.getMessage())

    backfill_log.setLevel(logging.INFO)
    backfill_log.addHandler(Progress())


def print_dry_run(out: Output, result: MigrationResult, what: str, *, mysql_client: bool = False) -> None:
    """The plan of a dry run on stdout; exits with EXIT_FAILED when the real run would refuse it
    (``result.refused``: unacknowledged unsafe changes), as the real run would."""
    keep_until_exit(result)
    if out.json_mode:
        out.json({"ok": not result.refused, **result.as_dict()})
    elif not result.steps:
        out.raw(f"-- dry run: {what}; nothing would run")
    else:
        out.raw(result.sql(mysql_client=mysql_client))
        count = len(dict.fromkeys(step.name for step in result.steps))  # redo: one migration, two steps
        if result.refused:
            names = sorted({f.migration or "?" for f in result.refused})
            codes = sorted({f.code for f in result.refused})
            out.raw(
                f"\n-- dry run: the real run would refuse to run: {plural(len(result.refused), 'unsafe change')} "
                f"in {', '.join(names)} ({', '.join(codes)}, see above); nothing was changed"
            )
        else:
            out.raw(f"\n-- dry run: {plural(count, 'migration')} would run; nothing was changed")
    if result.refused:
        raise SystemExit(EXIT_FAILED)


def print_findings(out: Output, findings: list[Finding], *, show_info: bool = False) -> None:
    """Safety findings on stderr (for a dry run) as '-- ' comments, so stdout stays a script."""
    if out.json_mode:
        return
    for finding in findings:
        if finding.severity.value == "info" and not show_info and not out.verbose:
            continue
        for line in finding.render().splitlines():
            out.note(line, asked=True)  # with -q too: the dry run's verdict says "see above"


def print_summary(
    out: Output, result: MigrationResult, done: str, nothing: str, *, extra: dict[str, object] | None = None
) -> None:
    """The run's last line, or its JSON document (with ``extra``'s keys too)."""
    keep_until_exit(result)  # every statement run, with its nodes: freed by the process's end
    if out.json_mode:
        out.json({"ok": True, **result.as_dict(), **(extra or {})})
        return
    if not result.executed:
        out.line(nothing)
        return
    out.line(
        f"{done} {plural(len(result.executed), 'migration')} in {format_duration(result.duration)}."
    )


def check_exclusive(**given: object) -> None:
    """At most one of the options ``given`` (by name); a name in capitals is an argument (NAME...)."""
    used = [
        f"{name.lower()} given as arguments" if name.isupper() else f"--{name.replace('_', '-')}"
        for name, value in given.items()
        if value not in (None, False)
    ]
    if len(used) > 1:
        raise click.UsageError(f"{' and '.join(used)} cannot be used together; choose one")


def full_name(name: str, known: list[str]) -> str:
    """The migration that NAME means on the command line, among the ``known`` names.

    Besides a full name (``20261128093000_add_users_table``), NAME may be its file name or path
    (``migrations/20261128093000_add_users_table.py``), the name given to ``migrate create``
    (``add_users_table``, the part after the version prefix) or the version alone
    (``20261128093000``), when exactly one migration has it. A NAME that two migrations share is
    an error naming them; any other NAME is returned as given, for the runner to report as
    unknown (with its closest match).
    """
    if name in known:
        return name
    import os

    base = os.path.basename(name.rstrip("/\\"))
    stem, ext = os.path.splitext(base)
    if ext.lower() in (".py", ".sql") and stem in known:
        return stem
    if base in known:
        return base
    short = stem if ext.lower() in (".py", ".sql") else base
    if not short:
        return name
    matches = [k for k in known if short in _short_names(k)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        from ...migrations import UnknownMigrationError

        raise UnknownMigrationError(
            f"migration name {name!r} is ambiguous: it could be {', '.join(matches)}; give the full name",
            name,
        )
    return name


def _short_names(full: str) -> tuple[str, ...]:
    """A migration's version prefix and the name after it (``001``, ``create_users`` for
    ``001_create_users``); none when the name does not start with digits and an underscore."""
    version, sep, rest = full.partition("_")
    if not sep or not version.isdigit() or not rest:
        return ()
    return version, rest
