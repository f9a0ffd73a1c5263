"""The errors of the migration runner and loader.

All are :class:`kysera.errors.KyseraError`: one message naming the migration (or file) and the
fix. ``exit_code`` 2 means a usage or definition mistake found before anything ran; 1 means a run
failed or was refused because of the database's state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ConfigurationError, KyseraError, LockError, LockTimeoutError

if TYPE_CHECKING:
    from pathlib import Path

    from .results import MigrationResult

__all__ = [
    "DriftError",
    "IrreversibleMigrationError",
    "LockError",
    "LockTimeoutError",
    "MigrationDefinitionError",
    "MigrationError",
    "MigrationLoadError",
    "MigrationStateError",
    "OutOfOrderError",
    "UnknownMigrationError",
    "UnresolvedFailureError",
]


class MigrationDefinitionError(ConfigurationError):
    """A migration or a runner option is defined wrongly (bad name, duplicate, no ``up``...)."""


class MigrationLoadError(MigrationDefinitionError):
    """Migration files that cannot be loaded. ``problems`` holds one message per file."""

    def __init__(self, problems: list[str], paths: list[Path] | None = None) -> None:
        self.problems = list(problems)
        self.paths = list(paths or [])
        if len(problems) == 1:
            message = problems[0]
        else:
            message = f"{len(problems)} migration files cannot be loaded; nothing was run:\n" + "\n".join(
                f"  - {p}" for p in problems
            )
        super().__init__(message)


class UnknownMigrationError(ConfigurationError):
    """A target name that is not one of the migrations."""

    def __init__(self, message: str, name: str) -> None:
        self.name = name
        super().__init__(message)


class MigrationStateError(KyseraError):
    """The history does not allow what was asked (e.g. ``down_to`` a migration that is not applied)."""


class DriftError(MigrationStateError):
    """Applied migrations whose code changed (``changed``) or is gone (``missing``)."""

    def __init__(self, message: str, changed: list[str], missing: list[str]) -> None:
        self.changed = changed
        self.missing = missing
        super().__init__(message)


class OutOfOrderError(MigrationStateError):
    """Pending migrations that sort before the newest applied one."""

    def __init__(self, message: str, names: list[str]) -> None:
        self.names = names
        super().__init__(message)


class UnresolvedFailureError(MigrationStateError):
    """A migration failed (or was interrupted) part-way and must be resolved before anything runs."""

    def __init__(self, message: str, names: list[str]) -> None:
        self.names = names
        super().__init__(message)


class IrreversibleMigrationError(MigrationStateError):
    """A rollback needs a migration that has no ``down`` (or whose code is gone)."""

    def __init__(self, message: str, name: str) -> None:
        self.name = name
        super().__init__(message)


class MigrationError(KyseraError):
    """A migration failed while running.

    ``name``, ``direction`` ("up" or "down"), ``statement`` (the SQL that failed, or None when
    Python code failed), ``cause`` (the database's or the code's exception), ``result`` (the
    :class:`MigrationResult` so far: what ran before, and this one in ``failed``),
    ``rolled_back`` (True when none of its changes remain) and ``recorded`` (True when it was
    recorded as ``failed`` in the history and must be resolved).
    """

    def __init__(
        self,
        name: str,
        direction: str,
        statement: str | None,
        cause: BaseException,
        *,
        message: str | None = None,
        result: MigrationResult | None = None,
        rolled_back: bool = True,
        recorded: bool = False,
    ) -> None:
        self.name = name
        self.migration = name
        self.direction = direction
        self.statement = statement
        self.cause = cause
        if result is None:
            from .results import MigrationResult

            result = MigrationResult(failed=[name])
        self.result: MigrationResult = result
        self.rolled_back = rolled_back
        self.recorded = recorded
        if message is None:
            from ..errors import driver_reason

            message = f"migration {name} failed ({direction}): {driver_reason(cause)}"
            if statement:
                message += f"\n  statement: {statement}"
        super().__init__(message)


def unknown_migration_message(name: str, known: list[str]) -> str:
    """The message for a migration ``name`` that none of the ``known`` names is: the closest
    one, the known names, or what other tools' words for "all" and "none" are in kysera."""
    from difflib import get_close_matches

    message = f"unknown migration {name!r}"
    close = get_close_matches(name, known, n=1, cutoff=0.6)
    if not close:  # "add_user" for 20261128093000_add_users: compare the parts after the version
        short = {k.partition("_")[2]: k for k in known if k[:1].isdigit() and "_" in k}
        close = [short[s] for s in get_close_matches(name.partition("_")[2] if name[:1].isdigit() else name, list(short), n=1, cutoff=0.6)]
    if close:
        message += f"; did you mean {close[0]!r}?"
    message += f" (known: {names_shown(known)})" if known else "; there are no migrations"
    if not close and name.lower() in ("head", "heads", "latest"):  # Alembic's words for the newest
        message += "; to apply every pending migration, give no target (kysera migrate up; in code: runner.up())"
    elif not close and name.lower() in ("base", "zero"):  # Alembic's and Django's for "none applied"
        message += "; to roll back every migration: kysera migrate down --all (in code: runner.reset())"
    return message


def names_shown(names: list[str], limit: int = 8) -> str:
    """``names`` for a message: all of them, or the first and last three of a long list."""
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:3]) + f", ... ({len(names) - 6} more) ..., " + ", ".join(names[-3:])
