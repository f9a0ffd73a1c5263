"""``.sql`` migration files: ``-- migrate:up`` and ``-- migrate:down`` sections.

.. code-block:: sql

    -- migrate:up
    CREATE TABLE users (id integer PRIMARY KEY, email varchar(255) NOT NULL);
    -- migrate:down
    DROP TABLE users;

``-- migrate:up transaction:false`` (or on the down line) runs that section outside a
transaction, e.g. for PostgreSQL's ``CREATE INDEX CONCURRENTLY``. Comments may come before the
first section. Statements are split on ``;`` when they run, as the engine reads them: quotes,
comments, ``$$`` bodies and trigger bodies respected.
A missing or empty ``-- migrate:down`` section means the migration cannot be rolled back.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from ..dialects import raw_text
from ..errors import KyseraError
from ..nodes import CompiledStatement, RawNode
from .migration import Migration, file_checksum

if TYPE_CHECKING:
    from ..database import Database
    from ..dialects.compiler import QueryCompiler

_MARKER = re.compile(r"^\s*--\s*migrate:\s*([A-Za-z_-]*)(.*)$", re.I)
#: goose's sections: read as comments, its Down would run with the up section
_GOOSE = re.compile(r"^\s*--\s*\+goose\s+(up|down)\b", re.I)
#: goose's directives that change how a file runs, which kysera would read as comments
_GOOSE_DIRECTIVE = re.compile(r"^\s*--\s*\+goose\s+(no\s+transaction|envsub)\b", re.I)
#: sql-migrate's sections (-- +migrate Up, -- +migrate Down notransaction)
_SQL_MIGRATE = re.compile(r"^\s*--\s*\+migrate\s+(up|down)\b", re.I)
#: a line meant as a section marker but written otherwise (-- migrate up, # migrate:down,
#: -- migrate : down, maybe with an option such as transaction:false): read as a comment, its
#: down SQL would run with the up section. Words after it make it a comment (-- migrate up old rows)
_NEAR_MARKER = re.compile(r"^\s*(?:--|#)\s*\+?\s*migrate\s*:?\s*(up|down)(?:\s+[\w-]+\s*[:=]\s*[\w-]+){0,2}\s*$", re.I)


class SqlFileError(ValueError):
    """A problem in a .sql migration; the loader names the file."""


def parse_sql_sections(text: str) -> dict[str, tuple[str, bool]]:
    """``{"up": (sql, transaction), "down": (...)}`` from the text of a .sql migration."""
    return {name: (sql, tx) for name, (sql, tx, _) in _sections(text).items()}


def _sections(text: str, name: str = "") -> dict[str, tuple[str, bool, int]]:
    """:func:`parse_sql_sections`, with the line of each section's marker (``name``: the
    migration's, for the hint of a file without sections)."""
    sections: dict[str, tuple[list[str], bool, int]] = {}
    current: list[str] | None = None
    preamble: list[str] = []
    # lines end at \n (and \r\n) only: splitlines() also breaks at \f, \x1c, \x85, U+2028 ...,
    # which a string literal may hold
    code = _code_lines(text)
    for number, line in enumerate(_lines(text), start=1):
        match = _MARKER.match(line) if number in code else None
        if match is None and number in code and ("migrate" in (low := line.lower()) or "goose" in low):
            _other_marker(line, number)
        if match is None:
            (current if current is not None else preamble).append(line)
            continue
        direction = match.group(1).lower()
        if direction not in ("up", "down"):
            raise SqlFileError(
                f"line {number} has an unknown section '-- migrate:{match.group(1)}'; "
                "use '-- migrate:up' and '-- migrate:down'"
            )
        if direction in sections:
            raise SqlFileError(
                f"line {number} starts a second '-- migrate:{direction}' section "
                f"(the first is on line {sections[direction][2]}); keep one of each"
            )
        transaction = _options(match.group(2), number)
        current = []
        sections[direction] = (current, transaction, number)
    if "up" not in sections:
        raise SqlFileError(_no_up_section(text, name))
    if not raw_text.is_blank("\n".join(preamble)):
        raise SqlFileError(
            "has SQL before its first '-- migrate:' line; move it under '-- migrate:up' (only comments may come first)"
        )
    return {section: ("\n".join(lines), tx, number) for section, (lines, tx, number) in sections.items()}


