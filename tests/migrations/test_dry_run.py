"""Dry runs: the plan with each migration's SQL for the engine, and no change at all."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kysera import Database, sql
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
        db.select_from("users").select(["id"]).fetch_all()  # users exists only after 001 ran

    runner = create_migration_runner(db, [MIGRATIONS[0], Migration("002_read", needs_users)])
    if db.dialect.name == "sqlite":  # the dry run rehearses 001, so 002 finds users
        assert runner.up(dry_run=True).executed == ["001_users", "002_read"]
        assert list_tables(db) == []
        return
    with pytest.raises(MigrationError) as caught:
        runner.up(dry_run=True)
    assert "in a dry run" in str(caught.value) and "nothing was changed" in str(caught.value)
    assert "in this migration or an earlier one" in str(caught.value)
    assert caught.value.result is not None and caught.value.result.dry_run
    assert caught.value.result.executed == ["001_users"]
    assert list_tables(db) == []


# SQLite: a dry run also runs what it records, in a transaction it rolls back -------------------


def _guide_plan() -> list[Migration]:
    """The guide's steps: a table, a column type change (a table rebuild on SQLite), a new column
    filled and made NOT NULL in one migration."""

    def users(db: Database) -> None:
        db.schema.create_table("users").add_column("id", "integer", lambda c: c.primary_key()).add_column(
            "name", "varchar(100)", lambda c: c.not_null()
        ).execute()
        db.insert_into("users").values({"id": 1, "name": "ada"}).execute()

    def widen(db: Database) -> None:
        db.schema.alter_table("users").alter_column("name", lambda c: c.set_data_type("varchar(200)")).execute()

    def narrow(db: Database) -> None:
        db.schema.alter_table("users").alter_column("name", lambda c: c.set_data_type("varchar(100)")).execute()

    def email(db: Database) -> None:
        db.schema.alter_table("users").add_column("email", "varchar(255)").execute()
        db.update_table("users").set({"email": "a@example.com"}).execute()
        db.schema.alter_table("users").alter_column("email", lambda c: c.set_not_null()).execute()

    def no_email(db: Database) -> None:
        db.schema.alter_table("users").drop_column("email").execute()

    return [
        Migration("001_users", users, lambda db: db.schema.drop_table("users").execute()),
        Migration("002_widen_name", widen, narrow),
        Migration("003_email", email, no_email, allow_unsafe=["KS102"]),
    ]


def test_sqlite_dry_run_sees_what_earlier_statements_made(sqlite_db: Database) -> None:
    runner = create_migration_runner(sqlite_db, _guide_plan())
    result = runner.up(dry_run=True)
    assert result.executed == ["001_users", "002_widen_name", "003_email"]
    assert 'varchar(200)' in result.sql() and "_kysera_new_users" in result.sql()  # the rebuild
    assert list_tables(sqlite_db) == []  # rolled back: not even the history table

    runner.up()
    before = _catalog(sqlite_db)
    for plan in (runner.reset(dry_run=True), runner.down(2, dry_run=True), runner.redo(dry_run=True)):
        assert plan.steps and all(step.statements for step in plan.steps)
    assert _catalog(sqlite_db) == before
    assert sqlite_db.introspect_table("users") is not None


def test_dry_run_of_changes_to_what_the_plan_creates(db: Database) -> None:
    """Every engine: a type change of a column an earlier migration creates, and NOT NULL on a
    column the same migration adds in an earlier call. MySQL restates the column in MODIFY
    COLUMN from what the recorded statements would create; SQLite rehearses them."""
    runner = create_migration_runner(db, _guide_plan())
    result = runner.up(dry_run=True)
    assert result.executed == ["001_users", "002_widen_name", "003_email"]
    assert "varchar(200)" in result.sql()
    if db.dialect.name == "mysql":
        assert "MODIFY COLUMN `email` varchar(255) NOT NULL" in result.sql()
    assert list_tables(db) == []
    runner.up()
    assert runner.redo(dry_run=True).steps and runner.reset(dry_run=True).steps


def test_sqlite_dry_run_finds_what_only_the_database_finds(sqlite_db: Database) -> None:
    def duplicate(db: Database) -> None:
        db.insert_into("users").values({"id": 1, "name": "again"}).execute()

    runner = create_migration_runner(sqlite_db, [*_guide_plan()[:1], Migration("002_duplicate", duplicate)])
    with pytest.raises(MigrationError) as caught:
        runner.up(dry_run=True)
    message = str(caught.value)
    assert "002_duplicate failed (up) in a dry run" in message and "UNIQUE" in message
    assert "rolled it back" in message
    assert list_tables(sqlite_db) == []


def test_sqlite_dry_run_records_but_does_not_run_a_migration_outside_a_transaction(sqlite_db: Database) -> None:
    def vacuum(db: Database) -> None:
        db.execute("VACUUM")  # SQLite refuses it inside a transaction; the real run has none

    runner = create_migration_runner(sqlite_db, [*_guide_plan()[:1], Migration("002_vacuum", vacuum, transaction=False)])
    result = runner.up(dry_run=True)
    assert [s.sql for s in result.statements("002_vacuum")] == ["VACUUM"]
    assert list_tables(sqlite_db) == []


def test_sqlite_dry_run_refuses_what_commit_would_refuse(sqlite_db: Database) -> None:
    sqlite_db.schema.create_table("parent").add_column("id", "integer", lambda c: c.primary_key()).execute()
    sqlite_db.schema.create_table("child").add_column("pid", "integer", lambda c: c.references("parent.id")).execute()
    sqlite_db.insert_into("parent").values({"id": 1}).execute()
    sqlite_db.insert_into("child").values({"pid": 1}).execute()
    orphan = Migration("001_orphan", lambda db: db.delete_from("parent").where("id", "=", 1).execute())
    runner = create_migration_runner(sqlite_db, [orphan], safety="off")
    with pytest.raises(MigrationError, match=r"001_orphan failed \(up\) in a dry run: 1 row\(s\) break a foreign key"):
        runner.up(dry_run=True)
    with pytest.raises(MigrationError, match="break a foreign key"):
        runner.up()
    assert sqlite_db.select_from("parent").select(["id"]).fetch_all() == [{"id": 1}]


def test_sqlite_dry_run_rehearses_a_backfill_that_a_later_migration_needs(sqlite_db: Database) -> None:
    """The KS205 recipe on SQLite: fill the NULLs (a backfill, outside a transaction), then set NOT NULL."""
    sqlite_db.schema.create_table("users").add_column("id", "integer", lambda c: c.primary_key()).execute()
    sqlite_db.insert_into("users").values([{"id": 1}, {"id": 2}]).execute()

    def fill(db: Database) -> None:
        db.schema.alter_table("users").add_column("email", "text").execute()
        db.backfill("users", set={"email": "x"}, where=sql("email IS NULL"))

    def not_null(db: Database) -> None:
        db.schema.alter_table("users").alter_column("email", lambda c: c.set_not_null()).execute()

    runner = create_migration_runner(sqlite_db, [Migration("001_fill", fill), Migration("002_not_null", not_null)])
    assert runner.up(dry_run=True).executed == ["001_fill", "002_not_null"]
    assert "email" not in [c.name for c in sqlite_db.introspect_table("users").columns]  # type: ignore[union-attr]
    assert runner.up().executed == ["001_fill", "002_not_null"]


def test_a_select_in_a_sql_file_runs_once_for_real_and_never_in_a_dry_run(db: Database, tmp_path: Path) -> None:
    """Nothing reads a .sql file's results: its SELECT is there for what it does (nextval)."""
    if db.dialect.name != "postgres":
        pytest.skip("sequences with nextval() are PostgreSQL's")
    db.execute("CREATE SEQUENCE s")
    (tmp_path / "001_tick.sql").write_text("-- migrate:up\nSELECT nextval('s');\n-- migrate:down\nSELECT 1;\n")
    from kysera.migrations import load_migrations

    runner = create_migration_runner(db, load_migrations(tmp_path))
    runner.up(dry_run=True)
    assert db.fetch("SELECT last_value, is_called FROM s") == [{"last_value": 1, "is_called": False}]
    runner.up()  # the safety gate's dry run, then the real run
    assert db.fetch("SELECT last_value, is_called FROM s") == [{"last_value": 1, "is_called": True}]


