"""``kysera migrate status``: reads only, so it loads neither the runner nor the safety analysis."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ...errors import _shorten
from ..common import (
    EXIT_FAILED,
    get_state,
    global_options,
    json_option,
)
from ..output import Output, format_duration, plural, render_table
from .session import load_project_migrations

if TYPE_CHECKING:
    from ...database import Database
    from ...migrations import MigrationStatus

_STATE_COLOURS = {
    "applied": "green",
    "pending": "yellow",
    "changed": "magenta",
    "missing": "magenta",
    "failed": "red",
    "running": "red",
}


@click.command(short_help="Show applied, pending and changed migrations.")
@click.option(
    "--check",
    is_flag=True,
    help="Exit 1 when any migration is pending, changed, missing, failed, interrupted or running now (a CI gate).",
)
@global_options
@json_option
def status(check: bool) -> None:
    """Show which migrations are applied, pending, changed or failed."""
    # reads only, so it needs neither the runner nor its safety analysis (a fast start)
    from ...migrations.history import HistoryTable
    from ...migrations.status import read_status

    state = get_state()
    state.interrupted = lambda: "interrupted: status only reads; nothing was changed"
    out = state.out
    settings = state.settings()
    migrations = load_project_migrations(state)
    db = state.connect(read_only=True)
    try:
        history = HistoryTable(db, settings.table)
        result = read_status(history, migrations)
        where = db.url.redacted()
        running_now = orphan = deploying = None
        if result.table_exists and result.pending and not any(m.state == "running" for m in result.migrations):
            # on PostgreSQL and SQLite a migration under way commits its history row with itself:
            # until then it looks pending, and only the lock tells that a run is applying them
            from ...dialects.locks import migration_lock

            try:
                deploying = migration_lock(db, history.node).busy()
            except Exception:  # a courtesy: the table is what was asked for
                deploying = None
        if any(m.state == "running" for m in result.migrations):
            # under way in another process (it holds the lock), or interrupted (nobody does, or
            # only the server session of a kysera process that is gone: nothing will record it)
            from ...dialects.locks import migration_lock

            lock = migration_lock(db, history.node)
            running_now = lock.busy()
            if running_now is not None:
                try:
                    orphan = lock.orphan()
                except Exception:  # a courtesy: say what the lock says
                    orphan = None
                if orphan is not None:
                    running_now = None
        adopted = _other_tools_history(db) if not result.table_exists and result.pending else None
    finally:
        db.close()
    # a migration under way in another process has not failed: it is "running now"
    running = [m.name for m in result.migrations if m.state == "running"] if running_now else []
    failed = [name for name in result.failed if name not in running]
    problems = {
        "pending": len(result.pending),
        "changed": len(result.changed),
        "missing": len(result.missing),
        "failed": len(failed),
        "running now": len(running),
    }
    if out.json_mode:
        out.json(
            {
                **result.as_dict(),
                "failed": failed,
                "running_now": running,
                "lock_holder": running_now or deploying,
                "database": where,
                "table": settings.table,
                "directory": str(settings.directory),
            }
        )
    else:
        _print_status(out, result, where, settings.table, bool(state.verbose), running_now)
    if deploying is not None:
        out.note(
            f"note: a kysera run holds the migration lock now ({deploying}): it may be applying the pending "
            "migrations; run status again when it is done"
        )
    if orphan is not None:
        out.note(
            f"note: {orphan}; what it runs will not be recorded. The next kysera migrate command that "
            "takes the lock (up, down, resolve) ends that session, and what it had not committed rolls back"
        )
    if adopted is not None:
        out.note(
            f"note: this database has {adopted[0]}, {adopted[1]}'s history: if its schema already holds what some of "
            "these migrations make, record them as applied without running them: kysera migrate mark-applied NAME "
            "(or --to NAME), then kysera migrate up runs the rest"
        )
    if check and any(problems.values()):
        found = ", ".join(f"{count} {name}" for name, count in problems.items() if count)
        out.note(f"check failed: {found}")
        raise click.exceptions.Exit(EXIT_FAILED)


#: the history tables of other migration tools, and the tools
_OTHER_TOOLS = {
    "alembic_version": "Alembic",
    "django_migrations": "Django",
    "flyway_schema_history": "Flyway",
    "goose_db_version": "goose",
    "schema_migrations": "dbmate, golang-migrate or Rails",
    "_yoyo_migration": "yoyo",
    "knex_migrations": "knex",
    "databasechangelog": "Liquibase",
    "atlas_schema_revisions": "Atlas",
}


def _other_tools_history(db: Database) -> tuple[str, str] | None:
    """A table in which another tool keeps its history (a database adopting kysera), and the tool."""
    from ...dialects.catalog import list_tables

    try:
        tables = list_tables(db)
    except Exception:  # a courtesy: status has said what it had to
        return None
    for table in tables:
        tool = _OTHER_TOOLS.get(table.lower())
        if tool is not None:
            return table, tool
    return None


def _print_status(
    out: Output, status: MigrationStatus, where: str, table: str, verbose: bool, running_now: str | None = None
) -> None:
    """``running_now``: who holds the migration lock, when a run is under way."""
    out.result(f"Database {where}, history table {table}")
    if not status.migrations:
        out.result("No migrations yet: create one with kysera migrate create NAME")
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

    out.result()
    out.result(render_table(headers, rows, styler))
    out.result()
    counts = [f"{len(status.executed)} applied", f"{len(status.pending)} pending"]
    interrupted = [m.name for m in status.migrations if m.state == "running"]
    counts += [
        f"{len(names)} {label}"
        for label, names in (
            ("changed", status.changed),
            ("missing", status.missing),
            ("failed", [name for name in status.failed if name not in interrupted]),
            ("running now" if running_now else "interrupted", interrupted),
        )
        if names
    ]
    out.result(f"{plural(len(status.migrations), 'migration')}: {', '.join(counts)}")
    # a pending file with the checksum of a missing one: the missing one renamed
    renamed = {
        info.current_checksum: info.name
        for info in status.migrations
        if info.state == "pending" and info.current_checksum
    }
    for info in status.migrations:
        if info.state == "running" and running_now:
            out.result(f"  {info.name} is running now ({running_now} holds the migration lock): let it finish")
        elif info.state in ("failed", "running"):
            resolve = f"kysera migrate resolve {info.name} --applied|--rolled-back"
            if info.state == "running" and (info.direction or "up") == "up":
                # interrupted: migrate up runs again a migration that only backfills (each batch
                # skips the rows done); anything else needs a person to look first
                advice = (
                    "if it only backfills, in a way safe to run again (docs/safety.md#backfills), kysera migrate up resumes it; "
                    f"otherwise check what it changed, then: {resolve}"
                )
            else:
                advice = f"resolve it: {resolve}"
            out.result(
                f"  {info.name} {'interrupted' if info.state == 'running' else info.state} ({info.direction or 'up'})"
                + (f": {info.error.splitlines()[0]}" if info.error else "")
                + (f"\n    on the statement: {_shorten(info.statement, 200)}" if info.statement else "")
                + f"\n    {advice}"
            )
        elif info.state == "changed":
            out.result(
                f"  {info.name} changed since it was applied; restore it, or: kysera migrate accept {info.name}"
            )
        elif info.state == "missing" and info.checksum is not None and info.checksum in renamed:
            # as migrate up says it: accepting the missing name alone would run the renamed file again
            new = renamed[info.checksum]
            out.result(
                f"  {info.name} is applied but its file is gone, and its contents are in {new}, which is pending: "
                f"was it renamed? Rename it back, or record the new name: kysera migrate accept {info.name}, "
                f"then kysera migrate mark-applied {new}"
            )
        elif info.state == "missing":
            out.result(
                f"  {info.name} is applied but its file is gone; restore it, or: kysera migrate accept {info.name}"
            )
        elif info.out_of_order:
            out.result(
                f"  {info.name} is pending but sorts before migrations already applied; rename it to sort after "
                "them, or apply it anyway: kysera migrate up --allow-out-of-order"
            )
