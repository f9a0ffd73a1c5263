"""The whole schema builder, executed on every engine that supports each operation and checked by
reading the engine's own catalog; what an engine cannot do must fail at compile time, clearly.

The support table itself (every feature on every engine) is checked by test_support_matrix.py;
this file checks that what runs does the right thing.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kysera import Database, sql
from kysera.dialects.support import engine_of, supports
from kysera.errors import BuilderError, StatementError, UnsupportedError
from kysera.schema import enum_type
from kysera.schema.create_table import CreateTableBuilder

from . import catalog
from .test_support_matrix import offline

SCHEMA = f"kysera_tenant_{os.getpid()}"
MOOD = enum_type("mood", ["happy", "sad"])


def engine(db: Database) -> str:
    return engine_of(db.dialect)


def only(db: Database, *engines: str) -> None:
    if engine(db) not in engines and db.dialect.name not in engines:
        pytest.skip(f"{db.dialect.display_name} does not have this; the refusal is tested separately")


def scalar(db: Database, query: str, *params: object) -> object:
    rows = db.fetch(query, list(params))
    return next(iter(rows[0].values())) if rows else None


def ph(db: Database) -> str:
    return "?" if db.dialect.name == "sqlite" else "%s"


def users(db: Database) -> None:
    (
        db.schema.create_table("users")
        .add_column("id", "integer", lambda col: col.primary_key())
        .add_column("email", "varchar(100)")
        .add_column("status", "varchar(20)")
        .execute()
    )
    db.insert_into("users").values(
        [
            {"id": 1, "email": "a@x.org", "status": "active"},
            {"id": 2, "email": "b@x.org", "status": "it's 100% \\ odd"},
            {"id": 3, "email": None, "status": "active"},
        ]
    ).execute()


def exists(db: Database, table: str, schema: str | None = None) -> bool:
    """Whether ``schema.table`` (default: the connection's own schema) is a table or view."""
    if db.dialect.name == "sqlite":
        where = f'"{schema}".sqlite_master' if schema else "sqlite_master"
        return bool(scalar(db, f"SELECT count(*) FROM {where} WHERE name = ?", table))
    if db.dialect.name == "postgres":
        own = "%s" if schema else "current_schema()"
        query = f"SELECT count(*) FROM information_schema.tables WHERE table_schema = {own} AND table_name = %s"
    else:
        own = "%s" if schema else "DATABASE()"
        query = f"SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = {own} AND TABLE_NAME = %s"
    return bool(scalar(db, query, *([schema] if schema else []), table))


def table_sql(db: Database, name: str) -> str:
    """The engine's own text of a table's definition (SQLite, MySQL)."""
    if db.dialect.name == "sqlite":
        return str(scalar(db, "SELECT sql FROM sqlite_master WHERE name = ?", name))
    return str(db.fetch(f"SHOW CREATE TABLE `{name}`")[0]["Create Table"])


@pytest.fixture
def tenant(db: Database, tmp_path: Path) -> Iterator[Database]:
    """``db.with_schema(SCHEMA)``, with the schema made (an attached file on SQLite) and dropped after."""
    if db.dialect.name == "sqlite":
        db.execute(sql("ATTACH DATABASE {} AS {}", sql.lit(str(tmp_path / "tenant.db")), sql.id(SCHEMA)))
    else:
        db.schema.drop_schema(SCHEMA).if_exists().cascade().execute()
        db.schema.create_schema(SCHEMA).execute()
    yield db.with_schema(SCHEMA)
    if db.dialect.name == "sqlite":
        db.execute(sql("DETACH DATABASE {}", sql.id(SCHEMA)))
    else:
        db.schema.drop_schema(SCHEMA).if_exists().cascade().execute()


# ============================================================================== tables


def test_temporary_table(db: Database) -> None:
    db.schema.create_table("scratch").temporary().add_column("a", "integer").execute()
    db.insert_into("scratch").values({"a": 1}).execute()
    assert db.select_from("scratch").fetch_all() == [{"a": 1}]
    if db.dialect.name == "postgres":
        assert scalar(db, "SELECT relpersistence FROM pg_class WHERE relname = 'scratch'") == "t"
    elif db.dialect.name == "sqlite":
        assert scalar(db, "SELECT count(*) FROM sqlite_temp_master WHERE name = 'scratch'") == 1
    else:
        assert "CREATE TEMPORARY TABLE" in table_sql(db, "scratch")
    assert "scratch" not in catalog.tables(db)


def test_create_table_if_not_exists_keeps_the_table(db: Database) -> None:
    users(db)
    db.schema.create_table("users").if_not_exists().add_column("other", "integer").execute()
    assert "other" not in catalog.columns(db, "users")
    assert len(db.select_from("users").fetch_all()) == 3


def test_create_table_as_select_builder_inlines_values(db: Database) -> None:
    users(db)
    builder = db.schema.create_table("odd_users").as_(
        db.select_from("users").select(["id", "email"]).where("status", "=", "it's 100% \\ odd")
    )
    compiled = builder.compile()
    assert compiled[0].params == () and "it''s 100%" in compiled.sql
    builder.execute()
    assert list(catalog.columns(db, "odd_users")) == ["id", "email"]
    assert db.select_from("odd_users").fetch_all() == [{"id": 2, "email": "b@x.org"}]


def test_create_table_as_raw_sql_with_a_value(db: Database) -> None:
    users(db)
    db.schema.create_table("active").as_(sql("SELECT id FROM users WHERE status = {}", "active")).execute()
    assert sorted(int(str(r["id"])) for r in db.select_from("active").fetch_all()) == [1, 3]


def test_create_table_as_refuses_columns(db: Database) -> None:
    with pytest.raises(BuilderError, match="takes its columns from the query"):
        db.schema.create_table("x").add_column("a", "integer").as_(sql("SELECT 1 AS a")).compile()


def test_create_temporary_table_as(db: Database) -> None:
    users(db)
    db.schema.create_table("tmp_active").temporary().as_(db.select_from("users").where({"status": "active"})).execute()
    assert len(db.select_from("tmp_active").fetch_all()) == 2


def test_table_level_constraints(db: Database) -> None:
    users(db)
    (
        db.schema.create_table("memberships")
        .add_column("user_id", "integer", lambda col: col.not_null())
        .add_column("team", "varchar(20)", lambda col: col.not_null())
        .add_column("rank", "integer")
        .add_primary_key_constraint("memberships_pk", ["user_id", "team"])
        .add_unique_constraint("memberships_rank_key", ["team", "rank"])
        .add_check_constraint("memberships_rank_check", sql("rank > 0"))
        .add_foreign_key_constraint("memberships_user_fk", ["user_id"], "users", ["id"])
        .on_delete("cascade")
        .on_update("restrict")
        .execute()
    )
    assert catalog.primary_key(db, "memberships") in (["user_id", "team"], ["team", "user_id"])
    assert any(u and c == ["team", "rank"] for u, c in catalog.indexes(db, "memberships").values())
    fk = catalog.foreign_keys(db, "memberships")
    assert [(f["column"], f["ref_table"], f["on_delete"]) for f in fk] == [("user_id", "users", "cascade")]
    with pytest.raises(StatementError, match=r"(?i)check|constraint"):
        db.insert_into("memberships").values({"user_id": 1, "team": "a", "rank": 0}).execute()
    db.insert_into("memberships").values({"user_id": 1, "team": "a", "rank": 1}).execute()
    db.delete_from("users").where("id", "=", 1).execute()
    assert db.select_from("memberships").fetch_all() == []


def test_unique_nulls_not_distinct(db: Database) -> None:
    only(db, "postgres")
    (
        db.schema.create_table("n")
        .add_column("a", "integer", lambda col: col.unique().nulls_not_distinct())
        .add_column("b", "integer")
        .add_column("c", "integer")
        .add_unique_constraint("n_bc_key", ["b", "c"], nulls_not_distinct=True)
        .execute()
    )
    db.insert_into("n").values({"a": None, "b": 1, "c": None}).execute()
    with pytest.raises(StatementError, match="duplicate"):
        db.insert_into("n").values({"a": None, "b": 2, "c": None}).execute()
    with pytest.raises(StatementError, match="duplicate"):
        db.insert_into("n").values({"a": 5, "b": 1, "c": None}).execute()


def test_unique_constraint_nulls_not_distinct_as_kysely_writes_it(db: Database) -> None:
    """Besides ``nulls_not_distinct=True``: Kysely's build callback, and the method chained right
    after the constraint (as ``on_delete`` after a foreign key), in create_table and alter_table."""
    only(db, "postgres")
    (
        db.schema.create_table("n")
        .add_column("a", "integer")
        .add_column("b", "integer")
        .add_column("c", "integer")
        .add_unique_constraint("n_a_key", ["a"], lambda u: u.nulls_not_distinct())
        .add_unique_constraint("n_b_key", ["b"])
        .nulls_not_distinct()
        .execute()
    )
    db.schema.alter_table("n").add_unique_constraint("n_c_key", ["c"]).nulls_not_distinct().execute()
    for column in ("a", "b", "c"):
        assert "NULLS NOT DISTINCT" in index_definition(db, f"n_{column}_key")
    db.insert_into("n").values({"a": None, "b": None, "c": None}).execute()
    with pytest.raises(StatementError, match="duplicate"):
        db.insert_into("n").values({"a": None, "b": 1, "c": 1}).execute()
    with pytest.raises(BuilderError, match=r"nulls_not_distinct\(\) must follow add_unique_constraint"):
        db.schema.create_table("m").add_column("a", "integer").add_check_constraint("m_a", sql("a > 0")).nulls_not_distinct()
    with pytest.raises(BuilderError, match="must return the builder"):
        db.schema.create_table("m").add_column("a", "integer").add_unique_constraint("m_a", ["a"], lambda u: None)  # type: ignore[arg-type,return-value]


def test_nulls_not_distinct_elsewhere_is_refused_with_an_alternative(db: Database) -> None:
    only(db, "mysql", "sqlite")
    builder = db.schema.create_table("n").add_column("a", "integer", lambda col: col.unique().nulls_not_distinct())
    with pytest.raises(UnsupportedError, match=r"nulls_not_distinct.*is not supported on .*coalesce"):
        builder.compile()
    table = db.schema.create_table("n").add_column("a", "integer")
    for spelling in (
        table.add_unique_constraint("n_a_key", ["a"], lambda u: u.nulls_not_distinct()),
        table.add_unique_constraint("n_a_key", ["a"]).nulls_not_distinct(),
    ):
        with pytest.raises(UnsupportedError, match=r"nulls_not_distinct.*is not supported on .*coalesce"):
            spelling.compile()


def test_deferrable_foreign_key(db: Database) -> None:
    only(db, "postgres", "sqlite")
    users(db)
    (
        db.schema.create_table("posts")
        .add_column("id", "integer", lambda col: col.primary_key())
        .add_column("user_id", "integer", lambda col: col.references("users.id").initially_deferred())
        .add_column("editor_id", "integer")
        .add_foreign_key_constraint("posts_editor_fk", ["editor_id"], "users", ["id"])
        .deferrable()
        .execute()
    )
    if db.dialect.name == "postgres":
        rows = db.fetch(
            "SELECT conname, condeferrable, condeferred FROM pg_constraint WHERE conrelid = 'posts'::regclass "
            "AND contype = 'f' ORDER BY conname"
        )
        assert [(r["condeferrable"], r["condeferred"]) for r in rows] == [(True, False), (True, True)]
    else:
        text = table_sql(db, "posts")
        assert "DEFERRABLE INITIALLY DEFERRED" in text and text.count("DEFERRABLE") == 2
    # the child row may come before its parent inside one transaction
    with db.transaction():
        db.insert_into("posts").values({"id": 1, "user_id": 10}).execute()
        db.insert_into("users").values({"id": 10, "email": "late@x.org"}).execute()
    assert db.select_from("posts").fetch_one() == {"id": 1, "user_id": 10, "editor_id": None}


def test_deferrable_and_set_default_refused_on_mysql(db: Database) -> None:
    only(db, "mysql")
    users(db)
    deferrable = db.schema.create_table("p").add_column("u", "integer", lambda col: col.references("users.id").deferrable())
    with pytest.raises(UnsupportedError, match="checks foreign keys at once"):
        deferrable.compile()
    set_default = db.schema.create_table("p").add_column(
        "u", "integer", lambda col: col.default_to(1).references("users.id").on_delete("set default")
    )
    with pytest.raises(UnsupportedError, match=r"SET DEFAULT.*set null"):
        set_default.compile()


def test_modify_front_and_end(db: Database) -> None:
    if db.dialect.name == "postgres":
        db.schema.create_table("u").modify_front(sql("UNLOGGED")).add_column("a", "integer").execute()
        assert scalar(db, "SELECT relpersistence FROM pg_class WHERE relname = 'u'") == "u"
    elif db.dialect.name == "sqlite":
        db.schema.create_table("u").add_column("a", "integer").modify_end(sql("STRICT")).execute()
        assert scalar(db, "SELECT strict FROM pragma_table_list WHERE name = 'u'") == 1
    else:
        db.schema.create_table("u").add_column("a", "serial", lambda col: col.primary_key()).modify_end(sql("AUTO_INCREMENT = 100")).execute()
        db.insert_into("u").values({"a": None}).execute()
        assert db.select_from("u").fetch_one() == {"a": 100}


def test_column_modify_front_and_end(db: Database) -> None:
    (
        db.schema.create_table("m")
        .add_column("a", "integer", lambda col: col.modify_end(sql("CHECK (a < 10)")))
        .add_column("b", "varchar(10)", lambda col: col.modify_front(sql("NOT NULL")))
        .execute()
    )
    assert not catalog.columns(db, "m")["b"].nullable
    with pytest.raises(StatementError):
        db.insert_into("m").values({"a": 11, "b": "x"}).execute()


def test_table_comment(db: Database) -> None:
    builder = db.schema.create_table("c").add_column("a", "integer").comment("it's a table")
    builder.execute()
    read = {
        "postgres": "SELECT obj_description('c'::regclass, 'pg_class') AS c",
        "mysql": "SELECT TABLE_COMMENT AS c FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'c'",
    }
    if db.dialect.name == "sqlite":
        assert "it's" not in builder.compile().sql  # SQLite stores no comments
        assert db.schema.alter_table("c").comment("x").compile() == []
        return
    assert scalar(db, read[db.dialect.name]) == "it's a table"
    db.schema.alter_table("c").comment("changed").execute()
    assert scalar(db, read[db.dialect.name]) == "changed"
    db.schema.alter_table("c").comment(None).execute()
    assert scalar(db, read[db.dialect.name]) in (None, "")


def test_drop_table_if_exists_and_cascade(db: Database) -> None:
    db.schema.drop_table("nothing_here").if_exists().execute()
    users(db)
    db.schema.create_view("v").as_(db.select_from("users")).execute()
    if db.dialect.name == "postgres":
        db.schema.drop_table("users").cascade().execute()
        assert scalar(db, "SELECT count(*) FROM pg_views WHERE viewname = 'v'") == 0
    else:
        with pytest.raises(UnsupportedError, match="cascade"):
            db.schema.drop_table("users").cascade().compile()
        db.schema.drop_view("v").execute()
        db.schema.drop_table("users").execute()
    assert "users" not in catalog.tables(db)


# ============================================================================== alter table


def test_rename_to_then_more_actions_use_the_new_name(db: Database) -> None:
    users(db)
    db.schema.alter_table("users").rename_to("members").add_column("age", "integer").execute()
    assert "users" not in catalog.tables(db) and "members" in catalog.tables(db)
    assert "age" in catalog.columns(db, "members")


def test_rename_in_another_schema_stays_there(tenant: Database) -> None:
    db = tenant
    db.schema.create_table("t").add_column("a", "integer").execute()
    db.schema.alter_table("t").rename_to("t2").execute()
    assert exists(db, "t2", SCHEMA) and not exists(db, "t2")


def test_set_schema(db: Database, tenant: Database) -> None:
    only(db, "postgres", "mysql")
    users(db)
    db.schema.alter_table("users").set_schema(SCHEMA).execute()
    assert not exists(db, "users") and exists(db, "users", SCHEMA)
    assert len(tenant.select_from("users").fetch_all()) == 3


def test_rename_constraint(db: Database) -> None:
    users(db)
    db.schema.alter_table("users").add_check_constraint("users_id_check", sql("id > 0")).execute()
    builder = db.schema.alter_table("users").rename_constraint("users_id_check", "users_id_positive")
    if db.dialect.name != "postgres":
        with pytest.raises(UnsupportedError, match="drop_constraint"):
            builder.compile()
        return
    builder.execute()
    names = {r["conname"] for r in db.fetch("SELECT conname FROM pg_constraint WHERE conrelid = 'users'::regclass")}
    assert "users_id_positive" in names and "users_id_check" not in names


def test_add_primary_key_constraint(db: Database) -> None:
    db.schema.create_table("k").add_column("a", "integer", lambda col: col.not_null()).add_column("b", "integer", lambda col: col.not_null()).execute()
    db.insert_into("k").values({"a": 1, "b": 2}).execute()
    db.schema.alter_table("k").add_primary_key_constraint("k_pk", ["a", "b"]).execute()
    assert sorted(catalog.primary_key(db, "k")) == ["a", "b"]
    with pytest.raises(StatementError):
        db.insert_into("k").values({"a": 1, "b": 2}).execute()


def test_primary_key_constraint_is_dropped_by_its_name(db: Database) -> None:
    """add_primary_key_constraint(name) then drop_constraint(name), from create_table and from
    alter_table: the portable pair works everywhere (MySQL names every primary key PRIMARY;
    kysera keeps the name in the key's comment). A name that matches nothing keeps the key."""
    (
        db.schema.create_table("reviews")
        .add_column("slug", "varchar(20)", lambda col: col.not_null())
        .add_column("body", "text")
        .add_primary_key_constraint("reviews_pk", ["slug"])
        .execute()
    )
    db.insert_into("reviews").values({"slug": "a", "body": "x"}).execute()
    db.schema.alter_table("reviews").drop_constraint("reviews_pk_typo", if_exists=True).execute()
    assert catalog.primary_key(db, "reviews") == ["slug"]
    # PostgreSQL's own error names the constraint; kysera says the same, with the fix, elsewhere
    hint = r"does not exist" if db.dialect.name == "postgres" else r"check the name or use drop_constraint\(\.\.\., if_exists=True\)"
    with pytest.raises((BuilderError, StatementError), match=rf"constraint .reviews_pk_typo. (?:of relation|does not exist on table) .reviews.(?:.|\n)*{hint}"):
        db.schema.alter_table("reviews").drop_constraint("reviews_pk_typo").execute()
    assert catalog.primary_key(db, "reviews") == ["slug"]
    db.schema.alter_table("reviews").drop_constraint("reviews_pk").execute()
    assert catalog.primary_key(db, "reviews") == []
    db.schema.alter_table("reviews").add_primary_key_constraint("reviews_slug_pk", ["slug"]).execute()
    assert catalog.primary_key(db, "reviews") == ["slug"]
    db.schema.alter_table("reviews").drop_constraint("reviews_slug_pk").execute()
    assert catalog.primary_key(db, "reviews") == [] and db.select_from("reviews").fetch_all() == [{"slug": "a", "body": "x"}]


def test_a_missing_constraint_on_mysql_names_what_the_primary_key_is_called(db: Database) -> None:
    only(db, "mysql")
    name = db.dialect.display_name
    db.execute("CREATE TABLE raw_pk (id integer PRIMARY KEY)")
    with pytest.raises(BuilderError, match=rf"if_exists=True\) \({name} names every primary key PRIMARY, and the primary key of 'raw_pk' was made without add_primary_key_constraint\(name, \.\.\.\), so it has no other name: drop_constraint\('PRIMARY'\) drops it\)$"):
        db.schema.alter_table("raw_pk").drop_constraint("raw_pk_pkey").compile()
    db.schema.create_table("named").add_column("id", "integer").add_primary_key_constraint("named_pk", ["id"]).execute()
    with pytest.raises(BuilderError, match=r"the primary key of 'named' has the name 'named_pk'\)$"):
        db.schema.alter_table("named").drop_constraint("named_pkey").compile()
    db.schema.create_table("keyless").add_column("id", "integer").execute()
    with pytest.raises(BuilderError, match=r"if_exists=True\)$"):
        db.schema.alter_table("keyless").drop_constraint("keyless_pk").compile()
    db.schema.alter_table("raw_pk").drop_constraint("PRIMARY").execute()  # what MySQL calls it
    assert catalog.primary_key(db, "raw_pk") == []


def test_modify_column_on_mysql_and_its_refusal_elsewhere(db: Database) -> None:
    users(db)
    builder = db.schema.alter_table("users").modify_column(
        "status", "varchar(50)", lambda col: col.not_null().default_to("new").comment("state")
    )
    if db.dialect.name != "mysql":
        with pytest.raises(UnsupportedError, match=r"modify_column.*alter_column"):
            builder.compile()
        return
    builder.execute()
    col = catalog.columns(db, "users")["status"]
    assert col.type == "varchar(50)" and not col.nullable and "new" in str(col.default)


def test_not_valid_constraint_then_validate(db: Database) -> None:
    only(db, "postgres")
    users(db)
    (
        db.schema.alter_table("users")
        .add_check_constraint("users_email_check", sql("email IS NOT NULL"), not_valid=True)
        .execute()
    )
    assert scalar(db, "SELECT convalidated FROM pg_constraint WHERE conname = 'users_email_check'") is False
    db.update_table("users").set({"email": "c@x.org"}).where("id", "=", 3).execute()
    db.schema.alter_table("users").validate_constraint("users_email_check").execute()
    assert scalar(db, "SELECT convalidated FROM pg_constraint WHERE conname = 'users_email_check'") is True


def test_add_and_drop_column_if_exists(db: Database) -> None:
    users(db)
    add = db.schema.alter_table("users").add_column("email", "text", lambda col: col.if_not_exists())
    drop = db.schema.alter_table("users").drop_column("nope", if_exists=True)
    if engine(db) in ("postgres", "mariadb"):
        add.execute()
        drop.execute()
        assert catalog.columns(db, "users")["email"].type.startswith(("character varying", "varchar"))
    else:
        with pytest.raises(UnsupportedError, match="first"):
            add.compile()
        with pytest.raises(UnsupportedError, match="first"):
            drop.compile()


def test_drop_constraint_if_exists_of_a_missing_constraint(db: Database) -> None:
    only(db, "postgres", "mysql")
    users(db)
    db.schema.alter_table("users").drop_constraint("no_such_constraint", if_exists=True).execute()


def books_with_an_editor(db: Database) -> None:
    db.schema.create_table("authors").add_column("id", "integer", lambda col: col.primary_key()).execute()
    db.schema.create_table("books").add_column("id", "integer", lambda col: col.primary_key()).add_column("title", "text").execute()
    (
        db.schema.alter_table("books")
        .add_column("editor_id", "integer", lambda col: col.references("authors.id").on_delete("cascade"))
        .execute()
    )
    db.insert_into("authors").values({"id": 1}).execute()
    db.insert_into("books").values({"id": 1, "title": "t", "editor_id": 1}).execute()


def test_drop_column_drops_its_foreign_key(db: Database) -> None:
    """A column declared with references() is dropped with its key, as PostgreSQL and SQLite do
    (MySQL refuses the column while the key needs it: kysera drops the key, and the index InnoDB
    made for it, in the same ALTER TABLE)."""
    books_with_an_editor(db)
    assert [f["column"] for f in catalog.foreign_keys(db, "books")] == ["editor_id"]
    db.schema.alter_table("books").drop_column("editor_id").execute()
    assert list(catalog.columns(db, "books")) == ["id", "title"]
    assert catalog.foreign_keys(db, "books") == [] and catalog.indexes(db, "books") == {}
    assert db.select_from("books").fetch_all() == [{"id": 1, "title": "t"}]
    # adding it back works: nothing of the old key is left in the way
    books = db.schema.alter_table("books").add_column("editor_id", "integer", lambda col: col.references("authors.id"))
    books.execute()
    assert [f["column"] for f in catalog.foreign_keys(db, "books")] == ["editor_id"]


def test_drop_column_after_drop_constraint_of_its_key(db: Database) -> None:
    """The old way (drop the key first, in the same call) still works: the key is dropped once."""
    only(db, "postgres", "mysql")  # SQLite names no key of a column's references()
    books_with_an_editor(db)
    db.schema.alter_table("books").drop_constraint("books_editor_id_fkey").drop_column("editor_id").execute()
    assert list(catalog.columns(db, "books")) == ["id", "title"] and catalog.foreign_keys(db, "books") == []


def test_drop_column_of_a_composite_foreign_key(db: Database) -> None:
    """PostgreSQL drops a key with any of its columns; so does kysera on MySQL, with the index
    InnoDB made for it (which the other column would otherwise keep). SQLite refuses, naming it."""
    db.schema.create_table("editions").add_column("book", "integer").add_column("no", "integer").add_primary_key_constraint("editions_pk", ["book", "no"]).execute()
    (
        db.schema.create_table("copies")
        .add_column("id", "integer", lambda col: col.primary_key())
        .add_column("book", "integer")
        .add_column("no", "integer")
        .add_foreign_key_constraint("copies_edition_fk", ["book", "no"], "editions", ["book", "no"])
        .execute()
    )
    drop = db.schema.alter_table("copies").drop_column("book")
    if db.dialect.name == "sqlite":
        with pytest.raises(BuilderError, match="copies_edition_fk"):
            drop.compile()
        return
    drop.execute()
    assert list(catalog.columns(db, "copies")) == ["id", "no"]
    assert catalog.foreign_keys(db, "copies") == [] and catalog.indexes(db, "copies") == {}


# ============================================================================== columns


def test_generated_columns(db: Database) -> None:
    builder = (
        db.schema.create_table("g")
        .add_column("a", "integer")
        .add_column("doubled", "integer", lambda col: col.generated_always_as(sql("a * 2")).stored())
    )
    if db.dialect.name != "postgres":  # virtual ones need PostgreSQL 18
        builder = builder.add_column("tripled", "integer", lambda col: col.generated_always_as(sql("a * 3")))
    builder.execute()
    db.insert_into("g").values({"a": 7}).execute()
    row = db.select_from("g").fetch_one()
    assert row is not None and row["doubled"] == 14 and row.get("tripled", 21) == 21


def test_a_column_with_two_sources_of_its_value_is_a_builder_error(db: Database) -> None:
    """An expression, a numbering and a default: every engine refuses two of them for one column
    (MariaDB with a bare syntax error, SQLite silently keeps a default it never uses); kysera says
    which at compile time, before anything runs."""
    stored = lambda col: col.generated_always_as(sql("a + 1")).stored()  # noqa: E731
    cases = [
        ("integer", lambda col: stored(col).default_to(1), r"generated_always_as\(\.\.\.\) and default_to"),
        ("integer", lambda col: stored(col).auto_increment().unique(), r"generated_always_as\(\.\.\.\) and auto_increment"),
        ("integer", lambda col: col.auto_increment().primary_key().default_to(1), r"auto_increment\(\) and default_to"),
        ("serial", lambda col: col.primary_key().default_to(1), r"the type 'serial' and default_to"),
    ]
    if db.dialect.name == "postgres":
        cases += [
            ("integer", lambda col: col.generated_always_as_identity().default_to(1), r"generated_always_as_identity\(\) and default_to"),
            ("integer", lambda col: col.generated_by_default_as_identity().auto_increment(), r"identity\(\) and auto_increment"),
        ]
    db.schema.create_table("two").add_column("a", "integer").execute()
    for data_type, build, message in cases:
        builder = db.schema.create_table("new").add_column("a", "integer").add_column("b", data_type, build)
        with pytest.raises(BuilderError, match=message + r".*only one of them"):
            builder.compile()
        with pytest.raises(BuilderError, match=message):
            db.schema.alter_table("two").add_column("b", data_type, build).compile()
    # one source is fine, and serial with auto_increment() is one numbering
    (db.schema.create_table("one").add_column("id", "serial", lambda col: col.primary_key().auto_increment())
        .add_column("n", "integer").execute())
    db.insert_into("one").values({"n": 1}).execute()
    assert db.select_from("one").select(["id"]).fetch_all() == [{"id": 1}]


def test_virtual_generated_column_on_postgres_15_says_add_stored(db: Database) -> None:
    only(db, "postgres")
    if db.dialect.server_version >= (18,):
        pytest.skip("PostgreSQL 18 has virtual generated columns")
    builder = db.schema.create_table("g").add_column("a", "integer").add_column("b", "integer", lambda col: col.generated_always_as(sql("a")))
    with pytest.raises(UnsupportedError, match=r"needs 18 or newer\); add \.stored\(\)"):
        builder.compile()


def test_identity_columns(db: Database) -> None:
    builder = (
        db.schema.create_table("i")
        .add_column("id", "integer", lambda col: col.generated_always_as_identity().primary_key())
        .add_column("n", "bigint", lambda col: col.generated_by_default_as_identity())
        .add_column("x", "text")
    )
    if db.dialect.name != "postgres":
        with pytest.raises(UnsupportedError, match="serial"):
            builder.compile()
        return
    builder.execute()
    rows = db.fetch("SELECT attname, attidentity FROM pg_attribute WHERE attrelid = 'i'::regclass AND attnum > 0 ORDER BY attnum")
    assert [(r["attname"], r["attidentity"]) for r in rows] == [("id", "a"), ("n", "d"), ("x", "")]
    db.insert_into("i").values({"x": "a"}).execute()
    assert db.select_from("i").fetch_one() == {"id": 1, "n": 1, "x": "a"}


def test_auto_increment_on_every_engine(db: Database) -> None:
    db.schema.create_table("ai").add_column("id", "integer", lambda col: col.primary_key().auto_increment()).add_column("x", "text").execute()
    db.insert_into("ai").values([{"x": "a"}, {"x": "b"}]).execute()
    assert [r["id"] for r in db.select_from("ai").order_by("id").fetch_all()] == [1, 2]


@pytest.mark.parametrize("type_name", ["bigint", "int", "smallint"])
def test_auto_increment_on_another_integer_type(db: Database, type_name: str) -> None:
    # SQLite takes AUTOINCREMENT only on INTEGER (64-bit there): "bigint ... AUTOINCREMENT" was an error
    db.schema.create_table("ai").add_column("id", type_name, lambda col: col.primary_key().auto_increment()).add_column("x", "text").execute()
    db.schema.create_table("ai2").add_column("id", type_name, lambda col: col.auto_increment()).add_column("x", "text").add_primary_key_constraint("ai2_pk", ["id"]).execute()
    for table in ("ai", "ai2"):
        db.insert_into(table).values([{"x": "a"}, {"x": "b"}]).execute()
        assert [r["id"] for r in db.select_from(table).order_by("id").fetch_all()] == [1, 2]
        info = db.introspect_table(table)
        assert info is not None and info.primary_key == ("id",)
        assert info.columns[0].auto_increment


def test_serial_in_a_table_level_primary_key(db: Database) -> None:
    db.schema.create_table("s").add_column("id", "serial").add_column("x", "text").add_primary_key_constraint("s_pk", ["id"]).execute()
    db.insert_into("s").values([{"x": "a"}, {"x": "b"}]).execute()
    assert [r["id"] for r in db.select_from("s").order_by("id").fetch_all()] == [1, 2]
    assert catalog.primary_key(db, "s") == ["id"]


def test_serial_that_is_not_a_key(db: Database) -> None:
    builder = db.schema.create_table("s").add_column("n", "serial").add_column("x", "text")
    if db.dialect.name == "postgres":
        builder.execute()
        db.insert_into("s").values({"x": "a"}).execute()
        assert db.select_from("s").fetch_one() == {"n": 1, "x": "a"}
    else:
        with pytest.raises(UnsupportedError, match="key"):
            builder.compile()
    if db.dialect.name == "mysql":  # a unique key is enough for MySQL
        db.schema.create_table("s").add_column("n", "serial", lambda col: col.unique()).execute()


def test_unsigned(db: Database) -> None:
    builder = db.schema.create_table("u").add_column("a", "integer", lambda col: col.unsigned())
    if db.dialect.name != "mysql":
        with pytest.raises(UnsupportedError, match=r"check\(sql\('col >= 0'\)\)"):
            builder.compile()
        return
    builder.execute()
    assert "unsigned" in catalog.columns(db, "u")["a"].type
    with pytest.raises(StatementError, match=r"(?i)out of range"):
        db.insert_into("u").values({"a": -1}).execute()


def test_a_nullable_timestamp_stays_nullable_whatever_the_server_defaults(db: Database) -> None:
    """With explicit_defaults_for_timestamp off (MySQL 5.7, MariaDB before 10.10), a TIMESTAMP that
    does not say NULL became NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP: a
    nullable column that every UPDATE rewrote. A key's timestamp is NOT NULL, as asked."""
    if db.dialect.name == "mysql":
        db.execute("SET SESSION explicit_defaults_for_timestamp = 0")
    (
        db.schema.create_table("ev")
        .add_column("seen_at", "timestamp")
        .add_column("at", "timestamp", lambda col: col.not_null().default_to(sql("CURRENT_TIMESTAMP")))
        .add_column("n", "integer")
        .add_primary_key_constraint("ev_pk", ["at"])
        .execute()
    )
    db.schema.alter_table("ev").add_column("done_at", "timestamp").execute()
    info = db.introspect_table("ev")
    assert info is not None
    for name in ("seen_at", "done_at"):
        col = info.column(name)
        assert col is not None and col.nullable and col.default is None and col.on_update is None, col
    assert info.primary_key == ("at",)
    db.insert_into("ev").values({"n": 1}).execute()
    db.update_table("ev").set({"n": 2}).execute()
    assert db.select_from("ev").select(["seen_at", "done_at"]).fetch_all() == [{"seen_at": None, "done_at": None}]
    # MySQL refuses NULL written in a primary key: a key's timestamp does not say it
    mysql = offline("mysql").schema.create_table("k").add_column("at", "timestamp").add_primary_key_constraint("k_pk", ["at"])
    assert "NULL" not in str(mysql.compile())


def test_defaults_of_text_blob_and_json_columns(db: Database) -> None:
    """MySQL 8 refuses ``text DEFAULT 'x'`` ("can't have a default value"): a TEXT, BLOB or JSON
    column takes a default only as an expression, ``DEFAULT ('x')``, which MariaDB takes too."""
    def build(target: Database) -> CreateTableBuilder:
        return (
            target.schema.create_table("lob")
            .add_column("n", "integer")
            .add_column("body", "text", lambda col: col.not_null().default_to("it's"))
            .add_column("meta", "json", lambda col: col.default_to({"a": 1}))
            .add_column("raw", "bytes", lambda col: col.default_to(b"x"))
            .add_column("note", "text", lambda col: col.default_to(None))
        )

    mysql = str(build(offline("mysql")).compile())
    assert "`body` text DEFAULT ('it''s') NOT NULL" in mysql and "DEFAULT ('{\"a\":1}')" in mysql
    assert "DEFAULT (X'78')" in mysql and "`note` text DEFAULT NULL" in mysql
    build(db).execute()
    db.schema.alter_table("lob").add_column("more", "text", lambda col: col.default_to("m")).execute()
    db.insert_into("lob").values({"n": 1}).execute()
    row = db.select_from("lob").fetch_one()
    assert row is not None and row["body"] == "it's" and row["more"] == "m" and row["note"] is None
    assert bytes(row["raw"]) == b"x" and row["meta"] in ('{"a":1}', {"a": 1})
    if db.dialect.name == "mysql":  # MySQL's text runs on MariaDB as well
        db.schema.drop_table("lob").execute()
        db.execute(mysql.rstrip(";"))
        info = db.introspect_table("lob")
        assert info is not None and info.column("body").default in ("'it''s'", "'it\\'s'")  # type: ignore[union-attr]
        db.insert_into("lob").values({"n": 1}).execute()
        assert db.select_from("lob").select(["body"]).fetch_all() == [{"body": "it's"}]


def test_collate(db: Database) -> None:
    name = {"postgres": "C", "mysql": "utf8mb4_bin", "sqlite": "NOCASE"}[db.dialect.name]
    db.schema.create_table("co").add_column("a", "varchar(10)", lambda col: col.collate(name)).execute()
    if db.dialect.name == "postgres":
        assert scalar(db, "SELECT collation_name FROM information_schema.columns WHERE table_name = 'co'") == "C"
    elif db.dialect.name == "mysql":
        assert scalar(db, "SELECT COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'co'") == "utf8mb4_bin"
    db.insert_into("co").values({"a": "abc"}).execute()
    found = db.select_from("co").where("a", "=", "ABC").fetch_all()
    assert found == ([{"a": "abc"}] if name == "NOCASE" else [])


def test_column_comment(db: Database) -> None:
    db.schema.create_table("cc").add_column("a", "integer", lambda col: col.comment("it's a")).execute()
    if db.dialect.name == "postgres":
        assert scalar(db, "SELECT col_description('cc'::regclass, 1)") == "it's a"
    elif db.dialect.name == "mysql":
        assert scalar(db, "SELECT COLUMN_COMMENT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'cc'") == "it's a"
    else:
        assert "it's" not in table_sql(db, "cc")


def test_a_comment_the_engine_would_mangle_is_refused(db: Database) -> None:
    """MySQL/MariaDB keep comments in utf8mb3: an emoji would silently become '?'. kysera refuses
    it there, naming the character; PostgreSQL keeps it as written."""
    from kysera.errors import UnsupportedError

    column = db.schema.create_table("cm").add_column("a", "integer", lambda col: col.comment("ok 🙂"))
    table = db.schema.create_table("cm").add_column("a", "integer").comment("ok 🙂")
    if db.dialect.name == "mysql":
        for builder in (column, table, db.schema.alter_table("cm").comment("ok 🙂")):
            with pytest.raises(UnsupportedError, match=r"'🙂' \(U\+1F642\).*utf8mb3.*'\?'"):
                builder.compile()
        assert "cm" not in catalog.tables(db)
        db.schema.create_table("cm").add_column("a", "integer", lambda col: col.comment("é 中")).execute()
        assert scalar(db, "SELECT COLUMN_COMMENT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'cm'") == "é 中"
        return
    column.execute()
    if db.dialect.name == "postgres":
        assert scalar(db, "SELECT col_description('cm'::regclass, 1)") == "ok 🙂"


def test_column_check_with_comment(db: Database) -> None:
    # MariaDB wants COMMENT before CHECK: the fixed clause order puts it there
    db.schema.create_table("ck").add_column("a", "integer", lambda col: col.check(sql("a > 0")).comment("positive")).execute()
    db.insert_into("ck").values({"a": 1}).execute()
    with pytest.raises(StatementError, match=r"(?i)check|constraint"):
        db.insert_into("ck").values({"a": 0}).execute()


# ============================================================================== indexes


def index_definition(db: Database, name: str) -> str:
    if db.dialect.name == "postgres":
        return str(scalar(db, "SELECT indexdef FROM pg_indexes WHERE indexname = %s", name))
    if db.dialect.name == "sqlite":
        return str(scalar(db, "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", name))
    rows = db.fetch(
        "SELECT COLUMN_NAME AS c, COLLATION AS o, INDEX_TYPE AS t, NON_UNIQUE AS nu FROM information_schema.STATISTICS "
        "WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME = %s ORDER BY SEQ_IN_INDEX",
        [name],
    )
    return " ".join(f"{r['c']}:{r['o']}:{r['t']}:{r['nu']}" for r in rows)


def test_expression_index(db: Database) -> None:
    users(db)
    builder = db.schema.create_index("users_lower_email").on("users").column(sql("lower(email)")).unique()
    if engine(db) == "mariadb":
        with pytest.raises(UnsupportedError, match="generated column"):
            builder.compile()
        return
    builder.execute()
    assert "lower" in index_definition(db, "users_lower_email").lower()
    with pytest.raises(StatementError):
        db.insert_into("users").values({"id": 9, "email": "A@X.ORG"}).execute()


def test_descending_index(db: Database) -> None:
    users(db)
    db.schema.create_index("users_email_desc").on("users").columns(["email desc", "id"]).execute()
    definition = index_definition(db, "users_email_desc")
    if db.dialect.name == "mysql":
        assert definition.startswith("email:D")  # MariaDB 10.8+ stores descending keys
    else:
        assert "DESC" in definition


def test_partial_index(db: Database) -> None:
    users(db)
    builder = db.schema.create_index("users_active").on("users").column("email").where(sql("status = {}", "active"))
    if db.dialect.name == "mysql":
        with pytest.raises(UnsupportedError, match=r"where\(sql\(\.\.\.\)\) is not supported on .*generated column"):
            builder.compile()
        return
    builder.execute()
    assert "WHERE" in index_definition(db, "users_active") and "'active'" in index_definition(db, "users_active")


def test_partial_index_filtered_as_the_data_builders_filter(db: Database) -> None:
    """Kysely's where(lhs, op, rhs) and kysera's where({...}) for a partial index: values inline,
    several calls joined with AND; refused where partial indexes are."""
    users(db)
    builders = [
        db.schema.create_index("users_odd").on("users").column("email").where("status", "=", "it's 100% \\ odd"),
        db.schema.create_index("users_live").on("users").column("email").where({"status": "active"}).where("email", "is not", None),
    ]
    if db.dialect.name == "mysql":
        for builder in builders:
            with pytest.raises(UnsupportedError, match=r"where\(.*is not supported on .*generated column"):
                builder.compile()
        return
    for builder in builders:
        builder.execute()
    odd = db.introspect_table("users").index("users_odd")
    live = db.introspect_table("users").index("users_live")
    assert odd is not None and live is not None
    assert odd.predicate is not None and "'it''s 100% \\ odd'" in odd.predicate
    assert live.predicate is not None and "'active'" in live.predicate and re.search(r"(?i)is not null", live.predicate)
    with pytest.raises(BuilderError, match=r"where\(\) takes \(column, operator, value\)"):
        db.schema.create_index("x").on("users").column("email").where("status", "=")


def test_index_using_include_and_nulls_not_distinct(db: Database) -> None:
    users(db)
    if db.dialect.name == "postgres":
        db.schema.create_index("users_h").on("users").column("email").using("hash").execute()
        (
            db.schema.create_index("users_cov").on("users").column("email").include(["status"]).unique()
            .nulls_not_distinct().execute()
        )
        assert "USING hash" in index_definition(db, "users_h")
        definition = index_definition(db, "users_cov")
        assert "INCLUDE (status)" in definition and "NULLS NOT DISTINCT" in definition
    elif db.dialect.name == "mysql":
        db.schema.create_index("users_h").on("users").column("email").using("btree").execute()
        assert "BTREE" in index_definition(db, "users_h")
        with pytest.raises(UnsupportedError, match="key instead"):
            db.schema.create_index("users_cov").on("users").column("email").include(["status"]).compile()
    else:
        with pytest.raises(UnsupportedError, match="only B-tree"):
            db.schema.create_index("users_h").on("users").column("email").using("hash").compile()


def test_index_if_not_exists_and_drop_if_exists(db: Database) -> None:
    users(db)
    db.schema.create_index("users_email").on("users").column("email").execute()
    again = db.schema.create_index("users_email").on("users").column("email").if_not_exists()
    drop = db.schema.drop_index("users_email").on("users").if_exists()
    if engine(db) == "mysql":
        with pytest.raises(UnsupportedError):
            again.compile()
        return
    again.execute()
    drop.execute()
    drop.execute()
    assert "users_email" not in catalog.indexes(db, "users")


def test_drop_index_without_its_table(db: Database) -> None:
    """drop_index(name) without .on(table): MySQL's DROP INDEX names the table, which kysera
    looks up. With if_exists() a name no table has is nothing to do, as on PostgreSQL and SQLite;
    without it, or with two tables to choose from, the error says so (in the engine's name)."""
    users(db)
    db.schema.create_index("users_email").on("users").column("email").execute()
    if engine(db) == "mysql":
        with pytest.raises(UnsupportedError, match=r"information_schema\.STATISTICS"):
            db.schema.drop_index("ix_nope").if_exists().compile()
    else:
        if engine(db) == "mariadb":
            assert db.schema.drop_index("ix_nope").if_exists().compile() == []  # no table to name
        db.schema.drop_index("ix_nope").if_exists().execute()
        db.schema.drop_index("users_email").if_exists().execute()
        assert "users_email" not in catalog.indexes(db, "users")
        db.schema.create_index("users_email").on("users").column("email").execute()
    if db.dialect.name == "mysql":
        name = db.dialect.display_name
        with pytest.raises(BuilderError, match=rf"^drop_index\('ix_nope'\) on {name}: no table has an index of that name; check the name, or add \.if_exists\(\)$"):
            db.schema.drop_index("ix_nope").compile()
        db.execute("CREATE TABLE other (email varchar(100))")
        db.execute("CREATE INDEX users_email ON other (email)")
        with pytest.raises(BuilderError, match=rf"^drop_index\('users_email'\) on {name}: tables 'other', 'users' each have an index of that name; say which with \.on\(table\)$"):
            db.schema.drop_index("users_email").compile()
        db.schema.drop_index("users_email").on("other").execute()
    db.schema.drop_index("users_email").execute()
    assert "users_email" not in catalog.indexes(db, "users")


def test_drop_index_cascade(db: Database) -> None:
    users(db)
    db.schema.create_index("users_email").on("users").column("email").execute()
    builder = db.schema.drop_index("users_email").on("users").cascade()
    if db.dialect.name != "postgres":
        with pytest.raises(UnsupportedError, match="depend"):
            builder.compile()
        return
    builder.execute()
    assert "users_email" not in catalog.indexes(db, "users")


# ============================================================================== views


def view_names(db: Database) -> set[str]:
    if db.dialect.name == "postgres":
        rows = db.fetch("SELECT viewname AS n FROM pg_views WHERE schemaname = current_schema()")
    elif db.dialect.name == "sqlite":
        rows = db.fetch("SELECT name AS n FROM sqlite_master WHERE type = 'view'")
    else:
        rows = db.fetch("SELECT TABLE_NAME AS n FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()")
    return {str(r["n"]) for r in rows}


def test_create_view_with_columns_and_inlined_values(db: Database) -> None:
    users(db)
    builder = (
        db.schema.create_view("odd")
        .columns(["user_id", "mail"])
        .as_(db.select_from("users").select(["id", "email"]).where("status", "=", "it's 100% \\ odd"))
    )
    assert builder.compile()[0].params == ()
    builder.execute()
    assert "odd" in view_names(db)
    assert db.select_from("odd").fetch_all() == [{"user_id": 2, "mail": "b@x.org"}]


def test_create_view_from_raw_sql_and_or_replace(db: Database) -> None:
    users(db)
    db.schema.create_view("v").as_(sql("SELECT id FROM users WHERE id = {}", 1)).execute()
    db.schema.create_view("v").or_replace().as_(sql("SELECT id FROM users WHERE id = {}", 2)).execute()
    assert db.select_from("v").fetch_all() == [{"id": 2}]
    compiled = db.schema.create_view("v").or_replace().as_(sql("SELECT 1 AS id")).compile()
    if db.dialect.name == "sqlite":  # no OR REPLACE: drop and create, atomically
        assert [s.sql.split()[0] for s in compiled] == ["DROP", "CREATE"]
    else:
        assert len(compiled) == 1 and compiled.sql.startswith("CREATE OR REPLACE VIEW")


def test_view_if_not_exists(db: Database) -> None:
    users(db)
    db.schema.create_view("v").as_(db.select_from("users")).execute()
    builder = db.schema.create_view("v").if_not_exists().as_(sql("SELECT 1 AS one"))
    if engine(db) in ("postgres", "mysql"):
        with pytest.raises(UnsupportedError, match="or_replace"):
            builder.compile()
        return
    builder.execute()
    assert len(db.select_from("v").fetch_all()) == 3


def test_temporary_view(db: Database) -> None:
    users(db)
    builder = db.schema.create_view("tv").temporary().as_(db.select_from("users").where("id", "=", 1))
    if db.dialect.name == "mysql":
        with pytest.raises(UnsupportedError, match="regular view"):
            builder.compile()
        return
    builder.execute()
    assert [r["id"] for r in db.select_from("tv").fetch_all()] == [1]
    assert "tv" not in view_names(db)


def test_drop_view(db: Database) -> None:
    users(db)
    db.schema.create_view("v").as_(db.select_from("users")).execute()
    db.schema.create_view("w").as_(sql("SELECT * FROM v")).execute()
    if db.dialect.name == "postgres":
        db.schema.drop_view("v").cascade().execute()
    else:
        with pytest.raises(UnsupportedError, match="views that use it"):
            db.schema.drop_view("v").cascade().compile()
        db.schema.drop_view("w").execute()
        db.schema.drop_view("v").execute()
    db.schema.drop_view("v").if_exists().execute()
    assert view_names(db) == set()


def test_materialized_views(db: Database) -> None:
    users(db)
    create = db.schema.create_view("mv").materialized().as_(db.select_from("users").select(["id", "status"]))
    if db.dialect.name != "postgres":
        with pytest.raises(UnsupportedError, match=r"create_table\(name\)\.as_\(select\)"):
            create.compile()
        with pytest.raises(UnsupportedError, match="materialized"):
            db.schema.refresh_materialized_view("mv").compile()
        with pytest.raises(UnsupportedError, match="materialized"):
            db.schema.drop_view("mv").materialized().compile()
        return
    create.execute()
    db.schema.create_view("mv").materialized().if_not_exists().as_(sql("SELECT 1")).execute()
    db.schema.create_index("mv_id").on("mv").column("id").unique().execute()
    db.insert_into("users").values({"id": 4, "status": "new"}).execute()
    assert len(db.select_from("mv").fetch_all()) == 3
    # CONCURRENTLY needs the unique index, and runs inside a transaction as well
    with db.transaction():
        db.schema.refresh_materialized_view("mv").concurrently().execute()
    assert len(db.select_from("mv").fetch_all()) == 4
    db.schema.refresh_materialized_view("mv").with_no_data().execute()
    assert scalar(db, "SELECT ispopulated FROM pg_matviews WHERE matviewname = 'mv'") is False
    db.schema.refresh_materialized_view("mv").execute()
    assert scalar(db, "SELECT ispopulated FROM pg_matviews WHERE matviewname = 'mv'") is True
    db.schema.create_view("empty_mv").materialized().with_no_data().as_(db.select_from("users")).execute()
    assert scalar(db, "SELECT ispopulated FROM pg_matviews WHERE matviewname = 'empty_mv'") is False
    db.schema.drop_view("mv").materialized().if_exists().cascade().execute()
    assert scalar(db, "SELECT count(*) FROM pg_matviews WHERE matviewname = 'mv'") == 0


def test_view_builder_mistakes_are_builder_errors(db: Database) -> None:
    with pytest.raises(BuilderError, match=r"needs \.as_"):
        db.schema.create_view("v").compile()
    with pytest.raises(BuilderError, match="not both"):
        db.schema.create_view("v").or_replace().if_not_exists().as_(sql("SELECT 1")).compile()
    with pytest.raises(BuilderError, match=r"takes db\.select_from"):
        db.schema.create_view("v").as_(42)


# ============================================================================== schemas


def schema_names(db: Database) -> set[str]:
    if db.dialect.name == "postgres":
        rows = db.fetch("SELECT schema_name AS n FROM information_schema.schemata")
    else:
        rows = db.fetch("SELECT SCHEMA_NAME AS n FROM information_schema.SCHEMATA")
    return {str(r["n"]) for r in rows}


def test_create_and_drop_schema(db: Database) -> None:
    if db.dialect.name == "sqlite":
        with pytest.raises(UnsupportedError, match="ATTACH DATABASE"):
            db.schema.create_schema(SCHEMA).compile()
        with pytest.raises(UnsupportedError, match="DETACH DATABASE"):
            db.schema.drop_schema(SCHEMA).cascade().compile()
        return
    db.schema.drop_schema(SCHEMA).if_exists().cascade().execute()
    try:
        db.schema.create_schema(SCHEMA).execute()
        db.schema.create_schema(SCHEMA).if_not_exists().execute()
        assert SCHEMA in schema_names(db)
        db.schema.create_table(f"{SCHEMA}.inside").add_column("a", "integer").execute()
        if db.dialect.name == "mysql":  # DROP DATABASE would take the table with it: say so
            with pytest.raises(BuilderError, match=r"holds 1 table.*cascade"):
                db.schema.drop_schema(SCHEMA).compile()
        else:
            with pytest.raises(StatementError, match="depend"):
                db.schema.drop_schema(SCHEMA).execute()
        db.schema.drop_schema(SCHEMA).cascade().execute()
        assert SCHEMA not in schema_names(db)
        db.schema.drop_schema(SCHEMA).if_exists().execute()
    finally:
        db.schema.drop_schema(SCHEMA).if_exists().cascade().execute()


def test_with_schema_targets_the_schema_everywhere(db: Database, tenant: Database) -> None:
    t = tenant
    (
        t.schema.create_table("teams")
        .add_column("id", "integer", lambda col: col.primary_key())
        .add_column("name", "varchar(50)")
        .execute()
    )
    (
        t.schema.create_table("players")
        .add_column("id", "integer", lambda col: col.primary_key())
        .add_column("team_id", "integer", lambda col: col.references("teams.id").on_delete("cascade"))
        .add_column("coach_id", "integer")
        .add_foreign_key_constraint("players_coach_fk", ["coach_id"], "players", ["id"])
        .execute()
    )
    t.schema.alter_table("players").add_column("number", "integer").execute()
    t.schema.create_index("players_number").on("players").column("number").execute()
    t.schema.create_view("team_names").as_(t.select_from("teams").select(["name"])).execute()
    t.insert_into("teams").values({"id": 1, "name": "reds"}).execute()
    t.insert_into("players").values({"id": 1, "team_id": 1}).execute()
    # nothing landed in the default schema
    assert not exists(db, "teams") and not exists(db, "players")
    assert exists(db, "teams", SCHEMA) and exists(db, "players", SCHEMA)
    assert t.select_from("team_names").fetch_all() == [{"name": "reds"}]
    if db.dialect.name == "postgres":
        rows = db.fetch(
            "SELECT c.conname, n.nspname AS target FROM pg_constraint c JOIN pg_class r ON r.oid = c.confrelid "
            "JOIN pg_namespace n ON n.oid = r.relnamespace WHERE c.contype = 'f' ORDER BY c.conname"
        )
        assert {str(r["target"]) for r in rows} == {SCHEMA}
        assert scalar(db, "SELECT schemaname FROM pg_indexes WHERE indexname = 'players_number'") == SCHEMA
    elif db.dialect.name == "mysql":
        rows = db.fetch(
            "SELECT REFERENCED_TABLE_SCHEMA AS s FROM information_schema.KEY_COLUMN_USAGE "
            "WHERE TABLE_SCHEMA = %s AND REFERENCED_TABLE_NAME IS NOT NULL",
            [SCHEMA],
        )
        assert {str(r["s"]) for r in rows} == {SCHEMA}
        assert scalar(db, "SELECT TABLE_SCHEMA FROM information_schema.STATISTICS WHERE INDEX_NAME = 'players_number'") == SCHEMA
    else:
        assert scalar(db, f'SELECT count(*) FROM "{SCHEMA}".sqlite_master WHERE name = ?', "players_number") == 1
    # the foreign key works inside the schema
    t.delete_from("teams").execute()
    assert t.select_from("players").fetch_all() == []
    t.schema.drop_index("players_number").on("players").execute()
    t.schema.drop_view("team_names").execute()
    t.schema.alter_table("players").rename_to("athletes").execute()
    assert exists(db, "athletes", SCHEMA)
    t.schema.drop_table("athletes").execute()
    assert not exists(db, "athletes", SCHEMA)


def test_schema_module_with_schema(db: Database, tenant: Database) -> None:
    db.schema.with_schema(SCHEMA).create_table("x").add_column("a", "integer").execute()
    db.schema.with_schema(SCHEMA).create_index("x_a").on("x").column("a").execute()
    assert exists(db, "x", SCHEMA) and not exists(db, "x")


def test_table_exists_looks_in_the_with_schema_schema(db: Database, tenant: Database) -> None:
    """``tenant.table_exists("t")`` asks about the table ``tenant.schema`` builders make, not a
    namesake in the connection's own schema (on SQLite: the attached database, not main)."""
    db.schema.create_table("t").add_column("a", "integer").execute()
    assert not tenant.table_exists("t") and not db.table_exists(f"{SCHEMA}.t")
    tenant.schema.create_table("t").add_column("b", "integer").execute()
    assert tenant.table_exists("t") and db.table_exists(f"{SCHEMA}.t") and db.table_exists("t")
    db.schema.drop_table("t").execute()
    assert tenant.table_exists("t") and not db.table_exists("t")
    tenant.schema.drop_table("t").execute()
    assert not tenant.table_exists("t") and not db.table_exists(f"{SCHEMA}.t")


def test_table_exists_in_a_schema_that_does_not_exist_is_false(db: Database) -> None:
    """No schema (on SQLite: no database attached by that name), so no table in it: False on
    every engine (SQLite failed with 'no such table: nope.sqlite_master')."""
    assert not db.table_exists("nope.t") and not db.with_schema("nope").table_exists("t")
    if db.dialect.name == "sqlite":
        db.execute("CREATE TEMP TABLE scratch (a integer)")
        assert db.table_exists("temp.scratch") and not db.table_exists("main.scratch")


def test_with_schema_types_and_sequences(db: Database, tenant: Database) -> None:
    only(db, "postgres")
    tenant.schema.create_type(MOOD).execute()
    tenant.schema.create_table("people").add_column("m", MOOD).execute()
    tenant.schema.create_sequence("ticket").execute()
    assert scalar(db, "SELECT n.nspname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typname = 'mood'") == SCHEMA
    assert scalar(db, "SELECT schemaname FROM pg_sequences WHERE sequencename = 'ticket'") == SCHEMA
    assert scalar(db, "SELECT udt_schema FROM information_schema.columns WHERE table_name = 'people'") == SCHEMA


# ============================================================================== enums


def test_portable_enum(db: Database) -> None:
    db.schema.create_type(MOOD).execute()
    db.schema.create_table("people").add_column("id", "integer", lambda col: col.primary_key()).add_column("mood", MOOD, lambda col: col.not_null()).execute()
    db.insert_into("people").values([{"id": 1, "mood": "happy"}, {"id": 2, "mood": "sad"}]).execute()
    with pytest.raises(StatementError):
        db.insert_into("people").values({"id": 3, "mood": "angry"}).execute()
    assert [r["mood"] for r in db.select_from("people").order_by("id").fetch_all()] == ["happy", "sad"]
    if db.dialect.name == "postgres":
        assert scalar(db, "SELECT udt_name FROM information_schema.columns WHERE table_name = 'people' AND column_name = 'mood'") == "mood"
    elif db.dialect.name == "mysql":
        assert catalog.columns(db, "people")["mood"].type == "enum('happy','sad')"
    else:
        assert db.schema.create_type(MOOD).compile() == []
        assert "CHECK (\"mood\" IN ('happy', 'sad'))" in table_sql(db, "people")
    db.schema.drop_table("people").execute()
    db.schema.drop_type("mood").if_exists().execute()
    if db.dialect.name == "postgres":
        assert scalar(db, "SELECT count(*) FROM pg_type WHERE typname = 'mood'") == 0


def enum_labels(db: Database, name: str = "mood") -> list[str]:
    rows = db.fetch("SELECT enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = %s ORDER BY enumsortorder", [name])
    return [str(r["enumlabel"]) for r in rows]


def test_alter_type_on_postgres(db: Database) -> None:
    only(db, "postgres")
    db.schema.create_type("mood").as_enum(["happy", "sad"]).execute()
    db.schema.create_type("mood").as_enum(["x"]).if_not_exists().execute()  # already there: nothing happens
    db.schema.alter_type("mood").add_value("meh", after="happy").add_value("ecstatic", before="happy").add_value("blue").execute()
    db.schema.alter_type("mood").add_value("blue", if_not_exists=True).execute()
    assert enum_labels(db) == ["ecstatic", "happy", "meh", "sad", "blue"]
    db.schema.alter_type("mood").rename_value("sad", "down").rename_to("feeling").execute()
    assert enum_labels(db, "feeling") == ["ecstatic", "happy", "meh", "down", "blue"]
    db.schema.create_table("t").add_column("f", enum_type("feeling", ["x"])).execute()
    with pytest.raises(StatementError, match="depend"):
        db.schema.drop_type("feeling").execute()
    db.schema.drop_type("feeling").cascade().execute()
    assert list(catalog.columns(db, "t")) == []


def test_alter_type_elsewhere_points_at_the_alternative(db: Database) -> None:
    only(db, "mysql", "sqlite")
    builder = db.schema.alter_type("mood").add_value("meh")
    alternative = "modify_column" if db.dialect.name == "mysql" else "set_data_type"
    with pytest.raises(UnsupportedError, match=alternative):
        builder.compile()
    assert db.schema.drop_type("mood").compile() == [] and db.schema.alter_type("mood").rename_to("x").compile() == []


def test_enum_grows_with_modify_column_on_mysql(db: Database) -> None:
    only(db, "mysql")
    db.schema.create_table("people").add_column("mood", MOOD).execute()
    db.schema.alter_table("people").modify_column("mood", enum_type("mood", ["happy", "sad", "meh"])).execute()
    db.insert_into("people").values({"mood": "meh"}).execute()
    assert catalog.columns(db, "people")["mood"].type == "enum('happy','sad','meh')"


def test_enum_type_mistakes() -> None:
    with pytest.raises(BuilderError, match="twice"):
        enum_type("mood", ["a", "a"])
    with pytest.raises(BuilderError, match="non-empty"):
        enum_type("mood", [])
    with pytest.raises(BuilderError, match="list of strings"):
        enum_type("mood", "happy")  # type: ignore[arg-type]


# ============================================================================== sequences


def test_sequences(db: Database) -> None:
    users(db)
    create = (
        db.schema.create_sequence("ticket")
        .if_not_exists()
        .increment_by(5)
        .start_with(100)
        .min_value(10)
        .max_value(1000)
        .cache(1)
        .cycle()
    )
    if db.dialect.name == "sqlite":
        with pytest.raises(UnsupportedError, match="serial"):
            create.compile()
        return
    create.execute()
    if db.dialect.name == "postgres":
        nextval = "SELECT nextval('ticket')"
        row = db.fetch("SELECT increment_by, start_value, min_value, max_value, cycle, cache_size FROM pg_sequences WHERE sequencename = 'ticket'")[0]
        assert (row["increment_by"], row["start_value"], row["min_value"], row["max_value"], row["cycle"]) == (5, 100, 10, 1000, True)
    else:
        nextval = "SELECT NEXTVAL(ticket)"
        row = db.fetch("SELECT increment, start_value, minimum_value, maximum_value, cycle_option FROM ticket")[0]
        assert (row["increment"], row["start_value"], row["minimum_value"], row["maximum_value"], row["cycle_option"]) == (5, 100, 10, 1000, 1)
    assert [scalar(db, nextval) for _ in range(2)] == [100, 105]
    db.schema.alter_sequence("ticket").restart_with(500).increment_by(1).cycle(False).execute()
    assert scalar(db, nextval) == 500
    db.schema.alter_sequence("ticket").restart().execute()
    assert scalar(db, nextval) == 100
    db.schema.drop_sequence("ticket").execute()
    db.schema.drop_sequence("ticket").if_exists().execute()
    if db.dialect.name == "postgres":
        db.schema.create_sequence("users_seq").owned_by("users.id").execute()
        db.schema.drop_table("users").execute()  # an owned sequence goes with its column
        assert scalar(db, "SELECT count(*) FROM pg_sequences WHERE sequencename = 'users_seq'") == 0
    else:
        with pytest.raises(UnsupportedError, match="together with its table"):
            db.schema.create_sequence("users_seq").owned_by("users.id").compile()


def test_sequence_builder_mistakes(db: Database) -> None:
    with pytest.raises(BuilderError, match="integer"):
        db.schema.create_sequence("s").start_with("1")  # type: ignore[arg-type]
    with pytest.raises(BuilderError, match="cannot be 0"):
        db.schema.create_sequence("s").increment_by(0)
    with pytest.raises(BuilderError, match="no changes"):
        offline("postgres").schema.alter_sequence("s").compile()


# ============================================================================== portable types


def readme_type_rows() -> list[list[str]]:
    """The cells of the README's table of portable types, header and separator left out."""
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    lines = text.split("### Portable types", 1)[1].splitlines()
    table = [line for line in lines[: next(i for i, line in enumerate(lines) if line.startswith("`serial` is"))] if line.startswith("|")]
    return [[c.strip() for c in line.strip().strip("|").split("|")] for line in table[2:]]


def _first_code(text: str) -> str | None:
    found = re.search(r"`([^`]+)`", text)
    return found.group(1) if found else None


def test_readme_type_table_is_what_each_compiler_writes() -> None:
    rows = readme_type_rows()
    assert len(rows) >= 12
    for written, *cells in rows:
        if written.startswith("`enum_type"):
            continue  # a type object, not a name: see test_portable_enum
        auto_increment = "auto_increment()" in written
        names = [_first_code(part) or "" for part in written.split(" (")[0].split(" + ")[0].split(" / ")]
        for eng, cell in zip(("postgres", "mysql", "sqlite"), cells, strict=True):
            parts = cell.split(" / ")
            for i, name in enumerate(names):
                part = parts[i] if len(parts) == len(names) else parts[0]
                expected = name if part.startswith("unchanged") else _first_code(part)
                pk = auto_increment or "serial" in name
                text = (
                    offline(eng)  # type: ignore[arg-type]
                    .schema.create_table("t")
                    .add_column("c", name, (lambda col: col.primary_key().auto_increment()) if auto_increment else
                                ((lambda col: col.primary_key()) if pk else None))
                    .compile()
                    .sql
                )
                quote = "`" if eng == "mysql" else '"'
                assert f"{quote}c{quote} {expected}" in text, (written, eng, text)


PORTABLE = ["uuid", "json", "jsonb", "boolean", "timestamptz", "bytes", "blob", "datetime", "double", "string", "text", "date", "numeric(10,2)", "bigint", "smallint", "real"]


def test_portable_types_create_and_store_on_every_engine(db: Database) -> None:
    builder = db.schema.create_table("types").add_column("id", "serial", lambda col: col.primary_key())
    for name in PORTABLE:
        builder = builder.add_column(name.split("(")[0], name)
    builder.execute()
    assert list(catalog.columns(db, "types")) == ["id", *(n.split("(")[0] for n in PORTABLE)]
    import datetime as dt
    import decimal
    import uuid

    row = {
        "uuid": str(uuid.UUID(int=7)), "json": '{"a": 1}', "jsonb": '{"a": 1}', "boolean": True,
        "timestamptz": dt.datetime(2026, 1, 2, 3, 4, 5), "bytes": b"\x00\xff", "blob": b"\x01",
        "datetime": dt.datetime(2026, 1, 2, 3, 4, 5), "double": 1.5, "string": "s", "text": "t",
        "date": dt.date(2026, 1, 2),
        "numeric": decimal.Decimal("12.34") if db.dialect.name != "sqlite" else 12.34, "bigint": 2**40, "smallint": 7, "real": 0.5,
    }
    db.insert_into("types").values(row).execute()
    got = db.select_from("types").fetch_one()
    assert got is not None and got["id"] == 1
    assert bytes(got["bytes"]) == b"\x00\xff" and got["bigint"] == 2**40 and got["string"] == "s"  # type: ignore[call-overload]
    assert str(got["uuid"]) == str(uuid.UUID(int=7)) and decimal.Decimal(str(got["numeric"])) == decimal.Decimal("12.34")


# ============================================================================== property tests

names = st.text(
    alphabet=st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters="\x00.", max_codepoint=0xFFFF),
    min_size=1,
    max_size=20,
).map(lambda s: s.rstrip() or "x")
values = st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=30)
labels = st.lists(
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=15).map(str.strip).filter(bool),
    min_size=1,
    max_size=5,
    unique_by=str.lower,  # MySQL compares enum labels case-insensitively
)

SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(view=names, value=values)
def test_any_view_name_and_filter_value_round_trip(db: Database, view: str, value: str) -> None:
    """The view's name is quoted, and the value, inlined twice as a literal (in the select list and
    the filter), comes back as it went in."""
    db.schema.drop_table("src").if_exists().execute()
    db.schema.create_table("src").add_column("id", "integer", lambda col: col.primary_key()).add_column("v", "text").execute()
    try:
        # the second row never matches (NULL equals nothing), whatever the collation says
        db.insert_into("src").values([{"id": 1, "v": value}, {"id": 2, "v": None}]).execute()
        query = db.select_from("src").select(["v", sql("{}", value)]).where("v", "=", value)
        db.schema.create_view(view).columns(["value", "echo"]).as_(query).execute()
        try:
            assert db.select_from(view).fetch_all() == [{"value": value, "echo": value}]
        finally:
            db.schema.drop_view(view).execute()
    finally:
        db.schema.drop_table("src").execute()


@SETTINGS
@given(values=labels, type_name=names)
def test_any_enum_labels_round_trip(db: Database, values: list[str], type_name: str) -> None:
    if db.dialect.name == "mysql":
        values = [v for v in values if v == v.rstrip()]  # MySQL strips trailing spaces from labels
    if not values:
        return
    mood = enum_type("e_" + type_name.replace(".", "_"), values)
    db.schema.drop_table("e").if_exists().execute()
    db.schema.drop_type(mood).if_exists().cascade().execute()
    db.schema.create_type(mood).execute()
    try:
        db.schema.create_table("e").add_column("id", "integer", lambda col: col.primary_key()).add_column("m", mood).execute()
        db.insert_into("e").values([{"id": i, "m": v} for i, v in enumerate(values)]).execute()
        assert [r["m"] for r in db.select_from("e").order_by("id").fetch_all()] == values
        if supports("enum_column", engine_of(db.dialect)):
            with pytest.raises(StatementError):
                db.insert_into("e").values({"id": 99, "m": "\u2603 not a label"}).execute()
    finally:
        db.schema.drop_table("e").if_exists().execute()
        db.schema.drop_type(mood).if_exists().cascade().execute()


