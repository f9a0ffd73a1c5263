"""The migration lock of each engine: one runner at a time, and the lock dies with its holder.

- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``, polled), keyed by the
  database, schema and history table. The server drops it when the connection ends.
- MySQL/MariaDB: ``GET_LOCK(name, timeout)`` with its result checked; the name holds the database
  and table. The server drops it when the connection ends.
- SQLite: an exclusive OS file lock (``flock``) on ``<database file>.kysera-lock`` (next to the
  file a symlink leads to), polled. The
  kernel drops it when the process ends. The holder removes the file as it lets go, so nothing is
  left next to the database; a waiter that then gets the lock on the removed file sees that the
  path no longer leads to it and locks the file now there instead, so two processes never hold
  locks on two different files at once. (A killed holder leaves the file; the next run takes it
  over and removes it.) An in-memory database has no lock: nothing else can see it.

A waiter polls until ``timeout`` seconds have passed, then raises :class:`LockTimeoutError` naming
the database, how long it waited and, where the engine can tell, who holds the lock.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import LockError, LockTimeoutError
from ..hashing import sha256

if TYPE_CHECKING:
    from ..database import Database
    from ..nodes import IdentifierNode


class MigrationLock:
    """Base class: ``acquire(timeout, on_wait)`` then ``release()``."""

    #: what is locked, for messages: "PostgreSQL database 'app' (advisory lock 123)"
    description: str = ""

    def try_acquire(self, wait: float) -> bool:
        """Try to take the lock, waiting at most ``wait`` seconds; True when it is ours."""
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError

    def holder(self) -> str | None:
        """Who holds the lock now, best effort (None when unknown)."""
        return None

    def still_held(self) -> bool:
        """Whether this session still holds the lock it took: a migration's own statement may
        have let go of every lock of the session (PostgreSQL's ``DISCARD ALL``)."""
        return True

    def acquire(
        self,
        timeout: float,
        on_wait: Callable[[str | None], None] | None = None,
        on_orphan: Callable[[str], None] | None = None,
    ) -> None:
        """Take the lock, waiting up to ``timeout`` seconds; ``on_wait`` is called once if it is
        busy, ``on_orphan`` with what was done when the holder turned out to be gone
        (:meth:`end_orphan`)."""
        if self.try_acquire(0.0):
            return
        holder = self._safe_holder()
        if on_wait is not None:
            on_wait(holder)
        started = time.monotonic()
        delay = 0.02
        next_look = started
        while True:
            now = time.monotonic()
            remaining = timeout - (now - started)
            if remaining <= 0:
                break
            if now >= next_look:  # at once, then every second: a cheap catalog read
                next_look = now + 1.0
                ended = self._safe_end_orphan()
                if ended is not None and on_orphan is not None:
                    on_orphan(ended)
            if self.try_acquire(min(delay, remaining)):
                return
            delay = min(delay * 1.5, 0.25)
        waited = time.monotonic() - started
        holder = self._safe_holder() or holder
        who = f"{holder} holds it" if holder else "another process holds it"
        raise LockTimeoutError(
            f"gave up waiting for the migration lock on {self.description} after {waited:.1f} s "
            f"({who}; another kysera run is migrating this database): let it finish and try again, "
            "or wait longer with a bigger lock_timeout (seconds; [migrations] lock_timeout in kysera.toml)",
            target=self.description,
            waited=waited,
            holder=holder,
        )

    def _safe_holder(self) -> str | None:
        try:
            return self.holder()
        except Exception:
            return None

    def end_orphan(self) -> str | None:
        """End the lock holder's session when the process that opened it is gone (a runner
        killed mid-statement: its session runs on until the statement ends); what was done, in
        words, or None. Only PostgreSQL needs it: MySQL's GET_LOCK ends with the connection, and
        SQLite's file lock with the process."""
        return None

    def orphan(self) -> str | None:
        """When the lock's holder is the session of a kysera process that is gone (see
        :meth:`end_orphan`): what it is, in words; None otherwise. Ends nothing."""
        return None

    def _safe_end_orphan(self) -> str | None:
        try:
            return self.end_orphan()
        except Exception:  # a courtesy: the wait goes on as before
            return None

    def busy(self) -> str | None:
        """Who holds the lock now, if someone does (a run under way), else None; takes nothing."""
        return self._safe_holder()


class NoLock(MigrationLock):
    """For an in-memory SQLite database, which no other connection can see."""

    def __init__(self, description: str) -> None:
        self.description = description

    def try_acquire(self, wait: float) -> bool:
        return True

    def release(self) -> None:
        pass


def _key_text(*parts: str) -> str:
    return "kysera-migrations:" + ":".join(parts)


class PostgresAdvisoryLock(MigrationLock):
    def __init__(self, db: Database, table: IdentifierNode) -> None:
        self._db = db
        row = db.fetch("SELECT current_database() AS d, current_schema() AS s")[0]
        database = str(row["d"])
        schema = table.schema or str(row["s"] or "public")
        digest = sha256(_key_text(database, schema, table.name).encode()).digest()
        self.key = int.from_bytes(digest[:8], "big", signed=True)
        self.description = f"PostgreSQL database {database!r} (advisory lock {self.key} for {schema}.{table.name})"

    def try_acquire(self, wait: float) -> bool:
        if wait > 0:
            time.sleep(wait)
        rows = self._db.fetch("SELECT pg_try_advisory_lock(%s) AS ok", [self.key])
        return bool(rows and rows[0]["ok"])

    def release(self) -> None:
        self._db.fetch("SELECT pg_advisory_unlock(%s) AS ok", [self.key])

    def still_held(self) -> bool:
        rows = self._db.fetch(
            "SELECT 1 AS x FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid() "
            "AND classid = %s AND objid = %s AND objsubid = 1",
            [(self.key >> 32) & 0xFFFFFFFF, self.key & 0xFFFFFFFF],
        )
        return bool(rows)

    def _holder_row(self) -> dict[str, object] | None:
        rows = self._db.fetch(
            "SELECT a.pid AS pid, a.application_name AS app, a.client_addr AS addr, a.query AS query "
            "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND l.classid = %s AND l.objid = %s AND l.objsubid = 1",
            [(self.key >> 32) & 0xFFFFFFFF, self.key & 0xFFFFFFFF],
        )
        return rows[0] if rows else None

    def holder(self) -> str | None:
        r = self._holder_row()
        if r is None:
            return None
        where = f" from {r['addr']}" if r.get("addr") else ""
        app = f" ({r['app']})" if r.get("app") else ""
        return f"server process {r['pid']}{app}{where}"

    def _orphan_row(self) -> tuple[dict[str, object], int, str] | None:
        """The holder's row, the pid of its kysera process that is gone, and its statement."""
        from .process_tag import gone_process

        r = self._holder_row()
        if r is None:
            return None
        gone = gone_process(r.get("app"))
        if gone is None:
            return None
        query = " ".join(str(r.get("query") or "").split())
        return r, gone, query if len(query) <= 120 else query[:117] + "..."

    def orphan(self) -> str | None:
        found = self._orphan_row()
        if found is None:
            return None
        r, gone, shown = found
        return (
            f"the kysera run that held the migration lock (process {gone}) is gone, but its server session "
            f"{r['pid']} is still running {shown!r}"
        )

    def end_orphan(self) -> str | None:
        found = self._orphan_row()
        if found is None:
            return None
        r, gone, shown = found
        self._db.fetch("SELECT pg_terminate_backend(%s) AS ended", [r["pid"]])
        return (
            f"the kysera run that held the migration lock (process {gone}) is gone, but its server session "
            f"{r['pid']} was still running {shown!r}: ended it (what it had not committed rolls back)"
        )


class MysqlNamedLock(MigrationLock):
    def __init__(self, db: Database, table: IdentifierNode) -> None:
        self._db = db
        database = table.schema or str(db.fetch("SELECT DATABASE() AS d")[0]["d"] or "")
        name = _key_text(database, table.name)
        if len(name) > 64:  # GET_LOCK names are at most 64 characters
            name = "kysera-migrations:" + sha256(name.encode()).hexdigest()[:40]
        self.name = name
        self.description = f"{db.dialect.display_name} database {database!r} (GET_LOCK {name!r})"

    def try_acquire(self, wait: float) -> bool:
        rows = self._db.fetch("SELECT GET_LOCK(%s, %s) AS ok", [self.name, round(wait, 3)])
        value = rows[0]["ok"] if rows else None
        if value is None:
            raise LockError(
                f"GET_LOCK({self.name!r}) returned NULL on {self.description}: the server could not take "
                "the migration lock (was the connection killed?); try again"
            )
        return int(str(value)) == 1

    def release(self) -> None:
        self._db.fetch("SELECT RELEASE_LOCK(%s) AS ok", [self.name])

    def still_held(self) -> bool:
        rows = self._db.fetch("SELECT IS_USED_LOCK(%s) = CONNECTION_ID() AS mine", [self.name])
        return bool(rows and rows[0]["mine"])

    def holder(self) -> str | None:
        rows = self._db.fetch("SELECT IS_USED_LOCK(%s) AS id", [self.name])
        if not rows or rows[0]["id"] is None:
            return None
        conn_id = rows[0]["id"]
        where = ""
        try:
            found = self._db.fetch(
                "SELECT HOST AS host, USER AS user FROM information_schema.PROCESSLIST WHERE ID = %s", [conn_id]
            )
            if found:
                where = f" ({found[0]['user']}@{found[0]['host']})"
        except Exception:
            pass
        return f"connection {conn_id}{where}"


class FileLock(MigrationLock):
    """An exclusive ``flock`` on a sidecar file; the kernel releases it when the process dies."""

    def __init__(self, lock_path: str, description: str) -> None:
        self.path = lock_path
        self.description = description
        self._fd: int | None = None
        self._held = False

    def _open(self) -> int:
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise LockError(
                    f"cannot create the migration lock file {self.path}: {exc.strerror}; "
                    "kysera needs write access to the folder that holds the database"
                ) from None
        return self._fd

    def try_acquire(self, wait: float) -> bool:
        if wait > 0:
            time.sleep(wait)
        while True:
            fd = self._open()
            if not _try_lock_file(fd):
                return False
            if _still_at(fd, self.path):
                break
            # the holder before us removed this file as it let go (after we had opened it): a
            # lock on it keeps nobody out, so lock the file at the path now, made anew if need be
            self.release()  # not held yet: closes the file (which drops the lock) and removes nothing
        self._held = True
        try:  # say who holds it, for waiters' messages
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()}\n".encode(), 0)
        except OSError:
            pass
        return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        held, self._held = self._held, False
        if fd is None:
            return
        try:
            if held:
                try:
                    os.unlink(self.path)  # still locked: whoever locks this file next finds it gone
                except OSError:
                    pass  # e.g. Windows, where an open file cannot be removed: it stays, harmless
                _unlock_file(fd)
        finally:
            os.close(fd)

    def holder(self) -> str | None:
        try:
            with open(self.path, encoding="utf-8", errors="replace") as handle:
                text = handle.read().strip()
        except OSError:
            return None
        return f"process {text.removeprefix('pid ').strip()}" if text else None

    def busy(self) -> str | None:
        # the file outlives a holder that was killed: only a lock on it says someone holds it
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return None  # no lock file: nobody holds it
        try:
            if _try_lock_file(fd):
                _unlock_file(fd)
                return None
        except OSError:
            return None
        finally:
            os.close(fd)
        return self.holder() or "another process"


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock_file(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock_file(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock_file(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock_file(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _still_at(fd: int, path: str) -> bool:
    """Whether ``path`` still leads to the open file ``fd``."""
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except OSError:
        return False


def sqlite_file_path(database: str) -> str | None:
    """The file behind a SQLite URL's database part; None for an in-memory database."""
    path = database
    if path.startswith("file:"):
        path, _, query = path[len("file:") :].partition("?")
        if "mode=memory" in query:
            return None
        if path.startswith("//"):  # file://host/path or file:///path
            path = "/" + path[2:].partition("/")[2]
    if path in ("", ":memory:"):
        return None
    return os.path.abspath(path)


def migration_lock(db: Database, table: IdentifierNode) -> MigrationLock:
    """The lock that keeps two runners of ``table`` on ``db``'s database from running at once."""
    name = db.dialect.name
    if name == "postgres":
        return PostgresAdvisoryLock(db, table)
    if name == "mysql":
        return MysqlNamedLock(db, table)
    if db.url.options.get("mode") == "memory":
        return NoLock("an in-memory SQLite database")
    path = sqlite_file_path(db.url.database)
    if path is None:
        return NoLock("an in-memory SQLite database")
    # Next to the file itself: a runner that reaches the database through a symlink, and one that
    # names it directly, must wait for each other.
    lock_path = os.path.realpath(path) + ".kysera-lock"
    return FileLock(lock_path, f"SQLite database {path} (lock file {lock_path})")
