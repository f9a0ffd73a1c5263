"""What ``.compile()`` returns: the statements one builder becomes on one engine."""

from __future__ import annotations

from .nodes import CompiledStatement


class CompiledQuery(list[CompiledStatement]):
    """A list of :class:`CompiledStatement`; ``str()`` gives the SQL script a human would read."""

    @property
    def sql(self) -> str:
        return str(self)

    def __str__(self) -> str:
        return "\n".join(f"{statement};" for statement in self)
