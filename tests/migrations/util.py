"""Helpers shared by the migration tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

from kysera import Database
from kysera.dialects.catalog import list_tables
from kysera.migrations import Migration


def table_migration(name: str, table: str, *, down: bool = True) -> Migration:
    """A migration that creates ``table`` (id, label) and, with ``down``, drops it."""

    def up_fn(db: Database) -> None:
        (
            db.schema.create_table(table)
            .add_column("id", "integer", lambda col: col.primary_key())
            .add_column("label", "varchar(50)")
            .execute()
        )

    def down_fn(db: Database) -> None:
        db.schema.drop_table(table).execute()

    return Migration(name, up_fn, down_fn if down else None)


def failing_migration(name: str, table: str) -> Migration:
    """Creates ``table``, then runs invalid SQL."""

    def up_fn(db: Database) -> None:
        db.schema.create_table(table).add_column("id", "integer", lambda col: col.primary_key()).execute()
        db.execute("THIS IS NOT VALID SQL")

    return Migration(name, up_fn, lambda db: db.schema.drop_table(table).execute())


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def tables(db: Database) -> list[str]:
    return list_tables(db)


def history_rows(db: Database, table: str = "kysera_migrations") -> list[dict[str, object]]:
    return db.select_from(table).select(["name", "state", "batch", "direction"]).order_by("id").fetch_all()


