"""The runner on every engine: the guide's recipe, steps, targets, status, history, hooks."""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from kysera import Database
from kysera.errors import ConfigurationError
from kysera.migrations import (
    IrreversibleMigrationError,
    Migration,
    MigrationError,
    MigrationStateError,
    UnknownMigrationError,
    create_migration_runner,
    get_migration_status,
    rollback_migrations,
    run_migrations,
)

from .util import history_rows, table_migration, tables

MIGRATIONS = [
    table_migration("001_users", "users"),
    table_migration("002_posts", "posts"),
    table_migration("003_tags", "tags"),
]


def test_guide_recipe_up_status_reset(db: Database) -> None:
    runner = create_migration_runner(db, MIGRATIONS, use_transactions=True, logger=logging.getLogger("app"))
    result = runner.up()
    assert len(result.executed) > 0
    assert result.executed == ["001_users", "002_posts", "003_tags"]
    assert result.failed == [] and result.dry_run is False and result.duration >= 0
    status = runner.status()
    assert status.pending == []
    runner.reset()
    status_after_reset = runner.status()
    assert len(status_after_reset.pending) == len(MIGRATIONS)
    assert not any(db.table_exists(t) for t in ("users", "posts", "tags"))


def test_run_migrations_one_liner_and_helpers(db: Database) -> None:
    result = run_migrations(db, MIGRATIONS)
    assert result.executed == [m.name for m in MIGRATIONS]
    again = run_migrations(db, MIGRATIONS)
    assert again.executed == [] and again.skipped == [m.name for m in MIGRATIONS]
    assert rollback_migrations(db, MIGRATIONS, 2).executed == ["003_tags", "002_posts"]
    assert get_migration_status(db, MIGRATIONS).executed == ["001_users"]


def test_steps_and_targets(db: Database) -> None:
    runner = create_migration_runner(db, MIGRATIONS)
    assert runner.up(1).executed == ["001_users"]
    assert runner.up_to("003_tags").executed == ["002_posts", "003_tags"]
    assert runner.up_to("002_posts").executed == []  # already applied: nothing to do
    assert runner.down(2).executed == ["003_tags", "002_posts"]
    assert runner.up(steps=5).executed == ["002_posts", "003_tags"]
    assert runner.down_to("001_users").executed == ["003_tags", "002_posts"]
    assert runner.status().executed == ["001_users"]  # the target stays applied
    assert runner.down(10).executed == ["001_users"]
    assert runner.down().executed == []  # nothing applied: nothing to do
    assert tables(db) == ["kysera_migrations"]  # only the (now empty) history table is left
    assert history_rows(db) == []


def test_history_table_and_batches(db: Database) -> None:
    runner = create_migration_runner(db, MIGRATIONS)
    runner.up(2)
    runner.up()
    rows = history_rows(db)
    assert [(r["name"], r["state"], r["batch"]) for r in rows] == [
        ("001_users", "applied", 1),
        ("002_posts", "applied", 1),
        ("003_tags", "applied", 2),
    ]
    info = runner.status().get("001_users")
    assert info is not None and info.state == "applied" and info.batch == 1
    assert info.applied_at is not None and info.applied_at.tzinfo is not None
    assert abs((dt.datetime.now(dt.UTC) - info.applied_at).total_seconds()) < 120
    assert info.duration is not None and info.duration >= 0
    assert info.checksum == MIGRATIONS[0].checksum


def test_rollback_follows_application_order_not_names(db: Database) -> None:
    runner = create_migration_runner(db, MIGRATIONS, allow_out_of_order=True)
    runner.up_to("001_users")
    runner.mark_applied(["003_tags"])  # applied (as a baseline) after 001, before 002
    runner.up()
    assert runner.status().executed == ["001_users", "003_tags", "002_posts"]
    assert runner.down().executed == ["002_posts"]


