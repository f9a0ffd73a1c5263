"""``kysera migrate create NAME [--sql]``: a new migration file from a template."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..common import (
    get_state,
    global_options,
    json_option,
)

if TYPE_CHECKING:
    pass

_MIGRATION_FILE = re.compile(r"^(\d+)_(.+)\.(py|sql)$")


def sanitize_name(name: str) -> str:
    """Lower case ASCII, accents dropped ("café" -> "cafe"), and runs of anything but letters
    and digits become one underscore: a name every file system and shell takes as it is."""
    import unicodedata

    folded = unicodedata.normalize("NFKD", name.casefold())  # casefold: "ß" -> "ss"
    return re.sub(r"[^a-z0-9]+", "_", folded.encode("ascii", "ignore").decode()).strip("_")


#: the longest name create takes: with its timestamp, a file name (255 bytes on most file systems)
#: and the history table's name column (255 characters) have room to spare
MAX_NAME = 200


@click.command(short_help="Create a new migration file.")
@click.argument("name")
@click.option(
    "--sql",
    "as_sql",
    is_flag=True,
    help="Write a .sql file with -- migrate:up / -- migrate:down sections.",
)
@global_options
@json_option
def create(name: str, as_sql: bool) -> None:
    """Create migrations/YYYYMMDDHHMMSS_NAME.py (UTC timestamp) with up() and down().

    NAME is lower-cased, accents are dropped and everything but a-z and 0-9 becomes an
    underscore: "Add Users-Table" gives add_users_table, "ajouter café" ajouter_cafe (a name with
    none of them, such as "日本語", is refused).
    """
    import datetime
    import os

    from .. import templates

    state = get_state()
    safe = sanitize_name(name)
    if not safe:
        raise click.BadParameter(
            f"{name!r} has no letters a-z or digits 0-9 (accents dropped) to name a migration with; "
            "use e.g. add_users_table",
            param_hint="NAME",
        )
    if len(safe) > MAX_NAME:
        raise click.BadParameter(
            f"the name is {len(safe)} characters long once cleaned; keep it to {MAX_NAME} at most "
            "(it becomes a file name and a row of the history table)",
            param_hint="NAME",
        )
    directory = state.settings().directory
    existing: list[Path] = []
    if directory.exists() and not directory.is_dir():
        from ...errors import ConfigurationError

        raise ConfigurationError(
            f"{directory} is not a folder; the migrations folder must be one: move that file away, "
            "or set [migrations] directory in kysera.toml to another folder"
        )
    if directory.is_dir():
        existing = sorted(p for p in directory.iterdir() if _MIGRATION_FILE.match(p.name))
    for path in existing:
        match = _MIGRATION_FILE.match(path.name)
        if match and match.group(2) == safe:
            raise click.BadParameter(
                f"a migration named {safe!r} already exists: {_shown(path)}; choose another name",
                param_hint="NAME",
            )
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    # keep creation order even for two creates within one second (or a clock that went back)
    stamps = [
        m.group(1)
        for p in existing
        if (m := _MIGRATION_FILE.match(p.name)) and len(m.group(1)) == 14
    ]
    if stamps:
        latest = datetime.datetime.strptime(max(stamps), "%Y%m%d%H%M%S").replace(
            tzinfo=datetime.UTC
        )
        if latest >= now:
            now = latest + datetime.timedelta(seconds=1)
    stamp = now.strftime("%Y%m%d%H%M%S")
    path = directory / f"{stamp}_{safe}.{'sql' if as_sql else 'py'}"
    template = templates.SQL if as_sql else templates.PYTHON
    directory.mkdir(parents=True, exist_ok=True)
    created = now.strftime("%Y-%m-%d %H:%M:%S")
    with open(path, "x", encoding="utf-8") as handle:
        handle.write(template.format(name=f"{stamp}_{safe}", created=created))
    if state.json:
        state.out.json({"ok": True, "name": f"{stamp}_{safe}", "path": os.fspath(path)})
    else:
        # the path alone, as the result: `$EDITOR $(kysera migrate create add_users)` opens it
        state.out.raw(_shown(path) + "\n")


def _shown(path: Path) -> str:
    """``path`` relative to the current folder when it is inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
