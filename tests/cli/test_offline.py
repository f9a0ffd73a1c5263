"""``kysera migrate sql``: the script of a range of migrations, compiled with no database."""

from __future__ import annotations

from pathlib import Path

import pytest

from kysera import connect

from .conftest import assert_clean_error, kysera, write_config
from .test_workflow import NAMES, project, status_json, tables

EXPECTED = {
    "postgres": ['CREATE TABLE "users" ("id" serial PRIMARY KEY', "BEGIN;", "COMMIT;"],
    "mysql": ["CREATE TABLE `users` (`id` INT NOT NULL PRIMARY KEY AUTO_INCREMENT", "commits each DDL statement"],
    "sqlite": ['CREATE TABLE "users" ("id" INTEGER PRIMARY KEY AUTOINCREMENT', "BEGIN;"],
}


@pytest.mark.parametrize("dialect", ["postgres", "mysql", "sqlite"])
def test_script_per_dialect(tmp_path: Path, dialect: str) -> None:
    project(f"postgresql://nobody@127.0.0.1:1/{dialect}")  # never contacted
    result = kysera("migrate", "sql", "--dialect", dialect)
    assert result.exit_code == 0, result.stderr
    script = result.stdout
    for fragment in EXPECTED[dialect]:
        assert fragment in script, (fragment, script)
    for name in NAMES:
        assert f"-- {name} (up)" in script
    assert "o''brien@example.com" in script
    assert "kysera_migrations" in script and f"'{NAMES[2]}'" in script

    down = kysera("migrate", "sql", "--dialect", dialect, "--down", "--to", NAMES[0])
    assert down.exit_code == 0, down.stderr
    assert down.stdout.index(f"-- {NAMES[2]} (down)") < down.stdout.index(f"-- {NAMES[1]} (down)")
    assert f"-- {NAMES[0]} (down)" not in down.stdout

    ranged = kysera("migrate", "sql", "--dialect", dialect, "--from", NAMES[0], "--to", NAMES[1], "--no-history")
    assert ranged.exit_code == 0
    assert f"-- {NAMES[1]} (up)" in ranged.stdout
    assert f"-- {NAMES[0]} (up)" not in ranged.stdout and f"-- {NAMES[2]} (up)" not in ranged.stdout
    assert "INSERT INTO" not in ranged.stdout.split("-- " + NAMES[1])[1].replace("o''brien", "")


@pytest.mark.parametrize("dialect", ["postgres", "mysql", "sqlite"])
def test_the_script_says_what_migrate_ups_gate_would_refuse(tmp_path: Path, dialect: str) -> None:
    """migrate sql ran no safety analysis: a script that drops a column with its data was written
    without a word, where migrate up refuses it. The findings now go to stderr, and what the gate
    would refuse is named at the top of the script, which a DBA reads; the script is still written."""
    write_config(Path.cwd(), "postgresql://nobody@127.0.0.1:1/never")  # never contacted
    folder = Path.cwd() / "migrations"
    folder.mkdir()
    for name, text in {
        "001_a.py": "def up(db):\n    db.schema.create_table('a').add_column('id', 'integer').add_column('x', 'text').add_column('y', 'text').execute()\n"
                    "def down(db):\n    db.schema.drop_table('a').execute()\n",
        "002_drop.py": "def up(db):\n    db.schema.alter_table('a').drop_column('x').execute()\n",
        "003_ok.py": "allow_unsafe = ['KS102']\ndef up(db):\n    db.schema.alter_table('a').drop_column('y').execute()\n",
    }.items():
        (folder / name).write_text(text)
    whole = kysera("migrate", "sql", "--dialect", dialect)  # the script creates the table: nothing to lose
    assert whole.exit_code == 0 and "SAFETY" not in whole.stdout and "KS102" not in whole.stderr, whole.stderr
    ranged = kysera("migrate", "sql", "--dialect", dialect, "--from", "001_a")  # a table of unknown size
    assert ranged.exit_code == 0, ranged.stderr
    assert "-- SAFETY: kysera migrate up would refuse 002_drop (KS102)" in ranged.stdout.splitlines()[2]
    assert "ERROR KS102 drop-column: 002_drop: on a: drops column x and its data" in ranged.stderr
    assert "003_ok" not in ranged.stderr  # acknowledged
    assert "KS102" not in kysera("migrate", "sql", "--dialect", dialect, "--from", "001_a", "--safety", "off").stderr


def test_dialect_takes_the_url_scheme_spelling_too(tmp_path: Path) -> None:
    """--dialect postgresql, as the URL scheme is spelt, is --dialect postgres (sql and lint)."""
    project("sqlite:///never.db", count=2)
    script = kysera("migrate", "sql", "--dialect", "postgresql")
    assert script.exit_code == 0, script.stderr
    same = kysera("migrate", "sql", "--dialect", "postgres").stdout
    assert script.stdout.splitlines()[1:] == same.splitlines()[1:]  # the first line holds the time
    assert "for PostgreSQL" in script.stdout.splitlines()[0]
    lint = kysera("migrate", "lint", "--dialect", "postgresql")
    assert lint.exit_code == kysera("migrate", "lint", "--dialect", "postgres").exit_code, lint.stderr
    assert not (tmp_path / "project" / "never.db").exists()


@pytest.mark.parametrize("dialect", ["mysql", "mariadb"])
def test_mysql_scripts_carry_the_online_clauses_up_adds(tmp_path: Path, dialect: str) -> None:
    """The script runs what ``kysera migrate up`` runs: each index build held to its online form,
    unless safety is off or the migration accepts a table copy (KS213)."""
    folder = project("sqlite:///never.db", count=2)
    clause = "CREATE INDEX `idx_posts_title` ON `posts` (`title`) ALGORITHM=INPLACE LOCK=NONE;"

    script = kysera("migrate", "sql", "--dialect", dialect).stdout
    assert clause in script
    assert "-- ALGORITHM=/LOCK= clauses" in script

    plain = kysera("migrate", "sql", "--dialect", dialect, "--safety", "off").stdout
    assert "ALGORITHM" not in plain and "CREATE INDEX `idx_posts_title` ON `posts` (`title`);" in plain

    posts = folder / f"{NAMES[1]}.py"
    posts.write_text('allow_unsafe = ["KS213"]\n' + posts.read_text())
    assert "ALGORITHM" not in kysera("migrate", "sql", "--dialect", dialect).stdout
    assert kysera("migrate", "sql", "--dialect", "postgres").stdout.count("ALGORITHM") == 0


