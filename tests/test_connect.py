"""URLs, connection errors and the Database object."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kysera import Database, connect
from kysera.errors import (
    ConfigurationError,
    ConnectionFailedError,
    InvalidUrlError,
    UnknownSchemeError,
)
from kysera.url import parse_url

from .conftest import MYSQL_URL, PG_URL


@pytest.mark.parametrize(
    ("url", "dialect", "database"),
    [
        ("sqlite:///relative/app.db", "sqlite", "relative/app.db"),
        ("sqlite:////abs/app.db", "sqlite", "/abs/app.db"),
        ("sqlite:///:memory:", "sqlite", ":memory:"),
        ("sqlite://", "sqlite", ":memory:"),
        ("postgresql://app:p%40ss@db.example:5433/app?sslmode=require", "postgres", "app"),
        ("postgres://app@localhost/app", "postgres", "app"),
        ("postgresql+psycopg://app@localhost/app", "postgres", "app"),
        ("mysql://root:secret@127.0.0.1:3306/app?charset=utf8mb4", "mysql", "app"),
        ("mariadb://root@127.0.0.1/app", "mysql", "app"),
        ("mysql+pymysql://root@127.0.0.1/app", "mysql", "app"),
        # SQLAlchemy's driver names (an Alembic project's DATABASE_URL): kysera uses its own
        ("postgresql+psycopg2://app@localhost/app", "postgres", "app"),
        ("postgresql+asyncpg://app@localhost/app", "postgres", "app"),
        ("mysql+mysqldb://root@127.0.0.1/app", "mysql", "app"),
        ("mariadb+mariadbconnector://root@127.0.0.1/app", "mysql", "app"),
        ("sqlite+pysqlite:///relative/app.db", "sqlite", "relative/app.db"),
    ],
)
def test_parse_url(url: str, dialect: str, database: str) -> None:
    parsed = parse_url(url)
    assert (parsed.dialect, parsed.database) == (dialect, database)


def test_password_and_options_pass_through_but_never_show() -> None:
    parsed = parse_url("postgresql://app:p%40ss%3Aw0rd@db.example:5433/app?sslmode=require")
    assert parsed.password == "p@ss:w0rd" and parsed.port == 5433
    assert parsed.options == {"sslmode": "require"}
    assert "w0rd" not in str(parsed) and "w0rd" not in repr(parsed)


@pytest.mark.parametrize("url", ["oracle://scott@db/orcl", "oracle+cx_oracle://scott@db/orcl", "+x://a/b", "app.db", "", "http://x"])
def test_unknown_scheme_lists_the_known_ones(url: str) -> None:
    with pytest.raises(UnknownSchemeError) as info:
        connect(url)
    assert "postgresql://" in str(info.value) and "sqlite://" in str(info.value)


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("sqlite:///", "names no database file"),
        ("sqlite:///data/", "names a folder, not a database file; name the file, as in sqlite:///data/app.db"),
        ("postgresql://postgres@[::1:5432/x", "bad host"),
        ("postgresql://h:99999/x", "bad port .*from 1 to 65535"),
        ("mysql://root@h:http/x", "bad port .*a port is a number"),
        (MYSQL_URL + "?bogus=1", "unknown option bogus"),
        (MYSQL_URL + "?charset=bogus", "charset 'bogus'"),
        (MYSQL_URL + "?connect_timeout=soon", "connect_timeout"),
        # PostgreSQL's options go to libpq, which refuses these before it connects: a URL mistake
        # (exit 2) that says what to do, not a server that could not be reached
        (PG_URL + "?bogus=1", '"bogus"; remove it from the URL\'s query: PostgreSQL takes libpq\'s connection options'),
        (PG_URL + "?sslmode=bogus", "invalid sslmode value.*; fix that option's value in the URL's query"),
        (PG_URL + "?connect_timeout=soon", "connect_timeout.*; fix that option's value"),
        (PG_URL + "?keepalives=x", "keepalives.*; fix that option's value"),
    ],
)
def test_malformed_urls_are_refused_before_connecting(url: str, fragment: str) -> None:
    with pytest.raises(InvalidUrlError, match=fragment.replace("[", r"\[")):
        connect(url)


def test_wrong_mysql_password_names_server_not_password() -> None:
    url = parse_url(MYSQL_URL)
    bad = f"mysql://{url.username or 'root'}:s3cretpw@{url.host}:{url.port or 3306}/{url.database}"
    try:
        connect(MYSQL_URL).close()
    except ConnectionFailedError:
        pytest.skip("MariaDB not reachable")
    with pytest.raises(ConnectionFailedError) as info:
        connect(bad)
    message = str(info.value)
    assert "s3cretpw" not in message
    assert f"{url.host}:{url.port or 3306}/{url.database}" in message
    assert "denied" in message.lower()


def test_sslmode_require_on_a_server_without_tls_says_what_to_do() -> None:
    try:
        connect(PG_URL).close()
    except ConnectionFailedError:
        pytest.skip("PostgreSQL not reachable")
    try:
        with connect(PG_URL + "?sslmode=require"):
            pytest.skip("this PostgreSQL server has TLS on")
    except ConnectionFailedError as exc:
        assert "does not support SSL" in str(exc) and "sslmode=prefer (or disable)" in str(exc), exc


def test_unreachable_postgres_names_host_and_port() -> None:
    with pytest.raises(ConnectionFailedError) as info:
        connect("postgresql://postgres:hunter2@127.0.0.1:1/nowhere?connect_timeout=2")
    message = str(info.value)
    assert "127.0.0.1:1/nowhere" in message and "hunter2" not in message


def test_missing_driver_says_how_to_install() -> None:
    code = (
        "import sys; sys.modules['psycopg'] = None\n"
        "from kysera import connect\n"
        "from kysera.errors import MissingDriverError\n"
        "try:\n"
        f"    connect({PG_URL!r})\n"
        "except MissingDriverError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert 'pip install "kysera[postgres]"' in out


def test_database_describes_its_engine(db: Database) -> None:
    assert db.dialect.name in ("sqlite", "postgres", "mysql")
    assert db.dialect.server_version and db.dialect.version_text
    assert db.dialect.transactional_ddl == (db.dialect.name != "mysql")


def test_transactions_and_savepoints(db: Database) -> None:
    db.schema.create_table("t").add_column("id", "integer", lambda c: c.primary_key()).execute()
    with db.transaction():
        db.insert_into("t").values({"id": 1}).execute()
        with pytest.raises(RuntimeError), db.transaction():
            db.insert_into("t").values({"id": 2}).execute()
            raise RuntimeError("inner")
    with pytest.raises(RuntimeError), db.transaction():
        db.insert_into("t").values({"id": 3}).execute()
        raise RuntimeError("outer")
    assert [r["id"] for r in db.select_from("t").fetch_all()] == [1]


def test_ddl_rolls_back_where_the_engine_allows(db: Database) -> None:
    with pytest.raises(RuntimeError), db.transaction():
        db.schema.create_table("gone").add_column("id", "integer").execute()
        raise RuntimeError
    from kysera.dialects.catalog import list_tables

    assert ("gone" in list_tables(db)) == (db.dialect.name == "mysql")


def test_ddl_inside_a_savepoint_keeps_the_blocks_own_error(db: Database) -> None:
    """MySQL commits at a DDL statement, and the savepoint goes with the transaction: the error
    the block raised is still the one the caller sees, and a block that succeeds succeeds."""
    db.schema.create_table("t").add_column("id", "integer").execute()
    with pytest.raises(RuntimeError, match="mine") as caught, db.transaction():
        db.insert_into("t").values({"id": 1}).execute()
        with db.transaction():
            db.schema.create_table("inner_t").add_column("id", "integer").execute()
            raise RuntimeError("mine")
    if db.dialect.name == "mysql":
        assert "committed at a DDL statement" in "\n".join(caught.value.__notes__)
    with db.transaction(), db.transaction():
        db.schema.create_table("inner_ok").add_column("id", "integer").execute()
    assert db.table_exists("inner_ok")


def test_capture_records_instead_of_running(db: Database) -> None:
    with db.capture() as captured:
        db.schema.create_table("never").add_column("id", "integer").execute()
        db.execute("SELECT 1 AS one")  # reads still run
    assert len(captured) == 1 and "never" in captured[0].sql
    assert not db.table_exists("never")


def test_a_sqlalchemy_driver_in_the_scheme_connects_with_kyseras_own(db_url: str) -> None:
    scheme, rest = db_url.split("://", 1)
    driver = {"sqlite": "pysqlite", "postgresql": "psycopg2", "mysql": "mysqldb"}[scheme]
    with connect(f"{scheme}+{driver}://{rest}") as db:
        assert db.execute("SELECT 1 AS one").scalar() == 1


def test_context_manager_closes(db_url: str) -> None:
    with connect(db_url) as db:
        assert db.execute("SELECT 1 AS one").scalar() == 1
    assert db.closed


def test_sqlite_dates_are_iso_text_without_deprecation_warnings() -> None:
    """Python 3.12 deprecated sqlite3's own date adapters; kysera writes the same text itself."""
    import datetime
    import warnings

    from kysera import connect

    with connect("sqlite://") as db, warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        db.execute("CREATE TABLE t (d date, ts timestamp)")
        at = datetime.datetime(2026, 11, 29, 8, 30, 1, 5, tzinfo=datetime.UTC)
        db.insert_into("t").values({"d": datetime.date(2026, 11, 29), "ts": at}).execute()
        assert db.fetch("SELECT d, ts FROM t") == [{"d": "2026-11-29", "ts": "2026-11-29 08:30:01.000005+00:00"}]


