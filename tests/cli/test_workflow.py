"""The guide's CLI workflow and the migrate commands' flags, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from kysera import connect

from .conftest import KYSERA, assert_clean_error, kysera, kysera_process, write_config

USERS = '''\
from kysera import Database, sql


def up(db: Database) -> None:
    (
        db.schema.create_table("users")
        .add_column("id", "serial", lambda col: col.primary_key())
        .add_column("email", "varchar(255)", lambda col: col.not_null().unique())
        .add_column("created_at", "timestamp", lambda col: col.not_null().default_to(sql("CURRENT_TIMESTAMP")))
        .execute()
    )
    db.insert_into("users").values({"email": "o'brien@example.com"}).execute()


def down(db: Database) -> None:
    db.schema.drop_table("users").execute()
'''

POSTS = '''\
from kysera import Database


def up(db: Database) -> None:
    (
        db.schema.create_table("posts")
        .add_column("id", "serial", lambda col: col.primary_key())
        .add_column("title", "varchar(255)", lambda col: col.not_null())
        .execute()
    )
    db.schema.create_index("idx_posts_title").on("posts").column("title").execute()


def down(db: Database) -> None:
    db.schema.drop_table("posts").execute()
'''

COMMENTS_SQL = """\
-- migrate:up
CREATE TABLE comments (id integer PRIMARY KEY, body varchar(200));
-- migrate:down
DROP TABLE comments;
"""

NAMES = ["20260101000000_create_users", "20260102000000_create_posts", "20260103000000_create_comments"]


def project(url: str, count: int = 3) -> Path:
    """kysera.toml pointing at ``url`` and ``count`` migrations, in the current folder."""
    here = Path.cwd()
    write_config(here, url)
    folder = here / "migrations"
    folder.mkdir(exist_ok=True)
    for name, body in list(zip(NAMES, (USERS, POSTS, COMMENTS_SQL), strict=True))[:count]:
        (folder / f"{name}.{'sql' if body is COMMENTS_SQL else 'py'}").write_text(body)
    return folder


def tables(url: str) -> set[str]:
    from kysera.dialects.catalog import list_tables

    with connect(url) as db:
        return set(list_tables(db))


def status_json(*extra: str) -> dict[str, object]:
    result = kysera("migrate", "status", "--json", *extra)
    assert result.exit_code == 0, result.stderr
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_guide_workflow(db_url: str) -> None:
    """init -> create -> up -> status -> down --steps 1 -> status, as the user's guide shows it."""
    result = kysera("init", "--url", db_url)
    assert result.exit_code == 0, result.stderr
    assert Path("kysera.toml").is_file() and Path("migrations").is_dir()
    result = kysera("migrate", "create", "add_users_table")
    assert result.exit_code == 0, result.stderr
    path = Path(result.stdout.split()[-1])
    assert path.parent.name == "migrations" and path.name.endswith("_add_users_table.py")
    path.write_text(USERS)
    kysera("migrate", "create", "create posts")
    posts = sorted(Path("migrations").glob("*_create_posts.py"))[0]
    posts.write_text(POSTS)

    result = kysera("migrate", "up")
    assert result.exit_code == 0, result.stderr
    assert "applied" in result.stdout and "Applied 2 migrations" in result.stdout
    assert {"users", "posts", "kysera_migrations"} <= tables(db_url)

    result = kysera("migrate", "status")
    assert result.exit_code == 0
    assert path.stem in result.stdout and "2 applied, 0 pending" in result.stdout

    result = kysera("migrate", "down", "--steps", "1")
    assert result.exit_code == 0, result.stderr
    assert f"reverted  {posts.stem}" in result.stdout
    assert "posts" not in tables(db_url) and "users" in tables(db_url)

    data = status_json()
    assert data["executed"] == [path.stem]
    assert data["pending"] == [posts.stem]
    assert data["total"] == 2


def test_up_dry_run_changes_nothing(db_url: str) -> None:
    project(db_url)
    result = kysera("migrate", "up", "--dry-run")
    assert result.exit_code == 0, result.stderr
    script = result.stdout
    for name in NAMES:
        assert f"-- {name} (up)" in script
    assert "o''brien@example.com" in script  # parameters rendered inline, quoted
    assert "CREATE TABLE comments (id integer PRIMARY KEY, body varchar(200));" in script
    assert script.index(NAMES[0]) < script.index(NAMES[1]) < script.index(NAMES[2])
    assert tables(db_url) == set()  # not even the history table

    kysera("migrate", "up", "--steps", "1")
    before = tables(db_url)
    result = kysera("migrate", "down", "--dry-run", "--all")
    assert result.exit_code == 0, result.stderr
    assert f"-- {NAMES[0]} (down)" in result.stdout and "DROP TABLE" in result.stdout
    assert tables(db_url) == before
    assert status_json()["executed"] == [NAMES[0]]


WIDEN_EMAIL = """\
from kysera import Database


def up(db: Database) -> None:
    db.schema.alter_table("users").alter_column("email", lambda col: col.set_data_type("varchar(300)")).execute()


def down(db: Database) -> None:
    db.schema.alter_table("users").alter_column("email", lambda col: col.set_data_type("varchar(255)")).execute()
"""


