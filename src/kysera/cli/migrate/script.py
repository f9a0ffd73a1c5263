"""``kysera migrate sql``: the SQL script of migrations, compiled offline."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..common import (
    State,
    get_state,
    global_options,
    work_begins,
)

if TYPE_CHECKING:
    pass


@click.command("sql", short_help="Print the migrations' SQL script, offline.")
@click.option(
    "--dialect",
    type=click.Choice(["postgres", "postgresql", "mysql", "mariadb", "sqlite"], case_sensitive=False),
    help="Engine to write SQL for (default: the configured database URL's engine).",
)
@click.option(
    "--from",
    "from_name",
    metavar="NAME",
    help="Up: the migration already applied (excluded). Down: the newest to roll back.",
)
@click.option(
    "--to",
    "to_name",
    metavar="NAME",
    help="Up: the last migration to apply. Down: the migration that stays applied (excluded).",
)
@click.option("--down", is_flag=True, help="Write the rollback script, newest first.")
@click.option(
    "--no-history", is_flag=True, help="Leave out the statements that update the history table."
)
@click.option(
    "--safety",
    type=click.Choice(["error", "warn", "off", "auto"]),
    help="Safety mode the script follows (default: [safety] mode, else error); off leaves out "
    "MySQL's automatic ALGORITHM=/LOCK= clauses.",
)
@global_options
def sql(
    dialect: str | None,
    from_name: str | None,
    to_name: str | None,
    down: bool,
    no_history: bool,
    safety: str | None,
) -> None:
    """Print the SQL script of migrations, compiled offline (no database needed).

    \b
    kysera migrate sql --dialect postgres > migrate.sql
    kysera migrate sql --from 20260101000000_a --to 20260301000000_c
    kysera migrate sql --down --to 20260101000000_a
    """
    from ...migrations import load_migrations
    from .. import offline
    from .session import full_name, print_findings

    work_begins()  # a long run: the collector back on
    state = get_state()
    # stdout is the script (`kysera --json migrate sql > deploy.sql`): an error document goes to stderr
    state.out.json_to_stderr = True
    state.interrupted = lambda: "interrupted: the script was not written (migrate sql contacts no database)"
    settings = state.settings()
    if dialect is None:
        dialect = _configured_dialect(state)
    migrations = load_migrations(settings.directory)
    known = [m.name for m in migrations]
    from_name = None if from_name is None else full_name(from_name, known)
    to_name = None if to_name is None else full_name(to_name, known)
    chosen = offline.select_range(migrations, from_name, to_name, down)
    db = offline.offline_database(dialect)
    try:
        table = None if no_history else settings.table
        mode = safety or settings.safety.get("safety", "error")
        allow = frozenset(settings.safety.get("safety_allow", ()))
        # SQLite: the scratch database starts where the script does
        offline.prepare_shadow(db, offline.earlier_migrations(migrations, chosen, down))
        parts = offline.compile_parts(db, chosen, down, table, mode, allow)
        setup = offline.history_setup(db, table) if table is not None and not down and parts else []
        # what migrate up's gate would say, on stderr and, for what it would refuse, in the script
        findings = offline.script_findings(db, parts, allow) if not down and mode != "off" else []
    finally:
        db.close()
    print_findings(state.out, findings)
    state.out.raw(offline.render_script(db, parts, down, setup, table, findings))


def _configured_dialect(state: State) -> str:
    import os

    from ...config import URL_VARIABLES, resolve_url
    from ...errors import ConfigurationError

    settings = state.settings()
    if not (state.url or settings.url or any(os.environ.get(v) for v in URL_VARIABLES)):
        raise ConfigurationError(
            "no database URL is configured to take the engine from; pass --dialect postgres, mysql or sqlite"
        )
    url = resolve_url(settings, state.url).url
    # a mariadb:// URL is MariaDB's SQL (sequences, its own online DDL), not MySQL 8.0's
    return "mariadb" if url.scheme.partition("+")[0] == "mariadb" else url.dialect
