"""SQLite ALTER TABLE: native statements, and the 12-step table rebuild for everything else.

Every test runs on a real SQLite file and checks the result by introspection (PRAGMA
table_xinfo, foreign_key_list, index_list, sqlite_master) and by the data.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kysera import Database, connect, sql
from kysera.dialects.sql_lexer import render, tokenize
from kysera.dialects.sqlite import SqliteCompiler, SqliteDialect
from kysera.dialects.sqlite_alter import compile_sqlite_alter_table
from kysera.dialects.sqlite_table_sql import fold, parse_create_table, qualify_object_name
from kysera.errors import BuilderError, KyseraError, StatementError, UnsupportedError
from kysera.nodes import (
    AddColumnNode,
    AddConstraintNode,
    AlterColumnNode,
    AlterTableNode,
    CheckConstraintNode,
    ColumnDefinitionNode,
    DataTypeNode,
    DropColumnNode,
    IdentifierNode,
    RawNode,
    RenameColumnNode,
    SetNotNullNode,
)


@pytest.fixture
def db(sqlite_db: Database) -> Database:
    """Overrides the engine-parametrised fixture: these tests are SQLite only."""
    return sqlite_db


# --------------------------------------------------------------------------- helpers


def columns(db: Database, table: str) -> dict[str, dict[str, object]]:
    rows = db.fetch("SELECT * FROM pragma_table_xinfo(?)", [table])
    return {str(r["name"]): r for r in rows}


def rows(db: Database, table: str, order: str = "rowid") -> list[dict[str, object]]:
    q = '"' + table.replace('"', '""') + '"'
    return list(db.fetch(f"SELECT * FROM {q} ORDER BY {order}"))


def table_sql(db: Database, name: str) -> str:
    found = db.fetch("SELECT sql FROM sqlite_master WHERE name = ?", [name])
    assert found, f"{name} not in sqlite_master"
    return str(found[0]["sql"])


def master_names(db: Database, kind: str) -> list[str]:
    return sorted(str(r["name"]) for r in db.fetch("SELECT name FROM sqlite_master WHERE type = ?", [kind]))


def legacy_alter_table(db: Database) -> int:
    return int(str(db.fetch("PRAGMA legacy_alter_table")[0]["legacy_alter_table"]))


def kinds(statements: Sequence[object]) -> list[str]:
    return [" ".join(str(s).split()[:2]) for s in statements]


def make_users(db: Database) -> None:
    (
        db.schema.create_table("users")
        .add_column("id", "serial", lambda c: c.primary_key())
        .add_column("email", "varchar(255)", lambda c: c.not_null().unique())
        .add_column("name", "text")
        .add_column("age", "integer", lambda c: c.default_to(0))
        .execute()
    )
    db.insert_into("users").values(
        [
            {"email": "a@x.io", "name": "Ann", "age": 31},
            {"email": "b@x.io", "name": None, "age": 40},
            {"email": "c@x.io", "name": "Cy", "age": 22},
        ]
    ).execute()


def assert_clean(db: Database) -> None:
    """No leftovers of a rebuild and the connection back in its normal mode."""
    assert not [n for n in master_names(db, "table") if n.startswith("_kysera_")]
    assert not db.fetch("SELECT name FROM sqlite_temp_master")
    assert legacy_alter_table(db) == 0
    assert db.fetch("PRAGMA foreign_keys")[0]["foreign_keys"] == 1
    assert db.fetch("PRAGMA foreign_key_check") == []
    assert db.fetch("PRAGMA integrity_check")[0]["integrity_check"] == "ok"


# --------------------------------------------------------------------------- compile


def test_compile_gives_a_list_of_statements_for_a_rebuild(db: Database) -> None:
    make_users(db)
    compiled = db.schema.alter_table("users").alter_column("name", lambda c: c.set_data_type("varchar(80)")).compile()
    assert isinstance(compiled, list)
    assert len(compiled) > 5
    assert all(isinstance(s.node, AlterTableNode) for s in compiled)
    assert str(compiled[0]).startswith('CREATE TABLE "_kysera_new_users" (')
    assert '"name" varchar(80)' in str(compiled[0])
    assert kinds(compiled)[1:] == [
        "INSERT INTO",
        "UPDATE sqlite_sequence",
        "INSERT INTO",
        "DROP TABLE",
        "PRAGMA legacy_alter_table",
        "ALTER TABLE",
        "PRAGMA legacy_alter_table",
    ]
    assert str(compiled[-2]) == 'ALTER TABLE "_kysera_new_users" RENAME TO "users"'
    assert "foreign_keys" not in compiled.sql
    # compiling runs nothing
    assert str(columns(db, "users")["name"]["type"]).lower() == "text"


def test_native_actions_compile_to_one_statement_each(db: Database) -> None:
    make_users(db)
    compiled = (
        db.schema.alter_table("users")
        .add_column("nick", "text", lambda c: c.default_to("n/a"))
        .rename_column("name", "full_name")
        .drop_column("age")
        .rename_to("people")
        .add_column("score", "real")
        .compile()
    )
    assert [str(s) for s in compiled] == [
        """ALTER TABLE "users" ADD COLUMN "nick" text DEFAULT 'n/a'""",
        'ALTER TABLE "users" RENAME COLUMN "name" TO "full_name"',
        'ALTER TABLE "users" DROP COLUMN "age"',
        'ALTER TABLE "users" RENAME TO "people"',
        'ALTER TABLE "people" ADD COLUMN "score" real',
    ]
    db.run_compiled(list(compiled))
    assert list(columns(db, "people")) == ["id", "email", "full_name", "nick", "score"]


def test_rename_to_together_with_a_rebuild(db: Database) -> None:
    make_users(db)
    db.execute("CREATE VIEW v AS SELECT name FROM users")
    result = db.schema.alter_table("users").rename_to("people").alter_column("age", lambda c: c.set_not_null().set_default(1)).execute()
    assert str(result.statements[-1]) == 'ALTER TABLE "users" RENAME TO "people"'
    assert "users" not in master_names(db, "table")
    assert (columns(db, "people")["age"]["notnull"], columns(db, "people")["age"]["dflt_value"]) == (1, "1")
    assert table_sql(db, "v") == "CREATE VIEW v AS SELECT name FROM \"people\""


def test_native_only_alterations_do_not_read_the_catalog(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    make_users(db)
    original = db.fetch
    reads: list[str] = []

    def spy(sql_text: str, params: Sequence[object] = ()) -> list[dict[str, object]]:
        reads.append(sql_text)
        return original(sql_text, params)

    monkeypatch.setattr(db, "fetch", spy)
    db.schema.alter_table("users").rename_column("name", "n").add_column("x", "text").execute()
    assert reads == []
    db.schema.alter_table("users").drop_column("x").execute()
    assert reads  # DROP COLUMN needs the catalog: native or rebuild?


def test_offline_compile_of_a_rebuild_raises_unsupported() -> None:
    compiler = SqliteDialect((3, 45, 0)).compiler(None)
    node = AlterTableNode(IdentifierNode("users"), (AlterColumnNode("email", SetNotNullNode()),))
    with pytest.raises(UnsupportedError, match=r"without a database connection is not supported on SQLite"):
        compiler.compile(node)
    # renames need no catalog and still compile offline
    native = compiler.compile(AlterTableNode(IdentifierNode("users"), (RenameColumnNode("a", "b"),)))
    assert [s.sql for s in native] == ['ALTER TABLE "users" RENAME COLUMN "a" TO "b"']


def test_unknown_table_is_a_builder_error(db: Database) -> None:
    with pytest.raises(BuilderError, match=r"table 'nope' does not exist"):
        db.schema.alter_table("nope").alter_column("a", lambda c: c.set_not_null()).compile()


# --------------------------------------------------------------------------- add column


def test_add_column_natively(db: Database) -> None:
    make_users(db)
    result = db.schema.alter_table("users").add_column("nick", "text", lambda c: c.default_to("anon")).execute()
    assert len(result.statements) == 1
    assert [r["nick"] for r in rows(db, "users")] == ["anon"] * 3


@pytest.mark.parametrize(
    "build",
    [
        lambda c: c.unique(),
        lambda c: c.default_to(sql("CURRENT_TIMESTAMP")),
        lambda c: c.not_null().default_to(sql("(lower('X'))")),
        lambda c: c.generated_always_as("upper(name)").stored(),
    ],
    ids=["unique", "current_timestamp", "expression", "stored-generated"],
)
def test_add_column_that_needs_a_rebuild(db: Database, build: object) -> None:
    make_users(db)
    before = rows(db, "users")
    result = db.schema.alter_table("users").add_column("extra", "text", build).execute()  # type: ignore[arg-type]
    assert str(result.statements[0]).startswith('CREATE TABLE "_kysera_new_users"')
    cols = columns(db, "users")
    assert list(cols) == ["id", "email", "name", "age", "extra"]
    after = rows(db, "users")
    assert [{k: v for k, v in r.items() if k != "extra"} for r in after] == before
    assert_clean(db)


def test_add_column_with_current_timestamp_fills_existing_rows(db: Database) -> None:
    make_users(db)
    db.schema.alter_table("users").add_column("created_at", "text", lambda c: c.not_null().default_to(sql("CURRENT_TIMESTAMP"))).execute()
    assert all(r["created_at"] for r in rows(db, "users"))
    assert columns(db, "users")["created_at"]["notnull"] == 1


def test_add_not_null_column_without_default_to_a_table_with_rows_fails_clearly(db: Database) -> None:
    make_users(db)
    before_sql = table_sql(db, "users")
    with pytest.raises(StatementError, match=r"add_column\('code'\) failed: table 'users' has rows, so a NOT NULL column needs a default"):
        db.schema.alter_table("users").add_column("code", "text", lambda c: c.not_null()).execute()
    assert table_sql(db, "users") == before_sql
    assert_clean(db)


def test_add_not_null_column_without_default_to_an_empty_table(db: Database) -> None:
    db.execute("CREATE TABLE t (a integer)")
    db.schema.alter_table("t").add_column("b", "text", lambda c: c.not_null()).execute()
    assert columns(db, "t")["b"]["notnull"] == 1


def plan_directly(db: Database, node: AlterTableNode) -> list[str]:
    """compile_sqlite_alter_table itself, without the support table's checks in front of it."""
    compiler = db.dialect.compiler(db)
    assert isinstance(compiler, SqliteCompiler)
    return [s.sql for s in compile_sqlite_alter_table(compiler, node)]


