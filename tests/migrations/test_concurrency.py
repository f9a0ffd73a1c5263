"""One runner at a time: eight processes at once, a killed lock holder, a waiter that gives up."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kysera import Database, connect
from kysera.dialects.locks import FileLock, migration_lock
from kysera.errors import LockTimeoutError
from kysera.migrations import MigrationError, UnresolvedFailureError, create_migration_runner

from .util import failing_migration, table_migration, write

WORKER = str(Path(__file__).with_name("worker.py"))
COUNT = 12

LOGGED = """
import os
import time

from kysera import Database


def up(db: Database) -> None:
    db.schema.create_table("t_{i}").add_column("id", "integer").execute()
    db.insert_into("applied_log").values({{"mig": "{name}", "pid": os.getpid()}}).execute()
    time.sleep(0.01)


def down(db: Database) -> None:
    db.schema.drop_table("t_{i}").execute()
"""


def _spawn(url: str, folder: Path, go: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, WORKER, url, str(folder), str(go)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def test_eight_concurrent_runners_apply_each_migration_once(db_url: str, db: Database, tmp_path: Path) -> None:
    db.schema.create_table("applied_log").add_column("mig", "varchar(50)").add_column("pid", "integer").execute()
    folder = tmp_path / "migrations"
    names = [f"{i:03d}_step" for i in range(1, COUNT + 1)]
    for i, name in enumerate(names, start=1):
        write(folder, f"{name}.py", LOGGED.format(i=i, name=name))
    go = tmp_path / "go"
    workers = [_spawn(db_url, folder, go) for _ in range(8)]
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("go.ready.*"))) < len(workers):  # all connected: start them together
        assert all(w.poll() is None for w in workers), [w.communicate() for w in workers if w.poll() is not None]
        assert time.monotonic() < deadline, "the workers did not start"
        time.sleep(0.01)
    go.write_text("go")
    outputs = [w.communicate(timeout=120) for w in workers]

    reports = []
    for worker, (out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, f"worker failed: {out} {err}"
        reports.append(json.loads(out.strip().splitlines()[-1]))
    assert all(r["error"] is None for r in reports)
    executed = [name for r in reports for name in r["executed"]]
    assert sorted(executed) == names  # every migration ran in exactly one process...
    logged = db.select_from("applied_log").select(["mig", "pid"]).fetch_all()
    assert sorted(str(r["mig"]) for r in logged) == names  # ...and its body committed once
    status = create_migration_runner(db, folder).status()
    assert status.executed == names and status.pending == []
    if db.dialect.name == "sqlite":  # the last holder removed the lock file as it let go
        assert not Path(db.url.database + ".kysera-lock").exists()


HANGING = """
import os
import pathlib
import time


def up(db):
    db.schema.create_table("t2").add_column("id", "integer").execute()
    ready = os.environ.get("KYSERA_TEST_READY")
    if ready and not db.capturing:  # the safety gate's dry run comes first; hang in the real run
        pathlib.Path(ready).write_text("holding the lock, mid-migration")
        time.sleep(60)
    db.insert_into("t2").values({"id": 1}).execute()


def down(db):
    db.schema.drop_table("t2").execute()
"""


def _kill_a_runner_in(db_url: str, tmp_path: Path, file: str, source: str, settle: float = 0.0) -> Path:
    """A runner in its own process applies 001_one, then SIGKILL while it runs ``file`` (which
    writes $KYSERA_TEST_READY when it is there; ``settle`` seconds more for its statement to reach
    the server). Returns the migrations folder."""
    folder = tmp_path / "migrations"
    write(folder, "001_one.sql", "-- migrate:up\nCREATE TABLE t1 (id integer);\n-- migrate:down\nDROP TABLE t1;\n")
    write(folder, file, source)
    go = tmp_path / "go"
    go.write_text("go")
    ready = tmp_path / "ready"
    worker = _spawn(db_url, folder, go, {"KYSERA_TEST_READY": str(ready)})
    deadline = time.monotonic() + 30
    while not ready.exists():
        assert worker.poll() is None, worker.communicate()
        assert time.monotonic() < deadline, f"the worker never reached {file}"
        time.sleep(0.02)
    time.sleep(settle)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    return folder


def test_killed_runner_frees_the_lock_and_keeps_history_consistent(
    db_url: str, db: Database, tmp_path: Path
) -> None:
    folder = tmp_path / "migrations"
    write(folder, "003_three.sql", "-- migrate:up\nCREATE TABLE t3 (id integer);\n-- migrate:down\nDROP TABLE t3;\n")
    _kill_a_runner_in(db_url, tmp_path, "002_hang.py", HANGING)

    runner = create_migration_runner(db, folder, lock_timeout=10)
    started = time.monotonic()
    if db.dialect.transactional_ddl:
        # the killed migration's transaction died with its connection: nothing of it remains
        assert runner.status().executed == ["001_one"]
        assert runner.up().executed == ["002_hang", "003_three"]
    else:
        # MySQL committed CREATE TABLE t2; the history says the migration was interrupted
        info = runner.status().get("002_hang")
        assert info is not None and info.state == "running"
        with pytest.raises(UnresolvedFailureError, match="migration 002_hang was interrupted while running"):
            runner.up()
        db.schema.drop_table("t2").execute()
        runner.resolve("002_hang", applied=False)
        assert runner.up().executed == ["002_hang", "003_three"]
    assert time.monotonic() - started < 8  # the lock was free: no waiting for a timeout
    assert db.select_from("t2").select(["id"]).fetch_all() == [{"id": 1}]
    assert runner.status().executed == ["001_one", "002_hang", "003_three"]
    if db.dialect.name == "sqlite":  # the killed holder's lock file was taken over, then removed
        assert not Path(db.url.database + ".kysera-lock").exists()


STUCK_ON_THE_SERVER = """
import os
import pathlib


