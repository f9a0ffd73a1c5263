"""Safe migrations by default: every change is classified before it runs.

    from kysera.safety import analyze
    findings = analyze(statements, db.dialect, LiveFacts(db, 10_000), migration="0042_add_index")
"""

from __future__ import annotations

from .analyzer import SafetyOptions, analyze
from .facts import Facts, LiveFacts, OfflineFacts
from .findings import Category, Finding, Severity
from .rules import RULES, Rule, resolve_codes

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
