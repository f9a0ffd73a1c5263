"""The gate's dry run stands in for a second call of ``up`` only when that changes nothing.

Before ``up`` runs anything, the safety gate dry-runs every pending migration. A migration whose
dry run built its statements without touching the database then runs those statements instead of
building them again (on engines with transactional DDL). These tests pin down that a migration
behaves exactly as if its code had run for real, whatever it does.
"""

from __future__ import annotations

import time

import pytest

from kysera import Database, sql
from kysera.errors import StatementError
from kysera.migrations import Migration, MigrationError, create_migration_runner

from .util import history_rows, tables


def _create(db: Database, table: str) -> None:
    db.schema.create_table(table).add_column("id", "integer", lambda c: c.primary_key()).execute()


def test_a_plain_migration_runs_the_statements_its_dry_run_built(db: Database) -> None:
    calls: list[str] = []

    def up(db: Database) -> None:
        calls.append("up")
        _create(db, "plain")
        db.schema.create_index("plain_id").on("plain").column("id").execute()

    result = create_migration_runner(db, [Migration("001_plain", up)]).up()

    assert "plain" in tables(db)
    assert [r["name"] for r in history_rows(db)] == ["001_plain"]
    # the dry run of the gate, then the real run: once when its statements are replayed
    assert len(calls) == (1 if db.dialect.transactional_ddl else 2)
    if db.dialect.transactional_ddl:  # (MySQL's real run adds its online clauses)
        built = db.schema.create_table("plain").add_column("id", "integer", lambda c: c.primary_key())
        expected = [*db.compile(built), *db.compile(db.schema.create_index("plain_id").on("plain").column("id"))]
        assert [s.sql for s in result.steps[0].statements] == [s.sql for s in expected]


def test_a_replayed_migration_reports_the_time_its_code_took(db: Database) -> None:
    """The duration logged, given to the after hook and recorded in the history counts the time
    the code took to build its statements (in the dry run, when they are replayed), not only
    the time the statements took."""
    seen: list[float] = []
    logged: list[str] = []

    def up(db: Database) -> None:
        time.sleep(0.3)
        _create(db, "slow")

    runner = create_migration_runner(
        db, [Migration("001_slow", up)], after=lambda m, d, seconds: seen.append(seconds), logger=logged.append
    )
    result = runner.up()

    assert seen == [result.steps[0].duration] and seen[0] >= 0.3
    assert any(line.startswith("migrated up: 001_slow in 0.3") for line in logged), logged
    info = runner.status().get("001_slow")
    assert info is not None and info.duration is not None and info.duration >= 0.3


def test_a_migration_that_reads_sees_what_earlier_ones_of_the_run_made(db: Database) -> None:
    def second(db: Database) -> None:
        # in the dry run "first" does not exist yet; for real it does
        _create(db, "seen" if db.table_exists("first") else "not_seen")

    runner = create_migration_runner(
        db, [Migration("001_first", lambda db: _create(db, "first")), Migration("002_second", second)]
    )
    runner.up()

    assert "seen" in tables(db)
    assert "not_seen" not in tables(db)


def test_a_failure_the_migration_handles_stays_handled(db: Database) -> None:
    def up(db: Database) -> None:
        try:
            with db.transaction():
                db.execute("INSERT INTO no_such_table (id) VALUES (1)")
        except StatementError:
            pass  # optional data: fine when the table is not there
        _create(db, "after_handled")

    create_migration_runner(db, [Migration("001_handles", up)]).up()

    assert "after_handled" in tables(db)
    assert [r["state"] for r in history_rows(db)] == ["applied"]


def test_a_failure_the_migration_does_not_handle_is_reported_once(db: Database) -> None:
    def up(db: Database) -> None:
        _create(db, "before_failure")
        db.execute(sql("INSERT INTO no_such_table (id) VALUES (1)"))

    with pytest.raises(MigrationError) as caught:
        create_migration_runner(db, [Migration("001_fails", up)]).up()

    assert "no_such_table" in str(caught.value)
    assert caught.value.statement is not None and "no_such_table" in caught.value.statement
    if db.dialect.transactional_ddl:
        assert "before_failure" not in tables(db)
        assert history_rows(db) == []


