"""safety="auto": the runner runs the safe equivalent instead of refusing (PostgreSQL)."""

from __future__ import annotations

import pytest

from kysera import Database, sql
from kysera.migrations import Migration, MigrationRunner, create_migration_runner
from kysera.migrations.gate import UnsafeMigrationError

pytestmark = pytest.mark.parametrize("engine", ["postgres"])  # NOT VALID and CONCURRENTLY are PostgreSQL's


def setup(db: Database) -> None:
    db.execute("CREATE TABLE parents (id integer PRIMARY KEY)")
    db.execute("INSERT INTO parents SELECT g FROM generate_series(1, 5) g")
    db.execute("CREATE TABLE events (id serial PRIMARY KEY, parent_id integer, kind text, n integer)")
    db.execute("INSERT INTO events (parent_id, kind, n) SELECT 1 + g % 5, 'k', g FROM generate_series(1, 50) g")


def change(db: Database) -> None:
    db.schema.create_index("ix_events_kind").on("events").column("kind").execute()
    db.schema.alter_table("events").add_foreign_key_constraint("fk_events_parent", ["parent_id"], "parents", ["id"]).execute()
    db.schema.alter_table("events").add_check_constraint("ck_events_n", sql("n > 0")).execute()
    db.schema.alter_table("events").alter_column("kind", lambda c: c.set_not_null()).execute()


@pytest.fixture
def pg(db: Database) -> Database:
    setup(db)
    return db


def test_error_mode_refuses_the_plain_forms(pg: Database) -> None:
    runner = create_migration_runner(pg, [Migration("001_change", change)], large_table_rows=10)
    with pytest.raises(UnsafeMigrationError) as caught:
        runner.up()
    assert {"KS201", "KS203", "KS204", "KS205"} <= {f.code for f in caught.value.findings}


def test_auto_mode_runs_the_safe_recipes(pg: Database) -> None:
    runner = create_migration_runner(pg, [Migration("001_change", change)], large_table_rows=10, safety="auto")
    dry = runner.up(dry_run=True).sql()
    assert "CREATE INDEX CONCURRENTLY" in dry and "NOT VALID" in dry and "VALIDATE CONSTRAINT" in dry
    result = runner.up()
    assert result.executed == ["001_change"] and result.steps[0].transaction is False
    valid = pg.fetch("SELECT i.indisvalid AS v FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'ix_events_kind'")
    assert valid == [{"v": True}]
    constraints = {
        str(r["name"]): bool(r["ok"])
        for r in pg.fetch("SELECT conname AS name, convalidated AS ok FROM pg_constraint WHERE conrelid = 'events'::regclass AND contype IN ('f', 'c')")
    }
    assert constraints == {"fk_events_parent": True, "ck_events_n": True}  # the helper check is gone
    not_null = pg.fetch("SELECT attnotnull AS nn FROM pg_attribute WHERE attrelid = 'events'::regclass AND attname = 'kind'")
    assert not_null == [{"nn": True}]


def test_auto_mode_retries_a_rewritten_statement_that_gave_up_waiting_for_a_lock(pg: Database, db_url: str) -> None:
    """A writer's open transaction made the first rewritten statement (ADD CONSTRAINT ... NOT
    VALID) time out: it had changed nothing, yet the migration was not retried but recorded as
    failed, "may be partly applied", waiting for `resolve` (the rewrite runs outside a
    transaction, and every such failure was taken for a concurrent build's leftover)."""
    import threading
    import time

    from kysera import connect

    other = connect(db_url)
    other.execute("BEGIN")
    other.execute("UPDATE events SET n = n WHERE id = 1")  # a writer that has not committed yet

    def release() -> None:
        time.sleep(1.5)
        other.execute("ROLLBACK")

    releaser = threading.Thread(target=release)
    releaser.start()

    def add_check(db: Database) -> None:
        db.schema.alter_table("events").add_check_constraint("ck_events_n", sql("n > 0")).execute()

    runner = create_migration_runner(
        pg, [Migration("001_check", add_check)], large_table_rows=10, safety="auto", statement_lock_timeout=1, lock_retries=3
    )
    try:
        assert runner.up().executed == ["001_check"]
    finally:
        releaser.join()
        other.close()
    validated = pg.fetch("SELECT convalidated AS ok FROM pg_constraint WHERE conname = 'ck_events_n'")
    assert validated == [{"ok": True}]


