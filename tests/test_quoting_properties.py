"""Property tests: any identifier is quoted and any string value is escaped, on the real engines."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kysera import Database, sql

from . import catalog

# identifiers the engines can hold: no NUL; MySQL rejects trailing spaces. A dot in a string name
# means "table.column" to the builders (use sql.id() for such names), so none here. MySQL
# identifiers are utf8mb3: characters beyond the BMP are refused by the server.
names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00.", max_codepoint=0xFFFF),
    min_size=1,
    max_size=20,
).map(lambda s: s.rstrip() or "x")
values = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)

SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(table=names, column=names, default=values, value=values)
def test_any_identifier_and_value_round_trip(db: Database, table: str, column: str, default: str, value: str) -> None:
    if db.dialect.name == "mysql" and column.lower() == "id":
        column = column + "_"
    if column.lower() == "id":
        column = "c_" + column
    db.schema.drop_table(table).if_exists().execute()
    (
        db.schema.create_table(table)
        .add_column("id", "integer", lambda col: col.primary_key())
        .add_column(column, "varchar(255)", lambda col: col.default_to(default))
        .execute()
    )
    try:
        db.insert_into(table).values({"id": 1}).execute()
        db.insert_into(table).values({"id": 2, column: value}).execute()
        rows = db.select_from(table).select([column]).order_by("id").fetch_all()
        assert [r[column] for r in rows] == [default, value]
        # the literal is also safe inside raw sql() as a bound value and as sql.lit in DDL
        # MariaDB's default collation compares some characters beyond the BMP as equal, so the row
        # is found by its key, with the value itself bound as a parameter in the same statement
        found = db.execute(sql("SELECT {} AS v, {} AS p FROM {} WHERE {} = {}", sql.id(column), value, sql.id(table), sql.id("id"), 2))
        assert found.first() == {"v": value, "p": value}
    finally:
        db.schema.drop_table(table).execute()


def test_weird_names_and_injection_default(db: Database) -> None:
    table, column = 'we"ird`name', "it's a column"
    nasty = "it's'); DROP TABLE x; --"
    (
        db.schema.create_table(table)
        .add_column("id", "serial", lambda col: col.primary_key())
        .add_column(column, "varchar(100)", lambda col: col.not_null().default_to(nasty))
        .execute()
    )
    db.schema.create_index("idx " + table).on(table).column(column).execute()
    db.insert_into(table).values({column: "100% \\ back\nslash"}).execute()
    db.insert_into(table).values({"id": 50}).execute()
    rows = db.select_from(table).select([column]).order_by("id").fetch_all()
    assert [r[column] for r in rows] == ["100% \\ back\nslash", nasty]
    assert table in catalog.tables(db)


@pytest.mark.parametrize("text", ["", "{}", "'{}'::jsonb", "50%", "a;b", "$$x$$"])
def test_sql_fragment_without_arguments_is_verbatim(text: str) -> None:
    assert sql(text).node.parts == (text,)


BACKSLASHED = ["a\\b'", "\\'); DROP TABLE victim; --", "C:\\temp\\new", "\\", "it's"]


@pytest.mark.parametrize("engine", ["postgres", "mysql"], indirect=True)
def test_literals_hold_under_the_servers_other_string_mode(db: Database) -> None:
    """PostgreSQL with standard_conforming_strings off (a database or role can set it), MySQL with
    NO_BACKSLASH_ESCAPES: a backslash in a DDL default neither ends the literal nor doubles."""
    if db.dialect.name == "postgres":
        db.execute("SET standard_conforming_strings = off")
    else:
        db.execute("SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_BACKSLASH_ESCAPES')")
    db.schema.create_table("victim").add_column("id", "integer").execute()
    table = db.schema.create_table("lit").add_column("id", "integer", lambda col: col.primary_key())
    for i, value in enumerate(BACKSLASHED):
        table = table.add_column(f"c{i}", "varchar(100)", lambda col, value=value: col.default_to(value))
    table.add_column("b", "varbinary(10)" if db.dialect.name == "mysql" else "bytea", lambda col: col.default_to(b"\\x'")).execute()
    db.insert_into("lit").values({"id": 1}).execute()
    row = db.select_from("lit").fetch_all()[0]
    assert [row[f"c{i}"] for i in range(len(BACKSLASHED))] == BACKSLASHED
    assert bytes(row["b"]) == b"\\x'"
    assert "victim" in catalog.tables(db)


def test_values_in_raw_ddl_are_literals_and_fragments_with_values_split(db: Database) -> None:
    """DDL takes no parameters: sql("... DEFAULT {}", v) writes v as an escaped literal; a fragment
    of several statements with values is split like one without, each statement keeping its values."""
    db.execute("CREATE TABLE t (id integer PRIMARY KEY, v varchar(20))")
    sql("ALTER TABLE t ADD COLUMN q varchar(20) DEFAULT {}", "it's; --").execute(db)
    (statement,) = sql("CREATE TABLE z (a varchar(9) DEFAULT {})", "x").compile(db)
    assert statement.params == () and "'x'" in statement.sql
    sql("INSERT INTO t (id, v) VALUES ({}, ';'); UPDATE t SET v = {} WHERE id = {}", 10, "a;b", 10).execute(db)
    sql("INSERT INTO t (id, v) VALUES ({}, 'x'); INSERT INTO t (id, v) VALUES ({}, 'y')", 11, 12).execute(db)
    rows = db.select_from("t").select(["id", "v", "q"]).order_by("id").fetch_all()
    assert [(r["id"], r["v"], r["q"]) for r in rows] == [(10, "a;b", "it's; --"), (11, "x", "it's; --"), (12, "y", "it's; --")]


def test_names_too_long_for_the_engine_are_refused_before_the_server(db: Database) -> None:
    """PostgreSQL keeps 63 bytes of a name and cuts the rest silently; MySQL refuses past 64."""
    from kysera.errors import BuilderError

    if db.dialect.name == "sqlite":
        db.schema.create_table("t" * 100).add_column("id", "integer").execute()  # SQLite has no limit
        return
    limit = 63 if db.dialect.name == "postgres" else 64
    db.schema.create_table("t" * limit).add_column("id", "integer", lambda c: c.primary_key()).execute()
    with pytest.raises(BuilderError, match="use a shorter name"):
        db.schema.create_table("t" * (limit + 1)).add_column("id", "integer").execute()
    if db.dialect.name == "postgres":
        with pytest.raises(BuilderError, match="bytes"):  # 32 two-byte characters: 64 bytes
            db.schema.create_table("é" * 32).add_column("id", "integer").execute()
    # a foreign key name kysera makes up from two long names fits the engine (MySQL: table_col_fkey)
    parent, child, column = "p" * 45, "c" * 45, "x" * 35
    db.schema.create_table(parent).add_column("id", "integer", lambda c: c.primary_key()).execute()
    db.schema.create_table(child).add_column(column, "integer", lambda c: c.references(f"{parent}.id")).execute()
    assert child in catalog.tables(db)


def test_a_table_name_with_a_dot_through_sql_id(db: Database) -> None:
    db.schema.create_table(sql.id("a.b")).add_column("id", "integer", lambda c: c.primary_key()).execute()
    db.schema.alter_table(sql.id("a.b")).add_column("x", "varchar(10)").execute()
    assert "a.b" in catalog.tables(db)
    # the other places that take a table: an index, a foreign key's target, the data builders
    db.schema.create_index("ix_a_b_x").on(sql.id("a.b")).column("x").execute()
    assert "ix_a_b_x" in catalog.indexes(db, "a.b")
    db.schema.create_table("kid").add_column("parent", "integer").add_foreign_key_constraint(
        "kid_parent_fk", ["parent"], sql.id("a.b"), ["id"]
    ).execute()
    db.insert_into(sql.id("a.b")).values([{"id": 1, "x": "one"}, {"id": 2, "x": "two"}]).execute()
    db.update_table(sql.id("a.b")).set({"x": "uno"}).where("id", "=", 1).execute()
    db.delete_from(sql.id("a.b")).where("id", "=", 2).execute()
    assert db.select_from(sql.id("a.b")).select("id", "x").execute().rows == [{"id": 1, "x": "uno"}]
    assert db.table_exists(sql.id("a.b"))
    db.schema.drop_table("kid").execute()
    db.schema.drop_index("ix_a_b_x").on(sql.id("a.b")).execute()
    db.schema.drop_table(sql.id("a.b")).execute()
    assert "a.b" not in catalog.tables(db)


@pytest.mark.parametrize("bad", [None, "", 7, sql("users")])
def test_a_table_that_is_no_name_is_refused_by_every_builder(db: Database, bad: object) -> None:
    from kysera.errors import BuilderError

    builders = [
        lambda: db.insert_into(bad),  # type: ignore[arg-type]
        lambda: db.select_from(bad),  # type: ignore[arg-type]
        lambda: db.update_table(bad),  # type: ignore[arg-type]
        lambda: db.delete_from(bad),  # type: ignore[arg-type]
        lambda: db.schema.create_index("ix").on(bad),  # type: ignore[arg-type]
        lambda: db.schema.create_table("t").add_foreign_key_constraint("fk", ["a"], bad, ["b"]),  # type: ignore[arg-type]
        lambda: db.table_exists(bad),  # type: ignore[arg-type]
    ]
    for build in builders:
        with pytest.raises(BuilderError, match=r"sql\.id"):
            build()


@pytest.mark.parametrize(
    "fragment",
    [
        lambda: sql("CREATE TABLE a (x integer) -- {}\n", "z\n; DROP TABLE victim; --"),
        lambda: sql("CREATE TABLE a (x integer) /* {} */", "*/ DROP TABLE victim; /*"),
        lambda: sql("SELECT '{}' AS x", "y"),
    ],
)
def test_a_placeholder_in_a_comment_or_quotes_is_refused(db: Database, fragment: object) -> None:
    """A value there is no value: a newline in it would end a -- comment and run what follows."""
    from kysera.errors import BuilderError

    db.schema.create_table("victim").add_column("id", "integer").execute()
    with pytest.raises(BuilderError, match="inside a comment or quoted text"):
        fragment().execute(db)  # type: ignore[operator]
    assert "victim" in catalog.tables(db) and "a" not in catalog.tables(db)
