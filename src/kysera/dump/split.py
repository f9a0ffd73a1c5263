"""Split an SQL script into statements, as each engine's own client would, reading it in chunks.

Quotes follow the engine's rules: backslash escapes in MySQL strings and in PostgreSQL ``E''``
strings, none in standard strings; ``$tag$`` bodies on PostgreSQL; ``[names]`` on SQLite.
Semicolons inside parentheses or inside a trigger's ``BEGIN ... END`` do not end a statement;
MySQL's ``DELIMITER`` lines and psql's ``\\restrict`` lines are understood.

The same rules split raw SQL text in migrations (``sql("...")`` and ``.sql`` files, see
:func:`kysera.dialects.raw_text.split_statements`): a value such as ``'C:\\'`` ends its string on
PostgreSQL and SQLite, and escapes the quote on MySQL, as each server reads it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..errors import KyseraError


class ScriptError(KyseraError):
    """The script holds something a database driver cannot run (a client-side command).

    ``line`` is where (from 1); ``command`` the psql command, when that is what it is."""

    def __init__(self, message: str, line: int = 0, command: str | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.command = command


@dataclass(frozen=True, slots=True)
class Statement:
    text: str
    #: the first words, upper case, comments skipped
    words: tuple[str, ...]
    #: 1-based line where the statement starts in the script
    line: int
    #: where ``text`` starts in the script (characters from its beginning)
    offset: int = 0


_QUOTES = {
    "postgres": r"""(?P<estr>[eE]'(?:[^'\\]+|\\.|'')*'?)|(?P<str>'(?:[^']+|'')*'?)|(?P<ident>"(?:[^"]+|"")*"?)""",
    "mysql": r"""(?P<str>'(?:[^'\\]+|\\.|'')*'?|"(?:[^"\\]+|\\.|"")*"?)|(?P<ident>`(?:[^`]+|``)*`?)""",
    "sqlite": r"""(?P<str>'(?:[^']+|'')*'?)|(?P<ident>"(?:[^"]+|"")*"?|`(?:[^`]+|``)*`?|\[[^\]]*\]?)""",
}

_COMMENTS = {
    "postgres": r"(?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))",
    "mysql": r"(?P<xcomment>/\*[!M].*?(?:\*/|\Z))|(?P<comment>--(?=[ \t\r\n]|\Z)[^\n]*|\#[^\n]*|/\*.*?(?:\*/|\Z))",
    "sqlite": r"(?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))",
}

_NEXT_WORD = re.compile(r"\s*([A-Za-z_]+)")
_BLOCK_OWNERS = {"TRIGGER", "FUNCTION", "PROCEDURE", "EVENT"}
_CHUNK = 1 << 20


def _pattern(dialect: str, delimiter: str) -> re.Pattern[str]:
    dollar = r"|(?P<dollar>\$(?:[A-Za-z_\x80-\uffff][\w\x80-\uffff]*)?\$)" if dialect == "postgres" else ""
    meta = r"|(?P<meta>(?<![^\n])[ \t]*\\[^\n]*)" if dialect == "postgres" else ""
    # a word ends where a delimiter made of word characters begins (END$$ with DELIMITER $$)
    rest = rf"(?:(?!{re.escape(delimiter)})[\w$])*" if re.search(r"[\w$]", delimiter) else r"[\w$]*"
    return re.compile(
        _COMMENTS[dialect]
        + "|"
        + _QUOTES[dialect]
        + dollar
        + meta
        + f"|(?P<delim>{re.escape(delimiter)})"
        + r"|(?P<open>\()|(?P<close>\))"
        + r"|(?P<word>[^\W\d]" + rest + ")",
        re.S,
    )


#: a string or quoted name of each engine that no backslash escapes, closed (possessive: read as
#: the patterns above read it, a doubled quote never given back)
_PLAIN_QUOTED = {
    "postgres": r"""(?<![eE])'(?:[^']|'')*+'|"(?:[^"]|"")*+""" + '"',
    "mysql": r"""'(?:[^'\\]|'')*+'|"(?:[^"\\]|"")*+"|`(?:[^`]|``)*+`""",
    "sqlite": r"""'(?:[^']|'')*+'|"(?:[^"]|"")*+"|`(?:[^`]|``)*+`|\[[^\]]*\]""",
}
#: what else a plain statement holds: no comment, ``$``, backslash, bracket or backquote that an
#: engine reads otherwise
_PLAIN_TEXT = {
    "postgres": r"""[^'"`()\[;\-/#\\$]++|-(?!-)|/(?!\*)""",
    "mysql": r"""[^'"`()\[;\-/#\\]++|-(?!-)|/(?!\*)""",
    "sqlite": r"""[^'"`()\[;\-/#\\]++|-(?!-)|/(?!\*)""",
}


