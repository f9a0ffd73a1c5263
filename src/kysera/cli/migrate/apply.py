"""``kysera migrate up``, ``down``, ``redo``, ``reset`` and ``fresh``: the commands that run migrations."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from ..common import (
    confirm_or_refuse,
    get_state,
    global_options,
    json_option,
)
from ..output import format_duration, plural
from .session import (
    Session,
    check_exclusive,
    dry_run_option,
    print_dry_run,
    print_findings,
    print_summary,
    steps_option,
    yes_option,
)

if TYPE_CHECKING:
    from ...database import Database
    from ...dialects.catalog import SchemaObject


def safety_options(command: Callable[..., None]) -> Callable[..., None]:
    """--allow-unsafe and --safety, for the commands that apply migrations."""
    command = click.option(
        "--safety",
        type=click.Choice(["error", "warn", "off", "auto"]),
        help="Safety mode (default: [safety] mode, else error); auto runs safe recipes instead of refusing.",
    )(command)
    return click.option(
        "--allow-unsafe",
        is_flag=True,
        help="Run even when the safety analysis finds an unsafe change (the findings are printed).",
    )(command)


@click.command(short_help="Apply pending migrations, after the safety check.")
@steps_option(None, "Apply only the next N pending migrations.")
@click.option(
    "--to", "target", metavar="NAME", help="Apply pending migrations up to and including NAME."
)
@dry_run_option
@click.option(
    "--backup",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="First dump the database into DIR (when something is pending).",
)
@safety_options
@click.option(
    "--allow-out-of-order",
    is_flag=True,
    help="Also run pending migrations that sort before applied ones (a branch merged late).",
)
@global_options
@json_option
def up(
    steps: int | None,
    target: str | None,
    dry_run: bool,
    backup: str | None,
    allow_unsafe: bool,
    safety: str | None,
    allow_out_of_order: bool,
) -> None:
    """Apply pending migrations (all of them by default), after checking they are safe."""
    check_exclusive(steps=steps, to=target)
    state = get_state()
    mode = "warn" if allow_unsafe else safety
    with Session(
        state, read_only=dry_run, safety=mode, applies=True, allow_out_of_order=allow_out_of_order
    ) as session:
        runner = session.runner
        if target:
            target = session.full_name(target)
        if dry_run:
            result = (
                runner.up_to(target, dry_run=True) if target else runner.up(steps, dry_run=True)
            )
            print_findings(state.out, result.findings)
            print_dry_run(state.out, result, f"{target} is applied already" if target else "no pending migrations", mysql_client=session.mysql)
            return
        written = _backup(session, backup) if backup else None
        result = runner.up_to(target) if target else runner.up(steps)
        nothing = f"{target} is applied already" if target else "no pending migrations"
        # with --backup, the JSON document says where the backup went (null: none was needed)
        extra: dict[str, object] | None = {"backup": written} if backup else None
        print_summary(state.out, result, "Applied", f"Nothing to apply: {nothing}.", extra=extra)


def _backup(session: Session, folder: str) -> str | None:
    """Dump the database into ``folder`` when something is pending, under the migration lock: a
    deploy running at the same time finishes first (its migrations, waiting on the dump's
    locks, could deadlock with it), and then what it applied is no longer pending. The backup's
    path, or None when nothing was pending."""
    import contextlib
    import datetime
    import os

    from ..db import write_dump

    with session.runner.holding_lock():
        if not session.runner.status().pending:
            session.out.detail("no pending migrations: no backup taken")
            return None
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d%H%M%S")
        try:
            os.makedirs(folder, exist_ok=True)
            path = _new_file(os.path.join(folder, f"backup-{stamp}"), ".sql")
        except OSError as exc:  # the file system's answer (no permission, read-only): not a crash
            from ...errors import KyseraError

            raise KyseraError(
                f"cannot write the backup into {folder}: {exc.strerror or exc}; no migration ran. "
                "Give --backup a folder this user can write to"
            ) from None
        from ...dump import DumpError

        try:
            try:
                result = write_dump(session.db, path, history_table=session.settings.table)
            except DumpError as exc:
                # what the dump cannot hold (a partitioned table ...): its "dump with --native"
                # names an option of db dump, which migrate up does not have
                raise DumpError(
                    f"cannot take the backup: {exc}; no migration ran. Back up with kysera db dump --native "
                    "-o FILE (or the engine's own tool), then run kysera migrate up without --backup"
                ) from None
        except BaseException:
            with contextlib.suppress(OSError):
                if os.path.getsize(path) == 0:  # the name it had taken, still empty (not a dump that
                    os.unlink(path)  # was written whole before Ctrl-C or SIGTERM came)
            raise
    for note in result.notes:  # what the backup does not hold (functions, triggers, other schemas ...)
        session.out.warn(f"backup: {note}")
    session.out.note(f"backup of {plural(len(result.tables), 'table')} written to {path}")
    return path


def _new_file(stem: str, suffix: str) -> str:
    """Create, empty, the first of ``stem + suffix``, ``stem-2 + suffix``... that does not exist
    yet, and return its path: two runs in the same second (or two databases backed up into one
    folder) never write over each other's backup."""
    import os

    for n in range(1, 10_000):
        path = f"{stem}{suffix}" if n == 1 else f"{stem}-{n}{suffix}"
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"{stem}{suffix} and 9,998 numbered variants exist already")