def test_a_block_that_raises_inside_a_migration_is_undone(db: Database) -> None:
    if not db.dialect.transactional_ddl:
        pytest.skip("MySQL commits DDL at once, so a savepoint cannot undo a CREATE TABLE")

    def up(db: Database) -> None:
        try:
            with db.transaction():
                _create(db, "undone")
                raise ValueError("changed my mind")
        except ValueError:
            pass
        _create(db, "kept")

    create_migration_runner(db, [Migration("001_savepoint", up)]).up()

    assert "kept" in tables(db)
    assert "undone" not in tables(db)


def test_code_that_asks_whether_it_is_a_dry_run_runs_for_real(db: Database) -> None:
    sent: list[str] = []

    def up(db: Database) -> None:
        _create(db, "notified")
        if not db.capturing:
            sent.append("email")  # a side effect outside the database, once

    create_migration_runner(db, [Migration("001_notify", up)]).up()

    assert sent == ["email"]
    assert "notified" in tables(db)


def test_a_value_the_code_computes_is_written_once(db: Database) -> None:
    import itertools

    counter = itertools.count(1)

    def up(db: Database) -> None:
        _create(db, "seeded")
        db.insert_into("seeded").values({"id": next(counter)}).execute()

    create_migration_runner(db, [Migration("001_seed", up)]).up()

    rows = db.select_from("seeded").select(["id"]).fetch_all()
    # one row, from whichever run of the code wrote it
    assert len(rows) == 1


# ----------------------------------------------------------------------------- SQLite foreign keys


def test_sqlite_foreign_keys_are_on_again_after_a_run(sqlite_db: Database) -> None:
    migrations = [Migration(f"00{i}_t{i}", lambda db, i=i: _create(db, f"t{i}")) for i in range(1, 4)]
    create_migration_runner(sqlite_db, migrations).up()

    assert sqlite_db.fetch("PRAGMA foreign_keys")[0]["foreign_keys"] == 1


def _parent_and_child(db: Database) -> None:
    _create(db, "parent")
    (
        db.schema.create_table("child")
        .add_column("id", "integer", lambda c: c.primary_key())
        .add_column("parent_id", "integer", lambda c: c.references("parent.id"))
        .execute()
    )


def _orphan(db: Database) -> None:
    db.insert_into("child").values({"id": 1, "parent_id": 99}).execute()


def _tables_then(last: Migration) -> list[Migration]:
    return [Migration("001_tables", _parent_and_child), Migration("002_t", lambda db: _create(db, "t")), last]


def test_sqlite_a_migration_outside_a_transaction_in_a_run_has_foreign_keys_enforced(sqlite_db: Database) -> None:
    with pytest.raises(MigrationError) as caught:
        create_migration_runner(sqlite_db, _tables_then(Migration("003_orphan", _orphan, transaction=False))).up()

    assert "FOREIGN KEY" in str(caught.value)
    assert sqlite_db.select_from("child").select(["id"]).fetch_all() == []


def test_sqlite_a_migration_in_a_run_still_checks_foreign_keys_at_commit(sqlite_db: Database) -> None:
    with pytest.raises(MigrationError) as caught:
        create_migration_runner(sqlite_db, _tables_then(Migration("003_orphan", _orphan))).up()

    assert "break a foreign key" in str(caught.value)
    assert sqlite_db.select_from("child").select(["id"]).fetch_all() == []
    assert [r["name"] for r in history_rows(sqlite_db)] == ["001_tables", "002_t"]