def test_sqlite_dry_run_of_a_change_to_a_table_the_plan_creates(tmp_path: Path) -> None:
    """The guide's "use dry run first" on the default engine: changing a column's type rebuilds
    the table on SQLite, which the dry run can show although the table does not exist yet."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    folder = project(url, count=1)
    (folder / "20260104000000_widen_email.py").write_text(WIDEN_EMAIL)
    result = kysera("migrate", "up", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "-- 20260104000000_widen_email (up)" in result.stdout and "varchar(300)" in result.stdout
    assert tables(url) == set()


def test_steps_and_to(db_url: str) -> None:
    project(db_url)
    assert kysera("migrate", "up", "--steps", "1").exit_code == 0
    assert status_json()["executed"] == NAMES[:1]
    assert kysera("migrate", "up", "--to", NAMES[1]).exit_code == 0
    assert status_json()["executed"] == NAMES[:2]
    assert kysera("migrate", "up").exit_code == 0
    assert kysera("migrate", "down", "--to", NAMES[0]).exit_code == 0
    assert status_json()["executed"] == NAMES[:1]
    # a target that is where the database already is: nothing to do, and the message says why
    again = kysera("migrate", "up", "--to", NAMES[0])
    assert again.exit_code == 0 and f"Nothing to apply: {NAMES[0]} is applied already." in again.stdout
    again = kysera("migrate", "down", "--to", NAMES[0])
    assert again.exit_code == 0 and f"Nothing to roll back: no migration was applied after {NAMES[0]}." in again.stdout
    result = kysera("migrate", "up", "--json")
    data = json.loads(result.stdout)
    assert data["executed"] == NAMES[1:] and data["ok"] is True
    result = kysera("migrate", "down", "--steps", "2", "--json")
    assert json.loads(result.stdout)["executed"] == [NAMES[2], NAMES[1]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["up", "--steps", "0"], "0 is not a number of migrations; give a whole number, 1 or more"),
        (["up", "--steps", "-2"], "-2 is not a number of migrations"),
        (["down", "--steps", "abc"], "'abc' is not a number of migrations"),
        (["up", "--steps", "1", "--to", NAMES[0]], "--steps and --to cannot be used together"),
        (["down", "--all", "--steps", "1"], "cannot be used together"),
        (["resolve", NAMES[0]], "--applied or --rolled-back"),
        (["mark-applied"], "--all"),
    ],
)
def test_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    project(f"sqlite:///{tmp_path / 'u.db'}")
    result = kysera("migrate", *args)
    assert_clean_error(result, 2, message)
    assert not (tmp_path / "u.db").exists()


def test_status_check(db_url: str) -> None:
    folder = project(db_url, count=2)
    result = kysera("migrate", "status", "--check")
    assert_clean_error(result, 1, "check failed: 2 pending")
    assert kysera("migrate", "up").exit_code == 0
    assert kysera("migrate", "status", "--check").exit_code == 0
    # an applied migration edited afterwards
    path = folder / f"{NAMES[1]}.py"
    path.write_text(path.read_text() + "\n# edited\n")
    result = kysera("migrate", "status", "--check", "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["changed"] == [NAMES[1]]
    assert {m["name"]: m["state"] for m in data["migrations"]}[NAMES[1]] == "changed"  # type: ignore[index]
    first = data["migrations"][0]  # type: ignore[index]
    assert {"name", "state", "applied_at"} <= set(first) and first["applied_at"]


def test_drift_refused_then_accepted(db_url: str) -> None:
    folder = project(db_url, count=2)
    assert kysera("migrate", "up", "--steps", "1").exit_code == 0
    path = folder / f"{NAMES[0]}.py"
    path.write_text(path.read_text() + "\n# edited\n")
    result = kysera("migrate", "up")
    assert_clean_error(result, 1, "changed since", f"kysera migrate accept {NAMES[0]}")
    assert "posts" not in tables(db_url)
    result = kysera("migrate", "accept", NAMES[0])
    assert result.exit_code == 0, result.stderr
    assert "Accepted" in result.stdout
    assert kysera("migrate", "up").exit_code == 0
    assert "posts" in tables(db_url)


def test_status_of_a_renamed_applied_migration_gives_the_fix_up_gives(db_url: str) -> None:
    """Its advice for the missing name was to accept it, which alone would run the renamed file again."""
    folder = project(db_url, count=2)
    assert kysera("migrate", "up").exit_code == 0
    renamed = "20260102000000_create_post"
    (folder / f"{NAMES[1]}.py").rename(folder / f"{renamed}.py")
    result = kysera("migrate", "status")
    assert result.exit_code == 0, result.stderr
    assert f"its contents are in {renamed}, which is pending" in result.stdout
    assert f"kysera migrate accept {NAMES[1]}, then kysera migrate mark-applied {renamed}" in result.stdout
    assert kysera("migrate", "accept", NAMES[1]).exit_code == 0
    assert kysera("migrate", "mark-applied", renamed).exit_code == 0
    assert kysera("migrate", "status", "--check").exit_code == 0


def test_redo(db_url: str) -> None:
    project(db_url, count=2)
    assert kysera("migrate", "up").exit_code == 0
    result = kysera("migrate", "redo")
    assert result.exit_code == 0, result.stderr
    assert f"reverted  {NAMES[1]}" in result.stdout and f"applied   {NAMES[1]}" in result.stdout
    assert status_json()["executed"] == NAMES[:2]
    dry = kysera("migrate", "redo", "--dry-run")
    assert f"-- {NAMES[1]} (down)" in dry.stdout and f"-- {NAMES[1]} (up)" in dry.stdout
    assert "-- dry run: 1 migration would run; nothing was changed" in dry.stdout  # not "2 migrations"


def test_redo_dry_run_prints_the_findings_its_verdict_points_to(db_url: str) -> None:
    """The verdict of a refused redo --dry-run says "see above", as up's does: the finding
    must be above it, on stderr, once."""
    import textwrap

    write_config(Path.cwd(), db_url)
    folder = Path.cwd() / "migrations"
    folder.mkdir()
    (folder / "20260201000000_users.py").write_text(textwrap.dedent(EXPAND_BACKFILL_CONTRACT["20260201000000_users.py"]))
    (folder / "20260202000000_drop_email.py").write_text(textwrap.dedent("""\
        allow_unsafe = ["KS102"]
        def up(db):
            db.schema.alter_table("users").drop_column("email").execute()
        def down(db):
            db.schema.alter_table("users").add_column("email", "varchar(255)").execute()
        """))
    assert kysera("migrate", "up").exit_code == 0
    path = folder / "20260202000000_drop_email.py"
    path.write_text(path.read_text().replace('allow_unsafe = ["KS102"]\n', ""))  # redo takes the edit
    result = kysera("migrate", "redo", "--dry-run")
    assert result.exit_code == 1, result.stderr
    assert "the real run would refuse to run: 1 unsafe change in 20260202000000_drop_email (KS102, see above)" in result.stdout
    assert result.stderr.count("KS102 drop-column") == 1
    assert kysera("migrate", "redo", "--dry-run", "--allow-unsafe").stderr.count("KS102 drop-column") == 1


def test_confirmation_refused_without_a_terminal(db_url: str) -> None:
    project(db_url, count=2)
    assert kysera("migrate", "up").exit_code == 0
    before = tables(db_url)
    for args in (["down", "--all"], ["reset"], ["fresh"]):
        result = kysera("migrate", *args)
        assert_clean_error(result, 2, "without confirmation", "--yes")
        assert tables(db_url) == before
        assert status_json()["executed"] == NAMES[:2]
    assert kysera("migrate", "down", "--steps", "1").exit_code == 0  # not everything: no question
    assert status_json()["executed"] == NAMES[:1]
    assert kysera("migrate", "up").exit_code == 0
    # --steps covering everything asks only on a terminal: a script's number is meant
    assert kysera("migrate", "down", "--steps", "5").exit_code == 0
    assert status_json()["executed"] == []
    assert kysera("migrate", "up").exit_code == 0
    result = kysera("migrate", "down", "--all", "--yes")
    assert result.exit_code == 0, result.stderr
    assert status_json()["executed"] == []


def test_reset_and_fresh(db_url: str) -> None:
    project(db_url)
    assert kysera("migrate", "up").exit_code == 0
    result = kysera("migrate", "reset", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "Rolled back 3 migrations" in result.stdout
    assert tables(db_url) == {"kysera_migrations"}

    assert kysera("migrate", "up").exit_code == 0
    with connect(db_url) as db:  # a table no migration knows about, referencing one that does
        db.execute("CREATE TABLE stray (id integer PRIMARY KEY, user_id integer REFERENCES users(id))")
    result = kysera("migrate", "fresh", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "Dropped 5 tables" in result.stdout and "Applied 3 migrations" in result.stdout
    assert "stray" not in tables(db_url)
    assert status_json()["executed"] == NAMES


def test_fresh_drops_what_another_run_made_while_it_waited_for_the_lock(db_url: str) -> None:
    """fresh lists what to drop, then waits for the migration lock held by a deploy under way: it
    drops what is there once it has the lock, not the list from before, or the migrations it
    applies next would find their tables already made."""
    import os
    import subprocess

    from kysera.dialects.locks import migration_lock
    from kysera.migrations import create_migration_runner, load_migrations

    from .conftest import KYSERA

    folder = project(db_url, count=2)
    write_config(Path.cwd(), db_url, "[migrations]\nlock_timeout = 60\n")
    assert kysera("migrate", "up", "--steps", "1").exit_code == 0
    env = {k: v for k, v in os.environ.items() if k not in ("KYSERA_DATABASE_URL", "DATABASE_URL", "KYSERA_ENV")}
    with connect(db_url) as db:
        lock = migration_lock(db, create_migration_runner(db, load_migrations(folder)).history.node)
        lock.acquire(5)
        proc = subprocess.Popen(
            [KYSERA, "migrate", "fresh", "--yes"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        try:
            assert proc.stderr is not None
            waiting = proc.stderr.readline()
            assert "waiting for the migration lock" in waiting, waiting
            # what the run holding the lock does meanwhile: it applies the second migration
            db.execute("CREATE TABLE posts (id integer PRIMARY KEY, title varchar(255) NOT NULL)")
        finally:
            lock.release()
        stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stdout + stderr
    assert "another run made posts: dropped too" in stderr
    assert "Dropped 3 tables" in stdout and "Applied 2 migrations" in stdout
    assert status_json()["executed"] == NAMES[:2]


def test_fresh_cut_off_while_dropping_leaves_no_history_of_what_it_dropped(db_url: str, engine: str) -> None:
    """fresh drops kysera's history table first: killed part-way through its drops, it used to
    leave the history saying migrations were applied whose tables it had dropped already (it
    dropped in name order, so `accounts` went before `kysera_migrations`), and status and up then
    reported all applied, nothing to do."""
    import os
    import signal
    import subprocess
    import time

    from .conftest import KYSERA

    write_config(Path.cwd(), db_url)
    folder = Path.cwd() / "migrations"
    folder.mkdir()
    for i, table in enumerate(("accounts", "comments", "users"), 1):
        (folder / f"00{i}_{table}.sql").write_text(
            f"-- migrate:up\nCREATE TABLE {table} (id integer PRIMARY KEY);\n-- migrate:down\nDROP TABLE {table};\n"
        )
    assert kysera("migrate", "up").exit_code == 0
    env = {k: v for k, v in os.environ.items() if k not in ("KYSERA_DATABASE_URL", "DATABASE_URL", "KYSERA_ENV")}
    if engine == "sqlite":  # one lock for the whole file: no single drop can be held up; the order says it
        run = kysera_process("-v", "migrate", "fresh", "--yes")
        assert run.returncode == 0, run.stderr
        dropped = [line.split()[1] for line in run.stderr.splitlines() if line.startswith("dropped ")]
        assert dropped[0] == "kysera_migrations", dropped
        return
    with connect(db_url) as blocker, blocker.transaction():
        # another session uses `comments`: fresh's DROP of it waits, and is killed there
        blocker.execute("LOCK TABLE comments IN ACCESS SHARE MODE" if engine == "postgres" else "SELECT * FROM comments")
        proc = subprocess.Popen([KYSERA, "-v", "migrate", "fresh", "--yes"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            deadline = time.monotonic() + 30
            while "accounts" in tables(db_url):  # it has dropped what comes before `comments`
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
            time.sleep(0.3)
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    time.sleep(0.5)  # the server session of the killed run ends with its DROP
    left = tables(db_url)
    assert "accounts" not in left
    if "kysera_migrations" in left:
        with connect(db_url) as db:
            recorded = [str(r["name"]) for r in db.fetch("SELECT name FROM kysera_migrations")]
        assert all(name.split("_", 1)[1] in left for name in recorded), (recorded, left)
    status = kysera("migrate", "status", "--json")
    assert "001_accounts" not in json.loads(status.stdout)["executed"], status.stdout
    rerun = kysera("migrate", "fresh", "--yes")
    assert rerun.exit_code == 0, rerun.stderr
    assert tables(db_url) == {"accounts", "comments", "users", "kysera_migrations"}


OBJECTS = """\
from kysera import Database, enum_type, sql


