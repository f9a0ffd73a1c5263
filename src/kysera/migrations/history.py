"""The history table (``kysera_migrations`` by default): which migrations ran, when, how.

One row per migration that is applied, failed part-way, or is running right now:

============== ============== =====================================================================
column         type           meaning
============== ============== =====================================================================
id             serial (PK)    application order within a batch (SQLite: INTEGER PRIMARY KEY)
name           varchar(255)   the migration's name (unique)
checksum       varchar(64)    sha256 of its file (or code) when it was applied or accepted
state          varchar(16)    ``applied``, ``failed`` or ``running``
direction      varchar(8)     for ``failed``/``running`` rows: ``up`` or ``down``
batch          integer        one number per run of the runner; rollback goes by (batch, id)
applied_at     datetime       when it was applied (UTC, second precision)
duration_ms    integer        how long it took
statement      text           for ``failed`` rows: the statement that failed
error          text           for ``failed`` rows: the database's (or the code's) error
============== ============== =====================================================================

The table is made with kysera's own schema builder, so the types are the portable ones on every
engine. It is created on the first real run, while the migration lock is held; ``status()`` and
dry runs only read it and treat a missing table as an empty history.
"""

from __future__ import annotations

import datetime as _dt
import time
from typing import TYPE_CHECKING, NamedTuple

from ..errors import StatementError
from ..nodes import CompiledStatement, IdentifierNode
from .errors import MigrationStateError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..database import Database
    from ..dialects.base import Row
    from ..fragment import Sql
    from ..schema.column import ColumnBuilder

APPLIED = "applied"
FAILED = "failed"
RUNNING = "running"

#: the columns :meth:`HistoryTable.insert` writes, in the order it binds them
INSERT_COLUMNS = ("name", "checksum", "state", "direction", "batch", "applied_at", "duration_ms")

COLUMNS = (
    "id",
    "name",
    "checksum",
    "state",
    "direction",
    "batch",
    "applied_at",
    "duration_ms",
    "statement",
    "error",
)


class HistoryRow(NamedTuple):
    """One row of the history table (a tuple: status reads a hundred of them at start-up)."""

    id: int
    name: str
    checksum: str | None
    state: str
    direction: str | None
    batch: int
    applied_at: _dt.datetime | None
    duration_ms: int | None
    statement: str | None
    error: str | None

    @property
    def order(self) -> tuple[int, int]:
        return (self.batch, self.id)


def newest_applied_position(rows: Sequence[HistoryRow], position: dict[str, int]) -> int:
    """The list position of the newest applied migration that the code has, or -1."""
    return max(
        (position[r.name] for r in rows if r.state == APPLIED and r.name in position), default=-1
    )


def utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0)


#: how applied_at is written (UTC), the same on every engine
_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


def _timestamp_text(moment: _dt.datetime) -> str:
    return moment.astimezone(_dt.UTC).strftime(_TIMESTAMP_FORMAT)


#: the second :func:`_now_text` last formatted, and its text
_last_now: tuple[int, str] = (-1, "")


def _now_text() -> str:
    """``_timestamp_text(utc_now())``, at a fraction of the cost: one history row per migration,
    and a run applies many in the same second, which is formatted once."""
    global _last_now
    second = int(time.time())
    if second != _last_now[0]:
        _last_now = (second, time.strftime(_TIMESTAMP_FORMAT, time.gmtime(second)))
    return _last_now[1]


def _parse_time(value: object) -> _dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        moment = value
    else:
        try:
            moment = _dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=_dt.UTC)
    return moment.astimezone(_dt.UTC)


def _int(value: object, default: int = 0) -> int:
    if value is None:
        return default
    return int(str(value)) if not isinstance(value, int) else value


def _opt_int(value: object) -> int | None:
    return None if value is None else _int(value)


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


