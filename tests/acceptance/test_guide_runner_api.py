"""Acceptance: the guide's "Running Migrations / Using API" and "Best Practices" on every engine."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from kysera import Database, connect, sql
from kysera.migrations import (
    Migration,
    MigrationResult,
    MigrationStatus,
    create_migration_runner,
    load_migrations,
    run_migrations,
)

from .guide_files import GUIDE_FILES, GUIDE_NAMES, write_migrations


def _norm(data_type: str) -> str:
    return data_type.replace("character varying", "varchar").lower()


@pytest.fixture
def migrations(tmp_path: Path) -> list[Migration]:
    return load_migrations(write_migrations(tmp_path / "migrations"))


def test_load_migrations_sorted_by_name_with_up_and_down(migrations: list[Migration]) -> None:
    assert [m.name for m in migrations] == GUIDE_NAMES
    assert all(m.down is not None for m in migrations)


def test_runner_up_status_down_one_liner(db: Database, migrations: list[Migration]) -> None:
    runner = create_migration_runner(db, migrations)
    result = runner.up()
    assert isinstance(result, MigrationResult)
    assert result.executed == GUIDE_NAMES
    assert result.failed == []
    assert result.dry_run is False
    assert result.duration >= 0

    status = runner.status()
    assert isinstance(status, MigrationStatus)
    assert status.executed == GUIDE_NAMES
    assert status.pending == []
    assert status.total == len(GUIDE_NAMES)
    assert [info.name for info in status.migrations] == GUIDE_NAMES
    assert all(info.state == "applied" for info in status.migrations)
    assert all(info.applied_at is not None for info in status.migrations)

    down = runner.down(1)
    assert down.executed == [GUIDE_NAMES[-1]]
    assert runner.status().pending == [GUIDE_NAMES[-1]]
    fks = db.introspect_table("posts").foreign_keys
    assert [fk.ref_table for fk in fks] == ["users"]

    # One-liner: applies what is pending and returns the result
    again = run_migrations(db, migrations)
    assert again.executed == [GUIDE_NAMES[-1]]
    assert runner.status().pending == []


def test_guide_schema_after_up(db: Database, migrations: list[Migration]) -> None:
    run_migrations(db, migrations)
    users = db.introspect_table("users")
    assert users is not None
    assert users.primary_key == ("id",)
    assert users.column("id").auto_increment
    assert not users.column("email").nullable
    assert not users.column("name").nullable
    assert _norm(users.column("name").data_type) == "varchar(200)"  # widened by 004
    assert not users.column("created_at").nullable
    assert users.column("created_at").default is not None
    assert users.column("avatar_url").nullable and users.column("bio").nullable
    assert _norm(users.column("avatar_url").data_type) == "varchar(500)"
    email_unique = [ix for ix in users.indexes if ix.unique and ix.columns == ("email",)]
    assert email_unique, users.indexes
    assert users.index("idx_users_email").columns == ("email",)
    assert not users.index("idx_users_email").unique
    assert users.index("idx_users_username").unique
    assert users.index("idx_users_username").columns == ("username",)

    posts = db.introspect_table("posts")
    assert posts is not None
    assert posts.index("idx_posts_user_id").columns == ("user_id",)
    assert posts.index("idx_posts_status").columns == ("status",)
    assert posts.index("idx_posts_created_user").columns == ("created_at", "user_id")
    assert "draft" in (posts.column("status").default or "")
    assert posts.column("content").nullable and posts.column("updated_at").nullable
    by_table = {fk.ref_table: fk for fk in posts.foreign_keys}
    assert by_table["users"].columns == ("user_id",)
    assert by_table["users"].ref_columns == ("id",)
    assert by_table["users"].on_delete == "cascade"
    assert by_table["categories"].name == "fk_posts_category"
    assert by_table["categories"].on_delete == "set null"


def test_guide_schema_behaves(db: Database, migrations: list[Migration]) -> None:
    run_migrations(db, migrations)
    db.insert_into("users").values({"email": "a@example.com", "name": "Ann"}).execute()
    user = db.select_from("users").select(["id", "created_at"]).execute()[0]
    assert user["id"] == 1 and user["created_at"] is not None
    db.insert_into("categories").values({"name": "news"}).execute()
    db.insert_into("posts").values({"user_id": 1, "title": "Hello", "category_id": 1}).execute()
    post = db.select_from("posts").select(["status", "category_id"]).execute()[0]
    assert post["status"] == "draft"
    # on_delete("set null")
    db.delete_from("categories").where("id", "=", 1).execute()
    assert db.select_from("posts").select(["category_id"]).execute()[0]["category_id"] is None
    # on_delete("cascade")
    db.delete_from("users").where("id", "=", 1).execute()
    assert db.select_from("posts").select(["id"]).execute() == []
    # unique email
    db.insert_into("users").values({"email": "b@example.com", "name": "Bob"}).execute()
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        db.insert_into("users").values({"email": "b@example.com", "name": "Bob 2"}).execute()


def test_guide_test_migrations_recipe(db: Database, migrations: list[Migration]) -> None:
    """Best practice 4, as written in the guide."""
    runner = create_migration_runner(db, migrations)
    result = runner.up()
    assert len(result.executed) > 0
    status = runner.status()
    assert len(status.pending) == 0
    runner.reset()
    status_after_reset = runner.status()
    assert len(status_after_reset.pending) == len(migrations)
    assert status_after_reset.executed == []
    assert set(db.introspect().tables) <= {"kysera_migrations"}


def test_every_down_restores_the_schema_before_its_up(db: Database, migrations: list[Migration]) -> None:
    """Best practice 2: every down migration undoes its up."""
    runner = create_migration_runner(db, migrations)
    for name in GUIDE_NAMES:
        before = db.introspect()
        runner.up(1)
        runner.down(1)
        after = db.introspect()
        assert set(after.tables) - {"kysera_migrations"} == set(before.tables) - {"kysera_migrations"}, name
        for table in set(before.tables) - {"kysera_migrations"}:
            assert not before.tables[table].diff(after.tables[table]), (name, table)
        runner.up(1)
    assert runner.status().pending == []


def test_up_steps_and_down_steps(db: Database, migrations: list[Migration]) -> None:
    runner = create_migration_runner(db, migrations)
    assert runner.up(2).executed == GUIDE_NAMES[:2]
    assert runner.status().pending == GUIDE_NAMES[2:]
    result = runner.up()
    assert result.executed == GUIDE_NAMES[2:]
    assert result.skipped == GUIDE_NAMES[:2]
    assert runner.down(3).executed == list(reversed(GUIDE_NAMES[-3:]))
    assert runner.status().pending == GUIDE_NAMES[-3:]
    assert runner.up_to(GUIDE_NAMES[5]).executed == [GUIDE_NAMES[5]]
    assert runner.down_to(GUIDE_NAMES[2]).executed == list(reversed(GUIDE_NAMES[3:6]))
    assert runner.status().executed == GUIDE_NAMES[:3]


@pytest.mark.parametrize("steps", [0, -1])
def test_down_zero_or_negative_is_an_error(db: Database, migrations: list[Migration], steps: int) -> None:
    runner = create_migration_runner(db, migrations)
    runner.up()
    with pytest.raises(Exception) as info:
        runner.down(steps)
    assert "step" in str(info.value).lower()
    assert runner.status().pending == []


def test_dry_run_option_changes_nothing(db: Database, migrations: list[Migration]) -> None:
    runner = create_migration_runner(db, migrations, dry_run=True)
    result = runner.up()
    assert result.dry_run is True
    assert result.executed == GUIDE_NAMES
    text = result.sql()
    assert "users" in text and "posts" in text and "idx_posts_status" in text
    assert "CREATE TABLE" in text.upper()
    assert db.introspect().tables == {}
    assert not db.table_exists("kysera_migrations")
    assert runner.status().pending == GUIDE_NAMES


def test_down_dry_run_changes_nothing(db: Database, migrations: list[Migration]) -> None:
    runner = create_migration_runner(db, migrations)
    runner.up()
    before = db.introspect()
    result = runner.down(2, dry_run=True)
    assert result.dry_run and result.executed == list(reversed(GUIDE_NAMES[-2:]))
    assert "categories" in result.sql()
    assert runner.status().pending == []
    after = db.introspect()
    assert set(before.tables) == set(after.tables)
    for table in before.tables:
        if table != "kysera_migrations":
            assert not before.tables[table].diff(after.tables[table])


def test_use_transactions_and_logging_logger(
    db: Database, migrations: list[Migration], caplog: pytest.LogCaptureFixture
) -> None:
    """Best practice 3: use_transactions=True with a logger."""
    logger = logging.getLogger("acceptance.app")
    handlers = list(logging.getLogger().handlers)
    runner = create_migration_runner(db, migrations, use_transactions=True, logger=logger)
    with caplog.at_level(logging.INFO, logger="acceptance.app"):
        runner.up()
    messages = [r.getMessage() for r in caplog.records if r.name == "acceptance.app"]
    for name in GUIDE_NAMES:
        assert any(name in m for m in messages), (name, messages)
    assert logging.getLogger().handlers == handlers  # never reconfigures logging


def test_logger_console_style(db: Database, migrations: list[Migration], capsys: pytest.CaptureFixture[str]) -> None:
    """The guide's `logger: console`: print and a text stream work as loggers."""
    runner = create_migration_runner(db, migrations[:1], logger=print)
    runner.up()
    out = capsys.readouterr().out
    assert GUIDE_NAMES[0] in out
    stream = io.StringIO()
    create_migration_runner(db, migrations[:2], logger=stream).up()
    assert GUIDE_NAMES[1] in stream.getvalue()


