""".sql migrations on every engine: quotes, comments, semicolons in strings, $$ bodies."""

from __future__ import annotations

from pathlib import Path

import pytest

from kysera import Database
from kysera.migrations import create_migration_runner

from .util import write

PORTABLE = """
-- 001: quotes and comments with semicolons
-- migrate:up
CREATE TABLE notes (id integer PRIMARY KEY, body varchar(200)); -- a trailing comment; with a semicolon
/* a block comment; with a semicolon */
INSERT INTO notes (id, body) VALUES (1, 'a;b'), (2, 'it''s; fine'), (3, '-- not a comment');
INSERT INTO notes (id, body) VALUES (4, '/* not; a comment */');
-- migrate:down
DROP TABLE notes;
"""

PLPGSQL = """
-- migrate:up
CREATE TABLE audit (id serial PRIMARY KEY, note text NOT NULL);
CREATE FUNCTION add_note() RETURNS trigger AS $$
BEGIN
  -- a comment; inside the body
  NEW.note := NEW.note || '; checked';
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_note BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION add_note();
CREATE FUNCTION answer() RETURNS integer AS $body$ SELECT 42; $body$ LANGUAGE sql;
-- migrate:down
DROP TABLE audit;
DROP FUNCTION add_note();
DROP FUNCTION answer();
"""


def test_quotes_and_comments(db: Database, tmp_path: Path) -> None:
    write(tmp_path, "001_notes.sql", PORTABLE)
    runner = create_migration_runner(db, tmp_path)
    result = runner.up()
    assert len(result.statements("001_notes")) == 3
    rows = db.select_from("notes").select(["id", "body"]).order_by("id").fetch_all()
    assert [r["body"] for r in rows] == ["a;b", "it's; fine", "-- not a comment", "/* not; a comment */"]
    assert runner.down().executed == ["001_notes"]
    assert not db.table_exists("notes")


def test_dollar_quoted_bodies(db: Database, tmp_path: Path) -> None:
    if db.dialect.name != "postgres":
        return  # $$ bodies are PostgreSQL syntax
    write(tmp_path, "001_audit.sql", PLPGSQL)
    runner = create_migration_runner(db, tmp_path)
    assert len(runner.up().statements("001_audit")) == 4
    db.insert_into("audit").values({"note": "hello"}).execute()
    assert db.select_from("audit").select(["note"]).fetch_all() == [{"note": "hello; checked"}]
    assert db.fetch("SELECT answer() AS a") == [{"a": 42}]
    runner.down()
    assert not db.fetch("SELECT 1 FROM pg_proc WHERE proname IN ('add_note', 'answer')")


def _path_literal(db: Database) -> str:
    """The string C:\\ as this engine spells it: MySQL reads a backslash as an escape."""
    return "'C:\\\\'" if db.dialect.name == "mysql" else "'C:\\'"


def test_a_string_that_ends_in_a_backslash_ends_where_the_engine_says(db: Database, tmp_path: Path) -> None:
    write(
        tmp_path,
        "001_paths.sql",
        "-- migrate:up\nCREATE TABLE paths (p varchar(20));\n"
        f"INSERT INTO paths (p) VALUES ({_path_literal(db)}); INSERT INTO paths (p) VALUES ('D:');\n"
        "-- migrate:down\nDROP TABLE paths;\n",
    )
    result = create_migration_runner(db, tmp_path).up()

    assert len(result.statements("001_paths")) == 3
    assert sorted(r["p"] for r in db.select_from("paths").select(["p"]).fetch_all()) == ["C:\\", "D:"]


def test_raw_sql_text_is_split_as_the_engine_reads_it(db: Database) -> None:
    from kysera import sql

    db.execute("CREATE TABLE paths (p varchar(20))")
    try:
        result = db.execute(
            sql(f"INSERT INTO paths (p) VALUES ({_path_literal(db)}); -- kysera:allow KS901\nINSERT INTO paths (p) VALUES ('D:')")
        )
        assert result.statements[0].sql.endswith("; -- kysera:allow KS901")  # the comment stays with it
        assert sorted(r["p"] for r in db.select_from("paths").select(["p"]).fetch_all()) == ["C:\\", "D:"]
    finally:
        db.execute("DROP TABLE paths")


