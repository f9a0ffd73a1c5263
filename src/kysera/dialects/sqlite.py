"""SQLite: stdlib ``sqlite3`` adapter, capabilities and compiler.

The connection runs with ``isolation_level=None`` and kysera issues ``BEGIN``/``COMMIT`` itself:
Python's sqlite3 would otherwise commit around DDL behind the caller's back.

Foreign keys are enforced (``PRAGMA foreign_keys=ON``) outside transactions. Inside a kysera
transaction they are checked once, with ``PRAGMA foreign_key_check``, just before COMMIT: SQLite
ignores ``PRAGMA foreign_keys`` inside a transaction, and the table rebuild that stands in for
the ALTER TABLE forms SQLite lacks must drop and recreate tables that others reference. So, as
with deferred constraints, a violation fails the COMMIT, and ON DELETE actions do not fire for
statements inside a kysera transaction.
"""

from __future__ import annotations

import datetime as _dt
import os
import sqlite3
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, ClassVar

from ..errors import (
    BuilderError,
    ConnectionFailedError,
    DatabaseLockedError,
    KyseraError,
    ReadOnlyDatabaseError,
)
from ..nodes import (
    AlterTableNode,
    ColumnDefinitionNode,
    CompiledStatement,
    CreateIndexNode,
    CreateTableNode,
    EnumTypeNode,
    Expression,
    IdentifierNode,
    InsertNode,
    PrimaryKeyConstraintNode,
    RawNode,
    TableCommentNode,
    replace,
)
from . import raw_text
from .base import Capabilities, Dialect, DriverConnection, Row
from .compiler import QueryCompiler, Writer

if TYPE_CHECKING:
    from ..url import DatabaseUrl


#: the other integer types an auto-numbered primary key may be declared with elsewhere
_INTEGER_TYPES = frozenset({"int", "bigint", "smallint", "tinyint", "mediumint", "int2", "int4", "int8"})


