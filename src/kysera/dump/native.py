"""``native=True``: let the engine's own dump tool write the dump (pg_dump, mariadb-dump,
sqlite3 ``.dump``), filtered so that :func:`kysera.dump.restore_database` can load it.

pg_dump runs with ``--no-owner --no-privileges --rows-per-insert`` (plain INSERTs instead of
``COPY ... FROM stdin``, which a driver cannot replay); its ``\\restrict``/``\\unrestrict`` psql
lines are dropped. mariadb-dump's first line (``/*M!999999\\- enable the sandbox mode */``) is
dropped. The tool's output is streamed, never held in memory.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from typing import TYPE_CHECKING, TextIO

from ..url import is_secret_option
from .common import END_MARKER, DumpError, DumpResult, Options, header, option

if TYPE_CHECKING:
    from ..database import Database


class DumpToolNotFoundError(DumpError):
    """``native=True`` needs the engine's dump tool, and it is not on PATH."""

    exit_code = 2


_INSTALL = {
    "pg_dump": "the PostgreSQL client tools (Debian/Ubuntu: apt-get install postgresql-client)",
    "mariadb-dump": "the MariaDB client tools (Debian/Ubuntu: apt-get install mariadb-client)",
    "sqlite3": "the sqlite3 command-line shell (Debian/Ubuntu: apt-get install sqlite3)",
}


def _find(*names: str) -> str:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    raise DumpToolNotFoundError(
        f"a native dump needs {names[0]} on PATH and it is not installed; install {_INSTALL[names[0]]}, "
        "or dump without --native"
    )


def _version(tool: str) -> str:
    try:
        done = subprocess.run([tool, "--version"], capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return os.path.basename(tool)
    return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr).strip() else tool


