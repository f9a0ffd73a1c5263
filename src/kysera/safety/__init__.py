"""Safe migrations by default: every change is classified before it runs.

    from kysera.safety import analyze, LiveFacts
    findings = analyze(statements, db.dialect, LiveFacts(db, 10_000), migration="0042_add_index")

Names load on first use, so code that only needs the rule catalogue stays cheap to import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .analyzer import PlanState, SafetyOptions, analyze
    from .facts import Facts, LiveFacts, OfflineFacts
    from .findings import Category, Finding, Severity
    from .rules import RULES, Rule, resolve_codes

_EXPORTS = {
    "PlanState": "analyzer",
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
    "PlanState",
    "Rule",
    "SafetyOptions",
    "Severity",
    "analyze",
    "resolve_codes",
]


if not TYPE_CHECKING:  # to a type checker, only the names imported above exist
    __getattr__ = lazy_exports(__name__, _EXPORTS, globals())
