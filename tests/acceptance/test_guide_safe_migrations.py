"""Acceptance: the guide's raw-SQL examples and its "Safe Migrations" section, through the runner."""

from __future__ import annotations

import pytest

from kysera import Database, sql
from kysera.migrations import Migration, UnsafeMigrationError, create_migration_runner


def _users(db: Database) -> None:
    (
        db.schema.create_table("users")
        .add_column("id", "serial", lambda col: col.primary_key())
        .add_column("email", "varchar(255)", lambda col: col.not_null().unique())
        .add_column("name", "varchar(100)", lambda col: col.not_null())
        .add_column("status", "varchar(20)")
        .add_column("age", "integer")
        .add_column("legacy_field", "text")
        .add_column("created_at", "timestamp", lambda col: col.not_null().default_to(sql("CURRENT_TIMESTAMP")))
        .execute()
    )


def _drop_users(db: Database) -> None:
    db.schema.drop_table("users").execute()


BASE = Migration("001_create_users", _users, _drop_users)


def _norm(data_type: str) -> str:
    return data_type.replace("character varying", "varchar").lower()


def _seed(db: Database, rows: int = 3) -> None:
    for i in range(rows):
        db.insert_into("users").values(
            {"email": f"u{i}@example.com", "name": f"User {i}", "status": "active" if i % 2 else "inactive",
             "legacy_field": "old"}
        ).execute()


def test_modifying_columns_raw_sql_postgres(db: Database, engine: str) -> None:
    if engine != "postgres":
        pytest.skip("the guide's raw ALTER COLUMN ... TYPE is PostgreSQL syntax")

    def up(db: Database) -> None:
        # PostgreSQL
        sql("ALTER TABLE users ALTER COLUMN name TYPE varchar(200)").execute(db)

    runner = create_migration_runner(db, [BASE, Migration("002_widen_name", up)])
    runner.up()
    assert _norm(db.introspect_table("users").column("name").data_type) == "varchar(200)"


def test_modifying_columns_builder_keeps_the_rest_of_the_column(db: Database) -> None:
    def up(db: Database) -> None:
        db.schema.alter_table("users").alter_column("name", lambda col: col.set_data_type("varchar(200)")).execute()

    create_migration_runner(db, [BASE]).up()
    _seed(db)
    create_migration_runner(db, [BASE, Migration("002_widen_name", up)]).up()
    users = db.introspect_table("users")
    assert _norm(users.column("name").data_type) == "varchar(200)"
    assert users.column("name").nullable is False  # NOT NULL kept
    assert len(db.select_from("users").select(["id"]).execute()) == 3
    assert any(ix.unique and ix.columns == ("email",) for ix in users.indexes)


def test_partial_index_raw_sql(db: Database, engine: str) -> None:
    if engine == "mysql":
        pytest.skip("partial indexes are PostgreSQL (and SQLite)")

    def up(db: Database) -> None:
        # Partial index (PostgreSQL)
        sql("""
CREATE INDEX idx_active_users ON users (id)
WHERE status = 'active'
""").execute(db)

    def down(db: Database) -> None:
        db.schema.drop_index("idx_active_users").execute()

    runner = create_migration_runner(db, [BASE, Migration("002_active_users", up, down)])
    runner.up()
    index = db.introspect_table("users").index("idx_active_users")
    assert index is not None and index.predicate is not None
    assert "active" in index.predicate
    runner.down(1)
    assert db.introspect_table("users").index("idx_active_users") is None


def test_partial_index_builder(db: Database, engine: str) -> None:
    create_migration_runner(db, [BASE]).up()
    builder = db.schema.create_index("idx_active_users").on("users").column("id").where(sql("status = 'active'"))
    if engine == "mysql":
        from kysera.errors import UnsupportedError

        with pytest.raises(UnsupportedError):
            builder.compile()
        return
    builder.execute()
    assert "active" in (db.introspect_table("users").index("idx_active_users").predicate or "")


