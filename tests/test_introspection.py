"""Introspection against real databases: what the builders and raw SQL create reads back."""

from __future__ import annotations

import pytest

from kysera import Database, sql
from kysera.introspection import (
    CheckConstraintInfo,
    ForeignKeyInfo,
    SchemaInfo,
    TableInfo,
    UniqueConstraintInfo,
)

INT = {"sqlite": "integer", "postgres": "integer", "mysql": "int(11)"}
VARCHAR = {"sqlite": "varchar(255)", "postgres": "character varying(255)", "mysql": "varchar(255)"}


def _table(db: Database, name: str) -> TableInfo:
    info = db.introspect_table(name)
    assert info is not None, f"table {name} not found"
    return info


def _make_blog(db: Database) -> None:
    (
        db.schema.create_table("authors")
        .add_column("id", "serial", lambda c: c.primary_key())
        .add_column("email", "varchar(255)", lambda c: c.not_null().unique())
        .add_column("status", "varchar(20)", lambda c: c.not_null().default_to("active"))
        .add_column("score", "integer", lambda c: c.default_to(0).check(sql("score >= 0")))
        .add_column("bio", "text")
        .execute()
    )
    (
        db.schema.create_table("posts")
        .add_column("id", "serial", lambda c: c.primary_key())
        .add_column("author_id", "integer", lambda c: c.not_null().references("authors.id").on_delete("cascade"))
        .add_column("editor_id", "integer", lambda c: c.references("authors.id").on_delete("set null").on_update("cascade"))
        .add_column("slug", "varchar(255)", lambda c: c.not_null())
        .add_column("title", "varchar(255)")
        .add_unique_constraint("posts_author_slug_uq", ["author_id", "slug"])
        .add_check_constraint("posts_slug_not_empty", sql("slug <> ''"))
        .execute()
    )
    db.schema.create_index("posts_title_idx").on("posts").column("title").execute()


def test_builder_tables_round_trip(db: Database, engine: str) -> None:
    _make_blog(db)
    authors = _table(db, "authors")
    assert authors.column_names == ("id", "email", "status", "score", "bio")
    assert authors.primary_key == ("id",)

    id_col = authors.column("id")
    assert id_col is not None and id_col.auto_increment and not id_col.nullable
    email = authors.column("email")
    assert email is not None
    assert email.data_type == VARCHAR[engine]
    assert not email.nullable and email.default is None and not email.auto_increment
    status = authors.column("status")
    assert status is not None and status.default is not None and "active" in status.default
    score = authors.column("score")
    assert score is not None and score.nullable and score.data_type == INT[engine]
    assert score.default is not None and score.default.strip("'()") == "0"
    bio = authors.column("bio")
    assert bio is not None and bio.data_type == "text" and bio.nullable and bio.default is None

    assert [u.columns for u in authors.unique_constraints] == [("email",)]
    assert len(authors.check_constraints) == 1
    assert "score" in authors.check_constraints[0].expression
    assert ">=" in authors.check_constraints[0].expression

    posts = _table(db, "posts")
    fks = {fk.columns: fk for fk in posts.foreign_keys}
    assert set(fks) == {("author_id",), ("editor_id",)}
    assert fks[("author_id",)].ref_table == "authors"
    assert fks[("author_id",)].ref_columns == ("id",)
    assert fks[("author_id",)].on_delete == "cascade"
    assert fks[("editor_id",)].on_delete == "set null"
    assert fks[("editor_id",)].on_update == "cascade"
    if engine != "sqlite":  # SQLite does not keep the names of inline foreign keys
        assert fks[("author_id",)].name == "posts_author_id_fkey"

    assert UniqueConstraintInfo("posts_author_slug_uq", ("author_id", "slug")) in posts.unique_constraints
    checks = {c.name: c for c in posts.check_constraints}
    assert "posts_slug_not_empty" in checks
    assert "slug" in checks["posts_slug_not_empty"].expression

    title_idx = posts.index("posts_title_idx")
    assert title_idx is not None
    assert title_idx.columns == ("title",)
    assert not title_idx.unique and not title_idx.primary and title_idx.predicate is None and title_idx.valid
    primary = [i for i in posts.indexes if i.primary]
    if engine == "sqlite":
        assert primary == []  # INTEGER PRIMARY KEY is the rowid, not an index
    else:
        assert len(primary) == 1 and primary[0].columns == ("id",) and primary[0].unique

    schema = db.introspect()
    assert set(schema.tables) == {"authors", "posts"}
    assert schema.tables["posts"] == posts
    assert db.introspect_table("missing") is None


