"""Classify raw SQL text (from ``sql(...)`` or ``.sql`` files) into operation nodes, best effort.

Only user-written text comes here; statements kysera compiled itself carry their nodes. A
statement this module cannot read becomes :class:`Unknown`, which the analysis reports for a
human to review instead of passing it silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..dialects.sql_lexer import SqlParseError
from ..dialects.sql_lexer import tokenize as lex
from ..nodes import (
    AddColumnNode,
    AddConstraintNode,
    AlterColumnNode,
    AlterTableAction,
    AlterTableNode,
    CheckConstraintNode,
    ColumnDefinitionNode,
    CreateIndexNode,
    DataTypeNode,
    DeleteNode,
    DropColumnNode,
    DropConstraintNode,
    DropDefaultNode,
    DropIndexNode,
    DropNotNullNode,
    DropTableNode,
    ForeignKeyConstraintNode,
    IdentifierNode,
    IndexColumnNode,
    PrimaryKeyConstraintNode,
    RawNode,
    ReferencesNode,
    RenameColumnNode,
    RenameTableNode,
    SetDataTypeNode,
    SetDefaultNode,
    SetNotNullNode,
    UniqueConstraintNode,
    UpdateNode,
    ValidateConstraintNode,
)


@dataclass(frozen=True)
class Tok:
    kind: str  # word, qid, str, num, sym
    text: str

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else self.text

    @property
    def name(self) -> str:
        if self.kind == "qid":
            q = self.text[0]
            body = self.text[1:-1]
            return body if q == "[" else body.replace(q + q, q)
        return self.text


#: the lexer's kinds as this module names them (only words and quoted names behave apart)
_KINDS = {"word": "word", "quoted": "qid", "string": "str", "blob": "str", "number": "num", "punct": "sym", "variable": "sym"}
#: the characters of operators and punctuation a statement of ours may hold; anything else
#: (``#`` comments, ``@`` variables, ``\\``) leaves the text unread
_SYMBOLS = frozenset("(),;.=*+-/<>%|&^~!?:[]{}")


def tokenize(text: str, dialect: str | None = None) -> list[Tok] | None:
    """``text`` as tokens (:func:`kysera.dialects.sql_lexer.tokenize`) as ``dialect`` reads it
    (PostgreSQL's dollar quotes, MySQL's ``#`` comments; None: both ways that do not clash);
    None when it cannot be read."""
    try:
        tokens = lex(
            text,
            dollar_quotes=dialect != "mysql",
            hash_comments=dialect == "mysql",
            backslash_escapes=dialect == "mysql",
            escape_strings=dialect == "postgres",
        )
    except SqlParseError:
        return None
    out: list[Tok] = []
    # PostgreSQL reads an unquoted name in lower case: DROP TABLE Events drops "events", and
    # the row count and column types must be looked up under that name
    fold = dialect == "postgres"
    for token in tokens:
        kind = _KINDS[token.kind]
        if kind == "sym" and not _SYMBOLS.issuperset(token.text[:1] if token.kind == "variable" else token.text):
            return None
        out.append(Tok(kind, token.text.lower() if fold and kind == "word" else token.text))
    return out


@dataclass(frozen=True)
class Truncate:
    tables: tuple[IdentifierNode, ...]


@dataclass(frozen=True)
class DropSchema:
    name: str


@dataclass(frozen=True)
class DropCascade:
    """``DROP TYPE|DOMAIN|EXTENSION ... CASCADE`` (PostgreSQL): the columns that use it go too."""

    kind: str
    name: str


@dataclass(frozen=True)
class DropTables:
    """``DROP TABLE a, b``: several tables in one statement."""

    tables: tuple[IdentifierNode, ...]


@dataclass(frozen=True)
class EnumChange:
    type_name: str


@dataclass(frozen=True)
class Rewrite:
    """A statement that rebuilds a table whole while reads and writes wait: PostgreSQL's
    ``VACUUM FULL``, ``CLUSTER`` and ``ALTER TABLE ... SET TABLESPACE | SET LOGGED | SET
    UNLOGGED``; MySQL's ``ALTER TABLE ... CONVERT TO CHARACTER SET`` (a copy). ``table`` is None
    for every table of the database (``VACUUM FULL`` or ``CLUSTER`` without a name)."""

    what: str
    table: IdentifierNode | None


@dataclass(frozen=True)
class Reindex:
    """PostgreSQL's ``REINDEX`` without ``CONCURRENTLY``: writes to the table wait while its
    indexes are rebuilt, and so do reads that would use them. ``kind``: TABLE, INDEX, SCHEMA,
    DATABASE or SYSTEM; ``name`` is None for the current database or its catalogs."""

    kind: str
    name: IdentifierNode | None


@dataclass(frozen=True)
class Harmless:
    """A statement with no schema risk worth reporting (CREATE TABLE, INSERT, SET, SELECT, ...)."""

    verb: str
    table: str | None = None
    #: CREATE TABLE IF NOT EXISTS: the table may be an old one, rows and all
    if_not_exists: bool = False


@dataclass(frozen=True)
class Unknown:
    text: str


@dataclass(frozen=True)
class PartlyKnown:
    """An ALTER TABLE some of whose actions the classifier reads (``known``) and some it does not
    (``unknown``, their text): the known ones are judged as usual, the rest reported unknown."""

    known: AlterTableNode
    unknown: tuple[str, ...]


@dataclass(frozen=True)
class Several:
    """A statement that changes data in more than one place: PostgreSQL's ``WITH d AS (DELETE
    ...) UPDATE ...``. Each part is judged."""

    parts: tuple[Classified, ...]


Classified = (
    AlterTableNode | CreateIndexNode | DropIndexNode | DropTableNode | UpdateNode | DeleteNode
    | Truncate | DropTables | DropSchema | DropCascade | EnumChange | Harmless | Unknown | PartlyKnown | Several
    | Rewrite | Reindex
)

_HARMLESS_FIRST = {
    "INSERT", "SELECT", "SET", "SHOW", "EXPLAIN", "COMMENT", "GRANT", "REVOKE", "ANALYZE", "WITH",
    "VALUES", "PRAGMA", "BEGIN", "COMMIT", "START", "USE", "REFRESH",
}  # fmt: skip
_HARMLESS_CREATE = {"TABLE", "VIEW", "FUNCTION", "PROCEDURE", "TRIGGER", "EXTENSION", "TYPE", "SEQUENCE", "SCHEMA", "DOMAIN", "OR", "TEMP", "TEMPORARY", "MATERIALIZED", "DATABASE", "ROLE", "USER", "POLICY", "RULE", "AGGREGATE", "COLLATION"}


#: the first word of a statement, after the blanks and comments before it
_HEAD = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*([A-Za-z]+)", re.S)


def classify(text: str, dialect: str | None = None) -> Classified:
    head = _HEAD.match(text)
    if head is not None and head.group(1).upper() == "INSERT":
        # rows added to a table: nothing to judge, whatever the rest says; and a data file holds
        # thousands of them, which the lexer would read character by character
        return Harmless("INSERT")
    toks = tokenize(text, dialect)
    if not toks:
        return Unknown(text)
    try:
        return _classify(toks, text, dialect == "mysql")
    except (IndexError, ValueError):
        return Unknown(text)


def _words(toks: list[Tok], n: int) -> list[str]:
    return [t.upper for t in toks[:n]]


def _split_top(toks: list[Tok]) -> list[list[Tok]]:
    parts: list[list[Tok]] = [[]]
    depth = 0
    for t in toks:
        if t.text == "(":
            depth += 1
        elif t.text == ")":
            depth -= 1
        if t.text == "," and depth == 0:
            parts.append([])
        else:
            parts[-1].append(t)
    return [p for p in parts if p]


def _qualified(toks: list[Tok], i: int) -> tuple[IdentifierNode, int]:
    first = toks[i].name
    if i + 2 < len(toks) + 1 and i + 1 < len(toks) and toks[i + 1].text == ".":
        return IdentifierNode(toks[i + 2].name, first), i + 3
    return IdentifierNode(first), i + 1


def _skip(toks: list[Tok], i: int, *words: str) -> int:
    while i < len(toks) and toks[i].upper in words:
        i += 1
    return i


def _text(toks: list[Tok]) -> str:
    return " ".join(t.text for t in toks)


def _using_index(toks: list[Tok]) -> str | None:
    """The index of PostgreSQL's ``... USING INDEX idx`` (an unquoted name folded to lower case,
    as PostgreSQL does); MySQL's ``USING BTREE (cols)`` names no index."""
    for k in range(len(toks) - 2):
        if toks[k].upper == "USING" and toks[k + 1].upper == "INDEX":
            index = toks[k + 2]
            return index.text.lower() if index.kind == "word" else index.name
    return None