def test_status_and_dry_run_create_nothing(db: Database, tmp_path: Path) -> None:
    runner = create_migration_runner(db, MIGRATIONS)
    status = runner.status()
    assert status.table_exists is False
    assert status.pending == [m.name for m in MIGRATIONS] and status.executed == [] and status.total == 3
    assert [m.state for m in status.migrations] == ["pending"] * 3
    runner.up(dry_run=True)
    assert tables(db) == []
    if db.dialect.name == "sqlite":
        assert not Path(db.url.database + ".kysera-lock").exists()


def test_bad_arguments_are_errors_before_anything_runs(db: Database) -> None:
    runner = create_migration_runner(db, MIGRATIONS)
    calls: list[Callable[[], object]] = [lambda: runner.down(0), lambda: runner.down(-1), lambda: runner.up(0)]
    for call in calls:
        with pytest.raises(ConfigurationError, match="steps must be a whole number, 1 or more") as caught:
            call()
        assert caught.value.exit_code == 2
    with pytest.raises(UnknownMigrationError, match=r"unknown migration '002_post'; did you mean '002_posts'\?") as unknown:
        runner.up_to("002_post")
    assert "001_users, 002_posts, 003_tags" in str(unknown.value)
    with pytest.raises(UnknownMigrationError, match="unknown migration 'nope'"):
        runner.down_to("nope")
    with pytest.raises(UnknownMigrationError):
        runner.mark_applied(["nope"])
    with pytest.raises(MigrationStateError, match="migration 002_posts is not applied, so the rollback cannot stop at it \\(down --to, down_to\\)"):
        runner.down_to("002_posts")
    with pytest.raises(ConfigurationError, match="lock_timeout"):
        create_migration_runner(db, MIGRATIONS, lock_timeout=-1)
    with pytest.raises(ConfigurationError, match=r"logger must be a logging\.Logger .*, an object with info/warning \(or warn\)/error methods, a function of one message .*, or a text stream"):
        create_migration_runner(db, MIGRATIONS, logger="console")  # type: ignore[arg-type]
    assert tables(db) == []


def test_a_target_that_is_not_a_name_or_a_dry_run_that_is_not_a_bool_is_a_clear_error(db: Database) -> None:
    """up_to(None) raised a bare TypeError ('NoneType' object is not iterable) from inside the
    name suggestions, and dry_run="no" counted as a dry run; both are usage errors, named, and
    found before the lock is taken or the history read."""
    runner = create_migration_runner(db, MIGRATIONS)
    targets: list[Callable[[], object]] = [
        lambda: runner.up_to(None),  # type: ignore[arg-type]
        lambda: runner.up_to(1),  # type: ignore[arg-type]
        lambda: runner.down_to(None),  # type: ignore[arg-type]
        lambda: runner.resolve(None, applied=True),  # type: ignore[arg-type]
        lambda: runner.accept(2),  # type: ignore[arg-type]
    ]
    for call in targets:
        with pytest.raises(ConfigurationError, match=r"a migration is named by a string, such as '001_create_users'; got") as caught:
            call()
        assert caught.value.exit_code == 2
    dry_runs: list[Callable[[], object]] = [
        lambda: runner.up(dry_run="no"),  # type: ignore[arg-type]
        lambda: runner.down(1, dry_run=1),  # type: ignore[arg-type]
        lambda: runner.reset(dry_run="yes"),  # type: ignore[arg-type]
        lambda: runner.mark_applied("001_users", dry_run="x"),  # type: ignore[arg-type]
    ]
    for call in dry_runs:
        with pytest.raises(ConfigurationError, match=r"dry_run must be True, False or None, got"):
            call()
    assert tables(db) == []
    assert runner.up(dry_run=False).executed == [m.name for m in MIGRATIONS]


