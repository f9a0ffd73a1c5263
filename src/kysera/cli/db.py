"""``kysera db dump`` and ``kysera db restore``."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

import click

from ..errors import ConfigurationError, KyseraError
from .common import LazyGroup, get_state, global_options, json_option
from .output import format_duration, plural

if TYPE_CHECKING:
    from ..database import Database
    from ..dump import DumpResult


@click.group(cls=LazyGroup)
@global_options
@json_option
def db() -> None:
    """Back up and restore the database."""


def sqlite_file(database: str) -> str | None:
    """The file a SQLite URL's database part names (a path or a ``file:`` URI), None for an
    in-memory database."""
    from urllib.parse import unquote, urlsplit

    if database in ("", ":memory:"):
        return None
    if database.startswith("file:"):
        parts = urlsplit(database)
        if "mode=memory" in parts.query:
            return None
        return unquote(parts.path) or None
    return database


def check_dump_path(path: str, database_file: str | None = None) -> str | None:
    """Refuse, before anything runs, an ``-o`` that cannot take a dump: empty, a folder, a path
    through a file, or the SQLite database being dumped (or its journal). ConfigurationError
    (exit 2) naming the fix. Returns the folder to create for it when that does not exist yet
    (None when it does)."""
    import os

    if not path.strip():
        raise ConfigurationError("-o is empty; give the dump a file name, e.g. -o backup.sql (or -o - for stdout)")
    if database_file is not None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                same = os.path.samefile(path, database_file + suffix)
            except OSError:  # one of them does not exist: not the same file
                continue
            if same:
                what = "the SQLite database being dumped" + (f" (its {suffix[1:]} file)" if suffix else "")
                raise ConfigurationError(
                    f"-o {path} is {what}: writing the dump there would destroy the database; "
                    "write the dump to another file, e.g. -o backup.sql"
                )
    if os.path.isdir(path):
        raise ConfigurationError(
            f"-o {path}: that is a folder; give the dump a file name, e.g. -o {os.path.join(path, 'backup.sql')}"
        )
    folder = os.path.dirname(os.path.abspath(path))
    parent = folder
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise ConfigurationError(f"-o {path}: {parent} is a file, not a folder; write the dump elsewhere")
    return None if parent == folder else folder


def _dump_to(
    database: Database,
    handle: TextIO,
    schema_only: bool,
    data_only: bool,
    native: bool,
    exclude: tuple[str, ...],
    history_table: str | None,
) -> DumpResult:
    """dump_database, its messages naming the CLI's options (--native, not native=True)."""
    from ..dump import dump_database
    from ..dump.common import cli_wording

    with cli_wording():
        return dump_database(
            database,
            handle,
            schema_only=schema_only,
            data_only=data_only,
            native=native,
            exclude=exclude,
            history_table=history_table,
        )


def check_exclude(database: Database, exclude: tuple[str, ...], history_table: str | None) -> None:
    """Refuse an --exclude that names nothing in the database (a misspelt name would leave the
    table in the dump, silently). The history table counts under its configured name."""
    from ..dump.restore import existing_objects

    if not exclude:
        return
    names = {history_table} if history_table else set()
    for found in existing_objects(database, all_schemas=False):
        for kind in ("materialized view ", "table ", "view ", "sequence ", "type "):
            if found.startswith(kind):
                names.add(found[len(kind) :])
                break
    for name in exclude:
        if name not in names:
            raise ConfigurationError(
                f"--exclude {name}: the database has no table, view or sequence of that name; "
                "check the spelling (names are case-sensitive)"
            )


