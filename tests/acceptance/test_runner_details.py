"""Acceptance: the runner's issue-level details (hooks, logging, load errors, .sql files, locks)."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from kysera import Database, connect
from kysera.migrations import (
    LockTimeoutError,
    Migration,
    MigrationError,
    MigrationLoadError,
    create_migration_runner,
    get_migration_status,
    load_migrations,
    rollback_migrations,
    run_migrations,
)


def _table(name: str) -> Migration:
    def up(db: Database) -> None:
        db.schema.create_table(name).add_column("id", "integer", lambda c: c.primary_key()).execute()

    def down(db: Database) -> None:
        db.schema.drop_table(name).execute()

    return Migration(f"00{name[-1]}_{name}", up, down)


MIGRATIONS = [_table("t1"), _table("t2"), _table("t3")]
NAMES = [m.name for m in MIGRATIONS]


def test_hooks_are_called_around_real_runs_only(db: Database) -> None:
    calls: list[tuple[str, str, str]] = []
    runner = create_migration_runner(
        db,
        MIGRATIONS,
        before=lambda m, d: calls.append(("before", m.name, d)),
        after=lambda m, d, seconds: calls.append(("after", m.name, d)) if seconds >= 0 else None,
        on_error=lambda m, d, e: calls.append(("error", m.name, d)),
    )
    runner.up(dry_run=True)
    assert calls == []
    runner.up(1)
    assert calls == [("before", NAMES[0], "up"), ("after", NAMES[0], "up")]
    calls.clear()
    runner.down(1)
    assert calls == [("before", NAMES[0], "down"), ("after", NAMES[0], "down")]


def test_on_error_hook(db: Database) -> None:
    seen: list[str] = []

    def boom(db: Database) -> None:
        raise RuntimeError("boom")

    runner = create_migration_runner(db, [Migration("001_boom", boom)], on_error=lambda m, d, e: seen.append(m.name))
    with pytest.raises(MigrationError) as info:
        runner.up()
    assert seen == ["001_boom"]
    assert isinstance(info.value.cause, RuntimeError)
    assert info.value.name == "001_boom"


def test_log_lines_name_direction_and_duration(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("acceptance.runner")
    runner = create_migration_runner(db, MIGRATIONS, logger=logger)
    with caplog.at_level(logging.DEBUG, logger="acceptance.runner"):
        runner.up()
        runner.down(1)
    text = "\n".join(r.getMessage() for r in caplog.records)
    for name in NAMES:
        assert name in text
    assert "up" in text and "down" in text


def test_failure_logs_the_statement(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    def bad(db: Database) -> None:
        db.execute("CREATE TABLE broken (id integer PRIMARY KEY, id integer)")

    logger = logging.getLogger("acceptance.fail")
    with caplog.at_level(logging.INFO, logger="acceptance.fail"), pytest.raises(MigrationError):
        create_migration_runner(db, [Migration("001_bad", bad)], logger=logger).up()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("CREATE TABLE broken" in m for m in errors), errors


def test_result_steps_and_status_detail(db: Database) -> None:
    runner = create_migration_runner(db, MIGRATIONS)
    result = runner.up()
    assert [s.name for s in result.steps] == NAMES
    assert all(s.direction == "up" and s.status == "executed" for s in result.steps)
    assert all(s.statements for s in result.steps)
    assert result.statements(NAMES[0])
    assert "CREATE TABLE" in result.sql()
    doc = result.as_dict()
    assert doc["executed"] == NAMES
    status = runner.status()
    info = status.migrations[0]
    assert info.state == "applied" and info.batch == 1
    assert info.duration is not None and info.duration >= 0
    assert info.applied_at is not None and info.applied_at.utcoffset() is not None
    assert info.checksum == info.current_checksum
    assert status.current == NAMES[-1]
    assert status.as_dict()["executed"] == NAMES



def test_a_result_printed_in_a_repl_shows_names_and_sql_not_node_trees(db: Database) -> None:
    result = create_migration_runner(db, MIGRATIONS).up()
    shown = repr(result)
    assert shown.startswith(f"MigrationResult(executed={NAMES!r}, skipped=[], failed=[]")
    assert "<3 steps" in shown and "Node" not in shown
    step = repr(result.steps[0])
    assert "CompiledStatement('CREATE TABLE" in step and "Node" not in step
    assert len(shown) < 400 and len(step) < 400
    # what the driver gets is still there when it matters
    (insert,) = db.insert_into("t1").values({"id": 1}).compile()
    assert repr(insert).startswith("CompiledStatement('INSERT INTO ") and repr(insert).endswith(", params=(1,))")

def test_rollback_follows_application_order(db: Database) -> None:
    runner = create_migration_runner(db, MIGRATIONS)
    runner.up(1)
    runner.up()
    assert runner.status().migrations[1].batch == 2
    # a second batch was applied after the first: down(2) reverts t3 then t2
    assert runner.down(2).executed == [NAMES[2], NAMES[1]]


def test_redo_and_mark_applied(db: Database) -> None:
    runner = create_migration_runner(db, MIGRATIONS)
    runner.up()
    result = runner.redo()
    assert [s.direction for s in result.steps] == ["down", "up"]
    assert runner.status().pending == []
    runner.reset()
    assert runner.mark_applied([NAMES[0]]) == [NAMES[0]]
    assert runner.status().executed == [NAMES[0]]
    assert not db.table_exists("t1")  # marked, not run


def test_one_liners(db: Database) -> None:
    assert run_migrations(db, MIGRATIONS).executed == NAMES
    assert get_migration_status(db, MIGRATIONS).pending == []
    assert rollback_migrations(db, MIGRATIONS).executed == [NAMES[-1]]
    assert rollback_migrations(db, MIGRATIONS, steps=2).executed == [NAMES[1], NAMES[0]]
    assert get_migration_status(db, MIGRATIONS).executed == []


def test_runner_takes_a_folder(db: Database, tmp_path: Path) -> None:
    (tmp_path / "001_a.sql").write_text("-- migrate:up\nCREATE TABLE a (id integer PRIMARY KEY);\n-- migrate:down\nDROP TABLE a;\n")
    runner = create_migration_runner(db, str(tmp_path))
    assert runner.up().executed == ["001_a"]


@pytest.mark.parametrize(
    ("files", "bad"),
    [
        ({"001_a.py": "def up(db):\n    pass\n", "001_a.sql": "-- migrate:up\nSELECT 1;\n"}, "001_a"),
        ({"001_ok.py": "def up(db):\n    pass\n", "002_noup.py": "def down(db):\n    pass\n"}, "002_noup"),
        ({"001_syntax.py": "def up(db)\n    pass\n"}, "001_syntax"),
        ({"001_raises.py": "raise ValueError('nope')\ndef up(db):\n    pass\n"}, "001_raises"),
        ({"001_nosections.sql": "CREATE TABLE x (id integer);\n"}, "001_nosections"),
    ],
)
def test_load_errors_name_the_file(tmp_path: Path, files: dict[str, str], bad: str) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(MigrationLoadError) as info:
        load_migrations(tmp_path)
    assert bad in str(info.value)


def test_sql_file_sections_quotes_and_transaction_false(db: Database, engine: str, tmp_path: Path) -> None:
    (tmp_path / "001_notes.sql").write_text(
        "-- a comment first\n"
        "-- migrate:up\n"
        "CREATE TABLE notes (id integer PRIMARY KEY, body text);\n"
        "INSERT INTO notes VALUES (1, 'semicolons; in strings are fine'); -- and in comments;\n"
        "INSERT INTO notes VALUES (2, 'it''s');\n"
        "-- migrate:down\n"
        "DROP TABLE notes;\n"
    )
    (tmp_path / "002_idx.sql").write_text(
        "-- migrate:up transaction:false\n"
        "CREATE INDEX idx_notes_body ON notes (id);\n"
        "-- migrate:down transaction:false\n"
        + ("DROP INDEX idx_notes_body ON notes;\n" if engine == "mysql" else "DROP INDEX idx_notes_body;\n")
    )
    migrations = load_migrations(tmp_path)
    assert migrations[1].transaction is False
    runner = create_migration_runner(db, migrations)
    runner.up()
    rows = db.fetch("SELECT body FROM notes ORDER BY id")
    assert [r["body"] for r in rows] == ["semicolons; in strings are fine", "it's"]
    runner.reset()
    assert not db.table_exists("notes")


def test_postgres_dollar_quoted_function(db: Database, engine: str, tmp_path: Path) -> None:
    if engine != "postgres":
        pytest.skip("PostgreSQL $$ bodies")
    (tmp_path / "001_fn.sql").write_text(
        "-- migrate:up\n"
        "CREATE FUNCTION add_one(i integer) RETURNS integer AS $$\nBEGIN\n  RETURN i + 1;\nEND;\n$$ LANGUAGE plpgsql;\n"
        "-- migrate:down\nDROP FUNCTION add_one(integer);\n"
    )
    create_migration_runner(db, load_migrations(tmp_path)).up()
    assert db.fetch("SELECT add_one(41) AS v")[0]["v"] == 42


def test_second_runner_waits_then_times_out(db_url: str, tmp_path: Path) -> None:
    """One runner at a time: a waiter gives up after lock_timeout with LockTimeoutError."""
    started = threading.Event()
    release = threading.Event()

    def slow(db: Database) -> None:
        started.set()
        release.wait(20)
        db.schema.create_table("slow").add_column("id", "integer", lambda c: c.primary_key()).execute()

    errors: list[BaseException] = []

    def first() -> None:
        try:
            with connect(db_url) as db1:
                create_migration_runner(db1, [Migration("001_slow", slow)]).up()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=first)
    thread.start()
    assert started.wait(20)
    try:
        with connect(db_url) as db2:
            t0 = time.monotonic()
            with pytest.raises(LockTimeoutError):
                create_migration_runner(db2, [Migration("001_slow", slow)], lock_timeout=1).up()
            assert time.monotonic() - t0 < 15
    finally:
        release.set()
        thread.join(30)
    assert errors == []
    with connect(db_url) as db3:
        # after waiting, a runner re-reads the history: nothing runs twice
        result = create_migration_runner(db3, [Migration("001_slow", slow)]).up()
        assert result.executed == []
        assert result.skipped == ["001_slow"]
