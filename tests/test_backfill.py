"""db.backfill: batched, one short transaction per batch, resumable."""

from __future__ import annotations

import pytest

from kysera import Database, sql
from kysera.backfill import BackfillInTransactionError, BackfillProgress


def users(db: Database, n: int) -> None:
    (
        db.schema.create_table("users")
        .add_column("id", "serial", lambda c: c.primary_key())
        .add_column("email", "varchar(100)", lambda c: c.not_null())
        .add_column("email_new", "varchar(100)")
        .execute()
    )
    db.insert_into("users").values([{"email": f"u{i}@x.org"} for i in range(n)]).execute()


def test_backfill_in_batches(db: Database) -> None:
    users(db, 25)
    seen: list[BackfillProgress] = []

    def progress(p: BackfillProgress) -> None:
        assert not db.in_transaction  # no lock is held between batches
        seen.append(p)

    result = db.backfill("users", set={"email_new": db.ref("email")}, where=sql("email_new IS NULL"), batch_size=10, progress=progress)
    assert (result.rows, result.batches) == (25, 3)
    assert [p.rows_done for p in seen] == [10, 20, 25] and seen[-1].rows_total == 25
    rows = db.select_from("users").where("email_new", "is", None).fetch_all()
    assert rows == []


def test_backfill_resumes_after_a_crash(db: Database) -> None:
    users(db, 30)

    def crash(p: BackfillProgress) -> None:
        if p.batches == 2:
            raise KeyboardInterrupt  # the process dies after two committed batches

    with pytest.raises(KeyboardInterrupt):
        db.backfill("users", set={"email_new": db.ref("email")}, where=sql("email_new IS NULL"), batch_size=10, progress=crash)
    assert len(db.select_from("users").where("email_new", "is", None).fetch_all()) == 10
    again = db.backfill("users", set={"email_new": db.ref("email")}, where=sql("email_new IS NULL"), batch_size=10)
    assert again.rows == 10
    assert db.select_from("users").where("email_new", "is", None).fetch_all() == []


def test_backfill_refuses_to_run_inside_a_transaction(db: Database) -> None:
    users(db, 3)
    with pytest.raises(BackfillInTransactionError, match="transaction = False"), db.transaction():
        db.backfill("users", set={"email_new": "x"})


def test_backfill_needs_a_single_column_key(db: Database) -> None:
    db.schema.create_table("nokey").add_column("a", "integer").execute()
    with pytest.raises(Exception, match="primary key"):
        db.backfill("nokey", set={"a": 1})
    db.insert_into("nokey").values({"a": 1}).execute()
    assert db.backfill("nokey", set={"a": 2}, key="a").rows == 1