def test_code_that_fails_whatever_runs_first_stops_the_run_before_anything_changes(db: Database) -> None:
    """A builder used wrongly or a misspelt name fails however the migrations before it went: the
    safety gate's dry run finds it, and nothing is applied (the first migration used to be)."""

    def typo(db: Database) -> None:
        db.schema.create_table("things").add_column("id", "").execute()

    def misspelt(db: Database) -> None:
        undefined_helper(db)  # type: ignore[name-defined]  # noqa: F821

    def no_columns(db: Database) -> None:
        db.schema.create_table("first_ok").add_column("id", "integer").execute()
        db.schema.create_table("things").execute()

    def odd_default(db: Database) -> None:
        db.schema.create_table("things").add_column("id", "integer", lambda c: c.default_to(object())).execute()

    def misspelt_method(db: Database) -> None:
        db.schema.create_table("things").add_column("id", "integer", lambda c: c.not_nul()).execute()

    cases = (
        (typo, "a column type cannot be empty"),
        (misspelt, "NameError: name 'undefined_helper'"),
        # refused by the engine's compiler, or a misspelt builder method: nothing the compile
        # read from the database, so the migrations before them cannot change the outcome
        (no_columns, "has no columns"),
        (odd_default, "cannot write a object as an SQL literal"),
        (misspelt_method, "AttributeError: 'ColumnBuilder' object has no attribute 'not_nul'"),
    )
    for up, reason in cases:
        migrations = [MIGRATIONS[0], Migration("002_broken", up)]
        with pytest.raises(MigrationError, match=f"migration 002_broken cannot run \\(up\\): .*{reason}") as caught:
            create_migration_runner(db, migrations).up()
        assert "nothing was changed" in str(caught.value)
        assert tables(db) == []
        with pytest.raises(MigrationError, match="002_broken cannot run"):  # a dry run says so too
            create_migration_runner(db, migrations).up(dry_run=True)
        assert tables(db) == []


