"""The safety gate in the runner, lock timeouts with retries, and INVALID index cleanup."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from kysera import Database, connect, sql
from kysera.dialects.catalog import list_tables
from kysera.errors import ConfigurationError
from kysera.migrations import (
    Migration,
    MigrationError,
    MigrationRunner,
    create_migration_runner,
    load_migrations,
)
from kysera.migrations.errors import MigrationDefinitionError
from kysera.migrations.gate import UnsafeMigrationError

from . import catalog


def filled_table(db: Database, rows: int = 10) -> None:
    (
        db.schema.create_table("t")
        .add_column("id", "serial", lambda c: c.primary_key())
        .add_column("n", "integer")
        .execute()
    )
    db.insert_into("t").values([{"n": i} for i in range(rows)]).execute()


def drop_n(db: Database) -> None:
    db.schema.alter_table("t").drop_column("n").execute()


def test_gate_refuses_and_changes_nothing(db: Database) -> None:
    filled_table(db)
    runner = create_migration_runner(db, [Migration("001_drop", drop_n)], large_table_rows=5)
    with pytest.raises(UnsafeMigrationError) as caught:
        runner.up()
    message = str(caught.value)
    assert "KS102" in message and "001_drop" in message and "nothing was changed" in message
    assert "allow_unsafe" in message
    assert "n" in catalog.columns(db, "t")
    assert not db.table_exists("kysera_migrations")  # not even the history table
    assert caught.value.exit_code == 1


def test_refusal_is_importable_from_kysera_migrations_and_names_its_findings(db: Database) -> None:
    from kysera.migrations import UnsafeMigrationError as exported

    assert exported is UnsafeMigrationError
    filled_table(db)
    with pytest.raises(exported) as caught:
        create_migration_runner(db, [Migration("001_drop", drop_n)]).up()
    result = caught.value.result
    assert result is not None
    assert [f.code for f in result.refused] == ["KS102"] == [f.code for f in caught.value.findings]
    assert result.as_dict()["refused"][0]["code"] == "KS102"  # what migrate up --json prints
    assert "n" in catalog.columns(db, "t")


def test_acknowledged_findings_run(db: Database) -> None:
    filled_table(db)
    allowed = Migration("001_drop", drop_n, allow_unsafe=["KS102"])
    assert create_migration_runner(db, [allowed]).up().executed == ["001_drop"]
    assert "n" not in catalog.columns(db, "t")


def test_warn_mode_logs_and_runs(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    filled_table(db)
    runner = create_migration_runner(db, [Migration("001_drop", drop_n)], safety="warn")
    with caplog.at_level(logging.WARNING, logger="kysera.migrations"):
        assert runner.up().executed == ["001_drop"]
    assert "KS102" in caplog.text


def test_one_call_can_choose_the_safety_mode(db: Database) -> None:
    filled_table(db)

    def add_n(db: Database) -> None:
        db.schema.alter_table("t").add_column("n", "integer").execute()
        db.execute("UPDATE t SET n = 1")

    runner = create_migration_runner(db, [Migration("001_drop", drop_n, add_n)])
    with pytest.raises(ConfigurationError, match="safety must be one of"):
        runner.up(safety="loud")  # type: ignore[arg-type]
    assert [f.code for f in runner.up(dry_run=True, safety="warn").findings] == ["KS102"]
    assert not runner.up(dry_run=True, safety="warn").refused
    assert runner.up(safety="warn").executed == ["001_drop"]
    assert "n" not in catalog.columns(db, "t")
    assert runner.safety == "error"  # the runner's own mode is back for the next call
    with pytest.raises(UnsafeMigrationError):
        runner.redo()  # the down puts n back, with data: the up would drop it again
    assert runner.redo(safety="warn").executed == ["001_drop", "001_drop"]


def test_runner_wide_allow_and_baseline(db: Database) -> None:
    filled_table(db)
    assert create_migration_runner(db, [Migration("001_drop", drop_n)], safety_allow=["drop-column"]).up().executed
    db.schema.alter_table("t").add_column("n", "integer").execute()
    second = Migration("002_drop", drop_n)
    runner = create_migration_runner(db, [Migration("001_drop", drop_n), second], safety_start_after="002_drop")
    assert runner.up().executed == ["002_drop"]


def test_a_misspelt_baseline_is_refused_not_a_silent_pass(db: Database) -> None:
    """A baseline that names no migration would stop judging everything that sorts before it."""
    filled_table(db)
    runner = create_migration_runner(db, [Migration("001_drop", drop_n)], safety_start_after="2099_typo")
    with pytest.raises(ConfigurationError, match=r"start_after.*unknown migration '2099_typo'") as caught:
        runner.up()
    assert caught.value.exit_code == 2
    assert db.introspect_table("t") is not None and "n" in [c.name for c in db.introspect_table("t").columns]  # type: ignore[union-attr]
    assert "kysera_migrations" not in list_tables(db)


def test_sql_file_allow_directive(db: Database, tmp_path: Path) -> None:
    filled_table(db)
    (tmp_path / "001_drop.sql").write_text("-- kysera:allow KS102\n-- migrate:up\nALTER TABLE t DROP COLUMN n;\n")
    assert create_migration_runner(db, load_migrations(tmp_path)).up().executed == ["001_drop"]


def test_the_recipe_for_a_sql_file_says_it_is_python_and_how_the_file_acknowledges(db: Database, tmp_path: Path) -> None:
    """A .sql migration's finding printed kysera's Python recipe (allow_unsafe = [...]) as if it
    could be pasted into that file."""
    filled_table(db)
    (tmp_path / "001_drop.sql").write_text("-- migrate:up\nALTER TABLE t DROP COLUMN n;\n")
    with pytest.raises(UnsafeMigrationError) as refused:
        create_migration_runner(db, load_migrations(tmp_path)).up()
    [finding] = refused.value.findings
    assert finding.recipe.startswith("# kysera's Python, for a .py migration; in this .sql file, acknowledge the risk with a\n"
                                     "# '-- kysera:allow KS102' line above the statement\n")


def test_unknown_codes_are_errors(tmp_path: Path) -> None:
    with pytest.raises(MigrationDefinitionError, match="KS777"):
        Migration("001_x", drop_n, allow_unsafe=["KS777"])
    (tmp_path / "001_x.py").write_text("allow_unsafe = ['nope']\ndef up(db):\n    pass\n")
    with pytest.raises(Exception, match="nope"):
        load_migrations(tmp_path)


def test_same_migration_table_and_small_tables_are_not_blocked(db: Database) -> None:
    def create_and_index(db: Database) -> None:
        db.schema.create_table("fresh").add_column("id", "integer").add_column("v", "integer").execute()
        db.schema.create_index("ix_fresh_v").on("fresh").column("v").execute()
        db.schema.alter_table("fresh").alter_column("v", lambda c: c.set_not_null()).execute()

    filled_table(db, rows=2)

    def small(db: Database) -> None:
        db.schema.create_index("ix_t_n").on("t").column("n").execute()
        db.schema.alter_table("t").alter_column("n", lambda c: c.set_data_type("bigint")).execute()

    runner = create_migration_runner(db, [Migration("001", create_and_index), Migration("002", small)], large_table_rows=5)
    assert runner.up().executed == ["001", "002"]


def test_dry_run_reports_findings_without_refusing(db: Database) -> None:
    filled_table(db)
    result = create_migration_runner(db, [Migration("001_drop", drop_n)], large_table_rows=5).up(dry_run=True)
    assert [f.code for f in result.findings] == ["KS102"]
    assert [f.code for f in result.refused] == ["KS102"]  # what the real run would refuse
    assert "n" in catalog.columns(db, "t")


# ----------------------------------------------------------------------------- checked right before they run


def _expand(db: Database) -> None:
    db.schema.alter_table("t").add_column("n2", "integer").execute()


def _backfill(db: Database) -> None:
    db.update_table("t").set({"n2": db.ref("n")}).execute()


def _contract(db: Database) -> None:
    """Uses the column the expand step adds: it cannot be dry-run before that step ran (the
    SQLite rebuild and MySQL's planned columns read the table as it is)."""
    db.schema.alter_table("t").alter_column("n2", lambda c: c.set_not_null()).drop_column("n").execute()


def _guide_steps(contract: Migration | None = None) -> list[Migration]:
    return [Migration("002_expand", _expand), Migration("003_backfill", _backfill), contract or Migration("004_contract", _contract)]


def test_a_migration_that_needs_the_earlier_ones_is_checked_before_it_runs(db: Database) -> None:
    """The guide's expand / backfill / contract in one run: the contract step drops a column
    with data. It is judged once the steps before it ran, and refused before it changes anything."""
    filled_table(db)
    runner = create_migration_runner(db, _guide_steps())
    with pytest.raises(UnsafeMigrationError) as caught:
        runner.up()
    message = str(caught.value)
    assert "KS102" in message and "004_contract" in message
    # judged with the others, up front: its ALTER TABLE compiles without the table as it is
    # (MySQL follows what the plan's earlier statements add), and on SQLite, where the rebuild
    # reads the table, it is dry-run again after the earlier steps ran in a rehearsal
    assert caught.value.applied == [] and "nothing was changed" in message
    assert runner.status().pending == ["002_expand", "003_backfill", "004_contract"]
    assert "n2" not in catalog.columns(db, "t")


def test_the_dry_run_says_what_the_later_check_would_refuse(db: Database) -> None:
    filled_table(db)
    result = create_migration_runner(db, _guide_steps()).up(dry_run=True)
    assert [f.code for f in result.refused] == ["KS102"]
    assert result.refused[0].migration == "004_contract"
    assert "n2" not in catalog.columns(db, "t")


def test_an_acknowledged_contract_step_runs(db: Database) -> None:
    filled_table(db)
    contract = Migration("004_contract", _contract, allow_unsafe=["KS102"])
    assert create_migration_runner(db, _guide_steps(contract)).up().executed == ["002_expand", "003_backfill", "004_contract"]
    assert "n" not in catalog.columns(db, "t")


def test_a_migration_that_cannot_be_dry_run_has_each_statement_judged(db: Database) -> None:
    """Code that reads what its own statements make cannot be dry-run at all: each statement is
    judged as it is about to run, and the first unacknowledged error stops the migration."""
    filled_table(db)

    def reads_its_own_table(db: Database) -> None:
        db.schema.create_table("scratch").add_column("id", "integer").execute()
        db.select_from("scratch").select(["id"]).fetch_all()  # fails in a dry run: no such table yet
        drop_n(db)

    runner = create_migration_runner(db, [Migration("005_mixed", reads_its_own_table)])
    if db.dialect.rehearses_dry_runs:  # SQLite dry-runs it again in a rehearsal: refused up front
        with pytest.raises(UnsafeMigrationError, match="KS102"):
            runner.up()
        assert "n" in catalog.columns(db, "t") and "scratch" not in list_tables(db)
        return
    with pytest.raises(MigrationError, match=r"(?s)safety check refused its next statement.*KS102 drop-column") as caught:
        runner.up()
    assert "allow_unsafe = ['KS102']" in str(caught.value)
    assert "n" in catalog.columns(db, "t")
    if db.dialect.transactional_ddl:
        assert "scratch" not in list_tables(db)  # rolled back with the rest of the migration
        assert runner.status().pending == ["005_mixed"]
    else:  # MySQL committed the CREATE TABLE: recorded as failed, to resolve
        assert "resolve" in str(caught.value) and runner.status().failed == ["005_mixed"]


def test_code_that_catches_the_refusal_of_a_statement_does_not_get_past_it(db: Database) -> None:
    filled_table(db)

    def swallows_errors(db: Database) -> None:
        db.select_from("not_there").select(["id"]).fetch_all() if db.capturing else None  # cannot be dry-run
        try:
            drop_n(db)
        except Exception:
            pass  # a migration that ignores a failing statement

    runner = create_migration_runner(db, [Migration("006_swallows", swallows_errors)])
    with pytest.raises(MigrationError, match="KS102"):
        runner.up()
    assert "n" in catalog.columns(db, "t")


# ----------------------------------------------------------------------------- lock timeouts


def add_extra(db: Database) -> None:
    db.schema.alter_table("t").add_column("extra", "integer").execute()


def _up_fails_while_held(runner: MigrationRunner, other: Database | sqlite3.Connection) -> MigrationError:
    """``runner.up()`` fails while ``other`` holds a lock; ``other`` lets go and closes after."""
    try:
        with pytest.raises(MigrationError) as caught:
            runner.up()
    finally:
        other.execute("ROLLBACK")
        other.close()
    return caught.value


def _hold_lock(url: str, engine: str) -> Database:
    other = connect(url)
    if engine == "postgres":
        other.execute("BEGIN")
        other.execute("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
    else:
        other.execute("START TRANSACTION")
        other.execute("SELECT * FROM t")  # holds a metadata lock that ALTER TABLE must wait for
    return other


@pytest.mark.parametrize("engine", ["postgres", "mysql"])
def test_lock_timeout_then_retry_succeeds(db_url: str, db: Database, engine: str, caplog: pytest.LogCaptureFixture) -> None:
    filled_table(db, rows=1)
    other = _hold_lock(db_url, engine)

    def release() -> None:
        time.sleep(2.2)  # after the first attempt timed out (the gate may wait 1 s, the step 1 s)
        other.execute("ROLLBACK")

    releaser = threading.Thread(target=release)
    releaser.start()

    errors: list[str] = []
    runner = create_migration_runner(
        db, [Migration("001_add", add_extra)], statement_lock_timeout=1, lock_retries=3,
        on_error=lambda m, d, e: errors.append(m.name),
    )
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="kysera.migrations"):
        assert runner.up().executed == ["001_add"]
    releaser.join()
    other.close()
    assert "retrying" in caplog.text and time.monotonic() - started < 15
    # an attempt that is tried again is no failure: no error logged, no on_error (the CLI's FAILED line)
    assert errors == [] and "failed" not in caplog.text
    assert "extra" in catalog.columns(db, "t")


@pytest.mark.parametrize("engine", ["postgres", "mysql"])
def test_lock_held_too_long_fails_cleanly(db_url: str, db: Database, engine: str) -> None:
    filled_table(db, rows=1)
    other = _hold_lock(db_url, engine)

    runner = create_migration_runner(db, [Migration("001_add", add_extra)], statement_lock_timeout=1, lock_retries=1)
    failure = _up_fails_while_held(runner, other)
    assert "lock" in str(failure).lower()
    assert "raise [safety] statement_lock_timeout" in str(failure)  # not "fix it"
    # the session that held it is named
    assert ("(pid " if engine == "postgres" else "(open transactions that may hold it: id ") in str(failure)
    assert failure.rolled_back
    assert "extra" not in catalog.columns(db, "t")
    assert runner.status().pending == ["001_add"]


@pytest.mark.parametrize("engine", ["mysql"])
def test_a_row_lock_waits_statement_lock_timeout_on_mysql(db_url: str, db: Database, engine: str) -> None:
    """InnoDB's row locks have their own timeout (innodb_lock_wait_timeout, 50 s): a batch of a
    backfill or an UPDATE gave up only then, while the application's writes queued behind it."""
    filled_table(db, rows=3)
    other = connect(db_url)
    other.execute("START TRANSACTION")
    other.execute("UPDATE t SET n = n WHERE id = 1")  # holds the row lock

    def touch(db: Database) -> None:
        db.update_table("t").set({"n": 5}).where("id", "=", 1).execute()

    runner = create_migration_runner(db, [Migration("001_touch", touch)], statement_lock_timeout=1, lock_retries=0)
    started = time.monotonic()
    failure = _up_fails_while_held(runner, other)
    assert time.monotonic() - started < 10
    assert "Lock wait timeout" in str(failure) and failure.rolled_back


@pytest.mark.parametrize("engine", ["sqlite"])
def test_sqlite_waits_statement_lock_timeout_for_another_writer(db: Database, engine: str) -> None:
    """SQLite's busy timeout (30 s) gave way to statement_lock_timeout, as on the servers."""
    filled_table(db, rows=1)

    first = Migration("000_u", lambda db: db.schema.create_table("u").add_column("id", "integer").execute())
    create_migration_runner(db, [first]).up()  # the history table is there
    other = sqlite3.connect(db.url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
    runner = create_migration_runner(db, [first, Migration("001_add", add_extra)], statement_lock_timeout=0.3, lock_retries=1)
    started = time.monotonic()
    failure = _up_fails_while_held(runner, other)
    assert time.monotonic() - started < 5  # two attempts of 0.3 s and a 0.5 s pause, not 30 s each
    assert "database is locked" in str(failure) and "statement_lock_timeout" in str(failure)
    assert failure.rolled_back
    assert runner.up().executed == ["001_add"]
    assert db.fetch("PRAGMA busy_timeout") == [{"timeout": 30000}]  # the connection's own timeout is back


@pytest.mark.parametrize("engine", ["postgres"])
def test_a_concurrent_build_that_waited_too_long_is_tried_again(db_url: str, db: Database, engine: str) -> None:
    """CREATE INDEX CONCURRENTLY runs outside a transaction: when it gives up waiting for a lock it
    leaves at most an INVALID index, which is dropped before the build is tried again; it was
    recorded as failed, to resolve by hand."""
    filled_table(db, rows=3)
    other = connect(db_url)
    other.execute("BEGIN")
    other.execute("LOCK TABLE t IN SHARE UPDATE EXCLUSIVE MODE")

    def release() -> None:
        time.sleep(1.5)
        other.execute("ROLLBACK")

    releaser = threading.Thread(target=release)
    releaser.start()

    def build(db: Database) -> None:
        db.schema.create_index("ix_t_n").on("t").column("n").concurrently().execute()

    runner = create_migration_runner(db, [Migration("001_ix", build)], statement_lock_timeout=0.5, lock_retries=4)
    try:
        assert runner.up().executed == ["001_ix"]
    finally:
        releaser.join()
        other.close()
    assert db.fetch("SELECT i.indisvalid AS ok FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'ix_t_n'") == [{"ok": True}]
    assert runner.status().pending == []


@pytest.mark.parametrize("engine", ["postgres"])
def test_statement_timeout_does_not_cut_a_concurrent_build_short(db_url: str, db: Database, engine: str) -> None:
    """A concurrent build blocks no reads or writes and waits for other transactions by design:
    statement_timeout (meant for the statements that lock) is lifted for it, and set again for
    the statements after it."""
    filled_table(db, rows=3)
    other = connect(db_url)
    other.execute("BEGIN")
    other.execute("LOCK TABLE t IN SHARE UPDATE EXCLUSIVE MODE")  # the build waits for it

    def release() -> None:
        time.sleep(1.5)
        other.execute("ROLLBACK")

    releaser = threading.Thread(target=release)
    releaser.start()
    seen: list[object] = []

    def build(db: Database) -> None:
        db.schema.create_index("ix_t_n").on("t").column("n").concurrently().execute()
        seen.extend(db.execute(sql("SELECT current_setting('statement_timeout') AS v")).rows)

    runner = create_migration_runner(
        db, [Migration("001_ix", build)], statement_lock_timeout=None, statement_timeout=0.5, lock_retries=0
    )
    try:
        assert runner.up().executed == ["001_ix"]
    finally:
        releaser.join()
        other.close()
    assert db.fetch("SELECT i.indisvalid AS ok FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'ix_t_n'") == [{"ok": True}]
    assert seen[-1] == {"v": "500ms"}  # the statement after the build has the limit again


@pytest.mark.parametrize("engine", ["postgres"])
def test_statement_timeout_does_not_cut_a_validate_constraint_short(db: Database, engine: str) -> None:
    """VALIDATE CONSTRAINT takes SHARE UPDATE EXCLUSIVE (reads and writes go on) and runs in the
    migration's transaction: the limit is lifted for it there too, and set again after it."""
    filled_table(db, rows=3)
    db.execute("CREATE FUNCTION slow_ok(integer) RETURNS boolean LANGUAGE sql AS 'SELECT pg_sleep(0.3) IS NOT NULL'")
    db.execute("ALTER TABLE t ADD CONSTRAINT t_n_slow CHECK (slow_ok(n)) NOT VALID")  # 0.9 s to validate
    seen: list[object] = []

    def validate(db: Database) -> None:
        db.schema.alter_table("t").validate_constraint("t_n_slow").execute()
        seen.extend(db.execute(sql("SELECT current_setting('statement_timeout') AS v")).rows)

    runner = create_migration_runner(
        db, [Migration("001_validate", validate)], statement_lock_timeout=None, statement_timeout=0.5, lock_retries=0
    )
    result = runner.up()
    assert result.executed == ["001_validate"] and result.steps[0].transaction
    assert db.fetch("SELECT convalidated AS ok FROM pg_constraint WHERE conname = 't_n_slow'") == [{"ok": True}]
    assert seen[-1] == {"v": "500ms"}  # the statement after it has the limit again


@pytest.mark.parametrize("engine", ["postgres"])
def test_invalid_index_from_a_failed_build_is_dropped_before_retry(db: Database, engine: str) -> None:
    db.execute("CREATE TABLE t (id integer PRIMARY KEY, email text)")
    db.insert_into("t").values([{"id": 1, "email": "a"}, {"id": 2, "email": "a"}]).execute()
    with pytest.raises(Exception, match=r"(?i)duplicate|unique"):
        db.execute("CREATE UNIQUE INDEX CONCURRENTLY ix_t_email ON t (email)")
    assert db.fetch("SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'ix_t_email' AND NOT i.indisvalid")
    db.delete_from("t").where("id", "=", 2).execute()

    def build(db: Database) -> None:
        db.schema.create_index("ix_t_email").on("t").column("email").unique().concurrently().execute()

    assert create_migration_runner(db, [Migration("001_ix", build)]).up().executed == ["001_ix"]
    valid = db.fetch("SELECT i.indisvalid AS v FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'ix_t_email'")
    assert valid == [{"v": True}]


@pytest.mark.parametrize("engine", ["postgres"])
def test_an_invalid_index_that_could_not_be_dropped_is_said_to_remain(db_url: str, db: Database, engine: str) -> None:
    """The drop of an earlier build's INVALID index gave up waiting for a lock, every retry: the
    failure said none of the migration's changes were made, true of this run, while the INVALID
    index (a unique one still refusing duplicates) stayed. A warning now says it remains."""
    db.execute("CREATE TABLE t (id integer PRIMARY KEY, email text)")
    db.insert_into("t").values([{"id": 1, "email": "a"}, {"id": 2, "email": "a"}]).execute()
    with pytest.raises(Exception, match=r"(?i)duplicate|unique"):
        db.execute("CREATE UNIQUE INDEX CONCURRENTLY ix_t_email ON t (email)")
    db.delete_from("t").where("id", "=", 2).execute()
    other = connect(db_url)
    other.execute("BEGIN")
    other.execute("LOCK TABLE t IN SHARE UPDATE EXCLUSIVE MODE")  # the drop waits for it, past every retry
    said: list[str] = []

    def build(db: Database) -> None:
        db.schema.create_index("ix_t_email").on("t").column("email").unique().concurrently().execute()

    runner = create_migration_runner(
        db, [Migration("001_ix", build)], statement_lock_timeout=0.2, lock_retries=1, logger=said.append
    )
    try:
        with pytest.raises(MigrationError):
            runner.up()
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert any("the INVALID index ix_t_email left by an earlier failed build is still there" in line for line in said), said
    again = create_migration_runner(db, [Migration("001_ix", build)])
    if again.status().failed:
        again.resolve("001_ix", applied=False)
    assert again.up().executed == ["001_ix"]  # the next run drops it and builds the index
    valid = db.fetch("SELECT i.indisvalid AS v FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'ix_t_email'")
    assert valid == [{"v": True}]


@pytest.mark.parametrize("engine", ["mysql"])
def test_auto_mode_on_mysql_refuses_instead_of_rewriting(db: Database) -> None:
    """NOT VALID is PostgreSQL's: on MySQL auto mode has no rewrite, and says so before running."""
    db.execute("CREATE TABLE parents (id integer PRIMARY KEY)")
    db.execute("CREATE TABLE events (id integer PRIMARY KEY, parent_id integer)")
    db.execute("INSERT INTO parents VALUES (1)")
    db.execute(sql("INSERT INTO events VALUES " + ", ".join(f"({i}, 1)" for i in range(1, 31))))

    def add_fk(db: Database) -> None:
        db.schema.alter_table("events").add_foreign_key_constraint("fk_events_parent", ["parent_id"], "parents", ["id"]).execute()

    runner = create_migration_runner(db, [Migration("001_fk", add_fk)], large_table_rows=10, safety="auto")
    with pytest.raises(UnsafeMigrationError, match="KS203"):
        runner.up()


@pytest.mark.parametrize(
    "body",
    [
        "-- migrate:up\n-- kysera:allow KS102\nSELECT 1;\nALTER TABLE t DROP COLUMN n;\n",  # above another statement
        "-- migrate:up\nALTER TABLE t DROP COLUMN n;\n-- migrate:down\n-- kysera:allow KS102\nSELECT 1;\n",  # in the down section
        "-- migrate:up\nINSERT INTO t (n) VALUES ('-- kysera:allow KS102');\nALTER TABLE t DROP COLUMN n;\n",  # quoted text
        "-- migrate:up\nSELECT 1; -- kysera:allow KS102\nALTER TABLE t DROP COLUMN n;\n",  # after another statement
    ],
)
def test_sql_file_allow_directive_is_local_to_its_statement(db: Database, tmp_path: Path, body: str) -> None:
    filled_table(db)
    (tmp_path / "001_drop.sql").write_text(body)
    with pytest.raises(UnsafeMigrationError, match="KS102"):
        create_migration_runner(db, load_migrations(tmp_path)).up()


@pytest.mark.parametrize(
    "body",
    [
        "-- migrate:up\n-- kysera:allow KS102\nALTER TABLE t DROP COLUMN n;\n",
        "-- migrate:up\nSELECT 1;\nALTER TABLE t DROP COLUMN n; -- kysera:allow KS102\n",
    ],
)
def test_sql_file_allow_directive_on_its_statement(db: Database, tmp_path: Path, body: str) -> None:
    filled_table(db)
    (tmp_path / "001_drop.sql").write_text(body)
    assert create_migration_runner(db, load_migrations(tmp_path)).up().executed == ["001_drop"]