def up(db):
    db.schema.create_table("t2").add_column("id", "integer").execute()
    ready = os.environ.get("KYSERA_TEST_READY")
    if ready and not db.capturing:
        pathlib.Path(ready).write_text("holding the lock, the server busy with a long statement")
        db.fetch("SELECT pg_sleep(120) AS slept")  # a long index build, say
"""


def test_a_killed_runners_session_still_running_on_postgres_is_ended(db_url: str, db: Database, tmp_path: Path) -> None:
    """SIGKILL ends the runner, not its server session: that runs its statement to the end,
    holding the advisory lock (for hours, for a big index). A waiter on the same machine sees that
    the session's process is gone, ends the session, and goes on."""
    if db.dialect.name != "postgres":
        pytest.skip("MySQL's GET_LOCK ends with its connection, SQLite's file lock with the process")
    folder = _kill_a_runner_in(db_url, tmp_path, "002_stuck.py", STUCK_ON_THE_SERVER, settle=0.3)
    said: list[str] = []
    runner = create_migration_runner(db, folder, lock_timeout=20, logger=said.append)
    started = time.monotonic()
    assert runner.up().executed == ["002_stuck"]
    assert time.monotonic() - started < 10
    ended = [line for line in said if "is gone, but its server session" in line]
    assert len(ended) == 1 and "pg_sleep(120)" in ended[0] and "ended it" in ended[0], said
    # a live runner's session is never ended: the same check on this process's own lock holder
    from kysera.dialects.process_tag import application_name, gone_process

    assert gone_process(application_name()) is None
    assert gone_process("kysera 1 elsewhere00") is None and gone_process("psql") is None