def _paren_names(toks: list[Tok], i: int) -> tuple[tuple[str, ...], int]:
    """``( a, b )`` starting at toks[i] == '(' -> names, index after ')'."""
    depth, j = 0, i
    names: list[str] = []
    current: list[Tok] = []
    while j < len(toks):
        t = toks[j]
        if t.text == "(":
            depth += 1
            if depth == 1:
                j += 1
                continue
        elif t.text == ")":
            depth -= 1
            if depth == 0:
                if current:
                    names.append(" ".join(x.name for x in current))
                return tuple(names), j + 1
        if depth == 1 and t.text == ",":
            names.append(" ".join(x.name for x in current))
            current = []
        else:
            current.append(t)
        j += 1
    raise ValueError("unbalanced parentheses")


def _classify(toks: list[Tok], text: str, mysql: bool = False) -> Classified:
    """``mysql``: read MySQL's forms (``DROP INDEX`` in an ALTER TABLE); elsewhere ``DROP key``
    drops a column called key."""
    w = _words(toks, 8)
    head = w[0]
    if head == "CREATE":
        i = 1
        unique = False
        if w[i] == "UNIQUE":
            unique, i = True, i + 1
        if toks[i].upper == "INDEX":
            i += 1
            concurrently = toks[i].upper == "CONCURRENTLY"
            i = _skip(toks, i, "CONCURRENTLY")
            if toks[i].upper == "IF":
                i += 3
            name = IdentifierNode("")
            if toks[i].upper != "ON":
                name, i = _qualified(toks, i)
            if toks[i].upper != "ON":
                raise ValueError("no ON")
            i = _skip(toks, i + 1, "ONLY")
            table, i = _qualified(toks, i)
            where = None
            for k in range(i, len(toks)):
                if toks[k].upper == "WHERE":
                    where = RawNode((_text(toks[k + 1 :]),))
            return CreateIndexNode(name, table, (IndexColumnNode("?"),), unique, False, concurrently, where)
        if toks[i].upper in _HARMLESS_CREATE or toks[i].upper in ("UNLOGGED", "GLOBAL", "LOCAL"):
            created: str | None = None
            if_not_exists = False
            # CREATE [GLOBAL | LOCAL] [TEMP | UNLOGGED] TABLE, CREATE MATERIALIZED VIEW: what is
            # made is new (an index on it blocks nobody)
            at = _skip(toks, i, "GLOBAL", "LOCAL", "TEMP", "TEMPORARY", "UNLOGGED")
            if toks[at].upper == "TABLE" or (toks[at].upper == "MATERIALIZED" and toks[at + 1].upper == "VIEW"):
                j = at + (1 if toks[at].upper == "TABLE" else 2)
                if_not_exists = toks[j].upper == "IF"
                if if_not_exists:
                    j += 3
                table = _qualified(toks, j)[0]
                created = table.dotted
            return Harmless("CREATE " + toks[i].upper, created, if_not_exists)
        return Unknown(text)
    if head == "DROP":
        kind = w[1]
        if kind == "INDEX":
            i = 2
            concurrently = toks[i].upper == "CONCURRENTLY"
            i = _skip(toks, i, "CONCURRENTLY")
            if_exists = toks[i].upper == "IF"
            if if_exists:
                i += 2
            name, i = _qualified(toks, i)
            on_table: IdentifierNode | None = None
            if i < len(toks) and toks[i].upper == "ON":
                on_table = _qualified(toks, i + 1)[0]
            return DropIndexNode(name, on_table, if_exists, concurrently)
        if kind == "TABLE":
            i = 2
            if_exists = toks[i].upper == "IF"
            if if_exists:
                i += 2
            cascade = any(t.upper == "CASCADE" for t in toks)
            tables = [_qualified(part, 0)[0] for part in _split_top(toks[i:]) if part and part[0].upper not in ("CASCADE", "RESTRICT")]
            if len(tables) > 1:
                return DropTables(tuple(tables))
            return DropTableNode(tables[0], if_exists, cascade)
        if kind in ("SCHEMA", "DATABASE"):
            i = 4 if w[2] == "IF" else 2
            return DropSchema(toks[i].name)
        if kind in ("TYPE", "DOMAIN", "EXTENSION") and any(t.upper == "CASCADE" for t in toks):
            i = 4 if w[2] == "IF" else 2
            return DropCascade(kind.lower(), toks[i].name)
        if kind in ("VIEW", "FUNCTION", "TRIGGER", "SEQUENCE", "TYPE", "DOMAIN", "EXTENSION", "MATERIALIZED", "PROCEDURE", "POLICY"):
            return Harmless("DROP " + kind)
        return Unknown(text)
    if head == "TRUNCATE":
        i = _skip(toks, 1, "TABLE", "ONLY")
        tables = [_qualified(p, 0)[0] for p in _split_top(toks[i:]) if p and p[0].upper not in ("CASCADE", "RESTART", "CONTINUE")]
        return Truncate(tuple(tables))
    if head == "ALTER" and w[1] == "TABLE":
        i = _skip(toks, 2, "ONLY")
        if toks[i].upper == "IF":
            i += 2
        i = _skip(toks, i, "ONLY")
        table, i = _qualified(toks, i)
        actions: list[AlterTableAction] = []
        unread: list[str] = []
        online: dict[str, str] = {}  # MySQL's ALGORITHM= / LOCK=, as the builder's .algorithm() / .lock()
        rewrites: list[str] = []  # what rebuilds the whole table (SET TABLESPACE, CONVERT TO ...)
        for part in _split_top(toks[i:]):
            words = [t.upper for t in part]
            if _rewrites_table(words, mysql):
                rewrites.append(" ".join(words[:4] if words[0] == "CONVERT" else words[:2]))
                continue
            if len(words) in (2, 3) and words[0] in ("ALGORITHM", "LOCK") and (len(words) == 2 or words[1] == "="):
                online[words[0].lower()] = part[-1].text.lower()
                continue
            if mysql and len(words) > 2 and words[0] in ("ADD", "DROP", "RENAME") and words[1] in ("INDEX", "KEY"):
                # MySQL's ADD / DROP / RENAME INDEX: InnoDB does them in place while reads and
                # writes go on, as it does the builder's create_index and drop_index (a FULLTEXT
                # or SPATIAL index, which does not, is left to a human below)
                continue
            try:
                actions.extend(_alter_actions(part, mysql))
            except (ValueError, IndexError):
                unread.append(_text(part))
        if rewrites and not actions and not unread:
            return Rewrite(f"ALTER TABLE ... {rewrites[0]}", table)
        unread.extend(rewrites)  # next to other changes: for a human to review, as a whole
        if unread and not actions:
            return Unknown(text)
        node = AlterTableNode(table, tuple(actions), algorithm=online.get("algorithm"), lock=online.get("lock"))
        if unread:  # a DROP COLUMN next to a COMMENT '...' is still a DROP COLUMN
            return PartlyKnown(node, tuple(unread))
        return node
    if head == "ALTER" and w[1] == "TYPE":
        return EnumChange(toks[2].name)
    if head in ("VACUUM", "CLUSTER", "REINDEX") and not mysql:
        return _maintenance(toks, head)
    if head == "UPDATE":
        i = _skip(toks, 1, "ONLY")
        table, i = _qualified(toks, i)
        where = None
        for k in range(i, len(toks)):
            if toks[k].upper == "WHERE":
                where = RawNode((_text(toks[k + 1 :]),))
                break
        return UpdateNode(table, (), where)
    if head == "DELETE":
        i = _skip(toks, 1, "FROM", "ONLY")
        table, i = _qualified(toks, i)
        where = None
        for k in range(i, len(toks)):
            if toks[k].upper == "WHERE":
                where = RawNode((_text(toks[k + 1 :]),))
                break
        return DeleteNode(table, where)
    if head == "RENAME" and w[1] == "TABLE":  # MySQL
        old, i = _qualified(toks, 2)
        return AlterTableNode(old, (RenameTableNode(toks[i + 1].name),))
    if head == "WITH":
        changes = _data_changes(toks, text, mysql)
        if changes:
            return changes[0] if len(changes) == 1 else Several(tuple(changes))
    if head == "BEGIN" and w[1:2] == ["NOT"]:
        return Unknown(text)  # MariaDB's BEGIN NOT ATOMIC ... END: any statements, for a human to review
    if head in _HARMLESS_FIRST:
        return Harmless(head)
    return Unknown(text)


