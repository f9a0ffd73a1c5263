"""``db.backfill``: update a big table in primary-key batches, each in its own short transaction.

This is how the guide's "migrate data" step should be written for a large table: no lock is held
longer than one batch, replicas keep up, and a crash loses at most one batch. Make the ``where``
idempotent (``sql("email_new IS NULL")``) and a rerun skips what is done, so it resumes.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .dialects.raw_text import VOLATILE_CALL, columns_read
from .errors import BuilderError, KyseraError, StatementError
from .nodes import (
    AndNode,
    BackfillNode,
    BinaryFilterNode,
    ColumnRefNode,
    FilterNode,
    IdentifierNode,
    LiteralNode,
    OrderByNode,
    OrNode,
    RawNode,
    SelectNode,
    UpdateNode,
    ValueNode,
    replace,
)
from .query.expressions import filter_node, value_expression

if TYPE_CHECKING:
    from .database import Database, Result
    from .nodes import Expression

log = logging.getLogger("kysera.backfill")


@dataclass(frozen=True)
class BackfillProgress:
    table: str
    rows_done: int
    batches: int
    rows_total: int | None
    elapsed: float

    @property
    def rate(self) -> float:
        return self.rows_done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def seconds_left(self) -> float | None:
        if not self.rows_total or not self.rate:
            return None
        return max(0.0, (self.rows_total - self.rows_done) / self.rate)

    def describe(self) -> str:
        total = f"/{self.rows_total}" if self.rows_total is not None else ""
        left = self.seconds_left
        eta = f", about {left:.0f}s left" if left is not None else ""
        batches = f"{self.batches} batch{'es' if self.batches != 1 else ''}"
        return f"backfill {self.table}: {self.rows_done}{total} rows, {batches}, {self.rate:.0f} rows/s{eta}"


def _draw_on_stderr(line: str | None) -> None:
    """Redraw the progress line on a terminal's stderr; ``None`` ends it."""
    if line is None:
        print(file=sys.stderr)
    else:
        print("\r" + line, end="", file=sys.stderr, flush=True)


#: draws the progress line when stderr is a terminal and no ``progress`` callback is given; the
#: ``kysera`` command puts its own here (its lines first, nothing with ``-q``)
draw_progress: Callable[[str | None], None] = _draw_on_stderr


@dataclass(frozen=True)
class BackfillResult:
    table: str
    rows: int
    batches: int
    duration: float


class BackfillInTransactionError(KyseraError):
    """``db.backfill`` was called inside a transaction, where its batches could not commit."""


