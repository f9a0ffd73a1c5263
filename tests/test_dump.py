"""Dump and restore against real databases: dump -> restore into a fresh database -> compare."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kysera import Database, connect, sql
from kysera.dump import (
    DumpToolNotFoundError,
    NotEmptyError,
    RestoreError,
    dump_database,
    restore_database,
    split_script,
)
from kysera.dump.split import ScriptError
from kysera.errors import ConfigurationError
from kysera.url import parse_url

AWKWARD = [
    "it's",
    "back\\slash",
    "ends with a backslash\\",
    "C:\\",
    "\\'",
    "''",
    "semi; colon",
    "-- not a comment",
    "/* not a comment */",
    "# not a comment",
    "new\nline",
    "cr\rand crlf\r\n",
    "tab\tbell\x07",
    "ünïcödé ✓ 🎉 𝄞",
    "",
    " ",
    "$$dollar$$",
    "$tag$ x $tag$",
    "E'x'",
    "%s %% ? :name",
    "NULL",
    "ctrl-z \x1a",
    "DELIMITER ;;",
    "END;",
    "BEGIN;",
    "'; DROP TABLE things; --",
    "x" * 5000,
]

TOOLS = {"postgres": "pg_dump", "mysql": "mariadb-dump", "sqlite": "sqlite3"}


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def target(engine: str, db_url: str, tmp_path: Path) -> Iterator[Database]:
    """A second empty database on the same engine, to restore into."""
    if engine == "sqlite":
        database = connect(f"sqlite:///{tmp_path / 'restored.db'}")
        try:
            yield database
        finally:
            database.close()
        return
    url = parse_url(db_url)
    name = url.database + "_r"
    quoted = f'"{name}"' if engine == "postgres" else f"`{name}`"
    with connect(url) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {quoted}" + (" WITH (FORCE)" if engine == "postgres" else ""))
        admin.execute(f"CREATE DATABASE {quoted}")
    database = connect(url.with_database(name))
    try:
        yield database
    finally:
        database.close()
        with connect(url) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {quoted}" + (" WITH (FORCE)" if engine == "postgres" else ""))


def _norm(value: object) -> object:
    if isinstance(value, float):
        return ("float", repr(value))  # tells -0.0 from 0.0
    if isinstance(value, memoryview):
        return bytes(value)
    return value


def rows_of(db: Database, table: str, order: str, as_text: bool = False) -> list[dict[str, object]]:
    q = db.dialect.compiler()
    if as_text:  # PostgreSQL: each row as the server prints it, exact for every type
        found = db.fetch(f"SELECT x::text AS row FROM {q.quote(table)} x ORDER BY {order}")
    else:
        found = db.fetch(f"SELECT * FROM {q.quote(table)} ORDER BY {order}")
    return [{k: _norm(v) for k, v in r.items()} for r in found]


def dump_text(db: Database, **options: object) -> str:
    out = io.StringIO()
    dump_database(db, out, **options)  # type: ignore[arg-type]
    return out.getvalue()


def assert_same(source: Database, restored: Database, tables: dict[str, str], as_text: bool = False) -> None:
    assert source.introspect().diff(restored.introspect()) == []
    for table, order in tables.items():
        assert rows_of(restored, table, order, as_text) == rows_of(source, table, order, as_text), table


def _make_portable(db: Database, engine: str) -> None:
    """Tables made with the builders, including kysera's history table and a FK cycle."""
    (
        db.schema.create_table("kysera_migrations")
        .add_column("name", "varchar(255)", lambda c: c.primary_key())
        .add_column("applied_at", "timestamp", lambda c: c.not_null())
        .execute()
    )
    db.insert_into("kysera_migrations").values(
        [
            {"name": "20240101_init", "applied_at": dt.datetime(2024, 1, 1, 12, 0, 0)},
            {"name": "20240202_more", "applied_at": dt.datetime(2024, 2, 2, 8, 30, 15)},
        ]
    ).execute()
    (
        db.schema.create_table("people")
        .add_column("id", "serial", lambda c: c.primary_key())
        .add_column("name", "text", lambda c: c.not_null())
        .add_column("blob", "bytea" if engine == "postgres" else "blob")
        .add_column("flag", "boolean")
        .add_column("amount", "decimal(30,10)")
        .add_column("ratio", "double precision" if engine != "mysql" else "double")
        .add_column("born", "date")
        .add_column("seen_at", "timestamp")
        .add_column("best_friend_id", "integer", lambda c: c.references("people.id").on_delete("set null"))
        .execute()
    )
    (
        db.schema.create_table("teams")
        .add_column("id", "serial", lambda c: c.primary_key())
        .add_column("captain_id", "integer", lambda c: c.references("people.id"))
        .add_column("label", "varchar(100)", lambda c: c.unique())
        .execute()
    )
    db.schema.alter_table("people").add_column(
        "team_id", "integer", lambda c: c.references("teams.id").on_delete("cascade")
    ).execute() if engine != "sqlite" else db.execute(
        'ALTER TABLE "people" ADD COLUMN "team_id" integer REFERENCES "teams" ("id") ON DELETE CASCADE'
    )
    db.schema.create_index("people_name_idx").on("people").column("name" if engine != "mysql" else sql("name(100)")).execute() if engine != "mysql" else db.execute(
        "CREATE INDEX people_name_idx ON people (name(100))"
    )
    floats = [0.1 + 0.2, 1 / 3, 1e-300, 1.7976931348623157e308, -0.0, 5e-324, 2.0, 123456789.125, 1e16, -2.5]
    values = AWKWARD
    rows = []
    for i, text in enumerate(values):
        amount = decimal.Decimal("-12345678901234567890.0123456789") if i % 3 == 0 else decimal.Decimal("0.0000000001")
        rows.append(
            {
                "id": i + 1,
                "name": text,
                "blob": bytes(range(256)) if i == 0 else (text.encode("utf-8") + b"\x00\xff'\\" if i % 2 else None),
                "flag": (i % 3 == 1) if i % 3 else None,
                "amount": str(amount) if engine == "sqlite" else amount,
                "ratio": floats[i % len(floats)],
                "born": dt.date(1999, 12, 31) if i % 2 else dt.date(2024, 2, 29),
                "seen_at": dt.datetime(2024, 2, 29, 23, 59, 58, 123456) if i % 2 else None,
                "best_friend_id": None,
            }
        )
    db.insert_into("people").values(rows).execute()
    if engine != "postgres":  # a NUL inside a string (PostgreSQL text cannot hold one)
        mark = "?" if engine == "sqlite" else "%s"
        db.execute(f"INSERT INTO people (id, name) VALUES ({mark}, {mark})", [len(values) + 1, "nul \x00 char"])
    if engine == "postgres":  # explicit ids do not move a serial's sequence there
        db.execute("SELECT setval('people_id_seq', (SELECT max(id) FROM people))")
    db.update_table("people").set({"best_friend_id": 3}).where("id", "in", [1, 2, 4]).execute()
    db.update_table("people").set({"best_friend_id": 2}).where("id", "=", 3).execute()
    db.insert_into("teams").values([{"captain_id": 1, "label": "a"}, {"captain_id": 2, "label": "b'c"}]).execute()
    db.update_table("people").set({"team_id": 1}).where("id", "<", 5).execute()
    db.delete_from("teams").where("id", "=", 2).execute()  # a gap in the sequence
    db.insert_into("teams").values([{"captain_id": None, "label": None}]).execute()
    db.execute("CREATE VIEW team_names AS SELECT id, label FROM teams WHERE label IS NOT NULL")
    db.execute("CREATE VIEW team_names_upper AS SELECT id, upper(label) AS label FROM team_names")


PORTABLE = {"kysera_migrations": "name", "people": "id", "teams": "id"}


def _next_ids(db: Database) -> list[object]:
    """Insert one row per serial table and return the ids the sequences handed out."""
    db.insert_into("teams").values([{"label": "new one"}]).execute()
    db.insert_into("people").values([{"name": "newcomer"}]).execute()
    return [
        db.fetch("SELECT max(id) AS m FROM teams")[0]["m"],
        db.fetch("SELECT max(id) AS m FROM people")[0]["m"],
    ]


# --------------------------------------------------------------------------- round trips


def test_round_trip_portable(db: Database, target: Database, engine: str) -> None:
    _make_portable(db, engine)
    text = dump_text(db)
    result = restore_database(target, text)
    assert result.content == "schema+data" and result.format == "kysera"
    assert_same(db, target, PORTABLE)
    assert rows_of(target, "team_names_upper", "id") == rows_of(db, "team_names_upper", "id")
    # the auto-increment positions came along: both hand out the same next ids
    assert _next_ids(target) == _next_ids(db)


