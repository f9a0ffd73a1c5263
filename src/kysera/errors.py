"""Every error kysera raises on purpose.

Each one is a :class:`KyseraError`: one sentence that names the thing that is wrong and says
how to fix it. The CLI prints ``str(error)`` and exits with ``error.exit_code``; it shows a
traceback only with ``-v``.
"""

from __future__ import annotations


class KyseraError(Exception):
    """Base class of every error kysera raises for a user mistake or a database refusal."""

    #: process exit code the CLI uses for this error (2: usage or configuration, 1: a run failed)
    exit_code: int = 1


class ConfigurationError(KyseraError):
    """A bad URL, a bad option, a bad config file."""

    exit_code = 2


class UnknownSchemeError(ConfigurationError):
    """The database URL has a scheme kysera does not know."""


class InvalidUrlError(ConfigurationError):
    """The database URL is malformed: a bad port or host, no file or database, an unknown option."""


class MissingDriverError(ConfigurationError):
    """The URL needs a driver package that is not installed."""


class ConnectionFailedError(KyseraError):
    """The server could not be reached or refused the login."""


class UnsupportedError(KyseraError):
    """The engine cannot do what the builder was asked for."""

    def __init__(self, operation: str, engine: str, alternative: str | None = None) -> None:
        self.operation = operation
        self.engine = engine
        self.alternative = alternative
        message = f"{operation} is not supported on {engine}"
        if alternative:
            message += f"; {alternative}"
        super().__init__(message)


class CatalogNeededError(UnsupportedError):
    """What was asked compiles only with the database's catalog at hand: a connected Database
    (an offline compile, ``kysera migrate sql`` or ``lint --dialect``, cannot)."""


class BuilderError(KyseraError):
    """A schema or query builder was used in a way that cannot compile (e.g. ``on_delete`` before ``references``)."""

    exit_code = 2


class StatementError(KyseraError):
    """The database rejected a statement. Carries the statement and the driver's error."""

    def __init__(self, statement: str, cause: BaseException) -> None:
        self.statement = statement
        self.cause = cause
        super().__init__(f"{driver_reason(cause)}\n  in statement: {_shorten(statement)}")


def driver_reason(cause: BaseException) -> str:
    """The database's own words for an error, on one line (PyMySQL packs a code and a text)."""
    args: tuple[object, ...] = tuple(getattr(cause, "args", ()))
    if len(args) >= 2 and isinstance(args[0], int) and isinstance(args[1], str):
        if not args[1]:  # PyMySQL's (0, '') for a connection that is gone: its code says nothing
            return "the connection was cut off" + (f" (error {args[0]})" if args[0] else "")
        return f"{args[1]} (error {args[0]})"
    text = str(cause).strip()
    reason = text.splitlines()[0] if text else type(cause).__name__
    # PostgreSQL's detail and hint (psycopg's diag) say which key repeats, what to install ...
    diag = getattr(cause, "diag", None)
    for extra in (getattr(diag, "message_detail", None), getattr(diag, "message_hint", None)):
        if isinstance(extra, str) and extra.strip() and extra.strip() not in reason:
            reason += " (" + " ".join(extra.split()).rstrip(".") + ")"
    return reason


def _shorten(text: str, limit: int = 500) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class DatabaseLockedError(KyseraError):
    """SQLite: a statement gave up waiting for another connection's write lock (``database is
    locked`` once the busy timeout ran out), said with the file and what to do. Like a lock
    timeout on a server, the statement changed nothing and may be tried again."""


class ReadOnlyDatabaseError(KyseraError):
    """The database refuses every write (a read-only file, folder or mount): nothing in the
    statement is wrong."""


class LockError(KyseraError):
    """The migration lock could not be taken (other than by waiting too long)."""


class LockTimeoutError(LockError):
    """Another runner held the migration lock for longer than ``lock_timeout``."""

    def __init__(self, message: str, *, target: str, waited: float, holder: str | None = None) -> None:
        self.target = target
        self.waited = waited
        self.holder = holder
        super().__init__(message)
