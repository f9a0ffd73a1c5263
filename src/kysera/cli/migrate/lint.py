"""``kysera migrate lint``: the safety analysis of pending migrations (or of given files)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..common import (
    EXIT_FAILED,
    get_state,
    global_options,
    json_option,
    work_begins,
)
from ..output import plural

if TYPE_CHECKING:
    from ...migrations import Migration


@click.command(short_help="Report what pending migrations would lock or lose.")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--dialect",
    type=click.Choice(["postgres", "postgresql", "mysql", "mariadb", "sqlite"], case_sensitive=False),
    help="Lint offline for this engine: no database, every existing table is assumed large.",
)
@click.option(
    "--all", "everything", is_flag=True, help="Lint every migration, not only the pending ones."
)
@global_options
@json_option
def lint(files: tuple[str, ...], dialect: str | None, everything: bool) -> None:
    """Report what the pending migrations (or FILES) would lock, rewrite or lose.

    Exits 1 when a finding is an error that no migration acknowledges (docs/safety.md).

    \b
    kysera migrate lint
    kysera migrate lint --dialect postgres migrations/20261128100000_add_index.py
    """
    from ...migrations import create_migration_runner, load_migrations
    from ...migrations.gate import GateReport, empty_migration_note, failure_reason, inspect_plan
    from ...safety import OfflineFacts

    state = get_state()
    # not the words for a run of migrations ("a migration that was running ... may be partly applied")
    state.interrupted = lambda: "interrupted: the lint stopped before its report; it changes nothing in the database"
    settings = state.settings()
    earlier: list[Migration] | None = []  # offline: what runs in SQLite's shadow first
    if files:
        chosen_paths = {Path(f).resolve() for f in files}
        migrations: list[Migration] = []
        folders = sorted({p.parent for p in chosen_paths})
        for folder in folders:
            everything_there = load_migrations(folder)
            picked = [i for i, m in enumerate(everything_there) if m.path is not None and m.path.resolve() in chosen_paths]
            migrations.extend(everything_there[i] for i in picked)
            # files that follow one another in one folder start from what the ones before them
            # make; otherwise what each starts from is not known offline
            contiguous = len(folders) == 1 and picked == list(range(picked[0], picked[0] + len(picked))) if picked else False
            earlier = everything_there[: picked[0]] if contiguous else None
    else:
        migrations = load_migrations(settings.directory)
    if dialect is not None:
        from .. import offline

        db = offline.offline_database(dialect)
        facts = OfflineFacts()
        shadow = offline.shadow_of(db)
        if earlier is None and shadow is not None:
            shadow.set_aside("the files are not consecutive migrations of one folder, so what each starts from is not known")
        elif earlier:
            offline.prepare_shadow(db, earlier)
    else:
        db = state.connect(read_only=True)
        facts = None
    work_begins()
    try:
        runner = create_migration_runner(
            db, migrations, table_name=settings.table, **settings.safety
        )
        applied: list[Migration] = []
        if dialect is None and not files:
            # the pending ones as migrate up runs them, after what is applied; with --all, each
            # applied one too, alone against the database as it is (judged in one plan with the
            # pending ones, the tables they created would count as new and empty)
            pending = set(runner.status().pending)
            if everything:
                applied = [m for m in migrations if m.name not in pending]
            migrations = [m for m in migrations if m.name in pending]
        report = GateReport()
        for migration in applied:
            report.add(inspect_plan(runner, [(migration, "up")], True, facts))
        report.add(inspect_plan(runner, [(m, "up") for m in migrations], True, facts))
        migrations = applied + migrations
        # as migrate up judges them: with safety = "auto", what it rewrites safely is no error
        report.findings = runner.with_fixes(report.findings)
    finally:
        db.close()
    # what this engine cannot do at all, and code that fails whatever runs before it (a builder
    # used wrongly, an exception its code raises without reading anything), fail the real run
    # too: errors here. What fails for want of what earlier migrations create is only "not
    # analysed" (offline: a change that needs the catalog).
    cannot = report.cannot_run(raised=True)
    unanalysed = [name for name in report.unanalysed if name not in cannot]
    errors = report.errors
    out = state.out
    if out.json_mode:
        out.json(
            {
                "ok": not errors and not cannot,
                "migrations": [m.name for m in migrations],
                "findings": [f.to_dict() for f in report.findings],
                "errors": len(errors) + len(cannot),
                "cannot_run": {name: failure_reason(exc) for name, exc in cannot.items()},
                "unanalysed": unanalysed,
                "unanalysed_because": {name: failure_reason(report.why[name]) for name in unanalysed if name in report.why},
                "empty": report.empty,
            }
        )
    else:
        shown = [f for f in report.findings if f.severity.value != "info" or out.verbose]
        for finding in shown:  # what lint was asked for: with -q too, as status's table
            out.result(finding.render())
            out.result()
        later = "kysera migrate up judges it right before it runs"
        if db.dialect.rehearses_dry_runs and dialect is None:
            later += " (kysera migrate up --dry-run shows its findings now)"
        for name, exc in cannot.items():
            out.result(f"ERROR {name} cannot run on {db.dialect.display_name}: {failure_reason(exc)}")
            out.result()
        for name in unanalysed:
            why = report.why.get(name)
            out.warn(
                f"{name} could not be analysed without running what comes before it: it reads the "
                f"database, or what an earlier migration creates"
                + (f" ({failure_reason(why).splitlines()[0]})" if why is not None else "") + f"; {later}"
            )
        by_name = {m.name: m for m in migrations}
        for name in report.empty:
            out.warn(empty_migration_note(by_name[name]))
        warnings = len(report.empty) + sum(
            1 for f in report.findings if f.severity.value == "warning" and not f.suppressed
        )
        allowed = sum(1 for f in report.findings if f.suppressed)
        checked = len(migrations) - len(unanalysed)
        out.line(
            f"{plural(checked, 'migration')} checked: {plural(len(errors) + len(cannot), 'error')}, "
            f"{plural(warnings, 'warning')}" + (f", {allowed} allowed" if allowed else "")
            + (f"; {len(unanalysed)} not analysed (above)" if unanalysed else "")
        )
    if errors or cannot:
        raise SystemExit(EXIT_FAILED)
