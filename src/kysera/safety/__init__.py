"""Safe migrations by default: every change is classified before it runs.

    from kysera.safety import analyze, LiveFacts
    findings = analyze(statements, db.dialect, LiveFacts(db, 10_000), migration="0042_add_index")

Names load on first use, so code that only needs the rule catalogue stays cheap to import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .analyzer import SafetyOptions, analyze
    from .facts import Facts, LiveFacts, OfflineFacts
    from .findings import Category, Finding, Severity
    from .rules import RULES, Rule, resolve_codes

_EXPORTS = {
    "SafetyOptions": "analyzer",
    "analyze": "analyzer",
    "Facts": "facts",
    "LiveFacts": "facts",
    "OfflineFacts": "facts",
    "Category": "findings",
    "Finding": "findings",
    "Severity": "findings",
    "RULES": "rules",
    "Rule": "rules",
    "resolve_codes": "rules",
}

__all__ = [
    "RULES",
    "Category",
    "Facts",
    "Finding",
    "LiveFacts",
    "OfflineFacts",
    "Rule",
    "SafetyOptions",
    "Severity",
    "analyze",
    "resolve_codes",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'kysera.safety' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"kysera.safety.{module}"), name)
    globals()[name] = value
    return value
