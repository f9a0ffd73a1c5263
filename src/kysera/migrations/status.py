"""Where every migration stands: the history table read against the migrations in code.

:func:`read_status` returns a :class:`MigrationStatus` (one :class:`MigrationInfo` per
migration); both ``MigrationRunner.status()`` and ``kysera migrate status`` call it. It lives
apart from the runner so that the status command imports neither the runner nor its safety
analysis: it only reads.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .history import APPLIED, FAILED, RUNNING, HistoryRow, HistoryTable, newest_applied_position

if TYPE_CHECKING:
    from .migration import Migration

#: the state of one migration in :class:`MigrationStatus`
State = Literal["applied", "pending", "failed", "running", "changed", "missing"]


@dataclass(frozen=True)
class MigrationInfo:
    """One migration as :meth:`MigrationRunner.status` sees it.

    ``state``: ``applied``; ``pending``; ``failed`` (failed part-way, must be resolved);
    ``running`` (being applied now, or interrupted: its process died); ``changed`` (applied, but
    its file or code changed since); ``missing`` (applied, but its file or code is gone).
    ``checksum`` is the one recorded in the history, ``current_checksum`` the code's now.
    ``out_of_order`` marks a pending migration that sorts before the newest applied one.
    """

    name: str
    state: State
    applied_at: _dt.datetime | None = None
    duration: float | None = None
    batch: int | None = None
    checksum: str | None = None
    current_checksum: str | None = None
    description: str | None = None
    direction: str | None = None
    statement: str | None = None
    error: str | None = None
    out_of_order: bool = False
    has_down: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state,
            "applied_at": self.applied_at.isoformat() if self.applied_at else None,
            "duration": self.duration,
            "batch": self.batch,
            "checksum": self.checksum,
            "current_checksum": self.current_checksum,
            "description": self.description,
            "direction": self.direction,
            "statement": self.statement,
            "error": self.error,
            "out_of_order": self.out_of_order,
            "has_down": self.has_down,
        }


@dataclass(frozen=True)
class MigrationStatus:
    """``executed``: applied names in application order (including ``changed`` and ``missing``
    ones); ``pending``: names not applied, in order; ``total``: how many migrations the runner
    has; ``migrations``: a :class:`MigrationInfo` per migration (the runner's, then any in the
    history that the runner does not have)."""

    executed: list[str]
    pending: list[str]
    total: int
    migrations: list[MigrationInfo]
    table_exists: bool = True

    def _named(self, *states: str) -> list[str]:
        return [m.name for m in self.migrations if m.state in states]

    @property
    def failed(self) -> list[str]:
        """Migrations that failed part-way or were interrupted (``failed`` and ``running``)."""
        return self._named("failed", "running")

    @property
    def changed(self) -> list[str]:
        return self._named("changed")

    @property
    def missing(self) -> list[str]:
        return self._named("missing")

    @property
    def out_of_order(self) -> list[str]:
        return [m.name for m in self.migrations if m.out_of_order]

    @property
    def current(self) -> str | None:
        """The most recently applied migration, or None."""
        return self.executed[-1] if self.executed else None

    def get(self, name: str) -> MigrationInfo | None:
        return next((m for m in self.migrations if m.name == name), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "executed": list(self.executed),
            "pending": list(self.pending),
            "failed": self.failed,
            "changed": self.changed,
            "missing": self.missing,
            "total": self.total,
            "table_exists": self.table_exists,
            "migrations": [m.as_dict() for m in self.migrations],
        }


def read_status(history: HistoryTable, migrations: Sequence[Migration]) -> MigrationStatus:
    """Read ``history`` (a missing table is an empty history) and compare it with ``migrations``.

    Reads only: takes no lock and creates nothing.
    """
    exists = history.exists()
    rows = history.read_existing() if exists else []
    return migration_status(migrations, rows, table_exists=exists)


def migration_status(
    migrations: Sequence[Migration], rows: Sequence[HistoryRow], *, table_exists: bool = True
) -> MigrationStatus:
    """The status of ``migrations`` (in their order) given the history ``rows``."""
    by_name = {r.name: r for r in rows}
    position = {m.name: i for i, m in enumerate(migrations)}
    newest = newest_applied_position(rows, position)
    infos: list[MigrationInfo] = []
    for index, migration in enumerate(migrations):
        row = by_name.get(migration.name)
        current = migration.checksum
        if row is None:
            infos.append(
                MigrationInfo(
                    migration.name,
                    "pending",
                    current_checksum=current,
                    description=migration.description,
                    out_of_order=index < newest,
                    has_down=migration.down is not None,
                )
            )
            continue
        state: State
        if row.state == FAILED:
            state = "failed"
        elif row.state == RUNNING:
            state = "running"
        elif row.checksum is not None and row.checksum != current:
            state = "changed"
        else:
            state = "applied"
        infos.append(_info(row, state, current, migration))
    for row in rows:
        if row.name not in position:
            state = (
                "missing"
                if row.state == APPLIED
                else ("running" if row.state == RUNNING else "failed")
            )
            infos.append(_info(row, state, None, None))
    return MigrationStatus(
        executed=[r.name for r in rows if r.state == APPLIED],
        pending=[m.name for m in migrations if m.name not in by_name],
        total=len(migrations),
        migrations=infos,
        table_exists=table_exists,
    )


def _info(
    row: HistoryRow, state: State, current: str | None, migration: Migration | None
) -> MigrationInfo:
    return MigrationInfo(
        row.name,
        state,
        applied_at=row.applied_at,
        duration=row.duration_ms / 1000 if row.duration_ms is not None else None,
        batch=row.batch,
        checksum=row.checksum,
        current_checksum=current,
        description=migration.description if migration is not None else None,
        direction=row.direction if row.state != APPLIED else None,
        statement=row.statement,
        error=row.error,
        has_down=migration is not None and migration.down is not None,
    )
