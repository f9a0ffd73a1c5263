"""The pytest plugin (entry point ``pytest11``): fixtures for testing migrations.

- ``kysera_db``: a scratch database per test, empty, dropped after it: SQLite by default, or on
  the server named by ``--kysera-url`` / ``$KYSERA_TEST_URL`` (a database is created next to it).
- ``kysera_migrations``: the migrations of the folder named by ``--kysera-migrations`` or the ini
  option ``kysera_migrations`` (default ``migrations``), loaded once per test.
- ``migration_runner``: a runner over those migrations on ``kysera_db``.

.. code-block:: python

    def test_migrate_up_and_down(migration_runner):
        assert migration_runner.up().executed
        assert migration_runner.status().pending == []
        migration_runner.reset()
        assert len(migration_runner.status().pending) == migration_runner.status().total
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ..database import Database
    from ..migrations import Migration, MigrationRunner


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kysera")
    group.addoption("--kysera-url", default=None, help="server for scratch test databases (default: SQLite)")
    group.addoption("--kysera-migrations", default=None, help="the migrations folder (default: migrations)")
    parser.addini("kysera_migrations", "the migrations folder for the kysera fixtures", default="migrations")


@pytest.fixture
def kysera_db(request: pytest.FixtureRequest) -> Iterator[Database]:
    from .scratch import scratch_database

    url = request.config.getoption("--kysera-url") or os.environ.get("KYSERA_TEST_URL")
    with scratch_database(url) as db:
        yield db


@pytest.fixture
def kysera_migrations(request: pytest.FixtureRequest) -> list[Migration]:
    from ..migrations import load_migrations

    folder = request.config.getoption("--kysera-migrations") or request.config.getini("kysera_migrations")
    path = folder if os.path.isabs(folder) else os.path.join(str(request.config.rootpath), folder)
    return load_migrations(path)


@pytest.fixture
def migration_runner(kysera_db: Database, kysera_migrations: list[Migration]) -> MigrationRunner:
    from ..migrations import create_migration_runner

    return create_migration_runner(kysera_db, kysera_migrations)