def test_mysql_dry_run_restates_columns_as_earlier_migrations_leave_them(db: Database) -> None:
    """MODIFY COLUMN restates a whole column: in a dry run, as the plan's earlier statements
    leave it (a dropped default, NOT NULL, a renamed table), not as the catalog has it now."""
    if db.dialect.name != "mysql":
        pytest.skip("only MySQL restates columns from the catalog")
    db.schema.create_table("t7").add_column("id", "integer").add_column("age", "smallint", lambda c: c.default_to(3)).add_column("nm", "varchar(10)").execute()

    def b(db: Database) -> None:
        db.schema.alter_table("t7").alter_column("age", lambda c: c.drop_default()).execute()
        db.schema.alter_table("t7").alter_column("nm", lambda c: c.set_not_null()).execute()

    def c(db: Database) -> None:
        (db.schema.alter_table("t7").alter_column("age", lambda c: c.set_data_type("integer"))
         .alter_column("nm", lambda c: c.set_data_type("varchar(20)")).execute())
        db.schema.alter_table("t7").rename_to("t7b").execute()
        db.schema.alter_table("t7b").alter_column("nm", lambda c: c.set_data_type("varchar(30)")).execute()

    runner = create_migration_runner(db, [Migration("001_b", b), Migration("002_c", c)])
    planned = [s.sql for s in runner.up(dry_run=True).statements("002_c")]
    assert "MODIFY COLUMN `age` integer NULL," in planned[0] and "DEFAULT 3" not in planned[0]
    assert re.search(r"MODIFY COLUMN `nm` varchar\(20\)[^,]* NOT NULL", planned[0])
    assert re.search(r"MODIFY COLUMN `nm` varchar\(30\)[^,]* NOT NULL", planned[2])
    runner.up()
    assert "t7b" in list_tables(db)