def _other_marker(line: str, number: int) -> None:
    """Refuse a line of code that another tool reads as a section marker or directive, or that
    looks meant as kysera's but is not one: kysera would read it as a comment, and the SQL after
    a down marker would run with the up section."""
    if _GOOSE.match(line):
        raise SqlFileError(
            f"line {number} is goose's {line.strip()!r}; kysera's sections are '-- migrate:up' and "
            "'-- migrate:down': write those instead of '-- +goose Up' and '-- +goose Down' "
            "('-- +goose NO TRANSACTION' becomes transaction:false on them; StatementBegin/End lines can go)"
        )
    directive = _GOOSE_DIRECTIVE.match(line)
    if directive is not None:
        if directive.group(1).lower().startswith("no"):
            fix = "write transaction:false after '-- migrate:up' (and after '-- migrate:down') instead"
        else:
            fix = "kysera does not substitute ${VARIABLES}: write their values in the SQL, and remove the line"
        raise SqlFileError(f"line {number} is goose's {line.strip()!r}, which kysera would read as a comment; {fix}")
    if _SQL_MIGRATE.match(line):
        raise SqlFileError(
            f"line {number} is sql-migrate's {line.strip()!r}; kysera's sections are '-- migrate:up' and "
            "'-- migrate:down': write those instead of '-- +migrate Up' and '-- +migrate Down' "
            "('notransaction' becomes transaction:false on them; StatementBegin/End lines can go)"
        )
    near = _NEAR_MARKER.match(line)
    if near is not None:
        direction = near.group(1).lower()
        raise SqlFileError(
            f"line {number} ({line.strip()!r}) is not a section marker, so it would be read as a comment; "
            f"write it as '-- migrate:{direction}' (two dashes, 'migrate', a colon, '{direction}')"
        )


def _no_up_section(text: str, name: str) -> str:
    """Why a file has no up section, and the fix: the line meant as its marker, if one is."""
    for number, line in enumerate(_lines(text), start=1):
        if re.search(r"(?i)\bmigrate\s*:\s*up\b", line):
            return (
                f"has no '-- migrate:up' line: line {number} ({line.strip()!r}) is inside a comment block or a "
                "quoted string, or is not a '--' comment; write '-- migrate:up' on a line of its own above "
                "the SQL that applies the migration"
            )
    fix = (
        "has no '-- migrate:up' line; put the SQL that applies the migration under a '-- migrate:up' line "
        "and the SQL that reverts it under a '-- migrate:down' line"
    )
    if re.match(r"[VUR]\d*(?:[._]\d+)*__", name):
        fix += (
            " (Flyway's files become one file each: its V file's SQL under '-- migrate:up', its U undo file's "
            "SQL under '-- migrate:down'; name it as kysera migrate create does or pad the version numbers)"
        )
    return fix


def _options(text: str, number: int) -> bool:
    transaction = True
    for word in text.split():
        if word.startswith(("--", "#", "/*")):
            raise SqlFileError(
                f"line {number} has a comment after its section marker; put the comment on a line of its own"
            )
        key, sep, value = word.partition(":")
        if key.lower() == "transaction" and sep and value.lower() in ("false", "true"):
            transaction = value.lower() == "true"
        else:
            raise SqlFileError(
                f"line {number} has an unknown option {word!r}; the only option is transaction:false"
            )
    return transaction


