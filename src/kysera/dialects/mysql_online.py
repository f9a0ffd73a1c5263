"""MySQL and MariaDB online DDL: how InnoDB does each change, and the clause that holds it to that.

The one place that decides, per engine and server version, whether InnoDB does a change
**instantly** (only metadata changes), **in place** without blocking writes, in place but
**blocking writes**, or only by **copying** the table. Three users read it:

- the runner (safety ``"error"``, ``"warn"``, ``"auto"``) gives every ``alter_table``,
  ``create_index`` and ``drop_index`` whose ``algorithm``/``lock`` the migration did not set the
  online form this server has for it: ``ALGORITHM=INSTANT`` when every action is instant, else
  ``ALGORITHM=INPLACE, LOCK=NONE`` when every action runs in place without blocking writes, and
  nothing when one of them copies the table or blocks writes (the analysis reports those). A change
  that kysera believes is online then fails on the server instead of silently copying the table;
- the safety analysis words its MySQL findings from the same answers;
- :func:`explain_refusal` turns the server's refusal of such a clause (errors 1845, 1846, 4092)
  into one message that names the table and the fix.

When kysera cannot tell (a type change, ``modify_column``, an expression index, a table with a
FULLTEXT index...), it adds nothing and the server does what it always did.

Sources: the MySQL 8.0 manual, "Online DDL Operations" (INSTANT since 8.0.12: ADD COLUMN last,
defaults, RENAME TABLE; RENAME COLUMN 8.0.28; ADD COLUMN anywhere and DROP COLUMN 8.0.29; only
``LOCK=DEFAULT`` with INSTANT), and the MariaDB knowledge base, "InnoDB Online DDL Operations
with the INSTANT / NOCOPY / INPLACE Alter Algorithm" (INSTANT ADD COLUMN last 10.3.2, anywhere
and DROP COLUMN 10.4), checked against MariaDB 10.11.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Literal

from ..errors import KyseraError
from ..nodes import (
    AddColumnNode,
    AddConstraintNode,
    AlterColumnNode,
    AlterTableAction,
    AlterTableNode,
    CheckConstraintNode,
    ColumnDefinitionNode,
    CompiledStatement,
    CreateIndexNode,
    DropColumnNode,
    DropConstraintNode,
    DropDefaultNode,
    DropIndexNode,
    DropNotNullNode,
    Expression,
    ForeignKeyConstraintNode,
    IdentifierNode,
    LiteralNode,
    OperationNode,
    PrimaryKeyConstraintNode,
    RawNode,
    RenameColumnNode,
    RenameTableNode,
    SetDefaultNode,
    SetNotNullNode,
    SetSchemaNode,
    TableCommentNode,
    UniqueConstraintNode,
    ValueNode,
    replace,
)
from .online import needs_online_clauses
from .raw_text import VOLATILE_CALL

if TYPE_CHECKING:
    from ..database import Database
    from .base import Dialect
    from .compiler import Reader

Engine = Literal["mysql", "mariadb"]
#: instant: metadata only; inplace: in place, reads and writes continue (LOCK=NONE);
#: locking: in place, but writes wait; copy: the table is copied, writes wait (ALGORITHM=COPY)
Method = Literal["instant", "inplace", "locking", "copy"]

#: the first server version with ALGORITHM=INSTANT at all (MySQL: ADD COLUMN as the last column)
_INSTANT: dict[Engine, tuple[int, ...]] = {"mysql": (8, 0, 12), "mariadb": (10, 3, 2)}
#: ADD COLUMN at any position and DROP COLUMN instantly
_INSTANT_ANYWHERE: dict[Engine, tuple[int, ...]] = {"mysql": (8, 0, 29), "mariadb": (10, 4)}
#: RENAME COLUMN instantly
_INSTANT_RENAME_COLUMN: dict[Engine, tuple[int, ...]] = {"mysql": (8, 0, 28), "mariadb": (10, 3, 2)}
#: MySQL 8.0.29+ allows 64 instant ADD/DROP COLUMN per table before a rebuild
_MAX_ROW_VERSIONS = 64

# patterns (case-insensitive) compiled on first use: importing this module stays cheap
_TIME_DEFAULT = (
    r"^\s*\(?\s*(?:current_timestamp|now|localtime|localtimestamp|current_date|current_time|curdate|curtime)"
    r"\s*(?:\(\s*\d*\s*\))?\s*\)?\s*$"
)
_CONSTANT = r"^\s*\(?\s*(?:null|true|false|[-+]?\d+(?:\.\d+)?|'(?:[^']|'')*')\s*\)?\s*$"
_POSITION = r"\b(?:first|after)\b"
#: functions that give the same value for the same arguments: a default made of them and of
#: literals is one value for every row, which MariaDB adds instantly
_DETERMINISTIC = frozenset({
    "json_array", "json_object", "json_quote", "json_compact", "concat", "concat_ws", "lower", "upper",
    "lcase", "ucase", "length", "char_length", "abs", "round", "floor", "ceil", "ceiling", "coalesce",
    "ifnull", "if", "nullif", "greatest", "least", "cast", "convert", "replace", "substring", "substr",
    "left", "right", "trim", "lpad", "rpad", "repeat", "hex", "unhex", "char", "date", "timestamp",
    "str_to_date", "md5", "sha1", "sha2",
})  # fmt: skip
#: words of an expression that are neither a column nor a function call
_EXPRESSION_WORDS = frozenset({
    "null", "true", "false", "and", "or", "not", "is", "in", "case", "when", "then", "else", "end", "as",
    "div", "mod", "xor", "binary", "char", "signed", "unsigned", "integer", "decimal", "interval", "day",
    "hour", "minute", "second", "month", "year", "week", "using", "utf8mb4", "utf8", "latin1",
})  # fmt: skip


def _constant_expression(text: str) -> bool:
    """Whether the expression ``text`` is one value for every row: literals, operators and
    calls of deterministic functions, no column (a backquoted or bare name) and no variable."""
    bare = re.sub(r"'(?:[^'\\]|\\.|'')*'", "''", text)  # strings say nothing about columns
    if "`" in bare or "@" in bare:
        return False
    for m in re.finditer(r"([A-Za-z_][\w$]*)(\s*\()?", bare):
        word = m.group(1).lower()
        if m.group(2) is not None:
            if word not in _DETERMINISTIC:
                return False
        elif word not in _EXPRESSION_WORDS and not re.fullmatch(r"[\d_]+", word):
            return False  # a column
    return True


@dataclass(frozen=True)
class Verdict:
    """How InnoDB does one change: ``method`` None when kysera cannot tell."""

    method: Method | None
    #: LOCK=NONE is accepted with it (MariaDB refuses LOCK=NONE on a table rename)
    lock_none: bool = True


_UNKNOWN = Verdict(None)
_INSTANT_V = Verdict("instant")
_INPLACE_V = Verdict("inplace")
_LOCKING_V = Verdict("locking")
_COPY_V = Verdict("copy")


# ------------------------------------------------------------------------------------------ catalog


class TableFacts:
    """What information_schema says about one table, read lazily, once per question.

    Without a reader (the offline analysis) every answer is "a plain table": not indexed, no
    FULLTEXT index, not compressed. With a reader, an answer it could not read is None.
    """

    def __init__(self, reader: Reader | None, table: IdentifierNode, engine: Engine, version: tuple[int, ...]) -> None:
        self.reader = reader
        self.table = table
        self.engine = engine
        self.version = version

    def _fetch(self, sql: str, params: list[object]) -> list[dict[str, object]] | None:
        if self.reader is None:
            return []
        try:
            return self.reader.fetch(sql, params)
        except KyseraError:
            return None

    def _where(self, schema_column: str, table_column: str) -> tuple[str, list[object]]:
        schema = "%s" if self.table.schema else "DATABASE()"
        params: list[object] = [self.table.schema] if self.table.schema else []
        return f"{schema_column} = {schema} AND {table_column} = %s", [*params, self.table.name]

    @cached_property
    def _indexes(self) -> list[tuple[str, str, str]] | None:
        """(index, column, index type) of every index column of the table."""
        where, params = self._where("TABLE_SCHEMA", "TABLE_NAME")
        rows = self._fetch(
            f"SELECT INDEX_NAME AS i, COLUMN_NAME AS c, INDEX_TYPE AS t FROM information_schema.STATISTICS WHERE {where}",
            params,
        )
        if rows is None:
            return None
        return [(str(r["i"]), str(r["c"] or "").lower(), str(r["t"] or "").upper()) for r in rows]

    @cached_property
    def _options(self) -> tuple[str, str] | None:
        """(ROW_FORMAT, CREATE_OPTIONS), lower case."""
        where, params = self._where("TABLE_SCHEMA", "TABLE_NAME")
        rows = self._fetch(
            f"SELECT ROW_FORMAT AS rf, CREATE_OPTIONS AS co FROM information_schema.TABLES WHERE {where}", params
        )
        if rows is None:
            return None
        if not rows:
            return ("", "")
        return (str(rows[0]["rf"] or "").lower(), str(rows[0]["co"] or "").lower())

    @cached_property
    def _foreign_key_columns(self) -> set[str] | None:
        """Columns of this table that a foreign key uses, on either side."""
        here, params = self._where("TABLE_SCHEMA", "TABLE_NAME")
        there, params2 = self._where("REFERENCED_TABLE_SCHEMA", "REFERENCED_TABLE_NAME")
        rows = self._fetch(
            "SELECT CASE WHEN " + here + " THEN COLUMN_NAME ELSE REFERENCED_COLUMN_NAME END AS c "
            "FROM information_schema.KEY_COLUMN_USAGE WHERE REFERENCED_TABLE_NAME IS NOT NULL "
            f"AND (({here}) OR ({there}))",
            [*params, *params, *params2],
        )
        if rows is None:
            return None
        return {str(r["c"] or "").lower() for r in rows}

    def plain_storage(self) -> bool | None:
        """No FULLTEXT index, not compressed, not partitioned: nothing that rules INSTANT out."""
        indexes, options = self._indexes, self._options
        if indexes is None or options is None:
            return None
        row_format, create_options = options
        return not (
            any(kind == "FULLTEXT" for _, _, kind in indexes)
            or row_format == "compressed"
            or "partitioned" in create_options
        )

    def indexed(self, column: str) -> bool | None:
        if self._indexes is None:
            return None
        return any(c == column.lower() for _, c, _ in self._indexes)

    def in_primary_key(self, column: str) -> bool | None:
        if self._indexes is None:
            return None
        return any(i == "PRIMARY" and c == column.lower() for i, c, _ in self._indexes)

    @cached_property
    def _generated_columns(self) -> set[str] | None:
        """The table's generated columns, lower case."""
        where, params = self._where("TABLE_SCHEMA", "TABLE_NAME")
        rows = self._fetch(
            f"SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE {where} AND GENERATION_EXPRESSION <> ''",
            params,
        )
        return None if rows is None else {str(r["c"]).lower() for r in rows}

    def generated(self, column: str) -> bool | None:
        found = self._generated_columns
        return None if found is None else column.lower() in found

    def in_foreign_key(self, column: str) -> bool | None:
        found = self._foreign_key_columns
        return None if found is None else column.lower() in found

    @cached_property
    def row_versions_left(self) -> bool:
        """MySQL 8.0.29+: False once the table used up its instant ADD/DROP COLUMN versions."""
        if self.engine != "mysql" or self.reader is None or not self.version or not _since(self.engine, self.version, {"mysql": (8, 0, 29)}):
            return True
        schema = "%s" if self.table.schema else "DATABASE()"
        params: list[object] = [self.table.schema] if self.table.schema else []
        rows = self._fetch(
            f"SELECT TOTAL_ROW_VERSIONS AS v FROM information_schema.INNODB_TABLES WHERE NAME = CONCAT({schema}, '/', %s)",
            [*params, self.table.name],
        )
        if not rows:
            return True
        return int(str(rows[0]["v"] or 0)) < _MAX_ROW_VERSIONS

    @cached_property
    def _index_shapes(self) -> dict[str, tuple[bool, list[str]]] | None:
        """index name (lower case) -> (a plain index: not unique, no prefix or expression
        part; its columns in order, lower case)."""
        where, params = self._where("TABLE_SCHEMA", "TABLE_NAME")
        rows = self._fetch(
            "SELECT INDEX_NAME AS i, COLUMN_NAME AS c, NON_UNIQUE AS nu, SUB_PART AS part "
            f"FROM information_schema.STATISTICS WHERE {where} ORDER BY INDEX_NAME, SEQ_IN_INDEX",
            params,
        )
        if rows is None:
            return None
        shapes: dict[str, tuple[bool, list[str]]] = {}
        for r in rows:
            plain = str(r["nu"]) == "1" and r["part"] is None and r["c"] is not None
            was_plain, columns = shapes.get(str(r["i"]).lower(), (True, []))
            columns.append(str(r["c"] or "").lower())
            shapes[str(r["i"]).lower()] = (was_plain and plain, columns)
        return shapes

    @cached_property
    def _foreign_keys(self) -> dict[str, list[str]] | None:
        """foreign key name (lower case) -> its columns in this table, in order, lower case."""
        where, params = self._where("k.TABLE_SCHEMA", "k.TABLE_NAME")
        rows = self._fetch(
            "SELECT k.CONSTRAINT_NAME AS n, k.COLUMN_NAME AS c FROM information_schema.KEY_COLUMN_USAGE k "
            "JOIN information_schema.TABLE_CONSTRAINTS t ON t.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA "
            "AND t.TABLE_NAME = k.TABLE_NAME AND t.CONSTRAINT_NAME = k.CONSTRAINT_NAME "
            f"WHERE t.CONSTRAINT_TYPE = 'FOREIGN KEY' AND {where} ORDER BY k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
            params,
        )
        if rows is None:
            return None
        keys: dict[str, list[str]] = {}
        for r in rows:
            keys.setdefault(str(r["n"]).lower(), []).append(str(r["c"]).lower())
        return keys

    def index_made_for(self, foreign_key: str) -> bool | None:
        """Whether the index named ``foreign_key`` is the one InnoDB made when the foreign key
        of that name was added with no index to use: a plain index over exactly the key's
        columns, that no other foreign key of the table needs. Dropping the key keeps such an
        index, so kysera drops it with the key: a ``down`` that drops the key then gives back
        the schema its ``up`` started from, as on the other engines."""
        shapes, keys = self._index_shapes, self._foreign_keys
        if shapes is None or keys is None:
            return None
        name = foreign_key.lower()
        columns = keys.get(name)
        shape = shapes.get(name)
        if columns is None or shape is None or shape != (True, columns):
            return False
        others = [cols for index, (_, cols) in shapes.items() if index != name]
        # InnoDB refuses to drop an index another foreign key relies on
        return all(
            any(index[: len(cols)] == cols for index in others)
            for key, cols in keys.items()
            if key != name and columns[: len(cols)] == cols
        )

    def constraint_kind(self, name: str) -> str | None:
        """``"FOREIGN KEY"``, ``"PRIMARY KEY"``, ``"UNIQUE"`` or ``"CHECK"``: the kind of the
        table's constraint ``name`` (see :func:`constraint_kind_query`); None when there is none."""
        rows = self._fetch(*constraint_kind_query(self.table, name))
        return str(rows[0]["t"]).upper() if rows else None