class SqliteCompiler(QueryCompiler):
    dialect_name = "sqlite"
    placeholder = "?"
    type_aliases: ClassVar[dict[str, str]] = {
        "uuid": "text",
        "json": "text",
        "jsonb": "text",
        "timestamptz": "text",
        "bytea": "blob",
        "bytes": "blob",
        "string": "text",
    }
    #: SQLITE_MAX_VARIABLE_NUMBER as SQLite is built by default (999 before 3.32)
    max_bound_values = 32766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999

    # ----------------------------------------------------------------- columns

    def column_type(self, col: ColumnDefinitionNode) -> str:
        kind = self.serial_kind(col)
        if kind is not None:
            if not col.primary_key:
                self.require("auto_increment_without_key")
            return "INTEGER"
        name = col.data_type.name
        if col.auto_increment and col.primary_key and isinstance(name, str) and " ".join(name.lower().split()) in _INTEGER_TYPES:
            # AUTOINCREMENT takes only the INTEGER PRIMARY KEY, and SQLite's INTEGER is 64-bit:
            # an auto-numbered bigint (or int, smallint) key is written INTEGER, as 'bigserial' is
            return "INTEGER"
        if isinstance(col.data_type.name, EnumTypeNode):
            # SQLite has no enum: a text column that only takes the values
            values = self.enum_values(col.data_type.name.values)
            return f"{self.data_type(col.data_type)} CHECK ({self.quote(col.name)} IN ({values}))"
        return self.data_type(col.data_type)

    def enum_data_type(self, node: EnumTypeNode) -> str:
        return "text"

    def index_column(self, col: str | RawNode, descending: bool) -> str:
        if isinstance(col, RawNode):
            return super().index_column(col, descending)
        return self.column_reference(col) + (" DESC" if descending else "")

    def column_reference(self, name: str) -> str:
        # in backticks: SQLite reads a double-quoted name that matches no column as a string, so
        # a misspelt column in "..." would filter on a constant (a DELETE ... WHERE "sttaus" <> 'x'
        # deletes every row) or index one; `...` is always a name, and a wrong one an error
        self.quote(name)  # the checks every identifier gets
        return "`" + name.replace("`", "``") + "`"

    def raw_is_transactional(self, text: str) -> bool:
        # SQLite refuses VACUUM inside a transaction: a .sql migration holding one runs outside
        # (raw_text comes with the compiler this class extends: imported once, at the top, not at
        # each statement of a seed file)
        return super().raw_is_transactional(text) and raw_text.leading_words(text, 1) != ["VACUUM"]

    def default_sql(self, expr: Expression) -> str:
        """DEFAULT takes a literal, a signed number, CURRENT_TIMESTAMP and friends as they are, and
        any other expression only in parentheses: ``sql("datetime('now')")`` gets them here."""
        text = self.inline_sql(expr)
        if not isinstance(expr, RawNode):
            return text
        from .sql_lexer import SqlParseError, tokenize
        from .sqlite_table_sql import matching_paren

        try:
            tokens = tokenize(text)
        except SqlParseError:
            return text  # SQLite will say what is wrong with it
        if not tokens:
            return text
        simple = len(tokens) == 1 and tokens[0].kind in ("number", "string", "blob", "word")
        signed = len(tokens) == 2 and tokens[0].text in ("+", "-") and tokens[1].kind == "number"
        wrapped = tokens[0].is_punct("(") and matching_paren(tokens, 0) == len(tokens) - 1
        return text if simple or signed or wrapped else f"({text})"

    def auto_increment_clause(self, col: ColumnDefinitionNode) -> str:
        if not col.primary_key:
            self.require("auto_increment_without_key")
        return "AUTOINCREMENT"

    def column_clauses(self, col: ColumnDefinitionNode, table: IdentifierNode | None) -> list[str]:
        if self.serial_kind(col) is not None and not col.auto_increment:
            col = replace(col, auto_increment=True)
        return super().column_clauses(col, table)

    def reference_table(self, table: IdentifierNode) -> str:
        # a foreign key names a table of the same database, unqualified (SQLite refuses "db"."t")
        return self.quote(table.name)

    # ----------------------------------------------------------------- tables

    def compile_create_table(self, node: CreateTableNode) -> list[CompiledStatement]:
        return super().compile_create_table(self._inline_serial_primary_key(node))

    def _inline_serial_primary_key(self, node: CreateTableNode) -> CreateTableNode:
        """A one-column table-level primary key on a serial column becomes the column's own
        PRIMARY KEY: only there can SQLite number it (INTEGER PRIMARY KEY AUTOINCREMENT)."""
        if not node.constraints or not any(isinstance(c, PrimaryKeyConstraintNode) for c in node.constraints):
            return node
        serial = {c.name for c in node.columns if self.serial_kind(c) is not None or c.auto_increment}
        constraints = []
        columns = node.columns
        for c in node.constraints:
            if isinstance(c, PrimaryKeyConstraintNode) and serial & set(c.columns):
                if len(c.columns) != 1:
                    self.require("auto_increment_without_key")
                (name,) = c.columns
                columns = tuple(replace(col, primary_key=True) if col.name == name else col for col in columns)
                continue
            constraints.append(c)
        return replace(node, columns=columns, constraints=tuple(constraints))

    def compile_alter_table(self, node: AlterTableNode) -> list[CompiledStatement]:
        from .sqlite_alter import compile_sqlite_alter_table

        for action in node.actions:
            self.require_action(action)
        # table comments are not stored on SQLite: nothing to do for them
        actions = tuple(a for a in node.actions if not isinstance(a, TableCommentNode))
        if not actions:
            return []
        return compile_sqlite_alter_table(self, replace(node, actions=actions))

    # ----------------------------------------------------------------- indexes

    def index_name(self, name: IdentifierNode, table: IdentifierNode | None) -> str:
        # SQLite puts the schema on the index's name and refuses it on the table
        schema = name.schema or (table.schema if table else None)
        if not schema:  # most indexes: no node to make for table_name
            return self.quote(name.name)
        return self.table_name(IdentifierNode(name.name, schema))

    def index_table(self, table: IdentifierNode) -> str:
        return self.quote(table.name)

    # ----------------------------------------------------------------- data

    def write_insert_query(self, w: Writer, node: InsertNode) -> None:
        """SQLite reads the ``ON`` of ``INSERT ... SELECT ... FROM t ON CONFLICT`` as a join's
        and fails ("near DO: syntax error"); its documented way out is a WHERE in the query."""
        query = node.query
        if (node.on_conflict is not None or node.ignore_conflicts) and query is not None:
            if isinstance(query, RawNode):
                w.text("SELECT * FROM (")
                self.write_raw(w, query)
                w.text(") WHERE true")
                return
            if query.where is None:
                node = replace(node, query=replace(query, where=RawNode(("true",))))
        super().write_insert_query(w, node)

    def for_update_clause(self) -> str:
        return ""  # SQLite locks the whole database for writes

    def offset_clause(self, node: object) -> str:
        limit = getattr(node, "limit", None)
        offset = int(getattr(node, "offset", 0) or 0)
        return (" LIMIT -1" if limit is None else "") + f" OFFSET {offset}"