def up(db: Database) -> None:
    db.schema.create_view("v_users").as_(db.select_from("users")).execute()
    if db.dialect.name == "postgres":
        db.schema.create_type("mood").as_enum(["ok", "meh"]).execute()
        db.schema.create_sequence("ticket_no").execute()
        db.execute("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$")
        db.execute("CREATE DOMAIN positive AS integer CHECK (VALUE > 0)")
        db.schema.create_view("mv_users").materialized().as_(db.select_from("users")).execute()
        db.execute('CREATE COLLATION ci_words (provider = icu, locale = "und-u-ks-level2", deterministic = false)')
    elif db.dialect.name == "mysql":
        db.schema.create_sequence("ticket_no").execute()
        db.execute("CREATE PROCEDURE noop() BEGIN END")
        db.execute("CREATE FUNCTION one() RETURNS integer DETERMINISTIC RETURN 1")
"""


def test_fresh_drops_what_migrations_made_besides_tables(db_url: str) -> None:
    """Views, enum types, sequences, domains, routines and collations would make the migrations that create
    them fail on the way back up; fresh drops them too, and says what it dropped."""
    folder = project(db_url)
    (folder / "20260104000000_objects.py").write_text(OBJECTS)
    assert kysera("migrate", "up").exit_code == 0
    result = kysera("migrate", "fresh", "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "Applied 4 migrations" in result.stdout
    assert "1 view" in result.stdout or "2 views" in result.stdout
    if "postgresql" in db_url:
        assert all(kind in result.stdout for kind in ("materialized view", "1 type", "1 sequence", "1 function", "1 domain", "1 collation"))
    elif "mysql" in db_url:
        assert all(kind in result.stdout for kind in ("1 sequence", "1 procedure", "1 function"))
    assert status_json()["executed"] == [*NAMES, "20260104000000_objects"]


def test_mark_applied(db_url: str) -> None:
    project(db_url)
    result = kysera("migrate", "mark-applied", "--to", NAMES[1])
    assert result.exit_code == 0, result.stderr
    assert status_json()["executed"] == NAMES[:2]
    assert tables(db_url) == {"kysera_migrations"}  # nothing ran
    result = kysera("migrate", "mark-applied", "--all", "--json")
    assert json.loads(result.stdout)["marked"] == [NAMES[2]]
    result = kysera("migrate", "mark-applied", NAMES[0])
    assert "already applied" in result.stdout
    assert_clean_error(kysera("migrate", "mark-applied", "nope"), 2, "unknown migration 'nope'")


def test_names_as_migrate_create_was_given_them(db_url: str) -> None:
    """NAME may be what `migrate create` was given, the version alone or the file name, when
    only one migration has it; an ambiguous one names the candidates, an unknown one is refused."""
    folder = project(db_url)
    assert kysera("migrate", "up", "--to", "create_posts").exit_code == 0
    assert status_json()["executed"] == NAMES[:2]
    result = kysera("migrate", "down", "--to", "20260101000000", "--dry-run")
    assert result.exit_code == 0 and f"-- {NAMES[1]} (down)" in result.stdout
    assert kysera("migrate", "down", "--to", "create_users").exit_code == 0
    assert status_json()["executed"] == NAMES[:1]
    assert kysera("migrate", "mark-applied", f"migrations/{NAMES[1]}.py").exit_code == 0
    assert kysera("migrate", "mark-applied", f"migrations/{NAMES[1]}").stdout.startswith("Nothing to mark")
    assert status_json()["executed"] == NAMES[:2]
    script = kysera("migrate", "sql", "--dialect", "sqlite", "--from", "create_posts", "--to", "create_comments")
    assert script.exit_code == 0 and f"-- {NAMES[2]} (up)" in script.stdout and NAMES[1] not in script.stdout
    # drift: accepted by the short name, also once the file is gone (only the history has it)
    path = folder / f"{NAMES[1]}.py"
    path.write_text(path.read_text() + "\n# edited\n")
    result = kysera("migrate", "accept", "create_posts")
    assert result.exit_code == 0 and f"Accepted the new version of {NAMES[1]}." in result.stdout
    path.unlink()
    result = kysera("migrate", "accept", "create_posts", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["name"] == NAMES[1]
    assert status_json()["executed"] == NAMES[:1]

    (folder / "20260106000000_create_users.sql").write_text("-- migrate:up\nSELECT 1;\n-- migrate:down\n")
    result = kysera("migrate", "up", "--to", "create_users")
    assert_clean_error(result, 2, "'create_users' is ambiguous", NAMES[0], "20260106000000_create_users")
    result = kysera("migrate", "up", "--to", "create_user")
    assert_clean_error(result, 2, "unknown migration 'create_user'")
    assert status_json()["executed"] == NAMES[:1]


FAILING_OUTSIDE_TX = '''\
from kysera import Database

transaction = False


def up(db: Database) -> None:
    db.schema.create_table("half").add_column("id", "integer").execute()
    db.execute("CREATE TABLE broken (")


def down(db: Database) -> None:
    db.schema.drop_table("half").execute()
'''


def test_failed_migration_then_resolve(db_url: str) -> None:
    folder = project(db_url, count=1)
    (folder / "20260105000000_half.py").write_text(FAILING_OUTSIDE_TX)
    result = kysera("migrate", "up")
    assert_clean_error(result, 1, "migration 20260105000000_half failed (up)", "kysera migrate resolve 20260105000000_half")
    assert f"applied   {NAMES[0]}" in result.stdout and "FAILED" in result.stdout
    assert "half" in tables(db_url)
    result = kysera("migrate", "status", "--check")
    assert result.exit_code == 1 and "failed" in result.stdout
    assert_clean_error(kysera("migrate", "up"), 1, "resolve")
    with connect(db_url) as db:
        db.schema.drop_table("half").execute()
    result = kysera("migrate", "resolve", "20260105000000_half", "--rolled-back")
    assert result.exit_code == 0, result.stderr
    assert status_json()["pending"] == ["20260105000000_half"]


def test_failed_transactional_migration_leaves_nothing(db_url: str) -> None:
    folder = project(db_url, count=1)
    (folder / "20260105000000_bad.sql").write_text(
        "-- migrate:up\nINSERT INTO users (email) VALUES ('x@example.com');\nINSERT INTO nowhere VALUES (1);\n-- migrate:down\n"
    )
    result = kysera("migrate", "up")
    assert_clean_error(result, 1, "migration 20260105000000_bad failed (up)", "nowhere")
    assert result.stdout.splitlines()[-1].startswith("FAILED    20260105000000_bad  (")  # with its duration
    assert result.stdout.splitlines()[-1].endswith(" ms)")
    assert status_json()["executed"] == [NAMES[0]]
    with connect(db_url) as db:
        assert db.select_from("users").select(["email"]).fetch_all() == [{"email": "o'brien@example.com"}]


def test_subprocess_workflow_sqlite(tmp_path: Path) -> None:
    """The installed console script, as a user runs it."""
    work = Path.cwd()
    assert kysera_process("init", cwd=work).returncode == 0
    created = kysera_process("migrate", "create", "Add Users-Table", cwd=work)
    assert created.returncode == 0 and created.stdout.startswith("migrations/")
    Path(work / created.stdout.split()[-1]).write_text(USERS)
    run = kysera_process("migrate", "up", cwd=work)
    assert run.returncode == 0, run.stderr
    assert "Applied 1 migration " in run.stdout and "\x1b[" not in run.stdout
    status = kysera_process("migrate", "status", "--json", cwd=work)
    assert json.loads(status.stdout)["pending"] == []
    down = kysera_process("migrate", "down", cwd=work)
    assert down.returncode == 0 and "Rolled back 1 migration" in down.stdout
    assert (work / "kysera.db").exists()


# ----------------------------------------------------------------------------- the guide's safe pattern

EXPAND_BACKFILL_CONTRACT = {
    "20260201000000_users.py": """\
        def up(db):
            db.schema.create_table("users").add_column("id", "integer", lambda c: c.primary_key()).add_column("email", "varchar(255)").execute()
            db.insert_into("users").values([{"id": 1, "email": "a@example.com"}, {"id": 2, "email": "b@example.com"}]).execute()
        """,
    "20260202000000_expand.py": """\
        def up(db):
            db.schema.alter_table("users").add_column("email_new", "varchar(255)").execute()
        """,
    "20260203000000_backfill.py": """\
        def up(db):
            db.update_table("users").set({"email_new": db.ref("email")}).execute()
        """,
    "20260204000000_contract.py": """\
        {allow}
        def up(db):
            db.schema.alter_table("users").alter_column("email_new", lambda c: c.set_not_null()).drop_column("email").execute()
        """,
}


def test_the_guides_contract_step_is_judged_even_in_one_run_with_the_steps_before_it(db_url: str) -> None:
    """Expand, backfill and contract pending together: the contract step drops a column that
    holds data. The dry run says the real run would refuse it (exit 1), the real run refuses
    it before it changes anything, and acknowledging the loss lets it run."""
    import textwrap

    write_config(Path.cwd(), db_url)
    folder = Path.cwd() / "migrations"
    folder.mkdir()
    first, *rest = EXPAND_BACKFILL_CONTRACT.items()
    (folder / first[0]).write_text(textwrap.dedent(first[1]))
    assert kysera("migrate", "up").exit_code == 0
    for name, text in rest:
        (folder / name).write_text(textwrap.dedent(text.replace("{allow}", "")))

    result = kysera("migrate", "up", "--dry-run")
    assert result.exit_code == 1, result.stderr
    assert "the real run would refuse to run: 1 unsafe change in 20260204000000_contract (KS102" in result.stdout
    assert result.stderr.count("KS102 drop-column") == 1  # each finding once
    dry_json = json.loads(kysera("migrate", "up", "--dry-run", "--json").stdout)
    assert dry_json["ok"] is False and [f["code"] for f in dry_json["refused"]] == ["KS102"]

    result = kysera("migrate", "up")
    assert_clean_error(result, 1, "refusing to run", "KS102", "20260204000000_contract", 'allow_unsafe = ["KS102"]')
    assert "refusing to run: 1 unsafe change in 20260204000000_contract;" in result.stderr  # as the dry run says it
    with connect(db_url) as db:
        users = db.introspect_table("users")
        assert users is not None and "email" in [c.name for c in users.columns]
    # judged with the others, before anything ran (SQLite: in a rehearsal of the steps before it)
    assert status_json()["pending"] == [name.removesuffix(".py") for name, _ in rest]

    (folder / rest[-1][0]).write_text(textwrap.dedent(rest[-1][1].replace("{allow}", "allow_unsafe = [\"KS102\"]")))
    result = kysera("migrate", "up")
    assert result.exit_code == 0, result.stderr
    assert status_json()["pending"] == []


def test_fresh_on_postgres_keeps_range_types_whole_and_refuses_to_reach_other_schemas(db_url: str, engine: str) -> None:
    if engine != "postgres":
        pytest.skip("range types and CASCADE into other schemas are PostgreSQL's")
    project(db_url, count=1)
    assert kysera("migrate", "up").exit_code == 0
    with connect(db_url) as db:
        db.execute("CREATE TYPE floatrange AS RANGE (subtype = float8)")  # and its multirange, constructors
    result = kysera("migrate", "fresh", "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    with connect(db_url) as db:
        db.execute("CREATE TYPE mood2 AS ENUM ('ok')")
        db.execute("CREATE SCHEMA other")
        db.execute("CREATE TABLE other.people (m mood2)")
        db.execute("INSERT INTO other.people VALUES ('ok')")
    result = kysera("migrate", "fresh", "--yes")
    assert result.exit_code == 1 and "other.people" in result.stderr and "nothing was dropped" in result.stderr
    with connect(db_url) as db:
        assert db.fetch("SELECT m::text AS m FROM other.people") == [{"m": "ok"}]
        assert "users" in tables(db_url)


def test_fresh_drops_a_history_table_kept_in_another_schema(db_url: str, engine: str) -> None:
    if engine == "sqlite":
        pytest.skip("SQLite keeps it in the same file")
    with connect(db_url) as db:
        if engine == "postgres":
            db.execute("CREATE SCHEMA hist")
            table = "hist.kysera_migrations"
        else:
            table = db.url.database + "_hist.kysera_migrations"
            db.execute(f"CREATE DATABASE IF NOT EXISTS `{db.url.database}_hist`")
    try:
        project(db_url, count=2)
        Path("kysera.toml").write_text(Path("kysera.toml").read_text() + f'\n[migrations]\ntable = "{table}"\n')
        assert kysera("migrate", "up").exit_code == 0
        result = kysera("migrate", "fresh", "--yes")
        assert result.exit_code == 0, result.stdout + result.stderr
        assert "Applied 2 migrations" in result.stdout
    finally:
        if engine == "mysql":
            with connect(db_url) as db:
                db.execute(f"DROP DATABASE IF EXISTS `{db.url.database}_hist`")


def test_redo_judges_the_up_before_it_rolls_anything_back(db_url: str) -> None:
    """redo = down + up: an up the safety check refuses is refused before the down runs."""
    folder = project(db_url, count=1)  # users, with a row
    (folder / "20260105000000_drop_email.py").write_text(
        "def up(db):\n    db.schema.alter_table('users').drop_column('email').execute()\n\n"
        "def down(db):\n    db.schema.alter_table('users').add_column('email', 'varchar(255)').execute()\n"
    )
    assert kysera("migrate", "up", "--allow-unsafe").exit_code == 0
    result = kysera("migrate", "redo")
    assert result.exit_code == 1 and "KS102" in result.stdout + result.stderr
    assert "nothing was changed" in result.stderr
    assert status_json()["executed"] == [NAMES[0], "20260105000000_drop_email"]
    result = kysera("migrate", "redo", "--allow-unsafe")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert status_json()["executed"] == [NAMES[0], "20260105000000_drop_email"]


def test_status_tells_a_migration_running_now_from_an_interrupted_one(db_url: str) -> None:
    """A backfill under way in another process is "running now" (--json, --check), not failed."""
    from kysera.dialects.locks import migration_lock
    from kysera.migrations import create_migration_runner, load_migrations

    folder = project(db_url, count=1)
    assert kysera("migrate", "up").exit_code == 0
    (folder / "20260109000000_slow.sql").write_text("-- migrate:up\nSELECT 1;\n")
    with connect(db_url) as db:
        runner = create_migration_runner(db, load_migrations(folder))
        slow = runner.migrations[-1]
        runner.history.insert(slow.name, checksum=slow.checksum, state="running", batch=2, direction="up")
        lock = migration_lock(db, runner.history.node)
        lock.acquire(5)
        try:
            result = kysera("migrate", "status", "--json", "--check")
            data = json.loads(result.stdout)
            assert data["running_now"] == [slow.name] and data["failed"] == [] and data["lock_holder"]
            assert result.exit_code == 1 and "1 running now" in result.stderr
        finally:
            lock.release()
    data = json.loads(kysera("migrate", "status", "--json").stdout)
    assert data["running_now"] == [] and data["failed"] == [slow.name]  # nobody holds the lock: interrupted


def test_status_during_a_deploy_says_the_lock_is_held(db_url: str) -> None:
    """On PostgreSQL and SQLite a migration under way commits its history row with itself: status
    showed it, and the rest, as plainly pending. The migration lock tells that a run is applying them."""
    from kysera.dialects.locks import migration_lock
    from kysera.migrations import create_migration_runner, load_migrations

    folder = project(db_url, count=2)
    assert kysera("migrate", "up", "--steps", "1").exit_code == 0
    with connect(db_url) as db:
        runner = create_migration_runner(db, load_migrations(folder))
        lock = migration_lock(db, runner.history.node)
        lock.acquire(5)
        try:
            shown = kysera("migrate", "status")
            assert shown.exit_code == 0 and "note: a kysera run holds the migration lock now" in shown.stderr
            assert json.loads(kysera("migrate", "status", "--json").stdout)["lock_holder"]
        finally:
            lock.release()
    assert "holds the migration lock" not in kysera("migrate", "status").stderr


def test_quiet_prints_only_warnings_errors_and_the_data_asked_for(db_url: str) -> None:
    """-q: a deploy script's log shows nothing when all is well, and still every failure."""
    project(db_url, 2)
    result = kysera("-q", "migrate", "up")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""
    assert status_json()["executed"] == NAMES[:2]
    dry = kysera("migrate", "down", "--dry-run", "-q")
    assert dry.exit_code == 0 and "DROP TABLE" in dry.stdout  # the script asked for is data
    down = kysera("migrate", "down", "--json", "--quiet")
    assert down.exit_code == 0 and json.loads(down.stdout)["executed"] == [NAMES[1]]
    assert "1 applied, 1 pending" in kysera("migrate", "status", "-q").stdout  # what was asked for
    failed = kysera("migrate", "up", "-q", "--to", "nosuch")
    assert_clean_error(failed, 2, "unknown migration 'nosuch'")
    assert_clean_error(kysera("migrate", "status", "-q", "-v"), 2, "-q/--quiet and -v/--verbose")