def constraint_kind_query(table: IdentifierNode, name: str) -> tuple[str, list[object]]:
    """The query for the kind of ``table``'s constraint ``name`` (one row ``t``, or none).

    MySQL names every primary key PRIMARY; the name given to ``add_primary_key_constraint`` is
    kept as the key's index comment (see :meth:`MysqlCompiler.constraint_definition`), so a
    primary key is also found by that name. A constraint of that name wins over it."""
    schema = "%s" if table.schema else "DATABASE()"
    at: list[object] = [table.schema, table.name] if table.schema else [table.name]
    return (
        "SELECT CONSTRAINT_TYPE AS t, 0 AS o FROM information_schema.TABLE_CONSTRAINTS "
        f"WHERE CONSTRAINT_SCHEMA = {schema} AND TABLE_NAME = %s AND CONSTRAINT_NAME = %s "
        "UNION ALL SELECT 'PRIMARY KEY', 1 FROM information_schema.STATISTICS "
        f"WHERE TABLE_SCHEMA = {schema} AND TABLE_NAME = %s AND INDEX_NAME = 'PRIMARY' AND SEQ_IN_INDEX = 1 "
        "AND INDEX_COMMENT = %s ORDER BY o LIMIT 1",
        [*at, name, *at, name],
    )


# ------------------------------------------------------------------------------------------ verdicts


