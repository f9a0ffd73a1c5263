"""Every schema example of the user's guide, run on SQLite, PostgreSQL and MariaDB.

Results are checked by reading the engine's own catalog (tests/catalog.py), not by comparing SQL.
"""

from __future__ import annotations

import pytest

from kysera import Database, sql

from . import catalog


def create_users(db: Database) -> None:
    (
        db.schema.create_table("users")
        .add_column("id", "serial", lambda col: col.primary_key())
        .add_column("email", "varchar(255)", lambda col: col.not_null().unique())
        .add_column("name", "varchar(100)", lambda col: col.not_null())
        .add_column("created_at", "timestamp", lambda col: col.not_null().default_to(sql("CURRENT_TIMESTAMP")))
        .execute()
    )


def create_posts(db: Database) -> None:
    (
        db.schema.create_table("posts")
        .add_column("id", "serial", lambda col: col.primary_key())
        .add_column("user_id", "integer", lambda col: col.not_null().references("users.id").on_delete("cascade"))
        .add_column("title", "varchar(255)", lambda col: col.not_null())
        .add_column("content", "text")
        .add_column("status", "varchar(20)", lambda col: col.not_null().default_to("draft"))
        .add_column("created_at", "timestamp", lambda col: col.not_null().default_to(sql("CURRENT_TIMESTAMP")))
        .add_column("updated_at", "timestamp")
        .execute()
    )
    db.schema.create_index("idx_posts_user_id").on("posts").column("user_id").execute()
    db.schema.create_index("idx_posts_status").on("posts").column("status").execute()


def test_create_users_table(db: Database) -> None:
    create_users(db)
    cols = catalog.columns(db, "users")
    assert list(cols) == ["id", "email", "name", "created_at"]
    assert not cols["email"].nullable and not cols["name"].nullable and not cols["created_at"].nullable
    assert catalog.primary_key(db, "users") == ["id"]
    assert any(unique and c == ["email"] for unique, c in catalog.indexes(db, "users").values())
    # serial numbers rows on every engine (plain SERIAL on SQLite would leave NULL ids)
    db.insert_into("users").values([{"email": "a@x.org", "name": "A"}, {"email": "b@x.org", "name": "B"}]).execute()
    rows = db.select_from("users").select(["id", "created_at"]).order_by("id").fetch_all()
    assert [r["id"] for r in rows] == [1, 2]
    assert all(r["created_at"] is not None for r in rows)
    # the unique constraint holds
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        db.insert_into("users").values({"email": "a@x.org", "name": "again"}).execute()


def test_down_drops_users(db: Database) -> None:
    create_users(db)
    db.schema.drop_table("users").execute()
    assert "users" not in catalog.tables(db)


def test_create_posts_with_foreign_key_and_indexes(db: Database) -> None:
    create_users(db)
    create_posts(db)
    fks = catalog.foreign_keys(db, "posts")
    assert [(f["column"], f["ref_table"], f["ref_column"], f["on_delete"]) for f in fks] == [
        ("user_id", "users", "id", "cascade")
    ]
    idx = catalog.indexes(db, "posts")
    assert idx["idx_posts_user_id"] == (False, ["user_id"])
    assert idx["idx_posts_status"] == (False, ["status"])
    db.insert_into("users").values({"email": "a@x.org", "name": "A"}).execute()
    db.insert_into("posts").values({"user_id": 1, "title": "hello"}).execute()
    post = db.select_from("posts").fetch_one()
    assert post is not None and post["status"] == "draft"
    # the foreign key is enforced and cascades
    with pytest.raises(Exception, match=r"(?i)foreign key"):
        db.insert_into("posts").values({"user_id": 99, "title": "orphan"}).execute()
    db.delete_from("users").where("id", "=", 1).execute()
    assert db.select_from("posts").fetch_all() == []


def test_add_and_drop_columns(db: Database) -> None:
    create_users(db)
    db.schema.alter_table("users").add_column("avatar_url", "varchar(500)").add_column("bio", "text").execute()
    cols = catalog.columns(db, "users")
    assert cols["avatar_url"].nullable and cols["bio"].nullable
    db.schema.alter_table("users").drop_column("avatar_url").drop_column("bio").execute()
    assert list(catalog.columns(db, "users")) == ["id", "email", "name", "created_at"]