def test_dump_header_and_shape(db: Database, engine: str) -> None:
    _make_portable(db, engine)
    out = io.StringIO()
    result = dump_database(db, out, batch_rows=10)
    text = out.getvalue()
    lines = text.splitlines()
    assert lines[0] == f"-- kysera dump: engine={engine}; content=schema+data; format=kysera"
    assert any(line.startswith("-- kysera version: ") for line in lines[:10])
    assert any(line.startswith("-- server version: ") for line in lines[:10])
    created = next(line for line in lines[:10] if line.startswith("-- created (UTC): "))
    assert created.endswith("Z")
    assert lines[-1] == "-- kysera dump end"
    assert set(result.tables) == set(PORTABLE)
    assert result.rows == len(AWKWARD) + (1 if engine != "postgres" else 0) + 2 + 2
    # multi-row INSERTs, at most batch_rows rows each
    assert text.count("INSERT INTO") >= 3
    # referenced tables come before the tables that reference them (teams <-> people is a cycle)
    assert text.index("-- table kysera_migrations") >= 0
    # no raw line break inside any value: every line of an INSERT ends a row or the statement
    body = text[text.index("-- data of people") :]
    insert = body[: body.index(";\n") + 2]
    for line in insert.splitlines()[2:]:
        assert line.startswith("(") and (line.endswith("),") or line.endswith(");")), line


def test_round_trip_engine_types(db: Database, target: Database, engine: str) -> None:
    if engine == "postgres":
        db.execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'it''s fine')")
        db.execute("CREATE SEQUENCE ticket_seq START 500 INCREMENT 5")
        db.execute("SELECT nextval('ticket_seq'), nextval('ticket_seq')")
        db.execute(
            "CREATE TABLE typed (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
            "j json, jb jsonb, arr text[], ints int[], iv interval, u uuid, ts timestamptz, t time, "
            "b bytea, n numeric, f8 float8, f4 real, flag boolean, m mood DEFAULT 'ok', ip inet, "
            "ticket int DEFAULT nextval('ticket_seq'), doubled numeric GENERATED ALWAYS AS (n * 2) STORED)"
        )
        db.execute("COMMENT ON TABLE typed IS 'every type'")
        db.execute("COMMENT ON COLUMN typed.j IS 'it''s json'")
        db.execute("CREATE INDEX typed_jb ON typed USING gin (jb)")
        db.execute("CREATE UNIQUE INDEX typed_u_partial ON typed (u) WHERE flag")
        db.execute(
            "INSERT INTO typed (j, jb, arr, ints, iv, u, ts, t, b, n, f8, f4, flag, m, ip) VALUES "
            "('{\"a\": \"x\\\\y\\n\", \"b\": [1, 2.50]}', '{\"k\": \"it''s\", \"n\": null}', "
            "ARRAY['a,b', 'c\"d', NULL, '', 'back\\slash'], '{1,NULL,-3}', '1 year 2 mons -3 days 04:05:06.789', "
            "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2024-02-29 23:59:58.123456+05:30', '23:59:59.999999', "
            "'\\x00ff275c0a'::bytea, 'NaN', 'Infinity', '-0', true, 'it''s fine', '192.168.0.1/24'), "
            "(NULL, NULL, '{}', NULL, NULL, NULL, '-infinity', NULL, ''::bytea, "
            "-123456789012345678901234567890.123456789, '-Infinity', 3.14159, false, 'sad', '::1'), "
            "(NULL, 'null', NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1e-20, 'NaN', 1.1, NULL, DEFAULT, NULL)"
        )
        db.execute("ALTER TABLE typed ALTER COLUMN id RESTART WITH 1000")
        db.execute("ALTER TABLE typed ADD CONSTRAINT typed_n_positive CHECK (n > -1000) NOT VALID")
        db.execute("CREATE MATERIALIZED VIEW typed_summary AS SELECT m, count(*) AS n FROM typed GROUP BY m")
        db.execute("CREATE UNIQUE INDEX typed_summary_m ON typed_summary (m)")
        tables = {"typed": "id"}
    elif engine == "mysql":
        db.execute("SET SESSION sql_mode = ''")
        db.execute("SET SESSION time_zone = '+05:00'")
        db.execute(
            "CREATE TABLE typed (id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, "
            "tm time(6), s set('a','b','c'), e enum('x','y''z'), bits bit(10), yr year, js json, "
            "dt6 datetime(6), ts timestamp NULL, zero_date datetime NULL, dec65 decimal(65,30), "
            "f float, dbl double, bin varbinary(20), lb longblob, txt longtext, ch char(5), "
            "u8 varchar(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin, "
            "gen_len int GENERATED ALWAYS AS (char_length(txt)) VIRTUAL, "
            "gen_stored int GENERATED ALWAYS AS (yr + 1) STORED, "
            "KEY typed_gen (gen_len), CONSTRAINT typed_dec CHECK (dec65 <> 42)) AUTO_INCREMENT=77"
        )
        db.execute(
            "INSERT INTO typed (tm, s, e, bits, yr, js, dt6, ts, zero_date, dec65, f, dbl, bin, lb, txt, ch, u8) VALUES "
            "('-838:59:59.000000', 'a,c', 'y''z', b'1010101010', 2155, '{\"a\": \"x\\\\\\\\y\\\\n\"}', "
            "'2024-02-29 23:59:58.123456', '2024-06-01 12:00:00', '0000-00-00 00:00:00', "
            "'-12345678901234567890123456789012345.123456789012345678901234567890', 1.1, -0.0, "
            "X'00FF275C0A0D1A', X'DEADBEEF', 'back\\\\slash\\nnew', 'ab', '🎉 it''s'), "
            "('100:00:01.5', '', 'x', b'0', 1901, 'null', NULL, NULL, NULL, 0, NULL, 1e308, X'', '', '', '', ''), "
            "(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
        )
        db.execute("SET SESSION sql_mode = DEFAULT")
        db.execute(
            "CREATE TABLE audit (id int AUTO_INCREMENT PRIMARY KEY, typed_id bigint unsigned, note varchar(50))"
        )
        db.execute(
            "CREATE TRIGGER typed_audit AFTER INSERT ON typed FOR EACH ROW BEGIN "
            "INSERT INTO audit (typed_id, note) VALUES (NEW.id, 'inserted; really'); END"
        )
        db.execute("INSERT INTO typed (txt) VALUES ('fires the trigger')")
        # a trigger made under another sql_mode: || concatenates in its body
        db.execute("CREATE TABLE names (a varchar(10), b varchar(10), whole varchar(30))")
        db.execute("SET SESSION sql_mode = 'PIPES_AS_CONCAT'")
        db.execute("CREATE TRIGGER names_whole BEFORE INSERT ON names FOR EACH ROW SET NEW.whole = NEW.a || NEW.b")
        db.execute("SET SESSION sql_mode = DEFAULT")
        tables = {"typed": "id", "audit": "id"}
    else:
        db.execute(
            "CREATE TABLE typed (id INTEGER PRIMARY KEY AUTOINCREMENT, anything, r REAL, i INTEGER, t TEXT, "
            "b BLOB, total INT GENERATED ALWAYS AS (i * 2) VIRTUAL, CHECK (i IS NULL OR i > -10000000000000000000))"
        )
        db.execute(
            "CREATE TABLE pairs (a TEXT, b INTEGER, v, PRIMARY KEY (a, b)) WITHOUT ROWID"
        )
        db.execute(
            "INSERT INTO typed (anything, r, i, t, b) VALUES "
            "(1, 9e999, 9223372036854775807, 'nul ' || char(0) || ' inside', X'00ff'), "
            "('text', -9e999, -9223372036854775808, 'x', X''), "
            "(X'0102', 0.1, 0, char(13, 10), NULL), "
            "(1.5, -0.0, NULL, NULL, NULL), "
            "(NULL, NULL, NULL, NULL, NULL)"
        )
        db.execute("DELETE FROM typed WHERE id = 5")
        db.execute("INSERT INTO pairs VALUES ('x', 2, 'two'), ('x', 1, X'01'), ('a', 9, NULL)")
        db.execute("CREATE TABLE audit (id INTEGER PRIMARY KEY, typed_id INTEGER, note TEXT)")
        db.execute(
            "CREATE TRIGGER typed_audit AFTER INSERT ON typed BEGIN "
            "INSERT INTO audit (typed_id, note) VALUES (NEW.id, CASE WHEN NEW.i > 0 THEN 'pos; itive' ELSE 'not' END); END"
        )
        db.execute("INSERT INTO typed (i) VALUES (7)")
        tables = {"typed": "id", "pairs": "a, b", "audit": "id"}
    text = dump_text(db, batch_rows=2)
    if engine == "mysql":  # the dump read TIMESTAMPs in UTC whatever the session said
        db.execute("SET SESSION time_zone = DEFAULT")
    restore_database(target, text)
    assert_same(db, target, tables, as_text=engine == "postgres")
    if engine == "postgres":
        assert target.fetch("SELECT nextval('ticket_seq') AS n") == db.fetch("SELECT nextval('ticket_seq') AS n")
        target.execute("INSERT INTO typed (n) VALUES (1)")
        assert target.fetch("SELECT max(id) AS m FROM typed")[0]["m"] == 1000
        assert rows_of(target, "typed_summary", "m") == rows_of(db, "typed_summary", "m")
        info = target.introspect_table("typed")
        assert info is not None and {c.name for c in info.check_constraints} == {"typed_n_positive"}
    if engine in ("mysql", "sqlite"):
        # the trigger came along, created after the data so loading did not fire it
        assert len(rows_of(target, "audit", "id")) == len(rows_of(db, "audit", "id")) == 1
        target.execute("INSERT INTO typed (id) VALUES (500)")
        assert len(rows_of(target, "audit", "id")) == 2
    if engine == "mysql":
        target.execute("INSERT INTO typed (txt) VALUES ('next')")
        assert target.fetch("SELECT max(id) AS m FROM typed")[0]["m"] == 501
        # recreated under its own sql_mode, not the dump's
        target.execute("INSERT INTO names (a, b) VALUES ('x', 'y')")
        assert target.fetch("SELECT whole FROM names")[0]["whole"] == "xy"