#: statements that cannot break a foreign key (a tuple: ``isinstance`` with ``A | B`` builds the union each call)
_BREAK_NO_KEYS = (CreateTableNode, CreateIndexNode)


class SqliteDialect(Dialect):
    name = "sqlite"
    display_name = "SQLite"
    compiler_class = SqliteCompiler
    rehearses_dry_runs = True

    def __init__(self, server_version: tuple[int, ...] = (), version_text: str = "") -> None:
        super().__init__(server_version, version_text)
        # the connection enforces foreign keys, so this transaction checks them at COMMIT
        self._checking = False
        # what COMMIT must check: None nothing, a set of tables (rows inserted), or "all"
        self._check: set[str] | str | None = None
        # while keep_session holds: the connection's own foreign_keys setting, read at the first
        # transaction. Remembered as on, it means the pragma is off on the transactions' behalf
        # (set by the first, left so by the others) until before_autocommit turns it back on.
        self._enforced: bool | None = None
        # tables of the main schema that declare no foreign keys (note_no_foreign_keys)
        self._no_foreign_keys: set[str] = set()
        #: the database file, for messages (set by open_sqlite)
        self.path = ""
        #: seconds a statement waits for another connection's write lock (a run's
        #: statement_lock_timeout sets it while it lasts: kysera.dialects.online.lock_timeouts)
        self.busy_timeout = BUSY_TIMEOUT

    def explain_error(self, statement: CompiledStatement, error: BaseException) -> BaseException | None:
        """A locked database and a file that is not one, said with the file and what to do."""
        if not isinstance(error, sqlite3.DatabaseError):
            return None
        text = str(error)
        where = self.path or "the database"
        if text.startswith("database is locked"):
            return DatabaseLockedError(
                f"the SQLite database {where} is locked: another connection has held its write lock for "
                f"{self.busy_timeout:g} s (a transaction left open in another process, or a tool such as a database "
                "browser); end that transaction or close that connection, then run again"
            )
        if text.startswith("file is not a database"):
            return KyseraError(f"{where} is not a SQLite database; check the URL, or move the file out of the way")
        if text.startswith("attempt to write a readonly database"):
            return ReadOnlyDatabaseError(f"the SQLite database {where} is read-only ({_why_read_only(self.path)})")
        return None

    def begin(self, conn: DriverConnection) -> None:
        enforced = self._enforced
        already_off = bool(enforced)
        if enforced is None:
            rows, _ = conn.run("PRAGMA foreign_keys", None)
            enforced = bool(rows and next(iter(rows[0].values())))
            if self.keeping_session:
                self._enforced = enforced
        self._checking = enforced
        if enforced and not already_off:
            # SQLite ignores this pragma inside a transaction, and table rebuilds need it off
            conn.run("PRAGMA foreign_keys = OFF", None)
        try:
            conn.run("BEGIN IMMEDIATE", None)
        except BaseException:
            self._end(conn)
            raise

    def note_statement(self, statement: CompiledStatement) -> None:
        """Which foreign keys a statement can break; creating tables and indexes breaks none."""
        if not self._checking or self._check == "all":
            return
        node = statement.node
        if isinstance(node, _BREAK_NO_KEYS) or statement.reads:
            return
        # an upsert's DO UPDATE changes rows that other tables' keys may point at
        upsert = isinstance(node, InsertNode) and node.on_conflict is not None and node.on_conflict.updates is not None
        if isinstance(node, InsertNode) and node.table.schema is None and not upsert:
            if node.table.name in self._no_foreign_keys:
                return
            checked = self._check if isinstance(self._check, set) else set()
            checked.add(node.table.name)  # new rows can only break their own table's keys
            self._check = checked
            return
        self._check = "all"  # updates, deletes, drops, rebuilds, raw SQL: check every table

    def note_no_foreign_keys(self, table: IdentifierNode) -> None:
        if table.schema is None:
            self._no_foreign_keys.add(table.name)

    def _violations(self, conn: DriverConnection) -> list[Row]:
        if self._check is None:
            return []
        if self._check == "all":
            return conn.run("PRAGMA foreign_key_check", None)[0]
        rows: list[Row] = []
        for table in sorted(self._check):
            quoted = '"' + table.replace('"', '""') + '"'
            rows.extend(conn.run(f"PRAGMA foreign_key_check({quoted})", None)[0])
        return rows

    def commit(self, conn: DriverConnection) -> None:
        if self._checking and self._check is not None:  # else no statement could break a key
            rows = self._violations(conn)
            if rows:
                self.rollback(conn)
                raise ForeignKeyViolation(
                    f"{_broken_keys(rows)}; the transaction was rolled back. "
                    "Fix or delete those rows in the same migration"
                )
        try:
            conn.run("COMMIT", None)
        finally:
            self._end(conn)

    def commit_problem(self, conn: DriverConnection) -> str | None:
        if not self._checking:
            return None
        rows = self._violations(conn)  # the tables the statements noted since the last call
        self._check = None
        return f"{_broken_keys(rows)}, which SQLite refuses at COMMIT" if rows else None

    def rollback(self, conn: DriverConnection) -> None:
        try:
            conn.run("ROLLBACK", None)
        finally:
            self._end(conn)

    def _end(self, conn: DriverConnection) -> None:
        self._check = None
        if self._checking:
            self._checking = False
            if not (self.keeping_session and self._enforced):  # else the next transaction wants it off too
                conn.run("PRAGMA foreign_keys = ON", None)

    @contextmanager
    def keep_session(self, conn: DriverConnection) -> Iterator[None]:
        """Foreign keys stay off between transactions, instead of two PRAGMAs around each one."""
        if self.keeping_session:
            yield
            return
        self.keeping_session = True
        try:
            yield
        finally:
            self.keeping_session = False
            try:
                self.before_autocommit(conn)
            except Exception:  # a broken connection: keep the error that broke it, not this one
                self._enforced = None

    @contextmanager
    def many_commits(self, conn: DriverConnection) -> Iterator[None]:
        """The rollback journal stays between the transactions (``journal_mode=PERSIST``: each
        COMMIT zeroes its header) instead of being created and deleted at each one, which costs
        the file system a directory change per COMMIT; measured on a thousand migrations, about a
        sixth of the run. A COMMIT is as durable either way (SQLite's documentation of the modes).
        Only from the default ``delete`` mode, which belongs to the connection, not the file; put
        back at the end, which deletes the journal. A WAL database, or a migration that switched
        to WAL, is left as it is."""
        switched = _journal_mode(conn) == "delete" and _journal_mode(conn, "persist") == "persist"
        try:
            yield
        finally:
            if switched and _journal_mode(conn) == "persist":
                _journal_mode(conn, "delete")

    def before_autocommit(self, conn: DriverConnection) -> None:
        # a statement outside a transaction sees the connection's own setting, which it may change
        off = bool(self._enforced)
        self._enforced = None
        if off:
            conn.run("PRAGMA foreign_keys = ON", None)

    @cached_property
    def capabilities(self) -> Capabilities:
        from .support import dialect_supports

        return Capabilities(
            transactional_ddl=True,
            concurrent_index=False,
            partial_index=dialect_supports(self, "partial_index"),
            max_identifier_length=1_000_000,
            alter_column_in_place=False,
            add_column_if_not_exists=dialect_supports(self, "add_column_if_not_exists"),
            create_index_if_not_exists=dialect_supports(self, "create_index_if_not_exists"),
            drop_index_if_exists=dialect_supports(self, "drop_index_if_exists"),
            schemas=False,
        )


