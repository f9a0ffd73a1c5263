"""The data side a migration uses (insert, select, update, delete, filters), on every engine:
what it matches, and that what it shows is what it runs."""

from __future__ import annotations

import pytest

from kysera import Database, excluded, sql
from kysera.errors import BuilderError, UnsupportedError
from kysera.nodes import ValueNode


def _rows(db: Database) -> None:
    db.execute("CREATE TABLE items (id integer PRIMARY KEY, kind varchar(10), tenant integer)")
    db.insert_into("items").values([{"id": i, "kind": k, "tenant": i % 2} for i, k in enumerate("abab", 1)]).execute()


def _ids(db: Database) -> list[int]:
    return sorted(int(r["id"]) for r in db.select_from("items").select("id").execute())  # type: ignore[call-overload]


def test_a_raw_filter_with_or_stays_one_term_next_to_other_wheres(db: Database) -> None:
    """AND binds tighter than OR: a raw fragment's OR must not swallow the other filters (it
    used to delete every row of every tenant here)."""
    _rows(db)
    assert len(db.select_from("items").where("tenant", "=", 1).where(sql("kind = 'a' OR kind = 'b'")).execute()) == 2
    assert db.select_from("items").where(sql("id = 2 OR id = 4")).where("id", "=", 1).execute().rows == []
    assert db.delete_from("items").where("tenant", "=", 1).where(sql("kind = 'a' OR kind = 'b'")).execute().rowcount == 2
    assert _ids(db) == [2, 4]


def test_empty_lists_in_filters_combine_like_any_other_term(db: Database) -> None:
    _rows(db)
    assert len(db.select_from("items").where("kind", "not in", []).execute()) == 4
    assert db.select_from("items").where("kind", "in", []).execute().rows == []
    assert db.delete_from("items").where("tenant", "=", 1).where("kind", "not in", []).execute().rowcount == 2
    assert db.update_table("items").set({"kind": "z"}).where({"tenant": 0}).where("kind", "in", []).execute().rowcount == 0
    assert _ids(db) == [2, 4]


def test_a_value_no_literal_can_spell_cannot_end_its_comment_in_a_dry_run(db: Database) -> None:
    """A dry run shows such a value inside /* ... */; '*/' in it used to end the comment, and
    the rest of the value read as SQL (PostgreSQL also nests '/*')."""
    db.execute("CREATE TABLE items (id integer PRIMARY KEY, name varchar(100))")
    sneaky = "x\x00*/; DELETE FROM items; /*"
    with db.capture() as captured:
        db.insert_into("items").values({"id": 2, "name": sneaky}).execute()
        db.execute("DELETE FROM items WHERE name = " + ("%s" if db.dialect.name != "sqlite" else "?"), ["*/ DROP TABLE items; /*"])
    shown = [str(s) for s in captured]
    assert "/* bound: " in shown[0] and "DELETE FROM items; /*" not in shown[0]
    assert shown[0].count("*/") == 1 and shown[0].count("/*") == 1
    assert shown[1].endswith("*/") and shown[1].count("*/") == 1 and "/* values: " in shown[1]


def test_fetch_takes_sql_fragments_and_refuses_what_is_no_query(db: Database) -> None:
    from kysera.errors import BuilderError

    assert [dict(r) for r in db.fetch(sql("SELECT {} AS v", 5))] == [{"v": 5}]
    for bad, reason in (
        (lambda: db.fetch(sql("SELECT 1; SELECT 2")), "one query"),
        (lambda: db.fetch(None), "takes a query"),  # type: ignore[arg-type]
        (lambda: db.fetch(sql("SELECT 1"), [1]), "values inside sql"),
    ):
        with pytest.raises(BuilderError, match=reason):
            bad()



def test_params_of_sql_text_are_a_list_and_go_only_with_sql_text(db: Database) -> None:
    """execute("... = ?", 5) was a TypeError from deep inside ('int' object is not iterable);
    a string was split into its characters, one per placeholder ("xy" bound 'x' and 'y'); and
    params given with sql(...) or a builder were dropped without a word."""
    from kysera.errors import BuilderError

    _rows(db)
    p = "?" if db.dialect.name == "sqlite" else "%s"
    for bad, reason in (
        (lambda: db.execute(f"DELETE FROM items WHERE id = {p}", 1), r"takes a list of values.*got int 1; write \[value\]"),  # type: ignore[arg-type]
        (lambda: db.execute(f"UPDATE items SET kind = {p} WHERE kind = {p}", "ab"), "got str 'ab'"),
        (lambda: db.execute(f"DELETE FROM items WHERE id = {p}", {"id": 1}), "got dict"),  # type: ignore[arg-type]
        (lambda: db.fetch(f"SELECT id FROM items WHERE id = {p}", 1), r"fetch\(sql_text, params\) takes a list"),  # type: ignore[arg-type]
        (lambda: db.execute(sql("DELETE FROM items WHERE id = 1"), [2]), "only with SQL text"),
        (lambda: db.execute(db.delete_from("items").where("id", "=", 1), [2]), "only with SQL text"),
    ):
        with pytest.raises(BuilderError, match=reason):
            bad()
    assert _ids(db) == [1, 2, 3, 4]
    assert db.execute(f"UPDATE items SET kind = {p} WHERE kind = {p}", ["z", "a"]).rowcount == 2
    assert [r["id"] for r in db.fetch(f"SELECT id FROM items WHERE kind = {p} ORDER BY id", ("z",))] == [1, 3]


def test_fetch_with_a_dict_binds_named_placeholders_on_every_engine(db: Database) -> None:
    """fetch passes a dict to the driver for its named placeholders: PostgreSQL took it, but
    SQLite's adapter made a tuple of it and bound its keys (WHERE kind = :kind matched the text
    'kind', so nothing), and MySQL's failed with 'format requires a mapping'. A fetch that changes
    data bound the keys everywhere (UPDATE ... RETURNING stored the text 'kind' on SQLite)."""
    from kysera.errors import BuilderError

    _rows(db)
    named = ":kind" if db.dialect.name == "sqlite" else "%(kind)s"
    assert [r["id"] for r in db.fetch(f"SELECT id FROM items WHERE kind = {named} ORDER BY id", {"kind": "b"})] == [2, 4]
    with pytest.raises(BuilderError, match="takes its values as a list"):
        db.fetch(f"UPDATE items SET kind = {named} WHERE id = 1 RETURNING id", {"kind": "z"})
    assert [r["kind"] for r in db.fetch("SELECT kind FROM items ORDER BY id")] == ["a", "b", "a", "b"]


def test_a_misspelt_column_is_an_error_not_a_constant(db: Database) -> None:
    """SQLite reads a double-quoted name that matches no column as a string: WHERE "sttaus" <> 'x'
    was true for every row, and the delete emptied the table. Every engine now says no such column."""
    from kysera.errors import StatementError

    _rows(db)
    for run in (
        lambda: db.delete_from("items").where("knid", "<>", "x").execute(),
        lambda: db.update_table("items").set({"kind": db.ref("knid")}).execute(),
        lambda: db.select_from("items").select("knid").execute(),
        lambda: db.execute(sql("DELETE FROM items WHERE {} = 1", sql.ref("tennant"))),
    ):
        with pytest.raises(StatementError):
            run()
    assert _ids(db) == [1, 2, 3, 4]
    assert [r["kind"] for r in db.select_from("items").select("kind").order_by("id").execute()] == ["a", "b", "a", "b"]


