"""MySQL and MariaDB: PyMySQL driver adapter, capabilities and compiler.

DDL commits implicitly on these engines, so a migration cannot be rolled back as a whole.
Changing a column's type or nullability needs ``MODIFY COLUMN`` with the column's whole
definition, which the compiler reads from ``information_schema``.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import (
    BuilderError,
    ConnectionFailedError,
    InvalidUrlError,
    KyseraError,
    MissingDriverError,
    UnsupportedError,
    driver_reason,
)
from ..nodes import (
    AddColumnNode,
    AddConstraintNode,
    AlterColumnNode,
    AlterTableAction,
    AlterTableNode,
    ColumnAlteration,
    ColumnDefinitionNode,
    ColumnRefNode,
    CompiledStatement,
    ConstraintNode,
    CreateTableNode,
    DataTypeNode,
    DropColumnNode,
    DropConstraintNode,
    DropDefaultNode,
    DropIndexNode,
    DropNotNullNode,
    DropSchemaNode,
    EnumTypeNode,
    Expression,
    ForeignKeyConstraintNode,
    IdentifierNode,
    InsertNode,
    ModifyColumnNode,
    PrimaryKeyConstraintNode,
    RawNode,
    RenameColumnNode,
    SelectNode,
    SetDataTypeNode,
    SetDefaultNode,
    SetNotNullNode,
    UniqueConstraintNode,
    UpdateNode,
    replace,
)
from .base import Capabilities, Dialect, DriverConnection, Row
from .compiler import QueryCompiler, Writer
from .raw_text import columns_read
from .session_settings import MYSQL_SESSION_SETUP

if TYPE_CHECKING:
    from ..url import DatabaseUrl
    from .compiler import Reader

#: a TIMESTAMP column's type, as written into its definition
_TIMESTAMP_TYPE = re.compile(r"\s*timestamp\b", re.I)
#: types MySQL gives a default only written as an expression, even a literal one: DEFAULT ('x')
_LOB_TYPE = re.compile(
    r"\s*(?:(?:tiny|medium|long)?(?:text|blob)|json|geometry|point|linestring|polygon|multipoint"
    r"|multilinestring|multipolygon|geometrycollection)\b",
    re.I,
)
_PLAIN_DEFAULT = re.compile(
    r"^\s*(?:current_timestamp|now|localtime|localtimestamp|current_date|current_time)\s*(?:\(\s*\d*\s*\))?\s*$"
    r"|^\s*(?:null|true|false|-?\d+(?:\.\d+)?)\s*$|^\s*'.*'\s*$",
    re.I | re.S,
)


def _connect_hint(code: object, reason: str, url: DatabaseUrl) -> str:
    """How to fix a failed MySQL/MariaDB connection, after its reason."""
    if code == 1045:
        return "; check the user and password in the URL (percent-encode / ? # @ in a password)"
    if code == 1049:
        return f"; create it (CREATE DATABASE `{url.database}`) or fix the database name in the URL"
    if code in (2003, 2006, 2013) or "timed out" in reason:
        return (
            "; is a MySQL/MariaDB server running and listening there? (another kind of server on that port, "
            "such as PostgreSQL's 5432, does not answer a MySQL client)"
        )
    return ""


def _utc_if_aware(value: object) -> object:
    """A datetime with a time zone as the same instant in UTC, without one: MySQL/MariaDB
    datetimes take no offset, and PyMySQL would drop it (storing the wall time of another zone),
    so literals and bound values both write UTC. Anything else as it is."""
    if isinstance(value, _dt.datetime) and value.tzinfo is not None:
        return value.astimezone(_dt.UTC).replace(tzinfo=None)
    return value


#: what PyMySQL binds as what it is (it looks a value's exact type up)
_BOUND_AS_IS = frozenset({type(None), bool, int, float, str, bytes, bytearray, _dt.date, _dt.time, _dt.timedelta})


def _bindable(value: object) -> object:
    """``value`` as PyMySQL binds it faithfully. PyMySQL writes any type it does not know as
    ``str(value)``: a memoryview became ``<memory at 0x...>`` and an enum ``Color.RED`` in the
    table. Those kysera converts (memoryview to bytes, UUID to its text; a Decimal PyMySQL writes
    exactly); what it cannot store faithfully is refused, as PostgreSQL's and SQLite's drivers
    refuse it."""
    kind = value.__class__
    if kind in _BOUND_AS_IS:
        return value
    if kind is _dt.datetime:
        return _utc_if_aware(value)
    if isinstance(value, memoryview):
        return value.tobytes()
    name = (kind.__module__, kind.__name__)  # neither module need be imported to tell
    if name == ("decimal", "Decimal"):
        return value
    if name == ("uuid", "UUID"):
        return str(value)
    if isinstance(value, _dt.datetime):  # a subclass (pendulum, arrow)
        return _utc_if_aware(_dt.datetime.fromisoformat(value.isoformat()))
    raise TypeError(
        f"MySQL/MariaDB cannot store a {kind.__name__} value ({value!r}) as it is; convert it first "
        "(an enum's .value, str(), float(), bytes())"
    )


def _storable_comment(comment: str) -> str:
    """``comment``, refused when MySQL/MariaDB would lose part of it: their data dictionary keeps
    comments in utf8mb3, so a character beyond U+FFFF (an emoji) would be stored as ``?``."""
    lost = next((ch for ch in comment if ord(ch) > 0xFFFF), None)
    if lost is not None:
        raise UnsupportedError(
            f"the character {lost!r} (U+{ord(lost):04X}) in the comment {comment!r}",
            "MySQL/MariaDB",
            "they keep comments in utf8mb3 and would store it as '?': leave such characters out of comments",
        )
    return comment


@dataclass(frozen=True)
class _LiveColumn:
    """A column as information_schema describes it, enough to write MODIFY COLUMN."""

    type: str
    nullable: bool
    default: str | None  # SQL text of the default, or None for no default
    extra: str
    comment: str
    charset: str | None
    collation: str | None
    generated: str | None
    #: MariaDB: the column's own CHECK (json's ``json_valid``), which MODIFY COLUMN drops unless restated
    check: str | None = None


_TEXT_TYPES = re.compile(r"\s*(national\s+)?(var)?char|\s*(tiny|medium|long)?text\b|\s*(enum|set)\s*\(", re.I)


def _keeps_charset(new_type: str) -> bool:
    """Whether a column that becomes ``new_type`` keeps its character set and collation: text
    stays text in the collation it had (only the type was asked to change), unless the new
    type spells its own ``CHARACTER SET`` or ``COLLATE``."""
    lowered = new_type.lower()
    return bool(_TEXT_TYPES.match(new_type)) and "character set" not in lowered and "charset" not in lowered and "collate" not in lowered


def _marker(column: str) -> str:
    """Stands for a column's final definition until the whole ALTER TABLE is compiled."""
    return f"\x00modify:{column}\x00"


