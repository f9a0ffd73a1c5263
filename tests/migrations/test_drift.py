"""Checksums (changed and missing migrations) and out-of-order detection."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kysera import Database
from kysera.migrations import (
    DriftError,
    MigrationStateError,
    OutOfOrderError,
    create_migration_runner,
    load_migrations,
)

from .util import history_rows, table_migration, write

USERS = """
def up(db):
    db.schema.create_table("users").add_column("id", "integer").execute()

def down(db):
    db.schema.drop_table("users").execute()
"""

POSTS = "-- migrate:up\nCREATE TABLE posts (id integer);\n-- migrate:down\nDROP TABLE posts;\n"


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    write(folder, "001_users.py", USERS)
    write(folder, "002_posts.sql", POSTS)
    return folder


def test_changed_file_is_detected_and_accepted(db: Database, tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    create_migration_runner(db, folder).up()
    write(folder, "002_posts.sql", POSTS.replace("id integer", "id bigint"))
    runner = create_migration_runner(db, folder)
    info = runner.status().get("002_posts")
    assert info is not None and info.state == "changed" and info.checksum != info.current_checksum
    assert runner.status().changed == ["002_posts"]
    attempts: list[Callable[[], object]] = [runner.up, runner.down, lambda: runner.up(dry_run=True)]
    for attempt in attempts:
        with pytest.raises(DriftError) as caught:
            attempt()
        message = str(caught.value)
        assert "applied migration 002_posts changed since it was applied" in message
        assert "kysera migrate accept 002_posts" in message and "accept_changed=True" in message
        assert caught.value.changed == ["002_posts"]
    assert runner.accept("002_posts") == "changed"
    assert runner.status().get("002_posts").state == "applied"  # type: ignore[union-attr]
    assert runner.down().executed == ["002_posts"]


def test_accept_changed_option(db: Database, tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    create_migration_runner(db, folder).up(1)
    write(folder, "001_users.py", USERS + "\n# a comment added later\n")
    runner = create_migration_runner(db, folder, accept_changed=True)
    runner.up(dry_run=True)
    assert create_migration_runner(db, folder).status().changed == ["001_users"]  # a dry run records nothing
    assert runner.up().executed == ["002_posts"]
    assert create_migration_runner(db, folder).status().changed == []


def test_line_endings_do_not_count_as_changes(db: Database, tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    create_migration_runner(db, folder).up()
    path = folder / "002_posts.sql"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert create_migration_runner(db, folder).status().changed == []


def test_missing_file_is_detected_and_forgotten(db: Database, tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    create_migration_runner(db, folder).up()
    (folder / "001_users.py").unlink()
    runner = create_migration_runner(db, folder)
    status = runner.status()
    assert status.missing == ["001_users"]
    assert [(m.name, m.state) for m in status.migrations] == [("002_posts", "applied"), ("001_users", "missing")]
    with pytest.raises(DriftError, match=r"applied migration 001_users is missing \(the file or code is gone\)"):
        runner.up()
    tolerant = create_migration_runner(db, folder, accept_changed=True)
    assert tolerant.down_to("001_users", dry_run=True).executed == ["002_posts"]  # only the history knows it
    assert tolerant.down().executed == ["002_posts"]
    with pytest.raises(MigrationStateError, match="cannot roll back 001_users: its code is gone"):
        tolerant.down()
    assert runner.accept("001_users") == "missing"
    assert history_rows(db) == []
    assert db.table_exists("users")  # forgetting a migration does not undo it


def test_a_renamed_applied_migration_is_named_with_the_fix(db: Database, tmp_path: Path) -> None:
    """Accepting the missing name alone would run the renamed file a second time."""
    folder = _folder(tmp_path)
    create_migration_runner(db, folder).up()
    (folder / "001_users.py").rename(folder / "20260101000000_users.py")
    for runner in (create_migration_runner(db, folder), create_migration_runner(db, folder, accept_changed=True)):
        with pytest.raises(DriftError, match=r"its contents are in 20260101000000_users, which is not applied.*mark-applied 20260101000000_users"):
            runner.up()
    runner = create_migration_runner(db, folder)
    runner.accept("001_users")
    runner.mark_applied("20260101000000_users")
    assert runner.up().executed == []
    assert runner.status().pending == []


def test_in_code_checksums_follow_the_source(db: Database) -> None:
    def up_v1(db: Database) -> None:
        db.schema.create_table("t").add_column("id", "integer").execute()

    def up_v2(db: Database) -> None:
        db.schema.create_table("t").add_column("id", "bigint").execute()

    from kysera.migrations import Migration

    create_migration_runner(db, [Migration("001_t", up_v1)]).up()
    assert create_migration_runner(db, [Migration("001_t", up_v1)]).status().changed == []
    assert create_migration_runner(db, [Migration("001_t", up_v2)]).status().changed == ["001_t"]


def test_out_of_order(db: Database) -> None:
    a, b, c = table_migration("001_a", "a"), table_migration("002_b", "b"), table_migration("003_c", "c")
    create_migration_runner(db, [a, c]).up()
    runner = create_migration_runner(db, [a, b, c])
    status = runner.status()
    assert status.pending == ["002_b"] and status.out_of_order == ["002_b"]
    with pytest.raises(OutOfOrderError) as caught:
        runner.up()
    assert str(caught.value) == (
        "pending migration 002_b sorts before 003_c, which is already applied; rename it to sort after "
        "003_c, or run it anyway with allow_out_of_order=True "
        "(kysera migrate up --allow-out-of-order, or [migrations] allow_out_of_order = true)"
    )
    assert caught.value.names == ["002_b"]
    with pytest.raises(OutOfOrderError):
        runner.up_to("002_b")
    assert not db.table_exists("b")
    relaxed = create_migration_runner(db, [a, b, c], allow_out_of_order=True)
    assert relaxed.up().executed == ["002_b"]
    assert relaxed.status().executed == ["001_a", "003_c", "002_b"]
    assert relaxed.down().executed == ["002_b"]  # the last one applied goes first


def test_loaded_folder_order(db: Database, tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write(folder, "000_first.sql", "-- migrate:up\nCREATE TABLE zero (id integer);\n")
    assert [m.name for m in load_migrations(folder)] == ["000_first", "001_users", "002_posts"]


def test_a_folder_that_holds_none_of_the_applied_migrations_is_named_as_the_likely_mistake(db: Database, tmp_path: Path) -> None:
    """Another project's folder (or database): not a dozen deleted files to accept one by one."""
    from kysera.migrations import Migration

    create_migration_runner(db, _folder(tmp_path)).up()
    other = create_migration_runner(db, [Migration("900_other", lambda db: None)])
    with pytest.raises(DriftError, match=r"none of the 2 migrations applied to .* is among these migrations \(001_users, 002_posts are applied there\): check that the migrations folder") as caught:
        other.up()
    assert caught.value.missing == ["001_users", "002_posts"]
    assert [row["name"] for row in history_rows(db)] == ["001_users", "002_posts"]  # nothing changed


def test_redo_takes_the_edited_migration_it_redoes(db: Database, tmp_path: Path) -> None:
    """redo is how a migration being written is tried again after an edit: it refused the edit as
    drift until `accept`. It now rolls the migration back with the down its file has now and
    applies it again; an edit to an older migration is still refused."""
    folder = _folder(tmp_path)
    create_migration_runner(db, folder).up()
    write(folder, "002_posts.sql", POSTS.replace("id integer", "id integer, title text"))
    said: list[str] = []
    result = create_migration_runner(db, folder, logger=said.append).redo()
    assert [(s.name, s.direction) for s in result.steps] == [("002_posts", "down"), ("002_posts", "up")]
    assert any("002_posts changed since it was applied: redo rolls it back" in line for line in said)
    info = db.introspect_table("posts")
    assert info is not None and {c.name for c in info.columns} == {"id", "title"}
    runner = create_migration_runner(db, folder)
    assert runner.status().changed == []  # the new checksum is recorded
    write(folder, "001_users.py", USERS.replace('"integer"', '"bigint"'))
    with pytest.raises(DriftError, match="001_users changed since it was applied"):
        create_migration_runner(db, folder).redo()