def test_mysql_delimiter_lines_in_sql_files(db: Database, tmp_path: Path) -> None:
    if db.dialect.name != "mysql":
        return  # DELIMITER is MySQL's client syntax
    write(
        tmp_path,
        "001_proc.sql",
        "-- migrate:up\nCREATE TABLE calls (n int);\nDELIMITER $$\n"
        "CREATE PROCEDURE add_calls() BEGIN INSERT INTO calls VALUES (1); INSERT INTO calls VALUES (2); END$$\n"
        "DELIMITER ;\nCALL add_calls();\n"
        "-- migrate:down\nDROP PROCEDURE add_calls;\nDROP TABLE calls;\n",
    )
    runner = create_migration_runner(db, tmp_path)

    assert len(runner.up().statements("001_proc")) == 3
    assert db.fetch("SELECT COUNT(*) AS n FROM calls") == [{"n": 2}]
    assert runner.down().executed == ["001_proc"]


def test_a_last_statement_without_its_semicolon_keeps_no_trailing_comment(db: Database, tmp_path: Path) -> None:
    """The dry run and `migrate sql` write `statement;`: a trailing comment kept in the last
    statement swallowed that ; and joined the history INSERT onto it in the script."""
    write(tmp_path, "001_tail.sql", "-- migrate:up\nCREATE TABLE tail1 (id integer);\nCREATE TABLE tail2 (id integer)\n-- done\n-- migrate:down\nDROP TABLE tail2;\nDROP TABLE tail1\n")
    runner = create_migration_runner(db, tmp_path)
    planned = runner.up(dry_run=True).statements("001_tail")
    assert [str(s) for s in planned] == ["CREATE TABLE tail1 (id integer)", "CREATE TABLE tail2 (id integer)"]
    runner.up()
    assert db.table_exists("tail2")


def test_a_column_named_end_does_not_end_a_trigger_body(db: Database, tmp_path: Path) -> None:
    if db.dialect.name == "postgres":
        return  # PostgreSQL triggers call functions; their bodies are $$ strings
    if db.dialect.name == "mysql":
        body = "CREATE TRIGGER trg_b BEFORE INSERT ON bookings FOR EACH ROW\nBEGIN\n  IF NEW.`end` < NEW.start THEN\n    SET NEW.`end` = NEW.start;\n  END IF;\nEND;\n"
        table = "CREATE TABLE bookings (id integer PRIMARY KEY, start integer, `end` integer);\n"
    else:
        body = "CREATE TRIGGER trg_b AFTER INSERT ON bookings BEGIN UPDATE bookings SET start = NEW.end WHERE NEW.end > 0 AND id = NEW.id; END;\n"
        table = "CREATE TABLE bookings (id integer PRIMARY KEY, start integer, end integer);\n"
    write(tmp_path, "001_b.sql", "-- migrate:up\n" + table + body + "-- migrate:down\nDROP TABLE bookings;\n")
    runner = create_migration_runner(db, tmp_path)
    assert len(runner.up().statements("001_b")) == 2


def test_a_mariadb_compound_statement_is_one_statement(db: Database, tmp_path: Path) -> None:
    """MariaDB's BEGIN NOT ATOMIC ... END (a conditional change, written without DELIMITER lines)
    was cut at its first ; and failed with a syntax error; the safety check reviews it whole."""
    if db.dialect.display_name != "MariaDB":
        pytest.skip("BEGIN NOT ATOMIC is MariaDB's")
    block = (
        "BEGIN NOT ATOMIC\n  IF NOT EXISTS (SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()\n"
        "    AND TABLE_NAME = 'cond' AND COLUMN_NAME = 'c') THEN\n    ALTER TABLE cond ADD COLUMN c int;\n  END IF;\nEND;\n"
    )
    write(tmp_path, "001_cond.sql", "-- migrate:up\nCREATE TABLE cond (id int PRIMARY KEY);\n" + block + block + "-- migrate:down\nDROP TABLE cond;\n")
    runner = create_migration_runner(db, tmp_path)
    planned = [str(s) for s in runner.up(dry_run=True).statements("001_cond")]
    assert len(planned) == 3 and planned[1] == planned[2] == block.strip().rstrip(";")
    result = runner.up()
    assert [f.code for f in result.findings if f.migration == "001_cond"].count("KS901") == 2
    assert "c" in {c.name for c in db.introspect_table("cond").columns}  # type: ignore[union-attr]


