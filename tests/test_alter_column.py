"""alter_column keeps the rest of a column's definition on every engine."""

from __future__ import annotations

import pytest

from kysera import Database, sql
from kysera.errors import BuilderError, KyseraError, StatementError, UnsupportedError
from kysera.schema.create_table import CreateTableBuilder

from . import catalog
from .test_support_matrix import offline


def make(db: Database) -> None:
    (
        db.schema.create_table("items")
        .add_column("id", "serial", lambda col: col.primary_key())
        .add_column("label", "varchar(20)", lambda col: col.default_to("it's").comment("shown to users"))
        .add_column("qty", "integer", lambda col: col.not_null().default_to(3))
        .execute()
    )
    db.insert_into("items").values({"label": "a"}).execute()
    db.insert_into("items").values({"qty": 5}).execute()


def test_set_not_null_keeps_default(db: Database) -> None:
    make(db)
    db.schema.alter_table("items").alter_column("label", lambda col: col.set_not_null()).execute()
    col = catalog.columns(db, "items")["label"]
    assert not col.nullable and col.default is not None and "it" in col.default
    db.insert_into("items").values({"qty": 1}).execute()
    assert db.select_from("items").select(["label"]).order_by("id").fetch_all()[-1]["label"] == "it's"


def test_type_change_keeps_not_null_and_default(db: Database) -> None:
    make(db)
    db.schema.alter_table("items").alter_column("qty", lambda col: col.set_data_type("bigint")).execute()
    col = catalog.columns(db, "items")["qty"]
    assert not col.nullable and col.default is not None and "3" in col.default
    assert [r["qty"] for r in db.select_from("items").select(["qty"]).order_by("id").fetch_all()] == [3, 5]


def test_several_changes_to_one_column(db: Database) -> None:
    make(db)
    (
        db.schema.alter_table("items")
        .alter_column("label", lambda col: col.set_data_type("varchar(50)").set_default("none").set_not_null())
        .execute()
    )
    col = catalog.columns(db, "items")["label"]
    assert col.type in ("character varying(50)", "varchar(50)")
    assert not col.nullable and col.default is not None and "none" in col.default


def test_drop_and_set_default(db: Database) -> None:
    make(db)
    db.schema.alter_table("items").alter_column("qty", lambda col: col.drop_default()).execute()
    assert catalog.columns(db, "items")["qty"].default in (None, "NULL")
    db.schema.alter_table("items").alter_column("qty", lambda col: col.set_default(sql("7"))).execute()
    assert "7" in str(catalog.columns(db, "items")["qty"].default)


def test_mysql_comment_survives_modify(db: Database) -> None:
    if db.dialect.name != "mysql":
        pytest.skip("column comments are inline on MySQL only")
    make(db)
    db.schema.alter_table("items").alter_column("label", lambda col: col.set_not_null()).execute()
    row = db.fetch(
        "SELECT COLUMN_COMMENT AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
        "AND TABLE_NAME = 'items' AND COLUMN_NAME = 'label'"
    )
    assert row[0]["c"] == "shown to users"


def test_mysql_type_change_keeps_charset_and_collation(db: Database) -> None:
    if db.dialect.name != "mysql":
        pytest.skip("MODIFY COLUMN restates the whole column on MySQL only")
    (
        db.schema.create_table("co")
        .add_column("n", "varchar(30)", lambda col: col.collate("utf8mb4_bin").not_null())
        .add_column("l", "varchar(30)", lambda col: col.collate("latin1_bin"))
        .add_column("k", "varchar(30)")
        .execute()
    )

    def charsets() -> dict[str, tuple[object, object]]:
        rows = db.fetch(
            "SELECT COLUMN_NAME AS name, CHARACTER_SET_NAME AS cs, COLLATION_NAME AS co FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'co'"
        )
        return {str(r["name"]): (r["cs"], r["co"]) for r in rows}

    before = charsets()
    table = db.schema.alter_table("co")
    for column in ("n", "l"):
        table = table.alter_column(column, lambda col: col.set_data_type("varchar(60)"))
    table.execute()
    after = charsets()
    assert after["n"] == before["n"] == ("utf8mb4", "utf8mb4_bin")
    assert after["l"] == before["l"] == ("latin1", "latin1_bin")
    db.schema.alter_table("co").alter_column("k", lambda col: col.set_data_type("integer")).execute()
    assert charsets()["k"] == (None, None)  # a number has no character set