def sql_migration(name: str, path: str | Path, data: bytes) -> Migration:
    """A :class:`Migration` from the bytes of a .sql file (raises :class:`SqlFileError`)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise SqlFileError(
                "is UTF-16 text (it starts with a UTF-16 byte order mark, as PowerShell's > writes files); save it as UTF-8"
            ) from None
        line = data.count(b"\n", 0, exc.start) + 1
        raise SqlFileError(
            f"is not UTF-8 text (line {line}: byte {exc.start}, {data[exc.start : exc.start + 1]!r}, is not valid UTF-8, "
            "as in a Latin-1 or Windows-1252 file); save it as UTF-8"
        ) from None
    if "\r" in text and "\n" not in text:
        raise SqlFileError("ends its lines with CR alone (classic Mac line endings); save it with LF or CRLF line endings")
    sections = _sections(text, name)
    _check_allows(text)
    up_sql, up_tx, up_line = sections["up"]
    down_sql, down_tx, down_line = sections.get("down", ("", None, 0))
    return Migration(
        name,
        SqlStatements(up_sql, "up", up_line, str(path)),
        SqlStatements(down_sql, "down", down_line, str(path)) if not raw_text.is_blank(down_sql) else None,
        transaction=up_tx,
        down_transaction=down_tx if down_tx is not None and down_tx != up_tx else None,
        checksum=file_checksum(data),
        path=path,
        allow_unsafe=preamble_allows(text),
    )


def _check_allows(text: str) -> None:
    """Every ``-- kysera:allow`` of the file names known rules (codes or names): one with a typo
    would acknowledge nothing, and the statement it was written for would be refused."""
    if "kysera:allow" not in text.lower():
        return
    from ..safety.analyzer import ALLOW_DIRECTIVE

    for number, line in enumerate(_lines(text), start=1):
        for match in re.finditer(ALLOW_DIRECTIVE, line):
            allow_words(match.group(1), f"line {number}: -- kysera:allow")


def preamble_allows(text: str) -> list[str]:
    """Codes acknowledged for the whole migration: ``-- kysera:allow KS102`` in the comments
    before its first ``-- migrate:`` line, as ``allow_unsafe = [...]`` in a Python migration.
    One inside a section belongs to its statement only (see :func:`split_sql`)."""
    if "kysera:allow" not in text.lower():
        return []  # most files: no need to load the safety analysis
    preamble: list[str] = []
    code = _code_lines(text)
    for number, line in enumerate(_lines(text), start=1):
        if number in code and _MARKER.match(line):
            break
        preamble.append(line)
    if "kysera:allow" not in "\n".join(preamble).lower():
        return []
    from ..safety.analyzer import ALLOW_DIRECTIVE

    codes: list[str] = []
    for match in re.finditer(ALLOW_DIRECTIVE, "\n".join(preamble)):
        codes.extend(allow_words(match.group(1), "-- kysera:allow before the first section"))
    return codes


def allow_words(listed: str, where: str) -> list[str]:
    """The rules a ``-- kysera:allow`` lists, as written (codes or names), up to the first word
    that is neither (the words after the codes may say why). A word that looks like a code or a
    name but is none (``KS999``, ``drop-tabel``) is a misspelling: SqlFileError naming it."""
    from ..errors import ConfigurationError
    from ..safety.rules import resolve_codes

    out: list[str] = []
    for word in (w for w in re.split(r"[,\s]+", listed) if w):
        try:
            resolve_codes([word], where)
        except ConfigurationError as exc:
            if re.fullmatch(r"(?i)ks[0-9a-z]+|[a-z]+(?:-[a-z]+)+", word):
                raise SqlFileError(str(exc)) from None
            break
        out.append(word)
    return out


def _code_lines(text: str) -> set[int]:
    """The numbers of the lines that begin outside a block comment, a quoted string or name, and
    a ``$$`` body: only there is a ``-- migrate:`` line a section marker (one inside a
    ``/* ... */`` that comments out a down section must not bring it back). The engine is not
    known yet: a line counts when it begins outside them as the SQL standard reads quotes (a
    doubled quote escapes itself) or as MySQL does (a backslash escapes too)."""
    lines = _code_lines_read(text, False)
    if "\\" not in text:
        return lines  # without a backslash, MySQL reads the quotes as the standard does
    return lines | _code_lines_read(text, True)


def _spans(backslash: bool) -> re.Pattern[str]:
    """A comment, a quoted string or name, or a ``$$`` body, each to its end (or to the end of
    the text when it is not closed): a doubled quote escapes one, and with ``backslash`` (read
    as MySQL does) a backslash too, except in backquoted names."""
    quoted = []
    for quote in "'\"`":
        q = re.escape(quote)
        body = rf"(?:[^{q}\\]|\\.|{q}{q})*{q}" if backslash and quote != "`" else rf"(?:[^{q}]|{q}{q})*{q}"
        quoted.append(rf"{q}(?:{body}|.*)")
    return re.compile(
        r"--[^\n]*|/\*(?:.*?\*/|.*)|" + "|".join(quoted) + r"|(?P<tag>\$[A-Za-z_]*\$)(?:.*?(?P=tag)|.*)", re.S
    )


def _code_lines_read(text: str, backslash: bool) -> set[int]:
    # every line, but those that begin inside a comment, a quoted string or name, or a $$ body;
    # the patterns are compiled on first use (most files are read as the standard reads quotes)
    spans = _SPANS.get(backslash)
    if spans is None:
        spans = _SPANS[backslash] = _spans(backslash)
    inside: set[int] = set()
    line, at = 1, 0  # the line at ``at``
    for span in spans.finditer(text):
        start, stop = span.span()
        newlines = text.count("\n", start, stop)
        if newlines:
            line += text.count("\n", at, start)
            inside.update(range(line + 1, line + newlines + 1))
            line += newlines
            at = stop
    return set(range(1, text.count("\n") + 2)) - inside


_SPANS: dict[bool, re.Pattern[str]] = {}


def _lines(text: str) -> list[str]:
    lines = re.split(r"\r?\n", text)
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the file ends its last line, as with splitlines()
    return lines


def split_sql(text: str, dialect: str) -> list[str]:
    """The statements of a section, split as ``dialect``'s server reads it (quotes, comments,
    ``$$`` and trigger bodies respected), without the comments that trail a statement's ``;``.

    A ``-- kysera:allow KS102`` acknowledgement belongs to its statement: written before it, it is
    part of its text already; written after its ``;`` on the same line, it is moved in front of it,
    so that the safety analysis reads it with that statement and no other.
    """
    return [statement for statement, _ in split_sql_located(text, dialect)]


def split_sql_located(text: str, dialect: str) -> list[tuple[str, int]]:
    """:func:`split_sql`, each statement with its line in ``text`` (from 1). Raises
    :class:`~kysera.errors.KyseraError` (``line N: ...``) for what only a command-line client
    runs: psql's backslash commands and ``COPY ... FROM stdin``, the sqlite3 shell's dot
    commands, the mysql client's ``source``."""
    from ..dump.split import ScriptError

    try:
        bare = raw_text.split_located(text, dialect, trailing_comments=False)
    except ScriptError as exc:
        if exc.command is None:
            raise
        raise KyseraError(f"line {exc.line}: {_client_command(exc.command, 'the psql client')}") from None
    _refuse_client_commands(text, bare, dialect)
    if "kysera:allow" not in text.lower():
        return bare  # most files
    out: list[tuple[str, int]] = []
    for (statement, line), (with_tail, _) in zip(bare, raw_text.split_located(text, dialect), strict=True):
        tail = with_tail[len(statement) :].lstrip(" \t;")
        out.append((f"{tail}\n{statement}" if "kysera:allow" in tail.lower() else statement, line))
    return out