def test_dialect_from_the_configured_url(tmp_path: Path) -> None:
    project(f"sqlite:///{tmp_path / 'never.db'}", count=1)
    result = kysera("migrate", "sql")
    assert result.exit_code == 0 and "for SQLite" in result.stdout
    assert not (tmp_path / "never.db").exists()


def test_a_mariadb_url_gives_mariadbs_script(tmp_path: Path) -> None:
    """A mariadb:// URL (never contacted) writes MariaDB's SQL, as --dialect mariadb does: its
    sequences compile, where MySQL 8.0 has none."""
    folder = project("mariadb://nobody@127.0.0.1:1/app", count=1)
    (folder / "20990101000000_seq.py").write_text('def up(db):\n    db.schema.create_sequence("s1").execute()\n')
    result = kysera("migrate", "sql")
    assert result.exit_code == 0, result.stderr
    assert "for MariaDB" in result.stdout.splitlines()[0] and "CREATE SEQUENCE `s1`;" in result.stdout
    assert "for MySQL" in kysera("migrate", "sql", "--url", "mysql://nobody@127.0.0.1:1/app", "--to", NAMES[0]).stdout


def test_script_applies_and_records_history(db_url: str, engine: str) -> None:
    """What a DBA gets runs as is, and afterwards kysera sees the migrations as applied."""
    project(db_url)
    script = kysera("migrate", "sql", "--dialect", engine).stdout
    import shutil
    import subprocess

    from kysera.dump import split_script

    if engine == "postgres" and shutil.which("psql"):
        # the script is psql's: it stops at the first error (\set ON_ERROR_STOP on)
        assert "\\set ON_ERROR_STOP on\n" in script
        run = subprocess.run(["psql", "-X", "-q", "-d", db_url, "-f", "-"], input=script, capture_output=True, text=True, check=False)
        assert run.returncode == 0, run.stderr
    elif engine == "sqlite" and shutil.which("sqlite3"):
        # the sqlite3 shell's: it stops at the first error too (.bail on)
        assert "\n.bail on\n" in script
        path = db_url.removeprefix("sqlite:///")
        run = subprocess.run(["sqlite3", path], input=script, capture_output=True, text=True, check=False)
        assert run.returncode == 0, run.stderr
    else:
        with connect(db_url) as db:
            plain = "\n".join(line for line in script.splitlines() if not line.startswith("."))  # the shell's own commands
            for statement in split_script(plain, db.dialect.name):
                if not statement.text.startswith("\\"):  # psql's own commands
                    db.execute(statement.text)
    assert {"users", "posts", "comments"} <= tables(db_url)
    assert status_json()["executed"] == NAMES
    assert kysera("migrate", "status", "--check").exit_code == 0
    assert kysera("migrate", "down", "--steps", "3", "--yes").exit_code == 0


def test_a_line_break_in_a_name_does_not_end_a_comment_of_the_script(tmp_path: Path) -> None:
    """The script names each migration, and the history table, in ``--`` comments: a line break
    in a migration's file name or in ``[migrations] table`` ended the comment, and the rest ran."""
    import shutil
    import sqlite3
    import subprocess

    if shutil.which("sqlite3") is None:
        pytest.skip("the sqlite3 shell is not installed")
    write_config(tmp_path, "sqlite:///app.db", '\n[migrations]\ntable = "h\\nDROP TABLE victim;\\n"\n')
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "20240101000000_a\nDROP TABLE victim;\nx.sql").write_text(
        "-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 1;\n"
    )
    result = kysera("migrate", "sql", "--dialect", "sqlite")
    assert result.exit_code == 0, result.stderr
    with sqlite3.connect(tmp_path / "app.db") as conn:
        conn.execute("CREATE TABLE victim (x)")
    conn.close()
    subprocess.run(["sqlite3", str(tmp_path / "app.db")], input=result.stdout, text=True, check=True)
    with sqlite3.connect(tmp_path / "app.db") as conn:
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert names == {"victim", "h\nDROP TABLE victim;\n"}, result.stdout


def test_offline_errors(tmp_path: Path) -> None:
    folder = project("sqlite:///x.db", count=1)
    assert_clean_error(kysera("migrate", "sql", "--dialect", "oracle"), 2, "'oracle' is not one of")
    assert_clean_error(kysera("migrate", "sql", "--dialect", "sqlite", "--to", "nope"), 2, "unknown migration 'nope'")
    (folder / "20260109000000_reads.py").write_text(
        "def up(db):\n    if not db.table_exists('users'):\n        db.execute('CREATE TABLE x (id integer)')\n"
    )
    result = kysera("migrate", "sql", "--dialect", "postgres")
    assert_clean_error(result, 2, "20260109000000_reads (up) cannot be compiled offline", "kysera migrate up --dry-run")
    result = kysera("migrate", "sql", "--dialect", "postgres", "--down", "--no-history")
    assert_clean_error(result, 1, "no down migration")
    (folder / "20260109000000_reads.py").write_text(
        "def up(db):\n    db.execute('CREATE TABLE x (id integer)')\n"
        "def down(db):\n    if db.table_exists('x'):\n        db.execute('DROP TABLE x')\n"
    )
    result = kysera("migrate", "sql", "--dialect", "postgres", "--down", "--no-history")
    # a rollback script's advice is the rollback's dry run, not up's (which shows nothing of a down)
    assert_clean_error(result, 2, "20260109000000_reads (down) cannot be compiled offline", "kysera migrate down --dry-run")
    assert "migrate up --dry-run" not in result.stderr
    Path("kysera.toml").unlink()
    assert_clean_error(kysera("migrate", "sql"), 2, "pass --dialect")


