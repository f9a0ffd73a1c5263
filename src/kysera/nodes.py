"""Immutable operation nodes: the one language of kysera.

Builders produce these frozen dataclasses; one compiler per dialect turns them into SQL; the
runner, the dry run and the safety analysis read them. Nothing here knows about an engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Literal, TypeVar, dataclass_transform

T = TypeVar("T")


class FrozenNodeError(AttributeError):
    """Nodes are immutable: make a changed copy with :func:`replace`."""


class Node:
    """Base of every operation node: immutable, compared and hashed by its fields.

    The ``@node`` decorator below stands in for ``@dataclass(frozen=True)``: it records the
    fields and their defaults once, and every node starts with one shared ``__init__``.
    Generating code for each of sixty dataclasses cost ~20 ms at import, a fifth of ``kysera
    migrate status``; so a class gets its own generated ``__init__`` (five times faster) only once
    it has been built :data:`SPECIALIZE_AFTER` times, as in a run of many migrations.
    """

    __node_fields__: ClassVar[tuple[str, ...]] = ()
    __node_defaults__: ClassVar[dict[str, object]] = {}
    __node_compare__: ClassVar[tuple[str, ...]] = ()
    __node_field_set__: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, *args: object, **kwargs: object) -> None:
        # Builders make dozens of nodes per statement: fill the instance dict with C-level
        # updates (defaults, then positional, then keyword arguments) and check the count.
        cls = type(self)
        built = _built.get(cls, 0) + 1
        if built >= SPECIALIZE_AFTER:
            _specialize(cls)
            cls.__init__(self, *args, **kwargs)  # the generated one
            return
        _built[cls] = built
        names = cls.__node_fields__
        given = len(args)
        if given > len(names):
            raise TypeError(f"{cls.__name__}() takes {len(names)} arguments, {given} given")
        values = self.__dict__
        values.update(cls.__node_defaults__)
        if given:
            values.update(zip(names, args, strict=False))
        if kwargs:
            if not kwargs.keys() <= cls.__node_field_set__ or (given and any(k in names[:given] for k in kwargs)):
                bad = next(k for k in kwargs if k not in cls.__node_field_set__ or k in names[:given])
                raise TypeError(f"{cls.__name__}() got an unexpected or repeated argument {bad!r}")
            values.update(kwargs)
        if len(values) != len(names):
            missing = next(name for name in names if name not in values)
            raise TypeError(f"{cls.__name__}() is missing the argument {missing!r}")

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenNodeError(f"{type(self).__name__} is immutable; use kysera.nodes.replace()")

    def __delattr__(self, name: str) -> None:
        raise FrozenNodeError(f"{type(self).__name__} is immutable")

    def _key(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__node_compare__)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash((type(self), self._key()))

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__node_fields__)
        return f"{type(self).__name__}({inner})"


class _NoCompare:
    """A default that is left out of equality (``display`` of a compiled statement)."""

    __slots__ = ("default",)

    def __init__(self, default: object) -> None:
        self.default = default


def field(*, default: Any = None, compare: bool = True) -> Any:
    return default if compare else _NoCompare(default)


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def node(cls: type[T]) -> type[T]:
    """Make ``cls`` (a subclass of :class:`Node`) a frozen node with its annotated fields."""
    if cls.__bases__ != (Node,):  # fields and the generated __init__ are per class, not inherited
        raise TypeError(f"node class {cls.__name__} must derive from Node directly")
    names: list[str] = []
    defaults: dict[str, object] = {}
    compare: list[str] = []
    for name in cls.__dict__.get("__annotations__", {}):  # noqa: RUF063 - own fields only, no inspect import
        names.append(name)
        value = cls.__dict__.get(name, _MISSING)
        if isinstance(value, _NoCompare):
            defaults[name] = value.default
            delattr(cls, name)
        else:
            compare.append(name)
            if value is not _MISSING:
                defaults[name] = value
                delattr(cls, name)
    cls.__node_fields__ = tuple(names)  # type: ignore[attr-defined]
    cls.__node_defaults__ = defaults  # type: ignore[attr-defined]
    cls.__node_compare__ = tuple(compare)  # type: ignore[attr-defined]
    cls.__node_field_set__ = frozenset(names)  # type: ignore[attr-defined]
    setattr(cls, "__match_args__", tuple(names))  # noqa: B010
    return cls


_MISSING = object()

#: how many nodes of a class are built with the shared ``__init__`` before it gets its own
SPECIALIZE_AFTER = 32
_built: dict[type, int] = {}


def _specialize(cls: type) -> None:
    """Give ``cls`` a generated ``__init__`` that stores its fields directly (defaults included)."""
    names: tuple[str, ...] = cls.__node_fields__  # type: ignore[attr-defined]
    defaults: dict[str, object] = cls.__node_defaults__  # type: ignore[attr-defined]
    params = ", ".join(f"{name}=_defaults[{name!r}]" if name in defaults else name for name in names)
    body = "".join(f"    _d[{name!r}] = {name}\n" for name in names) or "    pass\n"
    source = f"def __init__(self, {params}):\n    _d = self.__dict__\n{body}" if names else "def __init__(self):\n    pass\n"
    namespace: dict[str, object] = {"_defaults": defaults}
    exec(source, namespace)  # code built from the class's own field names
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"  # type: ignore[attr-defined]
    type.__setattr__(cls, "__init__", init)
    _built.pop(cls, None)


def replace(obj: T, /, **changes: Any) -> T:
    """A copy of ``obj`` with ``changes``; works for nodes and for ordinary dataclasses."""
    cls = type(obj)
    fields: frozenset[str] | None = getattr(cls, "__node_field_set__", None)
    if fields is None:
        import dataclasses

        return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
    if not changes.keys() <= fields:
        unknown = sorted(set(changes) - fields)
        raise TypeError(f"{cls.__name__} has no field(s) {', '.join(unknown)}")
    copy = cls.__new__(cls)
    values = copy.__dict__  # a node's fields are its whole instance dict
    values.update(obj.__dict__)
    values.update(changes)
    return copy


# --------------------------------------------------------------------------- fragments


@node
class IdentifierNode(Node):
    """A name, quoted for the engine when compiled. ``schema`` qualifies tables and types."""

    name: str
    schema: str | None = None

    @property
    def dotted(self) -> str:
        """``app.users``, or ``users`` without a schema: the spelling :meth:`parse` reads, for
        messages and for the catalog functions that take a table's name as text."""
        return f"{self.schema}.{self.name}" if self.schema else self.name

    @staticmethod
    def parse(dotted: str) -> IdentifierNode:
        """``"app.users"`` -> schema ``app``, name ``users``; a name without a dot has no schema."""
        if "." in dotted:
            schema, _, name = dotted.rpartition(".")
            return IdentifierNode(name, schema)
        return IdentifierNode(dotted)


