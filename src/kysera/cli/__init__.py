"""The ``kysera`` command line: ``kysera init``, ``kysera migrate ...``, ``kysera db ...``.

Built on click. Each command imports what it needs inside its function, so ``kysera --help``
loads only click and these modules (see bench/startup.py).
"""

from __future__ import annotations


def main() -> None:
    import gc

    # Start-up (imports, the config, loading the migration files) makes many objects and no
    # garbage: the cyclic collector would only slow it down. Commands that go on to do real work
    # turn it back on (State.connect, Session); status and --help end first.
    gc.disable()
    from .main import cli

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


def _exit_now(code: int) -> None:
    """End the process without the interpreter's teardown: a final collection over every object,
    then each module, which is a fifth of ``kysera migrate status`` and ~10 ms after applying a
    thousand migrations. A command has closed its connection and files by the time it exits; what
    a normal exit still does that anyone could see is done here: ``atexit`` functions (a
    migration's own, logging's flush) run and the output is flushed. With another thread still
    running (started by a migration), the process exits the usual way, which waits for it."""
    import os
    import sys

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
