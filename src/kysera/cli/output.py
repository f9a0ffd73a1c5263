"""What the CLI prints: colour only on a terminal (and never with ``NO_COLOR``), plain tables, JSON.

Results go to stdout, and so do the lines about what a command did (one per migration run, the
summary); notes, warnings and errors go to stderr, so ``kysera migrate up --dry-run > plan.sql``
and ``kysera migrate status --json | jq`` stay clean.
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


#: how long a progress line may wait to be written with the lines that follow it (seconds)
PROGRESS_DELAY = 0.05


class Output:
    """One command's printer."""

    def __init__(self, *, verbose: int = 0, json_mode: bool = False, quiet: bool = False) -> None:
        self.verbose = verbose
        self.json_mode = json_mode
        #: -q: no progress, result lines or notes; warnings, errors, SQL scripts and JSON still
        self.quiet = quiet
        self.color = color_wanted(sys.stdout)
        self.err_color = color_wanted(sys.stderr)
        self._progress: ProgressLines | None = None
        #: stdout's reader went away (``kysera migrate up | head -1``): the command goes on, unheard
        self._stdout_gone = False
        #: the command's JSON document went to stdout (or began to): stdout holds one document only
        self.json_written = False
        #: stdout holds the data itself (``db dump -o -``): the JSON document, success or error, goes to stderr
        self.json_to_stderr = False
        #: a line redrawn in place (``\r``, a backfill's progress) is on stderr, not ended yet
        self._redrawn = False

    def _echo(self, text: str, *, color: bool | None = None, nl: bool = True) -> None:
        """``text`` on stdout; once its reader has gone, nothing (and no error: a closed pipe
        must not stop a run half-way through its migrations)."""
        if self._stdout_gone:
            return
        try:
            click.echo(text, color=color, nl=nl)
        except BrokenPipeError:
            self._stdout_gone = True
            try:  # what Python flushes at exit goes nowhere, instead of failing again
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                os.close(devnull)
            except (OSError, ValueError):
                pass

    # ------------------------------------------------------------------ progress

    def progress(self, text: str) -> None:
        """A progress line on stdout (one per migration run). It is written within
        :data:`PROGRESS_DELAY` seconds, together with the lines that follow it meanwhile,
        rather than at once: a thousand fast migrations make a few writes instead of a thousand
        (each of which wakes whoever reads the output: a terminal, a CI log). Anything else this
        printer writes goes out after the progress lines before it. Suppressed in JSON mode and
        with -q."""
        if self.json_mode or self.quiet:
            return
        lines = self._progress
        if lines is None:
            lines = self._progress = ProgressLines(lambda text: self._echo(text, color=self.color))
        lines.add(text)

    def end_progress(self) -> None:
        """Write the pending progress lines now and stop the thread that writes them."""
        lines, self._progress = self._progress, None
        if lines is not None:
            lines.close()

    def _settle(self) -> None:
        if self._progress is not None:
            self._progress.flush()

    # ------------------------------------------------------------------ styling

    def style(self, text: str, *, err: bool = False, **styles: Any) -> str:
        if not (self.err_color if err else self.color):
            return text
        return click.style(text, **styles)

    # ------------------------------------------------------------------ stdout

    def line(self, text: str = "") -> None:
        """A line about what the command did (stdout): a :meth:`result` line, except with -q."""
        if not self.quiet:
            self.result(text)

    def result(self, text: str = "") -> None:
        """A line of what the command was asked to show (``status``'s table): on stdout also with
        -q, which hides the lines about what a command did. Suppressed in JSON mode."""
        self._settle()
        if not self.json_mode:
            self._echo(text, color=self.color)

    def raw(self, text: str) -> None:
        """Text for stdout whatever the mode (SQL scripts)."""
        self._settle()
        self._echo(text, color=False, nl=not text.endswith("\n"))

    def json(self, payload: object, *, err: bool = False) -> None:
        self._settle()
        import json

        text = json.dumps(payload, indent=2, default=_json_default, ensure_ascii=False)
        if err or self.json_to_stderr:
            click.echo(text, err=True)
        else:
            self.json_written = True
            self._echo(text)

    # ------------------------------------------------------------------ stderr

    def note(self, text: str, *, asked: bool = False) -> None:
        """A remark that is not the result: a fallback taken, a wait, a hint (stderr); not with -q,
        unless it is ``asked`` for (a dry run's findings, which its script's last line points to)."""
        if self.quiet and not asked:
            return
        self._settle()
        click.echo(self.style(text, err=True, dim=True), err=True, color=self.err_color)

    def aside(self, text: str) -> None:
        """A note from another thread (stderr), written at once: it neither waits for nor writes
        the pending progress lines, whose errors belong to the command's own thread. Not with -q."""
        if self.quiet:
            return
        # below a line being redrawn, not glued to its end; the next redraw starts a new line
        click.echo(("\n" if self._redrawn else "") + self.style(text, err=True, dim=True), err=True, color=self.err_color)

    def redraw(self, line: str | None) -> None:
        """A line redrawn in place on a terminal's stderr (a backfill's rows done); ``None`` ends
        it. The progress lines before it are written first, so that none ends up glued to it;
        nothing with -q."""
        if self.quiet:
            return
        self._settle()
        if line is None:
            self._redrawn = False
            click.echo(err=True)
        else:
            self._redrawn = True
            click.echo("\r" + line, err=True, nl=False)

    def warn(self, text: str) -> None:
        self._settle()
        click.echo(self.style("warning: ", err=True, fg="yellow", bold=True) + text, err=True, color=self.err_color)

    def detail(self, text: str) -> None:
        """Shown with ``-v`` only (stderr)."""
        if self.verbose:
            self._settle()
            click.echo(self.style(text, err=True, dim=True), err=True, color=self.err_color)

    def error(self, text: str) -> None:
        self._settle()
        click.echo(self.style("error: ", err=True, fg="red", bold=True) + text, err=True, color=self.err_color)


