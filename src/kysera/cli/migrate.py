"""``kysera migrate ...``: create, up, down, status, redo, reset, fresh, resolve, accept,
mark-applied and sql."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .common import EXIT_FAILED, State, confirm_or_refuse, get_state, global_options, json_option
from .output import Output, format_duration, plural, render_table

if TYPE_CHECKING:
    import logging

    from ..migrations import Migration, MigrationResult, MigrationStatus
    from ..safety import Finding
    from ..url import DatabaseUrl

F = TypeVar("F", bound=Callable[..., Any])

_MIGRATION_FILE = re.compile(r"^(\d+)_(.+)\.(py|sql)$")


@click.group()
@global_options
def migrate() -> None:
    """Create, apply, revert and inspect migrations."""


# ----------------------------------------------------------------------------- create


def sanitize_name(name: str) -> str:
    """Lower case, runs of anything but letters and digits become one underscore."""
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


@migrate.command()
@click.argument("name")
@click.option("--sql", "as_sql", is_flag=True, help="Write a .sql file with -- migrate:up / -- migrate:down sections.")
@global_options
@json_option
def create(name: str, as_sql: bool) -> None:
    """Create migrations/YYYYMMDDHHMMSS_NAME.py (UTC timestamp) with up() and down().

    NAME is lower-cased and everything but letters and digits becomes an underscore:
    "Add Users-Table" gives add_users_table.
    """
    import datetime
    import os

    from . import templates

    state = get_state()
    safe = sanitize_name(name)
    if not safe:
        raise click.BadParameter(
            f"{name!r} has no letters or digits to name a migration with; use e.g. add_users_table",
            param_hint="NAME",
        )
    directory = state.settings().directory
    existing: list[Path] = []
    if directory.is_dir():
        existing = sorted(p for p in directory.iterdir() if _MIGRATION_FILE.match(p.name))
    for path in existing:
        match = _MIGRATION_FILE.match(path.name)
        if match and match.group(2) == safe:
            raise click.BadParameter(
                f"a migration named {safe!r} already exists: {_shown(path)}; choose another name",
                param_hint="NAME",
            )
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    # keep creation order even for two creates within one second (or a clock that went back)
    stamps = [m.group(1) for p in existing if (m := _MIGRATION_FILE.match(p.name)) and len(m.group(1)) == 14]
    if stamps:
        latest = datetime.datetime.strptime(max(stamps), "%Y%m%d%H%M%S").replace(tzinfo=datetime.UTC)
        if latest >= now:
            now = latest + datetime.timedelta(seconds=1)
    stamp = now.strftime("%Y%m%d%H%M%S")
    path = directory / f"{stamp}_{safe}.{'sql' if as_sql else 'py'}"
    template = templates.SQL if as_sql else templates.PYTHON
    directory.mkdir(parents=True, exist_ok=True)
    created = now.strftime("%Y-%m-%d %H:%M:%S")
    with open(path, "x", encoding="utf-8") as handle:
        handle.write(template.format(name=f"{stamp}_{safe}", created=created))
    if state.json:
        state.out.json({"name": f"{stamp}_{safe}", "path": os.fspath(path)})
    else:
        state.out.line(f"Created {_shown(path)}")


def _shown(path: Path) -> str:
    """``path`` relative to the current folder when it is inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# ----------------------------------------------------------------------------- shared plumbing


def _steps_option(default: int | None, help_text: str) -> Callable[[F], F]:
    return click.option("--steps", type=click.IntRange(min=1), default=default, metavar="N", help=help_text)


def _dry_run_option(func: F) -> F:
    return click.option(
        "--dry-run", is_flag=True, help="Print the SQL that would run, as a script; change nothing."
    )(func)


def _yes_option(func: F) -> F:
    return click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation (needed without a terminal).")(func)