def backfill(
    db: Database,
    table: str,
    *,
    set: Mapping[str, object],
    where: object = None,
    batch_size: int = 10_000,
    key: str | None = None,
    pause: float | None = None,
    progress: Callable[[BackfillProgress], None] | None = None,
) -> BackfillResult:
    if not isinstance(set, Mapping) or not set:
        raise BuilderError("backfill() needs set={column: value, ...}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise BuilderError(f"backfill() batch_size must be a whole number, at least 1, got {batch_size!r}")
    if db.in_transaction and not db.capturing:
        raise BackfillInTransactionError(
            f"db.backfill({table!r}) commits one transaction per batch and cannot run inside a transaction; "
            "call it from a migration (kysera runs such a migration outside a transaction) or outside db.transaction()"
        )
    if pause is None:
        # SQLite has one writer at a time: without a gap between batches, a waiting writer's
        # busy handler keeps sleeping and the backfill takes the lock again first
        pause = SQLITE_PAUSE if db.dialect.name == "sqlite" else 0.0
    ident = db._table(table)
    condition: FilterNode | None = None
    if where is not None:
        condition = filter_node(*where) if isinstance(where, tuple) else filter_node(where)
    assignments = tuple((str(c), value_expression(v)) for c, v in set.items())
    if db.capturing:
        # a dry run records the backfill as one step and reads nothing: the table or the
        # columns may be created by the same migration, which a dry run does not run
        known = key or _key_if_known(db, ident)
        if known is not None:
            _refuse_setting_the_key(ident, known, assignments)
        _record(db, ident, assignments, condition, known, batch_size)
        return BackfillResult(ident.name, 0, 0, 0.0)
    pk = key or _single_key(db, ident)
    _refuse_setting_the_key(ident, pk, assignments)
    _refuse_null_keys(db, ident, pk, condition)
    total = _count(db, ident, condition)
    started = time.monotonic()
    last: object = None
    done = batches = 0
    tty = sys.stderr.isatty() and progress is None
    bounds_sql = _bounds_query(db.dialect.name, db.dialect.compiler().quote(pk))
    while True:
        page = SelectNode(
            ident,
            selections=(ColumnRefNode(pk),),
            where=_and(condition, None if last is None else BinaryFilterNode(ColumnRefNode(pk), ">", ValueNode(last))),
            order_by=(OrderByNode(ColumnRefNode(pk)),),
            limit=batch_size,
        )
        # only the batch's bounds travel back, not its keys
        [inner] = db.compile(page)
        rows = db.fetch(bounds_sql.replace("{page}", inner.sql), list(inner.params))
        bounds = rows[0] if rows else None
        if bounds is None or not bounds["n"]:
            break
        low, high, size = bounds["low"], bounds["high"], int(str(bounds["n"]))
        if low is None or high is None:  # a row without a key came in since the check above
            _refuse_null_keys(db, ident, pk, condition)
        # one statement, committed on its own (autocommit): row locks last one batch
        result = _run_batch(db, UpdateNode(ident, assignments, _batch(condition, pk, low, high)), ident.name)
        done += result.rowcount if result.rowcount >= 0 else size
        batches += 1
        last = high
        report = BackfillProgress(ident.name, done, batches, total, time.monotonic() - started)
        log.info(report.describe())
        if progress is not None:
            progress(report)
        elif tty:
            draw_progress(report.describe())
        if size < batch_size:
            break
        if pause:
            time.sleep(pause)
    if tty and batches:
        draw_progress(None)
    return BackfillResult(ident.name, done, batches, time.monotonic() - started)


#: seconds between two batches on SQLite (other engines: none), so other writers get their turn
SQLITE_PAUSE = 0.002

#: how many more times a batch that gave up waiting for a row lock is tried, the first after
#: half a second, each wait twice the last: one batch is short, and what it sets is the same
#: when it runs again, so a lock held for a moment by the application does not fail the migration
BATCH_RETRIES = 3


def _run_batch(db: Database, update: UpdateNode, table: str) -> Result:
    """Run one batch's UPDATE; a lock timeout is retried (:data:`BATCH_RETRIES`) before it fails."""
    from .dialects.online import is_lock_timeout

    for attempt in range(BATCH_RETRIES + 1):
        try:
            return db.execute(update)
        except StatementError as exc:
            if attempt == BATCH_RETRIES or not is_lock_timeout(db, exc.cause):
                raise
            wait = 0.5 * 2**attempt
            log.warning(
                "backfill of %s: a batch waited too long for a row lock; it changed nothing and runs again in %.1f s (%d of %d)",
                table, wait, attempt + 1, BATCH_RETRIES,
            )
            time.sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


def _bounds_query(dialect: str, key: str) -> str:
    """The first and last key of a batch (``{page}``, the batch's keys in order) and its size.
    PostgreSQL has no min() or max() of every type a key may have (uuid, boolean, bytea): there
    the ends are read off the page's own order."""
    if dialect == "postgres":
        return (
            "WITH page AS MATERIALIZED ({page}) SELECT "
            f"(SELECT {key} FROM page ORDER BY {key} LIMIT 1) AS low, "
            f"(SELECT {key} FROM page ORDER BY {key} DESC LIMIT 1) AS high, (SELECT count(*) FROM page) AS n"
        )
    return f"SELECT min({key}) AS low, max({key}) AS high, count(*) AS n FROM ({{page}}) AS page"


def _batch(condition: FilterNode | None, pk: str, low: object, high: object) -> FilterNode:
    between = AndNode((BinaryFilterNode(ColumnRefNode(pk), ">=", ValueNode(low)), BinaryFilterNode(ColumnRefNode(pk), "<=", ValueNode(high))))
    return _and(condition, between) or between


def _record(
    db: Database,
    table: IdentifierNode,
    assignments: tuple[tuple[str, Expression], ...],
    condition: FilterNode | None,
    pk: str | None,
    batch_size: int,
) -> None:
    """What a dry run (and the safety gate) sees: one :class:`BackfillNode`, shown as the UPDATE
    its batches make, and marked as running outside a transaction (each batch commits)."""
    [shown] = db.compile(UpdateNode(table, assignments, condition))
    node = BackfillNode(table, assignments, condition, pk or "", batch_size)
    by = f" by {db.dialect.compiler().quote(pk)}" if pk else " by the primary key"
    note = f"-- db.backfill: in batches of {batch_size} rows{by}, each committed on its own\n"
    db.run_compiled([replace(shown, node=node, transactional=False, display=note + str(shown))])


def resumes_safely(node: BackfillNode) -> bool:
    """Whether running the backfill ``node`` again, after it was stopped part-way, leaves the rows
    it already did as they are. Either its ``where`` skips them, saying ``<a column it sets> IS
    NULL`` (``where=sql("email_new IS NULL")``: the documented way), or every value it sets comes
    out the same the second time, being made of nothing it changes and nothing random
    (``set={"email_new": db.ref("email")}``). Else (``set touched = touched + 1 where base > 0``)
    a second run would do those rows twice: it waits for ``resolve``."""
    if node.where is None:
        return False
    written = {column.lower() for column, _ in node.assignments}
    return _skips_done(node.where, written) or all(_same_when_run_again(value, written) for _, value in node.assignments)


def _skips_done(where: FilterNode, written: set[str]) -> bool:
    """Whether ``where`` requires one of the ``written`` columns to be NULL (every conjunct of an
    OR must; one conjunct of an AND is enough)."""
    if isinstance(where, AndNode):
        return any(_skips_done(item, written) for item in where.items)
    if isinstance(where, OrNode):
        return all(_skips_done(item, written) for item in where.items)
    if isinstance(where, BinaryFilterNode):
        return (
            " ".join(where.op.lower().split()) in ("is", "=")  # = None is IS NULL too (where={"col": None})
            and isinstance(where.right, ValueNode)
            and where.right.value is None
            and isinstance(where.left, ColumnRefNode)
            and where.left.column.lower() in written
        )
    text = "".join(part for part in where.parts if isinstance(part, str))
    if re.search(r"(?i)\b(or|not)\b", re.sub(r"(?i)\bis\s+not\s+null\b", "", text)):
        return False  # "x IS NULL OR ...", "NOT (x IS NULL)": not for sure
    names = re.findall(r'(?i)(?:"([^"]+)"|`([^`]+)`|\b([A-Za-z_][\w$]*))\s+is\s+null\b', text)
    return any((quoted or backticked or bare).lower() in written for quoted, backticked, bare in names)


def _same_when_run_again(value: Expression, written: set[str]) -> bool:
    if isinstance(value, ValueNode | LiteralNode):
        return True
    if columns_read(value) & written:
        return False
    return not (isinstance(value, RawNode) and VOLATILE_CALL.search(_all_text(value)))


def _all_text(node: RawNode) -> str:
    """The SQL text of a raw fragment, the fragments inside it included."""
    return "".join(p if isinstance(p, str) else _all_text(p) if isinstance(p, RawNode) else "" for p in node.parts)


def _key_if_known(db: Database, table: IdentifierNode) -> str | None:
    try:
        return _single_key(db, table)
    except KyseraError:
        return None  # the table is made by the same migration (or has no single key: the real run says so)


def _and(a: FilterNode | None, b: FilterNode | None) -> FilterNode | None:
    if a is None:
        return b
    if b is None:
        return a
    return AndNode((a, b))


def _single_key(db: Database, table: IdentifierNode) -> str:
    name = table.name if table.schema is None else f"{table.schema}.{table.name}"
    info = db.introspect_table(name)
    if info is None:
        raise BuilderError(f"backfill({table.name!r}): there is no such table")
    cols = list(info.primary_key)
    if len(cols) != 1:
        raise BuilderError(
            f"backfill({table.name!r}) walks the table by its primary key, and "
            + ("it has none" if not cols else f"it has {len(cols)} columns ({', '.join(cols)})")
            + "; pass key='<unique, sortable column>'"
        )
    return cols[0]


def _refuse_setting_the_key(table: IdentifierNode, key: str, assignments: tuple[tuple[str, Expression], ...]) -> None:
    """The batches walk the key upwards: a batch that changed its rows' keys (``id = id + 1000``)
    would meet them again ahead of the walk and update them again, batch after batch."""
    if any(column.casefold() == key.casefold() for column, _ in assignments):
        raise BuilderError(
            f"backfill of {table.name} sets its key column {key!r}, which its batches walk in order: rows it "
            "moved ahead would be updated again; pass key= another unique column, or change the key with "
            "db.update_table(...)"
        )


def _refuse_null_keys(db: Database, table: IdentifierNode, key: str, condition: FilterNode | None) -> None:
    """Batches are ranges of the key: a row to update whose key is NULL is in none of them (and
    sorts first on SQLite and MySQL, where the batch it starts never moves on)."""
    missing = BinaryFilterNode(ColumnRefNode(key), "is", ValueNode(None))
    found = db.execute(SelectNode(table, selections=(ColumnRefNode(key),), where=_and(condition, missing), limit=1))
    if found.rows:
        raise BuilderError(
            f"backfill of {table.name}: rows it would update have no value in its key column {key!r}, so no batch "
            "(a range of that column) would reach them; pass key= a column with a value in every row, such as the primary key"
        )


def _count(db: Database, table: IdentifierNode, condition: FilterNode | None) -> int | None:
    from .fragment import sql

    try:
        node = SelectNode(table, selections=(sql("count(*)").node,), where=condition)
        value = db.execute(node).scalar()
        return int(str(value)) if value is not None else None
    except KyseraError:
        return None
