"""``Migration``: a name, an ``up`` function, an optional ``down``, and how to run them."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from types import FunctionType
from typing import TYPE_CHECKING, Literal

from ..hashing import sha256
from .errors import MigrationDefinitionError

if TYPE_CHECKING:
    from ..database import Capture, Database
    from ..nodes import CompiledStatement
    from .sql_file import SqlStatements

Direction = Literal["up", "down"]
MigrationFunction = Callable[["Database"], object]

#: longest name the history table holds
MAX_NAME_LENGTH = 255


class Migration:
    """One migration. ``up`` and ``down`` take the :class:`~kysera.Database` and change it.

    ``Migration("001_users", up, down)``. The name is what the history table records; for a file
    it is the file name without its extension. ``transaction=False`` runs the migration outside a
    transaction (needed for PostgreSQL's ``CREATE INDEX CONCURRENTLY``); ``down_transaction``
    sets that for ``down`` alone (default: the same as ``transaction``). ``checksum`` overrides
    the fingerprint kysera records to notice edits (by default: sha256 of the source file for a
    loaded file, of the functions' source code for a migration defined in code).
    """

    __slots__ = (
        "_checksum",
        "_path",
        "allow_unsafe",
        "description",
        "down",
        "down_transaction",
        "name",
        "transaction",
        "up",
    )

    def __init__(
        self,
        name: str,
        up: MigrationFunction,
        down: MigrationFunction | None = None,
        *,
        transaction: bool = True,
        description: str | None = None,
        down_transaction: bool | None = None,
        checksum: str | None = None,
        path: str | Path | None = None,
        allow_unsafe: bool | Iterable[str] = (),
    ) -> None:
        where = f" ({path})" if path is not None else ""
        if not isinstance(name, str) or not name.strip():
            raise MigrationDefinitionError(f"a migration needs a non-empty name, got {name!r}{where}")
        if name != name.strip():
            raise MigrationDefinitionError(f"migration name {name!r} has surrounding spaces; remove them")
        if len(name) > MAX_NAME_LENGTH:
            raise MigrationDefinitionError(
                f"migration name {name[:40]!r}... is {len(name)} characters long; the limit is {MAX_NAME_LENGTH}"
            )
        if not callable(up):
            raise MigrationDefinitionError(f"migration {name}{where}: up must be a function taking the database, got {up!r}")
        if down is not None and not callable(down):
            raise MigrationDefinitionError(
                f"migration {name}{where}: down must be a function taking the database (or None), got {down!r}"
            )
        sql_statements = _sql_statements_type()
        for label, fn in (("up", up), ("down", down)):
            # a .sql file's sections are called with the database by their own class: asking
            # inspect about each would cost a folder of .sql files ~50 us per migration
            problem = None if fn is None or type(fn) is sql_statements else signature_problem(fn)
            if problem:  # as a file's up/down is checked when it loads, before anything runs
                raise MigrationDefinitionError(
                    f"migration {name}{where}: {label}{problem}; define it as 'def {label}(db): ...'"
                )
        if not _plain_functions(up, down):  # one call for the usual case, not one per function
            for label, fn in (("up", up), ("down", down)):
                if fn is not None and _is_async(fn):
                    raise MigrationDefinitionError(
                        f"migration {name}{where}: {label} is an async function; kysera runs migrations "
                        f"synchronously, so write 'def {label}(db)' instead of 'async def'"
                    )
        if not isinstance(transaction, bool):
            raise MigrationDefinitionError(f"migration {name}{where}: transaction must be True or False, got {transaction!r}")
        if down_transaction is not None and not isinstance(down_transaction, bool):
            raise MigrationDefinitionError(
                f"migration {name}{where}: down_transaction must be True, False or None, got {down_transaction!r}"
            )
        if description is not None and not isinstance(description, str):
            raise MigrationDefinitionError(f"migration {name}{where}: description must be a string, got {description!r}")
        codes: set[str] = set()
        if allow_unsafe:
            from ..errors import ConfigurationError
            from ..safety.rules import resolve_codes

            try:
                codes = resolve_codes(
                    list(allow_unsafe) if isinstance(allow_unsafe, Iterable) and not isinstance(allow_unsafe, str) else allow_unsafe,
                    f"migration {name}{where}",
                )
            except ConfigurationError as exc:
                raise MigrationDefinitionError(str(exc)) from None
        #: safety rule codes acknowledged for this migration (``allow_unsafe = ["KS102"]``; True: all)
        self.allow_unsafe: frozenset[str] = frozenset(codes)
        self.name = name
        self.up = up
        self.down = down
        self.transaction = transaction
        self.down_transaction = down_transaction
        self.description = description
        self._path = path  # made a Path when asked: a thousand loaded files need none
        self._checksum = checksum

    @property
    def path(self) -> Path | None:
        """The file this migration was loaded from; None for one defined in code."""
        path = self._path
        if path is None or isinstance(path, Path):
            return path
        self._path = path = Path(path)
        return path

    def function(self, direction: Direction) -> MigrationFunction | None:
        return self.up if direction == "up" else self.down

    def capture(
        self, db: Database, direction: Direction, *, in_transaction: bool, into: list[CompiledStatement] | None = None
    ) -> Capture:
        """Run ``direction`` with :meth:`Database.capture`: the statements it would run, unrun.

        Reads still run. Exceptions propagate; the statements captured before one are in
        ``into`` (when given; a :class:`~kysera.database.Capture` there also learns whether the
        code consulted the database). Used by dry runs, the safety gate and ``kysera migrate sql``.
        """
        fn = self.function(direction)
        if fn is None:
            from ..database import Capture

            return Capture()
        with db.capture() as captured:
            try:
                if in_transaction:
                    with db.transaction():
                        call(fn, db)
                else:
                    call(fn, db)
            finally:
                if into is not None:
                    into.extend(captured)
                    if isinstance(into, type(captured)):  # a Capture
                        into.consulted = captured.consulted
        return captured

    def uses_transaction(self, direction: Direction) -> bool:
        """Whether this migration asks to run ``direction`` inside a transaction."""
        if direction == "down" and self.down_transaction is not None:
            return self.down_transaction
        return self.transaction

    @property
    def is_sql_file(self) -> bool:
        """Whether this is a ``.sql`` migration (its sections are SQL text, not functions)."""
        kind = _sql_statements_type()
        return kind is not None and isinstance(self.up, kind)

    def sql_statements(self, direction: Direction, dialect: str) -> list[str] | None:
        """The statements of a ``.sql`` migration's section, split as ``dialect`` reads them
        ("postgres", "mysql", "sqlite"); None for a Python migration."""
        kind = _sql_statements_type()
        if kind is None or not isinstance(self.up, kind):
            return None
        section = self.function(direction)
        return section.statements(dialect) if isinstance(section, kind) else []

    def sql_compiled(self, direction: Direction, db: Database) -> tuple[CompiledStatement, ...] | None:
        """The statements of a ``.sql`` migration's section as ``db``'s engine runs them, compiled
        once (the runner's transaction check, the dry run and the run share them); None for a
        Python migration."""
        kind = _sql_statements_type()
        if kind is None or not isinstance(self.up, kind):
            return None
        section = self.function(direction)
        return section.compiled(db) if isinstance(section, kind) else ()

    @property
    def checksum(self) -> str:
        """sha256 (hex) of the file, or of the up/down source code for a migration made in code."""
        if self._checksum is None:
            try:
                self._checksum = file_checksum(self.path.read_bytes()) if self.path is not None else None
            except OSError:
                self._checksum = None
            if self._checksum is None:
                self._checksum = code_checksum(self.up, self.down)
        return self._checksum

    def __repr__(self) -> str:
        return f"<Migration {self.name}>"


def _sql_statements_type() -> type[SqlStatements] | None:
    """:class:`~kysera.migrations.sql_file.SqlStatements`, or None when that module is not
    imported: then no ``.sql`` migration exists (the loader imports it for the first one), and
    a folder of Python files never loads it."""
    module = sys.modules.get("kysera.migrations.sql_file")
    return None if module is None else module.SqlStatements


#: the code flag of an ``async def`` function (``inspect.CO_COROUTINE``; ``inspect`` loads only
#: when needed: it costs a loaded folder a few milliseconds)
_CO_COROUTINE = 0x80


def signature_problem(fn: object) -> str | None:
    """Why ``fn(db)`` cannot be called, or None. Plain functions are checked on their code
    object (cheap: status loads every migration); other callables through ``inspect``."""
    if type(fn) is FunctionType:
        code = fn.__code__
        if code.co_argcount == 1 and not code.co_kwonlyargcount:
            return None  # def up(db): the usual case, answered before the general rule below
        positional = code.co_argcount
        optional = len(fn.__defaults__ or ())
        star_args = bool(code.co_flags & 0x04)  # CO_VARARGS
        keyword_only = code.co_varnames[positional : positional + code.co_kwonlyargcount]
        required_keywords = [k for k in keyword_only if k not in (fn.__kwdefaults__ or {})]
        if (positional >= 1 or star_args) and positional - optional <= 1 and not required_keywords:
            return None
        if required_keywords and positional - optional <= 1:
            return _keyword_only(required_keywords)
        count = positional + code.co_kwonlyargcount
        return f" takes {count} argument{'s' if count != 1 else ''}, but kysera calls it with one, the database"
    import inspect

    try:
        signature = inspect.signature(fn)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    try:
        signature.bind(object())
    except TypeError:
        params = signature.parameters.values()
        required_keywords = [p.name for p in params if p.kind is p.KEYWORD_ONLY and p.default is p.empty]
        if required_keywords and sum(p.kind is p.POSITIONAL_ONLY or p.kind is p.POSITIONAL_OR_KEYWORD for p in params) == 0:
            return _keyword_only(required_keywords)
        count = len(signature.parameters)
        return f" takes {count} argument{'s' if count != 1 else ''}, but kysera calls it with one, the database"
    return None


def _keyword_only(names: list[str]) -> str:
    shown = ", ".join(names)
    return (
        f" takes {shown} as keyword-only (after a *), but kysera passes the database as its one positional "
        "argument"
    )


def _plain_functions(up: object, down: object) -> bool:
    """Whether ``up`` and ``down`` (or None) are ``def`` functions, not ``async def`` ones."""
    return (
        type(up) is FunctionType
        and not up.__code__.co_flags & _CO_COROUTINE
        and (down is None or (type(down) is FunctionType and not down.__code__.co_flags & _CO_COROUTINE))
    )


def _is_async(fn: object) -> bool:
    if type(fn) is FunctionType:  # the usual case, checked without inspect's unwrapping
        return bool(fn.__code__.co_flags & _CO_COROUTINE)
    import inspect

    return inspect.iscoroutinefunction(fn)


def file_checksum(data: bytes) -> str:
    """sha256 of a migration file, with Windows line endings counted as Unix ones."""
    return sha256(data.replace(b"\r\n", b"\n")).hexdigest()


def code_checksum(*functions: MigrationFunction | None) -> str:
    digest = sha256()
    for fn in functions:
        digest.update(b"\x00")
        if fn is not None:
            digest.update(_function_fingerprint(fn))
    return digest.hexdigest()


def _function_fingerprint(fn: MigrationFunction) -> bytes:
    import inspect

    try:
        return inspect.getsource(fn).replace("\r\n", "\n").encode()
    except Exception:  # no source file (OSError), not Python (TypeError), a file name that is not
        pass  # the code's own, so tokenizing it fails (TokenError, SyntaxError on Python 3.13)
    inner = getattr(fn, "func", None)  # functools.partial
    if inner is not None and callable(inner):
        return _function_fingerprint(inner) + repr(getattr(fn, "args", ())).encode()
    code = getattr(fn, "__code__", None)
    if code is None:
        call = getattr(type(fn), "__call__", None)  # noqa: B004 - a callable object's method
        code = getattr(call, "__code__", None)
    if code is None:  # something without Python code: its name is all that is stable
        return f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', type(fn).__qualname__)}".encode()
    return _code_fingerprint(code)


def _code_fingerprint(code: object) -> bytes:
    parts: list[bytes] = [getattr(code, "co_code", b"")]
    for const in getattr(code, "co_consts", ()):
        if hasattr(const, "co_code"):
            parts.append(_code_fingerprint(const))
        else:
            parts.append(repr(const).encode())
    parts.append(repr(getattr(code, "co_names", ())).encode())
    return b"\x01".join(parts)


def call(fn: MigrationFunction, db: Database) -> None:
    """Run a migration's ``up`` or ``down``. Its ``sys.exit()`` is a failure of that migration,
    not the end of the whole command without a word."""
    try:
        fn(db)
    except SystemExit as exc:
        raise RuntimeError(
            f"it called sys.exit({exc.code!r}); a migration reports a failure by raising an exception"
        ) from None
