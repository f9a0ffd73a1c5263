"""``kysera db dump`` / ``kysera db restore`` and ``migrate up --backup``, on each engine."""

from __future__ import annotations

import json
from pathlib import Path

from kysera import connect

from .conftest import assert_clean_error, kysera
from .test_workflow import NAMES, project, status_json, tables


def _drop_all_tables(db_url: str) -> None:
    """Empty the database for a restore: a few passes, as foreign keys order the drops."""
    from kysera.dialects.catalog import list_tables

    with connect(db_url) as db:
        for _ in range(3):
            for table in list_tables(db):
                try:
                    db.schema.drop_table(table).execute()
                except Exception:
                    pass


def test_dump_restore_round_trip(db_url: str, tmp_path: Path) -> None:
    project(db_url)
    assert kysera("migrate", "up").exit_code == 0
    backup = tmp_path / "backups" / "backup-before-migration.sql"
    result = kysera("db", "dump", "-o", str(backup))
    assert result.exit_code == 0, result.stderr
    assert "Dumped" in result.stdout and backup.is_file()
    assert list(backup.parent.iterdir()) == [backup]  # no temporary file left behind

    # restore needs an empty database: empty this one, then load the dump back
    _drop_all_tables(db_url)
    assert tables(db_url) == set()
    result = kysera("db", "restore", str(backup), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["statements"] > 0
    assert {"users", "posts", "comments", "kysera_migrations"} <= tables(db_url)
    assert status_json()["executed"] == NAMES
    with connect(db_url) as db:
        assert db.select_from("users").select(["email"]).fetch_all() == [{"email": "o'brien@example.com"}]


def test_dump_flags(tmp_path: Path) -> None:
    project(f"sqlite:///{tmp_path / 'app.db'}")
    assert kysera("migrate", "up").exit_code == 0
    schema = tmp_path / "schema.sql"
    assert kysera("db", "dump", "-o", str(schema), "--schema-only").exit_code == 0
    assert "CREATE TABLE" in schema.read_text() and "o''brien" not in schema.read_text()
    data = tmp_path / "data.sql"
    result = kysera("db", "dump", "-o", str(data), "--data-only", "--json")
    assert json.loads(result.stdout)["content"] == "data-only"
    assert "o''brien" in data.read_text()
    result = kysera("db", "dump", "-o", "-")
    assert result.exit_code == 0 and "-- kysera dump:" in result.stdout and "Dumped" in result.stderr
    assert_clean_error(kysera("db", "dump", "-o", "x.sql", "--schema-only", "--data-only"), 2, "cannot be used together")
    assert_clean_error(kysera("db", "restore", "missing.sql"), 2, "does not exist")
    # restore refuses a database that is not empty
    result = kysera("db", "restore", str(schema))
    assert result.exit_code != 0 and "Traceback" not in result.stderr


def test_up_with_backup(db_url: str, tmp_path: Path) -> None:
    project(db_url)
    assert kysera("migrate", "up", "--steps", "1").exit_code == 0
    folder = tmp_path / "backups"
    result = kysera("migrate", "up", "--backup", str(folder))
    assert result.exit_code == 0, result.stderr
    files = list(folder.glob("backup-*.sql"))
    assert len(files) == 1 and "backup of" in result.stderr
    text = files[0].read_text()
    assert "users" in text and "comments" not in text  # taken before the pending migrations ran
    # nothing pending: no backup; the JSON document says where a backup went, or null
    again = kysera("migrate", "up", "--backup", str(folder), "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["backup"] is None
    assert len(list(folder.glob("backup-*.sql"))) == 1


def test_up_with_backup_names_it_in_json(db_url: str, tmp_path: Path) -> None:
    project(db_url)
    result = kysera("migrate", "up", "--backup", str(tmp_path / "backups"), "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["ok"] and Path(document["backup"]).is_file() and Path(document["backup"]).parent == tmp_path / "backups"


def test_up_with_backup_waits_for_a_deploy_under_way(db_url: str, tmp_path: Path) -> None:
    """Two deploys with --backup at once: the second dumps only once the first has finished (its
    dump's table locks and the first's ALTERs deadlocked on PostgreSQL, failing the first), and
    then finds nothing pending: no backup, nothing to apply, exit 0."""
    import os
    import subprocess

    from kysera.dialects.locks import migration_lock
    from kysera.migrations import create_migration_runner, load_migrations

    from .conftest import KYSERA

    folder = project(db_url, count=2)
    assert kysera("migrate", "up", "--steps", "1").exit_code == 0
    backups = tmp_path / "backups"
    env = {k: v for k, v in os.environ.items() if k not in ("KYSERA_DATABASE_URL", "DATABASE_URL", "KYSERA_ENV")}
    with connect(db_url) as db:
        runner = create_migration_runner(db, load_migrations(folder))
        lock = migration_lock(db, runner.history.node)
        lock.acquire(5)
        proc = subprocess.Popen(
            [KYSERA, "migrate", "up", "--backup", str(backups)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            assert proc.stderr is not None
            waiting = proc.stderr.readline()
            assert "waiting for the migration lock" in waiting, waiting
            # the deploy holding the lock applies the pending migration meanwhile
            db.execute("CREATE TABLE posts (id integer PRIMARY KEY, title varchar(255) NOT NULL)")
            pending = runner.migrations[1]
            runner.history.insert(pending.name, checksum=pending.checksum, state="applied", batch=2)
        finally:
            lock.release()
        stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stdout + stderr
    assert "Nothing to apply: no pending migrations." in stdout
    assert not backups.exists() or not list(backups.iterdir())
    assert status_json()["executed"] == NAMES[:2]


def test_backups_in_the_same_second_never_replace_each_other(tmp_path: Path) -> None:
    """Two databases backed up into one folder, as fast as the CLI goes: two files."""
    folder = tmp_path / "backups"
    project(f"sqlite:///{tmp_path / 'one.db'}", count=1)
    for name in ("one", "two", "three"):  # each new database has the migration pending
        result = kysera("migrate", "up", "--backup", str(folder), "--url", f"sqlite:///{tmp_path / name}.db")
        assert result.exit_code == 0, result.stderr
    files = sorted(folder.glob("backup-*.sql"))
    assert len(files) == 3 and all(f.read_text() for f in files)
    assert not list(folder.glob(".kysera-dump-*"))


def test_dump_output_paths_that_cannot_take_a_dump_are_refused_first(tmp_path: Path) -> None:
    """A folder, or a path through a file: one clear line, exit 2, nothing written."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    project(url)
    assert kysera("migrate", "up").exit_code == 0
    (tmp_path / "backups").mkdir()

    assert_clean_error(kysera("db", "dump", "-o", str(tmp_path / "backups")), 2, "is a folder", "backup.sql")
    assert_clean_error(kysera("db", "dump", "-o", str(tmp_path / "app.db" / "x.sql")), 2, "is a file, not a folder")
    assert_clean_error(kysera("db", "dump", "-o", str(tmp_path / "app.db" / "a" / "x.sql")), 2, "is a file, not a folder")
    assert list((tmp_path / "backups").iterdir()) == []
    # a folder that does not exist yet is made, and the command says so
    result = kysera("db", "dump", "-o", str(tmp_path / "new" / "deeper" / "x.sql"))
    assert result.exit_code == 0 and "is created" in result.stderr
    assert (tmp_path / "new" / "deeper" / "x.sql").is_file()


def test_dump_to_a_device_writes_to_it_and_leaves_it_a_device(tmp_path: Path) -> None:
    import stat

    project(f"sqlite:///{tmp_path / 'app.db'}")
    assert kysera("migrate", "up").exit_code == 0
    result = kysera("db", "dump", "-o", "/dev/null")
    assert result.exit_code == 0, result.stderr
    assert stat.S_ISCHR(Path("/dev/null").stat().st_mode)
    if Path("/dev/full").exists():
        assert_clean_error(kysera("db", "dump", "-o", "/dev/full"), 1, "cannot write the dump to /dev/full")
        assert stat.S_ISCHR(Path("/dev/full").stat().st_mode)


def test_a_dump_file_gets_the_mode_a_redirect_would_give_it(tmp_path: Path) -> None:
    """Written through mkstemp, it was always 0600, and a 0644 backup it replaced became 0600."""
    import os
    import stat

    project(f"sqlite:///{tmp_path / 'app.db'}")
    assert kysera("migrate", "up").exit_code == 0
    umask = os.umask(0o022)
    try:
        assert kysera("db", "dump", "-o", "new.sql").exit_code == 0
        assert stat.S_IMODE(Path("new.sql").stat().st_mode) == 0o644
        Path("new.sql").chmod(0o640)
        assert kysera("db", "dump", "-o", "new.sql").exit_code == 0
        assert stat.S_IMODE(Path("new.sql").stat().st_mode) == 0o640  # a replaced backup keeps its mode
    finally:
        os.umask(umask)


def test_a_refused_restore_leaves_no_sqlite_file_behind(tmp_path: Path) -> None:
    dump = tmp_path / "pg.sql"
    dump.write_text("-- kysera dump: engine=postgres; content=schema+data; format=kysera\nCREATE TABLE t (id integer);\n")
    target = tmp_path / "new.db"
    result = kysera("db", "restore", str(dump), "--url", f"sqlite:///{target}")
    assert result.exit_code != 0
    assert not target.exists()


def test_restore_refuses_another_engines_dump_and_a_truncated_one_as_usage_errors(db_url: str, tmp_path: Path) -> None:
    """Found before anything ran, like a target that is not empty: exit 2, nothing loaded (they
    exited 1, the code of a restore that failed part-way)."""
    project(db_url, count=1)
    assert kysera("migrate", "up").exit_code == 0
    backup = tmp_path / "backup.sql"
    assert kysera("db", "dump", "-o", str(backup)).exit_code == 0
    text = backup.read_text(encoding="utf-8")
    engine = text.split("engine=", 1)[1].split(";", 1)[0]
    other = "sqlite" if engine != "sqlite" else "postgres"
    foreign = tmp_path / "foreign.sql"
    foreign.write_text(text.replace(f"engine={engine};", f"engine={other};", 1), encoding="utf-8")
    cut = tmp_path / "cut.sql"
    cut.write_text(text[: len(text) // 2], encoding="utf-8")
    with connect(db_url) as db:
        for table in ("users", "kysera_migrations"):
            db.schema.drop_table(table).execute()
    assert tables(db_url) == set()
    result = kysera("db", "restore", str(foreign))
    assert_clean_error(result, 2, "dump and this database is", "restore it into a")
    result = kysera("db", "restore", str(cut), "--json")
    assert_clean_error(result, 2, "the file is truncated; nothing was restored")
    assert json.loads(result.stdout)["exit_code"] == 2
    assert tables(db_url) == set()
    assert kysera("db", "restore", str(backup)).exit_code == 0
    assert status_json()["executed"] == NAMES[:1]


def test_restore_refuses_files_that_are_no_sql_script(db_url: str, tmp_path: Path) -> None:
    """Binary input was an unexpected UnicodeDecodeError (exit 1, "run again with -v"); the
    files a user mistakes for a dump are named, with what to do instead."""
    import gzip

    files = {
        "random.bin": (bytes(range(128, 256)) * 40, "is not a UTF-8 text file"),
        "app.dump": (b"PGDMP\x01\x0e\x00" + bytes(200), "pg_dump archive (custom format): load it with pg_restore"),
        "backup.sql.gz": (gzip.compress(b"CREATE TABLE t (id integer);\n"), "gzip-compressed: gunzip it first"),
        "app.db": (b"SQLite format 3\x00" + bytes(100), "an SQLite database file, not a dump"),
        # mysqldump without --hex-blob: binary values as raw bytes (it said "loads the SQL scripts
        # that kysera db dump writes", though restore reads mysqldump files)
        "mysqldump.sql": (
            b"-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB\n--\nCREATE TABLE t (b blob);\n"
            b"INSERT INTO `t` VALUES ('\xf8\x00\xff');\n",
            "written by mysqldump/mariadb-dump without --hex-blob",
        ),
        # PowerShell 5's `kysera db dump -o - > backup.sql`
        "utf16.sql": ("CREATE TABLE t (id integer);\n".encode("utf-16"), "is UTF-16 text"),
    }
    for name, (content, message) in files.items():
        (tmp_path / name).write_bytes(content)
        result = kysera("db", "restore", str(tmp_path / name), "--url", db_url)
        assert_clean_error(result, 2, message)
    assert tables(db_url) == set()


def test_dumping_a_sqlite_file_that_is_not_there_is_an_error(tmp_path: Path) -> None:
    """A misspelt path used to make an empty database and an empty backup, with exit 0."""
    missing = tmp_path / "missing.db"
    result = kysera("db", "dump", "-o", str(tmp_path / "x.sql"), "--url", f"sqlite:///{missing}")
    assert_clean_error(result, 2, f"the SQLite database {missing} does not exist")
    assert not missing.exists() and not (tmp_path / "x.sql").exists()


def test_what_a_dump_leaves_out_is_said_and_what_would_not_restore_is_refused(db_url: str, tmp_path: Path) -> None:
    """PostgreSQL: a column typed with a domain (or a composite or range type) made a dump that
    exited 0 and failed to restore; functions and triggers left out were only a comment in the file."""
    if "postgresql" not in db_url:
        return
    with connect(db_url) as db:
        db.execute("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$")
        db.execute("CREATE TABLE t (id integer PRIMARY KEY)")
    result = kysera("db", "dump", "-o", str(tmp_path / "a.sql"), "--url", db_url)
    assert result.exit_code == 0, result.stderr
    assert "1 function(s)/procedure(s) and 0 trigger(s)" in result.stderr
    data = json.loads(kysera("db", "dump", "-o", str(tmp_path / "b.sql"), "--url", db_url, "--json").stdout)
    assert any("function(s)" in note for note in data["notes"])
    with connect(db_url) as db:
        db.execute("CREATE DOMAIN posint AS integer CHECK (VALUE > 0)")
        db.execute("ALTER TABLE t ADD COLUMN p posint")
    result = kysera("db", "dump", "-o", str(tmp_path / "c.sql"), "--url", db_url)
    assert_clean_error(result, 1, "t.p (domain posint)", "--native")


def test_dump_over_the_sqlite_database_itself_is_refused(tmp_path: Path) -> None:
    """-o naming the database being dumped replaced it with the dump's text (exit 0)."""
    import os
    import sqlite3

    database = tmp_path / "app.db"
    project(f"sqlite:///{database}")
    assert kysera("migrate", "up").exit_code == 0
    before = database.read_bytes()
    (tmp_path / "link.db").symlink_to(database)
    os.link(database, tmp_path / "hard.db")
    spellings = [
        str(database),
        os.path.relpath(database),  # relative to the working folder
        str(tmp_path / "sub" / ".." / "app.db"),
        str(tmp_path / "link.db"),
        str(tmp_path / "hard.db"),
    ]
    (tmp_path / "sub").mkdir()
    for spelling in spellings:
        result = kysera("db", "dump", "-o", spelling)
        assert_clean_error(result, 2, f"-o {spelling} is the SQLite database being dumped", "another file")
    # the same through a file: URI, and through --url
    result = kysera("db", "dump", "-o", str(database), "--url", f"sqlite:///file:{database}?mode=ro")
    assert_clean_error(result, 2, "is the SQLite database being dumped")
    assert database.read_bytes() == before
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM kysera_migrations").fetchone()[0] == 3
    assert not list(tmp_path.glob(".kysera-dump-*"))
    # another file next to it is fine
    assert kysera("db", "dump", "-o", str(tmp_path / "app.sql")).exit_code == 0


def test_an_empty_output_path_is_refused_before_the_dump_runs(tmp_path: Path) -> None:
    project(f"sqlite:///{tmp_path / 'app.db'}")
    assert kysera("migrate", "up").exit_code == 0
    result = kysera("db", "dump", "-o", "")
    assert_clean_error(result, 2, "-o is empty", "-o backup.sql")
    assert "Dumped" not in result.stdout


def test_data_only_dump_without_the_history_loads_into_a_migrated_database(db_url: str, tmp_path: Path) -> None:
    """The CLI had no way to leave kysera_migrations out of a --data-only dump, so its restore
    into a database the migrations built was refused (the history table has rows)."""
    project(db_url)
    assert kysera("migrate", "up").exit_code == 0
    with connect(db_url) as db:
        db.insert_into("posts").values([{"title": "it's; here"}, {"title": "two"}]).execute()
        db.insert_into("comments").values([{"id": 7, "body": "c"}]).execute()
    data = tmp_path / "data.sql"
    result = kysera("db", "dump", "--data-only", "--exclude", "kysera_migrations", "-o", str(data), "--json")
    assert result.exit_code == 0, result.stderr
    assert "kysera_migrations" not in json.loads(result.stdout)["tables"]
    assert "kysera_migrations" not in data.read_text()
    before = status_json()
    with connect(db_url) as db:  # the migrations' schema, no rows: what a fresh `migrate up` leaves
        for table in ("comments", "posts", "users"):
            db.delete_from(table).execute()
    result = kysera("db", "restore", str(data))
    assert result.exit_code == 0, result.stderr
    assert status_json() == before
    with connect(db_url) as db:
        assert [r["title"] for r in db.select_from("posts").select(["title"]).order_by("id").fetch_all()] == ["it's; here", "two"]
        assert db.select_from("users").select(["email"]).fetch_all() == [{"email": "o'brien@example.com"}]
    # with the history in the dump, the refusal names the way out
    full = tmp_path / "full.sql"
    assert kysera("db", "dump", "--data-only", "-o", str(full)).exit_code == 0
    assert_clean_error(kysera("db", "restore", str(full)), 2, "already has rows", "--exclude")


def test_exclude_names_something_in_the_database(tmp_path: Path) -> None:
    project(f"sqlite:///{tmp_path / 'app.db'}")
    assert kysera("migrate", "up").exit_code == 0
    out = tmp_path / "x.sql"
    result = kysera("db", "dump", "-o", str(out), "--exclude", "posts", "--exclude", "kysera_migration")
    assert_clean_error(result, 2, "--exclude kysera_migration: the database has no table")
    assert not out.exists()
    result = kysera("db", "dump", "-o", str(out), "--exclude", "posts", "--exclude", "users")
    assert result.exit_code == 0, result.stderr
    text = out.read_text()
    assert "-- table posts" not in text and "-- table users" not in text and "-- table comments" in text
    # the native SQLite dump cannot leave tables out: the message names the CLI's options
    result = kysera("db", "dump", "-o", str(out), "--native", "--exclude", "posts")
    assert_clean_error(result, 2, "dump without --native to use --exclude")  # a usage mistake


def test_refusals_name_the_cli_option(db_url: str, tmp_path: Path) -> None:
    """A partitioned PostgreSQL table or a SQLite virtual table: the CLI said native=True."""
    with connect(db_url) as db:
        if "postgresql" in db_url:
            db.execute("CREATE TABLE measurements (at date NOT NULL, v int) PARTITION BY RANGE (at)")
        elif db_url.startswith("sqlite"):
            db.execute("CREATE VIRTUAL TABLE docs USING fts5(body)")
        else:
            return
    result = kysera("db", "dump", "-o", str(tmp_path / "x.sql"), "--url", db_url)
    assert_clean_error(result, 1, "dump with --native (")
    assert "native=True" not in result.stderr


def test_a_history_table_in_another_schema_comes_along(db_url: str, tmp_path: Path) -> None:
    """[migrations] table = "ops.kysera_history" (PostgreSQL): the dump left it out silently, and
    after a restore every migration showed pending."""
    if "postgresql" not in db_url:
        return
    with connect(db_url) as db:
        db.execute("CREATE SCHEMA ops")
    project(db_url)
    Path("kysera.toml").write_text(Path("kysera.toml").read_text() + '\n[migrations]\ntable = "ops.kysera_history"\n')
    assert kysera("migrate", "up").exit_code == 0
    before = status_json()
    backup = tmp_path / "backup.sql"
    result = kysera("db", "dump", "-o", str(backup), "--json")
    assert result.exit_code == 0, result.stderr
    dumped = json.loads(result.stdout)
    assert "ops.kysera_history" in dumped["tables"] and dumped["notes"] == []
    with connect(db_url) as db:  # an empty database: no ops schema either
        db.execute("DROP SCHEMA ops CASCADE")
        db.execute("DROP SCHEMA public CASCADE")
        db.execute("CREATE SCHEMA public")
    result = kysera("db", "restore", str(backup))
    assert result.exit_code == 0, result.stderr
    assert status_json() == before
    with connect(db_url) as db:  # the search_path the script switched is back, and ids go on
        assert db.fetch("SELECT current_schema() AS s")[0]["s"] == "public"
        db.execute("INSERT INTO ops.kysera_history (name, state, batch, applied_at) VALUES ('x', 'applied', 9, now())")
        assert db.fetch("SELECT max(id) AS m FROM ops.kysera_history")[0]["m"] == 4
    # a data-only dump leaves it out under its configured name
    data = tmp_path / "data.sql"
    result = kysera("db", "dump", "--data-only", "--exclude", "ops.kysera_history", "-o", str(data), "--json")
    assert result.exit_code == 0, result.stderr
    assert "kysera_history" not in data.read_text()


def test_a_dump_stopped_by_sigterm_leaves_no_partial_file(db_url: str, engine: str, tmp_path: Path) -> None:
    """A CI job's timeout during the pre-deploy backup: SIGTERM ended kysera at once, leaving its
    hidden temporary file (megabytes of half a dump) in the backups folder at every timeout."""
    import signal
    import subprocess
    import time

    from .conftest import KYSERA

    rows = {
        "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400000) SELECT i, 'x' || i FROM n",
        "postgres": "SELECT g, 'x' || g FROM generate_series(1, 400000) g",
        "mysql": "SELECT seq, CONCAT('x', seq) FROM seq_1_to_400000",
    }[engine]
    with connect(db_url) as db:
        db.execute("CREATE TABLE big (id integer PRIMARY KEY, t varchar(20))")
        db.execute(f"INSERT INTO big (id, t) {rows}")
    backups = tmp_path / "backups"
    backups.mkdir()
    (backups / "old.sql").write_text("-- an older backup\n")
    child = subprocess.Popen(
        [KYSERA, "db", "dump", "--url", db_url, "-o", str(backups / "pre.sql"), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while not any(p.name.startswith(".kysera-dump-") for p in backups.iterdir()) and time.monotonic() < deadline:
        assert child.poll() is None, child.communicate()
        time.sleep(0.01)
    child.send_signal(signal.SIGTERM)
    stdout, stderr = child.communicate(timeout=60)
    assert child.returncode == 143, stderr
    assert "terminated (SIGTERM): the dump did not finish" in stderr and "Traceback" not in stderr, stderr
    assert json.loads(stdout)["error_type"] == "Terminated"
    assert sorted(p.name for p in backups.iterdir()) == ["old.sql"]


def test_up_with_a_backup_folder_it_cannot_write_runs_nothing(db_url: str, tmp_path: Path) -> None:
    """A folder the deploy user cannot make (a path through a file, no permission, a read-only
    mount) was an 'unexpected error' (FileNotFoundError, NotADirectoryError...) asking for -v."""
    project(db_url)
    (tmp_path / "afile").write_text("")
    result = kysera("migrate", "up", "--backup", str(tmp_path / "afile" / "backups"), "--json")
    assert_clean_error(result, 1, f"cannot write the backup into {tmp_path / 'afile' / 'backups'}", "no migration ran")
    assert "unexpected" not in result.stderr
    assert json.loads(result.stdout)["error_type"] == "KyseraError"
    assert status_json()["executed"] == [] and tables(db_url) <= {"kysera_migrations"}


def test_up_with_a_backup_the_dump_cannot_make_runs_nothing(db_url: str, tmp_path: Path) -> None:
    """A table kysera's dump refuses (partitioned on PostgreSQL, virtual on SQLite) stopped the
    deploy with the dump's own message, "dump with --native": an option migrate up does not have,
    and no word that nothing ran."""
    project(db_url)
    with connect(db_url) as db:
        if db.dialect.name == "postgres":
            db.execute("CREATE TABLE m (id integer, at date) PARTITION BY RANGE (at)")
        elif db.dialect.name == "sqlite":
            db.execute("CREATE VIRTUAL TABLE docs USING fts5(body)")
        else:
            return  # nothing on MySQL/MariaDB is refused: what the dump leaves out is noted
    result = kysera("migrate", "up", "--backup", str(tmp_path / "backups"))
    assert_clean_error(
        result, 1, "cannot take the backup: ", "no migration ran", "kysera db dump --native -o FILE",
        "kysera migrate up without --backup",
    )
    assert status_json()["executed"] == []
    assert list((tmp_path / "backups").iterdir()) == []  # no empty backup file left behind


def test_up_with_backup_says_what_the_backup_leaves_out(db_url: str, tmp_path: Path) -> None:
    """kysera db dump warns that functions, triggers or stored routines are not in the dump; the
    backup migrate up --backup takes left them out without a word."""
    project(db_url)
    with connect(db_url) as db:
        if db.dialect.name == "postgres":
            db.execute("CREATE FUNCTION answer() RETURNS integer LANGUAGE sql AS 'SELECT 42'")
            expected = "backup: 1 function(s)/procedure(s) and 0 trigger(s) of schema public are not in this dump"
        elif db.dialect.name == "mysql":
            db.execute("CREATE PROCEDURE answer() SELECT 42")
            expected = "backup: 1 stored routine(s)/event(s) of"
        else:
            return  # SQLite: the dump holds everything the file does
    result = kysera("migrate", "up", "--backup", str(tmp_path / "backups"))
    assert result.exit_code == 0, result.stderr
    assert expected in result.stderr
    assert status_json()["pending"] == []


def test_a_dump_cleans_up_what_a_killed_dump_left_behind(tmp_path: Path) -> None:
    """A dump killed with SIGKILL cannot remove its half-written hidden file (megabytes): the next
    dump into that folder removes those whose process is gone, and leaves a running one's alone."""
    import os
    import subprocess
    import sys

    project(f"sqlite:///{tmp_path / 'app.db'}", count=1)
    assert kysera("migrate", "up").exit_code == 0
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    orphan = tmp_path / f".kysera-dump-{gone.stdout.strip()}-abc123.sql"
    running = tmp_path / f".kysera-dump-{os.getpid()}-def456.sql"
    for leftover in (orphan, running):
        leftover.write_text("-- half a dump")
    assert kysera("db", "dump", "-o", str(tmp_path / "backup.sql")).exit_code == 0
    assert not orphan.exists() and running.exists()
    assert sorted(p.name for p in tmp_path.glob(".kysera-dump-*")) == [running.name]


def test_dump_to_stdout_keeps_every_json_document_off_stdout(db_url: str) -> None:
    """With -o -, stdout is the dump: its --json summary went to stderr, but an error document
    (a refused --exclude, a usage error) went to stdout, into the file the script was writing
    (`kysera db dump -o - --json > backup.sql 2> result.json`)."""
    project(db_url, count=1)
    assert kysera("migrate", "up").exit_code == 0
    done = kysera("db", "dump", "-o", "-", "--json")
    assert done.exit_code == 0 and done.stdout.rstrip().endswith("-- kysera dump end")
    assert json.loads(done.stderr)["ok"] is True
    for args in (["--exclude", "nosuch"], ["--schema-only", "--data-only"]):
        result = kysera("db", "dump", "-o", "-", "--json", *args)
        assert result.exit_code == 2 and result.stdout == "", result.stdout
        document = result.stderr[result.stderr.index("{") : result.stderr.rindex("}") + 1]
        data = json.loads(document)
        assert data["ok"] is False and data["exit_code"] == 2
    written = kysera("db", "dump", "-o", "d.sql", "--json", "--exclude", "nosuch")  # a file: stdout is free
    assert written.exit_code == 2 and json.loads(written.stdout)["ok"] is False


def test_restore_from_stdin_is_in_its_help_and_says_so(db_url: str, tmp_path: Path) -> None:
    """`db restore -` reads the dump from stdin (dump | restore between two databases), but
    neither --help nor docs/cli.md said so, and it answered "Restored - (4 statements)"."""
    project(db_url, count=1)
    assert kysera("migrate", "up").exit_code == 0
    dump = kysera("db", "dump", "-o", "-")
    assert dump.exit_code == 0, dump.stderr
    target = f"sqlite:///{tmp_path / 'copy.db'}"
    if not db_url.startswith("sqlite"):
        _drop_all_tables(db_url)
        target = db_url
    result = kysera("db", "restore", "-", "--url", target, input=dump.stdout)
    assert result.exit_code == 0, result.stderr
    assert "Restored the dump from stdin (" in result.stdout
    assert status_json("--url", target)["executed"] == [NAMES[0]]
    assert "- to read it from stdin" in " ".join(kysera("db", "restore", "--help").stdout.split())
    assert "start a project inside another" in " ".join(kysera("init", "--help").stdout.split())
