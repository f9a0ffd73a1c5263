"""``db.select_from``, ``db.insert_into``, ``db.update_table``, ``db.delete_from``."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Self, TypeVar

from ..errors import BuilderError
from ..fragment import Sql
from ..nodes import (
    BinaryFilterNode,
    DeleteNode,
    Expression,
    FilterNode,
    IdentifierNode,
    InsertNode,
    JoinKind,
    JoinNode,
    OrderByNode,
    SelectNode,
    UpdateNode,
    replace,
)
from ..schema.executable import Executable, query_node
from .conflict import OnConflictAction, OnConflictBuilder
from .expressions import (
    Ref,
    aliased_node,
    assignments,
    column_expression,
    column_names,
    filter_node,
    flattened,
    value_expression,
)
from .expressions import and_filter as _and

if TYPE_CHECKING:
    from ..database import Database
    from ..dialects.base import Row


#: ``"users.email as contact"``: a selected column and the name it comes back under
_ALIASED = r"(?i)^\s*(\S+)\s+as\s+(\S+)\s*$"  # compiled when first used (re's cache)


def _selection(column: object) -> Expression:
    if isinstance(column, str):
        aliased = re.match(_ALIASED, column)
        if aliased:
            return aliased_node(column_expression(aliased.group(1)), aliased.group(2))
    return column_expression(column)


def aliased_table(db: Database, table: str | Sql, method: str) -> tuple[IdentifierNode, str | None]:
    """The table of ``select_from`` or a join, and the name the query gives it: ``"person as p"``
    (Kysely's spelling) is table ``person`` called ``p``, so that a table can be joined to itself."""
    if isinstance(table, str):
        aliased = re.match(_ALIASED, table)
        if aliased:
            alias = aliased.group(2)
            if "." in alias:
                raise BuilderError(f"{method}({table!r}): an alias is a plain name, such as 'p' in 'person as p'")
            return db._table(aliased.group(1)), alias
    return db._table(table), None


def unaliased_table(db: Database, table: str | Sql, method: str) -> IdentifierNode:
    """The table of ``insert_into``, ``update_table`` and ``delete_from``, which take no alias:
    ``"person as p"`` there would name a table "person as p", and fail on the server."""
    if isinstance(table, str) and re.match(_ALIASED, table):
        raise BuilderError(
            f"{method}({table!r}): only select_from and the joins take a table with another name; "
            f"write the table alone, {method}({table.split()[0]!r}), and its columns with its own name"
        )
    return db._table(table)


def _row_count(count: object, method: str) -> int:
    """A number of rows for ``limit`` / ``offset``: a whole number, 0 or more. LIMIT -1 is every
    row on SQLite and an error elsewhere; 2.5 would be cut to 2 without a word."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise BuilderError(f"{method}() takes a whole number of rows, 0 or more, got {count!r}")
    return count


class SelectBuilder(Executable[SelectNode]):
    __slots__ = ()

    def __init__(self, db: Database, table: IdentifierNode | SelectNode) -> None:
        super().__init__(db, table if isinstance(table, SelectNode) else SelectNode(table))

    def _with(self, **changes: object) -> SelectBuilder:
        return SelectBuilder(self._db, replace(self._node, **changes))

    def select(self, *columns: Sequence[object] | object) -> SelectBuilder:
        """Columns or expressions: ``select(["id", "email"])``, ``select("id", "email")``,
        ``select(sql("count(*)"))``; ``"email as contact"`` or ``.as_("n")`` on ``db.ref(...)`` /
        ``sql(...)`` names the result column."""
        flat = flattened(columns)
        return self._with(selections=(*self._node.selections, *(_selection(c) for c in flat)))

    def where(self, *args: object) -> SelectBuilder:
        """Filters; several ``where`` calls are joined with AND."""
        return self._with(where=_and(self._node.where, filter_node(*args)))

    def inner_join(self, table: str | Sql, *on: object) -> SelectBuilder:
        """``INNER JOIN table ON ...``: ``inner_join("pet", "pet.owner_id", "person.id")`` (two
        columns that are equal, named with their tables) or ``inner_join("pet", sql(...))``.
        ``"person as parent"`` gives the table another name, to join a table to itself."""
        return self._join("inner", table, on)

    def left_join(self, table: str | Sql, *on: object) -> SelectBuilder:
        """``LEFT JOIN table ON ...``: as :meth:`inner_join`; a row without a match keeps NULLs
        in the joined table's columns."""
        return self._join("left", table, on)

    def _join(self, kind: JoinKind, table: str | Sql, on: tuple[object, ...]) -> SelectBuilder:
        method = f"{kind}_join"
        if len(on) == 2:
            left, right = on
            for side in (left, right):
                if not isinstance(side, str | Sql | Ref):
                    raise BuilderError(f"{method}(table, column, column) takes column names such as 'pet.owner_id', got {side!r}")
            condition: FilterNode = BinaryFilterNode(column_expression(left), "=", column_expression(right))
        elif len(on) == 1 and isinstance(on[0], Sql):
            condition = on[0].node
        else:
            raise BuilderError(
                f"{method}() takes the table and two columns that are equal, {method}('pet', 'pet.owner_id', 'person.id'), "
                f"or the table and sql(...) for another condition"
            )
        target, alias = aliased_table(self._db, table, method)
        joined = JoinNode(kind, target, condition, alias)
        return self._with(joins=(*self._node.joins, joined))

    def order_by(self, column: object, direction: str = "asc") -> SelectBuilder:
        if direction.lower() not in ("asc", "desc"):
            raise BuilderError(f"order_by direction is 'asc' or 'desc', got {direction!r}")
        item = OrderByNode(column_expression(column), direction.lower() == "desc")
        return self._with(order_by=(*self._node.order_by, item))

    def limit(self, count: int) -> SelectBuilder:
        return self._with(limit=_row_count(count, "limit"))

    def offset(self, count: int) -> SelectBuilder:
        return self._with(offset=_row_count(count, "offset"))

    def for_update(self) -> SelectBuilder:
        return self._with(for_update=True)

    def fetch_all(self) -> list[Row]:
        """The matching rows as dicts (the same as ``execute().rows``)."""
        return self.execute().rows

    def fetch_one(self) -> Row | None:
        """The first matching row, or None. Only one row is asked for (``LIMIT 1``, unless the
        query has a limit of its own): a large table's other rows are not read to be dropped."""
        query = self if self._node.limit is not None else self._with(limit=1)
        return query.execute().first()


M = TypeVar("M", InsertNode, UpdateNode, DeleteNode)


class _ChangesRows(Executable[M]):
    """What insert, update and delete builders share: ``returning`` and the rows it gives back."""

    __slots__ = ()

    def returning(self, *columns: Sequence[object] | object) -> Self:
        """The rows the statement changed, given back by ``execute()`` (``fetch_all()``,
        ``fetch_one()``): ``returning("id", "name")``, ``"email as contact"``, ``db.ref(...)`` or
        ``sql(...)`` as in ``select``. PostgreSQL, SQLite 3.35+, MariaDB 10.5+ (not UPDATE's)."""
        flat: list[object] = flattened(columns)
        if not flat:
            raise BuilderError("returning() takes one or more columns, such as returning('id')")
        return self._changed(returning=(*self._node.returning, *(_selection(c) for c in flat)))

    def fetch_all(self) -> list[Row]:
        """Run the statement; the rows of its ``returning(...)`` (the same as ``execute().rows``)."""
        return self._with_returning("fetch_all").execute().rows

    def fetch_one(self) -> Row | None:
        """Run the statement (every row it matches still changes); the first row of its
        ``returning(...)``, or None."""
        return self._with_returning("fetch_one").execute().first()

    def _with_returning(self, method: str) -> Self:
        if not self._node.returning:
            raise BuilderError(
                f"{method}() gives back the rows of returning(...); add .returning('id', ...) first, "
                "or run the statement with .execute()"
            )
        return self


class InsertBuilder(_ChangesRows[InsertNode]):
    __slots__ = ()

    def __init__(self, db: Database, table: IdentifierNode | InsertNode) -> None:
        super().__init__(db, table if isinstance(table, InsertNode) else InsertNode(table, (), ()))

    def columns(self, *names: str | Sequence[str]) -> InsertBuilder:
        """The columns the rows of :meth:`expression` fill, in order: ``columns("a", "b")``.
        Before ``values(...)``, every row must have these columns."""
        columns = column_names(names, "columns")
        if self._node.rows and set(columns) != set(self._node.columns):
            raise BuilderError(f"columns({', '.join(map(repr, columns))}) differ from the columns of values(): {list(self._node.columns)}")
        return self._changed(columns=columns)

    def values(self, rows: Mapping[str, object] | Sequence[Mapping[str, object]]) -> InsertBuilder:
        """One row (a dict) or several (a list of dicts with the same keys)."""
        if self._node.query is not None:
            raise BuilderError(_TWO_SOURCES.format(table=self._node.table.name))
        batch = [rows] if isinstance(rows, Mapping) else list(rows)
        if not batch:
            raise BuilderError("values() needs at least one row")
        columns = self._node.columns or tuple(batch[0].keys())
        if not columns:
            raise BuilderError("values() needs at least one column")
        new_rows = []
        for row in batch:
            if set(row.keys()) != set(columns):
                raise BuilderError(f"every row must have the columns {list(columns)}, got {list(row.keys())}")
            new_rows.append(tuple(value_expression(row[c]) for c in columns))
        return InsertBuilder(self._db, replace(self._node, columns=columns, rows=(*self._node.rows, *new_rows)))

    def expression(self, query: object) -> InsertBuilder:
        """INSERT ... SELECT: the rows a query gives, ``db.select_from(...)`` or ``sql(...)``;
        ``columns(...)`` names the columns they fill, in the order the query selects them."""
        if self._node.rows:
            raise BuilderError(_TWO_SOURCES.format(table=self._node.table.name))
        return self._changed(query=query_node(query, "expression()"))

    def ignore_conflicts(self) -> InsertBuilder:
        """Skip rows that would duplicate a primary key or unique constraint; any other error
        (a NULL into a NOT NULL column, a value that does not fit) still fails. PostgreSQL and
        SQLite: ``ON CONFLICT DO NOTHING``; MySQL/MariaDB: ``ON DUPLICATE KEY UPDATE`` of a column
        to itself (not ``INSERT IGNORE``, which lets those other errors through as warnings; the
        row count then includes the rows skipped)."""
        self._one_conflict_clause("ignore_conflicts")
        return InsertBuilder(self._db, replace(self._node, ignore_conflicts=True))

    def on_conflict(self, build: Callable[[OnConflictBuilder], OnConflictAction]) -> InsertBuilder:
        """What a row whose key is taken does (PostgreSQL, SQLite: ``ON CONFLICT``):
        ``on_conflict(lambda oc: oc.column("id").do_update_set({"name": excluded("name")}))`` or
        ``on_conflict(lambda oc: oc.column("id").do_nothing())``. MySQL/MariaDB: :meth:`on_duplicate_key_update`."""
        self._one_conflict_clause("on_conflict")
        if not callable(build):
            raise BuilderError(f"on_conflict() takes a callback such as lambda oc: oc.column('id').do_nothing(), got {build!r}")
        action = build(OnConflictBuilder())
        if not isinstance(action, OnConflictAction):
            raise BuilderError(
                "the callback of on_conflict() must end in .do_nothing() or .do_update_set({...}), "
                "e.g. lambda oc: oc.column('id').do_nothing()"
            )
        return self._changed(on_conflict=action.node)

    def on_duplicate_key_update(self, values: Mapping[str, object]) -> InsertBuilder:
        """MySQL/MariaDB's upsert: a row whose primary key or unique key is taken updates the
        existing row instead: ``on_duplicate_key_update({"name": excluded("name")})``.
        PostgreSQL and SQLite: :meth:`on_conflict`."""
        self._one_conflict_clause("on_duplicate_key_update")
        pairs = assignments(values, "on_duplicate_key_update", self._node.on_duplicate_key_update)
        return self._changed(on_duplicate_key_update=pairs)

    def _one_conflict_clause(self, method: str) -> None:
        """The three ways to say what a duplicate key does exclude each other."""
        node = self._node
        given = [
            name
            for name, present in (
                ("ignore_conflicts", node.ignore_conflicts),
                ("on_conflict", node.on_conflict is not None),
                ("on_duplicate_key_update", bool(node.on_duplicate_key_update)),
            )
            if present and name != method
        ]
        if not given:
            return
        other = given[0]
        if {method, other} == {"on_conflict", "on_duplicate_key_update"}:
            raise BuilderError(
                "on_conflict(...) is PostgreSQL's and SQLite's upsert and on_duplicate_key_update(...) MySQL's and "
                "MariaDB's: an insert takes one of them (choose by db.dialect.name)"
            )
        raise BuilderError(
            f"{method}() and {other}() both say what a duplicate key does: use one "
            "(ignore_conflicts() is on_conflict(lambda oc: oc.do_nothing()))"
        )


_TWO_SOURCES = (
    "insert_into({table!r}) takes its rows from values(...) or from expression(...) (INSERT ... SELECT), not both"
)


class UpdateBuilder(_ChangesRows[UpdateNode]):
    __slots__ = ()

    def __init__(self, db: Database, table: IdentifierNode | UpdateNode) -> None:
        super().__init__(db, table if isinstance(table, UpdateNode) else UpdateNode(table, ()))

    def set(self, values: Mapping[str, object]) -> UpdateBuilder:
        """``set({"email_new": db.ref("email"), "status": "active"})``."""
        return self._changed(assignments=assignments(values, "set", self._node.assignments))

    def where(self, *args: object) -> UpdateBuilder:
        return UpdateBuilder(self._db, replace(self._node, where=_and(self._node.where, filter_node(*args))))


class DeleteBuilder(_ChangesRows[DeleteNode]):
    __slots__ = ()

    def __init__(self, db: Database, table: IdentifierNode | DeleteNode) -> None:
        super().__init__(db, table if isinstance(table, DeleteNode) else DeleteNode(table))

    def where(self, *args: object) -> DeleteBuilder:
        return DeleteBuilder(self._db, replace(self._node, where=_and(self._node.where, filter_node(*args))))