def test_schema_only_then_data_only(db: Database, target: Database, engine: str) -> None:
    _make_portable(db, engine)
    schema_text = dump_text(db, schema_only=True)
    assert "INSERT INTO" not in schema_text
    assert restore_database(target, schema_text).content == "schema-only"
    assert db.introspect().diff(target.introspect()) == []
    for table, order in PORTABLE.items():
        assert rows_of(target, table, order) == []

    data_text = dump_text(db, data_only=True)
    assert "CREATE TABLE" not in data_text
    assert restore_database(target, data_text).content == "data-only"
    assert_same(db, target, PORTABLE)
    assert _next_ids(target) == _next_ids(db)

    # loading the data twice is refused, naming a table that has rows
    with pytest.raises(NotEmptyError, match="already has rows"):
        restore_database(target, data_text)


def test_data_only_needs_the_schema(db: Database, target: Database, engine: str) -> None:
    _make_portable(db, engine)
    with pytest.raises(NotEmptyError, match="no tables"):
        restore_database(target, dump_text(db, data_only=True))


def test_exclude_tables(db: Database, target: Database, engine: str) -> None:
    _make_portable(db, engine)
    restore_database(target, dump_text(db, exclude=["kysera_migrations"]))
    assert set(target.introspect().tables) == {"people", "teams"}


def test_paging_large_tables(db: Database, target: Database, engine: str) -> None:
    """More rows than one page, on a composite key and on a table without any key."""
    (
        db.schema.create_table("grid")
        .add_column("x", "integer", lambda c: c.not_null())
        .add_column("y", "varchar(10)", lambda c: c.not_null())
        .add_column("v", "text")
        .add_primary_key_constraint("grid_pk", ["x", "y"])
        .execute()
    )
    db.schema.create_table("loose").add_column("v", "integer").add_column("w", "text").execute()
    grid = [{"x": i % 37, "y": f"y{i:05d}", "v": f"row {i}\n"} for i in range(2600)]
    for start in range(0, len(grid), 500):
        db.insert_into("grid").values(grid[start : start + 500]).execute()
    loose = [{"v": i % 3, "w": "same" if i % 5 else None} for i in range(2100)]
    for start in range(0, len(loose), 500):
        db.insert_into("loose").values(loose[start : start + 500]).execute()
    result = dump_database(db, (out := io.StringIO()), batch_rows=333)
    assert result.rows == 2600 + 2100
    restore_database(target, out.getvalue())
    assert rows_of(target, "grid", "x, y") == rows_of(db, "grid", "x, y")
    assert rows_of(target, "loose", "v, w") == rows_of(db, "loose", "v, w")


def test_a_named_primary_key_keeps_its_name_through_a_dump(db: Database, target: Database, engine: str) -> None:
    """The name given to add_primary_key_constraint (kept as the key's comment on MySQL, which
    names every primary key PRIMARY) survives a dump and restore: drop_constraint(name) works on
    the restored database, and the comment is no difference between the two."""
    db.schema.create_table("reviews").add_column("slug", "varchar(20)", lambda c: c.not_null()).add_primary_key_constraint("reviews_pk", ["slug"]).execute()
    db.insert_into("reviews").values({"slug": "a"}).execute()
    restore_database(target, dump_text(db))
    assert_same(db, target, {"reviews": "slug"})
    target.schema.alter_table("reviews").drop_constraint("reviews_pk").execute()
    assert target.introspect().tables["reviews"].primary_key == ()


# --------------------------------------------------------------------------- native tools


def _avoid_tool_quirks(db: Database) -> None:
    """pg_dump --inserts writes a float -0 bare (it comes back as 0); sqlite3's .dump prints
    subnormal floats with more digits than SQLite reads back, and stops a string at a NUL."""
    db.update_table("people").set({"ratio": 1.5}).where("ratio", "=", 0.0).execute()
    db.update_table("people").set({"ratio": 2.5}).where("ratio", "<", 1e-320).where("ratio", ">", 0).execute()
    db.delete_from("people").where("name", "like", "nul %").execute()


def test_native_round_trip(db: Database, target: Database, engine: str) -> None:
    if shutil.which(TOOLS[engine]) is None:
        pytest.skip(f"{TOOLS[engine]} is not installed")
    _make_portable(db, engine)
    _avoid_tool_quirks(db)
    text = dump_text(db, native=True)
    assert text.startswith(f"-- kysera dump: engine={engine}; content=schema+data; format=")
    assert "\\restrict" not in text and "enable the sandbox mode" not in text
    result = restore_database(target, text)
    assert result.format in ("pg_dump", "mariadb-dump", "mysqldump", "sqlite3")
    assert_same(db, target, PORTABLE)
    assert _next_ids(target) == _next_ids(db)


def test_native_schema_only_and_data_only(db: Database, target: Database, engine: str) -> None:
    if shutil.which(TOOLS[engine]) is None:
        pytest.skip(f"{TOOLS[engine]} is not installed")
    # the tools' data-only modes load tables in foreign-key order and cannot break a cycle
    # (pg_dump would need --disable-triggers, a superuser's option): a schema without one
    (
        db.schema.create_table("parents")
        .add_column("id", "serial", lambda c: c.primary_key())
        .add_column("name", "text")
        .execute()
    )
    (
        db.schema.create_table("children")
        .add_column("id", "serial", lambda c: c.primary_key())
        .add_column("parent_id", "integer", lambda c: c.not_null().references("parents.id"))
        .add_column("note", "text")
        .execute()
    )
    db.execute("CREATE VIEW parent_names AS SELECT name FROM parents")
    db.insert_into("parents").values([{"name": text} for text in AWKWARD]).execute()
    db.insert_into("children").values([{"parent_id": i % 5 + 1, "note": AWKWARD[-i]} for i in range(1, 12)]).execute()
    restore_database(target, dump_text(db, native=True, schema_only=True))
    assert db.introspect().diff(target.introspect()) == []
    restore_database(target, dump_text(db, native=True, data_only=True))
    assert_same(db, target, {"parents": "id", "children": "id"})