def test_logger_can_be_print_or_any_object_with_logging_methods(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    """The guide's ``logger: console``: print, or a structlog/loguru-style object, works as well
    as a logging.Logger; each gets the formatted messages of its levels."""
    runner = create_migration_runner(db, MIGRATIONS[:1], logger=print)
    runner.up()
    assert "migrated up: 001_users in " in capsys.readouterr().out

    class Console:
        def __init__(self) -> None:
            self.seen: list[tuple[str, str]] = []

        def debug(self, message: str) -> None:
            self.seen.append(("debug", message))

        def info(self, message: str) -> None:
            self.seen.append(("info", message))

        def warning(self, message: str) -> None:
            self.seen.append(("warning", message))

        def error(self, message: str) -> None:
            self.seen.append(("error", message))

    console = Console()
    create_migration_runner(db, MIGRATIONS[:2], logger=console).up()
    with pytest.raises(ConfigurationError, match="a function of one message"):
        create_migration_runner(db, MIGRATIONS, logger=lambda: None)
    assert ("info", next(m for level, m in console.seen if level == "info")) in console.seen
    assert any(level == "info" and m.startswith("migrated up: 002_posts in ") for level, m in console.seen)
    assert any(level == "debug" for level, _ in console.seen)  # it has debug(): it gets the detail
    assert "%s" not in " ".join(m for _, m in console.seen)  # already formatted

    class JsConsole:  # the guide's console: warn, not warning
        def __init__(self) -> None:
            self.seen: list[tuple[str, str]] = []

        def info(self, message: str) -> None:
            self.seen.append(("info", message))

        def warn(self, message: str) -> None:
            self.seen.append(("warn", message))

        def error(self, message: str) -> None:
            self.seen.append(("error", message))

    stream = io.StringIO()
    create_migration_runner(db, MIGRATIONS[:2], logger=stream).down()  # sys.stderr, a log file
    assert stream.getvalue().startswith("migrated down: 002_posts in ") and stream.getvalue().endswith("\n")

    js_console = JsConsole()
    edited = [Migration(m.name, m.up, m.down, checksum="edited") for m in MIGRATIONS[:1]]
    create_migration_runner(db, edited, logger=js_console, accept_changed=True).up()  # warns of the edit
    assert ("warn", "applied migration 001_users changed since it was applied; recorded its new checksum") in js_console.seen


def test_a_run_inside_the_callers_open_transaction_is_refused(db: Database) -> None:
    """Each migration commits with its history row: inside a transaction of the caller's, a run
    would report success with nothing committed (the caller's rollback undid it; on MySQL, whose
    DDL commits at once, only the history rows went), so it is refused before anything runs."""
    runner = create_migration_runner(db, MIGRATIONS)
    with db.transaction():
        for call in (runner.up, runner.reset, lambda: runner.mark_applied("all")):
            with pytest.raises(MigrationStateError, match="inside an open transaction"):
                call()
        assert runner.up(dry_run=True).executed == [m.name for m in MIGRATIONS]  # a dry run changes nothing
        assert runner.status().pending == [m.name for m in MIGRATIONS]
    assert tables(db) == []
    assert runner.up().executed == [m.name for m in MIGRATIONS]  # outside it, the same runner works


def test_missing_down_stops_the_rollback(db: Database) -> None:
    migrations = [table_migration("001_a", "a"), table_migration("002_b", "b", down=False), table_migration("003_c", "c")]
    runner = create_migration_runner(db, migrations)
    runner.up()
    with pytest.raises(IrreversibleMigrationError, match="cannot roll back 002_b: it has no down migration") as caught:
        runner.down(2)
    assert "give it a down(db) function" in str(caught.value)
    # checked before anything ran: 003_c is still applied
    assert runner.status().executed == ["001_a", "002_b", "003_c"]
    assert db.table_exists("c")
    assert runner.down(1).executed == ["003_c"]


def test_redo_mark_applied_resolve_accept_guards(db: Database) -> None:
    runner = create_migration_runner(db, MIGRATIONS)
    assert runner.redo().executed == []
    runner.up(2)
    result = runner.redo()
    assert [(s.name, s.direction) for s in result.steps] == [("002_posts", "down"), ("002_posts", "up")]
    assert runner.status().executed == ["001_users", "002_posts"]
    with pytest.raises(ConfigurationError, match="mark_applied"):
        runner.mark_applied(5)  # type: ignore[arg-type]
    assert runner.mark_applied("all", dry_run=True) == ["003_tags"]
    assert runner.status().pending == ["003_tags"]
    assert runner.mark_applied("all") == ["003_tags"]
    assert not db.table_exists("tags")  # marked, not run
    assert runner.status().pending == []
    assert runner.mark_applied("all") == []
    with pytest.raises(MigrationStateError, match="migration 001_users has not failed"):
        runner.resolve("001_users", applied=True)
    with pytest.raises(MigrationStateError, match="has not changed since it was applied"):
        runner.accept("001_users")


def test_hooks_and_logging(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    calls: list[tuple[object, ...]] = []
    runner = create_migration_runner(
        db,
        MIGRATIONS[:2],
        logger=logging.getLogger("app.migrations"),
        before=lambda m, d: calls.append(("before", m.name, d)),
        after=lambda m, d, seconds: calls.append(("after", m.name, d, seconds >= 0)),
        on_error=lambda m, d, e: calls.append(("error", m.name, d)),
    )
    with caplog.at_level(logging.INFO, logger="app.migrations"):
        runner.up()
        runner.down()
    assert calls == [
        ("before", "001_users", "up"),
        ("after", "001_users", "up", True),
        ("before", "002_posts", "up"),
        ("after", "002_posts", "up", True),
        ("before", "002_posts", "down"),
        ("after", "002_posts", "down", True),
    ]
    messages = [r.getMessage() for r in caplog.records if r.name == "app.migrations"]
    assert any(m.startswith("migrated up: 001_users in ") and m.endswith(" s") for m in messages)
    assert any(m.startswith("migrated down: 002_posts in ") for m in messages)
    calls.clear()
    runner.up(dry_run=True)
    assert calls == []  # hooks do not fire in dry runs

    # the three hooks in one mapping, as the issue lists them ("hooks (before, after, on_error)")
    together = create_migration_runner(
        db, MIGRATIONS[:2], hooks={"before": lambda m, d: calls.append(("before", m.name, d)), "on_error": None}
    )
    together.down()
    assert calls == [("before", "001_users", "down")]


def test_options_as_one_dict_as_the_typescript_call_passes_them(db: Database) -> None:
    """createMigrationRunner(db, migrations, { useTransactions: true, logger }) translated as it
    reads: a dict in the third place, for the runner and the one-call helpers alike."""
    said: list[str] = []
    runner = create_migration_runner(db, MIGRATIONS, {"use_transactions": True, "logger": said.append})
    assert runner.use_transactions and runner.up().executed == [m.name for m in MIGRATIONS]
    assert said
    assert create_migration_runner(db, MIGRATIONS, {"dry_run": True}, dry_run=False).dry_run is False  # the keyword wins
    assert get_migration_status(db, MIGRATIONS, {"logger": said.append}).pending == []
    assert rollback_migrations(db, MIGRATIONS, 1, {"dry_run": True}).executed == [MIGRATIONS[-1].name]
    assert rollback_migrations(db, MIGRATIONS, steps=2).executed == [m.name for m in MIGRATIONS[::-1][:2]]
    assert run_migrations(db, MIGRATIONS, {"use_transactions": True}).executed == [m.name for m in MIGRATIONS[-2:]]
    with pytest.raises(ConfigurationError, match=r"no option 'dryRun'; did you mean 'dry_run'\?"):
        create_migration_runner(db, MIGRATIONS, {"dryRun": True})  # type: ignore[typeddict-unknown-key]
    with pytest.raises(ConfigurationError, match=r"as keywords \(dry_run=True\) or as one dict"):
        create_migration_runner(db, MIGRATIONS, ["dry_run"])  # type: ignore[arg-type]


def test_unknown_runner_options_are_named_with_the_known_ones(db: Database) -> None:
    with pytest.raises(ConfigurationError, match=r"no option 'use_transaction'; did you mean 'use_transactions'\?"):
        create_migration_runner(db, MIGRATIONS, use_transaction=False)  # type: ignore[call-arg]
    # the TypeScript runner's options that kysera has no counterpart for say what to do instead
    with pytest.raises(ConfigurationError, match=r"no option 'stopOnError'; kysera always stops at the first migration"):
        create_migration_runner(db, MIGRATIONS, {"stopOnError": False})  # type: ignore[typeddict-unknown-key]
    with pytest.raises(ConfigurationError, match=r"no option 'stop_on_error'; kysera always stops .* leave it out"):
        create_migration_runner(db, MIGRATIONS, stop_on_error=False)  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError, match=r"no option 'verbose'; how much the runner says is its logger's level"):
        create_migration_runner(db, MIGRATIONS, verbose=True)  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError, match=r"no option 'plugins'; its hooks are before=, after= and on_error="):
        create_migration_runner(db, MIGRATIONS, plugins=[])  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError, match="hooks= takes a mapping of before, after, on_error"):
        create_migration_runner(db, MIGRATIONS, hooks={"beforeMigration": print})
    with pytest.raises(ConfigurationError, match="the before hook is given twice"):
        create_migration_runner(db, MIGRATIONS, before=print, hooks={"before": print})
    assert tables(db) == []