def test_a_datetime_with_a_time_zone_is_stored_as_the_same_instant_however_it_is_passed(db: Database) -> None:
    """MySQL/MariaDB datetimes take no offset: the literal a dry run shows was the instant in UTC,
    but the bound value lost its offset in the driver and stored another zone's wall time."""
    import datetime as dt

    if db.dialect.name == "sqlite":
        pytest.skip("SQLite stores the text as given, offset included")
    when = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    db.schema.create_table("tz").add_column("id", "integer").add_column("t", "timestamptz").execute()
    db.insert_into("tz").values({"id": 1, "t": when}).execute()
    db.execute(sql("INSERT INTO tz (id, t) VALUES (2, {})", sql.lit(when)))
    db.execute(sql("INSERT INTO tz (id, t) VALUES (3, {})", when))
    stored = [r["t"] for r in db.select_from("tz").select("t").order_by("id").execute()]
    instants = {t if t.tzinfo else t.replace(tzinfo=dt.UTC) for t in stored}  # type: ignore[union-attr]
    assert instants == {when}
    if db.dialect.name == "mysql":
        # a TIMESTAMP reads the UTC wall time in the session's zone: kysera's sessions are in UTC,
        # whatever the server's own zone (a +05:00 server stored the instant five hours off)
        assert db.fetch("SELECT @@session.time_zone AS tz")[0]["tz"] == "+00:00"
        epoch = db.fetch("SELECT UNIX_TIMESTAMP(t) AS e FROM tz WHERE id = 1")[0]["e"]
        assert int(str(epoch).split(".")[0]) == int(when.timestamp())


def test_dicts_and_lists_are_bound_as_json(db: Database) -> None:
    """No driver binds a dict (and SQLite and MySQL no list) as it is: they failed with each
    driver's own error, while the statement shown said '{"a":...}'. Now the JSON text is bound;
    on PostgreSQL a list stays an array."""
    import json

    columns = db.schema.create_table("docs").add_column("id", "integer").add_column("meta", "json")
    if db.dialect.name == "postgres":
        columns = columns.add_column("tags", "text[]")
    columns.execute()
    row: dict[str, object] = {"id": 1, "meta": {"tags": ["a", "b"], "n": 1}}
    if db.dialect.name == "postgres":
        row["tags"] = ["x", "y"]
    db.insert_into("docs").values(row).execute()
    db.insert_into("docs").values({"id": 2, "meta": [1, 2] if db.dialect.name != "postgres" else json.dumps([1, 2])}).execute()
    stored = db.select_from("docs").select("meta").order_by("id").execute().rows
    as_json = [r["meta"] if not isinstance(r["meta"], str) else json.loads(r["meta"]) for r in stored]
    assert as_json == [{"tags": ["a", "b"], "n": 1}, [1, 2]]
    if db.dialect.name == "postgres":
        assert db.select_from("docs").select("tags").where("id", "=", 1).execute().rows == [{"tags": ["x", "y"]}]
        assert "ARRAY['x', 'y']" in str(db.insert_into("docs").values(row).compile())


def test_operators_lists_and_repeated_sets_read_as_written(db: Database) -> None:
    from kysera.errors import BuilderError

    _rows(db)
    assert len(db.select_from("items").where("id", "Not  In", [1, 2]).execute()) == 2  # spaced as you like
    for scalar in (b"ab", "ab", {"a": 1}):
        with pytest.raises(BuilderError, match="takes a list of values"):
            db.select_from("items").where("kind", "in", scalar)
    update = db.update_table("items").set({"kind": "x", "tenant": 5}).set({"kind": "y"}).where("id", "=", 1)
    assert str(update.compile()).count("kind") == 1  # set twice: the newest value, once
    update.execute()
    assert db.select_from("items").select(["kind", "tenant"]).where("id", "=", 1).execute().rows == [{"kind": "y", "tenant": 5}]


def test_an_update_counts_the_rows_it_matched_on_every_engine(db: Database) -> None:
    """MariaDB counted only the rows whose values changed (0 for a repeated update, 2 elsewhere)."""
    _rows(db)
    assert db.update_table("items").set({"kind": "a"}).where("tenant", "=", 1).execute().rowcount == 2
    assert db.update_table("items").set({"kind": "a"}).where("tenant", "=", 1).execute().rowcount == 2


def test_the_rowcount_of_several_statements_is_their_sum(db: Database) -> None:
    _rows(db)
    result = db.execute(sql("DELETE FROM items WHERE id = 1; DELETE FROM items WHERE id IN (2, 3)"))
    assert result.rowcount == 3 and _ids(db) == [4]


def test_many_rows_at_once_stay_within_the_engine_limit_on_bound_values(db: Database) -> None:
    """PostgreSQL binds at most 65535 values per statement (SQLite 32766): a big insert is split
    into statements under that, run in one transaction where the engine has them."""
    db.schema.create_table("many").add_column("id", "integer", lambda c: c.primary_key()).add_column("v", "integer").execute()
    rows = [{"id": i, "v": i % 7} for i in range(40_000)]
    result = db.insert_into("many").values(rows).execute()
    assert db.fetch("SELECT count(*) AS n FROM many")[0]["n"] == 40_000
    assert len(result.statements) == {"postgres": 2, "sqlite": 3}.get(db.dialect.name, 1)
    assert result.rowcount == 40_000
    if db.dialect.transactional_ddl:  # all or nothing: a duplicate in the last part undoes the first
        from kysera.errors import StatementError

        with pytest.raises(StatementError):
            db.insert_into("many").values([{"id": 50_000 + i, "v": 0} for i in range(39_999)] + [{"id": 1, "v": 0}]).execute()
        assert db.fetch("SELECT count(*) AS n FROM many")[0]["n"] == 40_000



def test_a_big_insert_stays_within_the_packet_mysql_takes_and_is_all_or_nothing(db: Database) -> None:
    """PyMySQL writes the values into the statement: 24 rows of 1 MB went past MariaDB's
    max_allowed_packet (16 MB), and the server cut the connection ("MySQL server has gone away").
    The INSERT is split by size there, and its parts run in one transaction on every engine."""
    from kysera.errors import StatementError

    text = {"mysql": "longtext"}.get(db.dialect.name, "text")
    db.schema.create_table("big").add_column("id", "integer", lambda c: c.primary_key()).add_column("s", text).execute()
    big = "x'" * (1 << 19)  # 1 MB, each quote escaped
    result = db.insert_into("big").values([{"id": i, "s": big} for i in range(24)]).execute()
    assert result.rowcount == 24
    if db.dialect.name == "mysql":
        assert len(result.statements) > 1
    with pytest.raises(StatementError):
        db.insert_into("big").values([{"id": 100 + i, "s": big} for i in range(23)] + [{"id": 0, "s": "dup"}]).execute()
    assert db.fetch("SELECT count(*) AS n, min(length(s)) AS m FROM big") == [{"n": 24, "m": 1 << 20}]


