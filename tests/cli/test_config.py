"""kysera.toml / pyproject.toml discovery, ${VAR} expansion, [env.NAME] sections, URL precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from kysera.config import load_settings, resolve_url
from kysera.errors import ConfigurationError


def test_no_config_file_gives_defaults(tmp_path: Path) -> None:
    settings = load_settings(cwd=tmp_path)
    assert settings.path is None
    assert settings.directory == tmp_path.resolve() / "migrations"
    assert settings.table == "kysera_migrations"
    resolved = resolve_url(settings, environ={})
    assert resolved.is_default
    assert resolved.url.database == str(tmp_path.resolve() / "kysera.db")


def test_kysera_toml_found_from_a_subfolder(tmp_path: Path) -> None:
    (tmp_path / "kysera.toml").write_text(
        '[database]\nurl = "sqlite:///data/app.db"\n[migrations]\ndirectory = "db/migrations"\ntable = "history"\n'
    )
    sub = tmp_path / "src" / "deep"
    sub.mkdir(parents=True)
    settings = load_settings(cwd=sub)
    assert settings.path == (tmp_path / "kysera.toml").resolve()
    assert settings.directory == tmp_path.resolve() / "db" / "migrations"
    assert settings.table == "history"
    # a relative SQLite path in the file is relative to the file, wherever the command runs
    assert resolve_url(settings, environ={}).url.database == str(tmp_path.resolve() / "data" / "app.db")


def test_pyproject_tool_kysera(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.kysera.database]\nurl = "sqlite:///p.db"\n'
        '[tool.kysera.migrations]\ntable = "t"\n'
    )
    settings = load_settings(cwd=tmp_path)
    assert settings.path is not None and settings.path.name == "pyproject.toml"
    assert settings.table == "t"
    assert settings.url == "sqlite:///p.db"


def test_pyproject_without_tool_kysera_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert load_settings(cwd=tmp_path).path is None


def test_kysera_toml_wins_over_pyproject_in_the_same_folder(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.kysera.migrations]\ntable = "from_pyproject"\n')
    (tmp_path / "kysera.toml").write_text('[migrations]\ntable = "from_kysera_toml"\n')
    assert load_settings(cwd=tmp_path).table == "from_kysera_toml"


def test_variable_expansion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "kysera.toml").write_text(
        '[database]\nurl = "postgresql://${DB_USER}@${DB_HOST:-localhost}/app"\n'
    )
    monkeypatch.setenv("DB_USER", "alice")
    monkeypatch.delenv("DB_HOST", raising=False)
    assert resolve_url(load_settings(cwd=tmp_path), environ={}).url.redacted() == "postgresql://alice@localhost/app"


def test_missing_variable_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "kysera.toml").write_text('[database]\nurl = "${KYSERA_TEST_NOT_SET}"\n')
    monkeypatch.delenv("KYSERA_TEST_NOT_SET", raising=False)
    settings = load_settings(cwd=tmp_path)  # expanded when it is the URL used
    with pytest.raises(ConfigurationError, match="KYSERA_TEST_NOT_SET") as info:
        resolve_url(settings, environ={})
    assert info.value.exit_code == 2
    # another URL wins: the file's variable need not be set
    assert resolve_url(settings, "sqlite:///other.db", environ={}).source == "--url"
    assert resolve_url(settings, environ={"DATABASE_URL": "sqlite:///x.db"}).source == "DATABASE_URL"


def test_an_empty_url_is_an_error_not_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--url "$PROD_URL" with PROD_URL unset must not migrate a new local SQLite file."""
    settings = load_settings(cwd=tmp_path)
    with pytest.raises(ConfigurationError, match="no database URL given"):
        resolve_url(settings, "", environ={})
    with pytest.raises(ConfigurationError, match="DATABASE_URL is set but empty"):
        resolve_url(settings, environ={"DATABASE_URL": ""})
    assert resolve_url(settings, environ={}).source == "default"
    (tmp_path / "kysera.toml").write_text('[database]\nurl = "${KYSERA_TEST_EMPTY}"\n')
    monkeypatch.setenv("KYSERA_TEST_EMPTY", "")
    with pytest.raises(ConfigurationError, match=r"database\.url is empty"):
        resolve_url(load_settings(cwd=tmp_path), environ={})
    # an empty variable gives way to the file's URL
    (tmp_path / "kysera.toml").write_text('[database]\nurl = "sqlite:///app.db"\n')
    assert resolve_url(load_settings(cwd=tmp_path), environ={"DATABASE_URL": ""}).source.endswith("kysera.toml")