def _rewrites_table(words: list[str], mysql: bool) -> bool:
    """An ALTER TABLE action that rebuilds the table: PostgreSQL's SET TABLESPACE, SET LOGGED and
    SET UNLOGGED; MySQL's CONVERT TO CHARACTER SET (ALGORITHM=COPY)."""
    if mysql:
        return words[:2] == ["CONVERT", "TO"]
    return len(words) >= 2 and words[0] == "SET" and words[1] in ("TABLESPACE", "LOGGED", "UNLOGGED")


#: words that end an option of VACUUM (...), CLUSTER (...) or REINDEX (...) and turn it off
_OFF = frozenset({"FALSE", "OFF", "0"})


def _maintenance(toks: list[Tok], head: str) -> Classified:
    """PostgreSQL's VACUUM, CLUSTER and REINDEX (SQLite's VACUUM and REINDEX read the same way;
    the analysis judges them per engine). A plain VACUUM, and a REINDEX ... CONCURRENTLY, let
    reads and writes go on."""
    i = 1
    options: set[str] = set()
    if i < len(toks) and toks[i].text == "(":  # VACUUM (FULL, ANALYZE) t; REINDEX (VERBOSE) TABLE t
        names, i = _paren_names(toks, i)
        options = {n.split()[0].upper() for n in names if n and not set(n.upper().split()[1:]) & _OFF}
    while i < len(toks) and toks[i].upper in ("FULL", "FREEZE", "VERBOSE", "ANALYZE", "ANALYSE"):
        options.add(toks[i].upper)
        i += 1
    if head == "VACUUM":
        if "FULL" not in options:
            return Harmless("VACUUM")
        tables = [_qualified(part, 0)[0] for part in _split_top(toks[i:]) if part]
        return Rewrite("VACUUM FULL", tables[0] if len(tables) == 1 else None)
    if head == "CLUSTER":
        if i >= len(toks):
            return Rewrite("CLUSTER", None)  # every table clustered before
        on = next((k for k in range(i, len(toks)) if toks[k].upper == "ON"), None)
        return Rewrite("CLUSTER", _qualified(toks, on + 1 if on is not None else i)[0])  # CLUSTER index ON table: the old form
    if i >= len(toks):
        return Reindex("DATABASE", None)  # SQLite's REINDEX: every index
    kind = toks[i].upper
    i += 1
    if i < len(toks) and toks[i].upper == "CONCURRENTLY":
        return Harmless("REINDEX")
    if kind not in ("TABLE", "INDEX", "SCHEMA", "DATABASE", "SYSTEM"):  # SQLite's REINDEX name
        return Reindex("TABLE", _qualified(toks, i - 1)[0])
    return Reindex(kind, _qualified(toks, i)[0] if i < len(toks) else None)


