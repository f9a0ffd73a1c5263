"""The safety analysis: each rule with a positive and a negative case, on the engines it concerns."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kysera import Database, enum_type, sql
from kysera.errors import BuilderError, ConfigurationError, UnsupportedError
from kysera.safety import LiveFacts, OfflineFacts, SafetyOptions, Severity, analyze, resolve_codes
from kysera.safety.analyzer import PlanState
from kysera.safety.raw import DropCascade, DropTables, Harmless, Truncate, Unknown, classify

OPTIONS = SafetyOptions(large_table_rows=5)


def table_with_rows(db: Database, rows: int, name: str = "t") -> None:
    (
        db.schema.create_table(name)
        .add_column("id", "serial", lambda c: c.primary_key())
        .add_column("email", "varchar(100)")
        .add_column("n", "integer")
        .execute()
    )
    if rows:
        db.insert_into(name).values([{"email": f"u{i}", "n": i} for i in range(rows)]).execute()


def findings(db: Database, *builders: object, transactional: bool = True, allow: frozenset[str] = frozenset()) -> dict[str, Severity]:
    statements = [s for b in builders for s in db.compile(b)]  # type: ignore[arg-type]
    found = analyze(statements, db.dialect, LiveFacts(db, OPTIONS.large_table_rows), migration="m",
                    transactional=transactional, allow=allow, options=OPTIONS)
    return {f.code: f.severity for f in found if not f.suppressed}


Build = Callable[[Database], object]


def test_drop_table_is_error_when_it_holds_rows(db: Database) -> None:
    table_with_rows(db, 2)
    assert findings(db, db.schema.drop_table("t")) == {"KS101": Severity.ERROR}


def test_drop_table_of_empty_table_is_info(db: Database) -> None:
    table_with_rows(db, 0)
    assert findings(db, db.schema.drop_table("t")) == {"KS101": Severity.INFO}


def test_table_created_in_same_migration_is_info(db: Database) -> None:
    create = db.schema.create_table("fresh").add_column("id", "integer")
    found = findings(db, create, db.schema.create_index("i").on("fresh").column("id"), db.schema.drop_table("fresh"))
    assert all(s is Severity.INFO for s in found.values())


def test_a_table_an_earlier_migration_creates_is_not_said_to_be_created_in_this_one(db: Database) -> None:
    created = PlanState()
    make = db.compile(db.schema.create_table("fresh").add_column("id", "integer"))
    analyze(make, db.dialect, LiveFacts(db, 5), migration="m1", options=OPTIONS, created=created)
    index = [*db.compile(db.schema.create_index("i").on("fresh").column("id")), *db.compile(db.schema.drop_table("fresh"))]
    found = analyze(index, db.dialect, LiveFacts(db, 5), migration="m2", options=OPTIONS, created=created)
    assert found and all(f.severity is Severity.INFO for f in found)
    assert all("created in this migration" not in f.message and "these migrations create it" in f.message for f in found)


def test_drop_column(db: Database) -> None:
    table_with_rows(db, 2)
    assert findings(db, db.schema.alter_table("t").drop_column("n"))["KS102"] is Severity.ERROR


def test_one_change_compiled_to_several_statements_is_judged_once(db: Database) -> None:
    """A rename splits an ALTER TABLE (and SQLite rebuilds it): still one finding per action."""
    table_with_rows(db, 2)
    change = db.schema.alter_table("t").drop_column("n").rename_column("email", "mail")
    statements = list(db.compile(change))
    found = analyze(statements, db.dialect, LiveFacts(db, OPTIONS.large_table_rows), migration="m", options=OPTIONS)
    assert [f.code for f in found].count("KS102") == 1
    assert [f.code for f in found].count("KS302") == 1


def test_create_index_blocks_writers_on_large_tables_except_on_mysql(db: Database) -> None:
    table_with_rows(db, 10)
    found = findings(db, db.schema.create_index("i").on("t").column("n"))
    if db.dialect.name == "postgres":
        assert found == {"KS201": Severity.ERROR}
        assert findings(db, db.schema.create_index("i").on("t").column("n").concurrently(), transactional=False) == {}
    elif db.dialect.name == "sqlite":
        assert found == {"KS201": Severity.WARNING}  # every writer waits; nothing to do but schedule it
    else:
        assert found == {}  # InnoDB builds online


def test_small_table_turns_blocking_into_info(db: Database) -> None:
    table_with_rows(db, 2)
    found = findings(db, db.schema.create_index("i").on("t").column("n"))
    assert found in ({"KS201": Severity.INFO}, {})


def test_drop_index_blocking_on_postgres(db: Database) -> None:
    if db.dialect.name != "postgres":
        pytest.skip("PostgreSQL only")
    table_with_rows(db, 10)
    db.schema.create_index("i").on("t").column("n").execute()
    assert findings(db, db.schema.drop_index("i").on("t")) == {"KS202": Severity.ERROR}
    assert findings(db, db.schema.drop_index("i").on("t").concurrently(), transactional=False) == {}
    # PostgreSQL's DROP INDEX names no table: it is looked up, and judged by its size
    assert findings(db, db.schema.drop_index("i")) == {"KS202": Severity.ERROR}
    assert raw_findings(db, "DROP INDEX i") == {"KS202": Severity.ERROR}


def test_foreign_key_and_check(db: Database) -> None:
    table_with_rows(db, 10)
    table_with_rows(db, 0, "p")
    fk = findings(db, db.schema.alter_table("t").add_foreign_key_constraint("fk", ["n"], "p", ["id"]))
    check = findings(db, db.schema.alter_table("t").add_check_constraint("positive", sql("n >= 0")))
    if db.dialect.name == "sqlite":
        assert fk == {"KS212": Severity.WARNING} and check == {"KS212": Severity.WARNING}
    else:
        assert fk == {"KS203": Severity.ERROR} and check == {"KS204": Severity.ERROR}
    if db.dialect.name == "postgres":
        not_valid = sql("ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (n) REFERENCES p (id) NOT VALID")
        assert findings(db, not_valid) == {}


def test_column_added_with_a_foreign_key_or_check(db: Database) -> None:
    """Inline references/check on add_column validate every row too (PostgreSQL), like the constraints."""
    table_with_rows(db, 10)
    table_with_rows(db, 0, "p")
    fk = findings(db, db.schema.alter_table("t").add_column("p_id", "integer", lambda c: c.references("p.id")))
    check = findings(db, db.schema.alter_table("t").add_column("m", "integer", lambda c: c.check(sql("m >= 0"))))
    if db.dialect.name == "postgres":
        assert fk == {"KS203": Severity.ERROR} and check == {"KS204": Severity.ERROR}
    elif db.dialect.name == "mysql":
        assert "KS213" in fk and "KS204" not in check
    else:
        assert "KS203" not in fk and "KS204" not in check


def test_set_not_null(db: Database) -> None:
    table_with_rows(db, 10)
    found = findings(db, db.schema.alter_table("t").alter_column("email", lambda c: c.set_not_null()))
    expected = {"postgres": Severity.ERROR, "mysql": Severity.WARNING, "sqlite": Severity.WARNING}[db.dialect.name]
    assert found["KS205"] is expected


def test_set_not_null_on_a_column_already_not_null(db: Database) -> None:
    """Nothing changes, so nothing can fail: INFO on every engine (SQLite compiles no statement
    for it), not MariaDB's "fails if any row holds NULL" warning. When the catalog may not show
    the database as the statement finds it (a redo runs downs first), the usual finding stays."""
    table_with_rows(db, 10)
    db.schema.alter_table("t").alter_column("email", lambda c: c.set_not_null()).execute()
    statements = list(db.compile(db.schema.alter_table("t").alter_column("email", lambda c: c.set_not_null())))
    if db.dialect.name == "sqlite":
        assert statements == []
        return
    found = analyze(statements, db.dialect, LiveFacts(db, OPTIONS.large_table_rows), migration="m", options=OPTIONS)
    assert [(f.code, f.severity) for f in found] == [("KS205", Severity.INFO)]
    assert "sets NOT NULL on email, which is already NOT NULL: nothing changes" in found[0].message
    redo = SafetyOptions(large_table_rows=5, catalog_current=False)
    found = analyze(statements, db.dialect, LiveFacts(db, OPTIONS.large_table_rows), migration="m", options=redo)
    assert [f.code for f in found] == ["KS205"] and found[0].severity is not Severity.INFO
    # an earlier migration of the same plan let NULL in: the catalog's NOT NULL is no proof any more
    created = PlanState()
    loosen = list(db.compile(db.schema.alter_table("t").alter_column("email", lambda c: c.drop_not_null())))
    analyze(loosen, db.dialect, LiveFacts(db, OPTIONS.large_table_rows), migration="m1", options=OPTIONS, created=created)
    found = analyze(statements, db.dialect, LiveFacts(db, OPTIONS.large_table_rows), migration="m2", options=OPTIONS, created=created)
    assert [f.code for f in found] == ["KS205"] and found[0].severity is not Severity.INFO


def test_type_changes(db: Database) -> None:
    table_with_rows(db, 10)
    to_bigint = findings(db, db.schema.alter_table("t").alter_column("n", lambda c: c.set_data_type("bigint")))
    wider = findings(db, db.schema.alter_table("t").alter_column("email", lambda c: c.set_data_type("varchar(200)")))
    narrower = findings(db, db.schema.alter_table("t").alter_column("email", lambda c: c.set_data_type("varchar(10)")))
    if db.dialect.name == "sqlite":
        assert "KS106" not in narrower  # SQLite keeps every value whatever length the type says
    else:
        assert narrower["KS106"] is Severity.ERROR
    if db.dialect.name == "postgres":
        assert to_bigint == {"KS206": Severity.ERROR}
        assert wider == {}  # varchar(n) -> varchar(m > n) needs no rewrite
    elif db.dialect.name == "mysql":
        assert to_bigint == {"KS206": Severity.ERROR}
    else:
        assert to_bigint == {"KS212": Severity.WARNING}


def test_more_digits_of_a_second_rewrite_nothing_on_postgres(db: Database) -> None:
    """timestamp(3) -> timestamp(6) (or time, interval) only relabels the column on PostgreSQL
    (its file stays the same): it was refused as a rewrite (KS206). Fewer digits round every value."""
    if db.dialect.name != "postgres":
        pytest.skip("PostgreSQL's time precision")
    table_with_rows(db, 10)
    db.execute("ALTER TABLE t ADD COLUMN seen timestamp(3), ADD COLUMN took interval(2)")

    def change(column: str, new: str) -> dict[str, Severity]:
        return findings(db, db.schema.alter_table("t").alter_column(column, lambda c: c.set_data_type(new)))

    assert change("seen", "timestamp(6)") == {}
    assert change("seen", "timestamp") == {}
    assert change("took", "interval(5)") == {}
    assert change("seen", "timestamp(0)") == {"KS106": Severity.ERROR, "KS206": Severity.ERROR}


def test_datetime_to_timestamp_on_mysql_copies_the_table(db: Database) -> None:
    """MySQL's DATETIME and TIMESTAMP are two types: MariaDB copies the table to change one to the
    other (error 1846 in place). Read as one type, the change was called free and said nothing."""
    if db.dialect.name != "mysql":
        pytest.skip("MySQL's DATETIME")
    table_with_rows(db, 10)
    db.execute("ALTER TABLE t ADD COLUMN seen datetime")
    to_timestamp = findings(db, db.schema.alter_table("t").alter_column("seen", lambda c: c.set_data_type("timestamp")))
    assert to_timestamp["KS206"] is Severity.ERROR
    assert findings(db, db.schema.alter_table("t").alter_column("seen", lambda c: c.set_data_type("date")))["KS106"] is Severity.ERROR


def test_add_columns(db: Database) -> None:
    table_with_rows(db, 10)
    nullable = findings(db, db.schema.alter_table("t").add_column("phone", "varchar(20)"))
    assert nullable == {}
    required = findings(db, db.schema.alter_table("t").add_column("x", "integer", lambda c: c.not_null()))
    assert required["KS303"] is Severity.WARNING
    if db.dialect.name == "mysql":  # the server that fills the zeros is named: MariaDB does it too
        [message] = [f.message for f in analyze(db.compile(db.schema.alter_table("t").add_column("x", "integer", lambda c: c.not_null())),
                                                db.dialect, LiveFacts(db, OPTIONS.large_table_rows), options=OPTIONS)]
        assert f"{db.dialect.display_name} fills existing rows with zero values" in message
    with_default = findings(db, db.schema.alter_table("t").add_column("x", "integer", lambda c: c.not_null().default_to(0)))
    assert "KS303" not in with_default
    if db.dialect.name == "postgres":
        volatile = findings(db, db.schema.alter_table("t").add_column("u", "uuid", lambda c: c.default_to(sql("gen_random_uuid()"))))
        assert volatile == {"KS207": Severity.ERROR}
        stable = findings(db, db.schema.alter_table("t").add_column("at", "timestamp", lambda c: c.default_to(sql("now()"))))
        assert stable == {}
        assert findings(db, db.schema.alter_table("t").add_column("seq", "bigserial"))["KS208"] is Severity.ERROR


def test_renames_break_running_code(db: Database) -> None:
    table_with_rows(db, 1)
    assert findings(db, db.schema.alter_table("t").rename_column("n", "m")) == {"KS302": Severity.WARNING}
    assert findings(db, db.schema.alter_table("t").rename_to("u")) == {"KS301": Severity.WARNING}


def test_large_update_recommends_backfill(db: Database) -> None:
    table_with_rows(db, 10)
    update = db.update_table("t").set({"n": 0})
    assert findings(db, update) == {"KS505": Severity.WARNING}
    with_ddl = findings(db, db.schema.alter_table("t").add_column("x", "integer"), update)
    expected = "KS504" if db.dialect.transactional_ddl else "KS505"
    assert expected in with_ddl


def test_unknown_raw_statement_is_reported_not_passed(db: Database) -> None:
    assert findings(db, sql("FROBNICATE the database")) == {"KS901": Severity.WARNING}


def test_concurrently_in_transaction_is_information(db: Database) -> None:
    if db.dialect.name != "postgres":
        pytest.skip("PostgreSQL only")
    table_with_rows(db, 10)
    assert findings(db, sql("CREATE INDEX CONCURRENTLY i ON t (n)")) == {"KS501": Severity.INFO}


def test_suppression(db: Database) -> None:
    table_with_rows(db, 2)
    assert findings(db, db.schema.alter_table("t").drop_column("n"), allow=frozenset({"KS102"})) == {}
    assert findings(db, sql("ALTER TABLE t DROP COLUMN n -- kysera:allow KS102")) == {}


def test_offline_assumes_large_tables(db: Database) -> None:
    statements = list(db.compile(db.schema.alter_table("t").drop_column("n")))
    found = analyze(statements, db.dialect, OfflineFacts())
    assert [(f.code, f.severity) for f in found] == [("KS102", Severity.ERROR)]


def test_unknown_codes_in_suppressions_are_errors() -> None:
    assert resolve_codes(["KS102", "drop-table"], "m") == {"KS102", "KS101"}
    with pytest.raises(ConfigurationError, match="KS999"):
        resolve_codes(["KS999"], "m")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("CREATE TABLE x (id int)", Harmless),
        ("TRUNCATE TABLE a, b CASCADE", Truncate),
        ("SELECT 1", Harmless),
        ("FROBNICATE", Unknown),
        ("CREATE TABLE café (id int)", Harmless),  # a name in any script
        ("DROP TABLE users # a MySQL comment", Unknown),  # what the lexer does not read stays unread
        ("TRUNCATE users; -- 'unterminated", Truncate),
        ("TRUNCATE 'users", Unknown),  # an unterminated string
        ("DO $$ BEGIN DROP TABLE audit_log; END $$", Unknown),  # code: a human reviews it
        ("CALL archive_everything()", Unknown),
        ("DROP TABLE IF EXISTS a, b CASCADE", DropTables),
        ("DROP TYPE IF EXISTS mood CASCADE", DropCascade),
        ("DROP DOMAIN positive CASCADE", DropCascade),
        ("DROP EXTENSION hstore CASCADE", DropCascade),
        ("DROP TYPE mood", Harmless),  # fails while a column uses it
        ("LOCK TABLE users IN ACCESS EXCLUSIVE MODE", Unknown),  # blocks everyone: a human reviews it
    ],
)
def test_raw_classification(text: str, kind: type) -> None:
    assert isinstance(classify(text), kind)


def test_raw_alter_table_becomes_nodes() -> None:
    from kysera.nodes import AddColumnNode, AlterTableNode, DropColumnNode

    node = classify('ALTER TABLE "Users" ADD COLUMN age integer NOT NULL DEFAULT 0, DROP COLUMN legacy')
    assert isinstance(node, AlterTableNode) and node.table.name == "Users"
    add, drop = node.actions
    assert isinstance(add, AddColumnNode) and add.column.not_null and add.column.default is not None
    assert isinstance(drop, DropColumnNode) and drop.column == "legacy"


def test_raw_statements_read_postgres_spellings() -> None:
    from kysera.nodes import AlterColumnNode, AlterTableNode, SetDataTypeNode, SetDefaultNode

    def alteration(text: str) -> object:
        node = classify(text)
        assert isinstance(node, AlterTableNode) and isinstance(node.actions[0], AlterColumnNode)
        return node.actions[0].alteration

    assert isinstance(alteration("ALTER TABLE t ALTER COLUMN c TYPE text USING c::text"), SetDataTypeNode)
    text = "ALTER TABLE t ALTER COLUMN c SET DEFAULT $body$it's; -- not a comment$body$"
    assert isinstance(alteration(text), SetDefaultNode)


def test_the_lexer_keeps_text_and_reads_dollar_quotes_only_when_asked() -> None:
    from kysera.dialects.sql_lexer import SqlParseError, render, tokenize

    text = "SELECT $a$ it's $a$, x::int -- done\n"
    tokens = tokenize(text, dollar_quotes=True)
    assert [t.kind for t in tokens] == ["word", "string", "punct", "word", "punct", "word"]
    assert tokens[1].value == " it's " and tokens[4].text == "::"
    assert render(tokens) == text.split(" --")[0]
    assert [t.kind for t in tokenize("SELECT $a")] == ["word", "variable"]  # SQLite's parameters
    with pytest.raises(SqlParseError, match="unterminated dollar-quoted string"):
        tokenize("SELECT $a$ never closed", dollar_quotes=True)


def test_enum_changes_from_the_builder_are_found_as_in_raw_sql(db: Database) -> None:
    if db.dialect.name != "postgres":
        pytest.skip("enum types of their own are PostgreSQL's")
    db.schema.create_type("mood").as_enum(["happy", "sad"]).execute()
    raw = findings(db, sql("ALTER TYPE mood ADD VALUE 'meh'"))
    assert raw == {"KS305": raw["KS305"]}
    assert findings(db, db.schema.alter_type("mood").add_value("meh")) == raw
    assert findings(db, db.schema.alter_type("mood").rename_value("sad", "blue")) == raw


def test_recipes_name_what_the_analysis_knows_and_fit_the_engine(db: Database) -> None:
    table_with_rows(db, 10)
    statements = [s for b in (db.schema.create_index("ix_t_email").unique().on("t").columns(["email", "n"]),
                              db.schema.alter_table("t").alter_column("n", lambda c: c.set_not_null()))
                  for s in db.compile(b)]
    found = {f.code: f for f in analyze(statements, db.dialect, LiveFacts(db, OPTIONS.large_table_rows), migration="m", options=OPTIONS)}
    if db.dialect.name == "postgres":
        recipe = found["KS201"].recipe
        assert '.unique().on("t").columns([\'email\', \'n\']).concurrently()' in recipe and "[...]" not in recipe
        assert "NOT VALID" in found["KS205"].recipe
    elif "KS205" in found:  # MySQL and SQLite: no PostgreSQL-only steps in the recipe
        assert "NOT VALID" not in found["KS205"].recipe and "validate_constraint" not in found["KS205"].recipe
        assert 'db.backfill("t"' in found["KS205"].recipe and "IS NULL')" in found["KS205"].recipe


def test_offline_a_materialized_view_or_unlogged_table_made_in_the_plan_is_new(db: Database) -> None:
    """docs/schema-builder.md's materialized view, with its unique index, in one migration: `migrate
    lint --dialect postgres` took the view for an existing large table and the index for a blocking
    build (KS201, an error); so with a raw CREATE MATERIALIZED VIEW, CREATE UNLOGGED TABLE."""
    if db.dialect.name != "postgres":
        pytest.skip("materialized views and unlogged tables are PostgreSQL's")
    view = db.schema.create_view("sales_by_day").materialized().as_(sql("SELECT 1 AS day"))
    index = db.schema.create_index("sales_by_day_day").on("sales_by_day").column("day").unique()
    raw_sql = [
        "CREATE MATERIALIZED VIEW IF NOT EXISTS mv AS SELECT 1 AS a",
        "CREATE INDEX mv_a ON mv (a)",
        "CREATE UNLOGGED TABLE scratch (a int)",
        "CREATE INDEX scratch_a ON scratch (a)",
    ]
    statements = [*db.compile(view), *db.compile(index), *(s for text in raw_sql for s in db.compile(sql(text)))]
    found = analyze(statements, db.dialect, OfflineFacts(), migration="m", transactional=True)
    assert [(f.code, f.severity) for f in found] == [("KS201", Severity.INFO)] * 3


def test_offline_an_update_in_a_ddl_transaction_counts_as_on_a_large_table(db: Database) -> None:
    table_with_rows(db, 1)
    statements = [s for b in (db.schema.alter_table("t").add_column("k", "integer"), db.update_table("t").set({"k": 1}))
                  for s in db.compile(b)]
    found = {f.code: f.severity for f in analyze(statements, db.dialect, OfflineFacts(), migration="m", transactional=True)}
    assert found.get("KS504") in (Severity.ERROR, None)
    if db.dialect.transactional_ddl:
        assert found["KS504"] is Severity.ERROR


def test_foreign_key_and_check_recipes_run_as_pasted(db: Database) -> None:
    """The recipes are kysera code: pasted as they are (a migration each), they do the change."""
    if db.dialect.name == "sqlite":
        pytest.skip("SQLite adds constraints by rebuilding the table: KS212, not these recipes")
    table_with_rows(db, 10)
    table_with_rows(db, 0, "p")
    db.update_table("t").set({"n": None}).execute()  # every row satisfies the key and the check
    statements = [s for b in (db.schema.alter_table("t").add_foreign_key_constraint("fk_t_p", ["n"], "p", ["id"]),
                              db.schema.alter_table("t").add_check_constraint("ck_t_n", sql("n >= 0")))
                  for s in db.compile(b)]
    found = analyze(statements, db.dialect, LiveFacts(db, OPTIONS.large_table_rows), migration="m", options=OPTIONS)
    recipes = {f.code: f.recipe for f in found}
    assert "['n'], \"p\", ['id']" in recipes["KS203"] and "sql('n >= 0')" in recipes["KS204"]
    for code in ("KS203", "KS204"):
        exec(recipes[code], {"db": db, "sql": sql})  # the recipe as the user pastes it
    if db.dialect.name == "postgres":
        rows = db.fetch("SELECT conname, convalidated FROM pg_constraint WHERE conname IN ('fk_t_p', 'ck_t_n') ORDER BY conname")
        assert rows == [{"conname": "ck_t_n", "convalidated": True}, {"conname": "fk_t_p", "convalidated": True}]
    else:
        rows = db.fetch(
            "SELECT CONSTRAINT_NAME AS name FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = DATABASE() "
            "AND TABLE_NAME = 't' AND CONSTRAINT_NAME IN ('fk_t_p', 'ck_t_n') ORDER BY CONSTRAINT_NAME"
        )
        assert [r["name"] for r in rows] == ["ck_t_n", "fk_t_p"]


def test_every_table_of_a_multi_table_drop_is_judged(db: Database) -> None:
    table_with_rows(db, 3)
    table_with_rows(db, 3, "u")
    found = analyze(list(db.compile(sql("DROP TABLE t, u"))), db.dialect, LiveFacts(db, OPTIONS.large_table_rows), migration="m", options=OPTIONS)
    assert sorted((f.code, f.table) for f in found) == [("KS101", "t"), ("KS101", "u")]


def test_mysql_backslash_escapes_are_read_there() -> None:
    """'it\\'s' is one string on MySQL (no 'unknown statement'), 'C:\\' one on PostgreSQL."""
    assert isinstance(classify("INSERT INTO posts VALUES (3, 'it\\'s')", "mysql"), Harmless)
    assert not isinstance(classify("UPDATE posts SET body = 'a\\'b' WHERE id = 1", "mysql"), Unknown)
    assert isinstance(classify("INSERT INTO paths VALUES ('C:\\')", "postgres"), Harmless)


def test_mysql_hash_comments_are_comments_there() -> None:
    from kysera.nodes import DeleteNode

    assert isinstance(classify("# note\nCREATE TABLE x (id int)", "mysql"), Harmless)
    node = classify("DELETE FROM t WHERE id = 1 # the one", "mysql")
    assert isinstance(node, DeleteNode) and node.where is not None
    assert isinstance(classify("DROP TABLE t # c", "postgres"), Unknown)  # not a comment there


def test_dropping_a_schema_or_a_type_with_what_depends_on_it_is_data_loss(db: Database) -> None:
    """The builder's drop_schema(...).cascade() (MySQL: any drop_schema, a DROP DATABASE) and
    drop_type(...).cascade() take tables or columns with them, as the same raw SQL does."""
    if db.dialect.name == "sqlite":
        pytest.skip("SQLite has neither schemas to drop nor types")
    schema = db.schema.drop_schema("other").cascade() if db.dialect.name == "postgres" else db.schema.drop_schema("other")
    assert findings(db, schema) == {"KS105": Severity.ERROR}
    if db.dialect.name == "postgres":
        assert findings(db, db.schema.drop_schema("other")) == {}  # fails unless the schema is empty
        assert findings(db, db.schema.drop_type("mood").cascade()) == {"KS107": Severity.ERROR}
        assert findings(db, db.schema.drop_type("mood")) == {}
        assert findings(db, sql("DROP TYPE mood CASCADE")) == {"KS107": Severity.ERROR}


def test_the_set_not_null_recipe_passes_on_postgres(db: Database) -> None:
    """KS205's recipe: a CHECK (col IS NOT NULL) added NOT VALID, validated, then SET NOT NULL,
    which PostgreSQL 12+ does without a scan. Validated in the transaction that added it, the scan
    holds the lock ADD CONSTRAINT took: that is refused (KS204); after an earlier migration it passes."""
    if db.dialect.name != "postgres":
        pytest.skip("the recipe is PostgreSQL's")
    table_with_rows(db, 10_000)
    db.execute("UPDATE t SET email = 'x'")
    add = sql('ALTER TABLE "t" ADD CONSTRAINT email_not_null CHECK ("email" IS NOT NULL) NOT VALID')
    validate = db.schema.alter_table("t").validate_constraint("email_not_null")
    set_not_null = db.schema.alter_table("t").alter_column("email", lambda col: col.set_not_null())
    drop = db.schema.alter_table("t").drop_constraint("email_not_null")
    assert findings(db, set_not_null)["KS205"] is Severity.ERROR  # no proof: a scan under the lock
    in_one = findings(db, add, validate, set_not_null, drop)
    assert in_one["KS205"] is Severity.INFO and in_one["KS204"] is Severity.ERROR
    assert "KS204" not in findings(db, add, validate, set_not_null, drop, transactional=False)
    assert findings(db, add, set_not_null)["KS205"] is Severity.ERROR  # added, never validated
    # the recipe as printed: the check added in one migration, validated in the next one, which
    # sets NOT NULL and drops the check (pending together, or the first applied already)
    created = PlanState()
    analyze(db.compile(add), db.dialect, LiveFacts(db, 5), migration="m1", options=OPTIONS, created=created)
    then = [s for b in (validate, set_not_null, drop) for s in db.compile(b)]
    found = analyze(then, db.dialect, LiveFacts(db, 5), migration="m2", options=OPTIONS, created=created)
    assert {f.code: f.severity for f in found}.get("KS205") is Severity.INFO, [str(f) for f in found]
    add.execute(db)
    assert findings(db, validate, set_not_null, drop)["KS205"] is Severity.INFO  # the check applied, not validated yet
    validate.execute()
    assert findings(db, set_not_null, drop)["KS205"] is Severity.INFO  # proven by the catalog
    assert findings(db, drop, set_not_null)["KS205"] is Severity.ERROR  # the proof dropped first


def test_validating_after_an_alter_table_of_the_same_table_is_blocking_on_postgres(db: Database) -> None:
    """VALIDATE CONSTRAINT lets reads and writes go on, but not after an ALTER TABLE of the same
    transaction: its ACCESS EXCLUSIVE lock is held for the whole scan. That passed without a word."""
    if db.dialect.name != "postgres":
        pytest.skip("PostgreSQL's VALIDATE CONSTRAINT")
    table_with_rows(db, 10)
    db.execute("ALTER TABLE t ADD CONSTRAINT n_positive CHECK (n >= 0) NOT VALID")
    validate = db.schema.alter_table("t").validate_constraint("n_positive")
    add_column = db.schema.alter_table("t").add_column("note", "text")
    assert findings(db, validate) == {}
    assert findings(db, validate, add_column) == {}  # validated first: the scan is done before the lock
    assert findings(db, add_column, validate) == {"KS503": Severity.ERROR}
    assert findings(db, add_column, validate, transactional=False) == {}  # each statement commits on its own


def raw_findings(db: Database, *texts: str) -> dict[str, Severity]:
    return findings(db, *(sql(text) for text in texts))


def test_unquoted_names_are_looked_up_as_the_engine_reads_them(db: Database) -> None:
    """PostgreSQL folds an unquoted name to lower case, SQLite ignores case: DROP TABLE T is the
    large table t, not an unknown empty one."""
    table_with_rows(db, 10)
    if db.dialect.name == "mysql":
        pytest.skip("MySQL's table names follow the file system's case rules")
    assert raw_findings(db, "DROP TABLE T") == {"KS101": Severity.ERROR}
    assert raw_findings(db, "DELETE FROM T") == {"KS104": Severity.ERROR}
    assert raw_findings(db, "ALTER TABLE T DROP COLUMN N")["KS102"] is Severity.ERROR


def test_create_table_if_not_exists_of_an_old_table_does_not_make_it_new(db: Database) -> None:
    table_with_rows(db, 10)
    made = db.schema.create_table("t").if_not_exists().add_column("id", "integer")
    assert findings(db, made, db.schema.alter_table("t").drop_column("n"))["KS102"] is Severity.ERROR
    assert raw_findings(db, "CREATE TABLE IF NOT EXISTS t (id integer)", "ALTER TABLE t DROP COLUMN n")["KS102"] is Severity.ERROR
    fresh = raw_findings(db, "CREATE TABLE IF NOT EXISTS fresh (id integer, v integer)", "ALTER TABLE fresh DROP COLUMN v")
    assert fresh["KS102"] is Severity.INFO


def test_a_delete_inside_with_is_judged(db: Database) -> None:
    table_with_rows(db, 10)
    if db.dialect.name == "mysql":
        pytest.skip("MySQL's WITH takes no DELETE inside")
    assert raw_findings(db, "WITH d AS (DELETE FROM t RETURNING id) SELECT count(*) FROM d") == {"KS104": Severity.ERROR}
    assert raw_findings(db, "WITH d AS (SELECT 1) DELETE FROM t") == {"KS104": Severity.ERROR}
    assert raw_findings(db, "WITH d AS (SELECT id FROM t) SELECT * FROM d") == {}


def test_raw_column_additions_are_judged_as_the_builders(db: Database) -> None:
    table_with_rows(db, 10)
    table_with_rows(db, 0, "p")
    if db.dialect.name == "postgres":
        assert "KS203" in raw_findings(db, "ALTER TABLE t ADD COLUMN p_id integer REFERENCES p(id)")
        assert "KS204" in raw_findings(db, "ALTER TABLE t ADD COLUMN score integer CHECK (score > 0)")
        assert "KS901" in raw_findings(db, "ALTER TABLE t ADD EXCLUDE USING btree (n WITH =)")
    if db.dialect.name == "mysql":
        assert "KS901" in raw_findings(db, "ALTER TABLE t ADD FULLTEXT INDEX ft (email)")
        assert raw_findings(db, "ALTER TABLE t ADD COLUMN z integer, ALGORITHM=COPY")["KS213"] is Severity.ERROR
        changed = raw_findings(db, "ALTER TABLE t CHANGE COLUMN n n2 smallint")
        assert changed["KS106"] is Severity.ERROR and "KS302" in changed
        assert "KS206" not in raw_findings(db, "ALTER TABLE t CHANGE COLUMN n n2 int")  # a rename only


@pytest.mark.parametrize(
    ("old", "new", "engine", "change"),
    [
        ("timestamp without time zone", "date", "postgres", "narrowing"),
        ("datetime", "date", "mysql", "narrowing"),
        ("datetime", "timestamp", "mysql", "other"),
        ("timestamp", "datetime", "mysql", "other"),
        ("timestamp(3) without time zone", "timestamp(6)", "postgres", "widening-free"),
        ("timestamp(3) with time zone", "timestamptz", "postgres", "widening-free"),
        ("time(2) without time zone", "time(5)", "postgres", "widening-free"),
        ("interval(2)", "interval", "postgres", "widening-free"),
        ("timestamp without time zone", "timestamp(3)", "postgres", "narrowing"),
        ("datetime(3)", "datetime(6)", "mysql", "other"),
        ("datetime(3)", "datetime", "mysql", "narrowing"),
        ("numeric(10,2)", "numeric(12,2)", "postgres", "widening-free"),
        ("numeric(10,2)", "numeric", "postgres", "widening-free"),
        ("numeric(10,2)", "numeric(10,1)", "postgres", "narrowing"),
        ("decimal(10,2)", "decimal", "mysql", "narrowing"),
        ("text", "varchar", "postgres", "widening-free"),
        ("text", "varchar(10)", "postgres", "narrowing"),
        ("int(10) unsigned", "int", "mysql", "narrowing"),
        ("int(11)", "int unsigned", "mysql", "narrowing"),
        ("int(11)", "int", "mysql", "widening-free"),
        ("varchar(50)", "varchar(60)", "mysql", "widening-free"),
        ("varchar(50)", "varchar(100)", "mysql", "other"),
        ("character varying(50)", "varchar(100)", "postgres", "widening-free"),
        ("integer", "bigint", "postgres", "other"),
        ("bigint", "int", "postgres", "narrowing"),
        ("double precision", "integer", "postgres", "narrowing"),
        ("integer", "text", "postgres", "other"),
    ],
)
def test_type_changes_that_lose_data_are_narrowing(old: str, new: str, engine: str, change: str) -> None:
    from kysera.safety.analyzer import _type_change

    assert _type_change(old, new, engine) == change


def test_a_default_calling_a_volatile_function_rewrites_the_table_on_postgres(db: Database) -> None:
    """Volatility comes from the catalog, not from a list of names: a user's VOLATILE function
    rewrites every row; now() (STABLE) and lower() (IMMUTABLE) do not."""
    if db.dialect.name != "postgres":
        pytest.skip("PostgreSQL's fast defaults")
    table_with_rows(db, 10)
    db.execute("CREATE FUNCTION pick() RETURNS integer VOLATILE LANGUAGE sql AS 'SELECT 1'")
    db.execute("CREATE FUNCTION fixed() RETURNS integer IMMUTABLE LANGUAGE sql AS 'SELECT 1'")

    def add(default: str) -> dict[str, Severity]:
        return findings(db, db.schema.alter_table("t").add_column("c", "integer", lambda col: col.default_to(sql(default))))

    assert add("pick()") == {"KS207": Severity.ERROR}
    assert add("public.pick() + 1") == {"KS207": Severity.ERROR}
    assert add("no_such_function()") == {"KS207": Severity.ERROR}  # unknown: it may be anything
    assert add("fixed()") == {}
    assert add("extract(epoch FROM now())::integer") == {}
    assert add("length(lower('X'))") == {}


def test_dropping_a_column_the_table_does_not_have_says_it_may_be_misspelt(db: Database) -> None:
    """A misspelt drop_column: the finding says the table has no such column (it stays data loss:
    an earlier pending migration may rename a column with data to that name)."""
    table_with_rows(db, 10)
    drop = db.schema.alter_table("t").drop_column("emial")
    if db.dialect.name == "sqlite":
        with pytest.raises(BuilderError, match="does not exist"):
            findings(db, drop)
        return
    found = analyze(list(db.compile(drop)), db.dialect, LiveFacts(db, OPTIONS.large_table_rows), migration="m", options=OPTIONS)
    ks102 = next(f for f in found if f.code == "KS102")
    assert ks102.severity is Severity.ERROR and "t has no column emial now: misspelt?" in ks102.message
    found = analyze(list(db.compile(db.schema.alter_table("t").drop_column("email"))), db.dialect,
                    LiveFacts(db, OPTIONS.large_table_rows), migration="m", options=OPTIONS)
    assert "misspelt" not in next(f for f in found if f.code == "KS102").message


def test_the_backfill_recipe_keeps_the_updates_own_where(db: Database) -> None:
    """Pasted as is, the recipe must update the rows the UPDATE would, and skip those done."""
    table_with_rows(db, 10)
    update = db.update_table("t").set({"email": "archived"}).where(sql("n <= 5"))
    found = analyze(list(db.compile(update)), db.dialect, LiveFacts(db, OPTIONS.large_table_rows), migration="m",
                    transactional=False, options=OPTIONS)
    recipe = next(f.recipe for f in found if f.code == "KS505")
    assert "(n <= 5) AND " in recipe and "archived" in recipe.split("where=")[1]
    counter = db.update_table("t").set({"n": sql("n + 1")})
    found = analyze(list(db.compile(counter)), db.dialect, LiveFacts(db, OPTIONS.large_table_rows), migration="m",
                    transactional=False, options=OPTIONS)
    assert "<a condition false for the rows already done>" in next(f.recipe for f in found if f.code == "KS505")
    # raw SQL's SET is not read: the recipe said set={}, which db.backfill refuses
    found = analyze(list(db.compile(sql("UPDATE t SET email = 'archived'"))), db.dialect, LiveFacts(db, OPTIONS.large_table_rows),
                    migration="m", transactional=False, options=OPTIONS)
    assert "set={<the column: value pairs of the UPDATE's SET>}" in next(f.recipe for f in found if f.code == "KS505")


def test_a_primary_key_using_a_unique_index_is_judged_by_its_columns(db: Database) -> None:
    """PostgreSQL's PRIMARY KEY USING INDEX (KS211's recipe) builds nothing, but sets NOT NULL on
    the index's columns: a scan under ACCESS EXCLUSIVE for a nullable one, unless a validated
    CHECK (col IS NOT NULL) proves it (KS214). Measured on 3M rows: 99 ms without the proof, 0.8 with."""
    if db.dialect.name != "postgres":
        with pytest.raises(UnsupportedError, match="not supported"):
            db.schema.alter_table("t").add_primary_key_constraint("t_pkey", using_index="t_ix").compile()
        return
    db.execute("CREATE TABLE t (id integer, code integer NOT NULL, email text)")
    db.execute("INSERT INTO t SELECT g, g, 'x' FROM generate_series(1, 50) g")
    db.execute("CREATE UNIQUE INDEX t_id_ix ON t (id)")
    db.execute("CREATE UNIQUE INDEX t_code_ix ON t (code)")
    by_id = db.schema.alter_table("t").add_primary_key_constraint("t_pkey", using_index="t_id_ix")
    assert findings(db, by_id) == {"KS214": Severity.ERROR}
    assert "sets NOT NULL on id" in str(analyze(by_id.compile(), db.dialect, LiveFacts(db, 5), migration="m", options=OPTIONS)[0])
    assert findings(db, sql('ALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX "t_id_ix"')) == {"KS214": Severity.ERROR}
    assert findings(db, sql("ALTER TABLE t ADD PRIMARY KEY USING INDEX T_ID_IX")) == {"KS214": Severity.ERROR}  # folded
    # a NOT NULL column, or one a validated CHECK proves: nothing to scan, nothing built
    assert findings(db, db.schema.alter_table("t").add_primary_key_constraint("t_pkey", using_index="t_code_ix")) == {}
    db.execute("ALTER TABLE t ADD CONSTRAINT id_nn CHECK (id IS NOT NULL)")
    assert findings(db, by_id) == {}
    # an index this plan creates is not in the catalog yet: a warning that says so
    later = db.schema.alter_table("t").add_primary_key_constraint("t_pkey", using_index="t_new_ix")
    assert findings(db, later) == {"KS214": Severity.WARNING}
    # the builder's form runs, and the unique constraint's form judges no build
    by_id.execute()
    assert db.introspect_table("t").primary_key == ("id",)  # type: ignore[union-attr]
    unique = db.schema.alter_table("t").add_unique_constraint("t_code_ix", using_index="t_code_ix")
    assert findings(db, unique) == {}
    unique.execute()
    assert [u.name for u in db.introspect_table("t").unique_constraints] == ["t_code_ix"]  # type: ignore[union-attr]


def test_a_renamed_table_keeps_its_rows_for_the_analysis(db: Database) -> None:
    """Renamed (or moved) earlier in the plan, a table is not in the catalog under its new name
    yet: it counted as empty, and dropping it passed as 'the table is empty' (20,000 rows lost)."""
    table_with_rows(db, 10, "parents")
    created = PlanState()
    rename = db.schema.alter_table("parents").rename_to("parents_old")
    analyze(db.compile(rename), db.dialect, LiveFacts(db, 5), migration="m1", options=OPTIONS, created=created)
    drop = db.compile(db.schema.drop_table("parents_old"))
    found = analyze(drop, db.dialect, LiveFacts(db, 5), migration="m2", options=OPTIONS, created=created)
    assert {f.code: f.severity for f in found}["KS101"] is Severity.ERROR
    # both in one migration, as raw SQL
    assert raw_findings(db, 'ALTER TABLE "parents" RENAME TO "parents_old"', 'DROP TABLE "parents_old"')["KS101"] is Severity.ERROR
    # a table this plan made stays new under its new name
    made = PlanState()
    fresh = db.schema.create_table("made").add_column("id", "integer")
    analyze(db.compile(fresh), db.dialect, LiveFacts(db, 5), migration="m1", options=OPTIONS, created=made)
    analyze(db.compile(db.schema.alter_table("made").rename_to("made2")), db.dialect, LiveFacts(db, 5), migration="m2", options=OPTIONS, created=made)
    found = analyze(db.compile(db.schema.drop_table("made2")), db.dialect, LiveFacts(db, 5), migration="m3", options=OPTIONS, created=made)
    assert {f.code: f.severity for f in found}["KS101"] is Severity.INFO


def test_a_table_renamed_away_keeps_its_rows_when_a_new_one_takes_its_name(db: Database) -> None:
    """Rename t to t_old, create a new t, drop t_old (the swap pattern): t_old was judged by the
    new t, made in this migration, so dropping it and its rows passed as information."""
    table_with_rows(db, 10, "parents")
    swap = (
        db.schema.alter_table("parents").rename_to("parents_old"),
        db.schema.create_table("parents").add_column("id", "integer"),
        db.schema.drop_table("parents_old"),
    )
    assert findings(db, *swap)["KS101"] is Severity.ERROR
    assert raw_findings(db, "ALTER TABLE parents RENAME TO parents_old", "CREATE TABLE parents (id integer)",
                        "DROP TABLE parents_old")["KS101"] is Severity.ERROR
    # across the migrations of one plan too
    plan = PlanState()
    for step, builder in enumerate(swap):
        found = analyze(db.compile(builder), db.dialect, LiveFacts(db, 5), migration=f"m{step}", options=OPTIONS, created=plan)
    assert {f.code: f.severity for f in found}["KS101"] is Severity.ERROR
    # the new table itself is still new
    assert findings(db, *swap[:2], db.schema.drop_table("parents"))["KS101"] is Severity.INFO


@pytest.mark.parametrize("engine", ["postgres", "mysql"])
def test_unique_and_primary_key_recipes_run_as_printed(db: Database, engine: str) -> None:
    """The recipes of KS210 and KS211 said .columns([...]) (a list holding Ellipsis: 'an index
    column is a name or sql(...), got Ellipsis') though the analysis knew the columns, and on
    MySQL/MariaDB they were PostgreSQL's (using_index=, which MariaDB refuses); MariaDB adds a
    primary key in place, reads and writes going on, yet it was an error 'under an exclusive lock'."""
    table_with_rows(db, 10)
    db.execute(sql("CREATE TABLE k (code integer NOT NULL, n integer)"))
    db.execute(sql("INSERT INTO k (code, n) VALUES " + ", ".join(f"({i}, {i})" for i in range(10))))
    changes = {
        "KS210": db.schema.alter_table("t").add_unique_constraint("t_email_key", ["email"]),
        "KS211": db.schema.alter_table("k").add_primary_key_constraint("k_pkey", ["code"]),
    }
    for code, change in changes.items():
        statements = list(db.compile(change))  # type: ignore[arg-type]
        found = [f for f in analyze(statements, db.dialect, LiveFacts(db, 5), options=OPTIONS) if f.code == code]
        assert found and "[...]" not in found[0].recipe and "<" not in found[0].recipe, found[0].recipe
        exec(found[0].recipe, {"db": db, "sql": sql})  # as a migration would run it
    if db.dialect.display_name == "MariaDB":
        assert found[0].severity is Severity.WARNING  # in place, LOCK=NONE
    assert [u.columns for u in db.introspect_table("t").unique_constraints] == [("email",)]  # type: ignore[union-attr]
    assert db.introspect_table("k").primary_key == ("code",)  # type: ignore[union-attr]


@pytest.mark.parametrize("engine", ["postgres"])
def test_a_nulls_not_distinct_unique_constraints_recipe_keeps_it(db: Database, engine: str) -> None:
    """KS210's recipe for a UNIQUE NULLS NOT DISTINCT constraint built a plain unique index and
    attached it: a constraint that lets rows repeat a NULL, not the one asked for; raw SQL's
    `ADD UNIQUE NULLS NOT DISTINCT (...)` was read as a constraint called "nulls"."""
    table_with_rows(db, 10)
    changes = [
        db.schema.alter_table("t").add_unique_constraint("t_email_n_key", ["email", "n"], nulls_not_distinct=True),
        sql("ALTER TABLE t ADD UNIQUE NULLS NOT DISTINCT (email, n)"),
    ]
    for change in changes:
        statements = list(db.compile(change))  # type: ignore[arg-type]
        found = [f for f in analyze(statements, db.dialect, LiveFacts(db, 5), options=OPTIONS) if f.code == "KS210"]
        assert ".unique().nulls_not_distinct().concurrently()" in found[0].recipe, found[0].recipe
    assert '"nulls"' not in found[0].recipe
    exec(
        next(f for f in analyze(list(db.compile(changes[0])), db.dialect, LiveFacts(db, 5), options=OPTIONS)).recipe,
        {"db": db, "sql": sql},
    )
    db.execute(sql("INSERT INTO t (email, n) VALUES (NULL, 1)"))
    with pytest.raises(Exception, match="duplicate key"):
        db.execute(sql("INSERT INTO t (email, n) VALUES (NULL, 1)"))  # the constraint asked for


def test_index_actions_of_alter_table_are_read_as_the_engine_reads_them(db: Database) -> None:
    """MySQL's ALTER TABLE t RENAME INDEX a TO b was read as renaming a column called INDEX
    (KS302 'renames column INDEX to TO'), and ADD INDEX / DROP INDEX, which InnoDB does in place
    as it does create_index, were 'unknown' (KS901) on every run. Elsewhere DROP key drops a
    column called key: it was taken for MySQL's DROP KEY and its data loss reported as 'unknown'."""
    table_with_rows(db, 10)
    if db.dialect.name == "mysql":
        db.execute(sql("CREATE INDEX ix_t_n ON t (n)"))
        assert raw_findings(db, "ALTER TABLE t RENAME INDEX ix_t_n TO ix_t_n2") == {}
        assert raw_findings(db, "ALTER TABLE t ADD INDEX ix_t_email (email), ALGORITHM=INPLACE, LOCK=NONE") == {}
        assert raw_findings(db, "ALTER TABLE t ADD KEY (email)") == {}
        assert raw_findings(db, "ALTER TABLE t DROP KEY ix_t_n") == {}
        assert raw_findings(db, "ALTER TABLE t DROP INDEX ix_t_n, DROP COLUMN email") == {"KS102": Severity.ERROR}
        assert raw_findings(db, "ALTER TABLE t ADD INDEX ix_t_email (email), ALGORITHM=COPY") == {"KS213": Severity.ERROR}
        assert raw_findings(db, "ALTER TABLE t ADD FULLTEXT INDEX ft (email)") == {"KS901": Severity.WARNING}
    else:
        db.execute(sql("ALTER TABLE t ADD COLUMN key text"))
        assert raw_findings(db, "ALTER TABLE t DROP key") == {"KS102": Severity.ERROR}
        assert raw_findings(db, "ALTER TABLE t RENAME key TO k2") == {"KS302": Severity.WARNING}


def test_truncate_of_a_qualified_table_names_the_table_not_its_schema(db: Database) -> None:
    """TRUNCATE app.orders was read as a table called app, unknown and so empty: 'info'."""
    from kysera.nodes import IdentifierNode

    node = classify("TRUNCATE TABLE app.orders, ONLY other.t CASCADE", db.dialect.name)
    assert isinstance(node, Truncate)
    assert node.tables[0] == IdentifierNode("orders", "app")
    if db.dialect.name == "postgres":
        db.execute("CREATE SCHEMA app")
        db.execute("CREATE TABLE app.orders (id integer)")
        db.execute("INSERT INTO app.orders SELECT g FROM generate_series(1, 10) g")
        assert raw_findings(db, "TRUNCATE app.orders") == {"KS103": Severity.ERROR}


def test_mysql_modify_column_and_its_raw_forms_are_judged(db: Database) -> None:
    """The builder's modify_column was not analysed at all (varchar(50) -> varchar(5) applied
    unjudged); raw MODIFY ... NOT NULL lost its NOT NULL; VARCHAR -> TEXT passed as free, where
    MySQL/MariaDB copy the table."""
    if db.dialect.name != "mysql":
        pytest.skip("MODIFY COLUMN is MySQL's")
    table_with_rows(db, 10)
    narrow = db.schema.alter_table("t").modify_column("email", "varchar(5)")
    assert findings(db, narrow)["KS106"] is Severity.ERROR
    assert "KS206" in findings(db, db.schema.alter_table("t").modify_column("n", "bigint"))
    not_null = findings(db, db.schema.alter_table("t").modify_column("email", "varchar(100)", lambda c: c.not_null()))
    assert not_null["KS205"] is Severity.WARNING
    assert raw_findings(db, "ALTER TABLE t MODIFY email varchar(100) NOT NULL")["KS205"] is Severity.WARNING
    assert raw_findings(db, "ALTER TABLE t MODIFY email text")["KS206"] is Severity.ERROR
    assert findings(db, db.schema.alter_table("t").alter_column("email", lambda c: c.set_data_type("text")))["KS206"] is Severity.ERROR


def test_mysql_enum_and_set_values_added_at_the_end_are_instant(db: Database) -> None:
    """Adding ENUM or SET values at the end (the value size kept) is only metadata to InnoDB, yet
    it was KS206 "copies the table", an error that stopped the run on a large table; a value
    taken away loses the rows that hold it."""
    if db.dialect.name != "mysql":
        pytest.skip("ENUM and SET columns are MySQL's")
    table_with_rows(db, 10)
    db.execute("ALTER TABLE t ADD COLUMN e enum('a','b') DEFAULT 'a', ADD COLUMN s set('x','y')")
    added = findings(db, db.schema.alter_table("t").alter_column("e", lambda c: c.set_data_type("enum('a', 'b', 'c')")))
    assert added == {"KS305": Severity.WARNING}
    assert findings(db, db.schema.alter_table("t").modify_column("s", "set('x','y','z')")) == {"KS305": Severity.WARNING}
    assert raw_findings(db, "ALTER TABLE t MODIFY e enum('a','b','it''s') DEFAULT 'a'") == {"KS305": Severity.WARNING}
    db.execute("ALTER TABLE t MODIFY e enum('a','b','c') DEFAULT 'a', ALGORITHM=INSTANT")  # as InnoDB has it
    assert findings(db, db.schema.alter_table("t").modify_column("e", "enum('c','a','b')"))["KS206"] is Severity.ERROR
    removed = findings(db, db.schema.alter_table("t").modify_column("e", "enum('a','b')"))
    assert removed["KS106"] is Severity.ERROR and removed["KS206"] is Severity.ERROR
    nine = "set(" + ",".join(f"'{v}'" for v in "xyabcdefg") + ")"  # two bytes a value, not one
    assert findings(db, db.schema.alter_table("t").modify_column("s", nine))["KS206"] is Severity.ERROR
    # the portable enum_type too (its type was read as "", so "changes the type of e ... to : ")
    portable = enum_type("e", ["a", "b", "c", "d"])
    assert findings(db, db.schema.alter_table("t").alter_column("e", lambda c: c.set_data_type(portable))) == {"KS305": Severity.WARNING}


def test_mysql_enum_values_keep_their_case_when_values_are_added(db: Database) -> None:
    """The new type was lower-cased before its values were compared with the column's: adding
    'Pending' to enum('Active','Inactive') read as taking 'Active' away (KS106, an error saying
    data would be lost) and copying the table (KS206)."""
    if db.dialect.name != "mysql":
        pytest.skip("ENUM and SET columns are MySQL's")
    table_with_rows(db, 10)
    db.execute("ALTER TABLE t ADD COLUMN e enum('Active','Inactive') DEFAULT 'Active'")
    added = "enum('Active','Inactive','Pending')"
    assert findings(db, db.schema.alter_table("t").modify_column("e", added)) == {"KS305": Severity.WARNING}
    assert findings(db, db.schema.alter_table("t").alter_column("e", lambda c: c.set_data_type(added))) == {"KS305": Severity.WARNING}
    assert raw_findings(db, f"ALTER TABLE t MODIFY e {added} DEFAULT 'Active'") == {"KS305": Severity.WARNING}
    portable = enum_type("e", ["Active", "Inactive", "Pending"])
    assert findings(db, db.schema.alter_table("t").alter_column("e", lambda c: c.set_data_type(portable))) == {"KS305": Severity.WARNING}
    # a value whose case changes is one taken away (and another added)
    renamed = findings(db, db.schema.alter_table("t").modify_column("e", "enum('active','Inactive')"))
    assert renamed["KS106"] is Severity.ERROR


def test_a_raw_volatile_default_is_seen_in_any_expression(db: Database) -> None:
    """DEFAULT 1 + random() and DEFAULT pg_catalog.gen_random_uuid() were read as their first
    word: a constant, so no KS207, while PostgreSQL rewrote the table."""
    if db.dialect.name != "postgres":
        pytest.skip("PostgreSQL's fast defaults")
    table_with_rows(db, 10)
    assert raw_findings(db, 'ALTER TABLE t ADD COLUMN r float DEFAULT 1 + random()')["KS207"] is Severity.ERROR
    assert raw_findings(db, 'ALTER TABLE t ADD COLUMN u uuid DEFAULT pg_catalog.gen_random_uuid()')["KS207"] is Severity.ERROR
    assert "KS207" not in raw_findings(db, "ALTER TABLE t ADD COLUMN k integer DEFAULT 1 + 2 NOT NULL")
    assert "KS207" not in raw_findings(db, "ALTER TABLE t ADD COLUMN s text DEFAULT NULL")


def test_mysql_short_form_of_a_stored_generated_column_is_judged(db: Database) -> None:
    """ADD COLUMN g int AS (n * 2) STORED (or PERSISTENT) copies the table as the long form does."""
    if db.dialect.name != "mysql":
        pytest.skip("MySQL's short form")
    table_with_rows(db, 10)
    for stored in ("STORED", "PERSISTENT"):
        assert raw_findings(db, f"ALTER TABLE t ADD COLUMN g int AS (n * 2) {stored}")["KS209"] is Severity.ERROR
    assert "KS209" not in raw_findings(db, "ALTER TABLE t ADD COLUMN g int AS (n * 2) VIRTUAL")


def test_recipes_fill_in_the_types_expressions_and_names_the_migration_wrote(db: Database) -> None:
    """No "<type>" to retype: the recipe says the column's type, its default's SQL, the new name."""
    table_with_rows(db, 10)
    builders: list[object] = [
        db.schema.alter_table("t").add_column("nick", "varchar(40)", lambda c: c.not_null()),
        db.schema.alter_table("t").rename_column("email", "mail"),
    ]
    if db.dialect.name == "postgres":
        builders.append(db.schema.alter_table("t").add_column("seen", "timestamptz", lambda c: c.default_to(sql("clock_timestamp()"))))
        builders.append(db.schema.alter_table("t").alter_column("n", lambda c: c.set_data_type("bigint")))
    statements = [s for b in builders for s in db.compile(b)]  # type: ignore[arg-type]
    found = {f.code: f.recipe for f in analyze(statements, db.dialect, LiveFacts(db, OPTIONS.large_table_rows), migration="m", options=OPTIONS)}
    assert '.add_column("nick", "varchar(40)")' in found["KS303"]
    old_type = "character varying(100)" if db.dialect.name == "postgres" else "varchar(100)"  # as the catalog says it
    assert f'.add_column("mail", "{old_type}")' in found["KS302"] and 'sql("mail IS NULL")' in found["KS302"]
    if db.dialect.name == "postgres":
        assert '.add_column("seen", "timestamptz")' in found["KS207"] and 'sql("clock_timestamp()")' in found["KS207"]
        assert '.add_column("n_new", "bigint")' in found["KS206"]
    assert not any("<type>" in r or "<expr>" in r or "<new name>" in r or "<new type>" in r for r in found.values())
    renamed = [s for s in db.compile(db.schema.alter_table("t").rename_to("t_new"))]
    [rename] = analyze(renamed, db.dialect, LiveFacts(db, OPTIONS.large_table_rows), migration="m", options=OPTIONS)
    assert f"SELECT * FROM {db.dialect.compiler().quote('t_new')}" in rename.recipe and "<new name>" not in rename.recipe
    exec(found["KS303"].splitlines()[0], {"db": db, "sql": sql})  # the first step, as the user pastes it
    assert db.introspect_table("t").column("nick").nullable  # type: ignore[union-attr]


def test_the_recipe_for_a_not_null_column_without_default_runs_without_an_error(db: Database) -> None:
    """Followed step by step (one migration per "# next migration"), the KS303 recipe runs on a
    large table. On PostgreSQL its last step used to be a plain set_not_null(): refused (KS205)."""
    from kysera.migrations import Migration, create_migration_runner

    table_with_rows(db, 10)
    [finding] = analyze(db.compile(db.schema.alter_table("t").add_column("nick", "integer", lambda c: c.not_null())),
                        db.dialect, LiveFacts(db, OPTIONS.large_table_rows), migration="m", options=OPTIONS)
    steps = [s for s in finding.recipe.replace("<value>", "0").split("# next migration") if s.strip()]

    def migration(i: int, text: str) -> Migration:
        code = "\n".join(line for line in text.splitlines()[(1 if i else 0):] if not line.startswith("#"))
        return Migration(f"{i:03}_nick", lambda db: exec(code, {"db": db, "sql": sql}))

    runner = create_migration_runner(db, [migration(i, step) for i, step in enumerate(steps)], large_table_rows=OPTIONS.large_table_rows)
    assert runner.up().executed == [f"{i:03}_nick" for i in range(len(steps))]
    assert not db.introspect_table("t").column("nick").nullable  # type: ignore[union-attr]


def test_an_insert_is_classified_from_its_first_word(db: Database, tmp_path: Path) -> None:
    """A data file of INSERTs (5 MB, 45,000 statements) spent most of `migrate lint` and of the
    check before `up` in the lexer, which read each INSERT character by character to find that it
    adds rows; and an INSERT with a MySQL user variable was 'unknown' (KS901)."""
    from kysera.migrations import create_migration_runner
    from kysera.safety import raw

    for text in ("INSERT INTO t VALUES (@x)", "/* rows */ insert into t select * from u", "-- c\nINSERT INTO t VALUES ('a\\')"):
        assert raw.classify(text, db.dialect.name) == raw.Harmless("INSERT")
    assert isinstance(raw.classify("WITH d AS (DELETE FROM t RETURNING *) INSERT INTO u SELECT * FROM d", "postgres"), raw.DeleteNode)
    rows = "\n".join(f"INSERT INTO many (id, note) VALUES ({i}, 'row {i}; -- not a comment');" for i in range(5000))
    (tmp_path / "001_many.sql").write_text(f"-- migrate:up\nCREATE TABLE many (id integer PRIMARY KEY, note varchar(50));\n{rows}\n")
    result = create_migration_runner(db, tmp_path).up()
    assert result.findings == [] and db.fetch("SELECT COUNT(*) AS n FROM many") == [{"n": 5000}]


def test_statements_that_rebuild_a_table_or_its_indexes_are_judged_not_left_to_review(db: Database) -> None:
    """VACUUM FULL, CLUSTER, SET TABLESPACE / LOGGED / UNLOGGED and a REINDEX without
    CONCURRENTLY were a KS901 "review" warning, so the gate let them run: each holds a lock that
    stops writes (VACUUM FULL and CLUSTER reads too) for as long as it takes on a large table.
    MySQL's CONVERT TO CHARACTER SET copies the table."""
    table_with_rows(db, 10)
    table_with_rows(db, 2, "small")
    engine = db.dialect.name
    if engine == "postgres":
        for text in ("VACUUM FULL t", "VACUUM (FULL, ANALYZE) t", "CLUSTER t USING t_pkey", "CLUSTER t_pkey ON t",
                     "ALTER TABLE t SET UNLOGGED", "ALTER TABLE t SET LOGGED", "ALTER TABLE t SET TABLESPACE pg_default"):
            found = raw_findings(db, text)
            found.pop("KS501", None)  # VACUUM runs outside a transaction (information)
            assert found == {"KS215": Severity.ERROR}, text
        assert raw_findings(db, "VACUUM FULL small")["KS215"] is Severity.INFO
        assert raw_findings(db, "VACUUM FULL")["KS215"] is Severity.ERROR  # every table
        assert raw_findings(db, "REINDEX TABLE t") == {"KS216": Severity.ERROR}
        assert raw_findings(db, "REINDEX INDEX t_pkey") == {"KS216": Severity.ERROR}  # its table, from the catalog
        assert raw_findings(db, "REINDEX TABLE small") == {"KS216": Severity.INFO}
        # what lets reads and writes go on is not reported
        assert "KS901" not in raw_findings(db, "VACUUM t") and "KS215" not in raw_findings(db, "VACUUM t")
        assert "KS215" not in raw_findings(db, "VACUUM (FULL false) t")
        assert set(raw_findings(db, "REINDEX TABLE CONCURRENTLY t")) <= {"KS501"}  # (outside a transaction)
        statements = db.compile(sql("REINDEX TABLE t"))
        [finding] = analyze(statements, db.dialect, LiveFacts(db, 5), migration="m", options=OPTIONS)
        assert "REINDEX TABLE CONCURRENTLY \"t\"" in finding.recipe
    elif engine == "mysql":
        assert raw_findings(db, "ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4") == {"KS213": Severity.ERROR}
        assert raw_findings(db, "ALTER TABLE small CONVERT TO CHARACTER SET utf8mb4") == {"KS213": Severity.INFO}
    else:  # SQLite: one writer holds the whole database during a migration anyway
        assert set(raw_findings(db, "VACUUM")) <= {"KS501"}
        assert raw_findings(db, "REINDEX t") == {}