def test_add_column_if_not_exists_is_emulated_from_the_catalog(db: Database) -> None:
    make_users(db)
    existing = AddColumnNode(ColumnDefinitionNode("NAME", DataTypeNode("text"), if_not_exists=True))
    assert plan_directly(db, AlterTableNode(IdentifierNode("users"), (existing,))) == []
    new = AddColumnNode(ColumnDefinitionNode("nick", DataTypeNode("text"), if_not_exists=True))
    assert plan_directly(db, AlterTableNode(IdentifierNode("users"), (new,))) == [
        'ALTER TABLE "users" ADD COLUMN "nick" text'
    ]
    with pytest.raises(BuilderError, match=r"column 'name' already exists in table 'users'"):
        db.schema.alter_table("users").add_column("name", "text", lambda c: c.unique()).compile()
    # a plain ADD COLUMN is compiled without reading the catalog; SQLite refuses the duplicate
    with pytest.raises(StatementError, match="duplicate column name: name"):
        db.schema.alter_table("users").add_column("name", "text").execute()


# --------------------------------------------------------------------------- drop column


def test_drop_column_natively(db: Database) -> None:
    make_users(db)
    result = db.schema.alter_table("users").drop_column("age").execute()
    assert [str(s) for s in result.statements] == ['ALTER TABLE "users" DROP COLUMN "age"']
    assert "age" not in columns(db, "users")


def test_drop_indexed_column_rebuilds_and_drops_its_indexes(db: Database) -> None:
    make_users(db)
    db.schema.create_index("ix_users_name").on("users").column("name").execute()
    db.schema.create_index("ix_users_age").on("users").column("age").execute()
    db.execute('CREATE INDEX ix_users_name_age ON users (lower(name), age) WHERE name IS NOT NULL')
    result = db.schema.alter_table("users").drop_column("name").execute()
    assert "CREATE TABLE" in str(result.statements[0])
    assert "name" not in columns(db, "users")
    assert master_names(db, "index") == ["ix_users_age", "sqlite_autoindex_users_1"]
    assert [r["email"] for r in rows(db, "users")] == ["a@x.io", "b@x.io", "c@x.io"]
    assert_clean(db)


def test_drop_unique_and_primary_key_columns(db: Database) -> None:
    make_users(db)
    db.schema.alter_table("users").drop_column("email").execute()
    assert list(columns(db, "users")) == ["id", "name", "age"]
    assert [r["name"] for r in db.fetch("PRAGMA index_list('users')")] == []
    db.schema.alter_table("users").drop_column("id").execute()
    assert list(columns(db, "users")) == ["name", "age"]
    assert [r["age"] for r in rows(db, "users")] == [31, 40, 22]


def test_drop_column_used_by_a_table_constraint_names_the_constraint(db: Database) -> None:
    db.execute("CREATE TABLE t (a integer, b integer, c integer, CONSTRAINT ab_unique UNIQUE (a, b), CHECK (c > a))")
    with pytest.raises(BuilderError, match=r"cannot drop column 'b' of table 't': constraint 'ab_unique' uses it"):
        db.schema.alter_table("t").drop_column("b").compile()
    with pytest.raises(BuilderError, match=r"cannot drop column 'c' of table 't': the table constraint CHECK \(c > a\) uses it"):
        db.schema.alter_table("t").drop_column("c").compile()
    # dropping the constraint first in the same alter_table works
    db.schema.alter_table("t").drop_constraint("ab_unique").drop_column("b").execute()
    assert list(columns(db, "t")) == ["a", "c"]


