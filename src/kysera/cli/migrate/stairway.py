"""``kysera migrate test``: the stairway test on a scratch database."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..common import (
    EXIT_FAILED,
    get_state,
    global_options,
    json_option,
    work_begins,
)

if TYPE_CHECKING:
    from ...url import DatabaseUrl


@click.command("test", short_help="Run each migration up, down and up again.")
@global_options
@json_option
def test_command() -> None:
    """The stairway test: each migration up, down, up again, on a scratch database.

    After each down the schema must be what it was before that migration's up; differences
    are listed. The scratch database is made next to the configured server (or is a temporary
    SQLite file) and dropped afterwards; the configured database itself is not touched.
    """
    import os

    from ...config import URL_VARIABLES, resolve_url
    from ...testing.stairway import check_migrations

    work_begins()  # a long run: the collector back on
    state = get_state()
    # Ctrl-C: the migrations ran on a scratch database, dropped as the check ends
    state.interrupted = lambda: (
        "interrupted: the stairway check stopped; its scratch database is dropped, and the configured database "
        "was never touched"
    )
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
                "not_reached": report.not_reached,
                "problems": [
                    {"migration": p.migration, "kind": p.kind, "details": list(p.details)}
                    for p in report.problems
                ],
            }
        )
    elif report.ok:
        out.line(report.render())
    else:
        out.result(report.render())  # what failed, with -q too: exit 1 alone would not say
    if not report.ok:
        raise SystemExit(EXIT_FAILED)