class Session:
    """A command's database connection and runner; prints each migration as it finishes."""

    def __init__(self, state: State, *, read_only: bool = False, safety: str | None = None) -> None:
        from ..migrations import create_migration_runner, load_migrations

        self.state = state
        self.out = state.out
        settings = state.settings()
        self.settings = settings
        self.migrations = load_migrations(settings.directory)
        self.out.detail(f"migrations: {len(self.migrations)} in {settings.directory}")
        self.db = state.connect(read_only=read_only)
        try:
            self.runner = create_migration_runner(
                self.db,
                self.migrations,
                table_name=settings.table,
                lock_timeout=settings.lock_timeout,
                logger=_runner_logger(self.out),
                before=self._before,
                after=self._after,
                on_error=self._on_error,
                **{**settings.safety, **({"safety": safety} if safety else {})},
            )
        except BaseException:
            self.db.close()
            raise

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.db.close()

    # live progress, one line per migration (hooks are not called in dry runs)
    def _before(self, migration: Migration, direction: str) -> None:
        self.out.detail(f"{'applying' if direction == 'up' else 'rolling back'} {migration.name} ...")

    def _after(self, migration: Migration, direction: str, seconds: float) -> None:
        verb = "applied " if direction == "up" else "reverted"
        colour = "green" if direction == "up" else "yellow"
        self.out.line(f"{self.out.style(verb, fg=colour)}  {migration.name}  ({format_duration(seconds)})")

    def _on_error(self, migration: Migration, direction: str, error: BaseException) -> None:
        self.out.line(f"{self.out.style('FAILED  ', fg='red', bold=True)}  {migration.name}")


