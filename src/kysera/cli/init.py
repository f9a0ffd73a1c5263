"""``kysera init``: a ``kysera.toml`` and a ``migrations/`` folder in the current folder."""

from __future__ import annotations

import click

from .common import get_state, global_options, json_option

TEMPLATE = """\
# kysera configuration (see docs/configuration.md in the kysera project)

[database]
# The database URL. ${{VAR}} is replaced by the environment variable VAR (an unset one is an error;
# ${{VAR:-default}} gives a default). --url, KYSERA_DATABASE_URL and DATABASE_URL win over this.
# Examples: postgresql://app@localhost:5432/app   mysql://root@127.0.0.1:3306/app
url = {url}

[migrations]
# Folder of migration files, relative to this file.
directory = "migrations"
# History table kysera records applied migrations in.
table = "kysera_migrations"

# Sections applied with --env NAME (or KYSERA_ENV=NAME) override the ones above:
# [env.production]
# database.url = "${{PRODUCTION_DATABASE_URL}}"
"""


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


@click.command(short_help="Create kysera.toml and a migrations/ folder.")
@click.option(
    "--force", is_flag=True, help="Overwrite an existing kysera.toml, or start a project inside another project's folder."
)
@global_options
@json_option
def init(force: bool) -> None:
    """Create kysera.toml and a migrations/ folder in the current folder.

    \b
    The database URL written is --url when given, else sqlite:///kysera.db:
      kysera init --url 'postgresql://app@localhost/app'
    """
    from pathlib import Path

    from ..config import CONFIG_FILE, DEFAULT_DIRECTORY, DEFAULT_URL
    from ..errors import ConfigurationError

    state = get_state()
    out = state.out
    here = Path.cwd()
    config = here / CONFIG_FILE
    if config.exists() and not force:
        raise ConfigurationError(
            f"{config} already exists; edit it, or run kysera init --force to overwrite it"
        )
    from ..config import find_config

    existing = find_config(here)
    if existing is not None and existing != config and not force:
        # a kysera.toml here would win over it, for this folder and the ones below
        raise ConfigurationError(
            f"this folder is already in the kysera project of {existing}; a kysera.toml here would override it "
            "for this folder. Run kysera from there, or kysera init --force to start a project of its own here"
        )
    if state.config is not None:
        raise click.UsageError("kysera init writes ./kysera.toml: --config does not apply to it")
    url = state.url or DEFAULT_URL
    if "${" not in url:
        from ..config import parse_named_url  # the checks every command makes of the URL it uses

        parse_named_url(url, "--url")  # refuse a URL kysera could not use, before writing it down
    config.write_text(TEMPLATE.format(url=_toml_string(url)), encoding="utf-8")
    directory = here / DEFAULT_DIRECTORY
    created_dir = not directory.exists()
    directory.mkdir(exist_ok=True)
    if state.json:
        out.json({"ok": True, "config": str(config), "migrations": str(directory), "created_directory": created_dir})
        return
    out.line(f"Created {CONFIG_FILE}")
    out.line(f"{'Created' if created_dir else 'Using existing'} {DEFAULT_DIRECTORY}/")
    out.line("Next: kysera migrate create add_users_table")