@pytest.mark.parametrize("imported_first", [True, False])
def test_sqlite_binds_decimals_as_exact_text(imported_first: bool) -> None:
    """Decimals are bound as their text (SQLite's NUMERIC affinity converts it), also on a
    connection opened before ``decimal`` was imported (kysera imports it only when it is)."""
    code = (
        "import sys\n"
        + ("import decimal\n" if imported_first else "")
        + "from kysera import connect\n"
        "db = connect('sqlite://')\n"
        "assert 'decimal' in sys.modules or not " + repr(imported_first) + "\n"
        "import decimal\n"
        "db.execute('CREATE TABLE t (price numeric, label text)')\n"
        "db.insert_into('t').values({'price': decimal.Decimal('12.50'), 'label': decimal.Decimal('0.1')}).execute()\n"
        "db.execute('INSERT INTO t VALUES (?, ?)', [decimal.Decimal('3'), 'x'])\n"
        "print(db.fetch('SELECT price, label FROM t ORDER BY price'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[{'price': 3, 'label': 'x'}, {'price': 12.5, 'label': '0.1'}]"


def test_sqlite_connection_does_not_import_decimal() -> None:
    code = "import sys\nfrom kysera import connect\nconnect('sqlite://').execute('SELECT 1')\nprint('decimal' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:Secret#Pw1@127.0.0.1/db",
        "postgresql://app:5432/s3cret@db.internal/app",  # digits before the / read as a port
        "mysql://u:3306/s3cret@127.0.0.1/db",
        "postgresql://u:pa?ss@127.0.0.1/db",
    ],
)
def test_a_password_with_url_delimiters_is_refused_and_never_shown(url: str) -> None:
    with pytest.raises(InvalidUrlError) as caught:
        parse_url(url)
    message = str(caught.value)
    assert "percent-encode" in message and "%2F" in message
    for secret in ("Secret", "Pw1", "s3cret", "5432/", "3306/", "pa?ss"):
        assert secret not in message


