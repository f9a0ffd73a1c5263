"""MySQL/MariaDB dump: ``SHOW CREATE TABLE`` for the DDL (faithful by construction), data as
INSERTs read in primary-key order, page by page, with foreign key checks off during the load."""

from __future__ import annotations

import datetime as _dt
import decimal
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

from ..introspection.mysql import current_database, is_mariadb
from .common import (
    DumpResult,
    InsertWriter,
    Options,
    dependency_order,
    insert_head,
    list_loaded_tables,
    option,
    section,
    statement,
)

if TYPE_CHECKING:
    from ..database import Database
    from ..dialects.base import Row
    from ..dialects.compiler import QueryCompiler

_DEFINER = re.compile(r"\s*DEFINER\s*=\s*(?:`(?:[^`]|``)*`|'(?:[^']|'')*'|[^\s@]+)@(?:`(?:[^`]|``)*`|'(?:[^']|'')*'|[^\s*]+)", re.I)
_AUTO_INCREMENT = re.compile(r"\sAUTO_INCREMENT=(\d+)")

#: the sql_mode a dump loads under: an AUTO_INCREMENT column's 0 stays 0
_LOAD_SQL_MODE = "NO_AUTO_VALUE_ON_ZERO"

PROLOGUE = (
    "SET NAMES utf8mb4",
    f"SET @kysera_old_sql_mode = @@SESSION.sql_mode, SESSION sql_mode = '{_LOAD_SQL_MODE}'",
    "SET @kysera_old_foreign_key_checks = @@SESSION.foreign_key_checks, SESSION foreign_key_checks = 0",
    "SET @kysera_old_unique_checks = @@SESSION.unique_checks, SESSION unique_checks = 0",
    "SET @kysera_old_time_zone = @@SESSION.time_zone, SESSION time_zone = '+00:00'",
)
EPILOGUE = (
    "SET SESSION time_zone = @kysera_old_time_zone",
    "SET SESSION unique_checks = @kysera_old_unique_checks",
    "SET SESSION foreign_key_checks = @kysera_old_foreign_key_checks",
    "SET SESSION sql_mode = @kysera_old_sql_mode",
)


