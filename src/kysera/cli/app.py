"""The root ``kysera`` group. Its command groups are imported only when they are used."""

from __future__ import annotations

import click

from .. import __version__
from .common import KyseraGroup, global_options, json_option

#: command name -> "module:function" in this package
COMMANDS = {"init": "init:init", "migrate": "migrate:migrate", "db": "db:db"}


@click.group(
    cls=KyseraGroup,
    lazy_commands=COMMANDS,
    lazy_package=__package__,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, "--version", prog_name="kysera", message="%(prog)s %(version)s")
@global_options
@json_option
def cli() -> None:
    """kysera: database schema migrations for PostgreSQL, MySQL/MariaDB and SQLite.

    \b
    Quick start:
      kysera init
      kysera migrate create add_users_table
      kysera migrate up
      kysera migrate status

    Exit codes: 0 ok, 1 a migration or check failed, 2 usage or configuration error,
    130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
    """
