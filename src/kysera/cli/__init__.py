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

    cli(prog_name="kysera")