def test_the_limit_counts_the_values_inside_sql_fragments(db: Database) -> None:
    """A row's sql("{} + {}", a, b) binds two values, not one: split by columns alone, 40,000
    such rows went past PostgreSQL's 65535 ("number of parameters must be between 0 and 65535")."""
    db.schema.create_table("many").add_column("id", "integer", lambda c: c.primary_key()).add_column("v", "integer").add_column("w", "integer").execute()
    rows = [{"id": i, "v": sql("{} + {}", i, 0), "w": sql("{} * 2", i)} for i in range(40_000)]
    result = db.insert_into("many").values(rows).execute()
    assert result.rowcount == 40_000 and len(result.statements) == {"postgres": 3, "sqlite": 5}.get(db.dialect.name, 1)
    assert all(len(s.params) <= 32_766 if db.dialect.name == "sqlite" else True for s in result.statements)
    assert db.fetch("SELECT count(*) AS n FROM many WHERE v = id AND w = id * 2")[0]["n"] == 40_000



def test_small_ints_bound_compute_as_integer_literals_do(db: Database) -> None:
    """psycopg binds an int that fits in 16 bits as smallint: on PostgreSQL sql("{} * {}", 300, 300)
    failed with "smallint out of range" where the literals 300 * 300 give 90000."""
    db.execute("CREATE TABLE n (id integer PRIMARY KEY, v integer, s smallint)")
    db.insert_into("n").values({"id": 1, "v": sql("{} * {}", 300, 300), "s": 7}).execute()
    db.update_table("n").set({"v": sql("v + {} * {}", 200, 200)}).where("s", "=", 7).execute()
    assert db.fetch(sql("SELECT v, s, {} + {} AS w FROM n WHERE id = {}", 32767, 1, 1)) == [{"v": 130000, "s": 7, "w": 32768}]
    p = "?" if db.dialect.name == "sqlite" else "%s"
    assert db.fetch(f"SELECT {p} * {p} AS x", [-300, 300]) == [{"x": -90000}]


def test_values_that_read_columns_set_before_them_are_refused_on_mysql(db: Database) -> None:
    """SET a = b, b = a swaps on PostgreSQL and SQLite; MySQL assigns left to right and would
    give both b: the same builder must not mean two things."""
    db.execute("CREATE TABLE sw (id integer PRIMARY KEY, a integer, b integer)")
    db.insert_into("sw").values({"id": 1, "a": 10, "b": 20}).execute()
    swap = db.update_table("sw").set({"a": db.ref("b"), "b": db.ref("a")})
    if db.dialect.name == "mysql":
        with pytest.raises(UnsupportedError, match="assigns left to right"):
            swap.execute()
        db.update_table("sw").set({"b": db.ref("a"), "a": 99}).execute()  # reads only what is set after it: fine
        assert db.fetch("SELECT a, b FROM sw") == [{"a": 99, "b": 10}]
    else:
        swap.execute()
        assert db.fetch("SELECT a, b FROM sw") == [{"a": 20, "b": 10}]


def test_values_are_stored_as_they_are_or_refused(db: Database) -> None:
    """A memoryview, a UUID, a time and a Decimal are stored as themselves on every engine (PyMySQL
    wrote a memoryview as the text '<memory at 0x...>'; SQLite refused UUID and time). What an engine
    cannot store faithfully is refused: an enum or a Fraction everywhere (MySQL stored its str()),
    a float NaN on SQLite (it became NULL) and MySQL."""
    import datetime as dt
    import enum
    import fractions
    import uuid
    from decimal import Decimal

    from kysera.errors import StatementError

    blob = {"postgres": "bytea", "mysql": "longblob", "sqlite": "blob"}[db.dialect.name]
    (db.schema.create_table("vals").add_column("b", blob).add_column("u", "uuid").add_column("t", "time")
     .add_column("d", "decimal(10,3)").add_column("f", "double precision").execute())
    db.insert_into("vals").values({"b": memoryview(b"\x00\x01abc"), "u": uuid.UUID(int=5), "t": dt.time(9, 30),
                                   "d": Decimal("1.250"), "f": 1.5}).execute()
    (row,) = db.select_from("vals").select(["b", "u", "t", "d", "f"]).fetch_all()
    assert bytes(row["b"]) == b"\x00\x01abc"  # type: ignore[arg-type]
    assert str(row["u"]) == "00000000-0000-0000-0000-000000000005"
    assert str(row["t"]) in ("09:30:00", "9:30:00")  # MySQL reads a time as a timedelta
    assert Decimal(str(row["d"])) == Decimal("1.25") and row["f"] == 1.5

    class Color(enum.Enum):
        RED = "r"

    refused: list[object] = [Color.RED, fractions.Fraction(1, 3)]
    for bad in refused:
        with pytest.raises(StatementError):
            db.insert_into("vals").values({"u": bad}).execute()
    if db.dialect.name != "postgres":  # PostgreSQL's double precision holds NaN
        with pytest.raises(StatementError, match=r"NaN|nan"):
            db.insert_into("vals").values({"f": float("nan")}).execute()
    assert len(db.select_from("vals").select(["f"]).fetch_all()) == 1


def test_ignore_conflicts_skips_duplicates_and_nothing_else(db: Database) -> None:
    """MySQL's INSERT IGNORE and SQLite's INSERT OR IGNORE also swallowed other errors: a NULL in
    a NOT NULL column stored as '' (or the row dropped), a long string cut. Only a duplicate key is
    skipped now; the rest fails as a plain insert does."""
    from kysera.errors import StatementError

    (db.schema.create_table("people").add_column("id", "integer", lambda c: c.primary_key())
     .add_column("email", "varchar(5)", lambda c: c.not_null().unique()).execute())
    db.insert_into("people").values({"id": 1, "email": "a@x"}).execute()
    db.insert_into("people").values([{"id": 1, "email": "b@x"}, {"id": 2, "email": "a@x"}, {"id": 3, "email": "c@x"}]).ignore_conflicts().execute()
    rows = db.select_from("people").select(["id", "email"]).order_by("id").fetch_all()
    assert rows == [{"id": 1, "email": "a@x"}, {"id": 3, "email": "c@x"}]
    with pytest.raises(StatementError):
        db.insert_into("people").values({"id": 4, "email": None}).ignore_conflicts().execute()
    if db.dialect.name != "sqlite":  # SQLite enforces no lengths
        with pytest.raises(StatementError):
            db.insert_into("people").values({"id": 5, "email": "far too long"}).ignore_conflicts().execute()
    assert len(db.select_from("people").select(["id"]).fetch_all()) == 2


def test_is_takes_none_true_or_false(db: Database) -> None:
    from kysera.errors import BuilderError

    db.schema.create_table("flags").add_column("s", "varchar(10)").execute()
    with pytest.raises(BuilderError, match=r"operator 'is' compares with None, True or False, got 'x'; use = to compare"):
        db.select_from("flags").select(["s"]).where("s", "is", "x").fetch_all()
    assert db.select_from("flags").select(["s"]).where("s", "is not", None).fetch_all() == []


def test_compile_sql_and_params_are_what_the_driver_gets(db: Database) -> None:
    """Values in data statements are bound: ``compile().sql`` has the driver's placeholders and
    ``compile().params`` the values (``str()`` is the script a human reads, values written in)."""
    _rows(db)
    sneaky = "x'); --"
    mark = "?" if db.dialect.name == "sqlite" else "%s"
    compiled = db.update_table("items").set({"kind": sneaky}).where("id", "=", 1).compile()
    assert sneaky not in compiled.sql and compiled.sql.count(mark) == 2
    assert compiled.params == (sneaky, 1) == compiled[0].params
    assert "'x''); --'" in str(compiled)
    db.run_compiled(compiled)
    assert db.select_from("items").select("kind").where("id", "=", 1).execute().rows == [{"kind": sneaky}]
    ddl = db.schema.create_index("items_kind").on("items").column("kind").compile()
    assert ddl.sql == str(ddl) and ddl.params == ()