class MysqlCompiler(QueryCompiler):
    dialect_name = "mysql"
    quote_char = "`"
    name_limit: ClassVar[tuple[int, int, str]] = (64, 64, "characters")
    placeholder = "%s"
    # PyMySQL writes the values into the statement: a big INSERT went past max_allowed_packet
    # (4 MB on MySQL 5.7, 16 MB on MariaDB) and the server cut the connection ("gone away")
    max_values_bytes = 2 << 20
    #: the columns of a primary key constraint the statement being compiled adds
    _primary_key_columns: frozenset[str] = frozenset()
    type_aliases: ClassVar[dict[str, str]] = {
        "uuid": "char(36)",
        "jsonb": "json",
        "bytea": "longblob",
        "bytes": "longblob",
        "timestamptz": "datetime(6)",
        "double precision": "double",
        "string": "varchar(255)",
        "int4": "int",
        "int8": "bigint",
        "int2": "smallint",
        "float8": "double",
        "float4": "float",
    }
    type_aliases_with_arguments: ClassVar[dict[str, str | None]] = {
        "string": "varchar{}",
        "timestamptz": "datetime{}",
        "bytes": "varbinary{}",
        "bytea": "varbinary{}",
        "uuid": None,
    }

    @property
    def is_mariadb(self) -> bool:
        return "mariadb" in self.dialect.version_text.lower()

    def literal(self, value: object) -> str:
        return super().literal(_utc_if_aware(value))

    def quoted_string(self, value: str) -> str:
        if "\\" in value and isinstance(self.dialect, MysqlDialect) and not self.dialect.backslash_escapes:
            return super().quoted_string(value)  # sql_mode NO_BACKSLASH_ESCAPES: a backslash is itself
        return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"

    # ----------------------------------------------------------------- columns

    def data_type(self, node: DataTypeNode) -> str:
        text = super().data_type(node)
        if isinstance(node.name, str) and text.strip().lower() in ("varchar", "varbinary", "character varying"):
            raise BuilderError(
                f"column type {node.name!r} needs a length on {self.dialect.display_name or 'MySQL'}: "
                f"write {text.strip()}(255)" + ("" if "binary" in text.lower() else ", or the portable type 'string'")
            )
        return text

    def column_type(self, col: ColumnDefinitionNode) -> str:
        kind = self.serial_kind(col)
        if kind is not None:
            return {"serial": "INT", "bigserial": "BIGINT", "smallserial": "SMALLINT"}[kind]
        return self.data_type(col.data_type)

    def column_clauses(self, col: ColumnDefinitionNode, table: IdentifierNode | None) -> list[str]:
        if self.serial_kind(col) is not None:
            col = replace(col, not_null=True, auto_increment=True)
        # InnoDB ignores inline REFERENCES: they become table-level FOREIGN KEY constraints
        if col.references is not None:
            self.require("inline_references")
        out = super().column_clauses(replace(col, references=None), table)
        if col.default is not None:
            kind = self.column_type(col)
            out = [self._lob_default(kind, c[8:]) if c.startswith("DEFAULT ") else c for c in out]
        return out

    def _lob_default(self, kind: str, default: str) -> str:
        """``DEFAULT default`` for a column of type ``kind``: MySQL 8.0.13+ gives a TEXT, BLOB, JSON
        or spatial column a default only in parentheses (``DEFAULT 'x'`` is refused there)."""
        if not self.is_mariadb and _LOB_TYPE.match(kind) and not default.startswith("(") and default.upper() != "NULL":
            return f"DEFAULT ({default})"
        return "DEFAULT " + default

    def says_null(self, col: ColumnDefinitionNode) -> bool:
        # with explicit_defaults_for_timestamp off (MySQL 5.7, MariaDB before 10.10, and any
        # server configured so), a TIMESTAMP column that does not say NULL is made NOT NULL, and
        # the table's first one DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP; a key's
        # columns are NOT NULL anyway (MySQL refuses NULL written in a primary key)
        if col.primary_key or col.generated is not None or col.name in self._primary_key_columns:
            return False
        return _TIMESTAMP_TYPE.match(self.column_type(col)) is not None

    def compile_create_table(self, node: CreateTableNode) -> list[CompiledStatement]:
        self._primary_key_columns = frozenset(
            name for c in node.constraints if isinstance(c, PrimaryKeyConstraintNode) for name in c.columns
        )
        return super().compile_create_table(node)

    def enum_data_type(self, node: EnumTypeNode) -> str:
        return f"enum({self.enum_values(node.values)})"

    def virtual_keyword(self) -> str:
        return " VIRTUAL"

    def column_comment_clause(self, comment: str) -> str:
        return "COMMENT " + self.string_literal(_storable_comment(comment))

    def table_comment_clause(self, comment: str | None) -> str:
        return "COMMENT = " + self.string_literal(_storable_comment(comment or ""))

    def check_auto_numbering(
        self, columns: Sequence[ColumnDefinitionNode], constraints: Sequence[ConstraintNode]
    ) -> None:
        # MySQL numbers only a column that leads an index: the primary key or a unique key
        leading = {
            c.columns[0]
            for c in constraints
            if isinstance(c, PrimaryKeyConstraintNode | UniqueConstraintNode) and c.columns
        }
        for col in columns:
            numbered = col.auto_increment or self.serial_kind(col) is not None
            if numbered and not (col.primary_key or col.unique or col.name in leading):
                self.require("auto_increment_without_key")

    def default_sql(self, expr: Expression) -> str:
        text = self.inline_sql(expr)
        if isinstance(expr, RawNode) and not _PLAIN_DEFAULT.match(text):
            return f"({text})"  # MySQL wants expression defaults in parentheses
        return text

    def inline_foreign_keys(self, table: IdentifierNode, columns: Sequence[ColumnDefinitionNode]) -> list[ConstraintNode]:
        return [
            ForeignKeyConstraintNode(_fit_name(f"{table.name}_{c.name}_fkey"), (c.name,), c.references)
            for c in columns
            if c.references is not None
        ]

    def constraint_definition(self, c: ConstraintNode) -> str:
        out = super().constraint_definition(c)
        if isinstance(c, PrimaryKeyConstraintNode) and c.name and c.columns and c.name.upper() != "PRIMARY":
            # MySQL names every primary key PRIMARY: the given name is kept as the key's index
            # comment, where drop_constraint(name) finds it (see mysql_online.constraint_kind_query)
            out += " COMMENT " + self.string_literal(c.name)
        return out

    def table_constraints(self, node: CreateTableNode) -> Sequence[ConstraintNode]:
        return [*node.constraints, *self.inline_foreign_keys(node.table, node.columns)]

    def ilike(self, op: str) -> str:
        return op.replace("ilike", "like")  # the default collations compare case-insensitively

    # ----------------------------------------------------------------- alter table

    def compile_alter_table(self, node: AlterTableNode) -> list[CompiledStatement]:
        # MySQL allows one change per column per statement: several alterations of one column
        # are folded into a single MODIFY COLUMN carrying the final definition.
        self._pending: dict[str, _LiveColumn] = {}
        counts: dict[str, int] = {}
        for action in node.actions:
            if isinstance(action, AlterColumnNode):
                counts[action.column] = counts.get(action.column, 0) + 1
        self._folded = {name for name, n in counts.items() if n > 1}
        # a column renamed earlier in this call: the catalog knows it by its old name
        self._catalog_name: dict[str, str] = {}
        for action in node.actions:
            if isinstance(action, RenameColumnNode):
                self._catalog_name[action.new_name] = self._catalog_name.pop(action.column, action.column)
        # foreign keys this call drops already (drop_constraint, or an earlier drop_column)
        self._keys_dropped = {a.name.lower() for a in node.actions if isinstance(a, DropConstraintNode)}
        self._primary_key_columns = frozenset(
            name for a in node.actions if isinstance(a, AddConstraintNode)
            and isinstance(a.constraint, PrimaryKeyConstraintNode) for name in a.constraint.columns
        )
        statements = super().compile_alter_table(node)
        out = []
        for stmt in statements:
            text = stmt.sql
            for name, live in self._pending.items():
                text = text.replace(_marker(name), self._live_definition(live))
            out.append(replace(stmt, sql=text, display=None))
        return out

    def _with_foreign_keys(self, clause: str, node: AlterTableNode, col: ColumnDefinitionNode) -> str:
        for fk in self.inline_foreign_keys(node.table, [col]):
            clause += ", ADD " + self.constraint_definition(fk)
        return clause

    def add_column_clause(self, node: AlterTableNode, action: AddColumnNode) -> str:
        return self._with_foreign_keys(super().add_column_clause(node, action), node, action.column)

    def modify_column_clause(self, node: AlterTableNode, action: ModifyColumnNode) -> str:
        return self._with_foreign_keys(super().modify_column_clause(node, action), node, action.column)

    def rename_target(self, table: IdentifierNode, new_name: str) -> str:
        # unqualified, MySQL would move the table into the connection's current database
        return self.table_name(IdentifierNode(new_name, table.schema))

    def set_schema_clause(self, table: IdentifierNode, schema: str) -> str:
        return "RENAME TO " + self.table_name(IdentifierNode(table.name, schema))

    def alter_action(self, node: AlterTableNode, action: AlterTableAction) -> list[str]:
        clauses = super().alter_action(node, action)
        if isinstance(action, DropColumnNode):
            clauses = [*self._drop_foreign_keys_of(node, action.column), *clauses]
        # a drop_constraint(if_exists=True) of a constraint that is not there compiles to nothing
        return [clause for clause in clauses if clause]

    def _drop_foreign_keys_of(self, node: AlterTableNode, column: str) -> list[str]:
        """``DROP FOREIGN KEY`` for each foreign key of the table that uses ``column``, to go
        before its ``DROP COLUMN``: PostgreSQL and SQLite drop such a key with its column, MySQL
        refuses the column while a key needs it. The index InnoDB made for a key goes too, as
        :meth:`drop_constraint_clause` does it. Without a connected database nothing is known
        (an offline script, ``kysera migrate sql``, gets the plain ``DROP COLUMN``); in a dry run
        or a script, a column the plan adds with ``references()`` has the key kysera gives it."""
        if self.reader is None:
            return []
        planned = self.reader.planned_column(node.table, column)
        table, name = node.table, self._catalog_name.get(column, column)
        if planned is not None and planned.made is not None:
            names = [fk.name for fk in self.inline_foreign_keys(node.table, [planned.made]) if fk.name]
        else:
            if planned is not None:
                table, name = planned.catalog_table, planned.catalog_column
            schema_sql, params = self._schema_expr(table)
            try:
                rows = self.reader.fetch(
                    "SELECT DISTINCT CONSTRAINT_NAME AS n FROM information_schema.KEY_COLUMN_USAGE "
                    f"WHERE TABLE_SCHEMA = {schema_sql} AND TABLE_NAME = %s AND COLUMN_NAME = %s "
                    "AND REFERENCED_TABLE_NAME IS NOT NULL ORDER BY CONSTRAINT_NAME",
                    [*params, table.name, name],
                )
            except KyseraError:  # no catalog to read (kysera migrate sql): the plain DROP COLUMN
                return []
            names = [str(r["n"]) for r in rows]
        out = []
        for key in names:
            if key.lower() in self._keys_dropped:
                continue
            self._keys_dropped.add(key.lower())
            if (planned is None or planned.made is None) and self._index_made_for(table, key):
                out.append(f"DROP FOREIGN KEY {self.quote(key)}, DROP INDEX {self.quote(key)}")
            else:
                out.append(f"DROP FOREIGN KEY {self.quote(key)}")
        return out

    def alter_column_clauses(self, node: AlterTableNode, action: AlterColumnNode) -> list[str]:
        a = action.alteration
        if isinstance(a, SetDataTypeNode) and a.using is not None:
            self.require("set_data_type_using")  # MODIFY COLUMN has no USING: leaving it out would convert otherwise
        col = self.quote(action.column)
        folded = action.column in self._folded
        if isinstance(a, SetDefaultNode) and not folded:
            return [f"ALTER COLUMN {col} SET DEFAULT {self.default_sql(a.default)}"]
        if isinstance(a, DropDefaultNode) and not folded:
            return [f"ALTER COLUMN {col} DROP DEFAULT"]
        first = action.column not in self._pending
        live = self._pending.get(action.column) or self._live_column(
            node.table, self._catalog_name.get(action.column, action.column)
        )
        if live.generated is not None and isinstance(a, SetNotNullNode | DropNotNullNode):
            # MariaDB's generated columns take no NOT NULL: refused, or nothing to do
            feature = "generated_not_null" if isinstance(a, SetNotNullNode) else "generated_drop_not_null"
            if self.require(feature).level == "ignored":
                return []
        self._pending[action.column] = self._changed(live, a)
        return [f"MODIFY COLUMN {col} {_marker(action.column)}"] if first else []

    def _changed(self, live: _LiveColumn, a: ColumnAlteration) -> _LiveColumn:
        """``live`` after ``a``."""
        if isinstance(a, SetDataTypeNode):
            new_type = self.data_type(a.data_type)
            if not _keeps_charset(new_type):  # a number, a date...; or the new type names its own
                live = replace(live, charset=None, collation=None)
            return replace(live, type=new_type)
        if isinstance(a, SetNotNullNode):
            return replace(live, nullable=False, default=None if live.default == "NULL" else live.default)
        if isinstance(a, DropNotNullNode):
            return replace(live, nullable=True)
        if isinstance(a, SetDefaultNode):
            return replace(live, default=self.default_sql(a.default))
        return replace(live, default=None)  # DropDefaultNode

    def _live_definition(self, c: _LiveColumn) -> str:
        parts = [c.type]
        if c.charset and c.collation:
            parts.append(f"CHARACTER SET {c.charset} COLLATE {c.collation}")
        elif c.collation:
            parts.append(f"COLLATE {self.quote(c.collation)}")
        if c.generated:
            stored = "STORED" if "stored" in c.extra.lower() or "persistent" in c.extra.lower() else "VIRTUAL"
            parts.append(f"GENERATED ALWAYS AS ({c.generated}) {stored}")
            if not self.is_mariadb:  # MySQL takes [NOT] NULL after it; MariaDB's always allow NULL
                parts.append("NULL" if c.nullable else "NOT NULL")
        else:
            parts.append("NULL" if c.nullable else "NOT NULL")
            if c.default is not None and not (c.default == "NULL" and not c.nullable):
                parts.append(self._lob_default(c.type, c.default))
            extra = c.extra.lower()
            if "auto_increment" in extra:
                parts.append("AUTO_INCREMENT")
            m = re.search(r"on update (\S+)", c.extra, re.I)
            if m:
                parts.append("ON UPDATE " + m.group(1))
        if re.search(r"\binvisible\b", c.extra, re.I):
            parts.append("INVISIBLE")
        if c.comment:
            parts.append("COMMENT " + self.string_literal(c.comment))
        if c.check:
            parts.append(f"CHECK ({c.check})")
        return " ".join(parts)

    def _need_reader(self, what: str) -> Any:
        if self.reader is None:
            engine = self.dialect.display_name or "MySQL"
            raise self.catalog_needed(what, f"{engine} needs the column's current definition; compile it with a connected Database")
        return self.reader

    def _schema_expr(self, table: IdentifierNode) -> tuple[str, list[object]]:
        if table.schema:
            return "%s", [table.schema]
        return "DATABASE()", []

    def _live_column(self, table: IdentifierNode, column: str) -> _LiveColumn:
        """The column as it is when this statement runs: the catalog's, or, in a dry run, as
        the statements recorded before it leave it (:mod:`kysera.planned_schema`)."""
        reader = self._need_reader("alter_column(...)")
        planned = reader.planned_column(table, column)
        if planned is None:
            found = self._catalog_column(table, column)
        elif planned.made is not None:
            found = self._planned_live(planned.made)
        else:
            found = self._catalog_column(planned.catalog_table, planned.catalog_column)
        if found is None:
            if planned is None and not self._catalog_has_table(table):
                raise BuilderError(f"table {table.name!r} does not exist, so alter_column({column!r}) cannot be applied; check the name")
            raise BuilderError(f"column {column!r} does not exist in table {table.name!r}")
        for change in planned.changes if planned is not None else ():
            found = self._changed(found, change)
        return found

    def _catalog_has_table(self, table: IdentifierNode) -> bool:
        reader = self._need_reader("alter_column(...)")
        schema_sql, params = self._schema_expr(table)
        return bool(reader.fetch(
            f"SELECT 1 AS x FROM information_schema.TABLES WHERE TABLE_SCHEMA = {schema_sql} AND TABLE_NAME = %s",
            [*params, table.name],
        ))

    def _catalog_column(self, table: IdentifierNode, column: str) -> _LiveColumn | None:
        reader = self._need_reader("alter_column(...)")
        schema_sql, params = self._schema_expr(table)
        check = "NULL"
        if self.is_mariadb:
            # a column's own CHECK is named after the column (LEVEL says so from 10.5.10 on)
            level = " AND k.LEVEL = 'Column'" if self.dialect.server_version >= (10, 5, 10) else ""
            check = (
                "(SELECT k.CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS k WHERE k.CONSTRAINT_SCHEMA = "
                f"x.TABLE_SCHEMA AND k.TABLE_NAME = x.TABLE_NAME AND k.CONSTRAINT_NAME = x.COLUMN_NAME{level} LIMIT 1)"
            )
        rows = reader.fetch(
            "SELECT COLUMN_TYPE AS t, IS_NULLABLE AS n, COLUMN_DEFAULT AS d, EXTRA AS e, "
            "COLUMN_COMMENT AS c, CHARACTER_SET_NAME AS cs, COLLATION_NAME AS co, "
            f"GENERATION_EXPRESSION AS g, {check} AS k FROM information_schema.COLUMNS x "
            f"WHERE x.TABLE_SCHEMA = {schema_sql} AND x.TABLE_NAME = %s AND x.COLUMN_NAME = %s",
            [*params, table.name, column],
        )
        if not rows:
            return None
        r = rows[0]
        extra = str(r["e"] or "")
        raw_default = r["d"]
        default: str | None
        if raw_default is None:
            default = None
        elif self.is_mariadb:
            default = str(raw_default)  # MariaDB stores the default as SQL text already
            if default.startswith("'") and "?" in default:
                default = self._exact_string_default(table, column) or default
        elif "default_generated" in extra.lower():
            default = f"({raw_default})" if not _PLAIN_DEFAULT.match(str(raw_default)) else str(raw_default)
        else:
            default = self.string_literal(str(raw_default))
        if self.is_mariadb:
            self._check_catalog_lossless(table, column, r["g"], r["k"])
        text = self._catalog_text
        return _LiveColumn(
            type=text(str(r["t"])),
            nullable=str(r["n"]).upper() == "YES",
            default=text(default) if default is not None else None,
            extra=extra.replace("DEFAULT_GENERATED", "").strip(),
            comment=str(r["c"] or ""),
            charset=str(r["cs"]) if r["cs"] else None,
            collation=str(r["co"]) if r["co"] else None,
            generated=text(str(r["g"])) if r["g"] else None,
            check=text(str(r["k"])) if r["k"] else None,
        )

    def _catalog_text(self, sql_text: str) -> str:
        """SQL text from information_schema (a default, an enum's labels, an expression), made
        right for this session: the server writes its string literals with backslash escapes,
        which a session in NO_BACKSLASH_ESCAPES reads as backslashes."""
        if "\\" not in sql_text or not isinstance(self.dialect, MysqlDialect) or self.dialect.backslash_escapes:
            return sql_text
        return _QUOTED.sub(lambda m: self.string_literal(_unescape(m.group(1))), sql_text)

    def _check_catalog_lossless(self, table: IdentifierNode, column: str, *texts: object) -> None:
        """MariaDB's catalog shows a generation expression or CHECK in utf8mb3: a character beyond
        it (an emoji) in a string reads as '?', and MODIFY COLUMN would restate the changed text.
        SHOW CREATE TABLE has the real text; a '?' it does not show the same way is refused."""
        suspect = [str(t) for t in texts if t and any("?" in m.group(1) for m in _QUOTED.finditer(str(t)))]
        if not suspect:
            return
        assert self.reader is not None
        rows = self.reader.fetch(f"SHOW CREATE TABLE {self.table_name(table)}")
        shown = str(rows[0]["Create Table"]) if rows else ""
        for text in suspect:
            if text not in shown:
                raise UnsupportedError(
                    f"alter_column({column!r}) of a column whose expression or CHECK has a character beyond U+FFFF",
                    "MariaDB",
                    "its catalog shows the character as '?', so kysera cannot restate the column: "
                    "use modify_column(column, type, ...) with the column's whole definition",
                )

    def _exact_string_default(self, table: IdentifierNode, column: str) -> str | None:
        """MariaDB's catalog shows a default in utf8mb3, so a character beyond it (an emoji) reads
        as '?'; the column keeps the real value, which DEFAULT() gives (no row needed). It reads
        an empty derived table: on the table itself, MariaDB gives NULL for a NOT NULL column's
        DEFAULT() in a row the join made up, and the '?' would then be written back."""
        assert self.reader is not None
        name = self.quote(column)
        try:
            rows = self.reader.fetch(
                f"SELECT DEFAULT(t.{name}) AS d FROM (SELECT 1) AS one "
                f"LEFT JOIN (SELECT {name} FROM {self.table_name(table)} LIMIT 0) AS t ON 1 = 0"
            )
        except Exception:
            return None
        value = rows[0]["d"] if rows else None
        return self.string_literal(value) if isinstance(value, str) else None

    def _planned_live(self, col: ColumnDefinitionNode) -> _LiveColumn:
        """``col``, as a statement of this plan would create it, described as the catalog would."""
        serial = self.serial_kind(col) is not None
        return _LiveColumn(
            type=self.column_type(col) + (" unsigned" if col.unsigned else ""),
            nullable=not (col.not_null or col.primary_key or serial),
            default=self.default_sql(col.default) if col.default is not None else None,
            extra=" ".join(
                [*(["auto_increment"] if col.auto_increment or serial else []),
                 *(["STORED GENERATED"] if col.generated is not None and col.stored else [])]
            ),
            comment=col.comment or "",
            charset=None,
            collation=col.collate,
            generated=self.inline_sql(col.generated) if col.generated is not None else None,
            check=self.inline_sql(col.check) if col.check is not None and self.is_mariadb else None,
        )

    def compile_update(self, node: UpdateNode) -> CompiledStatement:
        """MySQL assigns left to right, each value seeing the columns set before it (``SET a = b,
        b = a`` leaves both as b); PostgreSQL and SQLite give every value the row as it was. A
        value that reads a column set earlier in the same statement would differ: refused."""
        assigned: list[str] = []
        for column, value in node.assignments:
            read = columns_read(value) & {c.lower() for c in assigned}
            if read:
                earlier = sorted(read)[0]
                raise UnsupportedError(
                    f"an UPDATE of {node.table.name} whose value of {column!r} reads {earlier!r}, set earlier in the same statement",
                    self.dialect.display_name or "MySQL",
                    f"it assigns left to right, so the value would see the new {earlier!r} where the other engines "
                    "see the old one: set them in another order, or in two statements",
                )
            assigned.append(column)
        return super().compile_update(node)

    def drop_constraint_clause(self, node: AlterTableNode, action: DropConstraintNode) -> str:
        """By the constraint's kind: DROP FOREIGN KEY, DROP PRIMARY KEY, DROP INDEX (unique) or
        DROP CONSTRAINT (check); "" for an if_exists of a constraint that is not there."""
        kind = "UNKNOWN"
        if self.reader is not None:
            from .mysql_online import constraint_kind_query

            rows = self.reader.fetch(*constraint_kind_query(node.table, action.name))
            if rows:
                kind = str(rows[0]["t"]).upper()
            elif action.if_exists:
                return ""
            elif not self._catalog_has_table(node.table):
                raise BuilderError(
                    f"table {node.table.name!r} does not exist, so drop_constraint({action.name!r}) cannot be applied; check the name"
                )
            else:
                raise BuilderError(
                    f"constraint {action.name!r} does not exist on table {node.table.name!r}; check the name "
                    "or use drop_constraint(..., if_exists=True)" + self._primary_key_hint(node.table)
                )
        name = self.quote(action.name)
        if_exists = "IF EXISTS " if action.if_exists and self.is_mariadb else ""
        if kind == "FOREIGN KEY":
            if self._index_made_for(node.table, action.name):
                # undo what adding the key did: InnoDB made this index for it, and keeps it
                return f"DROP FOREIGN KEY {if_exists}{name}, DROP INDEX {name}"
            return f"DROP FOREIGN KEY {if_exists}{name}"
        if kind == "PRIMARY KEY":
            return "DROP PRIMARY KEY"
        if kind == "UNIQUE":
            return f"DROP INDEX {if_exists}{name}"
        return f"DROP CONSTRAINT {if_exists}{name}"

    def _primary_key_hint(self, table: IdentifierNode) -> str:
        """For a name that is no constraint of ``table``: what its primary key is called, when it
        has one (MySQL names them all PRIMARY); "" when it has none."""
        assert self.reader is not None
        schema_sql, params = self._schema_expr(table)
        rows = self.reader.fetch(
            "SELECT INDEX_COMMENT AS c FROM information_schema.STATISTICS WHERE "
            f"TABLE_SCHEMA = {schema_sql} AND TABLE_NAME = %s AND INDEX_NAME = 'PRIMARY' AND SEQ_IN_INDEX = 1",
            [*params, table.name],
        )
        if not rows:
            return ""
        engine = self.dialect.display_name or "MySQL"
        named = str(rows[0]["c"] or "")
        if named:
            return (
                f" ({engine} names every primary key PRIMARY; kysera keeps the name given to "
                f"add_primary_key_constraint, and the primary key of {table.name!r} has the name {named!r})"
            )
        return (
            f" ({engine} names every primary key PRIMARY, and the primary key of {table.name!r} was made without "
            "add_primary_key_constraint(name, ...), so it has no other name: drop_constraint('PRIMARY') drops it)"
        )

    def _index_made_for(self, table: IdentifierNode, foreign_key: str) -> bool:
        """Whether dropping the foreign key ``foreign_key`` also drops the index InnoDB made for
        it (see :meth:`~kysera.dialects.mysql_online.TableFacts.index_made_for`)."""
        if self.reader is None:
            return False
        from .mysql_online import TableFacts

        return TableFacts(self.reader, table, "mysql", ()).index_made_for(foreign_key) is True

    # ----------------------------------------------------------------- indexes

    using_before_on = True

    def index_method(self, method: str) -> str:
        return super().index_method(method).upper()

    def compile_drop_index(self, node: DropIndexNode) -> CompiledStatement | None:
        if node.concurrently:
            self.require("drop_index_concurrently")
        if node.cascade:
            self.require("drop_index_cascade")
        if node.if_exists:
            self.require("drop_index_if_exists")
        table = node.table or self._index_table(node)
        if table is None:
            return None  # if_exists(), and no table has such an index
        options = self.online_options(node)
        needed = self._foreign_key_indexes(table, node.name.name)
        if needed:
            # InnoDB dropped the index it had made for these foreign keys when this one came to
            # serve them, and refuses to drop this one now (error 1553): give them theirs back
            # in the same statement, as the schema was before this index was created
            w = Writer(self, inline=True).text("ALTER TABLE ").table(table).text(" DROP INDEX ").ident(node.name.name)
            for key, columns in needed:
                w.text(", ADD INDEX ").ident(key).text(" (" + ", ".join(self.quote(c) for c in columns) + ")")
            return w.text("".join(", " + o for o in options)).finish(node)
        if options and self.require("drop_index_online_clauses").level == "emulated":
            # MariaDB's DROP INDEX takes no ALGORITHM/LOCK; its ALTER TABLE form does the same
            w = Writer(self, inline=True).text("ALTER TABLE ").table(table).text(" DROP INDEX ")
            if node.if_exists:
                w.text("IF EXISTS ")
            return w.ident(node.name.name).text(", " + ", ".join(options)).finish(node)
        w = Writer(self, inline=True).text("DROP INDEX ")
        if node.if_exists:
            w.text("IF EXISTS ")
        w.ident(node.name.name).text(" ON ").table(table)
        if options:
            w.text(" " + " ".join(options))
        return w.finish(node)

    def _foreign_key_indexes(self, table: IdentifierNode, index: str) -> list[tuple[str, list[str]]]:
        """The foreign keys of ``table`` (name, columns) that only the index ``index`` serves: no
        other index starts with their columns. Empty without a catalog (offline)."""
        if self.reader is None:
            return []
        schema_sql, params = self._schema_expr(table)
        try:
            keys = self.reader.fetch(
                "SELECT CONSTRAINT_NAME AS n, COLUMN_NAME AS c FROM information_schema.KEY_COLUMN_USAGE "
                f"WHERE TABLE_SCHEMA = {schema_sql} AND TABLE_NAME = %s AND REFERENCED_TABLE_NAME IS NOT NULL "
                "ORDER BY CONSTRAINT_NAME, ORDINAL_POSITION",
                [*params, table.name],
            )
            if not keys:
                return []
            parts = self.reader.fetch(
                "SELECT INDEX_NAME AS i, COLUMN_NAME AS c FROM information_schema.STATISTICS "
                f"WHERE TABLE_SCHEMA = {schema_sql} AND TABLE_NAME = %s ORDER BY INDEX_NAME, SEQ_IN_INDEX",
                [*params, table.name],
            )
        except KyseraError:
            return []
        indexes: dict[str, list[str]] = {}
        for r in parts:
            indexes.setdefault(str(r["i"]), []).append(str(r["c"] or "").lower())
        mine = next((cols for name, cols in indexes.items() if name.lower() == index.lower()), None)
        if mine is None:
            return []
        foreign: dict[str, list[str]] = {}
        for r in keys:
            foreign.setdefault(str(r["n"]), []).append(str(r["c"]))
        needed = []
        for key, columns in foreign.items():
            lowered = [c.lower() for c in columns]
            served = [name for name, cols in indexes.items() if cols[: len(lowered)] == lowered]
            if [name.lower() for name in served] == [index.lower()] and mine[: len(lowered)] == lowered:
                needed.append((key, columns))
        return needed

    def _index_table(self, node: DropIndexNode) -> IdentifierNode | None:
        """The table of the index ``node`` drops, which MySQL's DROP INDEX must name, looked up in
        information_schema; None for ``if_exists()`` when no table has such an index."""
        self.require("drop_index_without_table")
        index, engine = node.name.name, self.dialect.display_name or "MySQL"
        if self.reader is None:
            raise BuilderError(
                f"drop_index({index!r}) on {engine} needs .on(table): its DROP INDEX names the table, "
                "which kysera looks up only with a connected database"
            )
        planned, table = self.reader.planned_index_table(node.name)
        if planned:  # a dry run, and an earlier statement of the plan creates or drops it
            if table is not None or node.if_exists:
                return table
            raise BuilderError(
                f"drop_index({index!r}) on {engine}: an earlier statement drops that index already; "
                "check the name, or add .if_exists()"
            )
        schema_sql, params = self._schema_expr(node.name)
        rows = self.reader.fetch(
            "SELECT DISTINCT TABLE_NAME AS t FROM information_schema.STATISTICS "
            f"WHERE TABLE_SCHEMA = {schema_sql} AND INDEX_NAME = %s ORDER BY TABLE_NAME",
            [*params, index],
        )
        if not rows and node.if_exists:
            return None
        if not rows:
            raise BuilderError(
                f"drop_index({index!r}) on {engine}: no table has an index of that name; "
                "check the name, or add .if_exists()"
            )
        if len(rows) > 1:
            tables = ", ".join(repr(str(r["t"])) for r in rows)
            raise BuilderError(
                f"drop_index({index!r}) on {engine}: tables {tables} each have an index of that name; "
                "say which with .on(table)"
            )
        return IdentifierNode(str(rows[0]["t"]), node.name.schema)

    # ----------------------------------------------------------------- schemas (databases), sequences

    schema_keyword = "DATABASE"
    no_cycle_keyword = "NOCYCLE"

    def drop_schema_cascade_keyword(self) -> str:
        return ""  # DROP DATABASE always drops what the database holds

    def compile_drop_schema(self, node: DropSchemaNode) -> CompiledStatement:
        if not node.cascade and self.reader is not None:
            rows = self.reader.fetch(
                "SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s", [node.name]
            )
            count = int(str(rows[0]["n"])) if rows else 0
            if count:
                raise BuilderError(
                    f"database {node.name!r} holds {count} table(s) and {self.dialect.display_name}'s DROP DATABASE "
                    "would drop them all; add .cascade() to drop it with its tables"
                )
        return super().compile_drop_schema(node)

    # ----------------------------------------------------------------- data

    #: inside ON DUPLICATE KEY UPDATE without the new row's alias: excluded(column) is VALUES(column)
    _excluded_as_values = False

    def write_conflict_clause(self, w: Writer, node: InsertNode) -> None:
        if node.on_conflict is not None:
            self.require("on_conflict_constraint" if node.on_conflict.constraint is not None else "on_conflict")
        if node.ignore_conflicts:
            # not INSERT IGNORE: that turns every error into a warning (a NULL into a NOT NULL column
            # stored as '', a long string cut, text into a number as 0), where only a duplicate key
            # is to be skipped. A duplicate "updates" a column to itself instead: nothing changes.
            if not node.columns:
                raise BuilderError(
                    f"insert_into({node.table.name!r}).expression(...).ignore_conflicts() needs the columns on "
                    f"{self.dialect.display_name}: add .columns(...) naming the columns the query fills"
                )
            first = self.quote(node.columns[0])
            if node.query is not None:  # the query's own tables may have that column: "ambiguous"
                first = f"{self.table_name(node.table)}.{first}"
            w.text(f" ON DUPLICATE KEY UPDATE {first} = {first}")
            return
        if not node.on_duplicate_key_update:
            return
        self.require("on_duplicate_key_update")
        # the proposed row: MySQL 8.0.19+ names it with an alias after VALUES (and deprecates
        # VALUES(col) from 8.0.20); MariaDB, older MySQL and INSERT ... SELECT take VALUES(col),
        # as does an offline "8.0", which may be any 8.0 release
        version = tuple(self.dialect.server_version)
        new_enough = version >= (8, 0, 19) if len(version) >= 3 else version[:1] > (8,)
        alias = node.query is None and not self.is_mariadb and new_enough
        if alias:
            w.text(" AS ").ident("excluded")
        w.text(" ON DUPLICATE KEY UPDATE ")
        self._excluded_as_values = not alias
        try:
            self.write_assignments(w, node.on_duplicate_key_update)
        finally:
            self._excluded_as_values = False

    def write_expression(self, w: Writer, expr: Expression) -> None:
        if self._excluded_as_values and isinstance(expr, ColumnRefNode) and (expr.table or "").lower() == "excluded":
            w.text(f"VALUES({self.column_reference(expr.column)})")
            return
        super().write_expression(w, expr)

    def offset_clause(self, node: SelectNode) -> str:
        prefix = "" if node.limit is not None else " LIMIT 18446744073709551615"
        return f"{prefix} OFFSET {int(node.offset or 0)}"