def test_unknown_column_is_a_clear_error(db: Database) -> None:
    make(db)
    builder = db.schema.alter_table("items").alter_column("nope", lambda col: col.set_not_null())
    with pytest.raises(Exception, match="nope"):
        builder.execute()


def test_a_missing_table_is_named_as_the_problem(db: Database) -> None:
    """Not "column 'qty' does not exist in table 'nope'" (MySQL/MariaDB read the column's
    definition first, and found none)."""
    for builder in (
        db.schema.alter_table("nope").alter_column("qty", lambda col: col.set_not_null()),
        db.schema.alter_table("nope").drop_constraint("nope_qty_key"),
    ):
        with pytest.raises(KyseraError, match=r"""(table|relation) ["']nope["'] does not exist""") as caught:
            builder.execute()
        assert "column 'qty' does" not in str(caught.value) and "constraint 'nope_qty_key' does" not in str(caught.value)


def test_callback_must_return_a_change(db: Database) -> None:
    with pytest.raises(BuilderError, match="must return"):
        db.schema.alter_table("items").alter_column("qty", lambda col: None)  # type: ignore[arg-type,return-value]


def test_a_callback_that_is_no_function_is_a_builder_error(db: Database) -> None:
    """A type or a clause passed where the callback goes is a BuilderError naming the fix, not
    Python's "'str' object is not callable"."""
    with pytest.raises(BuilderError, match=r"alter_column\('qty', \.\.\.\) takes a callback"):
        db.schema.alter_table("items").alter_column("qty", "bigint")  # type: ignore[arg-type]
    with pytest.raises(BuilderError, match=r"add_column\('qty', \.\.\.\) is a callback"):
        db.schema.create_table("items").add_column("qty", "integer", "not null")  # type: ignore[arg-type]
    with pytest.raises(BuilderError, match=r"add_column\('qty', \.\.\.\) is a callback"):
        db.schema.alter_table("items").add_column("qty", "integer", "not null")  # type: ignore[arg-type]
    with pytest.raises(BuilderError, match="foreign key 'fk' is a callback"):
        db.schema.alter_table("items").add_foreign_key_constraint("fk", ["a"], "p", ["id"], "cascade")  # type: ignore[arg-type]
    with pytest.raises(BuilderError, match=r"unique constraint 'u' is a callback .*got 'b' \(several columns go in one list: \['a', 'b'\]\)"):
        db.schema.create_table("items").add_unique_constraint("u", "a", "b")  # type: ignore[arg-type]
    with pytest.raises(BuilderError, match="unique constraint 'u' is a callback"):
        db.schema.alter_table("items").add_unique_constraint("u", ["a"], True)  # type: ignore[arg-type]


def test_changes_to_a_column_the_same_call_adds_are_folded_into_it(db: Database) -> None:
    """Chained as written, no engine could run these: the change is part of the new column."""
    make(db)
    (
        db.schema.alter_table("items")
        .add_column("big", "integer")
        .alter_column("big", lambda col: col.set_data_type("bigint"))
        .add_column("flag", "integer", lambda col: col.default_to(0))
        .alter_column("flag", lambda col: col.set_not_null())
        .add_column("tmp", "varchar(10)")
        .rename_column("tmp", "kept")
        .execute()
    )
    columns = catalog.columns(db, "items")
    assert columns["big"].type.startswith("bigint")
    assert not columns["flag"].nullable and "kept" in columns and "tmp" not in columns
    assert [r["flag"] for r in db.select_from("items").select(["flag"]).fetch_all()] == [0, 0]


def test_changes_to_a_column_the_same_call_drops_are_dropped_with_it(db: Database) -> None:
    make(db)
    db.schema.alter_table("items").alter_column("label", lambda col: col.set_not_null()).drop_column("label").execute()
    assert "label" not in catalog.columns(db, "items")