@node
class ValueNode(Node):
    """A value: a bound parameter in data statements, an escaped literal in DDL."""

    value: object


@node
class LiteralNode(Node):
    """A value always rendered inline as an escaped literal (``sql.lit``)."""

    value: object


@node
class RawNode(Node):
    """Raw SQL text with interleaved parts: text, values, identifiers, literals, nested raw."""

    parts: tuple[str | ValueNode | LiteralNode | IdentifierNode | ColumnRefNode | RawNode, ...]


@node
class ColumnRefNode(Node):
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


@node
class EnumTypeNode(Node):
    """A portable enum (``enum_type("mood", ["happy", "sad"])``).

    PostgreSQL: the named type made by ``create_type``; MySQL: ``enum('happy','sad')``;
    SQLite: ``text`` with a ``CHECK (col IN (...))``.
    """

    name: IdentifierNode
    values: tuple[str, ...]


@node
class DataTypeNode(Node):
    """A column type as written by the user (``"varchar(255)"``), raw SQL, or a portable enum."""

    name: str | RawNode | EnumTypeNode


ReferentialAction = Literal["cascade", "set null", "restrict", "no action", "set default"]
REFERENTIAL_ACTIONS: tuple[str, ...] = ("cascade", "set null", "restrict", "no action", "set default")


