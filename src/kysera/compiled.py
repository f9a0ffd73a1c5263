"""What ``.compile()`` returns: the statements one builder becomes on one engine."""

from __future__ import annotations

from .nodes import CompiledStatement

__all__ = ["CompiledQuery", "CompiledStatement", "script_statement"]


class CompiledQuery(list[CompiledStatement]):
    """A list of :class:`CompiledStatement`; ``str()`` gives the SQL script a human would read
    (values written in), ``.sql`` and ``.params`` what the driver gets (values bound)."""

    @property
    def sql(self) -> str:
        """The statements as the driver gets them, with placeholders where values are bound
        (the same as ``str()`` for DDL, whose values are always literals)."""
        return "\n".join(f"{statement.sql};" for statement in self)

    @property
    def params(self) -> tuple[object, ...]:
        """The bound values of all the statements, in order (empty for DDL)."""
        return tuple(value for statement in self for value in statement.params)

    def __str__(self) -> str:
        return "\n".join(script_statement(statement) for statement in self)


def script_statement(statement: object, mysql_client: bool = False) -> str:
    """``statement`` as a line of an SQL script: its text and ``;``. For the ``mysql``/``mariadb``
    client (``mysql_client``), a statement with a ``;`` of its own (a routine's or a trigger's
    ``BEGIN ... END`` body) goes between ``DELIMITER`` lines, or the client would cut it there."""
    text = str(statement)
    if mysql_client and ";" in text:
        mark = next(m for m in ("$$", "//", "@@", "~~") if m not in text)
        return f"DELIMITER {mark}\n{text}{mark}\nDELIMITER ;"
    return f"{text};"
