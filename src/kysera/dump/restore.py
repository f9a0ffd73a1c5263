"""Load a dump into an empty database of the same engine, statement by statement.

PostgreSQL and SQLite load the whole script in one transaction (so a failure leaves the
database as it was); MySQL/MariaDB commit DDL implicitly, so a failure there leaves a partly
restored database. Session settings the script changes (``SET ...``) are put back afterwards.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from ..errors import KyseraError, StatementError
from ..nodes import CompiledStatement, RawNode
from .common import (
    CONTENT_DATA,
    END_MARKER,
    read_largest,
    read_loaded_tables,
    read_marker,
    utf8_size,
)
from .split import Statement, split_script

if TYPE_CHECKING:
    from ..database import Database

_CHUNK = 1 << 20
_HEAD = 8192
_ENGINES = {"postgres": "PostgreSQL", "mysql": "MySQL/MariaDB", "sqlite": "SQLite"}


class RestoreError(KyseraError):
    """A dump cannot be restored here, or one of its statements failed."""


class NotEmptyError(RestoreError):
    """The target database already has tables; restore only loads into an empty one."""

    exit_code = 2


class _Refused(RestoreError):
    """The dump cannot load here, found before anything ran (exit 2, like NotEmptyError)."""

    exit_code = 2


#: MySQL/MariaDB errors that a statement bigger than max_allowed_packet ends in: the server
#: closes the connection (2006 "gone away", 2013 "lost connection") or says so (1153)
_PACKET_ERRORS = (1153, 2006, 2013)


_COPY_STDIN = re.compile(r"\bFROM\s+STDIN\b", re.I)
_INTO = re.compile(r"\bINTO\b", re.I)


def _mb(size: int) -> str:
    return f"{size / (1 << 20):.1f} MB"


def _packet_fix(packet: int, needed: int) -> str:
    megabytes = max((needed + 1024) // (1 << 20) + 1, 16)
    return (
        f"raise max_allowed_packet on the server to at least {megabytes} MB "
        f"(SET GLOBAL max_allowed_packet = {megabytes << 20}, or max_allowed_packet = {megabytes}M "
        "under [mysqld] in its configuration) and connect again, or make the dump again with "
        "kysera db dump (its INSERTs stay under 1 MB) or kysera db dump --native (mariadb-dump)"
    )


@dataclass
class RestoreResult:
    """What :func:`kysera.dump.restore_database` ran."""

    statements: int
    #: ``schema+data``, ``schema-only`` or ``data-only`` for kysera dumps, None for other scripts
    content: str | None
    #: ``kysera``, ``pg_dump``, ``mariadb-dump``, ``sqlite3`` for kysera dumps, None otherwise
    format: str | None


def _open(source: str | os.PathLike[str] | IO[str]) -> tuple[Iterator[str], str, str | None]:
    """Chunks of the script, a name for messages, and the script's end when it can be read
    before the script runs (text and files; not a pipe)."""
    if hasattr(source, "read"):
        stream: IO[str] = source  # type: ignore[assignment]
        return iter(lambda: stream.read(_CHUNK), ""), getattr(stream, "name", "the dump"), None
    if isinstance(source, str) and ("\n" in source or ";" in source):
        text = source
        chunks = [text[i : i + _CHUNK] for i in range(0, len(text), _CHUNK)]
        return iter(chunks), "the dump", text[-512:]
    path = os.fspath(source)
    if not os.path.isfile(path):
        raise RestoreError(f"dump file {path} does not exist; pass the path of a file written by kysera db dump")
    with open(path, "rb") as raw:
        _check_text(path, raw.read(16))
        raw.seek(max(0, os.path.getsize(path) - 512))
        end = raw.read().decode("utf-8", "replace")

    def read() -> Iterator[str]:
        # utf-8-sig: a byte-order mark that an editor put at the start (Notepad) is not SQL
        with open(path, encoding="utf-8-sig", newline="") as f:
            try:
                while chunk := f.read(_CHUNK):
                    yield chunk
            except UnicodeDecodeError as exc:
                if exc.reason == "unexpected end of data":  # cut short inside a character
                    raise _Refused(
                        f"{path} ends early, in the middle of a UTF-8 character: the file is truncated; "
                        "nothing was restored"
                    ) from None
                byte = exc.object[exc.start : exc.start + 1]
                with open(path, "rb") as raw:
                    found = _tool_engine(raw.read(_HEAD).decode("utf-8", "replace"))
                if found is not None and found[0] == "mysql":
                    # mysqldump writes binary values as raw bytes unless told --hex-blob
                    raise _Refused(
                        f"{path} was written by mysqldump/mariadb-dump without --hex-blob: it holds binary "
                        f"values as raw bytes (such as {byte!r}), which a text script cannot carry; dump again "
                        "with --hex-blob (or kysera db dump, or kysera db dump --native), or load this file "
                        "with the client: mariadb DATABASE < FILE; nothing was restored"
                    ) from None
                raise _Refused(
                    f"{path} is not a UTF-8 text file (it holds the byte {byte!r}); "
                    "kysera db restore loads the SQL scripts that kysera db dump writes"
                ) from None

    return read(), path, end


#: how files that are no SQL script start, and what to do with them instead
_NOT_SQL = (
    (b"PGDMP", "a pg_dump archive (custom format): load it with pg_restore, or make a plain SQL dump "
     "(kysera db dump, or pg_dump --format=plain)"),
    (b"\x1f\x8b", "gzip-compressed: gunzip it first"),
    (b"SQLite format 3", "an SQLite database file, not a dump: copy it, or dump it with kysera db dump"),
    (b"PK\x03\x04", "a zip archive: unzip it first"),
    (b"\xff\xfe", "UTF-16 text (what PowerShell's > writes): write the dump with -o FILE instead of a "
     "redirect, or convert the file to UTF-8"),
    (b"\xfe\xff", "UTF-16 text: convert it to UTF-8"),
)


def _check_text(path: str, start: bytes) -> None:
    for magic, what in _NOT_SQL:
        if start.startswith(magic):
            raise _Refused(f"{path} is {what}; nothing was restored")


#: how the plain-SQL files of the engines' own tools start, for a script without kysera's first line
_TOOL_HEADERS = (
    (re.compile(r"^-- PostgreSQL database dump\s*$", re.M), "postgres", "pg_dump"),
    (re.compile(r"^-- (?:MySQL|MariaDB) dump \d", re.M), "mysql", "mysqldump"),
    (re.compile(r"\A\s*PRAGMA foreign_keys=OFF;\r?\nBEGIN TRANSACTION;"), "sqlite", "sqlite3 .dump"),
)


def _tool_engine(head: str) -> tuple[str, str] | None:
    """The engine and tool that wrote a script without kysera's marker, when its header says."""
    for pattern, engine, tool in _TOOL_HEADERS:
        if pattern.search(head):
            return engine, tool
    return None