def test_before_hook_failure_stops_before_running(db: Database) -> None:
    def refuse(migration: Migration, direction: str) -> None:
        if migration.name == "002_posts":
            raise RuntimeError("not today")

    runner = create_migration_runner(db, MIGRATIONS, before=refuse)
    with pytest.raises(MigrationError, match="the before hook raised RuntimeError: not today") as caught:
        runner.up()
    assert caught.value.result is not None and caught.value.result.executed == ["001_users"]
    assert runner.status().executed == ["001_users"] and not db.table_exists("posts")


def test_result_carries_the_statements(db: Database) -> None:
    runner = create_migration_runner(db, MIGRATIONS[:1])
    result = runner.up()
    (statement,) = result.statements("001_users")
    assert "CREATE TABLE" in statement.sql and "users" in statement.sql
    assert result.as_dict()["steps"][0]["statements"] == [str(statement)]


def test_schema_qualified_history_table(db: Database) -> None:
    if db.dialect.name != "postgres":
        pytest.skip("schemas inside a database are a PostgreSQL feature")
    db.execute("CREATE SCHEMA ops")
    runner = create_migration_runner(db, MIGRATIONS[:1], table_name="ops.history")
    runner.up()
    assert db.table_exists("ops.history") and not db.table_exists("kysera_migrations")
    assert runner.status().executed == ["001_users"]