def test_safe_add_nullable_column_and_new_table(db: Database) -> None:
    def add_phone(db: Database) -> None:
        db.schema.alter_table("users").add_column("phone", "varchar(20)").execute()  # Nullable by default

    def audit_logs(db: Database) -> None:
        (
            db.schema.create_table("audit_logs")
            .add_column("id", "serial", lambda col: col.primary_key())
            .add_column("action", "varchar(50)", lambda col: col.not_null())
            .execute()
        )

    create_migration_runner(db, [BASE]).up()
    _seed(db)
    runner = create_migration_runner(db, [BASE, Migration("002_phone", add_phone), Migration("003_audit", audit_logs)])
    result = runner.up()
    assert result.executed == ["002_phone", "003_audit"]
    assert db.introspect_table("users").column("phone").nullable
    assert db.table_exists("audit_logs")


def test_create_index_concurrently_raw_sql(db: Database, engine: str) -> None:
    """Safe: add index concurrently (PostgreSQL), as the guide writes it: raw SQL in a migration.

    CREATE INDEX CONCURRENTLY cannot run in a transaction; the runner must notice.
    """
    if engine != "postgres":
        pytest.skip("CONCURRENTLY is PostgreSQL")

    def add_phone(db: Database) -> None:
        db.schema.alter_table("users").add_column("phone", "varchar(20)").execute()

    def index(db: Database) -> None:
        sql("""
CREATE INDEX CONCURRENTLY idx_users_phone ON users (phone)
""").execute(db)

    def drop(db: Database) -> None:
        sql("DROP INDEX CONCURRENTLY idx_users_phone").execute(db)

    runner = create_migration_runner(
        db, [BASE, Migration("002_phone", add_phone), Migration("003_phone_index", index, drop)]
    )
    runner.up()
    index_info = db.introspect_table("users").index("idx_users_phone")
    assert index_info is not None and index_info.valid
    runner.down(1)
    assert db.introspect_table("users").index("idx_users_phone") is None


def test_create_index_concurrently_builder(db: Database, engine: str) -> None:
    def index(db: Database) -> None:
        db.schema.create_index("idx_users_email2").on("users").column("email").concurrently().execute()

    runner = create_migration_runner(db, [BASE, Migration("002_idx", index)])
    runner.up()
    assert db.introspect_table("users").index("idx_users_email2") is not None


def test_drop_column_with_data_is_refused_then_acknowledged(db: Database) -> None:
    """Dangerous: drop column. The gate refuses when the column holds data."""

    def drop_legacy(db: Database) -> None:
        db.schema.alter_table("users").drop_column("legacy_field").execute()

    create_migration_runner(db, [BASE]).up()
    _seed(db)
    with pytest.raises(UnsafeMigrationError) as info:
        create_migration_runner(db, [BASE, Migration("002_drop_legacy", drop_legacy)]).up()
    assert "002_drop_legacy" in str(info.value)
    assert "KS102" in [f.code for f in info.value.findings]
    assert "legacy_field" in db.introspect_table("users").column_names
    runner = create_migration_runner(db, [BASE, Migration("002_drop_legacy", drop_legacy, allow_unsafe=["KS102"])])
    assert runner.up().executed == ["002_drop_legacy"]
    assert "legacy_field" not in db.introspect_table("users").column_names


def test_drop_column_on_empty_table_runs(db: Database) -> None:
    def drop_legacy(db: Database) -> None:
        db.schema.alter_table("users").drop_column("legacy_field").execute()

    runner = create_migration_runner(db, [BASE, Migration("002_drop_legacy", drop_legacy)])
    assert runner.up().executed == ["001_create_users", "002_drop_legacy"]


def test_change_column_type_raw_sql_postgres(db: Database, engine: str) -> None:
    """Dangerous: change column type, on a small table it runs."""
    if engine != "postgres":
        pytest.skip("PostgreSQL syntax")

    def bigint(db: Database) -> None:
        sql("ALTER TABLE users ALTER COLUMN age TYPE bigint").execute(db)

    create_migration_runner(db, [BASE]).up()
    _seed(db)
    create_migration_runner(db, [BASE, Migration("002_age", bigint)]).up()
    assert db.introspect_table("users").column("age").data_type == "bigint"


def test_set_not_null(db: Database) -> None:
    def not_null(db: Database) -> None:
        db.schema.alter_table("users").alter_column("status", lambda col: col.set_not_null()).execute()

    create_migration_runner(db, [BASE]).up()
    _seed(db)
    create_migration_runner(db, [BASE, Migration("002_status_not_null", not_null)]).up()
    assert db.introspect_table("users").column("status").nullable is False
    assert len(db.select_from("users").select(["id"]).execute()) == 3