def test_postgres_nested_comments_and_escape_strings(db: Database, tmp_path: Path) -> None:
    """PostgreSQL nests /* */ comments; E'it\\'s' ends where PostgreSQL says, so a DROP COLUMN
    written with one is still judged (it used to pass as an unknown statement)."""
    if db.dialect.name != "postgres":
        return
    write(tmp_path, "001_nest.sql", "-- migrate:up\n/* outer /* nested; */ still comment; */\nCREATE TABLE nest (id integer, a text);\n-- migrate:down\nDROP TABLE nest;\n")
    runner = create_migration_runner(db, tmp_path)
    assert [str(s).split("\n")[-1] for s in runner.up().statements("001_nest")] == ["CREATE TABLE nest (id integer, a text)"]
    db.insert_into("nest").values([{"id": i, "a": "x"} for i in range(20_000)]).execute()
    write(tmp_path, "002_drop.sql", "-- migrate:up\nALTER TABLE nest DROP COLUMN a, ADD COLUMN z text DEFAULT E'it\\'s';\n-- migrate:down\nSELECT 1;\n")
    from kysera.migrations.gate import UnsafeMigrationError

    try:
        create_migration_runner(db, tmp_path).up()
        raise AssertionError("the DROP COLUMN ran")
    except UnsafeMigrationError as refused:
        assert "KS102" in str(refused)
    assert "a" in {c.name for c in db.introspect_table("nest").columns}  # type: ignore[union-attr]


def test_characters_splitlines_would_break_at_stay_in_string_literals(db: Database, tmp_path: Path) -> None:
    text = "a\u2028b\x0cc\x1cd"
    write(tmp_path, "001_s.sql", f"-- migrate:up\nCREATE TABLE s (v varchar(20));\nINSERT INTO s (v) VALUES ('{text}');\n-- migrate:down\nDROP TABLE s;\n")
    create_migration_runner(db, tmp_path).up()
    assert db.select_from("s").select("v").execute().rows == [{"v": text}]


def test_a_file_wide_allow_counts_whatever_the_header_says(tmp_path: Path) -> None:
    from kysera.migrations.sql_file import preamble_allows

    assert preamble_allows("-- sections: migrate:up / migrate:down\n-- kysera:allow KS102\n-- migrate:up\nSELECT 1;\n") == ["KS102"]
    assert preamble_allows("-- migrate:up\n-- kysera:allow KS102\nSELECT 1;\n") == []


def test_sqlite_vacuum_in_a_sql_file_runs_outside_a_transaction(db: Database, tmp_path: Path) -> None:
    if db.dialect.name != "sqlite":
        return
    write(tmp_path, "001_v.sql", "-- migrate:up\nCREATE TABLE v (id integer);\nVACUUM;\n-- migrate:down\nDROP TABLE v;\n")
    result = create_migration_runner(db, tmp_path).up()
    assert result.executed == ["001_v"] and db.table_exists("v")


