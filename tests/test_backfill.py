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
    with pytest.raises(BackfillInTransactionError, match=r"outside db\.transaction"), db.transaction():
        db.backfill("users", set={"email_new": "x"})


def test_backfill_needs_a_single_column_key(db: Database) -> None:
    db.schema.create_table("nokey").add_column("a", "integer").add_column("b", "integer").execute()
    with pytest.raises(Exception, match="primary key"):
        db.backfill("nokey", set={"b": 1})
    db.insert_into("nokey").values({"a": 1, "b": None}).execute()
    assert db.backfill("nokey", set={"b": 2}, key="a").rows == 1


def test_a_key_with_nulls_is_refused_before_any_batch(db: Database) -> None:
    """A row whose key is NULL is in no range of the key: SQLite and MySQL sort it first and
    the batches never moved on; PostgreSQL left it out without a word."""
    from kysera.errors import BuilderError

    db.schema.create_table("nk").add_column("k", "integer", lambda c: c.unique()).add_column("b", "integer").execute()
    db.insert_into("nk").values([{"k": k, "b": None} for k in (None, 1, 2, None, 3)]).execute()
    with pytest.raises(BuilderError, match="no value in its key column 'k'"):
        db.backfill("nk", set={"b": 1}, key="k", batch_size=2)
    assert db.fetch("SELECT count(*) AS n FROM nk WHERE b IS NOT NULL")[0]["n"] == 0  # nothing ran
    # rows without a key that the where leaves out do not matter
    assert db.backfill("nk", set={"b": 1}, key="k", batch_size=2, where=("k", "is not", None)).rows == 3


def test_a_where_with_or_keeps_the_batches(db: Database) -> None:
    """The batch's key range is ANDed with the where: a raw where with OR used to swallow it, so
    the first batch updated every row at once."""
    db.schema.create_table("w").add_column("id", "integer", lambda c: c.primary_key()).add_column("b", "integer").execute()
    db.insert_into("w").values([{"id": i, "b": None if i % 2 else 0} for i in range(1, 26)]).execute()
    seen: list[int] = []
    result = db.backfill("w", set={"b": 7}, where=sql("b IS NULL OR b = 0"), batch_size=10, progress=lambda p: seen.append(p.rows_done))
    assert result.batches == 3 and result.rows == 25 and seen == [10, 20, 25]



def test_a_backfill_that_sets_its_own_key_is_refused(db: Database) -> None:
    """The batches walk the key upwards: set id = id + 1000 moved each batch's rows ahead of the
    walk, so they were updated again and again (20 rows took 400 batches, each id + 100000)."""
    from kysera.errors import BuilderError

    db.schema.create_table("k").add_column("id", "integer", lambda c: c.primary_key()).add_column("code", "integer").execute()
    db.insert_into("k").values([{"id": i, "code": i} for i in range(1, 21)]).execute()
    with pytest.raises(BuilderError, match=r"sets its key column 'id'.*pass key= another unique column"):
        db.backfill("k", set={"id": sql("id + 1000")}, where=sql("id < 100000"), batch_size=5)
    with pytest.raises(BuilderError, match="sets its key column 'code'"):
        db.backfill("k", set={"CODE": sql("code + 1000")}, key="code", batch_size=5)
    with pytest.raises(BuilderError, match="sets its key column 'id'"), db.capture():  # a dry run says so too
        db.backfill("k", set={"id": sql("id + 1000")}, batch_size=5)
    assert db.fetch("SELECT min(id) AS lo, max(id) AS hi, max(code) AS c FROM k") == [{"lo": 1, "hi": 20, "c": 20}]
    assert db.backfill("k", set={"id": sql("id + 1000")}, key="code", batch_size=5).rows == 20  # walked by another column


# ----------------------------------------------------------------- in migrations


def add_and_backfill(db: Database) -> None:
    """The guide's "migrate data" step as one ordinary (transactional) migration."""
    db.schema.alter_table("users").add_column("email_lower", "varchar(100)").execute()
    db.backfill("users", set={"email_lower": sql("lower(email)")}, where=sql("email_lower IS NULL"), batch_size=7)


def only_backfill(db: Database) -> None:
    db.backfill("users", set={"email_new": db.ref("email")}, where=sql("email_new IS NULL"), batch_size=5)