def _since(engine: Engine, version: tuple[int, ...], table: dict[Engine, tuple[int, ...]]) -> bool:
    """The server is at least the table's version for ``engine`` (an unknown version counts as new)."""
    from .support import too_old  # the support table loads only when a decision is made

    return not too_old(version, table[engine])


def _text(expr: Expression | RawNode | None) -> str:
    if expr is None:
        return ""
    if isinstance(expr, RawNode):
        return "".join(p if isinstance(p, str) else _text(p) if isinstance(p, RawNode) else "?" for p in expr.parts)
    return "?"


def _default_kind(
    expr: Expression | None,
) -> Literal["none", "constant", "time", "volatile", "constant-expression", "expression"]:
    if expr is None:
        return "none"
    if isinstance(expr, ValueNode | LiteralNode):
        return "constant"
    if not isinstance(expr, RawNode):
        return "expression"  # a column reference
    text = _text(expr)
    if re.match(_CONSTANT, text, re.I):
        return "constant"
    if re.match(_TIME_DEFAULT, text, re.I):
        return "time"
    if VOLATILE_CALL.search(text):
        return "volatile"
    if _constant_expression(text):
        return "constant-expression"
    return "expression"


def _add_column(col: ColumnDefinitionNode, engine: Engine, version: tuple[int, ...], facts: TableFacts) -> Verdict:
    kind = col.data_type.name.strip().lower() if isinstance(col.data_type.name, str) else ""
    if col.auto_increment or col.identity or kind in ("serial", "bigserial", "smallserial", "serial4", "serial8", "serial2"):
        return _LOCKING_V  # numbering the existing rows rebuilds the table; writes wait
    if col.generated is not None and col.stored:
        return _COPY_V
    if col.references is not None:
        return _COPY_V  # ADD FOREIGN KEY with foreign_key_checks on: only COPY
    if col.primary_key:
        return _INPLACE_V if engine == "mariadb" else _UNKNOWN
    if col.check is not None and engine == "mysql":
        return _UNKNOWN
    default = _default_kind(col.default)
    if default == "volatile":
        return _COPY_V if engine == "mariadb" else _UNKNOWN
    if default == "expression" or (default in ("time", "constant-expression") and engine == "mysql"):
        return _UNKNOWN  # MySQL adds no expression default instantly; MariaDB: one value for every row it does
    if engine == "mysql" and col.not_null and col.default is None and kind.startswith(("datetime", "timestamp")):
        return _UNKNOWN
    if col.unique:
        return _INPLACE_V  # the new unique index is built in place
    plain = facts.plain_storage()
    if not plain:
        return _UNKNOWN  # FULLTEXT (a hidden FTS_DOC_ID column), compressed or partitioned
    positioned = any(re.search(_POSITION, _text(raw), re.I) for raw in (col.modify_front, col.modify_end) if raw is not None)
    instant = _since(engine, version, _INSTANT_ANYWHERE if positioned else _INSTANT)
    if instant and facts.row_versions_left:
        return _INSTANT_V
    return _INPLACE_V


