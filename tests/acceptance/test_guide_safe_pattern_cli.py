"""Acceptance: the guide's safe-migration snippets as migration files, run and previewed by the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from kysera import connect

from .guide_files import GUIDE_FILES, write_migrations

STEP1 = '''
from kysera import Database


# Step 1: Add new nullable column
def up(db: Database) -> None:
    db.schema.alter_table("users").add_column("email_new", "varchar(255)").execute()
'''

STEP2 = '''
from kysera import Database


# Step 2: Migrate data (separate migration)
def up(db: Database) -> None:
    db.update_table("users").set({"email_new": db.ref("email")}).execute()
'''

STEP3 = '''
from kysera import Database, sql

allow_unsafe = ["KS102"]


# Step 3: Make new column not null, drop old (separate migration)
def up(db: Database) -> None:
    (
        db.schema.alter_table("users")
        .alter_column("email_new", lambda col: col.set_not_null())
        .drop_column("email")
        .execute()
    )
    sql("ALTER TABLE users RENAME COLUMN email_new TO email").execute(db)
'''

SAFE_CHANGES_PG = '''
from kysera import Database, sql


def up(db: Database) -> None:
    # Safe: Add nullable column
    db.schema.alter_table("users").add_column("phone", "varchar(20)").execute()
    # Safe: Add index concurrently (PostgreSQL)
    sql("""
CREATE INDEX CONCURRENTLY idx_users_phone ON users (phone)
""").execute(db)
    # Safe: Add new table
    (
        db.schema.create_table("audit_logs")
        .add_column("id", "serial", lambda col: col.primary_key())
        .add_column("action", "text")
        .execute()
    )
'''

MODIFY_PG = '''
from kysera import Database, sql


def up(db: Database) -> None:
    # PostgreSQL
    sql("ALTER TABLE users ALTER COLUMN name TYPE varchar(200)").execute(db)
    # Or using schema builder
    db.schema.alter_table("users").alter_column("name", lambda col: col.set_data_type("varchar(200)")).execute()
'''


def kysera(*args: str) -> Result:
    from kysera.cli import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for var in ("KYSERA_DATABASE_URL", "DATABASE_URL", "KYSERA_ENV"):
        monkeypatch.delenv(var, raising=False)
    write_migrations(
        tmp_path / "migrations",
        {
            "001_create_users.py": GUIDE_FILES["001_create_users.py"],
            "002_add_email_new.py": STEP1,
            "003_copy_email.py": STEP2,
            "004_swap_email.py": STEP3,
        },
    )
    return tmp_path


def _seed(url: str) -> None:
    with connect(url) as db:
        for i in range(3):
            db.insert_into("users").values({"email": f"u{i}@example.com", "name": f"U{i}"}).execute()


def test_safe_pattern_preview_then_run(project: Path, db_url: str) -> None:
    assert kysera("migrate", "up", "--steps", "1", "--url", db_url).exit_code == 0
    _seed(db_url)
    preview = kysera("migrate", "up", "--dry-run", "--url", db_url)
    assert preview.exit_code == 0, preview.output
    for name in ("002_add_email_new", "003_copy_email", "004_swap_email"):
        assert f"-- {name} (up)" in preview.stdout
    assert "email_new" in preview.stdout
    with connect(db_url) as db:
        assert "email_new" not in db.introspect_table("users").column_names
    result = kysera("migrate", "up", "--url", db_url)
    assert result.exit_code == 0, result.output
    with connect(db_url) as db:
        users = db.introspect_table("users")
        assert "email_new" not in users.column_names
        assert users.column("email").nullable is False
        rows = db.select_from("users").select(["email"]).execute()
        assert sorted(r["email"] for r in rows) == ["u0@example.com", "u1@example.com", "u2@example.com"]


def test_safe_pattern_whole_plan_on_empty_database(project: Path, db_url: str) -> None:
    preview = kysera("migrate", "up", "--dry-run", "--json", "--url", db_url)
    assert preview.exit_code == 0, preview.output
    assert json.loads(preview.stdout)["ok"] is True
    result = kysera("migrate", "up", "--url", db_url)
    assert result.exit_code == 0, result.output


def test_step3_without_acknowledgement_is_refused_with_recipe(project: Path, db_url: str) -> None:
    path = project / "migrations" / "004_swap_email.py"
    path.write_text(path.read_text().replace('allow_unsafe = ["KS102"]', ""))
    assert kysera("migrate", "up", "--steps", "3", "--url", db_url).exit_code == 0
    _seed(db_url)
    with connect(db_url) as db:
        db.update_table("users").set({"email_new": db.ref("email")}).execute()
    refused = kysera("migrate", "up", "--url", db_url)
    assert refused.exit_code == 1
    assert "KS102" in refused.stderr and "004_swap_email" in refused.stderr
    lint = kysera("migrate", "lint", "--url", db_url)
    assert lint.exit_code == 1
    assert "KS102" in lint.stdout
    forced = kysera("migrate", "up", "--allow-unsafe", "--url", db_url)
    assert forced.exit_code == 0, forced.output


def test_guide_safe_changes_in_one_postgres_migration(project: Path, db_url: str, engine: str) -> None:
    if engine != "postgres":
        pytest.skip("CONCURRENTLY is PostgreSQL")
    for p in (project / "migrations").glob("00[234]_*.py"):
        p.unlink()
    (project / "migrations" / "002_safe_changes.py").write_text(SAFE_CHANGES_PG)
    assert kysera("migrate", "up", "--steps", "1", "--url", db_url).exit_code == 0
    _seed(db_url)
    preview = kysera("migrate", "up", "--dry-run", "--url", db_url)
    assert preview.exit_code == 0, preview.output
    assert "CONCURRENTLY" in preview.stdout
    result = kysera("migrate", "up", "--url", db_url)
    assert result.exit_code == 0, result.output
    with connect(db_url) as db:
        assert db.introspect_table("users").index("idx_users_phone").valid
        assert db.table_exists("audit_logs")


def test_guide_modify_columns_exactly_on_postgres(project: Path, db_url: str, engine: str) -> None:
    if engine != "postgres":
        pytest.skip("the raw statement is PostgreSQL syntax")
    for p in (project / "migrations").glob("00[234]_*.py"):
        p.unlink()
    (project / "migrations" / "002_modify_name.py").write_text(MODIFY_PG)
    assert kysera("migrate", "up", "--steps", "1", "--url", db_url).exit_code == 0
    _seed(db_url)
    result = kysera("migrate", "up", "--url", db_url)
    assert result.exit_code == 0, result.output
    with connect(db_url) as db:
        assert db.introspect_table("users").column("name").data_type == "character varying(200)"