@pytest.mark.parametrize(
    ("chain", "kept", "value"),
    [
        # dropping the default of a column the call adds runs as a step: the rows that exist keep it
        (lambda t: t.add_column("c", "integer", lambda col: col.not_null().default_to(0)).alter_column("c", lambda col: col.drop_default()), True, 0),
        # a default set on it is its default (docs/schema-builder.md): the rows that exist get it
        (lambda t: t.add_column("c", "integer", lambda col: col.default_to(1)).alter_column("c", lambda col: col.set_default(2)), True, 2),
        (lambda t: t.add_column("c", "integer").alter_column("c", lambda col: col.set_not_null().set_default(3)), True, 3),
        (lambda t: t.add_column("c", "integer").alter_column("c", lambda col: col.set_default(4).set_not_null()), True, 4),
        (lambda t: t.add_column("c", "integer").alter_column("c", lambda col: col.set_default(5)).alter_column("c", lambda col: col.set_not_null()), True, 5),
        (lambda t: t.add_column("c", "integer").drop_column("c"), False, None),
    ],
)
def test_a_column_added_and_changed_in_one_call_is_one_new_column(
    db: Database, chain: object, kept: bool, value: object
) -> None:
    make(db)
    chain(db.schema.alter_table("items")).execute()  # type: ignore[operator]
    columns = catalog.columns(db, "items")
    assert ("c" in columns) is kept
    if kept:
        assert {r["c"] for r in db.select_from("items").select(["c"]).fetch_all()} == {value}


def test_a_column_renamed_and_then_retyped_in_one_call(db: Database) -> None:
    make(db)
    (db.schema.alter_table("items").rename_column("label", "title")
     .alter_column("title", lambda col: col.set_data_type("varchar(40)")).execute())
    columns = catalog.columns(db, "items")
    assert "label" not in columns and columns["title"].type.startswith(("varchar(40)", "character varying(40)"))
    assert {r["title"] for r in db.select_from("items").select(["title"]).fetch_all()} == {"a", "it's"}


def test_a_columns_own_check_survives_every_change(db: Database) -> None:
    """A json column (MariaDB: a longtext with a json_valid CHECK) and a column CHECK still refuse
    bad values after alter_column; MariaDB's MODIFY COLUMN drops a column CHECK it is not told again."""
    (
        db.schema.create_table("docs")
        .add_column("id", "integer", lambda col: col.primary_key())
        .add_column("body", "json")
        .add_column("name", "varchar(20)", lambda col: col.check(sql("name <> ''")))
        .execute()
    )
    db.schema.alter_table("docs").alter_column("body", lambda col: col.set_not_null()).execute()
    db.schema.alter_table("docs").alter_column("name", lambda col: col.set_data_type("varchar(40)")).execute()
    db.schema.alter_table("docs").alter_column("name", lambda col: col.set_not_null()).execute()
    db.insert_into("docs").values({"id": 1, "body": "{}", "name": "ok"}).execute()
    with pytest.raises(KyseraError):
        db.insert_into("docs").values({"id": 2, "body": "{}", "name": ""}).execute()
    if db.dialect.name != "sqlite":  # SQLite's json is text without a check
        with pytest.raises(KyseraError):
            db.insert_into("docs").values({"id": 3, "body": "not json", "name": "x"}).execute()


def test_mariadb_invisible_column_stays_invisible(db: Database) -> None:
    if db.dialect.name != "mysql":
        pytest.skip("INVISIBLE columns are MySQL/MariaDB's")
    make(db)
    db.execute("ALTER TABLE items ADD COLUMN hidden int INVISIBLE")
    db.schema.alter_table("items").alter_column("hidden", lambda col: col.set_data_type("bigint")).execute()
    row = db.fetch(
        "SELECT EXTRA AS e FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
        "AND TABLE_NAME = 'items' AND COLUMN_NAME = 'hidden'"
    )
    assert "INVISIBLE" in str(row[0]["e"]).upper()