def _data_changes(toks: list[Tok], text: str, mysql: bool = False) -> list[Classified]:
    """The statements that change data inside a ``WITH`` (PostgreSQL runs a ``DELETE`` in a
    common table expression as surely as one on its own), each classified by itself."""
    depths: list[int] = []
    depth = 0
    for t in toks:
        if t.text == "(":
            depth += 1
        depths.append(depth)
        if t.text == ")":
            depth -= 1
    found: list[Classified] = []
    for k, t in enumerate(toks):
        if t.kind != "word" or t.upper not in ("DELETE", "UPDATE", "INSERT", "MERGE"):
            continue
        if k and toks[k - 1].upper in ("FOR", "DO", "ON"):  # FOR UPDATE, DO UPDATE, ON DELETE
            continue
        end = next((j for j in range(k + 1, len(toks)) if depths[j] < depths[k] or (toks[j].text == ")" and depths[j] == depths[k])), len(toks))
        part = _classify(toks[k:end], text, mysql) if t.upper != "MERGE" else Unknown(text)
        if not isinstance(part, Harmless):
            found.append(part)
    return found


_COLUMN_STOP = {"NOT", "NULL", "DEFAULT", "PRIMARY", "UNIQUE", "REFERENCES", "CHECK", "GENERATED",
                "CONSTRAINT", "COLLATE", "AUTO_INCREMENT", "AUTOINCREMENT", "COMMENT", "AS", "FIRST", "AFTER", "ON"}  # fmt: skip