def test_mysql_script_restates_a_column_an_earlier_migration_makes(tmp_path: Path) -> None:
    """Offline, MySQL's MODIFY COLUMN of a column the script itself creates needs no database."""
    folder = project("sqlite:///x.db", count=1)  # 20260101000000_create_users: users.email varchar(255)
    (folder / "20260110000000_widen.py").write_text(
        "def up(db):\n    db.schema.alter_table('users').alter_column('email', lambda c: c.set_data_type('varchar(300)')).execute()\n"
    )
    result = kysera("migrate", "sql", "--dialect", "mysql")
    assert result.exit_code == 0, result.stderr
    assert "MODIFY COLUMN `email` varchar(300) NOT NULL" in result.stdout


def test_mysql_script_drops_an_index_an_earlier_migration_makes_without_on(tmp_path: Path) -> None:
    """Offline, drop_index(name) without .on(table) of an index the script itself creates: the
    table comes from that migration, where a connected run would read information_schema."""
    folder = project("sqlite:///x.db", count=1)
    (folder / "20260110000000_index.py").write_text(
        "def up(db):\n    db.schema.create_index('idx_users_email').on('users').column('email').execute()\n"
    )
    (folder / "20260111000000_unindex.py").write_text(
        "def up(db):\n    db.schema.drop_index('idx_users_email').execute()\n"
    )
    result = kysera("migrate", "sql", "--dialect", "mysql")
    assert result.exit_code == 0, result.stderr
    assert "DROP INDEX `idx_users_email` ON `users`" in result.stdout


def test_a_concurrent_index_build_is_written_outside_a_transaction(tmp_path: Path) -> None:
    """CREATE INDEX CONCURRENTLY cannot run in a transaction block: migrate up runs such a
    migration outside one without being told, and so does the script, or psql -f fails."""
    folder = project("postgresql://nobody@127.0.0.1:1/app", count=2)
    (folder / "20260104000000_concurrently.py").write_text(
        "def up(db):\n    db.schema.create_index('ix_posts_id').on('posts').column('id').concurrently().execute()\n"
    )
    result = kysera("migrate", "sql", "--dialect", "postgres")
    assert result.exit_code == 0, result.stderr
    part = result.stdout.split("-- 20260104000000_concurrently (up)")[1]
    assert part.startswith(" outside a transaction")
    assert "CREATE INDEX CONCURRENTLY" in part and "BEGIN;" not in part


ROUTINE = """\
-- migrate:up
CREATE TABLE t (id int PRIMARY KEY, v varchar(10));
DELIMITER $$
CREATE PROCEDURE fill(IN n INT)
BEGIN
  DECLARE i INT DEFAULT 0;
  WHILE i < n DO
    INSERT INTO t (id, v) VALUES (i, 'a;b');
    SET i = i + 1;
  END WHILE;
END$$
DELIMITER ;
-- migrate:down
DROP PROCEDURE fill;
DROP TABLE t;
"""


def test_mysql_scripts_put_routine_bodies_between_delimiter_lines(db_url: str, engine: str) -> None:
    """The mysql/mariadb client ends a statement at the first ; unless told otherwise: a routine's
    body was cut at its first line (error 1064) in `migrate sql` and dry-run scripts."""
    if engine != "mysql":
        pytest.skip("DELIMITER is the mysql client's")
    folder = project(db_url, count=1)
    (folder / "20260111000000_routine.sql").write_text(ROUTINE)
    for script in (kysera("migrate", "sql", "--dialect", "mysql").stdout, kysera("migrate", "up", "--dry-run").stdout):
        assert "DELIMITER $$\nCREATE PROCEDURE fill(IN n INT)\nBEGIN" in script, script
        assert "END WHILE;\nEND$$\nDELIMITER ;" in script, script
        assert "CREATE TABLE t (id int PRIMARY KEY, v varchar(10));" in script
    import shutil
    import subprocess

    client = shutil.which("mariadb") or shutil.which("mysql")
    if client is None:
        return
    from kysera.url import parse_url

    url = parse_url(db_url)
    script = kysera("migrate", "sql", "--dialect", "mysql").stdout
    run = subprocess.run(
        [client, "-h", url.host or "127.0.0.1", "-P", str(url.port or 3306), "-u", url.username or "root",
         *([f"-p{url.password}"] if url.password else []), url.database or ""],
        input=script, capture_output=True, text=True, check=False,
    )
    assert run.returncode == 0, run.stderr
    assert status_json()["executed"] == [NAMES[0], "20260111000000_routine"]


ZONED = """import datetime

from kysera import Database, sql


def up(db: Database) -> None:
    db.schema.create_table("ev").add_column("id", "integer", lambda c: c.primary_key()).add_column(
        "at", "timestamp NULL").add_column("dt", "datetime").add_column("short", "varchar(3)").execute()
    db.insert_into("ev").values({"id": 1, "at": datetime.datetime(2026, 1, 2, 10, 0, tzinfo=datetime.timezone.utc),
                                 "dt": sql("NOW()"), "short": "abc"}).execute()


def down(db: Database) -> None:
    db.schema.drop_table("ev").execute()
"""


