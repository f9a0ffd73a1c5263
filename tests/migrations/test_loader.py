"""load_migrations: .py and .sql files, validation before anything runs, private imports."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import pytest

from kysera import connect
from kysera.migrations import (
    Migration,
    MigrationDefinitionError,
    MigrationLoadError,
    create_migration_runner,
    load_migrations,
)
from kysera.migrations.sql_file import parse_sql_sections, split_sql

from .util import write

GOOD_PY = """
    from kysera import Database

    description = "users table"

    def up(db: Database) -> None:
        db.schema.create_table("users").add_column("id", "integer", lambda c: c.primary_key()).execute()

    def down(db: Database) -> None:
        db.schema.drop_table("users").execute()
"""

GOOD_SQL = """
    -- a header comment
    -- migrate:up
    CREATE TABLE posts (id integer PRIMARY KEY, body text);
    -- migrate:down
    DROP TABLE posts;
"""


def test_loads_py_and_sql_sorted_by_name(tmp_path: Path) -> None:
    write(tmp_path, "002_posts.sql", GOOD_SQL)
    write(tmp_path, "001_users.py", GOOD_PY)
    write(tmp_path, "_helpers.py", "X = 1\n")
    write(tmp_path, ".hidden.py", "syntax error here (\n")
    write(tmp_path, "README.md", "not a migration\n")
    write(tmp_path, "notes.txt", "nor this\n")
    (tmp_path / "__pycache__").mkdir()
    write(tmp_path / "__pycache__", "001_users.cpython-311.pyc", "junk")
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "003_nested.py", "def up(db): pass\n")

    migrations = load_migrations(tmp_path)

    assert [m.name for m in migrations] == ["001_users", "002_posts"]
    users, posts = migrations
    assert users.description == "users table"
    assert users.transaction is True and users.down is not None
    assert posts.sql_statements("up", "sqlite") == ["CREATE TABLE posts (id integer PRIMARY KEY, body text)"]
    assert posts.sql_statements("down", "sqlite") == ["DROP TABLE posts"]
    assert len(users.checksum) == 64 and users.checksum != posts.checksum


def test_python_modules_are_private(tmp_path: Path) -> None:
    write(tmp_path, "json.py", "def up(db): pass\n")  # a name the standard library uses
    write(tmp_path, "001_a.py", "def up(db): pass\n")
    before = set(sys.modules)
    migrations = load_migrations(tmp_path)
    added = set(sys.modules) - before
    assert {m.name for m in migrations} == {"json", "001_a"}
    assert all(name.startswith("_kysera_migrations_") for name in added), added
    import json

    assert hasattr(json, "dumps")  # the real module is untouched


def test_sibling_helper_modules(tmp_path: Path) -> None:
    write(tmp_path, "_shared.py", "TABLE = 'from_helper'\n")
    write(
        tmp_path,
        "001_abs.py",
        """
        import _shared

        def up(db):
            db.schema.create_table(_shared.TABLE).add_column("id", "integer").execute()
        """,
    )
    write(
        tmp_path,
        "002_rel.py",
        """
        def up(db):
            from . import _shared  # a relative import at run time works too
            db.schema.create_table(_shared.TABLE + "_2").add_column("id", "integer").execute()
        """,
    )
    migrations = load_migrations(tmp_path)
    assert "_shared" not in sys.modules  # helpers are forgotten after loading
    db = connect(f"sqlite:///{tmp_path / 'h.db'}")
    try:
        create_migration_runner(db, migrations).up()
        assert db.table_exists("from_helper") and db.table_exists("from_helper_2")
    finally:
        db.close()


def test_module_options(tmp_path: Path) -> None:
    write(
        tmp_path,
        "001_idx.py",
        """
        transaction = False
        def up(db): pass
        """,
    )
    (migration,) = load_migrations(tmp_path)
    assert migration.transaction is False and migration.down is None


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"001_bad.py": "def up(db):\n    return (\n"}, ["001_bad.py has a syntax error on line"]),
        ({"001_boom.py": "raise RuntimeError('no config')\ndef up(db): pass\n"}, ["001_boom.py raised RuntimeError: no config while it was imported (line 1)"]),
        ({"001_exit.py": "import sys\nsys.exit(3)\n"}, ["001_exit.py raised SystemExit"]),
        ({"001_noup.py": "def down(db): pass\n"}, ["001_noup.py has no up(db) function"]),
        ({"001_noargs.py": "def up(): pass\n"}, ["001_noargs.py: up takes 0 arguments, but kysera calls it with one"]),
        ({"001_async.py": "async def up(db): pass\n"}, ["up is an async function"]),
        ({"001_tx.py": "transaction = 'no'\ndef up(db): pass\n"}, ["transaction must be True or False"]),
        ({"001_x.sql": "CREATE TABLE x (id int);\n"}, ["001_x.sql has no '-- migrate:up' line"]),
        ({"001_x.sql": "-- migrate:upp\nSELECT 1;\n"}, ["unknown section '-- migrate:upp'"]),
        ({"001_x.sql": "-- migrate:up transaction:maybe\nSELECT 1;\n"}, ["unknown option 'transaction:maybe'"]),
        ({"001_x.sql": "-- migrate:up\nSELECT 1;\n-- migrate:up\nSELECT 2;\n"}, ["second '-- migrate:up' section"]),
        ({"001_x.sql": "DROP TABLE users;\n-- migrate:up\nSELECT 1;\n"}, ["has SQL before its first '-- migrate:' line"]),
        (
            {"001_a.py": "def up(db): pass\n", "001_a.sql": "-- migrate:up\nSELECT 1;\n"},
            ["001_a.py and ", "001_a.sql are both migration '001_a'"],
        ),
        ({"001_a.SQL": "-- migrate:up\nSELECT 1;\n"}, ["001_a.SQL: a migration file ends in .py or .sql, in lower case"]),
        (
            {"002_users.py": "def up(db): pass\n", "002_Users.sql": "-- migrate:up\nSELECT 1;\n"},
            ["are migrations '002_Users' and '002_users', names that differ only in case"],
        ),
    ],
)
def test_load_errors_name_the_file(tmp_path: Path, files: dict[str, str], expected: list[str]) -> None:
    write(tmp_path, "000_fine.py", "def up(db): pass\n")
    for name, text in files.items():
        write(tmp_path, name, text)
    with pytest.raises(MigrationLoadError) as caught:
        load_migrations(tmp_path)
    message = str(caught.value)
    for part in expected:
        assert part in message
    assert caught.value.exit_code == 2
    assert "000_fine" not in message


def test_numbers_without_zero_padding_are_refused(tmp_path: Path) -> None:
    """goose, dbmate and golang-migrate order 1_, 2_, 10_ by number; name order would run 10_ first."""
    for number in (1, 2, 10):
        write(tmp_path, f"{number}_t{number}.sql", f"-- migrate:up\nCREATE TABLE t{number} (id int);\n")
    with pytest.raises(MigrationLoadError) as caught:
        load_migrations(tmp_path)
    message = str(caught.value)
    assert "10_t10.sql sorts before 1_t1, 2_t2, though its number is higher" in message
    assert "pad the numbers with zeros to one width (01_t1, 02_t2, 10_t10)" in message
    assert caught.value.exit_code == 2 and {p.name for p in caught.value.paths} == {"1_t1.sql", "2_t2.sql", "10_t10.sql"}
    for number in (1, 2):
        (tmp_path / f"{number}_t{number}.sql").rename(tmp_path / f"0{number}_t{number}.sql")
    assert [m.name for m in load_migrations(tmp_path)] == ["01_t1", "02_t2", "10_t10"]
    # padded numbers, timestamps after them, a name without a number: name order is number order
    write(tmp_path, "20261128093000_later.sql", "-- migrate:up\nSELECT 1;\n")
    write(tmp_path, "initial.sql", "-- migrate:up\nSELECT 1;\n")
    write(tmp_path, "v2_schema.sql", "-- migrate:up\nSELECT 1;\n")  # a letter: not compared with 10_
    assert [m.name for m in load_migrations(tmp_path)][-3:] == ["20261128093000_later", "initial", "v2_schema"]


def test_flyway_numbers_without_zero_padding_are_refused(tmp_path: Path) -> None:
    for number in (1, 2, 10):
        write(tmp_path, f"V{number}__t{number}.sql", f"-- migrate:up\nCREATE TABLE t{number} (id int);\n")
    with pytest.raises(MigrationLoadError, match=r"V10__t10.sql sorts before V1__t1, V2__t2.*\(V01__t1, V02__t2, V10__t10\)"):
        load_migrations(tmp_path)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (  # golang-migrate
            {"1_a.up.sql": "-- migrate:up\nCREATE TABLE a (id int);\n", "1_a.down.sql": "-- migrate:up\nDROP TABLE a;\n"},
            "1_a.down.sql looks like the down file of 1_a.up.sql",
        ),
        (  # yoyo
            {"0001_a.sql": "-- migrate:up\nCREATE TABLE a (id int);\n", "0001_a.rollback.sql": "DROP TABLE a;\n"},
            "0001_a.rollback.sql looks like the down file of 0001_a.sql",
        ),
        (  # goose
            {"00001_a.sql": "-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n"},
            "line 1 is goose's '-- +goose Up'; kysera's sections are '-- migrate:up' and '-- migrate:down'",
        ),
        (  # goose's Down left below a kysera up section would run with it
            {"00001_a.sql": "-- migrate:up\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n"},
            "line 3 is goose's '-- +goose Down'",
        ),
    ],
)
def test_other_tools_migration_files_are_refused_with_the_way_to_convert_them(
    tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    for name, text in files.items():
        write(tmp_path, name, text)
    with pytest.raises(MigrationLoadError) as caught:
        load_migrations(tmp_path)
    assert expected in str(caught.value) and len(caught.value.problems) == 1


def test_non_utf8_files(tmp_path: Path) -> None:
    (tmp_path / "001_latin.py").write_bytes(b"NAME = 'caf\xe9'\ndef up(db): pass\n")
    (tmp_path / "002_latin.sql").write_bytes(b"-- migrate:up\nSELECT 'caf\xe9';\n")
    with pytest.raises(MigrationLoadError) as caught:
        load_migrations(tmp_path)
    assert len(caught.value.problems) == 2
    assert "001_latin.py has a syntax error" in str(caught.value)
    assert "save it as UTF-8, or declare its encoding" in str(caught.value)
    assert "002_latin.sql is not UTF-8 text" in str(caught.value)


def test_encoding_declaration_is_honoured(tmp_path: Path) -> None:
    (tmp_path / "001_latin.py").write_bytes(b"# -*- coding: latin-1 -*-\nNAME = 'caf\xe9'\ndef up(db): pass\n")
    (migration,) = load_migrations(tmp_path)
    assert migration.name == "001_latin"


def test_every_problem_is_reported_before_anything_runs(tmp_path: Path) -> None:
    write(tmp_path, "001_ok.py", GOOD_PY)
    write(tmp_path, "002_bad.py", "def up(db) pass\n")
    write(tmp_path, "003_bad.sql", "nothing\n")
    db = connect(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with pytest.raises(MigrationLoadError) as caught:
            create_migration_runner(db, tmp_path)
        assert len(caught.value.problems) == 2
        assert "2 migration files cannot be loaded" in str(caught.value)
        assert not db.table_exists("users") and not db.table_exists("kysera_migrations")
    finally:
        db.close()


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(MigrationLoadError, match="does not exist"):
        load_migrations(tmp_path / "nope")
    write(tmp_path, "file.py", "")
    with pytest.raises(MigrationLoadError, match="is not a folder"):
        load_migrations(tmp_path / "file.py")


def test_migration_objects_are_validated() -> None:
    def up(db: object) -> None:
        pass

    with pytest.raises(MigrationDefinitionError, match="non-empty name"):
        Migration("", up)
    with pytest.raises(MigrationDefinitionError, match="up must be a function"):
        Migration("001", "CREATE TABLE x")  # type: ignore[arg-type]
    with pytest.raises(MigrationDefinitionError, match="limit is 255"):
        Migration("x" * 300, up)
    db = connect("sqlite://")
    try:
        with pytest.raises(MigrationDefinitionError, match="two migrations are named '001'"):
            create_migration_runner(db, [Migration("001", up), Migration("001", up)])
        with pytest.raises(MigrationDefinitionError, match=r"must be a kysera\.migrations\.Migration"):
            create_migration_runner(db, [up])  # type: ignore[list-item]
    finally:
        db.close()


def test_migration_objects_are_checked_for_a_callable_signature_as_files_are() -> None:
    """Migration(name, up, down) in code refuses the up/down that a file's would be refused
    for (one that cannot take the database), when it is built: not later, part-way through
    a rollback."""

    def up(db: object) -> None:
        pass

    def no_args() -> None:
        pass

    def keyword_only(*, db: object) -> None:
        pass

    with pytest.raises(MigrationDefinitionError, match=r"migration 001: up takes 0 arguments, but kysera calls it with one"):
        Migration("001", no_args)  # type: ignore[arg-type]
    with pytest.raises(MigrationDefinitionError, match=r"migration 001: down takes 0 arguments"):
        Migration("001", up, no_args)  # type: ignore[arg-type]
    with pytest.raises(MigrationDefinitionError, match=r"up takes db as keyword-only \(after a \*\)"):
        Migration("001", keyword_only)  # type: ignore[arg-type]
    # what can be called with the database stays accepted: defaults, *args, partials, bound methods
    Migration("001", lambda db, extra=1: None, lambda *args: None)
    Migration("001", functools.partial(lambda tag, db: None, "t"), print)


def test_file_with_keyword_only_up_is_told_so(tmp_path: Path) -> None:
    write(tmp_path, "001_kw.py", "def up(*, db): pass\n")
    with pytest.raises(MigrationLoadError, match=r"001_kw\.py: up takes db as keyword-only \(after a \*\), but kysera passes"):
        load_migrations(tmp_path)


def test_sql_sections_and_splitting() -> None:
    sections = parse_sql_sections(
        "-- comment\n-- migrate:up transaction:false\nSELECT 1;\n--migrate:down\nSELECT 2;\n"
    )
    assert sections == {"up": ("SELECT 1;", False), "down": ("SELECT 2;", True)}
    text = """
        INSERT INTO t VALUES ('a;b', 'it''s; fine'); -- trailing; comment
        /* block; comment */ INSERT INTO t VALUES ("x;y", '--not a comment');
        CREATE FUNCTION f() RETURNS trigger AS $$
        BEGIN
          NEW.x := 'semi;colon';  -- inside the body
          RETURN NEW;
        END;
        $$ LANGUAGE plpgsql;
        CREATE FUNCTION g() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql
    """
    statements = split_sql(text, "postgres")
    assert len(statements) == 4
    assert statements[0] == "INSERT INTO t VALUES ('a;b', 'it''s; fine')"
    assert statements[1].startswith("/* block; comment */ INSERT")  # the trailing comment went with the first
    assert statements[1].endswith("""VALUES ("x;y", '--not a comment')""")
    assert "RETURN NEW;" in statements[2] and statements[2].endswith("$$ LANGUAGE plpgsql")
    assert statements[3].endswith("$body$ LANGUAGE sql")
    # MySQL's DELIMITER lines end statements and are not statements themselves
    procedure = "DELIMITER //\nCREATE PROCEDURE p() SELECT 1//\nDELIMITER ;\nCALL p();"
    assert split_sql(procedure, "mysql") == ["CREATE PROCEDURE p() SELECT 1", "CALL p()"]
    assert split_sql("DELIMITER //\nCREATE PROCEDURE p() SELECT 1//\nDELIMITER ;", "mysql") == [
        "CREATE PROCEDURE p() SELECT 1"
    ]


def test_empty_down_section_means_no_down(tmp_path: Path) -> None:
    write(tmp_path, "001_x.sql", "-- migrate:up\nSELECT 1;\n-- migrate:down\n\n")
    (migration,) = load_migrations(tmp_path)
    assert migration.down is None