def test_drop_column_used_by_another_column_is_refused(db: Database) -> None:
    db.execute("CREATE TABLE t (a integer, b integer CHECK (b > a), g integer AS (a * 2))")
    with pytest.raises(BuilderError, match=r"the CHECK constraint of column 'b' uses it"):
        db.schema.alter_table("t").drop_column("a").compile()
    db.execute("CREATE TABLE u (a integer, g integer AS (a * 2))")
    with pytest.raises(BuilderError, match=r"the generated expression of column 'g' uses it"):
        db.schema.alter_table("u").drop_column("a").compile()


def test_drop_column_if_exists_and_unknown_column(db: Database) -> None:
    make_users(db)
    missing = DropColumnNode("nope", if_exists=True)
    assert plan_directly(db, AlterTableNode(IdentifierNode("users"), (missing,))) == []
    present = DropColumnNode("AGE", if_exists=True)
    assert plan_directly(db, AlterTableNode(IdentifierNode("users"), (present,))) == [
        'ALTER TABLE "users" DROP COLUMN "age"'
    ]
    with pytest.raises(BuilderError, match=r"column 'nope' does not exist in table 'users'"):
        db.schema.alter_table("users").drop_column("nope").compile()
    with pytest.raises(BuilderError, match=r"column 'nope' does not exist in table 'users'"):
        db.schema.alter_table("users").alter_column("nope", lambda c: c.set_not_null()).compile()


def test_drop_last_column_is_refused(db: Database) -> None:
    db.execute("CREATE TABLE t (a integer UNIQUE)")
    with pytest.raises(BuilderError, match=r"it is the last column of table 't'"):
        db.schema.alter_table("t").drop_column("a").compile()


def test_drop_column_that_a_view_uses_in_a_rebuild_is_refused(db: Database) -> None:
    make_users(db)
    db.execute("CREATE VIEW named AS SELECT id, name FROM users")
    db.execute("CREATE INDEX ix_name ON users (name)")
    with pytest.raises(BuilderError, match=r"view 'named' uses it; drop the view first"):
        db.schema.alter_table("users").drop_column("name").compile()


def test_drop_column_that_a_trigger_uses_is_refused(db: Database) -> None:
    make_users(db)
    db.execute("CREATE TABLE log (msg text)")
    db.execute("CREATE TRIGGER users_ins AFTER INSERT ON users BEGIN INSERT INTO log VALUES (NEW.name); END")
    with pytest.raises(BuilderError, match=r"trigger 'users_ins' uses it"):
        db.schema.alter_table("users").drop_column("name").alter_column("age", lambda c: c.set_not_null()).compile()


def test_drop_parent_key_column_referenced_by_another_table_is_refused(db: Database) -> None:
    db.execute("CREATE TABLE p (id integer PRIMARY KEY, code text UNIQUE, x text)")
    db.execute("CREATE TABLE c (p_code text REFERENCES p (code))")
    with pytest.raises(BuilderError, match=r"table 'c' has a foreign key to p\(code\)"):
        db.schema.alter_table("p").drop_column("code").compile()
    db.execute("CREATE TABLE q (id integer PRIMARY KEY, code text CONSTRAINT q_code UNIQUE)")
    db.execute("CREATE TABLE d (q_code text REFERENCES q (code))")
    with pytest.raises(BuilderError, match=r"table 'd' has a foreign key to q\(code\)"):
        db.schema.alter_table("q").drop_constraint("q_code").compile()


# --------------------------------------------------------------------------- renames


def test_rename_column_and_table_natively(db: Database) -> None:
    make_users(db)
    db.execute("CREATE VIEW v AS SELECT name FROM users")
    db.schema.alter_table("users").rename_column("name", "full_name").rename_to("people").execute()
    assert "full_name" in columns(db, "people")
    assert [r["full_name"] for r in db.fetch("SELECT * FROM v ORDER BY 1")] == [None, "Ann", "Cy"]


def test_rename_in_a_rebuild_updates_views_triggers_indexes_and_child_foreign_keys(db: Database) -> None:
    make_users(db)
    db.execute("CREATE TABLE orders (id integer PRIMARY KEY, user_email text REFERENCES users (email))")
    db.execute("INSERT INTO orders (user_email) VALUES ('a@x.io')")
    db.execute("CREATE VIEW v AS SELECT email, name FROM users")
    db.execute("CREATE INDEX ix_email_name ON users (email, name)")
    db.execute("CREATE TABLE log (msg text)")
    db.execute("CREATE TRIGGER t_ins AFTER INSERT ON users BEGIN INSERT INTO log VALUES (NEW.email); END")
    result = (
        db.schema.alter_table("users")
        .rename_column("email", "mail")
        .alter_column("mail", lambda c: c.set_data_type("varchar(320)"))
        .alter_column("name", lambda c: c.set_default("?"))
        .execute()
    )
    assert sum(1 for s in result.statements if str(s).startswith("CREATE TABLE")) == 1
    cols = columns(db, "users")
    assert cols["mail"]["type"] == "varchar(320)"
    assert cols["name"]["dflt_value"] == "'?'"
    assert [r["mail"] for r in db.fetch("SELECT * FROM v ORDER BY mail")] == ["a@x.io", "b@x.io", "c@x.io"]
    assert [r["to"] for r in db.fetch("PRAGMA foreign_key_list('orders')")] == ["mail"]
    assert "mail" in table_sql(db, "ix_email_name")
    db.insert_into("users").values({"mail": "d@x.io", "name": "Di"}).execute()
    assert [r["msg"] for r in db.fetch("SELECT msg FROM log")] == ["d@x.io"]
    db.insert_into("orders").values({"user_email": "d@x.io"}).execute()
    with pytest.raises(StatementError, match="FOREIGN KEY constraint failed"):
        db.insert_into("orders").values({"user_email": "nobody"}).execute()
    assert_clean(db)


def test_swapped_names_in_a_rebuild(db: Database) -> None:
    db.execute("CREATE TABLE t (a text, b integer)")
    db.execute("INSERT INTO t VALUES ('x', 1), ('y', 2)")
    (
        db.schema.alter_table("t")
        .rename_column("a", "tmp")
        .rename_column("b", "a")
        .rename_column("tmp", "b")
        .alter_column("a", lambda c: c.set_not_null())
        .add_check_constraint("a_positive", "a > 0")
        .execute()
    )
    cols = columns(db, "t")
    assert (str(cols["a"]["type"]).lower(), cols["a"]["notnull"], str(cols["b"]["type"]).lower()) == ("integer", 1, "text")
    assert rows(db, "t") == [{"b": "x", "a": 1}, {"b": "y", "a": 2}]
    with pytest.raises(StatementError, match="CHECK constraint failed: a_positive"):
        db.execute("INSERT INTO t (a, b) VALUES (0, 'z')")
    assert_clean(db)


def test_rename_then_add_a_column_with_the_old_name(db: Database) -> None:
    db.execute("CREATE TABLE t (id integer PRIMARY KEY, a text)")
    db.execute("INSERT INTO t (a) VALUES ('one')")
    (
        db.schema.alter_table("t")
        .rename_column("a", "old_a")
        .add_column("a", "text", lambda c: c.unique())
        .add_check_constraint("a_not_old", sql("a IS NOT old_a"))
        .execute()
    )
    assert rows(db, "t") == [{"id": 1, "old_a": "one", "a": None}]
    assert "a_not_old" in table_sql(db, "t")
    assert '"a" IS NOT "old_a"' in table_sql(db, "t")
    assert_clean(db)