def test_an_at_sign_in_an_option_value_is_no_password() -> None:
    url = parse_url("postgresql://localhost/db?application_name=me@home")
    assert url.username is None and dict(url.query)["application_name"] == "me@home"


def test_secret_options_are_hidden_where_the_url_is_shown() -> None:
    shown = parse_url("postgresql://u@h/db?sslpassword=KeyPass99&sslmode=disable&password=x").redacted()
    assert "KeyPass99" not in shown and "sslpassword=***" in shown and "sslmode=disable" in shown
    assert "password=x" not in shown


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u@h:abc/db?sslpassword=KeyPass99&sslmode=disable",  # a bad port
        "postgresql://u@h:0/db?password=KeyPass99",
        "postgresql://u@[::1/db?password=KeyPass99",  # a bad host
        "localhost/db?password=KeyPass99",  # no scheme
        "mysql://root:Secret@h:99999/db?ssl_key=/k.pem&Password=KeyPass99",
    ],
)
def test_a_secret_option_of_a_url_that_cannot_be_parsed_is_never_shown(url: str) -> None:
    """The message quotes the URL it could not parse: a password given as an option (libpq
    takes ?password= and ?sslpassword=) is hidden there as where the URL parses."""
    with pytest.raises(ConfigurationError) as caught:
        parse_url(url)
    message = str(caught.value)
    assert "KeyPass99" not in message and "Secret" not in message
    assert "password=***" in message.lower()


def test_a_sqlite_path_with_hash_or_question_mark_and_options(tmp_path: Path) -> None:
    """With a URL option the path becomes a file: URI: its # and ? are the file name's."""
    folder = tmp_path / "sp ace"
    folder.mkdir()
    for name in ("has#hash.db", "q?mark.db"):
        quoted = name.replace("?", "%3F")
        with connect(f"sqlite:///{folder}/{quoted}?mode=rwc") as db:
            db.execute("CREATE TABLE t (id integer)")
    assert sorted(p.name for p in folder.iterdir()) == ["has#hash.db", "q?mark.db"]