def test_auto_mode_drops_an_index_named_without_its_table_concurrently(pg: Database) -> None:
    pg.execute("CREATE INDEX ix_events_n ON events (n)")

    def drop(db: Database) -> None:
        db.schema.drop_index("ix_events_n").execute()

    runner = create_migration_runner(pg, [Migration("001_drop", drop)], large_table_rows=10, safety="auto")
    assert "DROP INDEX CONCURRENTLY" in runner.up(dry_run=True).sql()
    assert runner.up().executed == ["001_drop"]
    assert pg.fetch("SELECT 1 AS x FROM pg_class WHERE relname = 'ix_events_n'") == []


def test_auto_mode_still_refuses_what_has_no_safe_recipe(pg: Database) -> None:
    def drop(db: Database) -> None:
        db.schema.alter_table("events").drop_column("n").execute()

    runner = create_migration_runner(pg, [Migration("001_drop", drop)], large_table_rows=10, safety="auto")
    with pytest.raises(UnsafeMigrationError, match="KS102"):
        runner.up()


# ----------------------------------------------------------------- several actions in one ALTER TABLE


def planned(runner: MigrationRunner) -> list[str]:
    """The statements a dry run of the first pending migration shows."""
    result = runner.up(dry_run=True)
    return [str(s) for s in result.steps[0].statements]


def checks_and_fks(db: Database, table: str = "events") -> dict[str, bool]:
    rows = db.fetch(
        "SELECT conname AS name, convalidated AS ok FROM pg_constraint "
        f"WHERE conrelid = '{table}'::regclass AND contype IN ('f', 'c')"
    )
    return {str(r["name"]): bool(r["ok"]) for r in rows}


def is_not_null(db: Database, column: str, table: str = "events") -> bool:
    rows = db.fetch(f"SELECT attnotnull AS nn FROM pg_attribute WHERE attrelid = '{table}'::regclass AND attname = '{column}'")
    return bool(rows[0]["nn"])


def test_multi_action_alter_is_rewritten_action_by_action(pg: Database, caplog: pytest.LogCaptureFixture) -> None:
    def change(db: Database) -> None:
        (
            db.schema.alter_table("events")
            .add_foreign_key_constraint("fk_events_parent", ["parent_id"], "parents", ["id"])
            .alter_column("kind", lambda c: c.set_not_null())
            .add_column("source", "text")
            .execute()
        )

    runner = create_migration_runner(pg, [Migration("001_multi", change)], large_table_rows=10, safety="auto")
    assert planned(runner) == [
        'ALTER TABLE "events" ADD CONSTRAINT "fk_events_parent" FOREIGN KEY ("parent_id") REFERENCES "parents" ("id") NOT VALID, '
        'ADD CONSTRAINT "events_kind_not_null" CHECK ("kind" IS NOT NULL) NOT VALID, ADD COLUMN "source" text',
        'ALTER TABLE "events" VALIDATE CONSTRAINT "fk_events_parent"',
        'ALTER TABLE "events" VALIDATE CONSTRAINT "events_kind_not_null"',
        'ALTER TABLE "events" ALTER COLUMN "kind" SET NOT NULL',
        'ALTER TABLE "events" DROP CONSTRAINT "events_kind_not_null"',
    ]
    with caplog.at_level("INFO", logger="kysera.migrations"):
        result = runner.up()
    assert result.executed == ["001_multi"] and result.steps[0].transaction is False
    assert checks_and_fks(pg) == {"fk_events_parent": True}  # valid, and the helper check is gone
    assert is_not_null(pg, "kind")
    assert pg.fetch("SELECT count(*) AS n FROM events WHERE source IS NULL") == [{"n": 50}]
    fixes = [r.getMessage() for r in caplog.records if "auto-fix" in r.getMessage()]
    assert any("KS203: fk_events_parent" in m for m in fixes) and any("KS205: kind" in m for m in fixes)


