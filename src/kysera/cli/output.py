"""What the CLI prints: colour only on a terminal (and never with ``NO_COLOR``), plain tables, JSON.

Results go to stdout; notes, progress and errors go to stderr, so ``kysera migrate up --dry-run
> plan.sql`` and ``kysera migrate status --json | jq`` stay clean.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import IO, Any

import click


def color_wanted(stream: IO[str]) -> bool:
    """Colour on a terminal, unless ``NO_COLOR`` is set (https://no-color.org) or TERM is dumb."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)} min {rest:.0f} s"


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"


class Output:
    """One command's printer."""

    def __init__(self, *, verbose: int = 0, json_mode: bool = False) -> None:
        self.verbose = verbose
        self.json_mode = json_mode
        self.color = color_wanted(sys.stdout)
        self.err_color = color_wanted(sys.stderr)

    # ------------------------------------------------------------------ styling

    def style(self, text: str, *, err: bool = False, **styles: Any) -> str:
        if not (self.err_color if err else self.color):
            return text
        return click.style(text, **styles)

    # ------------------------------------------------------------------ stdout

    def line(self, text: str = "") -> None:
        """A line of the command's result (stdout). Suppressed in JSON mode."""
        if not self.json_mode:
            click.echo(text, color=self.color)

    def raw(self, text: str) -> None:
        """Text for stdout whatever the mode (SQL scripts)."""
        click.echo(text, color=False, nl=not text.endswith("\n"))

    def json(self, payload: object, *, err: bool = False) -> None:
        import json

        click.echo(json.dumps(payload, indent=2, default=_json_default, ensure_ascii=False), err=err)

    # ------------------------------------------------------------------ stderr

    def note(self, text: str) -> None:
        """A remark that is not the result: a fallback taken, a wait, a hint (stderr)."""
        click.echo(self.style(text, err=True, dim=True), err=True, color=self.err_color)

    def warn(self, text: str) -> None:
        click.echo(self.style("warning: ", err=True, fg="yellow", bold=True) + text, err=True, color=self.err_color)

    def detail(self, text: str) -> None:
        """Shown with ``-v`` only (stderr)."""
        if self.verbose:
            click.echo(self.style(text, err=True, dim=True), err=True, color=self.err_color)

    def error(self, text: str) -> None:
        click.echo(self.style("error: ", err=True, fg="red", bold=True) + text, err=True, color=self.err_color)


def render_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    styler: Callable[[int, str, str], str] | None = None,
) -> str:
    """A plain-text table: columns padded to their widest cell, a rule under the header.

    ``styler(column, value, padded)`` may colour a body cell after it is padded.
    """
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def fmt(cells: Sequence[str], style: bool) -> str:
        parts = []
        for i, cell in enumerate(cells):
            padded = cell.ljust(widths[i]) if i < len(cells) - 1 else cell
            parts.append(styler(i, cell, padded) if style and styler else padded)
        return "  ".join(parts).rstrip()

    lines = [fmt(headers, False), "  ".join("-" * w for w in widths)]
    lines.extend(fmt(row, True) for row in rows)
    return "\n".join(lines)


def _json_default(value: object) -> object:
    import datetime

    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)
