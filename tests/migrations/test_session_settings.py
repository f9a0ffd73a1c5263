"""A migration's session settings (SET lock_timeout, SET SESSION ..., PRAGMA busy_timeout) end
with it: one Database is one connection for a whole run, and they leaked into every later
migration and into kysera's own statements (the history row, the run's lock timeout)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kysera import Database, connect, sql
from kysera.dialects.session_settings import ALL, LOCKS, changed_settings
from kysera.migrations import Migration, MigrationError, create_migration_runner, load_migrations

from .util import write

#: what a migration sets, and the setting as kysera's run has it (statement_lock_timeout = 5 s)
SHORT = {
    "postgres": "SET lock_timeout = '1ms'",
    "mysql": "SET SESSION innodb_lock_wait_timeout = 1, lock_wait_timeout = 1",
    "sqlite": "PRAGMA busy_timeout = 1",
}
KYSERA_DEFAULT: dict[str, dict[str, object]] = {
    "postgres": {"lock": "5s"},
    "mysql": {"lock": 5, "md": 5},
    "sqlite": {"lock": 5000},
}
SET_BY_A: dict[str, dict[str, object]] = {"postgres": {"lock": "1ms"}, "mysql": {"lock": 1, "md": 1}, "sqlite": {"lock": 1}}


def lock_setting(db: Database) -> dict[str, object]:
    """The session's lock timeout, as the engine shows it."""
    name = db.dialect.name
    if name == "postgres":
        return {"lock": db.fetch("SHOW lock_timeout")[0]["lock_timeout"]}
    if name == "mysql":
        row = db.fetch("SELECT @@SESSION.innodb_lock_wait_timeout AS rw, @@SESSION.lock_wait_timeout AS md")[0]
        return {"lock": row["rw"], "md": row["md"]}
    return {"lock": db.fetch("PRAGMA busy_timeout")[0]["timeout"]}


def observer(seen: dict[str, object], key: str) -> Migration:
    """A migration whose up records the session's lock timeout, as it has it."""
    return Migration(key, lambda db: seen.__setitem__(key, lock_setting(db)), lambda db: None)


@pytest.mark.parametrize("in_transaction", [True, False], ids=["transaction", "no-transaction"])
def test_a_migrations_set_ends_with_it(db: Database, in_transaction: bool) -> None:
    engine = db.dialect.name
    before = lock_setting(db)
    seen: dict[str, object] = {}

    def a(db: Database) -> None:
        sql(SHORT[engine]).execute(db)
        seen["001_a"] = lock_setting(db)  # its own SET holds for the rest of it

    migrations = [Migration("001_a", a, lambda db: None, transaction=in_transaction), observer(seen, "002_b")]
    runner = create_migration_runner(db, migrations)
    assert runner.up().executed == ["001_a", "002_b"]
    assert seen == {"001_a": SET_BY_A[engine], "002_b": KYSERA_DEFAULT[engine]}
    assert lock_setting(db) == before  # and the connection's own, after the run
    assert runner.status().pending == []


#: a lock timeout an application sets on its connection before it runs the migrations
APP_SETS = {
    "postgres": ("SET lock_timeout = '7s'", {"lock": "7s"}),
    "mysql": ("SET SESSION innodb_lock_wait_timeout = 7, lock_wait_timeout = 7", {"lock": 7, "md": 7}),
    "sqlite": ("PRAGMA busy_timeout = 7000", {"lock": 7000}),
}


def test_the_applications_own_lock_timeout_is_kept_after_a_run(db: Database) -> None:
    """The run's 5 s lock timeout is its own: the value the connection had before comes back
    (PostgreSQL used to RESET it to the server's default)."""
    statement, value = APP_SETS[db.dialect.name]
    db.fetch(statement)
    seen: dict[str, object] = {}
    runner = create_migration_runner(db, [observer(seen, "001_a")])
    assert runner.up().executed == ["001_a"]
    assert seen == {"001_a": KYSERA_DEFAULT[db.dialect.name]}
    assert lock_setting(db) == value
    runner.down()
    assert lock_setting(db) == value


