"""Backups: ``dump_database`` writes an SQL script of schema and data, ``restore_database``
loads it into an empty database of the same engine.

    with open("backup.sql", "w", encoding="utf-8") as f:
        dump_database(db, f)                       # schema, data, sequences, views ...
    restore_database(fresh_db, "backup.sql")

``native=True`` uses the engine's own tool (pg_dump, mariadb-dump, sqlite3) instead; the result
still restores with :func:`restore_database`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, TextIO

from ..errors import ConfigurationError
from ..nodes import IdentifierNode
from .common import (
    BATCH_BYTES,
    CONTENT_DATA,
    CONTENT_FULL,
    CONTENT_SCHEMA,
    END_MARKER,
    LARGEST_PREFIX,
    DumpError,
    DumpResult,
    Options,
    header,
)
from .native import DumpToolNotFoundError
from .restore import NotEmptyError, RestoreError, RestoreResult, restore_database
from .split import ScriptError, split_script

if TYPE_CHECKING:
    from ..database import Database

__all__ = [
    "CONTENT_DATA",
    "CONTENT_FULL",
    "CONTENT_SCHEMA",
    "DumpError",
    "DumpResult",
    "DumpToolNotFoundError",
    "NotEmptyError",
    "RestoreError",
    "RestoreResult",
    "ScriptError",
    "dump_database",
    "restore_database",
    "split_script",
]


def dump_database(
    db: Database,
    out: TextIO,
    *,
    schema_only: bool = False,
    data_only: bool = False,
    native: bool = False,
    exclude: Iterable[str] = (),
    batch_rows: int = 500,
    batch_bytes: int = BATCH_BYTES,
    history_table: str | None = None,
) -> DumpResult:
    """Write ``db`` to ``out`` as an SQL script that :func:`restore_database` loads.

    The script holds the tables (in foreign-key order), their rows as multi-row INSERTs of at
    most ``batch_rows`` rows, indexes, foreign keys, sequence and auto-increment positions,
    views, PostgreSQL enum types, and kysera's migration history table when there is one. An
    INSERT also ends before it grows past ``batch_bytes`` (1 MiB; on MySQL/MariaDB at most half
    the server's ``max_allowed_packet``); a row bigger than that is an INSERT of its own.
    ``schema_only`` leaves the rows out, ``data_only`` the DDL (load it into a database that has
    the schema, such as one the migrations built). ``exclude`` names tables and views to leave
    out. ``history_table`` is the migration history table as configured (``[migrations] table``):
    on PostgreSQL one in another schema (``"ops.kysera_history"``) is dumped too, with its
    schema. ``native`` runs pg_dump, mariadb-dump or sqlite3 instead. Rows are read page by page in
    one read-only snapshot, so tables of any size stream through.
    """
    if schema_only and data_only:
        raise ConfigurationError("schema_only and data_only exclude each other; pass at most one of them")
    if batch_rows < 1:
        raise ConfigurationError(f"batch_rows must be 1 or more, got {batch_rows}")
    if batch_bytes < 1:
        raise ConfigurationError(f"batch_bytes must be 1 or more, got {batch_bytes}")
    opts = Options(
        schema=not data_only,
        data=not schema_only,
        exclude=tuple(exclude),
        batch_rows=batch_rows,
        page_rows=max(batch_rows, 1000),
        batch_bytes=batch_bytes,
        history_table=history_table,
    )
    if native:
        from .native import dump_native

        return dump_native(db, out, opts)
    engine = db.dialect.name
    result = DumpResult(engine=engine, content=opts.content, native=False)
    header(db, out, opts.content, "kysera")
    if engine == "postgres":
        from . import postgres as writer
    elif engine == "mysql":
        from . import mysql as writer  # type: ignore[no-redef]
    else:
        from . import sqlite as writer  # type: ignore[no-redef]
    elsewhere = IdentifierNode.parse(history_table).schema if history_table else None
    if elsewhere not in (None, "main", db.url.database) and engine != "postgres":
        note = (
            f"the history table {history_table} is in another database, which this dump does not "
            "cover; dump that database too"
        )
        result.note(out, note)
    writer.dump(db, out, opts, result)
    if result.largest_statement:
        out.write(f"\n{LARGEST_PREFIX} {result.largest_statement}\n")
    out.write(f"\n{END_MARKER}\n")
    return result