def _drop_column(column: str, engine: Engine, version: tuple[int, ...], facts: TableFacts) -> Verdict:
    if facts.in_primary_key(column) is not False or facts.in_foreign_key(column) is not False:
        return _UNKNOWN  # the primary key goes with it, or the server refuses anyway
    plain, indexed = facts.plain_storage(), facts.indexed(column)
    if plain is None or indexed is None:
        return _UNKNOWN
    if not plain:
        return _UNKNOWN
    if not indexed and _since(engine, version, _INSTANT_ANYWHERE) and facts.row_versions_left:
        return _INSTANT_V
    return _INPLACE_V  # its indexes change: the table is rebuilt in place, writes continue


def _rename_column(column: str, engine: Engine, version: tuple[int, ...], facts: TableFacts) -> Verdict:
    if engine == "mysql" and facts.in_foreign_key(column) is not False:
        return _UNKNOWN  # MySQL renames a foreign key's column neither instantly nor, always, in place
    return _INSTANT_V if _since(engine, version, _INSTANT_RENAME_COLUMN) else _INPLACE_V


def action_verdict(
    action: AlterTableAction, engine: Engine, version: tuple[int, ...], facts: TableFacts, folded: bool = False
) -> Verdict:
    """How InnoDB does one action of an ALTER TABLE on this engine and version.

    ``folded``: the MySQL compiler writes this column's changes as one MODIFY COLUMN.
    """
    instant_ok = _since(engine, version, _INSTANT)
    if isinstance(action, AddColumnNode):
        return _add_column(action.column, engine, version, facts)
    if isinstance(action, DropColumnNode):
        return _drop_column(action.column, engine, version, facts)
    if isinstance(action, RenameColumnNode):
        return _rename_column(action.column, engine, version, facts)
    if isinstance(action, RenameTableNode | SetSchemaNode):
        return Verdict("instant", lock_none=False) if instant_ok else _UNKNOWN
    if isinstance(action, AlterColumnNode):
        a = action.alteration
        if isinstance(a, SetDefaultNode | DropDefaultNode) and not folded:
            return _INSTANT_V if instant_ok else _INPLACE_V
        if isinstance(a, SetNotNullNode | DropNotNullNode | SetDefaultNode | DropDefaultNode):
            if facts.generated(action.column) is not False:
                return _UNKNOWN  # MODIFY COLUMN of a generated column: how, the server decides
            return _INPLACE_V  # MODIFY COLUMN with the same type: rebuilt in place, writes continue
        return _UNKNOWN  # a type change copies the table unless it only widens a VARCHAR
    if isinstance(action, AddConstraintNode):
        c = action.constraint
        if isinstance(c, ForeignKeyConstraintNode | CheckConstraintNode):
            return _COPY_V  # checking the existing rows needs ALGORITHM=COPY
        if isinstance(c, UniqueConstraintNode):
            return _INPLACE_V
        if isinstance(c, PrimaryKeyConstraintNode):
            return _INPLACE_V if engine == "mariadb" else _UNKNOWN
        return _UNKNOWN
    if isinstance(action, DropConstraintNode):
        kind = facts.constraint_kind(action.name) if facts.reader is not None else None
        if kind == "PRIMARY KEY":
            return _COPY_V
        if kind == "UNIQUE":
            return _INPLACE_V
        if kind == "FOREIGN KEY":
            if engine == "mariadb" and instant_ok and facts.index_made_for(action.name) is False:
                return _INSTANT_V
            return _INPLACE_V  # so is dropping the index InnoDB made for it (see the compiler)
        if kind == "CHECK" and engine == "mariadb":
            return _INSTANT_V if instant_ok else _UNKNOWN
        return _UNKNOWN
    if isinstance(action, TableCommentNode):
        return _INSTANT_V if engine == "mariadb" and instant_ok else _UNKNOWN
    return _UNKNOWN  # modify_column (the whole definition may change), validate/rename constraint


