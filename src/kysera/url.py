"""Database URLs: ``sqlite:///app.db``, ``postgresql://user@host/db``, ``mysql://root@host/db``.

Three slashes after ``sqlite:`` make a path relative to the current folder, four an absolute
path; ``sqlite:///:memory:`` (or ``sqlite://``) is an in-memory database. ``sqlite:///`` with
nothing after it names no file and is refused, as are a bad port or host. A driver after a ``+``
(SQLAlchemy's ``postgresql+psycopg2://``, ``mysql+mysqldb://``) is ignored: kysera connects with
its own.
"""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import SplitResult, parse_qsl, quote, unquote, urlsplit

from .errors import InvalidUrlError, UnknownSchemeError

#: scheme -> dialect name
SCHEMES: dict[str, str] = {
    "sqlite": "sqlite",
    "sqlite3": "sqlite",
    "postgresql": "postgres",
    "postgres": "postgres",
    "postgresql+psycopg": "postgres",
    "postgresql+psycopg3": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "mysql+pymysql": "mysql",
    "mariadb+pymysql": "mysql",
}


class DatabaseUrl(NamedTuple):
    """A parsed database URL. Neither ``str()`` nor ``repr()`` shows the password.

    An immutable value (a named tuple: the CLI parses one on every start).
    """

    scheme: str
    dialect: str
    username: str | None = None
    password: str | None = None
    host: str | None = None
    port: int | None = None
    database: str = ""
    query: tuple[tuple[str, str], ...] = ()

    def __repr__(self) -> str:
        return f"DatabaseUrl({self.redacted()!r})"

    @property
    def options(self) -> dict[str, str]:
        return dict(self.query)

    def with_database(self, database: str) -> DatabaseUrl:
        return self._replace(database=database)

    def redacted(self) -> str:
        """The URL with the password replaced by ``***``."""
        if self.dialect == "sqlite":  # a file: URI's query (mode=ro) is part of what opens it
            query = "&".join(f"{k}={v}" for k, v in self.query)
            path = self.database
            if query or any(c in path for c in "?#%"):  # a file name's own ?, # and % as a URL spells them
                path = path.replace("%", "%25").replace("?", "%3F").replace("#", "%23")
            return f"sqlite:///{path}" + (f"?{query}" if query else "")
        # written back as a URL parses: what is shown, with the password filled in, opens the same database
        auth = ""
        if self.username:
            auth = quote(self.username, safe="") + (":***" if self.password else "") + "@"
        host = self.host or ""
        if host.startswith("/"):  # a unix socket's folder or file, as the URL's host
            host = quote(host, safe="")
        elif ":" in host:
            host = f"[{host}]"
        port = f":{self.port}" if self.port else ""
        query = "&".join(f"{k}={'***' if is_secret_option(k) else v}" for k, v in self.query if k != "password")
        return f"{self.scheme}://{auth}{host}{port}/{self.database}" + (f"?{query}" if query else "")

    def __str__(self) -> str:
        return self.redacted()

    def describe(self) -> str:
        """``host:port/database`` for messages."""
        if self.dialect == "sqlite":
            return self.database
        socket = self.host if self.host and self.host.startswith("/") else self.options.get("host") or self.options.get("unix_socket")
        if socket and socket.startswith("/"):
            return f"socket {socket}, database {self.database}"
        default_port = 5432 if self.dialect == "postgres" else 3306
        host = self.host or "localhost"
        return f"{f'[{host}]' if ':' in host else host}:{self.port or default_port}/{self.database}"


