"""``kysera migrate sql``: the SQL script of a range of migrations, compiled without a database.

The migrations run against a :class:`~kysera.Database` whose connection refuses to run anything,
inside :meth:`Database.capture`, so every statement they build is recorded instead of sent.
A migration that needs to *read* the database (``db.fetch``, ``db.table_exists``, a SQLite
``ALTER`` that rebuilds the table from its current definition) cannot be compiled offline: that is
reported with the migration's name, and ``kysera migrate up --dry-run`` against the database is
the way to see its SQL.

The script records the migrations in the history table too (``CREATE TABLE IF NOT EXISTS`` and one
``INSERT`` per migration, or a ``DELETE`` for ``--down``), so that kysera sees them as applied
once a DBA has run it; ``--no-history`` leaves that out.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import KyseraError

if TYPE_CHECKING:
    from ..database import Database
    from ..migrations import Direction, Migration
    from ..nodes import CompiledStatement


class OfflineError(KyseraError):
    """A migration asked the database something while it was compiled offline."""

    exit_code = 2


#: where to see the SQL of a migration that reads the database: against the database, for its direction
_SEE_UP = "Run kysera migrate up --dry-run (or migrate lint) against the database to see this migration's SQL"
_SEE_DOWN = (
    "Run kysera migrate down --dry-run (with --steps N or --to NAME) against the database to see this "
    "migration's rollback SQL"
)


class OfflineConnection:
    """A driver connection that refuses to run anything: there is no database behind it."""

    def __init__(self, dialect_name: str) -> None:
        self.dialect_name = dialect_name

    def run(self, sql: str, params: Sequence[object] | None) -> tuple[list[dict[str, object]], int]:
        raise OfflineError(
            f"it reads from the database ({_first_line(sql)}), which cannot be done offline "
            f"(kysera migrate sql and migrate lint --dialect work without a connection). {_SEE_UP}"
        )

    def close(self) -> None:
        pass

    def server_version(self) -> tuple[int, ...]:
        return ()

    def server_version_text(self) -> str:
        return f"offline {self.dialect_name}"

    def is_connection_error(self, error: BaseException) -> bool:
        return False

    def session_id(self) -> int | None:
        return None  # no server


def offline_database(dialect_name: str) -> Database:
    from ..database import Database
    from ..dialects import offline_dialect
    from ..url import DatabaseUrl

    dialect = offline_dialect(dialect_name)
    return Database(OfflineConnection(dialect.name), dialect, DatabaseUrl("offline", dialect.name, database="offline"))


@dataclass
class ScriptPart:
    migration: Migration
    statements: list[CompiledStatement]
    transaction: bool
    history: list[CompiledStatement]


def select_range(
    migrations: list[Migration], from_name: str | None, to_name: str | None, down: bool
) -> list[Migration]:
    """The migrations a script covers, in the order they run.

    Up: after ``--from A`` (the migration already applied; default: none) up to and including
    ``--to B`` (default: the last). Down: from ``--from A`` (the newest applied, included; default:
    the last) back to ``--to B`` (the one that stays applied, excluded; default: none), newest first.
    """
    from ..errors import ConfigurationError
    from ..migrations import UnknownMigrationError
    from ..migrations.errors import unknown_migration_message

    names = [m.name for m in migrations]

    def index(name: str | None, default: int) -> int:
        if name is None:
            return default
        if name not in names:
            raise UnknownMigrationError(unknown_migration_message(name, names), name)
        return names.index(name)

    if down:
        start, stop = index(to_name, -1), index(from_name, len(names) - 1)
    else:
        start, stop = index(from_name, -1), index(to_name, len(names) - 1)
    if start > stop:
        if down:
            raise ConfigurationError(
                f"--to {to_name} comes after --from {from_name}; a rollback goes from the newer "
                "migration (--from) back to the older one (--to)"
            )
        raise ConfigurationError(f"--from {from_name} comes after --to {to_name}; swap them, or add --down")
    chosen = migrations[start + 1 : stop + 1]
    return list(reversed(chosen)) if down else chosen


def compile_parts(
    db: Database,
    migrations: list[Migration],
    down: bool,
    table: str | None,
    safety: str = "error",
    allow: frozenset[str] = frozenset(),
) -> list[ScriptPart]:
    """Run each migration's up (or down) against ``db`` while capturing its statements.

    As ``kysera migrate up`` would with ``safety`` (and the codes in ``allow`` acknowledged),
    MySQL/MariaDB DDL gets the ``ALGORITHM=``/``LOCK=`` clause of its online form; offline,
    every table counts as a plain one (no FULLTEXT index, not compressed).
    """
    from ..dialects.mysql_online import online_clauses
    from ..migrations import IrreversibleMigrationError

    direction: Direction = "down" if down else "up"
    history = None
    if table is not None:
        from ..migrations.history import HistoryTable

        history = HistoryTable(db, table)
    parts: list[ScriptPart] = []
    with db.planning():  # MySQL restates a column an earlier migration makes from that migration
        for migration in migrations:
            fn = migration.function(direction)
            if fn is None:
                raise IrreversibleMigrationError(
                    f"cannot write the rollback of {migration.name}: it has no down migration", migration.name
                )
            in_tx = migration.uses_transaction(direction)
            try:
                with online_clauses(db, safety, migration.allow_unsafe | allow, live=False):
                    captured = migration.capture(db, direction, in_transaction=in_tx)
            except OfflineError as exc:
                reason = str(exc).replace(_SEE_UP, _SEE_DOWN) if down else str(exc)
                raise OfflineError(f"migration {migration.name} ({direction}) cannot be compiled offline: {reason}") from None
            if in_tx and any(not s.transactional for s in captured):
                in_tx = False  # CREATE INDEX CONCURRENTLY and the like: migrate up runs it outside one too
            recorded: list[CompiledStatement] = []
            if history is not None:
                with db.capture() as bookkeeping:
                    if down:
                        history.delete(migration.name)
                    else:
                        history.insert(
                            migration.name, checksum=migration.checksum, state="applied", batch=history.next_batch(not parts)
                        )
                recorded = list(bookkeeping)
            parts.append(ScriptPart(migration, list(captured), in_tx, recorded))
    return parts


def history_setup(db: Database, table: str) -> list[CompiledStatement]:
    from ..migrations.history import HistoryTable

    with db.capture() as captured:
        HistoryTable(db, table).create()
    return list(captured)


def render_script(
    db: Database, parts: list[ScriptPart], down: bool, setup: list[CompiledStatement], table: str | None
) -> str:
    direction = "down" if down else "up"
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    lines = [
        f"-- kysera migrate sql: {len(parts)} migration{'s' if len(parts) != 1 else ''} ({direction}) "
        f"for {db.dialect.display_name}, written {stamp} UTC",
    ]
    if table is None:
        lines.append(
            "-- The history table is not updated (--no-history): "
            + ("remove the migrations from it by hand." if down else "record them with kysera migrate mark-applied.")
        )
    else:
        lines.append(f"-- Each migration also {'removes its row from' if down else 'records itself in'} the history table {table}.")
    if db.dialect.name == "postgres":
        # psql goes on after a failed statement by default: a migration that runs outside a
        # transaction would then be recorded in the history although it failed
        lines += ["-- For psql; it stops at the first error.", "\\set ON_ERROR_STOP on"]
    elif db.dialect.name == "sqlite":
        # the sqlite3 shell also goes on after an error, and the COMMIT then keeps half a migration
        lines += ["-- For the sqlite3 shell; it stops at the first error.", ".bail on"]
    else:
        # the client's own character set (utf8mb3 for the stock mariadb client) would refuse
        # what migrate up stores over utf8mb4
        lines += ["SET NAMES utf8mb4;"]
    transactional = db.dialect.transactional_ddl
    if not transactional:
        lines.append(f"-- {db.dialect.display_name} commits each DDL statement at once: a failure part-way leaves the earlier ones applied.")
    if any(getattr(s.node, "online_auto", False) for part in parts for s in part.statements):
        lines.append(
            "-- ALGORITHM=/LOCK= clauses (added as kysera migrate up adds them) hold each change to its online form,"
            " assuming plain tables: the server refuses a change it would have to copy or block the table for."
        )
    from ..compiled import script_statement

    mysql = db.dialect.name == "mysql"
    if setup:
        lines += ["", "-- history table"] + [script_statement(s, mysql) for s in setup]
    for part in parts:
        lines += ["", f"-- {part.migration.name} ({direction})" + ("" if part.transaction else " outside a transaction")]
        body = [script_statement(s, mysql) for s in part.statements + part.history]
        if not part.statements:
            lines.append("-- (no statements)")
        if part.transaction and transactional:
            lines += ["BEGIN;", *body, "COMMIT;"]
        else:
            lines += body
    return "\n".join(lines) + "\n"


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else text
    return line if len(line) <= 100 else line[:97] + "..."
