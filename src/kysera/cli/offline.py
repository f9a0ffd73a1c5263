"""``kysera migrate sql``: the SQL script of a range of migrations, compiled without a database.

The migrations run against a :class:`~kysera.Database` whose connection refuses to run anything,
inside :meth:`Database.capture`, so every statement they build is recorded instead of sent.
A migration that needs to *read* the database (``db.fetch``, ``db.table_exists``) cannot be
compiled offline: that is reported with the migration's name, and ``kysera migrate up --dry-run``
against the database is the way to see its SQL. A SQLite ``ALTER`` that rebuilds the table from its
current definition reads it from a :class:`Shadow`: a scratch in-memory SQLite database in which
the migrations before it ran.

The script records the migrations in the history table too (``CREATE TABLE IF NOT EXISTS`` and one
``INSERT`` per migration, or a ``DELETE`` for ``--down``), so that kysera sees them as applied
once a DBA has run it; ``--no-history`` leaves that out.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import KyseraError

if TYPE_CHECKING:
    from ..database import Database
    from ..dialects.base import Dialect, Row
    from ..migrations import Direction, Migration
    from ..nodes import CompiledStatement, IdentifierNode
    from ..planned_schema import PlannedColumn
    from ..safety import Finding


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

    def __init__(self, dialect_name: str, shadow: Shadow | None = None) -> None:
        self.dialect_name = dialect_name
        #: SQLite's scratch database, where the compiler reads tables' definitions
        self.shadow = shadow

    def run(self, sql: str, params: Sequence[object] | None) -> tuple[list[dict[str, object]], int]:
        if self.shadow is not None:
            # what the migration does next may depend on the answer it did not get
            self.shadow.set_aside(f"its code reads the database ({_first_line(sql)})")
        raise OfflineError(
            f"it reads from the database ({_first_line(sql)}), which cannot be done offline "
            f"(kysera migrate sql and migrate lint --dialect work without a connection). {_SEE_UP}"
        )

    def close(self) -> None:
        if self.shadow is not None:
            self.shadow.close()

    def server_version(self) -> tuple[int, ...]:
        return ()

    def server_version_text(self) -> str:
        return f"offline {self.dialect_name}"

    def is_connection_error(self, error: BaseException) -> bool:
        return False

    def session_id(self) -> int | None:
        return None  # no server


class Shadow:
    """SQLite, offline: a scratch in-memory database that holds the schema the migrations make.

    What SQLite does by rebuilding a table (``alter_column``, ``drop_constraint``,
    ``add_foreign_key_constraint``, a UNIQUE column added ...) is compiled from the table's current
    definition, which ``migrate up`` reads from the database. Offline there is none, but SQLite is
    embedded: each statement the offline Database records (a migration's, as ``kysera migrate sql``
    or ``migrate lint --dialect sqlite`` compile it) also runs here, in order, in one transaction
    that is never committed, and the compiler reads tables' definitions here (the dialect's
    ``catalog``). The migrations' own code still reads nothing: these tables hold what the
    migrations made, not the rows of the database the script is for.

    Once it may no longer hold what the migrations make (a statement fails here: a table made
    outside the migrations, SQL this SQLite refuses; or a migration's code read the database or
    failed part-way), it is set aside: what needs it cannot be compiled then, and :attr:`lost`
    says why.
    """

    def __init__(self, dialect: Dialect) -> None:
        from ..database import connect

        self._dialect = dialect
        self.db = connect("sqlite:///:memory:")
        self.db.transaction().__enter__()  # rolled back with the connection: nothing is kept
        #: why it was set aside; None while it holds what the migrations make
        self.lost: str | None = None
        #: the migration whose statements run now, for :attr:`lost` ("" when unknown)
        self.current = ""
        self._paused = False
        dialect.catalog = self

    # the compiler's Reader
    def fetch(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        return self.db.fetch(sql, params)

    def planned_column(self, table: IdentifierNode, column: str) -> PlannedColumn | None:
        return None

    def planned_index_table(self, index: IdentifierNode) -> tuple[bool, IdentifierNode | None]:
        return False, None

    def run(self, statement: CompiledStatement) -> None:
        """The offline Database's listener: run ``statement`` here too, as it is recorded."""
        from ..errors import StatementError, driver_reason
        from ..nodes import replace

        if self._paused or self.lost is not None or statement.reads:
            return
        try:
            self.db.execute(statement if statement.transactional else replace(statement, transactional=True))
        except StatementError as exc:
            text = str(exc.cause).lower()
            if "within a transaction" in text or "inside a transaction" in text:
                return  # VACUUM, a journal mode: they change no table (as a dry run's rehearsal)
            self.set_aside(f"{_first_line(statement.sql)} failed there: {driver_reason(exc.cause)}")
        except KyseraError as exc:
            self.set_aside(f"{_first_line(statement.sql)} failed there: {exc}")

    def set_aside(self, why: str) -> None:
        if self.lost is None:
            self.lost = (f"migration {self.current}: " if self.current else "") + why
            self._dialect.catalog = None  # compiled from now on as without it
            self._dialect.catalog_lost = self.lost

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Statements recorded in the block do not run here (the history table's)."""
        self._paused = True
        try:
            yield
        finally:
            self._paused = False

    def close(self) -> None:
        self._dialect.catalog = None
        self.db.close()


def offline_database(dialect_name: str) -> Database:
    """A Database with no connection for ``dialect_name``; on SQLite, with a :class:`Shadow`
    that the statements it records also run in."""
    from ..database import Database
    from ..dialects import offline_dialect
    from ..url import DatabaseUrl

    dialect = offline_dialect(dialect_name)
    shadow = Shadow(dialect) if dialect.name == "sqlite" else None
    db = Database(OfflineConnection(dialect.name, shadow), dialect, DatabaseUrl("offline", dialect.name, database="offline"))
    if shadow is not None:
        db.listeners.append(shadow.run)
    return db


def shadow_of(db: Database) -> Shadow | None:
    """The :class:`Shadow` of an offline SQLite Database; None elsewhere."""
    conn = db.driver_connection
    return conn.shadow if isinstance(conn, OfflineConnection) else None


def prepare_shadow(db: Database, earlier: Sequence[Migration]) -> None:
    """Run the ups of ``earlier`` (the migrations before a script's range, oldest first) in the
    shadow of ``db``, if it has one, so that it holds the schema the script starts from. What
    fails sets the shadow aside, with the reason; it matters only if a later migration needs it."""
    from ..migrations.gate import failure_reason

    shadow = shadow_of(db)
    if shadow is None:
        return
    with db.planning():
        for migration in earlier:
            if shadow.lost is not None:
                break
            shadow.current = f"{migration.name} (up)"
            try:
                migration.capture(db, "up", in_transaction=migration.uses_transaction("up"))
            except Exception as exc:
                shadow.set_aside(f"it cannot be compiled offline ({failure_reason(exc).splitlines()[0]})")
    shadow.current = ""


def earlier_migrations(migrations: list[Migration], chosen: list[Migration], down: bool) -> list[Migration]:
    """The migrations applied before a script's first one runs (see :func:`select_range`): up,
    those before its first; down, every one up to its first (the newest applied), included."""
    if not chosen:
        return []
    names = [m.name for m in migrations]
    first = names.index(chosen[0].name)
    return migrations[: first + 1] if down else migrations[:first]


@dataclass
class ScriptPart:
    migration: Migration
    statements: list[CompiledStatement]
    transaction: bool
    history: list[CompiledStatement]
    #: lines that end the session settings the migration changed (SET search_path ...)
    restores: list[str] = field(default_factory=list)


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
    from ..dialects.session_settings import offline_restores
    from ..migrations import IrreversibleMigrationError

    direction: Direction = "down" if down else "up"
    history = None
    if table is not None:
        from ..migrations.history import HistoryTable

        history = HistoryTable(db, table)
    from ..errors import CatalogNeededError

    shadow = shadow_of(db)
    parts: list[ScriptPart] = []
    with db.planning():  # MySQL restates a column an earlier migration makes from that migration
        for migration in migrations:
            fn = migration.function(direction)
            if fn is None:
                raise IrreversibleMigrationError(
                    f"cannot write the rollback of {migration.name}: it has no down migration", migration.name
                )
            in_tx = migration.uses_transaction(direction)
            if shadow is not None:
                shadow.current = f"{migration.name} ({direction})"
            try:
                with online_clauses(db, safety, migration.allow_unsafe | allow, live=False):
                    captured = migration.capture(db, direction, in_transaction=in_tx)
            except (OfflineError, CatalogNeededError) as exc:
                reason = str(exc) if isinstance(exc, OfflineError) else f"{exc}. {_SEE_UP}"
                reason = reason.replace(_SEE_UP, _SEE_DOWN) if down else reason
                raise OfflineError(f"migration {migration.name} ({direction}) cannot be compiled offline: {reason}") from None
            except Exception as exc:  # what the engine lacks, a builder mistake, the code's own error
                from ..migrations.gate import failure_reason

                error = OfflineError(
                    f"migration {migration.name} ({direction}) cannot be compiled for {db.dialect.display_name}: "
                    f"{failure_reason(exc)}"
                )
                error.exit_code = exc.exit_code if isinstance(exc, KyseraError) else 1
                raise error from exc
            if in_tx and any(not s.transactional for s in captured):
                in_tx = False  # CREATE INDEX CONCURRENTLY and the like: migrate up runs it outside one too
            recorded: list[CompiledStatement] = []
            if history is not None:
                with shadow.paused() if shadow is not None else nullcontext(), db.capture() as bookkeeping:
                    if down:
                        history.delete(migration.name)
                    else:
                        history.insert(
                            migration.name, checksum=migration.checksum, state="applied", batch=history.next_batch(not parts)
                        )
                recorded = list(bookkeeping)
            parts.append(ScriptPart(migration, list(captured), in_tx, recorded, offline_restores(captured, db.dialect.name)))
    return parts


def script_findings(db: Database, parts: list[ScriptPart], allow: frozenset[str]) -> list[Finding]:
    """What ``kysera migrate up``'s safety gate would say of an up script's migrations, judged
    offline as ``kysera migrate lint --dialect`` judges them (a table the script does not create
    counts as large): the warnings and errors nobody acknowledged, not the information."""
    from ..safety import OfflineFacts, analyze
    from ..safety.analyzer import PlanState
    from ..safety.findings import Severity

    plan = PlanState()  # a table an earlier migration of the script creates is new to the later ones
    found: list[Finding] = []
    for part in parts:
        found += analyze(
            part.statements, db.dialect, OfflineFacts(), migration=part.migration.name,
            transactional=part.transaction, allow=part.migration.allow_unsafe | allow, created=plan,
        )
    return [f for f in found if not f.suppressed and f.severity is not Severity.INFO]


def history_setup(db: Database, table: str) -> list[CompiledStatement]:
    from ..migrations.history import HistoryTable

    shadow = shadow_of(db)
    with shadow.paused() if shadow is not None else nullcontext(), db.capture() as captured:
        HistoryTable(db, table).create()
    return list(captured)


def render_script(
    db: Database,
    parts: list[ScriptPart],
    down: bool,
    setup: list[CompiledStatement],
    table: str | None,
    findings: Sequence[Finding] = (),
) -> str:
    from ..dialects.session_settings import MYSQL_SCRIPT_CHARSET, MYSQL_SCRIPT_SESSION
    from ..dump.common import one_line  # a name's line break would end a -- comment

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
        lines.append(f"-- Each migration also {'removes its row from' if down else 'records itself in'} the history table {one_line(str(table))}.")
    refused = sorted({(f.migration or "?", f.code) for f in findings if f.severity.value == "error"})
    if refused:
        # a DBA reads the script, not kysera's stderr: what migrate up's gate would stop is said here too
        lines.append(
            "-- SAFETY: kysera migrate up would refuse "
            + ", ".join(f"{one_line(name)} ({code})" for name, code in refused)
            + f" (judged offline: a table this script does not create counts as large; kysera migrate lint --dialect {db.dialect.name} says why)"
        )
    if db.dialect.name == "postgres":
        # psql goes on after a failed statement by default: a migration that runs outside a
        # transaction would then be recorded in the history although it failed
        lines += ["-- For psql; it stops at the first error.", "\\set ON_ERROR_STOP on"]
    elif db.dialect.name == "sqlite":
        # the sqlite3 shell also goes on after an error, and the COMMIT then keeps half a migration
        lines += ["-- For the sqlite3 shell; it stops at the first error.", ".bail on"]
    else:
        # the client's own character set (utf8mb3 for the stock mariadb client) would refuse
        # what migrate up stores over utf8mb4; and the time zone and sql_mode of migrate up's
        # session, or a datetime lands as another instant on a server not in UTC
        lines += [MYSQL_SCRIPT_CHARSET, MYSQL_SCRIPT_SESSION]
    transactional = db.dialect.transactional_ddl
    if not transactional:
        lines.append(f"-- {db.dialect.display_name} commits each DDL statement at once: a failure part-way leaves the earlier ones applied.")
    if any(getattr(s.node, "online_auto", False) for part in parts for s in part.statements):
        lines.append(
            "-- ALGORITHM=/LOCK= clauses (added as kysera migrate up adds them) hold each change to its online form,"
            " assuming plain tables: the server refuses a change it would have to copy or block the table for."
        )
    from ..compiled import script_statement
    from ..dialects.sqlite_alter import is_rebuild

    rebuilding = {
        id(part) for part in parts if db.dialect.name == "sqlite" and any(is_rebuild(s) for s in part.statements)
    }
    if rebuilding:
        # the shell's DROP TABLE of a rebuilt table with foreign keys on (~/.sqliterc) would
        # delete the rows of the tables that refer to it with ON DELETE CASCADE
        lines.append(
            "-- A table rebuild (SQLite's way to change a column or a constraint) runs with foreign keys off,"
            " as in kysera migrate up: its migration starts with PRAGMA foreign_keys = OFF."
        )
    mysql = db.dialect.name == "mysql"
    if setup:
        lines += ["", "-- history table"] + [script_statement(s, mysql) for s in setup]
    for part in parts:
        lines += ["", f"-- {one_line(part.migration.name)} ({direction})" + ("" if part.transaction else " outside a transaction")]
        if id(part) in rebuilding:
            lines.append("PRAGMA foreign_keys = OFF;")  # a no-op inside a transaction: before BEGIN
        statements = [script_statement(s, mysql) for s in part.statements]
        history = [script_statement(s, mysql) for s in part.history]
        # a migration's SET ends with it, before its history row, as in migrate up
        body = statements + part.restores + history
        if not part.statements:
            lines.append("-- (no statements)")
        if part.transaction and transactional:
            lines += ["BEGIN;", *body, "COMMIT;"]
        elif id(part) in rebuilding:
            lines += _atomic_rebuilds(part.statements, statements) + part.restores + history
        else:
            lines += body
    return "\n".join(lines) + "\n"


def _atomic_rebuilds(statements: list[CompiledStatement], body: list[str]) -> list[str]:
    """``body`` (the text of ``statements``) of a SQLite migration that runs outside a
    transaction, with each table rebuild between BEGIN and COMMIT, as migrate up runs it: a
    failure part-way would leave the table dropped and its copy under another name."""
    from ..dialects.sqlite_alter import is_rebuild

    out: list[str] = []
    i = 0
    while i < len(statements):
        j = i + 1
        while j < len(statements) and statements[j].node is statements[i].node:
            j += 1  # the statements one builder compiled to
        group = body[i:j]
        out += ["BEGIN;", *group, "COMMIT;"] if any(is_rebuild(s) for s in statements[i:j]) else group
        i = j
    return out


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else text
    return line if len(line) <= 100 else line[:97] + "..."