def test_partial_and_expression_indexes(db: Database, engine: str) -> None:
    if engine == "mysql":
        pytest.skip("MySQL/MariaDB have no partial indexes")
    (
        db.schema.create_table("accounts")
        .add_column("id", "integer", lambda c: c.primary_key())
        .add_column("email", "varchar(255)")
        .add_column("status", "varchar(20)")
        .execute()
    )
    db.schema.create_index("accounts_active_email").on("accounts").column("email").unique().where(
        sql("status = 'active'")
    ).execute()
    db.schema.create_index("accounts_lower_email").on("accounts").column(sql("lower(email)")).execute()
    info = _table(db, "accounts")

    partial = info.index("accounts_active_email")
    assert partial is not None and partial.unique and partial.columns == ("email",)
    assert partial.predicate is not None
    assert "status" in partial.predicate and "'active'" in partial.predicate
    assert partial.definition is not None and "WHERE" in partial.definition

    expr = info.index("accounts_lower_email")
    assert expr is not None and len(expr.columns) == 1
    assert expr.columns[0].lower().startswith(("lower(", "(lower(")) and "email" in expr.columns[0]
    assert expr.predicate is None
    if engine == "postgres":
        assert partial.method == "btree" and expr.method == "btree"


def test_mysql_expression_and_method(db: Database, engine: str) -> None:
    if engine != "mysql":
        pytest.skip("MySQL/MariaDB only")
    db.execute(
        "CREATE TABLE docs (id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, "
        "body text, tag varchar(20) COMMENT 'the tag', "
        "tag_len int GENERATED ALWAYS AS (char_length(tag)) VIRTUAL, "
        "FULLTEXT KEY docs_body_ft (body), KEY docs_tag_len (tag_len, tag)) ENGINE=InnoDB"
    )
    info = _table(db, "docs")
    id_col = info.column("id")
    assert id_col is not None and id_col.auto_increment and id_col.data_type.startswith("bigint")
    assert "unsigned" in id_col.data_type
    tag = info.column("tag")
    assert tag is not None and tag.comment == "the tag" and tag.default is None
    tag_len = info.column("tag_len")
    assert tag_len is not None and tag_len.generated is not None and "char_length" in tag_len.generated
    ft = info.index("docs_body_ft")
    assert ft is not None and ft.method == "fulltext" and ft.columns == ("body",)
    composite = info.index("docs_tag_len")
    assert composite is not None and composite.columns == ("tag_len", "tag") and composite.method == "btree"
    assert info.primary_key == ("id",)


def test_postgres_catalog_details(db: Database, engine: str) -> None:
    if engine != "postgres":
        pytest.skip("PostgreSQL only")
    db.execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')")
    db.execute("CREATE SEQUENCE invoice_numbers START 1000")
    db.execute(
        "CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
        "seq int DEFAULT nextval('invoice_numbers'), "
        "feeling mood NOT NULL DEFAULT 'ok', payload jsonb, tags text[], "
        "price numeric(10,2), doubled numeric GENERATED ALWAYS AS (price * 2) STORED, "
        "created_at timestamptz NOT NULL DEFAULT now())"
    )
    db.execute("COMMENT ON COLUMN events.payload IS 'raw body'")
    db.execute("CREATE INDEX events_payload_gin ON events USING gin (payload)")
    db.execute("CREATE VIEW happy_events AS SELECT id FROM events WHERE feeling = 'happy'")
    db.execute("CREATE MATERIALIZED VIEW event_counts AS SELECT feeling, count(*) AS n FROM events GROUP BY feeling")
    schema = db.introspect()
    assert schema.enums == {"mood": ("sad", "ok", "happy")}
    assert "invoice_numbers" in schema.sequences and "events_id_seq" in schema.sequences
    events = schema.tables["events"]
    cols = {c.name: c for c in events.columns}
    assert cols["id"].auto_increment and cols["id"].data_type == "bigint" and cols["id"].default is None
    assert not cols["seq"].auto_increment  # a sequence it does not own: not a serial
    assert cols["seq"].default is not None and "invoice_numbers" in cols["seq"].default
    assert cols["feeling"].data_type == "mood" and cols["feeling"].default == "'ok'::mood"
    assert cols["payload"].comment == "raw body"
    assert cols["tags"].data_type == "text[]"
    assert cols["price"].data_type == "numeric(10,2)"
    assert cols["doubled"].generated is not None and "price" in cols["doubled"].generated
    assert cols["doubled"].default is None
    assert cols["created_at"].data_type == "timestamp with time zone"
    gin = events.index("events_payload_gin")
    assert gin is not None and gin.method == "gin" and gin.columns == ("payload",)
    assert schema.views["happy_events"].materialized is False
    assert "feeling" in schema.views["happy_events"].definition
    assert schema.views["event_counts"].materialized is True


