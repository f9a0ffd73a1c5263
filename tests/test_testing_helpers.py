"""kysera.testing: the stairway check, scratch databases and the pytest plugin."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from kysera import Database, connect, sql
from kysera.migrations import Migration
from kysera.testing import check_migrations, scratch_database
from kysera.testing.stairway import NotScratchError

EXAMPLE = Path(__file__).parent.parent / "examples" / "blog"


def create_t(db: Database) -> None:
    db.schema.create_table("t").add_column("id", "integer", lambda c: c.primary_key()).add_column("v", "integer").execute()


def drop_t(db: Database) -> None:
    db.schema.drop_table("t").execute()


def add_index(db: Database) -> None:
    db.schema.create_index("ix_t_v").on("t").column("v").execute()


def forget_index(db: Database) -> None:
    # a down that does not undo its up exactly: the index goes, but a stray table stays
    db.schema.drop_index("ix_t_v").on("t").execute()
    db.schema.create_table("stray").add_column("id", "integer").execute()


def create_u(db: Database) -> None:
    db.schema.create_table("u").add_column("id", "integer").execute()


def target(engine: str, db_url: str) -> str | None:
    return None if engine == "sqlite" else db_url


def test_stairway_passes_on_good_migrations(engine: str, db_url: str) -> None:
    report = check_migrations(target(engine, db_url), [Migration("001_t", create_t, drop_t)])
    assert report.ok and report.checked == ["001_t"], report.render()


def test_stairway_names_what_a_down_leaves_behind(engine: str, db_url: str) -> None:
    migrations = [Migration("001_t", create_t, drop_t), Migration("002_ix", add_index, forget_index), Migration("003_x", create_u)]
    report = check_migrations(target(engine, db_url), migrations)
    assert not report.ok
    kinds = [(p.migration, p.kind) for p in report.problems]
    assert ("002_ix", "down-differs") in kinds and ("003_x", "no-down") in kinds
    details = next(p.details for p in report.problems if p.migration == "002_ix")
    assert any("stray" in line for line in details)
    assert "002_ix: down does not restore" in report.render()


def test_stairway_reports_a_missing_down_past_a_failure(engine: str, db_url: str) -> None:
    """The check stops at the first failure (what follows builds on it), but a migration without
    a down is plain to see in its file: it is reported whether or not the check reached it."""
    migrations = [Migration("001_t", create_t), Migration("002_t_again", create_t, drop_t), Migration("003_u", create_u)]
    report = check_migrations(target(engine, db_url), migrations)
    kinds = [(p.migration, p.kind) for p in report.problems]
    assert kinds == [("001_t", "no-down"), ("002_t_again", "failed"), ("003_u", "no-down")], report.render()
    assert report.checked == ["001_t", "002_t_again"] and report.not_reached == ["003_u"]
    assert "2 without down, 1 not reached after the failure" in report.render()
    assert "not reached after the failure: 003_u\n" in report.render()  # named, as --json does
    failure = next(p.details for p in report.problems if p.kind == "failed")
    assert failure[0].startswith("up: ") and failure[1].startswith("statement: CREATE TABLE")
    # the scratch database is gone when the check ends: no advice to resolve anything there
    assert "resolve" not in report.render()


def test_stairway_refuses_a_database_with_history(db: Database) -> None:
    from kysera.migrations import create_migration_runner

    migrations = [Migration("001_t", create_t, drop_t)]
    create_migration_runner(db, migrations).up()
    with pytest.raises(NotScratchError, match="scratch"):
        check_migrations(db, migrations)


def test_scratch_database_is_created_and_dropped(engine: str, db_url: str) -> None:
    with scratch_database(target(engine, db_url)) as db:
        create_t(db)
        name = db.url.database
    if engine != "sqlite":
        with connect(db_url) as admin:
            sql = "SELECT 1 AS x FROM pg_database WHERE datname = %s" if engine == "postgres" else "SELECT 1 AS x FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s"
            assert admin.fetch(sql, [name]) == []


def _database_exists(engine: str, db_url: str, name: str) -> bool:
    with connect(db_url) as admin:
        query = "SELECT 1 AS x FROM pg_database WHERE datname = %s" if engine == "postgres" else "SELECT 1 AS x FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s"
        return bool(admin.fetch(query, [name]))


def test_the_scratch_database_is_dropped_whoever_is_still_connected(engine: str, db_url: str) -> None:
    """A test that left a transaction open on its own connection: MariaDB's DROP DATABASE waited
    on its metadata lock (a day, by default)."""
    if engine == "sqlite":
        pytest.skip("a server's scratch database")
    with scratch_database(db_url) as db:
        create_t(db)
        name = db.url.database
        other = connect(db.url)
        other.execute("BEGIN" if engine == "postgres" else "START TRANSACTION")
        other.fetch("SELECT count(*) AS n FROM t")  # holds a lock on t
    assert not _database_exists(engine, db_url, name)


def test_sigterm_still_drops_the_scratch_database(engine: str, db_url: str, tmp_path: Path) -> None:
    """A CI job's timeout sends SIGTERM: the scratch database goes, as after Ctrl-C."""
    import signal
    import time

    if engine == "sqlite":
        pytest.skip("a server's scratch database")
    script = tmp_path / "hold.py"
    script.write_text(
        "import sys, time\nfrom kysera.testing import scratch_database\n"
        "with scratch_database(sys.argv[1]) as db:\n    print(db.url.database, flush=True)\n    time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, str(script), db_url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None
    name = child.stdout.readline().strip()
    assert name.startswith("kysera_scratch_") and _database_exists(engine, db_url, name)
    child.send_signal(signal.SIGTERM)
    child.wait(timeout=30)
    time.sleep(0.2)
    assert not _database_exists(engine, db_url, name)


def test_the_example_project_tests_pass_with_the_plugin(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests")],
        cwd=EXAMPLE, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout


def test_the_plugin_finds_the_projects_migrations_from_anywhere(tmp_path: Path) -> None:
    """pytest run from the project's parent folder: the fixtures take the folder of the kysera.toml
    nearest the tests (it looked in <rootdir>/migrations and failed with a traceback); a folder
    that is not there is one line naming the options that set it."""
    project = tmp_path / "app"
    (project / "db" / "migrations").mkdir(parents=True)
    (project / "tests").mkdir()
    (project / "kysera.toml").write_text('[database]\nurl = "sqlite:///app.db"\n\n[migrations]\ndirectory = "db/migrations"\n')
    (project / "db" / "migrations" / "001_t.py").write_text(
        "def up(db):\n    db.schema.create_table('t').add_column('id', 'integer').execute()\n\n"
        "def down(db):\n    db.schema.drop_table('t').execute()\n"
    )
    (project / "tests" / "test_m.py").write_text(
        "def test_up(migration_runner):\n    assert migration_runner.up().executed == ['001_t']\n"
    )
    # -W error: as strict projects run it (pytest 9 deprecates what the plugin used to read)
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-W", "error", "-p", "no:cacheprovider", "app/tests"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and "1 passed" in run.stdout, run.stdout + run.stderr
    (project / "kysera.toml").unlink()
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "app/tests"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 1
    assert "the migrations folder" in run.stdout and "--kysera-migrations PATH" in run.stdout, run.stdout
    assert "Traceback" not in run.stdout and "loader.py" not in run.stdout


def test_the_migration_runner_fixture_runs_with_the_projects_settings(engine: str, db_url: str, tmp_path: Path) -> None:
    """migration_runner takes the [migrations] table and the [safety] settings of the project's
    kysera.toml, as `kysera migrate up` does: it ignored them, so a drop the project acknowledges
    in `allow` was refused in the tests, and the history went to another table than the CLI's. A
    qualified table stays in the scratch database (MySQL: not in a database `audit` beside it)."""
    import os

    (tmp_path / "migrations").mkdir()
    (tmp_path / "kysera.toml").write_text(
        '[database]\nurl = "sqlite:///app.db"\n\n[migrations]\ntable = "audit.app_history"\n\n[safety]\nallow = ["KS102"]\n'
    )
    (tmp_path / "migrations" / "001_t.py").write_text(
        "def up(db):\n    db.schema.create_table('t').add_column('id', 'integer', lambda c: c.primary_key())"
        ".add_column('v', 'integer').execute()\n\n\ndef down(db):\n    db.schema.drop_table('t').execute()\n"
    )
    (tmp_path / "migrations" / "002_drop_v.py").write_text(
        "def up(db):\n    db.schema.alter_table('t').drop_column('v').execute()\n\n\n"
        "def down(db):\n    db.schema.alter_table('t').add_column('v', 'integer').execute()\n"
    )
    history = "audit.app_history" if engine == "postgres" else "app_history"
    (tmp_path / "test_data.py").write_text(
        "def test_a_drop_the_project_allows(migration_runner, kysera_db):\n"
        "    migration_runner.up_to('001_t')\n"
        "    kysera_db.insert_into('t').values({'id': 1, 'v': 2}).execute()\n"
        "    assert migration_runner.up().executed == ['002_drop_v']\n"
        f"    assert kysera_db.table_exists({history!r}) and not kysera_db.table_exists('kysera_migrations')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "KYSERA_TEST_URL"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_data.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={**env, "KYSERA_TEST_URL": target(engine, db_url) or ""},
    )
    assert run.returncode == 0 and "1 passed" in run.stdout, run.stdout + run.stderr
    if engine == "mysql":
        assert not _database_exists(engine, db_url, "audit")


def test_the_migration_runner_fixture_reads_the_environment_kysera_env_names(tmp_path: Path) -> None:
    """With KYSERA_ENV set, the CLI applies the config's [env.NAME] section: the fixture, which
    reads the config "as the CLI reads it", ignored it."""
    import os

    (tmp_path / "migrations").mkdir()
    (tmp_path / "kysera.toml").write_text(
        '[database]\nurl = "sqlite:///app.db"\n\n[env.ci.migrations]\ntable = "ci_history"\n'
    )
    (tmp_path / "migrations" / "001_t.py").write_text(
        "def up(db):\n    db.schema.create_table('t').add_column('id', 'integer').execute()\n"
    )
    (tmp_path / "test_env.py").write_text(
        "def test_env(migration_runner, kysera_db):\n"
        "    assert migration_runner.up().executed == ['001_t']\n"
        "    assert kysera_db.table_exists('ci_history') and not kysera_db.table_exists('kysera_migrations')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "KYSERA_TEST_URL"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_env.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env={**env, "KYSERA_ENV": "ci"},
    )
    assert run.returncode == 0 and "1 passed" in run.stdout, run.stdout + run.stderr


def test_the_kysera_db_fixture_makes_and_drops_a_database_on_each_engine(engine: str, db_url: str, tmp_path: Path) -> None:
    """kysera_db from $KYSERA_TEST_URL (empty: SQLite, as a CI matrix's SQLite row sets it; it
    was an error) and --kysera-url; a URL that does not work is one line naming where it came
    from (it was a traceback through kysera's connect code)."""
    import os

    (tmp_path / "migrations").mkdir()
    seen = tmp_path / "seen.txt"
    (tmp_path / "test_db.py").write_text(
        "def test_db(kysera_db, migration_runner):\n"
        f"    open({str(seen)!r}, 'a').write(str(kysera_db.url) + '\\n')\n"
        "    kysera_db.execute('CREATE TABLE t (id integer)')\n"
        "    assert migration_runner.status().total == 0\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "KYSERA_TEST_URL"}

    def pytest_run(*args: str, url: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, "test_db.py"],
            cwd=tmp_path, capture_output=True, text=True, timeout=300,
            env=env if url is None else {**env, "KYSERA_TEST_URL": url},
        )

    runs = [pytest_run(url=target(engine, db_url) or ""), pytest_run("--kysera-url", target(engine, db_url) or "")]
    for run in runs:
        assert run.returncode == 0 and "1 passed" in run.stdout, run.stdout + run.stderr
    urls = seen.read_text().split()
    assert len(urls) == 2 and urls[0] != urls[1]
    for url in urls:
        if engine == "sqlite":
            assert not Path(url.removeprefix("sqlite:///")).exists()
        else:
            name = url.rpartition("/")[2]
            assert name.startswith("kysera_scratch_") and not _database_exists(engine, db_url, name)
    broken = {"sqlite": "oracle://scott@db/x", "postgres": "postgresql://postgres@127.0.0.1:1/x",
              "mysql": "mysql://root:wrong-password@127.0.0.1:3306/test"}[engine]
    for run, source in ((pytest_run(url=broken), "$KYSERA_TEST_URL"), (pytest_run("--kysera-url", broken), "--kysera-url")):
        assert run.returncode == 1 and "1 error" in run.stdout, run.stdout
        assert "kysera_db: " in run.stdout and f"(the URL comes from {source})" in run.stdout, run.stdout
        assert "Traceback" not in run.stdout and "raise " not in run.stdout and "wrong-password" not in run.stdout, run.stdout
        assert "During handling" not in run.stdout, run.stdout  # one message, not the error chained twice


def test_stairway_takes_a_column_renamed_and_back_with_views_checks_and_triggers_on_it(engine: str, db_url: str) -> None:
    """SQLite quotes the names a rename touches in the stored text of views, checks and triggers,
    also when renamed back: the same SQL, not a change (it failed the check)."""

    def make(db: Database) -> None:
        db.schema.create_table("p").add_column("id", "integer").add_column("price", "integer", lambda c: c.check(sql("price >= 0"))).execute()
        db.execute("CREATE VIEW cheap AS SELECT id FROM p WHERE price < 10")

    def drop(db: Database) -> None:
        db.execute("DROP VIEW cheap")
        db.schema.drop_table("p").execute()

    def rename(db: Database) -> None:
        db.schema.alter_table("p").rename_column("price", "cost").execute()

    def back(db: Database) -> None:
        db.schema.alter_table("p").rename_column("cost", "price").execute()

    report = check_migrations(target(engine, db_url), [Migration("001_p", make, drop), Migration("002_r", rename, back)])
    assert report.ok and not report.problems, report.render()


def test_stairway_fails_a_swap_of_renamed_columns_next_to_a_column_added_back(engine: str, db_url: str) -> None:
    """The column the down adds back comes last, which is allowed; two others that traded places
    are not (the allowance covered the whole table)."""

    def make(db: Database) -> None:
        (db.schema.create_table("people").add_column("id", "integer").add_column("first_name", "varchar(50)")
         .add_column("last_name", "varchar(50)").add_column("nickname", "varchar(50)").execute())

    def up(db: Database) -> None:
        db.schema.alter_table("people").rename_column("first_name", "given_name").execute()
        db.schema.alter_table("people").rename_column("last_name", "family_name").execute()
        db.schema.alter_table("people").drop_column("nickname").execute()

    def swapped(db: Database) -> None:
        db.schema.alter_table("people").add_column("nickname", "varchar(50)").execute()
        db.schema.alter_table("people").rename_column("given_name", "last_name").execute()
        db.schema.alter_table("people").rename_column("family_name", "first_name").execute()

    def right(db: Database) -> None:
        db.schema.alter_table("people").add_column("nickname", "varchar(50)").execute()
        db.schema.alter_table("people").rename_column("given_name", "first_name").execute()
        db.schema.alter_table("people").rename_column("family_name", "last_name").execute()

    def drop(db: Database) -> None:
        db.schema.drop_table("people").execute()

    report = check_migrations(target(engine, db_url), [Migration("001_p", make, drop), Migration("002_x", up, swapped)])
    assert [(p.migration, p.kind) for p in report.problems] == [("002_x", "down-differs")], report.render()
    report = check_migrations(target(engine, db_url), [Migration("001_p", make, drop), Migration("002_x", up, right)])
    assert report.ok and not report.problems, report.render()  # nickname was last before too


def test_migrate_test_command(tmp_path: Path) -> None:
    kysera = Path(sys.executable).with_name("kysera")
    configured = EXAMPLE / "blog.db"  # the README's quickstart makes it; a fresh checkout has none
    before = configured.read_bytes() if configured.exists() else None
    run = subprocess.run([str(kysera), "migrate", "test"], cwd=EXAMPLE, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "stairway ok" in run.stdout
    # the configured database was not touched
    assert (configured.read_bytes() if configured.exists() else None) == before


def test_stairway_a_renamed_indexed_column_renamed_back_is_the_same_index(engine: str, db_url: str) -> None:
    """SQLite rewrites the index's text when a column is renamed (`email` comes back as "email"):
    the same index, quoted otherwise, is no difference."""

    def make(db: Database) -> None:
        db.schema.create_table("t").add_column("email", "varchar(100)").execute()
        db.schema.create_index("ix_email").on("t").column("email").execute()

    def rename(db: Database) -> None:
        db.schema.alter_table("t").rename_column("email", "mail").execute()

    def rename_back(db: Database) -> None:
        db.schema.alter_table("t").rename_column("mail", "email").execute()

    report = check_migrations(target(engine, db_url), [Migration("001_t", make, drop_t), Migration("002_r", rename, rename_back)])
    assert report.ok, report.render()


def test_stairway_passes_the_guides_foreign_key_and_its_drop(engine: str, db_url: str) -> None:
    """The guide's add_foreign_key_constraint, undone by drop_constraint: on MySQL/MariaDB the
    index InnoDB made for the key goes with it, so the down gives back the schema."""

    def make(db: Database) -> None:
        db.schema.create_table("categories").add_column("id", "integer", lambda c: c.primary_key()).execute()
        db.schema.create_table("posts").add_column("id", "integer", lambda c: c.primary_key()).add_column("category_id", "integer").execute()

    def drop_both(db: Database) -> None:
        db.schema.drop_table("posts").execute()
        db.schema.drop_table("categories").execute()

    def add_key(db: Database) -> None:
        (
            db.schema.alter_table("posts")
            .add_foreign_key_constraint("fk_posts_category", ["category_id"], "categories", ["id"])
            .on_delete("set null")
            .execute()
        )

    def drop_key(db: Database) -> None:
        db.schema.alter_table("posts").drop_constraint("fk_posts_category").execute()

    report = check_migrations(target(engine, db_url), [Migration("001_t", make, drop_both), Migration("002_fk", add_key, drop_key)])
    assert report.ok, report.render()


def test_stairway_passes_an_index_that_serves_a_foreign_key_and_its_drop(engine: str, db_url: str) -> None:
    """An index led by a foreign key's column, dropped by the down: InnoDB had dropped the index
    it made for the key when this one came to serve it, and refused to drop this one (error
    1553); kysera gives the key its index back in the same ALTER TABLE, the schema of before."""

    def make(db: Database) -> None:
        db.schema.create_table("parent").add_column("id", "integer", lambda c: c.primary_key()).execute()
        (
            db.schema.create_table("child")
            .add_column("id", "integer", lambda c: c.primary_key())
            .add_column("parent_id", "integer", lambda c: c.references("parent.id"))
            .add_column("kind", "varchar(10)")
            .execute()
        )

    def drop_both(db: Database) -> None:
        db.schema.drop_table("child").execute()
        db.schema.drop_table("parent").execute()

    def index(db: Database) -> None:
        db.schema.create_index("ix_child_parent_kind").on("child").columns(["parent_id", "kind"]).execute()

    def drop_index(db: Database) -> None:
        db.schema.drop_index("ix_child_parent_kind").on("child").execute()

    report = check_migrations(target(engine, db_url), [Migration("001_t", make, drop_both), Migration("002_ix", index, drop_index)])
    assert report.ok, report.render()


def test_stairway_passes_a_column_with_references_and_its_drop(engine: str, db_url: str) -> None:
    """An up that adds a column declared with references(), a down that drops the column: the
    key goes with it on every engine (on MySQL/MariaDB kysera drops it, and its index, first)."""

    def make(db: Database) -> None:
        db.schema.create_table("authors").add_column("id", "integer", lambda c: c.primary_key()).execute()
        db.schema.create_table("books").add_column("id", "integer", lambda c: c.primary_key()).execute()

    def drop_both(db: Database) -> None:
        db.schema.drop_table("books").execute()
        db.schema.drop_table("authors").execute()

    def add_editor(db: Database) -> None:
        (
            db.schema.alter_table("books")
            .add_column("editor_id", "integer", lambda c: c.references("authors.id").on_delete("cascade"))
            .execute()
        )

    def drop_editor(db: Database) -> None:
        db.schema.alter_table("books").drop_column("editor_id").execute()

    migrations = [Migration("001_t", make, drop_both), Migration("002_editor", add_editor, drop_editor)]
    report = check_migrations(target(engine, db_url), migrations)
    assert report.ok and report.checked == ["001_t", "002_editor"], report.render()


def test_stairway_passes_a_named_primary_key_and_its_drop(engine: str, db_url: str) -> None:
    """add_primary_key_constraint(name) undone by drop_constraint(name): on MySQL/MariaDB, which
    name every primary key PRIMARY, kysera finds the key by the name it kept."""

    def make(db: Database) -> None:
        db.schema.create_table("reviews").add_column("slug", "varchar(20)", lambda c: c.not_null()).add_column("body", "text").execute()

    def drop_reviews(db: Database) -> None:
        db.schema.drop_table("reviews").execute()

    def add_key(db: Database) -> None:
        db.schema.alter_table("reviews").add_primary_key_constraint("reviews_pk", ["slug"]).execute()

    def drop_key(db: Database) -> None:
        db.schema.alter_table("reviews").drop_constraint("reviews_pk").execute()

    migrations = [Migration("001_t", make, drop_reviews), Migration("002_pk", add_key, drop_key)]
    report = check_migrations(target(engine, db_url), migrations)
    assert report.ok and report.checked == ["001_t", "002_pk"], report.render()


def test_stairway_a_column_added_back_last_is_reported_not_failed(engine: str, db_url: str) -> None:
    def make(db: Database) -> None:
        db.schema.create_table("t").add_column("a", "integer").add_column("b", "integer").add_column("c", "integer").execute()

    def drop_b(db: Database) -> None:
        db.schema.alter_table("t").drop_column("b").execute()

    def add_b(db: Database) -> None:
        db.schema.alter_table("t").add_column("b", "integer").execute()

    report = check_migrations(target(engine, db_url), [Migration("001_t", make, drop_t), Migration("002_drop_b", drop_b, add_b)])
    assert report.ok, report.render()
    assert [(p.migration, p.kind) for p in report.problems] == [("002_drop_b", "order-differs")]
    assert "1 with columns back in another order (not a failure)" in report.render()


def test_stairway_fails_renamed_columns_that_traded_places(engine: str, db_url: str) -> None:
    """An up that swaps first_name and last_name (three renames) with a down that does nothing:
    the same columns in another order, but no column was added back, so it is no allowance."""

    def make(db: Database) -> None:
        db.schema.create_table("people").add_column("id", "integer").add_column("first_name", "varchar(50)").add_column("last_name", "varchar(50)").execute()

    def drop_people(db: Database) -> None:
        db.schema.drop_table("people").execute()

    def swap(db: Database) -> None:
        db.schema.alter_table("people").rename_column("first_name", "tmp").execute()
        db.schema.alter_table("people").rename_column("last_name", "first_name").execute()
        db.schema.alter_table("people").rename_column("tmp", "last_name").execute()

    report = check_migrations(target(engine, db_url), [Migration("001_people", make, drop_people), Migration("002_swap", swap, lambda db: None)])
    assert not report.ok
    problem = next(p for p in report.problems if p.migration == "002_swap")
    assert problem.kind == "down-differs" and any("traded places" in line for line in problem.details)


def test_stairway_sees_a_table_comment_the_down_forgets(engine: str, db_url: str) -> None:
    if engine == "sqlite":
        pytest.skip("SQLite keeps no table comments")

    def comment(db: Database) -> None:
        db.schema.alter_table("t").comment("who is who").execute()

    report = check_migrations(target(engine, db_url), [Migration("001_t", create_t, drop_t), Migration("002_c", comment, lambda db: None)])
    problem = next(p for p in report.problems if p.migration == "002_c")
    assert "table t comment changed: none -> 'who is who'" in problem.details


def test_stairway_sees_a_trigger_or_function_the_down_forgets(engine: str, db_url: str) -> None:
    def audit(db: Database) -> None:
        db.schema.create_table("audit").add_column("id", "integer").execute()
        if engine == "postgres":
            db.execute(
                "CREATE FUNCTION log_t() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN INSERT INTO audit VALUES (NEW.id); RETURN NEW; END $$"
            )
            db.execute("CREATE TRIGGER t_log AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION log_t()")
        elif engine == "mysql":
            db.execute("CREATE TRIGGER t_log AFTER INSERT ON t FOR EACH ROW INSERT INTO audit VALUES (NEW.id)")
            db.execute("CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2")
        else:
            db.execute("CREATE TRIGGER t_log AFTER INSERT ON t BEGIN INSERT INTO audit VALUES (NEW.id); END")

    def forgetful(db: Database) -> None:
        db.schema.drop_table("audit").execute()  # the trigger and the function stay behind

    report = check_migrations(target(engine, db_url), [Migration("001_t", create_t, drop_t), Migration("002_audit", audit, forgetful)])
    problem = next(p for p in report.problems if p.migration == "002_audit")
    assert problem.kind == "down-differs"
    assert "trigger t_log on t added" in problem.details
    if engine != "sqlite":
        assert f"function {'log_t()' if engine == 'postgres' else 'twice'} added" in problem.details


def test_stairway_sees_a_foreign_key_made_deferrable_or_not_valid_on_postgres(engine: str, db_url: str) -> None:
    if engine != "postgres":
        pytest.skip("PostgreSQL's DEFERRABLE and NOT VALID")

    def make(db: Database) -> None:
        db.execute("CREATE TABLE p (id integer PRIMARY KEY)")
        db.execute("CREATE TABLE c (id integer PRIMARY KEY, p_id integer CONSTRAINT c_p REFERENCES p (id))")

    def drop(db: Database) -> None:
        db.execute("DROP TABLE c")
        db.execute("DROP TABLE p")

    def defer(db: Database) -> None:
        db.execute("ALTER TABLE c ALTER CONSTRAINT c_p DEFERRABLE INITIALLY DEFERRED")

    def not_valid(db: Database) -> None:
        db.execute("ALTER TABLE c DROP CONSTRAINT c_p")
        db.execute("ALTER TABLE c ADD CONSTRAINT c_p FOREIGN KEY (p_id) REFERENCES p (id) NOT VALID")

    for change, said in ((defer, "not deferrable -> initially deferred"), (not_valid, "is NOT VALID now")):
        report = check_migrations(db_url, [Migration("001_t", make, drop), Migration("002_x", change, lambda db: None)])
        problem = next(p for p in report.problems if p.migration == "002_x")
        assert any(said in line for line in problem.details), problem.details


def test_stairway_takes_other_spellings_of_the_same_index_and_default(engine: str, db_url: str) -> None:
    """A down that writes the index or the default another way (keyword case, spacing, an ASC
    that is the default, now() for CURRENT_TIMESTAMP) restores the same schema: no alarm. A
    real difference still fails, showing both definitions."""
    from kysera import sql

    def make(db: Database) -> None:
        db.execute("CREATE TABLE t (x integer, s varchar(10), ts timestamp DEFAULT CURRENT_TIMESTAMP)")
        db.execute("CREATE INDEX t_ix ON t (x, s)")

    def drop(db: Database) -> None:
        db.execute("DROP INDEX t_ix" + (" ON t" if db.dialect.name == "mysql" else ""))
        db.schema.alter_table("t").alter_column("ts", lambda c: c.drop_default()).execute()

    def back_spelt_otherwise(db: Database) -> None:
        db.execute("create  index t_ix on t (x ASC,s)")
        now = "now()" if db.dialect.name != "sqlite" else "current_timestamp"
        db.schema.alter_table("t").alter_column("ts", lambda c: c.set_default(sql(now))).execute()

    def back_descending(db: Database) -> None:
        db.execute("CREATE INDEX t_ix ON t (x DESC, s)")
        db.schema.alter_table("t").alter_column("ts", lambda c: c.set_default(sql("CURRENT_TIMESTAMP"))).execute()

    def drop_all(db: Database) -> None:
        db.schema.drop_table("t").execute()

    good = check_migrations(target(engine, db_url), [Migration("001_t", make, drop_all), Migration("002_x", drop, back_spelt_otherwise)])
    assert good.ok, good.render()
    bad = check_migrations(target(engine, db_url), [Migration("001_t", make, drop_all), Migration("002_x", drop, back_descending)])
    assert not bad.ok
    shown = bad.render()
    assert "t_ix" in shown and ("DESC" in shown or "desc" in shown or "sort order" in shown), shown


def test_stairway_sees_on_update_collation_and_prefix_changes_on_mysql(engine: str, db_url: str) -> None:
    """MariaDB/MySQL keep ON UPDATE, a column's collation and an index's prefix length where the
    introspection did not look: downs that left them changed passed."""
    if engine != "mysql":
        pytest.skip("ON UPDATE, column collations and prefix indexes as MySQL/MariaDB keep them")

    def make(db: Database) -> None:
        db.execute("CREATE TABLE t (s varchar(10) DEFAULT 'x', ts timestamp NULL DEFAULT CURRENT_TIMESTAMP)")
        db.execute("CREATE INDEX t_sx ON t (s(3))")

    def drop_all(db: Database) -> None:
        db.schema.drop_table("t").execute()

    cases = {
        "ON UPDATE": ("ALTER TABLE t MODIFY ts timestamp NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP", "SELECT 1"),
        "collation": ("ALTER TABLE t MODIFY s varchar(10) CHARACTER SET latin1 DEFAULT 'x'", "SELECT 1"),
        "t_sx": ("DROP INDEX t_sx ON t", "CREATE INDEX t_sx ON t (s)"),
    }
    for expected, (up_sql, down_sql) in cases.items():
        up = Migration("002_x", lambda db, q=up_sql: db.execute(q), lambda db, q=down_sql: db.execute(q))
        report = check_migrations(db_url, [Migration("001_t", make, drop_all), up])
        assert not report.ok and expected in report.render(), (expected, report.render())
    same = Migration("002_x", lambda db: db.execute("DROP INDEX t_sx ON t"), lambda db: db.execute("CREATE INDEX t_sx ON t (s(3))"))
    assert check_migrations(db_url, [Migration("001_t", make, drop_all), same]).ok


def test_a_qualified_history_table_stays_in_the_scratch_database(engine: str, db_url: str) -> None:
    """[migrations] table = "audit.kysera_migrations": on MySQL the qualifier is another
    database, where the check recorded its migrations; on PostgreSQL a schema the scratch
    database did not have."""
    if engine == "sqlite":
        pytest.skip("a server's scratch database")
    report = check_migrations(url=db_url, directory=[Migration("001_t", create_t, drop_t)], table_name="audit.kysera_migrations")
    assert report.ok, report.render()
    with connect(db_url) as db:
        assert "audit" not in [str(r["n"]) for r in db.fetch(
            "SELECT schema_name AS n FROM information_schema.schemata WHERE schema_name = 'audit'"
        )]


def test_ctrl_c_during_migrate_test_speaks_of_the_scratch_database(tmp_path: Path) -> None:
    """It said the migration may be partly applied and to run migrate status, which reads the
    configured database the check never touched."""
    (tmp_path / "migrations").mkdir()
    (tmp_path / "kysera.toml").write_text('[database]\nurl = "sqlite:///app.db"\n')
    (tmp_path / "migrations" / "001_slow.py").write_text(
        "import time\n\ndef up(db):\n    db.schema.create_table('a').add_column('id', 'integer').execute()\n"
        "    if not db.capturing:\n        time.sleep(30)\n\ndef down(db):\n    db.schema.drop_table('a').execute()\n"
    )
    from .conftest import interrupted

    code, stderr = interrupted([str(Path(sys.executable).with_name("kysera")), "migrate", "test"], tmp_path)
    assert code == 130
    assert "the stairway check stopped; its scratch database is dropped" in stderr, stderr
    assert not (tmp_path / "app.db").exists()


def test_stairway_sees_sequence_options_the_down_forgets(engine: str, db_url: str) -> None:
    """Only a sequence's name was compared: alter_sequence(...).increment_by(5) with a down that
    left it passed. Its current value (nextval in a migration) is no difference."""
    if engine == "sqlite":
        pytest.skip("SQLite has no sequences")

    def make(db: Database) -> None:
        db.schema.create_sequence("s").execute()

    def drop(db: Database) -> None:
        db.schema.drop_sequence("s").execute()

    def step_by_five(db: Database) -> None:
        db.schema.alter_sequence("s").increment_by(5).cycle().execute()

    def step_by_one(db: Database) -> None:
        db.schema.alter_sequence("s").increment_by(1).cycle(False).execute()

    def take_one(db: Database) -> None:
        db.execute("SELECT nextval('s')" if engine == "postgres" else "SELECT NEXTVAL(s)")

    bad = check_migrations(db_url, [Migration("001_s", make, drop), Migration("002_x", step_by_five, lambda db: None)])
    problem = next(p for p in bad.problems if p.migration == "002_x")
    assert problem.kind == "down-differs"
    assert problem.details == ("sequence s changed: increment 1 -> 5; cycle no cycle -> cycle",), problem.details
    good = check_migrations(db_url, [Migration("001_s", make, drop), Migration("002_x", step_by_five, step_by_one), Migration("003_n", take_one, lambda db: None)])
    assert good.ok and good.problems == [], good.render()


def test_stairway_sees_a_schema_the_down_forgets_on_postgres(engine: str, db_url: str) -> None:
    """Only the connection's schema was read: create_schema("reports").if_not_exists() with a
    down that left it passed, and without if_not_exists only 'already exists' named it."""
    if engine != "postgres":
        pytest.skip("PostgreSQL's schemas (on MySQL/MariaDB a schema is a database of the server)")

    def make(db: Database) -> None:
        db.schema.create_schema("reports").if_not_exists().execute()

    def drop(db: Database) -> None:
        db.schema.drop_schema("reports").execute()

    bad = check_migrations(db_url, [Migration("001_t", create_t, drop_t), Migration("002_s", make, lambda db: None)])
    problem = next(p for p in bad.problems if p.migration == "002_s")
    assert problem.kind == "down-differs" and problem.details == ("schema reports added",), problem.details
    good = check_migrations(db_url, [Migration("001_t", create_t, drop_t), Migration("002_s", make, drop)])
    assert good.ok and good.problems == [], good.render()
    # a history table in a schema of its own is no difference
    kept = check_migrations(db_url, [Migration("001_t", create_t, drop_t)], table_name="audit.kysera_migrations")
    assert kept.ok and kept.problems == [], kept.render()


def test_stairway_sees_a_domain_the_down_forgets_on_postgres(engine: str, db_url: str) -> None:
    """Domains were not read: a down that left one behind, or left its default, NOT NULL or
    check changed, passed."""
    if engine != "postgres":
        pytest.skip("PostgreSQL's domains")

    def make(db: Database) -> None:
        db.execute("CREATE DOMAIN code AS varchar(10) COLLATE \"C\" CHECK (VALUE <> '')")

    def drop(db: Database) -> None:
        db.execute("DROP DOMAIN code")

    def tighten(db: Database) -> None:
        db.execute("ALTER DOMAIN code SET NOT NULL")
        db.execute("ALTER DOMAIN code SET DEFAULT 'x'")

    def loosen(db: Database) -> None:
        db.execute("ALTER DOMAIN code DROP NOT NULL")
        db.execute("ALTER DOMAIN code DROP DEFAULT")

    def recheck(db: Database) -> None:  # the unnamed check dropped and made again: the same name
        db.execute("ALTER DOMAIN code DROP CONSTRAINT code_check")
        db.execute("ALTER DOMAIN code ADD CHECK (VALUE <> '')")

    left = check_migrations(db_url, [Migration("001_d", make, lambda db: None)])
    assert ("001_d", "down-differs", ("domain code added",)) in [(p.migration, p.kind, p.details) for p in left.problems], left.render()
    bad = check_migrations(db_url, [Migration("001_d", make, drop), Migration("002_x", tighten, lambda db: None)])
    problem = next(p for p in bad.problems if p.migration == "002_x")
    assert problem.details == (
        "domain code changed: character varying(10) COLLATE \"C\" CONSTRAINT code_check CHECK (((VALUE)::text <> ''::text)) -> "
        "character varying(10) COLLATE \"C\" NOT NULL DEFAULT 'x'::character varying CONSTRAINT code_check CHECK (((VALUE)::text <> ''::text))",
    ), problem.details
    good = check_migrations(db_url, [Migration("001_d", make, drop), Migration("002_x", tighten, loosen), Migration("003_c", recheck, recheck)])
    assert good.ok and good.problems == [], good.render()


def test_stairway_sees_system_versioned_tables_on_mariadb(engine: str, db_url: str) -> None:
    """MariaDB lists a table WITH SYSTEM VERSIONING as TABLE_TYPE 'SYSTEM VERSIONED', not 'BASE
    TABLE': introspection did not see it, so a down that left a column on it passed."""
    if engine != "mysql":
        pytest.skip("MariaDB's system-versioned tables")
    with connect(db_url) as probe:
        if "mariadb" not in str(probe.fetch("SELECT VERSION() AS v")[0]["v"]).lower():
            pytest.skip("MariaDB's system-versioned tables")

    def make(db: Database) -> None:
        db.execute("CREATE TABLE ledger (id integer PRIMARY KEY, amount integer) WITH SYSTEM VERSIONING")

    def drop(db: Database) -> None:
        db.execute("DROP TABLE ledger")

    def add_note(db: Database) -> None:
        db.execute("SET SESSION system_versioning_alter_history = KEEP")  # MariaDB's leave to alter it
        db.schema.alter_table("ledger").add_column("note", "varchar(20)").execute()

    def drop_note(db: Database) -> None:
        db.execute("SET SESSION system_versioning_alter_history = KEEP")
        db.schema.alter_table("ledger").drop_column("note").execute()

    bad = check_migrations(db_url, [Migration("001_l", make, drop), Migration("002_n", add_note, lambda db: None)])
    problem = next(p for p in bad.problems if p.migration == "002_n")
    assert problem.kind == "down-differs" and problem.details == ("column ledger.note added",), problem.details
    good = check_migrations(db_url, [Migration("001_l", make, drop), Migration("002_n", add_note, drop_note)])
    assert good.ok and good.problems == [], good.render()
    with connect(db_url) as db:
        make(db)
        assert "ledger" in db.introspect().tables and db.introspect_table("ledger") is not None


def test_stairway_sees_a_materialized_views_index_the_down_forgets_on_postgres(engine: str, db_url: str) -> None:
    """A materialized view's indexes were not read (REFRESH ... CONCURRENTLY needs a unique one):
    a down that left one passed with IF NOT EXISTS, and otherwise only 'already exists' said so."""
    if engine != "postgres":
        pytest.skip("PostgreSQL's materialized views")
    from kysera import sql

    def make(db: Database) -> None:
        create_t(db)
        db.schema.create_view("totals").materialized().as_(sql("SELECT id, v FROM t")).execute()

    def drop(db: Database) -> None:
        db.schema.drop_view("totals").materialized().execute()
        drop_t(db)

    def index(db: Database) -> None:
        db.schema.create_index("totals_id").on("totals").column("id").unique().if_not_exists().execute()

    def unindex(db: Database) -> None:
        db.schema.drop_index("totals_id").execute()

    bad = check_migrations(db_url, [Migration("001_mv", make, drop), Migration("002_ix", index, lambda db: None)])
    problem = next(p for p in bad.problems if p.migration == "002_ix")
    assert problem.kind == "down-differs" and problem.details == ("index totals_id on totals (id) added",), problem.details
    good = check_migrations(db_url, [Migration("001_mv", make, drop), Migration("002_ix", index, unindex)])
    assert good.ok and good.problems == [], good.render()


def test_stairway_sees_a_unique_constraint_made_deferrable_on_postgres(engine: str, db_url: str) -> None:
    """A unique constraint's DEFERRABLE was not read (its index reads the same): a down that
    left it deferred passed, while a foreign key's was compared."""
    if engine != "postgres":
        pytest.skip("PostgreSQL's deferrable unique constraints")

    def unique(db: Database) -> None:
        db.execute("ALTER TABLE t ADD CONSTRAINT t_v_key UNIQUE (v)")

    def defer(db: Database) -> None:
        db.execute("ALTER TABLE t DROP CONSTRAINT t_v_key")
        db.execute("ALTER TABLE t ADD CONSTRAINT t_v_key UNIQUE (v) DEFERRABLE INITIALLY DEFERRED")

    base = [Migration("001_t", create_t, drop_t), Migration("002_u", unique, lambda db: db.execute("ALTER TABLE t DROP CONSTRAINT t_v_key"))]
    bad = check_migrations(db_url, [*base, Migration("003_d", defer, lambda db: None)])
    problem = next(p for p in bad.problems if p.migration == "003_d")
    assert problem.details == ("unique constraint t_v_key on t(v) changed: not deferrable -> initially deferred",), problem.details
    good = check_migrations(db_url, [*base, Migration("003_d", defer, lambda db: (db.execute("ALTER TABLE t DROP CONSTRAINT t_v_key"), unique(db)))])
    assert good.ok and good.problems == [], good.render()


def test_pytest_help_names_where_the_fixtures_look(tmp_path: Path) -> None:
    """--help said the migrations folder defaults to 'migrations' and the URL to SQLite; the
    plugin reads the ini option, the kysera config and $KYSERA_TEST_URL first."""
    shown = subprocess.run(
        [sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"], cwd=tmp_path, capture_output=True, text=True
    ).stdout
    flat = " ".join(shown.split())
    assert "(default: $KYSERA_TEST_URL, else SQLite)" in flat
    assert "[migrations] directory of the nearest kysera config" in flat and "(default: migrations)" not in flat


def test_stairway_sees_a_generated_column_left_stored_or_virtual(engine: str, db_url: str) -> None:
    """Only a generated column's expression was compared: a down that put it back VIRTUAL where
    it was STORED (or the other way) passed. PostgreSQL's are all stored."""
    if engine == "postgres":
        pytest.skip("PostgreSQL's generated columns are all STORED")
    from kysera import sql

    def make(stored: bool) -> Callable[[Database], None]:
        def run(db: Database) -> None:
            db.schema.create_table("g").add_column("a", "integer").add_column(
                "twice", "integer", lambda c: c.generated_always_as(sql("a * 2")).stored() if stored else c.generated_always_as(sql("a * 2"))
            ).execute()

        return run

    def drop(db: Database) -> None:
        db.schema.drop_table("g").execute()

    def store(db: Database) -> None:
        drop(db)
        make(True)(db)

    def unstore(db: Database) -> None:
        drop(db)
        make(False)(db)

    bad = check_migrations(target(engine, db_url), [Migration("001_g", make(False), drop), Migration("002_s", store, lambda db: None)])
    problem = next(p for p in bad.problems if p.migration == "002_s")
    assert problem.details == ("column g.twice generated column changed: virtual -> stored",), problem.details
    good = check_migrations(target(engine, db_url), [Migration("001_g", make(False), drop), Migration("002_s", store, unstore)])
    assert good.ok and good.problems == [], good.render()


def test_stairway_sees_a_sqlite_foreign_key_made_deferrable(engine: str, db_url: str) -> None:
    """docs/testing.md listed a SQLite foreign key's DEFERRABLE as not compared; it is."""
    if engine != "sqlite":
        pytest.skip("the SQLite half of the docs' claim (PostgreSQL's is tested above)")

    def make(deferred: bool) -> Callable[[Database], None]:
        def run(db: Database) -> None:
            db.execute("DROP TABLE IF EXISTS c")
            db.execute("CREATE TABLE c (id integer, t_id integer REFERENCES t (id)" + (" DEFERRABLE INITIALLY DEFERRED)" if deferred else ")"))

        return run

    report = check_migrations(None, [Migration("001_t", create_t, drop_t), Migration("002_c", make(False), lambda db: db.execute("DROP TABLE c")), Migration("003_d", make(True), lambda db: None)])
    problem = next(p for p in report.problems if p.migration == "003_d")
    assert problem.details == ("foreign key c(t_id) -> t(id) changed: not deferrable -> initially deferred",), problem.details
    text = (EXAMPLE.parent.parent / "docs" / "testing.md").read_text()
    assert "SQLite foreign key's `DEFERRABLE`" not in text


def test_stairway_sees_index_and_view_comments_the_down_forgets(engine: str, db_url: str) -> None:
    """Only table and column comments were compared: a down that left a comment on an index
    (PostgreSQL, MySQL/MariaDB) or a view (PostgreSQL) passed."""
    if engine == "sqlite":
        pytest.skip("SQLite keeps no comments")

    def make(db: Database) -> None:
        create_t(db)
        db.schema.create_index("t_v").on("t").column("v").execute()
        db.schema.create_view("vt").as_(sql("SELECT id FROM t")).execute()

    def drop(db: Database) -> None:
        db.schema.drop_view("vt").execute()
        drop_t(db)

    if engine == "postgres":
        say = ["COMMENT ON INDEX t_v IS 'by v'", "COMMENT ON VIEW vt IS 'ids'"]
        unsay = ["COMMENT ON INDEX t_v IS NULL", "COMMENT ON VIEW vt IS NULL"]
        expected = ("view vt comment changed: none -> 'ids'", "index t_v on t changed: comment none -> 'by v'")
    else:
        say = ["DROP INDEX t_v ON t", "CREATE INDEX t_v ON t (v) COMMENT 'by v'"]
        unsay = ["DROP INDEX t_v ON t", "CREATE INDEX t_v ON t (v)"]
        expected = ("index t_v on t changed: comment none -> 'by v'",)

    def run(statements: list[str]) -> Callable[[Database], None]:
        return lambda db: [db.execute(s) for s in statements] and None

    bad = check_migrations(db_url, [Migration("001_t", make, drop), Migration("002_c", run(say), lambda db: None)])
    problem = next(p for p in bad.problems if p.migration == "002_c")
    assert sorted(problem.details) == sorted(expected), problem.details
    good = check_migrations(db_url, [Migration("001_t", make, drop), Migration("002_c", run(say), run(unsay))])
    assert good.ok and good.problems == [], good.render()


def test_stairway_takes_a_partial_or_expression_index_and_a_view_written_otherwise(engine: str, db_url: str) -> None:
    """SQLite keeps an index's WHERE and expressions and a view's SELECT as written: a down that
    wrote `a>1`, `(a > 1)`, `A > 1` or `LOWER( s )` for the up's `a > 1` and `lower(s)` failed
    the check (PostgreSQL and MySQL/MariaDB print their own text). A real change still fails."""
    partial = engine != "mysql"  # MySQL/MariaDB have no partial or expression indexes

    def make(db: Database) -> None:
        db.execute("CREATE TABLE t (a integer, s varchar(10))")
        if partial:
            db.execute("CREATE INDEX t_a ON t (a) WHERE a > 1")
            db.execute("CREATE INDEX t_s ON t (lower(s))")
        db.execute("CREATE VIEW vt AS SELECT a FROM t WHERE a > 1")

    def drop_all(db: Database) -> None:
        db.execute("DROP VIEW vt")
        db.execute("DROP TABLE t")

    def drop(db: Database) -> None:
        db.execute("DROP VIEW vt")
        if partial:
            db.execute("DROP INDEX t_a")
            db.execute("DROP INDEX t_s")

    def back(where: str, expression: str, view: str) -> Callable[[Database], None]:
        def down(db: Database) -> None:
            if partial:
                db.execute(f"CREATE INDEX t_a ON t (a) WHERE {where}")
                db.execute(f"CREATE INDEX t_s ON t ({expression})")
            db.execute(f"CREATE VIEW vt AS SELECT a FROM t WHERE {view}")

        return down

    for where, expression, view in (("a>1", "LOWER( s )", "a>1"), ("(a > 1)", "lower(s)", "a  >  1"), ("A > 1", "lower (s)", "A>1")):
        good = check_migrations(target(engine, db_url), [Migration("001_t", make, drop_all), Migration("002_x", drop, back(where, expression, view))])
        assert good.ok and good.problems == [], (where, good.render())
    bad = check_migrations(target(engine, db_url), [Migration("001_t", make, drop_all), Migration("002_x", drop, back("a >= 1", "upper(s)", "a>2"))])
    shown = bad.render()
    assert not bad.ok and "view vt definition changed" in shown, shown
    if partial:
        assert "predicate a > 1 -> a >= 1" in shown and "lower(" in shown and "upper(" in shown.lower(), shown


def test_stairway_says_why_an_index_stays_after_drop_foreign_key_on_mysql(engine: str, db_url: str) -> None:
    """A down that undoes ADD CONSTRAINT ... FOREIGN KEY with DROP FOREIGN KEY leaves the index
    InnoDB made for the key: the report said only "index fk_b_a on b (a_id) added", an index no
    migration names. It now says where it came from and what to do; the difference stays."""
    if engine != "mysql":
        pytest.skip("InnoDB's index for a foreign key")

    def make(db: Database) -> None:
        db.execute("CREATE TABLE a (id integer PRIMARY KEY)")
        db.execute("CREATE TABLE b (id integer PRIMARY KEY, a_id integer)")

    def drop_all(db: Database) -> None:
        db.execute("DROP TABLE b")
        db.execute("DROP TABLE a")

    def add_key(db: Database) -> None:
        db.execute("ALTER TABLE b ADD CONSTRAINT fk_b_a FOREIGN KEY (a_id) REFERENCES a (id)")

    report = check_migrations(db_url, [Migration("001_t", make, drop_all), Migration("002_fk", add_key, lambda db: db.execute("ALTER TABLE b DROP FOREIGN KEY fk_b_a"))])
    problem = next(p for p in report.problems if p.migration == "002_fk")
    assert problem.kind == "down-differs" and len(problem.details) == 1, report.render()
    assert problem.details[0].startswith("index fk_b_a on b (a_id) added (MySQL/MariaDB made it for the foreign key"), problem.details
    assert "drop the index too" in problem.details[0], problem.details
    both = Migration("002_fk", add_key, lambda db: db.execute("ALTER TABLE b DROP FOREIGN KEY fk_b_a, DROP INDEX fk_b_a"))
    good = check_migrations(db_url, [Migration("001_t", make, drop_all), both])
    assert good.ok and good.problems == [], good.render()


def test_stairway_takes_a_default_expression_written_otherwise(engine: str, db_url: str) -> None:
    """SQLite keeps a default as written: a down that gave back DEFAULT (datetime('now')) as
    (DATETIME( 'now' )) failed the check. Another function, or a string in another case, still fails."""

    def make(db: Database) -> None:
        db.execute("CREATE TABLE t (k varchar(20) DEFAULT (lower('X')))")

    def drop_all(db: Database) -> None:
        db.execute("DROP TABLE t")

    def set_default(expression: str) -> Callable[[Database], None]:
        def change(db: Database) -> None:
            if db.dialect.name == "sqlite":  # no ALTER COLUMN: the table again
                db.execute("DROP TABLE t")
                db.execute(f"CREATE TABLE t (k varchar(20) DEFAULT {expression})")
            else:
                db.execute(f"ALTER TABLE t ALTER COLUMN k SET DEFAULT {expression}")

        return change

    for same in ("(LOWER( 'X' ))", "(Lower ('X'))"):
        good = check_migrations(target(engine, db_url), [Migration("001_t", make, drop_all), Migration("002_d", set_default("'y'"), set_default(same))])
        assert good.ok and good.problems == [], (same, good.render())
    for other in ("(upper('X'))", "(lower('x'))"):
        bad = check_migrations(target(engine, db_url), [Migration("001_t", make, drop_all), Migration("002_d", set_default("'y'"), set_default(other))])
        assert not bad.ok and "column t.k default changed" in bad.render(), (other, bad.render())


def test_stairway_takes_a_sqlite_table_rebuilt_with_its_unique_constraints_in_another_order(engine: str, db_url: str) -> None:
    """SQLite numbers the indexes it makes for UNIQUE in the order the table declares them
    (sqlite_autoindex_w_1, _2): a down that rebuilt the table with the same constraints in
    another order failed, the two indexes said to have traded columns. A lost one still shows."""
    if engine != "sqlite":
        pytest.skip("SQLite's own indexes for UNIQUE")

    def make(db: Database) -> None:
        db.execute("CREATE TABLE w (a integer, b integer, UNIQUE (a), UNIQUE (b))")

    def drop_all(db: Database) -> None:
        db.execute("DROP TABLE w")

    def rebuild(constraints: str) -> Callable[[Database], None]:
        def run(db: Database) -> None:
            db.execute(f"CREATE TABLE w2 (a integer, b integer{constraints})")
            db.execute("INSERT INTO w2 SELECT a, b FROM w")
            db.execute("DROP TABLE w")
            db.execute("ALTER TABLE w2 RENAME TO w")

        return run

    good = check_migrations(None, [Migration("001_t", make, drop_all), Migration("002_r", rebuild(", UNIQUE (b)"), rebuild(", UNIQUE (b), UNIQUE (a)"))])
    assert good.ok and good.problems == [], good.render()
    bad = check_migrations(None, [Migration("001_t", make, drop_all), Migration("002_r", rebuild(", UNIQUE (b)"), rebuild(", UNIQUE (b)"))])
    assert not bad.ok and "unique constraint on w(a) removed" in bad.render(), bad.render()
