"""Just enough of SQLite's grammar to read what ``PRAGMA`` does not tell.

SQLite keeps each table's and index's ``CREATE`` text in ``sqlite_master``; the pragmas give
columns, keys and indexes but not constraint names, CHECK expressions, generated-column
expressions, index expressions or partial-index predicates. These helpers tokenize that text
(quotes and comments respected) and cut it at top-level commas and keywords.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""
     (?P<ws>\s+)
    |(?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))
    |(?P<str>'(?:[^']|'')*'?)
    |(?P<ident>"(?:[^"]|"")*"?|`(?:[^`]|``)*`?|\[[^\]]*\]?)
    |(?P<word>[^\W\d][\w$]*)
    |(?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
    |(?P<op>.)
    """,
    re.S | re.X,
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    start: int = 0
    end: int = 0
    #: the whole statement the token comes from (shared, not copied)
    source: str = ""

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""

    @property
    def name(self) -> str:
        """The identifier this token spells (quotes removed)."""
        return unquote(self.text) if self.kind in ("ident", "str") else self.text


def unquote(text: str) -> str:
    if len(text) >= 2:
        first, last = text[0], text[-1]
        if first == "[" and last == "]":
            return text[1:-1]
        if first == last and first in "\"`'":
            return text[1:-1].replace(first * 2, first)
    return text


def tokenize(sql: str) -> list[Token]:
    """Tokens of ``sql`` without whitespace and comments."""
    out: list[Token] = []
    for m in _TOKEN.finditer(sql):
        kind = m.lastgroup or "op"
        if kind in ("ws", "comment"):
            continue
        out.append(Token(kind, m.group(), m.start(), m.end(), sql))
    return out


def render(tokens: list[Token]) -> str:
    """The source text that ``tokens`` (consecutive tokens of one statement) were cut from."""
    if not tokens:
        return ""
    return tokens[0].source[tokens[0].start : tokens[-1].end]


def split_top(tokens: list[Token], sep: str = ",") -> list[list[Token]]:
    """``tokens`` cut at ``sep`` where the parenthesis depth is zero."""
    parts: list[list[Token]] = [[]]
    depth = 0
    for tok in tokens:
        if tok.kind == "op":
            if tok.text == "(":
                depth += 1
            elif tok.text == ")":
                depth -= 1
            elif tok.text == sep and depth == 0:
                parts.append([])
                continue
        parts[-1].append(tok)
    return [p for p in parts if p]


def paren_body(tokens: list[Token], start: int) -> tuple[list[Token], int]:
    """The tokens inside the parenthesis opening at ``start`` and the index after its close."""
    depth = 0
    for i in range(start, len(tokens)):
        t = tokens[i]
        if t.kind == "op" and t.text == "(":
            depth += 1
        elif t.kind == "op" and t.text == ")":
            depth -= 1
            if depth == 0:
                return tokens[start + 1 : i], i + 1
    return tokens[start + 1 :], len(tokens)


def _first_paren(tokens: list[Token]) -> int:
    for i, t in enumerate(tokens):
        if t.kind == "op" and t.text == "(":
            return i
    return -1


@dataclass(frozen=True, slots=True)
class ParsedTable:
    #: column name -> tokens of its definition after the name
    columns: dict[str, list[Token]]
    #: table constraints: (name or None, kind keyword, tokens after the kind keyword)
    constraints: list[tuple[str | None, str, list[Token]]]
    autoincrement: bool
    without_rowid: bool = False


_CONSTRAINT_WORDS = ("CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN")


