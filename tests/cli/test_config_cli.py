"""URL precedence, --config and --env through the real command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import assert_clean_error, kysera, write_config


def database(*args: str, env: dict[str, str | None] | None = None) -> tuple[str, str]:
    result = kysera("migrate", "status", "--json", *args, env=env)
    assert result.exit_code == 0, result.stderr
    return str(json.loads(result.stdout)["database"]), result.stderr


def test_url_precedence(tmp_path: Path) -> None:
    here = Path.cwd()
    write_config(here, "sqlite:///from_file.db")
    (here / "migrations").mkdir()
    env = {"KYSERA_DATABASE_URL": "sqlite:///kysera_env.db", "DATABASE_URL": "sqlite:///database_url.db"}
    assert database("--url", "sqlite:///from_flag.db", env=env)[0].endswith("from_flag.db")
    assert database(env=env)[0].endswith("kysera_env.db")
    assert database(env={"DATABASE_URL": "sqlite:///database_url.db"})[0].endswith("database_url.db")
    assert database()[0] == f"sqlite:///{here / 'from_file.db'}"
    # the root group takes the global options too
    result = kysera("--url", "sqlite:///root_flag.db", "migrate", "status", "--json")
    assert json.loads(result.stdout)["database"].endswith("root_flag.db")


def test_default_url_note(tmp_path: Path) -> None:
    (Path.cwd() / "migrations").mkdir()
    url, stderr = database()
    assert url == f"sqlite:///{Path.cwd() / 'kysera.db'}"
    assert "note: no database URL given; using sqlite:///" in stderr
    assert stderr.count("\n") == 1


def test_env_sections() -> None:
    here = Path.cwd()
    write_config(
        here,
        "sqlite:///dev.db",
        '\n[env.ci]\ndatabase.url = "sqlite:///ci.db"\n[env.ci.migrations]\ntable = "ci_history"\n',
    )
    (here / "migrations").mkdir()
    assert database("--env", "ci")[0].endswith("/ci.db")
    assert database(env={"KYSERA_ENV": "ci"})[0].endswith("/ci.db")
    # an explicit --env wins over KYSERA_ENV, before the command as after it
    result = kysera("--env", "default", "migrate", "status", "--json", env={"KYSERA_ENV": "ci"})
    assert_clean_error(result, 2, "unknown environment 'default'")
    result = kysera("migrate", "status", "--json", "--env", "ci")
    assert json.loads(result.stdout)["table"] == "ci_history"
    assert_clean_error(kysera("migrate", "status", "--env", "prod"), 2, "unknown environment 'prod'", "ci")
    # from KYSERA_ENV, which nobody typed: the message says where the name came from
    result = kysera("migrate", "status", env={"KYSERA_ENV": "staging"})
    assert_clean_error(result, 2, "unknown environment 'staging'", "known environments: ci (the name comes from $KYSERA_ENV")
    assert "KYSERA_ENV" not in kysera("migrate", "status", "--env", "prod").stderr


def test_a_url_variable_that_wins_over_the_env_sections_url_is_named() -> None:
    """``--env production`` with a local DATABASE_URL exported migrated the local database, silently."""
    here = Path.cwd()
    write_config(here, "sqlite:///dev.db", '\n[env.ci]\ndatabase.url = "sqlite:///ci.db"\n[env.other.migrations]\ntable = "h"\n')
    (here / "migrations").mkdir()
    url, stderr = database("--env", "ci", env={"DATABASE_URL": "sqlite:///local.db"})
    assert url.endswith("/local.db")  # the documented order stands
    assert "warning: DATABASE_URL is set and wins over [env.ci] database.url: using sqlite:///local.db" in stderr
    assert "unset DATABASE_URL" in stderr
    # no word when nothing was overridden: --url, an env without a URL of its own, KYSERA_ENV (a CI's setting)
    assert "wins over" not in database("--env", "ci", "--url", "sqlite:///flag.db", env={"DATABASE_URL": "sqlite:///l.db"})[1]
    assert "wins over" not in database("--env", "other", env={"DATABASE_URL": "sqlite:///l.db"})[1]
    assert "wins over" not in database(env={"KYSERA_ENV": "ci", "DATABASE_URL": "sqlite:///l.db"})[1]
    assert "wins over" not in database("--env", "ci")[1]


def test_explicit_config_and_pyproject(tmp_path: Path) -> None:
    here = Path.cwd()
    (here / "pyproject.toml").write_text(
        '[project]\nname = "app"\n\n[tool.kysera.database]\nurl = "sqlite:///py.db"\n'
        '[tool.kysera.migrations]\ndirectory = "db/migrations"\n'
    )
    (here / "db" / "migrations").mkdir(parents=True)
    assert database()[0].endswith("/py.db")
    sub = here / "deeper"
    sub.mkdir()
    other = tmp_path / "elsewhere.toml"
    other.write_text('[database]\nurl = "sqlite:///elsewhere.db"\n')
    (tmp_path / "migrations").mkdir()
    assert database("--config", str(other))[0] == f"sqlite:///{tmp_path / 'elsewhere.db'}"


def test_no_colour_without_a_terminal_or_with_no_color() -> None:
    (Path.cwd() / "migrations").mkdir()
    for env in ({}, {"NO_COLOR": "1"}):
        result = kysera("migrate", "status", env=env)  # type: ignore[arg-type]
        assert "\x1b[" not in result.stdout + result.stderr


def test_json_before_the_command() -> None:
    (Path.cwd() / "migrations").mkdir()
    write_config(Path.cwd(), "sqlite:///app.db")
    for args in (("--json", "migrate", "status"), ("migrate", "--json", "status")):  # before the command, at any level
        result = kysera(*args)
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["pending"] == []


def test_an_exported_kysera_env_does_not_break_a_project_without_a_config_file() -> None:
    """KYSERA_ENV exported for one project made every command of a project with no config file
    fail ('--env ci needs a config file'); it applies where there is a config, and an explicit
    --env still needs one."""
    (Path.cwd() / "migrations").mkdir()
    result = kysera("migrate", "status", "--url", "sqlite:///plain.db", env={"KYSERA_ENV": "ci"})
    assert result.exit_code == 0, result.stderr
    assert_clean_error(kysera("--env", "ci", "migrate", "status", "--url", "sqlite:///plain.db"), 2, "--env ci needs a config file")


def test_a_config_file_that_is_not_utf8_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A kysera.toml saved as UTF-16 (or Latin-1) was an unexpected UnicodeDecodeError (exit 1)."""
    Path("migrations").mkdir()
    Path("kysera.toml").write_bytes('[database]\nurl = "sqlite:///app.db"\n'.encode("utf-16"))
    assert_clean_error(kysera("migrate", "status"), 2, "kysera.toml is not UTF-8 text", "save it as UTF-8")
    Path("kysera.toml").unlink()
    # a pyproject.toml with [tool.kysera], in a folder above
    Path("pyproject.toml").write_bytes('[tool.kysera.database]\nurl = "sqlite:///caf\xe9.db"\n'.encode("latin-1"))
    Path("sub").mkdir()
    monkeypatch.chdir("sub")
    assert_clean_error(kysera("migrate", "status"), 2, "pyproject.toml is not UTF-8 text")
    # one without [tool.kysera] is not kysera's: left alone
    Path("../pyproject.toml").write_bytes('[project]\nname = "caf\xe9"\n'.encode("latin-1"))
    Path("migrations").mkdir()
    assert kysera("migrate", "status").exit_code == 0