@contextmanager
def snapshot(db: Database) -> Iterator[str]:
    """One REPEATABLE READ transaction for the whole dump, timestamps read in UTC."""
    saved = db.fetch("SELECT @@SESSION.time_zone AS tz")[0]["tz"]
    db.fetch("SET SESSION time_zone = '+00:00'")
    try:
        if not db.in_transaction:
            db.fetch("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        with db.transaction():
            yield current_database(db)
    finally:
        db.fetch("SET SESSION time_zone = %s", [saved])


def _pct(sql: str) -> str:
    """With parameters PyMySQL formats the query with ``%``: a literal ``%`` must be doubled."""
    return sql.replace("%", "%%")


def mysql_string(value: str) -> str:
    """A string literal for the session modes the dump sets (backslash escapes on).

    Line breaks are escaped too, so newline translation cannot change a value.
    """
    return (
        "'"
        + value.replace("\\", "\\\\")
        .replace("'", "''")
        .replace("\x00", "\\0")
        .replace("\x1a", "\\Z")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        + "'"
    )


def _time_text(value: _dt.timedelta) -> str:
    micros = (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds
    sign = "-" if micros < 0 else ""
    micros = abs(micros)
    hours, rest = divmod(micros, 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    seconds, fraction = divmod(rest, 1_000_000)
    text = f"{sign}{hours:02d}:{minutes:02d}:{seconds:02d}"
    return text + (f".{fraction:06d}" if fraction else "")


def literal(q: QueryCompiler, value: object) -> str:
    if isinstance(value, str):
        return mysql_string(value)
    if isinstance(value, decimal.Decimal) and value.is_finite():
        return format(value, "f")
    if isinstance(value, _dt.timedelta):
        return "'" + _time_text(value) + "'"
    if isinstance(value, set | frozenset):
        return mysql_string(",".join(sorted(str(v) for v in value)))
    if isinstance(value, _dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(_dt.UTC).replace(tzinfo=None)
    return q.literal(value)


def _tables(db: Database, schema: str, exclude: tuple[str, ...]) -> dict[str, bool]:
    """The schema's tables to dump, in name order, each with whether it is WITH SYSTEM
    VERSIONING (MariaDB: a table type of its own)."""
    rows = db.fetch(
        "SELECT TABLE_NAME AS name, TABLE_TYPE = 'SYSTEM VERSIONED' AS versioned FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = %s AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') ORDER BY TABLE_NAME",
        [schema],
    )
    return {str(r["name"]): bool(r["versioned"]) for r in rows if str(r["name"]) not in exclude}


def _show(db: Database, q: QueryCompiler, kind: str, name: str, column: str) -> str:
    rows = db.fetch(f"SHOW CREATE {kind} {q.quote(name)}")
    return str(rows[0][column])


def _columns(db: Database, schema: str, table: str) -> list[Row]:
    return db.fetch(
        "SELECT COLUMN_NAME AS name, GENERATION_EXPRESSION AS gen, IS_NULLABLE AS nullable "
        "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION",
        [schema, table],
    )


def _key(db: Database, schema: str, table: str, columns: list[Row]) -> list[str]:
    """Primary key, else a unique index over NOT NULL columns: the order rows are paged in."""
    rows = db.fetch(
        "SELECT INDEX_NAME AS name, COLUMN_NAME AS col, SUB_PART AS sub, NON_UNIQUE AS non_unique "
        "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s "
        "ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX",
        [schema, table],
    )
    not_null = {str(c["name"]) for c in columns if str(c["nullable"]).upper() == "NO"}
    indexes: dict[str, list[Row]] = {}
    for r in rows:
        if not int(str(r["non_unique"])):
            indexes.setdefault(str(r["name"]), []).append(r)
    for parts in indexes.values():
        cols = [str(p["col"]) for p in parts if p["col"] is not None]
        if len(cols) == len(parts) and all(p["sub"] is None for p in parts) and set(cols) <= not_null:
            return cols
    return []


def _statement_cap(db: Database, opts: Options) -> int:
    """``batch_bytes``, and at most half the source server's max_allowed_packet: a server set
    below the 16 MB default most likely has a target set the same way."""
    packet = int(str(db.fetch("SELECT @@SESSION.max_allowed_packet AS p")[0]["p"]))
    return max(1, min(opts.batch_bytes, packet // 2))


def _view_deps(views: dict[str, str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for name, text in views.items():
        body = text.split(" AS ", 1)[-1]
        out[name] = {o for o in views if o != name and ("`" + o.replace("`", "``") + "`") in body}
    return out


def dump(db: Database, out: TextIO, opts: Options, result: DumpResult) -> None:
    q = db.dialect.compiler(db)
    with snapshot(db) as schema:
        found = _tables(db, schema, opts.exclude)
        tables = list(found)
        refs: dict[str, set[str]] = {}
        for r in db.fetch(
            "SELECT TABLE_NAME AS t, REFERENCED_TABLE_NAME AS r FROM information_schema.REFERENTIAL_CONSTRAINTS "
            "WHERE CONSTRAINT_SCHEMA = %s",
            [schema],
        ):
            refs.setdefault(str(r["t"]), set()).add(str(r["r"]))
        # foreign key checks are off while loading; the order only makes the script read well
        tables = dependency_order(tables, lambda t: refs.get(t, set()))
        result.tables = tables
        routines = int(
            str(
                db.fetch(
                    "SELECT (SELECT count(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = %s) "
                    "+ (SELECT count(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = %s) AS n",
                    [schema, schema],
                )[0]["n"]
            )
        )
        if routines:
            note = (
                f"{routines} stored routine(s)/event(s) of {schema} are not in this dump; "
                f"dump with {option('native')} (mariadb-dump) to keep them"
            )
            result.note(out, note)
        versioned = [t for t, is_versioned in found.items() if is_versioned]
        if versioned and opts.data:
            note = (
                f"{', '.join(versioned)} {'is' if len(versioned) == 1 else 'are'} WITH SYSTEM VERSIONING: the rows as "
                "they are now are in this dump, not their history (mariadb-dump --dump-history keeps it)"
            )
            result.note(out, note)
        list_loaded_tables(out, opts, tables)
        for line in PROLOGUE:
            statement(out, line)
        ddl = {t: _show(db, q, "TABLE", t, "Create Table") for t in tables}
        sequences: list[str] = []
        if is_mariadb(db):
            sequences = [
                str(r["name"])
                for r in db.fetch(
                    "SELECT TABLE_NAME AS name FROM information_schema.TABLES "
                    "WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = 'SEQUENCE' ORDER BY TABLE_NAME",
                    [schema],
                )
                if str(r["name"]) not in opts.exclude
            ]
        if opts.schema:
            for s in sequences:
                section(out, f"sequence {s}")
                statement(out, _show(db, q, "SEQUENCE", s, "Create Table"))
            for t in tables:
                section(out, f"table {t}")
                text = ddl[t]
                if not opts.data:  # a schema-only dump starts the counters afresh
                    head, sep, tail = text.rpartition("\n)")
                    text = head + sep + _AUTO_INCREMENT.sub("", tail)
                statement(out, text)
        if opts.data:
            for t in tables:
                result.rows += _dump_rows(db, q, out, schema, t, opts, result)
                if not opts.schema:
                    m = _AUTO_INCREMENT.search(ddl[t].rpartition("\n)")[2])
                    if m:
                        statement(out, f"ALTER TABLE {q.quote(t)} AUTO_INCREMENT = {int(m.group(1))}")
            for s in sequences:
                value = db.fetch(f"SELECT next_not_cached_value AS v FROM {q.quote(s)}")[0]["v"]
                statement(out, f"SELECT SETVAL({q.quote(s)}, {int(str(value))}, 0)")
        if opts.schema:
            views = {
                str(r["name"]): _DEFINER.sub("", _show(db, q, "VIEW", str(r["name"]), "Create View"), count=1)
                for r in db.fetch(
                    "SELECT TABLE_NAME AS name FROM information_schema.VIEWS WHERE TABLE_SCHEMA = %s ORDER BY TABLE_NAME",
                    [schema],
                )
                if str(r["name"]) not in opts.exclude
            }
            if views:
                section(out, "views")
                deps = _view_deps(views)
                for v in dependency_order(list(views), lambda n: deps.get(n, set())):
                    statement(out, views[v])
            triggers = db.fetch(
                "SELECT TRIGGER_NAME AS name, EVENT_OBJECT_TABLE AS tbl FROM information_schema.TRIGGERS "
                "WHERE TRIGGER_SCHEMA = %s ORDER BY EVENT_OBJECT_TABLE, ACTION_ORDER",
                [schema],
            )
            triggers = [t for t in triggers if str(t["tbl"]) in tables]
            if triggers:
                section(out, "triggers (created after the data, so loading does not fire them)")
                out.write("DELIMITER ;;\n")
                for trg in triggers:
                    shown = db.fetch(f"SHOW CREATE TRIGGER {q.quote(str(trg['name']))}")[0]
                    # a trigger's body is read under the sql_mode it was created with
                    # (PIPES_AS_CONCAT, ANSI_QUOTES ...): it is recreated under that mode too
                    out.write(f"SET SESSION sql_mode = {q.string_literal(str(shown['sql_mode']))};;\n")
                    text = str(shown["SQL Original Statement"])
                    out.write(_DEFINER.sub("", text, count=1).strip().rstrip(";") + ";;\n")
                out.write(f"SET SESSION sql_mode = {q.string_literal(_LOAD_SQL_MODE)};;\n")
                out.write("DELIMITER ;\n")
        section(out, "restore the session")
        for line in EPILOGUE:
            statement(out, line)


def _dump_rows(
    db: Database, q: QueryCompiler, out: TextIO, schema: str, table: str, opts: Options, result: DumpResult
) -> int:
    columns = _columns(db, schema, table)
    names = [str(c["name"]) for c in columns]
    written = [str(c["name"]) for c in columns if not c["gen"]]
    if not written:
        return 0
    key = _key(db, schema, table, columns)
    select = f"SELECT {', '.join(q.quote(n) for n in names)} FROM {q.quote(table)}"
    writer = InsertWriter(out, insert_head(q, table, written), opts.batch_rows, _statement_cap(db, opts), result)
    section(out, f"data of {table}")
    last: list[object] | None = None
    offset = 0
    while True:
        if key:
            order = " ORDER BY " + ", ".join(q.quote(k) for k in key)
            if last is None:
                rows = db.fetch(select + order + f" LIMIT {int(opts.page_rows)}")
            else:
                keys = "(" + ", ".join(q.quote(k) for k in key) + ")"
                marks = "(" + ", ".join("%s" for _ in key) + ")"
                rows = db.fetch(
                    _pct(f"{select} WHERE {keys} > ") + marks + _pct(order) + f" LIMIT {int(opts.page_rows)}",
                    last,
                )
        else:
            # no usable key: plain paging, stable within the dump's snapshot
            rows = db.fetch(select + f" LIMIT {int(opts.page_rows)} OFFSET {offset}")
            offset += len(rows)
        for row in rows:
            writer.add(literal(q, row[n]) for n in written)
        if len(rows) < opts.page_rows:
            break
        last = [rows[-1][k] for k in key]
    writer.flush()
    return writer.rows