def test_only_the_targeted_actions_are_rewritten(pg: Database) -> None:
    def change(db: Database) -> None:
        (
            db.schema.alter_table("events")
            .add_column("note", "text")
            .add_check_constraint("ck_events_n", sql("n > 0"))
            .alter_column("n", lambda c: c.set_default(0))
            .add_check_constraint("ck_events_note", sql("note <> ''"), not_valid=True)  # already safe: left NOT VALID
            .execute()
        )
        # a small table: the same kind of change is left as written, though the migration has rewrites
        db.schema.alter_table("parents").add_column("label", "text").add_check_constraint("ck_parents_id", sql("id > 0")).execute()

    runner = create_migration_runner(pg, [Migration("001_mixed", change)], large_table_rows=10, safety="auto")
    assert planned(runner) == [
        'ALTER TABLE "events" ADD COLUMN "note" text, ADD CONSTRAINT "ck_events_n" CHECK (n > 0) NOT VALID, '
        'ALTER COLUMN "n" SET DEFAULT 0, ADD CONSTRAINT "ck_events_note" CHECK (note <> \'\') NOT VALID',
        'ALTER TABLE "events" VALIDATE CONSTRAINT "ck_events_n"',
        'ALTER TABLE "parents" ADD COLUMN "label" text, ADD CONSTRAINT "ck_parents_id" CHECK (id > 0)',
    ]
    runner.up()
    assert checks_and_fks(pg) == {"ck_events_n": True, "ck_events_note": False}
    assert checks_and_fks(pg, "parents") == {"ck_parents_id": True}


def test_an_acknowledged_finding_is_not_rewritten(pg: Database) -> None:
    def change(db: Database) -> None:
        (
            db.schema.alter_table("events")
            .add_foreign_key_constraint("fk_events_parent", ["parent_id"], "parents", ["id"])
            .alter_column("kind", lambda c: c.set_not_null())
            .execute()
        )

    migration = Migration("001_ack", change, allow_unsafe=["KS205"])
    runner = create_migration_runner(pg, [migration], large_table_rows=10, safety="auto")
    assert planned(runner) == [
        'ALTER TABLE "events" ADD CONSTRAINT "fk_events_parent" FOREIGN KEY ("parent_id") REFERENCES "parents" ("id") NOT VALID, '
        'ALTER COLUMN "kind" SET NOT NULL',
        'ALTER TABLE "events" VALIDATE CONSTRAINT "fk_events_parent"',
    ]
    runner.up()
    assert checks_and_fks(pg) == {"fk_events_parent": True}
    assert is_not_null(pg, "kind")


def test_the_order_of_effects_is_kept(pg: Database) -> None:
    def change(db: Database) -> None:
        (
            db.schema.alter_table("events")
            .add_foreign_key_constraint("fk_events_origin", ["origin_id"], "parents", ["id"])  # before its column
            .add_column("origin_id", "integer", lambda c: c.default_to(2))
            .add_column("source", "text", lambda c: c.default_to("import"))
            .alter_column("source", lambda c: c.set_not_null())  # folded into the column the same call adds
            .add_check_constraint("ck_events_source", sql("source <> ''"))
            .rename_constraint("fk_events_origin", "fk_events_origin_parent")
            .rename_column("source", "origin")
            .rename_to("event_log")
            .execute()
        )

    runner = create_migration_runner(pg, [Migration("001_order", change)], large_table_rows=10, safety="auto")
    assert planned(runner) == [
        'ALTER TABLE "events" ADD CONSTRAINT "fk_events_origin" FOREIGN KEY ("origin_id") REFERENCES "parents" ("id") NOT VALID, '
        'ADD COLUMN "origin_id" integer DEFAULT 2, ADD COLUMN "source" text DEFAULT \'import\' NOT NULL, '
        'ADD CONSTRAINT "ck_events_source" CHECK (source <> \'\') NOT VALID',
        'ALTER TABLE "events" RENAME CONSTRAINT "fk_events_origin" TO "fk_events_origin_parent"',
        'ALTER TABLE "events" RENAME COLUMN "source" TO "origin"',
        'ALTER TABLE "events" RENAME TO "event_log"',
        'ALTER TABLE "event_log" VALIDATE CONSTRAINT "fk_events_origin_parent"',
        'ALTER TABLE "event_log" VALIDATE CONSTRAINT "ck_events_source"',
    ]
    runner.up()
    assert checks_and_fks(pg, "event_log") == {"fk_events_origin_parent": True, "ck_events_source": True}
    assert is_not_null(pg, "origin", "event_log")
    assert pg.fetch("SELECT count(*) AS n FROM event_log WHERE origin = 'import' AND origin_id = 2") == [{"n": 50}]