def test_native_tool_missing(db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    db.schema.create_table("t").add_column("id", "integer", lambda c: c.primary_key()).execute()
    with pytest.raises(DumpToolNotFoundError, match="not installed"):
        dump_database(db, io.StringIO(), native=True)


# --------------------------------------------------------------------------- refusals and errors


def test_restore_refuses_non_empty_database(db: Database, target: Database, engine: str) -> None:
    _make_portable(db, engine)
    text = dump_text(db)
    target.schema.create_table("already_here").add_column("id", "integer").execute()
    with pytest.raises(NotEmptyError, match="already_here"):
        restore_database(target, text)
    assert set(target.introspect().tables) == {"already_here"}


def test_restore_refuses_other_engine(db: Database, engine: str) -> None:
    other = "mysql" if engine != "mysql" else "postgres"
    text = f"-- kysera dump: engine={other}; content=schema+data; format=kysera\nSELECT 1;\n-- kysera dump end\n"
    with pytest.raises(RestoreError, match="dump and this database is"):
        restore_database(db, text)


def test_restore_refuses_truncated_dump(db: Database, target: Database, engine: str) -> None:
    _make_portable(db, engine)
    text = dump_text(db)
    cut = text[: text.index("-- data of people") + 200]  # in the middle of a statement
    with pytest.raises(RestoreError, match="truncated; nothing was restored"):
        restore_database(target, cut)
    assert target.introspect().tables == {}
    # read from a pipe, the end is only seen at the end: the transaction is rolled back then
    if engine != "mysql":
        with pytest.raises(RestoreError, match="truncated"):
            restore_database(target, io.StringIO(text[: text.index("-- data of people")]))
        assert target.introspect().tables == {}


def test_restore_names_truncation_when_the_cut_statement_fails(db: Database, target: Database, engine: str) -> None:
    """A dump read from a pipe and cut inside a statement: that statement fails first (a syntax
    error), and the message said only that, not that the file is truncated."""
    _make_portable(db, engine)
    text = dump_text(db)
    cut = text[: text.index("-- data of people") + 200]
    expected = "truncated and the database is partly restored" if engine == "mysql" else "truncated; nothing was restored"
    with pytest.raises(RestoreError, match=expected):
        restore_database(target, io.StringIO(cut))
    if engine != "mysql":
        assert target.introspect().tables == {}


def test_restore_names_truncation_inside_a_character(db: Database, target: Database, engine: str, tmp_path: Path) -> None:
    """A file cut in the middle of a multi-byte character was called "not a UTF-8 text file"."""
    db.execute("CREATE TABLE notes (id integer PRIMARY KEY, body text)")
    db.execute("INSERT INTO notes VALUES (1, '\u00e9\U0001f600')")
    data = dump_text(db).encode("utf-8")
    path = tmp_path / "cut.sql"
    path.write_bytes(data[: data.index("\U0001f600".encode()) + 2])
    with pytest.raises(RestoreError, match="in the middle of a UTF-8 character: the file is truncated; nothing was restored"):
        restore_database(target, path)
    assert target.introspect().tables == {}


def test_failing_statement_names_its_line(db: Database, engine: str) -> None:
    script = (
        f"-- kysera dump: engine={engine}; content=schema+data; format=kysera\n"
        "CREATE TABLE a (id integer);\n\nINSERT INTO a VALUES (1);\nINSERT INTO missing VALUES (2);\n"
        "-- kysera dump end\n"
    )
    with pytest.raises(RestoreError, match="line 5"):
        restore_database(db, script)
    if engine != "mysql":
        assert db.introspect().tables == {}


def test_restore_from_path_and_file(db: Database, target: Database, engine: str, tmp_path: Path) -> None:
    _make_portable(db, engine)
    path = tmp_path / "backup.sql"
    with open(path, "w", encoding="utf-8", newline="") as f:
        dump_database(db, f)
    restore_database(target, path)
    assert_same(db, target, PORTABLE)
    with pytest.raises(RestoreError, match="does not exist"):
        restore_database(target, str(tmp_path / "nope.sql"))


def test_restore_from_text_file_with_newline_translation(db: Database, target: Database, engine: str, tmp_path: Path) -> None:
    """Values with line breaks survive a file opened in text mode with newline translation."""
    _make_portable(db, engine)
    path = tmp_path / "crlf.sql"
    with open(path, "w", encoding="utf-8", newline="\r\n") as f:
        dump_database(db, f)
    with open(path, encoding="utf-8") as f:  # universal newlines
        restore_database(target, f)
    assert_same(db, target, PORTABLE)


def test_bad_options(db: Database) -> None:
    with pytest.raises(ConfigurationError, match="exclude each other"):
        dump_database(db, io.StringIO(), schema_only=True, data_only=True)


def test_restore_keeps_session_settings(db: Database, target: Database, engine: str) -> None:
    _make_portable(db, engine)
    if engine == "postgres":
        before = target.fetch("SHOW search_path")
        restore_database(target, dump_text(db))
        assert target.fetch("SHOW search_path") == before
        assert target.fetch("SHOW client_min_messages")[0]["client_min_messages"] == "notice"
    elif engine == "mysql":
        before = target.fetch("SELECT @@SESSION.foreign_key_checks AS f, @@SESSION.sql_mode AS m, @@SESSION.time_zone AS z")
        restore_database(target, dump_text(db))
        after = target.fetch("SELECT @@SESSION.foreign_key_checks AS f, @@SESSION.sql_mode AS m, @@SESSION.time_zone AS z")
        assert after == before
    else:
        restore_database(target, dump_text(db))
        assert target.fetch("PRAGMA foreign_keys")[0]["foreign_keys"] == 1


# --------------------------------------------------------------------------- the splitter


@pytest.mark.parametrize(
    ("dialect", "script", "expected"),
    [
        ("mysql", "INSERT INTO t VALUES ('a\\\\'); INSERT INTO t VALUES ('x;y');", ["INSERT INTO t VALUES ('a\\\\')", "INSERT INTO t VALUES ('x;y')"]),
        ("mysql", "SELECT 'it\\'s; ok'; SELECT \"a;b\"; # c;\nSELECT 3", ["SELECT 'it\\'s; ok'", 'SELECT "a;b"', "SELECT 3"]),
        ("postgres", "SELECT 'C:\\'; SELECT E'a\\';b'; SELECT $$;$$; SELECT $x$ $$; $x$", ["SELECT 'C:\\'", "SELECT E'a\\';b'", "SELECT $$;$$", "SELECT $x$ $$; $x$"]),
        ("postgres", "\\restrict abc\nSELECT 1;\n-- c;\n/* d; */ SELECT \"x;\";\n\\unrestrict abc\n", ["SELECT 1", "SELECT \"x;\""]),
        ("postgres", "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END; SELECT 2", ["CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END", "SELECT 2"]),
        ("sqlite", "CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT CASE WHEN 1 THEN 2 END; DELETE FROM y; END; BEGIN TRANSACTION; SELECT [a;b], `c;d`", ["CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT CASE WHEN 1 THEN 2 END; DELETE FROM y; END", "BEGIN TRANSACTION", "SELECT [a;b], `c;d`"]),
        ("mysql", "DELIMITER ;;\nCREATE PROCEDURE p() BEGIN SELECT 1; END ;;\nDELIMITER ;\nSELECT 2;", ["CREATE PROCEDURE p() BEGIN SELECT 1; END", "SELECT 2"]),
        ("sqlite", "CREATE TABLE t (a CHECK (a <> ';'));;; -- end", ["CREATE TABLE t (a CHECK (a <> ';'))"]),
        (
            "mysql",
            "CREATE PROCEDURE p() BEGIN IF 1 THEN SELECT 1; END IF; CASE 2 WHEN 2 THEN SELECT 2; END CASE; "
            "WHILE 0 DO SELECT 3; END WHILE; END; SELECT 4",
            [
                "CREATE PROCEDURE p() BEGIN IF 1 THEN SELECT 1; END IF; CASE 2 WHEN 2 THEN SELECT 2; END CASE; "
                "WHILE 0 DO SELECT 3; END WHILE; END",
                "SELECT 4",
            ],
        ),
    ],
)
def test_split_script(dialect: str, script: str, expected: list[str]) -> None:
    assert [s.text for s in split_script(script, dialect)] == expected


def test_split_script_across_chunks() -> None:
    script = "INSERT INTO t VALUES ('a;b', $$x;y$$);\nSELECT 'q''q;';\n" * 50
    chunks = [script[i : i + 7] for i in range(0, len(script), 7)]
    assert [s.text for s in split_script(iter(chunks), "postgres")] == [s.text for s in split_script(script, "postgres")]
    assert len(list(split_script(iter(chunks), "postgres"))) == 100
    lines = [s.line for s in split_script(script, "postgres")]
    assert lines[:4] == [1, 2, 3, 4]
    # a statement's line is where its text starts, after the comments before it
    assert [s.line for s in split_script("-- one\n\n/* two */\nSELECT 1;\n-- x;\nSELECT 2", "sqlite")] == [4, 6]


#: pieces a seed, a dump or a routine is made of: every kind of quote, comment and body the
#: splitter reads, and the words that start a routine
_SQL_PIECES = [
    "INSERT INTO t VALUES (1, 'a;b')", "UPDATE t SET a = 1", "SELECT 1", "DELETE FROM t", " ", "\n", ";", ";\n",
    "'x''y'", "'it\\'s'", '"q;"', "`b;`", "[n;]", "E'a\\'b'", "-- c;\n", "# h;\n", "/* c; */", "$$ a; b $$", "$f$ x $f$",
    "(", ")", "((1, 2))", "a.b", "x - y", "p / q", "\\", "CREATE TABLE t (a int)", "BEGIN", "END",
    "CREATE PROCEDURE p() BEGIN SELECT 1; END", "DELIMITER //\n", "//", "DELIMITER ;\n", "COMMIT", "VALUES (3)",
]


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(st.sampled_from(_SQL_PIECES), max_size=30), dialect=st.sampled_from(["postgres", "mysql", "sqlite"]))
def test_the_splitters_fast_path_reads_statements_as_its_loop_does(pieces: list[str], dialect: str) -> None:
    """A plain statement (a seed's INSERT) is read in one match, everything else by the loop:
    both must give the same statements, words, lines and offsets, whole or in chunks."""
    from kysera.dump import split as splitting

    script = "".join(pieces)

    def split(source: str | Iterator[str]) -> list[tuple[str, tuple[str, ...], int, int]] | str:
        try:
            return [(s.text, s.words, s.line, s.offset) for s in split_script(source, dialect)]
        except ScriptError as exc:
            return str(exc)

    fast = split(script)
    assert split(iter([script[i : i + 5] for i in range(0, len(script), 5)])) == fast
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(splitting, "_PLAIN", {})
        patch.setattr(splitting, "_PLAIN_TEXT", {})  # no fast path: every statement through the loop
        assert split(script) == fast


