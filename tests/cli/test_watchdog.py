"""A long migration says what it is doing: which statement, and which lock it waits for."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from click.testing import Result

from kysera import connect
from kysera.cli import watchdog
from kysera.cli.watchdog import Watchdog

from .conftest import kysera, write_config


def test_notes_come_after_the_first_delay_then_now_and_then() -> None:
    notes: list[str] = []
    dog = Watchdog(notes.append, lambda: "SELECT pg_sleep(9)", first=0.05, every=0.1)
    dog.started("001_slow")
    time.sleep(0.3)
    dog.finished()
    count = len(notes)
    time.sleep(0.2)
    dog.close()
    assert 2 <= count <= 4 and len(notes) == count  # nothing once it finished
    assert notes[0].startswith("001_slow is still running (0 s): SELECT pg_sleep(9)")
    assert not [t for t in threading.enumerate() if t.name == "kysera-watchdog"]


def test_fast_migrations_get_no_note_and_a_failing_describe_is_harmless() -> None:
    notes: list[str] = []

    def broken() -> str | None:
        raise RuntimeError("server gone")

    dog = Watchdog(notes.append, broken, first=0.1, every=0.1)
    for name in ("001", "002", "003"):
        dog.started(name)
        dog.finished()
    dog.started("004_slow")
    time.sleep(0.25)
    dog.close()
    assert notes and all(n.startswith("004_slow is still running") for n in notes)


def test_a_migration_waiting_for_a_lock_names_who_holds_it(
    engine: str, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine == "sqlite":
        pytest.skip("SQLite has no server to ask what a session waits for")
    monkeypatch.setattr(watchdog, "FIRST_NOTE", 0.5)
    with connect(db_url) as setup:
        setup.schema.create_table("blk").add_column("id", "integer").execute()
    write_config(Path.cwd(), db_url, "\n[safety]\nstatement_lock_timeout = 20\n")
    Path("migrations").mkdir()
    Path("migrations/001_alter.py").write_text("def up(db):\n    db.schema.alter_table('blk').add_column('x', 'integer').execute()\n")
    results: list[Result] = []
    worker = threading.Thread(target=lambda: results.append(kysera("migrate", "up")))
    holder = connect(db_url)
    holder_id = holder.session_id
    try:
        with holder.transaction():
            holder.execute("SELECT * FROM blk")  # holds a lock the ALTER TABLE waits for
            worker.start()
            time.sleep(2.0)
    finally:
        holder.close()
    worker.join(30)
    assert results and results[0].exit_code == 0, results and results[0].stderr
    stderr = results[0].stderr
    assert "001_alter is still running" in stderr and "ALTER TABLE" in stderr and "lock" in stderr
    if engine == "postgres":
        assert f"held by pid {holder_id} (SELECT * FROM blk)" in stderr, stderr
    else:  # MariaDB names the sessions whose open transactions can hold a metadata lock
        assert f"open transactions that may hold it: id {holder_id} (idle, its transaction open for" in stderr, stderr