def test_a_migration_that_backfills_runs_outside_a_transaction(db: Database) -> None:
    from kysera.migrations import Migration, create_migration_runner

    users(db, 20)
    for safety in ("error", "off"):  # finding what must run outside a transaction is not a safety option
        runner = create_migration_runner(db, [Migration("001_lower", add_and_backfill, lambda d: None)], safety=safety)
        plan = runner.up(dry_run=True)
        assert plan.steps[0].transaction is False
        assert "UPDATE" in plan.sql() and plan.sql().count("UPDATE") == 1  # the backfill, shown once
        info = db.introspect_table("users")
        assert info is not None and "email_lower" not in {c.name for c in info.columns}  # a dry run changes nothing
    result = runner.up()
    assert result.executed == ["001_lower"] and result.steps[0].transaction is False
    assert db.select_from("users").where("email_lower", "is", None).fetch_all() == []
    assert db.fetch("SELECT count(*) AS n FROM users WHERE email_lower = lower(email)")[0]["n"] == 20


def test_a_down_that_backfills_runs_outside_a_transaction(db: Database) -> None:
    """As an up does, on every engine (it ran outside one on PostgreSQL only, and failed elsewhere)."""
    from kysera.migrations import Migration, create_migration_runner

    users(db, 12)

    def clear(db: Database) -> None:
        db.backfill("users", set={"email_new": None}, where=sql("email_new IS NOT NULL"), batch_size=5)

    runner = create_migration_runner(db, [Migration("001_copy", only_backfill, clear)])
    runner.up()
    dry = runner.down(dry_run=True)
    assert dry.executed == ["001_copy"] and dry.steps[0].transaction is False
    result = runner.down()
    assert result.executed == ["001_copy"] and result.steps[0].transaction is False
    assert runner.status().pending == ["001_copy"]
    assert db.select_from("users").where("email_new", "is not", None).fetch_all() == []


def test_an_interrupted_backfill_migration_runs_again_on_the_next_up(db: Database) -> None:
    """The process died mid-backfill: its history row says running; the next up resumes it."""
    from kysera.migrations import Migration, create_migration_runner

    users(db, 23)
    runner = create_migration_runner(db, [Migration("001_copy", only_backfill)])
    runner.up(dry_run=True)  # the history table does not exist yet: make it as a real run would
    runner.history.create()
    runner.history.insert("001_copy", checksum=runner.migrations[0].checksum, state="running", batch=1, direction="up")
    db.backfill("users", set={"email_new": db.ref("email")}, where=sql("email_new IS NULL AND id <= 10"), batch_size=5)
    result = runner.up()
    assert result.executed == ["001_copy"]
    assert runner.status().migrations[0].state == "applied"
    assert db.select_from("users").where("email_new", "is", None).fetch_all() == []


def test_an_interrupted_backfill_that_would_redo_rows_waits_for_resolve(db: Database) -> None:
    """set email = email || '!' where id > 0: run again, it would change the rows done a second
    time; only a where that skips them, or values that come out the same, resume on their own."""
    from kysera.migrations import Migration, UnresolvedFailureError, create_migration_runner

    def exclaim(db: Database) -> None:
        db.backfill("users", set={"email": sql("email || '!'")}, where=sql("id > 0"), batch_size=5)

    users(db, 8)
    runner = create_migration_runner(db, [Migration("001_exclaim", exclaim)])
    runner.up(dry_run=True)
    runner.history.create()
    runner.history.insert("001_exclaim", checksum=runner.migrations[0].checksum, state="running", batch=1, direction="up")
    with pytest.raises(UnresolvedFailureError, match="001_exclaim was interrupted"):
        runner.up()
    assert db.fetch("SELECT count(*) AS n FROM users WHERE email LIKE '%!'") == [{"n": 0}]



def test_a_backfill_that_failed_part_way_says_how_to_resume_it(db: Database) -> None:
    """A batch failed after others had committed: the error offered only "--applied if its
    changes are in place or --rolled-back if they are not", neither of which a half-done
    backfill is. It names the way that resumes it, and that way works."""
    from kysera.migrations import Migration, MigrationError, create_migration_runner

    db.execute("CREATE TABLE users (id integer PRIMARY KEY, email varchar(100), email_new varchar(100) CHECK (email_new <> 'bad'))")
    db.insert_into("users").values([{"id": i, "email": "bad" if i == 8 else f"u{i}"} for i in range(1, 13)]).execute()
    runner = create_migration_runner(db, [Migration("001_copy", only_backfill)])
    with pytest.raises(MigrationError) as failed:
        runner.up()
    assert "`kysera migrate resolve 001_copy --rolled-back`, then `kysera migrate up` resumes its backfill" in str(failed.value)
    assert db.fetch("SELECT count(*) AS n FROM users WHERE email_new IS NOT NULL") == [{"n": 5}]  # the first batch
    db.update_table("users").set({"email": "good"}).where("id", "=", 8).execute()  # the cause fixed
    runner.resolve("001_copy", applied=False)
    assert runner.up().executed == ["001_copy"]
    assert db.fetch("SELECT count(*) AS n FROM users WHERE email_new IS NULL OR email_new <> email") == [{"n": 0}]