def test_a_rename_before_the_fixed_action_is_already_in_effect(pg: Database) -> None:
    def change(db: Database) -> None:
        (
            db.schema.alter_table("events")
            .rename_column("kind", "category")
            .alter_column("category", lambda c: c.set_not_null())
            .execute()
        )

    runner = create_migration_runner(pg, [Migration("001_renamed", change)], large_table_rows=10, safety="auto")
    assert planned(runner) == [
        'ALTER TABLE "events" RENAME COLUMN "kind" TO "category"',
        'ALTER TABLE "events" ADD CONSTRAINT "events_category_not_null" CHECK ("category" IS NOT NULL) NOT VALID',
        'ALTER TABLE "events" VALIDATE CONSTRAINT "events_category_not_null"',
        'ALTER TABLE "events" ALTER COLUMN "category" SET NOT NULL',
        'ALTER TABLE "events" DROP CONSTRAINT "events_category_not_null"',
    ]
    runner.up()
    assert is_not_null(pg, "category") and checks_and_fks(pg) == {}


def test_helper_checks_get_distinct_names(pg: Database) -> None:
    first, second = "a" * 56 + "_x", "a" * 56 + "_y"  # "events_<column>_not_null" is cut to the same 63 bytes
    pg.execute(f"ALTER TABLE events ADD COLUMN {first} text DEFAULT 'x', ADD COLUMN {second} text DEFAULT 'y'")

    def change(db: Database) -> None:
        (
            db.schema.alter_table("events")
            .alter_column(first, lambda c: c.set_not_null())
            .alter_column(second, lambda c: c.set_not_null())
            .execute()
        )

    runner = create_migration_runner(pg, [Migration("001_long", change)], large_table_rows=10, safety="auto")
    statements = planned(runner)
    helper, other = "events_" + "a" * 56, "events_" + "a" * 54 + "_2"
    assert statements[0] == (
        f'ALTER TABLE "events" ADD CONSTRAINT "{helper}" CHECK ("{first}" IS NOT NULL) NOT VALID, '
        f'ADD CONSTRAINT "{other}" CHECK ("{second}" IS NOT NULL) NOT VALID'
    )
    assert len(helper) == len(other) == 63
    runner.up()
    assert is_not_null(pg, first) and is_not_null(pg, second) and checks_and_fks(pg) == {}


def test_a_multi_action_alter_without_a_fix_is_untouched(pg: Database) -> None:
    def change(db: Database) -> None:
        (
            db.schema.alter_table("events")
            .add_column("note", "text")
            .alter_column("n", lambda c: c.set_default(0))
            .add_check_constraint("ck_events_note", sql("note <> ''"), not_valid=True)
            .execute()
        )

    alter = 'ALTER TABLE "events" ADD COLUMN "note" text, ALTER COLUMN "n" SET DEFAULT 0, ADD CONSTRAINT "ck_events_note" CHECK (note <> \'\') NOT VALID'
    runner = create_migration_runner(pg, [Migration("001_plain", change)], large_table_rows=10, safety="auto")
    assert planned(runner) == [alter]
    result = runner.up()
    assert result.steps[0].transaction is True  # nothing rewritten: it keeps its transaction
    assert checks_and_fks(pg) == {"ck_events_note": False}

    def with_index(db: Database) -> None:
        db.schema.create_index("ix_events_kind").on("events").column("kind").execute()
        change(db)

    migrations = [Migration("001_plain", change), Migration("002_with_index", with_index)]
    runner = create_migration_runner(pg, migrations, large_table_rows=10, safety="auto")
    statements = planned(runner)  # a migration with a rewrite: its other statements stay as written
    assert statements[0].startswith("CREATE INDEX CONCURRENTLY") and statements[1:] == [alter]


