"""What the three engines' dump writers share: the header, INSERT batching, ordering."""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable, Iterable, Sequence
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

CONTENT_FULL = "schema+data"
CONTENT_SCHEMA = "schema-only"
CONTENT_DATA = "data-only"


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


@dataclass(frozen=True)
class Options:
    schema: bool
    data: bool
    exclude: tuple[str, ...]
    batch_rows: int
    page_rows: int

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
    out.write(f"-- database: {db.url.redacted()}\n")
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


def section(out: TextIO, title: str) -> None:
    out.write(f"\n-- {title}\n")


def statement(out: TextIO, sql: str) -> None:
    out.write(sql.rstrip().rstrip(";") + ";\n")


class InsertWriter:
    """Rows of one table as multi-row INSERT statements of at most ``batch`` rows each."""

    def __init__(self, out: TextIO, head: str, batch: int) -> None:
        self.out = out
        self.head = head
        self.batch = max(1, batch)
        self.pending = 0
        self.rows = 0

    def add(self, literals: Iterable[str]) -> None:
        if self.pending == 0:
            self.out.write(self.head + "\n(")
        else:
            self.out.write(",\n(")
        self.out.write(", ".join(literals) + ")")
        self.pending += 1
        self.rows += 1
        if self.pending >= self.batch:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.out.write(";\n")
            self.pending = 0


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
