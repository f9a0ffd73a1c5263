"""A migration's session settings end with it.

One :class:`~kysera.database.Database` is one connection for a whole run. A migration that runs
``SET lock_timeout = '1ms'`` (PostgreSQL), ``SET SESSION innodb_lock_wait_timeout = 1``
(MySQL/MariaDB) or ``PRAGMA busy_timeout = 1`` (SQLite) would otherwise carry that setting into
every later migration of the run and into kysera's own statements: the history row, the lock
timeout the run set (``statement_lock_timeout``), the migration lock's release.

:class:`SessionGuard` watches the statements a migration runs, as the runner's listener. Only raw
SQL can change a setting (``sql(...)``, ``db.execute(text)``, a ``.sql`` file, ``db.fetch`` of a
``SET``): statements kysera compiled itself are never looked at. Just before the first statement
of a run that changes a setting, the guard reads the setting's value (one query); when the
migration ends, before its history row is written, it sets the changed settings back (one
statement), and after a migration that failed too. A migration that changes no setting costs
nothing more. What ends with the transaction by itself (PostgreSQL's ``SET LOCAL``, ``SET
TRANSACTION``; MySQL's ``SET TRANSACTION`` without ``SESSION``; ``SET GLOBAL``, which the session
does not see) is left alone.

Not seen: a setting changed inside a function or a ``DO`` body, by a query given to ``db.fetch``
that only reads (``SELECT set_config(...)``, a ``PRAGMA``), or through ``db.driver_connection``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ..nodes import CompiledStatement, RawNode

if TYPE_CHECKING:
    from ..database import Database
    from .sql_lexer import Token

#: every setting of the session (``RESET ALL``, ``DISCARD ALL``)
ALL = "*"
#: the statement lets go of the session's advisory or named locks (``DISCARD ALL``,
#: ``pg_advisory_unlock_all()``, ``RELEASE_ALL_LOCKS()``): the migration lock among them
LOCKS = "locks"
#: MySQL/MariaDB: what ``SET ROLE`` and ``USE`` change, which no variable holds
MYSQL_ROLE = "current_role()"
MYSQL_DATABASE = "database()"

#: the first words of a raw statement that may change a setting; any other is not looked at
_FIRST_WORDS = {
    "postgres": frozenset({"SET", "RESET", "DISCARD", "SELECT"}),
    "mysql": frozenset({"SET", "USE", "SELECT", "DO"}),
    "sqlite": frozenset({"PRAGMA"}),
}
#: a statement's first word, after blanks and comments
#: (these patterns are compiled when first used, through re's cache: only raw SQL needs them)
_FIRST_WORD = r"(?s)(?:\s+|--[^\n]*|#[^\n]*|/\*.*?\*/)*+([A-Za-z]+)"  # *+: never backtracks
#: SELECTs that change something: looked for in the text before it is read token by token
_CALLS = {
    "postgres": r"(?i)\b(?:set_config|pg_advisory_unlock_all)\s*\(",
    "mysql": r"(?i)\brelease_all_locks\s*\(",
}

#: SQLite: the pragmas that hold a setting of the connection and can be read back (not those of
#: the database file, such as journal_mode, nor actions such as optimize)
SQLITE_PRAGMAS = frozenset({
    "automatic_index", "busy_timeout", "cache_size", "cache_spill", "cell_size_check", "foreign_keys",
    "ignore_check_constraints", "legacy_alter_table", "query_only", "recursive_triggers",
    "reverse_unordered_selects", "secure_delete", "synchronous", "temp_store", "trusted_schema",
    "writable_schema",
})

_MYSQL_CHARSET = ("character_set_client", "character_set_connection", "character_set_results", "collation_connection")
_MYSQL_SCOPES = {"GLOBAL": "global", "PERSIST": "global", "PERSIST_ONLY": "global", "SESSION": "session", "LOCAL": "session"}
#: what ``SET SESSION TRANSACTION`` changes (named ``tx_...`` on older servers: see _server_names)
_MYSQL_TRANSACTION = ("transaction_isolation", "transaction_read_only")
_PG_CHARACTERISTICS = ("default_transaction_isolation", "default_transaction_read_only", "default_transaction_deferrable")
_NAME = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z"


def may_change_session(statement: CompiledStatement, dialect: str) -> bool:
    """A cheap first look: whether ``statement`` is raw SQL whose first word can change a setting."""
    if type(statement.node) is not RawNode:  # kysera's own SQL never changes a setting
        return False
    found = re.match(_FIRST_WORD, statement.sql)
    first = found.group(1).upper() if found is not None else ""
    if first not in _FIRST_WORDS.get(dialect, ()):
        return False
    if first in ("SELECT", "DO"):
        calls = _CALLS.get(dialect)
        return calls is not None and re.search(calls, statement.sql) is not None
    return True


def changed_settings(text: str, dialect: str) -> tuple[str, ...]:
    """The session settings the raw statement ``text`` changes for the rest of the session:
    lower-case names, :data:`ALL` for every one, :data:`LOCKS` when it lets go of the session's
    locks; empty when it changes none (or cannot be read: the server will refuse it then)."""
    from .sql_lexer import SqlParseError, tokenize

    try:
        if dialect == "postgres":
            tokens = tokenize(text, dollar_quotes=True, escape_strings=True)
        elif dialect == "mysql":
            tokens = tokenize(text, hash_comments=True, backslash_escapes=True)
        else:
            tokens = tokenize(text)
    except SqlParseError:
        return ()
    if not tokens:
        return ()
    first = tokens[0].upper
    if dialect == "postgres":
        if first == "SET":
            return _postgres_set(tokens)
        if first == "RESET":
            return _postgres_reset(tokens)
        if first == "DISCARD":
            return (ALL, LOCKS) if _word(tokens, 1) == "ALL" else ()
        return _postgres_calls(tokens)
    if dialect == "mysql":
        if first == "SET":
            return _mysql_set(tokens)
        if first == "USE":
            return (MYSQL_DATABASE,)
        return (LOCKS,) if any(t.upper == "RELEASE_ALL_LOCKS" for t in tokens) else ()
    if first == "PRAGMA":
        return _sqlite_pragma(tokens)
    return ()


def settings_changed_by(statement: CompiledStatement, dialect: str) -> tuple[str, ...]:
    """:func:`changed_settings` of ``statement``, after :func:`may_change_session`'s cheap look."""
    return changed_settings(statement.sql, dialect) if may_change_session(statement, dialect) else ()


