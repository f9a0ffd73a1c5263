"""The guide's "Test Migrations" recipe, with kysera's pytest fixtures.

    cd examples/blog && pytest                      # SQLite scratch databases
    KYSERA_TEST_URL=postgresql://postgres@127.0.0.1/test pytest   # scratch databases on a server
"""

from kysera.migrations import MigrationRunner
from kysera.testing import check_migrations


def test_migrate_up_and_down(migration_runner: MigrationRunner) -> None:
    result = migration_runner.up()
    assert len(result.executed) > 0
    status = migration_runner.status()
    assert status.pending == []
    migration_runner.reset()
    after_reset = migration_runner.status()
    assert len(after_reset.pending) == after_reset.total


def test_every_down_undoes_its_up(kysera_db, kysera_migrations) -> None:  # type: ignore[no-untyped-def]
    report = check_migrations(kysera_db, kysera_migrations)
    assert report.ok, report.render()
