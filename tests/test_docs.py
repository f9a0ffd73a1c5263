"""The docs say what the code does."""

from __future__ import annotations

from pathlib import Path

from kysera.safety.rules import markdown_table

DOCS = Path(__file__).parent.parent / "docs"


def test_safety_rule_table_is_generated_from_the_code() -> None:
    assert markdown_table() in (DOCS / "safety.md").read_text()