def test_quiet_still_shows_what_failed_a_check(db_url: str) -> None:
    """-q hides summaries, not the findings of lint or a dry run, nor what failed the stairway
    check: those are what was asked for, and exit 1 alone would not say what is wrong."""
    folder = project(db_url, 1)
    assert kysera("migrate", "up", "-q").exit_code == 0
    (folder / "20260102000000_drop_email.py").write_text(
        "def up(db):\n    db.schema.alter_table('users').drop_column('email').execute()\n\n\n"
        "def down(db):\n    raise RuntimeError('the emails are gone')\n"
    )
    lint = kysera("migrate", "lint", "-q")
    assert lint.exit_code == 1 and "ERROR KS102 drop-column: 20260102000000_drop_email" in lint.stdout, lint.output
    assert "checked" not in lint.stdout  # the summary is what -q leaves out
    dry = kysera("migrate", "up", "--dry-run", "-q")
    assert dry.exit_code == 1 and "KS102 drop-column" in dry.stderr and "see above" in dry.stdout, dry.output
    stairway = kysera("migrate", "test", "-q")
    assert stairway.exit_code == 1 and "20260102000000_drop_email" in stairway.stdout, stairway.output
    assert "stairway FAILED" in stairway.stdout
    assert kysera("migrate", "lint", "-q", "--url", "sqlite://").output == ""  # nothing wrong: nothing said