def test_use_transactions_false_still_applies(db: Database, migrations: list[Migration]) -> None:
    runner = create_migration_runner(db, migrations, use_transactions=False)
    assert runner.up().executed == GUIDE_NAMES
    runner.reset()
    assert runner.status().pending == GUIDE_NAMES


def test_failure_in_the_middle(db: Database, engine: str) -> None:
    def good(db: Database) -> None:
        db.schema.create_table("a").add_column("id", "integer", lambda c: c.primary_key()).execute()

    def bad(db: Database) -> None:
        db.schema.create_table("b").add_column("id", "integer", lambda c: c.primary_key()).execute()
        sql("THIS IS NOT VALID SQL").execute(db)

    def later(db: Database) -> None:
        db.schema.create_table("c").add_column("id", "integer", lambda c: c.primary_key()).execute()

    from kysera.migrations import MigrationError

    migrations = [Migration("001_a", good), Migration("002_b", bad), Migration("003_c", later)]
    runner = create_migration_runner(db, migrations)
    with pytest.raises(MigrationError) as info:
        runner.up()
    err = info.value
    assert err.name == "002_b"
    assert err.direction == "up"
    assert "THIS IS NOT VALID SQL" in (err.statement or "")
    assert "002_b" in str(err)
    assert db.table_exists("a")
    assert not db.table_exists("c")
    status = runner.status()
    assert status.executed == ["001_a"]
    if engine == "mysql":
        # DDL committed: table b exists; the migration is recorded as failed
        assert db.table_exists("b")
        assert status.failed == ["002_b"]
        assert "resolve" in str(err)
        from kysera.migrations import UnresolvedFailureError

        with pytest.raises(UnresolvedFailureError):
            runner.up()
        db.schema.drop_table("b").execute()
        runner.resolve("002_b", applied=False)
        assert runner.status().pending == ["002_b", "003_c"]
    else:
        assert not db.table_exists("b")
        assert status.pending == ["002_b", "003_c"]