def test_env_sections_override(tmp_path: Path) -> None:
    (tmp_path / "kysera.toml").write_text(
        '[database]\nurl = "sqlite:///dev.db"\n[migrations]\ntable = "h"\n'
        '[env.production]\ndatabase.url = "postgresql://app@db/app"\n'
        '[env.staging.migrations]\ntable = "staging_history"\n'
    )
    prod = load_settings(env="production", cwd=tmp_path)
    assert prod.url == "postgresql://app@db/app"
    assert prod.table == "h"
    staging = load_settings(env="staging", cwd=tmp_path)
    assert staging.url == "sqlite:///dev.db"
    assert staging.table == "staging_history"
    assert prod.environments == ("production", "staging")


def test_unknown_env_lists_the_known_ones(tmp_path: Path) -> None:
    (tmp_path / "kysera.toml").write_text('[env.production]\ndatabase.url = "sqlite:///x.db"\n[env.ci]\n')
    with pytest.raises(ConfigurationError, match=r"unknown environment 'prod'.*ci, production"):
        load_settings(env="prod", cwd=tmp_path)


def test_env_without_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="--env production needs a config file"):
        load_settings(env="production", cwd=tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[database\n", "not valid TOML"),
        ("[databse]\nurl = 'x'\n", "unknown key 'databse'"),
        ("[database]\nuri = 'x'\n", "unknown key 'uri'"),
        ("[database]\nuri = 'x'\n", r"expected one of: url$"),
        (  # the TypeScript Kysera's (and knex's) connection keys
            "[database]\ndialect = 'postgres'\nhost = 'db'\n",
            r"unknown key 'dialect'; expected one of: url \(the connection is one URL: url = \"postgresql://user:password@host",
        ),
        ("[database]\nurl = 5\n", "database.url must be a string"),
        ("[migrations]\ntable = ''\n", "must not be empty"),
        ("[migrations]\ndirectory = ''\n", "migrations.directory must not be empty; leave it out for 'migrations'"),
        ("[migrations]\ndirectory = '${KYSERA_T_UNSET:-}'\n", "migrations.directory must not be empty"),
    ],
)
def test_bad_files(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "kysera.toml").write_text(text)
    with pytest.raises(ConfigurationError, match=message):
        load_settings(cwd=tmp_path)


@pytest.mark.parametrize("where", ["[database]\nurl", "[env.prod]\ndatabase.url"])
def test_a_url_of_the_wrong_type_is_not_shown(tmp_path: Path, where: str) -> None:
    """The error quoted the value, and with it the password of a URL put in a list by mistake."""
    (tmp_path / "kysera.toml").write_text(f"{where} = ['postgresql://app:s3cret-pw@db/app']\n")
    with pytest.raises(ConfigurationError, match=r"database\.url must be a string, not a list") as info:
        load_settings(cwd=tmp_path)
    assert "s3cret" not in str(info.value)


def test_the_settings_repr_hides_the_password(tmp_path: Path) -> None:
    (tmp_path / "kysera.toml").write_text("[database]\nurl = 'postgresql://app:s3cret-pw@db/app?sslpassword=s3cret-too'\n")
    settings = load_settings(cwd=tmp_path)
    assert settings.url == "postgresql://app:s3cret-pw@db/app?sslpassword=s3cret-too"  # as written, for resolve_url
    assert "url='postgresql://app:***@db/app?sslpassword=***'" in repr(settings)
    assert "s3cret" not in repr(settings) and "s3cret" not in str(settings)


@pytest.mark.parametrize("name", ["kysera.toml", "pyproject.toml"])
def test_a_byte_order_mark_is_named(tmp_path: Path, name: str) -> None:
    """Saved by Notepad as 'UTF-8 with BOM': tomllib said only 'Invalid statement (at line 1,
    column 1)', about a character no editor shows."""
    body = "[database]\nurl = 'sqlite:///x.db'\n" if name == "kysera.toml" else "[tool.kysera.database]\nurl = 'sqlite:///x.db'\n"
    (tmp_path / name).write_bytes(b"\xef\xbb\xbf" + body.encode())
    with pytest.raises(ConfigurationError, match=r"starts with a byte order mark \(BOM\).*save it as UTF-8 without a BOM"):
        load_settings(cwd=tmp_path)


