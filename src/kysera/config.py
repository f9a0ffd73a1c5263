"""Project configuration: ``kysera.toml`` or ``[tool.kysera]`` in ``pyproject.toml``.

.. code-block:: toml

    [database]
    url = "${DATABASE_URL}"          # ${VAR} and ${VAR:-default} are expanded

    [migrations]
    directory = "migrations"          # relative to this file
    table = "kysera_migrations"
    lock_timeout = 60                 # seconds to wait for another run's lock
    allow_out_of_order = false        # true: run a pending migration that sorts before applied ones

    [env.production]
    database.url = "postgresql://app@db.internal/app"

The file is found by walking up from the current folder: in each folder ``kysera.toml`` wins over
a ``pyproject.toml`` that has a ``[tool.kysera]`` table. ``--config FILE`` names one directly.

The database URL is taken from, in order: ``--url``, ``KYSERA_DATABASE_URL``, ``DATABASE_URL``,
the config file (the ``--env`` section first), and finally ``sqlite:///kysera.db``.

This module imports nothing heavy: ``tomllib`` only when a config file exists.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from .errors import ConfigurationError, InvalidUrlError
from .url import DatabaseUrl, parse_url, unknown_options_problem

CONFIG_FILE = "kysera.toml"
PYPROJECT = "pyproject.toml"
DEFAULT_URL = "sqlite:///kysera.db"
DEFAULT_DIRECTORY = "migrations"
DEFAULT_TABLE = "kysera_migrations"
#: environment variables that name the database, in order of precedence
URL_VARIABLES = ("KYSERA_DATABASE_URL", "DATABASE_URL")

#: the keys each section may hold, with their types
_SECTIONS: dict[str, dict[str, type]] = {
    "database": {"url": str},
    "migrations": {"directory": str, "table": str, "lock_timeout": float, "allow_out_of_order": bool},
    "safety": {
        "mode": str,
        "allow": list,
        "start_after": str,
        "large_table_rows": int,
        "statement_lock_timeout": float,
        "statement_timeout": float,
        "lock_retries": int,
    },
}
SAFETY_MODES = ("error", "warn", "off", "auto")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class Settings(NamedTuple):
    """The configuration one command runs with, after the file, ``--env`` and defaults."""

    #: folder that relative paths in the file are relative to (the current folder without a file)
    root: Path
    #: the migrations folder (absolute)
    directory: Path
    #: the config file read, or None when there is none
    path: Path | None = None
    #: the ``--env`` section applied, if any
    env: str | None = None
    #: ``[database] url`` as written (None when the file gives none); its ``${VAR}`` are expanded
    #: by :func:`resolve_url` when it is the URL used, so a variable another URL makes needless
    #: need not be set
    url: str | None = None
    table: str = DEFAULT_TABLE
    #: seconds to wait for the migration lock; None keeps the runner's default
    lock_timeout: float | None = None
    #: ``[migrations] allow_out_of_order``: run pending migrations that sort before applied ones
    allow_out_of_order: bool = False
    #: the names of the ``[env.NAME]`` sections in the file
    environments: tuple[str, ...] = ()
    #: ``[safety]``: the runner's safety options (mode, allow, start_after, ...), as given
    safety: Mapping[str, Any] = MappingProxyType({})
    #: whether the ``--env`` section itself sets ``database.url`` (a URL variable still wins over it)
    env_sets_url: bool = False

    def __repr__(self) -> str:
        from .url import redact_url_text

        fields = self._asdict()
        if self.url is not None:  # as written in the file, password and all
            fields["url"] = redact_url_text(self.url)
        return f"Settings({', '.join(f'{k}={v!r}' for k, v in fields.items())})"


class ResolvedUrl(NamedTuple):
    """The database URL a command uses, and where it came from (for messages)."""

    url: DatabaseUrl
    source: str

    @property
    def is_default(self) -> bool:
        return self.source == "default"


def find_config(start: Path | None = None) -> Path | None:
    """The nearest ``kysera.toml``, or ``pyproject.toml`` with ``[tool.kysera]``, from ``start`` up."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        own = candidate / CONFIG_FILE
        if own.is_file():
            return own
        pyproject = candidate / PYPROJECT
        if pyproject.is_file() and _mentions_kysera(pyproject):
            return pyproject
    return None