@node
class ReferencesNode(Node):
    table: IdentifierNode
    columns: tuple[str, ...]
    on_delete: str | None = None
    on_update: str | None = None
    deferrable: bool = False
    initially_deferred: bool = False


@node
class ColumnDefinitionNode(Node):
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


@node
class PrimaryKeyConstraintNode(Node):
    name: str | None
    columns: tuple[str, ...]
    #: PostgreSQL's ``PRIMARY KEY USING INDEX idx``: an existing unique index becomes the key
    #: (``columns`` are then the index's, unknown until the catalog is read: ``()``)
    using_index: str | None = None


@node
class UniqueConstraintNode(Node):
    name: str | None
    columns: tuple[str, ...]
    nulls_not_distinct: bool = False
    #: PostgreSQL's ``UNIQUE USING INDEX idx`` (see :class:`PrimaryKeyConstraintNode`)
    using_index: str | None = None


@node
class CheckConstraintNode(Node):
    name: str | None
    expression: RawNode


@node
class ForeignKeyConstraintNode(Node):
    name: str | None
    columns: tuple[str, ...]
    references: ReferencesNode


ConstraintNode = (
    PrimaryKeyConstraintNode | UniqueConstraintNode | CheckConstraintNode | ForeignKeyConstraintNode
)


# --------------------------------------------------------------------------- tables


@node
class CreateTableNode(Node):
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


@node
class DropTableNode(Node):
    table: IdentifierNode
    if_exists: bool = False
    cascade: bool = False


# alter table actions -------------------------------------------------------


@node
class AddColumnNode(Node):
    column: ColumnDefinitionNode


@node
class DropColumnNode(Node):
    column: str
    if_exists: bool = False


@node
class RenameColumnNode(Node):
    column: str
    new_name: str


@node
class RenameTableNode(Node):
    new_name: str


@node
class SetSchemaNode(Node):
    """Move the table to another schema (PostgreSQL) or database (MySQL)."""

    schema: str


@node
class ModifyColumnNode(Node):
    """MySQL's ``MODIFY COLUMN``: the column's whole new definition."""

    column: ColumnDefinitionNode


@node
class TableCommentNode(Node):
    """Set (or, with None, remove) the table's comment."""

    comment: str | None


@node
class SetDataTypeNode(Node):
    data_type: DataTypeNode
    using: RawNode | None = None


@node
class SetDefaultNode(Node):
    default: Expression


@node
class DropDefaultNode(Node):
    pass


@node
class SetNotNullNode(Node):
    pass


@node
class DropNotNullNode(Node):
    pass


ColumnAlteration = SetDataTypeNode | SetDefaultNode | DropDefaultNode | SetNotNullNode | DropNotNullNode


@node
class AlterColumnNode(Node):
    column: str
    alteration: ColumnAlteration


@node
class AddConstraintNode(Node):
    constraint: ConstraintNode
    not_valid: bool = False


@node
class DropConstraintNode(Node):
    name: str
    if_exists: bool = False
    cascade: bool = False


@node
class ValidateConstraintNode(Node):
    name: str


@node
class RenameConstraintNode(Node):
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


#: MySQL/MariaDB's ``ALGORITHM=`` values (``nocopy``: MariaDB only), as the builders take them
DDL_ALGORITHMS: tuple[str, ...] = ("instant", "inplace", "nocopy", "copy", "default")
#: MySQL/MariaDB's ``LOCK=`` values
DDL_LOCKS: tuple[str, ...] = ("none", "shared", "exclusive", "default")


@node
class AlterTableNode(Node):
    """``algorithm`` / ``lock``: MySQL's online DDL clauses (None: not given; ignored elsewhere);
    ``online_auto`` marks clauses the runner added, not the user (for the message of a refusal)."""

    table: IdentifierNode
    actions: tuple[AlterTableAction, ...] = ()
    algorithm: str | None = None
    lock: str | None = None
    online_auto: bool = field(default=False, compare=False)


# --------------------------------------------------------------------------- indexes


@node
class IndexColumnNode(Node):
    """One entry of an index's column list: a column (optionally descending) or an expression."""

    column: str | RawNode
    descending: bool = False