def _conninfo_value(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _postgres(db: Database, opts: Options) -> tuple[list[str], dict[str, str]]:
    tool = _find("pg_dump")
    url = db.url
    info = {"host": url.host, "port": str(url.port) if url.port else None, "user": url.username, "dbname": url.database}
    options = dict(url.options)
    password = options.pop("password", None) or url.password  # to pg_dump's environment, not its argv (ps shows that)
    # another secret option (sslpassword) has no environment variable: it goes to pg_dump in a
    # service file only this user can read, removed when pg_dump is done (dump_native)
    secrets = {k: v for k, v in options.items() if is_secret_option(k)}
    info.update({k: v for k, v in options.items() if k not in secrets})
    conninfo = " ".join(f"{k}={_conninfo_value(v)}" for k, v in info.items() if v)
    cmd = [tool, "--no-owner", "--no-privileges", "--rows-per-insert=500", "--no-password"]
    if not opts.data:
        cmd.append("--schema-only")
    elif not opts.schema:
        cmd.append("--data-only")
    for name in opts.exclude:
        cmd.append("--exclude-table=" + '"' + name.replace('"', '""') + '"')
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = password
    if secrets:
        if any("\n" in v or "\r" in v or v != v.strip() for v in secrets.values()):
            raise DumpError(
                f"a native dump cannot pass {', '.join(sorted(secrets))} to pg_dump: the value starts or ends "
                f"with a space or holds a line break; dump without {option('native')}"
            )
        fd, path = tempfile.mkstemp(prefix="kysera-pg-service-", suffix=".conf")  # mode 0600
        with os.fdopen(fd, "w", encoding="utf-8") as service:
            service.write(f"[{_SERVICE}]\n" + "".join(f"{k}={v}\n" for k, v in secrets.items()))
        env["PGSERVICEFILE"] = path
        conninfo += f" service={_SERVICE}"
    cmd.append("--dbname=" + conninfo)
    return cmd, env


#: the service a native PostgreSQL dump's secret options are written under (PGSERVICEFILE)
_SERVICE = "kysera_dump"


def _mysql(db: Database, opts: Options) -> tuple[list[str], dict[str, str]]:
    tool = _find("mariadb-dump", "mysqldump")
    url = db.url
    options = url.options
    cmd = [
        tool,
        "--single-transaction",
        "--skip-lock-tables",
        "--skip-add-locks",
        "--hex-blob",
        "--routines",
        "--triggers",
        "--no-tablespaces",
        "--default-character-set=utf8mb4",
        f"--user={url.username or 'root'}",
    ]
    # the socket as an option, or as the host (mysql://root@%2Frun%2Fmysqld%2Fmysqld.sock/app), as open_mysql takes it
    socket = options.get("unix_socket") or (url.host if url.host and url.host.startswith("/") else None)
    if socket:
        cmd.append(f"--socket={socket}")
    else:
        cmd += ["--protocol=TCP", f"--host={url.host or 'localhost'}", f"--port={url.port or 3306}"]
    for key in ("ssl_ca", "ssl_cert", "ssl_key"):
        if key in options:
            cmd.append(f"--{key.replace('_', '-')}={options[key]}")
    if not opts.data:
        cmd.append("--no-data")
    elif not opts.schema:
        cmd += ["--no-create-info", "--skip-triggers"]
    for name in opts.exclude:
        cmd.append(f"--ignore-table={url.database}.{name}")
    cmd.append(url.database)
    env = dict(os.environ)
    env["MYSQL_PWD"] = url.password or ""
    return cmd, env


def _sqlite(db: Database, opts: Options) -> tuple[list[str], dict[str, str]]:
    path = db.url.database
    if not path or path == ":memory:" or "mode=memory" in path:
        raise DumpError(
            f"a native SQLite dump needs a database file, and this database is in memory; dump without {option('native')}"
        )
    if opts.exclude:
        from ..errors import ConfigurationError

        # options that do not go together: a usage mistake (exit 2), found before anything is written
        raise ConfigurationError(
            f"a native SQLite dump cannot leave tables out (the sqlite3 shell's .dump has no such option); "
            f"dump without {option('native')} to use {option('exclude')}"
        )
    tool = _find("sqlite3")
    target = path
    if path.startswith("file:"):
        target = path
    command = ".dump" if opts.data and opts.schema else (".schema" if opts.schema else ".dump --data-only")
    return [tool, "-batch", "-bail", "-readonly", target, command], dict(os.environ)


_VIEW_COLUMNS_NOTE = re.compile(r"^/\* [^\n]*\([^\n]*\) \*/;\r?\n?$")


def _filtered(engine: str, opts: Options, lines: Iterable[str]) -> Iterable[str]:
    if engine == "sqlite" and opts.schema and not opts.data:
        lines = _drop_view_notes(lines)
    first = True
    for line in lines:
        if engine == "postgres" and line.startswith(("\\restrict", "\\unrestrict")):
            continue
        if engine == "mysql" and first and line.startswith("/*M!999999"):
            first = False
            continue
        first = False
        if engine == "sqlite" and opts.schema and not opts.data and line.startswith(
            ("CREATE TABLE sqlite_sequence(", "CREATE TABLE sqlite_stat")
        ):
            continue
        yield line


def _drop_view_notes(lines: Iterable[str]) -> Iterable[str]:
    """sqlite3's ``.schema`` ends each CREATE VIEW with a ``/* name(columns) */`` note, which
    would become part of the view's stored text; put the semicolon back in its place."""
    previous: str | None = None
    for line in lines:
        if previous is not None and _VIEW_COLUMNS_NOTE.match(line):
            yield previous.rstrip("\r\n") + ";\n"
            previous = None
            continue
        if previous is not None:
            yield previous
        previous = line
    if previous is not None:
        yield previous


def dump_native(db: Database, out: TextIO, opts: Options) -> DumpResult:
    engine = db.dialect.name
    build = {"postgres": _postgres, "mysql": _mysql, "sqlite": _sqlite}[engine]
    cmd, env = build(db, opts)
    try:
        return _dump_native(db, out, opts, engine, cmd, env)
    finally:
        if env.get("PGSERVICEFILE") not in (None, os.environ.get("PGSERVICEFILE")):  # _postgres's own
            os.unlink(env["PGSERVICEFILE"])


def _dump_native(db: Database, out: TextIO, opts: Options, engine: str, cmd: list[str], env: dict[str, str]) -> DumpResult:
    tool = cmd[0]
    header(db, out, opts.content, os.path.basename(tool), _version(tool))
    with tempfile.TemporaryFile() as errors:
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors, stdin=subprocess.DEVNULL, env=env)
        except OSError as exc:
            raise DumpError(f"could not run {tool}: {exc}") from None
        assert proc.stdout is not None
        # newline="": a carriage return inside a dumped string must stay one
        lines = io.TextIOWrapper(proc.stdout, encoding="utf-8", newline="")
        try:
            for line in _filtered(engine, opts, lines):
                out.write(line)
        except UnicodeDecodeError:
            proc.kill()
            raise DumpError(
                f"{os.path.basename(tool)} wrote bytes that are not UTF-8 (a TEXT value holding such bytes, "
                "e.g. cast(x'ff' as text)), which a dump file cannot hold as text; dump without "
                f"{option('native')}: kysera's own dump writes such values exactly, as CAST(X'..' AS TEXT)"
            ) from None
        finally:
            lines.close()
            code = proc.wait()
        if code != 0:
            errors.seek(0)
            detail = errors.read().decode("utf-8", "replace").strip()
            if db.url.password:
                detail = detail.replace(db.url.password, "***")
            raise DumpError(
                f"{os.path.basename(tool)} failed (exit code {code}): "
                + (detail.splitlines()[-1] if detail else "no message")
            )
    out.write(f"\n{END_MARKER}\n")
    from ..dialects.catalog import list_tables

    tables = [t for t in list_tables(db) if t not in opts.exclude]
    # the tool does not say how many rows it wrote; ``rows`` stays 0 for a native dump
    return DumpResult(engine=engine, content=opts.content, native=True, tables=tables)
