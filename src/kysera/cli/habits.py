"""What users of other migration tools (Alembic, yoyo, Django, Flyway, goose, dbmate,
golang-migrate, Atlas) type, and kysera's way of saying it: the hints that usage errors add for a
command, an option or an argument kysera does not have. Hints only: none of these runs anything.
Imported only when such an error happens.
"""

from __future__ import annotations

import re

import click

_STATUS = "use kysera migrate status"
_CREATE = "use kysera migrate create NAME (--sql for a .sql file)"
_MARKING = "kysera migrate mark-applied NAME... | --all | --to NAME"
_MARK = f"use {_MARKING}: it records migrations as applied without running them"
_CHECK = "kysera migrate status --check (exit 1 when a migration is pending, changed, missing or failed)"
_REPAIR = (
    "use kysera migrate resolve NAME --applied|--rolled-back (a migration that failed part-way) "
    "or kysera migrate accept NAME (an applied migration whose file was edited or deleted)"
)
_NO_UNLOCK = "there is nothing to unlock: kysera's migration lock ends with the process that holds it"

#: a command of another tool -> what to type instead
COMMANDS: dict[str, str] = {
    "upgrade": "use kysera migrate up",
    "apply": "use kysera migrate up",
    "up-by-one": "use kysera migrate up --steps 1",
    "up-to": "use kysera migrate up --to NAME",
    "downgrade": "use kysera migrate down",
    "rollback": "use kysera migrate down (the last migration; --steps N, --to NAME or --all for more)",
    "down-to": "use kysera migrate down --to NAME",
    "goto": "use kysera migrate up --to NAME, or kysera migrate down --to NAME",
    "current": _STATUS,
    "history": _STATUS,
    "list": _STATUS,
    "info": _STATUS,
    "showmigrations": _STATUS,
    "version": f"{_STATUS} (kysera --version for kysera's own version)",
    "new": _CREATE,
    "revision": _CREATE,
    "makemigrations": _CREATE,
    "stamp": _MARK,
    "baseline": _MARK,
    "mark": _MARK,
    "fake": _MARK,
    "validate": f"use {_CHECK}",
    "check": f"use {_CHECK}",
    "repair": _REPAIR,
    "force": _REPAIR,
    "clean": "use kysera migrate fresh (it drops everything in the schema, then applies every migration)",
    "sqlmigrate": "use kysera migrate sql (offline, for review) or kysera migrate up --dry-run (against the database)",
    "break-lock": _NO_UNLOCK,
    "unlock": _NO_UNLOCK,
    "release-locks": _NO_UNLOCK,
    "hash": "there is no sum file to update: kysera records each migration's checksum as it runs it, "
    "and kysera migrate accept NAME takes an edited one",
    "dump": "use kysera db dump -o FILE",
    "load": "use kysera db restore FILE",
}

_SQL = "To print the SQL: kysera migrate sql (offline, for review) or kysera migrate up --dry-run (against the database)."
_URL = "Give the database with --url URL (or DATABASE_URL, or [database] url in kysera.toml)."
_DIR = "kysera reads the migrations folder from [migrations] directory in kysera.toml (kysera init writes one)."
_ASK = (
    "kysera asks for confirmation only before down --all, reset and fresh, "
    "which off a terminal refuse to run without --yes: pass --yes to those."
)
_TO = "The target is --to NAME (a migration's name, or its version alone)."
_YES = "To skip the confirmation, use --yes (-y); off a terminal, down --all, reset and fresh refuse to run without it."
_TEMPLATE = (
    "kysera migrate create has no templates: it writes a .py file with up() and down() to fill in "
    "with db.schema (--sql for a .sql file)."
)
_SCHEMA = (
    "kysera works in the schema the URL selects: on PostgreSQL add ?options=-csearch_path%3Dtenant_x to the URL "
    "(the migrations' tables and the history table go there); on MySQL/MariaDB the schema is the URL's database."
)
_LIST = "status lists every migration with its state; for the names alone: kysera migrate status --json (keys pending and executed)."

#: an option of another tool -> what to do instead
OPTIONS: dict[str, str] = {
    "--sql": _SQL,
    "--fake": f"To record migrations as applied without running them: {_MARKING}.",
    "--fake-initial": f"To record migrations as applied without running them: {_MARKING}.",
    "--baseline": f"To adopt an existing database, record what it already has as applied: {_MARKING}.",
    "--plan": "To see what would run: --dry-run.",
    "--exit-code": f"For a CI gate: {_CHECK}.",
    "--check": f"For a CI gate: {_CHECK}.",
    "-d": _URL,
    "-u": _URL,
    "--database": _URL,
    "--database-url": _URL,
    "--dsn": _URL,
    "--dir": _DIR,
    "--directory": _DIR,
    "--migrations-dir": _DIR,
    "--path": _DIR,
    "--source": _DIR,
    "--env-file": "kysera reads no .env file: export its variables first (set -a; . ./.env; set +a) or pass --url.",
    "-c": "The config file is --config FILE (a kysera.toml).",
    "--noinput": _ASK,
    "--no-input": _ASK,
    "--batch": _ASK,
    "-m": "The name is an argument: kysera migrate create \"add users\".",
    "--message": "The name is an argument: kysera migrate create \"add users\".",
    "--name": "The name is an argument: kysera migrate create \"add users\".",
    "--autogenerate": (
        "kysera compares no models with the database: write the change in the up() and down() of "
        "the file that kysera migrate create NAME writes."
    ),
    "--to-version": _TO,
    "--target": _TO,
    "--count": "The number of migrations is --steps N.",
    "--template": _TEMPLATE,
    "--pending": _LIST,
    "--executed": _LIST,
    "--seed": (
        "kysera runs no seed files: put the data in a migration (db.insert_into(...), see docs/data-migrations.md) "
        "or run your seed script after this command."
    ),
}

