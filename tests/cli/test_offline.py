"""``kysera migrate sql``: the script of a range of migrations, compiled with no database."""

from __future__ import annotations

from pathlib import Path

import pytest

from kysera import connect

from .conftest import assert_clean_error, kysera
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
    """The guide's "Adding Columns" down drops the columns it added: offline there is no table to
    read, so the SQLite script uses SQLite's own DROP COLUMN (3.35+), which refuses, when run, a
    column an index or a constraint still uses. It used to refuse to write the script (exit 2)."""
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