def test_modify_column_type_with_builder(db: Database) -> None:
    create_users(db)
    db.insert_into("users").values({"email": "a@x.org", "name": "x" * 100}).execute()
    db.schema.alter_table("users").alter_column("name", lambda col: col.set_data_type("varchar(200)")).execute()
    col = catalog.columns(db, "users")["name"]
    assert col.type in ("character varying(200)", "varchar(200)")
    assert not col.nullable  # the rest of the definition is kept (MySQL MODIFY, SQLite rebuild)
    db.insert_into("users").values({"email": "b@x.org", "name": "y" * 200}).execute()
    assert len(db.select_from("users").fetch_all()) == 2


def test_modify_column_type_with_raw_sql_on_postgres(db: Database) -> None:
    if db.dialect.name != "postgres":
        pytest.skip("the guide's raw ALTER COLUMN ... TYPE is PostgreSQL syntax")
    create_users(db)
    sql("ALTER TABLE users ALTER COLUMN name TYPE varchar(200)").execute(db)
    assert catalog.columns(db, "users")["name"].type == "character varying(200)"


def test_indexes(db: Database) -> None:
    create_users(db)
    create_posts(db)
    db.schema.alter_table("users").add_column("username", "varchar(50)").add_column("status", "varchar(20)").execute()
    db.schema.create_index("idx_users_email").on("users").column("email").execute()
    db.schema.create_index("idx_posts_created_user").on("posts").columns(["created_at", "user_id"]).execute()
    db.schema.create_index("idx_users_username").on("users").column("username").unique().execute()
    users = catalog.indexes(db, "users")
    assert users["idx_users_email"] == (False, ["email"])
    assert users["idx_users_username"] == (True, ["username"])
    assert catalog.indexes(db, "posts")["idx_posts_created_user"] == (False, ["created_at", "user_id"])
    if db.dialect.capabilities.partial_index:
        db.schema.create_index("idx_active_users").on("users").column("id").where(sql("status = {}", "active")).execute()
        assert "idx_active_users" in catalog.indexes(db, "users")
    db.schema.drop_index("idx_users_email").on("users").execute()
    assert "idx_users_email" not in catalog.indexes(db, "users")


def test_partial_index_raw_sql(db: Database) -> None:
    if db.dialect.name == "mysql":
        pytest.skip("MySQL has no partial indexes")
    create_users(db)
    db.schema.alter_table("users").add_column("status", "varchar(20)").execute()
    sql("""
        CREATE INDEX idx_active_users ON users (id)
        WHERE status = 'active'
    """).execute(db)
    assert "idx_active_users" in catalog.indexes(db, "users")


def test_add_foreign_key_constraint(db: Database) -> None:
    create_users(db)
    create_posts(db)
    db.schema.create_table("categories").add_column("id", "serial", lambda col: col.primary_key()).execute()
    db.schema.alter_table("posts").add_column("category_id", "integer").execute()
    (
        db.schema.alter_table("posts")
        .add_foreign_key_constraint("fk_posts_category", ["category_id"], "categories", ["id"])
        .on_delete("set null")
        .execute()
    )
    fk = [f for f in catalog.foreign_keys(db, "posts") if f["column"] == "category_id"]
    assert fk and fk[0]["ref_table"] == "categories" and fk[0]["on_delete"] == "set null"
    db.insert_into("users").values({"email": "a@x.org", "name": "A"}).execute()
    db.insert_into("categories").values({"id": 7}).execute()
    db.insert_into("posts").values({"user_id": 1, "title": "t", "category_id": 7}).execute()
    db.delete_from("categories").execute()
    post = db.select_from("posts").fetch_one()
    assert post is not None and post["category_id"] is None
    # drop_constraint knows a foreign key from other constraints (MySQL: DROP FOREIGN KEY)
    db.schema.alter_table("posts").drop_constraint("fk_posts_category").execute()
    assert not [f for f in catalog.foreign_keys(db, "posts") if f["column"] == "category_id"]
    # MySQL made an index for the key; dropping the key drops it too, so down undoes up
    assert "fk_posts_category" not in catalog.indexes(db, "posts")