def test_options_of_a_sqlite_file_uri_apply(tmp_path: Path) -> None:
    with connect(f"sqlite:///{tmp_path / 'a.db'}") as db:
        db.execute("CREATE TABLE t (id integer)")
    with connect(f"sqlite:///file:{tmp_path / 'a.db'}?mode=ro") as db, pytest.raises(Exception, match="is read-only"):
        db.execute("INSERT INTO t VALUES (1)")


def test_a_percent_encoded_socket_folder_is_the_host() -> None:
    url = parse_url("postgresql://postgres@%2Fvar%2Frun%2FPostgreSQL/app")
    assert url.host == "/var/run/PostgreSQL" and url.describe() == "socket /var/run/PostgreSQL, database app"
    assert parse_url("mysql://root@%2Frun%2Fmysqld%2Fmysqld.sock/app").host == "/run/mysqld/mysqld.sock"


def test_the_url_shown_is_one_that_parses_back_to_the_same_place() -> None:
    """The status header, -v, --json and the dump header show redacted(): a socket host was
    written bare (postgresql://postgres@/var/run/postgresql/app, which parses as the database
    'var/run/postgresql/app'), and an IPv6 host without brackets in messages (::1:5432/app)."""
    for text in (
        "postgresql://postgres@%2Fvar%2Frun%2Fpostgresql/app",
        "mysql://root@%2Frun%2Fmysqld%2Fmysqld.sock/app",
        "postgresql://u%40corp@[::1]:5433/app",
        "postgresql://u@/app?host=/var/run/postgresql",
    ):
        url = parse_url(text)
        assert url.redacted() == text and parse_url(url.redacted()) == url
    assert parse_url("mysql://root:pw@%2Frun%2Fmysqld%2Fmysqld.sock/app").redacted() == (
        "mysql://root:***@%2Frun%2Fmysqld%2Fmysqld.sock/app"
    )
    assert parse_url("postgresql://u@[::1]/app").describe() == "[::1]:5432/app"
    # SQLite: a file: URI's options (mode=ro) are part of where it opens, and a file name's own
    # ?, # and % are spelt as the URL spells them (status -v showed sqlite:///file:app.db)
    for text in ("sqlite:///file:app.db?mode=ro", "sqlite:////tmp/sp ace/q%3Fmark.db?mode=rwc", "sqlite:////tmp/h%23a.db",
                 "sqlite:////tmp/50%25.db", "sqlite:///app.db", "sqlite:///:memory:"):
        url = parse_url(text)
        assert url.redacted() == text and parse_url(url.redacted()) == url


@pytest.mark.parametrize("engine", ["postgres", "mysql"])
def test_the_url_shown_for_a_socket_connects_to_the_same_database(engine: str) -> None:
    from urllib.parse import quote

    from .conftest import server_url

    with connect(server_url(engine)) as db:
        if engine == "postgres":
            folder = str(db.fetch("SHOW unix_socket_directories")[0]["unix_socket_directories"]).split(",")[0].strip()
            socket, tail = folder, f"?port={db.fetch('SHOW port')[0]['port']}"
        else:
            socket, tail = str(db.fetch("SELECT @@socket AS s")[0]["s"]), ""
        user, name = db.url.username or "", db.url.database
    if not Path(socket).exists():
        pytest.skip(f"the server's socket {socket} is not on this machine")
    with connect(f"{engine}://{user}@{quote(socket, safe='')}/{name}{tail}") as over_socket:
        shown = str(over_socket.url)
    with connect(shown) as again:
        assert again.url.database == name and again.url.host == socket
        assert again.fetch("SELECT 1 AS one")[0]["one"] == 1


def test_a_mysql_tls_file_that_cannot_be_used_is_named(tmp_path: Path) -> None:
    """The message was 'cannot connect to host:3306/db: [Errno 2] No such file or directory',
    naming neither the file nor the option."""
    from .conftest import server_url

    url = server_url("mysql")
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    for query, named in (
        (f"ssl_ca={tmp_path}/missing.pem", f"ssl_ca={tmp_path}/missing.pem: no such file"),
        (f"ssl_ca={junk}", f"ssl_ca={junk}: "),
        (f"ssl_cert={junk}&ssl_key={tmp_path}/key.pem", f"ssl_key={tmp_path}/key.pem: no such file"),
    ):
        with pytest.raises(ConnectionFailedError) as caught:
            connect(f"{url}?{query}")
        message = str(caught.value)
        assert named in message and "readable PEM files" in message, message


