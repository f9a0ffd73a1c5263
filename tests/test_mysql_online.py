"""MySQL/MariaDB online DDL: ``.algorithm()`` / ``.lock()``, the runner's automatic clauses, clear refusals.

MariaDB runs live (the local server). MySQL 8 has no server in the test setup, so its SQL and the
decisions per server version are checked offline. PostgreSQL and SQLite accept the clauses and
emit nothing (the support table's "ignored"), which runs live on both.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from kysera import Database, sql
from kysera.dialects.mysql_online import OnlineDdlRefusedError, explain_refusal, online_form
from kysera.errors import BuilderError, StatementError, UnsupportedError
from kysera.migrations import Migration, MigrationError, create_migration_runner
from kysera.migrations.gate import UnsafeMigrationError
from kysera.nodes import AlterTableNode, CompiledStatement, IdentifierNode, OperationNode, replace
from kysera.safety import OfflineFacts, analyze

from .test_support_matrix import offline

DOCS = Path(__file__).resolve().parent.parent / "docs"
Step = Callable[[Database], None]


def mysql_only(db: Database) -> None:
    if db.dialect.name != "mysql":
        pytest.skip(f"MySQL/MariaDB only: {db.dialect.display_name} ignores ALGORITHM/LOCK (see test_postgres_and_sqlite_ignore_the_clauses)")


def events(db: Database, rows: int = 3) -> None:
    db.execute("CREATE TABLE events (id integer PRIMARY KEY, kind varchar(20), n integer) ENGINE=InnoDB")
    db.execute("CREATE INDEX ix_events_kind ON events (kind)")
    if rows:
        db.insert_into("events").values([{"id": i, "kind": f"k{i}", "n": i} for i in range(rows)]).execute()


def column_type(db: Database, table: str, column: str) -> str | None:
    rows = db.fetch(
        "SELECT COLUMN_TYPE AS t FROM information_schema.COLUMNS "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s AND COLUMN_NAME = %s",
        [table, column],
    )
    return str(rows[0]["t"]) if rows else None


def indexes(db: Database, table: str) -> set[str]:
    rows = db.fetch(
        "SELECT DISTINCT INDEX_NAME AS i FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
        [table],
    )
    return {str(r["i"]) for r in rows}


def sqls(statements: list[CompiledStatement]) -> list[str]:
    return [s.sql for s in statements]


def migration(name: str, up: Step, down: Step | None = None, **options: object) -> Migration:
    return Migration(name, up, down, **options)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ builders and compiled SQL


@pytest.mark.parametrize("engine", ["mysql", "mariadb"])
def test_alter_table_carries_the_clauses(engine: str) -> None:
    db = offline(engine)  # type: ignore[arg-type]
    t = db.schema.alter_table("t")
    assert t.add_column("c", "integer").algorithm("instant").compile()[0].sql == (
        "ALTER TABLE `t` ADD COLUMN `c` integer, ALGORITHM=INSTANT"
    )
    both = "ALTER TABLE `t` ADD COLUMN `c` integer, DROP COLUMN `d`, ALGORITHM=INPLACE, LOCK=NONE"
    assert t.add_column("c", "integer").drop_column("d").algorithm("inplace").lock("none").compile()[0].sql == both
    # the order of the calls does not matter, nor does the case of the values
    assert t.lock("NONE").add_column("c", "integer").algorithm(" InPlace ").drop_column("d").compile()[0].sql == both
    assert t.add_column("c", "integer").lock("shared").compile()[0].sql == "ALTER TABLE `t` ADD COLUMN `c` integer, LOCK=SHARED"
    assert t.add_column("c", "integer").algorithm("instant").lock("default").compile()[0].sql.endswith(
        ", ALGORITHM=INSTANT, LOCK=DEFAULT"
    )


@pytest.mark.parametrize("engine", ["mysql", "mariadb"])
def test_every_statement_of_a_split_alter_carries_the_clauses(engine: str) -> None:
    db = offline(engine)  # type: ignore[arg-type]
    node = (
        db.schema.alter_table("t")
        .add_column("c", "integer")
        .rename_column("a", "b")
        .drop_column("d")
        .rename_to("u")
        .algorithm("copy")
        .lock("exclusive")
    )
    assert sqls(list(node.compile())) == [
        "ALTER TABLE `t` ADD COLUMN `c` integer, ALGORITHM=COPY, LOCK=EXCLUSIVE",
        "ALTER TABLE `t` RENAME COLUMN `a` TO `b`, ALGORITHM=COPY, LOCK=EXCLUSIVE",
        "ALTER TABLE `t` DROP COLUMN `d`, ALGORITHM=COPY, LOCK=EXCLUSIVE",
        "ALTER TABLE `t` RENAME TO `u`, ALGORITHM=COPY, LOCK=EXCLUSIVE",
    ]


@pytest.mark.parametrize("engine", ["mysql", "mariadb"])
def test_create_index_clauses(engine: str) -> None:
    db = offline(engine)  # type: ignore[arg-type]
    ix = db.schema.create_index("ix").on("t").column("a")
    assert ix.algorithm("inplace").lock("none").compile()[0].sql == "CREATE INDEX `ix` ON `t` (`a`) ALGORITHM=INPLACE LOCK=NONE"
    assert ix.unique().using("btree").lock("shared").compile()[0].sql == (
        "CREATE UNIQUE INDEX `ix` USING BTREE ON `t` (`a`) LOCK=SHARED"
    )
    assert ix.algorithm("copy").compile()[0].sql == "CREATE INDEX `ix` ON `t` (`a`) ALGORITHM=COPY"


def test_drop_index_clauses_per_engine() -> None:
    mysql, mariadb = offline("mysql"), offline("mariadb")
    assert mysql.schema.drop_index("ix").on("t").algorithm("inplace").lock("none").compile()[0].sql == (
        "DROP INDEX `ix` ON `t` ALGORITHM=INPLACE LOCK=NONE"
    )
    # MariaDB's DROP INDEX takes neither clause: the same change as ALTER TABLE
    assert mariadb.schema.drop_index("ix").on("t").if_exists().algorithm("nocopy").lock("none").compile()[0].sql == (
        "ALTER TABLE `t` DROP INDEX IF EXISTS `ix`, ALGORITHM=NOCOPY, LOCK=NONE"
    )
    assert mariadb.schema.drop_index("ix").on("t").compile()[0].sql == "DROP INDEX `ix` ON `t`"


def test_bad_values_name_the_allowed_ones() -> None:
    db = offline("mysql")
    with pytest.raises(BuilderError, match=r'algorithm\(\) takes one of "instant", "inplace", "nocopy", "copy", "default", got \'fast\''):
        db.schema.alter_table("t").algorithm("fast")
    with pytest.raises(BuilderError, match=r'lock\(\) takes one of "none", "shared", "exclusive", "default"'):
        db.schema.create_index("ix").lock("nowait")
    with pytest.raises(BuilderError, match="algorithm"):
        db.schema.drop_index("ix").algorithm(None)  # type: ignore[arg-type]


def test_what_an_engine_cannot_take_is_refused_with_an_alternative() -> None:
    mysql, mariadb = offline("mysql"), offline("mariadb")
    with pytest.raises(UnsupportedError, match=r"MySQL has no NOCOPY: use algorithm\(\"instant\"\)"):
        mysql.schema.alter_table("t").add_column("c", "integer").algorithm("nocopy").compile()
    with pytest.raises(UnsupportedError, match=r"only LOCK=DEFAULT with ALGORITHM=INSTANT"):
        mysql.schema.alter_table("t").add_column("c", "integer").algorithm("instant").lock("none").compile()
    for db in (mysql, mariadb):
        with pytest.raises(UnsupportedError, match=r"never instantly"):
            db.schema.create_index("ix").on("t").column("a").algorithm("instant").compile()
        with pytest.raises(UnsupportedError, match=r"never instantly"):
            db.schema.drop_index("ix").on("t").algorithm("instant").compile()
    old = offline("mysql", (8, 0, 11))
    with pytest.raises(UnsupportedError, match=r"MySQL 8\.0\.11 \(it needs 8\.0\.12 or newer\); use algorithm\(\"inplace\"\)"):
        old.schema.alter_table("t").add_column("c", "integer").algorithm("instant").compile()
    assert "ALGORITHM=INSTANT, LOCK=NONE" in mariadb.schema.alter_table("t").add_column("c", "integer").algorithm(
        "instant"
    ).lock("none").compile()[0].sql


def test_postgres_and_sqlite_ignore_the_clauses(db: Database) -> None:
    if db.dialect.name == "mysql":
        pytest.skip("MySQL/MariaDB emit the clauses; the tests above run them there")
    db.execute("CREATE TABLE t (id integer PRIMARY KEY, a integer)")
    run = [
        db.schema.alter_table("t").add_column("c", "integer").algorithm("instant").lock("none").execute(),
        db.schema.alter_table("t").drop_column("c").algorithm("nocopy").lock("shared").execute(),
        db.schema.create_index("ix").on("t").column("a").algorithm("instant").lock("none").execute(),
        db.schema.drop_index("ix").on("t").algorithm("instant").lock("exclusive").execute(),
    ]
    for result in run:
        for statement in result.statements:
            assert "ALGORITHM" not in statement.sql and "LOCK" not in statement.sql, statement.sql
    assert db.introspect_table("t") is not None


# ------------------------------------------------------------------------------ live on MariaDB: the clauses run


def test_folded_modify_column_and_renames_carry_the_clauses(db: Database) -> None:
    mysql_only(db)
    events(db)
    change = (
        db.schema.alter_table("events")
        .alter_column("n", lambda col: col.set_not_null().set_default(0))
        .rename_column("kind", "category")
        .algorithm("inplace")
        .lock("none")
    )
    statements = sqls(list(change.compile()))
    assert len(statements) == 2
    assert statements[0].startswith("ALTER TABLE `events` MODIFY COLUMN `n` int")
    assert all(s.endswith(", ALGORITHM=INPLACE, LOCK=NONE") for s in statements)
    change.execute()
    assert column_type(db, "events", "category") == "varchar(20)" and column_type(db, "events", "kind") is None
    assert not db.fetch("SELECT 1 AS x FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
                        "AND TABLE_NAME = 'events' AND COLUMN_NAME = 'n' AND IS_NULLABLE = 'YES'")


def online_changes(db: Database) -> None:
    db.schema.alter_table("events").add_column("note", "varchar(50)").execute()
    db.schema.create_index("ix_events_n").on("events").column("n").execute()
    db.schema.alter_table("events").rename_column("note", "memo").execute()
    db.schema.drop_index("ix_events_kind").on("events").execute()


ONLINE_SQL = [
    "ALTER TABLE `events` ADD COLUMN `note` varchar(50), ALGORITHM=INSTANT",
    "CREATE INDEX `ix_events_n` ON `events` (`n`) ALGORITHM=INPLACE LOCK=NONE",
    "ALTER TABLE `events` RENAME COLUMN `note` TO `memo`, ALGORITHM=INSTANT",
    "ALTER TABLE `events` DROP INDEX `ix_events_kind`, ALGORITHM=INPLACE, LOCK=NONE",
]


def test_the_runner_adds_online_clauses_in_the_dry_run_and_for_real(db: Database) -> None:
    mysql_only(db)
    events(db)
    runner = create_migration_runner(db, [migration("001_online", online_changes)])
    planned = runner.up(dry_run=True)
    assert sqls(planned.steps[0].statements) == ONLINE_SQL
    assert "ALGORITHM=INSTANT" in planned.steps[0].sql()
    assert column_type(db, "events", "note") is None  # the dry run changed nothing
    result = runner.up()
    assert result.executed == ["001_online"]
    assert sqls(result.steps[0].statements) == ONLINE_SQL
    assert column_type(db, "events", "memo") == "varchar(50)"
    assert indexes(db, "events") == {"PRIMARY", "ix_events_n"}
    assert db.adjuster is None  # only while the migration ran


@pytest.mark.parametrize("safety", ["error", "warn", "auto"])
def test_every_judging_safety_mode_adds_the_clauses(db: Database, safety: str) -> None:
    mysql_only(db)
    events(db)
    runner = create_migration_runner(db, [migration("001_online", online_changes)], safety=safety)  # type: ignore[arg-type]
    assert sqls(runner.up(dry_run=True).steps[0].statements) == ONLINE_SQL


def test_safety_off_adds_nothing(db: Database) -> None:
    mysql_only(db)
    events(db)
    runner = create_migration_runner(db, [migration("001_online", online_changes)], safety="off")
    plain = [re.sub(r",? ALGORITHM=\w+(,? LOCK=\w+)?$", "", s) for s in ONLINE_SQL]
    plain[3] = "DROP INDEX `ix_events_kind` ON `events`"
    assert sqls(runner.up(dry_run=True).steps[0].statements) == plain
    assert sqls(runner.up().steps[0].statements) == plain
    assert column_type(db, "events", "memo") == "varchar(50)"


def test_the_clauses_apply_to_down_migrations_too(db: Database) -> None:
    mysql_only(db)
    events(db)

    def up(db: Database) -> None:
        db.schema.alter_table("events").add_column("note", "varchar(50)").execute()

    def down(db: Database) -> None:
        db.schema.alter_table("events").drop_column("note").execute()

    runner = create_migration_runner(db, [migration("001_note", up, down)])
    runner.up()
    assert sqls(runner.down(dry_run=True).steps[0].statements) == [
        "ALTER TABLE `events` DROP COLUMN `note`, ALGORITHM=INSTANT"
    ]
    runner.down()
    assert column_type(db, "events", "note") is None


def test_the_migrations_own_clauses_win(db: Database) -> None:
    mysql_only(db)
    events(db)

    def up(db: Database) -> None:
        db.schema.alter_table("events").add_column("a", "integer").algorithm("inplace").lock("none").execute()
        db.schema.alter_table("events").add_column("b", "integer").algorithm("default").execute()
        db.schema.alter_table("events").add_column("c", "integer").lock("shared").execute()
        db.schema.create_index("ix_events_a").on("events").column("a").algorithm("copy").execute()

    runner = create_migration_runner(db, [migration("001_mine", up)], large_table_rows=100)
    assert sqls(runner.up().steps[0].statements) == [
        "ALTER TABLE `events` ADD COLUMN `a` integer, ALGORITHM=INPLACE, LOCK=NONE",
        "ALTER TABLE `events` ADD COLUMN `b` integer, ALGORITHM=DEFAULT",
        "ALTER TABLE `events` ADD COLUMN `c` integer, LOCK=SHARED",
        "CREATE INDEX `ix_events_a` ON `events` (`a`) ALGORITHM=COPY",
    ]


def test_changes_that_copy_the_table_get_no_clause_and_run_as_before(db: Database) -> None:
    mysql_only(db)
    events(db)
    db.execute("CREATE TABLE kinds (id bigint PRIMARY KEY)")

    def up(db: Database) -> None:
        db.schema.alter_table("events").alter_column("n", lambda col: col.set_data_type("bigint")).execute()
        db.schema.alter_table("events").add_foreign_key_constraint("fk_events_kind", ["n"], "kinds", ["id"]).execute()
        db.schema.alter_table("events").add_check_constraint("ck_events_n", sql("n >= 0")).execute()

    db.delete_from("events").execute()  # an empty table: the analysis lets the copies run
    result = create_migration_runner(db, [migration("001_copies", up)]).up()
    statements = sqls(result.steps[0].statements)
    assert len(statements) == 3 and not any("ALGORITHM" in s or "LOCK=" in s for s in statements)
    assert column_type(db, "events", "n") == "bigint(20)"


def test_a_primary_key_dropped_by_the_name_it_was_given_is_known_to_copy(db: Database) -> None:
    """MySQL names every primary key PRIMARY; found by the name kysera kept, its drop is judged
    as what it is (InnoDB copies the table), so the runner adds no clause the server would refuse."""
    mysql_only(db)
    db.schema.create_table("reviews").add_column("slug", "varchar(20)", lambda c: c.not_null()).add_primary_key_constraint("reviews_pk", ["slug"]).execute()
    drop = db.schema.alter_table("reviews").drop_constraint("reviews_pk")
    assert sqls(drop.compile()) == ["ALTER TABLE `reviews` DROP PRIMARY KEY"]
    assert online_form(drop.to_node(), db.dialect, db) is None

    def up(db: Database) -> None:
        drop.execute()

    result = create_migration_runner(db, [migration("001_drop_pk", up)]).up()
    assert sqls(result.steps[0].statements) == ["ALTER TABLE `reviews` DROP PRIMARY KEY"]
    assert not db.fetch("SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'reviews'")


def test_not_null_on_a_generated_column_is_refused_for_what_it_is(db: Database) -> None:
    """MariaDB's generated columns take no NOT NULL: the run stops on that, before anything
    changes, with or without KS213 acknowledged (not on a refused ALGORITHM=INPLACE that sent the
    user to allow_unsafe, after which the change did nothing). A NULL change of a generated column
    gets no automatic clause: how the server does it, kysera cannot tell."""
    mysql_only(db)
    (
        db.schema.create_table("line")
        .add_column("qty", "integer")
        .add_column("total", "integer", lambda c: c.generated_always_as(sql("qty * 2")).stored())
        .execute()
    )
    drop_not_null = db.schema.alter_table("line").alter_column("total", lambda c: c.drop_not_null())
    assert online_form(drop_not_null.to_node(), db.dialect, db) is None

    def up(db: Database) -> None:
        db.schema.alter_table("line").alter_column("total", lambda c: c.set_not_null()).execute()

    for options in ({}, {"allow_unsafe": ["KS213"]}):
        with pytest.raises(MigrationError, match=r"is not supported on MariaDB; MariaDB's generated columns always allow NULL") as info:
            create_migration_runner(db, [migration("001_total_not_null", up, **options)]).up()
        assert "would copy" not in str(info.value) and "nothing was changed" in str(info.value)


def test_acknowledging_the_copy_leaves_the_algorithm_to_the_server(db: Database) -> None:
    mysql_only(db)
    events(db)
    for options in ({"allow_unsafe": ["KS213"]}, {"allow_unsafe": True}):
        runner = create_migration_runner(db, [migration("001_online", online_changes, **options)])
        assert not any("ALGORITHM" in s for s in sqls(runner.up(dry_run=True).steps[0].statements))
    runner = create_migration_runner(db, [migration("001_online", online_changes)], safety_allow=["mysql-table-copy"])
    assert not any("ALGORITHM" in s for s in sqls(runner.up(dry_run=True).steps[0].statements))


# ------------------------------------------------------------------------------ live on MariaDB: refusals


def test_a_forced_instant_type_change_fails_clearly_and_changes_nothing(db: Database) -> None:
    mysql_only(db)
    events(db)

    def widen(db: Database) -> None:
        db.schema.alter_table("events").alter_column("n", lambda col: col.set_data_type("bigint")).algorithm("instant").execute()

    runner = create_migration_runner(db, [migration("001_widen", widen)])
    with pytest.raises(MigrationError) as caught:
        runner.up()
    message = str(caught.value)
    assert message.startswith("migration 001_widen failed (up): MariaDB would copy table `events` to do this")
    assert "refused ALGORITHM=INSTANT, which the migration asked for with .algorithm()/.lock()" in message
    assert 'remove .algorithm()/.lock() and run it in a quiet period with allow_unsafe = ["KS213"]' in message
    assert "or choose an online change" in message and "(error 1846)" in message
    assert "statement: ALTER TABLE `events` MODIFY COLUMN `n` bigint" in message
    assert caught.value.rolled_back
    assert isinstance(caught.value.cause, OnlineDdlRefusedError) and caught.value.cause.table == "events"
    assert column_type(db, "events", "n") == "int(11)"
    assert runner.status().pending == ["001_widen"]  # nothing recorded: the refusal changed nothing


def test_lock_none_where_a_copy_is_needed_fails_clearly(db: Database) -> None:
    mysql_only(db)
    events(db)
    change = db.schema.alter_table("events").alter_column("n", lambda col: col.set_data_type("bigint")).lock("none")
    with pytest.raises(StatementError) as caught:
        change.execute()
    assert isinstance(caught.value.cause, OnlineDdlRefusedError)
    assert str(caught.value.cause).startswith(
        "MariaDB would block writes to table `events` to do this (it cannot do it online: Cannot change column type)"
    )
    assert column_type(db, "events", "n") == "int(11)"


def myisam(db: Database) -> None:
    db.execute("CREATE TABLE legacy (id integer PRIMARY KEY, a integer) ENGINE=MyISAM")
    db.execute("INSERT INTO legacy VALUES (1, 1)")


def add_b(db: Database) -> None:
    db.schema.alter_table("legacy").add_column("b", "integer").execute()


def test_an_automatic_clause_the_server_refuses_names_migration_table_and_fix(db: Database) -> None:
    mysql_only(db)
    myisam(db)  # MyISAM copies the table for every change: kysera's INSTANT makes that visible
    runner = create_migration_runner(db, [migration("001_add_b", add_b)])
    with pytest.raises(MigrationError) as caught:
        runner.up()
    message = str(caught.value)
    assert message.startswith("migration 001_add_b failed (up): MariaDB would copy table `legacy` to do this")
    assert "which kysera added because it expected an online change" in message
    assert 'allow_unsafe = ["KS213"] (kysera then adds no ALGORITHM/LOCK clause to the migration' in message
    assert message.count("migration 001_add_b") == 1
    assert column_type(db, "legacy", "b") is None and runner.status().pending == ["001_add_b"]
    # acknowledged: it runs as before, without a clause
    acknowledged = create_migration_runner(db, [migration("001_add_b", add_b, allow_unsafe=["KS213"])])
    assert sqls(acknowledged.up().steps[0].statements) == ["ALTER TABLE `legacy` ADD COLUMN `b` integer"]
    assert column_type(db, "legacy", "b") == "int(11)"


def test_a_refusal_after_earlier_ddl_is_recorded_as_failed_with_its_statement(db: Database) -> None:
    mysql_only(db)
    myisam(db)

    def up(db: Database) -> None:
        db.schema.create_table("other").add_column("id", "integer", lambda col: col.primary_key()).execute()
        add_b(db)

    runner = create_migration_runner(db, [migration("001_two", up)])
    with pytest.raises(MigrationError) as caught:
        runner.up()
    assert not caught.value.rolled_back  # MySQL committed the CREATE TABLE
    info = runner.status().get("001_two")
    assert info is not None and info.state == "failed"
    assert info.statement == "ALTER TABLE `legacy` ADD COLUMN `b` integer, ALGORITHM=INSTANT"
    assert info.error is not None and "would copy table `legacy`" in info.error


# ------------------------------------------------------------------------------ the decision, per engine and version


def form(engine: str, version: tuple[int, ...], build: Callable[[Database], object]) -> tuple[str, str | None] | None:
    db = offline(engine, version)  # type: ignore[arg-type]
    node: OperationNode = build(db).to_node()  # type: ignore[attr-defined]
    return online_form(node, db.dialect, None)


INSTANT = ("instant", None)
INPLACE = ("inplace", "none")


def add_c(db: Database) -> object:
    return db.schema.alter_table("t").add_column("c", "integer")


def add_c_after_a(db: Database) -> object:
    return db.schema.alter_table("t").add_column("c", "integer", lambda col: col.modify_end(sql("AFTER `a`")))


def drop_a(db: Database) -> object:
    return db.schema.alter_table("t").drop_column("a")


def rename_a(db: Database) -> object:
    return db.schema.alter_table("t").rename_column("a", "b")


@pytest.mark.parametrize(
    ("engine", "version", "build", "expected"),
    [
        ("mysql", (8, 0, 11), add_c, INPLACE),
        ("mysql", (8, 0, 12), add_c, INSTANT),
        ("mysql", (8, 0, 28), add_c_after_a, INPLACE),
        ("mysql", (8, 0, 29), add_c_after_a, INSTANT),
        ("mysql", (8, 0, 28), drop_a, INPLACE),
        ("mysql", (8, 0, 29), drop_a, INSTANT),
        ("mysql", (8, 0, 27), rename_a, INPLACE),
        ("mysql", (8, 0, 28), rename_a, INSTANT),
        ("mariadb", (10, 2, 44), add_c, INPLACE),
        ("mariadb", (10, 3, 2), add_c, INSTANT),
        ("mariadb", (10, 3, 39), add_c_after_a, INPLACE),
        ("mariadb", (10, 3, 39), drop_a, INPLACE),
        ("mariadb", (10, 4, 0), drop_a, INSTANT),
        ("mariadb", (10, 11, 6), rename_a, INSTANT),
    ],
)
def test_instant_where_this_version_has_it_else_in_place(
    engine: str, version: tuple[int, ...], build: Callable[[Database], object], expected: tuple[str, str | None]
) -> None:
    assert form(engine, version, build) == expected


@pytest.mark.parametrize("engine", ["mysql", "mariadb"])
def test_decisions_that_do_not_depend_on_the_version(engine: str) -> None:
    v = (8, 0, 35) if engine == "mysql" else (10, 11, 6)
    cases: list[tuple[Callable[[Database], object], tuple[str, str | None] | None]] = [
        (lambda db: db.schema.create_index("ix").on("t").column("a").unique(), INPLACE),
        (lambda db: db.schema.drop_index("ix").on("t"), INPLACE),
        (lambda db: db.schema.alter_table("t").alter_column("a", lambda col: col.set_default(1)), INSTANT),
        (lambda db: db.schema.alter_table("t").alter_column("a", lambda col: col.drop_default()), INSTANT),
        (lambda db: db.schema.alter_table("t").alter_column("a", lambda col: col.set_not_null()), INPLACE),
        (lambda db: db.schema.alter_table("t").add_unique_constraint("uq_a", ["a"]), INPLACE),
        (lambda db: db.schema.alter_table("t").add_column("c", "integer").add_unique_constraint("uq_c", ["c"]), INPLACE),
        (lambda db: db.schema.alter_table("t").rename_to("u"), INSTANT),
        (lambda db: db.schema.alter_table("t").add_column("c", "integer", lambda col: col.unique()), INPLACE),
        (lambda db: db.schema.alter_table("t").add_column("c", "integer").comment("x"), INSTANT if engine == "mariadb" else None),
        # not online (copies the table or blocks writes), or not knowable: no clause
        (lambda db: db.schema.alter_table("t").rename_to("u").add_unique_constraint("uq_a", ["a"]), None),
        (lambda db: db.schema.alter_table("t").alter_column("a", lambda col: col.set_data_type("bigint")), None),
        (lambda db: db.schema.alter_table("t").modify_column("a", "bigint"), None),
        (lambda db: db.schema.alter_table("t").add_foreign_key_constraint("fk", ["a"], "p", ["id"]), None),
        (lambda db: db.schema.alter_table("t").add_check_constraint("ck", sql("a > 0")), None),
        (lambda db: db.schema.alter_table("t").add_column("c", "integer", lambda col: col.references("p.id")), None),
        (lambda db: db.schema.alter_table("t").add_column("c", "serial"), None),
        (lambda db: db.schema.alter_table("t").add_column("c", "integer", lambda col: col.auto_increment().unique()), None),
        (lambda db: db.schema.alter_table("t").add_column("c", "integer", lambda col: col.generated_always_as(sql("a * 2")).stored()), None),
        (lambda db: db.schema.alter_table("t").add_column("c", "char(36)", lambda col: col.default_to(sql("(uuid())"))), None),
        (lambda db: db.schema.create_index("ix").on("t").column(sql("lower(b)")), None),
    ]
    for build, expected in cases:
        assert form(engine, v, build) == expected, build(offline(engine)).to_node()  # type: ignore[arg-type, attr-defined]
    virtual = form(engine, v, lambda db: db.schema.alter_table("t").add_column("c", "integer", lambda col: col.generated_always_as(sql("a * 2"))))
    assert virtual == INSTANT
    now = form(engine, v, lambda db: db.schema.alter_table("t").add_column("at", "datetime", lambda col: col.default_to(sql("CURRENT_TIMESTAMP"))))
    assert now == (INSTANT if engine == "mariadb" else None)  # MySQL adds no expression default instantly


# ------------------------------------------------------------------------------ MySQL's refusals, offline


def refused(node: AlterTableNode, code: int, text: str, engine: str = "mysql") -> str | None:
    db = offline(engine)  # type: ignore[arg-type]
    statement = CompiledStatement("ALTER TABLE ...", node=node)
    found = explain_refusal(db.dialect, statement, Exception(code, text))
    return None if found is None else str(found)


def test_mysql_refusals_become_one_clear_message() -> None:
    node = AlterTableNode(IdentifierNode("events"), (), "instant", None, True)
    instant = refused(node, 1845, "ALGORITHM=INSTANT is not supported for this operation. Try ALGORITHM=COPY/INPLACE.")
    assert instant is not None
    assert instant.startswith("MySQL cannot do this change to table `events` instantly, so it refused ALGORITHM=INSTANT")
    assert '.algorithm("inplace").lock("none")' in instant and 'allow_unsafe = ["KS213"]' in instant
    copy = refused(
        replace(node, algorithm="inplace", lock="none"),
        1846,
        "ALGORITHM=INPLACE is not supported. Reason: Cannot change column type INPLACE. Try ALGORITHM=COPY.",
    )
    assert copy is not None and copy.startswith(
        "MySQL would copy table `events` to do this (it cannot do it online: Cannot change column type INPLACE)"
    )
    versions = refused(node, 4092, "Maximum row versions reached for table test/events. No more columns can be added "
                                   "or dropped instantly. Please use COPY/INPLACE.")
    assert versions is not None and "used up its 64 instant column changes" in versions
    assert refused(node, 1062, "Duplicate entry") is None  # not about ALGORITHM/LOCK
    assert refused(replace(node, algorithm=None), 1845, "ALGORITHM=INSTANT is not supported") is None


# ------------------------------------------------------------------------------ the analysis says copy, in place or instant


def test_the_analysis_says_how_mysql_does_each_change() -> None:
    db = offline("mariadb")
    statements = [
        *db.compile(db.schema.alter_table("events").drop_column("legacy")),
        *db.compile(db.schema.alter_table("events").add_column("kind_id", "integer", lambda col: col.references("kinds.id"))),
        *db.compile(db.schema.alter_table("events").add_column("x", "integer").algorithm("copy")),
        *db.compile(db.schema.alter_table("events").add_column("seq", "integer", lambda col: col.auto_increment().unique())),
    ]
    found = {(f.code, f.message) for f in analyze(statements, db.dialect, OfflineFacts())}
    messages = dict(found)
    assert "MariaDB does this instantly (ALGORITHM=INSTANT" in messages["KS102"]
    assert "KS213" in messages
    copies = [m for code, m in found if code == "KS213"]
    assert any("with a foreign key: MariaDB copies the table (ALGORITHM=COPY)" in m for m in copies)
    assert any("asks for ALGORITHM=COPY" in m for m in copies)
    assert "rebuilds the table in place and blocks writes" in messages["KS208"]
    mysql = offline("mysql", (8, 0, 20))
    old_drop = analyze(list(mysql.compile(mysql.schema.alter_table("events").drop_column("legacy"))), mysql.dialect, OfflineFacts())
    assert "MySQL does this in place (ALGORITHM=INPLACE, LOCK=NONE): reads and writes continue" in old_drop[0].message


def test_set_not_null_is_in_place_on_mariadb(db: Database) -> None:
    mysql_only(db)
    events(db)
    statements = list(db.compile(db.schema.alter_table("events").alter_column("n", lambda col: col.set_not_null())))
    found = analyze(statements, db.dialect, OfflineFacts())
    assert [f.code for f in found] == ["KS205"]
    assert "MariaDB does this in place (ALGORITHM=INPLACE, LOCK=NONE)" in found[0].message


# ------------------------------------------------------------------------------ the docs' example runs


def test_the_docs_example_runs(db: Database, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    mysql_only(db)
    text = (DOCS / "safety.md").read_text(encoding="utf-8")
    section = text[text.index("## MySQL and MariaDB: online DDL clauses") :]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None and "mysql://root@127.0.0.1:3306/test" in code.group(1)
    source = code.group(1).replace("mysql://root@127.0.0.1:3306/test", db_url)
    exec(compile(source, "docs/safety.md", "exec"), {})  # the docs' own example
    printed = capsys.readouterr().out
    assert "ALTER TABLE `events` ADD COLUMN `note` varchar(200), ALGORITHM=INSTANT;" in printed
    assert "CREATE INDEX `ix_events_kind` ON `events` (`kind`) ALGORITHM=INPLACE LOCK=NONE;" in printed
    assert "MariaDB would copy table `events` to do this" in printed


def test_a_default_that_is_one_value_for_every_row_is_added_instantly_on_mariadb(db: Database) -> None:
    """(json_array()) or (1+1) is the same for every row: MariaDB adds such a column instantly;
    (n+1) reads another column and (uuid()) differs per row: those rebuild the table."""
    mysql_only(db)
    if not db.dialect.is_mariadb:  # type: ignore[attr-defined]
        pytest.skip("MariaDB's instant ADD COLUMN")
    events(db, rows=20)

    def add(default: str) -> Step:
        return lambda db: db.schema.alter_table("events").add_column("c", "longtext", lambda col: col.default_to(sql(default))).execute()

    for default in ("(json_array())", "(1+1)", "(concat('a', 'b'))"):
        runner = create_migration_runner(db, [migration("001_c", add(default), lambda db: db.schema.alter_table("events").drop_column("c").execute())], large_table_rows=10)
        planned = runner.up(dry_run=True)
        assert "ALGORITHM=INSTANT" in planned.sql() and not planned.findings, default
        runner.up()
        runner.down()
    for default in ("(n+1)", "(uuid())"):
        runner = create_migration_runner(db, [migration("001_c", add(default))], large_table_rows=10)
        with pytest.raises(UnsafeMigrationError, match="KS207"):
            runner.up()  # refused on a large table
