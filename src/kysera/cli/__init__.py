"""The ``kysera`` command line."""

from __future__ import annotations


def main() -> None:
    import click

    @click.group()
    def cli() -> None:
        """kysera: database schema migrations."""

    cli()
