"""Acceptance: CLI states and error paths from the CLI issue (drift, resolve, irreversible, JSON errors)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from kysera import connect

CREATE_T = "def up(db):\n    db.execute('CREATE TABLE {t} (id integer PRIMARY KEY)')\n\n\ndef down(db):\n    db.execute('DROP TABLE {t}')\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for var in ("KYSERA_DATABASE_URL", "DATABASE_URL", "KYSERA_ENV"):
        monkeypatch.delenv(var, raising=False)
    folder = tmp_path / "migrations"
    folder.mkdir()
    for i in (1, 2):
        (folder / f"00{i}_t{i}.py").write_text(CREATE_T.format(t=f"t{i}"))
    return tmp_path


def kysera(*args: str) -> Result:
    from kysera.cli import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def status_json(url: str) -> dict[str, object]:
    result = kysera("migrate", "status", "--json", "--url", url)
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def test_edited_applied_migration_is_changed_and_refused(project: Path, db_url: str) -> None:
    assert kysera("migrate", "up", "--url", db_url).exit_code == 0
    path = project / "migrations" / "001_t1.py"
    path.write_text(path.read_text() + "# edited\n")
    doc = status_json(db_url)
    assert doc["changed"] == ["001_t1"]
    text = kysera("migrate", "status", "--url", db_url)
    assert "changed" in text.stdout
    check = kysera("migrate", "status", "--check", "--url", db_url)
    assert check.exit_code == 1
    down = kysera("migrate", "down", "--url", db_url)
    assert down.exit_code == 1
    assert "001_t1" in down.stderr and "accept" in down.stderr
    assert status_json(db_url)["executed"] == ["001_t1", "002_t2"]
    assert kysera("migrate", "accept", "001_t1", "--url", db_url).exit_code == 0
    assert status_json(db_url)["changed"] == []
    assert kysera("migrate", "down", "--url", db_url).exit_code == 0


def test_deleted_applied_migration_is_missing(project: Path, db_url: str) -> None:
    assert kysera("migrate", "up", "--url", db_url).exit_code == 0
    (project / "migrations" / "002_t2.py").unlink()
    doc = status_json(db_url)
    assert doc["missing"] == ["002_t2"]
    up = kysera("migrate", "up", "--url", db_url)
    assert up.exit_code == 1
    assert "002_t2" in up.stderr


def test_out_of_order_cli(project: Path, db_url: str) -> None:
    (project / "migrations" / "001_t1.py").rename(project / "001_t1.py.off")
    assert kysera("migrate", "up", "--url", db_url).exit_code == 0
    (project / "001_t1.py.off").rename(project / "migrations" / "001_t1.py")
    refused = kysera("migrate", "up", "--url", db_url)
    assert refused.exit_code == 1
    assert "001_t1" in refused.stderr
    allowed = kysera("migrate", "up", "--allow-out-of-order", "--url", db_url)
    assert allowed.exit_code == 0, allowed.output
    assert status_json(db_url)["pending"] == []


def test_down_without_down_is_refused(project: Path, db_url: str) -> None:
    (project / "migrations" / "003_t3.py").write_text("def up(db):\n    db.execute('CREATE TABLE t3 (id integer PRIMARY KEY)')\n")
    assert kysera("migrate", "up", "--url", db_url).exit_code == 0
    result = kysera("migrate", "down", "--steps", "2", "--url", db_url)
    assert result.exit_code == 1
    assert "003_t3" in result.stderr
    assert status_json(db_url)["executed"] == ["001_t1", "002_t2", "003_t3"]


def test_failed_migration_on_mysql_then_resolve(project: Path, db_url: str, engine: str) -> None:
    (project / "migrations" / "003_half.py").write_text(
        "def up(db):\n"
        "    db.execute('CREATE TABLE half (id integer PRIMARY KEY)')\n"
        "    db.execute('CREATE TABLE t1 (id integer PRIMARY KEY)')\n"
        "\n\ndef down(db):\n    db.execute('DROP TABLE half')\n"
    )
    result = kysera("migrate", "up", "--url", db_url)
    assert result.exit_code == 1
    assert "003_half" in result.stderr
    doc = status_json(db_url)
    assert doc["executed"] == ["001_t1", "002_t2"]
    with connect(db_url) as db:
        half_exists = db.table_exists("half")
    if engine == "mysql":
        assert half_exists
        assert doc["failed"] == ["003_half"]
        assert "resolve" in result.stderr
        again = kysera("migrate", "up", "--url", db_url)
        assert again.exit_code == 1 and "resolve" in again.stderr
        with connect(db_url) as db:
            db.execute("DROP TABLE half")
        resolved = kysera("migrate", "resolve", "003_half", "--rolled-back", "--url", db_url)
        assert resolved.exit_code == 0, resolved.output
        assert status_json(db_url)["pending"] == ["003_half"]
    else:
        assert not half_exists
        assert doc["pending"] == ["003_half"]
        assert doc["failed"] == []


def test_json_error_document(project: Path, db_url: str) -> None:
    result = kysera("migrate", "up", "--to", "nope", "--json", "--url", db_url)
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert doc["ok"] is False and doc["exit_code"] == 2 and "nope" in doc["error"]


def test_bad_url_scheme_and_unreachable_server(project: Path) -> None:
    bad = kysera("migrate", "status", "--url", "oracle://x@y/z")
    assert bad.exit_code == 2
    assert "postgresql" in bad.stderr
    down = kysera("migrate", "up", "--url", "postgresql://postgres:secretpw@127.0.0.1:1/app")
    assert down.exit_code != 0
    assert "127.0.0.1" in down.stderr
    assert "secretpw" not in down.output
    assert "Traceback" not in down.output


def test_mark_applied_baseline(project: Path, db_url: str) -> None:
    with connect(db_url) as db:
        db.execute("CREATE TABLE t1 (id integer PRIMARY KEY)")
    result = kysera("migrate", "mark-applied", "001_t1", "--url", db_url)
    assert result.exit_code == 0, result.output
    assert kysera("migrate", "up", "--url", db_url).exit_code == 0
    assert status_json(db_url)["executed"] == ["001_t1", "002_t2"]


def test_redo_and_reset_yes(project: Path, db_url: str) -> None:
    assert kysera("migrate", "up", "--url", db_url).exit_code == 0
    redo = kysera("migrate", "redo", "--url", db_url)
    assert redo.exit_code == 0, redo.output
    assert status_json(db_url)["pending"] == []
    reset = kysera("migrate", "reset", "--yes", "--url", db_url)
    assert reset.exit_code == 0, reset.output
    assert status_json(db_url)["executed"] == []
    with connect(db_url) as db:
        assert not db.table_exists("t1") and not db.table_exists("t2")


def test_fresh_drops_everything_then_applies(project: Path, db_url: str) -> None:
    assert kysera("migrate", "up", "--url", db_url).exit_code == 0
    with connect(db_url) as db:
        db.execute("CREATE TABLE stray (id integer PRIMARY KEY)")
    fresh = kysera("migrate", "fresh", "--yes", "--url", db_url)
    assert fresh.exit_code == 0, fresh.output
    with connect(db_url) as db:
        assert not db.table_exists("stray")
        assert db.table_exists("t1") and db.table_exists("t2")
    assert status_json(db_url)["pending"] == []


def test_up_backup_dir(project: Path, db_url: str) -> None:
    assert kysera("migrate", "up", "--steps", "1", "--url", db_url).exit_code == 0
    result = kysera("migrate", "up", "--backup", "backups", "--url", db_url)
    assert result.exit_code == 0, result.output
    dumps = list((project / "backups").glob("backup-*.sql"))
    assert len(dumps) == 1
    assert "t1" in dumps[0].read_text()


def test_env_var_precedence(project: Path, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = f"sqlite:///{tmp_path / 'other.db'}"
    (project / "kysera.toml").write_text(f'[database]\nurl = "{other}"\n')
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert kysera("migrate", "up", "--steps", "1").exit_code == 0
    assert status_json(db_url)["executed"] == ["001_t1"]
    assert not (tmp_path / "other.db").exists()
    monkeypatch.setenv("KYSERA_DATABASE_URL", other)
    assert kysera("migrate", "up", "--steps", "1").exit_code == 0
    assert status_json(other)["executed"] == ["001_t1"]


def test_lock_held_elsewhere_waits_then_exit_1(project: Path, db_url: str) -> None:
    import subprocess
    import sys

    from kysera.migrations import create_migration_runner, load_migrations

    (project / "kysera.toml").write_text(f'[database]\nurl = "{db_url}"\n\n[migrations]\nlock_timeout = 1\n')
    kysera_bin = str(Path(sys.executable).with_name("kysera"))
    with connect(db_url) as db:
        runner = create_migration_runner(db, load_migrations(project / "migrations"))
        with runner.holding_lock():
            proc = subprocess.run([kysera_bin, "migrate", "up"], cwd=project, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert "waiting for the migration lock" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert status_json(db_url)["executed"] == []
    ok = subprocess.run([kysera_bin, "migrate", "up"], cwd=project, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr


def test_a_sql_file_that_fails_part_way_on_mysql_names_its_statement_in_up_and_status(project: Path, db_url: str, engine: str) -> None:
    """MySQL commits each DDL statement: the failure is recorded with the statement that broke.
    `up` names the file and line of that statement (the same text was in the file twice), and
    `status` shows the statement, not only the server's error."""
    if engine != "mysql":
        pytest.skip("only MySQL/MariaDB commit DDL statements at once")
    path = project / "migrations" / "003_half.sql"
    path.write_text("-- migrate:up\nALTER TABLE t1 ADD COLUMN email varchar(100);\nALTER TABLE t1 ADD COLUMN email varchar(100);\n"
                    "ALTER TABLE t1 ADD COLUMN phone varchar(20);\n-- migrate:down\nALTER TABLE t1 DROP COLUMN email;\n")
    result = kysera("migrate", "up", "--url", db_url)
    assert result.exit_code == 1
    assert f"statement ({path}:3): ALTER TABLE t1 ADD COLUMN email varchar(100)" in result.stderr
    assert "before it, this statement ran and stays:\n    ALTER TABLE t1 ADD COLUMN email varchar(100)" in result.stderr
    status = kysera("migrate", "status", "--url", db_url)
    assert "003_half failed (up): Duplicate column name 'email'" in status.stdout
    assert "on the statement: ALTER TABLE t1 ADD COLUMN email varchar(100)" in status.stdout
    assert "kysera migrate resolve 003_half --applied|--rolled-back" in status.stdout
    assert status_json(db_url)["migrations"][2]["statement"] == "ALTER TABLE t1 ADD COLUMN email varchar(100)"  # type: ignore[index]
