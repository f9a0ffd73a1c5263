"""Test your migrations: a scratch database, the stairway check, and a pytest plugin.

    from kysera.testing import check_migrations
    report = check_migrations(None, "migrations")       # None: a temporary SQLite database
    assert report.ok, report.render()

With kysera installed, pytest also gets the fixtures ``kysera_db``, ``kysera_migrations`` and
``migration_runner`` (see :mod:`kysera.testing.plugin` and docs/testing.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .scratch import scratch_database
    from .stairway import StairwayProblem, StairwayReport, check_migrations

__all__ = ["StairwayProblem", "StairwayReport", "check_migrations", "scratch_database"]

_EXPORTS = {
    "scratch_database": "scratch",
    "StairwayProblem": "stairway",
    "StairwayReport": "stairway",
    "check_migrations": "stairway",
}


if not TYPE_CHECKING:  # to a type checker, only the names imported above exist
    __getattr__ = lazy_exports(__name__, _EXPORTS, globals())
