"""Acceptance: the guide's CLI commands (create, up, --steps, --dry-run, down, status, db dump)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from kysera import connect

from .guide_files import GUIDE_FILES, GUIDE_NAMES, write_migrations

KYSERA = str(Path(sys.executable).with_name("kysera"))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for var in ("KYSERA_DATABASE_URL", "DATABASE_URL", "KYSERA_ENV", "NO_COLOR"):
        monkeypatch.delenv(var, raising=False)
    write_migrations(tmp_path / "migrations")
    return tmp_path


def kysera(*args: str) -> Result:
    from kysera.cli import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def names_applied(url: str) -> list[str]:
    result = kysera("migrate", "status", "--json", "--url", url)
    assert result.exit_code == 0, result.output
    return list(json.loads(result.stdout)["executed"])


def test_migrate_create_writes_a_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = kysera("migrate", "create", "add_users_table", "--url", f"sqlite:///{tmp_path / 'x.db'}")
    assert result.exit_code == 0, result.output
    printed = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"migrations/\d{14}_add_users_table\.py", printed), printed
    path = tmp_path / printed
    text = path.read_text()
    assert "def up(db" in text and "def down(db" in text
    # A fresh template is a valid migration: it loads and runs.
    from kysera.migrations import load_migrations

    (migration,) = load_migrations(tmp_path / "migrations")
    assert migration.name == path.stem
    assert migration.down is not None
    # The same name again is refused.
    again = kysera("migrate", "create", "add_users_table")
    assert again.exit_code == 2
    assert len(list((tmp_path / "migrations").iterdir())) == 1


def test_migrate_create_sql_and_name_sanitised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = kysera("migrate", "create", "Add Posts-Table!", "--sql")
    assert result.exit_code == 0, result.output
    printed = result.stdout.strip().splitlines()[-1]
    assert printed.endswith("_add_posts_table.sql"), printed
    text = (tmp_path / printed).read_text()
    assert "-- migrate:up" in text and "-- migrate:down" in text


def test_guide_cli_workflow(project: Path, db_url: str) -> None:
    url = db_url
    # Preview: SQL for each migration, nothing changes
    preview = kysera("migrate", "up", "--dry-run", "--url", url)
    assert preview.exit_code == 0, preview.output
    for name in GUIDE_NAMES:
        assert f"-- {name} (up)" in preview.stdout
    assert "CREATE TABLE" in preview.stdout
    assert "idx_posts_status" in preview.stdout
    with connect(url) as db:
        assert not db.table_exists("users")
        assert not db.table_exists("kysera_migrations")

    # Run specific number
    two = kysera("migrate", "up", "--steps", "2", "--url", url)
    assert two.exit_code == 0, two.output
    assert names_applied(url) == GUIDE_NAMES[:2]
    assert GUIDE_NAMES[0] in two.output and GUIDE_NAMES[1] in two.output
    assert GUIDE_NAMES[2] not in two.output

    # Run all pending
    rest = kysera("migrate", "up", "--url", url)
    assert rest.exit_code == 0, rest.output
    assert names_applied(url) == GUIDE_NAMES

    # Nothing pending: still success
    nothing = kysera("migrate", "up", "--url", url)
    assert nothing.exit_code == 0, nothing.output

    # Status: a table with every migration and its state
    status = kysera("migrate", "status", "--url", url)
    assert status.exit_code == 0, status.output
    for name in GUIDE_NAMES:
        assert re.search(rf"{name}\s+applied", status.stdout), status.stdout

    # Rollback preview changes nothing
    down_preview = kysera("migrate", "down", "--dry-run", "--url", url)
    assert down_preview.exit_code == 0, down_preview.output
    assert f"-- {GUIDE_NAMES[-1]} (down)" in down_preview.stdout
    assert names_applied(url) == GUIDE_NAMES

    # Rollback
    down = kysera("migrate", "down", "--steps", "1", "--url", url)
    assert down.exit_code == 0, down.output
    assert GUIDE_NAMES[-1] in down.output
    assert names_applied(url) == GUIDE_NAMES[:-1]
    status = kysera("migrate", "status", "--url", url)
    assert re.search(rf"{GUIDE_NAMES[-1]}\s+pending", status.stdout), status.stdout

    with connect(url) as db:
        posts = db.introspect_table("posts")
        assert posts is not None
        assert [fk.ref_table for fk in posts.foreign_keys] == ["users"]


def test_status_json(project: Path, db_url: str) -> None:
    assert kysera("migrate", "up", "--steps", "3", "--url", db_url).exit_code == 0
    result = kysera("migrate", "status", "--json", "--url", db_url)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["executed"] == GUIDE_NAMES[:3]
    assert doc["pending"] == GUIDE_NAMES[3:]
    assert doc["total"] == len(GUIDE_NAMES)
    states = {m["name"]: m["state"] for m in doc["migrations"]}
    assert states[GUIDE_NAMES[0]] == "applied" and states[GUIDE_NAMES[-1]] == "pending"
    applied = next(m for m in doc["migrations"] if m["name"] == GUIDE_NAMES[0])
    assert applied["applied_at"]


def test_status_check_is_a_ci_gate(project: Path, db_url: str) -> None:
    pending = kysera("migrate", "status", "--check", "--url", db_url)
    assert pending.exit_code == 1
    assert kysera("migrate", "up", "--url", db_url).exit_code == 0
    assert kysera("migrate", "status", "--check", "--url", db_url).exit_code == 0


def test_up_json(project: Path, db_url: str) -> None:
    result = kysera("migrate", "up", "--json", "--url", db_url)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["executed"] == GUIDE_NAMES
    assert doc["failed"] == []
    assert doc["dry_run"] is False


def test_up_dry_run_json_changes_nothing(project: Path, db_url: str) -> None:
    result = kysera("migrate", "up", "--dry-run", "--json", "--url", db_url)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["dry_run"] is True
    assert doc["executed"] == GUIDE_NAMES
    assert all(step["statements"] for step in doc["steps"])
    with connect(db_url) as db:
        assert db.introspect().tables == {}


@pytest.mark.parametrize("steps", ["0", "-1", "two"])
def test_bad_steps_is_a_usage_error(project: Path, db_url: str, steps: str) -> None:
    result = kysera("migrate", "up", "--steps", steps, "--url", db_url)
    assert result.exit_code == 2, result.output
    down = kysera("migrate", "down", "--steps", steps, "--url", db_url)
    assert down.exit_code == 2, down.output
    with connect(db_url) as db:
        assert not db.table_exists("kysera_migrations")


def test_down_with_nothing_applied_is_ok(project: Path, db_url: str) -> None:
    result = kysera("migrate", "down", "--steps", "1", "--url", db_url)
    assert result.exit_code == 0, result.output


def test_unknown_target_names_it(project: Path, db_url: str) -> None:
    result = kysera("migrate", "up", "--to", "009_nope", "--url", db_url)
    assert result.exit_code == 2
    assert "009_nope" in result.stderr
    assert "Traceback" not in result.output


def test_up_to_and_down_to(project: Path, db_url: str) -> None:
    assert kysera("migrate", "up", "--to", GUIDE_NAMES[3], "--url", db_url).exit_code == 0
    assert names_applied(db_url) == GUIDE_NAMES[:4]
    assert kysera("migrate", "down", "--to", GUIDE_NAMES[1], "--url", db_url).exit_code == 0
    assert names_applied(db_url) == GUIDE_NAMES[:2]


def test_failed_migration_exit_1_and_message(project: Path, db_url: str) -> None:
    (project / "migrations" / "009_broken.py").write_text(
        "from kysera import sql\n\n\ndef up(db):\n    sql('THIS IS NOT VALID SQL').execute(db)\n\n\n"
        "def down(db):\n    pass\n"
    )
    result = kysera("migrate", "up", "--url", db_url)
    assert result.exit_code == 1, result.output
    assert "009_broken" in result.stderr
    assert "THIS IS NOT VALID SQL" in result.stderr
    assert "Traceback" not in result.output
    assert names_applied(db_url) == GUIDE_NAMES


def test_reset_refuses_without_yes_off_a_terminal(project: Path, db_url: str) -> None:
    assert kysera("migrate", "up", "--url", db_url).exit_code == 0
    refused = kysera("migrate", "down", "--all", "--url", db_url)
    assert refused.exit_code == 2, refused.output
    assert "--yes" in refused.stderr
    assert names_applied(db_url) == GUIDE_NAMES
    done = kysera("migrate", "down", "--all", "--yes", "--url", db_url)
    assert done.exit_code == 0, done.output
    assert names_applied(db_url) == []


def test_db_dump_before_migration(project: Path, db_url: str, engine: str) -> None:
    """Best practice 6: back up, then migrate; the backup restores."""
    assert kysera("migrate", "up", "--steps", "2", "--url", db_url).exit_code == 0
    with connect(db_url) as db:
        db.insert_into("users").values({"email": "o'brien@example.com", "name": "O'Brien; --x"}).execute()
        db.insert_into("posts").values({"user_id": 1, "title": "line1\nline2", "content": None}).execute()
    dump = kysera("db", "dump", "-o", "backup-before-migration.sql", "--url", db_url)
    assert dump.exit_code == 0, dump.output
    text = (project / "backup-before-migration.sql").read_text()
    assert "users" in text and "posts" in text
    assert kysera("migrate", "up", "--url", db_url).exit_code == 0
    assert names_applied(db_url) == GUIDE_NAMES

    if engine == "sqlite":
        target = f"sqlite:///{project / 'restored.db'}"
    else:
        # empty the database, then restore into it
        assert kysera("migrate", "down", "--all", "--yes", "--url", db_url).exit_code == 0
        with connect(db_url) as db:
            db.schema.drop_table("kysera_migrations").execute()
        target = db_url
    restore = kysera("db", "restore", "backup-before-migration.sql", "--url", target)
    assert restore.exit_code == 0, restore.output
    assert names_applied(target) == GUIDE_NAMES[:2]
    with connect(target) as db:
        user = db.select_from("users").select(["email", "name"]).execute()
        assert user == [{"email": "o'brien@example.com", "name": "O'Brien; --x"}]
        post = db.select_from("posts").select(["title", "content", "status"]).execute()
        assert post == [{"title": "line1\nline2", "content": None, "status": "draft"}]
        # auto-increment positions restored: the next user gets id 2
        db.insert_into("users").values({"email": "new@example.com", "name": "New"}).execute()
        assert sorted(r["id"] for r in db.select_from("users").select(["id"]).execute()) == [1, 2]


def test_real_command_exit_codes(project: Path, db_url: str) -> None:
    """The installed console script, as a user runs it."""
    env = {k: v for k, v in os.environ.items() if k not in ("KYSERA_DATABASE_URL", "DATABASE_URL")}
    run = lambda *a: subprocess.run([KYSERA, *a, "--url", db_url], cwd=project, capture_output=True, text=True, env=env)  # noqa: E731
    up = run("migrate", "up")
    assert up.returncode == 0, up.stderr
    status = run("migrate", "status")
    assert status.returncode == 0
    assert all(name in status.stdout for name in GUIDE_NAMES)
    bad = run("migrate", "up", "--steps", "0")
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    down = run("migrate", "down", "--steps", "1")
    assert down.returncode == 0, down.stderr


def test_default_url_is_sqlite_kysera_db(project: Path) -> None:
    result = kysera("migrate", "up", "--steps", "1")
    assert result.exit_code == 0, result.output
    assert (project / "kysera.db").exists()


def test_config_file_url_and_directory(project: Path, db_url: str) -> None:
    (project / "migrations").rename(project / "db_migrations")
    (project / "kysera.toml").write_text(
        f'[database]\nurl = "{db_url}"\n\n[migrations]\ndirectory = "db_migrations"\n'
    )
    result = kysera("migrate", "up", "--steps", "1")
    assert result.exit_code == 0, result.output
    assert names_applied(db_url) == GUIDE_NAMES[:1]


def test_sql_migration_file(project: Path, db_url: str) -> None:
    (project / "migrations" / "009_tags.sql").write_text(
        "-- migrate:up\nCREATE TABLE tags (id integer PRIMARY KEY, label varchar(50) NOT NULL);\n"
        "INSERT INTO tags VALUES (1, 'semi; colon');\n"
        "-- migrate:down\nDROP TABLE tags;\n"
    )
    assert kysera("migrate", "up", "--url", db_url).exit_code == 0
    with connect(db_url) as db:
        assert db.select_from("tags").select(["label"]).execute() == [{"label": "semi; colon"}]
    assert kysera("migrate", "down", "--url", db_url).exit_code == 0
    with connect(db_url) as db:
        assert not db.table_exists("tags")


def test_guide_files_count(project: Path) -> None:
    assert sorted(p.name for p in (project / "migrations").glob("*.py")) == sorted(GUIDE_FILES)


def test_reset_and_redo_dry_runs_change_nothing(project: Path, db_url: str) -> None:
    assert kysera("migrate", "up", "--url", db_url).exit_code == 0
    for args in (("migrate", "reset", "--dry-run"), ("migrate", "down", "--all", "--dry-run"), ("migrate", "redo", "--dry-run")):
        result = kysera(*args, "--url", db_url)
        assert result.exit_code == 0, (args, result.output)
        assert f"-- {GUIDE_NAMES[-1]} (down)" in result.stdout
        assert names_applied(db_url) == GUIDE_NAMES
    reset = kysera("migrate", "reset", "--dry-run", "--url", db_url)
    for name in GUIDE_NAMES:
        assert f"-- {name} (down)" in reset.stdout
    with connect(db_url) as db:
        assert db.introspect_table("posts").column("category_id") is not None


def test_native_dump_restores(project: Path, db_url: str, engine: str) -> None:
    import shutil

    tool = {"postgres": "pg_dump", "mysql": "mariadb-dump", "sqlite": "sqlite3"}[engine]
    if shutil.which(tool) is None and not (engine == "mysql" and shutil.which("mysqldump")):
        pytest.skip(f"{tool} is not installed")
    assert kysera("migrate", "up", "--steps", "2", "--url", db_url).exit_code == 0
    with connect(db_url) as db:
        db.insert_into("users").values({"email": "n@example.com", "name": "it's"}).execute()
    dump = kysera("db", "dump", "-o", "native.sql", "--native", "--url", db_url)
    assert dump.exit_code == 0, dump.output
    if engine == "sqlite":
        target = f"sqlite:///{project / 'native_restored.db'}"
    else:
        assert kysera("migrate", "down", "--all", "--yes", "--url", db_url).exit_code == 0
        with connect(db_url) as db:
            db.schema.drop_table("kysera_migrations").execute()
        target = db_url
    restore = kysera("db", "restore", "native.sql", "--url", target)
    assert restore.exit_code == 0, restore.output
    assert names_applied(target) == GUIDE_NAMES[:2]
    with connect(target) as db:
        assert db.select_from("users").select(["name"]).execute() == [{"name": "it's"}]


def test_colour_only_on_a_terminal_and_not_with_no_color(project: Path, db_url: str) -> None:
    import pty

    def run(no_color: bool) -> bytes:
        env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
        env["TERM"] = "xterm"
        if no_color:
            env["NO_COLOR"] = "1"
        main, child = pty.openpty()
        proc = subprocess.Popen([KYSERA, "migrate", "status", "--url", db_url], cwd=project,
                                stdin=child, stdout=child, stderr=child, env=env)
        os.close(child)
        out = b""
        try:
            while chunk := os.read(main, 4096):
                out += chunk
        except OSError:
            pass
        proc.wait(30)
        os.close(main)
        return out

    piped = subprocess.run([KYSERA, "migrate", "status", "--url", db_url], cwd=project, capture_output=True)
    assert b"\x1b[" not in piped.stdout + piped.stderr
    assert b"\x1b[" not in run(no_color=True)
    assert b"\x1b[" in run(no_color=False)


def test_human_output_lines(project: Path, db_url: str) -> None:
    up = kysera("migrate", "up", "--steps", "2", "--url", db_url)
    lines = [line for line in up.stdout.splitlines() if line.strip()]
    assert re.match(rf"applied\s+{GUIDE_NAMES[0]}\s+\(\d+(\.\d+)? m?s\)", lines[0]), lines
    assert re.match(rf"applied\s+{GUIDE_NAMES[1]}\s+\(", lines[1]), lines
    assert re.match(r"Applied 2 migrations in ", lines[2]), lines
    down = kysera("migrate", "down", "--url", db_url)
    assert re.search(rf"reverted\s+{GUIDE_NAMES[1]}", down.stdout), down.stdout
    assert "Rolled back 1 migration" in down.stdout