class MysqlDialect(Dialect):
    name = "mysql"

    def begin(self, conn: DriverConnection) -> None:
        conn.run("START TRANSACTION", None)

    display_name = "MySQL"
    compiler_class = MysqlCompiler
    reads_planned_columns = True

    def __init__(self, server_version: tuple[int, ...] = (), version_text: str = "") -> None:
        super().__init__(server_version, version_text)
        if "mariadb" in version_text.lower():
            self.display_name = "MariaDB"
        #: the session's server status flags, as the last reply said (set by :func:`open_mysql`)
        self.server_status: Callable[[], int] | None = None

    @property
    def backslash_escapes(self) -> bool:
        """False while the session's ``sql_mode`` has ``NO_BACKSLASH_ESCAPES``: a backslash in a
        string literal is then an ordinary character, and literals are written accordingly."""
        return self.server_status is None or not self.server_status() & _NO_BACKSLASH_ESCAPES

    @property
    def is_mariadb(self) -> bool:
        return self.display_name == "MariaDB"

    commits_at_ddl = True

    def transaction_ended(self) -> bool:
        return self.server_status is not None and not self.server_status() & _IN_TRANSACTION

    def refused_unrun(self, error: BaseException) -> bool:
        return bool(error.args) and error.args[0] == 1064  # ER_PARSE_ERROR: parsed, never executed

    def describe_session(self, reader: Reader, session: int) -> str | None:
        rows = reader.fetch(
            "SELECT STATE AS state, LEFT(INFO, 120) AS query FROM information_schema.PROCESSLIST WHERE ID = %s",
            [session],
        )
        if not rows:
            return None
        query = " ".join(str(rows[0]["query"] or "").split())
        state = str(rows[0]["state"] or "").lower()
        text = f"{query}; {state}" if "lock" in state else query
        try:
            if "metadata lock" in state:
                # which session holds a metadata lock, MariaDB says only with a plugin loaded; a
                # session that holds one has a transaction open (or LOCK TABLES): name those
                held = reader.fetch(_OPEN_TRANSACTIONS, [session])
                return f"{text}; open transactions that may hold it: {_sessions(held)}" if held else text
            held = reader.fetch(_ROW_LOCK_HOLDERS, [session])
        except Exception:  # a server without these tables (MySQL 8 moved the lock waits): say less
            return text
        return f"{query}; waiting for a row lock held by {_sessions(held)}" if held else text

    def lock_holders(self, reader: Reader, table: IdentifierNode, session: int | None) -> str | None:
        # which session holds a metadata lock MariaDB says only with a plugin loaded: the
        # sessions with a transaction open are the ones that can
        rows = reader.fetch(_OPEN_TRANSACTIONS, [session or 0])
        return f"open transactions that may hold it: {_sessions(rows)}" if rows else None

    def savepoint_gone(self, error: BaseException) -> bool:
        return bool(error.args) and error.args[0] == 1305  # ER_SP_DOES_NOT_EXIST: "SAVEPOINT ... does not exist"

    def explain_error(self, statement: CompiledStatement, error: BaseException) -> BaseException | None:
        from .mysql_online import explain_refusal

        return explain_refusal(self, statement, error) or _null_values_left(statement, error) or _foreign_key_refused(error)

    @cached_property
    def capabilities(self) -> Capabilities:
        from .support import dialect_supports

        return Capabilities(
            transactional_ddl=False,
            concurrent_index=False,
            partial_index=dialect_supports(self, "partial_index"),
            max_identifier_length=64,
            alter_column_in_place=True,
            add_column_if_not_exists=dialect_supports(self, "add_column_if_not_exists"),
            create_index_if_not_exists=dialect_supports(self, "create_index_if_not_exists"),
            drop_index_if_exists=dialect_supports(self, "drop_index_if_exists"),
            schemas=False,
        )


