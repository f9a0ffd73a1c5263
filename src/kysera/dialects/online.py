"""Engine knowledge for running DDL next to live traffic: lock timeouts, retries, invalid indexes.

The runner sets a short lock timeout around each migration, so a statement that cannot get its
lock fails fast instead of queueing every other query behind it, and retries it with backoff.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..nodes import IdentifierNode

if TYPE_CHECKING:
    from ..database import Database


def is_lock_timeout(db: Database, error: BaseException) -> bool:
    """True when ``error`` means "gave up waiting for a lock" on this engine."""
    name = db.dialect.name
    if name == "postgres":
        return getattr(error, "sqlstate", None) == "55P03"  # lock_not_available
    if name == "mysql":
        args: tuple[object, ...] = tuple(getattr(error, "args", ()))
        return bool(args) and args[0] in (1205, 3572)  # lock wait timeout, NOWAIT
    from ..errors import DatabaseLockedError

    # kysera's own explanation of SQLite's busy timeout, or the driver's error where none was made
    return isinstance(error, DatabaseLockedError) or "database is locked" in str(error)


def postgres_timeout(setting: str, seconds: float) -> str:
    """``SET lock_timeout = '5000ms'`` and the like: a PostgreSQL session timeout, in whole ms."""
    return f"SET {setting} = '{_postgres_ms(seconds)}'"


def _postgres_ms(seconds: float) -> str:
    """A PostgreSQL timeout in whole ms, as SET takes it and ``current_setting`` gives it back."""
    return f"{int(seconds * 1000)}ms"


@contextmanager
def lock_timeouts(
    db: Database, lock_timeout: float | None, statement_timeout: float | None
) -> Iterator[dict[str, object]]:
    """Session timeouts for the statements of a run; the previous values come back after.
    Yields what it set, as :func:`kysera.dialects.session_settings.restore_settings` sets it
    back after a migration that changed it."""
    name = db.dialect.name
    if name == "postgres" and (lock_timeout or statement_timeout):
        own: dict[str, object] = {}
        # the session's values before the run, set back after it: a RESET would drop a value the
        # application set on this connection before it called up() (SHOW gives what SET takes)
        before: dict[str, str] = {}
        for setting, seconds in (("lock_timeout", lock_timeout), ("statement_timeout", statement_timeout)):
            if seconds:
                before[setting] = str(db.fetch(f"SHOW {setting}")[0][setting])
                db.fetch(postgres_timeout(setting, seconds))
                own[setting] = _postgres_ms(seconds)
        try:
            yield own
        finally:
            try:
                compiler = db.dialect.compiler()
                for setting, value in before.items():
                    db.fetch(f"SET {setting} = {compiler.string_literal(value)}")
            except Exception:  # the connection may be gone; the settings die with it
                pass
        return
    if name == "mysql" and lock_timeout:
        # lock_wait_timeout: metadata locks (DDL); innodb_lock_wait_timeout: row locks (a
        # backfill batch, an UPDATE), 50 s otherwise while the application's writes queue
        rows = db.fetch("SELECT @@SESSION.lock_wait_timeout AS md, @@SESSION.innodb_lock_wait_timeout AS rw")
        md, rw = (int(str(rows[0]["md"])), int(str(rows[0]["rw"]))) if rows else (31536000, 50)
        seconds = max(1, round(lock_timeout))
        db.fetch(f"SET SESSION lock_wait_timeout = {seconds}, SESSION innodb_lock_wait_timeout = {seconds}")
        try:
            yield {"lock_wait_timeout": seconds, "innodb_lock_wait_timeout": seconds}
        finally:
            try:
                db.fetch(f"SET SESSION lock_wait_timeout = {md}, SESSION innodb_lock_wait_timeout = {rw}")
            except Exception:
                pass
        return
    if name == "sqlite" and lock_timeout and not db.capturing:
        # how long a statement waits for another connection's write lock (30 s otherwise)
        rows = db.fetch("PRAGMA busy_timeout")
        previous = int(str(next(iter(rows[0].values())))) if rows else 30_000
        ms = max(1, round(lock_timeout * 1000))
        db.fetch(f"PRAGMA busy_timeout = {ms}")
        dialect: Any = db.dialect
        dialect.busy_timeout = lock_timeout  # for the message when it runs out
        try:
            yield {"busy_timeout": ms}
        finally:
            dialect.busy_timeout = previous / 1000
            try:
                db.fetch(f"PRAGMA busy_timeout = {previous}")
            except Exception:
                pass
        return
    yield {}


def drop_invalid_index(db: Database, index: str, schema: str | None) -> bool:
    """PostgreSQL: drop an INVALID index left by a failed concurrent build, so the build can be retried."""
    if db.dialect.name != "postgres" or db.capturing:
        return False
    rows = db.fetch(
        "SELECT 1 AS x FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = %s AND NOT i.indisvalid AND n.nspname = "
        + ("%s" if schema else "current_schema()"),
        [index, schema] if schema else [index],
    )
    if not rows:
        return False
    target = db.dialect.compiler().table_name(IdentifierNode(index, schema))
    concurrently = "" if db.in_transaction else "CONCURRENTLY "
    db.fetch(f"DROP INDEX {concurrently}IF EXISTS {target}")
    return True


def needs_online_clauses(db: Database, safety: str, allow: Collection[str]) -> bool:
    """Whether a migration gets MySQL's automatic ``ALGORITHM=``/``LOCK=`` clauses
    (:func:`kysera.dialects.mysql_online.online_clauses`): on MySQL/MariaDB with safety on,
    unless it acknowledges ``KS213`` (it accepts that MySQL copies a table)."""
    return db.dialect.name == "mysql" and safety != "off" and "KS213" not in allow and db.adjuster is None