#: what ends a column's DEFAULT expression (its first word is always part of it: DEFAULT NULL)
_DEFAULT_STOP = (_COLUMN_STOP - {"AS"}) | {"DEFAULT"}


def _column(toks: list[Tok]) -> ColumnDefinitionNode:
    name = toks[0].name
    i = 1
    type_toks: list[Tok] = []
    depth = 0
    while i < len(toks) and (depth > 0 or toks[i].upper not in _COLUMN_STOP):
        depth += toks[i].text == "("
        depth -= toks[i].text == ")"
        type_toks.append(toks[i])
        i += 1
    rest = [t.upper for t in toks[i:]]
    default = None
    if "DEFAULT" in rest:
        # the whole expression, up to the next column clause: 1 + random(), a.b(), 'x'::text
        k = rest.index("DEFAULT") + i + 1
        end, depth = k, 0
        while end < len(toks):
            if depth == 0 and end > k and toks[end].upper in _DEFAULT_STOP:
                break
            depth += toks[end].text == "("
            depth -= toks[end].text == ")"
            end += 1
        default = RawNode((_text(toks[k:end]),))
    type_text = _text(type_toks).replace(" ( ", "(").replace(" )", ")").replace(" , ", ",")
    # GENERATED ALWAYS AS (...), or MySQL's short form AS (...) [VIRTUAL | STORED | PERSISTENT]
    short_form = any(rest[k] == "AS" and k + 1 < len(rest) and rest[k + 1] == "(" for k in range(len(rest)))
    generated = ("GENERATED" in rest and "IDENTITY" not in rest) or short_form
    references = None
    if "REFERENCES" in rest:  # checked against the other table, as the builder's references() is
        k = rest.index("REFERENCES") + i + 1
        target, k = _qualified(toks, k)
        ref_cols: tuple[str, ...] = ()
        if k < len(toks) and toks[k].text == "(":
            ref_cols = _paren_names(toks, k)[0]
        references = ReferencesNode(target, ref_cols)
    check = None
    if "CHECK" in rest:  # every row is checked, as the builder's check() is
        k = rest.index("CHECK") + i + 1
        check = RawNode((_text(toks[k:]),))
    return ColumnDefinitionNode(
        name,
        DataTypeNode(type_text or "?"),
        primary_key="PRIMARY" in rest,
        not_null=any(rest[k] == "NOT" and k + 1 < len(rest) and rest[k + 1] == "NULL" for k in range(len(rest))),
        unique="UNIQUE" in rest,
        auto_increment="AUTO_INCREMENT" in rest or "AUTOINCREMENT" in rest,
        default=default,
        references=references,
        check=check,
        generated=RawNode(("?",)) if generated else None,
        stored=generated and ("STORED" in rest or "PERSISTENT" in rest),
        identity="always" if "IDENTITY" in rest else None,
    )