def test_a_list_for_in_is_refused_and_sql_join_spreads_it(db: Database) -> None:
    """sql("... IN ({})", [1, 2]) bound the list as one value: JSON text on SQLite and MySQL
    (matching nothing, or id 0 on MySQL), an array on PostgreSQL. Refused, pointing to sql.join."""
    db.schema.create_table("ids").add_column("id", "integer").execute()
    db.insert_into("ids").values([{"id": i} for i in range(5)]).execute()
    for text in ("DELETE FROM ids WHERE id IN ({})", "DELETE FROM ids WHERE id not in {}"):
        with pytest.raises(BuilderError, match=r"the list after IN would be bound as one value.*sql\.join"):
            sql(text, [1, 2])
    sql("DELETE FROM ids WHERE id IN ({})", sql.join([1, 2])).execute(db)
    sql("DELETE FROM ids WHERE id = {}", 4).execute(db)
    assert [r["id"] for r in db.fetch("SELECT id FROM ids ORDER BY id")] == [0, 3]


def test_limit_and_offset_take_a_whole_number_of_rows(db: Database) -> None:
    """limit(-1) returned every row on SQLite (LIMIT -1 is no limit there) and failed on the
    server engines; limit(2.5) became LIMIT 2 and limit(True) LIMIT 1, without a word."""
    _rows(db)
    for bad in (-1, 2.5, True, "2", None):
        for method in ("limit", "offset"):
            with pytest.raises(BuilderError, match=rf"{method}\(\) takes a whole number of rows, 0 or more, got"):
                getattr(db.select_from("items"), method)(bad)
    assert [r["id"] for r in db.select_from("items").select("id").order_by("id").limit(2).offset(1).fetch_all()] == [2, 3]
    assert db.select_from("items").limit(0).fetch_all() == []
    assert [r["id"] for r in db.select_from("items").select("id").order_by("id").offset(3).fetch_all()] == [4]


def test_a_builder_given_as_a_value_is_refused_with_what_to_do(db: Database) -> None:
    """set({"email": db.select_from(...)}) bound the builder object as the value: each driver's
    own error ("cannot adapt type 'SelectBuilder'", "Error binding parameter 1"), at execution."""
    _rows(db)
    sub = db.select_from("items").select("kind").where("id", "=", 1)
    for build in (
        lambda: db.update_table("items").set({"kind": sub}),
        lambda: db.insert_into("items").values({"id": 9, "kind": sub, "tenant": 0}),
        lambda: db.select_from("items").where("kind", "=", sub),
        lambda: db.select_from("items").where("kind", "in", sub),
        lambda: sql("UPDATE items SET kind = {}", sub),
    ):
        with pytest.raises(BuilderError, match=r"a SelectBuilder is not a value: .*\.fetch_one\(\).*sql\("):
            build()
    with pytest.raises(BuilderError, match=r"a DropTableBuilder is not a value; run it on its own"):
        db.update_table("items").set({"kind": db.schema.drop_table("items")})
    assert db.fetch(sql("SELECT {} AS k", sql("(SELECT kind FROM items WHERE id = {})", 2))) == [{"k": "b"}]


def test_a_selected_column_or_expression_comes_back_under_its_alias(db: Database) -> None:
    """select("email as e") looked for a column named 'email as e' ("no such column"); the
    Kysely spelling and .as_() on db.ref / sql name the result column."""
    _rows(db)
    rows = (db.select_from("items").select("id AS ident", "items.kind as k", db.ref("tenant").as_("t"), sql("{} * 10", db.ref("id")).as_("x"))
            .where("id", "=", 2).fetch_all())
    assert rows == [{"ident": 2, "k": "b", "t": 0, "x": 20}]
    assert db.select_from("items").select(sql("count(*)").as_("n")).where("kind", "=", "a").fetch_one() == {"n": 2}
    with pytest.raises(BuilderError, match="as_\\(\\) takes the name"):
        db.ref("id").as_("")


def test_a_list_compared_with_one_value_is_refused_where_it_would_be_json_text(db: Database) -> None:
    """where("id", "=", [1, 2]) bound '[1,2]': on SQLite it matched nothing, and on MySQL/MariaDB
    the text read as the number 0, so the delete removed the row with id 0 instead of 1 and 2.
    On PostgreSQL a list is an array, and compares with an array column."""
    db.execute("CREATE TABLE nums (id integer PRIMARY KEY, n integer)")
    db.insert_into("nums").values([{"id": i, "n": i} for i in range(3)]).execute()
    if db.dialect.name == "postgres":
        db.execute("CREATE TABLE tagged (id integer, tags text[])")
        db.insert_into("tagged").values({"id": 1, "tags": ["x", "y"]}).execute()
        assert db.select_from("tagged").select("id").where("tags", "=", ["x", "y"]).fetch_all() == [{"id": 1}]
    else:
        for run in (
            lambda: db.delete_from("nums").where("id", "=", [1, 2]).execute(),
            lambda: db.update_table("nums").set({"n": 9}).where({"id": [1, 2]}).execute(),
            lambda: db.select_from("nums").where("id", "!=", [1]).fetch_all(),
        ):
            with pytest.raises(BuilderError, match=r"compares with one value, and .* would read the list as JSON text; .*'in'"):
                run()
    assert db.fetch("SELECT id, n FROM nums ORDER BY id") == [{"id": i, "n": i} for i in range(3)]
    assert db.delete_from("nums").where("id", "in", [1, 2]).execute().rowcount == 2


def test_fetch_one_asks_for_one_row(db: Database) -> None:
    """fetch_one read every matching row and kept the first."""
    db.schema.create_table("many").add_column("id", "integer").execute()
    db.insert_into("many").values([{"id": i} for i in range(5)]).execute()
    query = db.select_from("many").select("id").order_by("id", "desc")
    seen: list[str] = []
    db.listeners.append(lambda statement: seen.append(statement.sql))
    assert query.fetch_one() == {"id": 4}
    assert "LIMIT 1" in seen[-1].upper()
    assert query.limit(3).offset(2).fetch_one() == {"id": 2}  # its own limit stays
    assert db.select_from("many").where("id", ">", 9).fetch_one() is None


# --------------------------------------------------------------------------- joins


def _people_and_pets(db: Database) -> None:
    db.execute("CREATE TABLE person (id integer PRIMARY KEY, name varchar(20))")
    db.execute("CREATE TABLE pet (id integer PRIMARY KEY, owner_id integer, name varchar(20))")
    db.insert_into("person").values([{"id": 1, "name": "ann"}, {"id": 2, "name": "bob"}]).execute()
    db.insert_into("pet").values([{"id": 1, "owner_id": 1, "name": "rex"}, {"id": 2, "owner_id": 1, "name": "tom"}]).execute()