def _folded_columns(node: AlterTableNode) -> set[str]:
    counts: dict[str, int] = {}
    for action in node.actions:
        if isinstance(action, AlterColumnNode):
            counts[action.column] = counts.get(action.column, 0) + 1
    return {name for name, n in counts.items() if n > 1}


def node_verdicts(node: AlterTableNode, dialect: Dialect, reader: Reader | None = None) -> list[Verdict]:
    """The verdict of each action of ``node``, in order."""
    from .support import engine_of

    engine: Engine = "mariadb" if engine_of(dialect) == "mariadb" else "mysql"
    facts = TableFacts(reader, node.table, engine, dialect.server_version)
    folded = _folded_columns(node)
    return [
        action_verdict(a, engine, dialect.server_version, facts, isinstance(a, AlterColumnNode) and a.column in folded)
        for a in node.actions
    ]


def online_form(node: OperationNode, dialect: Dialect, reader: Reader | None) -> tuple[str, str | None] | None:
    """(algorithm, lock) that makes ``node`` fail rather than copy or block: ``("instant", None)``,
    ``("inplace", "none")``, or None when it is not online (or kysera cannot tell)."""
    if isinstance(node, CreateIndexNode):
        if node.table is None or any(isinstance(c.column, RawNode) for c in node.columns):
            return None  # an expression index adds a hidden generated column: left to the server
        return ("inplace", "none")
    if isinstance(node, DropIndexNode):
        return ("inplace", "none")
    if not isinstance(node, AlterTableNode) or not node.actions:
        return None
    verdicts = node_verdicts(node, dialect, reader)
    if any(v.method not in ("instant", "inplace") for v in verdicts):
        return None
    if all(v.method == "instant" for v in verdicts):
        return ("instant", None)  # MySQL takes only LOCK=DEFAULT with INSTANT
    if not all(v.lock_none for v in verdicts):
        return None  # a table rename together with in-place work
    return ("inplace", "none")


