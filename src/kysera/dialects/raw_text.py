"""Light handling of raw SQL text written by users: splitting and classifying statements.

Statements kysera compiled itself are never re-parsed; this module only looks at text that came
from ``sql("...")`` or a ``.sql`` migration file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..nodes import ColumnRefNode, IdentifierNode, RawNode

_LEADING_NOISE = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)+", re.S)
_READ_ONLY = re.compile(r"^(select|show|explain|describe|desc|values|table)\b", re.I)
#: patterns of rarer paths (WITH queries, split SQL text) are compiled when first used, through
#: re's own cache: most runs never use them, and compiling one costs more than a run's lookups
_WRITES_IN_WITH = r"(?i)\b(insert|update|delete|merge)\b"


def strip_leading_comments(text: str) -> str:
    if text[:1] not in _NOISE_STARTS and not text[:1].isspace():
        return text  # most statements: no pattern to run, no copy of the text
    return _LEADING_NOISE.sub("", text)


#: what a comment begins with (whitespace aside)
_NOISE_STARTS = frozenset("-/")


def is_blank(text: str) -> bool:
    """True for text that holds only whitespace, comments and semicolons."""
    rest = strip_leading_comments(text).strip().strip(";").strip()
    return rest == "" or strip_leading_comments(rest) == ""


#: a call of a function whose value differs from call to call, on any engine: as a column's
#: default it is computed per row (the table is rewritten); run again, a backfill would change
#: the rows it already did
VOLATILE_CALL = re.compile(
    r"(?i)\b(?:random|rand|uuid|uuid_short|gen_random_uuid|gen_random_bytes|uuid_generate_v\d|clock_timestamp"
    r"|timeofday|sysdate|nextval|lastval|newid|random_bytes|randomblob|connection_id)\s*\("
)


def columns_read(value: object) -> set[str]:
    """The columns (lower case) an expression reads: a ref or a name, and in raw SQL every word
    outside quotes that no ``(`` follows (a function's name is not a column)."""
    if isinstance(value, ColumnRefNode):
        return {value.column.lower()}
    if isinstance(value, IdentifierNode):
        return {value.name.lower()}
    if not isinstance(value, RawNode):
        return set()
    out: set[str] = set()
    for part in value.parts:
        if isinstance(part, str):
            bare = re.sub(r"'(?:[^'\\]|\\.|'')*'", "''", part)
            out |= {m.group(1).lower() for m in re.finditer(r"(?<![\w$])`?([A-Za-z_][\w$]*)`?(?![\w$])(?!\s*\()", bare)}
        else:
            out |= columns_read(part)
    return out


def plain_text(node: RawNode) -> str:
    return "".join(p if isinstance(p, str) else "?" for p in node.parts)


def split_statements(text: str, dialect: str, *, trailing_comments: bool = True) -> list[str]:
    """Split ``text`` into statements as ``dialect``'s server reads it: quotes (with backslash
    escapes on MySQL only), comments, ``$$`` bodies and trigger bodies respected.

    Where each statement ends comes from :func:`kysera.dump.split.split_script`. A statement keeps
    the comments before it; a comment after its ``;`` on the same line stays with it too, ``;``
    included (``ALTER TABLE ...; -- kysera:allow KS102``), or is dropped without
    ``trailing_comments``. The final ``;`` is dropped otherwise.
    """
    return [statement for statement, _ in split_located(text, dialect, trailing_comments=trailing_comments)]


def split_located(text: str, dialect: str, *, trailing_comments: bool = True) -> list[tuple[str, int]]:
    """:func:`split_statements`, each statement with the line of ``text`` (from 1) where its
    first word is (after the comments it keeps): where an editor shows it."""
    body = text.strip()
    first = text.count("\n", 0, len(text) - len(text.lstrip())) + 1  # the line body starts on
    if (
        ";" not in body.rstrip(";")
        and "--" not in body
        and "/*" not in body
        and not (dialect == "mysql" and ("delimiter" in body.lower() or "#" in body))
        and not (dialect == "postgres" and "\\" in body)  # a psql command, which split_script refuses
    ):
        return [] if is_blank(body) else [(_drop_trailing_semicolon(body), first)]
    from ..dump.split import split_script  # light: re and dataclasses

    out: list[tuple[str, int]] = []
    cut = 0  # where the text not yet given to a statement starts
    between, after = re.compile(_BETWEEN), re.compile(_TAIL)  # once, not at each statement
    for statement in split_script(body, dialect):
        start, end = statement.offset, statement.offset + len(statement.text)
        line = first - 1 + statement.line
        lead = cut
        if not body[cut:start].isspace():  # most statements follow a line break alone: nothing to read
            for token in between.finditer(body, cut, start):  # blanks, comments, and ;
                if token.group(1) is None:
                    lead = token.end()  # a comment before a ; belongs to no statement
        tail = after.match(body, end)
        if tail is not None and tail.group(1) and (tail.group(1)[0] != "#" or dialect == "mysql"):
            # a comment on the statement's own line: kept with it, or dropped; never the next one's
            out.append((body[lead : tail.end() if trailing_comments else end].strip(), line))
            cut = tail.end()
        else:
            out.append((body[lead:end].strip(), line))
            cut = end
    rest = body[cut:].strip()
    if trailing_comments and out and rest and not rest.startswith(";"):
        out[-1] = (out[-1][0] + " " + rest, out[-1][1])  # the comments after a last statement without its ;
    return out


#: the text between two statements: blanks and comments (group 1), or a ; (or a MySQL DELIMITER line)
_BETWEEN = r"(?s)(\s+|--[^\n]*|#[^\n]*|/\*.*?(?:\*/|\Z))|[^\s]"
#: the ``;`` after a statement, and a comment on the same line after it
_TAIL = r"[ \t]*;[ \t]*(--[^\n]*|#[^\n]*|/\*[^\n]*?\*/)?"


def _drop_trailing_semicolon(text: str) -> str:
    return text[:-1].rstrip() if text.endswith(";") else text


#: stands for a fragment's i-th non-text part while its text is split (private-use characters)
_MARK = "\ue000(\\d+)\ue001"


def split_fragment(node: RawNode, dialect: str) -> list[RawNode]:
    """The statements of a fragment with values or names in it, each a fragment of its own: the
    text is split as :func:`split_statements` splits plain text, the parts staying where they were."""
    parts = node.parts
    marked = "".join(p if isinstance(p, str) else f"\ue000{i}\ue001" for i, p in enumerate(parts))
    _check_places(marked, parts, dialect)
    out: list[RawNode] = []
    for text in split_statements(marked, dialect):
        pieces: list[object] = []
        at = 0
        for m in re.finditer(_MARK, text):
            if m.start() > at:
                pieces.append(text[at : m.start()])
            pieces.append(parts[int(m.group(1))])
            at = m.end()
        if at < len(text):
            pieces.append(text[at:])
        out.append(RawNode(tuple(pieces)))  # type: ignore[arg-type]
    return out


#: comments, quoted text and $$ bodies, as each engine reads them (compiled on first use,
#: through re's cache: most commands never need them)
_REGIONS = {
    "postgres": (
        r"--[^\n]*|/\*.*?\*/|[eE]'(?:[^'\\]|\\.|'')*'|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\""
        r"|(?P<dollar>\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$).*?(?P=dollar)"
    ),
    "mysql": r"--[^\n]*|#[^\n]*|/\*.*?\*/|'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.|\"\")*\"|`(?:[^`]|``)*`",
    "sqlite": r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`(?:[^`]|``)*`|\[[^\]]*\]",
}


def _regions(text: str, dialect: str) -> Iterator[re.Match[str]]:
    return re.finditer(_REGIONS.get(dialect, _REGIONS["sqlite"]), text, re.S)


def comments(text: str, dialect: str) -> list[str]:
    """The text of the comments in ``text``, as ``dialect`` reads it: never what is quoted."""
    out = []
    for region in _regions(text, dialect):
        found = region.group()
        if found.startswith("--"):
            out.append(found[2:])
        elif found.startswith("/*"):
            out.append(found[2:-2])
        elif found.startswith("#"):
            out.append(found[1:])
    return out


def _check_places(marked: str, parts: tuple[object, ...], dialect: str) -> None:
    """A ``{}`` inside a comment or quoted text is never a value or a name there (a value with a
    newline would even end a ``--`` comment and run what follows); inside a ``$$`` body, a value
    cannot be bound: :func:`sql.lit` writes it into the body."""
    from ..errors import BuilderError
    from ..nodes import ValueNode

    for region in _regions(marked, dialect):
        inside = [parts[int(i)] for i in re.findall(_MARK, region.group())]
        if not inside:
            continue
        if region.groupdict().get("dollar"):
            if any(isinstance(p, ValueNode) for p in inside):
                raise BuilderError(
                    "a {} value inside a $$ body cannot be bound; write it into the body with sql.lit(value)"
                )
            continue
        raise BuilderError(
            "a {} placeholder is inside a comment or quoted text, where it would not be a value or a name; "
            "put it where an expression goes (sql(\"... = {}\", value)), not in '...' or after --"
        )


#: a statement that defines things: DDL takes no bound parameters, so values go in as literals
_DDL_FIRST = frozenset({"CREATE", "ALTER", "DROP", "COMMENT", "TRUNCATE", "RENAME", "GRANT", "REVOKE"})


def is_ddl(text: str) -> bool:
    words = leading_words(text, 1)
    return bool(words) and words[0] in _DDL_FIRST


def split_if_plain(node: RawNode, dialect: str) -> list[str] | None:
    """The statements of a fragment that is plain text; None when it has values or names in it."""
    if not all(isinstance(p, str) for p in node.parts):
        return None
    return split_statements("".join(p for p in node.parts if isinstance(p, str)), dialect)


def is_read_only(text: str) -> bool:
    head = strip_leading_comments(text).lstrip("( \n\t")
    if _READ_ONLY.match(head):
        return True
    if head[:4].lower() == "with":
        return not re.search(_WRITES_IN_WITH, head)
    if head[:6].lower() == "pragma":
        return "=" not in head and "(" not in head
    return False


def controls_transaction(text: str) -> bool:
    """Whether a statement begins or ends a transaction (``BEGIN``, ``START TRANSACTION``,
    ``COMMIT``, ``END``, ``ROLLBACK`` but not ``ROLLBACK TO`` a savepoint): inside the transaction
    kysera runs a migration in, it would commit or undo kysera's work behind its back."""
    words = leading_words(text, 3)
    if not words:
        return False
    first = words[0]
    if first in ("BEGIN", "COMMIT", "END"):
        return len(words) == 1 or words[1] in ("WORK", "TRANSACTION", "DEFERRED", "IMMEDIATE", "EXCLUSIVE", "ISOLATION", "READ", "AND")
    if first == "ROLLBACK":
        return "TO" not in words[1:3]
    return first == "START" and words[1:2] == ["TRANSACTION"]


def leading_words(text: str, count: int = 6) -> list[str]:
    """The first ``count`` words of a statement, upper-cased, comments skipped."""
    global _last_words
    last = _last_words
    if last[0] != text:
        # the same statement is often asked about again at once (whether it controls the
        # transaction, then whether it is a VACUUM): its words are read once
        head = strip_leading_comments(text)
        last = _last_words = (text, [w.upper() for w in _WORD.findall(head[:200])])
    return last[1][:count]


_WORD = re.compile(r"[A-Za-z_]+")
#: the last statement :func:`leading_words` read, and all the words of its first 200 characters
_last_words: tuple[str | None, list[str]] = (None, [])