def test_postgres_other_schema(db: Database, engine: str) -> None:
    if engine != "postgres":
        pytest.skip("PostgreSQL only")
    db.execute("DROP SCHEMA IF EXISTS app CASCADE")
    db.execute("CREATE SCHEMA app")
    try:
        _other_schema_checks(db)
    finally:
        db.execute("DROP SCHEMA app CASCADE")  # the fixture only empties public


def _other_schema_checks(db: Database) -> None:
    db.execute("CREATE TABLE app.things (id serial PRIMARY KEY, owner_id int)")
    db.execute("CREATE TABLE public.owners (id serial PRIMARY KEY)")
    db.execute("ALTER TABLE app.things ADD FOREIGN KEY (owner_id) REFERENCES public.owners (id)")
    app = db.introspect(schema="app")
    assert set(app.tables) == {"things"}
    assert app.tables["things"].schema == "app"
    assert app.tables["things"].foreign_keys[0].ref_table == "public.owners"
    assert db.introspect_table("app.things") == app.tables["things"]
    assert db.with_schema("app").introspect_table("things") == app.tables["things"]
    assert db.introspect_table("things") is None
    assert set(db.introspect().tables) == {"owners"}


def test_sqlite_catalog_details(db: Database, engine: str) -> None:
    if engine != "sqlite":
        pytest.skip("SQLite only")
    db.execute("CREATE TABLE plain (id INTEGER PRIMARY KEY, name TEXT)")
    db.execute(
        'CREATE TABLE "odd ""name""" (a TEXT NOT NULL, b INT, '
        "total INT GENERATED ALWAYS AS (b * 2) STORED, "
        "CONSTRAINT odd_pk PRIMARY KEY (a, b), CONSTRAINT odd_b_positive CHECK (b > 0), "
        "CONSTRAINT odd_plain_fk FOREIGN KEY (b) REFERENCES plain ON DELETE RESTRICT) WITHOUT ROWID"
    )
    plain = _table(db, "plain")
    pid = plain.column("id")
    assert pid is not None and not pid.auto_increment and not pid.nullable  # rowid alias, no AUTOINCREMENT
    odd = _table(db, 'odd "name"')
    assert odd.primary_key == ("a", "b")
    cols = {c.name: c for c in odd.columns}
    assert not cols["b"].nullable  # WITHOUT ROWID primary keys are NOT NULL
    assert cols["total"].generated == "b * 2"
    assert odd.check_constraints == (CheckConstraintInfo("odd_b_positive", "b > 0"),)
    assert odd.foreign_keys == (ForeignKeyInfo("odd_plain_fk", ("b",), "plain", ("id",), "restrict", "no action"),)
    pk_index = [i for i in odd.indexes if i.primary]
    assert len(pk_index) == 1 and pk_index[0].columns == ("a", "b")
    # SQLite's own tables never show
    db.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY AUTOINCREMENT)")
    db.execute("ANALYZE")
    assert not any(name.startswith("sqlite_") for name in db.introspect().tables)


def test_estimated_rows(db: Database, engine: str) -> None:
    db.schema.create_table("counted").add_column("id", "integer", lambda c: c.primary_key()).add_column(
        "v", "varchar(20)"
    ).execute()
    db.schema.create_index("counted_v").on("counted").column("v").execute()
    db.insert_into("counted").values([{"id": i, "v": f"v{i % 7}"} for i in range(1, 301)]).execute()
    db.execute({"sqlite": "ANALYZE", "postgres": "ANALYZE counted", "mysql": "ANALYZE TABLE counted"}[engine])
    est = _table(db, "counted").estimated_rows
    assert est is not None
    assert 200 <= est <= 400


