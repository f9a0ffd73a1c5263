"""What the three engines' dump writers share: the header, INSERT batching, ordering."""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from ..errors import KyseraError

if TYPE_CHECKING:
    from ..database import Database
    from ..dialects.compiler import QueryCompiler

#: first line of every dump kysera writes; restore reads it back
MARKER = "-- kysera dump:"
#: last line of every complete dump: a file without it was cut short
END_MARKER = "-- kysera dump end"
_MARKER_RE = re.compile(r"^-- kysera dump:(?P<fields>.*)$", re.M)

#: the line before the end marker that says how big the largest INSERT is; restore on MySQL
#: compares it with the server's max_allowed_packet before anything runs
LARGEST_PREFIX = "-- largest statement (bytes):"
_LARGEST_RE = re.compile(r"^-- largest statement \(bytes\): (\d+)\s*$", re.M)

#: a data-only dump lists the tables it loads (a JSON array) near its top: restore checks that
#: those are empty, not the others (a migrations-built target's history table has rows)
TABLES_PREFIX = "-- data-only tables: "

#: an INSERT stops taking rows at about this size (a row bigger than this gets one of its own):
#: well below MySQL/MariaDB's max_allowed_packet (16 MB by default), and a bounded statement
#: for restore to hold in memory on every engine
BATCH_BYTES = 1 << 20

CONTENT_FULL = "schema+data"
CONTENT_SCHEMA = "schema-only"
CONTENT_DATA = "data-only"


#: True while the CLI dumps: messages name its options (``--native``), not Python's (``native=True``)
_CLI_WORDING: ContextVar[bool] = ContextVar("kysera_dump_cli_wording", default=False)
_OPTION_WORDS = {"native": ("native=True", "--native"), "exclude": ("exclude=[...]", "--exclude")}


def option(name: str) -> str:
    """How a message names the dump option ``name``: ``--native`` when the CLI is dumping,
    ``native=True`` for a call from Python."""
    return _OPTION_WORDS[name][_CLI_WORDING.get()]


@contextmanager
def cli_wording() -> Iterator[None]:
    """Dump under this for messages that name the CLI's options."""
    token = _CLI_WORDING.set(True)
    try:
        yield
    finally:
        _CLI_WORDING.reset(token)


class DumpError(KyseraError):
    """A dump could not be written (an unsupported object, a failing dump tool)."""


@dataclass
class DumpResult:
    """What :func:`kysera.dump.dump_database` wrote."""

    engine: str
    #: ``schema+data``, ``schema-only`` or ``data-only``
    content: str
    native: bool
    #: the tables dumped, in the order the script creates and loads them
    tables: list[str] = field(default_factory=list)
    #: rows written (0 for a native dump: the tool does not report it)
    rows: int = 0
    #: what the schema holds that the dump does not (also in the script as ``-- NOTE:`` lines)
    notes: list[str] = field(default_factory=list)
    #: size in bytes (UTF-8) of the largest INSERT written (0 for a native dump)
    largest_statement: int = 0

    def note(self, out: TextIO, text: str) -> None:
        """Record what the dump leaves out, and say it in the script as a ``-- NOTE:`` line."""
        self.notes.append(text)
        out.write(f"-- NOTE: {one_line(text)}\n\n")


@dataclass(frozen=True)
class Options:
    schema: bool
    data: bool
    exclude: tuple[str, ...]
    batch_rows: int
    page_rows: int
    batch_bytes: int = BATCH_BYTES
    #: the migration history table as configured ("ops.kysera_history"), or None
    history_table: str | None = None

    @property
    def content(self) -> str:
        if self.schema and self.data:
            return CONTENT_FULL
        return CONTENT_SCHEMA if self.schema else CONTENT_DATA


def header(db: Database, out: TextIO, content: str, fmt: str, tool: str | None = None) -> None:
    from .. import __version__

    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    out.write(f"{MARKER} engine={db.dialect.name}; content={content}; format={fmt}\n")
    out.write(f"-- kysera version: {__version__}\n")
    out.write(f"-- engine: {db.dialect.display_name}\n")
    out.write(f"-- server version: {db.dialect.version_text}\n")
    if tool:
        out.write(f"-- dump tool: {tool}\n")
    out.write(f"-- database: {one_line(db.url.redacted())}\n")
    out.write(f"-- created (UTC): {now}\n")
    out.write(f"-- content: {content}\n")
    out.write("-- restore into an empty database of the same engine: kysera db restore FILE\n\n")