@node
class CreateIndexNode(Node):
    name: IdentifierNode
    table: IdentifierNode | None = None
    columns: tuple[IndexColumnNode, ...] = ()
    unique: bool = False
    if_not_exists: bool = False
    concurrently: bool = False
    #: the partial index's predicate: sql(...) text, or where(column, op, value) / where({...})
    where: FilterNode | None = None
    using: str | None = None
    include: tuple[str, ...] = ()
    nulls_not_distinct: bool = False
    algorithm: str | None = None
    lock: str | None = None
    online_auto: bool = field(default=False, compare=False)


@node
class DropIndexNode(Node):
    name: IdentifierNode
    table: IdentifierNode | None = None
    if_exists: bool = False
    concurrently: bool = False
    cascade: bool = False
    algorithm: str | None = None
    lock: str | None = None
    online_auto: bool = field(default=False, compare=False)


# --------------------------------------------------------------------------- views


@node
class CreateViewNode(Node):
    name: IdentifierNode
    query: QueryNode | None = None
    columns: tuple[str, ...] = ()
    or_replace: bool = False
    if_not_exists: bool = False
    temporary: bool = False
    materialized: bool = False
    with_no_data: bool = False


@node
class DropViewNode(Node):
    name: IdentifierNode
    if_exists: bool = False
    cascade: bool = False
    materialized: bool = False


@node
class RefreshMaterializedViewNode(Node):
    name: IdentifierNode
    concurrently: bool = False
    with_no_data: bool = False


# --------------------------------------------------------------------------- schemas


@node
class CreateSchemaNode(Node):
    name: str
    if_not_exists: bool = False


@node
class DropSchemaNode(Node):
    name: str
    if_exists: bool = False
    cascade: bool = False


# --------------------------------------------------------------------------- types (enums)


@node
class CreateTypeNode(Node):
    name: IdentifierNode
    values: tuple[str, ...] | None = None
    if_not_exists: bool = False


@node
class AddEnumValueNode(Node):
    value: str
    before: str | None = None
    after: str | None = None
    if_not_exists: bool = False


@node
class RenameEnumValueNode(Node):
    value: str
    new_value: str


@node
class RenameTypeNode(Node):
    new_name: str


AlterTypeAction = AddEnumValueNode | RenameEnumValueNode | RenameTypeNode


@node
class AlterTypeNode(Node):
    name: IdentifierNode
    actions: tuple[AlterTypeAction, ...] = ()


@node
class DropTypeNode(Node):
    name: IdentifierNode
    if_exists: bool = False
    cascade: bool = False


# --------------------------------------------------------------------------- sequences


@node
class SequenceOptionsNode(Node):
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


@node
class CreateSequenceNode(Node):
    name: IdentifierNode
    options: SequenceOptionsNode = SequenceOptionsNode()
    if_not_exists: bool = False


@node
class AlterSequenceNode(Node):
    name: IdentifierNode
    options: SequenceOptionsNode = SequenceOptionsNode()
    if_exists: bool = False


@node
class DropSequenceNode(Node):
    name: IdentifierNode
    if_exists: bool = False
    cascade: bool = False


# --------------------------------------------------------------------------- data statements


@node
class BinaryFilterNode(Node):
    """``left op right``; ``op`` is one of the whitelisted comparison operators."""

    left: Expression
    op: str
    right: Expression | tuple[Expression, ...]


@node
class AndNode(Node):
    items: tuple[FilterNode, ...]


@node
class OrNode(Node):
    items: tuple[FilterNode, ...]


FilterNode = BinaryFilterNode | AndNode | OrNode | RawNode


@node
class OrderByNode(Node):
    expression: Expression
    descending: bool = False


JoinKind = Literal["inner", "left"]


@node
class JoinNode(Node):
    """``INNER JOIN table [AS alias] ON ...`` / ``LEFT JOIN ...`` of a select."""

    kind: JoinKind
    table: IdentifierNode
    on: FilterNode
    alias: str | None = None


@node
class SelectNode(Node):
    table: IdentifierNode
    selections: tuple[Expression, ...] = ()
    where: FilterNode | None = None
    order_by: tuple[OrderByNode, ...] = ()
    limit: int | None = None
    offset: int | None = None
    for_update: bool = False
    joins: tuple[JoinNode, ...] = ()
    #: ``select_from("person as p")``: the name the query gives the table
    alias: str | None = None