def test_a_default_beyond_the_basic_plane_survives_a_change(db: Database) -> None:
    """MariaDB's catalog shows defaults in utf8mb3 (an emoji reads as '?'): MODIFY COLUMN must
    restate the value the column really has, or every later row gets 'ok?'."""
    db.schema.create_table("t").add_column("id", "integer", lambda col: col.primary_key()).add_column(
        "v", "varchar(20)", lambda col: col.default_to("ok😀?")
    ).execute()
    db.schema.alter_table("t").alter_column("v", lambda col: col.set_not_null()).execute()
    db.insert_into("t").values({"id": 1}).execute()
    # and again once the column is NOT NULL (MariaDB's DEFAULT() read it as NULL, so '?' came back)
    db.schema.alter_table("t").alter_column("v", lambda col: col.set_data_type("varchar(30)")).execute()
    db.insert_into("t").values({"id": 2}).execute()
    assert db.select_from("t").select(["v"]).order_by("id").fetch_all() == [{"v": "ok😀?"}, {"v": "ok😀?"}]


def test_a_check_beyond_the_basic_plane_is_kept_or_refused(db: Database) -> None:
    """MariaDB's catalog shows a CHECK in utf8mb3 ('😀' reads as '????'): MODIFY COLUMN restated
    that, silently changing the check. It is refused there; elsewhere the check stays."""
    db.schema.create_table("t").add_column("id", "integer", lambda col: col.primary_key()).add_column(
        "k", "varchar(20)", lambda col: col.check(sql("k <> '😀'"))
    ).add_column("q", "varchar(20)", lambda col: col.check(sql("q <> 'a?'"))).execute()
    builder = db.schema.alter_table("t").alter_column("k", lambda col: col.set_data_type("varchar(30)"))
    if db.dialect.name == "mysql":
        with pytest.raises(UnsupportedError, match=r"U\+FFFF.*modify_column"):
            builder.compile()
    else:
        builder.execute()
        with pytest.raises(StatementError):
            db.insert_into("t").values({"id": 1, "k": "😀"}).execute()
    # a '?' that is really there is restated as it is
    db.schema.alter_table("t").alter_column("q", lambda col: col.set_data_type("varchar(30)")).execute()
    with pytest.raises(StatementError):
        db.insert_into("t").values({"id": 2, "q": "a?"}).execute()


def test_mysql_restates_the_catalogs_literals_for_no_backslash_escapes(db: Database) -> None:
    """information_schema writes string literals with backslash escapes; a session with
    NO_BACKSLASH_ESCAPES reads them otherwise, so MODIFY COLUMN restates their values."""
    if db.dialect.name != "mysql":
        pytest.skip("sql_mode is MySQL's")
    (
        db.schema.create_table("nbe")
        .add_column("id", "integer", lambda col: col.primary_key())
        .add_column("p", "varchar(20)", lambda col: col.default_to("C:\\dir"))
        .add_column("e", sql("enum('a\\'b', 'x')"))
        .add_column("g", "varchar(40)", lambda col: col.generated_always_as(sql("concat('a\\'b', p)")))
        .execute()
    )
    db.execute("SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_BACKSLASH_ESCAPES')")
    db.schema.alter_table("nbe").alter_column("p", lambda col: col.set_not_null()).execute()
    db.schema.alter_table("nbe").alter_column("e", lambda col: col.set_default("x")).execute()
    db.schema.alter_table("nbe").alter_column("g", lambda col: col.set_data_type("varchar(50)")).execute()
    db.insert_into("nbe").values({"id": 1, "e": "a'b"}).execute()
    assert db.fetch("SELECT p, e, g FROM nbe") == [{"p": "C:\\dir", "e": "a'b", "g": "a'bC:\\dir"}]


def line(db: Database) -> None:
    (
        db.schema.create_table("line")
        .add_column("qty", "integer")
        .add_column("price", "integer")
        .add_column("total", "integer", lambda col: col.generated_always_as(sql("qty * price")).stored())
        .execute()
    )
    db.insert_into("line").values({"qty": 2, "price": 3}).execute()


