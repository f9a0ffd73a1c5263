"""The ``kysera`` command line: ``kysera init``, ``kysera migrate ...``, ``kysera db ...``.

Built on click. Each command imports what it needs inside its function, so ``kysera --help``
loads only click and these modules (see bench/startup.py).
"""

from __future__ import annotations

#: set by a read-only command when it is done (``migrate status``): nothing is left to clean up
#: but the interpreter itself, so :func:`main` ends the process at once
read_only_done = False


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
        if read_only_done and (exc.code is None or isinstance(exc.code, int)):
            _exit_now(exc.code or 0)
        raise
    except BrokenPipeError:
        # the reader went away (kysera migrate status | head): stop quietly, as other tools do
        import os
        import sys

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(1) from None


def _exit_now(code: int) -> None:
    """Skip the interpreter's teardown (a final collection over every object, then each module):
    a fifth of ``kysera migrate status``. Only after a command that wrote nothing but its output."""
    import os
    import sys

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