def test_a_mysql_script_runs_in_the_session_migrate_up_runs_in(db_url: str, engine: str) -> None:
    """migrate up's connection is in UTC and strict: a client whose session is in another zone
    (the server's default) stored 10:00 UTC as 05:00 UTC and NOW() as local time, and one in a
    lax sql_mode would cut a value that migrate up refuses."""
    import shutil
    import subprocess

    if engine != "mysql":
        pytest.skip("MySQL/MariaDB's session time zone and sql_mode")
    client = shutil.which("mariadb") or shutil.which("mysql")
    if client is None:
        pytest.skip("the mariadb/mysql client is not installed")
    write_config(Path.cwd(), db_url)
    folder = Path.cwd() / "migrations"
    folder.mkdir()
    (folder / "001_zoned.py").write_text(ZONED)
    script = kysera("migrate", "sql", "--dialect", "mysql").stdout
    from kysera.url import parse_url

    url = parse_url(db_url)
    run = subprocess.run(
        [client, "-h", url.host or "127.0.0.1", "-P", str(url.port or 3306), "-u", url.username or "root",
         *([f"-p{url.password}"] if url.password else []), "--init-command=SET time_zone = '+05:00', sql_mode = ''",
         url.database or ""],
        input=script, capture_output=True, text=True, check=False,
    )
    assert run.returncode == 0, run.stderr
    with connect(db_url) as db:  # in UTC, as migrate up's session
        row = db.fetch("SELECT at, TIMESTAMPDIFF(MINUTE, dt, UTC_TIMESTAMP()) AS behind FROM ev")[0]
        assert str(row["at"]) == "2026-01-02 10:00:00"
        assert abs(row["behind"]) < 60
    # a later migration's own SET ends with it: back to UTC and strict, not to the client's defaults
    (folder / "002_moves.sql").write_text(
        "-- migrate:up\nSET time_zone = '+03:00';\nSET SESSION sql_mode = '';\n"
        "-- migrate:down\nSELECT 1;\n"
    )
    (folder / "003_after.py").write_text(ZONED.replace('"ev"', '"ev2"').replace("10, 0", "11, 0"))
    script = kysera("migrate", "sql", "--dialect", "mysql", "--from", "001_zoned").stdout
    run = subprocess.run(
        [client, "-h", url.host or "127.0.0.1", "-P", str(url.port or 3306), "-u", url.username or "root",
         *([f"-p{url.password}"] if url.password else []), "--init-command=SET time_zone = '+05:00', sql_mode = ''",
         url.database or ""],
        input=script.replace("'abc'", "'abcd'"), capture_output=True, text=True, check=False,
    )
    assert run.returncode != 0 and "short" in run.stderr, (run.returncode, run.stderr)  # too long: refused, not cut
    assert status_json()["executed"] == ["001_zoned", "002_moves"]


def test_a_sqlite_script_run_by_the_shell_stops_at_an_error_and_its_batch_comes_last(tmp_path: Path) -> None:
    """The script's batch is worked out as it runs (it was minutes since 1970 when written, so a
    later script could sort before runs made meanwhile, and down took back the wrong migration);
    the sqlite3 shell stops at the first error (.bail on; it went on and committed half of it)."""
    import shutil
    import subprocess

    sqlite3_shell = shutil.which("sqlite3")
    if sqlite3_shell is None:
        pytest.skip("the sqlite3 shell is not installed")
    database = tmp_path / "s.db"
    url = f"sqlite:///{database}"
    folder = tmp_path / "migrations"
    folder.mkdir()
    for name in ("001_a", "002_b", "003_c"):
        table = name[-1]
        (folder / f"{name}.py").write_text(
            f"def up(db):\n    db.schema.create_table('{table}').add_column('id', 'integer').execute()\n\n"
            f"def down(db):\n    db.schema.drop_table('{table}').execute()\n"
        )
    (tmp_path / "kysera.toml").write_text(f'[database]\nurl = "{url}"\n')

    def run_script(*args: str) -> subprocess.CompletedProcess[str]:
        script = kysera("migrate", "sql", *args)
        assert script.exit_code == 0, script.stderr
        return subprocess.run([sqlite3_shell, str(database)], input=script.stdout, capture_output=True, text=True, timeout=60, check=False)

    assert run_script("--to", "001_a").returncode == 0
    assert kysera("migrate", "up", "--steps", "1").exit_code == 0
    for _ in range(2):
        assert kysera("migrate", "redo").exit_code == 0  # 002_b's batch grows with each run
    assert run_script("--from", "002_b", "--to", "003_c").returncode == 0
    assert kysera("migrate", "down").exit_code == 0
    with connect(url) as db:
        assert db.table_exists("b") and not db.table_exists("c")  # the script's migration went first

    (folder / "004_broken.sql").write_text("-- migrate:up\nCREATE TABLE d (id integer);\nINSERT INTO nosuch VALUES (1);\nCREATE TABLE e (id integer);\n")
    shell = run_script("--from", "003_c")
    assert shell.returncode != 0 and "nosuch" in shell.stderr
    with connect(url) as db:
        assert not db.table_exists("d") and not db.table_exists("e")
    assert "004_broken" in status_json()["pending"]