@node
class OnConflictNode(Node):
    """PostgreSQL's and SQLite's ``ON CONFLICT``: the conflict target (``columns``, or PostgreSQL's
    ``constraint``; neither for a DO NOTHING on any conflict), the predicate of a partial unique
    index it names (``where``), and the action: ``DO NOTHING`` when ``updates`` is None, else
    ``DO UPDATE SET`` those columns (``update_where``: only for the existing rows it matches)."""

    columns: tuple[str, ...] = ()
    constraint: str | None = None
    where: FilterNode | None = None
    updates: tuple[tuple[str, Expression], ...] | None = None
    update_where: FilterNode | None = None


@node
class InsertNode(Node):
    """``rows`` (VALUES) or ``query`` (INSERT ... SELECT: a select builder's node or raw SQL);
    what a duplicate key does: ``ignore_conflicts``, ``on_conflict`` (PostgreSQL, SQLite) or
    ``on_duplicate_key_update`` (MySQL/MariaDB); ``returning``: the expressions of the rows
    it gives back."""

    table: IdentifierNode
    columns: tuple[str, ...]
    rows: tuple[tuple[Expression, ...], ...]
    ignore_conflicts: bool = False
    query: QueryNode | None = None
    on_conflict: OnConflictNode | None = None
    on_duplicate_key_update: tuple[tuple[str, Expression], ...] = ()
    returning: tuple[Expression, ...] = ()


@node
class UpdateNode(Node):
    table: IdentifierNode
    assignments: tuple[tuple[str, Expression], ...]
    where: FilterNode | None = None
    returning: tuple[Expression, ...] = ()


@node
class BackfillNode(Node):
    """``db.backfill(...)``: an UPDATE run in primary-key batches of ``batch_size``, each batch
    committed on its own. A dry run records it (with the first batch's UPDATE as its SQL); the
    real run executes plain :class:`UpdateNode` batches."""

    table: IdentifierNode
    assignments: tuple[tuple[str, Expression], ...]
    where: FilterNode | None
    key: str
    batch_size: int


@node
class DeleteNode(Node):
    table: IdentifierNode
    where: FilterNode | None = None
    returning: tuple[Expression, ...] = ()


def returns_rows(node: object) -> bool:
    """Whether ``node`` is a data change that gives rows back (``RETURNING``): it changes data,
    so a dry run records it without running it, and the rows its code would get are missing."""
    return bool(getattr(node, "returning", ())) and isinstance(node, _CHANGES_ROWS)


#: a tuple: ``isinstance`` with ``A | B`` builds the union on each call
_CHANGES_ROWS = (InsertNode, UpdateNode, DeleteNode)


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
DataNode = SelectNode | InsertNode | UpdateNode | DeleteNode | BackfillNode
#: the query of ``CREATE TABLE ... AS`` and ``CREATE VIEW ... AS``: a select builder's node or raw SQL
QueryNode = SelectNode | RawNode
OperationNode = DdlNode | DataNode | RawNode


@node
class CompiledStatement(Node):
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
    # the SQL with parameters rendered inline as literals, for humans (dry runs, scripts,
    # errors); a function that renders it when asked, for statements that usually run unshown
    display: str | Callable[[], str] | None = field(default=None, compare=False)
    #: where the statement was written, for findings and failures: ``path:line`` of a ``.sql``
    #: migration's statement (None for what kysera compiled)
    location: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        display = self.display
        if display is None:
            return self.sql
        return display if isinstance(display, str) else display()

    def __repr__(self) -> str:
        # the SQL and what the driver gets, not the tree it was compiled from: a result printed
        # in a REPL would otherwise show every node of every statement (``.node`` still has it)
        extra = "".join(
            f", {name}={value!r}"
            for name, value, usual in (("params", self.params, ()), ("transactional", self.transactional, True), ("reads", self.reads, False))
            if value != usual
        )
        return f"CompiledStatement({self.sql!r}{extra})"
