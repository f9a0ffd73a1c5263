"""``kysera migrate ...``: create, up, down, status, redo, reset, fresh, resolve, accept,
mark-applied, lint, test and sql.

Each command lives in its own module, imported when the command runs (``kysera migrate status``
loads neither the runner nor the safety analysis); ``kysera migrate --help`` imports them all.
"""

from __future__ import annotations

import click

from ..common import LazyGroup, global_options, json_option

#: command name -> "module:function" in this package
COMMANDS = {
    "create": "create:create",
    "up": "apply:up",
    "down": "apply:down",
    "redo": "apply:redo",
    "reset": "apply:reset",
    "fresh": "apply:fresh",
    "status": "status:status",
    "resolve": "repair:resolve",
    "accept": "repair:accept",
    "mark-applied": "repair:mark_applied",
    "lint": "lint:lint",
    "test": "stairway:test_command",
    "sql": "script:sql",
}


@click.group(cls=LazyGroup, lazy_commands=COMMANDS, lazy_package=__name__)
@global_options
@json_option
def migrate() -> None:
    """Create, apply, revert and inspect migrations."""