class ProgressLines:
    """Lines that a thread writes with ``write`` a short while after the first of them arrives
    (:data:`PROGRESS_DELAY`), so that lines produced in quick succession go out in one write.
    Every write happens under one lock, so :meth:`flush` (from the printer's own thread, before
    it writes anything else) keeps the order. A write that fails (the reader went away) is
    raised again, in the printer's thread, by the next :meth:`flush` or :meth:`close`."""

    def __init__(self, write: Callable[[str], None], delay: float | None = None) -> None:
        import threading

        self._write = write
        self._delay = PROGRESS_DELAY if delay is None else delay
        self._lock = threading.Lock()
        self._lines: list[str] = []
        self._due = threading.Event()
        self._stop = threading.Event()  # set (under the lock) when closing
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="kysera-progress", daemon=True)
        self._thread.start()
        _open_progress.append(self)

    def add(self, line: str) -> None:
        self._raise_error()
        with self._lock:
            self._lines.append(line)
            if len(self._lines) == 1:
                self._due.set()

    def flush(self) -> None:
        with self._lock:
            self._write_pending()
        self._raise_error()

    def close(self) -> None:
        if self in _open_progress:
            _open_progress.remove(self)
        with self._lock:
            self._stop.set()
        self._due.set()
        self._thread.join()
        self.flush()

    def _run(self) -> None:
        while True:
            self._due.wait()
            if self._stop.wait(self._delay):  # closing: close() writes what is left
                return
            with self._lock:
                if self._stop.is_set():
                    return
                try:
                    self._write_pending()
                except BaseException as exc:  # handed to the printer's thread
                    self._error = exc
                    return

    def _write_pending(self) -> None:
        self._due.clear()
        lines, self._lines = self._lines, []
        if lines:
            self._write("\n".join(lines))

    def _raise_error(self) -> None:
        error, self._error = self._error, None
        if error is not None:
            raise error


#: the progress writers not closed yet
_open_progress: list[ProgressLines] = []


def end_all_progress() -> None:
    """Write every pending progress line and stop the threads (the process is about to end)."""
    while _open_progress:
        _open_progress[-1].close()


def display_width(text: str) -> int:
    """The columns ``text`` takes on a terminal: a CJK character or an emoji takes two, a
    combining accent (``é`` as ``e`` + U+0301, as macOS spells file names) none. ``len`` counts
    code points, which put the columns after a migration named ``..._用户表`` out of line."""
    if text.isascii():
        return len(text)
    import unicodedata

    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def render_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    styler: Callable[[int, str, str], str] | None = None,
) -> str:
    """A plain-text table: columns padded to their widest cell, a rule under the header.

    ``styler(column, value, padded)`` may colour a body cell after it is padded.
    """
    widths = [display_width(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], display_width(cell))

    def fmt(cells: Sequence[str], style: bool) -> str:
        parts = []
        for i, cell in enumerate(cells):
            padded = cell + " " * (widths[i] - display_width(cell)) if i < len(cells) - 1 else cell
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
