"""The shared part of the per-dialect compilers: operation nodes -> :class:`CompiledStatement`.

Each engine subclasses :class:`QueryCompiler` and overrides only what differs (quoting, type
names, placeholders, what ALTER TABLE can do). Values in DDL are rendered as escaped literals;
values in data statements are bound parameters.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, Protocol

from ..errors import BuilderError, CatalogNeededError, UnsupportedError
from ..nodes import (
    DDL_ALGORITHMS,
    DDL_LOCKS,
    AddColumnNode,
    AddConstraintNode,
    AddEnumValueNode,
    AlterColumnNode,
    AlterSequenceNode,
    AlterTableAction,
    AlterTableNode,
    AlterTypeNode,
    AndNode,
    BinaryFilterNode,
    CheckConstraintNode,
    ColumnDefinitionNode,
    ColumnRefNode,
    CompiledStatement,
    ConstraintNode,
    CreateIndexNode,
    CreateSchemaNode,
    CreateSequenceNode,
    CreateTableNode,
    CreateTypeNode,
    CreateViewNode,
    DataTypeNode,
    DeleteNode,
    DropColumnNode,
    DropConstraintNode,
    DropDefaultNode,
    DropIndexNode,
    DropNotNullNode,
    DropSchemaNode,
    DropSequenceNode,
    DropTableNode,
    DropTypeNode,
    DropViewNode,
    EnumTypeNode,
    Expression,
    FilterNode,
    ForeignKeyConstraintNode,
    IdentifierNode,
    InsertNode,
    LiteralNode,
    ModifyColumnNode,
    OperationNode,
    OrNode,
    PrimaryKeyConstraintNode,
    QueryNode,
    RawNode,
    ReferencesNode,
    RefreshMaterializedViewNode,
    RenameColumnNode,
    RenameConstraintNode,
    RenameEnumValueNode,
    RenameTableNode,
    SelectNode,
    SetDataTypeNode,
    SetDefaultNode,
    SetNotNullNode,
    SetSchemaNode,
    TableCommentNode,
    UniqueConstraintNode,
    UpdateNode,
    ValidateConstraintNode,
    ValueNode,
    replace,
)
from . import raw_text

if TYPE_CHECKING:
    from ..planned_schema import PlannedColumn
    from .base import Dialect, Row
    from .support import EngineKey, Support


class Reader(Protocol):
    """What compilers may use to look at the live catalog (a connected Database)."""

    def fetch(self, sql: str, params: Sequence[object] = ()) -> list[Row]: ...

    def planned_column(self, table: IdentifierNode, column: str) -> PlannedColumn | None:
        """In a dry run: the column as the statements recorded so far would leave it, where they
        touch it (the catalog does not show that yet); None otherwise."""
        ...

    def planned_index_table(self, index: IdentifierNode) -> tuple[bool, IdentifierNode | None]:
        """In a dry run: whether the statements recorded so far create or drop ``index``, and
        its table then (None when they drop it)."""
        ...


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
        #: whether a bound parameter was written (DDL has none: its text is the whole statement)
        self._bound = False

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
            self._parts.append(_Param(self.compiler.bind_value(value)))
            self._bound = True
        return self

    def finish(
        self, node: OperationNode | None, *, transactional: bool = True, reads: bool = False
    ) -> CompiledStatement:
        if not self._bound:  # DDL and most raw SQL: the text is what people read, too
            return CompiledStatement("".join(self._parts), (), node, transactional, reads)  # type: ignore[arg-type]
        parts = self._parts
        compiler = self.compiler
        params = tuple(p.value for p in parts if isinstance(p, _Param))
        escape = compiler.placeholder == "%s"
        placeholder = compiler.placeholder
        sql = "".join(
            placeholder if isinstance(part, _Param) else part.replace("%", "%%") if escape else part
            for part in parts
        )

        def display() -> str:
            # rendered only when shown (a dry run, an error): a data migration's loop of inserts
            # would otherwise write every value as a literal for nobody
            return "".join(compiler.display_value(p.value) if isinstance(p, _Param) else p for p in parts)

        return CompiledStatement(
            sql=sql, params=params, node=node, transactional=transactional, reads=reads, display=display
        )


def _comment_text(text: str) -> str:
    """``text`` made safe inside ``/* ... */``: no ``*/`` to end the comment early, no ``/*`` to
    open a nested one (PostgreSQL nests them)."""
    return text.replace("*/", "* /").replace("/*", "/ *")


_ALLOWED_OPS = {
    "=", "!=", "<>", "<", "<=", ">", ">=", "like", "not like", "ilike", "not ilike",
    "in", "not in", "is", "is not",
}  # fmt: skip

#: (type name as written, id of a compiler's type_aliases) -> the type as that engine writes it
_TYPE_TEXT: dict[tuple[str, int], str] = {}

#: type name (as written) -> its portable auto-numbered kind, or None; grows with the spellings met
_SERIAL_KINDS: dict[str, str | None] = {
    "serial": "serial",
    "serial4": "serial",
    "bigserial": "bigserial",
    "serial8": "bigserial",
    "smallserial": "smallserial",
    "serial2": "smallserial",
}

#: the pieces a column type is written with: words, "quoted" names, numbers, '...' strings (enum
#: labels), ( ) [ ] , . and spaces; a semicolon, a comment or an operator is no part of a type
_TYPE_TOKEN = re.compile(r"""\s+|[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")+"|-?\d+(?:\.\d+)?|'(?:[^'\\]|'')*'|[(),.\[\]]""")
#: the one form a portable alias translates: a name, then at most one list of arguments
_ALIAS_FORM = re.compile(r"([A-Za-z_][A-Za-z0-9_ ]*?)\s*(\([^()]*\))?")


def check_type_text(text: str) -> None:
    """Refuse a type string that is not a type: ``integer[]``, ``timestamp(3) with time zone``,
    ``decimal(10,2) unsigned``, ``enum('a','b')`` and ``public.mood`` pass; ``numeric(1)); DROP
    TABLE x; --``, ``int, DROP COLUMN keep`` and a label with a backslash (an escape on MySQL, not
    elsewhere: use enum_type() for such labels) do not. The builders write a type string into DDL
    as it is."""
    depth = brackets = pos = 0
    first = True
    while pos < len(text):
        m = _TYPE_TOKEN.match(text, pos)
        if m is None:
            break
        token = m.group()
        if first and not (token[0].isalpha() or token[0] in '_"'):
            break
        first = False
        depth += (token == "(") - (token == ")")
        brackets += (token == "[") - (token == "]")
        if depth < 0 or brackets < 0 or (token == "," and depth == 0):
            break  # a comma outside parentheses would end the column and start another clause
        pos = m.end()
    else:
        if not first and depth == 0 and brackets == 0:
            return
    raise BuilderError(
        f"invalid column data type {text!r}: a type is a name with optional arguments, such as 'varchar(255)', "
        "'numeric(10, 2)', 'integer[]' or 'timestamp(3) with time zone'; write anything else with sql(...)"
    )


class QueryCompiler:
    """Base compiler; engine compilers override the hooks below."""

    dialect_name: ClassVar[str] = ""
    quote_char: ClassVar[str] = '"'
    placeholder: ClassVar[str] = "%s"
    #: portable type name (lower case, without arguments) -> this engine's type
    type_aliases: ClassVar[dict[str, str]] = {}
    #: the same name written with arguments -> this engine's type: ``{}`` takes the arguments, a
    #: name without ``{}`` drops them (display widths), None refuses them. A name not listed here
    #: keeps its arguments after its alias, unless the alias has arguments of its own
    type_aliases_with_arguments: ClassVar[dict[str, str | None]] = {}

    #: names this class has quoted (the quoting depends only on the class's quote_char and
    #: name_limit): a migration's names repeat in each statement, and quoting one anew costs
    #: several string copies. Each subclass gets its own (``__init_subclass__``); bounded
    _quoted: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls._quoted = {}

    def __init__(self, dialect: Dialect, reader: Reader | None = None) -> None:
        self.dialect = dialect
        self.reader = reader

    # ----------------------------------------------------------------- quoting and literals

    def quote(self, name: str) -> str:
        known = self._quoted.get(name) if isinstance(name, str) else None
        if known is not None:
            return known
        if not isinstance(name, str) or name == "":
            raise BuilderError(f"an identifier must be a non-empty string, got {name!r}")
        if "\x00" in name:
            raise BuilderError(f"an identifier cannot contain a NUL character: {name!r}")
        if len(name) > self.name_limit[0]:
            self._check_length(name)
        q = self.quote_char
        quoted = q + name.replace(q, q + q) + q
        if len(self._quoted) < 8192:
            self._quoted[name] = quoted
        return quoted

    #: the longest identifier the engine keeps: (characters that surely fit, the limit, its unit)
    name_limit: ClassVar[tuple[int, int, str]] = (1 << 30, 1 << 30, "characters")

    def _check_length(self, name: str) -> None:
        _, limit, unit = self.name_limit
        size = len(name.encode("utf-8")) if unit == "bytes" else len(name)
        if size > limit:
            raise BuilderError(
                f"identifier {name[:40]!r}... is {size} {unit} long; {self.dialect.display_name or self.dialect_name} "
                f"keeps at most {limit}" + (" and would silently cut it" if self.dialect_name == "postgres" else "")
                + ": use a shorter name"
            )

    def table_name(self, node: IdentifierNode) -> str:
        if node.schema:
            return f"{self.quote(node.schema)}.{self.quote(node.name)}"
        return self.quote(node.name)

    def string_literal(self, value: str) -> str:
        if "\x00" in value:
            raise BuilderError("a string literal cannot contain a NUL character")
        return self.quoted_string(value)

    def quoted_string(self, value: str) -> str:
        """``value`` (no NUL in it) as this engine's string literal."""
        return "'" + value.replace("'", "''") + "'"

    def bytes_literal(self, value: bytes) -> str:
        return "X'" + value.hex() + "'"

    def bool_literal(self, value: bool) -> str:
        return "TRUE" if value else "FALSE"

    def display_value(self, value: object) -> str:
        """A bound value as a human reads it in a dry run; values no literal can spell stay bound,
        shown in a comment that the value cannot end (nor, PostgreSQL nesting them, open another)."""
        try:
            return self.literal(value)
        except BuilderError:
            return f"/* bound: {_comment_text(repr(value))} */"

    def bind_value(self, value: object) -> object:
        """``value`` as the driver is given it: a dict or a list as JSON text (what the portable
        ``json`` type holds; no driver binds them as they are), anything else as it is."""
        if isinstance(value, dict | list):
            import json

            return json.dumps(value, separators=(",", ":"))
        return value

    def values_note(self, values: Sequence[object]) -> str:
        """The values a statement with the driver's own placeholders is run with, as a trailing
        comment of its dry-run text: ``/* values: 2, 'x' */``."""
        shown = []
        for value in values:
            try:
                shown.append(self.literal(value))
            except BuilderError:
                shown.append(repr(value))
        return f"/* values: {_comment_text(', '.join(shown))} */"

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
        if isinstance(value, str):
            return self.string_literal(value)
        if isinstance(value, bytes | bytearray | memoryview):
            return self.bytes_literal(bytes(value))
        if isinstance(value, _dt.datetime | _dt.date | _dt.time):
            return self.string_literal(value.isoformat(sep=" ") if isinstance(value, _dt.datetime) else value.isoformat())
        # rarer types: their modules load only when such a value shows up
        import decimal
        import uuid

        if isinstance(value, decimal.Decimal):
            if not value.is_finite():
                raise BuilderError(f"{value!r} cannot be written as an SQL literal")
            return format(value, "f")  # never an exponent, which some engines read as a float
        if isinstance(value, uuid.UUID):
            return self.string_literal(str(value))
        if isinstance(value, dict | list):
            import json

            return self.string_literal(json.dumps(value, separators=(",", ":")))
        raise BuilderError(f"cannot write a {type(value).__name__} as an SQL literal: {value!r}")

    # ----------------------------------------------------------------- entry point

    def compile(self, node: OperationNode) -> list[CompiledStatement]:
        """``node`` as the statement(s) this engine runs, in order (none for what it ignores)."""
        # node classes derive from Node directly (none is another's subclass): the order of the
        # checks is only speed, the commonest in a migration first
        if isinstance(node, CreateTableNode):
            return self.compile_create_table(node)
        if isinstance(node, CreateIndexNode):
            return [self.compile_create_index(node)]
        if isinstance(node, RawNode):
            return self.compile_raw_statement(node)
        if isinstance(node, DropTableNode):
            return [self.compile_drop_table(node)]
        if isinstance(node, AlterTableNode):
            if not node.actions:
                raise BuilderError(f"alter_table({node.table.name!r}) has no actions")
            from .alter_folding import fold_column_changes

            return self.compile_alter_table(fold_column_changes(node))
        if isinstance(node, DropIndexNode):
            dropped = self.compile_drop_index(node)
            return [dropped] if dropped is not None else []
        if isinstance(node, CreateViewNode):
            return self.compile_create_view(node)
        if isinstance(node, DropViewNode):
            return [self.compile_drop_view(node)]
        if isinstance(node, RefreshMaterializedViewNode):
            return [self.compile_refresh_materialized_view(node)]
        if isinstance(node, CreateSchemaNode):
            return [self.compile_create_schema(node)]
        if isinstance(node, DropSchemaNode):
            return [self.compile_drop_schema(node)]
        if isinstance(node, CreateTypeNode):
            return self.compile_create_type(node)
        if isinstance(node, AlterTypeNode):
            return self.compile_alter_type(node)
        if isinstance(node, DropTypeNode):
            return self.compile_drop_type(node)
        if isinstance(node, CreateSequenceNode | AlterSequenceNode):
            return [self.compile_sequence(node)]
        if isinstance(node, DropSequenceNode):
            return [self.compile_drop_sequence(node)]
        if isinstance(node, SelectNode):
            return [self.compile_select(node)]
        if isinstance(node, InsertNode):
            return [self.compile_insert(part) for part in self._insert_parts(node)]
        if isinstance(node, UpdateNode):
            return [self.compile_update(node)]
        if isinstance(node, DeleteNode):
            return [self.compile_delete(node)]
        raise BuilderError(f"cannot compile {type(node).__name__}")

    def unsupported(self, operation: str, alternative: str | None = None) -> UnsupportedError:
        return UnsupportedError(operation, self.dialect.display_name, alternative)

    def catalog_needed(self, operation: str, alternative: str) -> CatalogNeededError:
        """``operation`` needs the live catalog, and this compiler has no database to read it from."""
        return CatalogNeededError(f"{operation} without a database connection", self.dialect.display_name, alternative)

    # ----------------------------------------------------------------- engine limits

    @property
    def engine_key(self) -> EngineKey:
        """This engine's column in the support table (MySQL and MariaDB differ)."""
        from . import support  # the table loads when a builder first asks it something

        return support.engine_of(self.dialect)

    def require(self, feature: str, *, value: str | None = None) -> Support:
        """The support table's answer for this engine and version; UnsupportedError when it has none."""
        from . import support

        return support.require(
            feature,
            self.engine_key,
            self.dialect.server_version,
            display=self.dialect.display_name,
            value=value,
        )

    def emits(self, feature: str) -> bool:
        """:meth:`require`, and False when this engine accepts the feature by doing nothing."""
        return self.require(feature).level != "ignored"

    # ----------------------------------------------------------------- raw

    def compile_raw_statement(self, node: RawNode) -> list[CompiledStatement]:
        texts = raw_text.split_if_plain(node, self.dialect.name)
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
        statements = raw_text.split_fragment(node, self.dialect.name)
        out = []
        for one in statements:
            text = raw_text.plain_text(one)
            # DDL cannot take parameters: its values are written as escaped literals
            w = Writer(self, inline=raw_text.is_ddl(text))
            self.write_raw(w, one)
            shown = node if len(statements) == 1 else one
            out.append(w.finish(shown, transactional=self.raw_is_transactional(text), reads=raw_text.is_read_only(text)))
        return out

    def raw_is_transactional(self, text: str) -> bool:
        """False for raw SQL that cannot run inside kysera's transaction: a migration holding one
        runs outside a transaction (its own BEGIN ... COMMIT then delimits what it undoes)."""
        return not raw_text.controls_transaction(text)

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
            w.text("*" if expr.column == "*" else self.column_reference(expr.column))
        elif isinstance(expr, IdentifierNode):
            w.table(expr)
        else:  # pragma: no cover - exhaustive
            raise BuilderError(f"cannot compile expression {expr!r}")

    def column_reference(self, name: str) -> str:
        """A column named in an expression (a filter, a select list, ``db.ref``, ``sql.ref``)."""
        return self.quote(name)

    def inline_sql(self, expr: Expression) -> str:
        """An expression rendered as DDL text (values as literals)."""
        w = Writer(self, inline=True)
        self.write_expression(w, expr)
        return w.finish(None).sql

    def write_query(self, w: Writer, query: QueryNode) -> None:
        """The query of CREATE TABLE ... AS / CREATE VIEW ... AS (values inline in DDL writers)."""
        if isinstance(query, SelectNode):
            self.write_select(w, query)
        else:
            self.write_raw(w, query)

    # ----------------------------------------------------------------- types

    def data_type(self, node: DataTypeNode) -> str:
        if isinstance(node.name, EnumTypeNode):
            self.require("enum_column")
            return self.enum_data_type(node.name)
        if isinstance(node.name, RawNode):
            return self.inline_sql(node.name)
        aliases = self.type_aliases
        known = _TYPE_TEXT.get((node.name, id(aliases)))
        if known is not None:
            return known
        text = node.name.strip()
        check_type_text(text)
        m = _ALIAS_FORM.fullmatch(text)
        if m is not None:
            base = " ".join(m.group(1).lower().split())
            alias = aliases.get(base)
            if alias is not None:
                text = self.alias_with_arguments(node.name, base, alias, m.group(2) or "")
        if len(_TYPE_TEXT) < 4096:  # type names repeat across a project's columns
            _TYPE_TEXT[node.name, id(aliases)] = text
        return text

    def alias_with_arguments(self, written: str, base: str, alias: str, args: str) -> str:
        """This engine's type for the portable name ``base`` written with ``args`` (``"(100)"``)."""
        if not args:
            return alias
        if base in self.type_aliases_with_arguments:
            template = self.type_aliases_with_arguments[base]
        else:
            template = None if "(" in alias else alias + "{}"
        if template is None:
            raise BuilderError(
                f"column type {written!r}: {base!r} becomes {alias!r} on {self.dialect.display_name or self.dialect_name}, "
                "which takes no arguments; write it without them, or use the engine's own type name"
            )
        return template.format(args) if "{}" in template else template

    def enum_data_type(self, node: EnumTypeNode) -> str:
        """A portable enum as a column type: the named type (PostgreSQL)."""
        return self.table_name(node.name)

    def enum_values(self, values: Sequence[str]) -> str:
        return ", ".join(self.string_literal(v) for v in values)

    @staticmethod
    def serial_kind(col: ColumnDefinitionNode) -> str | None:
        """``"serial"`` / ``"bigserial"`` when the column uses a portable auto-numbered type."""
        name = col.data_type.name
        if not isinstance(name, str):
            return None
        kind = _SERIAL_KINDS.get(name)
        if kind is None and name not in _SERIAL_KINDS:
            kind = _SERIAL_KINDS.get(name.strip().lower())
            if len(_SERIAL_KINDS) < 1024:  # type names repeat: remember each spelling's answer
                _SERIAL_KINDS[name] = kind
        return kind

    # ----------------------------------------------------------------- columns and constraints

    def column_definition(self, col: ColumnDefinitionNode, table: IdentifierNode | None = None) -> str:
        """The text of one column definition, in a fixed clause order."""
        parts: list[str] = []
        if col.if_not_exists:
            parts.append(self.add_column_if_not_exists_keyword())
        parts.append(self.quote(col.name))
        parts.append(self.column_type(col))
        parts.extend(self.column_clauses(col, table))
        return " ".join(filter(None, parts))

    def add_column_if_not_exists_keyword(self) -> str:
        self.require("add_column_if_not_exists")
        return "IF NOT EXISTS"

    def column_type(self, col: ColumnDefinitionNode) -> str:
        return self.data_type(col.data_type)

    def column_clauses(self, col: ColumnDefinitionNode, table: IdentifierNode | None) -> list[str]:
        """Clauses after the type, always in this order: unsigned, collate, modify_front,
        generated, identity, default, not null, unique, primary key, auto-increment, comment,
        references, check, modify_end."""
        out: list[str] = []
        if col.default is not None or col.generated is not None or col.identity is not None:
            self.check_value_source(col)  # (most columns have none of them: no call)
        if col.unsigned:
            self.require("unsigned")
            out.append("UNSIGNED")
        if col.collate:
            self.require("collate")
            out.append(f"COLLATE {self.quote(col.collate)}")
        if col.modify_front is not None:
            out.append(self.inline_sql(col.modify_front))
        if col.generated is not None:
            self.require("generated_stored" if col.stored else "generated_virtual")
            keyword = " STORED" if col.stored else self.virtual_keyword()
            out.append(f"GENERATED ALWAYS AS ({self.inline_sql(col.generated)}){keyword}")
        if col.identity is not None:
            self.require("identity")
            out.append(f"GENERATED {col.identity.upper()} AS IDENTITY")
        if col.default is not None:
            out.append("DEFAULT " + self.default_sql(col.default))
        if col.not_null:
            if col.generated is not None:
                self.require("generated_not_null")
            out.append("NOT NULL")
        elif self.says_null(col):
            out.append("NULL")
        if col.unique:
            if col.nulls_not_distinct:
                self.require("nulls_not_distinct")
            out.append("UNIQUE" + (" NULLS NOT DISTINCT" if col.nulls_not_distinct else ""))
        elif col.nulls_not_distinct:
            raise BuilderError(f"nulls_not_distinct() on column {col.name!r} needs unique()")
        if col.primary_key:
            out.append("PRIMARY KEY")
        if col.auto_increment:
            self.require("auto_increment")
            out.append(self.auto_increment_clause(col))
        if col.comment is not None and self.emits("column_comment"):
            out.append(self.column_comment_clause(col.comment))
        if col.references is not None:
            out.append(self.references_clause(col.references))
        if col.check is not None:
            self.require("check")
            out.append(f"CHECK ({self.inline_sql(col.check)})")
        if col.modify_end is not None:
            out.append(self.inline_sql(col.modify_end))
        return out

    def check_value_source(self, col: ColumnDefinitionNode) -> None:
        """A column's value comes from one place: its expression, its numbering or its default.
        Every engine refuses two (MariaDB with a bare syntax error), so say which at compile time."""
        if col.default is None and col.generated is None and col.identity is None:
            return  # a numbering alone, or nothing: most columns (a large plan compiles thousands)
        sources = []
        if col.generated is not None:
            sources.append("generated_always_as(...)")
        if col.identity is not None:
            sources.append(f"generated_{col.identity.replace(' ', '_')}_as_identity()")
        if self.serial_kind(col) is not None:
            sources.append(f"the type {col.data_type.name!r}")
        elif col.auto_increment:
            sources.append("auto_increment()")
        if col.default is not None:
            sources.append("default_to(...)")
        if len(sources) > 1:
            raise BuilderError(
                f"column {col.name!r} takes its value from {' and '.join(sources)}; a column can have only one of them, drop the others"
            )

    def virtual_keyword(self) -> str:
        return ""

    def says_null(self, col: ColumnDefinitionNode) -> bool:
        """Whether a column that may hold NULL says so (``NULL``) rather than leave it implied."""
        return False

    def auto_increment_clause(self, col: ColumnDefinitionNode) -> str:
        return "AUTO_INCREMENT"

    def column_comment_clause(self, comment: str) -> str:
        """An inline column comment (MySQL); "" where comments are separate statements."""
        return ""

    def default_sql(self, expr: Expression) -> str:
        return self.inline_sql(expr)

    def reference_table(self, table: IdentifierNode) -> str:
        return self.table_name(table)

    def references_clause(self, ref: ReferencesNode) -> str:
        if "set default" in (ref.on_delete, ref.on_update):
            self.require("fk_set_default")
        cols = ", ".join(self.quote(c) for c in ref.columns)
        out = f"REFERENCES {self.reference_table(ref.table)} ({cols})"
        if ref.on_delete:
            out += f" ON DELETE {ref.on_delete.upper()}"
        if ref.on_update:
            out += f" ON UPDATE {ref.on_update.upper()}"
        if ref.deferrable:
            self.require("deferrable")
            out += " DEFERRABLE" + (" INITIALLY DEFERRED" if ref.initially_deferred else "")
        return out

    def constraint_definition(self, c: ConstraintNode) -> str:
        prefix = f"CONSTRAINT {self.quote(c.name)} " if c.name else ""
        if isinstance(c, PrimaryKeyConstraintNode | UniqueConstraintNode) and c.using_index is not None:
            self.require("constraint_using_index")
            kind = "PRIMARY KEY" if isinstance(c, PrimaryKeyConstraintNode) else "UNIQUE"
            return prefix + f"{kind} USING INDEX {self.quote(c.using_index)}"
        if isinstance(c, PrimaryKeyConstraintNode):
            return prefix + f"PRIMARY KEY ({self.column_list(c.columns)})"
        if isinstance(c, UniqueConstraintNode):
            if c.nulls_not_distinct:
                self.require("nulls_not_distinct")
            nnd = " NULLS NOT DISTINCT" if c.nulls_not_distinct else ""
            return prefix + f"UNIQUE{nnd} ({self.column_list(c.columns)})"
        if isinstance(c, CheckConstraintNode):
            self.require("check")
            return prefix + f"CHECK ({self.inline_sql(c.expression)})"
        if isinstance(c, ForeignKeyConstraintNode):
            return prefix + f"FOREIGN KEY ({self.column_list(c.columns)}) " + self.references_clause(c.references)
        raise BuilderError(f"unknown constraint {c!r}")  # pragma: no cover

    def column_list(self, columns: Sequence[str]) -> str:
        return ", ".join(self.quote(c) for c in columns)

    # ----------------------------------------------------------------- create / drop table

    def compile_create_table(self, node: CreateTableNode) -> list[CompiledStatement]:
        name = node.table.name
        if node.temporary and node.table.schema:
            self.require("temporary_table_in_schema")
        if node.on_commit is not None:
            self.require("on_commit")
            if not node.temporary:
                raise BuilderError(f"create_table({name!r}).on_commit(...) needs temporary()")
        for col in node.columns:
            if col.if_not_exists:
                raise BuilderError(
                    f"if_not_exists() on column {col.name!r} applies to alter_table(...).add_column; "
                    "use create_table(...).if_not_exists() for the table"
                )
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
            if node.columns or node.constraints:
                raise BuilderError(
                    f"create_table({name!r}).as_(...) takes its columns from the query; "
                    "drop add_column(...) and the constraints, or add them afterwards with alter_table"
                )
        elif not node.columns and not node.constraints:
            raise BuilderError(f"create_table({name!r}) has no columns")
        else:
            self.check_auto_numbering(node.columns, node.constraints)
            body = [self.column_definition(c, node.table) for c in node.columns]
            body.extend(self.constraint_definition(c) for c in self.table_constraints(node))
            w.text(" (" + ", ".join(body) + ")")
        end = self.create_table_suffix(node)
        if end:
            w.text(" " + end)
        if node.as_select is not None:
            w.text(" AS ")
            self.write_query(w, node.as_select)
        return [w.finish(node), *self.after_create_table(node)]

    def check_auto_numbering(
        self, columns: Sequence[ColumnDefinitionNode], constraints: Sequence[ConstraintNode]
    ) -> None:
        """Refuse auto-numbered columns the engine cannot number (see MySQL, SQLite)."""

    def table_constraints(self, node: CreateTableNode) -> Sequence[ConstraintNode]:
        return node.constraints

    def create_table_suffix(self, node: CreateTableNode) -> str:
        parts: list[str] = []
        if node.on_commit is not None:
            parts.append(f"ON COMMIT {node.on_commit.upper()}")
        if node.comment is not None and self.emits("table_comment"):
            parts.append(self.table_comment_clause(node.comment))
        if node.modify_end is not None:
            parts.append(self.inline_sql(node.modify_end))
        return " ".join(filter(None, parts))

    def table_comment_clause(self, comment: str | None) -> str:
        """An inline table comment (MySQL); "" where comments are separate statements."""
        return ""

    def after_create_table(self, node: CreateTableNode) -> list[CompiledStatement]:
        return []

    def compile_drop_table(self, node: DropTableNode) -> CompiledStatement:
        w = Writer(self, inline=True).text("DROP TABLE ")
        if node.if_exists:
            w.text("IF EXISTS ")
        w.table(node.table)
        if node.cascade:
            self.require("drop_table_cascade")
            w.text(" CASCADE")
        return w.finish(node)

    # ----------------------------------------------------------------- alter table

    def compile_alter_table(self, node: AlterTableNode) -> list[CompiledStatement]:
        """Consecutive combinable actions share one ALTER TABLE; renames stand alone.

        Statements after a ``rename_to`` or ``set_schema`` address the table by its new name.
        """
        out: list[CompiledStatement] = []
        batch: list[str] = []
        self._table_now = node.table
        # MySQL's ALGORITHM= / LOCK=: on every ALTER TABLE statement the call compiles to
        options = self.online_options(node)

        def flush() -> None:
            if batch:
                text = " " + ", ".join([*batch, *options])
                w = Writer(self, inline=True).text("ALTER TABLE ").table(self._table_now).text(text)
                out.append(w.finish(node))
                batch.clear()

        from .alter_folding import split_where_columns_meet

        for run in split_where_columns_meet(node.actions):
            flush()  # a change to a column the run before added starts a statement of its own
            for action in run:
                statements = self.alter_statements(node, action)
                if statements is not None:
                    flush()
                    out.extend(statements)
                elif self.action_stands_alone(action):
                    flush()
                    for clause in self.alter_action(node, action):
                        text = " " + ", ".join([clause, *options])
                        w = Writer(self, inline=True).text("ALTER TABLE ").table(self._table_now).text(text)
                        out.append(w.finish(node))
                else:
                    batch.extend(self.alter_action(node, action))
                if isinstance(action, RenameTableNode):
                    flush()
                    self._table_now = IdentifierNode(action.new_name, self._table_now.schema)
                elif isinstance(action, SetSchemaNode):
                    flush()
                    self._table_now = IdentifierNode(self._table_now.name, action.schema)
        flush()
        return out

    def online_options(self, node: AlterTableNode | CreateIndexNode | DropIndexNode) -> list[str]:
        """``["ALGORITHM=INSTANT", "LOCK=NONE"]``: MySQL's online DDL clauses of ``node``, checked
        against the support table; [] when none are given or the engine ignores them."""
        algorithm, lock = node.algorithm, node.lock
        if algorithm is None and lock is None:
            return []
        if algorithm is not None and algorithm not in DDL_ALGORITHMS:
            raise BuilderError(f"unknown ALGORITHM {algorithm!r}; use one of {', '.join(DDL_ALGORITHMS)}")
        if lock is not None and lock not in DDL_LOCKS:
            raise BuilderError(f"unknown LOCK {lock!r}; use one of {', '.join(DDL_LOCKS)}")
        out: list[str] = []
        if algorithm is not None:
            if algorithm == "instant":
                self.require("ddl_algorithm_instant" if isinstance(node, AlterTableNode) else "index_algorithm_instant")
            elif algorithm == "nocopy":
                self.require("ddl_algorithm_nocopy")
            if self.emits("ddl_algorithm"):
                out.append(f"ALGORITHM={algorithm.upper()}")
        if lock is not None:
            if algorithm == "instant" and lock != "default":
                self.require("instant_with_lock")
            if self.emits("ddl_lock"):
                out.append(f"LOCK={lock.upper()}")
        return out

    def current_table(self, node: AlterTableNode) -> IdentifierNode:
        """The table's name at this point of an alter_table (after earlier renames)."""
        now: IdentifierNode | None = getattr(self, "_table_now", None)
        return now or node.table

    def alter_statements(self, node: AlterTableNode, action: AlterTableAction) -> list[CompiledStatement] | None:
        """Whole statements for an action that is not an ALTER TABLE clause here; None otherwise."""
        if isinstance(action, TableCommentNode) and not self.emits("table_comment"):
            return []
        return None

    def action_stands_alone(self, action: AlterTableAction) -> bool:
        return isinstance(action, RenameColumnNode | RenameTableNode | SetSchemaNode | RenameConstraintNode)

    def require_action(self, action: AlterTableAction) -> None:
        """Raise UnsupportedError when this engine cannot do ``action`` (before any SQL is written)."""
        if isinstance(action, DropColumnNode) and action.if_exists:
            self.require("drop_column_if_exists")
        elif isinstance(action, AddColumnNode) and action.column.if_not_exists:
            self.require("add_column_if_not_exists")
        elif isinstance(action, RenameTableNode):
            self.require("rename_table")
        elif isinstance(action, SetSchemaNode):
            self.require("set_schema")
        elif isinstance(action, ModifyColumnNode):
            self.require("modify_column")
        elif (isinstance(action, AddConstraintNode) and action.not_valid) or isinstance(action, ValidateConstraintNode):
            self.require("not_valid")
        elif (
            isinstance(action, AddConstraintNode)
            and isinstance(action.constraint, PrimaryKeyConstraintNode | UniqueConstraintNode)
            and action.constraint.using_index is not None
        ):
            self.require("constraint_using_index")
        elif isinstance(action, DropConstraintNode) and action.cascade:
            self.require("drop_constraint_cascade")
        elif isinstance(action, RenameConstraintNode):
            self.require("rename_constraint")
        elif isinstance(action, TableCommentNode):
            self.require("table_comment")

    def alter_action(self, node: AlterTableNode, action: AlterTableAction) -> list[str]:
        self.require_action(action)
        if isinstance(action, AddColumnNode):
            return [self.add_column_clause(node, action)]
        if isinstance(action, DropColumnNode):
            return ["DROP COLUMN " + ("IF EXISTS " if action.if_exists else "") + self.quote(action.column)]
        if isinstance(action, RenameColumnNode):
            return [f"RENAME COLUMN {self.quote(action.column)} TO {self.quote(action.new_name)}"]
        if isinstance(action, RenameTableNode):
            return [f"RENAME TO {self.rename_target(self.current_table(node), action.new_name)}"]
        if isinstance(action, SetSchemaNode):
            return [self.set_schema_clause(self.current_table(node), action.schema)]
        if isinstance(action, AlterColumnNode):
            return self.alter_column_clauses(node, action)
        if isinstance(action, ModifyColumnNode):
            return [self.modify_column_clause(node, action)]
        if isinstance(action, AddConstraintNode):
            return ["ADD " + self.constraint_definition(action.constraint) + (" NOT VALID" if action.not_valid else "")]
        if isinstance(action, DropConstraintNode):
            return [self.drop_constraint_clause(node, action)]
        if isinstance(action, ValidateConstraintNode):
            return [f"VALIDATE CONSTRAINT {self.quote(action.name)}"]
        if isinstance(action, RenameConstraintNode):
            return [f"RENAME CONSTRAINT {self.quote(action.name)} TO {self.quote(action.new_name)}"]
        if isinstance(action, TableCommentNode):
            return [self.table_comment_clause(action.comment)]
        raise BuilderError(f"unknown alter table action {action!r}")  # pragma: no cover

    def rename_target(self, table: IdentifierNode, new_name: str) -> str:
        """The new name in ``RENAME TO``: unqualified, it stays in the table's schema."""
        return self.quote(new_name)

    def set_schema_clause(self, table: IdentifierNode, schema: str) -> str:
        return f"SET SCHEMA {self.quote(schema)}"

    def add_column_clause(self, node: AlterTableNode, action: AddColumnNode) -> str:
        self.check_auto_numbering([action.column], _added_constraints(node))
        return "ADD COLUMN " + self.column_definition(action.column, node.table)

    def modify_column_clause(self, node: AlterTableNode, action: ModifyColumnNode) -> str:
        self.check_auto_numbering([action.column], _added_constraints(node))
        return "MODIFY COLUMN " + self.column_definition(action.column, node.table)

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
        if isinstance(col, RawNode):
            self.require("expression_index")
            text = "(" + self.inline_sql(col) + ")"
        else:
            text = self.quote(col)
        return text + (" DESC" if descending else "")

    def index_columns(self, node: CreateIndexNode) -> str:
        if not node.columns:
            raise BuilderError(f"create_index({node.name.name!r}) needs .column(...) or .columns([...])")
        return ", ".join(self.index_column(c.column, c.descending) for c in node.columns)

    #: MySQL writes ``USING method`` before ``ON table``; the others after it
    using_before_on: ClassVar[bool] = False

    def index_method(self, method: str) -> str:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", method):
            raise BuilderError(f"invalid index method {method!r}")
        self.require("index_using", value=method)
        return method

    def compile_create_index(self, node: CreateIndexNode) -> CompiledStatement:
        if node.table is None:
            raise BuilderError(f"create_index({node.name.name!r}) needs .on(table)")
        concurrently = node.concurrently and self.require("create_index_concurrently").level == "yes"
        w = Writer(self, inline=True).text("CREATE ")
        if node.unique:
            w.text("UNIQUE ")
        w.text("INDEX ")
        if concurrently:
            w.text("CONCURRENTLY ")
        if node.if_not_exists:
            self.require("create_index_if_not_exists")
            w.text("IF NOT EXISTS ")
        w.text(self.index_name(node.name, node.table))
        using = f" USING {self.index_method(node.using)}" if node.using else ""
        if self.using_before_on:
            w.text(using)
        w.text(" ON " + self.index_table(node.table))
        if not self.using_before_on:
            w.text(using)
        w.text(f" ({self.index_columns(node)})")
        if node.include:
            self.require("index_include")
            w.text(f" INCLUDE ({self.column_list(node.include)})")
        if node.nulls_not_distinct:
            self.require("nulls_not_distinct")
            w.text(" NULLS NOT DISTINCT")
        if node.where is not None:
            self.require("partial_index")
            w.text(" WHERE ")
            self.write_filter(w, node.where)  # values as literals: w is an inline writer
        options = self.online_options(node)
        if options:
            w.text(" " + " ".join(options))
        return w.finish(node, transactional=not concurrently)

    def index_name(self, name: IdentifierNode, table: IdentifierNode | None) -> str:
        """The index's name in CREATE INDEX (it lives in its table's schema)."""
        return self.quote(name.name)

    def index_table(self, table: IdentifierNode) -> str:
        return self.table_name(table)

    def compile_drop_index(self, node: DropIndexNode) -> CompiledStatement | None:
        """The DROP INDEX; None for nothing to drop (MySQL: ``if_exists()`` without ``.on(table)``
        when no table has the index)."""
        concurrently = node.concurrently and self.require("drop_index_concurrently").level == "yes"
        w = Writer(self, inline=True).text("DROP INDEX ")
        if concurrently:
            w.text("CONCURRENTLY ")
        if node.if_exists:
            self.require("drop_index_if_exists")
            w.text("IF EXISTS ")
        schema = node.name.schema or (node.table.schema if node.table else None)
        w.table(IdentifierNode(node.name.name, schema))
        if node.cascade:
            self.require("drop_index_cascade")
            w.text(" CASCADE")
        options = self.online_options(node)
        if options:
            w.text(" " + " ".join(options))
        return w.finish(node, transactional=not concurrently)

    # ----------------------------------------------------------------- views

    def compile_create_view(self, node: CreateViewNode) -> list[CompiledStatement]:
        label = f"create_view({node.name.name!r})"
        if node.query is None:
            raise BuilderError(f"{label} needs .as_(select)")
        self.require("create_view")
        if node.or_replace and node.if_not_exists:
            raise BuilderError(f"{label} takes or_replace() or if_not_exists(), not both")
        if node.materialized:
            self.require("materialized_view")
            if node.or_replace:
                raise BuilderError(
                    f"{label}: a materialized view cannot be replaced in place; "
                    "drop it first with drop_view(name).materialized().if_exists()"
                )
            if node.temporary:
                raise BuilderError(f"{label}: a materialized view cannot be temporary")
        elif node.with_no_data:
            raise BuilderError(f"{label}.with_no_data() needs materialized()")
        if node.temporary:
            self.require("temporary_view")
            if node.name.schema:
                self.require("temporary_table_in_schema")
        if node.if_not_exists and not node.materialized:
            self.require("view_if_not_exists")
        out: list[CompiledStatement] = []
        replace_keyword = ""
        if node.or_replace:
            if self.require("view_or_replace").level == "emulated":
                drop = DropViewNode(node.name, if_exists=True)
                out.append(self.compile_drop_view(drop))
            else:
                replace_keyword = "OR REPLACE "
        w = Writer(self, inline=True).text("CREATE " + replace_keyword)
        if node.temporary:
            w.text("TEMPORARY ")
        if node.materialized:
            w.text("MATERIALIZED ")
        w.text("VIEW ")
        if node.if_not_exists:
            w.text("IF NOT EXISTS ")
        w.table(node.name)
        if node.columns:
            w.text(f" ({self.column_list(node.columns)})")
        w.text(" AS ")
        self.write_query(w, node.query)
        if node.with_no_data:
            w.text(" WITH NO DATA")
        out.append(w.finish(node))
        return out

    def compile_drop_view(self, node: DropViewNode) -> CompiledStatement:
        w = Writer(self, inline=True).text("DROP ")
        if node.materialized:
            self.require("materialized_view")
            w.text("MATERIALIZED ")
        w.text("VIEW ")
        if node.if_exists:
            w.text("IF EXISTS ")
        w.table(node.name)
        if node.cascade:
            self.require("drop_view_cascade")
            w.text(" CASCADE")
        return w.finish(node)

    def compile_refresh_materialized_view(self, node: RefreshMaterializedViewNode) -> CompiledStatement:
        if node.concurrently:
            self.require("refresh_concurrently")
        self.require("materialized_view")
        w = Writer(self, inline=True).text("REFRESH MATERIALIZED VIEW ")
        if node.concurrently:
            if node.with_no_data:
                raise BuilderError(
                    f"refresh_materialized_view({node.name.name!r}) takes concurrently() or with_no_data(), not both"
                )
            w.text("CONCURRENTLY ")
        w.table(node.name)
        if node.with_no_data:
            w.text(" WITH NO DATA")
        return w.finish(node)

    # ----------------------------------------------------------------- schemas

    #: what a schema is called in CREATE/DROP (MySQL: DATABASE)
    schema_keyword: ClassVar[str] = "SCHEMA"

    def compile_create_schema(self, node: CreateSchemaNode) -> CompiledStatement:
        self.require("create_schema")
        w = Writer(self, inline=True).text(f"CREATE {self.schema_keyword} ")
        if node.if_not_exists:
            w.text("IF NOT EXISTS ")
        return w.ident(node.name).finish(node)

    def compile_drop_schema(self, node: DropSchemaNode) -> CompiledStatement:
        if node.cascade:
            self.require("drop_schema_cascade")
        self.require("create_schema")
        w = Writer(self, inline=True).text(f"DROP {self.schema_keyword} ")
        if node.if_exists:
            w.text("IF EXISTS ")
        w.ident(node.name)
        if node.cascade:
            w.text(self.drop_schema_cascade_keyword())
        return w.finish(node)

    def drop_schema_cascade_keyword(self) -> str:
        return " CASCADE"

    # ----------------------------------------------------------------- types (enums)

    def compile_create_type(self, node: CreateTypeNode) -> list[CompiledStatement]:
        if node.values is None:
            raise BuilderError(f"create_type({node.name.name!r}) needs .as_enum([...])")
        if not self.emits("create_type"):
            return []
        w = Writer(self, inline=True).text("CREATE TYPE ").table(node.name)
        w.text(f" AS ENUM ({self.enum_values(node.values)})")
        stmt = w.finish(node)
        if node.if_not_exists:
            self.require("create_type_if_not_exists")
            # PostgreSQL has no CREATE TYPE IF NOT EXISTS: ignore the duplicate in a DO block
            body = stmt.sql
            tag = "$kysera$"
            while tag in body:
                tag = tag[:-1] + "_$"
            sql_text = f"DO {tag} BEGIN {body}; EXCEPTION WHEN duplicate_object THEN NULL; END {tag}"
            stmt = CompiledStatement(sql=sql_text, node=node)
        return [stmt]

    def compile_alter_type(self, node: AlterTypeNode) -> list[CompiledStatement]:
        if not node.actions:
            raise BuilderError(f"alter_type({node.name.name!r}) has no actions")
        out: list[CompiledStatement] = []
        name = node.name
        for action in node.actions:
            w = Writer(self, inline=True).text("ALTER TYPE ").table(name)
            if isinstance(action, AddEnumValueNode):
                self.require("alter_type_add_value")
                w.text(" ADD VALUE ")
                if action.if_not_exists:
                    w.text("IF NOT EXISTS ")
                w.text(self.string_literal(action.value))
                if action.before is not None:
                    w.text(" BEFORE " + self.string_literal(action.before))
                elif action.after is not None:
                    w.text(" AFTER " + self.string_literal(action.after))
                out.append(w.finish(node, transactional=self.add_enum_value_is_transactional()))
            elif isinstance(action, RenameEnumValueNode):
                self.require("alter_type_rename_value")
                w.text(f" RENAME VALUE {self.string_literal(action.value)} TO {self.string_literal(action.new_value)}")
                out.append(w.finish(node))
            else:
                if self.emits("alter_type_rename"):
                    out.append(w.text(" RENAME TO " + self.quote(action.new_name)).finish(node))
                name = IdentifierNode(action.new_name, name.schema)
        return out

    def add_enum_value_is_transactional(self) -> bool:
        return True

    def compile_drop_type(self, node: DropTypeNode) -> list[CompiledStatement]:
        if not self.emits("create_type"):
            return []
        w = Writer(self, inline=True).text("DROP TYPE ")
        if node.if_exists:
            w.text("IF EXISTS ")
        w.table(node.name)
        if node.cascade:
            w.text(" CASCADE")
        return [w.finish(node)]

    # ----------------------------------------------------------------- sequences

    #: how this engine writes "no cycle" (MariaDB: NOCYCLE)
    no_cycle_keyword: ClassVar[str] = "NO CYCLE"

    def compile_sequence(self, node: CreateSequenceNode | AlterSequenceNode) -> CompiledStatement:
        if node.options.owned_by is not None:
            self.require("sequence_owned_by")
        self.require("sequence")
        creating = isinstance(node, CreateSequenceNode)
        w = Writer(self, inline=True).text("CREATE SEQUENCE " if creating else "ALTER SEQUENCE ")
        if (node.if_not_exists if isinstance(node, CreateSequenceNode) else node.if_exists):
            w.text("IF NOT EXISTS " if creating else "IF EXISTS ")
        w.table(node.name)
        o = node.options
        clauses: list[str] = []
        if o.increment_by is not None:
            clauses.append(f"INCREMENT BY {int(o.increment_by)}")
        if o.min_value is not None:
            clauses.append(f"MINVALUE {int(o.min_value)}")
        elif o.no_min_value:
            clauses.append("NO MINVALUE")
        if o.max_value is not None:
            clauses.append(f"MAXVALUE {int(o.max_value)}")
        elif o.no_max_value:
            clauses.append("NO MAXVALUE")
        if o.start_with is not None:
            clauses.append(f"START WITH {int(o.start_with)}")
        if o.restart_with is not None:
            clauses.append(f"RESTART WITH {int(o.restart_with)}")
        elif o.restart:
            clauses.append("RESTART")
        if o.cache is not None:
            clauses.append(f"CACHE {int(o.cache)}")
        if o.cycle is not None:
            clauses.append("CYCLE" if o.cycle else self.no_cycle_keyword)
        if o.owned_by is not None:
            if o.owned_by == "none":
                clauses.append("OWNED BY NONE")
            else:
                clauses.append("OWNED BY " + self.inline_sql(o.owned_by))
        if not creating and not clauses:
            raise BuilderError(f"alter_sequence({node.name.name!r}) has no changes")
        if clauses:
            w.text(" " + " ".join(clauses))
        return w.finish(node)

    def compile_drop_sequence(self, node: DropSequenceNode) -> CompiledStatement:
        if node.cascade:
            self.require("drop_sequence_cascade")
        self.require("sequence")
        w = Writer(self, inline=True).text("DROP SEQUENCE ")
        if node.if_exists:
            w.text("IF EXISTS ")
        w.table(node.name)
        if node.cascade:
            w.text(" CASCADE")
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
                if isinstance(item, RawNode):
                    # raw text may hold its own OR: AND binds tighter, so it must stay one term
                    w.text("(")
                    self.write_raw(w, item)
                    w.text(")")
                else:
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
        if op in ("in", "not in") and f.right == ():
            # nothing is IN an empty list and everything is NOT IN it; the column is still
            # written (it must exist), and the whole stays one term next to AND / OR
            w.text("(")
            self.write_expression(w, f.left)
            w.text(" IS NULL AND 1 = 0)" if op == "in" else " IS NULL OR 1 = 1)")
            return
        self.write_expression(w, f.left)
        if op in ("in", "not in"):
            items = f.right if isinstance(f.right, tuple) else (f.right,)
            w.text(f" {op.upper()} (")
            for i, item in enumerate(items):
                if i:
                    w.text(", ")
                self.write_expression(w, item)
            w.text(")")
            return
        if isinstance(f.right, tuple):
            raise BuilderError(f"operator {op!r} takes one value, not a list")
        if isinstance(f.right, ValueNode) and isinstance(f.right.value, list) and isinstance(self.bind_value(f.right.value), str):
            # bound as JSON text: "id = '[1,2]'" matched nothing on SQLite, and id 0 on MySQL
            # (the text read as a number), where "in" was meant
            left = f.left.column if isinstance(f.left, ColumnRefNode) else "column"
            raise BuilderError(
                f"where({left!r}, {f.op!r}, {f.right.value!r}) compares with one value, and {self.dialect.display_name} "
                f"would read the list as JSON text; for any of several values use where({left!r}, 'in', [...]), "
                "for JSON text pass json.dumps(...)"
            )
        if op in ("is", "is not") or (isinstance(f.right, ValueNode) and f.right.value is None and op in ("=", "!=", "<>")):
            word = "IS" if op in ("is", "=") else "IS NOT"
            w.text(f" {word} ")
            if isinstance(f.right, ValueNode) and (f.right.value is None or isinstance(f.right.value, bool)):
                w.text(self.literal(f.right.value))  # IS takes NULL/TRUE/FALSE, never a parameter
                return
            if isinstance(f.right, ValueNode) and op in ("is", "is not"):
                raise BuilderError(
                    f"operator {f.op!r} compares with None, True or False, got {f.right.value!r}; "
                    f"use {'=' if op == 'is' else '!='} to compare with a value"
                )
        else:
            w.text(f" {op.upper()} ")
        self.write_expression(w, f.right)

    def ilike(self, op: str) -> str:
        return op.replace("ilike", "like")

    def compile_select(self, node: SelectNode) -> CompiledStatement:
        w = Writer(self, inline=False)
        self.write_select(w, node)
        return w.finish(node, reads=True)

    def write_select(self, w: Writer, node: SelectNode) -> None:
        w.text("SELECT ")
        if not node.selections:
            w.text("*")
        for i, expr in enumerate(node.selections):
            if i:
                w.text(", ")
            self.write_expression(w, expr)
        w.text(" FROM ").table(node.table)
        if node.alias is not None:
            w.text(" AS ").ident(node.alias)
        for join in node.joins:
            w.text(" INNER JOIN " if join.kind == "inner" else " LEFT JOIN ").table(join.table)
            if join.alias is not None:
                w.text(" AS ").ident(join.alias)
            w.text(" ON ")
            self.write_filter(w, join.on)
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

    def offset_clause(self, node: SelectNode) -> str:
        return f" OFFSET {int(node.offset or 0)}"

    def for_update_clause(self) -> str:
        return " FOR UPDATE"

    #: the most values one statement may bind (PostgreSQL's protocol: 65535); None for no limit
    max_bound_values: ClassVar[int | None] = None
    #: about the most bytes the values of one INSERT may take (MySQL/MariaDB, whose driver writes
    #: them into the statement: past the server's max_allowed_packet it cuts the connection);
    #: None for no limit
    max_values_bytes: ClassVar[int | None] = None

    def _insert_parts(self, node: InsertNode) -> list[InsertNode]:
        """``node`` as INSERTs that each bind at most :attr:`max_bound_values` values and take
        at most about :attr:`max_values_bytes` bytes: many rows at once would otherwise go past
        the engine's limit. They run in one transaction
        (:meth:`~kysera.database.Database.run_compiled`)."""
        limits: list[tuple[int, list[int]]] = []
        if self.max_bound_values is not None:
            # a value is one parameter; sql("{} || {}", a, b) is two, db.ref(...) none
            limits.append((self.max_bound_values, [sum(map(_bound_values, row)) for row in node.rows]))
        if self.max_values_bytes is not None:
            limits.append((self.max_values_bytes, [sum(map(_value_bytes, row)) for row in node.rows]))
        limits = [(limit, sizes) for limit, sizes in limits if sum(sizes) > limit]
        if not limits:
            return [node]
        parts: list[InsertNode] = []
        start = 0
        taken = [0] * len(limits)
        for i in range(len(node.rows)):
            if i > start and any(taken[k] + sizes[i] > limit for k, (limit, sizes) in enumerate(limits)):
                parts.append(replace(node, rows=node.rows[start:i]))
                start, taken = i, [0] * len(limits)
            for k, (_limit, sizes) in enumerate(limits):
                taken[k] += sizes[i]
        parts.append(replace(node, rows=node.rows[start:]))
        return parts

    def compile_insert(self, node: InsertNode) -> CompiledStatement:
        if not node.rows and node.query is None:
            raise BuilderError(
                f"insert_into({node.table.name!r}) has no rows: add .values({{...}}), or "
                ".columns(...).expression(db.select_from(...)) for INSERT ... SELECT"
            )
        w = Writer(self, inline=False).text(self.insert_keyword(node)).table(node.table)
        if node.columns:
            w.text(f" ({self.column_list(node.columns)})")
        if node.query is not None:
            w.text(" ")
            self.write_insert_query(w, node)
        else:
            w.text(" VALUES ")
            for i, row in enumerate(node.rows):
                w.text(", (" if i else "(")
                for j, expr in enumerate(row):
                    if j:
                        w.text(", ")
                    self.write_expression(w, expr)
                w.text(")")
        self.write_conflict_clause(w, node)
        if node.returning and node.ignore_conflicts:
            self.require("returning_with_ignore_conflicts")
        self.write_returning(w, node.returning, "insert_returning")
        return w.finish(node)

    def insert_keyword(self, node: InsertNode) -> str:
        return "INSERT INTO "

    def write_insert_query(self, w: Writer, node: InsertNode) -> None:
        """The query of INSERT ... SELECT."""
        assert node.query is not None
        self.write_query(w, node.query)

    def write_conflict_clause(self, w: Writer, node: InsertNode) -> None:
        """What a duplicate key does: PostgreSQL's and SQLite's ``ON CONFLICT``."""
        if node.on_duplicate_key_update:
            self.require("on_duplicate_key_update")
        if node.ignore_conflicts:
            w.text(" ON CONFLICT DO NOTHING")
        conflict = node.on_conflict
        if conflict is None:
            return
        self.require("on_conflict_constraint" if conflict.constraint is not None else "on_conflict")
        w.text(" ON CONFLICT")
        if conflict.constraint is not None:
            w.text(" ON CONSTRAINT ").ident(conflict.constraint)
        elif conflict.columns:
            w.text(" (" + ", ".join(self.column_reference(c) for c in conflict.columns) + ")")
            if conflict.where is not None:
                # the partial index's predicate, which the engine matches with the index's own
                # text: values as literals (as in CREATE INDEX), a bound one matches no index
                w.text(" WHERE ")
                w.inline, inline = True, w.inline
                try:
                    self.write_filter(w, conflict.where)
                finally:
                    w.inline = inline
        if conflict.updates is None:
            w.text(" DO NOTHING")
            return
        w.text(" DO UPDATE SET ")
        self.write_assignments(w, conflict.updates)
        if conflict.update_where is not None:
            w.text(" WHERE ")
            self.write_filter(w, conflict.update_where)

    def write_assignments(self, w: Writer, assignments: Sequence[tuple[str, Expression]]) -> None:
        """``"a" = value, "b" = value`` of an UPDATE's SET (an upsert's too)."""
        for i, (col, expr) in enumerate(assignments):
            if i:
                w.text(", ")
            w.ident(col).text(" = ")
            self.write_expression(w, expr)

    def write_returning(self, w: Writer, returning: Sequence[Expression], feature: str) -> None:
        """`` RETURNING ...``, where the engine has it for this statement (``feature``)."""
        if not returning:
            return
        self.require(feature)
        w.text(" RETURNING ")
        for i, expr in enumerate(returning):
            if i:
                w.text(", ")
            self.write_expression(w, expr)

    def compile_update(self, node: UpdateNode) -> CompiledStatement:
        if not node.assignments:
            raise BuilderError(f"update_table({node.table.name!r}) needs .set({{...}})")
        w = Writer(self, inline=False).text("UPDATE ").table(node.table).text(" SET ")
        self.write_assignments(w, node.assignments)
        if node.where is not None:
            w.text(" WHERE ")
            self.write_filter(w, node.where)
        self.write_returning(w, node.returning, "update_returning")
        return w.finish(node)

    def compile_delete(self, node: DeleteNode) -> CompiledStatement:
        w = Writer(self, inline=False).text("DELETE FROM ").table(node.table)
        if node.where is not None:
            w.text(" WHERE ")
            self.write_filter(w, node.where)
        self.write_returning(w, node.returning, "delete_returning")
        return w.finish(node)