def test_inner_and_left_joins_name_columns_with_their_tables(db: Database) -> None:
    _people_and_pets(db)
    query = (db.select_from("person").inner_join("pet", "pet.owner_id", "person.id")
             .select("person.name", "pet.name as pet").where("pet.name", "!=", "tom"))
    expected = {
        "sqlite": 'SELECT "person".`name`, "pet".`name` AS "pet" FROM "person" INNER JOIN "pet" ON "pet".`owner_id` = "person".`id` WHERE "pet".`name` != ?',
        "postgres": 'SELECT "person"."name", "pet"."name" AS "pet" FROM "person" INNER JOIN "pet" ON "pet"."owner_id" = "person"."id" WHERE "pet"."name" != %s',
        "mysql": "SELECT `person`.`name`, `pet`.`name` AS `pet` FROM `person` INNER JOIN `pet` ON `pet`.`owner_id` = `person`.`id` WHERE `pet`.`name` != %s",
    }[db.dialect.name]
    assert query.compile().sql == expected + ";"
    assert query.fetch_all() == [{"name": "ann", "pet": "rex"}]
    left = (db.select_from("person").left_join("pet", "pet.owner_id", "person.id")
            .select("person.id", db.ref("pet.name").as_("pet")).order_by("person.id").order_by("pet.name"))
    assert left.fetch_all() == [{"id": 1, "pet": "rex"}, {"id": 1, "pet": "tom"}, {"id": 2, "pet": None}]
    # another condition in sql(...)
    other = (db.select_from("person").left_join("pet", sql("{} = {} AND {} <> {}", db.ref("pet.owner_id"), db.ref("person.id"), db.ref("pet.name"), "rex"))
             .select("person.name", "pet.name as pet").order_by("person.id"))
    assert other.fetch_all() == [{"name": "ann", "pet": "tom"}, {"name": "bob", "pet": None}]
    assert db.select_from("person").inner_join("pet", "pet.owner_id", "person.id").select("pet.*").where("pet.id", "=", 2).fetch_all() == [
        {"id": 2, "owner_id": 1, "name": "tom"}
    ]


def test_a_table_under_another_name_joins_to_itself(db: Database) -> None:
    """Kysely's "person as p": the query names the table, so a table can be joined to itself."""
    _people_and_pets(db)
    query = (db.select_from("pet AS p").inner_join("pet as q", "q.owner_id", "p.owner_id")
             .where("p.name", "<", db.ref("q.name")).select("p.name as first", "q.name as second"))
    expected = {
        "sqlite": 'SELECT "p".`name` AS "first", "q".`name` AS "second" FROM "pet" AS "p" INNER JOIN "pet" AS "q" ON "q".`owner_id` = "p".`owner_id` WHERE "p".`name` < "q".`name`',
        "postgres": 'SELECT "p"."name" AS "first", "q"."name" AS "second" FROM "pet" AS "p" INNER JOIN "pet" AS "q" ON "q"."owner_id" = "p"."owner_id" WHERE "p"."name" < "q"."name"',
        "mysql": "SELECT `p`.`name` AS `first`, `q`.`name` AS `second` FROM `pet` AS `p` INNER JOIN `pet` AS `q` ON `q`.`owner_id` = `p`.`owner_id` WHERE `p`.`name` < `q`.`name`",
    }[db.dialect.name]
    assert query.compile().sql == expected + ";"
    assert query.fetch_all() == [{"first": "rex", "second": "tom"}]
    # a left join under another name, and the aliased table in INSERT ... SELECT
    owners = (db.select_from("person as o").left_join("pet as p", "p.owner_id", "o.id")
              .select("o.name", "p.name as pet").order_by("o.id").order_by("p.name"))
    assert owners.fetch_all() == [{"name": "ann", "pet": "rex"}, {"name": "ann", "pet": "tom"}, {"name": "bob", "pet": None}]
    db.execute("CREATE TABLE pairs (a varchar(20), b varchar(20))")
    db.insert_into("pairs").columns("a", "b").expression(query).execute()
    assert db.select_from("pairs").fetch_all() == [{"a": "rex", "b": "tom"}]
    # the alias is a plain name; a dotted one is a mistake named as such
    with pytest.raises(BuilderError, match=r"select_from\('pet as a\.b'\): an alias is a plain name, such as 'p' in 'person as p'"):
        db.select_from("pet as a.b")
    with pytest.raises(BuilderError, match=r"inner_join\('pet as q.r'\): an alias is a plain name"):
        db.select_from("person").inner_join("pet as q.r", "q.owner_id", "person.id")


def test_a_write_names_its_table_without_an_alias(db: Database) -> None:
    """insert_into, update_table and delete_from take the table alone: "pet as p" would name a
    table "pet as p" and fail on the server; the message says which builders take an alias."""
    _people_and_pets(db)
    for method in ("insert_into", "update_table", "delete_from"):
        with pytest.raises(BuilderError, match=rf"{method}\('pet as p'\): only select_from and the joins take a table with another name; write the table alone, {method}\('pet'\)"):
            getattr(db, method)("pet as p")
    assert db.select_from("pet").select("id").order_by("id").fetch_all() == [{"id": 1}, {"id": 2}]


def test_an_aliased_table_keeps_the_schema_of_with_schema(db: Database) -> None:
    query = db.with_schema("app").select_from("pet as p").inner_join("person as o", "o.id", "p.owner_id").select("p.name")
    quote = "`" if db.dialect.name == "mysql" else '"'
    sql_text = query.compile().sql
    assert f"FROM {quote}app{quote}.{quote}pet{quote} AS {quote}p{quote}" in sql_text
    assert f"JOIN {quote}app{quote}.{quote}person{quote} AS {quote}o{quote}" in sql_text


def test_a_join_used_wrongly_is_refused_with_its_two_forms(db: Database) -> None:
    _people_and_pets(db)
    for bad in (
        lambda: db.select_from("person").inner_join("pet", "pet.owner_id"),
        lambda: db.select_from("person").left_join("pet", "pet.owner_id", "=", "person.id"),
        lambda: db.select_from("person").inner_join("pet", "pet.owner_id = person.id"),
    ):
        with pytest.raises(BuilderError, match=r"_join\(\) takes the table and two columns that are equal, .*or the table and sql\(\.\.\.\)"):
            bad()
    with pytest.raises(BuilderError, match=r"inner_join\(table, column, column\) takes column names such as 'pet.owner_id', got 1"):
        db.select_from("person").inner_join("pet", "pet.owner_id", 1)
    with pytest.raises(BuilderError, match="a table name must be a non-empty string"):
        db.select_from("person").inner_join("", "pet.owner_id", "person.id")


# --------------------------------------------------------------------------- INSERT ... SELECT


def test_insert_select_fills_the_named_columns_from_a_query(db: Database) -> None:
    _people_and_pets(db)
    db.execute("CREATE TABLE names (n integer PRIMARY KEY, label varchar(40))")
    insert = db.insert_into("names").columns("n", "label").expression(
        db.select_from("person").select(sql("{} + {}", db.ref("id"), 10), "name").where("id", ">", 1)
    )
    q = "`" if db.dialect.name == "mysql" else '"'
    ref = "`" if db.dialect.name != "postgres" else '"'
    mark = "?" if db.dialect.name == "sqlite" else "%s"
    assert insert.compile().sql == (
        f"INSERT INTO {q}names{q} ({q}n{q}, {q}label{q}) SELECT {ref}id{ref} + {mark}, {ref}name{ref} "
        f"FROM {q}person{q} WHERE {ref}id{ref} > {mark};"
    )
    assert insert.compile().params == (10, 1)
    assert insert.execute().rowcount == 1
    # a join in the query, raw SQL, the same columns given as a list
    db.insert_into("names").columns(["n", "label"]).expression(
        db.select_from("pet").inner_join("person", "person.id", "pet.owner_id")
        .select(sql("{} + 20", db.ref("pet.id")), sql("{} || {}", db.ref("pet.name"), db.ref("person.name")) if db.dialect.name != "mysql"
                else sql("concat({}, {})", db.ref("pet.name"), db.ref("person.name")))
    ).execute()
    db.insert_into("names").columns("n", "label").expression(sql("SELECT 30, {}", "raw")).execute()
    assert db.select_from("names").order_by("n").fetch_all() == [
        {"n": 12, "label": "bob"}, {"n": 21, "label": "rexann"}, {"n": 22, "label": "tomann"}, {"n": 30, "label": "raw"}
    ]