def read_marker(head: str) -> dict[str, str]:
    """The fields of the ``-- kysera dump:`` line near the top of a script, or {}."""
    m = _MARKER_RE.search(head)
    if not m:
        return {}
    out: dict[str, str] = {}
    for part in m.group("fields").split(";"):
        key, sep, value = part.strip().partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out


def list_loaded_tables(out: TextIO, opts: Options, tables: Sequence[str]) -> None:
    """For a data-only dump, the ``-- data-only tables:`` line."""
    if opts.data and not opts.schema:
        out.write(TABLES_PREFIX + json.dumps(list(tables)) + "\n\n")


def read_loaded_tables(head: str) -> list[str] | None:
    """The tables a data-only dump's ``-- data-only tables:`` line lists, or None."""
    for line in head.splitlines():
        if line.startswith(TABLES_PREFIX):
            try:
                found = json.loads(line[len(TABLES_PREFIX) :])
            except ValueError:
                return None
            if isinstance(found, list) and all(isinstance(t, str) for t in found):
                return found
            return None
    return None


def read_largest(tail: str) -> int | None:
    """The size a dump's ``-- largest statement`` line gives (in its last lines), or None."""
    m = _LARGEST_RE.search(tail)
    return int(m.group(1)) if m else None


def utf8_size(text: str) -> int:
    """Bytes ``text`` takes in UTF-8 (what a server counts against its packet size)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def section(out: TextIO, title: str) -> None:
    out.write(f"\n-- {one_line(title)}\n")


def one_line(text: str) -> str:
    """``text`` for a ``--`` comment: a line break in a name (a table "t<newline>DROP ...")
    would end the comment, and what follows it would run when the dump is restored."""
    if "\n" not in text and "\r" not in text:
        return text
    return text.replace("\r", "\\r").replace("\n", "\\n")


def statement(out: TextIO, sql: str) -> None:
    out.write(sql.rstrip().rstrip(";") + ";\n")


class InsertWriter:
    """Rows of one table as multi-row INSERT statements of at most ``batch`` rows and about
    ``max_bytes`` bytes each: a statement that would grow past ``max_bytes`` ends before the
    row, and a row bigger than that on its own is a statement of its own. ``largest`` is the
    size of the largest statement written."""

    def __init__(
        self, out: TextIO, head: str, batch: int, max_bytes: int = BATCH_BYTES, result: DumpResult | None = None
    ) -> None:
        self.out = out
        self.result = result
        self.head = head
        self.head_size = utf8_size(head) + 1  # and the line break after it
        self.batch = max(1, batch)
        self.max_bytes = max(1, max_bytes)
        self.pending = 0
        self.size = 0
        self.largest = 0
        self.rows = 0

    def add(self, literals: Iterable[str]) -> None:
        row = "(" + ", ".join(literals) + ")"
        size = utf8_size(row)
        if self.pending and self.size + 2 + size > self.max_bytes:
            self.flush()
        if self.pending == 0:
            self.out.write(self.head + "\n")
            self.size = self.head_size + size
        else:
            self.out.write(",\n")
            self.size += 2 + size
        self.out.write(row)
        self.pending += 1
        self.rows += 1
        if self.pending >= self.batch:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.out.write(";\n")
            self.largest = max(self.largest, self.size)
            if self.result is not None:
                self.result.largest_statement = max(self.result.largest_statement, self.size)
            self.pending = 0
            self.size = 0


def insert_head(compiler: QueryCompiler, table: str, columns: Sequence[str], extra: str = "") -> str:
    cols = ", ".join(compiler.quote(c) for c in columns)
    return f"INSERT INTO {compiler.quote(table)} ({cols}){extra} VALUES"


def dependency_order(names: Sequence[str], depends_on: Callable[[str], Iterable[str]]) -> list[str]:
    """``names`` with each one after those it depends on (stable; cycles keep input order)."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done
    known = set(names)

    def visit(name: str) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:  # a cycle: leave the rest of it to the input order
            return
        state[name] = 1
        for dep in sorted(set(depends_on(name))):
            if dep in known and dep != name:
                visit(dep)
        state[name] = 2
        order.append(name)

    for name in names:
        visit(name)
    return order


def cyclic_edges(names: Sequence[str], edges: dict[str, set[str]]) -> set[tuple[str, str]]:
    """Edges (from, to) that lie on a cycle, self-references included."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    component: dict[str, int] = {}
    counter = [0, 0]

    def strong(v: str) -> None:  # Tarjan, recursive: schemas are small
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component[w] = counter[1]
                if w == v:
                    break
            counter[1] += 1

    for n in names:
        if n not in index:
            strong(n)
    return {
        (a, b)
        for a in names
        for b in edges.get(a, ())
        if b in component and (a == b or component[a] == component[b])
    }
