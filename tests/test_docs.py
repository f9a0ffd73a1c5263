"""The docs say what the code does."""

from __future__ import annotations

from pathlib import Path

from kysera.safety.rules import markdown_table

DOCS = Path(__file__).parent.parent / "docs"


def test_safety_rule_table_is_generated_from_the_code() -> None:
    assert markdown_table() in (DOCS / "safety.md").read_text()


def test_the_data_migrations_example_runs_on_every_engine(db_url: str) -> None:
    """docs/data-migrations.md's example (joins, INSERT ... SELECT, RETURNING, an upsert) runs
    as written, on SQLite and, with its URL, on PostgreSQL and MariaDB."""
    text = (DOCS / "data-migrations.md").read_text(encoding="utf-8")
    code = text.split("This example runs as it is", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    assert 'connect("sqlite:///:memory:")' in code
    namespace: dict[str, object] = {}
    try:
        exec(code.replace('connect("sqlite:///:memory:")', f"connect({db_url!r})"), namespace)
    finally:
        db = namespace.get("db")
        if db is not None:
            db.close()  # type: ignore[attr-defined]