def test_awkward_identifiers(db: Database, target: Database, engine: str) -> None:
    q = db.dialect.compiler()
    table, other = 'order "items"', "select"
    db.execute(
        f"CREATE TABLE {q.quote(other)} ({q.quote('from')} integer PRIMARY KEY, {q.quote('a%b')} varchar(20))"
    )
    db.execute(
        f"CREATE TABLE {q.quote(table)} ({q.quote('group')} integer NOT NULL, {q.quote('Weird Name')} varchar(20), "
        f"{q.quote('ref')} integer REFERENCES {q.quote(other)} ({q.quote('from')}), "
        f"PRIMARY KEY ({q.quote('group')}))"
    )
    db.execute(f"CREATE INDEX {q.quote('idx %s ?')} ON {q.quote(table)} ({q.quote('Weird Name')})")
    db.insert_into(other).values([{"from": i, "a%b": f"{i}%"} for i in range(1, 4)]).execute()
    # more than one page, so the keyset query takes parameters next to the odd names
    rows = [{"group": i, "Weird Name": "x%s", "ref": i % 3 + 1} for i in range(1, 1205)]
    db.insert_into(table).values(rows[:600]).execute()
    db.insert_into(table).values(rows[600:]).execute()
    restore_database(target, dump_text(db))
    assert_same(db, target, {table: q.quote("group"), other: q.quote("from")})


def test_unsupported_objects_are_refused_clearly(db: Database, engine: str) -> None:
    from kysera.dump import DumpError

    if engine == "postgres":
        # table inheritance: the parent, read without ONLY, held the child's rows as its own
        db.execute("CREATE TABLE base (id int, v text)")
        db.execute("CREATE TABLE sub (extra int) INHERITS (base)")
        db.execute("INSERT INTO base VALUES (1, 'base row'); INSERT INTO sub VALUES (2, 'sub row', 9)")
        with pytest.raises(DumpError, match=r"table public\.sub inherits from public\.base.*native=True"):
            dump_database(db, io.StringIO())
        # leaving the child out does not make the parent's rows right
        with pytest.raises(DumpError, match="inherits from"):
            dump_database(db, io.StringIO(), exclude=["sub"])
        db.execute("DROP TABLE base CASCADE")
        db.execute("CREATE TABLE measurements (at date NOT NULL, v int) PARTITION BY RANGE (at)")
        match = "measurements is partitioned.*native=True"
    elif engine == "sqlite":
        try:
            db.execute("CREATE VIRTUAL TABLE docs USING fts5(body)")
        except Exception:
            pytest.skip("this SQLite has no FTS5")
        match = "docs is a virtual table.*native=True"
    else:
        pytest.skip("what the dump leaves out on MySQL (routines, events) is noted in the script, not refused")
    with pytest.raises(DumpError, match=match):
        dump_database(db, io.StringIO())


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_postgres_dump_with_standard_conforming_strings_off(db: Database, target: Database) -> None:
    """The server writes defaults and view text for the session's setting; the dump says it is on."""
    db.execute("SET standard_conforming_strings = off")
    db.schema.create_table("t").add_column("id", "integer", lambda c: c.primary_key()).add_column(
        "p", "text", lambda c: c.default_to("C:\\dir")
    ).execute()
    db.schema.create_view("v").as_(sql("SELECT {} AS lit", "C:\\dir")).execute()
    restore_database(target, dump_text(db))
    target.insert_into("t").values({"id": 1}).execute()
    assert target.fetch("SELECT p FROM t") == [{"p": "C:\\dir"}]
    assert target.fetch("SELECT lit FROM v") == [{"lit": "C:\\dir"}]


def _insert_sizes(text: str) -> list[int]:
    return [len(st.text.encode("utf-8")) for st in split_script(text, "sqlite") if st.text.startswith("INSERT INTO")]


def test_inserts_are_capped_by_size(db: Database, target: Database, engine: str) -> None:
    """500 rows of large values made statements of tens of MB: past MySQL's max_allowed_packet."""
    db.schema.create_table("files").add_column("id", "integer", lambda c: c.primary_key()).add_column(
        "body", "longtext" if engine == "mysql" else "text"
    ).execute()
    rows = [{"id": i, "body": f"{i:04d}" + "é" * 30_000} for i in range(1, 101)]  # 60 KB each in UTF-8
    rows.append({"id": 101, "body": "x" * 300_000})  # bigger than the cap below: a statement of its own
    for row in rows:
        db.insert_into("files").values(row).execute()
    out = io.StringIO()
    result = dump_database(db, out, batch_bytes=200_000)
    text = out.getvalue()
    sizes = _insert_sizes(text)
    assert sorted(sizes)[-2] <= 200_000 < sizes[-1]  # every INSERT under the cap but the big row's
    assert len(sizes) == 100 // 3 + 1 + 1  # three rows of 60 KB per INSERT
    assert result.largest_statement == max(sizes)
    assert text.rstrip().splitlines()[-3] == f"-- largest statement (bytes): {max(sizes)}"
    restore_database(target, text)
    assert rows_of(target, "files", "id") == rows_of(db, "files", "id")
    # the default: about 1 MB
    assert max(_insert_sizes(dump_text(db))) <= 1 << 20


@pytest.mark.parametrize("engine", ["mysql"], indirect=True)
def test_mysql_restore_refuses_statements_past_max_allowed_packet(db: Database, target: Database) -> None:
    """A dump whose INSERTs exceed the server's max_allowed_packet made the server drop the
    connection ("gone away (2006)") half-way through the restore."""
    import os

    db.execute("CREATE TABLE b (id int AUTO_INCREMENT PRIMARY KEY, data longblob)")
    for _ in range(10):
        db.execute("INSERT INTO b (data) VALUES (%s)", [os.urandom(1 << 20)])
    packet = int(str(target.fetch("SELECT @@max_allowed_packet AS p")[0]["p"]))
    assert packet == 16 << 20, "the test needs a server with the default max_allowed_packet"

    # the dump keeps each INSERT well under it (1 MB rows are 2 MB of hex), and restores
    text = dump_text(db)
    assert max(_insert_sizes(text)) < 3 << 20
    restore_database(target, text)
    checksum = "SELECT md5(group_concat(md5(data) ORDER BY id)) AS h FROM b"
    assert target.fetch(checksum) == db.fetch(checksum)
    target.execute("DROP TABLE b")

    # a dump made before the cap, all rows in one INSERT of 20 MB, is refused before anything
    # runs when it says how big its statements are, naming the setting and the fix
    head = "INSERT INTO `b` (`id`, `data`) VALUES\n"
    first = text.index(head) + len(head)
    big = text[:first] + text[first:].replace(";\n" + head, ",\n")
    size = max(_insert_sizes(big))
    assert size > packet
    big = big.replace(f"(bytes): {max(_insert_sizes(text))}", f"(bytes): {size}")
    with pytest.raises(RestoreError, match=r"(?s)statement of 20.0 MB and this server's max_allowed_packet is 16.0 MB.*nothing was restored.*at least 21 MB.*SET GLOBAL max_allowed_packet = 22020096.*--native") as info:
        restore_database(target, big)
    assert info.value.exit_code == 2
    assert target.introspect().tables == {}
    # one that does not say: stopped before the big statement is sent (which cut the connection)
    legacy = big.replace("-- largest statement", "-- (removed)")
    with pytest.raises(RestoreError, match=r"(?s)line \d+: it is 20.0 MB and this server's max_allowed_packet is 16.0 MB.*partly restored"):
        restore_database(target, legacy)
    assert target.fetch("SELECT count(*) AS n FROM b")[0]["n"] == 0  # the connection still works