#: what to do instead of a client's command, by its first word
_CLIENT_FIXES = {
    "\\i": "paste that file's SQL here instead",
    "\\ir": "paste that file's SQL here instead",
    "\\include": "paste that file's SQL here instead",
    "\\set": "write the value itself where the variable is used",
    "\\c": "a migration runs on the database of the URL; make one project per database",
    "\\connect": "a migration runs on the database of the URL; make one project per database",
    ".read": "paste that file's SQL here instead",
    "source": "paste that file's SQL here instead",
}


def _client_command(command: str, client: str) -> str:
    """Why ``command`` of ``client`` ("the psql client") cannot run in a migration, and the fix."""
    word = command.split()[0]
    fix = _CLIENT_FIXES.get(word.lower(), "remove it")
    return f"{word} is a command of {client}, not SQL, and kysera sends each statement to the database through its driver; {fix}"


_COPY_STD = re.compile(r"(?i)\b(?:from\s+stdin|to\s+stdout)\b")
_DOT_COMMAND = re.compile(r"(?m)^[ \t]*\.[A-Za-z]")
_SOURCE = re.compile(r"(?im)^[ \t]*(?:source\s|\\\.\s)")
#: psql's backslash commands; on PostgreSQL the splitter finds them (it ends them at the line's end)
_BACKSLASH = re.compile(r"(?m)^[ \t]*\\[A-Za-z]")


def _refuse_client_commands(text: str, statements: list[tuple[str, int]], dialect: str) -> None:
    """What only a command-line client runs, found at the start of a statement (the text is
    searched first: most sections hold none). Every client's commands are refused on every
    engine: none of them is SQL anywhere, and a file written for psql can be run on SQLite."""
    if dialect == "postgres" and _COPY_STD.search(text):
        for statement, line in statements:
            if raw_text.leading_words(statement, 1) == ["COPY"] and (found := _COPY_STD.search(statement)):
                if found.group().lower().startswith("from"):
                    raise KyseraError(
                        f"line {line}: COPY ... FROM stdin needs psql, which sends the rows written after it; "
                        "kysera sends each statement to the database through its driver. Write the rows as "
                        "INSERT INTO ... VALUES statements (pg_dump --inserts writes them), or COPY ... FROM a "
                        "file on the database server"
                    )
                raise KyseraError(
                    f"line {line}: COPY ... TO STDOUT sends rows to psql, which a migration cannot read; remove it"
                )
    clients = [
        (pattern, client)
        for pattern, client in (
            (_DOT_COMMAND, "the sqlite3 shell"),
            (_SOURCE, "the mysql client"),
            (_BACKSLASH, "the psql client"),
        )
        if pattern.search(text)
    ]
    if not clients:
        return
    for statement, line in statements:
        head = raw_text.strip_leading_comments(statement)
        for pattern, client in clients:
            if pattern.match(head):
                command = head.replace(chr(92) + ".", "source", 1) if pattern is _SOURCE else head
                raise KyseraError(f"line {line}: {_client_command(command, client)}")