@click.command(short_help="Roll back applied migrations (the last one by default).")
@steps_option(None, "Roll back the last N applied migrations (default 1).")
@click.option(
    "--to",
    "target",
    metavar="NAME",
    help="Roll back every migration applied after NAME (NAME stays).",
)
@click.option("--all", "everything", is_flag=True, help="Roll back every applied migration.")
@dry_run_option
@yes_option
@global_options
@json_option
def down(steps: int | None, target: str | None, everything: bool, dry_run: bool, yes: bool) -> None:
    """Roll back applied migrations, newest first (the last one by default)."""
    check_exclusive(steps=steps, to=target, all=everything)
    state = get_state()
    with Session(state, read_only=dry_run) as session:
        runner = session.runner
        if target:
            target = session.full_name(target, history=True)
        if dry_run:
            if everything:
                result = runner.reset(dry_run=True)
            elif target:
                result = runner.down_to(target, dry_run=True)
            else:
                result = runner.down(steps or 1, dry_run=True)
            print_dry_run(state.out, result, _none_to_roll_back(target), mysql_client=session.mysql)
            return
        if everything:
            _confirm_rollback_all(session, yes, "roll back every applied migration")
            result = runner.reset()
        elif target:
            result = runner.down_to(target)
        else:
            if steps is not None and steps > 1 and sys.stdin.isatty():
                # --steps 50 typed for --steps 5 would roll everything back: asked on a terminal.
                # A script gave its number on purpose, and only --all, reset and fresh need --yes
                applied = runner.status().executed
                if len(applied) > 1 and steps >= len(applied):
                    where = session.db.url.redacted()
                    confirm_or_refuse(
                        f"roll back every applied migration ({plural(len(applied), 'migration')}; --steps {steps}) on {where}",
                        yes,
                        session.out,
                    )
            result = runner.down(steps or 1)
        print_summary(state.out, result, "Rolled back", f"Nothing to roll back: {_none_to_roll_back(target)}.")


def _none_to_roll_back(target: str | None) -> str:
    return f"no migration was applied after {target}" if target else "no applied migrations"


def _confirm_rollback_all(session: Session, yes: bool, what: str) -> None:
    applied = session.runner.status().executed
    if not applied:
        return  # nothing to lose: no question to ask
    where = session.db.url.redacted()
    confirm_or_refuse(f"{what} ({plural(len(applied), 'migration')}) on {where}", yes, session.out)


@click.command(short_help="Roll back the last migration and apply it again.")
@dry_run_option
@safety_options
@global_options
@json_option
def redo(dry_run: bool, allow_unsafe: bool, safety: str | None) -> None:
    """Roll back the last applied migration and apply it again, after checking it is safe."""
    state = get_state()
    with Session(state, read_only=dry_run, applies=True, safety="warn" if allow_unsafe else safety) as session:
        result = session.runner.redo(dry_run=dry_run)
        if dry_run:
            print_findings(state.out, result.findings)  # its verdict says "see above", as up's does
            print_dry_run(state.out, result, "no applied migrations", mysql_client=session.mysql)
            return
        if state.out.json_mode:
            state.out.json({"ok": True, **result.as_dict()})
        elif not result.executed:
            state.out.line("Nothing to redo: no applied migrations.")
        else:
            state.out.line(f"Redid {result.executed[0]} in {format_duration(result.duration)}.")


@click.command(short_help="Roll back every applied migration.")
@dry_run_option
@yes_option
@global_options
@json_option
def reset(dry_run: bool, yes: bool) -> None:
    """Roll back every applied migration."""
    state = get_state()
    with Session(state, read_only=dry_run) as session:
        if dry_run:
            print_dry_run(state.out, session.runner.reset(dry_run=True), "no applied migrations", mysql_client=session.mysql)
            return
        _confirm_rollback_all(session, yes, "roll back every applied migration")
        result = session.runner.reset()
        print_summary(
            state.out, result, "Rolled back", "Nothing to roll back: no applied migrations."
        )