def test_exclude(db: Database) -> None:
    db.schema.create_table("kysera_migrations").add_column("name", "varchar(255)", lambda c: c.primary_key()).execute()
    db.schema.create_table("users").add_column("id", "integer", lambda c: c.primary_key()).execute()
    assert set(db.introspect().tables) == {"kysera_migrations", "users"}
    assert set(db.introspect(exclude=("kysera_migrations",)).tables) == {"users"}


def test_diff_reports_changes(db: Database, engine: str) -> None:
    _make_blog(db)
    before = db.introspect()
    assert before.diff(db.introspect()) == []

    db.schema.create_table("tags").add_column("id", "integer", lambda c: c.primary_key()).execute()
    db.schema.alter_table("authors").add_column("nickname", "varchar(50)").execute()
    db.schema.drop_index("posts_title_idx").on("posts").execute()
    db.schema.create_index("posts_slug_idx").on("posts").column("slug").execute()
    after = db.introspect()
    changes = before.diff(after)
    assert "table tags added" in changes
    assert "column authors.nickname added" in changes
    assert "index posts_title_idx on posts (title) removed" in changes
    assert "index posts_slug_idx on posts (slug) added" in changes
    assert "table tags removed" in after.diff(before)


def test_diff_sees_an_index_turn_descending(db: Database, engine: str) -> None:
    """MySQL/MariaDB keep no index text: the sort order comes from the catalog's COLLATION."""
    db.schema.create_table("t").add_column("a", "integer").add_column("b", "integer").execute()
    db.schema.create_index("ib").on("t").column("b").execute()
    before = db.introspect()
    db.schema.drop_index("ib").on("t").execute()
    db.schema.create_index("ib").on("t").column("b desc").execute()
    changes = before.diff(db.introspect())
    assert len(changes) == 1 and changes[0].startswith("index ib on t changed"), changes


def test_diff_column_changes() -> None:
    from kysera.introspection import ColumnInfo, IndexInfo

    a = SchemaInfo(
        tables={
            "t": TableInfo(
                "t",
                None,
                (ColumnInfo("id", "integer", False), ColumnInfo("name", "varchar(10)", True, "'x'")),
                ("id",),
                (IndexInfo("t_name", ("name",)),),
                (ForeignKeyInfo("t_fk", ("id",), "u", ("id",), "cascade"),),
                (),
                (CheckConstraintInfo("t_ck", "id > 0"),),
            )
        },
        enums={"mood": ("a", "b")},
    )
    b = SchemaInfo(
        tables={
            "t": TableInfo(
                "t",
                None,
                (ColumnInfo("id", "integer", False), ColumnInfo("name", "varchar(20)", False, None)),
                ("id",),
                (IndexInfo("t_name", ("name",), unique=True),),
                (ForeignKeyInfo("t_fk", ("id",), "u", ("id",), "restrict"),),
                (UniqueConstraintInfo("t_uq", ("name",)),),
                (CheckConstraintInfo("t_ck", "id > 1"),),
            )
        },
        enums={"mood": ("a", "b", "c")},
        sequences=("s",),
    )
    assert a.diff(b) == [
        "column t.name type changed: varchar(10) -> varchar(20)",
        "column t.name became NOT NULL",
        "column t.name default changed: 'x' -> none",
        "index t_name on t changed: became unique",
        "foreign key t(id) -> u(id) on delete changed: cascade -> restrict",
        "unique constraint t_uq on t(name) added",
        "check constraint t_ck on t changed: id > 0 -> id > 1",
        "enum type mood labels changed: ('a', 'b') -> ('a', 'b', 'c')",
        "sequence s added",
    ]


