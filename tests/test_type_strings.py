"""Column type strings: valid types pass through to the real engines, translated names keep their
arguments, and a string that is not a type never reaches the server."""

from __future__ import annotations

import pytest

from kysera import Database
from kysera.errors import BuilderError

from . import catalog

#: per engine: type strings users write, each of which the engine accepts as it is
PASS_THROUGH = {
    "postgres": ["integer[]", "text[][]", "timestamp(3) with time zone", "numeric(10, 2)", "public.mood", "varchar(20)[]"],
    "mysql": ["decimal(10,2) unsigned", "char(36) character set ascii", "enum('a','b;c')", "int(11)", "bit(8)"],
    "sqlite": ["varchar(20)", "numeric(10, 2)", "unsigned big int", "double precision"],
}

#: (written, {engine: the type the catalog then shows, lower case})
TRANSLATED = [
    ("string(100)", {"postgres": "character varying(100)", "mysql": "varchar(100)", "sqlite": "text(100)"}),
    ("timestamptz(3)", {"postgres": "timestamp(3) with time zone", "mysql": "datetime(3)", "sqlite": "text(3)"}),
    ("bytes(16)", {"postgres": "bytea", "mysql": "varbinary(16)", "sqlite": "blob(16)"}),
    ("int(11)", {"postgres": "integer", "mysql": "int(11)", "sqlite": "int(11)"}),
]

NOT_TYPES = [
    "numeric(1)); DROP TABLE victim; CREATE TABLE z (b numeric(1)",
    "int; DROP TABLE victim",
    "int -- comment",
    "int /* comment */",
    "varchar(10",
    "int)",
    "int::text",
    "int, DROP COLUMN keep",  # a comma outside parentheses starts another clause
    "enum('x\\'', ')",  # MySQL reads \' as a quote inside the label
]


def test_valid_type_strings_pass_through(db: Database) -> None:
    if db.dialect.name == "postgres":
        db.execute("CREATE TYPE mood AS ENUM ('ok')")
    table = db.schema.create_table("typed").add_column("id", "integer", lambda col: col.primary_key())
    for i, written in enumerate(PASS_THROUGH[db.dialect.name]):
        table = table.add_column(f"c{i}", written)
    table.execute()
    assert "typed" in catalog.tables(db)


@pytest.mark.parametrize(("written", "expected"), TRANSLATED)
def test_translated_names_keep_their_arguments(db: Database, written: str, expected: dict[str, str]) -> None:
    db.schema.create_table("typed").add_column("c", written).execute()
    info = db.introspect_table("typed")
    assert info is not None
    assert info.columns[0].data_type.lower() == expected[db.dialect.name]


def test_a_translation_without_arguments_refuses_them(db: Database) -> None:
    build = db.schema.create_table("typed").add_column("c", "double(10,2)" if db.dialect.name == "postgres" else "uuid(4)")
    if db.dialect.name == "sqlite":
        build.execute()  # SQLite takes any type name with arguments
        return
    with pytest.raises(BuilderError, match="takes no arguments"):
        build.compile()


@pytest.mark.parametrize("written", NOT_TYPES)
def test_what_is_not_a_type_is_refused_before_the_server(db: Database, written: str) -> None:
    db.schema.create_table("victim").add_column("id", "integer").execute()
    with pytest.raises(BuilderError, match="invalid column data type"):
        db.schema.create_table("z").add_column("a", written).execute()
    assert catalog.tables(db) == ["victim"]
