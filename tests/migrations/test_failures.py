"""Failures: rolled back where DDL is transactional, recorded and resolved where it is not."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from kysera import Database, sql
from kysera.migrations import (
    Migration,
    MigrationError,
    UnresolvedFailureError,
    create_migration_runner,
)

from .util import failing_migration, history_rows, table_migration, write


def _migrations(second: Migration) -> list[Migration]:
    return [table_migration("001_a", "a"), second, table_migration("003_c", "c")]


def test_failure_in_the_middle(db: Database) -> None:
    runner = create_migration_runner(db, _migrations(failing_migration("002_b", "b")))
    with pytest.raises(MigrationError) as caught:
        runner.up()
    error = caught.value
    message = str(error)
    assert error.name == "002_b" and error.direction == "up"
    assert error.statement == "THIS IS NOT VALID SQL"
    assert message.startswith("migration 002_b failed (up): ")
    assert "statement: THIS IS NOT VALID SQL" in message
    assert "syntax" in message.lower()  # the database's reason
    assert error.exit_code == 1
    assert error.result is not None
    assert error.result.executed == ["001_a"] and error.result.failed == ["002_b"]
    assert db.table_exists("a") and not db.table_exists("c")

    if db.dialect.transactional_ddl:  # PostgreSQL, SQLite: the failed migration left nothing
        assert error.rolled_back and not error.recorded
        assert "it was rolled back, so none of its changes remain" in message
        assert not db.table_exists("b")
        status = runner.status()
        assert status.executed == ["001_a"] and status.pending == ["002_b", "003_c"]
        fixed = create_migration_runner(db, _migrations(table_migration("002_b", "b")))
        assert fixed.up().executed == ["002_b", "003_c"]
        return

    # MySQL/MariaDB: CREATE TABLE b was committed at once; the failure is recorded
    assert error.recorded and not error.rolled_back
    assert db.table_exists("b")
    assert "MariaDB commits DDL statements at once" in message or "MySQL commits DDL statements at once" in message
    assert "kysera migrate resolve 002_b --applied" in message
    assert "kysera migrate resolve 002_b --rolled-back" in message
    assert "before it, this statement ran and stays:\n    CREATE TABLE `b`" in message  # what to undo by hand
    info = runner.status().get("002_b")
    assert info is not None and info.state == "failed" and info.direction == "up"
    assert info.statement == "THIS IS NOT VALID SQL" and info.error and "syntax" in info.error.lower()
    assert runner.status().failed == ["002_b"]

    fixed = create_migration_runner(db, _migrations(table_migration("002_b", "b")))
    attempts: list[Callable[[], object]] = [fixed.up, fixed.down, fixed.reset, lambda: fixed.up(dry_run=True)]
    for attempt in attempts:
        with pytest.raises(UnresolvedFailureError) as refused:
            attempt()
        assert "migration 002_b failed (up) on THIS IS NOT VALID SQL" in str(refused.value)
        assert "kysera migrate resolve 002_b --applied" in str(refused.value)
    db.schema.drop_table("b").execute()  # undo by hand
    fixed.resolve("002_b", applied=False)
    assert fixed.status().pending == ["002_b", "003_c"]
    assert fixed.up().executed == ["002_b", "003_c"]


def test_a_first_run_on_a_database_that_has_the_schema_points_to_mark_applied(db: Database) -> None:
    """Adopting kysera on a database another tool built (Flyway's baseline, Alembic's stamp)."""
    db.execute("CREATE TABLE a (id integer PRIMARY KEY, label varchar(50))")
    runner = create_migration_runner(db, _migrations(table_migration("002_b", "b")))
    with pytest.raises(MigrationError) as caught:
        runner.up()
    message = str(caught.value)
    assert "If the database had these changes before kysera managed it" in message
    assert "`kysera migrate mark-applied 001_a` (or --to NAME; in code: runner.mark_applied([...]))" in message
    assert caught.value.rolled_back and runner.status().pending == ["001_a", "002_b", "003_c"]
    assert runner.mark_applied(["001_a"]) == ["001_a"]
    assert runner.up().executed == ["002_b", "003_c"]
    # once kysera has a history, a table that exists already is a mistake in the migrations
    db.execute("CREATE TABLE d (id integer PRIMARY KEY, label varchar(50))")
    later = create_migration_runner(db, [*_migrations(table_migration("002_b", "b")), table_migration("004_d", "d")])
    with pytest.raises(MigrationError) as caught:
        later.up()
    assert "004_d" in str(caught.value) and "mark-applied" not in str(caught.value)


def test_a_statement_sqlite_refuses_in_a_transaction_points_to_transaction_false(sqlite_db: Database, tmp_path: Path) -> None:
    """dbmate's transaction:false, goose's NO TRANSACTION: kysera's is on the section's line."""
    folder = tmp_path / "migrations"
    write(folder, "001_wal.sql", "-- migrate:up\nPRAGMA journal_mode=WAL;\n-- migrate:down\nPRAGMA journal_mode=DELETE;\n")
    write(folder, "002_wal.py", "def up(db):\n    db.execute('PRAGMA journal_mode=DELETE')\n")
    with pytest.raises(MigrationError) as caught:
        create_migration_runner(sqlite_db, folder).up()
    assert "It cannot run inside a transaction: add transaction:false to its '-- migrate:up' line" in str(caught.value)
    (folder / "001_wal.sql").write_text("-- migrate:up transaction:false\nPRAGMA journal_mode=WAL;\n")
    with pytest.raises(MigrationError) as caught:
        create_migration_runner(sqlite_db, folder).up()
    assert caught.value.name == "002_wal"
    assert "It cannot run inside a transaction: set 'transaction = False' in 002_wal.py" in str(caught.value)
    assert sqlite_db.fetch("PRAGMA journal_mode")[0]["journal_mode"] == "wal"
    (folder / "002_wal.py").write_text("transaction = False\ndef up(db):\n    db.execute('PRAGMA journal_mode=DELETE')\n")
    assert create_migration_runner(sqlite_db, folder).up().executed == ["002_wal"]
    assert sqlite_db.fetch("PRAGMA journal_mode")[0]["journal_mode"] == "delete"


def test_an_exception_raised_in_the_middle_keeps_the_migrations_before_it(db: Database) -> None:
    """The issue's failure in the middle, with the failure raised by the migration's own code
    (as the guide's tests do): the migrations before it stay applied, it is rolled back
    (PostgreSQL, SQLite) or recorded as failed (MySQL/MariaDB), and later ones do not run. Its
    dry run raises too, before anything ran, but that does not stop the migrations before it."""

    def up(db: Database) -> None:
        db.schema.create_table("b").add_column("id", "integer", lambda col: col.primary_key()).execute()
        raise RuntimeError("migration failed")

    runner = create_migration_runner(db, _migrations(Migration("002_b", up)))
    with pytest.raises(MigrationError, match=r"migration 002_b failed \(up\): RuntimeError: migration failed") as caught:
        runner.up()
    error = caught.value
    assert error.name == "002_b" and error.direction == "up" and error.statement is None
    assert isinstance(error.cause, RuntimeError) and error.__cause__ is error.cause
    assert error.result is not None and error.result.executed == ["001_a"] and error.result.failed == ["002_b"]
    assert db.table_exists("a") and not db.table_exists("c")
    status = runner.status()
    assert status.executed == ["001_a"]
    if db.dialect.transactional_ddl:
        assert error.rolled_back and not error.recorded and not db.table_exists("b")
        assert status.pending == ["002_b", "003_c"]
    else:
        assert error.recorded and db.table_exists("b") and status.failed == ["002_b"]
        assert "runner.resolve('002_b', applied=True|False)" in str(error)
        info = status.get("002_b")
        assert info is not None and info.state == "failed" and info.error == "RuntimeError: migration failed"


def test_resolve_as_applied(db: Database) -> None:
    runner = create_migration_runner(
        db, _migrations(failing_migration("002_b", "b")), use_transactions=False
    )
    with pytest.raises(MigrationError) as caught:
        runner.up()
    # outside a transaction every engine keeps CREATE TABLE b
    assert caught.value.recorded and db.table_exists("b")
    assert "it ran outside a transaction" in str(caught.value)
    runner.resolve("002_b", applied=True)  # we finished it by hand
    status = runner.status()
    assert status.executed == ["001_a", "002_b"] and status.failed == []
    assert runner.up().executed == ["003_c"]


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_resolve_rolled_back_warns_of_what_the_failed_up_left(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    """MySQL's DDL, or any engine outside a transaction, keeps what ran before the failure:
    resolve --rolled-back with table b still there would make the next up fail on it, so it
    says so at once; once b is dropped by hand, it says nothing."""
    runner = create_migration_runner(db, _migrations(failing_migration("002_b", "b")), use_transactions=False)
    with pytest.raises(MigrationError):
        runner.up()
    assert db.table_exists("b")
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        runner.resolve("002_b", applied=False)
    (said,) = _warnings(caplog)
    assert said.startswith("002_b is recorded as not applied, but the database still holds table b, which its up creates")
    assert "Drop it before the next up, which would fail on table b" in said
    assert "kysera migrate resolve 002_b --applied" in said
    assert runner.status().pending == ["002_b", "003_c"] and db.table_exists("b")  # resolve changes no table

    db.schema.drop_table("b").execute()  # undone by hand, as resolve --rolled-back means
    with pytest.raises(MigrationError):
        runner.up()
    db.schema.drop_table("b").execute()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        runner.resolve("002_b", applied=False)
    assert _warnings(caplog) == []


def test_resolve_rolled_back_reads_a_sql_migration_s_tables_indexes_and_columns(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "migrations"
    write(folder, "001_users.sql", "-- migrate:up\nCREATE TABLE users (id integer PRIMARY KEY);\n-- migrate:down\nDROP TABLE users;\n")
    write(
        folder,
        "002_more.sql",
        """
        -- migrate:up transaction:false
        CREATE TABLE tags (id integer PRIMARY KEY, label varchar(20));
        CREATE INDEX ix_tags_label ON tags (label);
        ALTER TABLE users ADD COLUMN nickname varchar(40);
        INSERT INTO no_such_table VALUES (1);
        -- migrate:down
        DROP TABLE tags;
        """,
    )
    runner = create_migration_runner(db, folder)
    with pytest.raises(MigrationError):
        runner.up()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        runner.resolve("002_more", applied=False)
    (said,) = _warnings(caplog)
    assert "still holds table tags, index ix_tags_label, column users.nickname, which its up creates" in said
    assert "Drop them before the next up, which would fail on table tags" in said


def test_failure_before_any_change_is_not_recorded(db: Database) -> None:
    def up(db: Database) -> None:
        db.execute("SELECT * FROM no_such_table")

    runner = create_migration_runner(db, _migrations(Migration("002_b", up)), use_transactions=False)
    with pytest.raises(MigrationError) as caught:
        runner.up()
    assert caught.value.rolled_back and not caught.value.recorded
    assert "none of its changes were made" in str(caught.value)
    assert [r["name"] for r in history_rows(db)] == ["001_a"]


def test_a_failed_drop_of_several_tables_is_recorded_where_ddl_commits(db: Database) -> None:
    """MySQL's DROP TABLE a, nosuch drops a, then fails: that migration did change something."""

    def up(db: Database) -> None:
        sql("DROP TABLE a, no_such_table").execute(db)

    runner = create_migration_runner(db, _migrations(Migration("002_b", up)), safety="off")
    with pytest.raises(MigrationError) as caught:
        runner.up()
    rows = {r["name"]: r["state"] for r in history_rows(db)}
    if db.dialect.transactional_ddl:
        assert caught.value.rolled_back and rows == {"001_a": "applied"}
        assert db.table_exists("a")
    else:
        assert not db.table_exists("a")  # dropped before the error
        assert not caught.value.rolled_back and caught.value.recorded and rows == {"001_a": "applied", "002_b": "failed"}


def test_data_only_failure_rolls_back_on_every_engine(db: Database) -> None:
    db.schema.create_table("log").add_column("n", "integer").execute()

    def up(db: Database) -> None:
        db.insert_into("log").values({"n": 1}).execute()
        # a check on what is there (a dry run that raises without reading anything stops the
        # whole run before it starts: test_code_that_fails_whatever_runs_first_...)
        if db.select_from("log").select(["n"]).fetch_all() is not None:
            raise ValueError("computed the wrong thing")

    runner = create_migration_runner(db, [Migration("001_data", up)])
    with pytest.raises(MigrationError, match=r"migration 001_data failed \(up\): ValueError: computed the wrong thing") as caught:
        runner.up()
    assert caught.value.statement is None and caught.value.rolled_back
    assert db.select_from("log").select(["n"]).fetch_all() == []
    assert runner.status().pending == ["001_data"]


def test_rows_changed_before_a_failing_ddl_statement_are_listed_where_ddl_commits(db: Database) -> None:
    """MySQL commits before it runs a DDL statement, even one that then fails: the rows a down
    deleted before it stay deleted, and the message lists that DELETE among what to undo by hand."""
    db.schema.create_table("log").add_column("n", "integer").execute()

    def up(db: Database) -> None:
        db.insert_into("log").values({"n": 1}).execute()

    def down(db: Database) -> None:
        db.delete_from("log").execute()
        db.execute("DROP TABLE no_such_table")

    runner = create_migration_runner(db, [Migration("001_data", up, down)])
    runner.up()
    with pytest.raises(MigrationError) as caught:
        runner.down()
    left = db.select_from("log").select(["n"]).fetch_all()
    if db.dialect.transactional_ddl:
        assert caught.value.rolled_back and left == [{"n": 1}]
        assert runner.status().executed == ["001_data"]
        return
    assert not caught.value.rolled_back and caught.value.recorded and left == []
    assert "before it, this statement ran and stays:\n    DELETE FROM `log`" in str(caught.value)
    assert runner.status().failed == ["001_data"]


def test_a_statement_the_server_cannot_parse_leaves_a_data_migration_rolled_back(db: Database) -> None:
    """MySQL commits at a DDL statement, but a statement it cannot even parse never ran: the rows
    the migration wrote before it are rolled back, and it is not recorded as failed."""
    db.schema.create_table("log").add_column("n", "integer").execute()

    def up(db: Database) -> None:
        db.insert_into("log").values({"n": 1}).execute()
        sql("THIS IS NOT SQL").execute(db)

    runner = create_migration_runner(db, [Migration("001_data", up)])
    with pytest.raises(MigrationError) as caught:
        runner.up()
    assert caught.value.rolled_back and not caught.value.recorded
    assert "THIS IS NOT SQL" in (caught.value.statement or "")
    assert db.select_from("log").select(["n"]).fetch_all() == []
    assert runner.status().pending == ["001_data"] and runner.status().failed == []


def test_on_error_hook(db: Database) -> None:
    seen: list[tuple[str, str, str]] = []
    runner = create_migration_runner(
        db,
        _migrations(failing_migration("002_b", "b")),
        on_error=lambda m, d, e: seen.append((m.name, d, type(e).__name__)),
    )
    with pytest.raises(MigrationError):
        runner.up()
    assert seen == [("002_b", "up", "StatementError")]


def test_down_failure(db: Database) -> None:
    def bad_down(db: Database) -> None:
        db.execute("THIS IS NOT VALID SQL EITHER")

    migrations = [table_migration("001_a", "a"), Migration("002_b", lambda db: None, bad_down)]
    runner = create_migration_runner(db, migrations)
    runner.up()
    with pytest.raises(MigrationError, match=r"migration 002_b failed \(down\)") as caught:
        runner.down()
    assert caught.value.direction == "down" and caught.value.rolled_back
    assert runner.status().executed == ["001_a", "002_b"]  # still applied


def test_a_down_that_fails_part_way_says_what_resolve_means_for_a_rollback(db: Database) -> None:
    """After a failed down, "--applied if its changes are in place" reads as the down's changes:
    a user who finished the rollback by hand would record a dropped table as applied."""
    db.schema.create_table("a2").add_column("n", "integer").execute()

    def down(db: Database) -> None:
        db.execute("DROP TABLE a2")
        db.execute("DROP TABLE no_such_table")

    runner = create_migration_runner(db, [Migration("001_a", lambda db: None, down)], use_transactions=False)
    runner.up()
    with pytest.raises(MigrationError) as caught:
        runner.down()
    message = str(caught.value)
    assert "it may be partly rolled back (it ran outside a transaction)" in message
    assert "`kysera migrate resolve 001_a --applied` if it is still applied" in message
    assert "`kysera migrate resolve 001_a --rolled-back` if its rollback is complete" in message
    with pytest.raises(UnresolvedFailureError) as refused:
        runner.down()
    assert "It may be partly rolled back" in str(refused.value)
    assert "--rolled-back` if its rollback is complete" in str(refused.value)
    runner.resolve("001_a", applied=False)  # the rest of the rollback was done by hand
    assert runner.status().pending == ["001_a"] and not db.table_exists("a2")


# ----------------------------------------------------------------------------- non-transactional


def _concurrent_index(db: Database) -> None:
    db.schema.create_index("ix_a_label").on("a").column("label").concurrently().execute()


def test_create_index_concurrently_runs_outside_a_transaction_by_itself(db: Database) -> None:
    if not db.dialect.capabilities.concurrent_index:
        pytest.skip("CONCURRENTLY is PostgreSQL's")
    first = table_migration("001_a", "a")

    def drop(db: Database) -> None:
        db.schema.drop_index("ix_a_label").concurrently().execute()

    runner = create_migration_runner(db, [first, Migration("002_ix", _concurrent_index, drop)])
    result = runner.up()
    assert result.executed == ["001_a", "002_ix"]
    assert [s.transaction for s in result.steps] == [True, False]  # no transaction = False needed
    assert not [f for f in result.findings if f.is_error]
    assert db.fetch("SELECT indexname FROM pg_indexes WHERE indexname = 'ix_a_label'")
    # down too: its dry run shows the DROP INDEX CONCURRENTLY, so it runs outside a transaction
    dry = runner.down(dry_run=True)
    assert dry.steps[0].transaction is False and "DROP INDEX CONCURRENTLY" in dry.sql()
    result = runner.down()
    assert result.executed == ["002_ix"] and result.steps[0].transaction is False
    assert not db.fetch("SELECT indexname FROM pg_indexes WHERE indexname = 'ix_a_label'")
    assert runner.status().pending == ["002_ix"]  # its history row went with it
    redo = create_migration_runner(db, [first, Migration("002_ix", _concurrent_index, drop)])
    redo.up()
    assert [(s.direction, s.transaction) for s in redo.redo().steps] == [("down", False), ("up", False)]


def test_sql_file_with_concurrently_runs_outside_a_transaction(db: Database, tmp_path: Path) -> None:
    if not db.dialect.capabilities.concurrent_index:
        pytest.skip("CONCURRENTLY is PostgreSQL's")
    write(tmp_path, "001_a.sql", "-- migrate:up\nCREATE TABLE a (id integer PRIMARY KEY, label text);\n")
    write(
        tmp_path,
        "002_ix.sql",
        "-- migrate:up\nCREATE INDEX CONCURRENTLY ix_a_label ON a (label);\n"
        "-- migrate:down\nDROP INDEX CONCURRENTLY ix_a_label;\n",
    )
    runner = create_migration_runner(db, tmp_path)
    result = runner.up()
    assert result.executed == ["001_a", "002_ix"] and result.steps[1].transaction is False
    assert db.fetch("SELECT indexname FROM pg_indexes WHERE indexname = 'ix_a_label'")
    result = runner.down()
    assert result.executed == ["002_ix"] and result.steps[0].transaction is False
    assert not db.fetch("SELECT indexname FROM pg_indexes WHERE indexname = 'ix_a_label'")


def test_sql_file_detaching_a_partition_concurrently_runs_outside_a_transaction(db: Database, tmp_path: Path) -> None:
    """ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY and REINDEX SCHEMA cannot run inside a
    transaction either: they ran in one (the dry run and `migrate sql` showed them so) and failed."""
    if db.dialect.name != "postgres":
        pytest.skip("partitions and REINDEX SCHEMA are PostgreSQL's")
    write(
        tmp_path,
        "001_m.sql",
        "-- migrate:up\nCREATE TABLE m (day date NOT NULL) PARTITION BY RANGE (day);\n"
        "CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\n"
        "-- migrate:down\nDROP TABLE m;\n",
    )
    write(
        tmp_path,
        "002_detach.sql",
        "-- migrate:up\nALTER TABLE m DETACH PARTITION m_2024 CONCURRENTLY;\n"
        "-- kysera:allow KS216 (every index of the schema, rebuilt while writes wait: a test database)\n"
        "REINDEX (VERBOSE) SCHEMA public;\n"
        "-- migrate:down\nALTER TABLE m ATTACH PARTITION m_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\n",
    )
    runner = create_migration_runner(db, tmp_path)
    assert [s.transaction for s in runner.up(dry_run=True).steps] == [True, False]
    result = runner.up()
    assert result.executed == ["001_m", "002_detach"] and result.steps[1].transaction is False
    assert db.fetch("SELECT relispartition AS p FROM pg_class WHERE relname = 'm_2024'") == [{"p": False}]
    assert runner.down().steps[0].transaction is True  # REINDEX TABLE, ATTACH PARTITION: in a transaction


def test_a_statement_timeout_and_an_unsafe_enum_value_say_what_to_do(db: Database) -> None:
    """A statement cancelled by the runner's statement_timeout, and a value that ALTER TYPE ... ADD
    VALUE added used in the same transaction, failed with the server's words and "Fix it and run the
    migrations again", which named neither the setting nor the commit the new value needs."""
    if db.dialect.name != "postgres":
        pytest.skip("statement_timeout and enum types are PostgreSQL's")

    def slow(db: Database) -> None:
        db.execute(sql("SELECT pg_sleep(1)"))

    runner = create_migration_runner(db, [Migration("001_slow", slow)], statement_timeout=0.1)
    with pytest.raises(MigrationError, match=r"longer than statement_timeout \(0.1 s, \[safety\] statement_timeout.*SET LOCAL"):
        runner.up()

    def mood(db: Database) -> None:
        db.execute(sql("CREATE TYPE mood AS ENUM ('a')"))
        db.execute(sql("CREATE TABLE people (m mood)"))

    def add_and_use(db: Database) -> None:
        db.execute(sql("ALTER TYPE mood ADD VALUE 'b'"))
        db.execute(sql("INSERT INTO people VALUES ('b')"))

    runner = create_migration_runner(db, [Migration("001_mood", mood), Migration("002_b", add_and_use)], safety="warn")
    with pytest.raises(MigrationError, match="move the statements that use it to a later migration"):
        runner.up()


def test_interrupted_non_transactional_migration_is_reported(db: Database) -> None:
    # a "running" row is what a runner that died mid-migration leaves behind
    runner = create_migration_runner(db, [table_migration("001_a", "a")], use_transactions=False)
    runner.up()
    db.update_table("kysera_migrations").set({"state": "running", "direction": "up"}).execute()
    with pytest.raises(UnresolvedFailureError, match="migration 001_a was interrupted while running"):
        runner.down()
    assert runner.status().get("001_a").state == "running"  # type: ignore[union-attr]
    runner.resolve("001_a", applied=True)
    assert runner.down().executed == ["001_a"]


def test_not_null_on_a_column_holding_nulls_says_which_column_and_the_fix(db: Database) -> None:
    """Every engine refuses it; the error names the column and its table (MariaDB's own words,
    'Data truncated for column', do not say why)."""
    db.schema.create_table("people").add_column("id", "integer", lambda c: c.primary_key()).add_column("email", "varchar(255)").execute()
    db.insert_into("people").values([{"id": 1, "email": "a@example.com"}, {"id": 2, "email": None}]).execute()

    def not_null(db: Database) -> None:
        db.schema.alter_table("people").alter_column("email", lambda c: c.set_not_null()).execute()

    with pytest.raises(MigrationError) as caught:
        create_migration_runner(db, [Migration("001_not_null", not_null)], safety="warn").up()
    message = str(caught.value).lower()
    assert "null values" in message and "email" in message and "people" in message
    assert "data truncated" not in message


def test_a_failure_the_code_caught_is_explained_on_postgres(db: Database) -> None:
    """PostgreSQL refuses everything after a failed statement in a transaction: the error names
    the next statement, so the message says what happened and how to catch a failure."""

    def up(db: Database) -> None:
        try:
            db.execute("INSERT INTO no_such_table VALUES (1)")
        except Exception:
            pass  # "it may not exist yet"
        db.schema.create_table("after").add_column("id", "integer").execute()

    def guarded(db: Database) -> None:
        try:
            with db.transaction():
                db.execute("INSERT INTO no_such_table VALUES (1)")
        except Exception:
            pass
        db.schema.create_table("after").add_column("id", "integer").execute()

    runner = create_migration_runner(db, [Migration("001_x", up)])
    if db.dialect.name != "postgres":
        assert runner.up().executed == ["001_x"]  # the others go on after a failed statement
        return
    with pytest.raises(MigrationError, match="an earlier statement failed inside this transaction and the code caught its error"):
        runner.up()
    assert create_migration_runner(db, [Migration("001_x", guarded)]).up().executed == ["001_x"]
    assert db.table_exists("after")


@pytest.mark.parametrize("engine", ["postgres"])
def test_postgres_detail_and_hint_are_in_the_failure(db: Database, engine: str) -> None:
    """PostgreSQL's DETAIL (which key repeats) and HINT (what to install) were cut off: only the
    first line of the error was kept."""

    def duplicate(db: Database) -> None:
        db.schema.create_table("u").add_column("email", "text", lambda c: c.unique()).execute()
        db.insert_into("u").values([{"email": "a@x"}, {"email": "a@x"}]).execute()

    with pytest.raises(MigrationError, match=r"\(Key \(email\)=\(a@x\) already exists\)"):
        create_migration_runner(db, [Migration("001_u", duplicate)]).up()


def test_rows_written_after_a_ddl_statement_roll_back_with_the_failure(db: Database) -> None:
    """MySQL commits at a DDL statement and its session goes back to autocommit: kysera opens the
    next transaction, so the rows written after that statement roll back when a later statement
    fails, as the message (which lists only the DDL as staying) says."""

    def up(db: Database) -> None:
        db.schema.create_table("u").add_column("id", "integer", lambda col: col.primary_key()).execute()
        db.insert_into("u").values({"id": 1}).execute()
        db.insert_into("u").values({"id": 1}).execute()  # a duplicate key

    runner = create_migration_runner(db, [Migration("001_u", up)])
    with pytest.raises(MigrationError) as caught:
        runner.up()
    if db.dialect.transactional_ddl:
        assert caught.value.rolled_back and not db.table_exists("u")
        return
    assert db.select_from("u").select(["id"]).fetch_all() == []
    message = str(caught.value)
    assert "before it, this statement ran and stays:\n    CREATE TABLE `u`" in message
    assert message.count("INSERT") == 1  # the failing statement; the INSERT before it rolled back


def test_a_transaction_goes_on_after_a_ddl_statement(db: Database) -> None:
    """Inside db.transaction(), a data change after a DDL statement (which MySQL commits) still
    rolls back with the block."""
    db.schema.create_table("log").add_column("n", "integer").execute()
    with pytest.raises(RuntimeError), db.transaction():
        db.schema.create_table("other").add_column("n", "integer").execute()
        db.insert_into("log").values({"n": 1}).execute()
        raise RuntimeError("stop")
    assert db.select_from("log").select(["n"]).fetch_all() == []