def test_a_replayed_migrations_set_ends_with_it_too(db: Database) -> None:
    """A migration that only builds statements is run from the gate's record (no second call of
    its up): its SET is seen there as well."""
    engine = db.dialect.name
    seen: dict[str, object] = {}
    migrations = [Migration("001_a", lambda db: sql(SHORT[engine]).execute(db)), observer(seen, "002_b")]
    result = create_migration_runner(db, migrations).up()
    assert result.executed == ["001_a", "002_b"]
    assert [s.sql for s in result.statements("001_a")] == [SHORT[engine]]
    assert seen == {"002_b": KYSERA_DEFAULT[engine]}


#: a setting the run itself leaves alone, as the engine shows it
OTHER = {
    "postgres": ("SET search_path TO pg_catalog", "SELECT current_setting('search_path') AS v"),
    "mysql": ("SET time_zone = '+05:00'", "SELECT @@SESSION.time_zone AS v"),
    "sqlite": ("PRAGMA recursive_triggers = 1", "PRAGMA recursive_triggers"),
}


def test_the_set_of_a_migration_that_failed_ends_too(db: Database) -> None:
    """After a failure the run stops; the session (a library's Database, used on) has its
    settings back, outside a transaction too, where nothing rolled the SET back."""
    change, look = OTHER[db.dialect.name]
    before = db.fetch(look)

    def a(db: Database) -> None:
        sql(change).execute(db)
        db.execute("THIS IS NOT SQL")

    runner = create_migration_runner(db, [Migration("001_a", a, transaction=False)])
    with pytest.raises(MigrationError):
        runner.up()
    assert db.fetch(look) == before


def test_a_sql_file_and_a_dry_run(db: Database, tmp_path: Path) -> None:
    """A .sql migration's SET, and a dry run (which on SQLite runs the statements too, in a
    transaction rolled back at the end): each later migration starts with the run's settings."""
    engine = db.dialect.name
    before = lock_setting(db)
    folder = tmp_path / "migrations"
    write(folder, "001_a.sql", f"-- migrate:up\n{SHORT[engine]};\nCREATE TABLE t (id integer);\n-- migrate:down\nDROP TABLE t;\n")
    seen: dict[str, object] = {}
    migrations = [*load_migrations(folder), observer(seen, "002_b")]
    runner = create_migration_runner(db, migrations)
    assert runner.up(dry_run=True).executed == ["001_a", "002_b"]
    assert seen == {"002_b": KYSERA_DEFAULT[engine]} and lock_setting(db) == before
    seen.clear()
    assert runner.up().executed == ["001_a", "002_b"]
    assert seen == {"002_b": KYSERA_DEFAULT[engine]} and lock_setting(db) == before


@pytest.mark.parametrize("engine", ["sqlite"])
def test_the_gates_rehearsal_leaves_no_setting_behind(db: Database, engine: str) -> None:
    """SQLite: a migration that needs what an earlier one makes is dry-run after running the
    earlier ones in a transaction rolled back at the end; their PRAGMAs ran there for real."""
    seen: list[object] = []

    def a(db: Database) -> None:
        sql("PRAGMA busy_timeout = 1").execute(db)
        db.schema.create_table("t").add_column("id", "integer").execute()

    def b(db: Database) -> None:
        if not db.table_exists("t"):
            raise RuntimeError("001_a makes t")  # so the gate dry-runs it after 001_a, rehearsed
        seen.append(lock_setting(db))

    result = create_migration_runner(db, [Migration("001_a", a), Migration("002_b", b)]).up()
    assert result.executed == ["001_a", "002_b"]
    assert seen == [{"lock": 5000}, {"lock": 5000}]  # in the gate's dry run, and for real


@pytest.mark.parametrize("engine", ["sqlite"])
def test_foreign_keys_switched_off_outside_a_transaction_are_checked_again(db: Database, engine: str) -> None:
    """PRAGMA foreign_keys = OFF in a migration run outside a transaction switched the checks off
    for the connection: a later migration committed rows whose parent does not exist."""
    parents = Migration("001_parents", lambda db: db.execute("CREATE TABLE parents (id integer PRIMARY KEY)"))
    off = Migration("002_off", lambda db: db.execute("PRAGMA foreign_keys = OFF"), transaction=False)

    def orphan(db: Database) -> None:
        db.execute("CREATE TABLE kids (id integer PRIMARY KEY, parent_id integer REFERENCES parents (id))")
        db.execute("INSERT INTO kids (id, parent_id) VALUES (1, 42)")

    runner = create_migration_runner(db, [parents, off, Migration("003_orphan", orphan)])
    with pytest.raises(MigrationError, match=r"(?i)foreign key"):
        runner.up()
    assert runner.status().pending == ["003_orphan"]
    assert db.fetch("PRAGMA foreign_keys") == [{"foreign_keys": 1}]


