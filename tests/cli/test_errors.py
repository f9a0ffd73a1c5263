"""Every user mistake gives one clear message, the right exit code, no traceback, and no change."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from kysera import connect

from .conftest import assert_clean_error, kysera, kysera_process, write_config
from .test_workflow import NAMES, project, status_json, tables


def test_unknown_scheme(tmp_path: Path) -> None:
    project("oracle://scott@localhost/x", count=1)
    assert_clean_error(kysera("migrate", "status"), 2, "unknown database URL scheme 'oracle://'")
    assert_clean_error(kysera("migrate", "up", "--url", "nonsense"), 2, "is not a database URL")


def test_unreachable_server(tmp_path: Path) -> None:
    project("postgresql://postgres@127.0.0.1:1/test", count=1)
    assert_clean_error(kysera("migrate", "up"), 1, "cannot connect to PostgreSQL at 127.0.0.1:1/test")


@pytest.mark.mysql
def test_wrong_password() -> None:
    from tests.conftest import server_url

    url = server_url("mysql").replace("root@", "root:wrong-secret@")
    project(url, count=1)
    result = kysera("migrate", "status")
    assert_clean_error(result, 1, "cannot connect", "Access denied")
    assert "wrong-secret" not in result.stderr


def test_missing_migrations_folder(tmp_path: Path) -> None:
    write_config(Path.cwd(), f"sqlite:///{tmp_path / 'x.db'}")
    for args in (["up"], ["status"], ["sql", "--dialect", "sqlite"]):
        assert_clean_error(kysera("migrate", *args), 2, "migrations folder", "does not exist", "[migrations] directory in kysera.toml")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("def up(db):\n    pass\n  oops\n", "syntax error"),
        ("raise RuntimeError('boom')\n", "raised RuntimeError: boom while it was imported"),
        ("def down(db):\n    pass\n", "has no up(db) function"),
    ],
)
def test_unloadable_migration(db_url: str, body: str, message: str) -> None:
    folder = project(db_url, count=1)
    (folder / "20260109000000_bad.py").write_text(body)
    result = kysera("migrate", "up")
    assert_clean_error(result, 2, "20260109000000_bad.py", message)
    assert tables(db_url) == set()


def test_numbers_without_zero_padding_run_nothing(db_url: str) -> None:
    """Files numbered as goose or dbmate number them (1_, 2_, 10_): refused, not run 10_ first."""
    write_config(Path.cwd(), db_url)
    (Path.cwd() / "migrations").mkdir()
    for number in (1, 2, 10):
        (Path.cwd() / "migrations" / f"{number}_t{number}.sql").write_text(
            f"-- migrate:up\nCREATE TABLE t{number} (id int);\n-- migrate:down\nDROP TABLE t{number};\n"
        )
    for args in (["up"], ["status"], ["up", "--dry-run"]):
        assert_clean_error(kysera("migrate", *args), 2, "10_t10.sql sorts before 1_t1, 2_t2", "(01_t1, 02_t2, 10_t10)")
    assert tables(db_url) == set()


def test_unknown_target(db_url: str) -> None:
    project(db_url, count=2)
    result = kysera("migrate", "up", "--to", "20260101000000_create_user")
    assert_clean_error(result, 2, "unknown migration '20260101000000_create_user'", "did you mean")
    assert_clean_error(kysera("migrate", "down", "--to", "nope"), 2, "unknown migration 'nope'")
    # the name given to migrate create, misspelt: the match is found on the part after the version
    close = "did you mean '20260101000000_create_users'?"
    assert_clean_error(kysera("migrate", "up", "--to", "create_user"), 2, "unknown migration 'create_user'", close)
    # the offline script says the same
    assert_clean_error(kysera("migrate", "sql", "--dialect", "sqlite", "--to", "create_user"), 2, close, "(known: ")
    assert tables(db_url) == set()


def test_lock_timeout(db_url: str, engine: str) -> None:
    """Another runner holds the lock: the command says what it waits for, then gives up."""
    from kysera.dialects.locks import migration_lock

    project(db_url, count=1)
    Path("kysera.toml").write_text(Path("kysera.toml").read_text() + "\n[migrations]\nlock_timeout = 0.5\n")
    holder = connect(db_url)
    lock = migration_lock(holder, holder._table("kysera_migrations"))
    lock.acquire(1)
    try:
        if engine == "sqlite":  # the file lock is per process: another process must wait
            result = kysera_process("migrate", "up")
            assert_clean_error(result, 1, "waiting for the migration lock")
        else:
            result_box: list[object] = []
            thread = threading.Thread(target=lambda: result_box.append(kysera("migrate", "up")))
            thread.start()
            thread.join(60)
            result = result_box[0]  # type: ignore[assignment]
            assert_clean_error(result, 1, "waiting for the migration lock")  # type: ignore[arg-type]
    finally:
        lock.release()
        holder.close()
    assert "users" not in tables(db_url)


def test_verbose_shows_the_traceback(tmp_path: Path) -> None:
    project("oracle://x@y/z", count=1)
    result = kysera("migrate", "status", "-v")
    assert result.exit_code == 2
    assert "Traceback" in result.stderr and "unknown database URL scheme" in result.stderr


def test_subprocess_error_has_no_traceback(tmp_path: Path) -> None:
    write_config(Path.cwd(), "postgresql://postgres@127.0.0.1:1/test")
    Path("migrations").mkdir()
    result = kysera_process("migrate", "status")
    assert_clean_error(result, 1, "error: cannot connect to PostgreSQL")
    assert result.stderr.count("\n") <= 2
    assert kysera_process("migrate", "status", "-v").stderr.count("Traceback") == 1


def test_json_errors(db_url: str) -> None:
    project(db_url, count=1)
    import json

    result = kysera("migrate", "up", "--to", "nope", "--json")
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert data["ok"] is False and "unknown migration" in data["error"] and data["exit_code"] == 2
    for usage in (["migrate", "up", "--steps", "0", "--json"], ["migrate", "upp", "--json"]):
        result = kysera(*usage)  # a usage error, found while the command line is parsed
        assert result.exit_code == 2
        data = json.loads(result.stdout)
        assert data["ok"] is False and data["error_type"] == "UsageError" and data["exit_code"] == 2
    for steps in ("abc", "0", "-1", "2.5"):
        result = kysera("migrate", "up", "--steps", steps)
        assert result.exit_code == 2
        assert "is not a number of migrations; give a whole number, 1 or more" in result.output



def test_a_usage_error_before_the_command_answers_json_and_hints_too(db_url: str) -> None:
    """A mistake in the options given before the command (`kysera --bogus --json migrate up`,
    `kysera --database-url X migrate up`) was parsed outside the handler that answers usage
    errors: no JSON document on stdout, and no hint where the same option after the command
    had one."""
    project(db_url, count=1)
    for args, fragment in (
        (["--bogus", "--json", "migrate", "up"], "No such option '--bogus'"),
        (["--json", "--url"], "Option '--url' requires an argument"),
        (["--json", "--database-url", db_url, "migrate", "up"], "Give the database with --url URL"),
    ):
        result = kysera(*args)
        assert_clean_error(result, 2, fragment)
        data = json.loads(result.stdout)
        assert data["ok"] is False and data["error_type"] == "UsageError" and data["exit_code"] == 2
        assert fragment in data["error"]
    assert_clean_error(kysera("--database-url", db_url, "migrate", "up"), 2, "Give the database with --url URL")
    assert tables(db_url) == set()

def test_a_failed_up_in_json_says_what_was_applied_before_it(db_url: str) -> None:
    import json

    folder = project(db_url, count=1)
    (folder / "20991231000000_broken.sql").write_text("-- migrate:up\nCREATE TABLE no_such_schema.x (id int);\n")
    result = kysera("migrate", "up", "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["error_type"] == "MigrationError"
    assert data["executed"] == [NAMES[0]] and data["failed"] == ["20991231000000_broken"]
    assert [step["status"] for step in data["steps"]] == ["executed", "failed"]


def test_create_errors() -> None:
    Path("migrations").mkdir()
    assert_clean_error(kysera("migrate", "create", "--", "--!!--"), 2, "has no letters a-z or digits 0-9")
    assert kysera("migrate", "create", "Add Users").exit_code == 0
    assert_clean_error(kysera("migrate", "create", "add_users"), 2, "already exists")
    assert len(list(Path("migrations").iterdir())) == 1


def test_bad_config_file() -> None:
    Path("migrations").mkdir()  # the URL's variables are expanded when it is used
    Path("kysera.toml").write_text("[database]\nurl = '${KYSERA_TEST_UNSET_VAR}'\n")
    assert_clean_error(kysera("migrate", "status"), 2, "KYSERA_TEST_UNSET_VAR")
    Path("kysera.toml").write_text("[database\n")
    assert_clean_error(kysera("migrate", "status"), 2, "not valid TOML")
    assert_clean_error(kysera("migrate", "status", "--config", "nope.toml"), 2, "'nope.toml' does not exist")
    assert "alembic.ini" not in kysera("migrate", "status").stderr
    Path("alembic.ini").write_text("[alembic]\nscript_location = migrations\nsqlalchemy.url = sqlite:///a.db\n")
    assert_clean_error(
        kysera("migrate", "status", "--config", "alembic.ini"),
        2,
        "alembic.ini is not valid TOML",
        "kysera's config file is a kysera.toml, or [tool.kysera] in pyproject.toml",
    )


def test_init_refuses_to_overwrite() -> None:
    assert kysera("init").exit_code == 0
    assert_clean_error(kysera("init"), 2, "already exists")
    assert kysera("init", "--force", "--url", "sqlite:///other.db").exit_code == 0
    assert 'url = "sqlite:///other.db"' in Path("kysera.toml").read_text()
    assert_clean_error(kysera("init", "--force", "--url", "bogus://x"), 2, "unknown database URL scheme")


def test_status_does_not_create_a_sqlite_file(tmp_path: Path) -> None:
    project(f"sqlite:///{tmp_path / 'later.db'}", count=2)
    assert status_json()["pending"] == NAMES[:2]
    assert kysera("migrate", "up", "--dry-run").exit_code == 0
    assert not (tmp_path / "later.db").exists()


def test_unknown_command_suggests_the_nearest() -> None:
    assert_clean_error(kysera("migrate", "upp"), 2, "No such command 'upp'; did you mean 'up'?")
    assert_clean_error(kysera("migrate", "stauts"), 2, "did you mean 'status'?")
    assert_clean_error(kysera("dbb"), 2, "did you mean 'db'?")
    assert_clean_error(kysera("migrate", "zzz"), 2, "No such command 'zzz'; the commands are ", "status")


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        # commands of Alembic, yoyo, Django, Flyway, goose, dbmate, golang-migrate, Atlas
        (["up"], "No such command 'up'; did you mean 'kysera migrate up'?"),
        (["status"], "did you mean 'kysera migrate status'?"),
        (["dump"], "use kysera db dump -o FILE"),
        (["db", "load", "x.sql"], "No such command 'load'; use kysera db restore FILE"),
        (["migrate", "upgrade", "head"], "No such command 'upgrade'; use kysera migrate up"),
        (["migrate", "migrate"], "did you mean 'kysera migrate up'?"),
        (["migrate", "rollback"], "use kysera migrate down (the last migration; --steps N, --to NAME or --all for more)"),
        (["migrate", "current"], "use kysera migrate status"),  # not difflib's 'create'
        (["migrate", "list"], "use kysera migrate status"),  # not difflib's 'lint'
        (["migrate", "force", "3"], "use kysera migrate resolve NAME"),  # not difflib's 'fresh'
        (["migrate", "stamp", "head"], "use kysera migrate mark-applied NAME... | --all | --to NAME"),
        (["migrate", "baseline"], "records migrations as applied without running them"),
        (["migrate", "validate"], "use kysera migrate status --check"),
        (["migrate", "new", "x"], "use kysera migrate create NAME (--sql for a .sql file)"),
        (["migrate", "break-lock"], "there is nothing to unlock"),
        # options
        (["migrate", "up", "--sql"], "No such option '--sql'. To print the SQL: kysera migrate sql"),
        (["migrate", "up", "--fake"], "To record migrations as applied without running them: kysera migrate mark-applied"),
        (["migrate", "up", "--baseline", "1"], "To adopt an existing database"),
        (["migrate", "up", "--plan"], "To see what would run: --dry-run."),
        (["migrate", "status", "--exit-code"], "For a CI gate: kysera migrate status --check"),
        (["migrate", "up", "--yes"], "migrate up never asks for confirmation"),
        (["migrate", "up", "-d", "sqlite:///x.db"], "Give the database with --url URL"),
        (["migrate", "up", "--migrations-dir", "db/migrations"], "[migrations] directory in kysera.toml"),
        (["migrate", "down", "-1"], "No such option '-1'. To roll back 1, use --steps 1."),
        # Kysera's (TypeScript) flags
        (["migrate", "up", "--count", "1"], "No such option '--count'. The number of migrations is --steps N."),
        (["migrate", "up", "-t", "001_a"], "No such option '-t'. The target is --to NAME"),
        (["migrate", "reset", "--force"], "No such option '--force'. To skip the confirmation, use --yes (-y)"),
        (["migrate", "down", "--all", "--force"], "To skip the confirmation, use --yes (-y)"),
        (["migrate", "fresh", "-f"], "To skip the confirmation, use --yes (-y)"),
        (["migrate", "reset", "--run"], "kysera migrate reset --yes, then kysera migrate up"),
        (["migrate", "up", "--schema", "tenant_x"], "add ?options=-csearch_path%3Dtenant_x to the URL"),
        (["db", "dump", "-o", "x.sql", "-s"], "the schema is the URL's database. For the tables without their rows: --schema-only."),
        (["migrate", "create", "users", "--template", "create-table"], "kysera migrate create has no templates"),
        (["migrate", "create", "users", "--directory", "db"], "[migrations] directory in kysera.toml"),
        (["migrate", "status", "--pending"], "kysera migrate status --json (keys pending and executed)"),
        (["migrate", "fresh", "--seed"], "kysera runs no seed files"),
        (["db", "restore", "x.sql", "--force"], "db restore asks no confirmation"),
        # positional arguments
        (["migrate", "up", "2"], "Got unexpected extra argument (2); to apply the next 2, use --steps 2"),
        (["migrate", "up", "head"], "migrate up applies every pending migration: leave out 'head'"),
        (["migrate", "up", "20260101000000"], "to apply up to a migration, use --to 20260101000000"),
        (["migrate", "up", "0003"], "to apply up to a migration, use --to 0003"),
        (["migrate", "down", "1"], "to roll back the last 1, use --steps 1"),
        (["migrate", "down", "base"], "to roll back every migration, use --all"),
        (["migrate", "create", "add", "users"], 'quote a name of several words: kysera migrate create "add users"'),
        (["migrate", "create", "add_users", "sql"], "for a .sql file, use --sql"),
        (["migrate", "create", "-m", "add users"], 'The name is an argument: kysera migrate create "add users".'),
        (["migrate", "create", "add_bio", "--autogenerate"], "kysera compares no models with the database: write the change in the up()"),
        (["init", "db/migrations"], "set [migrations] directory = 'db/migrations' in kysera.toml"),
    ],
)
def test_other_tools_habits_point_to_kyseras_way(args: list[str], hint: str) -> None:
    result = kysera(*args)
    assert_clean_error(result, 2, hint)
    assert not (Path.cwd() / "kysera.db").exists()


def test_other_tools_habits_in_json_and_unknown_targets(db_url: str) -> None:
    project(db_url, count=1)
    result = kysera("migrate", "up", "--json", "--fake")
    assert result.exit_code == 2 and "kysera migrate mark-applied" in json.loads(result.stdout)["error"]
    assert_clean_error(kysera("migrate", "up", "--to", "head"), 2, "unknown migration 'head'", "give no target")
    assert_clean_error(kysera("migrate", "down", "--to", "zero"), 2, "kysera migrate down --all")
    assert tables(db_url) == set()


def test_resolve_takes_one_answer(db_url: str) -> None:
    project(db_url, count=1)
    assert_clean_error(kysera("migrate", "resolve", NAMES[0], "--applied", "--rolled-back"), 2, "not both")
    assert_clean_error(kysera("migrate", "resolve", NAMES[0]), 2, "--applied or --rolled-back")


def test_out_of_order_names_the_cli_flag_and_the_flag_works(db_url: str) -> None:
    folder = project(db_url, count=2)
    assert kysera("migrate", "up").exit_code == 0
    body = (folder / f"{NAMES[1]}.py").read_text()
    (folder / "20260101120000_late.py").write_text(body.replace('"posts"', '"late_posts"').replace("idx_posts", "idx_late"))
    assert_clean_error(kysera("migrate", "up"), 1, "20260101120000_late", "--allow-out-of-order")
    status = kysera("migrate", "status")
    assert "20260101120000_late is pending but sorts before migrations already applied" in status.stdout
    assert "kysera migrate up --allow-out-of-order" in status.stdout
    result = kysera("migrate", "up", "--allow-out-of-order")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "late_posts" in tables(db_url)


def test_config_numbers_cannot_be_negative() -> None:
    Path("kysera.toml").write_text("[migrations]\nlock_timeout = -5\n")
    assert_clean_error(kysera("migrate", "status"), 2, "kysera.toml", "migrations.lock_timeout must be 0 or more")
    Path("kysera.toml").write_text("[migrations]\nallow_out_of_order = 'yes'\n")
    assert_clean_error(kysera("migrate", "status"), 2, "allow_out_of_order must be true or false")


@pytest.mark.parametrize("url", ["postgresql://", "mysql:///", "postgresql://postgres@127.0.0.1"])
def test_a_server_url_must_name_its_database(url: str) -> None:
    """Without one the driver picks a default (PostgreSQL: the user's name): never migrate that."""
    Path("migrations").mkdir()
    assert_clean_error(kysera("migrate", "up", "--url", url), 2, "names no database", "from --url")


def test_url_errors_say_where_the_url_came_from(monkeypatch: pytest.MonkeyPatch) -> None:
    Path("migrations").mkdir()
    monkeypatch.setenv("DATABASE_URL", "postgress://x/y")
    assert_clean_error(kysera("migrate", "status"), 2, "unknown database URL scheme", "from DATABASE_URL")


def test_a_file_that_is_not_a_sqlite_database_is_named() -> None:
    Path("migrations").mkdir()
    Path("junk.db").write_text("junk")
    assert_clean_error(kysera("migrate", "status", "--url", "sqlite:///junk.db"), 1, "junk.db is not a SQLite database")


def test_a_sqlite_database_locked_by_another_connection_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    import kysera.dialects.sqlite as sqlite_dialect

    monkeypatch.setattr(sqlite_dialect, "BUSY_TIMEOUT", 0.2)
    Path("migrations").mkdir()
    holder = sqlite3.connect("held.db", isolation_level=None)
    holder.execute("CREATE TABLE x (a integer)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        assert_clean_error(kysera("migrate", "status", "--url", "sqlite:///held.db"), 1, "held.db is locked", "another connection")
    finally:
        holder.close()


def test_a_read_only_sqlite_database_is_named_and_not_blamed_on_the_migration() -> None:
    """A database that refuses writes (mode=ro here; a file without write permission, a read-only
    folder or mount alike) failed the migration with SQLite's bare "attempt to write a readonly
    database" and "Fix it and run the migrations again", as if the migration were wrong."""
    import os

    Path("migrations").mkdir()
    for name in ("001_a", "002_b"):
        table = name[-1]
        Path(f"migrations/{name}.sql").write_text(f"-- migrate:up\nCREATE TABLE {table} (id integer);\n-- migrate:down\nDROP TABLE {table};\n")
    assert kysera("migrate", "up", "--to", "001_a", "--url", "sqlite:///app.db").exit_code == 0
    urls = ["sqlite:///app.db?mode=ro"]
    if os.geteuid() != 0:  # root writes whatever the permissions say
        os.chmod("app.db", 0o444)
        urls.append("sqlite:///app.db")
    for url in urls:
        for command in (["up"], ["down"]):
            result = kysera("migrate", *command, "--url", url)
            assert_clean_error(result, 1, "app.db is read-only", "Nothing in the migration is wrong")
            assert "Fix it" not in result.stderr, result.stderr
    os.chmod("app.db", 0o644)
    status = json.loads(kysera("migrate", "status", "--json", "--url", "sqlite:///app.db").stdout)
    assert status["executed"] == ["001_a"] and status["pending"] == ["002_b"]  # nothing half-recorded


def test_create_refuses_a_name_too_long_for_a_file() -> None:
    Path("migrations").mkdir()
    assert_clean_error(kysera("migrate", "create", "x" * 300), 2, "300 characters long", "200 at most")
    assert not list(Path("migrations").iterdir())


def test_config_option_naming_a_folder() -> None:
    Path("conf").mkdir()
    assert_clean_error(kysera("migrate", "status", "--config", "conf"), 2, "is a folder", "kysera.toml")


def test_history_table_in_a_schema_that_does_not_exist(db_url: str, engine: str) -> None:
    project(db_url, count=1)
    Path("kysera.toml").write_text(Path("kysera.toml").read_text() + '\n[migrations]\ntable = "nosuchschema.hist"\n')
    if engine == "sqlite":  # a dotted name is an attached database there: was a bare "unknown database"
        assert_clean_error(kysera("migrate", "up"), 2, "SQLite has no schemas", "without 'nosuchschema.'")
    else:
        assert_clean_error(kysera("migrate", "up"), 2, "schema 'nosuchschema', which does not exist", "create_schema")
    assert "users" not in tables(db_url)


def test_a_refused_confirmation_answers_in_json_too(db_url: str) -> None:
    import json

    project(db_url, count=1)
    assert kysera("migrate", "up").exit_code == 0
    result = kysera("migrate", "reset", "--json", input="")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["ok"] is False
    assert status_json()["executed"] == [NAMES[0]]


def test_init_refuses_a_url_no_command_would_take() -> None:
    assert_clean_error(kysera("init", "--url", "postgresql://localhost"), 2, "names no database")
    assert not Path("kysera.toml").exists()
    # a MySQL option the driver would refuse: said with where the URL came from, before connecting
    assert_clean_error(kysera("init", "--url", "mysql://root@h/db?foo=1"), 2, "unknown option foo", "(the URL comes from --url)")
    assert not Path("kysera.toml").exists()


def test_ctrl_c_says_where_to_look_and_exits_130(tmp_path: Path) -> None:
    from .conftest import KYSERA

    write_config(tmp_path, f"sqlite:///{tmp_path / 'app.db'}")
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "001_slow.py").write_text(
        "import time\n\ndef up(db):\n    db.schema.create_table('a').add_column('id', 'integer').execute()\n"
        "    if not db.capturing:\n        time.sleep(30)\n"
    )
    from ..conftest import interrupted

    code, stderr = interrupted([KYSERA, "migrate", "up"], tmp_path)
    assert code == 130
    assert "interrupted while 001_slow was running (up): it rolled back, nothing of it remains" in stderr, stderr
    assert "no migration had finished" in stderr and "Traceback" not in stderr
    status = kysera_process("migrate", "status", cwd=tmp_path)
    assert "1 pending" in status.stdout  # its transaction rolled back: nothing of it remains


SLOW = "20260109000000_slow"


def _stopped(args: list[str], cwd: Path, signum: int, started: Path) -> tuple[int, str, str]:
    """Run a command, send it ``signum`` once ``started`` exists: exit code, stdout, stderr."""
    import signal
    import subprocess
    import time

    child = subprocess.Popen(
        args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # a terminal's Ctrl-C
    )
    deadline = time.monotonic() + 60
    while not started.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    child.send_signal(signum)
    stdout, stderr = child.communicate(timeout=60)
    return child.returncode, stdout, stderr


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT"])
def test_a_ci_timeout_stops_up_as_ctrl_c_does_and_json_says_what_ran(
    db_url: str, engine: str, signame: str
) -> None:
    """A CI job's timeout sends SIGTERM: kysera died at once, saying nothing (exit 143, no JSON for
    the deploy script; Ctrl-C with --json printed no JSON either). Now both stop the run, say
    what became of it, and print the --json document."""
    import signal

    from .conftest import KYSERA

    folder = project(db_url, count=1)
    here = Path.cwd()
    (folder / f"{SLOW}.py").write_text(
        "import os, pathlib, time\n\ndef up(db):\n"
        "    db.schema.create_table('slow_t').add_column('id', 'integer').execute()\n"
        "    if not db.capturing and os.path.exists('hold'):\n"
        "        pathlib.Path('started').touch()\n        time.sleep(30)\n\n"
        "def down(db):\n    db.schema.drop_table('slow_t').execute()\n"
    )
    (here / "hold").touch()
    signum = getattr(signal, signame)
    code, stdout, stderr = _stopped([KYSERA, "migrate", "up", "--json"], here, signum, here / "started")
    wanted = 143 if signame == "SIGTERM" else 130
    assert code == wanted, stderr
    said = "terminated (SIGTERM)" if signame == "SIGTERM" else "interrupted"
    assert f"error: {said} while {SLOW} was running (up" in stderr and "Traceback" not in stderr, stderr
    document = json.loads(stdout)  # stdout holds the document and nothing else
    assert document["ok"] is False and document["exit_code"] == wanted
    assert document["error_type"] == ("Terminated" if signame == "SIGTERM" else "Interrupted")
    assert document["executed"] == [NAMES[0]] and document["interrupted"] == SLOW
    status = status_json()
    assert status["executed"] == [NAMES[0]]
    if engine == "mysql":  # DDL committed: recorded as interrupted, for resolve
        assert status["failed"] == [SLOW]
        return
    assert status["pending"] == [SLOW] and "slow_t" not in tables(db_url)  # rolled back
    (here / "hold").unlink()
    result = kysera("migrate", "up", "--json")  # the CI job's next run goes on
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["executed"] == [SLOW]


@pytest.mark.parametrize("engine", ["postgres", "mysql"], indirect=True)
def test_an_interrupted_statement_does_not_run_on_in_the_server(db_url: str, engine: str) -> None:
    """Ctrl-C or a CI's SIGTERM cut PyMySQL off in the middle of a statement, but MariaDB ran it on
    to its end (an ALTER TABLE: for hours), holding the migration lock: right after kysera said
    "recorded as interrupted ... check the database, then resolve", status said the migration was
    "running now: let it finish", and resolve or the next run waited. psycopg cancels by itself."""
    import signal

    from .conftest import KYSERA

    folder = project(db_url, count=1)
    here = Path.cwd()
    sleep = "SELECT pg_sleep(30)" if engine == "postgres" else "SELECT SLEEP(30)"
    (folder / f"{SLOW}.py").write_text(
        "import pathlib, threading\nfrom kysera import sql\n\ndef up(db):\n"
        "    db.schema.create_table('slow_t').add_column('id', 'integer').execute()\n"
        "    if not db.capturing:\n"
        "        threading.Timer(0.5, pathlib.Path('started').touch).start()  # the statement runs by then\n"
        f"        db.execute(sql({sleep!r}))\n\n"
        "def down(db):\n    db.schema.drop_table('slow_t').execute()\n"
    )
    code, _, stderr = _stopped([KYSERA, "migrate", "up"], here, signal.SIGTERM, here / "started")
    assert code == 143, stderr
    status = status_json()
    assert status["running_now"] == [] and status["lock_holder"] is None, status
    assert status["failed" if engine == "mysql" else "pending"] == [SLOW]
    mine = "db = DATABASE()" if engine == "mysql" else "datname = current_database()"
    where = "information_schema.processlist WHERE info" if engine == "mysql" else "pg_stat_activity WHERE query"
    with connect(db_url) as db:  # the statement the run was in ended with it
        assert db.fetch(f"SELECT 1 FROM {where} = '{sleep}' AND {mine}") == []


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_sigterm_that_comes_as_a_migration_commits_counts_it_applied(db_url: str) -> None:
    """Python raises a signal's exception once the call it came during returns; during a step's
    COMMIT (SQLite's fsync: a good part of each migration's time), that is after it committed.
    kysera said the migration 'rolled back, nothing of it remains' and --json named it as the
    interrupted one, while the history held it applied: about one SIGTERM in five over a run of
    fast migrations. Here the COMMIT waits for a reader while the signal comes."""
    import signal
    import sqlite3
    import subprocess
    import time

    from .conftest import KYSERA

    folder = project(db_url, count=1)
    here = Path.cwd()
    (folder / f"{SLOW}.py").write_text(
        "import os, pathlib, time\n\ndef up(db):\n"
        "    db.schema.create_table('slow_t').add_column('id', 'integer').execute()\n"
        "    if not db.capturing:\n"
        "        pathlib.Path('started').touch()\n"
        "        while not os.path.exists('go'):\n            time.sleep(0.01)\n\n"
        "def down(db):\n    db.schema.drop_table('slow_t').execute()\n"
    )
    child = subprocess.Popen(
        [KYSERA, "migrate", "up", "--json"], cwd=here, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while not (here / "started").exists():
        assert child.poll() is None and time.monotonic() < deadline, child.communicate()
        time.sleep(0.01)
    reader = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM kysera_migrations").fetchall()  # its COMMIT now waits for this reader
    (here / "go").touch()
    time.sleep(0.5)
    child.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    reader.execute("ROLLBACK")
    reader.close()
    stdout, stderr = child.communicate(timeout=60)
    assert child.returncode == 143, stderr
    assert "rolled back" not in stderr and "the 2 migrations it finished before stay applied" in stderr, stderr
    document = json.loads(stdout)
    assert document["executed"] == [NAMES[0], SLOW] and document["interrupted"] is None
    assert status_json()["executed"] == [NAMES[0], SLOW]


def test_a_sigterm_after_the_json_document_adds_no_second_one(db_url: str) -> None:
    """A SIGTERM that comes once `migrate up --json` has printed its result (as the command ends:
    here while it writes the migrations' code cache) printed a second document after it, so the
    deploy script's JSON parser failed on stdout ('Extra data')."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from .conftest import KYSERA

    folder = project(db_url, count=1)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # the cache is written
    child = subprocess.Popen(
        [KYSERA, "migrate", "up", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    # the cache's temporary file, made a FIFO: writing it waits for a reader that never comes
    fifo = folder / "__pycache__" / f"kysera-migrations.{sys.implementation.cache_tag}.bin.{child.pid}.tmp"
    fifo.parent.mkdir(exist_ok=True)
    os.mkfifo(fifo)
    deadline = time.monotonic() + 60
    while status_json().get("executed") != [NAMES[0]]:
        assert child.poll() is None and time.monotonic() < deadline, child.communicate()
        time.sleep(0.05)
    time.sleep(0.3)
    child.send_signal(signal.SIGTERM)
    stdout, stderr = child.communicate(timeout=60)
    fifo.unlink()
    assert json.loads(stdout)["executed"] == [NAMES[0]]  # the one document the command printed
    assert child.returncode == 143, stderr
    assert "terminated (SIGTERM) while no migration was running" in stderr, stderr


def test_ctrl_c_during_lint_or_sql_says_they_change_nothing(db_url: str) -> None:
    """lint (or migrate sql), stopped while it analysed a slow migration, said "a migration that was running
    rolled back ... on MySQL/MariaDB it may be partly applied", the words for migrate up, about
    a command that never applies anything: a user would go and check the database for nothing."""
    import signal

    from .conftest import KYSERA

    folder = project(db_url, count=1)
    here = Path.cwd()
    (folder / f"{SLOW}.py").write_text(
        "import pathlib, time\n\ndef up(db):\n"
        "    db.schema.create_table('slow_t').add_column('id', 'integer').execute()\n"
        "    pathlib.Path('started').touch()\n    time.sleep(30)\n\n"
        "def down(db):\n    db.schema.drop_table('slow_t').execute()\n"
    )
    code, stdout, stderr = _stopped([KYSERA, "migrate", "lint", "--json"], here, signal.SIGINT, here / "started")
    assert code == 130, stderr
    assert "interrupted: the lint stopped before its report; it changes nothing in the database" in stderr, stderr
    assert "partly applied" not in stderr and "Traceback" not in stderr
    data = json.loads(stdout)
    assert data["error_type"] == "Interrupted" and "changes nothing" in data["error"]
    assert tables(db_url) == set()
    (here / "started").unlink()
    dialect = db_url.partition(":")[0].replace("postgresql", "postgres")
    code, stdout, stderr = _stopped(
        [KYSERA, "--json", "migrate", "sql", "--dialect", dialect], here, signal.SIGINT, here / "started"
    )
    assert code == 130 and "interrupted: the script was not written (migrate sql contacts no database)" in stderr, stderr
    assert stdout == ""