@pytest.mark.parametrize("not_a_database", [None, "sqlite:///app.db"])
def test_the_runner_takes_a_database_and_says_so(not_a_database: object) -> None:
    with pytest.raises(ConfigurationError, match="takes a kysera Database"):
        create_migration_runner(not_a_database, [])  # type: ignore[arg-type]


def test_a_migration_that_runs_no_statement_is_named(db: Database) -> None:
    """A builder without .execute() makes an empty migration that applies silently: say so."""
    said: list[str] = []

    def forgot_execute(db: Database) -> None:
        db.schema.create_table("things").add_column("id", "integer")

    def reads(db: Database) -> None:
        db.fetch("SELECT 1 AS one")  # it looked and chose to do nothing: not flagged

    runner = create_migration_runner(db, [Migration("001_forgot", forgot_execute), Migration("002_reads", reads)], logger=said.append)
    assert runner.up().executed == ["001_forgot", "002_reads"]
    flagged = [line for line in said if "changes nothing" in line]
    assert len(flagged) == 1 and flagged[0].startswith("001_forgot changes nothing: its up() ran no statement")
    assert "with .execute()" in flagged[0]


def test_a_down_that_runs_no_statement_is_named(db: Database) -> None:
    """The down of a file from migrate create says only pass: a rollback of it is recorded while
    the table stays. Say so (a down that reads and decides to do nothing is not flagged)."""
    said: list[str] = []

    def up(db: Database) -> None:
        db.schema.create_table("things").add_column("id", "integer").execute()

    def never_written(db: Database) -> None:
        pass

    def reads(db: Database) -> None:
        db.fetch("SELECT 1 AS one")

    migrations = [Migration("001_things", up, never_written), Migration("002_reads", lambda db: None, reads)]
    runner = create_migration_runner(db, migrations, logger=said.append)
    runner.up()
    assert runner.down(2).executed == ["002_reads", "001_things"]
    flagged = [line for line in said if "runs no statement" in line]
    assert len(flagged) == 1 and flagged[0].startswith("001_things: its down() runs no statement")
    assert "undoes nothing" in flagged[0] and "write its down" in flagged[0]


@pytest.mark.parametrize("outside", ["transaction=False", "use_transactions=False"])
def test_a_down_that_runs_no_statement_outside_a_transaction_is_named_too(db: Database, outside: str) -> None:
    """A migration run outside a transaction (a concurrent index build's, transaction = False)
    with the template's down that says only pass: its rollback undoes nothing either."""
    said: list[str] = []

    def up(db: Database) -> None:
        db.schema.create_table("things").add_column("id", "integer").execute()

    def never_written(db: Database) -> None:
        pass

    own = outside == "transaction=False"
    migration = Migration("001_things", up, never_written, transaction=False) if own else Migration("001_things", up, never_written)
    runner = create_migration_runner(db, [migration], logger=said.append, use_transactions=own)
    runner.up()
    assert runner.down().executed == ["001_things"]
    flagged = [line for line in said if "runs no statement" in line]
    assert len(flagged) == 1 and flagged[0].startswith("001_things: its down() runs no statement")