@click.command(short_help="Drop everything in the schema, then apply all.")
@yes_option
@safety_options
@global_options
@json_option
def fresh(yes: bool, allow_unsafe: bool, safety: str | None) -> None:
    """Drop every table, view, sequence, type and routine of the database's current schema (not
    only kysera's), then apply every migration."""
    state = get_state()
    out = state.out
    with Session(state, applies=True, safety="warn" if allow_unsafe else safety) as session:
        db = session.db
        _refuse_outside_dependents(db)
        tables, others = _droppable(session)
        if tables or others:
            confirm_or_refuse(_drop_what(db, tables, others), yes, out)
        # The list is read again under the migration lock: a run that held it meanwhile may have
        # made more, which the migrations would then find in their way.
        tables, others = _drop_everything(session, tables, others, yes)
        if tables or others:
            out.line(f"Dropped {_and(_counts(tables, others))}.")
        result = session.runner.up()
        print_summary(out, result, "Applied", "Nothing to apply: there are no migrations.")


def _refuse_outside_dependents(db: Database) -> None:
    from ...dialects.catalog import outside_dependents
    from ...errors import KyseraError

    outside = outside_dependents(db)
    if outside:
        raise KyseraError(
            "fresh drops this schema's objects with CASCADE, which would also drop what other schemas "
            f"build on them: {'; '.join(outside)}. Drop or change those first; nothing was dropped"
        )


def _droppable(session: Session) -> tuple[list[str], list[SchemaObject]]:
    """What fresh drops: the tables of the current schema (and kysera's history table when it is
    kept in another one), and the other objects there."""
    from ...dialects.catalog import list_tables, objects_besides_tables

    db = session.db
    tables = list_tables(db)
    history = session.runner.history
    if history.node.schema and history.node.schema != _current_schema(db) and history.exists():
        tables.append(history.shown)  # kysera's own table, kept in another schema: it goes too
    return tables, objects_besides_tables(db)


def _counts(tables: list[str], others: list[SchemaObject]) -> list[str]:
    counts = [plural(len(tables), "table")] if tables else []
    for kind in dict.fromkeys(o.kind for o in others):
        counts.append(plural(sum(o.kind == kind for o in others), kind))
    return counts


def _drop_what(db: Database, tables: list[str], others: list[SchemaObject]) -> str:
    names = [*tables, *(o.name for o in others)]
    return f"DROP all {_and(_counts(tables, others))} of {db.url.redacted()} ({_short_list(names)})"


def _current_schema(db: Database) -> str | None:
    query = {"postgres": "SELECT current_schema() AS s", "mysql": "SELECT DATABASE() AS s"}.get(db.dialect.name)
    return str(db.fetch(query)[0]["s"]) if query else "main"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _short_list(names: list[str], limit: int = 6) -> str:
    return (
        ", ".join(names)
        if len(names) <= limit
        else ", ".join(names[:limit]) + f", ... ({len(names) - limit} more)"
    )


def _drop_everything(
    session: Session, tables: list[str], others: list[SchemaObject], yes: bool
) -> tuple[list[str], list[SchemaObject]]:
    """Under the migration lock, read again what there is to drop and drop it: kysera's history
    table, views and routines, then the tables (where foreign keys decide their order, retried), then sequences
    and types. ``tables`` and ``others`` are what the user agreed to drop; what another run made
    while fresh waited for the lock goes too (with a note), or, when nothing was there to agree
    to, is asked about first. Returns what was dropped."""
    from ...errors import StatementError, UnsupportedError

    db = session.db
    out = session.out
    last = ("sequence", "type", "domain")  # what tables' columns may use: after the tables

    def drop(objects: list[SchemaObject]) -> None:
        for obj in objects:
            db.execute(obj.drop)
            session.out.detail(f"dropped {obj.kind} {obj.name}")

    def drop_table(table: str) -> StatementError | None:
        builder = db.schema.drop_table(table).if_exists()
        try:
            statement = builder.cascade().compile()
        except UnsupportedError:
            statement = builder.compile()
        try:
            db.run_compiled(statement)
        except StatementError as exc:  # referenced by a table not dropped yet
            return exc
        session.out.detail(f"dropped {table}")
        return None

    with session.runner.holding_lock():
        agreed = {*tables, *(o.name for o in others)}
        _refuse_outside_dependents(db)
        tables, others = _droppable(session)
        made = [name for name in (*tables, *(o.name for o in others)) if name not in agreed]
        if made and not agreed:
            confirm_or_refuse(_drop_what(db, tables, others), yes, out)
        elif made:
            out.note(
                f"while fresh waited for the migration lock, another run made {_short_list(made)}: dropped too"
            )
        # kysera's history before anything else: a fresh cut off part-way (killed, a lost
        # connection) must not leave it saying that migrations are applied whose tables it dropped
        history = session.runner.history
        remaining = [t for t in tables if t not in (history.shown, history.node.name)]
        for table in [t for t in tables if t not in remaining]:
            failed = drop_table(table)
            if failed is not None:
                raise failed
        drop([o for o in others if o.kind not in last])
        while remaining:
            failures: list[StatementError] = []
            for table in list(remaining):
                failed = drop_table(table)
                if failed is None:
                    remaining.remove(table)
                else:
                    failures.append(failed)
            if failures and len(failures) == len(remaining):
                raise failures[0]
        drop([o for o in others if o.kind in last])
    return tables, others