def _check_engine(db: Database, fields: dict[str, str], name: str, head: str = "") -> None:
    engine = fields.get("engine")
    tool = ""
    if not fields:
        found = _tool_engine(head)
        if found is not None:
            engine, tool = found[0], f" ({found[1]})"
    if engine and engine != db.dialect.name:
        raise _Refused(
            f"{name} is a {_ENGINES.get(engine, engine)} dump{tool} and this database is {db.dialect.display_name}; "
            f"restore it into a {_ENGINES.get(engine, engine)} database; nothing was restored"
        )


def existing_objects(db: Database, all_schemas: bool = True) -> list[str]:
    """Tables, views and sequences (and PostgreSQL types) the database has, by name.

    On PostgreSQL ``all_schemas=False`` looks at the current schema only (what a kysera dump
    fills); a pg_dump file fills every schema.
    """
    engine = db.dialect.name
    if engine == "sqlite":
        rows = db.fetch(
            "SELECT type || ' ' || name AS name FROM sqlite_master "
            "WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY type, name"
        )
    elif engine == "postgres":
        rows = db.fetch(
            "SELECT CASE c.relkind WHEN 'v' THEN 'view ' WHEN 'm' THEN 'materialized view ' "
            "WHEN 'S' THEN 'sequence ' ELSE 'table ' END || "
            "CASE WHEN n.nspname = current_schema() THEN '' ELSE n.nspname || '.' END || c.relname AS name "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' "
            + ("" if all_schemas else "AND n.nspname = current_schema() ")
            + "AND n.nspname NOT LIKE 'pg\\_temp%' AND NOT EXISTS (SELECT 1 FROM pg_depend x "
            "WHERE x.classid = 'pg_class'::regclass AND x.objid = c.oid AND x.deptype IN ('e', 'a', 'i')) "
            "UNION ALL SELECT 'type ' || t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE t.typtype IN ('e', 'd') AND n.nspname = current_schema() AND NOT EXISTS (SELECT 1 FROM pg_depend x "
            "WHERE x.classid = 'pg_type'::regclass AND x.objid = t.oid AND x.deptype = 'e') "
            "ORDER BY 1"
        )
    else:
        rows = db.fetch(
            "SELECT CONCAT(CASE TABLE_TYPE WHEN 'VIEW' THEN 'view ' WHEN 'SEQUENCE' THEN 'sequence ' "
            "ELSE 'table ' END, TABLE_NAME) AS name FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME"
        )
    return [str(r["name"]) for r in rows]


