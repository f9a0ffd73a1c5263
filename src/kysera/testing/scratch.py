"""Scratch databases: created empty for a test, dropped after it, on any engine."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from ..database import Database, connect
from ..errors import KyseraError, StatementError
from ..url import DatabaseUrl, parse_url


@contextmanager
def scratch_database(url: str | DatabaseUrl | None = None) -> Iterator[Database]:
    """A new, empty database next to ``url`` (default: a temporary SQLite file), dropped afterwards.

    For PostgreSQL and MySQL/MariaDB, ``url`` names the server on which ``kysera_scratch_<random>``
    is created and dropped (the database it names need not exist); the user needs the right to
    create databases.
    """
    server = parse_url(url) if isinstance(url, str) else url
    if server is None or server.dialect == "sqlite":
        with tempfile.TemporaryDirectory(prefix="kysera-scratch-") as folder:
            db = connect(f"sqlite:///{os.path.join(folder, 'scratch.db')}")
            try:
                yield db
            finally:
                db.close()
        return
    name = f"kysera_scratch_{secrets.token_hex(4)}"
    try:
        _admin(server, f"CREATE DATABASE {_quote(server, name)}")
    except StatementError as exc:
        from ..errors import driver_reason

        raise KyseraError(
            f"cannot create the scratch database {name} on {server.describe()} ({driver_reason(exc.cause)}): a "
            "scratch database needs a user that may create and drop databases (PostgreSQL: CREATEDB; MySQL/MariaDB: "
            "CREATE and DROP on *.*); give the URL of such a user"
        ) from exc
    failed = False
    with _terminated_as_interrupt():  # a CI job's timeout sends SIGTERM: drop it all the same
        try:
            db = connect(server.with_database(name))
            try:
                yield db
            finally:
                db.close()
        except BaseException:
            failed = True
            raise
        finally:
            _drop(server, name, quiet=failed)


def _drop(server: DatabaseUrl, name: str, *, quiet: bool) -> None:
    """Drop the scratch database ``name``, whoever is still connected to it (PostgreSQL: FORCE;
    MySQL: their connections are ended first, or DROP DATABASE waits on their metadata locks for
    as long as lock_wait_timeout, a day by default). ``quiet``: the work inside already failed;
    a failure to drop is then a warning, and that first error is the one raised."""
    import warnings

    try:
        if server.dialect == "postgres":
            _admin(server, f"DROP DATABASE IF EXISTS {_quote(server, name)} WITH (FORCE)")
            return
        with connect(server.with_database("")) as admin:
            for row in admin.fetch(
                "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = %s AND ID <> CONNECTION_ID()", [name]
            ):
                try:
                    admin.execute(f"KILL CONNECTION {int(str(row['id']))}")
                except Exception:
                    pass  # gone meanwhile
            admin.execute(f"DROP DATABASE IF EXISTS {_quote(server, name)}")
    except Exception as exc:
        message = f"the scratch database {name} could not be dropped ({exc}); drop it by hand"
        if quiet:
            warnings.warn(message, stacklevel=2)
            return
        raise KyseraError(message) from exc


@contextmanager
def _terminated_as_interrupt() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt while the block runs (on the main thread, where nobody
    else handles it), so the scratch database is dropped as after Ctrl-C."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt("terminated (SIGTERM)")

    signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _quote(url: DatabaseUrl, name: str) -> str:
    return f'"{name}"' if url.dialect == "postgres" else f"`{name}`"


def _admin(url: DatabaseUrl, statement: str) -> None:
    """Run ``statement`` on the server of ``url``. The database ``url`` names need not exist
    (a project's configured one, before its first deploy): MySQL/MariaDB connect to none, and
    PostgreSQL to that one only when its ``postgres`` maintenance database does not answer."""
    from ..errors import ConnectionFailedError

    if url.dialect == "mysql":
        url = url.with_database("")
    elif url.database != "postgres":
        try:
            with connect(url.with_database("postgres")) as admin:
                admin.execute(statement)
            return
        except ConnectionFailedError:
            pass
    with connect(url) as admin:
        admin.execute(statement)