def write_dump(
    database: Database,
    path: str,
    *,
    schema_only: bool = False,
    data_only: bool = False,
    native: bool = False,
    exclude: tuple[str, ...] = (),
    history_table: str | None = None,
) -> DumpResult:
    """Dump into ``path`` through a temporary file next to it, renamed over it once complete, so a
    failed dump never leaves half a backup. Something at ``path`` that is not a regular file (a
    device such as /dev/null, a pipe) is written to directly, never replaced."""
    import os
    import stat
    import tempfile

    database_file = sqlite_file(database.url.database) if database.dialect.name == "sqlite" else None
    check_dump_path(path, database_file)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
        try:
            special = not stat.S_ISREG(os.stat(path).st_mode)
        except FileNotFoundError:
            special = False
        if special:
            with open(path, "w", encoding="utf-8", newline="\n") as handle:
                return _dump_to(database, handle, schema_only, data_only, native, exclude, history_table)
        _remove_orphaned_dumps(folder)
        fd, temporary = tempfile.mkstemp(prefix=f"{_TEMPORARY}{os.getpid()}-", suffix=".sql", dir=folder)
        try:
            # the file gets the mode a plain write would give it (mkstemp's is 0600): an old
            # backup's own mode when one is replaced, else what the umask leaves
            try:
                mode = stat.S_IMODE(os.stat(path).st_mode)
            except FileNotFoundError:
                umask = os.umask(0)
                os.umask(umask)
                mode = 0o666 & ~umask
            os.fchmod(fd, mode)
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                result = _dump_to(database, handle, schema_only, data_only, native, exclude, history_table)
            os.replace(temporary, path)
        except BaseException:
            try:
                os.unlink(temporary)
            except OSError:
                pass
            raise
    except OSError as exc:  # the file system's answer (no space, no permission): not a crash
        raise KyseraError(f"cannot write the dump to {path}: {exc.strerror or exc}") from None
    return result


#: how a dump being written is named until it is complete: this prefix, the writer's process id
_TEMPORARY = ".kysera-dump-"


def _remove_orphaned_dumps(folder: str) -> None:
    """Delete the unfinished dumps that processes killed while writing (SIGKILL, a power cut:
    nothing could clean up) left in ``folder``: those whose writer no longer runs."""
    import os

    try:
        names = [n for n in os.listdir(folder) if n.startswith(_TEMPORARY) and n.endswith(".sql")]
    except OSError:
        return
    for name in names:
        pid = name[len(_TEMPORARY) :].partition("-")[0]
        if not pid.isdigit():
            continue  # an older kysera's name: whose it is cannot be told
        try:
            os.kill(int(pid), 0)
            continue  # the writer still runs (or the number is another process's now): leave it
        except ProcessLookupError:
            pass
        except OSError:
            continue
        try:
            os.unlink(os.path.join(folder, name))
        except OSError:
            pass