#: the first line of a MySQL/MariaDB script of ``kysera migrate sql``: the stock client's own
#: character set would refuse what migrate up stores over utf8mb4
MYSQL_SCRIPT_CHARSET = "SET NAMES utf8mb4;"
#: what kysera's MySQL/MariaDB connection sets first (its ``init_command``): UTC, since kysera
#: writes a datetime with a time zone as its UTC wall time and a TIMESTAMP column reads that in
#: the session's zone (NOW() and CURRENT_TIMESTAMP give UTC too), and a strict ``sql_mode``, so
#: that a narrowed column or a NOT NULL fails instead of changing values
MYSQL_SESSION_SETUP = (
    "SET time_zone = '+00:00', sql_mode = IF(FIND_IN_SET('STRICT_TRANS_TABLES', @@sql_mode) "
    "OR FIND_IN_SET('STRICT_ALL_TABLES', @@sql_mode), @@sql_mode, "
    "CONCAT_WS(',', NULLIF(@@sql_mode, ''), 'STRICT_TRANS_TABLES'))"
)
#: the script's line after :data:`MYSQL_SCRIPT_CHARSET`: the session migrate up runs in, so a
#: client in another zone or a lax mode stores what migrate up stores
MYSQL_SCRIPT_SESSION = MYSQL_SESSION_SETUP + ";"
_MYSQL_SETUP = ("time_zone", "sql_mode")