def test_sqlite_a_migration_that_turns_foreign_keys_off_has_them_off_until_it_ends(sqlite_db: Database) -> None:
    """Its own statements run unchecked; the migrations after it, and the connection after the
    run, have them on again (a migration's session settings end with it: test_session_settings)."""

    def off_then_orphan(db: Database) -> None:
        db.execute("PRAGMA foreign_keys = OFF")
        _orphan(db)

    migrations = [
        Migration("001_t", lambda db: _create(db, "t")),
        Migration("002_tables", _parent_and_child),
        Migration("003_off", off_then_orphan, transaction=False),
    ]
    create_migration_runner(sqlite_db, migrations).up()

    assert sqlite_db.fetch("PRAGMA foreign_keys")[0]["foreign_keys"] == 1
    assert len(sqlite_db.select_from("child").select(["id"]).fetch_all()) == 1


def test_code_that_uses_the_driver_connection_runs_for_real(db: Database) -> None:
    calls: list[str] = []

    def up(db: Database) -> None:
        calls.append("up")
        db.driver_connection.run("SELECT 1 AS one", None)  # past kysera: no dry run sees it
        _create(db, "built")

    create_migration_runner(db, [Migration("001_direct", up)]).up()

    assert "built" in tables(db)
    assert len(calls) == 2  # the dry run, then up() itself: its statements are not replayed


# ----------------------------------------------------------------------------- downs


def _reversible(name: str, table: str, calls: list[str], down_reads: bool = False) -> Migration:
    def down(db: Database) -> None:
        calls.append(name)
        if down_reads and not db.table_exists(table):
            return
        db.schema.drop_table(table).execute()

    return Migration(name, lambda db: _create(db, table), down)


def test_a_plain_down_runs_the_statements_its_dry_run_built(db: Database) -> None:
    calls: list[str] = []
    migrations = [_reversible("001_a", "a", calls), _reversible("002_b", "b", calls)]
    runner = create_migration_runner(db, migrations)
    runner.up()

    result = runner.down(2)

    assert tables(db) == ["kysera_migrations"] and history_rows(db) == []
    # each down's dry run, then, on engines that replay it, no second call
    expected = ["002_b", "001_a"] if db.dialect.transactional_ddl else ["002_b", "001_a", "002_b", "001_a"]
    assert calls == expected
    assert [len(step.statements) for step in result.steps] == [1, 1]


def test_a_down_that_reads_runs_its_code_for_real(db: Database) -> None:
    calls: list[str] = []
    migrations = [_reversible("001_a", "a", calls, down_reads=True)]
    runner = create_migration_runner(db, migrations)
    runner.up()

    runner.down()

    assert calls == ["001_a", "001_a"]  # the dry run read the catalog: the code runs again
    assert "a" not in tables(db)


def test_a_replayed_down_that_fails_reports_the_failure_and_keeps_the_migration(db: Database) -> None:
    def down(db: Database) -> None:
        db.schema.drop_table("a").execute()
        db.execute(sql("DROP TABLE no_such_table"))

    runner = create_migration_runner(db, [Migration("001_a", lambda db: _create(db, "a"), down)])
    runner.up()

    with pytest.raises(MigrationError) as caught:
        runner.down()

    assert "no_such_table" in str(caught.value)
    assert [r["name"] for r in history_rows(db)] == ["001_a"]
    if db.dialect.transactional_ddl:
        assert "a" in tables(db)


def test_a_replay_that_fails_says_which_code_runs_instead(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    """The debug line names the direction whose code runs now; it had a %s too many, so logging
    printed a 'Logging error' traceback instead of the line."""

    class Collect:
        def __init__(self) -> None:
            self.seen: list[str] = []

        def debug(self, message: str) -> None:
            self.seen.append(message)

        info = warning = error = debug

    def down(db: Database) -> None:
        db.schema.drop_table("a").execute()
        db.execute(sql("DROP TABLE no_such_table"))

    said = Collect()
    runner = create_migration_runner(db, [Migration("001_a", lambda db: _create(db, "a"), down)], logger=said)
    runner.up()
    with pytest.raises(MigrationError):
        runner.down()

    assert "Logging error" not in capsys.readouterr().err
    if db.dialect.transactional_ddl:  # where a down is replayed
        assert any("running its down() to handle or report that" in m for m in said.seen)