def test_drop_then_rename_into_the_freed_name(db: Database) -> None:
    db.execute("CREATE TABLE t (id integer PRIMARY KEY, email text UNIQUE, email_new text)")
    db.execute("INSERT INTO t (email, email_new) VALUES ('A', 'a')")
    db.schema.alter_table("t").drop_column("email").rename_column("email_new", "email").execute()
    assert rows(db, "t") == [{"id": 1, "email": "a"}]


# --------------------------------------------------------------------------- alter column


def test_set_data_type_converts_with_the_new_affinity(db: Database) -> None:
    db.execute("CREATE TABLE t (id integer PRIMARY KEY, n text)")
    db.execute("INSERT INTO t (n) VALUES ('12'), ('x'), (NULL)")
    db.schema.alter_table("t").alter_column("n", lambda c: c.set_data_type("integer")).execute()
    assert str(columns(db, "t")["n"]["type"]).lower() == "integer"
    assert [r["t"] for r in db.fetch("SELECT typeof(n) AS t FROM t ORDER BY id")] == ["integer", "text", "null"]


def test_set_data_type_with_using(db: Database) -> None:
    db.execute("CREATE TABLE t (id integer PRIMARY KEY, price text)")
    db.execute("INSERT INTO t (price) VALUES ('1.25'), ('3')")
    (
        db.schema.alter_table("t")
        .rename_column("price", "cents")
        .alter_column("cents", lambda c: c.set_data_type("integer", using=sql("CAST(round(cents * 100) AS INTEGER)")))
        .execute()
    )
    assert [r["cents"] for r in rows(db, "t")] == [125, 300]


def test_set_data_type_keeps_autoincrement_only_on_integer(db: Database) -> None:
    make_users(db)
    with pytest.raises(BuilderError, match=r"AUTOINCREMENT, which SQLite allows only on type 'integer'"):
        db.schema.alter_table("users").alter_column("id", lambda c: c.set_data_type("bigint")).compile()


def test_set_and_drop_default(db: Database) -> None:
    make_users(db)
    db.schema.alter_table("users").alter_column("name", lambda c: c.set_default("nobody")).execute()
    assert columns(db, "users")["name"]["dflt_value"] == "'nobody'"
    db.insert_into("users").values({"email": "d@x.io"}).execute()
    assert rows(db, "users")[-1]["name"] == "nobody"
    db.schema.alter_table("users").alter_column("age", lambda c: c.set_default(sql("(18 + 3)"))).execute()
    assert columns(db, "users")["age"]["dflt_value"] == "18 + 3"
    assert "DEFAULT (18 + 3)" in table_sql(db, "users")
    db.schema.alter_table("users").alter_column("age", lambda c: c.drop_default()).alter_column("name", lambda c: c.drop_default()).execute()
    cols = columns(db, "users")
    assert (cols["age"]["dflt_value"], cols["name"]["dflt_value"]) == (None, None)
    assert_clean(db)


def test_set_default_to_a_function_call_is_parenthesised(db: Database) -> None:
    make_users(db)
    db.schema.alter_table("users").add_column("at", "text", lambda c: c.default_to(sql("datetime('now')"))).execute()
    db.schema.alter_table("users").alter_column("name", lambda c: c.set_default(sql("lower('ANON')"))).execute()
    text = table_sql(db, "users")
    assert "DEFAULT (datetime('now'))" in text and "DEFAULT (lower('ANON'))" in text
    db.insert_into("users").values({"email": "d@x.io"}).execute()
    assert rows(db, "users")[-1]["name"] == "anon"
    assert all(r["at"] for r in rows(db, "users"))


def test_set_data_type_to_an_enum_replaces_the_old_enum_check(db: Database) -> None:
    column_module = pytest.importorskip("kysera.schema.column")
    enum_type = getattr(column_module, "enum_type", None)
    if enum_type is None:
        pytest.skip("no enum_type in this tree")
    db.schema.create_table("t").add_column("id", "integer", lambda c: c.primary_key()).add_column(
        "mood", enum_type("mood", ["happy", "sad"])
    ).execute()
    db.insert_into("t").values([{"mood": "happy"}, {"mood": "sad"}]).execute()
    db.schema.alter_table("t").alter_column("mood", lambda c: c.set_data_type(enum_type("mood", ["happy", "sad", "meh"]))).execute()
    db.insert_into("t").values({"mood": "meh"}).execute()
    with pytest.raises(StatementError, match="CHECK constraint failed"):
        db.insert_into("t").values({"mood": "angry"}).execute()
    assert table_sql(db, "t").count("CHECK") == 1


def test_add_a_second_primary_key_column_is_refused(db: Database) -> None:
    make_users(db)
    with pytest.raises(BuilderError, match=r"table 'users' already has a primary key, so column 'k' cannot be one"):
        db.schema.alter_table("users").add_column("k", "integer", lambda c: c.primary_key()).compile()


def test_drop_default_without_a_default_is_a_no_op(db: Database) -> None:
    make_users(db)
    assert list(db.schema.alter_table("users").alter_column("name", lambda c: c.drop_default()).compile()) == []


def test_set_and_drop_not_null(db: Database) -> None:
    make_users(db)
    db.schema.alter_table("users").alter_column("age", lambda c: c.set_not_null()).execute()
    assert columns(db, "users")["age"]["notnull"] == 1
    db.schema.alter_table("users").alter_column("email", lambda c: c.drop_not_null()).execute()
    assert columns(db, "users")["email"]["notnull"] == 0
    db.insert_into("users").values({"email": None, "name": "Nil"}).execute()
    assert_clean(db)


def test_set_not_null_on_a_column_with_nulls_fails_and_changes_nothing(db: Database) -> None:
    make_users(db)
    before_sql, before_rows = table_sql(db, "users"), rows(db, "users")
    with pytest.raises(StatementError) as info:
        db.schema.alter_table("users").alter_column("name", lambda c: c.set_not_null()).execute()
    assert str(info.value).startswith(
        "set_not_null() failed: column 'name' of table 'users' has NULL values; update those rows first"
    )
    assert table_sql(db, "users") == before_sql
    assert rows(db, "users") == before_rows
    assert_clean(db)
    # after filling the NULLs it works
    db.update_table("users").set({"name": "?"}).where("name", "is", None).execute()
    db.schema.alter_table("users").alter_column("name", lambda c: c.set_not_null()).execute()
    assert columns(db, "users")["name"]["notnull"] == 1


def test_set_not_null_failure_inside_a_transaction_rolls_back_with_it(db: Database) -> None:
    make_users(db)
    before_sql = table_sql(db, "users")
    with pytest.raises(KyseraError), db.transaction():
        db.schema.alter_table("users").add_column("nick", "text").execute()
        db.schema.alter_table("users").alter_column("name", lambda c: c.set_not_null()).execute()
    assert table_sql(db, "users") == before_sql
    assert_clean(db)