class SqliteConnection:
    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self._conn = conn
        self.path = path

    @property
    def raw(self) -> sqlite3.Connection:
        return self._conn

    def run(self, sql: str, params: Sequence[object] | None) -> tuple[list[Row], int]:
        if params is None:  # DDL, transaction control: most statements (no isinstance of an ABC each)
            cur = self._conn.execute(sql)
        else:
            bound: Sequence[object] | Mapping[str, object]
            values: Sequence[object]
            if params.__class__ is tuple:  # a compiled statement's values
                bound = values = params
            elif isinstance(params, Mapping):
                # a dict (db.fetch's named placeholders, :name) goes to sqlite3 as it is: a tuple
                # of it would bind its keys
                bound, values = params, list(params.values())
            else:
                bound = values = tuple(params)
            if values:
                _refuse_nan(values)
            try:
                cur = self._conn.execute(sql, bound)
            except sqlite3.ProgrammingError:
                if not params or not _adapt_late_types():
                    raise
                cur = self._conn.execute(sql, bound)  # a Decimal or UUID, bound now that it can be
        description = cur.description
        if description is None:  # DDL, writes, transaction control: no rows to read
            return [], cur.rowcount
        try:
            names = [d[0] for d in description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()], cur.rowcount
        finally:
            cur.close()

    def close(self) -> None:
        self._conn.close()

    def session_id(self) -> int | None:
        return None  # no server

    def server_version(self) -> tuple[int, ...]:
        return tuple(sqlite3.sqlite_version_info)

    def server_version_text(self) -> str:
        return f"SQLite {sqlite3.sqlite_version}"

    def is_connection_error(self, error: BaseException) -> bool:
        return isinstance(error, sqlite3.ProgrammingError) and "closed" in str(error)