def _added_constraints(node: AlterTableNode) -> list[ConstraintNode]:
    """The constraints an alter_table call adds (to know whether a new column is a key)."""
    return [a.constraint for a in node.actions if isinstance(a, AddConstraintNode)]


def _value_bytes(expr: Expression) -> int:
    """At most about how many bytes ``expr`` takes written into a statement (escaping may double
    a string's bytes), with the ``, `` after it."""
    if isinstance(expr, ValueNode | LiteralNode):
        value = expr.value
        if isinstance(value, str):
            return 2 * len(value.encode("utf-8", "surrogatepass")) + 4
        if isinstance(value, bytes | bytearray | memoryview):
            return 2 * len(bytes(value)) + 12  # _binary'...'
        if isinstance(value, dict | list):
            import json

            return 2 * len(json.dumps(value, default=str).encode("utf-8", "surrogatepass")) + 4
        return len(str(value)) + 4
    if isinstance(expr, RawNode):
        return sum(_value_bytes(part) if not isinstance(part, str) else len(part.encode("utf-8", "surrogatepass")) for part in expr.parts)
    if isinstance(expr, ColumnRefNode):
        return 2 * (len(expr.column) + len(expr.table or "")) + 8
    return 2 * (len(expr.name) + len(expr.schema or "")) + 8


def _bound_values(expr: Expression) -> int:
    """How many parameters ``expr`` binds in a data statement."""
    if isinstance(expr, ValueNode):
        return 1
    if isinstance(expr, RawNode):
        return sum(_bound_values(part) for part in expr.parts if not isinstance(part, str))
    return 0