# --------------------------------------------------------------------------- constraints


def test_add_and_drop_constraints(db: Database) -> None:
    make_users(db)
    db.execute("CREATE TABLE teams (id integer PRIMARY KEY, name text)")
    db.execute("INSERT INTO teams (name) VALUES ('red')")
    (
        db.schema.alter_table("users")
        .add_column("team_id", "integer")
        .add_unique_constraint("users_name_age", ["name", "age"])
        .add_check_constraint("age_range", sql("age BETWEEN 0 AND 150"))
        .add_foreign_key_constraint("users_team", "team_id", "teams", "id")
        .on_delete("set null")
        .execute()
    )
    fks = db.fetch("PRAGMA foreign_key_list('users')")
    assert [(r["table"], r["from"], r["to"], r["on_delete"]) for r in fks] == [("teams", "team_id", "id", "SET NULL")]
    assert any(r["origin"] == "u" and r["unique"] == 1 for r in db.fetch("PRAGMA index_list('users')") if r["name"] != "sqlite_autoindex_users_1")
    with pytest.raises(StatementError, match="CHECK constraint failed: age_range"):
        db.insert_into("users").values({"email": "z@x.io", "age": 200}).execute()
    with pytest.raises(StatementError, match="FOREIGN KEY constraint failed"):
        db.insert_into("users").values({"email": "z@x.io", "team_id": 99}).execute()
    db.schema.alter_table("users").drop_constraint("age_range").drop_constraint("users_team").execute()
    db.insert_into("users").values({"email": "z@x.io", "age": 200, "team_id": 99}).execute()
    assert db.fetch("PRAGMA foreign_key_list('users')") == []
    assert "users_name_age" in table_sql(db, "users")
    assert_clean(db)


def test_add_constraint_that_rows_break_fails_and_changes_nothing(db: Database) -> None:
    make_users(db)
    before = table_sql(db, "users")
    with pytest.raises(StatementError, match="CHECK constraint failed: adults"):
        db.schema.alter_table("users").add_check_constraint("adults", "age >= 30").execute()
    assert table_sql(db, "users") == before
    assert_clean(db)


def test_add_primary_key_constraint(db: Database) -> None:
    db.execute("CREATE TABLE t (a integer NOT NULL, b text NOT NULL)")
    db.execute("INSERT INTO t VALUES (1, 'x'), (2, 'y')")
    db.schema.alter_table("t").add_primary_key_constraint("t_pk", ["a", "b"]).execute()
    assert [r["pk"] for r in columns(db, "t").values()] == [1, 2]
    with pytest.raises(BuilderError, match=r"table 't' already has a primary key"):
        db.schema.alter_table("t").add_primary_key_constraint("t_pk2", "a").compile()
    with pytest.raises(BuilderError, match=r"constraint 't_pk' already exists on table 't'"):
        db.schema.alter_table("t").add_unique_constraint("t_pk", "a").compile()


def test_drop_column_level_named_constraint(db: Database) -> None:
    db.execute("CREATE TABLE t (a integer CONSTRAINT a_pos CHECK (a > 0) CONSTRAINT a_nn NOT NULL, b text)")
    db.schema.alter_table("t").drop_constraint("a_pos").execute()
    db.execute("INSERT INTO t VALUES (-1, 'x')")
    assert columns(db, "t")["a"]["notnull"] == 1
    db.schema.alter_table("t").drop_constraint("A_NN").execute()
    assert columns(db, "t")["a"]["notnull"] == 0


def test_drop_missing_constraint(db: Database) -> None:
    make_users(db)
    with pytest.raises(BuilderError, match=r"constraint 'nope' does not exist on table 'users'"):
        db.schema.alter_table("users").drop_constraint("nope").compile()
    assert list(db.schema.alter_table("users").drop_constraint("nope", if_exists=True).compile()) == []


def test_validate_constraint_and_not_valid_are_unsupported(db: Database) -> None:
    make_users(db)
    with pytest.raises(UnsupportedError, match=r"validate_constraint\(name\) is not supported on SQLite"):
        db.schema.alter_table("users").validate_constraint("c").compile()
    node = AlterTableNode(
        IdentifierNode("users"), (AddConstraintNode(CheckConstraintNode("c", RawNode(("age > 0",))), not_valid=True),)
    )
    with pytest.raises(UnsupportedError, match="not_valid"):
        db.compile(node)


# --------------------------------------------------------------------------- what must survive


def test_rows_indexes_triggers_and_views_survive_a_rebuild(db: Database) -> None:
    make_users(db)
    db.execute("DELETE FROM users WHERE id = 2")
    db.execute("INSERT INTO users (id, email, name) VALUES (10, 'j@x.io', 'Jo')")
    db.execute("CREATE UNIQUE INDEX ux_name ON users (name COLLATE NOCASE) WHERE name IS NOT NULL")
    db.execute("CREATE INDEX ix_expr ON users (lower(email), age DESC)")
    db.execute("CREATE TABLE audit (what text)")
    db.execute(
        "CREATE TRIGGER users_upd AFTER UPDATE OF name ON users BEGIN "
        "INSERT INTO audit VALUES ('renamed ' || OLD.name || ' to ' || NEW.name); END"
    )
    db.execute("CREATE VIEW adults AS SELECT email FROM users WHERE age >= 30")
    indexes_before = {r["name"]: r["sql"] for r in db.fetch("SELECT name, sql FROM sqlite_master WHERE type = 'index'")}
    before = db.fetch("SELECT rowid AS r, * FROM users ORDER BY rowid")

    db.schema.alter_table("users").alter_column("age", lambda c: c.set_data_type("smallint")).execute()

    assert db.fetch("SELECT rowid AS r, * FROM users ORDER BY rowid") == before
    indexes_after = {r["name"]: r["sql"] for r in db.fetch("SELECT name, sql FROM sqlite_master WHERE type = 'index'")}
    assert indexes_after == indexes_before
    assert master_names(db, "trigger") == ["users_upd"]
    db.execute("UPDATE users SET name = 'Annie' WHERE id = 1")
    assert db.fetch("SELECT what FROM audit") == [{"what": "renamed Ann to Annie"}]
    assert [r["email"] for r in db.fetch("SELECT * FROM adults")] == ["a@x.io"]
    with pytest.raises(StatementError, match="UNIQUE constraint failed"):
        db.execute("INSERT INTO users (email, name) VALUES ('k@x.io', 'ANNIE')")
    assert_clean(db)


def test_autoincrement_high_water_mark_survives(db: Database) -> None:
    make_users(db)
    db.execute("DELETE FROM users WHERE id = 3")
    db.schema.alter_table("users").alter_column("name", lambda c: c.set_default("x")).execute()
    assert db.fetch("SELECT seq FROM sqlite_sequence WHERE name = 'users'") == [{"seq": 3}]
    db.insert_into("users").values({"email": "d@x.io"}).execute()
    assert [r["id"] for r in rows(db, "users")] == [1, 2, 4]