def test_set_not_null_with_null_rows_fails_cleanly(db: Database, engine: str) -> None:
    from kysera.migrations import MigrationError

    def not_null(db: Database) -> None:
        db.schema.alter_table("users").alter_column("age", lambda col: col.set_not_null()).execute()

    create_migration_runner(db, [BASE]).up()
    _seed(db)
    runner = create_migration_runner(db, [BASE, Migration("002_age_not_null", not_null)])
    if engine == "mysql":
        # MariaDB fills zeros in non-strict mode or refuses in strict mode; either way it is not silent
        try:
            runner.up()
        except MigrationError:
            return
        return
    with pytest.raises(MigrationError) as info:
        runner.up()
    assert "002_age_not_null" in str(info.value)
    assert db.introspect_table("users").column("age").nullable is True
    assert len(db.select_from("users").select(["id"]).execute()) == 3


def test_safe_pattern_three_steps(db: Database, engine: str) -> None:
    """Safe Patterns for Destructive Changes: add column, migrate data, make NOT NULL + drop + rename."""

    def step1(db: Database) -> None:
        db.schema.alter_table("users").add_column("email_new", "varchar(255)").execute()

    def step2(db: Database) -> None:
        db.update_table("users").set({"email_new": db.ref("email")}).execute()

    def step3(db: Database) -> None:
        (
            db.schema.alter_table("users")
            .alter_column("email_new", lambda col: col.set_not_null())
            .drop_column("email")
            .execute()
        )
        sql("ALTER TABLE users RENAME COLUMN email_new TO email").execute(db)

    create_migration_runner(db, [BASE]).up()
    _seed(db)
    plan = [
        BASE,
        Migration("002_add_email_new", step1),
        Migration("003_copy_email", step2),
    ]
    assert create_migration_runner(db, plan).up().executed == ["002_add_email_new", "003_copy_email"]
    rows = db.select_from("users").select(["email", "email_new"]).execute()
    assert all(r["email"] == r["email_new"] for r in rows) and len(rows) == 3

    # step 3 drops a column that holds data: refused unless acknowledged
    with pytest.raises(UnsafeMigrationError):
        create_migration_runner(db, [*plan, Migration("004_swap_email", step3)]).up()
    assert "email_new" in db.introspect_table("users").column_names

    runner = create_migration_runner(db, [*plan, Migration("004_swap_email", step3, allow_unsafe=["KS102"])])
    assert runner.up().executed == ["004_swap_email"]
    users = db.introspect_table("users")
    assert "email_new" not in users.column_names
    assert users.column("email").nullable is False
    emails = sorted(r["email"] for r in db.select_from("users").select(["email"]).execute())
    assert emails == ["u0@example.com", "u1@example.com", "u2@example.com"]


def test_backfill_step_two_for_big_tables(db: Database) -> None:
    """The issue's recommended form of the guide's step 2 for a big table."""

    def step1(db: Database) -> None:
        db.schema.alter_table("users").add_column("email_new", "varchar(255)").execute()

    def step2(db: Database) -> None:
        db.backfill("users", set={"email_new": db.ref("email")}, where=sql("email_new IS NULL"), batch_size=2)

    create_migration_runner(db, [BASE]).up()
    _seed(db, 5)
    runner = create_migration_runner(db, [BASE, Migration("002_add", step1), Migration("003_backfill", step2)])
    assert runner.up().executed == ["002_add", "003_backfill"]
    rows = db.select_from("users").select(["email", "email_new"]).execute()
    assert len(rows) == 5 and all(r["email"] == r["email_new"] for r in rows)


def test_gate_dry_run_reports_rather_than_runs(db: Database) -> None:
    def drop_legacy(db: Database) -> None:
        db.schema.alter_table("users").drop_column("legacy_field").execute()

    create_migration_runner(db, [BASE]).up()
    _seed(db)
    result = create_migration_runner(db, [BASE, Migration("002_drop", drop_legacy)]).up(dry_run=True)
    assert result.dry_run
    assert [f.code for f in result.refused] == ["KS102"]
    assert "legacy_field" in db.introspect_table("users").column_names