def parse_create_table(sql: str) -> ParsedTable:
    tokens = tokenize(sql)
    start = _first_paren(tokens)
    columns: dict[str, list[Token]] = {}
    constraints: list[tuple[str | None, str, list[Token]]] = []
    if start < 0:
        return ParsedTable(columns, constraints, False)
    body, after = paren_body(tokens, start)
    tail = [t.upper for t in tokens[after:]]
    without_rowid = any(a == "WITHOUT" and b == "ROWID" for a, b in itertools.pairwise(tail))
    for item in split_top(body):
        head = item[0].upper
        if head in _CONSTRAINT_WORDS:
            name: str | None = None
            rest = item
            if head == "CONSTRAINT" and len(item) > 2:
                name = item[1].name
                rest = item[2:]
            kind = rest[0].upper
            constraints.append((name, kind, rest[1:]))
        else:
            columns[item[0].name] = item[1:]
    auto = any(t.upper == "AUTOINCREMENT" for t in body)
    return ParsedTable(columns, constraints, auto, without_rowid)


def column_generated(definition: list[Token]) -> str | None:
    """The expression of ``[GENERATED ALWAYS] AS (expr)`` in a column definition."""
    for i, tok in enumerate(definition):
        if tok.upper == "AS" and i + 1 < len(definition) and definition[i + 1].text == "(":
            body, _ = paren_body(definition, i + 1)
            return render(body)
    return None


def column_checks(definition: list[Token]) -> list[tuple[str | None, str]]:
    """``[CONSTRAINT name] CHECK (expr)`` clauses of a column definition."""
    out: list[tuple[str | None, str]] = []
    i = 0
    pending_name: str | None = None
    while i < len(definition):
        tok = definition[i]
        if tok.upper == "CONSTRAINT" and i + 1 < len(definition):
            pending_name = definition[i + 1].name
            i += 2
            continue
        if tok.upper == "CHECK" and i + 1 < len(definition) and definition[i + 1].text == "(":
            body, i = paren_body(definition, i + 1)
            out.append((pending_name, render(body)))
            pending_name = None
            continue
        if tok.text == "(":
            _, i = paren_body(definition, i)
            continue
        if tok.upper in ("PRIMARY", "NOT", "NULL", "UNIQUE", "DEFAULT", "COLLATE", "REFERENCES", "GENERATED", "AS"):
            pending_name = None
        i += 1
    return out


def column_list(tokens: list[Token]) -> tuple[str, ...]:
    """Names of a parenthesised column list such as ``(a, "b" DESC)``: first token of each item."""
    start = _first_paren(tokens)
    if start < 0:
        return ()
    body, _ = paren_body(tokens, start)
    return tuple(part[0].name for part in split_top(body) if part)


@dataclass(frozen=True, slots=True)
class ParsedIndex:
    #: each key part as text, ASC/DESC and COLLATE removed
    keys: list[str]
    predicate: str | None


def parse_create_index(sql: str) -> ParsedIndex:
    tokens = tokenize(sql)
    on = next((i for i, t in enumerate(tokens) if t.upper == "ON"), -1)
    start = -1
    if on >= 0:
        rel = _first_paren(tokens[on:])
        start = on + rel if rel >= 0 else -1
    if start < 0:
        return ParsedIndex([], None)
    body, after = paren_body(tokens, start)
    keys: list[str] = []
    for part in split_top(body):
        while part and part[-1].upper in ("ASC", "DESC"):
            part = part[:-1]
        for i, t in enumerate(part):
            if t.upper == "COLLATE":
                part = part[:i]
                break
        while len(part) > 2 and part[0].text == "(" and paren_body(part, 0)[1] == len(part):
            part = part[1:-1]  # (lower(email)) -> lower(email)
        if len(part) == 1 and part[0].kind in ("ident", "word"):
            keys.append(part[0].name)
        else:
            keys.append(render(part))
    predicate = None
    rest = tokens[after:]
    if rest and rest[0].upper == "WHERE":
        predicate = render(rest[1:])
    return ParsedIndex(keys, predicate)


def view_select(sql: str) -> str:
    """The SELECT of ``CREATE VIEW name [(cols)] AS select``, as written."""
    depth = 0
    for m in _TOKEN.finditer(sql):
        kind = m.lastgroup
        if kind == "op":
            if m.group() == "(":
                depth += 1
            elif m.group() == ")":
                depth -= 1
        elif kind == "word" and depth == 0 and m.group().upper() == "AS":
            return sql[m.end() :].strip().rstrip(";").strip()
    return sql