def test_autoincrement_on_an_empty_table_that_had_rows(db: Database) -> None:
    make_users(db)
    db.execute("DELETE FROM users")
    db.schema.alter_table("users").alter_column("name", lambda c: c.set_not_null()).execute()
    db.insert_into("users").values({"email": "d@x.io", "name": "D"}).execute()
    assert [r["id"] for r in rows(db, "users")] == [4]
    assert db.fetch("SELECT count(*) AS n FROM sqlite_sequence WHERE name = 'users'") == [{"n": 1}]


def make_parent_child(db: Database) -> None:
    db.execute("CREATE TABLE parent (id integer PRIMARY KEY, name text)")
    db.execute("CREATE TABLE child (id integer PRIMARY KEY, parent_id integer REFERENCES parent (id) ON DELETE CASCADE)")
    db.execute("INSERT INTO parent (id, name) VALUES (1, 'one'), (2, 'two')")
    db.execute("INSERT INTO child (parent_id) VALUES (1), (2), (2)")


@pytest.mark.parametrize("in_transaction", [False, True], ids=["autocommit", "in-transaction"])
def test_rebuilding_a_referenced_parent_keeps_children(db: Database, in_transaction: bool) -> None:
    make_parent_child(db)
    assert db.fetch("PRAGMA foreign_keys")[0]["foreign_keys"] == 1
    alter = db.schema.alter_table("parent").alter_column("name", lambda c: c.set_not_null().set_data_type("varchar(50)"))
    if in_transaction:
        with db.transaction():
            alter.execute()
            db.insert_into("parent").values({"id": 3, "name": "three"}).execute()
    else:
        alter.execute()
    assert [r["parent_id"] for r in rows(db, "child")] == [1, 2, 2]
    assert [(r["table"], r["to"]) for r in db.fetch("PRAGMA foreign_key_list('child')")] == [("parent", "id")]
    assert columns(db, "parent")["name"]["notnull"] == 1
    assert_clean(db)
    # foreign keys still work, cascades included
    db.execute("DELETE FROM parent WHERE id = 2")
    assert [r["parent_id"] for r in rows(db, "child")] == [1]
    with pytest.raises(StatementError, match="FOREIGN KEY constraint failed"):
        db.insert_into("child").values({"parent_id": 42}).execute()


def test_rebuilding_a_child_keeps_its_foreign_key(db: Database) -> None:
    make_parent_child(db)
    db.schema.alter_table("child").add_column("note", "text", lambda c: c.unique()).execute()
    assert [(r["table"], r["from"], r["on_delete"]) for r in db.fetch("PRAGMA foreign_key_list('child')")] == [
        ("parent", "parent_id", "CASCADE")
    ]
    assert_clean(db)


def test_a_rebuild_that_breaks_a_foreign_key_is_rolled_back(db: Database) -> None:
    make_parent_child(db)
    db.execute("DELETE FROM child")
    db.execute("INSERT INTO child (parent_id) VALUES (1)")
    db.execute("PRAGMA foreign_keys = OFF")
    db.execute("INSERT INTO child (parent_id) VALUES (99)")
    db.execute("PRAGMA foreign_keys = ON")
    with pytest.raises(KyseraError, match="break a foreign key"):
        db.schema.alter_table("child").alter_column("parent_id", lambda c: c.set_not_null()).execute()
    assert columns(db, "child")["parent_id"]["notnull"] == 0


def test_strict_and_without_rowid_tables_keep_their_options(db: Database) -> None:
    db.execute("CREATE TABLE s (k text PRIMARY KEY, v integer) STRICT, WITHOUT ROWID")
    db.execute("INSERT INTO s VALUES ('a', 1), ('b', 2)")
    db.schema.alter_table("s").alter_column("v", lambda c: c.set_not_null()).add_column("w", "text", lambda c: c.default_to("x")).execute()
    assert table_sql(db, "s").endswith("STRICT, WITHOUT ROWID")
    assert rows(db, "s", order="k") == [{"k": "a", "v": 1, "w": "x"}, {"k": "b", "v": 2, "w": "x"}]
    with pytest.raises(StatementError, match="cannot store TEXT value in INTEGER column"):
        db.execute("INSERT INTO s VALUES ('c', 'nope', 'x')")


def test_generated_columns_survive(db: Database) -> None:
    db.execute("CREATE TABLE g (a integer, b integer GENERATED ALWAYS AS (a * 2) STORED, c integer AS (a + 1))")
    db.execute("INSERT INTO g (a) VALUES (1), (5)")
    db.schema.alter_table("g").alter_column("a", lambda c: c.set_not_null()).execute()
    assert rows(db, "g") == [{"a": 1, "b": 2, "c": 2}, {"a": 5, "b": 10, "c": 6}]
    cols = columns(db, "g")
    assert (cols["b"]["hidden"], cols["c"]["hidden"]) == (3, 2)


def test_comments_and_odd_spellings_in_the_definition(db: Database) -> None:
    db.execute(
        """CREATE TABLE [odd] ( -- a comment
            `id` INTEGER PRIMARY KEY ASC ON CONFLICT REPLACE AUTOINCREMENT,
            "v" numeric(10, 2) /* inline, with (parens) */ DEFAULT -1.5 NOT NULL ON CONFLICT ABORT,
            'w' text COLLATE NOCASE DEFAULT 'it''s' CHECK (w <> 'no, never'),
            ref integer CONSTRAINT fk_self REFERENCES odd (id) ON DELETE SET NULL NOT DEFERRABLE,
            CONSTRAINT uq UNIQUE (v, w) ON CONFLICT IGNORE
        )"""
    )
    db.execute("INSERT INTO odd (v, w) VALUES (1, 'a'), (2, 'b')")
    db.schema.alter_table("odd").alter_column("w", lambda c: c.set_default("n/a")).add_column("x", "blob", lambda c: c.default_to(b"\x00\xff")).execute()
    text = table_sql(db, "odd")
    assert "/* inline, with (parens) */" in text
    assert "DEFAULT 'n/a'" in text and "COLLATE NOCASE" in text and "CHECK (w <> 'no, never')" in text
    assert "DEFAULT X'00ff'" in text
    cols = columns(db, "odd")
    assert cols["v"]["dflt_value"] == "-1.5"
    assert cols["w"]["dflt_value"] == "'n/a'"
    assert [(r["w"], r["x"]) for r in rows(db, "odd")] == [("a", b"\x00\xff"), ("b", b"\x00\xff")]
    assert [r["table"] for r in db.fetch("PRAGMA foreign_key_list('odd')")] == ["odd"]
    assert_clean(db)


# --------------------------------------------------------------------------- names and schemas