def parse_url(url: str) -> DatabaseUrl:
    """Parse ``url``; an unknown or missing scheme is an error that lists the known ones."""
    if not isinstance(url, str) or not url.strip():
        raise UnknownSchemeError(
            "no database URL given; pass one such as sqlite:///app.db or postgresql://user@localhost/app"
        )
    url = url.strip()
    scheme, sep, _ = url.partition("://")
    scheme = scheme.lower()
    if not sep:
        if url.startswith("sqlite:"):
            # sqlite:app.db, sqlite::memory:
            rest = url[len("sqlite:") :]
            return DatabaseUrl("sqlite", "sqlite", database=rest or ":memory:")
        raise UnknownSchemeError(
            f"'{redact_url_text(url)}' is not a database URL; it needs a scheme, one of: {known_schemes()}"
        )
    # a SQLAlchemy URL names its driver (postgresql+psycopg2://, mysql+mysqldb://, the
    # DATABASE_URL an Alembic project shares with its application): kysera uses its own driver
    dialect = SCHEMES.get(scheme) or SCHEMES.get(scheme.partition("+")[0] if "+" in scheme else "")
    if dialect is None:
        raise UnknownSchemeError(
            f"unknown database URL scheme '{scheme}://'; use one of: {known_schemes()}"
        )
    if dialect == "sqlite":
        rest = url[len(scheme) + 3 :]
        path, _, query = rest.partition("?")
        if path == "/":
            raise InvalidUrlError(
                f"'{url}' names no database file; write sqlite:///app.db (relative to the current folder), "
                "sqlite:////abs/path/app.db, or sqlite:///:memory: for a database that lasts as long as the connection"
            )
        if path.startswith("/"):
            path = path[1:]
        if path.endswith("/") and not path.startswith("file:"):
            raise InvalidUrlError(
                f"'{url}' ends with a slash, so it names a folder, not a database file; "
                f"name the file, as in sqlite:///{path}app.db"
            )
        return DatabaseUrl(
            scheme, "sqlite", database=unquote(path) or ":memory:", query=tuple(parse_qsl(query))
        )
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError as exc:  # an unclosed [ of an IPv6 address
        raise InvalidUrlError(f"bad host in database URL '{redact_url_text(url)}': {exc}") from None
    if _misplaced_at(parts):
        raise InvalidUrlError(
            f"database URL '{redact_url_text(url)}': its user name or password seems to hold a '/', '?' or '#', "
            "where a URL ends that part; percent-encode them (/ as %2F, ? as %3F, # as %23, @ as %40)"
        )
    try:
        port = parts.port
    except ValueError:
        # the error's text would quote what stands where the port should: part of a password
        raise InvalidUrlError(f"bad port in database URL '{redact_url_text(url)}': a port is a number from 1 to 65535") from None
    if port == 0:
        raise InvalidUrlError(f"bad port in database URL '{redact_url_text(url)}': 0 is no port; leave it out for the default")
    if hostname and "%" in hostname:
        # a unix socket's folder, percent-encoded (postgresql://u@%2Fvar%2Frun%2Fpostgresql/db, as
        # libpq takes it): decoded from the URL as written (hostname is lower-cased)
        raw = parts.netloc.rpartition("@")[2]
        if parts.port is not None:
            raw = raw.rpartition(":")[0]
        hostname = unquote(raw)
    return DatabaseUrl(
        scheme=scheme,
        dialect=dialect,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        host=hostname,
        port=port,
        database=unquote(parts.path.lstrip("/")),
        query=tuple(parse_qsl(parts.query, keep_blank_values=True)),
    )


def known_schemes() -> str:
    return "sqlite://, postgresql:// (postgres://), mysql:// (mariadb://)"


def is_secret_option(key: str) -> bool:
    """A query option whose value is a secret (``sslpassword``, ``token`` ...)."""
    key = key.lower()
    return "password" in key or "secret" in key or "token" in key


def _misplaced_at(parts: SplitResult) -> bool:
    """An ``@`` after the host part of a URL without a user: a password with ``/``, ``?`` or
    ``#`` in it, not percent-encoded, cut the user part short."""
    if parts.username is not None:
        return False
    if "@" in parts.path or "@" in parts.fragment:
        return True
    at = parts.query.find("@")
    return at != -1 and "=" not in parts.query[:at]  # ?app=me@home is an option's value


def redact_url_text(url: str) -> str:
    """Hide anything that looks like a password in a URL we could not parse: the user part's
    password, and the value of a secret option (``?password=``, ``?sslpassword=``)."""
    url = re.sub(_SECRET_OPTION, lambda m: m.group(1) + "***" if is_secret_option(m.group(2)) else m.group(0), url)
    at = url.rfind("@")
    if at == -1:
        return url
    head, tail = url[:at], url[at:]
    scheme_end = head.find("://")
    start = scheme_end + 3 if scheme_end != -1 else 0
    colon = head.find(":", start)
    if colon == -1:
        return url
    return head[: colon + 1] + "***" + tail


#: ``key=value`` after the ``?`` or an ``&`` of a URL's query (group 1 up to the ``=``, group 2 the key)
_SECRET_OPTION = r"([?&]([^=&#]*)=)[^&#]*"  # compiled when first used (re's cache): a URL that did not parse


#: the options a MySQL/MariaDB URL takes (``?charset=utf8mb4&connect_timeout=5``)
MYSQL_OPTIONS = ("charset", "connect_timeout", "unix_socket", "ssl_ca", "ssl_cert", "ssl_key")


def unknown_options_problem(url: DatabaseUrl) -> str | None:
    """What is wrong with the options of ``url`` that kysera can tell without connecting (a
    MySQL/MariaDB URL's unknown ones; PostgreSQL's go to libpq, which names its own), or None."""
    if url.dialect != "mysql":
        return None
    unknown = sorted(set(url.options) - set(MYSQL_OPTIONS))
    if not unknown:
        return None
    return (
        f"{url.redacted()}: unknown option{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
        f"a MySQL/MariaDB URL takes {', '.join(MYSQL_OPTIONS[:-1])} and {MYSQL_OPTIONS[-1]}"
    )