def test_a_where_of_a_column_equal_to_none_resumes_as_is_null_does(db: Database) -> None:
    """where={"done": None} and ("done", "=", None) are written IS NULL, so they skip the rows
    done as sql("done IS NULL") does; an interrupted run of them waited for resolve."""
    from kysera.migrations import Migration, create_migration_runner

    db.schema.create_table("t").add_column("id", "integer", lambda c: c.primary_key()).add_column("n", "integer").add_column("done", "integer").execute()
    for where in ({"done": None}, ("done", "=", None), ("done", "is", None)):
        db.execute("DROP TABLE IF EXISTS kysera_migrations")
        db.delete_from("t").where("id", ">", 0).execute()
        db.insert_into("t").values([{"id": i, "n": i, "done": None} for i in range(1, 13)]).execute()

        def add(db: Database, where: object = where) -> None:  # reads what it sets: only the where skips rows done
            db.backfill("t", set={"done": sql("coalesce(done, 0) + n")}, where=where, batch_size=5)

        runner = create_migration_runner(db, [Migration("001_add", add)])
        runner.up(dry_run=True)
        runner.history.create()
        runner.history.insert("001_add", checksum=runner.migrations[0].checksum, state="running", batch=1, direction="up")
        db.update_table("t").set({"done": db.ref("n")}).where("id", "<=", 5).execute()  # the batch that committed
        assert runner.up().executed == ["001_add"], where
        assert db.fetch("SELECT count(*) AS c FROM t WHERE done = n") == [{"c": 12}]


def test_an_interrupted_migration_that_also_changes_the_schema_waits_for_resolve(db: Database) -> None:
    from kysera.migrations import Migration, UnresolvedFailureError, create_migration_runner

    users(db, 5)
    runner = create_migration_runner(db, [Migration("001_lower", add_and_backfill)])
    runner.history.create()
    runner.history.insert("001_lower", checksum=runner.migrations[0].checksum, state="running", batch=1, direction="up")
    with pytest.raises(UnresolvedFailureError, match="resolve 001_lower"):
        runner.up()


def test_a_uuid_key_is_walked_on_postgres(db: Database) -> None:
    """PostgreSQL has no min(uuid): the batch bounds come from the batch's own order."""
    if db.dialect.name != "postgres":
        pytest.skip("PostgreSQL's uuid type")
    db.execute("CREATE TABLE acc (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), email text, email_new text)")
    db.execute("INSERT INTO acc (email) SELECT 'u' || g FROM generate_series(1, 250) g")
    result = db.backfill("acc", set={"email_new": db.ref("email")}, where=sql("email_new IS NULL"), batch_size=100)
    assert result.rows == 250 and result.batches == 3
    assert db.fetch("SELECT count(*) AS n FROM acc WHERE email_new IS DISTINCT FROM email") == [{"n": 0}]


def test_a_batch_that_waits_too_long_for_a_row_lock_runs_again(db: Database, db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """The application holds a row for a moment longer than the lock timeout: the batch gave up
    and failed the whole migration (recorded failed, waiting for resolve). A batch changes
    nothing when it times out and sets the same values when it runs again, so it is retried."""
    import logging
    import threading

    from kysera import connect
    from kysera.dialects.online import lock_timeouts

    users(db, 6)
    other = connect(db_url)
    if db.dialect.name == "sqlite":
        other.execute("BEGIN IMMEDIATE")  # SQLite locks the whole database for a writer
    else:
        other.execute("BEGIN")
        other.fetch("SELECT id FROM users WHERE id = 2 FOR UPDATE")
    release = threading.Timer(1.4, other.execute, ["ROLLBACK"])
    release.start()
    try:
        with caplog.at_level(logging.WARNING, logger="kysera"), lock_timeouts(db, 1, None):
            result = db.backfill("users", set={"email_new": db.ref("email")}, where=sql("email_new IS NULL"), batch_size=10)
    finally:
        release.join()
        other.close()
    assert result.rows == 6
    assert db.select_from("users").where("email_new", "is", None).fetch_all() == []
    assert any("waited too long for a row lock" in r.getMessage() and "runs again" in r.getMessage() for r in caplog.records)