def test_insert_select_used_wrongly_is_refused(db: Database) -> None:
    _people_and_pets(db)
    query = db.select_from("person").select("id", "name")
    with pytest.raises(BuilderError, match=r"insert_into\('pet'\) takes its rows from values\(\.\.\.\) or from expression\(\.\.\.\) \(INSERT \.\.\. SELECT\), not both"):
        db.insert_into("pet").values({"id": 5, "name": "x"}).expression(query)
    with pytest.raises(BuilderError, match="not both"):
        db.insert_into("pet").columns("id", "name").expression(query).values({"id": 5, "name": "x"})
    with pytest.raises(BuilderError, match=r"insert_into\('pet'\) has no rows: add \.values\(\{\.\.\.\}\), or \.columns\(\.\.\.\)\.expression"):
        db.insert_into("pet").columns("id").compile()
    with pytest.raises(BuilderError, match=r"expression\(\) takes db\.select_from\(\.\.\.\), sql\(\.\.\.\) or SQL text"):
        db.insert_into("pet").expression(42)
    with pytest.raises(BuilderError, match="columns\\(\\) names column 'id' twice"):
        db.insert_into("pet").columns("id", "id")
    with pytest.raises(BuilderError, match="columns\\(\\) takes one or more column names"):
        db.insert_into("pet").columns()
    with pytest.raises(BuilderError, match=r"every row must have the columns \['id', 'name'\]"):
        db.insert_into("pet").columns("id", "name").values({"id": 5})
    if db.dialect.name == "mysql":  # its ignore_conflicts updates a column to itself: it needs a name
        with pytest.raises(BuilderError, match=r"needs the columns on MariaDB: add \.columns\(\.\.\.\)"):
            db.insert_into("pet").expression(db.select_from("pet")).ignore_conflicts().compile()
    assert db.select_from("pet").select("id").order_by("id").fetch_all() == [{"id": 1}, {"id": 2}]


# --------------------------------------------------------------------------- RETURNING


def _returning_table(db: Database) -> None:
    db.schema.create_table("acct").add_column("id", "serial", lambda c: c.primary_key()).add_column("name", "varchar(20)").add_column(
        "n", "integer", lambda c: c.not_null().default_to(0)
    ).execute()


def test_returning_gives_back_the_rows_changed(db: Database) -> None:
    _returning_table(db)
    inserted = db.insert_into("acct").values([{"name": "a"}, {"name": "b"}]).returning("id", "name as who").fetch_all()
    assert inserted == [{"id": 1, "who": "a"}, {"id": 2, "who": "b"}]
    assert db.insert_into("acct").values({"name": "c", "n": 5}).returning(db.ref("n"), sql("{} * 2", db.ref("id")).as_("twice")).fetch_one() == {
        "n": 5, "twice": 6
    }
    result = db.insert_into("acct").values({"name": "d"}).returning("*").execute()
    assert result.rows == [{"id": 4, "name": "d", "n": 0}] and result.rowcount == 1
    q, ref = {"sqlite": ('"', "`"), "postgres": ('"', '"'), "mysql": ("`", "`")}[db.dialect.name]
    mark = "?" if db.dialect.name == "sqlite" else "%s"
    assert db.delete_from("acct").where("id", ">", 3).returning("id").compile().sql.endswith(f" RETURNING {ref}id{ref};")
    assert db.delete_from("acct").where("id", ">", 2).returning("id", "name").fetch_all() == [{"id": 3, "name": "c"}, {"id": 4, "name": "d"}]
    update = db.update_table("acct").set({"n": sql("{} + 1", db.ref("n"))}).where("id", "=", 2).returning("id", "n")
    if db.dialect.name == "mysql":  # MariaDB returns rows from INSERT and DELETE only
        with pytest.raises(UnsupportedError, match=r"update_table\(table\)\.set\(\.\.\.\)\.returning\(columns\) is not supported on MariaDB; select the rows with select_from\(\.\.\.\)\.for_update\(\)"):
            update.fetch_all()
    else:
        assert update.compile().sql == f"UPDATE {q}acct{q} SET {q}n{q} = {ref}n{ref} + 1 WHERE {ref}id{ref} = {mark} RETURNING {ref}id{ref}, {ref}n{ref};"
        assert update.fetch_one() == {"id": 2, "n": 1}
    assert db.select_from("acct").select("id", "n").order_by("id").fetch_all() == [
        {"id": 1, "n": 0}, {"id": 2, "n": 0 if db.dialect.name == "mysql" else 1}
    ]
    # a statement without returning(...) gives no rows to fetch
    for bad in (lambda: db.delete_from("acct").fetch_all(), lambda: db.insert_into("acct").values({"name": "x"}).fetch_one()):
        with pytest.raises(BuilderError, match=r"gives back the rows of returning\(\.\.\.\); add \.returning\('id', \.\.\.\) first"):
            bad()
    with pytest.raises(BuilderError, match=r"returning\(\) takes one or more columns"):
        db.delete_from("acct").returning()
    with pytest.raises(BuilderError, match=r"a InsertBuilder is not a value; run it on its own with \.execute\(\)"):
        db.update_table("acct").set({"n": db.insert_into("acct").values({"name": "x"}).returning("id")})
    assert len(db.select_from("acct").fetch_all()) == 2  # nothing ran