def test_a_file_with_its_own_begin_and_commit_runs_outside_kyseras_transaction(db: Database, tmp_path: Path) -> None:
    """Inside kysera's transaction a COMMIT would commit kysera's work behind its back (PostgreSQL
    then reported a later failure as rolled back while the committed rows stayed). Such a file runs
    outside a transaction: its own BEGIN ... COMMIT delimits what a failure undoes, and a failure
    after the COMMIT is recorded as failed, to resolve."""
    from kysera.dialects import raw_text
    from kysera.migrations import MigrationError

    begin = "START TRANSACTION" if db.dialect.name == "mysql" else "BEGIN"
    write(tmp_path, "001_t.sql", "-- migrate:up\nCREATE TABLE tx (id integer PRIMARY KEY, s varchar(20));\n"
          "INSERT INTO tx VALUES (1, 'orig');\n-- migrate:down\nDROP TABLE tx;\n")
    write(tmp_path, "002_data.sql", f"-- migrate:up\n{begin};\nUPDATE tx SET s = 'changed';\nCOMMIT;\n"
          "INSERT INTO tx VALUES (1, 'dup');\n-- migrate:down\nUPDATE tx SET s = 'orig';\n")
    runner = create_migration_runner(db, tmp_path)
    try:
        runner.up()
        raise AssertionError("the duplicate key should fail")
    except MigrationError as exc:
        assert exc.name == "002_data" and not exc.rolled_back and exc.recorded
        assert "INSERT INTO tx VALUES (1, 'dup')" in (exc.statement or "")
    assert db.select_from("tx").select(["s"]).fetch_all() == [{"s": "changed"}]  # what it committed stays
    assert runner.status().failed == ["002_data"]
    runner.resolve("002_data", applied=True)
    assert runner.status().pending == []

    for text, controls in (("BEGIN", True), ("begin transaction", True), ("BEGIN IMMEDIATE", True),
                           ("START TRANSACTION READ ONLY", True), ("COMMIT AND NO CHAIN", True), ("END", True),
                           ("ROLLBACK", True), ("ROLLBACK TO SAVEPOINT a", False), ("SAVEPOINT a", False),
                           ("BEGIN NOT ATOMIC SELECT 1; END", False), ("DO $$ BEGIN END $$", False),
                           ("/* c */ COMMIT", True), ("END IF", False)):
        assert raw_text.controls_transaction(text) is controls, text


def test_a_section_marker_inside_a_comment_or_a_string_is_text(tmp_path: Path) -> None:
    """A down section commented out with /* ... */ stays out (it came back, and `down` dropped the
    table); a string or a $$ body holding a '-- migrate:' line is that text."""
    from kysera.migrations.sql_file import parse_sql_sections

    commented = "-- migrate:up\nCREATE TABLE bc (id int);\n/* rollback disabled for now:\n-- migrate:down\nDROP TABLE bc;\n*/\n"
    assert set(parse_sql_sections(commented)) == {"up"}
    in_string = "-- migrate:up\nINSERT INTO t VALUES ('a\n-- migrate:up\nb');\n-- migrate:down\nDELETE FROM t;\n"
    assert parse_sql_sections(in_string)["down"][0] == "DELETE FROM t;"
    in_body = "-- migrate:up\nCREATE FUNCTION f() RETURNS int AS $$\n-- migrate:down\nSELECT 1 $$ LANGUAGE sql;\n-- migrate:down\nDROP FUNCTION f();\n"
    sections = parse_sql_sections(in_body)
    assert "SELECT 1 $$" in sections["up"][0] and sections["down"][0] == "DROP FUNCTION f();"
    # a MySQL escaped quote does not hide the markers after it
    mysql = "-- migrate:up\nINSERT INTO t VALUES ('it\\'s');\n-- migrate:down\nDELETE FROM t;\n"
    assert parse_sql_sections(mysql)["down"][0] == "DELETE FROM t;"


def test_a_file_with_cr_line_endings_is_refused_with_that_reason(tmp_path: Path) -> None:
    import pytest

    from kysera.migrations import MigrationLoadError, load_migrations

    (tmp_path / "001_cr.sql").write_bytes(b"-- migrate:up\rCREATE TABLE t (id integer);\r")
    with pytest.raises(MigrationLoadError, match="ends its lines with CR alone"):
        load_migrations(tmp_path)


