"""Scratch databases: created empty for a test, dropped after it, on any engine."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from ..database import Database, connect
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
    _admin(server, f"CREATE DATABASE {_quote(server, name)}")
    db = connect(server.with_database(name))
    try:
        yield db
    finally:
        db.close()
        force = " WITH (FORCE)" if server.dialect == "postgres" else ""
        _admin(server, f"DROP DATABASE IF EXISTS {_quote(server, name)}{force}")


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
