"""Table-level constraints shared by ``create_table`` and ``alter_table``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..errors import BuilderError
from ..fragment import Sql, name_node, to_raw
from ..nodes import (
    CheckConstraintNode,
    ForeignKeyConstraintNode,
    PrimaryKeyConstraintNode,
    RawNode,
    ReferencesNode,
    UniqueConstraintNode,
    replace,
)
from .column import qualify, referential_action


def column_names(columns: Sequence[str] | str, what: str) -> tuple[str, ...]:
    if isinstance(columns, str):
        columns = [columns]
    names = tuple(columns)
    if not names or not all(isinstance(c, str) and c for c in names):
        raise BuilderError(f"{what} needs a non-empty list of column names, got {columns!r}")
    return names


class ForeignKeyBuilder:
    """What the optional callback of ``add_foreign_key_constraint`` receives."""

    __slots__ = ("node",)

    def __init__(self, node: ForeignKeyConstraintNode) -> None:
        self.node = node

    def _ref(self, **changes: object) -> ForeignKeyBuilder:
        return ForeignKeyBuilder(replace(self.node, references=replace(self.node.references, **changes)))

    def on_delete(self, action: str) -> ForeignKeyBuilder:
        return self._ref(on_delete=referential_action(action))

    def on_update(self, action: str) -> ForeignKeyBuilder:
        return self._ref(on_update=referential_action(action))

    def deferrable(self) -> ForeignKeyBuilder:
        return self._ref(deferrable=True)

    def initially_deferred(self) -> ForeignKeyBuilder:
        return self._ref(deferrable=True, initially_deferred=True)


class UniqueConstraintBuilder:
    """What the optional callback of ``add_unique_constraint`` receives."""

    __slots__ = ("node",)

    def __init__(self, node: UniqueConstraintNode) -> None:
        self.node = node

    def nulls_not_distinct(self) -> UniqueConstraintBuilder:
        """NULLS NOT DISTINCT (PostgreSQL 15+): two NULLs count as duplicates."""
        return UniqueConstraintBuilder(replace(self.node, nulls_not_distinct=True))


def foreign_key(
    name: str | None,
    columns: Sequence[str] | str,
    table: str | Sql,
    ref_columns: Sequence[str] | str,
    build: Callable[[ForeignKeyBuilder], ForeignKeyBuilder] | None = None,
    schema: str | None = None,
) -> ForeignKeyConstraintNode:
    target = name_node(table, "add_foreign_key_constraint's referenced table")
    cols = column_names(columns, "add_foreign_key_constraint")
    refs = column_names(ref_columns, "add_foreign_key_constraint")
    if len(cols) != len(refs):
        raise BuilderError(f"foreign key {name!r} has {len(cols)} column(s) but references {len(refs)}")
    node = ForeignKeyConstraintNode(name, cols, ReferencesNode(qualify(target, schema), refs))
    if build is not None:
        if not callable(build):
            raise BuilderError(f"the build argument of foreign key {name!r} is a callback such as lambda fk: fk.on_delete('cascade'), got {build!r}")
        result = build(ForeignKeyBuilder(node))
        if not isinstance(result, ForeignKeyBuilder):
            raise BuilderError(f"the callback for foreign key {name!r} must return the builder")
        node = result.node
    return node


def primary_key(
    name: str | None, columns: Sequence[str] | str | None, using_index: str | None = None
) -> PrimaryKeyConstraintNode:
    if using_index is not None:
        return PrimaryKeyConstraintNode(name, (), using_index=_index_only("add_primary_key_constraint", columns, using_index))
    return PrimaryKeyConstraintNode(name, column_names(columns or (), "add_primary_key_constraint"))


#: why a constraint made from an index (using_index=) takes no NULLS NOT DISTINCT of its own
_INDEX_AS_IT_IS = (
    "add_unique_constraint(using_index=...) takes the index as it is: build the index with nulls_not_distinct() instead"
)


def unique(
    name: str | None,
    columns: Sequence[str] | str | None,
    nulls_not_distinct: bool = False,
    using_index: str | None = None,
    build: Callable[[UniqueConstraintBuilder], UniqueConstraintBuilder] | None = None,
) -> UniqueConstraintNode:
    if using_index is not None:
        if nulls_not_distinct or build is not None:
            raise BuilderError(_INDEX_AS_IT_IS)
        return UniqueConstraintNode(name, (), using_index=_index_only("add_unique_constraint", columns, using_index))
    node = UniqueConstraintNode(name, column_names(columns or (), "add_unique_constraint"), nulls_not_distinct)
    if build is not None:
        if not callable(build):
            several = f" (several columns go in one list: [{columns!r}, {build!r}])" if isinstance(columns, str) and isinstance(build, str) else ""
            raise BuilderError(
                f"the build argument of unique constraint {name!r} is a callback such as lambda u: u.nulls_not_distinct(), "
                f"got {build!r}{several}"
            )
        result = build(UniqueConstraintBuilder(node))
        if not isinstance(result, UniqueConstraintBuilder):
            raise BuilderError(f"the callback for unique constraint {name!r} must return the builder, e.g. lambda u: u.nulls_not_distinct()")
        node = result.node
    return node


def unique_nulls_not_distinct(last: object, method: str) -> UniqueConstraintNode:
    """The unique constraint added just before ``.nulls_not_distinct()``, with the clause set."""
    if not isinstance(last, UniqueConstraintNode):
        raise BuilderError(f"{method}() must follow add_unique_constraint(...)")
    if last.using_index is not None:
        raise BuilderError(_INDEX_AS_IT_IS)
    return replace(last, nulls_not_distinct=True)


def _index_only(method: str, columns: Sequence[str] | str | None, index: object) -> str:
    """The index of ``using_index=``: it brings its own columns, so none are named."""
    if columns:
        raise BuilderError(f"{method}(using_index=...) takes the index's columns: name either columns or using_index, not both")
    if not isinstance(index, str) or not index:
        raise BuilderError(f"{method}(using_index=...) needs the name of an existing unique index, got {index!r}")
    return index


def check(name: str | None, expression: Sql | str) -> CheckConstraintNode:
    node = RawNode((expression,)) if isinstance(expression, str) else to_raw(expression)
    return CheckConstraintNode(name, node)