def _constraint(toks: list[Tok]) -> AddConstraintNode:
    i = 0
    name = None
    if toks[0].upper == "CONSTRAINT":
        name, i = toks[1].name, 2
    not_valid = any(toks[k].upper == "NOT" and k + 1 < len(toks) and toks[k + 1].upper == "VALID" for k in range(len(toks)))
    kind = toks[i].upper
    if kind == "FOREIGN":
        cols, j = _paren_names(toks, i + 2)
        ref, j = _qualified(toks, j + 1)
        ref_cols: tuple[str, ...] = ()
        if j < len(toks) and toks[j].text == "(":
            ref_cols, j = _paren_names(toks, j)
        return AddConstraintNode(ForeignKeyConstraintNode(name, cols, ReferencesNode(ref, ref_cols)), not_valid)
    if kind == "CHECK":
        body = toks[i + 1 :]
        if not_valid and len(body) >= 2 and [t.upper for t in body[-2:]] == ["NOT", "VALID"]:
            body = body[:-2]  # the expression alone, as the builder's node holds it
        return AddConstraintNode(CheckConstraintNode(name, RawNode((_text(body),))), not_valid)
    if kind in ("UNIQUE", "PRIMARY"):
        # MySQL's ADD UNIQUE [INDEX | KEY] name (cols): the index's name is the constraint's
        k = _skip(toks, i + 1, "INDEX", "KEY")
        # PostgreSQL 15's UNIQUE NULLS [NOT] DISTINCT (cols)
        nulls_not_distinct = [t.upper for t in toks[k : k + 3]] == ["NULLS", "NOT", "DISTINCT"]
        if k + 1 < len(toks) and toks[k].upper == "NULLS" and toks[k + 1].upper in ("NOT", "DISTINCT"):
            k = _skip(toks, k + 1, "NOT", "DISTINCT")
        if name is None and kind == "UNIQUE" and k < len(toks) and toks[k].text != "(" and toks[k].upper != "USING":
            name = toks[k].name
        index = _using_index(toks)
        cols = () if index else _paren_names(toks, next(k for k in range(i, len(toks)) if toks[k].text == "("))[0]
        if kind == "UNIQUE":
            return AddConstraintNode(UniqueConstraintNode(name, cols, nulls_not_distinct, using_index=index))
        return AddConstraintNode(PrimaryKeyConstraintNode(name, cols, using_index=index))
    raise ValueError("unknown constraint")