@db.command(short_help="Write the database to a restorable SQL file.")
@click.option("-o", "--output", required=True, metavar="FILE", help="File to write ('-' for stdout).")
@click.option("--schema-only", is_flag=True, help="Tables, indexes, views... without rows.")
@click.option("--data-only", is_flag=True, help="Rows only, for a database that has the schema.")
@click.option("--native", is_flag=True, help="Use the engine's own tool: pg_dump, mariadb-dump or sqlite3.")
@click.option(
    "--exclude",
    metavar="TABLE",
    multiple=True,
    help="Leave this table (or view, or sequence) out; repeatable. E.g. --data-only --exclude kysera_migrations.",
)
@global_options
@json_option
def dump(output: str, schema_only: bool, data_only: bool, native: bool, exclude: tuple[str, ...]) -> None:
    """Write the database (schema and data) to an SQL file that kysera db restore loads.

    \b
    kysera db dump -o backup-before-migration.sql
    kysera migrate up
    kysera db dump --data-only --exclude kysera_migrations -o data.sql
    """
    import sys
    import time

    state = get_state()
    out = state.out
    out.json_to_stderr = output == "-"  # stdout holds the dump itself: no error document mixed into it
    if schema_only and data_only:
        raise click.UsageError("--schema-only and --data-only cannot be used together; choose one")
    import os

    from ..config import resolve_url
    from ..errors import ConfigurationError

    resolved = resolve_url(state.settings(), state.url)
    url = resolved.url
    if url.dialect == "sqlite" and url.database not in ("", ":memory:") and not url.database.startswith("file:") and not os.path.isfile(url.database):
        # connecting would make an empty file, and its dump an empty backup
        raise ConfigurationError(
            f"the SQLite database {url.database} does not exist (the URL comes from {resolved.source}); "
            "check the path: there is nothing to dump"
        )
    # before connecting: a path that cannot take the dump is known without the database
    database_file = sqlite_file(url.database) if url.dialect == "sqlite" else None
    if output != "-" and check_dump_path(output, database_file) is not None:
        out.note(f"the folder of {output} does not exist yet: it is created")
    state.interrupted = lambda: (
        f"interrupted: the dump did not finish; {output} was left as it was (a dump is written whole or not at all)"
        if output != "-" else "interrupted: the dump did not finish; what stdout got is incomplete (no `-- kysera dump end` line)"
    )
    started = time.perf_counter()
    history_table = state.settings().table
    with state.connect() as database:
        check_exclude(database, exclude, history_table)
        if output == "-":
            result = _dump_to(database, sys.stdout, schema_only, data_only, native, exclude, history_table)
        else:
            result = write_dump(
                database,
                output,
                schema_only=schema_only,
                data_only=data_only,
                native=native,
                exclude=exclude,
                history_table=history_table,
            )
    seconds = time.perf_counter() - started
    if state.json:
        payload = {
            "ok": True,
            "path": output,
            "engine": result.engine,
            "content": result.content,
            "native": result.native,
            "tables": result.tables,
            "rows": None if result.native else result.rows,
            "notes": result.notes,
            "duration": round(seconds, 6),
        }
        out.json(payload)
        return
    for note in result.notes:
        out.warn(note)
    # the engine's own tool does not say how many rows it wrote
    rows = "rows not counted by the native tool" if result.native else plural(result.rows, "row")
    summary = (
        f"Dumped {plural(len(result.tables), 'table')} ({rows}, {result.content}) "
        f"to {output if output != '-' else 'stdout'} in {format_duration(seconds)}."
    )
    if output == "-":
        out.note(summary)
    else:
        out.line(summary)


@db.command(short_help="Load a dump into an empty database.")
@click.argument("file", type=click.Path(dir_okay=False))
@global_options
@json_option
def restore(file: str) -> None:
    """Load a dump made by kysera db dump into an empty database of the same engine.

    FILE is the dump, or - to read it from stdin:

    \b
    kysera db dump -o - --url "$FROM" | kysera db restore - --url "$TO"
    """
    import os
    import time
    from pathlib import Path

    from ..errors import ConfigurationError

    if file != "-" and not os.path.isfile(file):
        raise ConfigurationError(f"dump file {file!r} does not exist")
    state = get_state()
    started = time.perf_counter()
    from ..config import resolve_url

    url = resolve_url(state.settings(), state.url).url
    new_file = url.dialect == "sqlite" and url.database not in ("", ":memory:") and not os.path.exists(url.database)
    state.interrupted = lambda: (
        "interrupted: the restore did not finish; it may have left part of the dump in the database (MySQL/MariaDB "
        "commits each DDL statement): drop and recreate the database before trying again"
        if url.dialect == "mysql" else "interrupted: the restore did not finish; it rolled back, the database is as it was"
    )
    try:
        with state.connect() as database:
            from ..dump import restore_database

            if file == "-":
                import sys

                result = restore_database(database, sys.stdin)
            else:
                result = restore_database(database, Path(file))
    except BaseException:
        # a refused restore leaves no trace: not even the empty SQLite file connecting made
        if new_file and os.path.isfile(url.database) and os.path.getsize(url.database) == 0:
            os.unlink(url.database)
        raise
    seconds = time.perf_counter() - started
    if state.json:
        state.out.json(
            {"ok": True, "path": file, "statements": result.statements, "content": result.content, "format": result.format, "duration": round(seconds, 6)}
        )
        return
    shown = "the dump from stdin" if file == "-" else file
    state.out.line(f"Restored {shown} ({plural(result.statements, 'statement')}) in {format_duration(seconds)}.")
