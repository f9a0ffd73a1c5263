"""The root ``kysera`` group. Its command groups are imported only when they are used."""

from __future__ import annotations

from importlib import import_module

import click

from .. import __version__
from .common import KyseraGroup, global_options

#: command name -> module (in this package) that defines it under the same name
COMMANDS = {"init": "init", "migrate": "migrate", "db": "db"}


class LazyGroup(KyseraGroup):
    """Imports a command's module on first use, so ``kysera migrate ...`` never loads ``db``."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        command: click.Command = getattr(import_module(f"{__package__}.{module}"), cmd_name)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="kysera", message="%(prog)s %(version)s")
@global_options
def cli() -> None:
    """kysera: database schema migrations for PostgreSQL, MySQL/MariaDB and SQLite.

    \b
    Quick start:
      kysera init
      kysera migrate create add_users_table
      kysera migrate up
      kysera migrate status

    Exit codes: 0 ok, 1 a migration or check failed, 2 usage or configuration error.
    """