#: what the server says when a column made NOT NULL still holds NULLs: 1265 "Data truncated for
#: column 'x' at row n" (MariaDB, MySQL without strict mode), 1138 "Invalid use of NULL value"
_NULLS_LEFT = (1265, 1138)


def _null_values_left(statement: CompiledStatement, error: BaseException) -> BaseException | None:
    """The error of a NOT NULL change refused because rows hold NULL, said as SQLite's and
    PostgreSQL's are: which column, and the fix. None for any other error."""
    node = statement.node
    args: tuple[object, ...] = tuple(getattr(error, "args", ()))
    if not isinstance(node, AlterTableNode) or not args or args[0] not in _NULLS_LEFT:
        return None
    made_not_null = [
        a.column if isinstance(a, AlterColumnNode) else a.column.name
        for a in node.actions
        if (isinstance(a, AlterColumnNode) and isinstance(a.alteration, SetNotNullNode))
        or (isinstance(a, ModifyColumnNode) and a.column.not_null)
    ]
    text = str(args[1]) if len(args) > 1 else ""
    named = re.search(r"column '([^']+)'(?: at row (\d+))?", text)
    column = named.group(1) if named else (made_not_null[0] if len(made_not_null) == 1 else None)
    if column is None or column not in made_not_null:
        return None
    row = f" (row {named.group(2)} is one)" if named and named.group(2) else ""
    return KyseraError(
        f"column '{column}' of table '{node.table.name}' has NULL values{row}, so it cannot be made NOT NULL; "
        f"update those rows first, e.g. db.backfill(\"{node.table.name}\", set={{\"{column}\": <value>}}, "
        f"where=sql('`{column}` IS NULL')) in an earlier migration"
    )