def offline_restores(statements: Iterable[CompiledStatement], dialect: str) -> list[str]:
    """Script lines that end the session settings a migration's raw ``statements`` changed, for
    ``kysera migrate sql``: one client session runs the whole script, so without them a migration's
    ``SET search_path`` would hold for every later migration and the history rows, where
    ``migrate up`` sets it back. Offline, the value before is unknown: PostgreSQL's ``RESET``
    and MySQL's ``= DEFAULT`` give the session's default; what has none (MySQL's ``USE``, SQLite's
    pragmas) gets a comment that says so."""
    names: dict[str, None] = {}
    for statement in statements:
        names.update(dict.fromkeys(settings_changed_by(statement, dialect)))
    names.pop(ALL, None)  # RESET ALL / DISCARD ALL: the session is at its defaults already
    names.pop(LOCKS, None)  # a script takes no lock of kysera's
    if not names:
        return []
    if dialect == "postgres":
        if "session_authorization" in names:
            names.pop("role", None)  # RESET SESSION AUTHORIZATION ends SET ROLE too
        special = {"role": "RESET ROLE;", "session_authorization": "RESET SESSION AUTHORIZATION;"}
        return [special.get(name) or f"RESET {name};" for name in names if name in special or re.match(_NAME, name)]
    if dialect == "mysql":
        lines: list[str] = []
        setup_again = False  # the script's UTC time zone and strict mode, as its first lines set them
        for name in names:
            if name in _MYSQL_CHARSET:
                if MYSQL_SCRIPT_CHARSET not in lines:
                    lines.append(MYSQL_SCRIPT_CHARSET)  # as the script's first line set it
            elif name in _MYSQL_SETUP:
                if name == "sql_mode":
                    lines.append("SET SESSION sql_mode = DEFAULT;")  # then made strict again, below
                setup_again = True
            elif name == MYSQL_ROLE:
                lines.append("SET ROLE DEFAULT;")
            elif name == MYSQL_DATABASE:
                lines.append("-- USE above: the statements below run in that database (migrate up goes back to its own)")
            elif name in _MYSQL_TRANSACTION:
                lines.append("-- SET SESSION TRANSACTION above holds for the rest of this script")
            elif re.match(_NAME, name):
                lines.append(f"SET SESSION {name} = DEFAULT;")
        return [*lines, MYSQL_SCRIPT_SESSION] if setup_again else lines
    return [f"-- PRAGMA {name} above holds for the rest of this script (migrate up sets it back)" for name in names]


def _word(tokens: list[Token], i: int) -> str:
    return tokens[i].upper if i < len(tokens) else ""


def _dotted_name(tokens: list[Token], i: int) -> str:
    """The setting named from ``tokens[i]`` on: ``lock_timeout``, ``"search_path"``, ``myapp.x``."""
    parts: list[str] = []
    while i < len(tokens) and tokens[i].is_name:
        parts.append(tokens[i].value.lower())
        if i + 1 < len(tokens) and tokens[i + 1].is_punct("."):
            i += 2
            continue
        break
    return ".".join(parts)


def _postgres_set(tokens: list[Token]) -> tuple[str, ...]:
    i = 1
    if _word(tokens, i) == "LOCAL":
        return ()  # ends with the transaction
    session = _word(tokens, i) == "SESSION"
    if session:
        i += 1
    word = _word(tokens, i)
    if session and word == "AUTHORIZATION":
        return ("session_authorization", "role")
    if session and word == "CHARACTERISTICS":
        return _PG_CHARACTERISTICS
    if word in ("TRANSACTION", "CONSTRAINTS", "SEED"):
        return ()  # this transaction's; the random seed is no setting
    if word == "ROLE":
        return ("role",)
    if word == "TIME" and _word(tokens, i + 1) == "ZONE":
        return ("timezone",)
    if word == "SCHEMA":
        return ("search_path",)
    if word == "NAMES":
        return ("client_encoding",)
    if word == "XML" and _word(tokens, i + 1) == "OPTION":
        return ("xmloption",)
    name = _dotted_name(tokens, i)
    return (name,) if name else ()


def _postgres_reset(tokens: list[Token]) -> tuple[str, ...]:
    word = _word(tokens, 1)
    if word == "ALL":
        return (ALL,)
    if word == "ROLE":
        return ("role",)
    if word == "SESSION" and _word(tokens, 2) == "AUTHORIZATION":
        return ("session_authorization", "role")
    if word == "TIME" and _word(tokens, 2) == "ZONE":
        return ("timezone",)
    name = _dotted_name(tokens, 1)
    return (name,) if name else ()


def _postgres_calls(tokens: list[Token]) -> tuple[str, ...]:
    """``SELECT set_config('name', ...)`` and ``pg_advisory_unlock_all()`` in a query."""
    out: list[str] = []
    for i, token in enumerate(tokens):
        word = token.upper
        if word == "PG_ADVISORY_UNLOCK_ALL":
            out.append(LOCKS)
        elif (
            word == "SET_CONFIG"
            and i + 2 < len(tokens)
            and tokens[i + 1].is_punct("(")
            and tokens[i + 2].kind == "string"
            and re.match(_NAME, tokens[i + 2].value)
        ):
            out.append(tokens[i + 2].value.lower())
    return tuple(out)