def compile_text(db: Database, text: str, location: str | None = None) -> CompiledStatement:
    """One statement of a .sql file as ``db``'s engine runs it (not split again, not parsed);
    ``location`` is where it was written (``path:line``), for findings and failures.

    Never a read that a dry run would run: nothing uses a .sql file's results, so a ``SELECT``
    there is there for what it does (``SELECT nextval(...)``, a function that writes).
    """
    return _compile_with(db.dialect.compiler(db), text, location)


def _compile_with(compiler: QueryCompiler, text: str, location: str | None) -> CompiledStatement:
    """:func:`compile_text` with the engine's compiler made once, for every statement of a section."""
    return CompiledStatement(
        sql=text, node=RawNode((text,)), transactional=compiler.raw_is_transactional(text), location=location
    )


class SqlStatements:
    """The ``up`` or ``down`` function of a .sql migration: runs the statements of its section.

    The section is split when it runs, once the engine is known: whether ``'C:\\'`` ends a string
    depends on it (MySQL reads the backslash as an escape, PostgreSQL and SQLite do not).
    """

    __slots__ = ("_compiled", "_file", "_marker_line", "_section", "_split", "text")

    def __init__(self, text: str, section: str = "", marker_line: int = 0, file: str = "") -> None:
        self.text = text
        #: which section of which file, and the file's line of its '-- migrate:' marker (for messages)
        self._section = section
        self._marker_line = marker_line
        self._file = file
        #: the statements as last split (with their lines in the file), and for which engine: a
        #: run splits once, not once for the transaction check, once for the safety gate's dry
        #: run and once to run them
        self._split: tuple[str, tuple[tuple[str, int], ...]] | None = None
        #: the statements as last compiled, and by which compiler: the runner's transaction check,
        #: the safety gate's dry run and the run itself read one compiled form of each (a seed file
        #: has tens of thousands of statements, each classified once)
        self._compiled: tuple[tuple[str, type], tuple[CompiledStatement, ...]] | None = None

    def statements(self, dialect: str) -> list[str]:
        return [statement for statement, _ in self.located(dialect)]

    def located(self, dialect: str) -> tuple[tuple[str, int], ...]:
        """The statements, each with the line of the file it starts on."""
        if self._split is None or self._split[0] != dialect:
            try:
                found = split_sql_located(self.text, dialect)
            except KyseraError as exc:  # a DELIMITER line without a delimiter, say
                from .errors import MigrationDefinitionError

                raise MigrationDefinitionError(self._where(str(exc))) from None
            self._split = (dialect, tuple((statement, self._marker_line + line) for statement, line in found))
        return self._split[1]

    def compiled(self, db: Database) -> tuple[CompiledStatement, ...]:
        """The statements as ``db``'s engine runs them (:func:`compile_text`), each with its
        ``path:line``. Compiled once for an engine: whether a raw statement can run in a
        transaction depends on its text and the engine's compiler only, never on the database."""
        dialect = db.dialect.name
        compiler = db.dialect.compiler(db)
        if self._compiled is None or self._compiled[0] != (dialect, type(compiler)):
            file = self._file
            self._compiled = (
                (dialect, type(compiler)),
                tuple(
                    _compile_with(compiler, statement, f"{file}:{line}" if file else None)
                    for statement, line in self.located(dialect)
                ),
            )
        return self._compiled[1]

    def _where(self, problem: str) -> str:
        """``problem`` with its line counted in the file, and the section named."""
        found = re.match(r"line (\d+): (.*)", problem, re.S)
        prefix = f"{self._file}: " if self._file else ""
        if found is None or not self._section:
            return prefix + problem
        line = self._marker_line + int(found.group(1))
        return f"{prefix}line {line} (in its '-- migrate:{self._section}' section): {found.group(2)}"

    def __call__(self, db: Database) -> None:
        for statement in self.compiled(db):
            db.run_compiled([statement])

    def __repr__(self) -> str:
        return f"<SqlStatements {len(self.text)} characters>"