def test_status_on_a_database_another_tool_managed_points_to_mark_applied(db_url: str) -> None:
    """Adopting kysera on a database Alembic (or Flyway, goose...) kept: status says which
    history it found and how to record what the schema already holds, without running it."""
    project(db_url, 2)
    with connect(db_url) as db:
        db.execute("CREATE TABLE alembic_version (version_num varchar(32) NOT NULL)")
    result = kysera("migrate", "status")
    assert result.exit_code == 0, result.stderr
    assert "this database has alembic_version, Alembic's history" in result.stderr
    assert "kysera migrate mark-applied NAME" in result.stderr
    assert json.loads(kysera("migrate", "status", "--json").stdout)["pending"] == NAMES[:2]
    assert kysera("migrate", "up").exit_code == 0
    assert "alembic_version" not in kysera("migrate", "status").stderr  # kysera's history now


def test_status_of_a_sqlite_file_that_does_not_exist_says_so() -> None:
    """A misspelt SQLite path looked like a new project with everything pending (said with -v
    only): status says the file does not exist, and creates nothing."""
    project("sqlite:///app.db", count=1)
    result = kysera("migrate", "status", "--url", "sqlite:///ap.db")
    assert result.exit_code == 0
    assert "ap.db does not exist yet: read as an empty database (migrate up creates it)" in result.stderr
    assert not Path("ap.db").exists()