def test_data_only_into_a_database_whose_history_has_rows(db: Database, target: Database, engine: str) -> None:
    """backup.md's recipe: leave the history out of the data and load it into a database the
    migrations built. The restore checked every table for rows, the history table too, and refused."""
    _make_portable(db, engine)
    restore_database(target, dump_text(db, schema_only=True))
    target.insert_into("kysera_migrations").values(
        [{"name": "20240101_init", "applied_at": dt.datetime(2025, 5, 5)}]
    ).execute()
    data = dump_text(db, data_only=True, exclude=["kysera_migrations"])
    assert '-- data-only tables: ["' in data and "kysera_migrations" not in data
    restore_database(target, data)
    for table, order in PORTABLE.items():
        if table != "kysera_migrations":
            assert rows_of(target, table, order) == rows_of(db, table, order)
    assert [r["name"] for r in target.fetch("SELECT name FROM kysera_migrations")] == ["20240101_init"]
    # a table the dump loads and the target lacks is named before anything runs
    db.schema.create_table("extra").add_column("id", "integer", lambda c: c.primary_key()).execute()
    db.insert_into("extra").values({"id": 1}).execute()
    with pytest.raises(NotEmptyError, match="loads table extra, which the database does not have"):
        restore_database(target, dump_text(db, data_only=True, exclude=["kysera_migrations", "people", "teams"]))


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_postgres_references_into_other_schemas_are_refused(db: Database, target: Database) -> None:
    """A type, a sequence or a table of another schema: the dump exited 0 and its restore failed
    with 'schema "other" does not exist'."""
    from kysera.dump import DumpError

    db.execute("CREATE SCHEMA other")
    db.execute("CREATE TYPE other.lvl AS ENUM ('low', 'high')")
    db.execute("CREATE SEQUENCE other.s")
    db.execute("CREATE TABLE other.ref (id int PRIMARY KEY)")
    db.execute("CREATE TABLE t (id int PRIMARY KEY)")
    db.execute("CREATE VIEW v AS SELECT id FROM t")
    assert "-- NOTE: schema other holds 1 table" in dump_text(db)  # not in the dump, and it says so
    for change, undo, named in [
        ("ALTER TABLE t ADD COLUMN l other.lvl", "ALTER TABLE t DROP COLUMN l", "column l of table t uses type other.lvl"),
        ("ALTER TABLE t ADD COLUMN ls other.lvl[]", "ALTER TABLE t DROP COLUMN ls", "column ls of table t uses type other.lvl[]"),
        ("ALTER TABLE t ADD COLUMN n bigint DEFAULT nextval('other.s')", "ALTER TABLE t DROP COLUMN n", "default value for column n of table t uses sequence other.s"),
        ("ALTER TABLE t ADD COLUMN r int REFERENCES other.ref", "ALTER TABLE t DROP COLUMN r", "constraint t_r_fkey on table t uses table other.ref"),
        ("CREATE OR REPLACE VIEW v AS SELECT t.id FROM t JOIN other.ref USING (id)", "CREATE OR REPLACE VIEW v AS SELECT id FROM t", "rule _RETURN on view v uses"),
    ]:
        db.execute(change)
        with pytest.raises(DumpError, match=re.escape(named) + ".*schema public only.*native=True"):
            dump_database(db, io.StringIO())
        # a data-only dump loads into a schema that has them already
        dump_database(db, io.StringIO(), data_only=True)
        db.execute(undo)
    restore_database(target, dump_text(db))
    assert set(target.introspect().tables) == {"t"}


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_sqlite_text_that_is_not_utf8(db: Database, target: Database) -> None:
    """TEXT holding bytes that are not UTF-8: the dump failed ("Could not decode to UTF-8"), and
    the native one crashed with a UnicodeEncodeError."""
    from kysera.dump import DumpError

    db.execute("CREATE TABLE t (id integer PRIMARY KEY, s text)")
    db.execute(
        "INSERT INTO t VALUES (1, 'plain ✓'), (2, cast(x'ff' as text)), (3, 'caf' || cast(x'e9' as text) || ' ✓'), "
        "(4, cast(x'00ff0a' as text)), (5, NULL), (6, 'after ✓')"
    )
    restore_database(target, dump_text(db, batch_rows=2))
    hexed = "SELECT id, typeof(s) AS t, hex(s) AS h FROM t ORDER BY id"
    assert target.fetch(hexed) == db.fetch(hexed)
    assert target.fetch("SELECT s FROM t WHERE id IN (1, 6) ORDER BY id") == [{"s": "plain ✓"}, {"s": "after ✓"}]
    if shutil.which("sqlite3"):
        with pytest.raises(DumpError, match=r"not UTF-8.*dump without native=True.*CAST\(X'\.\.' AS TEXT\)"):
            dump_database(db, io.StringIO(), native=True)


def test_a_line_break_in_a_name_does_not_end_a_comment(db: Database, target: Database) -> None:
    """The dump names each table in a ``-- table NAME`` comment: a name holding a line break
    ended the comment, and the rest of the name ran as SQL when the dump was restored."""
    evil = "evil\nCREATE TABLE injected (x int);\n--x"
    db.schema.create_table(evil).add_column("id", "integer", lambda c: c.primary_key()).execute()
    db.insert_into(evil).values({"id": 1}).execute()
    text = dump_text(db)
    restore_database(target, text)
    assert list(target.introspect().tables) == [evil]
    assert target.fetch(f"SELECT id FROM {target.dialect.compiler().quote(evil)}") == [{"id": 1}]


