"""Immutable operation nodes: the one language of kysera.

Builders produce these frozen dataclasses; one compiler per dialect turns them into SQL; the
runner, the dry run and the safety analysis read them. Nothing here knows about an engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# --------------------------------------------------------------------------- fragments


@dataclass(frozen=True, slots=True)
class IdentifierNode:
    """A name, quoted for the engine when compiled. ``schema`` qualifies tables and types."""

    name: str
    schema: str | None = None

    @staticmethod
    def parse(dotted: str) -> IdentifierNode:
        """``"app.users"`` -> schema ``app``, name ``users``; a name without a dot has no schema."""
        if "." in dotted:
            schema, _, name = dotted.rpartition(".")
            return IdentifierNode(name, schema)
        return IdentifierNode(dotted)


@dataclass(frozen=True, slots=True)
class ValueNode:
    """A value: a bound parameter in data statements, an escaped literal in DDL."""

    value: object


@dataclass(frozen=True, slots=True)
class LiteralNode:
    """A value always rendered inline as an escaped literal (``sql.lit``)."""

    value: object


@dataclass(frozen=True, slots=True)
class RawNode:
    """Raw SQL text with interleaved parts: text, values, identifiers, literals, nested raw."""

    parts: tuple[str | ValueNode | LiteralNode | IdentifierNode | ColumnRefNode | RawNode, ...]


@dataclass(frozen=True, slots=True)
class ColumnRefNode:
    """A column reference (``db.ref("email")`` or ``"users.email"``)."""

    column: str
    table: str | None = None

    @staticmethod
    def parse(dotted: str) -> ColumnRefNode:
        if "." in dotted:
            table, _, column = dotted.rpartition(".")
            return ColumnRefNode(column, table)
        return ColumnRefNode(dotted)


Expression = ValueNode | LiteralNode | RawNode | ColumnRefNode | IdentifierNode


@dataclass(frozen=True, slots=True)
class EnumTypeNode:
    """A portable enum (``enum_type("mood", ["happy", "sad"])``).

    PostgreSQL: the named type made by ``create_type``; MySQL: ``enum('happy','sad')``;
    SQLite: ``text`` with a ``CHECK (col IN (...))``.
    """

    name: IdentifierNode
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DataTypeNode:
    """A column type as written by the user (``"varchar(255)"``), raw SQL, or a portable enum."""

    name: str | RawNode | EnumTypeNode


ReferentialAction = Literal["cascade", "set null", "restrict", "no action", "set default"]
REFERENTIAL_ACTIONS: tuple[str, ...] = ("cascade", "set null", "restrict", "no action", "set default")


@dataclass(frozen=True, slots=True)
class ReferencesNode:
    table: IdentifierNode
    columns: tuple[str, ...]
    on_delete: str | None = None
    on_update: str | None = None
    deferrable: bool = False
    initially_deferred: bool = False


@dataclass(frozen=True, slots=True)
class ColumnDefinitionNode:
    name: str
    data_type: DataTypeNode
    primary_key: bool = False
    not_null: bool = False
    unique: bool = False
    nulls_not_distinct: bool = False
    auto_increment: bool = False
    default: Expression | None = None
    references: ReferencesNode | None = None
    check: RawNode | None = None
    generated: RawNode | None = None
    stored: bool = False
    identity: Literal["always", "by default"] | None = None
    unsigned: bool = False
    collate: str | None = None
    comment: str | None = None
    if_not_exists: bool = False
    modify_front: RawNode | None = None
    modify_end: RawNode | None = None


# --------------------------------------------------------------------------- constraints


@dataclass(frozen=True, slots=True)
class PrimaryKeyConstraintNode:
    name: str | None
    columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UniqueConstraintNode:
    name: str | None
    columns: tuple[str, ...]
    nulls_not_distinct: bool = False


@dataclass(frozen=True, slots=True)
class CheckConstraintNode:
    name: str | None
    expression: RawNode


@dataclass(frozen=True, slots=True)
class ForeignKeyConstraintNode:
    name: str | None
    columns: tuple[str, ...]
    references: ReferencesNode


ConstraintNode = (
    PrimaryKeyConstraintNode | UniqueConstraintNode | CheckConstraintNode | ForeignKeyConstraintNode
)


# --------------------------------------------------------------------------- tables


@dataclass(frozen=True, slots=True)
class CreateTableNode:
    table: IdentifierNode
    columns: tuple[ColumnDefinitionNode, ...] = ()
    constraints: tuple[ConstraintNode, ...] = ()
    if_not_exists: bool = False
    temporary: bool = False
    as_select: QueryNode | None = None
    modify_front: RawNode | None = None
    modify_end: RawNode | None = None
    comment: str | None = None
    on_commit: Literal["preserve rows", "delete rows", "drop"] | None = None


@dataclass(frozen=True, slots=True)
class DropTableNode:
    table: IdentifierNode
    if_exists: bool = False
    cascade: bool = False


# alter table actions -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AddColumnNode:
    column: ColumnDefinitionNode


@dataclass(frozen=True, slots=True)
class DropColumnNode:
    column: str
    if_exists: bool = False


@dataclass(frozen=True, slots=True)
class RenameColumnNode:
    column: str
    new_name: str


@dataclass(frozen=True, slots=True)
class RenameTableNode:
    new_name: str


@dataclass(frozen=True, slots=True)
class SetSchemaNode:
    """Move the table to another schema (PostgreSQL) or database (MySQL)."""

    schema: str


@dataclass(frozen=True, slots=True)
class ModifyColumnNode:
    """MySQL's ``MODIFY COLUMN``: the column's whole new definition."""

    column: ColumnDefinitionNode


@dataclass(frozen=True, slots=True)
class TableCommentNode:
    """Set (or, with None, remove) the table's comment."""

    comment: str | None


