"""Dry runs: the plan with each migration's SQL for the engine, and no change at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from kysera import Database
from kysera.dialects.catalog import list_tables
from kysera.migrations import Migration, MigrationError, create_migration_runner

from .util import history_rows, table_migration


def _catalog(db: Database) -> dict[str, list[str]]:
    out = {}
    for table in list_tables(db):
        rows = db.select_from(table).select(["*"]).fetch_all() if table != "kysera_migrations" else history_rows(db)
        out[table] = sorted(repr(sorted(r.items())) for r in rows)
    return out


def _data_migration(db: Database) -> None:
    count = db.select_from("existing").select(["id"]).fetch_all()  # a read: runs in a dry run too
    db.insert_into("existing").values({"id": len(count) + 100}).execute()
    db.update_table("existing").set({"id": 7}).where("id", "=", 1).execute()


MIGRATIONS = [
    table_migration("001_users", "users"),
    Migration("002_data", _data_migration, lambda db: db.delete_from("existing").where("id", ">=", 100).execute()),
    table_migration("003_tags", "tags"),
]


def test_dry_run_changes_nothing(db: Database) -> None:
    db.schema.create_table("existing").add_column("id", "integer").execute()
    db.insert_into("existing").values({"id": 1}).execute()
    before = _catalog(db)
    runner = create_migration_runner(db, MIGRATIONS, dry_run=True)
    result = runner.up()
    assert result.dry_run is True
    assert result.executed == ["001_users", "002_data", "003_tags"]
    assert [s.status for s in result.steps] == ["planned"] * 3
    assert _catalog(db) == before
    assert "kysera_migrations" not in list_tables(db)

    quote = "`" if db.dialect.name == "mysql" else '"'
    (create,) = result.statements("001_users")
    assert create.sql.startswith(f"CREATE TABLE {quote}users{quote}")
    insert, update = result.statements("002_data")  # the SELECT ran, and is not in the plan
    assert insert.sql.startswith(f"INSERT INTO {quote}existing{quote}") and insert.params == (101,)
    assert "101" in str(insert)  # the human rendering inlines the values
    assert update.sql.startswith(f"UPDATE {quote}existing{quote}")
    script = result.sql()
    assert script.startswith("-- 001_users (up)\nCREATE TABLE")
    assert "-- 002_data (up)" in script and script.count(";") >= 4


def test_dry_run_of_rollbacks(db: Database) -> None:
    db.schema.create_table("existing").add_column("id", "integer").execute()
    runner = create_migration_runner(db, MIGRATIONS)
    runner.up()
    before = _catalog(db)
    for result in (runner.down(2, dry_run=True), runner.reset(dry_run=True), runner.redo(dry_run=True), runner.plan("reset")):
        assert result.dry_run and result.steps
        assert all(step.statements for step in result.steps)
    assert [s.name for s in runner.plan("down", 2).steps] == ["003_tags", "002_data"]
    assert _catalog(db) == before
    assert runner.status().pending == []


def test_dry_run_failure_changes_nothing(db: Database, tmp_path: Path) -> None:
    def needs_users(db: Database) -> None:
        db.select_from("users").select(["id"]).fetch_all()  # users exists only after 001 really ran

    runner = create_migration_runner(db, [MIGRATIONS[0], Migration("002_read", needs_users)])
    with pytest.raises(MigrationError) as caught:
        runner.up(dry_run=True)
    assert "in a dry run" in str(caught.value) and "nothing was changed" in str(caught.value)
    assert caught.value.result is not None and caught.value.result.dry_run
    assert caught.value.result.executed == ["001_users"]
    assert list_tables(db) == []