def _adapt_late_types() -> bool:
    """Bind ``decimal.Decimal`` values as their exact text (SQLite's NUMERIC affinity converts
    it) and ``uuid.UUID`` values as their text (the portable ``uuid`` type is text on SQLite);
    True when one of them was set up just now. Only once its module is imported: a value of that
    type cannot exist before, and importing them costs a command's start-up a few ms. A
    connection opened earlier calls this again when binding a parameter fails."""
    added = False
    for module_name, type_name in (("decimal", "Decimal"), ("uuid", "UUID")):
        module = sys.modules.get(module_name)
        if module_name in _adapted or module is None:
            continue
        sqlite3.register_adapter(getattr(module, type_name), str)
        _adapted.add(module_name)
        added = True
    return added


#: the modules whose value types :func:`_adapt_late_types` registered
_adapted: set[str] = set()


def _refuse_nan(params: Sequence[object]) -> None:
    """SQLite would store a float NaN as NULL: refuse it, as MySQL/MariaDB do."""
    if float not in map(type, params):  # as usual: no float to look at
        return
    for value in params:
        if value.__class__ is float and value != value:
            raise ValueError("SQLite cannot store the float NaN (it would become NULL); store NULL or a marker value instead")


def _broken_keys(rows: list[Row]) -> str:
    shown = ", ".join(f"{r.get('table')} row {r.get('rowid')} -> {r.get('parent')}" for r in rows[:5])
    return f"{len(rows)} row(s) break a foreign key ({shown})"


