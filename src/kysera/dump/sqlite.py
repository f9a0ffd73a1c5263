"""SQLite dump: the schema as ``sqlite_master`` stores it, data as INSERTs read in rowid order."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

from ..dialects.sqlite_table_sql import read_create_table
from ..errors import StatementError
from .common import (
    DumpError,
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


@contextmanager
def snapshot(db: Database) -> Iterator[None]:
    """A read transaction (deferred: it does not block writers) for a consistent dump."""
    if db.in_transaction:
        yield
        return
    db.fetch("BEGIN DEFERRED")
    try:
        yield
    finally:
        db.fetch("COMMIT")


def literal(q: QueryCompiler, value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "NULL"  # SQLite stores NaN as NULL anyway
        if math.isinf(value):
            return "9e999" if value > 0 else "-9e999"
        return repr(value)
    if isinstance(value, str):
        if "\x00" in value:
            return f"CAST(X'{value.encode('utf-8', 'surrogateescape').hex()}' AS TEXT)"
        if "\n" in value or "\r" in value:
            return _without_line_breaks(q, value)
    return q.literal(value)


def _without_line_breaks(q: QueryCompiler, value: str) -> str:
    """``replace('a\\nb', '\\n', char(10))``, as sqlite3's .dump writes it: no raw line break
    inside a literal, so newline translation on the way to or from the file cannot alter it.

    Each marker starts with a character the value does not contain, so it cannot be confused
    with the value's own text.
    """
    if "\\" not in value:
        markers = {"\n": "\\n", "\r": "\\r"}
    else:
        free = (chr(c) for c in range(0xE000, 0xF900) if chr(c) not in value)
        markers = {"\n": next(free), "\r": next(free)}
    text = q.string_literal(value.replace("\n", markers["\n"]).replace("\r", markers["\r"]))
    for char, marker in markers.items():
        if char in value:
            text = f"replace({text}, {q.string_literal(marker)}, char({ord(char)}))"
    return text


def _objects(db: Database) -> list[Row]:
    return db.fetch(
        "SELECT type, name, tbl_name, sql FROM sqlite_master "
        "WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid"
    )


def dump(db: Database, out: TextIO, opts: Options, result: DumpResult) -> None:
    q = db.dialect.compiler(db)
    with snapshot(db):
        objects = [o for o in _objects(db) if str(o["name"]) not in opts.exclude and str(o["tbl_name"]) not in opts.exclude]
        tables = [o for o in objects if o["type"] == "table"]
        for t in tables:
            if str(t["sql"] or "").upper().startswith("CREATE VIRTUAL TABLE"):
                raise DumpError(
                    f"table {t['name']} is a virtual table, which kysera's own dump does not handle; "
                    f"dump with {option('native')} (sqlite3 .dump) instead"
                )
        refs = {
            str(t["name"]): {str(r["table"]) for r in db.fetch("SELECT * FROM pragma_foreign_key_list(?)", [t["name"]])}
            for t in tables
        }
        by_name = {str(t["name"]): t for t in tables}
        order = dependency_order(sorted(by_name), lambda n: refs.get(n, set()))
        tables = [by_name[n] for n in order]
        result.tables = order
        list_loaded_tables(out, opts, order)
        statement(out, "PRAGMA foreign_keys = OFF")
        statement(out, "BEGIN TRANSACTION")
        if opts.schema:
            for t in tables:
                section(out, f"table {t['name']}")
                statement(out, str(t["sql"]))
        if opts.data:
            for t in tables:
                result.rows += _dump_rows(db, q, out, str(t["name"]), str(t["sql"] or ""), opts, result)
            names = {str(t["name"]) for t in tables}
            if db.fetch("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"):
                seqs = [r for r in db.fetch("SELECT name, seq FROM sqlite_sequence ORDER BY name") if str(r["name"]) in names]
                if seqs:
                    section(out, "AUTOINCREMENT positions")
                    for r in seqs:
                        name = q.string_literal(str(r["name"]))
                        statement(out, f"DELETE FROM sqlite_sequence WHERE name = {name}")
                        statement(out, f"INSERT INTO sqlite_sequence (name, seq) VALUES ({name}, {int(str(r['seq']))})")
        if opts.schema:
            rest = [o for o in objects if o["type"] in ("index", "view", "trigger") and o["sql"] is not None]
            for kind, title in (("index", "indexes"), ("view", "views"), ("trigger", "triggers")):
                items = [o for o in rest if o["type"] == kind]
                if items:
                    section(out, title)
                    for o in items:
                        statement(out, str(o["sql"]))
            # numbers an application keeps in the file's header (its own schema version, say)
            marks = [(p, int(str(db.fetch(f"PRAGMA {p}")[0][p]))) for p in ("user_version", "application_id")]
            if any(value for _, value in marks):
                section(out, "the database header")
                for pragma, value in marks:
                    if value:
                        statement(out, f"PRAGMA {pragma} = {value}")
        statement(out, "COMMIT")


def _dump_rows(
    db: Database, q: QueryCompiler, out: TextIO, table: str, sql: str, opts: Options, result: DumpResult
) -> int:
    info = db.fetch("SELECT name, pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid", [table])
    written = [str(c["name"]) for c in info if int(str(c["hidden"])) == 0]
    if not written:
        return 0
    lowered = {n.lower() for n in written}
    if read_create_table(sql).without_rowid:
        key = [str(c["name"]) for c in sorted(info, key=lambda c: int(str(c["pk"]))) if int(str(c["pk"])) > 0]
        key_exprs = [q.quote(k) for k in key]
    else:
        alias = next((a for a in ("_rowid_", "rowid", "oid") if a not in lowered), None)
        if alias is None:
            raise DumpError(f"table {table} has columns named rowid, _rowid_ and oid, so its rows cannot be paged")
        key_exprs = [alias]
    key_names = [f"__kysera_k{i}" for i in range(len(key_exprs))]
    while any(k.lower() in lowered for k in key_names):
        key_names = ["_" + k for k in key_names]
    select = (
        "SELECT "
        + ", ".join(f"{e} AS {n}" for e, n in zip(key_exprs, key_names, strict=True))
        + ", "
        + ", ".join(q.quote(c) for c in written)
        + f" FROM {q.quote(table)}"
    )
    order = " ORDER BY " + ", ".join(key_exprs) + f" LIMIT {int(opts.page_rows)}"
    keys_tuple = "(" + ", ".join(key_exprs) + ")"
    marks = "(" + ", ".join("?" for _ in key_exprs) + ")"
    writer = InsertWriter(out, insert_head(q, table, written), opts.batch_rows, opts.batch_bytes, result)
    section(out, f"data of {table}")
    last: list[object] | None = None
    raw = getattr(db.driver_connection, "raw", None)
    exact = False  # True once text that is not UTF-8 was met: read it byte for byte from then on
    try:
        while True:
            query = select + order if last is None else f"{select} WHERE {keys_tuple} > {marks}{order}"
            try:
                rows = db.fetch(query, last or ())
            except StatementError as exc:
                if exact or raw is None or "Could not decode to UTF-8" not in str(exc.cause):
                    raise
                # TEXT holding bytes that are not UTF-8 (cast(x'ff' as text)): each byte that
                # does not decode becomes a lone surrogate, written back as CAST(X'..' AS TEXT)
                raw.text_factory = _bytes_kept
                exact = True
                rows = db.fetch(query, last or ())
            for row in rows:
                writer.add((_exact(q, row[c]) if exact else literal(q, row[c])) for c in written)
            if len(rows) < opts.page_rows:
                break
            last = [rows[-1][k] for k in key_names]
    finally:
        if exact and raw is not None:
            raw.text_factory = str
    writer.flush()
    return writer.rows


def _bytes_kept(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _exact(q: QueryCompiler, value: object) -> str:
    """:func:`literal`, for text read with :func:`_bytes_kept`: text that was not UTF-8 as the
    bytes it holds."""
    if isinstance(value, str) and not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return f"CAST(X'{value.encode('utf-8', 'surrogateescape').hex()}' AS TEXT)"
    return literal(q, value)