def test_migration_without_down_stops_rollback(db: Database) -> None:
    from kysera.migrations import IrreversibleMigrationError

    def create(db: Database) -> None:
        db.schema.create_table("t").add_column("id", "integer", lambda c: c.primary_key()).execute()

    def add(db: Database) -> None:
        db.schema.alter_table("t").add_column("x", "integer").execute()

    migrations = [Migration("001_t", create, lambda d: d.schema.drop_table("t").execute()), Migration("002_x", add)]
    runner = create_migration_runner(db, migrations)
    runner.up()
    with pytest.raises(IrreversibleMigrationError) as info:
        runner.reset()
    assert "002_x" in str(info.value)
    assert runner.status().executed == ["001_t", "002_x"]


def test_unknown_target_is_an_error_before_anything_runs(db: Database, migrations: list[Migration]) -> None:
    from kysera.migrations import UnknownMigrationError

    runner = create_migration_runner(db, migrations)
    with pytest.raises(UnknownMigrationError) as info:
        runner.up_to("999_nope")
    assert "999_nope" in str(info.value)
    assert db.introspect().tables == {}


def test_custom_table_name(db: Database, migrations: list[Migration]) -> None:
    runner = create_migration_runner(db, migrations[:1], table_name="schema_history")
    runner.up()
    assert db.table_exists("schema_history")
    assert not db.table_exists("kysera_migrations")
    assert runner.status().executed == [GUIDE_NAMES[0]]