def test_a_line_break_in_the_database_file_name_does_not_end_the_header_comment(tmp_path: Path) -> None:
    with connect(f"sqlite:///{tmp_path / 'app.db'}\nCREATE TABLE injected (x);") as db:
        text = dump_text(db)
    assert "\nCREATE TABLE injected" not in text and "app.db\\nCREATE TABLE injected" in text


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_restore_refuses_a_dump_that_reaches_other_files(target: Database, tmp_path: Path) -> None:
    """A crafted dump made the restore create (and write) any file the process could: ATTACH
    DATABASE and VACUUM INTO name a file of their own; no dump holds either."""
    outside = tmp_path / "outside.db"
    for statement in (
        f"ATTACH DATABASE '{outside}' AS other;\nCREATE TABLE other.t (x);",
        f"attach '{outside}' as other;",
        f"VACUUM main INTO '{outside}';",
    ):
        with pytest.raises(RestoreError, match=r"line 2: (ATTACH|VACUUM) reaches a file outside the database"):
            restore_database(target, f"CREATE TABLE kept (x text);\n{statement}\n")
        assert not outside.exists()
        assert target.fetch("SELECT name FROM sqlite_master WHERE name = 'kept'") == []  # rolled back


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_restore_refuses_copy_to_a_program_or_a_file(target: Database, tmp_path: Path) -> None:
    """A crafted dump ran a shell command on the server (COPY ... TO PROGRAM, as a superuser may)."""
    for statement in ("COPY kept TO PROGRAM 'true'", "COPY kept FROM PROGRAM 'echo 1'", "COPY kept TO '/dev/null'"):
        with pytest.raises(RestoreError, match=r"line 2: COPY to or from a file or a program reaches outside"):
            restore_database(target, f"CREATE TABLE kept (x text);\n{statement};\n")
        assert target.fetch("SELECT to_regclass('kept') IS NULL AS gone") == [{"gone": True}]  # rolled back


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_restoring_a_copy_format_pg_dump_names_psql(db: Database, target: Database, tmp_path: Path) -> None:
    """A default pg_dump file (COPY ... FROM stdin) failed with the driver's hint "use copy() instead"."""
    import subprocess

    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    db.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
    db.execute("INSERT INTO t VALUES (1, 'one'), (2, 'two')")
    url = parse_url(str(db.url))
    path = tmp_path / "plain.sql"
    with open(path, "w") as f:
        subprocess.run(
            ["pg_dump", "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres", url.database],
            stdout=f, check=True,
        )
    assert "FROM stdin;" in path.read_text()
    with pytest.raises(RestoreError, match=r"COPY \.\.\. FROM stdin.*needs psql.*psql -f FILE.*pg_dump --inserts") as info:
        restore_database(target, path)
    assert "copy()" not in str(info.value)
    assert target.introspect().tables == {}


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_postgres_comments_and_enum_labels_with_line_breaks_survive_crlf(db: Database, target: Database, tmp_path: Path) -> None:
    db.execute("CREATE TYPE two_lines AS ENUM (E'a\\nb', 'c')")
    db.execute("CREATE TABLE t (id int PRIMARY KEY, k two_lines)")
    db.execute("COMMENT ON TABLE t IS E'first\\nsecond\\r\\nthird'")
    db.execute("COMMENT ON COLUMN t.k IS E'x\\ny'")
    path = tmp_path / "crlf.sql"
    with open(path, "w", encoding="utf-8", newline="\r\n") as f:
        dump_database(db, f)
    with open(path, encoding="utf-8") as f:
        restore_database(target, f)
    for query in (
        "SELECT enumlabel FROM pg_enum ORDER BY enumsortorder",
        "SELECT obj_description('t'::regclass, 'pg_class') AS c, col_description('t'::regclass, 2) AS k",
    ):
        assert target.fetch(query) == db.fetch(query)


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_postgres_dump_during_a_table_rewrite_keeps_the_rows(db: Database, db_url: str) -> None:
    """A dump that starts while another session rewrites a table (a migration's ALTER COLUMN ...
    TYPE, on a deploy that runs `migrate up --backup` twice at once) waits for it and writes the
    rows: read with a snapshot taken before the rewrite committed, the table looked empty, and
    the backup silently held none of its rows."""
    import threading
    import time

    db.schema.create_table("items").add_column("id", "integer", lambda c: c.primary_key()).add_column(
        "v", "integer"
    ).execute()
    db.insert_into("items").values([{"id": i, "v": i} for i in range(1, 51)]).execute()
    out = io.StringIO()
    with connect(db_url) as rewriter, connect(db_url) as watcher:
        with rewriter.transaction():
            rewriter.execute("ALTER TABLE items ALTER COLUMN v TYPE bigint")
            dumper = threading.Thread(target=dump_database, args=(db, out))
            dumper.start()
            deadline = time.monotonic() + 10
            while not watcher.fetch(
                "SELECT count(*) AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                "WHERE d.datname = current_database() AND NOT l.granted"
            )[0]["n"]:
                assert time.monotonic() < deadline, "the dump did not wait for the table"
                time.sleep(0.05)
        dumper.join(10)
    text = out.getvalue()
    assert text.count("(50, '50')") + text.count("(50, 50)") == 1, text[-800:]
    assert '"v" bigint' in text  # the table as the rewrite left it


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_postgres_dump_leaving_out_a_table_it_cannot_read(db: Database) -> None:
    """The tables locked before the snapshot are those the dump reads: a user without SELECT on
    a table could dump the others (--exclude it) and the whole schema (--schema-only), until the
    LOCK TABLE of every table refused ('permission denied for table secret')."""
    db.execute("CREATE TABLE pub (id integer PRIMARY KEY, t text)")
    db.execute("INSERT INTO pub VALUES (1, 'a')")
    db.execute("CREATE TABLE secret (id integer PRIMARY KEY, s text)")
    db.execute("INSERT INTO secret VALUES (1, 'x')")
    db.execute("GRANT USAGE ON SCHEMA public TO pg_monitor")  # a role without SELECT on secret
    db.execute("GRANT SELECT ON pub TO pg_monitor")
    db.execute("SET ROLE pg_monitor")
    try:
        text = dump_text(db, exclude=["secret"])
        assert "(1, 'a')" in text and "secret" not in text
        assert 'CREATE TABLE "secret"' in dump_text(db, schema_only=True)
    finally:
        db.execute("RESET ROLE")