def _foreign_key_refused(error: BaseException) -> BaseException | None:
    """InnoDB's "Foreign key constraint is incorrectly formed" (errno 150), which says nothing of
    why, with the two usual reasons. None for any other error."""
    args: tuple[object, ...] = tuple(getattr(error, "args", ()))
    text = str(args[1]) if len(args) > 1 else ""
    if not args or not ((args[0] == 1005 and "errno: 150" in text) or args[0] == 1215):
        return None
    return KyseraError(
        f"{driver_reason(error)}: a foreign key needs the table it references to exist, the referenced columns to "
        "be its primary key or lead an index of it (add_unique_constraint gives them one), and each column to have "
        "the type of the column it references (the same size and signedness: integer and serial match, not bigint "
        "unsigned; for text, the same character set and collation); SHOW ENGINE INNODB STATUS says which"
    )


#: SERVER_STATUS_NO_BACKSLASH_ESCAPES: the server's flag for that ``sql_mode``, sent with every reply
_NO_BACKSLASH_ESCAPES = 512
_IN_TRANSACTION = 1  # SERVER_STATUS_IN_TRANS: cleared by the implicit commit of a DDL statement

#: the other sessions with a transaction open, oldest first (MySQL/MariaDB's information_schema)
_OPEN_TRANSACTIONS = (
    "SELECT t.trx_mysql_thread_id AS id, TIMESTAMPDIFF(SECOND, t.trx_started, NOW()) AS age, "
    "p.COMMAND AS command, LEFT(p.INFO, 80) AS query FROM information_schema.INNODB_TRX t "
    "LEFT JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id "
    "WHERE t.trx_mysql_thread_id <> %s ORDER BY t.trx_started LIMIT 3"
)
#: the sessions whose row locks a session waits for (InnoDB; MariaDB and MySQL 5.7)
_ROW_LOCK_HOLDERS = (
    "SELECT b.trx_mysql_thread_id AS id, TIMESTAMPDIFF(SECOND, b.trx_started, NOW()) AS age, "
    "p.COMMAND AS command, LEFT(p.INFO, 80) AS query FROM information_schema.INNODB_TRX r "
    "JOIN information_schema.INNODB_LOCK_WAITS w ON w.requesting_trx_id = r.trx_id "
    "JOIN information_schema.INNODB_TRX b ON b.trx_id = w.blocking_trx_id "
    "LEFT JOIN information_schema.PROCESSLIST p ON p.ID = b.trx_mysql_thread_id "
    "WHERE r.trx_mysql_thread_id = %s ORDER BY b.trx_started LIMIT 3"
)


