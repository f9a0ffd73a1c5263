"""The shared part of the per-dialect compilers: operation nodes -> :class:`CompiledStatement`.

Each engine subclasses :class:`QueryCompiler` and overrides only what differs (quoting, type
names, placeholders, what ALTER TABLE can do). Values in DDL are rendered as escaped literals;
values in data statements are bound parameters.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import json
import math
import re
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, Protocol

from ..errors import BuilderError, UnsupportedError
from ..nodes import (
    AddColumnNode,
    AddConstraintNode,
    AlterColumnNode,
    AlterTableAction,
    AlterTableNode,
    AndNode,
    BinaryFilterNode,
    CheckConstraintNode,
    ColumnDefinitionNode,
    ColumnRefNode,
    CompiledStatement,
    ConstraintNode,
    CreateIndexNode,
    CreateTableNode,
    DataTypeNode,
    DeleteNode,
    DropColumnNode,
    DropConstraintNode,
    DropDefaultNode,
    DropIndexNode,
    DropNotNullNode,
    DropTableNode,
    Expression,
    FilterNode,
    ForeignKeyConstraintNode,
    IdentifierNode,
    InsertNode,
    LiteralNode,
    OperationNode,
    OrNode,
    PrimaryKeyConstraintNode,
    RawNode,
    ReferencesNode,
    RenameColumnNode,
    RenameTableNode,
    SelectNode,
    SetDataTypeNode,
    SetDefaultNode,
    SetNotNullNode,
    UniqueConstraintNode,
    UpdateNode,
    ValidateConstraintNode,
    ValueNode,
)
from . import raw_text

if TYPE_CHECKING:
    from .base import Dialect, Row


class Reader(Protocol):
    """What compilers may use to look at the live catalog (a connected Database)."""

    def fetch(self, sql: str, params: Sequence[object] = ()) -> list[Row]: ...


class _Param:
    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value


class Writer:
    """Accumulates one statement: text, bound parameters, and a human rendering."""

    def __init__(self, compiler: QueryCompiler, inline: bool) -> None:
        self.compiler = compiler
        #: True inside DDL: values become literals instead of parameters
        self.inline = inline
        self._parts: list[str | _Param] = []

    def text(self, s: str) -> Writer:
        self._parts.append(s)
        return self

    def ident(self, name: str) -> Writer:
        self._parts.append(self.compiler.quote(name))
        return self

    def table(self, node: IdentifierNode) -> Writer:
        self._parts.append(self.compiler.table_name(node))
        return self

    def value(self, value: object) -> Writer:
        if self.inline:
            self._parts.append(self.compiler.literal(value))
        else:
            self._parts.append(_Param(value))
        return self

    def finish(
        self, node: OperationNode | None, *, transactional: bool = True, reads: bool = False
    ) -> CompiledStatement:
        params = tuple(p.value for p in self._parts if isinstance(p, _Param))
        escape = bool(params) and self.compiler.placeholder == "%s"
        sql_parts: list[str] = []
        shown: list[str] = []
        for part in self._parts:
            if isinstance(part, _Param):
                sql_parts.append(self.compiler.placeholder)
                shown.append(self.compiler.literal(part.value))
            else:
                sql_parts.append(part.replace("%", "%%") if escape else part)
                shown.append(part)
        sql = "".join(sql_parts)
        display = "".join(shown)
        return CompiledStatement(
            sql=sql,
            params=params,
            node=node,
            transactional=transactional,
            reads=reads,
            display=display if display != sql else None,
        )


_ALLOWED_OPS = {
    "=", "!=", "<>", "<", "<=", ">", ">=", "like", "not like", "ilike", "not ilike",
    "in", "not in", "is", "is not",
}  # fmt: skip

_TYPE_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_ ]*?)\s*(\(.*\))?\s*$")


class QueryCompiler:
    """Base compiler; engine compilers override the hooks below."""

    dialect_name: ClassVar[str] = ""
    quote_char: ClassVar[str] = '"'
    placeholder: ClassVar[str] = "%s"
    #: portable type name (lower case, without arguments) -> this engine's type
    type_aliases: ClassVar[dict[str, str]] = {}

    def __init__(self, dialect: Dialect, reader: Reader | None = None) -> None:
        self.dialect = dialect
        self.reader = reader

    # ----------------------------------------------------------------- quoting and literals

    def quote(self, name: str) -> str:
        if not isinstance(name, str) or name == "":
            raise BuilderError(f"an identifier must be a non-empty string, got {name!r}")
        if "\x00" in name:
            raise BuilderError(f"an identifier cannot contain a NUL character: {name!r}")
        q = self.quote_char
        return q + name.replace(q, q + q) + q

    def table_name(self, node: IdentifierNode) -> str:
        if node.schema:
            return f"{self.quote(node.schema)}.{self.quote(node.name)}"
        return self.quote(node.name)

    def string_literal(self, value: str) -> str:
        if "\x00" in value:
            raise BuilderError("a string literal cannot contain a NUL character")
        return "'" + value.replace("'", "''") + "'"

    def bytes_literal(self, value: bytes) -> str:
        return "X'" + value.hex() + "'"

    def bool_literal(self, value: bool) -> str:
        return "TRUE" if value else "FALSE"

    def literal(self, value: object) -> str:
        """``value`` as an escaped SQL literal of this engine."""
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return self.bool_literal(value)
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            if math.isnan(value) or math.isinf(value):
                raise BuilderError(f"{value!r} cannot be written as an SQL literal")
            return repr(value)
        if isinstance(value, decimal.Decimal):
            if not value.is_finite():
                raise BuilderError(f"{value!r} cannot be written as an SQL literal")
            return str(value)
        if isinstance(value, str):
            return self.string_literal(value)
        if isinstance(value, bytes | bytearray | memoryview):
            return self.bytes_literal(bytes(value))
        if isinstance(value, _dt.datetime | _dt.date | _dt.time):
            return self.string_literal(value.isoformat(sep=" ") if isinstance(value, _dt.datetime) else value.isoformat())
        if isinstance(value, uuid.UUID):
            return self.string_literal(str(value))
        if isinstance(value, dict | list):
            return self.string_literal(json.dumps(value, separators=(",", ":")))
        raise BuilderError(f"cannot write a {type(value).__name__} as an SQL literal: {value!r}")

    # ----------------------------------------------------------------- entry point

    def compile(self, node: OperationNode) -> list[CompiledStatement]:
        """``node`` as the statement(s) this engine runs, in order."""
        if isinstance(node, RawNode):
            return self.compile_raw_statement(node)
        if isinstance(node, CreateTableNode):
            return self.compile_create_table(node)
        if isinstance(node, DropTableNode):
            return [self.compile_drop_table(node)]
        if isinstance(node, AlterTableNode):
            if not node.actions:
                raise BuilderError(f"alter_table({node.table.name!r}) has no actions")
            return self.compile_alter_table(node)
        if isinstance(node, CreateIndexNode):
            return [self.compile_create_index(node)]
        if isinstance(node, DropIndexNode):
            return [self.compile_drop_index(node)]
        if isinstance(node, SelectNode):
            return [self.compile_select(node)]
        if isinstance(node, InsertNode):
            return [self.compile_insert(node)]
        if isinstance(node, UpdateNode):
            return [self.compile_update(node)]
        if isinstance(node, DeleteNode):
            return [self.compile_delete(node)]
        raise BuilderError(f"cannot compile {type(node).__name__}")

    def unsupported(self, operation: str, alternative: str | None = None) -> UnsupportedError:
        return UnsupportedError(operation, self.dialect.display_name, alternative)

    # ----------------------------------------------------------------- raw

    def compile_raw_statement(self, node: RawNode) -> list[CompiledStatement]:
        texts = raw_text.split_if_plain(node)
        if texts is not None:
            return [
                CompiledStatement(
                    sql=t,
                    node=RawNode((t,)) if len(texts) > 1 else node,
                    transactional=self.raw_is_transactional(t),
                    reads=raw_text.is_read_only(t),
                )
                for t in texts
            ]
        w = Writer(self, inline=False)
        self.write_raw(w, node)
        text = raw_text.plain_text(node)
        return [w.finish(node, transactional=self.raw_is_transactional(text), reads=raw_text.is_read_only(text))]

    def raw_is_transactional(self, text: str) -> bool:
        return True

    def write_raw(self, w: Writer, node: RawNode) -> None:
        for part in node.parts:
            if isinstance(part, str):
                w.text(part)
            elif isinstance(part, RawNode):
                self.write_raw(w, part)
            else:
                self.write_expression(w, part)

    def write_expression(self, w: Writer, expr: Expression) -> None:
        if isinstance(expr, ValueNode):
            w.value(expr.value)
        elif isinstance(expr, LiteralNode):
            w.text(self.literal(expr.value))
        elif isinstance(expr, RawNode):
            self.write_raw(w, expr)
        elif isinstance(expr, ColumnRefNode):
            if expr.table:
                w.table(IdentifierNode.parse(expr.table)).text(".")
            w.text("*" if expr.column == "*" else self.quote(expr.column))
        elif isinstance(expr, IdentifierNode):
            w.table(expr)
        else:  # pragma: no cover - exhaustive
            raise BuilderError(f"cannot compile expression {expr!r}")

    def inline_sql(self, expr: Expression) -> str:
        """An expression rendered as DDL text (values as literals)."""
        w = Writer(self, inline=True)
        self.write_expression(w, expr)
        return w.finish(None).sql

    # ----------------------------------------------------------------- types

    def data_type(self, node: DataTypeNode) -> str:
        if isinstance(node.name, RawNode):
            return self.inline_sql(node.name)
        text = node.name.strip()
        m = _TYPE_RE.match(text)
        if not m:
            raise BuilderError(f"invalid column data type {node.name!r}")
        base = " ".join(m.group(1).lower().split())
        args = m.group(2) or ""
        alias = self.type_aliases.get(base)
        if alias is not None:
            return alias + args if "(" not in alias else alias
        return text

    @staticmethod
    def serial_kind(col: ColumnDefinitionNode) -> str | None:
        """``"serial"`` / ``"bigserial"`` when the column uses a portable auto-numbered type."""
        if isinstance(col.data_type.name, str):
            name = col.data_type.name.strip().lower()
            if name in ("serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"):
                return {"serial4": "serial", "serial8": "bigserial", "serial2": "smallserial"}.get(name, name)
        return None

    # ----------------------------------------------------------------- columns and constraints

    def column_definition(self, col: ColumnDefinitionNode, table: IdentifierNode | None = None) -> str:
        """The text of one column definition, in a fixed clause order."""
        parts: list[str] = []
        if col.if_not_exists:
            parts.append(self.add_column_if_not_exists_keyword())
        parts.append(self.quote(col.name))
        parts.append(self.column_type(col))
        parts.extend(self.column_clauses(col, table))
        return " ".join(p for p in parts if p)

    def add_column_if_not_exists_keyword(self) -> str:
        return "IF NOT EXISTS"

    def column_type(self, col: ColumnDefinitionNode) -> str:
        return self.data_type(col.data_type)

    def column_clauses(self, col: ColumnDefinitionNode, table: IdentifierNode | None) -> list[str]:
        out: list[str] = []
        if col.unsigned:
            out.append(self.unsigned_clause())
        if col.collate:
            out.append(f"COLLATE {self.quote(col.collate)}")
        if col.modify_front is not None:
            out.append(self.inline_sql(col.modify_front))
        if col.generated is not None:
            out.append(f"GENERATED ALWAYS AS ({self.inline_sql(col.generated)})" + (" STORED" if col.stored else self.virtual_keyword()))
        if col.identity is not None:
            out.append(self.identity_clause(col.identity))
        if col.default is not None:
            out.append("DEFAULT " + self.default_sql(col.default))
        if col.not_null:
            out.append("NOT NULL")
        if col.unique:
            out.append("UNIQUE" + (" NULLS NOT DISTINCT" if col.nulls_not_distinct else ""))
            if col.nulls_not_distinct:
                self.require_nulls_not_distinct()
        if col.primary_key:
            out.append("PRIMARY KEY")
        if col.auto_increment:
            out.append(self.auto_increment_clause(col))
        if col.references is not None:
            out.append(self.references_clause(col.references))
        if col.check is not None:
            out.append(f"CHECK ({self.inline_sql(col.check)})")
        if col.comment is not None:
            comment = self.column_comment_clause(col.comment)
            if comment:
                out.append(comment)
        if col.modify_end is not None:
            out.append(self.inline_sql(col.modify_end))
        return out

    def virtual_keyword(self) -> str:
        return ""

    def unsigned_clause(self) -> str:
        raise self.unsupported("unsigned()", "use a check constraint such as check(sql('col >= 0'))")

    def identity_clause(self, kind: str) -> str:
        raise self.unsupported(f"generated {kind} as identity", "use the portable type 'serial'")

    def auto_increment_clause(self, col: ColumnDefinitionNode) -> str:
        return "AUTO_INCREMENT"

    def column_comment_clause(self, comment: str) -> str:
        return ""

    def require_nulls_not_distinct(self) -> None:
        raise self.unsupported("nulls not distinct", "use a partial unique index or a unique expression index")

    def default_sql(self, expr: Expression) -> str:
        return self.inline_sql(expr)

    def references_clause(self, ref: ReferencesNode) -> str:
        cols = ", ".join(self.quote(c) for c in ref.columns)
        out = f"REFERENCES {self.table_name(ref.table)} ({cols})"
        if ref.on_delete:
            out += f" ON DELETE {ref.on_delete.upper()}"
        if ref.on_update:
            out += f" ON UPDATE {ref.on_update.upper()}"
        if ref.deferrable:
            out += " DEFERRABLE" + (" INITIALLY DEFERRED" if ref.initially_deferred else "")
        return out

    def constraint_definition(self, c: ConstraintNode) -> str:
        prefix = f"CONSTRAINT {self.quote(c.name)} " if c.name else ""
        if isinstance(c, PrimaryKeyConstraintNode):
            return prefix + f"PRIMARY KEY ({self.column_list(c.columns)})"
        if isinstance(c, UniqueConstraintNode):
            if c.nulls_not_distinct:
                self.require_nulls_not_distinct()
            nnd = " NULLS NOT DISTINCT" if c.nulls_not_distinct else ""
            return prefix + f"UNIQUE{nnd} ({self.column_list(c.columns)})"
        if isinstance(c, CheckConstraintNode):
            return prefix + f"CHECK ({self.inline_sql(c.expression)})"
        if isinstance(c, ForeignKeyConstraintNode):
            return prefix + f"FOREIGN KEY ({self.column_list(c.columns)}) " + self.references_clause(c.references)
        raise BuilderError(f"unknown constraint {c!r}")  # pragma: no cover

    def column_list(self, columns: Sequence[str]) -> str:
        return ", ".join(self.quote(c) for c in columns)

    # ----------------------------------------------------------------- create / drop table

    def compile_create_table(self, node: CreateTableNode) -> list[CompiledStatement]:
        w = Writer(self, inline=True)
        w.text("CREATE ")
        if node.modify_front is not None:
            w.text(self.inline_sql(node.modify_front) + " ")
        if node.temporary:
            w.text("TEMPORARY ")
        w.text("TABLE ")
        if node.if_not_exists:
            w.text("IF NOT EXISTS ")
        w.table(node.table)
        if node.as_select is not None:
            w.text(" AS ")
            self.write_raw(w, node.as_select)
            return [w.finish(node)]
        if not node.columns and not node.constraints:
            raise BuilderError(f"create_table({node.table.name!r}) has no columns")
        body = [self.column_definition(c, node.table) for c in node.columns]
        body.extend(self.constraint_definition(c) for c in self.table_constraints(node))
        w.text(" (" + ", ".join(body) + ")")
        end = self.create_table_suffix(node)
        if end:
            w.text(" " + end)
        return [w.finish(node), *self.after_create_table(node)]

    def table_constraints(self, node: CreateTableNode) -> Sequence[ConstraintNode]:
        return node.constraints

    def create_table_suffix(self, node: CreateTableNode) -> str:
        return self.inline_sql(node.modify_end) if node.modify_end is not None else ""

    def after_create_table(self, node: CreateTableNode) -> list[CompiledStatement]:
        return []

    def compile_drop_table(self, node: DropTableNode) -> CompiledStatement:
        w = Writer(self, inline=True).text("DROP TABLE ")
        if node.if_exists:
            w.text("IF EXISTS ")
        w.table(node.table)
        if node.cascade:
            w.text(self.drop_table_cascade())
        return w.finish(node)

    def drop_table_cascade(self) -> str:
        raise self.unsupported(
            "drop_table(...).cascade()", "drop the tables or foreign keys that reference it first"
        )

    # ----------------------------------------------------------------- alter table

    def compile_alter_table(self, node: AlterTableNode) -> list[CompiledStatement]:
        """Default: consecutive combinable actions share one ALTER TABLE; renames stand alone."""
        out: list[CompiledStatement] = []
        batch: list[str] = []

        def flush() -> None:
            if batch:
                w = Writer(self, inline=True).text("ALTER TABLE ").table(node.table).text(" " + ", ".join(batch))
                out.append(w.finish(node))
                batch.clear()

        for action in node.actions:
            if self.action_stands_alone(action):
                flush()
                for clause in self.alter_action(node, action):
                    w = Writer(self, inline=True).text("ALTER TABLE ").table(node.table).text(" " + clause)
                    out.append(w.finish(node))
            else:
                batch.extend(self.alter_action(node, action))
        flush()
        return out

    def action_stands_alone(self, action: AlterTableAction) -> bool:
        return isinstance(action, RenameColumnNode | RenameTableNode)

    def alter_action(self, node: AlterTableNode, action: AlterTableAction) -> list[str]:
        if isinstance(action, AddColumnNode):
            return [self.add_column_clause(node, action)]
        if isinstance(action, DropColumnNode):
            return ["DROP COLUMN " + ("IF EXISTS " if action.if_exists else "") + self.quote(action.column)]
        if isinstance(action, RenameColumnNode):
            return [f"RENAME COLUMN {self.quote(action.column)} TO {self.quote(action.new_name)}"]
        if isinstance(action, RenameTableNode):
            return [f"RENAME TO {self.quote(action.new_name)}"]
        if isinstance(action, AlterColumnNode):
            return self.alter_column_clauses(node, action)
        if isinstance(action, AddConstraintNode):
            return ["ADD " + self.constraint_definition(action.constraint) + (" NOT VALID" if action.not_valid else "")]
        if isinstance(action, DropConstraintNode):
            return [self.drop_constraint_clause(node, action)]
        if isinstance(action, ValidateConstraintNode):
            return [f"VALIDATE CONSTRAINT {self.quote(action.name)}"]
        raise BuilderError(f"unknown alter table action {action!r}")  # pragma: no cover

    def add_column_clause(self, node: AlterTableNode, action: AddColumnNode) -> str:
        return "ADD COLUMN " + self.column_definition(action.column, node.table)

    def alter_column_clauses(self, node: AlterTableNode, action: AlterColumnNode) -> list[str]:
        col = self.quote(action.column)
        a = action.alteration
        if isinstance(a, SetDataTypeNode):
            using = f" USING {self.inline_sql(a.using)}" if a.using is not None else ""
            return [f"ALTER COLUMN {col} TYPE {self.data_type(a.data_type)}{using}"]
        if isinstance(a, SetDefaultNode):
            return [f"ALTER COLUMN {col} SET DEFAULT {self.default_sql(a.default)}"]
        if isinstance(a, DropDefaultNode):
            return [f"ALTER COLUMN {col} DROP DEFAULT"]
        if isinstance(a, SetNotNullNode):
            return [f"ALTER COLUMN {col} SET NOT NULL"]
        if isinstance(a, DropNotNullNode):
            return [f"ALTER COLUMN {col} DROP NOT NULL"]
        raise BuilderError(f"unknown column alteration {a!r}")  # pragma: no cover

    def drop_constraint_clause(self, node: AlterTableNode, action: DropConstraintNode) -> str:
        out = "DROP CONSTRAINT " + ("IF EXISTS " if action.if_exists else "") + self.quote(action.name)
        return out + (" CASCADE" if action.cascade else "")

    # ----------------------------------------------------------------- indexes

    def index_column(self, col: str | RawNode, descending: bool) -> str:
        text = self.quote(col) if isinstance(col, str) else "(" + self.inline_sql(col) + ")"
        return text + (" DESC" if descending else "")

    def index_columns(self, node: CreateIndexNode) -> str:
        if not node.columns:
            raise BuilderError(f"create_index({node.name.name!r}) needs .column(...) or .columns([...])")
        return ", ".join(self.index_column(c.column, c.descending) for c in node.columns)

    def compile_create_index(self, node: CreateIndexNode) -> CompiledStatement:
        if node.table is None:
            raise BuilderError(f"create_index({node.name.name!r}) needs .on(table)")
        w = Writer(self, inline=True).text("CREATE ")
        if node.unique:
            w.text("UNIQUE ")
        w.text("INDEX ")
        if node.if_not_exists:
            w.text("IF NOT EXISTS ")
        w.text(self.index_name(node.name, node.table))
        w.text(" ON ").table(node.table)
        if node.using:
            raise self.unsupported(f"index method using({node.using!r})")
        w.text(f" ({self.index_columns(node)})")
        if node.include:
            raise self.unsupported("index include([...])", "add the columns to the index key instead")
        if node.nulls_not_distinct:
            self.require_nulls_not_distinct()
        if node.where is not None:
            w.text(" WHERE " + self.inline_sql(node.where))
        return w.finish(node)

    def index_name(self, name: IdentifierNode, table: IdentifierNode | None) -> str:
        return self.quote(name.name)

    def compile_drop_index(self, node: DropIndexNode) -> CompiledStatement:
        w = Writer(self, inline=True).text("DROP INDEX ")
        if node.if_exists:
            w.text("IF EXISTS ")
        w.text(self.table_name(node.name))
        if node.cascade:
            raise self.unsupported("drop_index(...).cascade()")
        return w.finish(node)

    # ----------------------------------------------------------------- data statements

    def write_filter(self, w: Writer, f: FilterNode) -> None:
        if isinstance(f, RawNode):
            self.write_raw(w, f)
        elif isinstance(f, AndNode | OrNode):
            joiner = " AND " if isinstance(f, AndNode) else " OR "
            w.text("(")
            for i, item in enumerate(f.items):
                if i:
                    w.text(joiner)
                self.write_filter(w, item)
            w.text(")")
        else:
            self.write_binary(w, f)

    def write_binary(self, w: Writer, f: BinaryFilterNode) -> None:
        op = " ".join(f.op.lower().split())
        if op not in _ALLOWED_OPS:
            raise BuilderError(f"unknown operator {f.op!r}; use one of {sorted(_ALLOWED_OPS)}")
        if op in ("ilike", "not ilike"):
            op = self.ilike(op)
        self.write_expression(w, f.left)
        if op in ("in", "not in"):
            items = f.right if isinstance(f.right, tuple) else (f.right,)
            if not items:
                w.text(" IS NULL AND 1 = 0" if op == "in" else " IS NULL OR 1 = 1")
                return
            w.text(f" {op.upper()} (")
            for i, item in enumerate(items):
                if i:
                    w.text(", ")
                self.write_expression(w, item)
            w.text(")")
            return
        if isinstance(f.right, tuple):
            raise BuilderError(f"operator {op!r} takes one value, not a list")
        if op in ("is", "is not") or (isinstance(f.right, ValueNode) and f.right.value is None and op in ("=", "!=", "<>")):
            word = "IS" if op in ("is", "=") else "IS NOT"
            w.text(f" {word} ")
            if isinstance(f.right, ValueNode) and (f.right.value is None or isinstance(f.right.value, bool)):
                w.text(self.literal(f.right.value))  # IS takes NULL/TRUE/FALSE, never a parameter
                return
        else:
            w.text(f" {op.upper()} ")
        self.write_expression(w, f.right)

    def ilike(self, op: str) -> str:
        return op.replace("ilike", "like")

    def compile_select(self, node: SelectNode) -> CompiledStatement:
        w = Writer(self, inline=False).text("SELECT ")
        if not node.selections:
            w.text("*")
        for i, expr in enumerate(node.selections):
            if i:
                w.text(", ")
            self.write_expression(w, expr)
        w.text(" FROM ").table(node.table)
        if node.where is not None:
            w.text(" WHERE ")
            self.write_filter(w, node.where)
        if node.order_by:
            w.text(" ORDER BY ")
            for i, o in enumerate(node.order_by):
                if i:
                    w.text(", ")
                self.write_expression(w, o.expression)
                if o.descending:
                    w.text(" DESC")
        if node.limit is not None:
            w.text(f" LIMIT {int(node.limit)}")
        if node.offset is not None:
            w.text(self.offset_clause(node))
        if node.for_update:
            w.text(self.for_update_clause())
        return w.finish(node, reads=True)

    def offset_clause(self, node: SelectNode) -> str:
        return f" OFFSET {int(node.offset or 0)}"

    def for_update_clause(self) -> str:
        return " FOR UPDATE"

    def compile_insert(self, node: InsertNode) -> CompiledStatement:
        if not node.rows:
            raise BuilderError(f"insert_into({node.table.name!r}) has no values")
        w = Writer(self, inline=False).text(self.insert_keyword(node)).table(node.table)
        w.text(f" ({self.column_list(node.columns)}) VALUES ")
        for i, row in enumerate(node.rows):
            w.text(", (" if i else "(")
            for j, expr in enumerate(row):
                if j:
                    w.text(", ")
                self.write_expression(w, expr)
            w.text(")")
        w.text(self.insert_suffix(node))
        return w.finish(node)

    def insert_keyword(self, node: InsertNode) -> str:
        return "INSERT INTO "

    def insert_suffix(self, node: InsertNode) -> str:
        return " ON CONFLICT DO NOTHING" if node.ignore_conflicts else ""

    def compile_update(self, node: UpdateNode) -> CompiledStatement:
        if not node.assignments:
            raise BuilderError(f"update_table({node.table.name!r}) needs .set({{...}})")
        w = Writer(self, inline=False).text("UPDATE ").table(node.table).text(" SET ")
        for i, (col, expr) in enumerate(node.assignments):
            if i:
                w.text(", ")
            w.ident(col).text(" = ")
            self.write_expression(w, expr)
        if node.where is not None:
            w.text(" WHERE ")
            self.write_filter(w, node.where)
        return w.finish(node)

    def compile_delete(self, node: DeleteNode) -> CompiledStatement:
        w = Writer(self, inline=False).text("DELETE FROM ").table(node.table)
        if node.where is not None:
            w.text(" WHERE ")
            self.write_filter(w, node.where)
        return w.finish(node)
