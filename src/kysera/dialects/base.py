"""What every engine provides: a driver connection, capabilities, and a compiler.

Dialect differences live only below this folder; nothing above it branches on an engine's name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, ClassVar, NamedTuple, Protocol

if TYPE_CHECKING:
    from ..nodes import CompiledStatement, IdentifierNode
    from ..url import DatabaseUrl
    from .compiler import QueryCompiler, Reader


Row = dict[str, object]


class DriverConnection(Protocol):
    """The small contract each engine's driver adapter fulfils.

    Connections run in autocommit mode; transactions are opened with explicit statements by
    :class:`kysera.database.Database`, so the project, not the driver, controls them.
    """

    def run(self, sql: str, params: Sequence[object] | None) -> tuple[list[Row], int]:
        """Execute one statement; return its rows (as dicts, empty for none) and row count."""
        ...

    def close(self) -> None: ...

    def server_version(self) -> tuple[int, ...]: ...

    def server_version_text(self) -> str: ...

    def is_connection_error(self, error: BaseException) -> bool:
        """True when ``error`` means the connection itself is gone (not a bad statement)."""
        ...

    def session_id(self) -> int | None:
        """The server's id for this connection (PostgreSQL's backend pid, MySQL's connection
        id), known without a query; None where there is no server."""
        ...


class Capabilities(NamedTuple):
    """What an engine can do, as the runner and the builders need to know it."""

    #: DDL is rolled back with the transaction (PostgreSQL, SQLite), not committed implicitly (MySQL)
    transactional_ddl: bool
    #: ``CREATE INDEX CONCURRENTLY`` (PostgreSQL)
    concurrent_index: bool
    #: partial indexes (``WHERE`` on an index)
    partial_index: bool
    #: identifiers longer than this are truncated or refused by the engine
    max_identifier_length: int
    #: ``ALTER TABLE`` can change a column's type, default, nullability and constraints in place
    alter_column_in_place: bool
    #: ``ALTER TABLE ... ADD COLUMN IF NOT EXISTS``
    add_column_if_not_exists: bool
    #: ``CREATE INDEX IF NOT EXISTS``
    create_index_if_not_exists: bool
    #: ``DROP INDEX IF EXISTS``
    drop_index_if_exists: bool
    #: schemas inside a database (PostgreSQL) as opposed to databases (MySQL) or none (SQLite)
    schemas: bool


class Dialect:
    """One engine: its name, version, capabilities and compiler. Made by :func:`kysera.connect`."""

    name: str = ""
    display_name: str = ""
    compiler_class: type[QueryCompiler]
    #: a dry run may also run what it records, in a transaction it rolls back
    #: (:meth:`kysera.Database.rehearsal`): an engine with transactional DDL whose dry runs need
    #: it (SQLite rebuilds a table from its definition) and cost nobody else a lock
    rehearses_dry_runs: bool = False
    #: its compiler asks :meth:`kysera.Database.planned_column` (MySQL's ``MODIFY COLUMN``
    #: restates the whole column), so a dry run of a plan keeps what it records for it
    reads_planned_columns: bool = False
    #: compiles with no database behind it (:func:`kysera.dialects.offline_dialect`: ``kysera
    #: migrate sql``, ``lint --dialect``): what needs the catalog cannot be compiled
    offline: bool = False
    #: offline, where compilers read the catalog instead (their ``reader``): a scratch database
    #: holding the schema the statements compiled so far make (SQLite's, for ``kysera migrate
    #: sql`` and ``lint --dialect sqlite``: see :mod:`kysera.cli.offline`); None: nowhere
    catalog: Reader | None = None
    #: offline, why that scratch database was set aside (it no longer holds the schema the
    #: statements make); None while it is in use, or when there never was one
    catalog_lost: str | None = None

    def __init__(self, server_version: tuple[int, ...] = (), version_text: str = "") -> None:
        self.server_version = server_version
        self.version_text = version_text

    @property
    def capabilities(self) -> Capabilities:
        raise NotImplementedError

    @property
    def transactional_ddl(self) -> bool:
        return self.capabilities.transactional_ddl

    def compiler(self, reader: Reader | None = None) -> QueryCompiler:
        return self.compiler_class(self, reader if self.catalog is None else self.catalog)

    # transactions: the Database calls these for the outermost transaction only
    def begin(self, conn: DriverConnection) -> None:
        conn.run("BEGIN", None)

    def commit(self, conn: DriverConnection) -> None:
        conn.run("COMMIT", None)

    def rollback(self, conn: DriverConnection) -> None:
        conn.run("ROLLBACK", None)

    def note_statement(self, statement: CompiledStatement) -> None:
        """Called for each statement run inside a transaction (SQLite tracks what to check at COMMIT)."""

    #: the engine commits a transaction at a DDL statement (MySQL): :meth:`transaction_ended` may be True
    commits_at_ddl: ClassVar[bool] = False

    def transaction_ended(self) -> bool:
        """Whether the session's transaction ended by itself: MySQL commits at a DDL statement
        and goes back to autocommit, where later data changes would each commit at once."""
        return False

    def note_no_foreign_keys(self, table: IdentifierNode) -> None:
        """``table`` declares no foreign keys (kysera's history table): rows inserted into it
        cannot break one, so a transaction need not check them (SQLite)."""

    #: True while :meth:`keep_session` holds: the Database then calls :meth:`before_autocommit`
    #: before each statement it runs outside a transaction
    keeping_session: bool = False

    @contextmanager
    def keep_session(self, conn: DriverConnection) -> Iterator[None]:
        """Many transactions in a row (a migration run): a session setting that each transaction
        changes for its duration may stay changed between them, and is put back at the end or
        before a statement outside a transaction (:meth:`before_autocommit`)."""
        yield

    @contextmanager
    def many_commits(self, conn: DriverConnection) -> Iterator[None]:
        """A run of many write transactions in a row (a migration run applying several): the
        engine may make each COMMIT cheaper for its duration, as long as each stays as durable.
        Outside any transaction, at both ends."""
        yield

    def before_autocommit(self, conn: DriverConnection) -> None:
        """Inside :meth:`keep_session`: put session settings back before a statement outside a transaction."""

    def commit_problem(self, conn: DriverConnection) -> str | None:
        """What COMMIT would refuse in the open transaction (SQLite's foreign keys, checked at
        COMMIT) since the last call; None when nothing. Changes no data."""
        return None

    def refused_unrun(self, error: BaseException) -> bool:
        """Whether ``error`` says the server refused a statement before running any of it (a
        syntax error): it changed nothing, and made no implicit commit either."""
        return False

    def describe_session(self, reader: Reader, session: int) -> str | None:
        """What the server says session ``session`` is doing, read through another connection
        (``reader``): its statement, and the lock it waits for and who holds it. None where the
        engine cannot tell."""
        return None

    def lock_holders(self, reader: Reader, table: IdentifierNode, session: int | None) -> str | None:
        """The sessions (other than ``session``) that hold locks on ``table`` now, said for a
        person: who made a statement give up waiting. None where the engine cannot tell."""
        return None

    def savepoint_gone(self, error: BaseException) -> bool:
        """Whether ``error`` says a savepoint no longer exists because a statement committed the
        transaction it belonged to (MySQL commits at every DDL statement)."""
        return False

    def explain_error(self, statement: CompiledStatement, error: BaseException) -> BaseException | None:
        """A clearer cause for ``error``, raised by ``statement`` (MySQL's refused ALGORITHM/LOCK); None: as is."""
        return None

    def __repr__(self) -> str:
        version = ".".join(str(p) for p in self.server_version) or "?"
        return f"<{type(self).__name__} {self.display_name} {version}>"


Opener = Callable[["DatabaseUrl"], tuple[DriverConnection, Dialect]]