def _sessions(rows: list[Row]) -> str:
    """``id 42 (idle, its transaction open for 30 s)`` for each session row."""
    def one(row: Row) -> str:
        doing = "idle" if row["command"] == "Sleep" else " ".join(str(row["query"] or "").split()) or "busy"
        return f"id {row['id']} ({doing}, its transaction open for {row['age']} s)"

    return "; ".join(one(row) for row in rows)


class PymysqlConnection:
    def __init__(self, conn: Any, pymysql: Any) -> None:
        self._conn = conn
        self._pymysql = pymysql
        with conn.cursor() as cur:
            cur.execute("SELECT VERSION()")
            self._version_text = str(cur.fetchone()[0])

    def session_id(self) -> int | None:
        return int(self._conn.thread_id())

    def run(self, sql: str, params: Sequence[object] | None) -> tuple[list[Row], int]:
        with self._conn.cursor() as cur:
            bound: tuple[object, ...] | dict[str, object] | None = None
            if isinstance(params, Mapping):  # db.fetch's named placeholders, %(name)s
                bound = {k: _bindable(v) for k, v in params.items()} if params else None
            elif params:
                bound = tuple(_bindable(p) for p in params)
            count = cur.execute(sql, bound)
            rows: list[Row] = []
            if cur.description is not None:
                names = [d[0] for d in cur.description]
                rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
            return rows, int(count)

    def close(self) -> None:
        try:
            self._conn.close()
        except Exception:  # already closed by the server
            pass

    def server_version(self) -> tuple[int, ...]:
        m = re.match(r"(\d+)\.(\d+)\.(\d+)", self._version_text)
        return tuple(int(p) for p in m.groups()) if m else ()

    def server_version_text(self) -> str:
        flavour = "MariaDB" if "mariadb" in self._version_text.lower() else "MySQL"
        return f"{flavour} {self._version_text}"

    def is_connection_error(self, error: BaseException) -> bool:
        if isinstance(error, self._pymysql.err.OperationalError | self._pymysql.err.InterfaceError):
            code = error.args[0] if error.args else None
            return code in (2006, 2013, 2014, 2055, 0, 1927, 4031) or not self._conn.open
        return False


