"""``Database``: one connection and its dialect; executes nodes, owns transactions and dry runs."""

from __future__ import annotations

from _thread import get_ident
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol

from .compiled import CompiledQuery
from .errors import BuilderError, KyseraError, StatementError
from .fragment import Sql, name_node
from .nodes import (
    CompiledStatement,
    IdentifierNode,
    InsertNode,
    OperationNode,
    RawNode,
    SelectNode,
    replace,
    returns_rows,
)
from .url import DatabaseUrl, parse_url

if TYPE_CHECKING:
    from .backfill import BackfillProgress, BackfillResult
    from .dialects.base import Dialect, DriverConnection, Row
    from .introspection.model import SchemaInfo, TableInfo
    from .planned_schema import PlannedColumn, PlannedSchema
    from .query.builders import DeleteBuilder, InsertBuilder, SelectBuilder, UpdateBuilder
    from .query.expressions import Ref
    from .schema.module import SchemaModule


class Buildable(Protocol):
    def to_node(self) -> OperationNode: ...


Statement = Buildable | Sql | OperationNode | CompiledStatement | str


def _may_write(text: str) -> bool:
    """Whether the SQL ``text`` given to ``fetch`` changes data, as the compiler judges raw SQL
    (:func:`kysera.dialects.raw_text.is_read_only`); a PRAGMA reads there, ``table_info(t)`` too."""
    from .dialects import raw_text

    return raw_text.leading_words(text, 1) != ["PRAGMA"] and not raw_text.is_read_only(text)


class ConnectionLostError(StatementError):
    """The connection to the server broke while a statement ran."""


class NonTransactionalStatementError(KyseraError):
    """A statement that cannot run in a transaction was executed inside one."""


class Capture(list[CompiledStatement]):
    """The statements :meth:`Database.capture` recorded, and whether they are the whole story.

    ``replayable`` stays True while the captured code only built statements: it read nothing
    from the database, did not ask whether it was being captured (``db.capturing``) nor reach
    for the driver's connection, and no transaction block ended with an exception (which would
    have undone part of the record).
    Running the record then does what running the code again would do.
    """

    replayable: bool = True
    #: the captured code read the database, asked whether it was captured, or reached for the
    #: driver: what it did may depend on what the database holds (or on being captured)
    consulted: bool = False
    #: seconds the captured code took (set by the safety gate: a replayed migration counts them)
    seconds: float = 0.0


class Result(list["Row"]):
    """The rows (as dicts) that ``execute`` returned, with ``rowcount`` and the statements run."""

    def __init__(self, rows: list[Row], rowcount: int, statements: list[CompiledStatement]) -> None:
        super().__init__(rows)
        self.rowcount = rowcount
        self.statements = statements

    @property
    def rows(self) -> list[Row]:
        return list(self)

    def first(self) -> Row | None:
        return self[0] if self else None

    def scalar(self) -> object:
        row = self.first()
        return next(iter(row.values())) if row else None