def test_not_null_on_a_generated_column(db: Database) -> None:
    """set_not_null()/drop_not_null() on a generated column change it, or are refused before
    anything runs: MariaDB's generated columns take no NOT NULL (they always allow NULL), where
    MODIFY COLUMN used to restate the column without it and report success."""
    line(db)
    set_not_null = db.schema.alter_table("line").alter_column("total", lambda col: col.set_not_null())
    drop_not_null = db.schema.alter_table("line").alter_column("total", lambda col: col.drop_not_null())
    if "MariaDB" in db.dialect.display_name:
        with pytest.raises(UnsupportedError, match=r"is not supported on MariaDB; MariaDB's generated columns always allow NULL .*add_check_constraint\(name, sql\(\"col IS NOT NULL\"\)\)"):
            set_not_null.compile()
        assert drop_not_null.compile() == []  # it takes NULL already: nothing to do
        drop_not_null.execute()
        assert catalog.columns(db, "line")["total"].nullable
        return
    set_not_null.execute()
    assert not catalog.columns(db, "line")["total"].nullable
    with pytest.raises(KyseraError):
        db.insert_into("line").values({"qty": None, "price": 3}).execute()
    drop_not_null.execute()
    assert catalog.columns(db, "line")["total"].nullable
    db.insert_into("line").values({"qty": None, "price": 3}).execute()
    assert [r["total"] for r in db.select_from("line").select(["total"]).fetch_all()] == [6, None]


def test_mysql_writes_not_null_after_a_generated_column() -> None:
    """MySQL (no server in the tests: compiled offline, the column made by the same plan) takes
    [NOT] NULL after GENERATED ... STORED/VIRTUAL; MariaDB refuses a NOT NULL there."""
    for engine in ("mysql", "mariadb"):
        db = offline(engine)
        make = db.schema.create_table("line").add_column("qty", "integer").add_column(
            "total", "integer", lambda col: col.generated_always_as(sql("qty * 2")).stored()
        )
        with db.planning(), db.capture() as recorded:
            make.execute()
            if engine == "mariadb":
                with pytest.raises(UnsupportedError, match="MariaDB"):
                    db.schema.alter_table("line").alter_column("total", lambda col: col.set_not_null()).execute()
            else:
                db.schema.alter_table("line").alter_column("total", lambda col: col.set_not_null()).execute()
            db.schema.alter_table("line").alter_column("total", lambda col: col.drop_not_null()).execute()
        modified = [s.sql for s in recorded][1:]
        if engine == "mysql":
            assert modified == [
                "ALTER TABLE `line` MODIFY COLUMN `total` integer GENERATED ALWAYS AS (qty * 2) STORED NOT NULL",
                "ALTER TABLE `line` MODIFY COLUMN `total` integer GENERATED ALWAYS AS (qty * 2) STORED NULL",
            ]
        else:
            assert modified == []
    mysql = offline("mysql")
    assert "GENERATED ALWAYS AS (qty * 2) STORED NOT NULL" in make_not_null(mysql).compile().sql
    with pytest.raises(UnsupportedError, match="MariaDB"):
        make_not_null(offline("mariadb")).compile()


def make_not_null(db: Database) -> CreateTableBuilder:
    return db.schema.create_table("line").add_column("qty", "integer").add_column(
        "total", "integer", lambda col: col.generated_always_as(sql("qty * 2")).stored().not_null()
    )


def test_compiling_without_a_database_names_the_engine() -> None:
    """What MySQL and MariaDB compile from the catalog, without one, is refused naming the engine."""
    for engine, name in (("mysql", "MySQL"), ("mariadb", "MariaDB")):
        db = offline(engine)  # type: ignore[arg-type]
        compiler = db.dialect.compiler()  # no database to read
        alter = db.schema.alter_table("items").alter_column("qty", lambda col: col.set_not_null()).to_node()
        with pytest.raises(UnsupportedError, match=rf"^alter_column\(\.\.\.\) without a database connection is not supported on {name}; {name} needs"):
            compiler.compile(alter)
        with pytest.raises(BuilderError, match=rf"^drop_index\('ix_qty'\) on {name} needs \.on\(table\)"):
            compiler.compile(db.schema.drop_index("ix_qty").to_node())