#: a '...' literal as the server writes it: backslash escapes and doubled quotes inside
_QUOTED = re.compile(r"'((?:[^'\\]|\\.|'')*)'", re.S)
_ESCAPES = {"0": "\x00", "b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a"}


def _unescape(body: str) -> str:
    """The value of a MySQL string literal's body written with backslash escapes."""
    return re.sub(
        r"\\(.)|''", lambda m: "'" if m.group(1) is None else _ESCAPES.get(m.group(1), m.group(1)), body, flags=re.S
    )


def _fit_name(name: str, limit: int = 64) -> str:
    """A name kysera makes up (a foreign key's), cut to the engine's limit with a hash of the
    whole, so that two long names stay two names."""
    if len(name) <= limit:
        return name
    from ..hashing import sha256

    return name[: limit - 9] + "_" + sha256(name.encode("utf-8")).hexdigest()[:8]


def _seconds(text: str, url: DatabaseUrl) -> int:
    try:
        return int(text)
    except ValueError:
        raise InvalidUrlError(f"{url.redacted()}: connect_timeout must be a whole number of seconds, not {text!r}") from None


def open_mysql(url: DatabaseUrl) -> tuple[PymysqlConnection, MysqlDialect]:
    try:
        import pymysql
    except ImportError:
        raise MissingDriverError(
            f"{url.redacted()} needs the MySQL/MariaDB driver; install it with: pip install \"kysera[mysql]\""
        ) from None
    options = url.options
    kwargs: dict[str, Any] = {
        "host": url.host or "localhost",
        "port": url.port or 3306,
        "user": url.username or "root",
        "password": url.password or "",
        "charset": options.pop("charset", "utf8mb4"),
        "autocommit": True,
        "connect_timeout": _seconds(options.pop("connect_timeout", "10"), url),
        # an UPDATE counts the rows it matched, as on PostgreSQL and SQLite, not only those whose
        # values changed (a backfill's count, Result.rowcount)
        "client_flag": pymysql.constants.CLIENT.FOUND_ROWS,
    }
    if url.database:
        kwargs["database"] = url.database
    if "unix_socket" in options:
        kwargs["unix_socket"] = options.pop("unix_socket")
    elif url.host and url.host.startswith("/"):  # mysql://root@%2Frun%2Fmysqld%2Fmysqld.sock/app
        kwargs["unix_socket"] = url.host
        kwargs["host"] = "localhost"
    for key in ("ssl_ca", "ssl_cert", "ssl_key"):
        if key in options:
            kwargs.setdefault("ssl", {})[key.removeprefix("ssl_")] = options.pop(key)
    if options:
        from ..url import unknown_options_problem

        raise InvalidUrlError(unknown_options_problem(url) or f"{url.redacted()}: unknown options {sorted(options)}")
    if not kwargs["connect_timeout"] > 0:
        raise InvalidUrlError(f"{url.redacted()}: connect_timeout must be a number of seconds above 0")
    # the server's greeting is read with the connect timeout too: another server on the port
    # (PostgreSQL on 5432) says nothing to a MySQL client and would keep it waiting a minute
    kwargs["read_timeout"] = kwargs["connect_timeout"]
    # kysera writes a datetime with a time zone as its UTC wall time; a TIMESTAMP column reads
    # that in the session's zone, so the session is in UTC too (NOW() and CURRENT_TIMESTAMP then
    # give UTC, as a DATETIME written from an aware datetime holds)
    # and strict (as the servers' defaults are since MySQL 5.7 and MariaDB 10.2.4): on a server
    # set to a lax sql_mode, set_not_null would silently turn NULLs into 0 or '', a narrowed
    # column cut its values, an insert store '' as 0; a migration should fail instead (Rails'
    # MySQL adapter does the same). The server's other modes stay as they are.
    kwargs["init_command"] = MYSQL_SESSION_SETUP  # kysera migrate sql's scripts start with it too
    try:
        conn = pymysql.connect(**kwargs)
    except pymysql.Error as exc:
        code = exc.args[0] if exc.args else None
        reason = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
        if url.password:
            reason = reason.replace(url.password, "***")
        raise ConnectionFailedError(
            f"cannot connect to {'MariaDB' if url.scheme.partition('+')[0] == 'mariadb' else 'MySQL'} at {url.describe()} "
            f"as {kwargs['user']}: {reason}{_connect_hint(code, reason, url)}"
        ) from None
    except OSError as exc:  # an ssl_ca/ssl_cert/ssl_key file that cannot be read (the error names none)
        import os

        files = {key: url.options[key] for key in ("ssl_ca", "ssl_cert", "ssl_key") if key in url.options}
        missing = [f"{key}={path}" for key, path in files.items() if not os.path.isfile(path)]
        problem = (
            f"{', '.join(missing)}: no such file" if missing
            else f"{', '.join(f'{key}={path}' for key, path in files.items())}: {exc}"
        )
        raise ConnectionFailedError(
            f"cannot connect to {url.describe()}: the URL's TLS files cannot be used ({problem}); give readable PEM "
            "files: ssl_ca the server's CA certificate, ssl_cert and ssl_key the client's certificate and its key"
        ) from None
    except (LookupError, AttributeError):  # PyMySQL on a character set it does not know
        raise InvalidUrlError(
            f"{url.redacted()}: charset {kwargs['charset']!r} is not a character set PyMySQL knows; leave it out for utf8mb4"
        ) from None
    conn._read_timeout = None  # type: ignore[attr-defined]  # statements may run as long as they need (PyMySQL applies it at the next read)
    adapter = PymysqlConnection(conn, pymysql)
    dialect = MysqlDialect(adapter.server_version(), adapter.server_version_text())
    dialect.server_status = lambda: int(getattr(conn, "server_status", 0))  # every reply updates it, SET sql_mode's too
    return adapter, dialect