def _alter_actions(toks: list[Tok], mysql: bool = False) -> list[AlterTableAction]:
    w = [t.upper for t in toks]
    if w[0] == "CHANGE":  # MySQL: CHANGE old new <definition>: a rename and a new definition
        i = _skip(toks, 1, "COLUMN")
        old = toks[i].name
        new_col = _column(toks[i + 1 :])
        # the type first, under the name the catalog knows the column by
        changes: list[AlterTableAction] = [*restated(old, new_col)]
        return changes if new_col.name == old else [*changes, RenameColumnNode(old, new_col.name)]
    if w[0] == "MODIFY":  # MySQL: a new full definition
        new_col = _column(toks[_skip(toks, 1, "COLUMN") :])
        return [*restated(new_col.name, new_col)]
    return [_alter_action(toks, mysql)]


def restated(name: str, column: ColumnDefinitionNode) -> list[AlterColumnNode]:
    """What MySQL's MODIFY / CHANGE (and the builder's ``modify_column``) do to the column
    ``name``, as the analysis judges changes: a new type, and NOT NULL when the definition says so."""
    changes = [AlterColumnNode(name, SetDataTypeNode(column.data_type))]
    if column.not_null:
        changes.append(AlterColumnNode(name, SetNotNullNode()))
    return changes


