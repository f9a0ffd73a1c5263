"""``kysera migrate resolve``, ``accept`` and ``mark-applied``: put the history right."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..common import (
    get_state,
    global_options,
    json_option,
)
from ..output import plural
from .session import Session, check_exclusive

if TYPE_CHECKING:
    pass


@click.command(short_help="Settle a migration that failed part-way.")
@click.argument("name")
@click.option("--applied", is_flag=True, help="Its changes are in place: record it as applied.")
@click.option("--rolled-back", is_flag=True, help="Its changes are not there: record it as not applied.")
@global_options
@json_option
def resolve(name: str, applied: bool, rolled_back: bool) -> None:
    """Settle a migration that failed part-way (outside a transaction).

    Check the database first, then say what is true: --applied when its changes are in place
    (you finished them by hand), --rolled-back when they are not (you undid them). --rolled-back
    also takes an applied migration whose changes are not in the database (its up ran no
    statement: a builder without .execute(), fixed since): the next up runs it.
    """
    if applied == rolled_back:
        raise click.UsageError(
            "say what is true of the database: --applied or --rolled-back"
            + (", not both" if applied else "")
        )
    state = get_state()
    with Session(state) as session:
        name = session.full_name(name, history=True)
        session.runner.resolve(name, applied)
    if state.out.json_mode:
        state.out.json(
            {"ok": True, "name": name, "resolved_as": "applied" if applied else "rolled-back"}
        )
    else:
        state.out.line(f"Resolved {name}: recorded as {'applied' if applied else 'not applied'}.")


@click.command(short_help="Accept an applied migration that was edited or deleted.")
@click.argument("name")
@global_options
@json_option
def accept(name: str) -> None:
    """Accept an applied migration whose file changed (records its new checksum), or whose
    file is gone (forgets it; its changes stay in the database)."""
    state = get_state()
    with Session(state) as session:
        name = session.full_name(name, history=True)
        what = session.runner.accept(name)
    if state.out.json_mode:
        state.out.json({"ok": True, "name": name, "accepted": what})
    elif what == "changed":
        state.out.line(f"Accepted the new version of {name}.")
    else:
        state.out.line(f"Removed {name} from the history (its file is gone; its changes stay).")


@click.command("mark-applied", short_help="Record migrations as applied without running them.")
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.option("--all", "everything", is_flag=True, help="Mark every pending migration.")
@click.option(
    "--to", "target", metavar="NAME", help="Mark every pending migration up to and including NAME."
)
@global_options
@json_option
def mark_applied(names: tuple[str, ...], everything: bool, target: str | None) -> None:
    """Record migrations as applied without running them (baseline an existing database)."""
    check_exclusive(NAMES=bool(names) or None, all=everything, to=target)
    if not (names or everything or target):
        raise click.UsageError("name the migrations to mark, or pass --all or --to NAME")
    state = get_state()
    with Session(state) as session:
        runner = session.runner
        if everything:
            marked = runner.mark_applied("all")
        elif target:
            known = [m.name for m in session.migrations]
            target = session.full_name(target)
            if target not in known:
                runner.mark_applied([target])  # raises the runner's "unknown migration" error
            marked = runner.mark_applied(known[: known.index(target) + 1])
        else:
            marked = runner.mark_applied([session.full_name(n) for n in names])
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