def test_a_bare_delimiter_line_is_named_with_its_file_and_line(tmp_path: Path) -> None:
    """It said 'line 1: DELIMITER needs a delimiter after it': no file, and the line of the
    statement before it, counted in the section."""
    import pytest

    from kysera.migrations import MigrationDefinitionError, load_migrations

    (tmp_path / "001_d.sql").write_text("-- migrate:up\nCREATE TABLE a (id int);\nDELIMITER\nSELECT 1;\n")
    (migration,) = load_migrations(tmp_path)
    with pytest.raises(MigrationDefinitionError, match=r"001_d\.sql: line 3 \(in its '-- migrate:up' section\): DELIMITER needs a delimiter"):
        migration.sql_statements("up", "mysql")


def test_a_misspelt_rule_in_a_kysera_allow_comment_is_refused(tmp_path: Path) -> None:
    """A statement's -- kysera:allow KS999 (or drop-tabel) acknowledged nothing, silently; the
    words after the codes may say why, and a rule's name counts as its code."""
    import pytest

    from kysera.migrations import MigrationLoadError, load_migrations

    for i, (comment, message) in enumerate((("KS999", "'KS999'"), ("drop-tabel", "'drop-tabel'"), ("KS1O1", "'KS1O1'"))):
        folder = tmp_path / str(i)
        folder.mkdir()
        (folder / "001_x.sql").write_text(f"-- migrate:up\nDROP TABLE x; -- kysera:allow {comment}\n")
        with pytest.raises(MigrationLoadError, match=f"unknown safety rule {message}"):
            load_migrations(folder)
    folder = tmp_path / "ok"
    folder.mkdir()
    (folder / "001_x.sql").write_text("-- kysera:allow KS101 because nothing uses it\n-- migrate:up\nDROP TABLE x; -- kysera:allow drop-table\n")
    (migration,) = load_migrations(folder)
    assert migration.allow_unsafe == frozenset({"KS101"})


PROCEDURE_WITH_CASE = """
CREATE PROCEDURE fill(IN k int)
main: BEGIN
  DECLARE c int DEFAULT 0;
  WHILE c < k DO
    SET c = c + 1;
    INSERT INTO filled VALUES (c, 'while; looped');
  END WHILE;
  CASE k
    WHEN 1 THEN INSERT INTO filled VALUES (100, 'one');
    ELSE BEGIN INSERT INTO filled VALUES (101, 'else; begin'); END;
  END CASE;
END main"""


@pytest.mark.parametrize("delimiter", [";", ";;", "//"])
def test_a_mysql_case_statement_holding_a_begin_block_ends_where_its_routine_ends(db: Database, tmp_path: Path, delimiter: str) -> None:
    """The END of a BEGIN ... END inside a CASE statement was taken for the CASE's, and END CASE's
    CASE for a new one: the procedure swallowed the rest of the section (DELIMITER ;; and all)
    and failed with a syntax error, the table before it created. After a DELIMITER line only the
    delimiter ends a statement, as in the mysql client."""
    if db.dialect.name != "mysql":
        pytest.skip("CASE statements and DELIMITER lines are MySQL's")
    body = PROCEDURE_WITH_CASE + (";\n" if delimiter == ";" else f"{delimiter}\nDELIMITER ;\n")
    write(tmp_path, "001_fill.sql", "-- migrate:up\nCREATE TABLE filled (i int, s varchar(50));\n"
          + ("" if delimiter == ";" else f"DELIMITER {delimiter}\n") + body.lstrip("\n")
          + "CALL fill(2);\n-- migrate:down\nDROP PROCEDURE fill;\nDROP TABLE filled;\n")
    runner = create_migration_runner(db, tmp_path)

    assert len(runner.up().statements("001_fill")) == 3
    assert [r["i"] for r in db.fetch("SELECT i FROM filled ORDER BY i")] == [1, 2, 101]
    assert runner.down().executed == ["001_fill"]


def _run_up(db: Database, folder: Path) -> Exception:
    from kysera.migrations import MigrationError
    from kysera.migrations.errors import MigrationDefinitionError

    try:
        create_migration_runner(db, folder).up()
    except (MigrationDefinitionError, MigrationError) as exc:
        return exc
    raise AssertionError("the migration ran")


