"""``kysera init`` and ``kysera migrate create``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from .conftest import assert_clean_error, kysera


def test_init_files() -> None:
    result = kysera("init")
    assert result.exit_code == 0, result.stderr
    text = Path("kysera.toml").read_text()
    assert 'url = "sqlite:///kysera.db"' in text and 'directory = "migrations"' in text
    assert Path("migrations").is_dir()
    import tomllib

    assert tomllib.loads(text)["migrations"]["table"] == "kysera_migrations"


def test_create_python_template() -> None:
    kysera("init")
    result = kysera("migrate", "create", "Add Users-Table!")
    assert result.exit_code == 0, result.stderr
    match = re.fullmatch(r"migrations/(\d{14})_add_users_table\.py\n", result.stdout)  # the path alone
    assert match, result.stdout
    text = Path(result.stdout.strip()).read_text()
    assert kysera("migrate", "create", "-q", "second").stdout.startswith("migrations/")  # the result, even with -q
    assert "from kysera import Database, sql" in text
    assert "def up(db: Database) -> None:" in text and "def down(db: Database) -> None:" in text
    assert "# db.schema.drop_table" in text
    # the empty template is a valid migration that does nothing
    assert kysera("migrate", "up").exit_code == 0
    assert kysera("migrate", "down").exit_code == 0


def test_create_names_with_accents_spaces_and_symbols() -> None:
    kysera("init")
    for name, expected in (("ajouter café", "ajouter_cafe"), ("Größe ändern", "grosse_andern"), ("naïve  --  idea", "naive_idea")):
        result = kysera("migrate", "create", name, "--json")
        assert result.exit_code == 0, result.stderr
        created = json.loads(result.stdout)
        assert created["ok"] is True and created["name"].endswith("_" + expected), (name, result.stdout)
    result = kysera("migrate", "create", "日本語")  # nothing left in ASCII: say so
    assert result.exit_code == 2 and "no letters a-z or digits 0-9" in result.stderr  # it has letters


def test_create_sql_template_and_order() -> None:
    kysera("init")
    names = []
    for name in ("first", "second", "third"):
        result = kysera("migrate", "create", name, "--sql", "--json")
        assert result.exit_code == 0
        names.append(json.loads(result.stdout)["name"])
    assert names == sorted(names) and len(set(n[:14] for n in names)) == 3  # one second apart at least
    text = next(Path("migrations").glob("*_first.sql")).read_text()
    assert "-- migrate:up" in text and "-- migrate:down" in text
    assert kysera("migrate", "up").exit_code == 0


def test_create_makes_the_folder_from_config() -> None:
    Path("kysera.toml").write_text('[migrations]\ndirectory = "db/migrations"\n')
    result = kysera("migrate", "create", "x")
    assert result.exit_code == 0 and result.stdout.startswith("db/migrations/")


def test_create_refuses_a_migrations_folder_that_is_a_file() -> None:
    """It was an unexpected FileExistsError (exit 1, "run again with -v")."""
    Path("migrations").write_text("not a folder")
    result = kysera("migrate", "create", "x")
    assert_clean_error(result, 2, "migrations is not a folder", "[migrations] directory")
    assert Path("migrations").read_text() == "not a folder"


def test_init_inside_a_project_refuses_to_override_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A kysera.toml in a project configured in pyproject.toml (here or in a subfolder) would win there."""
    root = Path.cwd()
    (root / "pyproject.toml").write_text('[tool.kysera]\ndirectory = "db/migrations"\n')
    (root / "app").mkdir()
    for where in (root, root / "app"):
        monkeypatch.chdir(where)
        assert_clean_error(kysera("init"), 2, "already in the kysera project of")
        assert not (where / "kysera.toml").exists()
        assert kysera("init", "--force").exit_code == 0