def describe(verdict: Verdict, engine_name: str) -> str:
    """The verdict in words, for the safety analysis ("" when kysera cannot tell)."""
    return {
        "instant": f"{engine_name} does this instantly (ALGORITHM=INSTANT: only metadata changes)",
        "inplace": f"{engine_name} does this in place (ALGORITHM=INPLACE, LOCK=NONE): reads and writes continue",
        "locking": f"{engine_name} rebuilds the table in place and blocks writes until it finishes",
        "copy": f"{engine_name} copies the table (ALGORITHM=COPY): writes are blocked until it finishes",
        None: "",
    }[verdict.method]


# ------------------------------------------------------------------------------------------ the runner's hook


class OnlineClauses:
    """``Database.adjuster`` during a migration: gives each DDL node without ``algorithm``/``lock``
    the online form this server has for it (see :func:`online_form`). With ``live=False`` (a
    script written offline) nothing is read: every table counts as a plain one."""

    def __init__(self, db: Database, *, live: bool = True) -> None:
        self.db = db
        self.reader: Reader | None = db if live else None

    def __call__(self, node: OperationNode) -> OperationNode:
        if not isinstance(node, AlterTableNode | CreateIndexNode | DropIndexNode):
            return node
        if node.algorithm is not None or node.lock is not None:
            return node  # the migration's own clauses win
        form = online_form(node, self.db.dialect, self.reader)
        if form is None:
            return node
        algorithm, lock = form
        return replace(node, algorithm=algorithm, lock=lock, online_auto=True)


