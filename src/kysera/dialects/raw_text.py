"""Light handling of raw SQL text written by users: splitting and classifying statements.

Statements kysera compiled itself are never re-parsed; this module only looks at text that came
from ``sql("...")`` or a ``.sql`` migration file.
"""

from __future__ import annotations

import re

from ..nodes import RawNode

_LEADING_NOISE = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)+", re.S)
_READ_ONLY = re.compile(r"^(select|show|explain|describe|desc|values|table)\b", re.I)
_WRITES_IN_WITH = re.compile(r"\b(insert|update|delete|merge)\b", re.I)


def strip_leading_comments(text: str) -> str:
    return _LEADING_NOISE.sub("", text)


def is_blank(text: str) -> bool:
    """True for text that holds only whitespace, comments and semicolons."""
    rest = strip_leading_comments(text).strip().strip(";").strip()
    return rest == "" or strip_leading_comments(rest) == ""


def plain_text(node: RawNode) -> str:
    return "".join(p if isinstance(p, str) else "?" for p in node.parts)


def split_statements(text: str) -> list[str]:
    """Split ``text`` into statements, respecting quotes, comments and ``$$`` bodies."""
    body = text.strip()
    if ";" not in body.rstrip(";"):
        return [] if is_blank(body) else [_drop_trailing_semicolon(body)]
    import sqlparse  # lazy: only raw multi-statement text needs it

    out = []
    for chunk in sqlparse.split(body):
        if not is_blank(chunk):
            out.append(_drop_trailing_semicolon(chunk.strip()))
    return out


def _drop_trailing_semicolon(text: str) -> str:
    return text[:-1].rstrip() if text.endswith(";") else text


def split_if_plain(node: RawNode) -> list[str] | None:
    """The statements of a fragment that is plain text; None when it has values or names in it."""
    if not all(isinstance(p, str) for p in node.parts):
        return None
    return split_statements("".join(p for p in node.parts if isinstance(p, str)))


def is_read_only(text: str) -> bool:
    head = strip_leading_comments(text).lstrip("( \n\t")
    if _READ_ONLY.match(head):
        return True
    if head[:4].lower() == "with":
        return not _WRITES_IN_WITH.search(head)
    if head[:6].lower() == "pragma":
        return "=" not in head and "(" not in head
    return False


def leading_words(text: str, count: int = 6) -> list[str]:
    """The first ``count`` words of a statement, upper-cased, comments skipped."""
    head = strip_leading_comments(text)
    return [w.upper() for w in re.findall(r"[A-Za-z_]+", head[:200])[:count]]