def test_names_that_differ_only_in_accents_are_two_migrations(db: Database) -> None:
    """MySQL/MariaDB's default collation took 001_cafe and 001_café for one name: the second
    failed to record (duplicate entry) on every run. The history compares names byte for byte."""
    migrations = [Migration("001_cafe", lambda db: None), Migration("001_café", lambda db: None)]
    runner = create_migration_runner(db, migrations)
    assert runner.up().executed == ["001_cafe", "001_café"]
    assert runner.status().pending == []


def _journal_mode(db: Database) -> str:
    return str(next(iter(db.fetch("PRAGMA journal_mode")[0].values())))


def test_sqlite_keeps_its_journal_between_the_commits_of_a_run_and_puts_the_mode_back(
    sqlite_db: Database, tmp_path: Path
) -> None:
    seen: list[str] = []

    def observe(db: Database) -> None:
        seen.append(_journal_mode(db))

    migrations = [*MIGRATIONS, Migration("004_observe", observe, observe)]
    run_migrations(sqlite_db, migrations)
    # the gate's dry run reads the default; the applied run, the kept journal
    assert seen == ["delete", "persist"]
    assert _journal_mode(sqlite_db) == "delete"
    assert not (tmp_path / "sqlite.db-journal").exists()  # put back: the journal is deleted
    rollback_migrations(sqlite_db, migrations, steps=4)
    assert _journal_mode(sqlite_db) == "delete" and not (tmp_path / "sqlite.db-journal").exists()
    assert tables(sqlite_db) == ["kysera_migrations"]


def test_sqlite_a_failed_run_puts_the_journal_mode_back_too(sqlite_db: Database, tmp_path: Path) -> None:
    from .util import failing_migration

    with pytest.raises(MigrationError):
        run_migrations(sqlite_db, [*MIGRATIONS, failing_migration("004_bad", "bad")])
    assert _journal_mode(sqlite_db) == "delete"
    assert not (tmp_path / "sqlite.db-journal").exists()
    assert tables(sqlite_db) == ["kysera_migrations", "posts", "tags", "users"]


def test_sqlite_a_wal_database_and_a_migration_that_switches_to_wal_stay_wal(tmp_path: Path) -> None:
    from kysera import connect

    url = f"sqlite:///{tmp_path / 'wal.db'}"
    with connect(url) as db:
        db.execute("PRAGMA journal_mode = WAL")
        run_migrations(db, MIGRATIONS)
        assert _journal_mode(db) == "wal"
    to_wal = Migration("002_wal", lambda db: db.execute("PRAGMA journal_mode = WAL"), transaction=False)
    with connect(f"sqlite:///{tmp_path / 'other.db'}") as db:
        run_migrations(db, [MIGRATIONS[0], to_wal, MIGRATIONS[2]])
        assert _journal_mode(db) == "wal"


def test_sqlite_the_kept_journal_leaves_an_attached_wal_database_in_wal(tmp_path: Path) -> None:
    """The journal mode is the main database's only: an unqualified PRAGMA journal_mode = ...
    would switch every attached database, a WAL one out of WAL for good."""
    from kysera import connect

    other = tmp_path / "other.db"
    with connect(f"sqlite:///{other}") as db:
        db.execute("PRAGMA journal_mode = WAL")
    attach = Migration("001_attach", lambda db: db.execute(f"ATTACH DATABASE '{other}' AS other"), transaction=False)
    with connect(f"sqlite:///{tmp_path / 'main.db'}") as db:
        run_migrations(db, [attach, *MIGRATIONS])
        assert _journal_mode(db) == "delete"
        assert db.fetch("PRAGMA other.journal_mode")[0]["journal_mode"] == "wal"
    with connect(f"sqlite:///{other}") as db:
        assert _journal_mode(db) == "wal"