@contextmanager
def online_clauses(db: Database, safety: str, allow: Collection[str], *, live: bool = True) -> Iterator[None]:
    """While a migration runs (or is compiled into a script, ``live=False``): the automatic
    online clauses on MySQL/MariaDB.

    Nothing with ``safety="off"``, or when the migration acknowledges ``KS213`` (it accepts that
    MySQL copies a table), or on other engines.
    """
    if not needs_online_clauses(db, safety, allow):
        yield
        return
    db.adjuster = OnlineClauses(db, live=live)
    try:
        yield
    finally:
        db.adjuster = None


# ------------------------------------------------------------------------------------------ refusals


class OnlineDdlRefusedError(KyseraError):
    """MySQL/MariaDB refused a change with the ALGORITHM/LOCK it was given: it cannot do it that way."""

    def __init__(self, message: str, *, table: str | None, code: int) -> None:
        self.table = table
        self.code = code
        super().__init__(message)


_TRY = r"Try\s+(ALGORITHM|LOCK)\s*=\s*([A-Za-z/]+)"
_REASON = r"Reason:\s*(.*?)\.?\s*Try\b"
_HOW = {"instant": "instantly", "nocopy": "without copying it", "inplace": "in place", "copy": "by copying it"}
#: ER_ALTER_OPERATION_NOT_SUPPORTED, ..._REASON, ER_INNODB_MAX_ROW_VERSION
_REFUSALS = (1845, 1846, 4092)