def _check_target(db: Database, content: str | None, kysera_format: bool, loaded: list[str] | None) -> None:
    """``loaded``: the tables a data-only dump says it loads (None: not said, every table counts)."""
    if content == CONTENT_DATA:
        from ..dialects.catalog import list_tables

        tables = list_tables(db)
        if not tables:
            raise NotEmptyError(
                "this is a data-only dump and the database has no tables; create the schema first "
                "(run the migrations, or restore a schema-only dump), then restore the data"
            )
        if loaded is not None:
            missing = [t for t in loaded if t not in tables]
            if missing:
                raise NotEmptyError(
                    f"this data-only dump loads table {missing[0]}, which the database does not have; "
                    "create the schema first (run the migrations, or restore a schema-only dump), "
                    "then restore the data"
                )
            tables = loaded
        q = db.dialect.compiler(db)
        for table in tables:
            if db.fetch(f"SELECT 1 AS x FROM {q.quote(table)} LIMIT 1"):
                raise NotEmptyError(
                    f"table {table} already has rows; a data-only dump loads into empty tables, "
                    "so empty it (or restore into a fresh database) first, or leave the table out of "
                    f"the dump (kysera db dump --data-only --exclude {table})"
                )
        return
    found = existing_objects(db, all_schemas=not kysera_format)
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise NotEmptyError(
            f"the database is not empty: it has {found[0]}{more}; restore into an empty database "
            "(create a new one, or drop everything in this one first)"
        )


def _is_transaction_control(st: Statement) -> bool:
    w = st.words
    if not w:
        return False
    if w[0] in ("BEGIN", "COMMIT", "END"):
        return all(x in ("TRANSACTION", "WORK", "DEFERRED", "IMMEDIATE", "EXCLUSIVE") for x in w[1:])
    return w[:2] == ("START", "TRANSACTION")


def _pg_settings(db: Database) -> dict[str, str]:
    rows = db.fetch(
        "SELECT name, current_setting(name) AS value FROM pg_settings WHERE context IN ('user', 'superuser')"
    )
    return {str(r["name"]): str(r["value"]) for r in rows}


_MYSQL_SESSION = (
    "foreign_key_checks", "unique_checks", "sql_mode", "time_zone", "character_set_client",
    "character_set_results", "collation_connection", "sql_notes", "autocommit",
)  # fmt: skip


def _mysql_settings(db: Database) -> dict[str, object]:
    cols = ", ".join(f"@@SESSION.{v} AS {v}" for v in _MYSQL_SESSION)
    return dict(db.fetch(f"SELECT {cols}")[0])