def test_status_of_a_sqlite_file_in_a_missing_folder_does_not_promise_up_creates_it() -> None:
    """status said "migrate up creates it" of sqlite:///nodir/app.db, but up cannot: it fails
    because the folder is missing. The note names the folder and the fix instead."""
    project("sqlite:///app.db", count=1)
    result = kysera("migrate", "status", "--url", "sqlite:///nodir/app.db")
    assert result.exit_code == 0
    assert "nodir/app.db does not exist and neither does its folder nodir" in result.stderr
    assert "create the folder, or fix the path in the URL" in result.stderr
    assert "migrate up creates it" not in result.stderr
    assert not Path("nodir").exists()


def test_status_table_columns_line_up_after_wide_and_combining_names(db_url: str) -> None:
    """The table was padded by code points: after a name with CJK characters or an emoji (two
    columns each on a terminal) or a decomposed accent (macOS spells file names so: none for
    the accent) the state, date and duration columns stood out of line with the others."""
    import unicodedata

    def display_width(text: str) -> int:
        return sum(
            0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text
        )

    write_config(Path.cwd(), db_url)
    folder = Path("migrations")
    folder.mkdir()
    body = "def up(db):\n    db.execute('SELECT 1')\n\n\ndef down(db):\n    pass\n"
    for name in ("20260101000000_用户表", "20260102000000_cre\u0301er", "20260103000000_party_🎉", "20260104000000_plain"):
        (folder / f"{name}.py").write_text(body, encoding="utf-8")
    assert kysera("migrate", "up", "--to", "20260102000000").exit_code == 0
    result = kysera("migrate", "status")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("Migration"))
    rows = lines[header + 2 : header + 6]
    assert len(rows) == 4 and "pending" in rows[-1]
    state_column = display_width(lines[header][: lines[header].index("State")])
    for row in rows:
        state = row.index("applied") if "applied" in row else row.index("pending")
        assert display_width(row[:state]) == state_column, rows