def _alter_action(toks: list[Tok], mysql: bool = False) -> AlterTableAction:
    w = [t.upper for t in toks]
    if w[0] == "ADD":
        i = 1
        if w[1] in ("CONSTRAINT", "FOREIGN", "CHECK", "UNIQUE", "PRIMARY"):
            return _constraint(toks[1:])
        if w[1] in ("FULLTEXT", "SPATIAL", "EXCLUDE") or (mysql and w[1] in ("INDEX", "KEY")):
            raise ValueError("an index or exclusion constraint: left to a human")
        i = _skip(toks, i, "COLUMN")
        if toks[i].upper == "IF":
            i += 3
        return AddColumnNode(_column(toks[i:]))
    if w[0] == "DROP":
        if w[1] == "CONSTRAINT" or w[1] == "FOREIGN" or w[1] == "CHECK":
            i = 2 if w[1] == "CONSTRAINT" else (3 if w[1] == "FOREIGN" else 2)
            if toks[i].upper == "IF":
                i += 2
            return DropConstraintNode(toks[i].name)
        if w[1] == "PRIMARY" or (mysql and w[1] in ("INDEX", "KEY")):
            raise ValueError("MySQL DROP INDEX")
        i = _skip(toks, 1, "COLUMN")
        if toks[i].upper == "IF":
            i += 2
        return DropColumnNode(toks[i].name)
    if w[0] == "RENAME":
        if w[1] == "TO" or w[1] == "AS":
            return RenameTableNode(toks[2].name)
        if w[1] == "CONSTRAINT":
            raise ValueError("rename constraint")
        i = _skip(toks, 1, "COLUMN")
        return RenameColumnNode(toks[i].name, toks[i + 2].name)
    if w[0] == "ALTER":
        i = _skip(toks, 1, "COLUMN")
        col = toks[i].name
        rest = w[i + 1 :]
        if rest[:1] == ["TYPE"] or rest[:3] == ["SET", "DATA", "TYPE"]:
            k = i + 2 if rest[0] == "TYPE" else i + 4
            type_toks = []
            while k < len(toks) and toks[k].upper not in ("USING", "COLLATE"):
                type_toks.append(toks[k])
                k += 1
            return AlterColumnNode(col, SetDataTypeNode(DataTypeNode(_text(type_toks).replace(" ( ", "(").replace(" )", ")").replace(" , ", ","))))
        if rest[:3] == ["SET", "NOT", "NULL"]:
            return AlterColumnNode(col, SetNotNullNode())
        if rest[:3] == ["DROP", "NOT", "NULL"]:
            return AlterColumnNode(col, DropNotNullNode())
        if rest[:2] == ["SET", "DEFAULT"]:
            return AlterColumnNode(col, SetDefaultNode(RawNode((_text(toks[i + 3 :]),))))
        if rest[:2] == ["DROP", "DEFAULT"]:
            return AlterColumnNode(col, DropDefaultNode())
        raise ValueError("unknown ALTER COLUMN")
    if w[0] == "VALIDATE":
        return ValidateConstraintNode(toks[2].name)
    raise ValueError("unknown action")