def test_status_does_not_call_a_killed_runners_orphaned_session_running_now(db_url: str, db: Database, tmp_path: Path) -> None:
    """A runner killed during a long statement outside a transaction (a concurrent index build)
    leaves its history row `running` and its server session holding the lock. `status` said the
    migration was "running now ... let it finish", though nothing will ever record it: it is
    interrupted, and the note says what the next command that takes the lock does."""
    if db.dialect.name != "postgres":
        pytest.skip("only PostgreSQL sessions outlive their process holding the lock")
    source = "transaction = False\n" + STUCK_ON_THE_SERVER
    folder = _kill_a_runner_in(db_url, tmp_path, "002_stuck.py", source, settle=0.3)
    env = {k: v for k, v in os.environ.items() if k not in ("KYSERA_DATABASE_URL", "DATABASE_URL", "KYSERA_ENV")}
    kysera = str(Path(sys.executable).with_name("kysera"))
    status = subprocess.run(
        [kysera, "--url", db_url, "migrate", "status", "--json"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=60
    )
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert data["running_now"] == [] and data["failed"] == ["002_stuck"] and data["lock_holder"] is None, data
    assert "is gone, but its server session" in status.stderr and "pg_sleep(120)" in status.stderr, status.stderr
    assert "ends that session" in status.stderr
    text = subprocess.run(
        [kysera, "--url", db_url, "migrate", "status"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=60
    )
    assert "002_stuck interrupted (up)" in text.stdout and "let it finish" not in text.stdout, text.stdout
    runner = create_migration_runner(db, folder, lock_timeout=20)
    started = time.monotonic()
    runner.resolve("002_stuck", applied=False)  # takes the lock: ends the orphaned session
    assert time.monotonic() - started < 10
    db.execute("DROP TABLE IF EXISTS t2")  # what it had made, undone as resolve --rolled-back says
    assert runner.up().executed == ["002_stuck"]


def test_sqlite_lock_file_goes_away_without_ever_splitting_the_lock(tmp_path: Path) -> None:
    """The holder removes the lock file as it lets go. A waiter that opened the old file before
    that must not count a lock on it (the file is gone: a newcomer locks a new one)."""
    path = str(tmp_path / "app.db.kysera-lock")
    first, waiter, newcomer = (FileLock(path, "app.db") for _ in range(3))
    assert first.try_acquire(0)
    assert Path(path).read_text().strip() == f"pid {os.getpid()}"
    assert not waiter.try_acquire(0)  # busy; the waiter keeps the old file open
    first.release()
    assert not Path(path).exists()
    assert newcomer.try_acquire(0)  # a new file at the same path
    assert not waiter.try_acquire(0)  # its lock on the removed file would be worthless: it sees the new one
    newcomer.release()
    assert waiter.try_acquire(0)
    assert Path(path).exists()
    waiter.release()
    assert not Path(path).exists()
    waiter.release()  # a second release is harmless


def test_sqlite_runners_through_a_symlink_and_the_real_path_share_one_lock(tmp_path: Path) -> None:
    """Two deploys of one SQLite database, one naming it through a symlink: one waits for the other
    (with two lock files both ran, and one failed on the history's unique name)."""
    (tmp_path / "data").mkdir()
    real = tmp_path / "data" / "app.db"
    (tmp_path / "app.db").symlink_to(real)
    direct, linked = connect(f"sqlite:///{real}"), connect(f"sqlite:///{tmp_path / 'app.db'}")
    try:
        table = direct._table("kysera_migrations")
        lock = migration_lock(direct, table)
        lock.acquire(5)
        try:
            found = migration_lock(linked, table).busy()
            assert found is not None and f"process {os.getpid()}" in found
            runner = create_migration_runner(linked, [table_migration("001_a", "a")], lock_timeout=0.2)
            with pytest.raises(LockTimeoutError) as caught:
                runner.up()
            assert str(tmp_path / "app.db") in str(caught.value)  # the database as the user named it
        finally:
            lock.release()
        assert runner.up().executed == ["001_a"]
        assert not list(tmp_path.glob("**/*.kysera-lock"))
    finally:
        direct.close()
        linked.close()


def test_waiter_gives_up_after_lock_timeout(db_url: str, db: Database, caplog: pytest.LogCaptureFixture) -> None:
    holder = connect(db_url)
    lock = migration_lock(holder, holder._table("kysera_migrations"))
    lock.acquire(5)
    try:
        runner = create_migration_runner(db, [table_migration("001_a", "a")], lock_timeout=0.3)
        with caplog.at_level(logging.INFO, logger="kysera.migrations"), pytest.raises(LockTimeoutError) as caught:
            runner.up()
        message = str(caught.value)
        assert message.startswith("gave up waiting for the migration lock on ")
        assert " after 0.3 s" in message or " after 0.4 s" in message
        database = db.url.database if db.dialect.name != "sqlite" else os.path.abspath(db.url.database)
        assert database in message
        if db.dialect.name == "postgres":
            assert "server process" in message
        elif db.dialect.name == "mysql":
            assert "connection" in message
        else:
            assert f"process {os.getpid()}" in message
        assert caught.value.exit_code == 1
        assert "waiting for the migration lock" in caplog.text
        assert not db.table_exists("a") and not db.table_exists("kysera_migrations")

        threading.Timer(0.3, lock.release).start()
        patient = create_migration_runner(db, [table_migration("001_a", "a")], lock_timeout=10)
        assert patient.up().executed == ["001_a"]
    finally:
        holder.close()


def test_busy_says_who_holds_the_lock_and_takes_nothing(db_url: str, db: Database) -> None:
    """What migrate status asks before it calls a migration left "running" interrupted."""
    holder = connect(db_url)
    try:
        table = holder._table("kysera_migrations")
        lock = migration_lock(holder, table)
        assert migration_lock(db, table).busy() is None
        lock.acquire(5)
        found = migration_lock(db, table).busy()
        assert found is not None and ("process" in found or "connection" in found)
        lock.release()
        assert migration_lock(db, table).busy() is None
        if db.dialect.name == "sqlite":  # a lock file left by a killed holder holds nothing
            Path(lock.path).write_text("pid 999999\n")  # type: ignore[attr-defined]
            assert migration_lock(db, table).busy() is None
    finally:
        holder.close()


def test_in_memory_sqlite_needs_no_lock() -> None:
    db = connect("sqlite://")
    try:
        runner = create_migration_runner(db, [table_migration("001_a", "a")])
        assert runner.up().executed == ["001_a"]
    finally:
        db.close()


def test_lock_is_released_after_a_failure(db_url: str, db: Database) -> None:
    runner = create_migration_runner(db, [failing_migration("001_bad", "bad")])
    with pytest.raises(MigrationError):
        runner.up()
    other = connect(db_url)
    try:
        lock = migration_lock(other, other._table("kysera_migrations"))
        assert lock.try_acquire(0.0)
        lock.release()
    finally:
        other.close()