def test_triggers_and_routines_are_read_and_compared(db: Database, engine: str) -> None:
    """A down that forgets a trigger or a function shows in the diff (the stairway's check)."""
    db.schema.create_table("t").add_column("id", "integer", lambda c: c.primary_key()).execute()
    db.schema.create_table("audit").add_column("id", "integer").execute()
    before = db.introspect()
    if engine == "postgres":
        db.execute(
            "CREATE FUNCTION log_t() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN INSERT INTO audit VALUES (NEW.id); RETURN NEW; END $$"
        )
        db.execute("CREATE TRIGGER t_log AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION log_t()")
        db.execute("CREATE FUNCTION twice(x integer) RETURNS integer LANGUAGE sql AS 'SELECT x * 2'")
        expected_routines = {"log_t()": "function", "twice(x integer)": "function"}
    elif engine == "mysql":
        db.execute("CREATE TRIGGER t_log AFTER INSERT ON t FOR EACH ROW INSERT INTO audit VALUES (NEW.id)")
        db.execute("CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2")
        db.execute("CREATE PROCEDURE copy_one(IN a INT, OUT b INT) BEGIN SET b = a; END")
        expected_routines = {"twice": "function", "copy_one": "procedure"}
    else:
        db.execute("CREATE TRIGGER t_log AFTER INSERT ON t BEGIN INSERT INTO audit VALUES (NEW.id); END")
        expected_routines = {}
    after = db.introspect()
    assert [(t.name, t.table) for t in after.triggers.values()] == [("t_log", "t")]
    shown = next(iter(after.triggers.values())).definition.lower()
    assert ("log_t()" if engine == "postgres" else "audit") in shown
    assert {name: r.kind for name, r in after.routines.items()} == expected_routines
    changes = before.diff(after)
    assert "trigger t_log on t added" in changes
    for name, kind in expected_routines.items():
        assert f"{kind} {name} added" in changes
    assert after.diff(db.introspect()) == []  # read twice, the same

    db.execute("DROP TRIGGER t_log ON t" if engine == "postgres" else "DROP TRIGGER t_log")
    assert "trigger t_log on t removed" in after.diff(db.introspect())
    assert "trigger t_log on t" not in " ".join(before.diff(db.introspect()))
    assert db.introspect(exclude=("t",)).triggers == {}  # an excluded table's triggers go with it


def test_a_changed_function_body_shows(db: Database, engine: str) -> None:
    if engine == "sqlite":
        pytest.skip("SQLite has no stored functions")
    if engine == "postgres":
        db.execute("CREATE FUNCTION f(x integer) RETURNS integer LANGUAGE sql AS 'SELECT x + 1'")
        before = db.introspect()
        db.execute("CREATE OR REPLACE FUNCTION f(x integer) RETURNS integer LANGUAGE sql AS 'SELECT x + 2'")
        name = "f(x integer)"
    else:
        db.execute("CREATE FUNCTION f(x INT) RETURNS INT DETERMINISTIC RETURN x + 1")
        before = db.introspect()
        db.execute("DROP FUNCTION f")
        db.execute("CREATE FUNCTION f(x INT) RETURNS INT DETERMINISTIC RETURN x + 2")
        name = "f"
    (change,) = before.diff(db.introspect())
    assert change.startswith(f"function {name} changed:") and "x + 2" in change


def test_postgres_check_not_valid_and_collation(db: Database, engine: str) -> None:
    if engine == "mysql":
        pytest.skip("MySQL/MariaDB have no NOT VALID; their collations are read always (test_builder_tables_round_trip)")
    db.schema.create_table("t").add_column("id", "integer").add_column("name", "varchar(50)").execute()
    before = db.introspect()
    if engine == "sqlite":
        db.schema.create_table("u").add_column("name", "text", lambda c: c.collate("nocase")).execute()
        assert _table(db, "u").column("name") == _table(db, "u").columns[0]
        assert _table(db, "u").columns[0].collation == "NOCASE"
        assert _table(db, "t").columns[1].collation is None
        return
    db.execute("ALTER TABLE t ADD CONSTRAINT id_positive CHECK (id > 0) NOT VALID")
    db.execute('ALTER TABLE t ALTER COLUMN name TYPE varchar(50) COLLATE "C"')
    added = db.introspect()
    assert _table(db, "t").check_constraints[0].validated is False
    assert _table(db, "t").columns[1].collation == "C"
    assert _table(db, "t").columns[0].collation is None  # the type's default: not named
    assert "column t.name collation changed: none -> C" in before.diff(added)
    db.execute("ALTER TABLE t VALIDATE CONSTRAINT id_positive")
    assert added.diff(db.introspect()) == ["check constraint id_positive on t was validated"]


def test_mysql_enum_labels_keep_their_case(db: Database, engine: str) -> None:
    """MySQL/MariaDB return the labels as declared: a down that restores enum('Active') as
    enum('active') changes what the application reads (the type was compared lower-cased)."""
    if engine != "mysql":
        pytest.skip("MySQL/MariaDB enum and set types")
    db.execute("CREATE TABLE s (state enum('Active','Banned'), flags set('A','b'))")
    before = db.introspect()
    assert before.tables["s"].columns[0].data_type == "enum('Active','Banned')"
    db.execute("ALTER TABLE s MODIFY state enum('active','Banned'), MODIFY flags set('a','b')")
    changes = before.diff(db.introspect())
    assert "column s.state type changed: enum('Active','Banned') -> enum('active','Banned')" in changes
    assert any(c.startswith("column s.flags type changed") for c in changes)