@dataclass(frozen=True, slots=True)
class SetDataTypeNode:
    data_type: DataTypeNode
    using: RawNode | None = None


@dataclass(frozen=True, slots=True)
class SetDefaultNode:
    default: Expression


@dataclass(frozen=True, slots=True)
class DropDefaultNode:
    pass


@dataclass(frozen=True, slots=True)
class SetNotNullNode:
    pass


@dataclass(frozen=True, slots=True)
class DropNotNullNode:
    pass


ColumnAlteration = SetDataTypeNode | SetDefaultNode | DropDefaultNode | SetNotNullNode | DropNotNullNode


@dataclass(frozen=True, slots=True)
class AlterColumnNode:
    column: str
    alteration: ColumnAlteration


@dataclass(frozen=True, slots=True)
class AddConstraintNode:
    constraint: ConstraintNode
    not_valid: bool = False


@dataclass(frozen=True, slots=True)
class DropConstraintNode:
    name: str
    if_exists: bool = False
    cascade: bool = False


@dataclass(frozen=True, slots=True)
class ValidateConstraintNode:
    name: str


@dataclass(frozen=True, slots=True)
class RenameConstraintNode:
    name: str
    new_name: str


AlterTableAction = (
    AddColumnNode
    | DropColumnNode
    | RenameColumnNode
    | RenameTableNode
    | SetSchemaNode
    | AlterColumnNode
    | ModifyColumnNode
    | AddConstraintNode
    | DropConstraintNode
    | ValidateConstraintNode
    | RenameConstraintNode
    | TableCommentNode
)


@dataclass(frozen=True, slots=True)
class AlterTableNode:
    table: IdentifierNode
    actions: tuple[AlterTableAction, ...] = ()


# --------------------------------------------------------------------------- indexes


@dataclass(frozen=True, slots=True)
class IndexColumnNode:
    """One entry of an index's column list: a column (optionally descending) or an expression."""

    column: str | RawNode
    descending: bool = False


@dataclass(frozen=True, slots=True)
class CreateIndexNode:
    name: IdentifierNode
    table: IdentifierNode | None = None
    columns: tuple[IndexColumnNode, ...] = ()
    unique: bool = False
    if_not_exists: bool = False
    concurrently: bool = False
    where: RawNode | None = None
    using: str | None = None
    include: tuple[str, ...] = ()
    nulls_not_distinct: bool = False


@dataclass(frozen=True, slots=True)
class DropIndexNode:
    name: IdentifierNode
    table: IdentifierNode | None = None
    if_exists: bool = False
    concurrently: bool = False
    cascade: bool = False


# --------------------------------------------------------------------------- views


@dataclass(frozen=True, slots=True)
class CreateViewNode:
    name: IdentifierNode
    query: QueryNode | None = None
    columns: tuple[str, ...] = ()
    or_replace: bool = False
    if_not_exists: bool = False
    temporary: bool = False
    materialized: bool = False
    with_no_data: bool = False


@dataclass(frozen=True, slots=True)
class DropViewNode:
    name: IdentifierNode
    if_exists: bool = False
    cascade: bool = False
    materialized: bool = False


@dataclass(frozen=True, slots=True)
class RefreshMaterializedViewNode:
    name: IdentifierNode
    concurrently: bool = False
    with_no_data: bool = False


# --------------------------------------------------------------------------- schemas


@dataclass(frozen=True, slots=True)
class CreateSchemaNode:
    name: str
    if_not_exists: bool = False


@dataclass(frozen=True, slots=True)
class DropSchemaNode:
    name: str
    if_exists: bool = False
    cascade: bool = False


# --------------------------------------------------------------------------- types (enums)


@dataclass(frozen=True, slots=True)
class CreateTypeNode:
    name: IdentifierNode
    values: tuple[str, ...] | None = None
    if_not_exists: bool = False


@dataclass(frozen=True, slots=True)
class AddEnumValueNode:
    value: str
    before: str | None = None
    after: str | None = None
    if_not_exists: bool = False