def test_returning_of_a_big_insert_gives_the_rows_of_every_part(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """An insert with more values than one statement takes is split; the rows of every part come back."""
    _returning_table(db)
    monkeypatch.setattr(db.dialect.compiler_class, "max_bound_values", 4)
    insert = db.insert_into("acct").values([{"name": f"r{i}", "n": i} for i in range(5)]).returning("id", "n")
    assert len(insert.compile()) == 3
    result = insert.execute()
    assert result.rows == [{"id": i + 1, "n": i} for i in range(5)] and result.rowcount == 5


def test_returning_with_ignore_conflicts_gives_the_rows_inserted_or_is_refused(db: Database) -> None:
    _returning_table(db)
    db.insert_into("acct").values({"id": 1, "name": "a"}).execute()
    insert = db.insert_into("acct").values([{"id": 1, "name": "dup"}, {"id": 2, "name": "new"}]).ignore_conflicts().returning("id", "name")
    if db.dialect.name == "mysql":  # its ON DUPLICATE KEY UPDATE ... RETURNING gives back the skipped row too
        with pytest.raises(UnsupportedError, match=r"ignore_conflicts\(\)\.returning\(columns\) is not supported on MariaDB; .*skipped too"):
            insert.execute()
        return
    assert insert.fetch_all() == [{"id": 2, "name": "new"}]


# --------------------------------------------------------------------------- upserts


def _kv(db: Database) -> None:
    db.schema.create_table("kv").add_column("k", "varchar(10)", lambda c: c.primary_key()).add_column("v", "varchar(20)").add_column(
        "hits", "integer", lambda c: c.not_null().default_to(0)
    ).execute()
    db.insert_into("kv").values([{"k": "a", "v": "old", "hits": 1}, {"k": "b", "v": "keep", "hits": 1}]).execute()


def _upsert(db: Database, rows: list[dict[str, object]]) -> object:
    """The same upsert on each engine: a new row is inserted, an existing one takes the new v
    and counts one more hit."""
    insert = db.insert_into("kv").values(rows)
    if db.dialect.name == "mysql":
        return insert.on_duplicate_key_update({"v": excluded("v"), "hits": sql("{} + 1", db.ref("hits"))})
    # PostgreSQL: the existing row's columns are named with the table (excluded has them too)
    return insert.on_conflict(lambda oc: oc.column("k").do_update_set({"v": db.ref("excluded.v"), "hits": sql("{} + 1", db.ref("kv.hits"))}))


def test_an_upsert_inserts_new_rows_and_updates_existing_ones(db: Database) -> None:
    _kv(db)
    upsert = _upsert(db, [{"k": "a", "v": "new"}, {"k": "c", "v": "fresh"}])
    mark = "?" if db.dialect.name == "sqlite" else "%s"
    assert upsert.compile().sql == {  # type: ignore[attr-defined]
        "sqlite": f'INSERT INTO "kv" ("k", "v") VALUES ({mark}, {mark}), ({mark}, {mark}) ON CONFLICT (`k`) DO UPDATE SET "v" = "excluded".`v`, "hits" = "kv".`hits` + 1;',
        "postgres": f'INSERT INTO "kv" ("k", "v") VALUES ({mark}, {mark}), ({mark}, {mark}) ON CONFLICT ("k") DO UPDATE SET "v" = "excluded"."v", "hits" = "kv"."hits" + 1;',
        "mysql": f"INSERT INTO `kv` (`k`, `v`) VALUES ({mark}, {mark}), ({mark}, {mark}) ON DUPLICATE KEY UPDATE `v` = VALUES(`v`), `hits` = `hits` + 1;",
    }[db.dialect.name]
    upsert.execute()  # type: ignore[attr-defined]
    assert db.select_from("kv").order_by("k").fetch_all() == [
        {"k": "a", "v": "new", "hits": 2}, {"k": "b", "v": "keep", "hits": 1}, {"k": "c", "v": "fresh", "hits": 0}
    ]
    # with returning: the rows inserted and the rows updated, as they are now
    assert _upsert(db, [{"k": "b", "v": "again"}]).returning("k", "v", "hits").fetch_all() == [  # type: ignore[attr-defined]
        {"k": "b", "v": "again", "hits": 2}
    ]


def test_on_conflict_targets_actions_and_conditions(db: Database) -> None:
    if db.dialect.name == "mysql":
        pytest.skip("ON CONFLICT is PostgreSQL's and SQLite's")
    _kv(db)
    db.execute("CREATE TABLE tags (id integer PRIMARY KEY, name varchar(20), deleted integer)")
    db.execute("CREATE UNIQUE INDEX tags_live ON tags (name) WHERE deleted = 0")
    db.insert_into("tags").values([{"id": 1, "name": "x", "deleted": 0}, {"id": 2, "name": "y", "deleted": 1}]).execute()
    # do_nothing with and without a target; with the partial index's predicate
    db.insert_into("kv").values({"k": "a", "v": "skip"}).on_conflict(lambda oc: oc.column("k").do_nothing()).execute()
    db.insert_into("kv").values({"k": "b", "v": "skip"}).on_conflict(lambda oc: oc.do_nothing()).execute()
    partial = db.insert_into("tags").values({"id": 3, "name": "x", "deleted": 0}).on_conflict(
        lambda oc: oc.column("name").where("deleted", "=", 0).do_update_set({"id": sql("{} + 10", db.ref("tags.id"))})
    )
    ref = "`" if db.dialect.name == "sqlite" else '"'
    assert f"ON CONFLICT ({ref}name{ref}) WHERE {ref}deleted{ref} = " in partial.compile().sql
    partial.execute()
    # do_update_set ... where: only the existing rows that match are updated
    only_old = db.insert_into("kv").values([{"k": "a", "v": "x"}, {"k": "b", "v": "x"}]).on_conflict(
        lambda oc: oc.columns(["k"]).do_update_set({"v": excluded("v")}).where("kv.v", "=", "old")
    )
    assert only_old.returning("k").fetch_all() == [{"k": "a"}]
    assert db.select_from("kv").select("k", "v").order_by("k").fetch_all() == [{"k": "a", "v": "x"}, {"k": "b", "v": "keep"}]
    assert db.select_from("tags").select("id").order_by("id").fetch_all() == [{"id": 2}, {"id": 11}]
    constraint = db.insert_into("kv").values({"k": "a", "v": "y"}).on_conflict(lambda oc: oc.constraint("kv_pkey").do_nothing())
    if db.dialect.name == "postgres":
        assert 'ON CONFLICT ON CONSTRAINT "kv_pkey" DO NOTHING' in constraint.compile().sql
        constraint.execute()
    else:
        with pytest.raises(UnsupportedError, match=r"oc\.constraint\(name\)\) is not supported on SQLite; name the constraint's columns"):
            constraint.compile()


def test_insert_select_with_on_conflict_reads_as_an_upsert_on_sqlite_too(db: Database) -> None:
    """SQLite reads ON after INSERT ... SELECT ... FROM t as a join's ("near DO: syntax error")
    unless the query has a WHERE: kysera adds WHERE true."""
    _kv(db)
    db.execute("CREATE TABLE incoming (k varchar(10), v varchar(20))")
    db.insert_into("incoming").values([{"k": "a", "v": "in-a"}, {"k": "z", "v": "in-z"}]).execute()
    query = db.select_from("incoming").select("k", "v")
    insert = db.insert_into("kv").columns("k", "v")
    if db.dialect.name == "mysql":
        upsert = insert.expression(query).on_duplicate_key_update({"v": excluded("v")})
        assert "ON DUPLICATE KEY UPDATE `v` = VALUES(`v`)" in upsert.compile().sql
    else:
        upsert = insert.expression(query).on_conflict(lambda oc: oc.column("k").do_update_set({"v": excluded("v")}))
        if db.dialect.name == "sqlite":
            assert 'FROM "incoming" WHERE true ON CONFLICT' in upsert.compile().sql
            raw = insert.expression(sql("SELECT k, v FROM incoming")).on_conflict(lambda oc: oc.do_nothing())
            assert "SELECT * FROM (SELECT k, v FROM incoming) WHERE true ON CONFLICT DO NOTHING" in raw.compile().sql
            raw.execute()
    upsert.execute()
    assert db.select_from("kv").select("k", "v").order_by("k").fetch_all() == [
        {"k": "a", "v": "in-a"}, {"k": "b", "v": "keep"}, {"k": "z", "v": "in-z"}
    ]


def test_each_engine_refuses_the_other_upsert_naming_its_own(db: Database) -> None:
    _kv(db)
    insert = db.insert_into("kv").values({"k": "a", "v": "x"})
    if db.dialect.name == "mysql":
        with pytest.raises(UnsupportedError, match=r"on_conflict\(lambda oc: \.\.\.\) is not supported on MariaDB; use on_duplicate_key_update\(\{\.\.\.\}\)"):
            insert.on_conflict(lambda oc: oc.column("k").do_nothing()).execute()
    else:
        with pytest.raises(UnsupportedError, match=r"on_duplicate_key_update\(\{\.\.\.\}\) is not supported on (PostgreSQL|SQLite); use on_conflict\(lambda oc: oc\.column\(\.\.\.\)\.do_update_set"):
            insert.on_duplicate_key_update({"v": excluded("v")}).execute()
    assert db.select_from("kv").select("k", "v").order_by("k").fetch_all() == [{"k": "a", "v": "old"}, {"k": "b", "v": "keep"}]


def test_an_upsert_used_wrongly_is_refused_with_the_fix(db: Database) -> None:
    insert = db.insert_into("kv").values({"k": "a", "v": "x"})
    for build, message in (
        (lambda: insert.on_conflict(lambda oc: oc.do_update_set({"v": "y"})), r"do_update_set needs the conflict target: oc\.column\(name\)"),
        (lambda: insert.on_conflict(lambda oc: oc.column("k")), r"must end in \.do_nothing\(\) or \.do_update_set\(\{\.\.\.\}\)"),
        (lambda: insert.on_conflict("k"), r"on_conflict\(\) takes a callback such as lambda oc"),  # type: ignore[arg-type]
        (lambda: insert.on_conflict(lambda oc: oc.column("k").do_update_set({})), r"do_update_set\(\) takes a non-empty dict"),
        (lambda: insert.on_conflict(lambda oc: oc.column("k").constraint("c").do_nothing()), "columns or a constraint, not both"),
        (lambda: insert.on_conflict(lambda oc: oc.where("k", "=", 1).do_nothing()), r"give its columns first, oc\.columns\(\.\.\.\)\.where"),
        (lambda: insert.on_conflict(lambda oc: oc.column("k").column("k").do_nothing()), "names column 'k' twice"),
        (lambda: insert.ignore_conflicts().on_conflict(lambda oc: oc.do_nothing()), r"on_conflict\(\) and ignore_conflicts\(\) both say what a duplicate key does: use one"),
        (lambda: insert.on_duplicate_key_update({"v": "y"}).on_conflict(lambda oc: oc.do_nothing()), "an insert takes one of them"),
        (lambda: insert.on_conflict(lambda oc: oc.do_nothing()).on_duplicate_key_update({"v": "y"}), "an insert takes one of them"),
        (lambda: insert.on_duplicate_key_update({"v": "y"}).ignore_conflicts(), r"ignore_conflicts\(\) and on_duplicate_key_update\(\) both"),
        (lambda: insert.on_duplicate_key_update([]), r"on_duplicate_key_update\(\) takes a non-empty dict"),  # type: ignore[arg-type]
        (lambda: excluded("kv.v"), r"excluded\(\) takes a column of the inserted row"),
    ):
        with pytest.raises(BuilderError, match=message):
            build()
    # a later on_duplicate_key_update adds to the earlier one; a column set again takes the newest value
    both = insert.on_duplicate_key_update({"v": "y", "hits": 1}).on_duplicate_key_update({"v": "z"})
    assert both.to_node().on_duplicate_key_update == (("v", ValueNode("z")), ("hits", ValueNode(1)))


def test_mysql_names_the_proposed_row_by_its_version() -> None:
    """MySQL 8.0.19+ has the new row's alias (VALUES(col) is deprecated from 8.0.20); MariaDB,
    an older MySQL, an offline "8.0" (any release of it) and INSERT ... SELECT take VALUES(col)."""
    from .test_support_matrix import offline

    def upsert(engine: str, version: tuple[int, ...] | None) -> str:
        db = offline(engine, version)  # type: ignore[arg-type]
        insert = db.insert_into("t").values({"a": 1, "n": 2})
        return insert.on_duplicate_key_update({"n": sql("{} + {}", db.ref("n"), excluded("n"))}).compile().sql

    values = "INSERT INTO `t` (`a`, `n`) VALUES (%s, %s) ON DUPLICATE KEY UPDATE `n` = `n` + VALUES(`n`);"
    alias = "INSERT INTO `t` (`a`, `n`) VALUES (%s, %s) AS `excluded` ON DUPLICATE KEY UPDATE `n` = `n` + `excluded`.`n`;"
    assert upsert("mariadb", None) == upsert("mysql", None) == upsert("mysql", (8, 0, 18)) == values
    assert upsert("mysql", (8, 0, 19)) == upsert("mysql", (9, 1)) == alias
    db = offline("mysql", (8, 4, 0))
    from_query = db.insert_into("t").columns("a", "n").expression(db.select_from("u").select("a", "n"))
    assert from_query.on_duplicate_key_update({"n": db.ref("excluded.n")}).compile().sql == (
        "INSERT INTO `t` (`a`, `n`) SELECT `a`, `n` FROM `u` ON DUPLICATE KEY UPDATE `n` = VALUES(`n`);"
    )


def test_an_upsert_that_changes_a_key_other_rows_point_at_is_checked_at_commit_on_sqlite(sqlite_db: Database) -> None:
    """SQLite checks foreign keys at COMMIT; after an insert only the table's own keys (new rows
    break nothing else), which let an upsert's DO UPDATE of a parent key commit orphaned rows."""
    from kysera.dialects.sqlite import ForeignKeyViolation

    db = sqlite_db
    db.execute("CREATE TABLE parent (id integer PRIMARY KEY, v text)")
    db.execute("CREATE TABLE child (id integer PRIMARY KEY, pid integer REFERENCES parent (id))")
    db.insert_into("parent").values({"id": 1, "v": "a"}).execute()
    db.insert_into("child").values({"id": 1, "pid": 1}).execute()
    with pytest.raises(ForeignKeyViolation, match=r"child row 1 -> parent"), db.transaction():
        db.insert_into("parent").values({"id": 1, "v": "b"}).on_conflict(lambda oc: oc.column("id").do_update_set({"id": 5})).execute()
    assert db.fetch("PRAGMA foreign_key_check") == []
    assert db.select_from("parent").fetch_all() == [{"id": 1, "v": "a"}]


def test_insert_select_ignore_conflicts_from_a_table_with_the_same_columns(db: Database) -> None:
    """MySQL/MariaDB's skip is ON DUPLICATE KEY UPDATE k = k: in INSERT ... SELECT it names the
    target table's column, else the query's table of the same column makes it "ambiguous"."""
    _kv(db)
    db.execute("CREATE TABLE incoming (k varchar(10), v varchar(20))")
    db.insert_into("incoming").values([{"k": "a", "v": "in-a"}, {"k": "z", "v": "in-z"}]).execute()
    insert = db.insert_into("kv").columns("k", "v")
    insert.expression(db.select_from("incoming").select("k", "v")).ignore_conflicts().execute()
    insert.expression(sql("SELECT k, v FROM incoming")).ignore_conflicts().execute()
    assert db.select_from("kv").select("k", "v").order_by("k").fetch_all() == [
        {"k": "a", "v": "old"}, {"k": "b", "v": "keep"}, {"k": "z", "v": "in-z"}
    ]