def test_postgres_identity_kind_is_compared(db: Database, engine: str) -> None:
    if engine != "postgres":
        pytest.skip("PostgreSQL identity columns")
    db.execute("CREATE TABLE i (id integer GENERATED ALWAYS AS IDENTITY)")
    before = db.introspect()
    assert before.tables["i"].columns[0].identity == "always"
    db.execute("ALTER TABLE i ALTER COLUMN id SET GENERATED BY DEFAULT")
    assert before.diff(db.introspect()) == ["column i.id identity changed: generated always -> by default"]


def test_mysql_table_default_collation_is_compared(db: Database, engine: str) -> None:
    if engine != "mysql":
        pytest.skip("MySQL/MariaDB table collations")
    db.execute("CREATE TABLE c (id integer) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci")
    before = db.introspect()
    db.execute("ALTER TABLE c DEFAULT COLLATE=utf8mb4_bin")
    assert before.diff(db.introspect()) == ["table c default collation changed: utf8mb4_general_ci -> utf8mb4_bin"]


def test_a_second_foreign_key_on_the_same_columns_is_added_not_a_change(db: Database, engine: str) -> None:
    """Keys were matched by their columns and target only: a second one read as the first one
    'renamed' with another ON DELETE, or was not seen at all."""
    if engine == "sqlite":
        pytest.skip("SQLite adds foreign keys by rebuilding the table")
    db.execute("CREATE TABLE u (id integer PRIMARY KEY)")
    db.execute("CREATE TABLE p (id integer PRIMARY KEY, user_id integer)")
    db.execute("ALTER TABLE p ADD CONSTRAINT p_user_fk FOREIGN KEY (user_id) REFERENCES u (id) ON DELETE CASCADE")
    before = db.introspect()
    db.execute("ALTER TABLE p ADD CONSTRAINT p_user_fk2 FOREIGN KEY (user_id) REFERENCES u (id) ON DELETE SET NULL")
    changes = before.diff(db.introspect())
    assert [c for c in changes if c.startswith("foreign key")] == ["foreign key p(user_id) -> u(id) added (p_user_fk2)"]


def test_deferrable_foreign_keys_read_back(db: Database, engine: str) -> None:
    """What create_table asked for comes back on both engines that have deferrable keys; SQLite
    keeps it only in the CREATE text (its pragma does not say), where the rebuild keeps it too."""
    if engine == "mysql":
        pytest.skip("MySQL/MariaDB check foreign keys at once (the refusal is in test_schema_surface.py)")
    db.schema.create_table("p").add_column("id", "integer", lambda c: c.primary_key()).execute()
    (
        db.schema.create_table("c")
        .add_column("a", "integer", lambda c: c.references("p.id").deferrable())
        .add_column("b", "integer", lambda c: c.references("p.id").initially_deferred())
        .add_column("d", "integer", lambda c: c.references("p.id"))
        .add_column("e", "integer")
        .add_foreign_key_constraint("c_e_fk", ["e"], "p", ["id"], lambda fk: fk.on_delete("cascade").initially_deferred())
        .add_column("note", "text", lambda c: c.not_null())
        .execute()
    )
    expected = {
        ("a",): "deferrable", ("b",): "initially deferred", ("d",): "not deferrable", ("e",): "initially deferred",
    }
    assert {fk.columns: fk.deferrable for fk in _table(db, "c").foreign_keys} == expected
    if engine == "sqlite":
        db.execute("CREATE TABLE raw (x INTEGER REFERENCES p NOT DEFERRABLE INITIALLY DEFERRED, "
                   "y INTEGER REFERENCES p DEFERRABLE INITIALLY IMMEDIATE)")
        assert {fk.columns: fk.deferrable for fk in _table(db, "raw").foreign_keys} == {
            ("x",): "not deferrable", ("y",): "deferrable",
        }
    before = db.introspect()
    db.schema.alter_table("c").alter_column("note", lambda c: c.drop_not_null()).execute()  # a rebuild on SQLite
    assert {fk.columns: fk.deferrable for fk in _table(db, "c").foreign_keys} == expected
    assert before.diff(db.introspect()) == ["column c.note became nullable"]