def test_quoted_dotted_key_says_to_drop_the_quotes(tmp_path: Path) -> None:
    (tmp_path / "kysera.toml").write_text('[env.prod]\n"database.url" = "sqlite:///x.db"\n')
    with pytest.raises(ConfigurationError, match=r"unknown key 'database.url'.*write database.url = \.\.\. without the quotes"):
        load_settings(env="prod", cwd=tmp_path)


def test_every_env_section_is_checked_but_only_the_used_one_expanded(tmp_path: Path) -> None:
    """A mistake in [env.production] shows without --env production; its ${VAR}s need not be set."""
    (tmp_path / "kysera.toml").write_text(
        '[database]\nurl = "sqlite:///dev.db"\n'
        '[env.production.database]\nurl = "${KYSERA_TEST_UNSET_PRODUCTION_URL}"\n'
    )
    assert load_settings(cwd=tmp_path).url == "sqlite:///dev.db"
    with pytest.raises(ConfigurationError, match="KYSERA_TEST_UNSET_PRODUCTION_URL"):
        resolve_url(load_settings(env="production", cwd=tmp_path), environ={})
    (tmp_path / "kysera.toml").write_text('[database]\nurl = "sqlite:///dev.db"\n[env.production.databse]\nurl = "x"\n')
    with pytest.raises(ConfigurationError, match=r"\[env.production\]: unknown key 'databse'"):
        load_settings(cwd=tmp_path)
    (tmp_path / "kysera.toml").write_text('[env.production.migrations]\nlock_timeout = "soon"\n')
    with pytest.raises(ConfigurationError, match=r"env\.production\.migrations\.lock_timeout must be a number"):
        load_settings(cwd=tmp_path)
    (tmp_path / "kysera.toml").write_text('[env.production.migrations]\ntabel = "x"\n')
    with pytest.raises(ConfigurationError) as raised:
        load_settings(cwd=tmp_path)
    assert "kysera.toml [env.production.migrations]: unknown key 'tabel'" in str(raised.value)  # named once


def test_explicit_config_path(tmp_path: Path) -> None:
    other = tmp_path / "conf" / "other.toml"
    other.parent.mkdir()
    other.write_text('[migrations]\ndirectory = "m"\n')
    settings = load_settings(config=other, cwd=tmp_path)
    assert settings.directory == other.parent.resolve() / "m"
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_settings(config=tmp_path / "missing.toml", cwd=tmp_path)


def test_url_precedence(tmp_path: Path) -> None:
    (tmp_path / "kysera.toml").write_text('[database]\nurl = "sqlite:///file.db"\n')
    settings = load_settings(cwd=tmp_path)
    env = {"KYSERA_DATABASE_URL": "sqlite:///kysera_env.db", "DATABASE_URL": "sqlite:///database_url.db"}
    assert resolve_url(settings, "sqlite:///cli.db", env).source == "--url"
    assert resolve_url(settings, None, env).source == "KYSERA_DATABASE_URL"
    assert resolve_url(settings, None, {"DATABASE_URL": "sqlite:///d.db"}).source == "DATABASE_URL"
    assert resolve_url(settings, None, {}).url.database.endswith("file.db")


def test_a_relative_sqlite_file_uri_is_the_config_files_folders(tmp_path: Path) -> None:
    (tmp_path / "kysera.toml").write_text('[database]\nurl = "sqlite:///file:app.db?mode=rwc"\n')
    sub = tmp_path / "sub"
    sub.mkdir()
    resolved = resolve_url(load_settings(cwd=sub), environ={})
    assert resolved.url.database == f"file:{tmp_path / 'app.db'}" and resolved.url.options == {"mode": "rwc"}


def test_every_env_sections_safety_settings_are_checked(tmp_path: Path) -> None:
    (tmp_path / "kysera.toml").write_text('[env.ci.safety]\nmode = "bogus"\n')
    with pytest.raises(ConfigurationError, match=r"\[env\.ci\]: safety\.mode must be one of"):
        load_settings(cwd=tmp_path)
    (tmp_path / "kysera.toml").write_text('[env.ci.safety]\nallow = ["KS999"]\n')
    with pytest.raises(ConfigurationError, match="KS999"):
        load_settings(cwd=tmp_path)


def test_a_named_pyproject_without_tool_kysera_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\n')
    with pytest.raises(ConfigurationError, match=r"has no \[tool\.kysera\] section"):
        load_settings(config=tmp_path / "pyproject.toml", cwd=tmp_path)
    assert load_settings(cwd=tmp_path).path is None  # found by the search: passed over, as before
