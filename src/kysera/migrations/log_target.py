"""What the runner's ``logger=`` option accepts, turned into a :class:`logging.Logger`.

- a :class:`logging.Logger` or :class:`logging.LoggerAdapter`: used as it is, never configured;
- an object with ``info``, ``warning`` and ``error`` methods that take one message (structlog's
  and loguru's loggers, a console-like object, whose ``warn`` stands for ``warning`` as in the
  guide's ``logger: console``): each message goes to the method of its level, already formatted
  (``debug`` too, when the object has one);
- a function of one string, such as ``print``: it gets every message from INFO up;
- a text stream, such as ``sys.stderr`` or an open file: one line per message from INFO up.

The runner itself only ever talks to a :class:`logging.Logger`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol, TextIO, runtime_checkable

from ..errors import ConfigurationError

Logger = logging.Logger | logging.LoggerAdapter[logging.Logger]


@runtime_checkable
class LoggerLike(Protocol):
    """Any object with these methods, each called with one formatted message."""

    def info(self, message: str, /) -> object: ...

    def warning(self, message: str, /) -> object: ...

    def error(self, message: str, /) -> object: ...


@runtime_checkable
class ConsoleLike(Protocol):
    """The same with ``warn`` for ``warning``, as JavaScript's ``console`` has it."""

    def info(self, message: str, /) -> object: ...

    def warn(self, message: str, /) -> object: ...

    def error(self, message: str, /) -> object: ...


LogTarget = Logger | LoggerLike | ConsoleLike | Callable[[str], object] | TextIO

_METHODS = {logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warning", logging.ERROR: "error"}


class _Forward(logging.Handler):
    """Hands each record's message to the method of its level (or to the function the user gave)."""

    def __init__(self, target: object) -> None:
        super().__init__()
        self.calls: dict[int, Callable[[str], object]] = {}
        by_method = isinstance(target, LoggerLike | ConsoleLike)
        for level, method in _METHODS.items():
            found = getattr(target, method, None) if by_method else target
            if level == logging.WARNING and by_method and not callable(found):
                found = getattr(target, "warn", None)
            if callable(found):
                self.calls[level] = found

    def emit(self, record: logging.LogRecord) -> None:
        level = max((lv for lv in self.calls if lv <= record.levelno), default=None)
        if level is None:
            return
        try:
            self.calls[level](record.getMessage())
        except Exception:
            self.handleError(record)


def as_logger(target: object, name: str = "kysera.migrations") -> Logger | None:
    """``target`` as a logger the runner can use (None stays None); raises ConfigurationError."""
    if target is None or isinstance(target, logging.Logger | logging.LoggerAdapter):
        return target
    by_method = isinstance(target, LoggerLike | ConsoleLike)
    write = None if by_method else getattr(target, "write", None)
    if callable(write):
        target = _lines_to(write)
    if not by_method and not (callable(target) and _takes_one_message(target)):
        raise ConfigurationError(
            "logger must be a logging.Logger (e.g. logging.getLogger('app')), an object with "
            f"info/warning (or warn)/error methods, a function of one message such as print, or a text stream such as sys.stderr; got {target!r}"
        )
    logger = logging.Logger(name)  # its own: not in logging's registry, never configured globally
    # a function sees what a console would show; a logger object gets debug detail when it has debug()
    forward = _Forward(target)
    has_debug = by_method and logging.DEBUG in forward.calls
    logger.setLevel(logging.DEBUG if has_debug else logging.INFO)
    logger.propagate = False
    logger.addHandler(forward)
    return logger


def _lines_to(write: Callable[[str], object]) -> Callable[[str], object]:
    """A text stream's ``write``, as a function of one message: a line each."""

    def line(message: str) -> object:
        return write(message + "\n")

    return line


def _takes_one_message(function: Callable[..., object]) -> bool:
    import inspect

    try:
        inspect.signature(function).bind("message")
    except TypeError:
        return False
    except ValueError:  # a builtin without a signature: assume it can
        return True
    return True