def test_what_only_a_command_line_client_runs_is_refused_with_its_line(db: Database, tmp_path: Path) -> None:
    """COPY ... FROM stdin ran, waited for rows that never came, and failed as 'another command is
    already in progress' (the lock release too); psql's \\set was told to 'restore this file with
    psql'. Each client's commands are named, with the line and what to write instead, before
    anything runs."""
    from kysera.migrations.errors import MigrationDefinitionError

    command, said = {
        "postgres": ("COPY items (id) FROM stdin;\n1\n2\n\\.\n", "line 3 (in its '-- migrate:up' section): COPY ... FROM stdin needs psql"),
        "sqlite": (".read more.sql\nSELECT 1;\n", "line 3 (in its '-- migrate:up' section): .read is a command of the sqlite3 shell"),
        "mysql": ("source more.sql\n", "line 3 (in its '-- migrate:up' section): source is a command of the mysql client"),
    }[db.dialect.name]
    write(tmp_path, "001_client.sql", "-- migrate:up\nCREATE TABLE items (id integer);\n" + command + "-- migrate:down\nDROP TABLE items;\n")
    refused = _run_up(db, tmp_path)
    assert isinstance(refused, MigrationDefinitionError) and f"001_client.sql: {said}" in str(refused), refused
    assert "paste that file's SQL" in str(refused) or "INSERT INTO ... VALUES" in str(refused)
    assert not db.table_exists("items") and not db.table_exists("kysera_migrations")
    write(tmp_path, "001_client.sql", "-- migrate:up\n\\set ON_ERROR_STOP on\nCREATE TABLE items (id integer);\n")
    refused = _run_up(db, tmp_path)
    assert "line 2 (in its '-- migrate:up' section): \\set is a command of the psql client" in str(refused)
    assert "write the value itself" in str(refused) and "restore" not in str(refused)


@pytest.mark.parametrize(
    ("command", "said"),
    [
        ("\\set ON_ERROR_STOP on\n", "\\set is a command of the psql client"),
        ("\\i more.sql\n", "\\i is a command of the psql client"),
        (".read more.sql\n", ".read is a command of the sqlite3 shell"),
        ("source more.sql\n", "source is a command of the mysql client"),
        ("\\. more.sql\n", "source is a command of the mysql client"),
    ],
)
def test_every_clients_commands_are_refused_on_every_engine(db: Database, tmp_path: Path, command: str, said: str) -> None:
    """A file written for one client, run on another engine: psql's \\set on SQLite went to the
    server, which failed the migration there, after the migrations before it had been applied."""
    write(tmp_path, "001_first.sql", "-- migrate:up\nCREATE TABLE first (id integer);\n-- migrate:down\nDROP TABLE first;\n")
    write(tmp_path, "002_client.sql", "-- migrate:up\nCREATE TABLE items (id integer);\n" + command + "SELECT 1;\n")
    if db.dialect.name == "postgres" and command.startswith("\\."):
        said = "\\. is a command of the psql client"  # psql's end of COPY data, to psql's own reader
    refused = _run_up(db, tmp_path)
    assert f"002_client.sql: line 3 (in its '-- migrate:up' section): {said}" in str(refused), refused
    assert not db.table_exists("first") and not db.table_exists("items")  # refused before anything ran