def test_a_dotenv_url_that_kysera_does_not_read_is_named(db_url: str, tmp_path: Path) -> None:
    """dbmate and goose read .env; kysera does not, so it says which database it uses instead."""
    from .test_workflow import NAMES, project, tables

    project(db_url, count=1)
    other = f"sqlite:///{tmp_path / 'dotenv.db'}"
    (Path.cwd() / ".env").write_text(f"# for the app\nexport DATABASE_URL='{other}'\n")
    result = kysera("migrate", "up", "-q")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("warning: ./.env sets DATABASE_URL, but kysera reads no .env file") == 1
    assert "set -a; . ./.env; set +a" in result.stderr and "from " in result.stderr
    assert "users" in tables(db_url) and not (tmp_path / "dotenv.db").exists()  # the config's database, as before
    # the variable exported wins, as always, and then .env is no news
    _, stderr = database(env={"DATABASE_URL": db_url})
    assert ".env" not in stderr
    # a .env that names the database in use says nothing, however it spells it
    (Path.cwd() / ".env").write_text(f"DATABASE_URL={db_url}\n")
    assert ".env" not in kysera("migrate", "down").stderr
    scheme, rest = db_url.split("://", 1)
    for spelt in (f"{scheme}+driver://{rest} # the app's", f"'{db_url}'  # quoted", f"{'postgres' if scheme == 'postgresql' else scheme}://{rest}"):
        (Path.cwd() / ".env").write_text(f"DATABASE_URL={spelt}\n")
        assert ".env" not in kysera("migrate", "status", "-q").stderr, spelt
    assert NAMES[0] in status_json_pending()


def status_json_pending() -> list[str]:
    result = kysera("migrate", "status", "--json")
    assert result.exit_code == 0 and ".env" not in result.stderr, result.stderr
    pending: list[str] = json.loads(result.stdout)["pending"]
    return pending
