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

import logging

from .errors import (
    DriftError,
    IrreversibleMigrationError,
    LockError,
    LockTimeoutError,
    MigrationDefinitionError,
    MigrationError,
    MigrationLoadError,
    MigrationStateError,
    NonTransactionalMigrationError,
    OutOfOrderError,
    UnknownMigrationError,
    UnresolvedFailureError,
)
from .loader import load_migrations
from .migration import Direction, Migration
from .results import MigrationInfo, MigrationResult, MigrationStatus, MigrationStep
from .runner import (
    DEFAULT_LOCK_TIMEOUT,
    DEFAULT_TABLE,
    MigrationRunner,
    RunnerOptions,
    create_migration_runner,
    get_migration_status,
    rollback_migrations,
    run_migrations,
)

# a library's logger: silent unless the application configures logging (the runner never does)
logging.getLogger("kysera.migrations").addHandler(logging.NullHandler())

__all__ = [
    "DEFAULT_LOCK_TIMEOUT",
    "DEFAULT_TABLE",
    "Direction",
    "DriftError",
    "IrreversibleMigrationError",
    "LockError",
    "LockTimeoutError",
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
    "NonTransactionalMigrationError",
    "OutOfOrderError",
    "RunnerOptions",
    "UnknownMigrationError",
    "UnresolvedFailureError",
    "create_migration_runner",
    "get_migration_status",
    "load_migrations",
    "rollback_migrations",
    "run_migrations",
]