def test_a_sqlite_script_drops_a_column_with_sqlites_own_drop_column(tmp_path: Path) -> None:
    """The guide's "Adding Columns" down drops the columns it added: a column nothing else uses
    goes as SQLite's own DROP COLUMN (3.35+), as migrate up writes it. It used to refuse to write
    the script (exit 2)."""
    import shutil
    import sqlite3
    import subprocess

    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "001_users.py").write_text(
        "def up(db):\n    db.schema.create_table('users').add_column('id', 'integer', lambda c: c.primary_key()).execute()\n\n"
        "def down(db):\n    db.schema.drop_table('users').execute()\n"
    )
    (folder / "002_profile.py").write_text(
        "def up(db):\n    db.schema.alter_table('users').add_column('avatar_url', 'varchar(500)').add_column('bio', 'text').execute()\n\n"
        "def down(db):\n    db.schema.alter_table('users').drop_column('avatar_url').drop_column('bio').execute()\n"
    )
    database = tmp_path / "s.db"
    (tmp_path / "kysera.toml").write_text(f'[database]\nurl = "sqlite:///{database}"\n')
    down = kysera("migrate", "sql", "--dialect", "sqlite", "--down", "--to", "001_users")  # 001_users stays
    assert down.exit_code == 0, down.stderr
    assert 'ALTER TABLE "users" DROP COLUMN "avatar_url";' in down.stdout
    assert 'ALTER TABLE "users" DROP COLUMN "bio";' in down.stdout
    if sqlite3.sqlite_version_info < (3, 35, 0) or shutil.which("sqlite3") is None:
        return
    assert kysera("migrate", "up").exit_code == 0
    run = subprocess.run(["sqlite3", str(database)], input=down.stdout, capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    with connect(f"sqlite:///{database}") as db:
        assert [c["name"] for c in db.fetch("PRAGMA table_info(users)")] == ["id"]
    assert kysera("migrate", "status", "--json").exit_code == 0


# ----------------------------------------------------------------- SQLite: rebuilds from a shadow

#: the guide's migrations (docs: the user's guide), with rows to carry through the rebuilds, and
#: the other changes SQLite makes by rebuilding the table (011)
GUIDE_MIGRATIONS = {
"001_create_users": '''
from kysera import sql
def up(db):
    (db.schema.create_table("users")
        .add_column("id", "serial", lambda c: c.primary_key())
        .add_column("email", "varchar(255)", lambda c: c.not_null().unique())
        .add_column("name", "varchar(100)", lambda c: c.not_null())
        .add_column("created_at", "timestamp", lambda c: c.not_null().default_to(sql("CURRENT_TIMESTAMP")))
        .execute())
    db.insert_into("users").values([{"email": "a@x.org", "name": "Ann"}, {"email": "b@x.org", "name": "Bob"}]).execute()
def down(db):
    db.schema.drop_table("users").execute()
''',
"002_create_posts": '''
from kysera import sql
def up(db):
    (db.schema.create_table("posts")
        .add_column("id", "serial", lambda c: c.primary_key())
        .add_column("user_id", "integer", lambda c: c.not_null().references("users.id").on_delete("cascade"))
        .add_column("title", "varchar(255)", lambda c: c.not_null())
        .add_column("content", "text")
        .add_column("status", "varchar(20)", lambda c: c.not_null().default_to("draft"))
        .add_column("created_at", "timestamp", lambda c: c.not_null().default_to(sql("CURRENT_TIMESTAMP")))
        .add_column("updated_at", "timestamp")
        .execute())
    db.schema.create_index("idx_posts_user_id").on("posts").column("user_id").execute()
    db.schema.create_index("idx_posts_status").on("posts").column("status").execute()
    db.insert_into("posts").values([{"user_id": 1, "title": "one"}, {"user_id": 2, "title": "two"}]).execute()
def down(db):
    db.schema.drop_table("posts").execute()
''',
"003_add_profile": '''
def up(db):
    db.schema.alter_table("users").add_column("avatar_url", "varchar(500)").add_column("bio", "text").execute()
def down(db):
    db.schema.alter_table("users").drop_column("avatar_url").drop_column("bio").execute()
''',
"004_modify_name": '''
def up(db):
    db.schema.alter_table("users").alter_column("name", lambda c: c.set_data_type("varchar(200)")).execute()
def down(db):
    db.schema.alter_table("users").alter_column("name", lambda c: c.set_data_type("varchar(100)")).execute()
''',
"005_add_indexes": '''
from kysera import sql
def up(db):
    db.schema.alter_table("users").add_column("username", "varchar(50)").add_column("status", "varchar(20)").execute()
    db.schema.create_index("idx_users_email").on("users").column("email").execute()
    db.schema.create_index("idx_posts_created_user").on("posts").columns(["created_at", "user_id"]).execute()
    db.schema.create_index("idx_users_username").on("users").column("username").unique().execute()
    db.execute(sql("CREATE INDEX idx_active_users ON users (id) WHERE status = 'active'"))
def down(db):
    db.execute(sql("DROP INDEX idx_active_users"))
    db.schema.drop_index("idx_users_username").execute()
    db.schema.drop_index("idx_posts_created_user").execute()
    db.schema.drop_index("idx_users_email").execute()
    db.schema.alter_table("users").drop_column("username").drop_column("status").execute()
''',
"006_categories": '''
def up(db):
    db.schema.create_table("categories").add_column("id", "integer", lambda c: c.primary_key()).add_column("name", "varchar(100)", lambda c: c.not_null()).execute()
    db.insert_into("categories").values({"id": 1, "name": "general"}).execute()
    db.schema.alter_table("posts").add_column("category_id", "integer").execute()
    (db.schema.alter_table("posts")
        .add_foreign_key_constraint("fk_posts_category", ["category_id"], "categories", ["id"])
        .on_delete("set null").execute())
def down(db):
    db.schema.alter_table("posts").drop_constraint("fk_posts_category").execute()
    db.schema.alter_table("posts").drop_column("category_id").execute()
    db.schema.drop_table("categories").execute()
''',
"007_phone_and_audit": '''
def up(db):
    db.schema.alter_table("users").add_column("phone", "varchar(20)").execute()
    db.schema.create_table("audit_logs").add_column("id", "serial", lambda c: c.primary_key()).add_column("action", "text", lambda c: c.not_null()).execute()
def down(db):
    db.schema.drop_table("audit_logs").execute()
    db.schema.alter_table("users").drop_column("phone").execute()
''',
"008_email_new": '''
def up(db):
    db.schema.alter_table("users").add_column("email_new", "varchar(255)").execute()
def down(db):
    db.schema.alter_table("users").drop_column("email_new").execute()
''',
"009_copy_email": '''
def up(db):
    db.update_table("users").set({"email_new": db.ref("email")}).execute()
def down(db):
    pass
''',
"010_swap_email": '''
from kysera import sql
def up(db):
    db.schema.alter_table("users").alter_column("email_new", lambda c: c.set_not_null()).drop_column("email").execute()
    db.execute(sql("ALTER TABLE users RENAME COLUMN email_new TO email"))
def down(db):
    db.execute(sql("ALTER TABLE users RENAME COLUMN email TO email_new"))
    db.schema.alter_table("users").add_column("email", "varchar(255)", lambda c: c.unique()).execute()
    db.update_table("users").set({"email": db.ref("email_new")}).execute()
    (db.schema.alter_table("users").alter_column("email", lambda c: c.set_not_null())
        .alter_column("email_new", lambda c: c.drop_not_null()).execute())
    db.schema.create_index("idx_users_email").on("users").column("email").execute()
''',
"011_rebuild_cases": '''
from kysera import sql
def up(db):
    db.schema.alter_table("categories").add_column("slug", "varchar(50)", lambda c: c.unique()).execute()
    db.schema.alter_table("categories").add_column("created_at", "timestamp", lambda c: c.default_to(sql("CURRENT_TIMESTAMP"))).execute()
    db.schema.alter_table("posts").alter_column("status", lambda c: c.set_default("published")).execute()
    db.schema.alter_table("posts").add_check_constraint("ck_posts_title", sql("length(title) > 0")).execute()
    db.schema.alter_table("audit_logs").add_unique_constraint("uq_audit_action", ["action"]).execute()
    db.schema.alter_table("audit_logs").drop_constraint("uq_audit_action").alter_column("action", lambda c: c.drop_not_null()).execute()
def down(db):
    db.schema.alter_table("audit_logs").alter_column("action", lambda c: c.set_not_null()).execute()
    db.schema.alter_table("posts").drop_constraint("ck_posts_title").execute()
    db.schema.alter_table("posts").alter_column("status", lambda c: c.set_default("draft")).execute()
    db.schema.alter_table("categories").drop_column("created_at").drop_column("slug").execute()
''',
}


def _guide(tmp_path: Path) -> list[str]:
    from textwrap import dedent

    folder = tmp_path / "project" / "migrations"
    folder.mkdir()
    for name, body in GUIDE_MIGRATIONS.items():
        (folder / f"{name}.py").write_text(dedent(body).lstrip())
    write_config(tmp_path / "project", "sqlite:///never.db")
    return list(GUIDE_MIGRATIONS)


def _state(path: Path) -> tuple[object, ...]:
    """What a SQLite file holds, as kysera reads it back: the schema (introspection and the
    definitions SQLite stores), the rows (less the times CURRENT_TIMESTAMP wrote) and the history."""
    with connect(f"sqlite:///{path}") as db:
        info = db.introspect()
        stored = sorted(
            (str(r["type"]), str(r["name"]), str(r["sql"]))
            for r in db.fetch("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
        )
        rows = {
            t: [{k: v for k, v in r.items() if k != "created_at"} for r in db.fetch(f'SELECT * FROM "{t}" ORDER BY 1')]
            for t in sorted(info.tables)
            if t != "kysera_migrations"
        }
        history = [r["name"] for r in db.fetch("SELECT name FROM kysera_migrations ORDER BY id")]
    return info, stored, rows, history


def _same(script_db: Path, real_db: Path) -> None:
    info, stored, rows, history = _state(script_db)
    real_info, real_stored, real_rows, real_history = _state(real_db)
    assert info.diff(real_info) == []  # type: ignore[attr-defined]
    assert stored == real_stored
    assert rows == real_rows
    assert history == real_history


def _shell(path: Path, script: str, foreign_keys: bool) -> None:
    import subprocess

    # foreign keys on, as a ~/.sqliterc may have them: a parent table's DROP TABLE in a rebuild
    # would then delete the rows that refer to it ON DELETE CASCADE
    options = ["-cmd", "PRAGMA foreign_keys = ON"] if foreign_keys else []
    run = subprocess.run(["sqlite3", *options, str(path)], input=script, capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr


def _up(path: Path, *args: str) -> None:
    result = kysera("--url", f"sqlite:///{path}", "migrate", "up", "--allow-unsafe", *args)
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("foreign_keys", [False, True])
def test_sqlite_scripts_of_the_guides_migrations_leave_what_migrate_up_and_down_leave(tmp_path: Path, foreign_keys: bool) -> None:
    """alter_column, add_foreign_key_constraint, drop_constraint, a UNIQUE column, an expression
    default: SQLite rebuilds the table from its current definition, which offline was not there,
    so migrate sql refused them (exit 2). It now takes it from the migrations before them, run in
    a scratch database; the script, run by the sqlite3 shell on a fresh file or on a database at
    --from, leaves what migrate up and migrate down leave."""
    import shutil

    if shutil.which("sqlite3") is None:
        pytest.skip("the sqlite3 shell is not installed")
    names = _guide(tmp_path)

    def script(*args: str) -> str:
        result = kysera("migrate", "sql", "--dialect", "sqlite", *args)
        assert result.exit_code == 0, result.stderr
        return result.stdout

    everything = script()
    # the migrations with a rebuild (004, 006, 010, 011) turn foreign keys off before BEGIN
    assert everything.count("\nPRAGMA foreign_keys = OFF;\nBEGIN;\n") == 4
    assert everything.count('CREATE TABLE "_kysera_new_') == 9  # 011 rebuilds six times
    _shell(tmp_path / "s.db", everything, foreign_keys)
    _up(tmp_path / "r.db")
    _same(tmp_path / "s.db", tmp_path / "r.db")

    for start in ("003_add_profile", "005_add_indexes", "009_copy_email"):  # up from a database at --from
        script_db, real_db = tmp_path / f"s_{start}.db", tmp_path / f"r_{start}.db"
        _up(real_db, "--to", start)
        shutil.copy(real_db, script_db)
        _shell(script_db, script("--from", start), foreign_keys)
        _up(real_db)
        _same(script_db, real_db)

    for top, stop in ((names[-1], names[0]), ("007_phone_and_audit", "002_create_posts")):  # down
        script_db, real_db = tmp_path / f"d_{stop}.db", tmp_path / f"dr_{stop}.db"
        _up(real_db, "--to", top)
        shutil.copy(real_db, script_db)
        _shell(script_db, script("--down", "--from", top, "--to", stop), foreign_keys)
        result = kysera("--url", f"sqlite:///{real_db}", "migrate", "down", "--to", stop, "--yes")
        assert result.exit_code == 0, result.stderr
        _same(script_db, real_db)


def test_offline_sqlite_says_why_a_rebuild_has_no_definition(tmp_path: Path) -> None:
    """A rebuild offline needs a table the migrations before it make, in a scratch database that
    still holds what they make: a table made outside them, a statement that fails there, or a
    migration before --from that reads the database are named (exit 2); native changes to such a
    table are written as before."""
    folder = tmp_path / "project" / "migrations"
    folder.mkdir()
    write_config(tmp_path / "project", "sqlite:///never.db")
    (folder / "001_t.py").write_text(
        "def up(db):\n    db.schema.create_table('t').add_column('id', 'integer', lambda c: c.primary_key()).add_column('v', 'text').execute()\n"
    )
    (folder / "002_legacy.py").write_text(
        "def up(db):\n    db.schema.alter_table('legacy').alter_column('v', lambda c: c.set_not_null()).execute()\n"
    )
    assert_clean_error(
        kysera("migrate", "sql", "--dialect", "sqlite"), 2,
        "migration 002_legacy (up) cannot be compiled offline", "no migration before this one makes that table",
        "kysera migrate up --dry-run",
    )
    (folder / "002_legacy.py").write_text("def up(db):\n    db.schema.alter_table('legacy').add_column('w', 'text').execute()\n")
    (folder / "003_t.py").write_text(
        "def up(db):\n    db.schema.alter_table('t').alter_column('v', lambda c: c.set_not_null()).execute()\n"
    )
    result = kysera("migrate", "sql", "--dialect", "sqlite", "--to", "002_legacy")
    assert result.exit_code == 0 and 'ALTER TABLE "legacy" ADD COLUMN "w" text;' in result.stdout
    assert_clean_error(
        kysera("migrate", "sql", "--dialect", "sqlite"), 2,
        "migration 003_t (up) cannot be compiled offline",
        'migration 002_legacy (up): ALTER TABLE "legacy" ADD COLUMN "w" text failed there: no such table: legacy',
    )
    (folder / "002_legacy.py").write_text(
        "def up(db):\n    if db.table_exists('legacy'):\n        db.execute('DROP TABLE legacy')\n"
    )
    assert_clean_error(
        kysera("migrate", "sql", "--dialect", "sqlite", "--from", "002_legacy"), 2,
        "migration 003_t (up) cannot be compiled offline", "migration 002_legacy (up): its code reads the database",
    )


def test_offline_sqlite_drops_an_indexed_column_as_migrate_up_does(tmp_path: Path) -> None:
    """SQLite's own DROP COLUMN refuses a column an index uses: the script failed when run. With
    the table's definition at hand it is dropped with a rebuild, as migrate up drops it."""
    folder = tmp_path / "project" / "migrations"
    folder.mkdir()
    write_config(tmp_path / "project", "sqlite:///never.db")
    (folder / "001_t.py").write_text(
        "def up(db):\n    db.schema.create_table('t').add_column('id', 'integer', lambda c: c.primary_key())"
        ".add_column('v', 'text').add_column('w', 'text').execute()\n"
        "    db.schema.create_index('ix_t_v').on('t').column('v').execute()\n"
    )
    (folder / "002_drop.py").write_text(
        "def up(db):\n    db.schema.alter_table('t').drop_column('v').drop_column('w').execute()\n"
    )
    script = kysera("migrate", "sql", "--dialect", "sqlite", "--no-history")
    assert script.exit_code == 0, script.stderr
    assert 'CREATE TABLE "_kysera_new_t" ("id" integer PRIMARY KEY)' in script.stdout
    assert "DROP COLUMN" not in script.stdout
    with connect("sqlite:///:memory:") as db:
        for line in script.stdout.splitlines():
            if line and not line.startswith(("--", ".", "BEGIN", "COMMIT")):
                db.execute(line)
        assert [c["name"] for c in db.fetch("PRAGMA table_info(t)")] == ["id"]


def test_a_sqlite_rebuild_outside_a_transaction_is_written_between_begin_and_commit(tmp_path: Path) -> None:
    """migrate up runs a rebuild's statements in one transaction even when its migration has
    none; so does the script, or a failure part-way would leave the table dropped."""
    folder = tmp_path / "project" / "migrations"
    folder.mkdir()
    write_config(tmp_path / "project", "sqlite:///never.db")
    (folder / "001_t.py").write_text(
        "def up(db):\n    db.schema.create_table('t').add_column('id', 'integer', lambda c: c.primary_key()).add_column('v', 'text').execute()\n"
    )
    (folder / "002_widen.py").write_text(
        "transaction = False\n\ndef up(db):\n    db.execute('CREATE TABLE u (id integer)')\n"
        "    db.schema.alter_table('t').alter_column('v', lambda c: c.set_not_null()).execute()\n"
    )
    script = kysera("migrate", "sql", "--dialect", "sqlite", "--from", "001_t", "--no-history")
    assert script.exit_code == 0, script.stderr
    part = script.stdout.split("-- 002_widen (up) outside a transaction\n")[1]
    assert part.startswith('PRAGMA foreign_keys = OFF;\nCREATE TABLE u (id integer);\nBEGIN;\nCREATE TABLE "_kysera_new_t"')
    assert part.endswith('PRAGMA legacy_alter_table = OFF;\nCOMMIT;\n')


def test_offline_sqlite_lint_judges_the_rebuilds(tmp_path: Path) -> None:
    """lint --dialect sqlite listed each migration SQLite makes by rebuilding a table as not
    analysed; with the migrations before it run in the scratch database it judges them, alone
    (FILES: the migrations of the folder before them are run first) or with the folder."""
    import json

    names = _guide(tmp_path)
    result = kysera("migrate", "lint", "--dialect", "sqlite", "--json")
    data = json.loads(result.stdout)
    assert data["unanalysed"] == [] and data["migrations"] == names, result.stdout
    swap = str(tmp_path / "project" / "migrations" / "010_swap_email.py")
    data = json.loads(kysera("migrate", "lint", "--dialect", "sqlite", "--json", swap).stdout)
    assert data["unanalysed"] == []
    assert {"KS102", "KS212", "KS302"} <= {f["code"] for f in data["findings"]}
    assert not data["ok"]  # KS102: its up drops the column email and its data
    apart = [str(tmp_path / "project" / "migrations" / f"{n}.py") for n in ("004_modify_name", "006_categories")]
    result = kysera("migrate", "lint", "--dialect", "sqlite", *apart)
    assert "not consecutive migrations of one folder" in result.stderr and "2 not analysed" in result.stdout


def test_a_migration_that_cannot_compile_is_named(tmp_path: Path) -> None:
    """What the engine lacks (MySQL 8.0's sequences) or the code's own error stops the script with
    the migration's name, not only the reason."""
    folder = project("sqlite:///never.db", count=1)
    (folder / "20990101000000_seq.py").write_text('def up(db):\n    db.schema.create_sequence("s1").execute()\n')
    result = kysera("migrate", "sql", "--dialect", "mysql")
    assert result.exit_code == 1 and result.stdout == ""
    assert "migration 20990101000000_seq (up) cannot be compiled for MySQL: sequences" in result.stderr
    (folder / "20990101000000_seq.py").write_text('def up(db):\n    raise ValueError("boom")\n')
    result = kysera("migrate", "sql", "--dialect", "postgres")
    assert result.exit_code == 1
    assert "migration 20990101000000_seq (up) cannot be compiled for PostgreSQL: ValueError: boom" in result.stderr


@pytest.mark.parametrize("dialect", ["postgres", "mysql", "sqlite"])
def test_json_given_before_the_command_keeps_its_error_document_out_of_the_script(tmp_path: Path, dialect: str) -> None:
    """migrate sql has no --json of its own, but the root group's is accepted (a wrapper that
    always passes it): its error document went to stdout, into `> deploy.sql`, and made the
    file look like a script that ran nothing."""
    import json

    project(f"postgresql://nobody@127.0.0.1:1/{dialect}")  # never contacted
    result = kysera("--json", "migrate", "sql", "--dialect", dialect, "--to", "nosuch")
    assert_clean_error(result, 2, "unknown migration 'nosuch'")
    assert result.stdout == ""
    data = json.loads(result.stderr[result.stderr.index("{") :])
    assert data["ok"] is False and data["error_type"] == "UnknownMigrationError"
    script = kysera("--json", "migrate", "sql", "--dialect", dialect)
    assert script.exit_code == 0 and f"-- {NAMES[0]} (up)" in script.stdout
    # a refused option too: `--json` after `sql` put its document into `> deploy.sql`, and click
    # suggested --down or --to for it
    for args in (["migrate", "sql", "--dialect", dialect, "--json"], ["--json", "migrate", "sql", "--bogus"]):
        result = kysera(*args)
        assert result.exit_code == 2 and result.stdout == "", (args, result.stdout)
        assert json.loads(result.stderr.splitlines()[0])["error_type"] == "UsageError"
    assert "prints the SQL script itself, no JSON document: leave --json out" in kysera("migrate", "sql", "--json").stderr


#: a migration that moves the session elsewhere, and where the next one and the history should be
SESSION_MOVES = {
    "postgres": ("CREATE SCHEMA kysera_s21_elsewhere;\nSET search_path TO kysera_s21_elsewhere;\nCREATE TABLE moved (id integer);", "RESET search_path;"),
    "mysql": ("SET SESSION sql_mode = 'ANSI_QUOTES';\nCREATE TABLE moved (id integer);", "SET SESSION sql_mode = DEFAULT;"),
    "sqlite": ("PRAGMA foreign_keys = OFF;\nCREATE TABLE moved (id integer);", "-- PRAGMA foreign_keys above holds for the rest of this script"),
}


@pytest.mark.parametrize("dialect", ["postgres", "mysql", "sqlite"])
def test_a_migrations_session_setting_ends_with_it_in_the_script_too(tmp_path: Path, dialect: str) -> None:
    """One client session runs the whole script: a migration's SET search_path used to hold for
    the later migrations and the history rows, which migrate up keeps apart (the session guard)."""
    up, restore = SESSION_MOVES[dialect]
    folder = Path.cwd() / "migrations"  # the test's project folder
    folder.mkdir()
    (folder / "001_moves.sql").write_text(f"-- migrate:up\n{up}\n-- migrate:down\nDROP TABLE moved;\n")
    (folder / "002_after.sql").write_text("-- migrate:up\nCREATE TABLE after_it (id integer);\n-- migrate:down\nDROP TABLE after_it;\n")
    write_config(Path.cwd(), "sqlite:///never.db")
    result = kysera("migrate", "sql", "--dialect", dialect)
    assert result.exit_code == 0, result.stderr
    script = result.stdout
    first = script.split("-- 001_moves (up)", 1)[1].split("-- 002_after (up)", 1)[0]
    # after the migration's own statements, before its history row
    assert first.index("CREATE TABLE") < first.index(restore) < first.index("INSERT INTO"), first
    assert restore not in script.split("-- 002_after (up)", 1)[1]


def test_a_postgres_script_keeps_the_history_where_migrate_up_keeps_it(db_url: str, engine: str, tmp_path: Path) -> None:
    """Run by psql: the migration after a SET search_path, and every history row, land in the
    schema the session started in."""
    import shutil
    import subprocess

    if engine != "postgres":
        pytest.skip("PostgreSQL's search_path")
    if shutil.which("psql") is None:
        pytest.skip("psql is not installed")
    folder = Path.cwd() / "migrations"  # the test's project folder
    folder.mkdir()
    (folder / "001_moves.sql").write_text(f"-- migrate:up\n{SESSION_MOVES['postgres'][0]}\n-- migrate:down\nDROP TABLE kysera_s21_elsewhere.moved;\n")
    (folder / "002_after.sql").write_text("-- migrate:up\nCREATE TABLE after_it (id integer);\n-- migrate:down\nDROP TABLE after_it;\n")
    write_config(Path.cwd(), db_url)
    script = kysera("migrate", "sql")
    assert script.exit_code == 0, script.stderr
    try:
        run = subprocess.run(["psql", "-X", "-q", "-d", db_url, "-f", "-"], input=script.stdout, capture_output=True, text=True, check=False)
        assert run.returncode == 0, run.stderr
        with connect(db_url) as db:
            assert db.table_exists("after_it") and db.table_exists("kysera_s21_elsewhere.moved")
            assert [row["name"] for row in db.fetch("SELECT name FROM public.kysera_migrations ORDER BY name")] == ["001_moves", "002_after"]
            assert not db.table_exists("kysera_s21_elsewhere.kysera_migrations")
    finally:
        with connect(db_url) as db:
            db.execute("DROP SCHEMA IF EXISTS kysera_s21_elsewhere CASCADE")
