"""The ``kysera`` command line: ``kysera init``, ``kysera migrate ...``, ``kysera db ...``.

Built on click. Each command imports what it needs inside its function, so ``kysera --help``
loads only click and these modules (see bench/startup.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # at run time __getattr__ imports it on first use
    from .app import cli as cli


def main() -> None:
    import gc

    # Start-up (imports, the config, loading the migration files) makes many objects and no
    # garbage: the cyclic collector would only slow it down. Commands that go on to do real work
    # turn it back on (State.connect, Session); status and --help end first.
    gc.disable()
    import sys

    global _kept
    _kept = []  # this process ends with _exit_now: what commands keep is never freed one by one
    _compile_ahead(sys.argv[1:])
    from .app import cli
    from .common import stop_on_sigterm

    if sys.argv[1:3] != ["migrate", "status"]:
        # a CI job's timeout (SIGTERM) stops the command as Ctrl-C does; status only reads, so
        # ending at once loses nothing there, and importing `signal` is 0.5 ms of its start-up
        stop_on_sigterm()
    try:
        cli(prog_name="kysera")
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            _exit_now(exc.code or 0)
        raise
    except BrokenPipeError:
        # the reader went away (kysera migrate status | head): stop quietly, as other tools do
        import os
        import sys

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(1) from None


#: what commands asked to keep until the process ends (:func:`keep_until_exit`); None unless
#: :func:`main` runs them, as in a test that runs commands in its own process
_kept: list[object] | None = None


def keep_until_exit(*objects: object) -> None:
    """Let ``objects`` live until the process ends. Freeing what a run built (its result holds
    every statement run and their nodes: tens of thousands of objects for a thousand migrations)
    costs ~4 ms that :func:`_exit_now` does not spend. Only when :func:`main` runs the command;
    called in-process (click's ``CliRunner``), objects are freed as usual."""
    if _kept is not None:
        _kept.extend(objects)


#: the commands that load the project's migrations folder (every file)
_LOADING = frozenset({"up", "down", "redo", "reset", "fresh", "status", "resolve", "accept", "mark-applied"})


def _compile_ahead(args: list[str]) -> None:
    """For ``kysera migrate up`` and the other commands that load the migrations folder: start
    compiling its files in a second process before the rest of the command line is imported,
    when many of them need it (a first run, a fresh checkout in CI). Measured on a thousand
    new SQLite migrations: about 50 ms of a 0.95 s run. Only for the plain forms, where the folder
    is the one the default config names; with ``--config`` or ``--env`` the folder loads as
    usual. Quiet: a broken config is reported by the command itself."""
    if len(args) < 2 or args[0] != "migrate" or args[1] not in _LOADING:
        return
    if any(arg.partition("=")[0] in ("--config", "--env", "--help", "-h") for arg in args):
        return
    import os

    try:
        from ..config import load_settings
        from ..migrations.loader import compile_ahead

        compile_ahead(load_settings(None, os.environ.get("KYSERA_ENV") or None).directory)
    except Exception:  # the command reports it, where it reads the config
        return


def __getattr__(name: str) -> object:
    """``from kysera.cli import cli``: the click group (for ``click.testing.CliRunner``), imported
    on first use so that importing this package stays cheap."""
    if name == "cli":
        from .app import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _exit_now(code: int) -> None:
    """End the process without the interpreter's teardown: a final collection over every object,
    then each module, which is a fifth of ``kysera migrate status`` and ~10 ms after applying a
    thousand migrations. A command has closed its connection and files by the time it exits; what
    a normal exit still does that anyone could see is done here: ``atexit`` functions (a
    migration's own, logging's flush) run and the output is flushed. With another thread still
    running (started by a migration), the process exits the usual way, which waits for it."""
    import os
    import sys

    output = sys.modules.get("kysera.cli.output")
    if output is not None:
        try:
            output.end_all_progress()
        except OSError:  # the reader went away: what is left cannot be shown
            pass
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        raise SystemExit(code)
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