def _mysql_set(tokens: list[Token]) -> tuple[str, ...]:
    word, second = _word(tokens, 1), _word(tokens, 2)
    if word in ("STATEMENT", "PASSWORD") or (word == "DEFAULT" and second == "ROLE"):
        return ()  # one statement's (MariaDB's SET STATEMENT ... FOR), or the account's
    if word == "TRANSACTION":
        return ()  # the next transaction's
    if second == "TRANSACTION" and word in _MYSQL_SCOPES:
        return _MYSQL_TRANSACTION if _MYSQL_SCOPES[word] == "session" else ()
    if word == "ROLE":
        return (MYSQL_ROLE,)
    out: list[str] = []
    scope = "session"  # a modifier holds for the assignments after it, until the next one
    for piece in _assignments(tokens[1:]):
        j = 0
        word = _word(piece, 0)
        if word in _MYSQL_SCOPES:
            scope = _MYSQL_SCOPES[word]
            j = 1
            word = _word(piece, 1)
        if word == "NAMES" or word == "CHARSET" or (word == "CHARACTER" and _word(piece, j + 1) == "SET"):
            out.extend(_MYSQL_CHARSET)
            continue
        here = scope
        if j < len(piece) and piece[j].is_punct("@") and j + 1 < len(piece) and piece[j + 1].kind == "variable":
            # @@name, @@session.name, @@global.name (the tokenizer reads "@" then "@session")
            first = piece[j + 1].text[1:]
            if j + 2 < len(piece) and piece[j + 2].is_punct("."):
                here = _MYSQL_SCOPES.get(first.upper(), "session")
                name = piece[j + 3].value if j + 3 < len(piece) and piece[j + 3].is_name else ""
            else:
                here, name = "session", first
        elif j < len(piece) and piece[j].is_name:
            name = piece[j].value
        else:
            continue  # a user variable (@x): not a setting
        if here == "session" and re.match(_NAME, name) and "." not in name:
            out.append(name.lower())
    return tuple(dict.fromkeys(out))


def _assignments(tokens: list[Token]) -> Iterator[list[Token]]:
    """The comma-separated assignments of a SET (commas inside parentheses are not theirs)."""
    depth = 0
    piece: list[Token] = []
    for token in tokens:
        if token.is_punct("("):
            depth += 1
        elif token.is_punct(")"):
            depth -= 1
        elif token.is_punct(",") and depth == 0:
            yield piece
            piece = []
            continue
        piece.append(token)
    if piece:
        yield piece


def _sqlite_pragma(tokens: list[Token]) -> tuple[str, ...]:
    i = 1
    if len(tokens) > 3 and tokens[2].is_punct("."):
        if tokens[1].value.lower() != "main":
            return ()  # an attached database's: not what kysera's statements use
        i = 3
    if i >= len(tokens) or not tokens[i].is_name:
        return ()
    name = tokens[i].value.lower()
    assigns = i + 1 < len(tokens) and (tokens[i + 1].is_punct("=") or tokens[i + 1].is_punct("("))
    return (name,) if assigns and name in SQLITE_PRAGMAS else ()


# ---------------------------------------------------------------------------- read and set back


def _server_names(db: Database, names: tuple[str, ...]) -> tuple[str, ...]:
    """``names`` as this server calls them: MariaDB before 11.1 (and MySQL before 8.0, which
    has both) names the transaction's characteristics ``tx_isolation`` and ``tx_read_only``."""
    if db.dialect.name != "mysql" or _MYSQL_TRANSACTION[0] not in names:
        return names
    version = db.dialect.server_version
    mariadb = "mariadb" in db.dialect.version_text.lower()
    if (mariadb and version < (11, 1)) or (not mariadb and version < (8, 0)):
        return tuple(n.replace("transaction_", "tx_") if n in _MYSQL_TRANSACTION else n for n in names)
    return names