@pytest.mark.parametrize("engine", ["postgres", "mysql"], indirect=True)
def test_native_dump_over_a_unix_socket_named_either_way(db: Database, engine: str) -> None:
    """docs/configuration.md gives two forms of a socket URL; connect() takes both, and the
    native dump must too: given the socket as the host (mysql://root@%2Frun%2Fmysqld%2Fmysqld.sock/app),
    mariadb-dump was called with --host=/run/mysqld/mysqld.sock and could not connect."""
    import os
    from urllib.parse import quote

    if shutil.which(TOOLS[engine]) is None:
        pytest.skip(f"{TOOLS[engine]} is not installed")
    db.execute("CREATE TABLE over_socket (id int PRIMARY KEY)")
    if engine == "postgres":
        folder = str(db.fetch("SHOW unix_socket_directories")[0]["unix_socket_directories"]).split(",")[0].strip()
        port = db.fetch("SHOW port")[0]["port"]
        socket, option = folder, "host"
        if not os.path.exists(os.path.join(folder, f".s.PGSQL.{port}")):
            pytest.skip(f"the server has no unix socket in {folder}")
        tail = f"/{db.url.database}?port={port}"
    else:
        socket, option = str(db.fetch("SELECT @@socket AS s")[0]["s"]), "unix_socket"
        if not os.path.exists(socket):
            pytest.skip(f"the server's socket {socket} is not on this machine")
        tail = f"/{db.url.database}"
    scheme, user = db.url.scheme, db.url.username or ""
    as_host = f"{scheme}://{user}@{quote(socket, safe='')}{tail}"
    as_option = f"{scheme}://{user}@localhost{tail}{'&' if '?' in tail else '?'}{option}={socket}"
    for url in (as_host, as_option):
        with connect(url) as over_socket:
            text = dump_text(over_socket, native=True)
        assert "over_socket" in text, url


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_native_dump_passes_no_secret_on_the_command_line(db: Database, engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Any user sees a process's arguments (ps): the password and a secret option (sslpassword,
    which pg_dump got in its --dbname) travel another way."""
    import os
    import stat
    import sys

    real = shutil.which(TOOLS[engine])
    if real is None:
        pytest.skip(f"{TOOLS[engine]} is not installed")
    tools = tmp_path / "bin"
    tools.mkdir()
    wrapper = tools / TOOLS[engine]  # records its arguments, then runs the real tool
    wrapper.write_text(
        f"#!{sys.executable}\nimport os, sys\n"
        f"open({str(tmp_path / 'argv')!r}, 'w').write(repr(sys.argv))\n"
        f"os.execv({real!r}, [{real!r}] + sys.argv[1:])\n"
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
    db.execute("CREATE TABLE kept (id int PRIMARY KEY)")
    # the test server trusts its connections: the password is not checked
    options = (*db.url.query, ("sslpassword", "ssl-pw-not-in-argv"), ("sslmode", "disable"))
    with connect(db.url._replace(password="pw-not-in-argv", query=options)) as over:
        text = dump_text(over, native=True)
    assert "kept" in text
    argv = (tmp_path / "argv").read_text()
    assert "not-in-argv" not in argv, argv
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob("kysera-pg-service-*"))


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_postgres_primary_key_with_include(db: Database, target: Database) -> None:
    """The rows are read in primary-key order: the key's columns, not its whole definition, which
    goes on with INCLUDE (...) (the dump failed with a syntax error)."""
    db.execute("CREATE TABLE t (a integer, b text, CONSTRAINT t_pk PRIMARY KEY (a) INCLUDE (b))")
    db.execute('CREATE TABLE u ("x y" integer, z integer, PRIMARY KEY (z, "x y") INCLUDE (z))')
    db.execute("INSERT INTO t VALUES (2, 'two'), (1, 'one')")
    db.execute('INSERT INTO u VALUES (1, 2), (2, 1)')
    restore_database(target, dump_text(db))
    assert_same(db, target, {"t": "a", "u": 'z, "x y"'})


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_postgres_key_storage_parameters_survive(db: Database, target: Database) -> None:
    """pg_get_constraintdef leaves a primary key's or unique constraint's WITH (...) out: the
    restored keys had lost their fillfactor."""
    db.execute(
        "CREATE TABLE t (a integer, b integer, r int4range, "
        "CONSTRAINT t_pk PRIMARY KEY (a) INCLUDE (b) WITH (fillfactor = 70) DEFERRABLE INITIALLY DEFERRED, "
        "CONSTRAINT t_b UNIQUE (b) WITH (fillfactor = 60, deduplicate_items = off), "
        "CONSTRAINT t_r EXCLUDE USING gist (r WITH &&) WITH (fillfactor = 50))"
    )
    db.execute("INSERT INTO t VALUES (1, 2, '[1,2)')")
    restore_database(target, dump_text(db))
    assert_same(db, target, {"t": "a"})
    options = "SELECT c.relname, c.reloptions::text AS o FROM pg_class c WHERE c.relname LIKE 't\\_%' ORDER BY 1"
    assert target.fetch(options) == db.fetch(options)


OTHER_TOOLS = {
    "postgres": "--\n-- PostgreSQL database dump\n--\n\nSET statement_timeout = 0;\nCREATE TABLE x (a integer);\n",
    "mysql": (
        "/*M!999999\\- enable the sandbox mode */ \n-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB\n--\n"
        "CREATE TABLE x (a integer);\n"
    ),
    "sqlite": "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE x (a integer);\nCOMMIT;\n",
}


def test_restore_names_the_engine_of_another_tools_dump(db: Database, engine: str) -> None:
    """A pg_dump, mysqldump or sqlite3 .dump file has no kysera first line: loaded into another
    engine it failed on its first statement with a syntax error (on MySQL: 'the database is
    partly restored')."""
    names = {"postgres": "PostgreSQL", "mysql": "MySQL/MariaDB", "sqlite": "SQLite"}
    for other, script in OTHER_TOOLS.items():
        if other == engine:
            continue
        with pytest.raises(RestoreError, match=f"is a {names[other]} dump .* restore it into a {names[other]} database; nothing was restored"):
            restore_database(db, script)
    assert db.introspect().tables == {}
    restore_database(db, OTHER_TOOLS[engine])  # its own engine's: loads
    assert list(db.introspect().tables) == ["x"]


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_postgres_comments_on_views_indexes_sequences_constraints_and_types(db: Database, target: Database) -> None:
    """Only tables and their columns kept their comments: those on the other objects were lost."""
    db.execute("CREATE TYPE mood AS ENUM ('up', 'down')")
    db.execute("CREATE TABLE t (id integer PRIMARY KEY, m mood, CONSTRAINT t_pos CHECK (id > 0))")
    db.execute("CREATE INDEX t_m ON t (m)")
    db.execute("CREATE SEQUENCE s")
    db.execute("CREATE VIEW v AS SELECT id FROM t")
    db.execute("CREATE MATERIALIZED VIEW mv AS SELECT id FROM t")
    db.execute("CREATE UNIQUE INDEX mv_id ON mv (id)")
    for target_sql, text in [
        ("TYPE mood", "the mood"),
        ("CONSTRAINT t_pos ON t", "positive"),
        ("CONSTRAINT t_pkey ON t", "the key"),
        ("INDEX t_m", "it's an index"),
        ("INDEX mv_id", "on the materialized view"),
        ("SEQUENCE s", "numbers\nwith a line break"),
        ("VIEW v", "a view"),
        ("COLUMN v.id", "a view's column"),
        ("MATERIALIZED VIEW mv", "a materialized view"),
    ]:
        db.execute(f"COMMENT ON {target_sql} IS {db.dialect.compiler().string_literal(text)}")
    restore_database(target, dump_text(db))
    comments = (
        "SELECT d.classoid::regclass::text AS catalog, pg_describe_object(d.classoid, d.objoid, d.objsubid) AS what, "
        "d.description FROM pg_description d "
        "WHERE d.objoid >= 16384 ORDER BY 1, 2"
    )
    assert len(db.fetch(comments)) == 9
    assert target.fetch(comments) == db.fetch(comments)


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_postgres_materialized_views_hold_the_same_rows(db: Database, target: Database) -> None:
    """A data-only dump left the target's materialized views as the schema made them: empty (pg_dump
    --data-only refreshes them); a view made WITH NO DATA came back filled."""
    db.execute("CREATE TABLE t (id integer PRIMARY KEY)")
    db.execute("INSERT INTO t VALUES (1), (2)")
    db.execute("CREATE MATERIALIZED VIEW filled AS SELECT id FROM t")
    db.execute("CREATE MATERIALIZED VIEW twice AS SELECT count(*) AS n FROM filled")
    db.execute("CREATE MATERIALIZED VIEW unfilled AS SELECT id FROM t WITH NO DATA")
    populated = "SELECT relname, relispopulated FROM pg_class WHERE relkind = 'm' ORDER BY 1"
    restore_database(target, dump_text(db, schema_only=True))
    restore_database(target, dump_text(db, data_only=True))
    assert target.fetch("SELECT id FROM filled ORDER BY id") == [{"id": 1}, {"id": 2}]
    assert target.fetch("SELECT n FROM twice") == [{"n": 2}]
    assert target.fetch(populated) == db.fetch(populated)
    target.execute("DROP SCHEMA public CASCADE")
    target.execute("CREATE SCHEMA public")
    restore_database(target, dump_text(db))
    assert target.fetch(populated) == db.fetch(populated)
    assert target.fetch("SELECT n FROM twice") == [{"n": 2}]


def test_restore_reads_a_dump_that_starts_with_a_byte_order_mark(db: Database, target: Database, engine: str, tmp_path: Path) -> None:
    """A dump saved again by an editor that adds a UTF-8 byte-order mark (Notepad): its first
    statement was a syntax error on PostgreSQL and MySQL, and the kysera first line, behind the
    mark, went unread (no engine or truncation check)."""
    _make_portable(db, engine)
    path = tmp_path / "bom.sql"
    path.write_bytes(b"\xef\xbb\xbf" + dump_text(db).encode("utf-8"))
    result = restore_database(target, path)
    assert result.format == "kysera"
    assert rows_of(target, "people", "id") == rows_of(db, "people", "id")
    cut = tmp_path / "cut.sql"
    cut.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(RestoreError, match="truncated"):
        restore_database(db, cut)


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_postgres_table_storage_parameters_survive(db: Database, target: Database) -> None:
    """A table's own WITH (...) (fillfactor, autovacuum settings tuned for a busy table) was lost."""
    db.execute("CREATE TABLE t (id integer PRIMARY KEY) WITH (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.01)")
    db.execute("CREATE UNLOGGED TABLE u (id integer)")
    db.execute("ALTER TABLE u SET (autovacuum_enabled = false)")
    restore_database(target, dump_text(db))
    options = "SELECT relname, relpersistence, reloptions::text AS o FROM pg_class WHERE relname IN ('t', 'u') ORDER BY 1"
    assert db.fetch(options)[0]["o"] is not None
    assert target.fetch(options) == db.fetch(options)


@pytest.mark.parametrize("engine", ["mysql"], indirect=True)
def test_mariadb_system_versioned_tables_are_dumped_with_a_note(db: Database, target: Database) -> None:
    """MariaDB's tables WITH SYSTEM VERSIONING are of their own TABLE_TYPE: the dump skipped
    them, rows and all, and said "Dumped 1 table" for two. They are dumped (their rows as they
    are now) with a note that their history is not."""
    if not db.fetch("SELECT 1 AS x FROM information_schema.ENGINES WHERE 1 = 1 LIMIT 1") or "MariaDB" not in str(
        db.fetch("SELECT VERSION() AS v")[0]["v"]
    ):
        pytest.skip("system versioning is MariaDB's")
    db.execute("CREATE TABLE sv (id int PRIMARY KEY, v text) WITH SYSTEM VERSIONING")
    db.execute("INSERT INTO sv VALUES (1, 'a'), (2, 'b')")
    db.execute("UPDATE sv SET v = 'c' WHERE id = 1")
    db.execute("CREATE TABLE plain (id int PRIMARY KEY)")
    text = dump_text(db)
    assert "sv is WITH SYSTEM VERSIONING: the rows as they are now are in this dump, not their history" in text
    restore_database(target, text)
    assert target.fetch("SELECT id, v FROM sv ORDER BY id") == [{"id": 1, "v": "c"}, {"id": 2, "v": "b"}]
    assert "WITH SYSTEM VERSIONING" in str(target.fetch("SHOW CREATE TABLE sv")[0]["Create Table"])


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_sqlite_header_numbers_an_application_keeps_come_back(db: Database, target: Database) -> None:
    """PRAGMA user_version (an application's own schema version) and application_id came back
    as 0 after a restore, so an app that reads them would take the copy for a new database."""
    db.execute("CREATE TABLE t (id integer)")
    assert "PRAGMA user_version" not in dump_text(db)  # 0: nothing to say
    db.execute("PRAGMA user_version = 7")
    db.execute("PRAGMA application_id = 1234")
    restore_database(target, dump_text(db))
    assert target.fetch("PRAGMA user_version") == [{"user_version": 7}]
    assert target.fetch("PRAGMA application_id") == [{"application_id": 1234}]
    assert "PRAGMA user_version" not in dump_text(db, data_only=True)  # the header goes with the schema
