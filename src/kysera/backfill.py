"""``db.backfill``: update a big table in primary-key batches, each in its own short transaction.

This is how the guide's "migrate data" step should be written for a large table: no lock is held
longer than one batch, replicas keep up, and a crash loses at most one batch. Make the ``where``
idempotent (``sql("email_new IS NULL")``) and a rerun skips what is done, so it resumes.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import BuilderError, KyseraError
from .nodes import (
    AndNode,
    BinaryFilterNode,
    ColumnRefNode,
    FilterNode,
    IdentifierNode,
    OrderByNode,
    SelectNode,
    UpdateNode,
    ValueNode,
)
from .query.expressions import filter_node, value_expression

if TYPE_CHECKING:
    from .database import Database

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
        return f"backfill {self.table}: {self.rows_done}{total} rows, {self.batches} batches, {self.rate:.0f} rows/s{eta}"


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
    pause: float = 0.0,
    progress: Callable[[BackfillProgress], None] | None = None,
) -> BackfillResult:
    if not isinstance(set, Mapping) or not set:
        raise BuilderError("backfill() needs set={column: value, ...}")
    if batch_size < 1:
        raise BuilderError(f"backfill() batch_size must be at least 1, got {batch_size}")
    if db.in_transaction and not db.capturing:
        raise BackfillInTransactionError(
            f"db.backfill({table!r}) commits one transaction per batch and cannot run inside a transaction; "
            "put it in its own migration with `transaction = False`"
        )
    ident = db._table(table)
    pk = key or _single_key(db, ident)
    condition: FilterNode | None = None
    if where is not None:
        condition = filter_node(*where) if isinstance(where, tuple) else filter_node(where)
    assignments = tuple((str(c), value_expression(v)) for c, v in set.items())
    total = _count(db, ident, condition)
    started = time.monotonic()
    last: object = None
    done = batches = 0
    tty = sys.stderr.isatty() and progress is None
    quoted_pk = db.dialect.compiler().quote(pk)
    while True:
        page = SelectNode(
            ident,
            selections=(ColumnRefNode(pk),),
            where=_and(condition, None if last is None else BinaryFilterNode(ColumnRefNode(pk), ">", ValueNode(last))),
            order_by=(OrderByNode(ColumnRefNode(pk)),),
            limit=batch_size,
        )
        # only the batch's bounds travel back, not its keys
        inner = db.compile(page)[0]
        bounds = db.execute(
            f"SELECT min({quoted_pk}) AS low, max({quoted_pk}) AS high, count(*) AS n FROM ({inner.sql}) AS page",
            list(inner.params),
        ).first()
        if bounds is None or not bounds["n"]:
            break
        low, high, size = bounds["low"], bounds["high"], int(str(bounds["n"]))
        batch_filter = _and(
            condition,
            AndNode((BinaryFilterNode(ColumnRefNode(pk), ">=", ValueNode(low)), BinaryFilterNode(ColumnRefNode(pk), "<=", ValueNode(high)))),
        )
        # one statement, committed on its own (autocommit): row locks last one batch
        result = db.execute(UpdateNode(ident, assignments, batch_filter))
        done += result.rowcount if result.rowcount >= 0 else size
        batches += 1
        last = high
        report = BackfillProgress(ident.name, done, batches, total, time.monotonic() - started)
        log.info(report.describe())
        if progress is not None:
            progress(report)
        elif tty:
            print("\r" + report.describe(), end="", file=sys.stderr, flush=True)
        if size < batch_size:
            break
        if pause:
            time.sleep(pause)
    if tty and batches:
        print(file=sys.stderr)
    return BackfillResult(ident.name, done, batches, time.monotonic() - started)


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


def _count(db: Database, table: IdentifierNode, condition: FilterNode | None) -> int | None:
    from .fragment import sql

    try:
        node = SelectNode(table, selections=(sql("count(*)").node,), where=condition)
        value = db.execute(node).scalar()
        return int(str(value)) if value is not None else None
    except KyseraError:
        return None