class Database:
    """A connection to one database. Make it with :func:`kysera.connect`."""

    def __init__(self, conn: DriverConnection, dialect: Dialect, url: DatabaseUrl) -> None:
        self._conn = conn
        self.dialect = dialect
        self.url = url
        self._depth = 0
        #: the thread whose transaction is open (one connection holds one transaction at a time)
        self._tx_thread = 0
        self._savepoint_seq = 0
        self._captured: Capture | None = None
        #: inside rehearsal(): captured statements also run, in a transaction rolled back at the end
        self._rehearsing = False
        #: inside planning(): what the captures recorded so far, for planned_column()
        self._planned: PlannedSchema | None = None
        self._default_schema: str | None = None
        #: called with each statement before it runs (or is captured)
        self.listeners: list[Callable[[CompiledStatement], None]] = []
        #: replaces a node by safer ones before it compiles (the runner's safety="auto"); None: as is
        self.rewriter: Callable[[OperationNode], list[OperationNode] | None] | None = None
        #: completes a node before it compiles (the runner's online DDL clauses on MySQL); None: as is
        self.adjuster: Callable[[OperationNode], OperationNode] | None = None
        self.closed = False

    # ----------------------------------------------------------------- lifecycle

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Database {self.url.redacted()} {self.dialect.version_text}>"

    @property
    def driver_connection(self) -> DriverConnection:
        """The driver's connection, under kysera's adapter. What runs on it bypasses dry runs."""
        if self._captured is not None:
            self._captured.replayable = False  # the captured code talks to the server itself
            self._captured.consulted = True
        return self._conn

    # ----------------------------------------------------------------- builders

    @property
    def schema(self) -> SchemaModule:
        """The fluent DDL builders: ``db.schema.create_table("users")...``."""
        module = self.__dict__.get("_schema_module")
        if module is None:  # made once: migrations reach for db.schema in every statement
            from .schema.module import SchemaModule

            module = self._schema_module = SchemaModule(self, self._default_schema)
        return module

    def with_schema(self, schema: str) -> Database:
        """A view of this database whose builders target ``schema`` by default."""
        clone = object.__new__(Database)
        clone.__dict__.update(self.__dict__)
        clone._default_schema = schema
        clone.__dict__.pop("_schema_module", None)
        return clone

    def ref(self, column: str) -> Ref:
        """A column reference, e.g. ``.set({"email_new": db.ref("email")})``."""
        from .query.expressions import Ref

        return Ref(column)

    def select_from(self, table: str | Sql) -> SelectBuilder:
        """A SELECT from ``table``; ``"person as p"`` names it ``p`` in the query (``"p.id"``)."""
        from .query.builders import SelectBuilder, aliased_table

        target, alias = aliased_table(self, table, "select_from")
        return SelectBuilder(self, SelectNode(target, alias=alias))

    def insert_into(self, table: str | Sql) -> InsertBuilder:
        from .query.builders import InsertBuilder, unaliased_table

        return InsertBuilder(self, unaliased_table(self, table, "insert_into"))

    def update_table(self, table: str | Sql) -> UpdateBuilder:
        from .query.builders import UpdateBuilder, unaliased_table

        return UpdateBuilder(self, unaliased_table(self, table, "update_table"))

    def delete_from(self, table: str | Sql) -> DeleteBuilder:
        from .query.builders import DeleteBuilder, unaliased_table

        return DeleteBuilder(self, unaliased_table(self, table, "delete_from"))

    def _table(self, table: str | Sql) -> IdentifierNode:
        """A table named as builders take it (see :func:`~kysera.fragment.name_node`), in the
        schema of :meth:`with_schema` when it names none."""
        node = name_node(table, "a table name")
        if node.schema is None and self._default_schema:
            return IdentifierNode(node.name, self._default_schema)
        return node

    def backfill(
        self,
        table: str,
        *,
        set: Mapping[str, object],
        where: object = None,
        batch_size: int = 10_000,
        key: str | None = None,
        pause: float | None = None,
        progress: Callable[[BackfillProgress], None] | None = None,
    ) -> BackfillResult:
        """Update ``table`` in primary-key batches, each in its own short transaction.

        ``db.backfill("users", set={"email_new": db.ref("email")}, where=sql("email_new IS NULL"))``.
        It cannot run inside a transaction: the runner runs a migration that calls it outside one
        (its dry run finds the backfill). A ``where`` that excludes rows already done makes it
        idempotent: after a crash the next run resumes where it stopped. ``pause`` seconds between
        batches (default: none, 2 ms on SQLite, so other writers get the lock). Progress goes to
        the ``kysera.backfill`` logger, and to stderr on a terminal.
        """
        from .backfill import backfill

        return backfill(self, table, set=set, where=where, batch_size=batch_size, key=key, pause=pause, progress=progress)

    # ----------------------------------------------------------------- compile and run

    def compile(self, statement: Statement) -> CompiledQuery:
        """The statement(s) this engine would run for ``statement``, without running them."""
        if isinstance(statement, CompiledStatement):
            return CompiledQuery([statement])
        return self._compile_node(self._to_node(statement))

    def _compile_node(self, node: OperationNode) -> CompiledQuery:
        """:meth:`compile` for an operation node (what every builder holds)."""
        if self.adjuster is not None:
            node = self.adjuster(node)
        compiler = self.dialect.compiler(self)
        rewritten = self.rewriter(node) if self.rewriter is not None else None
        if rewritten is None:
            return CompiledQuery(compiler.compile(node))
        # each rewritten statement commits on its own: that is what makes the rewrite safe
        return CompiledQuery(
            replace(s, transactional=False) for each in rewritten for s in compiler.compile(each)
        )

    @staticmethod
    def _to_node(statement: Statement) -> OperationNode:
        if isinstance(statement, str):
            return RawNode((statement,))
        if isinstance(statement, Sql):
            return statement.node
        to_node = getattr(statement, "to_node", None)
        if to_node is not None:
            node: OperationNode = to_node()
            return node
        return statement  # type: ignore[return-value]

    def execute(self, statement: Statement, params: Sequence[object] | None = None) -> Result:
        """Run ``statement``: a builder, ``sql(...)``, an SQL string, or a compiled statement.

        ``params`` (a list, one value per placeholder) only goes with a plain SQL string, with the
        driver's own placeholders; given with anything else it is an error.
        Several statements compiled from one builder run atomically where the engine can.
        """
        if params is not None and not isinstance(statement, str):
            raise BuilderError(
                "execute(..., params) takes values only with SQL text (the driver's placeholders); "
                "sql(...) and the builders carry their own: sql('... {} ...', value)"
            )
        if params is not None and isinstance(statement, str):
            values = _driver_values(params, "execute")
            text = statement
            dialect = self.dialect

            def shown() -> str:  # for a dry run or an error; most runs show nothing
                return f"{text} {dialect.compiler().values_note(values)}"

            return self.run_compiled(
                [CompiledStatement(statement, values, RawNode((statement,)), display=shown if values else None)]
            )
        return self.run_compiled(self.compile(statement))

    def run_compiled(self, statements: list[CompiledStatement]) -> Result:
        atomic = (
            len(statements) > 1
            and all(s.transactional for s in statements)
            # the parts of a big INSERT are rows alone: MySQL/MariaDB can roll those back too
            and (self.dialect.transactional_ddl or all(isinstance(s.node, InsertNode) for s in statements))
        )
        if atomic:
            with self.transaction():
                return self._run_all(statements)
        return self._run_all(statements)

    def _run_all(self, statements: list[CompiledStatement]) -> Result:
        rows: list[Row] = []
        returned: list[Row] = []
        count = total = 0
        counted = returning = False
        for stmt in statements:
            rows, count = self._run_one(stmt)
            if count >= 0:  # -1: the driver does not know (a SELECT on SQLite)
                total += count
                counted = True
            if returns_rows(stmt.node):  # the parts of a big INSERT ... RETURNING: every part's rows
                returned.extend(rows)
                returning = True
        # the rows of the last statement (of every statement with RETURNING); the rows all of them touched
        return Result(returned if returning else rows, total if counted else count, statements)

    def _run_one(self, stmt: CompiledStatement) -> tuple[list[Row], int]:
        for listener in self.listeners:
            listener(stmt)
        if self._captured is not None and not stmt.reads:
            if returns_rows(stmt.node):
                # a change with RETURNING is recorded, not run, and gives its code no rows: the
                # code may do something else with the rows it gets for real, so it runs again
                # instead of its record being replayed (as fetch() of a change: _fetch_writing)
                self._captured.replayable = False
                self._captured.consulted = True
            self._captured.append(stmt)
            if self._planned is not None:
                self._planned.add(stmt)
            if self._rehearsing:
                self._rehearse(stmt)
            return [], 0
        if not stmt.transactional and self._depth > 0 and self._captured is None:
            raise self._not_here(stmt)
        if self._depth:
            self._same_thread()
            self.dialect.note_statement(stmt)
        try:
            return self._raw_run(stmt.sql, stmt.params or None, stmt)
        except ConnectionLostError:
            raise
        except StatementError as exc:
            clearer = self.dialect.explain_error(stmt, exc.cause)
            if clearer is None:
                raise
            raise StatementError(exc.statement, clearer) from exc.cause

    def _not_here(self, stmt: CompiledStatement) -> NonTransactionalStatementError:
        return NonTransactionalStatementError(
            f"{_first_line(str(stmt))} cannot run inside a transaction on {self.dialect.display_name}; "
            "run it in a migration with transaction = False"
        )

    def _in_transaction_plainly(self) -> bool:
        """Inside a transaction, nothing captured, nobody listening: statements need nothing but
        their checks, so a migration's replay takes :meth:`_run_in_transaction` (a run of many
        migrations spends its time between commits there)."""
        return self._depth > 0 and self._captured is None and not self.listeners and not self.closed

    def _same_thread(self) -> None:
        """Refuse a statement from another thread while a transaction is open: it would land in
        that transaction (committed or rolled back with it), or break the driver's connection."""
        if self._tx_thread != get_ident():
            raise KyseraError(
                "this Database has a transaction open in another thread; a Database is one connection, "
                "so give each thread its own: connect() in the thread that uses it"
            )

    def _run_in_transaction(self, stmt: CompiledStatement, params: Sequence[object] | None) -> None:
        """What :meth:`_run_one` does for ``stmt`` (with ``params``) when
        :meth:`_in_transaction_plainly`: the same checks, errors and foreign-key notes."""
        if self._tx_thread != get_ident():
            self._same_thread()
        if not stmt.transactional:
            raise self._not_here(stmt)
        self.dialect.note_statement(stmt)
        if self.dialect.commits_at_ddl:
            self._resume_transaction()
        self._send(stmt, params)

    def _resume_transaction(self) -> None:
        """Inside a transaction that a DDL statement committed (MySQL), open the next one: the
        data changes after that statement then still roll back with the block, instead of each
        committing at once in the autocommit mode the session went back to."""
        if self.dialect.transaction_ended():
            self.dialect.begin(self._conn)

    def _send(self, stmt: CompiledStatement, params: Sequence[object] | None) -> None:
        """Run ``stmt`` with ``params`` on the driver; its errors name the statement."""
        try:
            self._conn.run(stmt.sql, params)
        except KyseraError:
            raise
        except Exception as exc:
            if self._conn.is_connection_error(exc):
                raise ConnectionLostError(str(stmt), exc) from exc
            clearer = self.dialect.explain_error(stmt, exc)
            raise StatementError(str(stmt), exc if clearer is None else clearer) from exc

    def run_bound(self, stmt: CompiledStatement, params: Sequence[object]) -> None:
        """Run ``stmt``, compiled with placeholders, with ``params`` instead of its own (the
        history table's INSERT, compiled once per run)."""
        if self._in_transaction_plainly():
            self._run_in_transaction(stmt, params)
        else:
            self._run_one(replace(stmt, params=tuple(params), display=None))

    def _raw_run(
        self, sql: str, params: Sequence[object] | None, shown: str | CompiledStatement, *, consulted: bool = True
    ) -> tuple[list[Row], int]:
        """Run ``sql``; errors name ``shown`` (a statement renders its values only then).
        ``consulted``: False for kysera's own statement, which a capture does not count as the
        captured code's reading the database."""
        if self.closed:
            raise KyseraError("this Database is closed")
        if self._captured is not None:
            if consulted:
                self._captured.replayable = False  # the captured code read the database
                self._captured.consulted = True
        elif self._depth:
            self._same_thread()
            if self.dialect.commits_at_ddl:
                self._resume_transaction()
        elif self.dialect.keeping_session:
            self.dialect.before_autocommit(self._conn)
        try:
            return self._conn.run(sql, params)
        except KyseraError:
            raise
        except Exception as exc:
            if self._conn.is_connection_error(exc):
                raise ConnectionLostError(str(shown), exc) from exc
            statement = shown if isinstance(shown, CompiledStatement) else CompiledStatement(shown)
            clearer = self.dialect.explain_error(statement, exc)
            raise StatementError(str(shown), exc if clearer is None else clearer) from exc

    def fetch(self, sql: str | Sql, params: Sequence[object] = ()) -> list[Row]:
        """Run a read query, SQL text with the driver's placeholders or ``sql(...)`` with its
        values inside; runs even during a dry run."""
        if isinstance(sql, Sql):
            if params:
                raise BuilderError("fetch(sql(...)) takes its values inside sql(...), not as params")
            statements = self.compile(sql)
            if len(statements) != 1:
                raise BuilderError(f"fetch() runs one query; sql(...) holds {len(statements)} statements")
            [statement] = statements
            if _may_write(statement.sql):
                return self._fetch_writing(replace(statement, reads=False))
            rows, _ = self._raw_run(statement.sql, statement.params or None, statement)
            return rows
        if not isinstance(sql, str) or not sql.strip():
            raise BuilderError(f"fetch() takes a query: SQL text or sql(...), got {sql!r}")
        if not isinstance(params, Mapping):  # a dict: the driver's named placeholders, as it is
            params = _driver_values(params, "fetch")
        if _may_write(sql):
            if isinstance(params, Mapping):  # a statement that changes data is recorded with its values in order
                raise BuilderError(
                    "fetch() of a statement that changes data takes its values as a list, one per placeholder, "
                    "not a dict of named placeholders; or write it with sql('... {} ...', value)"
                )
            values = tuple(params)
            return self._fetch_writing(CompiledStatement(sql, values, RawNode((sql,))))
        rows, _ = self._raw_run(sql, params or None, sql)
        return rows

    def run_own(self, sql: str, params: Sequence[object] | None = None) -> list[Row]:
        """Run one of kysera's own statements about the session (reading or setting back a
        setting, see :mod:`kysera.dialects.session_settings`) now, as it is: even in a dry run,
        seen by no listener, not recorded by a capture nor counted as the captured code's."""
        rows, _ = self._raw_run(sql, params or None, sql, consulted=False)
        return rows

    def _fetch_writing(self, stmt: CompiledStatement) -> list[Row]:
        """``fetch`` of a statement that changes data (``UPDATE ... RETURNING``): it runs as any
        change does, seen by the safety check and the foreign-key check; in a dry run it is
        recorded, not run, and returns no rows (running it would change the database, and the
        check before a real run would run it a second time)."""
        if self._captured is not None:
            self._captured.replayable = False  # the code got no rows: running it again may differ
            self._captured.consulted = True
        rows, _ = self._run_one(stmt)
        return rows

    # ----------------------------------------------------------------- transactions

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    def transaction(self) -> Transaction:
        """A transaction; nested calls become savepoints. Rolls back on any exception.

        ``with db.transaction():`` (or ``as db``). A class rather than a generator: a migration run
        opens one per migration, and a dry run one more.
        """
        return Transaction(self)

    @contextmanager
    def keep_session(self) -> Iterator[None]:
        """Many transactions in a row: settings a transaction changes may stay between them.

        The runner wraps a migration run in it; on SQLite, foreign keys then stay switched off
        between the migrations' transactions (each still checks them before COMMIT) instead of
        two PRAGMAs around each. Statements outside a transaction see the usual settings.
        """
        with self.dialect.keep_session(self._conn):
            yield

    @contextmanager
    def many_commits(self) -> Iterator[None]:
        """Many write transactions in a row, outside any transaction at both ends: the runner
        wraps the migrations it applies in it. On SQLite the rollback journal is kept between
        the commits instead of created and deleted at each (see :meth:`Dialect.many_commits`)."""
        with self.dialect.many_commits(self._conn):
            yield

    def _safe_rollback(self) -> None:
        try:
            self.dialect.rollback(self._conn)
        except Exception:  # the connection may be gone; the server rolls back for us then
            pass

    # ----------------------------------------------------------------- dry runs

    @property
    def capturing(self) -> bool:
        """Whether statements are being recorded instead of run (a dry run).

        Code that asks may behave differently when captured, so its capture is not replayable.
        """
        if self._captured is None:
            return False
        self._captured.replayable = False
        self._captured.consulted = True
        return True

    @property
    def records_only(self) -> bool:
        """Whether a statement given now is only recorded, not run: inside :meth:`capture`,
        except in a :meth:`rehearsal`. Unlike :attr:`capturing`, asking changes nothing."""
        return self._captured is not None and not self._rehearsing

    def capture(self) -> _Capturing:
        """Record statements instead of running them; reads still run. Yields the record."""
        return _Capturing(self)

    @contextmanager
    def planning(self) -> Iterator[None]:
        """Keep what every :meth:`capture` records until the end of the block (a dry run of a
        whole plan), so that compilers that read the catalog see what earlier recorded
        statements would create (:meth:`planned_column`). Only where a compiler asks
        (``Dialect.reads_planned_columns``: MySQL); elsewhere nothing is kept."""
        if not self.dialect.reads_planned_columns:
            yield
            return
        from .planned_schema import PlannedSchema

        previous, self._planned = self._planned, PlannedSchema()
        try:
            yield
        finally:
            self._planned = previous

    def planned_column(self, table: IdentifierNode, column: str) -> PlannedColumn | None:
        """Inside :meth:`planning`: ``column`` of ``table`` as the statements recorded so far
        would leave it, where they touch it; None otherwise."""
        return self._planned.column(table, column) if self._planned is not None else None

    def planned_index_table(self, index: IdentifierNode) -> tuple[bool, IdentifierNode | None]:
        """Inside :meth:`planning`: whether the statements recorded so far create or drop
        ``index``, and the table it is then on (None when they drop it); ``(False, None)``
        otherwise."""
        return self._planned.index_table(index) if self._planned is not None else (False, None)

    @contextmanager
    def rehearsal(self) -> Iterator[bool]:
        """For a dry run, on an engine that ``rehearses_dry_runs`` (SQLite): what :meth:`capture`
        records inside a migration's transaction also runs, in one transaction that is rolled
        back at the end. Later code then finds what earlier statements made (the table an
        ``alter_column`` rebuilds, the column a ``set_not_null`` changes), and errors only the
        database finds are found; nothing stays. Yields whether it rehearses: elsewhere (another
        engine, or already in a transaction or a capture) it does nothing, and a dry run only
        records.

        Statements of a migration that runs outside a transaction are rehearsed as far as a
        transaction allows (what refuses one, such as VACUUM, is only recorded). On SQLite this
        holds the database's write lock while it lasts.
        """
        if not self.dialect.rehearses_dry_runs or self._depth or self._captured is not None or self.closed:
            yield False
            return
        self.dialect.begin(self._conn)
        self._depth = 1
        self._tx_thread = get_ident()
        self._rehearsing = True
        try:
            yield True
        finally:
            self._rehearsing = False
            self._depth = 0
            self._safe_rollback()

    def _rehearse(self, stmt: CompiledStatement) -> None:
        if stmt.transactional and self._depth > 1:  # in the transaction of a migration that has one
            self._send(stmt, stmt.params or None)
        else:
            # a migration that runs outside a transaction (a backfill's batches commit on their
            # own): rehearsed as far as a transaction allows, so later migrations find what it made
            try:
                self._send(stmt, stmt.params or None)
            except StatementError as exc:
                text = str(exc.cause).lower()
                if "within a transaction" in text or "inside a transaction" in text:
                    return  # e.g. VACUUM, which refuses a transaction: recorded, not rehearsed
                raise  # an error the real run would meet: the dry run reports it
        self.dialect.note_statement(stmt)  # which foreign keys rehearsal_problem() checks

    def rehearsal_problem(self) -> str | None:
        """In a :meth:`rehearsal`: what the engine would refuse at COMMIT of what ran so far
        (SQLite's foreign keys); None when nothing."""
        return self.dialect.commit_problem(self._conn) if self._rehearsing else None

    def replay(self, statements: Sequence[CompiledStatement]) -> None:
        """Run statements a :meth:`capture` recorded, in order, as the captured code ran them.

        Meant for a replayable :class:`Capture`, inside the transaction the code ran in.
        """
        if self._in_transaction_plainly():
            for statement in statements:
                self._run_in_transaction(statement, statement.params or None)
            return
        for statement in statements:
            self._run_one(statement)

    # ----------------------------------------------------------------- catalog helpers

    @property
    def session_id(self) -> int | None:
        """The server's id for this connection (PostgreSQL's backend pid, MySQL's connection
        id); None on SQLite."""
        return self._conn.session_id()

    def table_exists(self, table: str | Sql) -> bool:
        """Whether ``table`` (``"users"``, ``"app.users"``, or ``sql.id("a.b")``) exists; an
        unqualified name is looked for in the schema of :meth:`with_schema`, as builders put it."""
        from .dialects.catalog import table_exists

        node = name_node(table, "table_exists()'s table")
        if node.schema is None and self._default_schema:
            node = IdentifierNode(node.name, self._default_schema)
        return table_exists(self, node)

    def introspect(self, schema: str | None = None, *, exclude: Sequence[str] = ()) -> SchemaInfo:
        """Tables, views, enums and sequences of ``schema`` (default: the current one)."""
        from .introspection import introspect

        return introspect(self, schema or self._default_schema, exclude=exclude)

    def introspect_table(self, name: str) -> TableInfo | None:
        """Columns, keys, indexes and constraints of one table; None when it does not exist."""
        from .introspection import introspect_table

        return introspect_table(self, name, None if "." in name else self._default_schema)