def test_varchar_without_a_length_on_mysql_is_a_builder_error(db: Database) -> None:
    """MySQL and MariaDB have no VARCHAR without a length: the server said only "syntax error"."""
    for written in ("varchar", "varbinary"):
        builder = db.schema.create_table("v").add_column("a", written)
        if db.dialect.name != "mysql":
            if written == "varchar":  # PostgreSQL and SQLite take it, without a limit
                builder.execute()
                db.schema.drop_table("v").execute()
            continue
        with pytest.raises(BuilderError, match=rf"column type '{written}' needs a length on MariaDB: write {written}\(255\)"):
            builder.compile()
    with pytest.raises(BuilderError, match=r"needs a length on MySQL: write varchar\(255\), or the portable type 'string'"):
        offline("mysql").schema.create_table("v").add_column("a", "varchar").compile()
    if db.dialect.name == "sqlite":
        return
    db.schema.create_table("v").add_column("a", "varchar(10)").execute()
    with pytest.raises(BuilderError, match=r"needs a length") if db.dialect.name == "mysql" else contextlib.nullcontext():
        db.schema.alter_table("v").alter_column("a", lambda col: col.set_data_type("varchar")).execute()


def test_a_foreign_key_innodb_calls_incorrectly_formed_says_why(db: Database) -> None:
    """InnoDB refuses a foreign key to a column of another type, or to columns no index leads,
    with "errno: 150 Foreign key constraint is incorrectly formed": the error names the usual causes."""
    only(db, "mysql")
    db.schema.create_table("accounts").add_column("id", "bigint", lambda c: c.primary_key().unsigned()).add_column("code", "varchar(10)").execute()
    users = db.schema.create_table("users").add_column("id", "integer", lambda c: c.primary_key())
    with pytest.raises(StatementError) as caught:
        users.add_column("account_id", "integer", lambda c: c.references("accounts.id")).execute()
    assert "errno: 150" in str(caught.value) and "the same size and signedness" in str(caught.value)
    users.execute()
    key = db.schema.alter_table("users").add_column("code", "varchar(10)").add_foreign_key_constraint("fk_code", ["code"], "accounts", ["code"])
    with pytest.raises(StatementError, match="lead an index of it"):
        key.execute()
