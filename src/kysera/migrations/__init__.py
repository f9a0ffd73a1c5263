"""Migrations: define them, load them from a folder, and run them with a history and a lock.

.. code-block:: python

    from kysera import connect
    from kysera.migrations import create_migration_runner, load_migrations, run_migrations

    db = connect("postgresql://app@localhost/app")
    run_migrations(db, load_migrations("migrations"))        # apply everything pending

    runner = create_migration_runner(db, load_migrations("migrations"))
    runner.status().pending
    runner.down(1)

See ``docs/migrations.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .errors import (
        DriftError,
        IrreversibleMigrationError,
        LockError,
        LockTimeoutError,
        MigrationDefinitionError,
        MigrationError,
        MigrationLoadError,
        MigrationStateError,
        OutOfOrderError,
        UnknownMigrationError,
        UnresolvedFailureError,
    )
    from .gate import UnsafeMigrationError
    from .loader import load_migrations
    from .log_target import LogTarget
    from .migration import Direction, Migration
    from .results import MigrationResult, MigrationStep
    from .runner import (
        DEFAULT_LOCK_TIMEOUT,
        DEFAULT_TABLE,
        MigrationRunner,
        Migrations,
        RunnerOptions,
        create_migration_runner,
        get_migration_status,
        rollback_migrations,
        run_migrations,
    )
    from .status import MigrationInfo, MigrationStatus

# names load on first use: ``kysera migrate status`` needs the loader, not the runner
_EXPORTS = {
    **dict.fromkeys(
        [
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
        ],
        "errors",
    ),
    "UnsafeMigrationError": "gate",
    "load_migrations": "loader",
    "LogTarget": "log_target",
    "Direction": "migration",
    "Migration": "migration",
    **dict.fromkeys(["MigrationResult", "MigrationStep"], "results"),
    **dict.fromkeys(["MigrationInfo", "MigrationStatus"], "status"),
    **dict.fromkeys(
        [
            "DEFAULT_LOCK_TIMEOUT",
            "DEFAULT_TABLE",
            "MigrationRunner",
            "Migrations",
            "RunnerOptions",
            "create_migration_runner",
            "get_migration_status",
            "rollback_migrations",
            "run_migrations",
        ],
        "runner",
    ),
}

__all__ = [
    "DEFAULT_LOCK_TIMEOUT",
    "DEFAULT_TABLE",
    "Direction",
    "DriftError",
    "IrreversibleMigrationError",
    "LockError",
    "LockTimeoutError",
    "LogTarget",
    "Migration",
    "MigrationDefinitionError",
    "MigrationError",
    "MigrationInfo",
    "MigrationLoadError",
    "MigrationResult",
    "MigrationRunner",
    "MigrationStateError",
    "MigrationStatus",
    "MigrationStep",
    "Migrations",
    "OutOfOrderError",
    "RunnerOptions",
    "UnknownMigrationError",
    "UnresolvedFailureError",
    "UnsafeMigrationError",
    "create_migration_runner",
    "get_migration_status",
    "load_migrations",
    "rollback_migrations",
    "run_migrations",
]

if not TYPE_CHECKING:  # to a type checker, only the names imported above exist
    __getattr__ = lazy_exports(__name__, _EXPORTS, globals())