def test_mysql_dry_run_follows_a_raw_rename(db: Database) -> None:
    """The guide's contract step undone: a raw RENAME COLUMN, then a change to the column under
    its new name. The dry run restates the column the raw statement renamed."""
    if db.dialect.name != "mysql":
        pytest.skip("only MySQL restates columns from the catalog")
    db.schema.create_table("u8").add_column("id", "integer").add_column("email", "varchar(255)", lambda c: c.not_null()).execute()

    def down_like(db: Database) -> None:
        sql("ALTER TABLE u8 RENAME COLUMN email TO email_old").execute(db)
        db.schema.alter_table("u8").alter_column("email_old", lambda c: c.drop_not_null()).execute()

    runner = create_migration_runner(db, [Migration("001_rename", down_like)])
    planned = [s.sql for s in runner.up(dry_run=True).statements("001_rename")]
    assert re.search(r"MODIFY COLUMN `email_old` varchar\(255\)[^,]* NULL", planned[1])
    runner.up()
    assert db.introspect_table("u8") is not None


def test_mysql_dry_run_drops_an_index_the_plan_creates_without_on(db: Database) -> None:
    """drop_index(name) without .on(table): MySQL's DROP INDEX names the table, looked up in the
    catalog; in a dry run of a plan whose earlier migration creates the index (or renames or drops
    its table), the table is the plan's, as the real run finds it."""
    if db.dialect.name != "mysql":
        pytest.skip("only MySQL looks the index's table up")

    def create(db: Database) -> None:
        db.schema.create_table("u9").add_column("id", "integer").add_column("email", "varchar(255)").execute()
        db.schema.create_index("idx_u9_email").on("u9").column("email").execute()

    def drop(db: Database) -> None:
        db.schema.alter_table("u9").rename_to("u9b").execute()
        db.schema.drop_index("idx_u9_email").execute()
        db.schema.drop_index("idx_u9_email").if_exists().execute()  # gone already: nothing to run

    runner = create_migration_runner(db, [Migration("001_create", create), Migration("002_drop", drop)])
    planned = [s.sql for s in runner.up(dry_run=True).statements("002_drop")]
    assert len(planned) == 2 and "DROP INDEX `idx_u9_email`" in planned[1] and "`u9b`" in planned[1]
    assert list_tables(db) == []
    runner.up()
    assert db.introspect_table("u9b").index("idx_u9_email") is None