@pytest.mark.parametrize(
    ("text", "said"),
    [
        # read as a comment, the down SQL ran with the up section: the table was made and dropped
        ("-- migrate:up\nCREATE TABLE t (id integer);\n-- migrate down\nDROP TABLE t;\n",
         "line 3 ('-- migrate down') is not a section marker, so it would be read as a comment; write it as '-- migrate:down'"),
        ("-- migrate:up\nCREATE TABLE t (id integer);\n# migrate:down\nDROP TABLE t;\n", "line 3 ('# migrate:down') is not a section marker"),
        ("-- migrate:up\nCREATE TABLE t (id integer);\n-- migrate down transaction:false\nDROP TABLE t;\n",
         "line 3 ('-- migrate down transaction:false') is not a section marker"),
        ("-- +migrate Up\nCREATE TABLE t (id integer);\n-- +migrate Down\nDROP TABLE t;\n",
         "line 1 is sql-migrate's '-- +migrate Up'; kysera's sections are '-- migrate:up' and '-- migrate:down'"),
        ("-- +goose NO TRANSACTION\n-- migrate:up\nCREATE TABLE t (id integer);\n",
         "line 1 is goose's '-- +goose NO TRANSACTION', which kysera would read as a comment; write transaction:false"),
        ("-- migrate:up -- makes t\nCREATE TABLE t (id integer);\n", "line 1 has a comment after its section marker; put the comment on a line of its own"),
        ("/* migrate:up */\nCREATE TABLE t (id integer);\n", "has no '-- migrate:up' line: line 1 ('/* migrate:up */') is inside a comment block"),
    ],
)
def test_a_section_marker_of_another_tool_or_misspelt_is_refused_with_its_line(db: Database, tmp_path: Path, text: str, said: str) -> None:
    from kysera.migrations import MigrationLoadError

    write(tmp_path, "001_t.sql", text)
    refused = _run_up(db, tmp_path)
    assert isinstance(refused, MigrationLoadError) and f"001_t.sql {said}" in str(refused), refused
    assert not db.table_exists("t")


def test_a_comment_that_starts_like_a_marker_is_a_comment(db: Database, tmp_path: Path) -> None:
    """Words after 'migrate up' that are not an option make a line a comment, not a misspelt marker."""
    write(
        tmp_path,
        "001_t.sql",
        "-- migrate:up\n-- migrate up old rows first\nCREATE TABLE t (id integer);\n-- migrate:down\nDROP TABLE t;\n",
    )
    from kysera.migrations import create_migration_runner, load_migrations

    assert create_migration_runner(db, load_migrations(tmp_path)).up().executed == ["001_t"]
    assert db.table_exists("t")


def test_what_is_not_utf8_is_named_with_its_line_or_its_encoding(tmp_path: Path) -> None:
    from kysera.migrations import MigrationLoadError, load_migrations

    (tmp_path / "001_latin1.sql").write_bytes("-- migrate:up\nINSERT INTO t VALUES ('café');\n".encode("latin-1"))
    with pytest.raises(MigrationLoadError, match=r"001_latin1\.sql is not UTF-8 text \(line 2: byte 40, b'\\xe9'"):
        load_migrations(tmp_path)
    (tmp_path / "001_latin1.sql").unlink()
    (tmp_path / "001_utf16.sql").write_bytes("-- migrate:up\nSELECT 1;\n".encode("utf-16"))
    with pytest.raises(MigrationLoadError, match=r"001_utf16\.sql is UTF-16 text .* save it as UTF-8"):
        load_migrations(tmp_path)
    (tmp_path / "001_utf16.sql").unlink()
    (tmp_path / "001_ok.sql").write_bytes(b"\xef\xbb\xbf-- migrate:up transaction:false\r\nSELECT 1;\r\n-- migrate:down\r\nSELECT 2;\r\n")
    (migration,) = load_migrations(tmp_path)  # a BOM and CRLF line endings are fine
    assert not migration.transaction and migration.sql_statements("down", "sqlite") == ["SELECT 2"]


def test_findings_and_failures_name_the_file_and_line_of_their_statement(db: Database, tmp_path: Path) -> None:
    """A finding named the migration and the statement's text, and a failure the text alone: with
    the same statement twice in a file, which one broke could not be told."""
    from kysera.migrations import MigrationError
    from kysera.migrations.gate import UnsafeMigrationError

    db.execute("CREATE TABLE keep (id integer PRIMARY KEY)")
    db.execute("INSERT INTO keep VALUES (1)")
    path = write(tmp_path, "001_drop.sql", "-- migrate:up\nCREATE TABLE other (id integer);\n\nDROP TABLE keep;\n")
    with pytest.raises(UnsafeMigrationError) as refused:
        create_migration_runner(db, tmp_path).up()
    (finding,) = refused.value.findings
    assert finding.code == "KS101" and finding.location == f"{path}:4"
    assert f"statement ({path}:4): DROP TABLE keep" in finding.render() and finding.to_dict()["location"] == f"{path}:4"

    path.unlink()
    path = write(tmp_path, "001_twice.sql", "-- migrate:up\nCREATE TABLE twice (id integer);\nINSERT INTO keep VALUES (2);\nINSERT INTO keep VALUES (2);\n")
    with pytest.raises(MigrationError) as failed:
        create_migration_runner(db, tmp_path).up()
    assert f"statement ({path}:4): INSERT INTO keep VALUES (2)" in str(failed.value)