def explain_refusal(dialect: Dialect, statement: CompiledStatement, error: BaseException) -> OnlineDdlRefusedError | None:
    """One clear error for a statement with ALGORITHM/LOCK that the server refused; None otherwise."""
    node = statement.node
    if not isinstance(node, AlterTableNode | CreateIndexNode | DropIndexNode) or (node.algorithm is None and node.lock is None):
        return None
    args: tuple[object, ...] = tuple(getattr(error, "args", ()))
    code = args[0] if args and isinstance(args[0], int) else None
    if code not in _REFUSALS or code is None:
        return None
    text = str(args[1]) if len(args) > 1 else ""
    engine = dialect.display_name
    table = node.table.name if node.table is not None else None
    where = f"table `{table}`" if table else "the table"
    asked = ", ".join(
        f"{word}={value.upper()}" for word, value in (("ALGORITHM", node.algorithm), ("LOCK", node.lock)) if value
    )
    found = re.search(_REASON, text, re.I | re.S)
    reason = found.group(1).strip() if found else ""
    if code == 4092:
        reason, suggestion = f"{where} used up its {_MAX_ROW_VERSIONS} instant column changes", ("ALGORITHM", "INPLACE")
    else:
        tried = re.search(_TRY, text, re.I)
        suggestion = (tried.group(1).upper(), tried.group(2).upper()) if tried else ("ALGORITHM", "COPY")
    who = (
        "which kysera added because it expected an online change"
        if node.online_auto
        else "which the migration asked for with .algorithm()/.lock()"
    )
    acknowledge = 'run it in a quiet period with allow_unsafe = ["KS213"]'
    if node.online_auto:
        acknowledge += f" (kysera then adds no ALGORITHM/LOCK clause to the migration and {engine} may copy the table)"
    else:
        acknowledge = "remove .algorithm()/.lock() and " + acknowledge
    online = "or choose an online change (a new column filled by db.backfill, see docs/safety.md)"
    kind, value = suggestion
    because = f": {reason}" if reason else ""
    if kind == "LOCK":
        message = (
            f"{engine} would block writes to {where} to do this (it cannot do it online{because}), "
            f"so it refused {asked}, {who}; {acknowledge}, {online}"
        )
    elif "INPLACE" in value or "NOCOPY" in value:
        message = (
            f"{engine} cannot do this change to {where} {_HOW.get(node.algorithm or '', 'that way')}{because}, "
            f"so it refused {asked}, {who}; "
            'ask for an in-place change that keeps writes going with .algorithm("inplace").lock("none") '
            f"(it may rebuild the table), or {acknowledge}"
        )
    else:
        message = (
            f"{engine} would copy {where} to do this (it cannot do it online{because}), "
            f"so it refused {asked}, {who}; {acknowledge}, {online}"
        )
    return OnlineDdlRefusedError(f"{message} (error {code})", table=table, code=code)