def _plain_statement(dialect: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """A whole statement that needs none of the work the loop of :func:`split_script` does, read
    in one match: it starts with a word other than CREATE, BEGIN and DELIMITER (no routine body,
    no compound statement, no new delimiter), holds no comment, no dollar quote, no backslash,
    parentheses at most three deep and closed, and ends at a ``;``. A seed's tens of thousands of
    INSERTs are such statements. With it, the pattern of its words (group 1), as the loop reads
    them: a word after a ``.`` is a qualified name, never a keyword."""
    atom = _PLAIN_TEXT[dialect] + "|" + _PLAIN_QUOTED[dialect]
    nested = rf"\((?:{atom})*+\)"
    for _ in range(2):
        nested = rf"\((?:{atom}|{nested})*+\)"
    statement = re.compile(
        rf"\s*+(?P<body>(?=[A-Za-z_])(?!(?i:create|begin|delimiter)(?![\w$]))(?:{atom}|{nested})*+);"
    )
    words = re.compile(_PLAIN_QUOTED[dialect] + r"|\.[^\W\d][\w$]*|([^\W\d][\w$]*)")
    return statement, words


_PLAIN: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {}


def _chunks_of(source: str | Iterable[str]) -> Iterator[str]:
    if isinstance(source, str):
        for i in range(0, len(source), _CHUNK):
            yield source[i : i + _CHUNK]
    else:
        yield from source


def split_script(source: str | Iterable[str], dialect: str) -> Iterator[Statement]:
    """The statements of ``source`` (text, or an iterable of text chunks such as an open file)."""
    chunks = _chunks_of(source)
    delimiter = ";"
    pattern = _pattern(dialect, delimiter)
    buf = ""
    eof = False
    pos = 0  # where scanning continues
    start = 0  # where the current statement starts
    line = 1  # line number of ``start`` in the whole script
    depth = 0
    #: the BEGIN and CASE blocks open in a routine or trigger body, innermost last
    opened: list[str] = []
    words: list[str] = []
    skip_case = False
    content = False
    content_at = 0  # where the statement's first non-comment text starts
    m_start = -1  # where the delimiter that ends the statement starts
    tail_at = -1  # where the comments after the statement's last text start (-1: none yet)
    last_end = 0
    dropped = 0  # characters of the script before ``buf`` (read and done with)

    def more() -> bool:
        nonlocal buf, eof
        chunk = next(chunks, None)
        if chunk is None:
            eof = True
            return False
        buf += chunk
        return True

    def reset(at: int) -> None:
        nonlocal start, depth, words, content, last_end, line, skip_case, tail_at
        line += buf.count("\n", start, at)
        start = at
        last_end = at
        tail_at = -1
        depth = 0
        opened.clear()
        words = []
        skip_case = False
        content = False

    def next_statement(at: int) -> int:
        """Start the next statement at ``at``, dropping the text before it from ``buf`` once
        that is more than a chunk; ``at`` as it is in ``buf`` then."""
        nonlocal buf, dropped, start, last_end
        reset(at)
        if start > _CHUNK:
            dropped += start
            buf = buf[start:]
            last_end -= start
            at -= start
            start = 0
        return at

    def mark(at: int) -> None:
        nonlocal content, content_at
        if not content:
            content = True
            content_at = at

    def peek_word(at: int) -> str:
        """The word after ``at`` (upper case), or ""."""
        while True:
            w = _NEXT_WORD.match(buf, at)
            if w is not None and w.end() >= len(buf) and not eof and more():
                continue
            return w.group(1).upper() if w else ""

    def found() -> Statement:
        text = buf[content_at:m_start].strip() if m_start >= 0 else buf[content_at:].strip()
        return Statement(text, tuple(words), line + buf.count("\n", start, content_at), dropped + content_at)

    plain = _PLAIN.get(dialect)
    if plain is None and dialect in _PLAIN_TEXT:
        plain = _PLAIN[dialect] = _plain_statement(dialect)
    more()
    while True:
        if plain is not None and not content and delimiter == ";" and (p := plain[0].match(buf, pos)) is not None:
            # a plain statement (an INSERT of a seed): read at once, as the loop below reads it
            content, content_at = True, p.start("body")
            m_start = p.end() - 1
            words = [w.upper() for w in plain[1].findall(buf, content_at, m_start) if w][:8]
            yield found()
            pos = next_statement(p.end())
            continue
        m = pattern.search(buf, pos)
        if m is None or (m.end() >= len(buf) and not eof):
            if not eof and more():
                continue
            eof = True
            if m is None:
                break
        kind = m.lastgroup or ""
        gap = buf[last_end : m.start()]
        if gap.strip():
            mark(last_end + len(gap) - len(gap.lstrip()))
            tail_at = -1
        if kind == "comment":
            end = m.end()
            if dialect == "postgres" and m.group().startswith("/*"):
                # PostgreSQL nests block comments: /* a /* b */ c */ is one comment
                end = _end_of_nested_comment(buf, m.start())
                while end < 0 and not eof and more():
                    end = _end_of_nested_comment(buf, m.start())
                end = len(buf) if end < 0 else end
            if tail_at < 0 and content:
                tail_at = m.start()
            pos = last_end = end
            continue
        if kind == "dollar":
            mark(m.start())
            tail_at = -1
            close = buf.find(m.group(), m.end())
            while close < 0 and not eof:
                more()
                close = buf.find(m.group(), m.end())
            pos = last_end = (close + len(m.group())) if close >= 0 else len(buf)
            continue
        if kind == "meta":
            command = m.group().strip()
            if not content:
                if command.startswith(("\\restrict", "\\unrestrict")):
                    pos = m.end()
                    reset(pos)
                    continue
                at = line + buf.count(chr(10), start, m.start())
                raise ScriptError(
                    f"line {at}: the psql command {command.split()[0]} "
                    "cannot run through a database driver; remove it, or restore this file with psql",
                    at,
                    command,
                )
            pos = last_end = m.end()
            continue
        pos = last_end = m.end()
        tail_at = -1
        if kind == "delim":
            if depth > 0 or (delimiter == ";" and "BEGIN" in opened):
                continue  # after a DELIMITER line, as in the mysql client, only the delimiter counts
            if content:
                m_start = m.start()
                yield found()
            pos = next_statement(m.end())
            continue
        mark(m.start())
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth = max(0, depth - 1)
        elif kind == "word":
            word = m.group().upper()
            if m.start() > 0 and buf[m.start() - 1] == ".":
                word = ""  # a qualified name (NEW.end, t.begin): never a keyword
            if not words and word == "DELIMITER" and dialect == "mysql":
                eol = buf.find("\n", m.end())
                while eol < 0 and not eof:
                    more()
                    eol = buf.find("\n", m.end())
                end = len(buf) if eol < 0 else eol
                new = buf[m.end() : end].strip().split()
                if not new:
                    raise ScriptError(f"line {line + buf.count(chr(10), start, m.start())}: DELIMITER needs a delimiter after it")
                delimiter = new[0]
                pattern = _pattern(dialect, delimiter)
                pos = end
                reset(end)
                continue
            if len(words) < 8 and word:
                words.append(word)
            if words == ["BEGIN"] and word == "BEGIN" and dialect == "mysql" and peek_word(m.end()) == "NOT":
                opened.append("BEGIN")  # MariaDB's BEGIN NOT ATOMIC ... END: a compound statement, its ; inside
                continue
            if depth == 0 and _in_routine(words):
                if word == "BEGIN":
                    opened.append("BEGIN")
                elif word == "CASE":
                    if skip_case:
                        skip_case = False  # the CASE of END CASE
                    else:
                        opened.append("CASE")
                elif word == "END":
                    after = peek_word(m.end())
                    if after in ("IF", "LOOP", "WHILE", "REPEAT", "FOR"):
                        pass  # END IF ...: closes a statement inside the body, not the body
                    elif after == "CASE":  # MySQL's END CASE closes a CASE statement
                        skip_case = True
                        if opened and opened[-1] == "CASE":
                            opened.pop()
                    elif opened:
                        opened.pop()  # the innermost: a CASE expression's END, or a BEGIN block's
    m_start = -1
    if content and buf[content_at:].strip():
        if tail_at >= 0 and not buf[last_end:].strip():
            m_start = tail_at  # the last statement, without its ; : not the comments after it
        yield found()


def _in_routine(words: list[str]) -> bool:
    if words[:2] == ["BEGIN", "NOT"]:
        return True  # MariaDB's anonymous compound statement
    return bool(words) and words[0] == "CREATE" and any(w in _BLOCK_OWNERS for w in words[1:6])


def _end_of_nested_comment(text: str, at: int) -> int:
    """Index just past the PostgreSQL block comment that starts at ``at`` (nested ones counted),
    or -1 when the text ends first."""
    depth, i = 0, at
    while True:
        opening, closing = text.find("/*", i), text.find("*/", i)
        if closing < 0:
            return -1
        if 0 <= opening < closing:
            depth += 1
            i = opening + 2
            continue
        depth -= 1
        i = closing + 2
        if depth == 0:
            return i