def test_a_statement_that_cannot_run_in_a_transaction_beside_others_is_a_warning(db: Database, tmp_path: Path) -> None:
    """It took the whole migration out of its transaction without a word: a failure after it left
    the statements before it applied, recorded as failed. Alone in its migration, with
    transaction:false, or with the file's own BEGIN ... COMMIT, nothing is said."""
    if db.dialect.name == "mysql":
        pytest.skip("MySQL has no statement that refuses a transaction")
    statement = "CREATE INDEX CONCURRENTLY mix_id ON mix (id)" if db.dialect.name == "postgres" else "VACUUM"
    path = write(tmp_path, "001_mix.sql", f"-- migrate:up\nCREATE TABLE mix (id integer);\nINSERT INTO mix VALUES (1);\n{statement};\n"
                 "-- migrate:down\nDROP TABLE mix;\n")
    write(tmp_path, "002_alone.sql", f"-- migrate:up\n{statement.replace('mix_id', 'mix_id2')};\n-- migrate:down\nSELECT 1;\n")
    write(tmp_path, "003_said.sql", f"-- migrate:up transaction:false\nINSERT INTO mix VALUES (2);\n{statement.replace('mix_id', 'mix_id3')};\n")
    result = create_migration_runner(db, tmp_path).up()

    (mixed,) = [f for f in result.findings if f.code == "KS501"]
    assert mixed.migration == "001_mix" and mixed.severity == "warning" and mixed.location == f"{path}:4"
    assert "its 2 other statements fails, what ran before it stays" in mixed.message
    assert "migration of its own" in mixed.recipe
    assert result.executed == ["001_mix", "002_alone", "003_said"]


def test_a_migration_that_switches_database_or_search_path_leaves_the_connection_as_it_found_it(db: Database, tmp_path: Path) -> None:
    """MySQL's USE other_db (as in a pasted dump) sent kysera's history writes to the other
    database: the migration stayed 'running', partly applied, and the rest of the run went there
    too. PostgreSQL's SET search_path failed the history INSERT ('relation kysera_migrations does
    not exist'). The connection goes back to where it was after each migration."""
    if db.dialect.name == "sqlite":
        pytest.skip("SQLite has no USE or search_path")
    if db.dialect.name == "mysql":
        switch, uses = "USE information_schema;\nSELECT COUNT(*) FROM TABLES;\n", "information_schema"
    else:
        switch, uses = "CREATE SCHEMA other;\nSET search_path TO other;\nCREATE TABLE b (id integer);\n", "other"
    write(tmp_path, "001_switch.sql", f"-- migrate:up\nCREATE TABLE a (id integer);\n{switch}")
    write(tmp_path, "002_after.sql", "-- migrate:up\nCREATE TABLE c (id integer);\n")
    runner = create_migration_runner(db, tmp_path)
    assert runner.up().executed == ["001_switch", "002_after"]

    assert runner.status().executed == ["001_switch", "002_after"]
    assert db.table_exists("a") and db.table_exists("c")  # where the URL points, not in the other one
    assert uses not in str(db.fetch("SELECT DATABASE() AS d" if db.dialect.name == "mysql" else "SHOW search_path"))
    if db.dialect.name == "postgres":
        assert db.fetch("SELECT table_schema AS s FROM information_schema.tables WHERE table_name = 'b'") == [{"s": "other"}]
