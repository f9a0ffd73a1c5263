"""A small tokenizer and parser for the SQL text SQLite keeps in ``sqlite_master``.

The table rebuild that stands in for the ALTER TABLE forms SQLite lacks needs the table's
definition as parts it can edit: columns (name, type, column constraints), table constraints and
the table options after the closing parenthesis. SQLite stores the CREATE statement exactly as it
was written, so this reads any valid SQLite spelling: quoted identifiers (``"x"``, ```x```,
``[x]``), strings with ``''`` escapes, blobs, numbers, nested parentheses and comments.

Parts that are not edited keep their original text, comments included. Text is never executed
here; the parser only splits it.

Introspection and dumps read the same text with it (:func:`read_create_table`,
:func:`parse_create_index`, :func:`view_select`) for what the pragmas do not tell: constraint
names, CHECK and generated-column expressions, index expressions and partial-index predicates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from .sql_lexer import SqlParseError, Token, render, tokenize

# --------------------------------------------------------------------------- tokens

def fold(name: str) -> str:
    """SQLite compares identifiers case-insensitively, for ASCII letters only."""
    return name.translate(_ASCII_LOWER)


_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def matching_paren(tokens: list[Token], i: int) -> int:
    """Index of the ``)`` that closes the ``(`` at ``i``."""
    depth = 0
    for j in range(i, len(tokens)):
        if tokens[j].is_punct("("):
            depth += 1
        elif tokens[j].is_punct(")"):
            depth -= 1
            if depth == 0:
                return j
    raise SqlParseError("unbalanced parentheses")


def split_top_level(tokens: list[Token], sep: str = ",") -> list[list[Token]]:
    """``tokens`` split at separators that are not inside parentheses."""
    parts: list[list[Token]] = [[]]
    depth = 0
    for tok in tokens:
        if tok.is_punct("("):
            depth += 1
        elif tok.is_punct(")"):
            depth -= 1
        if depth == 0 and tok.is_punct(sep):
            parts.append([])
        else:
            parts[-1].append(tok)
    return parts


# --------------------------------------------------------------------------- expressions

# bare words that are SQL syntax, never a column, inside the expressions we look at
_EXPRESSION_KEYWORDS = frozenset(
    ["AND", "OR", "NOT", "NULL", "IS", "IN", "LIKE", "GLOB", "REGEXP", "MATCH", "BETWEEN", "CASE", "WHEN", "THEN", "ELSE", "END", "CAST", "AS", "COLLATE", "ESCAPE", "EXISTS", "TRUE", "FALSE", "CURRENT_TIME", "CURRENT_DATE", "CURRENT_TIMESTAMP", "DISTINCT", "ISNULL", "NOTNULL", "ASC", "DESC", "SELECT", "FROM", "WHERE", "RAISE", "ABORT", "FAIL", "IGNORE", "ROLLBACK"]
)


def column_refs(tokens: list[Token]) -> list[int]:
    """Indexes of the tokens of an expression that name a column.

    A name followed by ``(`` is a function, one followed by ``.`` a table qualifier, one after
    COLLATE a collation and one after AS (in CAST) a type; bare SQL keywords are skipped.
    """
    out: list[int] = []
    for i, tok in enumerate(tokens):
        if not tok.is_name:
            continue
        if tok.kind == "word" and tok.upper in _EXPRESSION_KEYWORDS:
            continue
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if nxt is not None and (nxt.is_punct("(") or nxt.is_punct(".")):
            continue
        prev = tokens[i - 1] if i else None
        if prev is not None and prev.upper in ("COLLATE", "AS"):
            continue
        out.append(i)
    return out


def uses_name(tokens: list[Token], name: str) -> bool:
    """True when an expression names column ``name``."""
    key = fold(name)
    return any(fold(tokens[i].value) == key for i in column_refs(tokens))


def mentions(tokens: list[Token], name: str) -> bool:
    """True when any identifier token is ``name`` (looser than :func:`uses_name`)."""
    key = fold(name)
    return any(t.is_name and fold(t.value) == key for t in tokens)


Quote = Callable[[str], str]


def rename_refs(tokens: list[Token], indexes: Iterable[int], mapping: Mapping[str, str], quote: Quote) -> bool:
    """Rename the name tokens at ``indexes`` found in ``mapping`` (folded old name -> new name)."""
    changed = False
    for i in indexes:
        tok = tokens[i]
        new = mapping.get(fold(tok.value))
        if new is not None and tok.is_name:
            tokens[i] = Token("quoted", quote(new), tok.ws, new)
            changed = True
    return changed


# --------------------------------------------------------------------------- table model

COLUMN_CONSTRAINT_KEYWORDS = frozenset(
    ("CONSTRAINT", "PRIMARY", "NOT", "NULL", "UNIQUE", "CHECK", "DEFAULT", "COLLATE", "REFERENCES", "GENERATED", "AS")
)
TABLE_CONSTRAINT_KEYWORDS = frozenset(("CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"))
_CONFLICT_ACTIONS = frozenset(("ROLLBACK", "ABORT", "FAIL", "IGNORE", "REPLACE"))


class _Parenthesised:
    """A clause or table constraint: ``tokens``, and ``body``, the index of the first token after
    ``CONSTRAINT name``. Its expression is what its first parentheses hold."""

    __slots__ = ()
    tokens: list[Token]
    body: int

    def expression(self) -> list[Token]:
        """The tokens inside the first parentheses (CHECK / GENERATED / DEFAULT (...)); [] if none."""
        for i in range(self.body, len(self.tokens)):
            if self.tokens[i].is_punct("("):
                return self.tokens[i + 1 : matching_paren(self.tokens, i)]
        return []

    def expression_offset(self) -> int:
        """The index of the first token inside the first parentheses (the length when there are none)."""
        for i in range(self.body, len(self.tokens)):
            if self.tokens[i].is_punct("("):
                return i + 1
        return len(self.tokens)


@dataclass(slots=True)
class Clause(_Parenthesised):
    """One column constraint, e.g. ``CONSTRAINT nn NOT NULL`` or ``DEFAULT (1 + 2)``.

    ``kind`` is primary, notnull, null, unique, check, default, collate, references or
    generated; ``body`` is the index of the first token after ``CONSTRAINT name``.
    """

    kind: str
    name: str | None
    tokens: list[Token]
    body: int = 0

    @property
    def text(self) -> str:
        return render(self.tokens)


@dataclass(slots=True)
class ColumnDef:
    """A column definition: name, type text and column constraints."""

    name: str
    name_text: str
    type_tokens: list[Token]
    clauses: list[Clause]
    #: the original text, used as long as nothing changed
    source: str | None = None

    @property
    def type_text(self) -> str:
        return render(self.type_tokens)

    def text(self) -> str:
        if self.source is not None:
            return self.source
        parts = [self.name_text]
        if self.type_tokens:
            parts.append(self.type_text)
        parts.extend(c.text for c in self.clauses)
        return " ".join(parts)

    def touch(self) -> None:
        """Mark as changed: the text is rebuilt from the parts."""
        self.source = None

    def find(self, kind: str) -> list[Clause]:
        return [c for c in self.clauses if c.kind == kind]

    @property
    def generated(self) -> Clause | None:
        found = self.find("generated")
        return found[0] if found else None

    @property
    def stored(self) -> bool:
        gen = self.generated
        return gen is not None and any(t.upper == "STORED" for t in gen.tokens)


@dataclass(slots=True)
class TableConstraint(_Parenthesised):
    """A table constraint; ``kind`` is primary, unique, check or foreign."""

    kind: str
    name: str | None
    tokens: list[Token]
    body: int = 0
    source: str | None = None

    def text(self) -> str:
        return self.source if self.source is not None else render(self.tokens)

    def column_list(self) -> list[int]:
        """PRIMARY KEY / UNIQUE / FOREIGN KEY: indexes of the column names in the first (...)."""
        for i in range(self.body, len(self.tokens)):
            if self.tokens[i].is_punct("("):
                return _list_names(self.tokens, i)
        return []

    def columns(self) -> list[str]:
        """The columns the constraint uses (for CHECK: the names in its expression)."""
        if self.kind == "check":
            inner = self.expression()
            return [inner[i].value for i in column_refs(inner)]
        return [self.tokens[i].value for i in self.column_list()]


@dataclass(slots=True)
class TableDef:
    """A parsed CREATE TABLE: columns, table constraints and the options after the body."""

    columns: list[ColumnDef]
    constraints: list[TableConstraint]
    options: list[Token] = field(default_factory=list)

    @property
    def options_text(self) -> str:
        return render(self.options)

    @property
    def without_rowid(self) -> bool:
        words = [t.upper for t in self.options]
        return any(w == "WITHOUT" and words[i + 1 : i + 2] == ["ROWID"] for i, w in enumerate(words))


def _list_names(tokens: list[Token], open_index: int) -> list[int]:
    """Indexes of the leading names of each element of the (...) list opened at ``open_index``."""
    close = matching_paren(tokens, open_index)
    out: list[int] = []
    depth = 0
    expect = True
    for i in range(open_index + 1, close):
        tok = tokens[i]
        if tok.is_punct("("):
            depth += 1
        elif tok.is_punct(")"):
            depth -= 1
        elif depth == 0 and tok.is_punct(","):
            expect = True
            continue
        if expect and depth == 0 and tok.kind in ("word", "quoted", "string"):
            out.append(i)
        expect = False
    return out


def references_parts(tokens: list[Token], start: int) -> tuple[int | None, list[int]]:
    """For ``REFERENCES parent (cols)`` at ``start``: the parent's token index and the columns'."""
    i = start + 1
    if i >= len(tokens):
        return None, []
    parent = i
    i += 1
    if i < len(tokens) and tokens[i].is_punct("."):  # schema.table (not valid SQLite, but cheap)
        parent = i + 1
        i += 2
    if i < len(tokens) and tokens[i].is_punct("("):
        return parent, _list_names(tokens, i)
    return parent, []


def parse_create_table(sql: str) -> TableDef:
    """Parse the ``sql`` of a table row of ``sqlite_master``."""
    tokens = tokenize(sql)
    words = [t.upper for t in tokens[:4]]
    if "VIRTUAL" in words:
        raise SqlParseError("virtual tables cannot be rebuilt")
    if not words or words[0] != "CREATE" or "TABLE" not in words:
        raise SqlParseError("not a CREATE TABLE statement")
    open_i = next((i for i, t in enumerate(tokens) if t.is_punct("(")), None)
    if open_i is None:
        raise SqlParseError("the statement has no column list")
    close_i = matching_paren(tokens, open_i)
    columns: list[ColumnDef] = []
    constraints: list[TableConstraint] = []
    for item in split_top_level(tokens[open_i + 1 : close_i]):
        if not item:
            raise SqlParseError("empty element in the column list")
        if item[0].upper in TABLE_CONSTRAINT_KEYWORDS:
            constraints.append(parse_table_constraint(item))
        else:
            columns.append(parse_column(item))
    return TableDef(columns, constraints, tokens[close_i + 1 :])


def parse_table_constraint(item: list[Token]) -> TableConstraint:
    name: str | None = None
    body = 0
    if item[0].upper == "CONSTRAINT" and len(item) > 1:
        name = item[1].value
        body = 2
    head = item[body].upper if body < len(item) else ""
    kind = {"PRIMARY": "primary", "UNIQUE": "unique", "CHECK": "check", "FOREIGN": "foreign"}.get(head)
    if kind is None:
        raise SqlParseError(f"unknown table constraint {render(item)!r}")
    return TableConstraint(kind, name, list(item), body, source=render(item))


def parse_column(item: list[Token]) -> ColumnDef:
    """Parse one column definition (the tokens between two top-level commas)."""
    name_tok = item[0]
    if name_tok.kind not in ("word", "quoted", "string"):
        raise SqlParseError(f"expected a column name, found {name_tok.text!r}")
    i, n = 1, len(item)
    type_start = i
    while i < n and item[i].upper not in COLUMN_CONSTRAINT_KEYWORDS:
        i = matching_paren(item, i) + 1 if item[i].is_punct("(") else i + 1
    type_tokens = _detached(item[type_start:i])
    clauses: list[Clause] = []
    while i < n:
        start = i
        name: str | None = None
        if item[i].upper == "CONSTRAINT" and i + 1 < n:
            name = item[i + 1].value
            i += 2
        body = i - start
        kind, i = _parse_column_constraint(item, i)
        if kind is None:  # something this grammar does not know: keep it with what precedes it
            i = start + 1 if i == start else i
            extra = item[start:i]
            if clauses:
                clauses[-1].tokens.extend(extra)
            else:
                type_tokens.extend(extra)
            continue
        clauses.append(Clause(kind, name, _detached(item[start:i]), body))
    return ColumnDef(name_tok.value, name_tok.text, type_tokens, clauses, source=render(item))


def _detached(tokens: list[Token]) -> list[Token]:
    """A copy of a token run whose first token has no leading whitespace."""
    out = list(tokens)
    if out:
        first = out[0]
        out[0] = Token(first.kind, first.text, "", first.value)
    return out


def _parse_column_constraint(item: list[Token], i: int) -> tuple[str | None, int]:
    """The constraint kind at ``i`` and the index after it; (None, i) when not recognised."""
    n = len(item)

    def kw(j: int) -> str:
        return item[j].upper if j < n else ""

    def conflict(j: int) -> int:
        if kw(j) == "ON" and kw(j + 1) == "CONFLICT":
            return j + 3 if j + 2 < n else n
        return j

    def paren(j: int) -> int:
        if j < n and item[j].is_punct("("):
            return matching_paren(item, j) + 1
        return j

    k = kw(i)
    if k == "PRIMARY" and kw(i + 1) == "KEY":
        j = i + 2
        if kw(j) in ("ASC", "DESC"):
            j += 1
        j = conflict(j)
        if kw(j) == "AUTOINCREMENT":
            j += 1
        return "primary", j
    if k == "NOT" and kw(i + 1) == "NULL":
        return "notnull", conflict(i + 2)
    if k == "NULL":
        return "null", conflict(i + 1)
    if k == "UNIQUE":
        return "unique", conflict(i + 1)
    if k == "CHECK":
        return "check", paren(i + 1)
    if k == "DEFAULT":
        j = i + 1
        if j < n and item[j].is_punct("("):
            return "default", paren(j)
        if j < n and item[j].kind == "punct" and item[j].text in "+-":
            j += 1
        return "default", min(j + 1, n)
    if k == "COLLATE":
        return "collate", min(i + 2, n)
    if k == "REFERENCES":
        return "references", _foreign_key_clause_end(item, i)
    if k == "GENERATED" and kw(i + 1) == "ALWAYS" and kw(i + 2) == "AS":
        j = paren(i + 3)
        return "generated", j + 1 if kw(j) in ("STORED", "VIRTUAL") else j
    if k == "AS":
        j = paren(i + 1)
        return "generated", j + 1 if kw(j) in ("STORED", "VIRTUAL") else j
    return None, i


def _foreign_key_clause_end(item: list[Token], i: int) -> int:
    """Index after ``REFERENCES parent [(cols)] [ON ... | MATCH x | [NOT] DEFERRABLE ...]*``."""
    n = len(item)

    def kw(j: int) -> str:
        return item[j].upper if j < n else ""

    j = i + 2
    if j < n and item[j].is_punct("."):
        j += 2
    if j < n and item[j].is_punct("("):
        j = matching_paren(item, j) + 1
    while j < n:
        k = kw(j)
        if k == "ON" and kw(j + 1) in ("DELETE", "UPDATE"):
            action = kw(j + 2)
            j += 4 if action in ("SET", "NO") else 3
        elif k == "MATCH" or (k == "NOT" and kw(j + 1) == "DEFERRABLE"):
            j += 2
        elif k == "DEFERRABLE":
            j += 1
        elif k == "INITIALLY":
            j += 2
        else:
            break
    return min(j, n)


def index_column_tokens(tokens: list[Token]) -> list[Token]:
    """For a CREATE INDEX statement: the tokens after ``ON table`` (column list and WHERE)."""
    for i, tok in enumerate(tokens):
        if tok.upper == "ON":
            j = i + 1
            if j + 1 < len(tokens) and tokens[j + 1].is_punct("."):
                j += 2
            return tokens[j + 1 :]
    return []


def qualify_object_name(sql: str, kind: str, schema: str, quote: Quote) -> str:
    """``CREATE INDEX name ...`` -> ``CREATE INDEX "schema".name ...`` (also TRIGGER)."""
    tokens = tokenize(sql)
    i = next((j for j, t in enumerate(tokens) if t.upper == kind), None)
    if i is None:
        raise SqlParseError(f"not a CREATE {kind} statement")
    i += 1
    if tokens[i].upper == "IF" and i + 2 < len(tokens) and tokens[i + 2].upper == "EXISTS":
        i += 3
    if i + 1 < len(tokens) and tokens[i + 1].is_punct("."):
        return sql  # already qualified
    tok = tokens[i]
    tokens.insert(i, Token("quoted", quote(schema), tok.ws, schema))
    tokens.insert(i + 1, Token("punct", ".", "", "."))
    tokens[i + 2] = Token(tok.kind, tok.text, "", tok.value)
    return render(tokens)


# --------------------------------------------------------------------------- readers (introspection, dumps)


def read_create_table(sql: str) -> TableDef:
    """:func:`parse_create_table` for readers that only want what the pragmas do not tell
    (constraint names, CHECK and generated expressions, WITHOUT ROWID): a table it cannot take
    apart (a virtual table) reads as one with no parts instead of raising."""
    try:
        return parse_create_table(sql)
    except SqlParseError:
        return TableDef([], [])


@dataclass(frozen=True, slots=True)
class IndexDef:
    """What a CREATE INDEX adds to ``pragma_index_xinfo``: each key part's text (a plain column as
    its name; ASC/DESC and COLLATE removed) and the WHERE of a partial index."""

    keys: list[str]
    predicate: str | None


def parse_create_index(sql: str) -> IndexDef:
    try:
        tokens = index_column_tokens(tokenize(sql))
        if not tokens or not tokens[0].is_punct("("):
            return IndexDef([], None)
        close = matching_paren(tokens, 0)
    except SqlParseError:
        return IndexDef([], None)
    keys: list[str] = []
    for part in split_top_level(tokens[1:close]):
        while part and part[-1].upper in ("ASC", "DESC"):
            part = part[:-1]
        collate = next((i for i, t in enumerate(part) if t.upper == "COLLATE"), None)
        if collate is not None:
            part = part[:collate]
        while len(part) > 2 and part[0].is_punct("(") and matching_paren(part, 0) == len(part) - 1:
            part = part[1:-1]  # (lower(email)) -> lower(email)
        keys.append(part[0].value if len(part) == 1 and part[0].is_name else render(part))
    rest = tokens[close + 1 :]
    return IndexDef(keys, render(rest[1:]) if rest and rest[0].upper == "WHERE" else None)


def view_select(sql: str) -> str:
    """The SELECT of ``CREATE VIEW name [(cols)] AS select``, as written."""
    try:
        tokens = tokenize(sql)
    except SqlParseError:
        return sql
    depth = 0
    for i, tok in enumerate(tokens):
        if tok.is_punct("("):
            depth += 1
        elif tok.is_punct(")"):
            depth -= 1
        elif depth == 0 and tok.upper == "AS":
            return render(tokens[i + 1 :]).rstrip(";").strip()
    return sql