def _answer_on_a_terminal(args: list[str], answer: bytes) -> subprocess.CompletedProcess[str]:
    """Run the kysera console script with a terminal as stdin (the confirmation question reads
    it), stdout a pipe (a deploy script reading JSON), and ``answer`` typed at the question."""
    import os
    import pty
    import time

    main, terminal = pty.openpty()
    try:
        env = {k: v for k, v in os.environ.items() if k not in ("KYSERA_DATABASE_URL", "DATABASE_URL", "KYSERA_ENV")}
        process = subprocess.Popen(
            [KYSERA, *args], stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        time.sleep(0.5)
        os.write(main, answer)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        os.close(main)
        os.close(terminal)
    return subprocess.CompletedProcess(args, process.returncode, stdout, stderr)


def test_a_confirmation_answered_no_gives_json_its_document(db_url: str) -> None:
    """Answered "no" (or Ctrl-D) at the question, `reset --json` exited 1 with nothing on stdout
    (Ctrl-D: click's bare "Aborted!"), where every other refusal prints the error document."""
    project(db_url, count=2)
    assert kysera("migrate", "up").exit_code == 0
    for answer in (b"n\n", b"\x04"):
        result = _answer_on_a_terminal(["migrate", "reset", "--json"], answer)
        assert result.returncode == 1, result.stderr
        assert "Continue? [y/N]" in result.stderr and "Cancelled; nothing was changed." in result.stderr
        assert json.loads(result.stdout) == {
            "ok": False, "error": "cancelled; nothing was changed", "error_type": "Cancelled", "exit_code": 1
        }
        assert status_json()["executed"] == NAMES[:2]


def test_an_up_that_ran_nothing_and_was_fixed_runs_again_after_resolve() -> None:
    """A builder without .execute(): the migration is recorded as applied with a warning; with the
    file fixed, up refused it as edited, accept recorded it with no table made, redo's down failed
    on the missing table, resolve refused an applied migration. resolve --rolled-back now takes it."""
    (Path.cwd() / "migrations").mkdir()
    write_config(Path.cwd(), "sqlite:///app.db")
    path = Path("migrations") / "20260101000000_things.py"
    forgot = "def up(db):\n    db.schema.create_table('things').add_column('id', 'integer')\n"
    path.write_text(forgot)
    first = kysera("migrate", "up")
    assert first.exit_code == 0 and "changes nothing" in first.stderr
    assert "kysera migrate resolve 20260101000000_things --rolled-back" in first.stderr
    path.write_text(forgot.replace("'integer')", "'integer').execute()"))
    assert kysera("migrate", "up").exit_code != 0  # an edited applied migration
    resolved = kysera("migrate", "resolve", "things", "--rolled-back")
    assert resolved.exit_code == 0, resolved.stderr
    assert "recorded as not applied" in resolved.stderr + resolved.stdout
    assert kysera("migrate", "up").exit_code == 0
    assert "things" in tables("sqlite:///app.db")
