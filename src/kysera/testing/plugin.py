"""The pytest plugin (entry point ``pytest11``): fixtures for testing migrations.

- ``kysera_db``: a scratch database per test, empty, dropped after it: SQLite by default, or on
  the server named by ``--kysera-url`` / ``$KYSERA_TEST_URL`` (a database is created next to it).
- ``kysera_migrations``: the migrations of the folder named by ``--kysera-migrations`` or the ini
  option ``kysera_migrations``; without either, the ``[migrations] directory`` of the kysera config
  nearest the test file, else the nearest ``migrations`` folder from the test file up to the
  rootdir. Loaded once per test.
- ``migration_runner``: a runner over those migrations on ``kysera_db``, with the ``[migrations]``
  and ``[safety]`` settings of the kysera config nearest the test file.

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
    from ..config import Settings
    from ..database import Database
    from ..migrations import Migration, MigrationRunner


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kysera")
    group.addoption(
        "--kysera-url", default=None, help="server for scratch test databases (default: $KYSERA_TEST_URL, else SQLite)"
    )
    group.addoption(
        "--kysera-migrations",
        default=None,
        help="the migrations folder (default: the ini option kysera_migrations, else the [migrations] directory "
        "of the nearest kysera config, else the nearest migrations folder from the test up)",
    )
    parser.addini(
        "kysera_migrations",
        "the migrations folder for the kysera fixtures (default: found from the tests, see kysera.testing)",
        default="",
    )


@pytest.fixture
def kysera_db(request: pytest.FixtureRequest) -> Iterator[Database]:
    """A scratch database for this test, empty, dropped after it: a temporary SQLite file, or a new
    database on the server named by --kysera-url or $KYSERA_TEST_URL."""
    from contextlib import ExitStack

    from ..errors import KyseraError
    from .scratch import scratch_database

    option = request.config.getoption("--kysera-url")
    # an empty value (a CI matrix's SQLite row: KYSERA_TEST_URL="") means SQLite, as unset does
    url = option or os.environ.get("KYSERA_TEST_URL") or None
    with ExitStack() as stack:
        try:
            db = stack.enter_context(scratch_database(url))
        except KyseraError as exc:  # a bad URL, a server that does not answer: its message, no traceback
            source = "--kysera-url" if option else "$KYSERA_TEST_URL"
            problem: str | None = f"kysera_db: {exc} (the URL comes from {source})"
        else:
            problem = None
        if problem is not None:  # failed outside the except: pytest would print the error twice, chained
            pytest.fail(problem, pytrace=False)
        yield db


@pytest.fixture
def kysera_migrations(request: pytest.FixtureRequest) -> list[Migration]:
    """The project's migrations, loaded: the folder named by --kysera-migrations or the ini option
    kysera_migrations, else the [migrations] directory of the nearest kysera config, else the
    nearest migrations folder from the test file up."""
    from ..errors import KyseraError
    from ..migrations import load_migrations

    path = _migrations_folder(request)
    if not os.path.isdir(path):
        pytest.fail(
            f"kysera_migrations: the migrations folder {path} does not exist; name it with "
            "--kysera-migrations PATH or the ini option kysera_migrations (default: the [migrations] "
            "directory of the nearest kysera.toml, else a migrations folder next to the tests or above them)",
            pytrace=False,
        )
    try:
        return load_migrations(path)
    except KyseraError as exc:  # a file that does not load: its own message, without a traceback
        problem = f"kysera_migrations: {exc}"
    pytest.fail(problem, pytrace=False)  # outside the except: one message, not two chained


def _migrations_folder(request: pytest.FixtureRequest) -> str:
    """The folder asked for (``--kysera-migrations``, the ini option, relative to the rootdir);
    else the ``[migrations] directory`` of the kysera config nearest the test file; else the
    nearest ``migrations`` folder from the test file up to the rootdir; else ``<rootdir>/migrations``."""
    from pathlib import Path

    root = Path(str(request.config.rootpath))
    asked = request.config.getoption("--kysera-migrations") or request.config.getini("kysera_migrations")
    if asked:
        return str(asked) if os.path.isabs(str(asked)) else str(root / str(asked))
    here = Path(str(request.path)).parent
    settings = _project_settings(request, "kysera_migrations")
    if settings is not None:
        return str(settings.directory)
    for folder in (here, *here.parents):
        if (folder / "migrations").is_dir():
            return str(folder / "migrations")
        if folder == root:
            break
    return str(root / "migrations")


def _project_settings(request: pytest.FixtureRequest, fixture: str) -> Settings | None:
    """The kysera config nearest the test file, as the CLI reads it there (None: there is none)."""
    from pathlib import Path

    from ..config import find_config, settings_from_file
    from ..errors import KyseraError

    config = find_config(Path(str(request.path)).parent)
    if config is None:
        return None
    import os

    env = os.environ.get("KYSERA_ENV") or None  # the CLI's default for --env
    try:
        return settings_from_file(config, env, env_source="$KYSERA_ENV" if env else None)
    except KyseraError as exc:
        problem = f"{fixture}: {exc}"
    pytest.fail(problem, pytrace=False)  # outside the except: one message, not two chained


@pytest.fixture
def migration_runner(
    request: pytest.FixtureRequest, kysera_db: Database, kysera_migrations: list[Migration]
) -> MigrationRunner:
    """A migration runner over kysera_migrations on kysera_db (nothing applied yet), with the
    project's [migrations] and [safety] settings, as ``kysera migrate`` runs them."""
    from ..migrations import create_migration_runner

    settings = _project_settings(request, "migration_runner")
    if settings is None:
        return create_migration_runner(kysera_db, kysera_migrations)
    from .stairway import _history_in_scratch

    # the history table in the scratch database (a schema of it on PostgreSQL; elsewhere its
    # qualifier names another database or file, which a test must not write to)
    return create_migration_runner(
        kysera_db,
        kysera_migrations,
        table_name=_history_in_scratch(kysera_db, settings.table),
        lock_timeout=settings.lock_timeout,
        allow_out_of_order=settings.allow_out_of_order,
        **settings.safety,
    )
