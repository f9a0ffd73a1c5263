"""The ``kysera`` command line: ``kysera init``, ``kysera migrate ...``, ``kysera db ...``.

Built on click. Each command imports what it needs inside its function, so ``kysera --help``
loads only click and these modules (see bench/startup.py).
"""

from __future__ import annotations


def main() -> None:
    from .main import cli

    cli(prog_name="kysera")
