"""What the safety analysis reports: findings with a stable code, categories and a severity."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "error": 2}[self.value]


class Category(StrEnum):
    DATA_LOSS = "data-loss"
    BLOCKING = "blocking"
    BREAKS_RUNNING_CODE = "breaks-running-code"
    MAY_FAIL = "may-fail"
    NON_TRANSACTIONAL = "non-transactional"
    REVIEW = "review"


@dataclass(frozen=True)
class Finding:
    """One risk found in one statement of one migration."""

    code: str
    name: str
    categories: tuple[Category, ...]
    severity: Severity
    message: str
    recipe: str = ""
    migration: str | None = None
    table: str | None = None
    statement: str | None = None
    suppressed: bool = False
    extra: dict[str, object] = field(default_factory=dict, compare=False)
    #: safety="auto" runs the safe recipe instead of the statement, so it is no error
    fixed: bool = False
    #: where the statement was written: ``path:line`` in a ``.sql`` migration (None for Python code)
    location: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR and not self.suppressed and not self.fixed

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "name": self.name,
            "categories": [c.value for c in self.categories],
            "severity": self.severity.value,
            "migration": self.migration,
            "table": self.table,
            "statement": self.statement,
            "location": self.location,
            "message": self.message,
            "recipe": self.recipe or None,  # documented as null when there is none, not ""
            "suppressed": self.suppressed,
            "fixed": self.fixed,
        }

    def render(self) -> str:
        """Human text: what, where, why, and the recipe to paste."""
        where = f"{self.migration}: " if self.migration else ""
        # an error that stops nothing is not labelled ERROR: the run goes ahead (the severity is
        # still in to_dict() and --json)
        if self.fixed:
            label, why = "FIXED", f" ({self.severity.value} taken care of: safety=auto runs the safe recipe instead)"
        elif self.suppressed:
            label, why = "ALLOWED", f" ({self.severity.value}, acknowledged)"
        else:
            label, why = self.severity.value.upper(), ""
        lines = [f"{label} {self.code} {self.name}: {where}{self.message}{why}"]
        if self.statement:
            at = f" ({self.location})" if self.location else ""
            lines.append(f"    statement{at}: {_one_line(self.statement)}")
        if self.recipe:
            lines.append("    safe recipe:")
            lines.extend("      " + line for line in self.recipe.strip().splitlines())
        return "\n".join(lines)


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