def test_rewriter_can_be_asked_without_recording(pg: Database) -> None:
    from kysera.safety.autofix import Rewriter

    def change(db: Database) -> None:
        db.schema.alter_table("events").add_column("note", "text").add_check_constraint("ck_events_n", sql("n > 0")).execute()

    runner = create_migration_runner(pg, [Migration("001_check", change)], large_table_rows=10)
    with pytest.raises(UnsafeMigrationError) as caught:
        runner.up()
    rewriter = Rewriter(caught.value.findings)
    fixable = pg.schema.alter_table("events").add_column("note", "text").add_check_constraint("ck_events_n", sql("n > 0")).to_node()
    plain = pg.schema.alter_table("events").add_column("note", "text").to_node()
    assert rewriter.rewrites(fixable) and not rewriter.rewrites(plain) and rewriter.applied == []
    assert not Rewriter(caught.value.findings, engine="mysql")  # the rewrites are PostgreSQL's


# ----------------------------------------------------------------- what auto mode does not rewrite


def test_auto_mode_refuses_raw_sql_it_cannot_rewrite(pg: Database) -> None:
    """A plain CREATE INDEX written as raw SQL runs as written, so it stays an error."""

    def raw_index(db: Database) -> None:
        db.execute(sql("CREATE INDEX ix_events_n ON events (n)"))

    runner = create_migration_runner(pg, [Migration("001_raw", raw_index)], large_table_rows=10, safety="auto")
    with pytest.raises(UnsafeMigrationError, match="KS201"):
        runner.up()
    assert pg.fetch("SELECT 1 AS x FROM pg_class WHERE relname = 'ix_events_n'") == []


def test_auto_mode_leaves_a_partitioned_tables_index_to_its_own_recipe(pg: Database) -> None:
    """PostgreSQL builds and drops no index of a partitioned table concurrently: auto mode turned
    the plain CREATE INDEX into CREATE INDEX CONCURRENTLY anyway, which failed outside a
    transaction and left the migration recorded as failed, and the recipe said to do the same.
    It is refused instead, with the recipe that works (ON ONLY, each partition's index built
    concurrently and attached)."""
    pg.execute("CREATE TABLE readings (id integer NOT NULL, day date NOT NULL) PARTITION BY RANGE (day)")
    pg.execute("CREATE TABLE readings_2024 PARTITION OF readings FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')")
    pg.execute("INSERT INTO readings SELECT g, DATE '2024-01-01' + g % 300 FROM generate_series(1, 50) g")
    pg.execute("CREATE INDEX ix_readings_id ON readings (id)")

    def index(db: Database) -> None:
        db.schema.create_index("ix_readings_day").on("readings").column("day").execute()
        db.schema.drop_index("ix_readings_id").execute()

    runner = create_migration_runner(pg, [Migration("001_index", index)], large_table_rows=10, safety="auto")
    dry = runner.up(dry_run=True)
    assert "CONCURRENTLY" not in dry.sql() and {f.code for f in dry.refused} == {"KS201", "KS202"}
    with pytest.raises(UnsafeMigrationError) as caught:
        runner.up()
    recipes = {f.code: f.recipe for f in caught.value.findings}
    assert 'ON ONLY "readings" ("day")' in recipes["KS201"] and "ATTACH PARTITION" in recipes["KS201"]
    assert ".concurrently()" not in recipes["KS202"]
    assert runner.status().pending == ["001_index"] and runner.status().failed == []
    # the recipe works
    pg.execute('CREATE INDEX "ix_readings_day" ON ONLY "readings" ("day")')
    pg.execute("CREATE INDEX CONCURRENTLY readings_2024_ix_readings_day ON readings_2024 (day)")
    pg.execute('ALTER INDEX "ix_readings_day" ATTACH PARTITION "readings_2024_ix_readings_day"')
    valid = pg.fetch("SELECT indisvalid AS v FROM pg_index WHERE indexrelid = 'ix_readings_day'::regclass")
    assert valid == [{"v": True}]