class HistoryTable:
    """Reads and writes the history table of one database."""

    def __init__(self, db: Database, table_name: str) -> None:
        self.db = db
        self.name = table_name
        self.node: IdentifierNode = db._table(table_name)
        self._insert: CompiledStatement | None = None
        self._delete: CompiledStatement | None = None
        db.dialect.note_no_foreign_keys(self.node)  # its rows reference nothing

    @property
    def shown(self) -> str:
        return self.node.dotted

    def next_batch(self, first: bool) -> Sql:
        """The batch of a script's run, worked out by the database as the script runs: after
        every batch in the table for the script's ``first`` row, that same batch for the rest
        (a script written now may run after other runs). The table is read through a derived
        table, as MySQL requires of an INSERT that reads its own table."""
        from ..fragment import sql

        step = "+ 1" if first else ""
        return sql(
            f"(SELECT COALESCE(MAX(b.{{}}), {0 if first else 1}) {step} FROM (SELECT {{}} FROM {{}}) AS b)",
            sql.id("batch"),
            sql.id("batch"),
            sql.id(*([self.node.schema] if self.node.schema else []), self.node.name),
        )

    def exists(self) -> bool:
        from ..dialects.catalog import table_exists

        return table_exists(self.db, self.node)

    def create(self) -> None:
        """Create the table if it is not there (call it while holding the migration lock)."""
        # SQLite: a plain INTEGER PRIMARY KEY numbers rows by itself; AUTOINCREMENT would also
        # write sqlite_sequence at every migration's commit, for ids no order needs
        key = "integer" if self.db.dialect.name == "sqlite" else "serial"
        try:
            self._create(key)
        except StatementError:
            schema = self.node.schema
            if schema and not self._schema_exists(schema):
                from ..errors import ConfigurationError

                if self.db.dialect.name == "sqlite":
                    raise ConfigurationError(
                        f"the history table {self.shown} is in schema {schema!r}, but SQLite has no schemas (a dotted "
                        f"name there means a database attached to the connection, and none is attached as {schema!r}): "
                        f"name the table without {schema + '.'!r} (table_name=..., [migrations] table in kysera.toml)"
                    ) from None
                raise ConfigurationError(
                    f"the history table {self.shown} is in schema {schema!r}, which does not exist: create it first "
                    f"(db.schema.create_schema({schema!r})), or name a table in an existing schema "
                    "(table_name=..., [migrations] table in kysera.toml)"
                ) from None
            raise

    def _schema_exists(self, schema: str) -> bool:
        dialect = self.db.dialect.name
        if dialect == "postgres":
            return bool(self.db.fetch("SELECT 1 AS x FROM pg_namespace WHERE nspname = %s", [schema]))
        if dialect == "mysql":
            return bool(self.db.fetch("SELECT 1 AS x FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", [schema]))
        # SQLite: a schema is a database attached to the connection (main, temp, or ATTACH ... AS name)
        return any(row["name"] == schema for row in self.db.fetch("PRAGMA database_list"))

    def _create(self, key: str) -> None:
        (
            self.db.schema.create_table(self.name)
            .if_not_exists()
            .add_column("id", key, lambda col: col.primary_key())
            # MySQL/MariaDB's default collation takes 001_cafe and 001_café for one name
            .add_column("name", "varchar(255)", lambda col: self._exact(col.not_null().unique()))
            .add_column("checksum", "varchar(64)")
            .add_column("state", "varchar(16)", lambda col: col.not_null())
            .add_column("direction", "varchar(8)")
            .add_column("batch", "integer", lambda col: col.not_null())
            .add_column("applied_at", "datetime", lambda col: col.not_null())
            .add_column("duration_ms", "integer")
            .add_column("statement", "text")
            .add_column("error", "text")
            .execute()
        )

    def _exact(self, col: ColumnBuilder) -> ColumnBuilder:
        """A column whose text compares byte for byte: names are told apart as the files are."""
        return col.collate("utf8mb4_bin") if self.db.dialect.name == "mysql" else col

    def read(self) -> list[HistoryRow]:
        """Every row, in application order (batch, then id); empty when the table is missing."""
        return self.read_existing() if self.exists() else []

    def read_existing(self) -> list[HistoryRow]:
        """:meth:`read` for a table known to exist."""
        try:
            rows = (
                self.db.select_from(self.name)
                .select(list(COLUMNS))
                .order_by("batch")
                .order_by("id")
                .fetch_all()
            )
        except StatementError as exc:
            raise MigrationStateError(
                f"table {self.shown} exists but is not a kysera history table ({exc.args[0].splitlines()[0]}); "
                "use another table_name for kysera's history"
            ) from exc
        return [self._row(r) for r in rows]

    @staticmethod
    def _row(r: Row) -> HistoryRow:
        return HistoryRow(
            id=_int(r["id"]),
            name=str(r["name"]),
            checksum=_opt_str(r["checksum"]),
            state=str(r["state"]),
            direction=_opt_str(r["direction"]),
            batch=_int(r["batch"]),
            applied_at=_parse_time(r["applied_at"]),
            duration_ms=_opt_int(r["duration_ms"]),
            statement=_opt_str(r["statement"]),
            error=_opt_str(r["error"]),
        )

    # ----------------------------------------------------------------- writes

    def insert(
        self,
        name: str,
        *,
        checksum: str | None,
        state: str,
        batch: int | Sql,
        duration_ms: int | None = None,
        direction: str | None = None,
    ) -> None:
        """``batch``: a number, or (in a script) an expression the database works out."""
        values = (name, checksum, state, direction, batch, _now_text(), duration_ms)
        if self._insert is not None and not self.db.capturing:
            # compiled once from the builder; later inserts only bind their values (a run of a
            # thousand migrations would otherwise compile the same INSERT a thousand times).
            # Scripts and dry runs (capturing) compile each one, to show its values inline.
            self.db.run_bound(self._insert, values)
            return
        compiled = self.db.compile(
            self.db.insert_into(self.name).values(dict(zip(INSERT_COLUMNS, values, strict=True)))
        )
        if len(compiled) == 1 and compiled[0].params == values:  # one statement, values bound in order
            self._insert = compiled[0]
        self.db.run_compiled(compiled)

    def update(self, name: str, **values: object) -> None:
        if "applied_at" in values and isinstance(values["applied_at"], _dt.datetime):
            values["applied_at"] = _timestamp_text(values["applied_at"])
        self.db.update_table(self.name).set(values).where("name", "=", name).execute()

    def delete(self, name: str) -> None:
        if self._delete is not None and not self.db.capturing:
            # compiled once, as the INSERT of :meth:`insert`: a rollback of many migrations
            # deletes one row after each
            self.db.run_bound(self._delete, (name,))
            return
        compiled = self.db.compile(self.db.delete_from(self.name).where("name", "=", name))
        if len(compiled) == 1 and compiled[0].params == (name,):
            self._delete = compiled[0]
        self.db.run_compiled(compiled)