def _datetime_text(value: _dt.datetime) -> str:
    return value.isoformat(" ")


class ForeignKeyViolation(KyseraError):
    """Rows that break a foreign key were found when the transaction was about to commit."""


#: seconds a statement waits for another connection's write lock before SQLite gives up
BUSY_TIMEOUT = 30.0


def _journal_mode(conn: DriverConnection, new: str | None = None) -> str | None:
    """The connection's journal mode (lower case), after setting it to ``new`` when given;
    None when SQLite refused (a transaction still open, a read-only file): it stays as it was.
    Only the main database's: an unqualified ``PRAGMA journal_mode = ...`` sets every attached
    database's too, and would take an attached WAL file out of WAL for good."""
    try:
        rows, _ = conn.run("PRAGMA main.journal_mode" + (f" = {new}" if new else ""), None)
    except sqlite3.Error:
        return None
    value = next(iter(rows[0].values())) if rows else None
    return value.lower() if isinstance(value, str) else None


def _why_read_only(path: str | None) -> str:
    """Why SQLite may not write the file at ``path``, as far as the file system tells."""
    if not path or path.startswith("file:") or path == ":memory:":
        return "opened read-only: mode=ro in the URL, or a read-only mount"
    folder = os.path.dirname(os.path.abspath(path))
    if not os.access(path, os.W_OK):
        return "this user may not write the file: give it write access, or use a copy"
    if not os.access(folder, os.W_OK):
        return f"this user may not write its folder {folder}, where SQLite keeps its journal: give it write access"
    return "a read-only mount, or mode=ro in the URL: use a writable copy"


def open_sqlite(url: DatabaseUrl) -> tuple[SqliteConnection, SqliteDialect]:
    path = url.database or ":memory:"
    options = url.options
    uri = path.startswith("file:") or bool(options)
    target = path
    if options:
        from urllib.parse import quote

        query = "&".join(f"{quote(k)}={quote(v)}" for k, v in options.items())
        if path.startswith("file:"):  # sqlite:///file:app.db?mode=ro: the options are the URI's
            target = path + ("&" if "?" in path else "?") + query
        else:  # the path as a URI's: a # or ? in a file name is not where the options start
            target = "file:" + quote(path, safe="/:") + "?" + query
    _adapt_late_types()
    # the text sqlite3's own date and datetime adapters write, without their DeprecationWarning
    # (Python 3.12+): '2026-11-29' and '2026-11-29 08:30:00[.ffffff][+00:00]'; a time as
    # '08:30:00[.ffffff]', the text SQLite's own time functions take
    sqlite3.register_adapter(_dt.date, _dt.date.isoformat)
    sqlite3.register_adapter(_dt.datetime, _datetime_text)
    sqlite3.register_adapter(_dt.time, _dt.time.isoformat)
    try:
        conn = sqlite3.connect(
            target, isolation_level=None, uri=uri, timeout=BUSY_TIMEOUT, check_same_thread=False
        )
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.Error as exc:
        hint = ""
        if not uri and path != ":memory:":
            folder = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(folder):
                hint = f"; the folder {folder} does not exist: create it, or fix the path in the URL"
            elif not os.access(folder, os.W_OK) and not os.path.exists(path):
                hint = f"; the folder {folder} is not writable, so the file cannot be created there"
        raise ConnectionFailedError(f"cannot open SQLite database {path!r}: {exc}{hint}") from None
    if sqlite3.sqlite_version_info < (3, 25, 0):
        raise BuilderError(f"kysera needs SQLite 3.25 or newer; this Python links {sqlite3.sqlite_version}")
    adapter = SqliteConnection(conn, path)
    dialect = SqliteDialect(adapter.server_version(), adapter.server_version_text())
    dialect.path = path
    return adapter, dialect