def test_status_does_not_create_history_table(db: Database, migrations: list[Migration]) -> None:
    status = create_migration_runner(db, migrations).status()
    assert status.pending == GUIDE_NAMES
    assert status.executed == []
    assert not db.table_exists("kysera_migrations")


def test_drift_is_detected(db_url: str, tmp_path: Path) -> None:
    from kysera.migrations import DriftError

    folder = write_migrations(tmp_path / "migrations", {"001_create_users.py": GUIDE_FILES["001_create_users.py"]})
    with connect(db_url) as db:
        create_migration_runner(db, load_migrations(folder)).up()
    path = folder / "001_create_users.py"
    path.write_text(path.read_text() + "\n# edited\n")
    with connect(db_url) as db:
        runner = create_migration_runner(db, load_migrations(folder))
        assert runner.status().changed == ["001_create_users"]
        with pytest.raises(DriftError) as info:
            runner.down(1)
        assert "001_create_users" in str(info.value)
        runner.accept("001_create_users")
        assert runner.status().changed == []


def test_out_of_order_is_refused(db: Database) -> None:
    from kysera.migrations import OutOfOrderError

    def make(name: str) -> Migration:
        def up(db: Database) -> None:
            db.schema.create_table(name).add_column("id", "integer", lambda c: c.primary_key()).execute()

        def down(db: Database) -> None:
            db.schema.drop_table(name).execute()

        return Migration(f"00{name[-1]}_{name}", up, down)

    runner = create_migration_runner(db, [make("t1"), make("t3")])
    runner.up()
    late = [make("t1"), make("t2"), make("t3")]
    with pytest.raises(OutOfOrderError) as info:
        create_migration_runner(db, late).up()
    assert "002_t2" in str(info.value)
    assert create_migration_runner(db, late, allow_out_of_order=True).up().executed == ["002_t2"]


def test_down_and_up_again_keep_rows(db: Database, migrations: list[Migration]) -> None:
    """Rolling back the guide's later migrations keeps the rows of the tables that stay."""
    runner = create_migration_runner(db, migrations)
    runner.up()
    db.insert_into("users").values({"email": "a@example.com", "name": "Ann", "username": "ann"}).execute()
    db.insert_into("categories").values({"name": "news"}).execute()
    db.insert_into("posts").values({"user_id": 1, "title": "Hello", "category_id": 1}).execute()
    runner.down_to(GUIDE_NAMES[2])  # reverts 008 .. 004, including the SQLite rebuilds of users and posts
    assert db.select_from("users").select(["email", "name", "bio"]).execute() == [
        {"email": "a@example.com", "name": "Ann", "bio": None}
    ]
    assert db.select_from("posts").select(["title", "user_id"]).execute() == [{"title": "Hello", "user_id": 1}]
    assert _norm(db.introspect_table("users").column("name").data_type) == "varchar(100)"
    runner.up()
    assert [r["title"] for r in db.select_from("posts").select(["title"]).execute()] == ["Hello"]
    # foreign keys still enforced after the rebuilds
    with pytest.raises(Exception, match=r"(?i)foreign|constraint"):
        db.insert_into("posts").values({"user_id": 99, "title": "orphan"}).execute()
    db.delete_from("users").where("id", "=", 1).execute()
    assert db.select_from("posts").select(["id"]).execute() == []
