"""Acceptance: kysera init and configuration (kysera.toml, pyproject, env sections, ${VAR})."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result


def kysera(*args: str) -> Result:
    from kysera.cli import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for var in ("KYSERA_DATABASE_URL", "DATABASE_URL", "KYSERA_ENV"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def _migration(folder: Path) -> None:
    (folder / "001_t.sql").write_text("-- migrate:up\nCREATE TABLE t (id integer PRIMARY KEY);\n-- migrate:down\nDROP TABLE t;\n")


def test_init_then_guide_flow(folder: Path) -> None:
    init = kysera("init")
    assert init.exit_code == 0, init.output
    assert (folder / "kysera.toml").exists() and (folder / "migrations").is_dir()
    again = kysera("init")
    assert again.exit_code != 0
    created = kysera("migrate", "create", "add_users_table")
    assert created.exit_code == 0
    assert kysera("migrate", "up").exit_code == 0
    status = json.loads(kysera("migrate", "status", "--json").stdout)
    assert status["pending"] == [] and len(status["executed"]) == 1


def test_init_with_url(folder: Path) -> None:
    url = f"sqlite:///{folder / 'app.db'}"
    assert kysera("init", "--url", url).exit_code == 0
    assert url in (folder / "kysera.toml").read_text()


def test_env_sections_and_variable_expansion(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (folder / "db").mkdir()
    _migration(folder / "db")
    monkeypatch.setenv("APP_DB_DIR", str(folder))
    (folder / "kysera.toml").write_text(
        '[database]\nurl = "sqlite:///${APP_DB_DIR}/dev.db"\n\n'
        '[migrations]\ndirectory = "db"\n\n'
        '[env.test.database]\nurl = "sqlite:///${APP_DB_DIR}/test.db"\n'
    )
    assert kysera("migrate", "up").exit_code == 0
    assert (folder / "dev.db").exists()
    result = kysera("migrate", "up", "--env", "test")
    assert result.exit_code == 0, result.output
    assert (folder / "test.db").exists()
    unknown = kysera("migrate", "up", "--env", "nope")
    assert unknown.exit_code == 2


def test_unset_variable_is_a_config_error(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SURELY_NOT_SET_VAR", raising=False)
    (folder / "migrations").mkdir()
    (folder / "kysera.toml").write_text('[database]\nurl = "${SURELY_NOT_SET_VAR}"\n')
    result = kysera("migrate", "status")
    assert result.exit_code == 2
    assert "SURELY_NOT_SET_VAR" in result.stderr


def test_pyproject_tool_kysera(folder: Path) -> None:
    (folder / "sql").mkdir()
    _migration(folder / "sql")
    (folder / "pyproject.toml").write_text(
        f'[project]\nname = "x"\n\n[tool.kysera.database]\nurl = "sqlite:///{folder}/py.db"\n\n'
        '[tool.kysera.migrations]\ndirectory = "sql"\ntable = "schema_history"\n'
    )
    result = kysera("migrate", "up")
    assert result.exit_code == 0, result.output
    from kysera import connect

    with connect(f"sqlite:///{folder}/py.db") as db:
        assert db.table_exists("schema_history") and db.table_exists("t")


def test_config_found_from_a_subfolder(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (folder / "migrations").mkdir()
    _migration(folder / "migrations")
    (folder / "kysera.toml").write_text(f'[database]\nurl = "sqlite:///{folder}/app.db"\n')
    (folder / "sub" / "deeper").mkdir(parents=True)
    monkeypatch.chdir(folder / "sub" / "deeper")
    result = kysera("migrate", "up")
    assert result.exit_code == 0, result.output
    assert (folder / "app.db").exists()


def test_explicit_config_file(folder: Path) -> None:
    (folder / "conf").mkdir()
    (folder / "conf" / "migrations").mkdir()
    _migration(folder / "conf" / "migrations")
    (folder / "conf" / "kysera.toml").write_text(f'[database]\nurl = "sqlite:///{folder}/c.db"\n')
    result = kysera("migrate", "up", "--config", str(folder / "conf" / "kysera.toml"))
    assert result.exit_code == 0, result.output
    assert (folder / "c.db").exists()
