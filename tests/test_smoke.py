from kysera import Database, sql


def test_guide_users_table(db: Database) -> None:
    (
        db.schema.create_table("users")
        .add_column("id", "serial", lambda col: col.primary_key())
        .add_column("email", "varchar(255)", lambda col: col.not_null().unique())
        .add_column("created_at", "timestamp", lambda col: col.not_null().default_to(sql("CURRENT_TIMESTAMP")))
        .execute()
    )
    db.insert_into("users").values([{"email": "a@example.com"}, {"email": "b@example.com"}]).execute()
    rows = db.select_from("users").select(["id", "email"]).order_by("id").fetch_all()
    assert [r["id"] for r in rows] == [1, 2]


def test_the_top_level_names_import() -> None:
    import kysera
    from kysera.schema import enum_type

    assert kysera.enum_type is enum_type
    for name in kysera.__all__:
        assert getattr(kysera, name) is not None, name


def test_a_fragment_shows_its_text_values_and_literals() -> None:
    assert repr(sql("SELECT {} AS n", 5)) == "sql('SELECT {} AS n', 5)"
    assert repr(sql.lit("it's")) == "sql(\"'it''s'\")"
    assert repr(sql.ref("users.email")) == "sql('users.email')"
    assert repr(sql("a {} b {}", sql.lit(3), "x")) == "sql('a 3 b {}', 'x')"


def test_a_fragment_repr_reads_back_as_the_same_fragment() -> None:
    original = sql("SELECT {} AS j, '{{}}' AS lit", 1)
    assert repr(original) == "sql(\"SELECT {} AS j, '{{}}' AS lit\", 1)"
    assert repr(eval(repr(original), {"sql": sql})) == repr(original)