def _postgres_session_values(db: Database) -> dict[str, object]:
    """PostgreSQL, before ``RESET ALL``: every setting this session set, with its value."""
    rows = db.run_own("SELECT name, current_setting(name) AS value FROM pg_settings WHERE source = 'session'")
    return {str(r["name"]).lower(): r["value"] for r in rows}


def read_settings(db: Database, names: Iterable[str]) -> dict[str, object]:
    """The current values of the session settings ``names``, as :func:`restore_settings` takes
    them back; a name the server does not know is left out (the statement that sets it fails)."""
    names = [n for n in names if n not in (ALL, LOCKS)]
    if not names:
        return {}
    name = db.dialect.name
    if name == "postgres":
        columns = ", ".join(f"current_setting(%s, true) AS s{i}" for i in range(len(names)))
        row = db.run_own(f"SELECT {columns}", names)[0]
        return {n: row[f"s{i}"] for i, n in enumerate(names)}
    if name == "mysql":
        return _mysql_read(db, names)
    out: dict[str, object] = {}
    for pragma in names:
        rows = db.run_own(f"PRAGMA {pragma}")
        if rows:
            out[pragma] = next(iter(rows[0].values()))
    return out


def _mysql_read(db: Database, names: list[str]) -> dict[str, object]:
    def column(name: str) -> str:
        if name == MYSQL_ROLE:
            return "CURRENT_ROLE()"
        if name == MYSQL_DATABASE:
            return "DATABASE()"
        return f"@@SESSION.{name}"

    from ..errors import StatementError

    try:
        row = db.run_own("SELECT " + ", ".join(f"{column(n)} AS s{i}" for i, n in enumerate(names)))[0]
        return {n: row[f"s{i}"] for i, n in enumerate(names)}
    except StatementError:
        if len(names) == 1:
            return {}  # an unknown variable: the user's SET fails on it too
    out: dict[str, object] = {}
    for one in names:
        out.update(_mysql_read(db, [one]))
    return out


def restore_settings(db: Database, values: Mapping[str, object]) -> None:
    """Set the session settings back to ``values`` (as :func:`read_settings` read them)."""
    if not values:
        return
    name = db.dialect.name
    if name == "postgres":
        # the session's user first: setting it resets the role
        ordered = sorted(values.items(), key=lambda item: item[0] != "session_authorization")
        calls = ", ".join(f"set_config(%s, %s, false) AS s{i}" for i in range(len(ordered)))
        db.run_own(f"SELECT {calls}", [p for item in ordered for p in item])
        return
    if name == "mysql":
        plain = {k: v for k, v in values.items() if k not in (MYSQL_ROLE, MYSQL_DATABASE)}
        if MYSQL_ROLE in values:
            db.run_own(_mysql_set_role(db, values[MYSQL_ROLE]))
        if plain:
            db.run_own("SET " + ", ".join(f"SESSION {k} = %s" for k in plain), list(plain.values()))
        if values.get(MYSQL_DATABASE) is not None:
            db.run_own("USE `" + str(values[MYSQL_DATABASE]).replace("`", "``") + "`")
        return
    for pragma, value in values.items():
        literal = str(value) if isinstance(value, int) else "'" + str(value).replace("'", "''") + "'"
        db.run_own(f"PRAGMA {pragma} = {literal}")


def _mysql_set_role(db: Database, role: object) -> str:
    if role is None or str(role).upper() == "NONE":
        return "SET ROLE NONE"
    text = str(role)
    if "`" in text:  # MySQL names them quoted, several at once: "`r`@`%`,`s`@`%`"
        return f"SET ROLE {text}"
    return "SET ROLE `" + text.replace("`", "``") + "`"  # MariaDB: one role, its bare name


# ---------------------------------------------------------------------------- the runner's guard