def test_weird_identifiers(db: Database) -> None:
    table = 'we"ird`name'
    (
        db.schema.create_table(table)
        .add_column("id", "integer", lambda c: c.primary_key())
        .add_column("first name", "text")
        .add_column("ünïcödé", "text", lambda c: c.unique())
        .add_column("[br]", "integer")
        .execute()
    )
    db.insert_into(table).values([{"first name": "A", "ünïcödé": "ü", "[br]": 1}, {"first name": None, "ünïcödé": "ß", "[br]": 2}]).execute()
    db.schema.create_index("ix weird").on(table).columns(["first name", "[br]"]).execute()
    (
        db.schema.alter_table(table)
        .alter_column("first name", lambda c: c.set_default("anon"))
        .rename_column("ünïcödé", "ÜNÏ 2")
        .drop_column("[br]")
        .add_column('quote"d', "text", lambda c: c.default_to("q'q"))
        .execute()
    )
    cols = columns(db, table)
    assert list(cols) == ["id", "first name", "ÜNÏ 2", 'quote"d']
    assert cols["first name"]["dflt_value"] == "'anon'"
    assert rows(db, table) == [
        {"id": 1, "first name": "A", "ÜNÏ 2": "ü", 'quote"d': "q'q"},
        {"id": 2, "first name": None, "ÜNÏ 2": "ß", 'quote"d': "q'q"},
    ]
    assert "ix weird" not in master_names(db, "index")  # it used the dropped column
    db.schema.alter_table(table).rename_to("plain").execute()
    assert "plain" in master_names(db, "table")
    assert_clean(db)


def test_table_name_case_is_kept(db: Database) -> None:
    db.execute('CREATE TABLE "MixedCase" (a integer, b text)')
    db.schema.alter_table("mixedcase").alter_column("A", lambda c: c.set_not_null()).execute()
    assert master_names(db, "table") == ["MixedCase"]
    assert columns(db, "MixedCase")["a"]["notnull"] == 1


def test_attached_schema(db: Database, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    db.execute(f"ATTACH DATABASE '{os.fspath(other)}' AS aux")
    db.execute("CREATE TABLE aux.t (id integer PRIMARY KEY AUTOINCREMENT, a text, b text)")
    db.execute("CREATE INDEX aux.ix_t_b ON t (b)")
    db.execute("CREATE TRIGGER aux.t_del AFTER DELETE ON t BEGIN SELECT 1; END")
    db.execute("INSERT INTO aux.t (a, b) VALUES ('x', 'y'), ('z', 'w')")
    db.execute("DELETE FROM aux.t WHERE id = 2")
    db.schema.alter_table("aux.t").alter_column("a", lambda c: c.set_not_null()).execute()
    assert [r["notnull"] for r in db.fetch("PRAGMA aux.table_xinfo('t')")] == [0, 1, 0]
    names = {(r["type"], r["name"]) for r in db.fetch("SELECT type, name FROM aux.sqlite_master")}
    assert {("index", "ix_t_b"), ("trigger", "t_del"), ("table", "t")} <= names
    db.execute("INSERT INTO aux.t (a) VALUES ('n')")
    assert [r["id"] for r in db.fetch("SELECT id FROM aux.t ORDER BY id")] == [1, 3]
    assert master_names(db, "table") == []  # nothing leaked into main


def test_the_guide_step_three(db: Database) -> None:
    db.schema.create_table("users").add_column("id", "serial", lambda c: c.primary_key()).add_column(
        "email", "varchar(255)", lambda c: c.unique()
    ).execute()
    db.insert_into("users").values([{"email": "A@X.IO"}, {"email": "b@x.io"}]).execute()
    # step 1 and 2: the new column, backfilled
    db.schema.alter_table("users").add_column("email_new", "varchar(320)").execute()
    db.update_table("users").set({"email_new": sql("lower(email)")}).execute()
    db.schema.create_index("users_email_new_key").on("users").column("email_new").unique().execute()
    # step 3
    db.schema.alter_table("users").alter_column("email_new", lambda c: c.set_not_null()).drop_column("email").execute()
    db.execute("ALTER TABLE users RENAME COLUMN email_new TO email")
    cols = columns(db, "users")
    assert list(cols) == ["id", "email"]
    assert cols["email"]["notnull"] == 1
    assert [r["email"] for r in rows(db, "users")] == ["a@x.io", "b@x.io"]
    assert "users_email_new_key" in master_names(db, "index")
    assert_clean(db)


# --------------------------------------------------------------------------- the parser


def test_parser_splits_columns_constraints_and_options() -> None:
    text = (
        'CREATE TABLE "t" ("a" integer PRIMARY KEY AUTOINCREMENT, b varchar(10, 2) NOT NULL DEFAULT (1 + 2) '
        "COLLATE nocase, c REFERENCES t (a) ON UPDATE NO ACTION DEFERRABLE INITIALLY DEFERRED NOT NULL, "
        "d AS (a * 2) STORED, CONSTRAINT pk_x CHECK (b > 0), FOREIGN KEY (c) REFERENCES t (a)) STRICT"
    )
    parsed = parse_create_table(text)
    assert [c.name for c in parsed.columns] == ["a", "b", "c", "d"]
    assert [[cl.kind for cl in c.clauses] for c in parsed.columns] == [
        ["primary"],
        ["notnull", "default", "collate"],
        ["references", "notnull"],
        ["generated"],
    ]
    assert parsed.columns[1].type_text == "varchar(10, 2)"
    assert [(tc.kind, tc.name) for tc in parsed.constraints] == [("check", "pk_x"), ("foreign", None)]
    assert parsed.options_text == "STRICT"
    assert parsed.columns[3].stored


def test_tokenizer_keeps_text_exactly() -> None:
    text = "CREATE TABLE x(a /*c*/ 'it''s' [we ird] `b``q` \"d\"\"q\" x'0A' 1.5e-3 -- tail\n, b)"
    tokens = tokenize(text)
    assert render(tokens) == text[text.index("CREATE") :].rstrip()
    assert [t.value for t in tokens if t.kind == "quoted"] == ["we ird", "b`q", 'd"q']
    assert [t.value for t in tokens if t.kind == "string"] == ["it's"]
    assert fold("ÀBC") == "Àbc"


def test_qualify_object_name() -> None:
    def quote(n: str) -> str:
        return '"' + n + '"'

    assert qualify_object_name("CREATE INDEX IF NOT EXISTS i ON t (a)", "INDEX", "aux", quote) == (
        'CREATE INDEX IF NOT EXISTS "aux".i ON t (a)'
    )
    assert qualify_object_name('CREATE TRIGGER "x" AFTER INSERT ON t BEGIN SELECT 1; END', "TRIGGER", "s", quote) == (
        'CREATE TRIGGER "s"."x" AFTER INSERT ON t BEGIN SELECT 1; END'
    )


# --------------------------------------------------------------------------- properties

_names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=12
).filter(lambda s: not fold(s).startswith(("_kysera", "sqlite_")) and fold(s) not in ("rowid", "oid", "_rowid_"))
_values = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20),
    st.binary(max_size=8),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    names=st.lists(_names, min_size=2, max_size=5, unique_by=fold),
    data=st.data(),
)
def test_random_names_and_values_survive_a_rebuild(tmp_path: Path, names: list[str], data: st.DataObject) -> None:
    path = tmp_path / f"prop_{abs(hash(tuple(names)))}.db"
    if path.exists():
        path.unlink()
    with connect(f"sqlite:///{path}") as db:
        table = data.draw(_names.filter(lambda n: "." not in n), label="table")  # a dot means schema.table
        builder = db.schema.create_table(table)
        for name in names:
            builder = builder.add_column(name, "blob")  # BLOB affinity keeps every value as given
        builder.execute()
        values = data.draw(st.lists(st.tuples(*[_values for _ in names]), max_size=5), label="rows")
        if values:
            db.insert_into(table).values([dict(zip(names, row, strict=True)) for row in values]).execute()
        before = rows(db, table)
        target = data.draw(st.sampled_from(names), label="altered")
        renamed = data.draw(_names.filter(lambda n: fold(n) not in {fold(x) for x in names}), label="new name")
        (
            db.schema.alter_table(table)
            .alter_column(target, lambda c: c.set_default(sql.lit("d")))
            .rename_column(target, renamed)
            .add_column(target, "text", lambda c: c.unique())
            .execute()
        )
        after = rows(db, table)
        final = [renamed if n == target else n for n in names]
        assert list(columns(db, table)) == [*final, target]
        assert [[r[n] for n in final] for r in after] == [[r[n] for n in names] for r in before]
        assert all(r[target] is None for r in after)
        assert_clean(db)


