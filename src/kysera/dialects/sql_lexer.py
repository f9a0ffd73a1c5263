"""One lexer for SQL text that kysera reads rather than writes: a table's definition as SQLite
keeps it (:mod:`kysera.dialects.sqlite_table_sql`) and raw ``sql(...)`` statements the safety
analysis classifies (:mod:`kysera.safety.raw`).

Tokens keep the whitespace and comments before them, so a run of tokens is written back exactly
as it was (:func:`render`). Quoted identifiers (``"x"``, ```x```, ``[x]``), strings with ``''``
escapes, blobs, numbers, parameters and comments are read as every engine kysera supports writes
them; PostgreSQL's dollar-quoted strings (``$body$ ... $body$``) when asked for. Text is never
executed here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

_WS = " \t\n\f\r\v"
_OPERATORS = ("->>", "->", "||", "::", "<=", ">=", "==", "!=", "<>", "<<", ">>")
_QUOTES = {'"': '"', "`": "`", "[": "]"}


class SqlParseError(ValueError):
    """The text is not something this parser understands (unterminated quote, no body...)."""


@dataclass(slots=True)
class Token:
    """One token: ``kind`` is word, quoted, string, number, blob, variable or punct.

    ``ws`` is the whitespace and comments that came before it, so that a run of tokens can be
    written back exactly as it was. ``value`` is an identifier's name without quotes (the text
    itself for other kinds).
    """

    kind: str
    text: str
    ws: str = ""
    value: str = ""

    @property
    def upper(self) -> str:
        """The keyword this token spells (bare words only), upper-cased; "" otherwise."""
        return self.text.upper() if self.kind == "word" else ""

    @property
    def is_name(self) -> bool:
        """True for a token that can name a column: a bare word or a quoted identifier."""
        return self.kind in ("word", "quoted")

    def is_punct(self, text: str) -> bool:
        return self.kind == "punct" and self.text == text


def _is_word_start(ch: str) -> bool:
    return ch.isalpha() or ch == "_" or ord(ch) >= 0x80


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_$" or ord(ch) >= 0x80


def tokenize(
    sql: str,
    *,
    dollar_quotes: bool = False,
    hash_comments: bool = False,
    backslash_escapes: bool = False,
    escape_strings: bool = False,
) -> list[Token]:
    """``sql`` as tokens; whitespace and comments are kept in the next token's ``ws``.

    ``dollar_quotes``: read PostgreSQL's ``$tag$ ... $tag$`` as one string token (elsewhere
    ``$name`` is a parameter). ``hash_comments``: ``#`` starts a comment to the end of the line,
    as on MySQL. ``backslash_escapes``: a backslash escapes the next character in quoted text,
    as on MySQL. ``escape_strings``: PostgreSQL's ``E'it\'s'``, where a backslash escapes the
    next character of that string only. Raises :class:`SqlParseError` on an unterminated quote.
    """
    tokens: list[Token] = []
    i, n = 0, len(sql)
    ws_start = 0
    while i < n:
        ch = sql[i]
        if ch in _WS:
            i += 1
            continue
        if sql.startswith("--", i) or (hash_comments and ch == "#"):
            end = sql.find("\n", i)
            i = n if end < 0 else end
            continue
        if sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        ws = sql[ws_start:i]
        start = i
        if ch == "'":
            i = _end_of_quoted(sql, i, "'", "string", backslash_escapes)
            tokens.append(Token("string", sql[start:i], ws, sql[start + 1 : i - 1].replace("''", "'")))
        elif ch in _QUOTES:
            close = _QUOTES[ch]
            i = _end_of_quoted(sql, i, close, "identifier", backslash_escapes and close == '"')
            inner = sql[start + 1 : i - 1]
            if close != "]":
                inner = inner.replace(close + close, close)
            tokens.append(Token("quoted", sql[start:i], ws, inner))
        elif escape_strings and ch in "eE" and i + 1 < n and sql[i + 1] == "'" and not (start and _is_word_char(sql[start - 1])):
            i = _end_of_quoted(sql, i + 1, "'", "string", True)
            tokens.append(Token("string", sql[start:i], ws, sql[start + 2 : i - 1]))
        elif ch in "xX" and i + 1 < n and sql[i + 1] == "'":
            i = _end_of_quoted(sql, i + 1, "'", "blob")
            tokens.append(Token("blob", sql[start:i], ws, sql[start:i]))
        elif ch.isdigit() or (ch == "." and i + 1 < n and sql[i + 1].isdigit()):
            i = _end_of_number(sql, i)
            tokens.append(Token("number", sql[start:i], ws, sql[start:i]))
        elif _is_word_start(ch):
            i += 1
            while i < n and _is_word_char(sql[i]):
                i += 1
            tokens.append(Token("word", sql[start:i], ws, sql[start:i]))
        elif dollar_quotes and ch == "$" and (tag := _dollar_tag(sql, i)) is not None:
            end = sql.find(tag, i + len(tag))
            if end < 0:
                raise SqlParseError(f"unterminated dollar-quoted string starting at {sql[i : i + 20]!r}")
            i = end + len(tag)
            tokens.append(Token("string", sql[start:i], ws, sql[start + len(tag) : end]))
        elif ch in "?:@$" and i + 1 < n and (_is_word_char(sql[i + 1])):
            i += 1
            while i < n and _is_word_char(sql[i]):
                i += 1
            tokens.append(Token("variable", sql[start:i], ws, sql[start:i]))
        else:
            op = next((o for o in _OPERATORS if sql.startswith(o, i)), ch)
            i += len(op)
            tokens.append(Token("punct", op, ws, op))
        ws_start = i
    return tokens


def _dollar_tag(sql: str, i: int) -> str | None:
    """The ``$tag$`` (or ``$$``) that opens a dollar-quoted string at ``i``, or None."""
    j = i + 1
    while j < len(sql) and (sql[j].isalnum() or sql[j] == "_") and not (j == i + 1 and sql[j].isdigit()):
        j += 1
    return sql[i : j + 1] if j < len(sql) and sql[j] == "$" else None


def _end_of_quoted(sql: str, i: int, close: str, what: str, backslash: bool = False) -> int:
    """Index just past the quoted run that starts at ``i``; a doubled ``close`` escapes it (and,
    with ``backslash``, a backslash escapes the character after it)."""
    j = i + 1
    while True:
        k = sql.find(close, j)
        if backslash and k >= 0:
            escape = sql.find("\\", j, k)
            if escape >= 0:
                j = escape + 2
                continue
        if k < 0:
            raise SqlParseError(f"unterminated {what} starting at {sql[i : i + 20]!r}")
        if close != "]" and sql.startswith(close + close, k):
            j = k + 2
            continue
        return k + 1


def _end_of_number(sql: str, i: int) -> int:
    n = len(sql)
    if sql.startswith(("0x", "0X"), i):
        j = i + 2
        while j < n and (sql[j] in "0123456789abcdefABCDEF_"):
            j += 1
        return j
    j = i
    while j < n and (sql[j].isdigit() or sql[j] == "_"):
        j += 1
    if j < n and sql[j] == ".":
        j += 1
        while j < n and (sql[j].isdigit() or sql[j] == "_"):
            j += 1
    if j < n and sql[j] in "eE":
        k = j + 1
        if k < n and sql[k] in "+-":
            k += 1
        if k < n and sql[k].isdigit():
            j = k
            while j < n and sql[j].isdigit():
                j += 1
    return j


def render(tokens: Iterable[Token]) -> str:
    """Tokens back to text, with the original whitespace and comments between them."""
    out: list[str] = []
    for i, tok in enumerate(tokens):
        if i:
            out.append(tok.ws if tok.ws else _glue(out[-1], tok.text))
        out.append(tok.text)
    return "".join(out)


def _glue(before: str, after: str) -> str:
    """A space between two tokens that would otherwise run together."""
    if before and after and _is_word_char(before[-1]) and _is_word_char(after[0]):
        return " "
    return ""