def restore_database(db: Database, source: str | os.PathLike[str] | IO[str]) -> RestoreResult:
    """Load ``source`` (a path, the script's text, or an open text file) into ``db``.

    ``db`` must be empty (no tables, views or sequences); for a data-only dump its tables must
    exist and be empty. Refuses a dump made from another engine and, for kysera's own dumps, a
    file that was cut short.
    """
    chunks, name, end = _open(source)
    head = ""
    for chunk in chunks:
        head += chunk
        if len(head) >= _HEAD:
            break
    head = head.removeprefix("\ufeff")  # a byte-order mark (text or a stream given as such)
    fields = read_marker(head[:_HEAD])
    _check_engine(db, fields, name, head[:_HEAD])
    if fields and end is not None and not end.rstrip().endswith(END_MARKER):
        raise _Refused(f"{name} ends early (no '{END_MARKER}' line): the file is truncated; nothing was restored")
    content = fields.get("content")
    _check_target(db, content, fields.get("format") == "kysera", read_loaded_tables(head[:_HEAD]))

    def script() -> Iterator[str]:
        yield head
        yield from chunks

    engine = db.dialect.name
    packet = _max_packet(db) if engine == "mysql" else None
    largest = read_largest(end) if end is not None and fields else None
    if packet is not None and largest is not None and largest + 1 > packet:
        raise _Refused(
            f"{name} holds a statement of {_mb(largest)} and this server's max_allowed_packet is "
            f"{_mb(packet)}: the server would cut the connection part-way through the restore, so "
            f"nothing was restored; {_packet_fix(packet, largest)}"
        )
    tail = _Tail()
    statements = split_script(tail.watch(script()), engine)
    count = 0
    if engine == "mysql":
        saved_mysql = _mysql_settings(db)
        try:
            count = _run(db, statements, wrap=False, packet=packet)
        except RestoreError as exc:
            if fields and tail.cut_short(END_MARKER):  # the last statement failed because it is cut
                raise _truncated(name, _PARTLY, exc) from exc
            raise RestoreError(
                f"{exc}\n  MySQL/MariaDB commit each DDL statement, so the database is partly restored; "
                "drop and recreate it before trying again"
            ) from exc
        finally:
            _restore_mysql_settings(db, saved_mysql)
        if fields and not tail.ends_with(END_MARKER):
            raise _truncated(name, _PARTLY)
    else:
        saved_pg = _pg_settings(db) if engine == "postgres" else {}
        try:
            with db.transaction():
                try:
                    count = _run(db, statements, wrap=True)
                except RestoreError as exc:
                    if fields and tail.cut_short(END_MARKER):  # the last statement failed because it is cut
                        raise _truncated(name, "; nothing was restored", exc) from exc
                    raise
                if fields and not tail.ends_with(END_MARKER):
                    raise _truncated(name, "; nothing was restored")
        finally:
            if saved_pg:
                _restore_pg_settings(db, saved_pg)
    return RestoreResult(statements=count, content=content, format=fields.get("format"))


def _max_packet(db: Database) -> int:
    return int(str(db.fetch("SELECT @@SESSION.max_allowed_packet AS p")[0]["p"]))