@settings(max_examples=60, deadline=None)
@given(names=st.lists(_names, min_size=1, max_size=4, unique_by=fold))
def test_parser_reads_back_quoted_names(names: list[str]) -> None:
    compiler = SqliteDialect((3, 45, 0)).compiler(None)
    text = "CREATE TABLE t (" + ", ".join(f"{compiler.quote(n)} text NOT NULL" for n in names) + ")"
    parsed = parse_create_table(text)
    assert [c.name for c in parsed.columns] == names
    assert all([cl.kind for cl in c.clauses] == ["notnull"] for c in parsed.columns)



# --------------------------------------------------------------------------- more corners


def test_temporary_tables_and_temp_triggers(db: Database) -> None:
    db.execute("CREATE TEMP TABLE scratch (id integer PRIMARY KEY AUTOINCREMENT, v text)")
    db.execute("CREATE INDEX temp.ix_scratch_v ON scratch (v)")
    db.execute("INSERT INTO scratch (v) VALUES ('a'), ('b')")
    db.schema.alter_table("scratch").alter_column("v", lambda c: c.set_default("z")).execute()
    assert db.fetch("SELECT dflt_value FROM pragma_table_xinfo('scratch', 'temp') WHERE name = 'v'") == [{"dflt_value": "'z'"}]
    assert {r["name"] for r in db.fetch("SELECT name FROM sqlite_temp_master")} >= {"scratch", "ix_scratch_v"}
    # a temporary trigger on a main table is recreated as a temporary trigger
    make_users(db)
    db.execute("CREATE TABLE log (msg text)")
    db.execute("CREATE TEMP TRIGGER users_log AFTER INSERT ON users BEGIN INSERT INTO log VALUES (NEW.email); END")
    db.schema.alter_table("users").alter_column("name", lambda c: c.set_default("x")).execute()
    assert db.fetch("SELECT name FROM sqlite_temp_master WHERE type = 'trigger'") == [{"name": "users_log"}]
    db.insert_into("users").values({"email": "t@x.io"}).execute()
    assert db.fetch("SELECT msg FROM log") == [{"msg": "t@x.io"}]


def test_dry_run_captures_the_rebuild_and_changes_nothing(db: Database) -> None:
    make_users(db)
    before = table_sql(db, "users")
    with db.capture() as record:
        db.schema.alter_table("users").alter_column("age", lambda c: c.set_not_null()).execute()
    assert str(record[0]).startswith('CREATE TABLE "_kysera_new_users"')
    assert table_sql(db, "users") == before


def test_leftover_rebuild_table_is_reported(db: Database) -> None:
    make_users(db)
    db.execute('CREATE TABLE "_kysera_new_users" (x)')
    with pytest.raises(BuilderError, match=r"table '_kysera_new_users' exists \(left by an interrupted rebuild\?\)"):
        db.schema.alter_table("users").alter_column("age", lambda c: c.set_not_null()).compile()


def test_case_only_rename_in_a_rebuild(db: Database) -> None:
    make_users(db)
    db.schema.alter_table("users").rename_column("name", "Name").alter_column("Name", lambda c: c.set_default("?")).execute()
    assert list(columns(db, "users")) == ["id", "email", "Name", "age"]
    assert columns(db, "users")["Name"]["dflt_value"] == "'?'"


def test_several_alterations_make_one_rebuild(db: Database) -> None:
    make_users(db)
    db.execute("CREATE INDEX ix_age ON users (age)")
    result = (
        db.schema.alter_table("users")
        .add_column("bio", "text", lambda c: c.default_to(sql("('none')")))
        .alter_column("age", lambda c: c.set_data_type("smallint").set_not_null())
        .alter_column("name", lambda c: c.set_default("x"))
        .drop_column("email")
        .add_check_constraint("age_ok", "age >= 0")
        .rename_column("bio", "about")
        .execute()
    )
    statements = [str(s) for s in result.statements]
    assert sum(1 for s in statements if s.startswith("CREATE TABLE")) == 1
    assert sum(1 for s in statements if s.startswith("INSERT INTO \"_kysera_new_users\"")) == 1
    cols = columns(db, "users")
    assert list(cols) == ["id", "name", "age", "about"]
    assert (cols["age"]["type"], cols["age"]["notnull"], cols["name"]["dflt_value"]) == ("smallint", 1, "'x'")
    assert [(r["id"], r["about"]) for r in rows(db, "users")] == [(1, "none"), (2, "none"), (3, "none")]
    assert "ix_age" in master_names(db, "index")
    assert_clean(db)


@pytest.mark.parametrize("expression", ["datetime('now')", "1 + 1", "random()", "lower('ABC')", "CURRENT_TIMESTAMP", "-1", "(2)"])
def test_create_table_takes_any_expression_default(sqlite_db: Database, expression: str) -> None:
    """SQLite takes an expression default only in parentheses; create_table adds them as alter_table does."""
    sqlite_db.schema.create_table("t").add_column("id", "integer", lambda c: c.primary_key()).add_column(
        "x", "text", lambda c: c.default_to(sql(expression))
    ).execute()
    sqlite_db.insert_into("t").values({"id": 1}).execute()
    assert sqlite_db.select_from("t").select(["x"]).fetch_all()[0]["x"] is not None


def test_an_index_on_a_misspelt_column_fails_instead_of_indexing_a_constant(sqlite_db: Database) -> None:
    """SQLite reads "nmae" that names no column as the string 'nmae': the index would be on a
    constant, and every later rebuild of the table would fail on it."""
    sqlite_db.schema.create_table("t").add_column("name", "text").execute()
    with pytest.raises(StatementError, match="no such column: nmae"):
        sqlite_db.schema.create_index("ix_typo").on("t").column("nmae").execute()
    sqlite_db.schema.create_index("ix_ok").on("t").column("name desc").execute()
    sqlite_db.schema.alter_table("t").rename_column("name", "full_name").execute()
    info = sqlite_db.introspect_table("t")
    assert info is not None and [i.columns for i in info.indexes] == [("full_name",)]
