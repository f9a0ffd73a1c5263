"""Fixtures that give each test a real, empty database on SQLite, PostgreSQL and MariaDB.

Server URLs come from ``KYSERA_TEST_PG_URL`` / ``KYSERA_TEST_MYSQL_URL`` (defaults: the local
servers). Each pytest process makes its own scratch databases, so parallel runs do not collide.
When a server does not answer, its tests skip with the reason, or fail when
``KYSERA_REQUIRE_SERVERS=1`` (as CI sets it).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator

import pytest

from kysera import Database, connect
from kysera.errors import KyseraError
from kysera.url import parse_url

PG_URL = os.environ.get("KYSERA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("KYSERA_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")
REQUIRE_SERVERS = os.environ.get("KYSERA_REQUIRE_SERVERS") == "1"
ENGINES = ["sqlite", "postgres", "mysql"]


class ServerDatabase:
    """A scratch database on a server, emptied before each test that uses it."""

    def __init__(self, admin_url: str, engine: str) -> None:
        self.engine = engine
        self.admin_url = admin_url
        self.name = f"kysera_t_{os.getpid()}_{secrets.token_hex(3)}"
        self.url = _with_db(admin_url, self.name)
        self._recreate()

    def _admin(self) -> Database:
        return connect(self.admin_url)

    def _recreate(self) -> None:
        with self._admin() as admin:
            quoted = f'"{self.name}"' if self.engine == "postgres" else f"`{self.name}`"
            if self.engine == "postgres":
                admin.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
            else:
                admin.execute(f"DROP DATABASE IF EXISTS {quoted}")
            admin.execute(f"CREATE DATABASE {quoted}")

    def reset(self) -> None:
        if self.engine == "postgres":
            with connect(self.url) as db:
                schemas = db.fetch(
                    "SELECT nspname AS name FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
                    "AND nspname <> 'information_schema'"
                )
                for row in schemas:  # every schema a test made, not just public
                    db.execute(f'DROP SCHEMA "{row["name"]}" CASCADE')
                db.execute("CREATE SCHEMA public")
        else:
            self._recreate()

    def drop(self) -> None:
        with self._admin() as admin:
            if self.engine == "postgres":
                admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            else:
                admin.execute(f"DROP DATABASE IF EXISTS `{self.name}`")


def _with_db(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    head, _, _old = base.rpartition("/")
    return f"{head}/{name}" + (f"?{query}" if query else "")


_servers: dict[str, ServerDatabase | str] = {}


def _server(engine: str) -> ServerDatabase:
    found = _servers.get(engine)
    if found is None:
        url = PG_URL if engine == "postgres" else MYSQL_URL
        try:
            found = ServerDatabase(url, engine)
        except KyseraError as exc:
            found = f"{engine} server not reachable at {parse_url(url).describe()}: {exc}"
        _servers[engine] = found
    if isinstance(found, str):
        if REQUIRE_SERVERS:
            pytest.fail(f"KYSERA_REQUIRE_SERVERS=1 but {found}")
        pytest.skip(found)
    return found


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for server in _servers.values():
        if isinstance(server, ServerDatabase):
            with contextlib.suppress(Exception):
                server.drop()


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """Each test that uses it runs once per engine."""
    return str(request.param)


@pytest.fixture
def db_url(engine: str, tmp_path: os.PathLike[str]) -> str:
    """The URL of an empty database on ``engine``."""
    if engine == "sqlite":
        return f"sqlite:///{os.path.join(os.fspath(tmp_path), 'test.db')}"
    server = _server(engine)
    server.reset()
    return server.url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A connected, empty database on each engine."""
    database = connect(db_url)
    try:
        yield database
    finally:
        database.close()


@pytest.fixture
def sqlite_db(tmp_path: os.PathLike[str]) -> Iterator[Database]:
    """A connected, empty SQLite database file, for tests about SQLite alone."""
    database = connect(f"sqlite:///{os.path.join(os.fspath(tmp_path), 'sqlite.db')}")
    try:
        yield database
    finally:
        database.close()


def server_url(engine: str) -> str:
    """For tests that need a server URL of one engine without the engine parametrisation."""
    server = _server(engine)
    server.reset()
    return server.url


def interrupted(args: list[str], cwd: os.PathLike[str], after: float = 2.0) -> tuple[int, str]:
    """Run a command, press Ctrl-C (SIGINT) after ``after`` seconds: its exit code and stderr."""
    import signal
    import subprocess
    import time

    child = subprocess.Popen(
        args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # a terminal's Ctrl-C
    )
    time.sleep(after)
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=30)
    return child.returncode, stderr