def test_connection_failures_say_how_to_fix_them(tmp_path: Path) -> None:
    """A missing database, a wrong password, a folder that is not there, or a MySQL URL aimed at
    another kind of server: the message names the fix, and the last comes back within the
    connect timeout (it waited a minute for a greeting PostgreSQL never sends)."""
    import time

    from .conftest import server_url

    with pytest.raises(ConnectionFailedError, match=r"the folder .*nosuchdir does not exist: create it"):
        connect(f"sqlite:///{tmp_path / 'nosuchdir' / 'app.db'}")
    pg = parse_url(server_url("postgres"))
    with pytest.raises(ConnectionFailedError, match=r'create it \(createdb kysera_nosuchdb, or CREATE DATABASE "kysera_nosuchdb"\)'):
        connect(f"postgresql://{pg.username}@{pg.host}:{pg.port or 5432}/kysera_nosuchdb")
    my = parse_url(server_url("mysql"))
    with pytest.raises(ConnectionFailedError, match=r"create it \(CREATE DATABASE `kysera_nosuchdb`\)"):
        connect(f"mysql://{my.username}@{my.host}:{my.port or 3306}/kysera_nosuchdb")
    with pytest.raises(ConnectionFailedError, match="check the user and password in the URL"):
        connect(f"mysql://{my.username}:wrong@{my.host}:{my.port or 3306}/{my.database}")
    started = time.monotonic()
    with pytest.raises(ConnectionFailedError, match="another kind of server on that port"):
        connect(f"mysql://root@{pg.host}:{pg.port or 5432}/x?connect_timeout=2")
    assert time.monotonic() - started < 15


def test_a_transaction_belongs_to_its_thread(db: Database) -> None:
    """One Database is one connection: a statement from another thread while a transaction is
    open would land in that transaction (committed or rolled back with it) or break the driver.
    It is refused; each thread connects on its own."""
    import threading

    from kysera.errors import KyseraError

    db.schema.create_table("t").add_column("id", "integer").execute()
    errors: list[BaseException] = []

    def other() -> None:
        try:
            db.insert_into("t").values({"id": 2}).execute()
        except BaseException as exc:  # what the other thread met
            errors.append(exc)

    with db.transaction():
        db.insert_into("t").values({"id": 1}).execute()
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert len(errors) == 1 and isinstance(errors[0], KyseraError)
    assert "a transaction open in another thread" in str(errors[0]) and "connect() in the thread" in str(errors[0])
    assert db.select_from("t").select(["id"]).fetch_all() == [{"id": 1}]
    thread = threading.Thread(target=other)  # no transaction open: one statement at a time is fine
    thread.start()
    thread.join()
    assert len(errors) == 1 and len(db.select_from("t").select(["id"]).fetch_all()) == 2


def test_mysql_sessions_are_strict_on_a_lax_server() -> None:
    """On a server set to a lax sql_mode, set_not_null turned NULLs into 0 and reported success;
    kysera's sessions add STRICT_TRANS_TABLES (keeping the server's other modes), so it fails."""
    from kysera import connect
    from kysera.errors import StatementError

    from .conftest import server_url

    url = server_url("mysql")
    admin = connect(url)
    original = admin.fetch("SELECT @@GLOBAL.sql_mode AS m")[0]["m"]
    admin.execute("SET GLOBAL sql_mode = 'NO_ENGINE_SUBSTITUTION'")
    try:
        with connect(url) as db:
            modes = str(db.fetch("SELECT @@SESSION.sql_mode AS m")[0]["m"]).split(",")
            assert "STRICT_TRANS_TABLES" in modes and "NO_ENGINE_SUBSTITUTION" in modes
            db.schema.create_table("lax_t").add_column("n", "integer").execute()
            try:
                db.insert_into("lax_t").values([{"n": None}]).execute()
                with pytest.raises(StatementError):
                    db.schema.alter_table("lax_t").alter_column("n", lambda c: c.set_not_null()).execute()
                assert db.fetch("SELECT n FROM lax_t") == [{"n": None}]
            finally:
                db.schema.drop_table("lax_t").execute()
    finally:
        admin.execute("SET GLOBAL sql_mode = %s", [original])
        admin.close()