def test_dropping_a_foreign_key_keeps_an_index_another_key_needs(db: Database) -> None:
    db.schema.create_table("a").add_column("id", "integer", lambda col: col.primary_key()).execute()
    db.schema.create_table("b").add_column("id", "integer", lambda col: col.primary_key()).execute()
    db.schema.create_table("c").add_column("id", "integer", lambda col: col.primary_key()).add_column("x", "integer").execute()
    db.schema.alter_table("c").add_foreign_key_constraint("c_x_a", ["x"], "a", ["id"]).execute()
    db.schema.alter_table("c").add_foreign_key_constraint("c_x_b", ["x"], "b", ["id"]).execute()
    db.schema.alter_table("c").drop_constraint("c_x_a").execute()  # MySQL: c_x_b still uses index c_x_a
    assert [f["ref_table"] for f in catalog.foreign_keys(db, "c")] == ["b"]
    db.schema.alter_table("c").drop_constraint("c_x_b").execute()
    assert not catalog.foreign_keys(db, "c")
    # an index the user made (under another name) stays, as on the other engines
    db.schema.create_index("c_x").on("c").column("x").execute()
    db.schema.alter_table("c").add_foreign_key_constraint("c_x_a", ["x"], "a", ["id"]).execute()
    db.schema.alter_table("c").drop_constraint("c_x_a").execute()
    assert "c_x" in catalog.indexes(db, "c")


def test_safe_changes(db: Database) -> None:
    create_users(db)
    db.schema.alter_table("users").add_column("phone", "varchar(20)").execute()
    assert catalog.columns(db, "users")["phone"].nullable
    if db.dialect.name == "postgres":
        sql("CREATE INDEX CONCURRENTLY idx_users_phone ON users (phone)").execute(db)
    else:
        db.schema.create_index("idx_users_phone").on("users").column("phone").concurrently().execute()
    assert "idx_users_phone" in catalog.indexes(db, "users")
    (
        db.schema.create_table("audit_logs")
        .add_column("id", "bigserial", lambda col: col.primary_key())
        .add_column("action", "varchar(50)", lambda col: col.not_null())
        .execute()
    )
    assert "audit_logs" in catalog.tables(db)


def test_concurrent_index_builder_runs_outside_transactions(db: Database) -> None:
    create_users(db)
    builder = db.schema.create_index("idx_users_name").on("users").column("name").concurrently()
    compiled = builder.compile()
    if db.dialect.name == "postgres":
        assert "CONCURRENTLY" in compiled.sql and not compiled[0].transactional
    builder.execute()
    assert "idx_users_name" in catalog.indexes(db, "users")


def test_destructive_changes(db: Database) -> None:
    create_users(db)
    db.schema.alter_table("users").add_column("legacy_field", "text").add_column("age", "integer").execute()
    db.schema.alter_table("users").drop_column("legacy_field").execute()
    assert "legacy_field" not in catalog.columns(db, "users")
    db.schema.alter_table("users").alter_column("age", lambda col: col.set_data_type("bigint")).execute()
    assert catalog.columns(db, "users")["age"].type in ("bigint", "bigint(20)")
    db.schema.alter_table("users").alter_column("email", lambda col: col.drop_not_null()).execute()
    assert catalog.columns(db, "users")["email"].nullable
    db.schema.alter_table("users").alter_column("email", lambda col: col.set_not_null()).execute()
    assert not catalog.columns(db, "users")["email"].nullable


def test_expand_backfill_contract(db: Database) -> None:
    """The guide's "Safe Patterns for Destructive Changes", three steps."""
    create_users(db)
    db.insert_into("users").values([{"email": f"u{i}@x.org", "name": f"u{i}"} for i in range(5)]).execute()
    # step 1: add the new nullable column
    db.schema.alter_table("users").add_column("email_new", "varchar(255)").execute()
    # step 2: migrate the data
    db.update_table("users").set({"email_new": db.ref("email")}).execute()
    # step 3: make it NOT NULL, drop the old one, rename
    (
        db.schema.alter_table("users")
        .alter_column("email_new", lambda col: col.set_not_null())
        .drop_column("email")
        .execute()
    )
    sql("ALTER TABLE users RENAME COLUMN email_new TO email").execute(db)
    cols = catalog.columns(db, "users")
    assert "email_new" not in cols and not cols["email"].nullable
    emails = sorted(str(r["email"]) for r in db.select_from("users").select(["email"]).fetch_all())
    assert emails == [f"u{i}@x.org" for i in range(5)]


def test_several_actions_in_one_alter_table(db: Database) -> None:
    create_users(db)
    (
        db.schema.alter_table("users")
        .add_column("a", "integer")
        .add_column("b", "varchar(10)", lambda col: col.default_to("x"))
        .rename_column("name", "full_name")
        .execute()
    )
    cols = catalog.columns(db, "users")
    assert {"a", "b", "full_name"} <= set(cols) and "name" not in cols