_EXTRA = re.compile(r"^Got unexpected extra arguments? \((.*)\)$")
_HEAD = ("head", "heads", "latest", "last")
_BASE = ("base", "zero", "0")


def command_hint(name: str, group: click.Group) -> str | None:
    """The hint for ``kysera [migrate|db] NAME`` when NAME is no command of ``group``."""
    if group.name in (None, "cli", "kysera"):  # the root: `kysera up` for `kysera migrate up`
        from .migrate import COMMANDS as MIGRATE

        if name in MIGRATE:
            return f"did you mean 'kysera migrate {name}'?"
    if name == "migrate" and group.name == "migrate":
        return "did you mean 'kysera migrate up'?"
    return COMMANDS.get(name.lower())


def usage_hint(exc: click.UsageError) -> click.UsageError:
    """``exc`` with a hint added when it comes from another tool's habit, else ``exc`` itself."""
    command = exc.ctx.command.name if exc.ctx is not None else None
    hint: str | None = None
    if isinstance(exc, click.NoSuchOption):
        option = exc.option_name
        if option.lstrip("-").isdigit() and command in ("up", "down"):
            count = option.lstrip("-")
            hint = f"To {'apply' if command == 'up' else 'roll back'} {count}, use --steps {count}."
        elif command == "up" and option in ("--yes", "-y", "--force", "-f"):
            hint = "migrate up never asks for confirmation: leave it out."
        elif command in ("down", "reset", "fresh") and option in ("--force", "-f"):
            hint = _YES
        elif command == "restore" and option in ("--force", "-f", "--yes", "-y"):
            hint = "db restore asks no confirmation: it restores only into an empty database, so leave it out."
        elif command == "reset" and option == "--run":
            hint = "To roll back everything and apply it again: kysera migrate reset --yes, then kysera migrate up."
        elif option in ("--schema", "-s"):
            hint = _SCHEMA + (" For the tables without their rows: --schema-only." if command == "dump" else "")
        elif option == "-t" and command in ("up", "down"):
            hint = _TO
        elif option == "-t" and command == "create":
            hint = _TEMPLATE
        elif command == "sql" and option == "--json":
            hint = "migrate sql prints the SQL script itself, no JSON document: leave --json out."
        elif command == "up" and option in ("--all", "-a"):
            hint = "migrate up applies every pending migration unless --steps or --to says otherwise: leave it out."
        else:
            hint = OPTIONS.get(option)
    else:
        extra = _EXTRA.match(exc.message)
        if extra is not None:
            hint = _argument_hint(command, extra.group(1).split(), exc.ctx)
    if hint is None:
        return exc
    return click.UsageError(f"{exc.message} {hint}" if exc.message.endswith(".") else f"{exc.message}; {hint}", exc.ctx)


def _argument_hint(command: str | None, args: list[str], ctx: click.Context | None) -> str | None:
    """``kysera migrate up 2``, ``down base``, ``create add users``: what kysera takes instead."""
    first = args[0]
    if command == "up":
        if first.lower() in _HEAD:
            return f"migrate up applies every pending migration: leave out {first!r}"
        if _count(first.lstrip("+")):
            return f"to apply the next {first.lstrip('+')}, use --steps {first.lstrip('+')}"
        return f"to apply up to a migration, use --to {first}"
    if command == "down":
        if first.lower() in _BASE:
            return "to roll back every migration, use --all"
        if _count(first):
            return f"to roll back the last {first}, use --steps {first}"
        return f"to roll back the migrations applied after one, use --to {first} (it stays applied)"
    if command == "init":  # alembic init migrations, yoyo init --database URL migrations
        return (
            f"kysera init writes ./kysera.toml and makes ./migrations; for another folder, set [migrations] "
            f"directory = {first!r} in kysera.toml afterwards"
        )
    if command == "create":
        if args == ["sql"]:
            return "for a .sql file, use --sql"
        words = " ".join([str(ctx.params.get("name") or "") if ctx is not None else "", *args]).strip()
        return f'quote a name of several words: kysera migrate create "{words}"'
    return None


def _count(word: str) -> bool:
    """``2`` is a number of migrations; ``0003`` (Django's) and ``20261128093000`` are versions."""
    return word.isdigit() and len(word) <= 4 and not word.startswith("0")