def _runner_logger(out: Output) -> logging.Logger:
    """The runner's log: warnings always, lock waits always, the rest with -v (debug with -vv)."""
    import logging

    logger = logging.getLogger("kysera.cli.runner")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)

    class ToOutput(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage()
            if record.levelno >= logging.ERROR:
                out.detail(message)  # the error itself is reported once, by the command
            elif record.levelno >= logging.WARNING:
                out.warn(message)
            elif record.levelno >= logging.INFO:
                if message.startswith("waiting for"):
                    out.note(message + " ...")
                elif not message.startswith(("migrated ", "dry run: ")):  # printed by the command
                    out.detail(message)
            elif out.verbose > 1:
                out.detail(message)

    logger.addHandler(ToOutput())
    return logger


def _print_dry_run(out: Output, result: MigrationResult, what: str) -> None:
    if out.json_mode:
        out.json({"ok": True, **result.as_dict()})
        return
    if not result.steps:
        out.raw(f"-- dry run: {what}; nothing would run")
        return
    out.raw(result.sql())
    count = len(result.steps)
    out.raw(f"\n-- dry run: {plural(count, 'migration')} would run; nothing was changed")


def _print_findings(out: Output, findings: list[Finding], *, show_info: bool = False) -> None:
    """Safety findings on stderr (for a dry run) as '-- ' comments, so stdout stays a script."""
    if out.json_mode:
        return
    for finding in findings:
        if finding.severity.value == "info" and not show_info and not out.verbose:
            continue
        for line in finding.render().splitlines():
            out.note(line)


def _summary(out: Output, result: MigrationResult, done: str, nothing: str) -> None:
    if out.json_mode:
        out.json({"ok": True, **result.as_dict()})
        return
    if not result.executed:
        out.line(nothing)
        return
    out.line(f"{done} {plural(len(result.executed), 'migration')} in {format_duration(result.duration)}.")


def _check_exclusive(**given: object) -> None:
    used = [f"--{name.replace('_', '-')}" for name, value in given.items() if value not in (None, False)]
    if len(used) > 1:
        raise click.UsageError(f"{' and '.join(used)} cannot be used together; choose one")


# ----------------------------------------------------------------------------- up


@migrate.command()
@_steps_option(None, "Apply only the next N pending migrations.")
@click.option("--to", "target", metavar="NAME", help="Apply pending migrations up to and including NAME.")
@_dry_run_option
@click.option(
    "--backup",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="First dump the database into DIR (when something is pending).",
)
@click.option(
    "--allow-unsafe",
    is_flag=True,
    help="Run even when the safety analysis finds an unsafe change (the findings are printed).",
)
@click.option(
    "--safety",
    type=click.Choice(["error", "warn", "off", "auto"]),
    help="Safety mode (default: [safety] mode, else error); auto runs safe recipes instead of refusing.",
)
@global_options
@json_option
def up(
    steps: int | None, target: str | None, dry_run: bool, backup: str | None, allow_unsafe: bool, safety: str | None
) -> None:
    """Apply pending migrations (all of them by default), after checking they are safe."""
    _check_exclusive(steps=steps, to=target)
    state = get_state()
    mode = "warn" if allow_unsafe else safety
    with Session(state, read_only=dry_run, safety=mode) as session:
        runner = session.runner
        if dry_run:
            result = runner.up_to(target, dry_run=True) if target else runner.up(steps, dry_run=True)
            _print_findings(state.out, result.findings)
            _print_dry_run(state.out, result, "no pending migrations")
            return
        if backup:
            _backup(session, backup)
        result = runner.up_to(target) if target else runner.up(steps)
        _summary(state.out, result, "Applied", "Nothing to apply: no pending migrations.")


def _backup(session: Session, folder: str) -> None:
    import datetime
    import os

    from .db import write_dump

    if not session.runner.status().pending:
        session.out.detail("no pending migrations: no backup taken")
        return
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d%H%M%S")
    path = os.path.join(folder, f"backup-{stamp}.sql")
    result = write_dump(session.db, path)
    session.out.note(f"backup of {plural(len(result.tables), 'table')} written to {path}")


# ----------------------------------------------------------------------------- down


@migrate.command()
@_steps_option(None, "Roll back the last N applied migrations (default 1).")
@click.option("--to", "target", metavar="NAME", help="Roll back every migration applied after NAME (NAME stays).")
@click.option("--all", "everything", is_flag=True, help="Roll back every applied migration.")
@_dry_run_option
@_yes_option
@global_options
@json_option
def down(steps: int | None, target: str | None, everything: bool, dry_run: bool, yes: bool) -> None:
    """Roll back applied migrations, newest first (the last one by default)."""
    _check_exclusive(steps=steps, to=target, all=everything)
    state = get_state()
    with Session(state, read_only=dry_run) as session:
        runner = session.runner
        if dry_run:
            if everything:
                result = runner.reset(dry_run=True)
            elif target:
                result = runner.down_to(target, dry_run=True)
            else:
                result = runner.down(steps or 1, dry_run=True)
            _print_dry_run(state.out, result, "no applied migrations")
            return
        if everything:
            _confirm_rollback_all(session, yes, "roll back every applied migration")
            result = runner.reset()
        elif target:
            result = runner.down_to(target)
        else:
            result = runner.down(steps or 1)
        _summary(state.out, result, "Rolled back", "Nothing to roll back: no applied migrations.")


def _confirm_rollback_all(session: Session, yes: bool, what: str) -> None:
    applied = session.runner.status().executed
    if not applied:
        return  # nothing to lose: no question to ask
    where = session.db.url.redacted()
    confirm_or_refuse(f"{what} ({plural(len(applied), 'migration')}) on {where}", yes, session.out)


# ----------------------------------------------------------------------------- status


_STATE_COLOURS = {
    "applied": "green",
    "pending": "yellow",
    "changed": "magenta",
    "missing": "magenta",
    "failed": "red",
    "running": "red",
}


@migrate.command()
@click.option(
    "--check", is_flag=True, help="Exit 1 when any migration is pending, changed, missing or failed (a CI gate)."
)
@global_options
@json_option
def status(check: bool) -> None:
    """Show which migrations are applied, pending, changed or failed."""
    state = get_state()
    out = state.out
    with Session(state, read_only=True) as session:
        result = session.runner.status()
        where = session.db.url.redacted()
    problems = {
        "pending": len(result.pending),
        "changed": len(result.changed),
        "missing": len(result.missing),
        "failed": len(result.failed),
    }
    if out.json_mode:
        out.json(
            {
                **result.as_dict(),
                "database": where,
                "table": session.settings.table,
                "directory": str(session.settings.directory),
            }
        )
    else:
        _print_status(out, result, where, session.settings.table, bool(state.verbose))
    if check and any(problems.values()):
        found = ", ".join(f"{count} {name}" for name, count in problems.items() if count)
        out.note(f"check failed: {found}")
        raise click.exceptions.Exit(EXIT_FAILED)


def _print_status(out: Output, status: MigrationStatus, where: str, table: str, verbose: bool) -> None:
    out.line(f"Database {where}, history table {table}")
    if not status.migrations:
        out.line("No migrations yet: create one with kysera migrate create NAME")
        return
    headers = ["Migration", "State", "Applied at (UTC)", "Duration"]
    if verbose:
        headers += ["Batch", "Checksum"]
    rows = []
    for info in status.migrations:
        label = info.state + (" (out of order)" if info.out_of_order else "")
        row = [
            info.name,
            label,
            info.applied_at.strftime("%Y-%m-%d %H:%M:%S") if info.applied_at else "",
            format_duration(info.duration),
        ]
        if verbose:
            row += [str(info.batch) if info.batch is not None else "", (info.checksum or "")[:12]]
        rows.append(row)

    def styler(column: int, value: str, padded: str) -> str:
        if column != 1:
            return padded
        return out.style(padded, fg=_STATE_COLOURS.get(value.split(" ")[0], "white"))

    out.line()
    out.line(render_table(headers, rows, styler))
    out.line()
    counts = [f"{len(status.executed)} applied", f"{len(status.pending)} pending"]
    counts += [f"{len(names)} {label}" for label, names in (("changed", status.changed), ("missing", status.missing), ("failed", status.failed)) if names]
    out.line(f"{plural(len(status.migrations), 'migration')}: {', '.join(counts)}")
    for info in status.migrations:
        if info.state in ("failed", "running"):
            out.line(
                f"  {info.name} {info.state} ({info.direction or 'up'})"
                + (f": {info.error.splitlines()[0]}" if info.error else "")
                + f"\n    resolve it: kysera migrate resolve {info.name} --applied|--rolled-back"
            )
        elif info.state == "changed":
            out.line(f"  {info.name} changed since it was applied; restore it, or: kysera migrate accept {info.name}")
        elif info.state == "missing":
            out.line(f"  {info.name} is applied but its file is gone; restore it, or: kysera migrate accept {info.name}")


# ----------------------------------------------------------------------------- redo, reset, fresh


@migrate.command()
@_dry_run_option
@global_options
@json_option
def redo(dry_run: bool) -> None:
    """Roll back the last applied migration and apply it again."""
    state = get_state()
    with Session(state, read_only=dry_run) as session:
        result = session.runner.redo(dry_run=dry_run)
        if dry_run:
            _print_dry_run(state.out, result, "no applied migrations")
            return
        if state.out.json_mode:
            state.out.json({"ok": True, **result.as_dict()})
        elif not result.executed:
            state.out.line("Nothing to redo: no applied migrations.")
        else:
            state.out.line(f"Redid {result.executed[0]} in {format_duration(result.duration)}.")


@migrate.command()
@_dry_run_option
@_yes_option
@global_options
@json_option
def reset(dry_run: bool, yes: bool) -> None:
    """Roll back every applied migration."""
    state = get_state()
    with Session(state, read_only=dry_run) as session:
        if dry_run:
            _print_dry_run(state.out, session.runner.reset(dry_run=True), "no applied migrations")
            return
        _confirm_rollback_all(session, yes, "roll back every applied migration")
        result = session.runner.reset()
        _summary(state.out, result, "Rolled back", "Nothing to roll back: no applied migrations.")


@migrate.command()
@_yes_option
@global_options
@json_option
def fresh(yes: bool) -> None:
    """Drop every table of the database (not only kysera's), then apply every migration."""
    state = get_state()
    out = state.out
    with Session(state) as session:
        from ..dialects.catalog import list_tables

        db = session.db
        tables = list_tables(db)
        if tables:
            confirm_or_refuse(
                f"DROP all {plural(len(tables), 'table')} of {db.url.redacted()} ({_short_list(tables)})", yes, out
            )
            _drop_tables(session, tables)
            out.line(f"Dropped {plural(len(tables), 'table')}.")
        result = session.runner.up()
        _summary(out, result, "Applied", "Nothing to apply: there are no migrations.")


def _short_list(names: list[str], limit: int = 6) -> str:
    return ", ".join(names) if len(names) <= limit else ", ".join(names[:limit]) + f", ... ({len(names) - limit} more)"


def _drop_tables(session: Session, tables: list[str]) -> None:
    """Drop ``tables`` under the migration lock; where foreign keys decide the order, retry."""
    from ..dialects.locks import migration_lock
    from ..errors import StatementError, UnsupportedError

    db = session.db
    lock = migration_lock(db, session.runner.history.node)
    lock.acquire(session.runner.lock_timeout, lambda holder: session.out.note(
        f"waiting for the migration lock on {lock.description} (held by {holder or 'another process'}) ..."
    ))
    try:
        remaining = list(tables)
        while remaining:
            failures: list[StatementError] = []
            for table in list(remaining):
                builder = db.schema.drop_table(table).if_exists()
                try:
                    statement = builder.cascade().compile()
                except UnsupportedError:
                    statement = builder.compile()
                try:
                    db.run_compiled(statement)
                except StatementError as exc:  # referenced by a table not dropped yet
                    failures.append(exc)
                    continue
                remaining.remove(table)
                session.out.detail(f"dropped {table}")
            if failures and len(failures) == len(remaining):
                raise failures[0]
    finally:
        lock.release()


# ----------------------------------------------------------------------------- resolve, accept, mark-applied


@migrate.command()
@click.argument("name")
@click.option("--applied", "applied", flag_value=True, default=None, help="Its changes are in place: record it as applied.")
@click.option("--rolled-back", "applied", flag_value=False, help="Its changes are not there: record it as not applied.")
@global_options
@json_option
def resolve(name: str, applied: bool | None) -> None:
    """Settle a migration that failed part-way (outside a transaction).

    Check the database first, then say what is true: --applied when its changes are in place
    (you finished them by hand), --rolled-back when they are not (you undid them).
    """
    if applied is None:
        raise click.UsageError("say what is true of the database: --applied or --rolled-back")
    state = get_state()
    with Session(state) as session:
        session.runner.resolve(name, applied)
    if state.out.json_mode:
        state.out.json({"ok": True, "name": name, "resolved_as": "applied" if applied else "rolled-back"})
    else:
        state.out.line(f"Resolved {name}: recorded as {'applied' if applied else 'not applied'}.")


@migrate.command()
@click.argument("name")
@global_options
@json_option
def accept(name: str) -> None:
    """Accept an applied migration whose file changed (records its new checksum), or whose
    file is gone (forgets it; its changes stay in the database)."""
    state = get_state()
    with Session(state) as session:
        what = session.runner.accept(name)
    if state.out.json_mode:
        state.out.json({"ok": True, "name": name, "accepted": what})
    elif what == "changed":
        state.out.line(f"Accepted the new version of {name}.")
    else:
        state.out.line(f"Removed {name} from the history (its file is gone; its changes stay).")


@migrate.command("mark-applied")
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.option("--all", "everything", is_flag=True, help="Mark every pending migration.")
@click.option("--to", "target", metavar="NAME", help="Mark every pending migration up to and including NAME.")
@global_options
@json_option
def mark_applied(names: tuple[str, ...], everything: bool, target: str | None) -> None:
    """Record migrations as applied without running them (baseline an existing database)."""
    _check_exclusive(names=bool(names) or None, all=everything, to=target)
    if not (names or everything or target):
        raise click.UsageError("name the migrations to mark, or pass --all or --to NAME")
    state = get_state()
    with Session(state) as session:
        runner = session.runner
        if everything:
            marked = runner.mark_applied("all")
        elif target:
            known = [m.name for m in session.migrations]
            if target not in known:
                runner.mark_applied([target])  # raises the runner's "unknown migration" error
            marked = runner.mark_applied(known[: known.index(target) + 1])
        else:
            marked = runner.mark_applied(list(names))
    if state.out.json_mode:
        state.out.json({"ok": True, "marked": marked})
        return
    for marked_name in marked:
        state.out.line(f"marked    {marked_name}")
    state.out.line(
        f"Marked {plural(len(marked), 'migration')} as applied (nothing was run)."
        if marked
        else "Nothing to mark: those migrations are already applied."
    )


# ----------------------------------------------------------------------------- lint


@migrate.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--dialect",
    type=click.Choice(["postgres", "mysql", "mariadb", "sqlite"], case_sensitive=False),
    help="Lint offline for this engine: no database, every existing table is assumed large.",
)
@click.option("--all", "everything", is_flag=True, help="Lint every migration, not only the pending ones.")
@global_options
@json_option
def lint(files: tuple[str, ...], dialect: str | None, everything: bool) -> None:
    """Report what the pending migrations (or FILES) would lock, rewrite or lose.

    Exits 1 when a finding is an error that no migration acknowledges (docs/safety.md).

    \b
    kysera migrate lint
    kysera migrate lint --dialect postgres migrations/20261128100000_add_index.py
    """
    from ..migrations import create_migration_runner, load_migrations
    from ..migrations.gate import inspect_plan
    from ..safety import OfflineFacts

    state = get_state()
    settings = state.settings()
    if files:
        chosen_paths = {Path(f).resolve() for f in files}
        migrations: list[Migration] = []
        for folder in sorted({p.parent for p in chosen_paths}):
            migrations.extend(m for m in load_migrations(folder) if m.path is not None and m.path.resolve() in chosen_paths)
    else:
        migrations = load_migrations(settings.directory)
    if dialect is not None:
        from . import offline

        db = offline.offline_database(dialect)
        facts = OfflineFacts()
    else:
        db = state.connect(read_only=True)
        facts = None
    try:
        runner = create_migration_runner(db, migrations, table_name=settings.table, **settings.safety)
        if dialect is None and not files and not everything:
            pending = set(runner.status().pending)
            migrations = [m for m in migrations if m.name in pending]
        report = inspect_plan(runner, [(m, "up") for m in migrations], True, facts)
    finally:
        db.close()
    errors = report.errors
    out = state.out
    if out.json_mode:
        out.json(
            {
                "ok": not errors,
                "migrations": [m.name for m in migrations],
                "findings": [f.to_dict() for f in report.findings],
                "errors": len(errors),
                "unanalysed": report.unanalysed,
            }
        )
    else:
        shown = [f for f in report.findings if f.severity.value != "info" or out.verbose]
        for finding in shown:
            out.line(finding.render())
            out.line()
        for name in report.unanalysed:
            out.warn(f"{name} could not be analysed: it reads the database, or what an earlier migration creates")
        warnings = sum(1 for f in report.findings if f.severity.value == "warning" and not f.suppressed)
        allowed = sum(1 for f in report.findings if f.suppressed)
        out.line(
            f"{plural(len(migrations), 'migration')} checked: {plural(len(errors), 'error')}, "
            f"{plural(warnings, 'warning')}" + (f", {allowed} allowed" if allowed else "")
        )
    if errors:
        raise SystemExit(EXIT_FAILED)