def test_a_fetch_that_writes_is_recorded_in_a_dry_run_and_runs_once_for_real(db: Database) -> None:
    """db.fetch("UPDATE ... RETURNING"): a dry run must not run it, and the check before a real
    run must not run it a second time."""
    db.schema.create_table("counter").add_column("id", "integer").add_column("v", "integer").execute()
    db.insert_into("counter").values({"id": 1, "v": 10}).execute()
    returning = "" if db.dialect.name == "mysql" else " RETURNING v"  # MariaDB's UPDATE returns nothing
    seen: list[object] = []

    def bump(db: Database) -> None:
        seen.append(db.fetch(f"UPDATE counter SET v = v + 1 WHERE id = 1{returning}"))
        seen.append(db.fetch("WITH c AS (SELECT v FROM counter) SELECT v FROM c"))  # a read: runs

    migrations = [Migration("001_bump", bump, lambda db: None)]
    result = create_migration_runner(db, migrations, dry_run=True).up()
    assert db.fetch("SELECT v FROM counter") == [{"v": 10}]
    assert [s.sql.split()[0] for s in result.statements("001_bump")] == ["UPDATE"]
    seen.clear()
    create_migration_runner(db, migrations).up()
    assert db.fetch("SELECT v FROM counter") == [{"v": 11}]
    if returning:
        assert {"v": 11} in seen[-2]


def test_a_sqlite_dry_run_reports_the_errors_of_a_migration_outside_a_transaction(sqlite_db: Database, tmp_path: Path) -> None:
    """Its statements are rehearsed as far as a transaction allows; only what refuses a
    transaction (VACUUM) is skipped, and any other error is the real run's error too (the dry run
    said '1 migration would run', then up failed and left it to resolve)."""

    def broken(db: Database) -> None:
        db.execute("CREATE TABLE made (id integer)")
        db.execute("INSERT INTO nonexist VALUES (1)")

    def vacuum(db: Database) -> None:
        db.execute("VACUUM")

    runner = create_migration_runner(sqlite_db, [Migration("001_broken", broken, transaction=False)])
    with pytest.raises(MigrationError, match="no such table: nonexist"):
        runner.up(dry_run=True)
    assert not sqlite_db.table_exists("made")
    runner = create_migration_runner(sqlite_db, [Migration("002_vacuum", vacuum, transaction=False)])
    assert runner.up(dry_run=True).executed == ["002_vacuum"]


def test_a_builder_with_returning_is_recorded_in_a_dry_run_and_its_code_runs_for_real(db: Database) -> None:
    """insert_into(...).returning(...) changes data: a dry run records it and gives its code no
    rows. The real run must then run the code again, not replay the record (which logged 0)."""
    db.schema.create_table("src").add_column("id", "integer", lambda c: c.primary_key()).execute()
    db.schema.create_table("log").add_column("n", "integer").execute()

    def copy(db: Database) -> None:
        rows = db.insert_into("src").values([{"id": 1}, {"id": 2}]).returning("id").fetch_all()
        db.insert_into("log").values({"n": len(rows)}).execute()

    migrations = [Migration("001_copy", copy, lambda db: None)]
    with db.capture() as captured:
        assert db.insert_into("src").values({"id": 9}).returning("id").execute().rows == []
    assert len(captured) == 1 and not captured.replayable and captured.consulted
    plan = create_migration_runner(db, migrations, dry_run=True).up()
    assert [s.sql.split()[0] for s in plan.statements("001_copy")] == ["INSERT", "INSERT"]
    assert db.select_from("src").fetch_all() == [] and db.select_from("log").fetch_all() == []
    create_migration_runner(db, migrations).up()
    assert db.select_from("log").fetch_all() == [{"n": 2}]
    assert db.select_from("src").select("id").order_by("id").fetch_all() == [{"id": 1}, {"id": 2}]