@dataclass(frozen=True, slots=True)
class RenameEnumValueNode:
    value: str
    new_value: str


@dataclass(frozen=True, slots=True)
class RenameTypeNode:
    new_name: str


AlterTypeAction = AddEnumValueNode | RenameEnumValueNode | RenameTypeNode


@dataclass(frozen=True, slots=True)
class AlterTypeNode:
    name: IdentifierNode
    actions: tuple[AlterTypeAction, ...] = ()


@dataclass(frozen=True, slots=True)
class DropTypeNode:
    name: IdentifierNode
    if_exists: bool = False
    cascade: bool = False


# --------------------------------------------------------------------------- sequences


@dataclass(frozen=True, slots=True)
class SequenceOptionsNode:
    """Options shared by CREATE and ALTER SEQUENCE; None leaves an option as it is."""

    increment_by: int | None = None
    start_with: int | None = None
    min_value: int | None = None
    no_min_value: bool = False
    max_value: int | None = None
    no_max_value: bool = False
    cache: int | None = None
    cycle: bool | None = None
    #: ``"table.column"`` (a column reference), ``"none"``, or None for unset
    owned_by: ColumnRefNode | Literal["none"] | None = None
    restart: bool = False
    restart_with: int | None = None


@dataclass(frozen=True, slots=True)
class CreateSequenceNode:
    name: IdentifierNode
    options: SequenceOptionsNode = SequenceOptionsNode()
    if_not_exists: bool = False


@dataclass(frozen=True, slots=True)
class AlterSequenceNode:
    name: IdentifierNode
    options: SequenceOptionsNode = SequenceOptionsNode()
    if_exists: bool = False


@dataclass(frozen=True, slots=True)
class DropSequenceNode:
    name: IdentifierNode
    if_exists: bool = False
    cascade: bool = False


# --------------------------------------------------------------------------- data statements


@dataclass(frozen=True, slots=True)
class BinaryFilterNode:
    """``left op right``; ``op`` is one of the whitelisted comparison operators."""

    left: Expression
    op: str
    right: Expression | tuple[Expression, ...]


@dataclass(frozen=True, slots=True)
class AndNode:
    items: tuple[FilterNode, ...]


@dataclass(frozen=True, slots=True)
class OrNode:
    items: tuple[FilterNode, ...]


FilterNode = BinaryFilterNode | AndNode | OrNode | RawNode


@dataclass(frozen=True, slots=True)
class OrderByNode:
    expression: Expression
    descending: bool = False


@dataclass(frozen=True, slots=True)
class SelectNode:
    table: IdentifierNode
    selections: tuple[Expression, ...] = ()
    where: FilterNode | None = None
    order_by: tuple[OrderByNode, ...] = ()
    limit: int | None = None
    offset: int | None = None
    for_update: bool = False


@dataclass(frozen=True, slots=True)
class InsertNode:
    table: IdentifierNode
    columns: tuple[str, ...]
    rows: tuple[tuple[Expression, ...], ...]
    ignore_conflicts: bool = False


@dataclass(frozen=True, slots=True)
class UpdateNode:
    table: IdentifierNode
    assignments: tuple[tuple[str, Expression], ...]
    where: FilterNode | None = None


@dataclass(frozen=True, slots=True)
class DeleteNode:
    table: IdentifierNode
    where: FilterNode | None = None


# --------------------------------------------------------------------------- the union


DdlNode = (
    CreateTableNode
    | DropTableNode
    | AlterTableNode
    | CreateIndexNode
    | DropIndexNode
    | CreateViewNode
    | DropViewNode
    | RefreshMaterializedViewNode
    | CreateSchemaNode
    | DropSchemaNode
    | CreateTypeNode
    | AlterTypeNode
    | DropTypeNode
    | CreateSequenceNode
    | AlterSequenceNode
    | DropSequenceNode
)
DataNode = SelectNode | InsertNode | UpdateNode | DeleteNode
#: the query of ``CREATE TABLE ... AS`` and ``CREATE VIEW ... AS``: a select builder's node or raw SQL
QueryNode = SelectNode | RawNode
OperationNode = DdlNode | DataNode | RawNode


@dataclass(frozen=True, slots=True)
class CompiledStatement:
    """One statement ready for the driver, with the node it came from.

    ``params`` is empty for DDL (values are inlined as literals). ``transactional`` is False for
    statements that cannot run inside a transaction (PostgreSQL's ``CREATE INDEX CONCURRENTLY``).
    ``reads`` marks statements that only read and are therefore executed even in a dry run.
    """

    sql: str
    params: tuple[object, ...] = ()
    node: OperationNode | None = None
    transactional: bool = True
    reads: bool = False
    # the SQL with parameters rendered inline as literals, for humans (dry runs, scripts)
    display: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return self.display if self.display is not None else self.sql