def _run(db: Database, statements: Iterator[Statement], wrap: bool, packet: int | None = None) -> int:
    """Run each statement; ``packet`` (MySQL) is the server's max_allowed_packet: a statement
    bigger than that is refused before it is sent, which would cut the connection."""
    count = 0
    size = 0
    try:
        for st in statements:
            if wrap and _is_transaction_control(st):
                continue
            if st.words[:1] == ("COPY",) and _COPY_STDIN.search(st.text):
                raise RestoreError(
                    f"restore stopped at the statement on line {st.line}: COPY ... FROM stdin (pg_dump's "
                    "default format) needs psql, which sends the rows that follow it; load this file with "
                    "psql -f FILE, or make a plain-SQL dump (pg_dump --inserts, or kysera db dump)"
                )
            if st.words[:1] == ("COPY",) and db.dialect.name == "postgres":
                # COPY ... TO/FROM 'file' or PROGRAM 'command' (no dump holds one) reads or writes the
                # server's files, or runs a command there, as a superuser may
                raise RestoreError(
                    f"restore stopped at the statement on line {st.line}: COPY to or from a file or a program "
                    "reaches outside the database being restored, and a dump never holds one; remove it from the file"
                )
            if db.dialect.name == "sqlite" and (
                st.words[:1] == ("ATTACH",) or (st.words[:1] == ("VACUUM",) and _INTO.search(st.text))
            ):
                # no dump holds one; either would open or write a file other than the restored database
                raise RestoreError(
                    f"restore stopped at the statement on line {st.line}: {st.words[0]} reaches a file outside "
                    "the database being restored, and a dump never holds one; remove it from the file"
                )
            if packet is not None and len(st.text) * 4 >= packet:
                size = utf8_size(st.text)
                if size + 1 > packet:
                    raise RestoreError(
                        f"restore stopped at the statement on line {st.line}: it is {_mb(size)} and this "
                        f"server's max_allowed_packet is {_mb(packet)}; {_packet_fix(packet, size)}"
                    )
            db.run_compiled([CompiledStatement(sql=st.text, node=RawNode((st.text,)))])
            count += 1
    except StatementError as exc:
        args = tuple(getattr(exc.cause, "args", ()))
        code = args[0] if args and packet is not None else None
        if code in _PACKET_ERRORS:
            size = utf8_size(st.text)
            raise RestoreError(
                f"restore stopped at the statement on line {st.line} ({_mb(size)}): {exc}\n  the server "
                "closes the connection on a statement bigger than its max_allowed_packet "
                f"({_mb(packet or 0)} when the restore began); {_packet_fix(packet or 0, size)}"
            ) from exc
        raise RestoreError(f"restore stopped at the statement on line {st.line}: {exc}") from exc
    except KyseraError as exc:
        if isinstance(exc, RestoreError):
            raise
        raise RestoreError(str(exc)) from exc
    return count


def _restore_pg_settings(db: Database, saved: dict[str, str]) -> None:
    try:
        now = _pg_settings(db)
        for key, value in saved.items():
            if now.get(key) != value:
                db.fetch("SELECT set_config(%s, %s, false)", [key, value])
    except KyseraError:
        pass  # a broken connection: nothing left to put back


def _restore_mysql_settings(db: Database, saved: dict[str, object]) -> None:
    try:
        now = _mysql_settings(db)
        for key, value in saved.items():
            if now.get(key) != value:
                db.fetch(f"SET SESSION {key} = %s", [value])
    except KyseraError:
        pass


#: what a truncated dump left on MySQL/MariaDB, which commit each DDL statement
_PARTLY = " and the database is partly restored; drop and recreate it, then restore a complete dump"


def _truncated(name: str, outcome: str, cause: Exception | None = None) -> RestoreError:
    """A dump without its last line: ``outcome`` says what the database holds now; ``cause`` is
    the error of the statement the cut left unfinished."""
    return RestoreError(
        f"{name} ends early (no '{END_MARKER}' line): the file is truncated{outcome}" + (f"\n  {cause}" if cause else "")
    )


class _Tail:
    """Remembers the last few hundred characters of a stream of chunks."""

    def __init__(self) -> None:
        self.text = ""
        #: True once the stream has been read to its end
        self.finished = False

    def watch(self, chunks: Iterator[str]) -> Iterator[str]:
        for chunk in chunks:
            self.text = (self.text + chunk)[-512:]
            yield chunk
        self.finished = True

    def cut_short(self, marker: str) -> bool:
        """True when the whole stream was read and it does not end with ``marker``."""
        return self.finished and not self.ends_with(marker)

    def ends_with(self, marker: str) -> bool:
        return self.text.rstrip().endswith(marker)