@pytest.mark.parametrize("engine", ["postgres"])
def test_postgres_search_path_and_role_end_and_the_advisory_lock_stays(db: Database, engine: str) -> None:
    """SET search_path sent kysera's history row to another schema (or failed it: no such
    table), SET ROLE wrote it as a role that may not; setting them back keeps the lock."""
    db.execute("CREATE SCHEMA elsewhere")
    role = f"{db.url.database}_writer"
    db.execute(f'DROP ROLE IF EXISTS "{role}"')
    db.execute(f'CREATE ROLE "{role}"')
    db.execute(f'GRANT ALL ON SCHEMA elsewhere TO "{role}"')
    seen: dict[str, object] = {}

    def a(db: Database) -> None:
        sql(f"SET search_path TO elsewhere; SET ROLE \"{role}\"; CREATE TABLE t (id integer)").execute(db)

    def b(db: Database) -> None:
        seen.update(db.fetch("SELECT current_user AS who, current_schema() AS schema")[0])
        seen["locked"] = bool(
            db.fetch("SELECT 1 AS x FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
        )

    try:
        runner = create_migration_runner(db, [Migration("001_a", a), Migration("002_b", b)])
        assert runner.up().executed == ["001_a", "002_b"]
        assert seen == {"who": "postgres", "schema": "public", "locked": True}
        assert db.table_exists("elsewhere.t") and runner.status().pending == []
    finally:
        db.execute("DROP SCHEMA elsewhere CASCADE")
        db.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.mark.parametrize("engine", ["postgres", "mysql"])
def test_a_statement_that_releases_every_lock_does_not_lose_the_migration_lock(
    db: Database, engine: str, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL's DISCARD ALL resets every setting and lets go of every advisory lock of the
    session, MySQL's RELEASE_ALL_LOCKS() of every named lock: the run's lock timeout and its
    migration lock come back."""
    from kysera.dialects.locks import migration_lock

    seen: dict[str, object] = {}

    def b(db: Database) -> None:
        seen.update(lock_setting(db))
        seen["locked"] = migration_lock(db, runner.history.node).still_held()

    release = "DISCARD ALL" if engine == "postgres" else "SELECT RELEASE_ALL_LOCKS()"
    migrations = [Migration("001_a", lambda db: sql(release).execute(db), transaction=False), Migration("002_b", b)]
    runner = create_migration_runner(db, migrations)
    with caplog.at_level(logging.WARNING, logger="kysera.migrations"):
        assert runner.up().executed == ["001_a", "002_b"]
    assert seen == {**KYSERA_DEFAULT[engine], "locked": True}
    assert "let go of the migration lock" in caplog.text


@pytest.mark.parametrize("engine", ["postgres"])
def test_a_migrations_own_statement_timeout_holds_past_a_concurrent_build(db: Database, engine: str) -> None:
    """kysera lifts statement_timeout for a concurrent build and sets it again after; a migration
    that set its own keeps it until it ends, and the next one has the run's again."""
    db.execute("CREATE TABLE t (n integer)")
    seen: list[object] = []

    def build(db: Database) -> None:
        sql("SET statement_timeout = '10s'").execute(db)
        db.schema.create_index("ix_t_n").on("t").column("n").concurrently().execute()
        seen.append(db.fetch("SHOW statement_timeout")[0]["statement_timeout"])

    migrations = [Migration("001_ix", build), Migration("002_b", lambda db: seen.append(db.fetch("SHOW statement_timeout")[0]["statement_timeout"]))]
    runner = create_migration_runner(db, migrations, statement_timeout=0.5)
    assert runner.up().executed == ["001_ix", "002_b"]
    assert seen[-2:] == ["10s", "500ms"]  # (the gate's dry run looked first)


@pytest.mark.parametrize("engine", ["mysql"])
def test_mysql_use_and_sql_mode_end(db: Database, engine: str) -> None:
    """USE sent the history row to another database; sql_mode (ANSI_QUOTES, NO_BACKSLASH_ESCAPES)
    changes how the statements after it read."""
    other = f"{db.url.database}_other"
    db.execute(f"CREATE DATABASE `{other}`")
    before = db.fetch("SELECT @@SESSION.sql_mode AS mode")[0]["mode"]
    seen: dict[str, object] = {}

    def a(db: Database) -> None:
        sql(f"USE `{other}`; SET sql_mode = 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES'; CREATE TABLE t (id integer)").execute(db)

    def b(db: Database) -> None:
        seen.update(db.fetch("SELECT DATABASE() AS db, @@SESSION.sql_mode AS mode")[0])

    try:
        runner = create_migration_runner(db, [Migration("001_a", a), Migration("002_b", b)])
        assert runner.up().executed == ["001_a", "002_b"]
        assert seen == {"db": db.url.database, "mode": before}
        assert db.fetch(f"SELECT COUNT(*) AS n FROM `{other}`.t") == [{"n": 0}]
        assert runner.status().pending == []
    finally:
        db.execute(f"DROP DATABASE IF EXISTS `{other}`")


def test_migrations_that_set_nothing_send_nothing_more(db: Database) -> None:
    """The common case pays no round trip: no read of a setting, no setting back."""
    sent: list[str] = []
    conn = db.driver_connection
    run = conn.run

    def spy(text: str, params: object) -> object:
        sent.append(text)
        return run(text, params)  # type: ignore[arg-type]

    conn.run = spy  # type: ignore[method-assign,assignment]
    migrations = [
        Migration("001_t", lambda db: db.schema.create_table("t").add_column("id", "integer").execute()),
        Migration("002_raw", lambda db: sql("INSERT INTO t (id) VALUES (1); UPDATE t SET id = 2").execute(db)),
        Migration("003_read", lambda db: db.fetch("SELECT id FROM t")),
    ]
    create_migration_runner(db, migrations).up()
    # the run's own: its lock timeout read, set at the start and set back at the end
    assert not [s for s in sent if "current_setting(" in s or "set_config(" in s or "@@SESSION.sql_mode" in s]
    busy = [s for s in sent if s.startswith("PRAGMA busy_timeout")]
    assert len(busy) == (3 if db.dialect.name == "sqlite" else 0)  # read, set, set back


def test_a_cli_run_gives_each_migration_the_runs_settings(db_url: str, engine: str, tmp_path: Path) -> None:
    """kysera migrate up: a .sql migration's SET does not reach the next migration."""
    from ..cli.conftest import kysera_process, write_config

    project = tmp_path / "project"
    folder = project / "migrations"
    write(folder, "001_seen.sql", "-- migrate:up\nCREATE TABLE seen (who varchar(20), v varchar(40));\n-- migrate:down\nDROP TABLE seen;\n")
    write(folder, "002_short.sql", f"-- migrate:up\n{SHORT[engine]};\nCREATE TABLE t (id integer);\n-- migrate:down\nDROP TABLE t;\n")
    look = {
        "postgres": "SELECT current_setting('lock_timeout') AS v",
        "mysql": "SELECT @@SESSION.innodb_lock_wait_timeout AS v",
        "sqlite": "PRAGMA busy_timeout",
    }[engine]
    write(
        folder,
        "003_look.py",
        f'''
        from kysera import Database


        def up(db: Database) -> None:
            value = next(iter(db.fetch("{look}")[0].values()))
            db.insert_into("seen").values({{"who": "003_look", "v": str(value)}}).execute()
        ''',
    )
    write_config(project, db_url)
    done = kysera_process("migrate", "up", cwd=project)
    assert done.returncode == 0, done.stderr
    with connect(db_url) as check:
        assert check.fetch("SELECT who, v FROM seen") == [{"who": "003_look", "v": {"postgres": "5s", "mysql": "5", "sqlite": "5000"}[engine]}]


@pytest.mark.parametrize(
    ("dialect", "text", "names"),
    [
        ("postgres", "SET lock_timeout = '1ms'", ("lock_timeout",)),
        ("postgres", "-- a comment\nset SESSION Statement_Timeout TO 0", ("statement_timeout",)),
        ("postgres", "SET LOCAL lock_timeout = '1ms'", ()),
        ("postgres", "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", ()),
        ("postgres", "SET CONSTRAINTS ALL DEFERRED", ()),
        ("postgres", "SET search_path TO app, public", ("search_path",)),
        ("postgres", "SET SCHEMA 'app'", ("search_path",)),
        ("postgres", "SET TIME ZONE 'UTC'", ("timezone",)),
        ("postgres", "SET ROLE app_owner", ("role",)),
        ("postgres", "SET SESSION AUTHORIZATION app", ("session_authorization", "role")),
        ("postgres", "SET myapp.tenant = '7'", ("myapp.tenant",)),
        ("postgres", "RESET lock_timeout", ("lock_timeout",)),
        ("postgres", "RESET ALL", (ALL,)),
        ("postgres", "DISCARD ALL", (ALL, LOCKS)),
        ("postgres", "DISCARD PLANS", ()),
        ("postgres", "SELECT set_config('search_path', 'x', false)", ("search_path",)),
        ("postgres", "SELECT pg_advisory_unlock_all()", (LOCKS,)),
        ("postgres", "UPDATE t SET lock_timeout = 1", ()),
        ("postgres", "ALTER ROLE app SET lock_timeout = '1s'", ()),
        ("mysql", "SET SESSION innodb_lock_wait_timeout = 1, lock_wait_timeout = 2", ("innodb_lock_wait_timeout", "lock_wait_timeout")),
        ("mysql", "SET @@SESSION.max_statement_time = 1, @@max_execution_time = 5", ("max_statement_time", "max_execution_time")),
        ("mysql", "SET GLOBAL lock_wait_timeout = 1, SESSION sql_mode = CONCAT(@@sql_mode, ',ANSI')", ("sql_mode",)),
        ("mysql", "SET GLOBAL a = 1, b = 2", ()),
        ("mysql", "SET @@global.lock_wait_timeout = 1", ()),
        ("mysql", "SET @tenant = 7", ()),
        ("mysql", "SET time_zone = '+00:00' # a comment", ("time_zone",)),
        ("mysql", "SET NAMES utf8mb4", ("character_set_client", "character_set_connection", "character_set_results", "collation_connection")),
        ("mysql", "SET TRANSACTION ISOLATION LEVEL READ COMMITTED", ()),
        ("mysql", "SET SESSION TRANSACTION READ ONLY", ("transaction_isolation", "transaction_read_only")),
        ("mysql", "SET STATEMENT max_statement_time = 1 FOR SELECT 1", ()),
        ("mysql", "SET ROLE app", ("current_role()",)),
        ("mysql", "USE other", ("database()",)),
        ("sqlite", "PRAGMA busy_timeout = 1", ("busy_timeout",)),
        ("sqlite", "pragma main.foreign_keys(0)", ("foreign_keys",)),
        ("sqlite", "PRAGMA other.synchronous = 0", ()),
        ("sqlite", "PRAGMA journal_mode = WAL", ()),
        ("sqlite", "PRAGMA busy_timeout", ()),
        ("sqlite", "PRAGMA table_info(t)", ()),
    ],
)
def test_which_statements_change_a_setting(dialect: str, text: str, names: tuple[str, ...]) -> None:
    assert changed_settings(text, dialect) == names


_PIECES = st.sampled_from([
    "SET", "SESSION", "LOCAL", "GLOBAL", "@@", "@", "@@session.", "x", "=", ",", "(", ")", "'a'", "TO", "RESET",
    "ALL", "DISCARD", "PRAGMA", "main", ".", "ROLE", "NAMES", "CHARACTER", "TRANSACTION", "USE", "SELECT",
    "set_config", "`q`", '"q"', "1", ";", "TIME", "ZONE", "AUTHORIZATION", "-- c\n", "# c\n", "/* c */", "'", "$$",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=12), st.sampled_from(["postgres", "mysql", "sqlite"]))
def test_any_text_is_read_without_an_error(pieces: list[str], dialect: str) -> None:
    """What the server would refuse (an unterminated quote, a SET of nothing) changes nothing here."""
    names = changed_settings(" ".join(pieces), dialect)
    assert isinstance(names, tuple) and all(isinstance(n, str) and n for n in names)