# ----------------------------------------------------------------------------- test (stairway)


@migrate.command("test")
@global_options
@json_option
def test_command() -> None:
    """The stairway test: each migration up, down, up again, on a scratch database.

    After each down the schema must be what it was before that migration's up; differences
    are listed. The scratch database is made next to the configured server (or is a temporary
    SQLite file) and dropped afterwards; the configured database itself is not touched.
    """
    import os

    from ..config import URL_VARIABLES, resolve_url
    from ..testing.stairway import check_migrations

    state = get_state()
    settings = state.settings()
    url: DatabaseUrl | None = None
    if state.url or settings.url or any(os.environ.get(v) for v in URL_VARIABLES):
        resolved = resolve_url(settings, state.url).url
        if resolved.dialect != "sqlite":
            url = resolved
    report = check_migrations(url, settings.directory, table_name=settings.table)
    out = state.out
    if out.json_mode:
        out.json(
            {
                "ok": report.ok,
                "checked": report.checked,
                "problems": [{"migration": p.migration, "kind": p.kind, "details": list(p.details)} for p in report.problems],
            }
        )
    else:
        out.line(report.render())
    if not report.ok:
        raise SystemExit(EXIT_FAILED)


# ----------------------------------------------------------------------------- sql (offline)


@migrate.command("sql")
@click.option(
    "--dialect",
    type=click.Choice(["postgres", "mysql", "mariadb", "sqlite"], case_sensitive=False),
    help="Engine to write SQL for (default: the configured database URL's engine).",
)
@click.option("--from", "from_name", metavar="NAME", help="Up: the migration already applied (excluded). Down: the newest to roll back.")
@click.option("--to", "to_name", metavar="NAME", help="Up: the last migration to apply. Down: the migration that stays applied (excluded).")
@click.option("--down", is_flag=True, help="Write the rollback script, newest first.")
@click.option("--no-history", is_flag=True, help="Leave out the statements that update the history table.")
@global_options
def sql(dialect: str | None, from_name: str | None, to_name: str | None, down: bool, no_history: bool) -> None:
    """Print the SQL script of migrations, compiled offline (no database needed).

    \b
    kysera migrate sql --dialect postgres > migrate.sql
    kysera migrate sql --from 20260101000000_a --to 20260301000000_c
    kysera migrate sql --down --to 20260101000000_a
    """
    from ..migrations import load_migrations
    from . import offline

    state = get_state()
    settings = state.settings()
    if dialect is None:
        dialect = _configured_dialect(state)
    migrations = load_migrations(settings.directory)
    chosen = offline.select_range(migrations, from_name, to_name, down)
    db = offline.offline_database(dialect)
    table = None if no_history else settings.table
    parts = offline.compile_parts(db, chosen, down, table)
    setup = offline.history_setup(db, table) if table is not None and not down and parts else []
    state.out.raw(offline.render_script(db, parts, down, setup, table))


def _configured_dialect(state: State) -> str:
    import os

    from ..config import URL_VARIABLES, resolve_url
    from ..errors import ConfigurationError

    settings = state.settings()
    if not (state.url or settings.url or any(os.environ.get(v) for v in URL_VARIABLES)):
        raise ConfigurationError(
            "no database URL is configured to take the engine from; pass --dialect postgres, mysql or sqlite"
        )
    return resolve_url(settings, state.url).url.dialect