class _Capturing:
    """What :meth:`Database.capture` returns. A class rather than a generator: the safety gate
    captures each migration's dry run."""

    __slots__ = ("_db", "_previous")

    def __init__(self, db: Database) -> None:
        self._db = db
        self._previous: Capture | None = None

    def __enter__(self) -> Capture:
        db = self._db
        self._previous = db._captured
        record = db._captured = Capture()
        return record

    def __exit__(self, *exc: object) -> None:
        self._db._captured = self._previous


class Transaction:
    """What :meth:`Database.transaction` returns: the outermost transaction, or a savepoint
    inside one. While statements are captured (a dry run), nothing is sent to the server."""

    __slots__ = ("_db", "_savepoint")

    def __init__(self, db: Database) -> None:
        self._db = db
        #: None for the outermost transaction; a savepoint's name ("" when captured: none is made)
        self._savepoint: str | None = None

    def __enter__(self) -> Database:
        db = self._db
        if db._depth == 0:
            if db._captured is None:
                db.dialect.begin(db._conn)
            db._depth = 1
            db._tx_thread = get_ident()
            return db
        db._same_thread()
        db._savepoint_seq += 1
        name = f"kysera_sp_{db._savepoint_seq}"
        if db._captured is None:
            db._raw_run(f"SAVEPOINT {name}", None, f"SAVEPOINT {name}")
            self._savepoint = name
        else:
            self._savepoint = ""
        db._depth += 1
        return db

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        db = self._db
        name = self._savepoint
        if name is None:  # the outermost transaction
            db._depth = 0
            if exc_type is not None:
                if db._captured is None:
                    db._safe_rollback()
                else:
                    db._captured.replayable = False
            elif db._captured is None:
                db.dialect.commit(db._conn)
            return
        db._depth -= 1
        if db._captured is not None:
            if exc_type is not None:
                db._captured.replayable = False  # the real run would roll part of it back
            return
        if not name:
            return
        try:
            if exc_type is not None:
                db._raw_run(f"ROLLBACK TO SAVEPOINT {name}", None, "ROLLBACK TO SAVEPOINT")
            db._raw_run(f"RELEASE SAVEPOINT {name}", None, f"RELEASE SAVEPOINT {name}")
        except StatementError as error:
            if not db.dialect.savepoint_gone(error.cause):
                raise
            # a DDL statement in the block committed the transaction, and the savepoint with it:
            # nothing is left to release, or to roll back; the block's own error stays the error
            if exc is not None:
                exc.add_note(
                    f"note: the block could not be rolled back to its savepoint: {db.dialect.display_name} "
                    "committed at a DDL statement inside it, so what ran before the error stays"
                )


def _driver_values(params: object, call: str) -> tuple[object, ...]:
    """``params`` of ``execute``/``fetch`` with SQL text: a list of values, one per placeholder.
    A lone value or a string (its characters would be the values) is a mistake, and so is a dict
    given to ``execute`` (its keys would be the values)."""
    if isinstance(params, str | bytes | bytearray | Mapping) or not isinstance(params, Iterable):
        raise BuilderError(
            f"{call}(sql_text, params) takes a list of values, one per placeholder, got "
            f"{type(params).__name__} {params!r:.60}; write [value] for one value"
        )
    return tuple(params)


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else text
    return line if len(line) <= 120 else line[:117] + "..."


def connect(url: str | DatabaseUrl) -> Database:
    """Open a database from a URL: ``sqlite:///app.db``, ``postgresql://...``, ``mysql://...``.
    Options go in the URL's query (``?connect_timeout=5``, ``?sslmode=require``): see
    docs/configuration.md. One Database is one connection: give each thread its own."""
    from .dialects import open_connection

    parsed = url if isinstance(url, DatabaseUrl) else parse_url(url)
    conn, dialect = open_connection(parsed)
    return Database(conn, dialect, parsed)