def _mentions_kysera(pyproject: Path) -> bool:
    # a cheap text test first, so a project without [tool.kysera] costs no TOML parse
    try:
        text = pyproject.read_text(encoding="utf-8", errors="replace")  # a bad one: _read_toml says so
    except OSError:
        return False
    if "tool.kysera" not in text:
        return False
    tool = _read_toml(pyproject).get("tool")
    return isinstance(tool, dict) and isinstance(tool.get("kysera"), dict)


def load_settings(
    config: str | os.PathLike[str] | None = None,
    env: str | None = None,
    cwd: Path | None = None,
    *,
    env_needs_config: bool = True,
    env_source: str | None = None,
) -> Settings:
    """Read the config file (``config``, or the one found from ``cwd`` up) and apply ``env``.

    ``env_needs_config=False``: without a config file, ``env`` is ignored instead of refused (it
    came from ``$KYSERA_ENV``, exported for other projects too). ``env_source``: where ``env``
    came from, for the message about an unknown one (``$KYSERA_ENV``: nobody typed it)."""
    here = (cwd or Path.cwd()).resolve()
    if config is not None:
        path = Path(config)
        if not path.is_absolute():
            path = here / path
        if path.is_dir():
            raise ConfigurationError(
                f"config file {os.fspath(config)!r} is a folder; name the file (e.g. {os.fspath(Path(config) / CONFIG_FILE)!r})"
            )
        if not path.is_file():
            raise ConfigurationError(f"config file {os.fspath(config)!r} does not exist")
    else:
        found = find_config(here)
        if found is None:
            if env is not None and env_needs_config:
                raise ConfigurationError(
                    f"--env {env} needs a config file with an [env.{env}] section, but no "
                    f"{CONFIG_FILE} (or pyproject.toml with [tool.kysera]) was found in "
                    f"{here} or its parents; create one with: kysera init"
                )
            return Settings(root=here, directory=here / DEFAULT_DIRECTORY)
        path = found
    return settings_from_file(path.resolve(), env, env_source=env_source)


def settings_from_file(path: Path, env: str | None = None, *, env_source: str | None = None) -> Settings:
    data = _read_toml(path)
    where = str(path)
    if path.name == PYPROJECT:
        tool = data.get("tool", {})
        if not (isinstance(tool, dict) and "kysera" in tool):
            # found only when named (--config): a search passes over such a pyproject.toml
            raise ConfigurationError(f"{path} has no [tool.kysera] section; add one, or name the config file kysera.toml")
        data = tool["kysera"]
        where = f"{path} [tool.kysera]"
    if not isinstance(data, dict):
        raise ConfigurationError(f"{where}: the kysera configuration must be a table")
    _check_keys(data, ("database", "migrations", "safety", "env"), where)
    base = _sections(data, where, "")
    envs_raw = data.get("env", {})
    if not isinstance(envs_raw, dict):
        raise ConfigurationError(f"{where}: 'env' must be a table of [env.NAME] sections")
    environments = tuple(sorted(envs_raw))
    # every [env.NAME] section is checked, not only the one in use: a mistake in the production
    # section shows up in every command, not first in the deploy that names it (its ${VAR}s
    # are only read when it is used)
    overrides: dict[str, dict[str, dict[str, Any]]] = {}
    for name, section in envs_raw.items():
        if not isinstance(section, dict):
            raise ConfigurationError(f"{where}: [env.{name}] must be a table")
        _check_keys(section, ("database", "migrations", "safety"), f"{where} [env.{name}]")
        overrides[name] = _sections(section, where, f"env.{name}.")  # [env.NAME.migrations] names both
        if name != env and "safety" in overrides[name]:
            _safety({**base.get("safety", {}), **overrides[name]["safety"]}, f"{where} [env.{name}]")
    if env is not None:
        if env not in envs_raw:
            known = ", ".join(environments) if environments else "none are defined"
            source = (
                f" (the name comes from {env_source}: set it to one of those, or unset it)" if env_source else ""
            )
            raise ConfigurationError(f"unknown environment {env!r} in {where}; known environments: {known}{source}")
        for name, values in overrides[env].items():
            base[name] = {**base.get(name, {}), **values}
    root = path.parent
    database = base.get("database", {})
    migrations = base.get("migrations", {})
    url = database.get("url")  # expanded when it is used: another URL may win (resolve_url)
    if url is not None and not isinstance(url, str):
        raise ConfigurationError(f"{where}: database.url must be a string, such as \"sqlite:///app.db\"")
    folder = _expand(migrations.get("directory", DEFAULT_DIRECTORY), where, "migrations.directory")
    if not folder.strip():  # Path("") is the config file's folder: its .py files would pass for migrations
        raise ConfigurationError(
            f"{where}: migrations.directory must not be empty; leave it out for {DEFAULT_DIRECTORY!r}, "
            "or write '.' for the config file's folder"
        )
    directory = Path(folder)
    table = _expand(migrations.get("table", DEFAULT_TABLE), where, "migrations.table")
    if not table.strip():
        raise ConfigurationError(f"{where}: migrations.table must not be empty")
    timeout = migrations.get("lock_timeout")
    safety = _safety(base.get("safety", {}), where)
    return Settings(
        path=path,
        root=root,
        env=env,
        url=url,
        directory=directory if directory.is_absolute() else root / directory,
        table=table,
        lock_timeout=float(timeout) if timeout is not None else None,
        allow_out_of_order=bool(migrations.get("allow_out_of_order", False)),
        environments=environments,
        safety=safety,
        env_sets_url=env is not None and "url" in overrides[env].get("database", {}),
    )


