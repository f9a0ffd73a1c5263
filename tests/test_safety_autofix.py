"""safety="auto": the runner runs the safe equivalent instead of refusing (PostgreSQL)."""

from __future__ import annotations

import pytest

from kysera import Database, sql
from kysera.migrations import Migration, create_migration_runner
from kysera.migrations.gate import UnsafeMigrationError

pytestmark = pytest.mark.parametrize("engine", ["postgres"])  # NOT VALID and CONCURRENTLY are PostgreSQL's


def setup(db: Database) -> None:
    db.execute("CREATE TABLE parents (id integer PRIMARY KEY)")
    db.execute("INSERT INTO parents SELECT g FROM generate_series(1, 5) g")
    db.execute("CREATE TABLE events (id serial PRIMARY KEY, parent_id integer, kind text, n integer)")
    db.execute("INSERT INTO events (parent_id, kind, n) SELECT 1 + g % 5, 'k', g FROM generate_series(1, 50) g")


def change(db: Database) -> None:
    db.schema.create_index("ix_events_kind").on("events").column("kind").execute()
    db.schema.alter_table("events").add_foreign_key_constraint("fk_events_parent", ["parent_id"], "parents", ["id"]).execute()
    db.schema.alter_table("events").add_check_constraint("ck_events_n", sql("n > 0")).execute()
    db.schema.alter_table("events").alter_column("kind", lambda c: c.set_not_null()).execute()


@pytest.fixture
def pg(db: Database) -> Database:
    setup(db)
    return db


def test_error_mode_refuses_the_plain_forms(pg: Database) -> None:
    runner = create_migration_runner(pg, [Migration("001_change", change)], large_table_rows=10)
    with pytest.raises(UnsafeMigrationError) as caught:
        runner.up()
    assert {"KS201", "KS203", "KS204", "KS205"} <= {f.code for f in caught.value.findings}


def test_auto_mode_runs_the_safe_recipes(pg: Database) -> None:
    runner = create_migration_runner(pg, [Migration("001_change", change)], large_table_rows=10, safety="auto")
    dry = runner.up(dry_run=True).sql()
    assert "CREATE INDEX CONCURRENTLY" in dry and "NOT VALID" in dry and "VALIDATE CONSTRAINT" in dry
    result = runner.up()
    assert result.executed == ["001_change"] and result.steps[0].transaction is False
    valid = pg.fetch("SELECT i.indisvalid AS v FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'ix_events_kind'")
    assert valid == [{"v": True}]
    constraints = {
        str(r["name"]): bool(r["ok"])
        for r in pg.fetch("SELECT conname AS name, convalidated AS ok FROM pg_constraint WHERE conrelid = 'events'::regclass AND contype IN ('f', 'c')")
    }
    assert constraints == {"fk_events_parent": True, "ck_events_n": True}  # the helper check is gone
    not_null = pg.fetch("SELECT attnotnull AS nn FROM pg_attribute WHERE attrelid = 'events'::regclass AND attname = 'kind'")
    assert not_null == [{"nn": True}]


def test_auto_mode_still_refuses_what_has_no_safe_recipe(pg: Database) -> None:
    def drop(db: Database) -> None:
        db.schema.alter_table("events").drop_column("n").execute()

    runner = create_migration_runner(pg, [Migration("001_drop", drop)], large_table_rows=10, safety="auto")
    with pytest.raises(UnsafeMigrationError, match="KS102"):
        runner.up()