class SessionGuard:
    """Sets back, when a migration ends, the session settings its raw SQL changed.

    The runner makes one per runner; :meth:`run` wraps a run with the values the run itself set
    (the lock timeouts), :meth:`watching` a migration (its :meth:`see` listens to the
    statements), and :meth:`restore` comes at the migration's end.
    """

    __slots__ = ("_baseline", "_changed", "_in_run", "db", "on_locks_lost")

    def __init__(self, db: Database) -> None:
        self.db = db
        #: each setting's value as the run has it: what the run set, or what was read just
        #: before the first statement that changed it
        self._baseline: dict[str, object] = {}
        #: the settings changed since the last restore
        self._changed: set[str] = set()
        #: inside :meth:`run`: the values read stay known until the run ends
        self._in_run = False
        #: called after a restore when a statement let go of the session's locks
        self.on_locks_lost: Callable[[], None] | None = None

    def changed(self, name: str) -> bool:
        """Whether the statements seen since the last restore changed the setting ``name``."""
        return name in self._changed

    @contextmanager
    def run(self, own: Mapping[str, object]) -> Iterator[None]:
        """A run, whose own settings (what it set for every statement) are ``own``."""
        self._baseline = dict(own)
        self._changed = set()
        self._in_run = True
        try:
            yield
        finally:
            self._in_run = False
            self._baseline = {}
            self._changed = set()

    def watching(self) -> _Watching:
        """Listen to the statements run in the block (a migration's code); inside a block that
        listens already, nothing more."""
        return _Watching(self, False)

    def isolated(self) -> _Watching:
        """:meth:`watching` the dry run of one migration, and :meth:`restore` (quietly: it may have
        failed) at its end: what it ran, a query or a rehearsed statement, ends with it."""
        return _Watching(self, True)

    def see(self, statement: CompiledStatement) -> None:
        """A statement about to run: when it changes a setting, keep the value it had first."""
        db = self.db
        dialect = db.dialect.name
        if not may_change_session(statement, dialect):
            return
        recorded = db.records_only
        if recorded and not statement.reads:
            return  # a dry run records it (a query runs even there)
        names = changed_settings(statement.sql, dialect)
        if not names:
            return
        if dialect == "sqlite" and "foreign_keys" in names and db.in_transaction:
            # SQLite ignores it inside a transaction (where kysera has switched it off meanwhile)
            names = tuple(n for n in names if n != "foreign_keys")
        names = _server_names(db, names)
        try:
            if ALL in names:
                if dialect == "postgres":
                    for key, value in _postgres_session_values(db).items():
                        self._baseline.setdefault(key, value)
                names = (*names, *self._baseline)
            missing = [n for n in names if n not in self._baseline and n not in (ALL, LOCKS)]
            if missing:
                self._baseline.update(read_settings(db, missing))
        except Exception:
            if not recorded:
                raise
            return  # kysera migrate lint --dialect: no database, and the query fails itself
        self._changed.update(names)

    def changes_any(self, statements: Iterable[CompiledStatement]) -> bool:
        """Whether any of ``statements`` may change a setting (a cheap look, without reading)."""
        dialect = self.db.dialect.name
        # kysera's own SQL (most statements) is passed over without a call: a run asks this of
        # every migration it replays
        return any(type(s.node) is RawNode and settings_changed_by(s, dialect) for s in statements)

    def restore(self, *, quietly: bool = False) -> None:
        """Set back what the statements seen since the last restore changed. ``quietly``: after
        a failure, when the connection may be gone (its settings go with it)."""
        if not self._changed:
            return
        changed, self._changed = self._changed, set()
        values = {n: self._baseline[n] for n in changed if n in self._baseline}
        try:
            restore_settings(self.db, values)
            if LOCKS in changed and self.on_locks_lost is not None:
                self.on_locks_lost()
        except Exception:
            if not quietly:
                raise


class _Watching:
    """What :meth:`SessionGuard.watching` and :meth:`SessionGuard.isolated` return. A class
    rather than a generator: the safety gate enters one per migration (a contextlib manager
    costs a few microseconds more each)."""

    __slots__ = ("_added", "_guard", "_restores")

    def __init__(self, guard: SessionGuard, restores: bool) -> None:
        self._guard = guard
        #: isolated(): restore (quietly) at the end of the block
        self._restores = restores
        self._added = False

    def __enter__(self) -> None:
        guard = self._guard
        listeners = guard.db.listeners
        see = guard.see
        if see not in listeners:  # inside a block that listens already, nothing more
            listeners.append(see)
            self._added = True

    def __exit__(self, *exc: object) -> None:
        guard = self._guard
        try:
            if self._restores:
                guard.restore(quietly=True)
        finally:
            if self._added:
                listeners = guard.db.listeners
                see = guard.see
                if see in listeners:
                    listeners.remove(see)
                if not guard._in_run:  # migrate lint: what was read may change before the next look
                    guard._baseline = {}