def _safety(section: dict[str, Any], where: str) -> dict[str, Any]:
    """``[safety]`` as runner options; unknown rule codes and modes are errors naming them."""
    out: dict[str, Any] = {}
    for key, value in section.items():
        if key == "mode":
            if value not in SAFETY_MODES:
                raise ConfigurationError(f"{where}: safety.mode must be one of {', '.join(SAFETY_MODES)}, not {value!r}")
            out["safety"] = value
        elif key == "allow":
            from .safety.rules import resolve_codes

            out["safety_allow"] = sorted(resolve_codes(value, f"{where} [safety] allow"))
        elif key == "start_after":
            out["safety_start_after"] = value
        else:
            out[key] = value
    return out


def resolve_url(
    settings: Settings,
    cli_url: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> ResolvedUrl:
    """``--url``, then ``KYSERA_DATABASE_URL``, ``DATABASE_URL``, the config file, the default.

    A relative SQLite path in the config file (or the default) is relative to the config file's
    folder, so a command run from a subfolder opens the same database.
    """
    environ = os.environ if environ is None else environ
    if cli_url is not None:
        return parse_named_url(cli_url, "--url")  # --url "" is an error, not "no URL"
    empty: list[str] = []
    for variable in URL_VARIABLES:
        value = environ.get(variable)
        if value is None:
            continue
        if value.strip():
            return parse_named_url(value.strip(), variable)
        empty.append(variable)
    if settings.url is not None:
        where = str(settings.path) + (f" [env.{settings.env}]" if settings.env else "")
        text = _expand(settings.url, where, "database.url")
        if not text.strip():
            written = f" ({settings.url!r} came out empty)" if "${" in settings.url else ""
            raise ConfigurationError(f"{where}: database.url is empty{written}; set it to a database URL")
        resolved = parse_named_url(text, where)
        return resolved._replace(url=_anchor(resolved.url, settings.root))
    if empty:
        # DATABASE_URL=$PROD_URL with PROD_URL unset must not migrate a new local SQLite file
        raise ConfigurationError(f"{empty[0]} is set but empty; set it to a database URL, or unset it")
    return ResolvedUrl(_anchor(parse_url(DEFAULT_URL), settings.root), "default")


def parse_named_url(text: str, source: str) -> ResolvedUrl:
    """``text`` parsed; an error says where the URL came from. A server URL must name the
    database: without one, the drivers pick a default (PostgreSQL: the user's name) that the
    migrations were not meant for."""
    try:
        url = parse_url(text)
    except ConfigurationError as exc:
        raise type(exc)(f"{exc} (the URL comes from {source})") from None
    problem = unknown_options_problem(url)
    if problem is not None:
        raise InvalidUrlError(f"{problem} (the URL comes from {source})")
    if url.dialect != "sqlite" and not url.database:
        raise InvalidUrlError(
            f"the database URL {url.redacted()} (from {source}) names no database; add it as the path, "
            f"e.g. {url.scheme}://{url.username + '@' if url.username else ''}{url.host or 'localhost'}/app"
        )
    return ResolvedUrl(url, source)


def _anchor(url: DatabaseUrl, root: Path) -> DatabaseUrl:
    path = url.database
    if url.dialect == "sqlite" and path.startswith("file:"):
        # file:app.db?mode=ro: a relative file in a URI, relative to the config file's folder too
        name, query = path[len("file:") :], ""
        if "?" in name:
            name, query = name.split("?", 1)
            query = "?" + query
        if not name or name.startswith("/") or name == ":memory:":
            return url
        return url.with_database("file:" + os.path.normpath(os.path.join(root, name)) + query)
    if url.dialect != "sqlite" or path in ("", ":memory:"):
        return url
    if os.path.isabs(path):
        return url
    return url.with_database(os.path.normpath(os.path.join(root, path)))


# ----------------------------------------------------------------------------- helpers


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        if _starts_with_bom(path):  # invisible in an editor: "Invalid statement (at line 1, column 1)" says nothing
            raise ConfigurationError(
                f"{path} starts with a byte order mark (BOM), which TOML does not allow; save it as UTF-8 without "
                "a BOM (in Notepad: UTF-8, not 'UTF-8 with BOM')"
            ) from None
        hint = (
            ""
            if path.suffix.lower() == ".toml"
            else "; kysera's config file is a kysera.toml, or [tool.kysera] in pyproject.toml (alembic.ini, "
            "yoyo.ini and other tools' files are not read)"
        )
        raise ConfigurationError(f"{path} is not valid TOML: {exc}{hint}") from None
    except UnicodeDecodeError as exc:
        raise ConfigurationError(
            f"{path} is not UTF-8 text (the byte at offset {exc.start} is not valid UTF-8); save it as UTF-8, "
            "the only encoding TOML allows"
        ) from None
    except OSError as exc:
        raise ConfigurationError(f"cannot read config file {path}: {exc.strerror}") from None


def _starts_with_bom(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(3) == b"\xef\xbb\xbf"
    except OSError:
        return False


#: [database] keys of other tools' files (the TypeScript Kysera's, knex's ...): kysera takes one URL
_CONNECTION_KEYS = frozenset(
    {"host", "port", "user", "username", "password", "database", "dialect", "client", "connection", "schema", "ssl"}
)
_URL_PARTS = (
    ' (the connection is one URL: url = "postgresql://user:password@host:5432/app", "mysql://..." or '
    '"sqlite:///app.db"; a PostgreSQL schema goes in it as ?options=-csearch_path%3Dname)'
)


def _check_keys(data: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in data:
        if key not in allowed:
            head, dot, rest = key.partition(".")
            hint = (
                f" (a quoted key is one name: write {head}.{rest} = ... without the quotes)"
                if dot and head in allowed
                else _URL_PARTS
                if allowed == ("url",) and key in _CONNECTION_KEYS
                else ""
            )
            raise ConfigurationError(
                f"{where}: unknown key {key!r}; expected one of: {', '.join(allowed)}{hint}"
            )


def _sections(data: Mapping[str, Any], where: str, prefix: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, keys in _SECTIONS.items():
        if name not in data:
            continue
        section = data[name]
        if not isinstance(section, dict):
            raise ConfigurationError(f"{where}: {prefix}{name} must be a table")
        _check_keys(section, tuple(keys), f"{where} [{prefix}{name}]")
        for key, value in section.items():
            expected = keys[key]
            number = expected in (float, int)
            ok = (isinstance(value, expected) or (expected is float and isinstance(value, int))) and not (
                number and isinstance(value, bool)
            )
            if not ok:
                kind = {float: "a number", int: "a whole number", list: "a list", bool: "true or false"}.get(
                    expected, "a string"
                )
                shown = f"a {type(value).__name__}" if key == "url" else repr(value)  # a URL may hold a password
                raise ConfigurationError(f"{where}: {prefix}{name}.{key} must be {kind}, not {shown}")
            if number and value < 0:  # seconds, retries, rows: none of them can be negative
                raise ConfigurationError(f"{where}: {prefix}{name}.{key} must be 0 or more, not {value!r}")
        out[name] = dict(section)
    return out


def _expand(value: str, where: str, key: str) -> str:
    """Replace ``${VAR}`` (and ``${VAR:-default}``) with the environment's values."""

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        found = os.environ.get(name)
        if found is not None and (found or default is None):
            return found
        if default is not None:
            return default
        raise ConfigurationError(
            f"{where}: {key} uses ${{{name}}}, but the environment variable {name} is not set; "
            f"set it (export {name}=...) or give a default with ${{{name}:-...}}"
        )

    return _VAR.sub(replace, value)
