"""What each engine can do with the schema builder: the one table of engine limits.

Every feature that is not the same on PostgreSQL, MySQL, MariaDB and SQLite has a row here: per
engine, whether it is supported (from which server version), emulated (and how), ignored (and
why), or not supported (and the nearest alternative). The compilers ask this table through
:meth:`QueryCompiler.require`, which raises :class:`~kysera.errors.UnsupportedError` at
``.compile()`` time, so invalid SQL never reaches a server; the docs' support table is generated
from it by :func:`render_markdown` (``python -m kysera.dialects.support`` prints it).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal, NamedTuple

from ..errors import UnsupportedError

if TYPE_CHECKING:
    from .base import Dialect

EngineKey = Literal["postgres", "mysql", "mariadb", "sqlite"]
ENGINES: tuple[EngineKey, ...] = ("postgres", "mysql", "mariadb", "sqlite")
ENGINE_NAMES: dict[EngineKey, str] = {
    "postgres": "PostgreSQL",
    "mysql": "MySQL",
    "mariadb": "MariaDB",
    "sqlite": "SQLite",
}
Level = Literal["yes", "emulated", "ignored", "no"]


class Support(NamedTuple):
    """How one engine handles one feature.

    ``text`` is the nearest alternative (``no``), how kysera does it (``emulated``), why nothing is
    emitted (``ignored``), or a caveat (``yes``). ``since`` is the first server version that has
    it; an older server gets ``no`` with ``before`` as the alternative. ``values`` limits the
    argument a feature takes (an index method, say) to those values.
    """

    level: Level
    text: str = ""
    since: tuple[int, ...] = ()
    before: str = ""
    values: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.level != "no"


def yes(note: str = "", *, since: tuple[int, ...] = (), before: str = "", values: tuple[str, ...] = ()) -> Support:
    return Support("yes", note, since, before, values)


def emulated(how: str, *, since: tuple[int, ...] = (), before: str = "") -> Support:
    return Support("emulated", how, since, before)


def ignored(why: str) -> Support:
    return Support("ignored", why)


def no(alternative: str) -> Support:
    return Support("no", alternative)


class Feature(NamedTuple):
    name: str
    section: str
    #: how the user asks for it, as written in the docs and in error messages
    operation: str
    postgres: Support
    mysql: Support
    mariadb: Support
    sqlite: Support
    #: the operation is a description, not code (the docs do not set it in backticks); see
    #: :attr:`in_prose`, which also recognises one from its spelling
    prose: bool = False

    @property
    def in_prose(self) -> bool:
        # "sequences (create_sequence(name), ...)": a description with the calls in parentheses
        return self.prose or re.match(r"^[A-Za-z][A-Za-z ]* \(", self.operation) is not None

    def on(self, engine: EngineKey) -> Support:
        found: Support = getattr(self, engine)
        return found


def _same(s: Support) -> tuple[Support, Support]:
    return s, s


# ------------------------------------------------------------------------------------------ table

_NO_SEQUENCES = "use an auto-numbered column (the portable type 'serial')"
_MAT_VIEW = "materialized views exist only on PostgreSQL: create a table with create_table(name).as_(select) and refill it"
_SQLITE_REBUILD = "SQLite's table rebuild (create, copy, drop, rename)"
_MYSQL_MODIFY = "MODIFY COLUMN with the column's current definition, read from information_schema"
_NO_ALGORITHM_PG = "PostgreSQL has no ALGORITHM clause; nothing is emitted (for indexes use concurrently())"
_NO_ONLINE_SQLITE = "SQLite has no online DDL; nothing is emitted"
_GENERATED_NULL_MARIADB = "MariaDB's generated columns always allow NULL (they take no NOT NULL)"
_INPLACE_INSTEAD = "use algorithm(\"inplace\") with lock(\"none\")"
_NO_INSERT_RETURNING = "insert, then read the rows back with select_from(...) in the same transaction"
_NO_CHANGE_RETURNING = "select the rows with select_from(...).for_update() in the same transaction, then {verb} them"
_USE_ON_DUPLICATE_KEY = "use on_duplicate_key_update({...}) (ON DUPLICATE KEY UPDATE), or ignore_conflicts() to skip the row"
_USE_ON_CONFLICT = "use on_conflict(lambda oc: oc.column(...).do_update_set({...})) (ON CONFLICT ... DO UPDATE)"

FEATURES_LIST: tuple[Feature, ...] = (
    # ---------------------------------------------------------------- tables
    Feature(
        "temporary_table", "Tables", "create_table(name).temporary()",
        yes(), *_same(yes()), yes(),
    ),
    Feature(
        "temporary_table_in_schema", "Tables", "create_table(\"app.t\").temporary()",
        no("temporary tables live in the session's temporary schema: create it without a schema"),
        *_same(yes()),
        no("temporary tables live in the temp database: create it without a schema"),
    ),
    Feature(
        "create_table_if_not_exists", "Tables", "create_table(name).if_not_exists()",
        yes(), *_same(yes()), yes(),
    ),
    Feature(
        "create_table_as", "Tables", "create_table(name).as_(select)",
        yes(), *_same(yes()), yes(),
    ),
    Feature(
        "on_commit", "Tables", "create_table(name).temporary().on_commit(action)",
        yes(),
        *_same(no("drop the temporary table yourself; it disappears when the connection closes")),
        no("drop the temporary table yourself; it disappears when the connection closes"),
    ),
    Feature(
        "table_comment", "Tables", "table comments (create_table(name).comment(text), alter_table(name).comment(text))",
        yes("COMMENT ON TABLE"), *_same(yes("COMMENT = '...'")),
        ignored("SQLite stores no comments; nothing is emitted"),
    ),
    Feature(
        "drop_table_cascade", "Tables", "drop_table(name).cascade()",
        yes(),
        *_same(no("drop the foreign keys or tables that reference it first (MySQL parses CASCADE and ignores it)")),
        no("drop the tables that reference it first"),
    ),
    Feature(
        "rename_table", "Tables", "alter_table(name).rename_to(new_name)",
        yes(), *_same(yes("the table stays in its database")), yes(),
    ),
    Feature(
        "set_schema", "Tables", "alter_table(name).set_schema(schema)",
        yes(), *_same(emulated("RENAME TO other_database.table")),
        no("create the table in the attached database with create_table(...).as_(select) and drop the old one"),
    ),
    Feature(
        "rename_constraint", "Tables", "alter_table(name).rename_constraint(old, new)",
        yes(),
        *_same(no("drop_constraint(old) and add the constraint again under the new name")),
        no("drop_constraint(old) and add the constraint again under the new name"),
    ),
    Feature(
        "modify_column", "Tables", "alter_table(name).modify_column(column, type, build)",
        no("use alter_column(column, lambda col: col.set_data_type(...)) and its other changes"),
        *_same(yes()),
        no("use alter_column(column, lambda col: col.set_data_type(...)) and its other changes"),
    ),
    Feature(
        "alter_column", "Tables",
        "alter_table(name).alter_column(column, lambda col: ...): set_data_type, set_default, drop_default, set_not_null, drop_not_null",
        yes(), *_same(emulated(_MYSQL_MODIFY)), emulated(_SQLITE_REBUILD),
    ),
    Feature(
        "set_data_type_using", "Tables",
        "alter_table(name).alter_column(column, lambda col: col.set_data_type(type, using=sql(...)))",
        yes(),
        *_same(no("MySQL converts the values itself and has no USING: drop using=, or fill a new column "
                  "with an UPDATE, then drop the old one and rename the new")),
        emulated("the rebuild copies each row's value through the expression"),
    ),
    Feature(
        "add_constraint", "Tables", "alter_table(name).add_primary_key_constraint / add_unique_constraint / add_check_constraint / add_foreign_key_constraint(...)",
        yes(), *_same(yes()), emulated(_SQLITE_REBUILD),
    ),
    Feature(
        "add_column_if_not_exists", "Tables", "alter_table(name).add_column(column, type, lambda col: col.if_not_exists())",
        yes(), no("check information_schema.COLUMNS first"), yes(),
        no("check PRAGMA table_info first"),
    ),
    Feature(
        "drop_column_if_exists", "Tables", "alter_table(name).drop_column(column, if_exists=True)",
        yes(), no("check information_schema.COLUMNS first"), yes(),
        no("check PRAGMA table_info first"),
    ),
    Feature(
        "drop_constraint_cascade", "Tables", "alter_table(name).drop_constraint(constraint, cascade=True)",
        yes(), *_same(no("drop the objects that depend on the constraint first")),
        no("drop the objects that depend on the constraint first"),
    ),
    Feature(
        "not_valid", "Tables", "add_check_constraint / add_foreign_key_constraint(..., not_valid=True), validate_constraint(name)",
        yes(), *_same(no("add the constraint directly: MySQL validates constraints when they are added")),
        no("add the constraint directly: SQLite checks constraints when they are added"),
    ),
    Feature(
        "constraint_using_index", "Tables",
        "add_primary_key_constraint / add_unique_constraint(name, using_index=index)",
        yes(), *_same(no("add the constraint with its columns: add_primary_key_constraint(name, columns)")),
        no("add the constraint with its columns (SQLite rebuilds the table for it)"),
    ),
    # ---------------------------------------------------------------- columns
    Feature(
        "generated_stored", "Columns", "col.generated_always_as(sql(...)).stored()",
        yes(), *_same(yes()), yes(since=(3, 31), before="compute the value in the application or a trigger"),
    ),
    Feature(
        "generated_virtual", "Columns", "col.generated_always_as(sql(...)) (virtual)",
        yes(since=(18,), before="add .stored(): PostgreSQL before 18 has only stored generated columns"),
        *_same(yes()),
        yes(since=(3, 31), before="compute the value in the application or a trigger"),
    ),
    Feature(
        "generated_not_null", "Columns",
        "NOT NULL on a generated column (col.not_null(), alter_column(column, lambda col: col.set_not_null()))",
        yes(), yes(), no(_GENERATED_NULL_MARIADB + ": add a check instead, add_check_constraint(name, sql(\"col IS NOT NULL\"))"),
        yes(),
    ),
    Feature(
        "generated_drop_not_null", "Columns",
        "NULL allowed again on a generated column (alter_column(column, lambda col: col.drop_not_null()))",
        yes(), yes(), ignored(_GENERATED_NULL_MARIADB + "; nothing is emitted"),
        yes(),
    ),
    Feature(
        "identity", "Columns", "identity columns (col.generated_always_as_identity(), col.generated_by_default_as_identity())",
        yes(),
        *_same(no("use auto_increment() or the portable type 'serial'")),
        no("use the portable type 'serial' with primary_key()"),
    ),
    Feature(
        "auto_increment", "Columns", "col.auto_increment()",
        emulated("GENERATED BY DEFAULT AS IDENTITY"), *_same(yes()),
        yes("only on the INTEGER PRIMARY KEY column"),
    ),
    Feature(
        "auto_increment_without_key", "Columns", "an auto-numbered column ('serial', auto_increment()) that is not a key",
        yes(),
        *_same(no("make the column the primary key or unique(): MySQL numbers only a key column")),
        no("declare the column with primary_key(), or use 'integer': SQLite numbers only the INTEGER PRIMARY KEY"),
        prose=True,
    ),
    Feature(
        "unsigned", "Columns", "col.unsigned()",
        no("use a check such as col.check(sql('col >= 0'))"), *_same(yes()),
        no("use a check such as col.check(sql('col >= 0'))"),
    ),
    Feature(
        "collate", "Columns", "col.collate(name)",
        yes("e.g. \"C\", \"und-x-icu\""), *_same(yes("e.g. utf8mb4_bin")), yes("BINARY, NOCASE, RTRIM"),
    ),
    Feature(
        "column_comment", "Columns", "col.comment(text)",
        yes("COMMENT ON COLUMN"), *_same(yes("inline COMMENT")),
        ignored("SQLite stores no comments; nothing is emitted"),
    ),
    Feature(
        "check", "Columns", "CHECK constraints (col.check(sql(...)), add_check_constraint(name, sql(...)))",
        yes(),
        yes(since=(8, 0, 16), before="MySQL before 8.0.16 parses CHECK and ignores it: use a trigger"),
        yes(since=(10, 2, 1), before="use a trigger"),
        yes(),
    ),
    Feature(
        "nulls_not_distinct", "Columns",
        "NULLS NOT DISTINCT (unique().nulls_not_distinct(), add_unique_constraint(..., nulls_not_distinct=True), create_index(...).nulls_not_distinct())",
        yes(since=(15,), before="use a unique index on an expression such as sql(\"coalesce(col, '')\")"),
        no("use a unique index on an expression such as sql(\"(coalesce(col, ''))\")"),
        no("put a unique index on a generated column such as coalesce(col, '')"),
        no("use a unique index on an expression such as sql(\"coalesce(col, '')\")"),
    ),
    Feature(
        "deferrable", "Columns", "add_foreign_key_constraint(..., build=lambda fk: fk.deferrable() / initially_deferred())",
        yes(),
        *_same(no("MySQL checks foreign keys at once: write the referenced rows first")),
        yes(),
    ),
    Feature(
        "fk_set_default", "Columns", "on_delete(\"set default\"), on_update(\"set default\")",
        yes(),
        no("InnoDB rejects SET DEFAULT: use \"set null\" or a trigger"),
        no("MariaDB silently turns SET DEFAULT into RESTRICT: use \"set null\" or a trigger"),
        yes(),
    ),
    Feature(
        "inline_references", "Columns", "col.references(\"table.column\")",
        yes(), *_same(emulated("a table-level FOREIGN KEY named <table>_<column>_fkey (InnoDB ignores inline REFERENCES)")),
        yes(),
    ),
    # ---------------------------------------------------------------- indexes
    Feature(
        "expression_index", "Indexes", "create_index(name).column(sql(\"lower(email)\"))",
        yes(),
        yes(since=(8, 0, 13), before="index a generated column that holds the expression"),
        no("index a generated column that holds the expression"),
        yes(),
    ),
    Feature(
        "descending_index", "Indexes", "create_index(name).column(\"col desc\")",
        yes(), *_same(yes()), yes(),
    ),
    Feature(
        "partial_index", "Indexes", "create_index(name).where(sql(...))",
        yes(),
        *_same(no("index a generated column that is NULL outside the predicate, or index the whole column")),
        yes(),
    ),
    Feature(
        "index_using", "Indexes", "create_index(name).using(method)",
        yes("btree, hash, gin, gist, brin, ..."),
        *_same(yes(values=("btree", "hash"))),
        no("SQLite has only B-tree indexes: drop .using()"),
    ),
    Feature(
        "index_include", "Indexes", "create_index(name).include([...])",
        yes(since=(11,), before="add the columns to the index key instead"),
        *_same(no("add the columns to the index key instead")),
        no("add the columns to the index key instead"),
    ),
    Feature(
        "create_index_if_not_exists", "Indexes", "create_index(name).if_not_exists()",
        yes(), no("check information_schema.STATISTICS first"), yes(), yes(),
    ),
    Feature(
        "create_index_concurrently", "Indexes", "create_index(name).concurrently()",
        yes("CREATE INDEX CONCURRENTLY, outside a transaction"),
        *_same(emulated("a plain CREATE INDEX, which InnoDB builds online")),
        ignored("SQLite has no online index build; the normal build runs"),
    ),
    Feature(
        "drop_index_if_exists", "Indexes", "drop_index(name).if_exists()",
        yes(), no("check information_schema.STATISTICS first"), yes(), yes(),
    ),
    Feature(
        "drop_index_cascade", "Indexes", "drop_index(name).cascade()",
        yes(), *_same(no("drop the objects that depend on the index first")),
        no("drop the objects that depend on the index first"),
    ),
    Feature(
        "drop_index_concurrently", "Indexes", "drop_index(name).concurrently()",
        yes("DROP INDEX CONCURRENTLY, outside a transaction"),
        *_same(ignored("a plain DROP INDEX")),
        ignored("a plain DROP INDEX"),
    ),
    Feature(
        "drop_index_without_table", "Indexes", "drop_index(name) without .on(table)",
        yes(), *_same(emulated("the index's table is looked up in information_schema")), yes(),
    ),
    # ---------------------------------------------------------------- online DDL (MySQL's ALGORITHM / LOCK)
    Feature(
        "ddl_algorithm", "Online DDL",
        "ALGORITHM clause (alter_table(name).algorithm(value), create_index(name).algorithm(value), drop_index(name).algorithm(value))",
        ignored(_NO_ALGORITHM_PG),
        *_same(yes("the server refuses a change it cannot do with that algorithm instead of falling back")),
        ignored(_NO_ONLINE_SQLITE),
    ),
    Feature(
        "ddl_algorithm_instant", "Online DDL", "alter_table(name).algorithm(\"instant\")",
        ignored(_NO_ALGORITHM_PG),
        yes("add column (at any position from 8.0.29), drop column (8.0.29+), rename column (8.0.28+), "
            "set or drop a default, rename table", since=(8, 0, 12), before=_INPLACE_INSTEAD),
        yes("add column (at any position from 10.4), drop column (10.4+), rename column, set or drop a default, "
            "rename table, comments, drop a foreign key or check", since=(10, 3, 2), before=_INPLACE_INSTEAD),
        ignored(_NO_ONLINE_SQLITE),
    ),
    Feature(
        "ddl_algorithm_nocopy", "Online DDL", "algorithm(\"nocopy\")",
        ignored(_NO_ALGORITHM_PG),
        no("MySQL has no NOCOPY: use algorithm(\"instant\"), or algorithm(\"inplace\") with lock(\"none\") "
           "(INPLACE may rebuild the table, but writes continue)"),
        yes(since=(10, 3, 2), before=_INPLACE_INSTEAD),
        ignored(_NO_ONLINE_SQLITE),
    ),
    Feature(
        "index_algorithm_instant", "Online DDL", "create_index(name).algorithm(\"instant\"), drop_index(name).algorithm(\"instant\")",
        ignored(_NO_ALGORITHM_PG),
        no("use algorithm(\"inplace\"): InnoDB builds and drops indexes in place (writes continue), never instantly, "
           "and MySQL's CREATE/DROP INDEX take no INSTANT"),
        no("use algorithm(\"nocopy\") or algorithm(\"inplace\"): InnoDB builds and drops indexes in place "
           "(writes continue), never instantly"),
        ignored(_NO_ONLINE_SQLITE),
    ),
    Feature(
        "ddl_lock", "Online DDL",
        "LOCK clause (alter_table(name).lock(value), create_index(name).lock(value), drop_index(name).lock(value))",
        ignored("PostgreSQL has no LOCK clause; nothing is emitted"),
        *_same(yes("lock(\"none\"): the server refuses a change that would block reads or writes")),
        ignored(_NO_ONLINE_SQLITE),
    ),
    Feature(
        "instant_with_lock", "Online DDL", "alter_table(name).algorithm(\"instant\").lock(value)",
        ignored(_NO_ALGORITHM_PG),
        no("drop .lock(...): MySQL takes only LOCK=DEFAULT with ALGORITHM=INSTANT, which blocks nothing anyway"),
        yes(),
        ignored(_NO_ONLINE_SQLITE),
    ),
    Feature(
        "drop_index_online_clauses", "Online DDL", "drop_index(name).on(table).algorithm(value).lock(value)",
        ignored(_NO_ALGORITHM_PG),
        yes("DROP INDEX ... ALGORITHM=... LOCK=..."),
        emulated("ALTER TABLE table DROP INDEX name, ALGORITHM=..., LOCK=... (MariaDB's DROP INDEX takes neither clause)"),
        ignored(_NO_ONLINE_SQLITE),
    ),
    # ---------------------------------------------------------------- views
    Feature(
        "create_view", "Views", "create_view(name).as_(select).columns([...])",
        yes(), *_same(yes()), yes(),
    ),
    Feature(
        "view_or_replace", "Views", "create_view(name).or_replace()",
        yes(), *_same(yes()),
        emulated("DROP VIEW IF EXISTS, then CREATE VIEW, in one transaction"),
    ),
    Feature(
        "view_if_not_exists", "Views", "create_view(name).if_not_exists()",
        no("use or_replace()"), no("use or_replace()"), yes(), yes(),
    ),
    Feature(
        "temporary_view", "Views", "create_view(name).temporary()",
        yes(), *_same(no("create a regular view and drop it when done")), yes(),
    ),
    Feature(
        "materialized_view", "Views",
        "materialized views (create_view(name).materialized(), drop_view(name).materialized(), refresh_materialized_view(name))",
        yes(), *_same(no(_MAT_VIEW)), no(_MAT_VIEW),
    ),
    Feature(
        "refresh_concurrently", "Views", "refresh_materialized_view(name).concurrently()",
        yes("needs a unique index on the view; runs inside a transaction too"),
        *_same(no(_MAT_VIEW)), no(_MAT_VIEW),
    ),
    Feature(
        "drop_view_cascade", "Views", "drop_view(name).cascade()",
        yes(),
        *_same(no("drop the views that use it first (MySQL parses CASCADE and ignores it)")),
        no("drop the views that use it first"),
    ),
    # ---------------------------------------------------------------- schemas
    Feature(
        "create_schema", "Schemas", "schemas (create_schema(name), drop_schema(name))",
        yes(), *_same(yes("a schema is a database: CREATE DATABASE / DROP DATABASE")),
        no("attach a database file instead: sql(\"ATTACH DATABASE 'tenant_1.db' AS tenant_1\")"),
    ),
    Feature(
        "drop_schema_cascade", "Schemas", "drop_schema(name).cascade()",
        yes(),
        *_same(yes("DROP DATABASE always drops what it holds; without cascade() kysera refuses a database that holds tables")),
        no("detach the database instead: sql(\"DETACH DATABASE tenant_1\")"),
    ),
    Feature(
        "with_schema", "Schemas", "db.with_schema(name)",
        yes(), *_same(yes("the schema is a database")),
        yes("an attached database; foreign key targets and index tables stay unqualified, as SQLite requires"),
    ),
    # ---------------------------------------------------------------- types
    Feature(
        "enum_column", "Types", "add_column(name, enum_type(type_name, [...]))",
        yes("the named type made by create_type"), *_same(yes("enum('a', 'b')")),
        emulated("text CHECK (col IN ('a', 'b'))"),
    ),
    Feature(
        "create_type", "Types", "create_type(name).as_enum([...]), drop_type(name)",
        yes(),
        *_same(ignored("no statement: the values live in each enum_type column")),
        ignored("no statement: the values live in each enum_type column"),
    ),
    Feature(
        "create_type_if_not_exists", "Types", "create_type(name).as_enum([...]).if_not_exists()",
        emulated("a DO block that ignores duplicate_object (PostgreSQL has no CREATE TYPE IF NOT EXISTS)"),
        *_same(ignored("no statement: the values live in each enum_type column")),
        ignored("no statement: the values live in each enum_type column"),
    ),
    Feature(
        "alter_type_add_value", "Types", "alter_type(name).add_value(value, before=..., after=...)",
        yes("the new value can be used once the transaction commits"),
        *_same(no("modify_column(column, enum_type(name, [...the new list])) on each column that uses it")),
        no("alter_column(column, lambda col: col.set_data_type(enum_type(name, [...the new list]))), a table rebuild"),
    ),
    Feature(
        "alter_type_rename_value", "Types", "alter_type(name).rename_value(old, new)",
        yes(),
        *_same(no("add the new value with modify_column, update the rows, then remove the old value")),
        no("alter_column(...).set_data_type(enum_type(...)) with the new list after updating the rows"),
    ),
    Feature(
        "alter_type_rename", "Types", "alter_type(name).rename_to(new_name)",
        yes(),
        *_same(ignored("no statement: the type's name is not stored")),
        ignored("no statement: the type's name is not stored"),
    ),
    # ---------------------------------------------------------------- sequences
    Feature(
        "sequence", "Sequences", "sequences (create_sequence(name), alter_sequence(name), drop_sequence(name))",
        yes(), no(_NO_SEQUENCES), yes(since=(10, 3), before=_NO_SEQUENCES), no(_NO_SEQUENCES),
    ),
    Feature(
        "sequence_owned_by", "Sequences", "create_sequence(name).owned_by(\"table.column\")",
        yes(), no(_NO_SEQUENCES), no("drop the sequence together with its table"), no(_NO_SEQUENCES),
    ),
    Feature(
        "drop_sequence_cascade", "Sequences", "drop_sequence(name).cascade()",
        yes(), no(_NO_SEQUENCES), no("drop the defaults that use the sequence first"), no(_NO_SEQUENCES),
    ),
    # ---------------------------------------------------------------- data statements
    Feature(
        "insert_returning", "Data statements", "insert_into(table).values(...).returning(columns)",
        yes(), no(_NO_INSERT_RETURNING), yes(since=(10, 5), before=_NO_INSERT_RETURNING),
        yes(since=(3, 35), before=_NO_INSERT_RETURNING),
    ),
    Feature(
        "returning_with_ignore_conflicts", "Data statements", "insert_into(table).values(...).ignore_conflicts().returning(columns)",
        yes("the rows inserted, not the ones skipped"), no(_NO_INSERT_RETURNING),
        no("its ON DUPLICATE KEY UPDATE ... RETURNING gives back the rows it skipped too: select the new rows after the insert"),
        yes("the rows inserted, not the ones skipped", since=(3, 35), before=_NO_INSERT_RETURNING),
    ),
    Feature(
        "update_returning", "Data statements", "update_table(table).set(...).returning(columns)",
        yes(), *_same(no(_NO_CHANGE_RETURNING.format(verb="update"))),
        yes(since=(3, 35), before=_NO_CHANGE_RETURNING.format(verb="update")),
    ),
    Feature(
        "delete_returning", "Data statements", "delete_from(table).returning(columns)",
        yes(), no(_NO_CHANGE_RETURNING.format(verb="delete")),
        yes(since=(10, 0, 5), before=_NO_CHANGE_RETURNING.format(verb="delete")),
        yes(since=(3, 35), before=_NO_CHANGE_RETURNING.format(verb="delete")),
    ),
    Feature(
        "on_conflict", "Data statements", "insert_into(table).values(...).on_conflict(lambda oc: ...)",
        yes(), *_same(no(_USE_ON_DUPLICATE_KEY)),
        yes(since=(3, 24), before="use ignore_conflicts(), or update the rows that exist and insert the others"),
    ),
    Feature(
        "on_conflict_constraint", "Data statements", "on_conflict(lambda oc: oc.constraint(name))",
        yes(), *_same(no(_USE_ON_DUPLICATE_KEY)), no("name the constraint's columns: oc.columns(...)"),
    ),
    Feature(
        "on_duplicate_key_update", "Data statements", "insert_into(table).values(...).on_duplicate_key_update({...})",
        no(_USE_ON_CONFLICT), yes("excluded(column) is the new row's alias on 8.0.19+ (VALUES(column) before, offline and in INSERT ... SELECT)"),
        yes("excluded(column) is written VALUES(column)"), no(_USE_ON_CONFLICT),
    ),
)

FEATURES: dict[str, Feature] = {f.name: f for f in FEATURES_LIST}


# ------------------------------------------------------------------------------------------ lookups


def engine_of(dialect: Dialect) -> EngineKey:
    """The support-table column of a connected (or offline) dialect."""
    if dialect.name == "postgres":
        return "postgres"
    if dialect.name == "sqlite":
        return "sqlite"
    return "mariadb" if "mariadb" in dialect.version_text.lower() else "mysql"


def _version_text(version: tuple[int, ...]) -> str:
    return ".".join(str(p) for p in version)


def too_old(version: tuple[int, ...], since: tuple[int, ...]) -> bool:
    """True when ``version`` is older than ``since``, compared on the parts both give: an
    offline dialect's ``(8, 0)`` stands for any 8.0 release. An unknown version is not too old."""
    n = min(len(version), len(since))
    return n > 0 and tuple(version[:n]) < tuple(since[:n])


def effective(feature: str, engine: EngineKey, version: tuple[int, ...] = ()) -> Support:
    """The row's cell for ``engine``, with a version too old for it turned into ``no``."""
    support = FEATURES[feature].on(engine)
    if support.since and too_old(version, support.since):
        return no(support.before)
    return support


def supports(feature: str, engine: EngineKey, version: tuple[int, ...] = ()) -> bool:
    return effective(feature, engine, version).allowed


def dialect_supports(dialect: Dialect, feature: str) -> bool:
    """:func:`supports` for a connected (or offline) dialect: its engine and server version."""
    return supports(feature, engine_of(dialect), dialect.server_version)


def require(
    feature: str,
    engine: EngineKey,
    version: tuple[int, ...] = (),
    *,
    display: str | None = None,
    value: str | None = None,
) -> Support:
    """The support for ``feature`` on ``engine``; raises UnsupportedError when it has none.

    ``display`` names the engine in the message (``"MariaDB"``); ``value`` is checked against the
    cell's allowed values (an index method, say).
    """
    row = FEATURES[feature]
    support = effective(feature, engine, version)
    name = display or ENGINE_NAMES[engine]
    if not support.allowed:
        base = row.on(engine)
        if base.allowed and base.since:  # the engine has it, this server is too old
            name = f"{name} {_version_text(version)} (it needs {_version_text(base.since)} or newer)"
        alternative = support.text or None
        if engine == "mysql" and not version and row.on("mariadb").allowed:
            # offline (no server to ask): a script for MariaDB written as MySQL's (--dialect mysql)
            also = "MariaDB has it (for a MariaDB script: --dialect mariadb)"
            alternative = f"{alternative}; {also}" if alternative else also
        raise UnsupportedError(row.operation, name, alternative)
    if value is not None and support.values and value.lower() not in support.values:
        raise UnsupportedError(
            f"{row.operation} with {value!r}", name, "use one of: " + ", ".join(support.values)
        )
    return support


# ------------------------------------------------------------------------------------------ docs


def _cell(s: Support) -> str:
    if s.level == "yes":
        out = "yes" if not s.since else f"{_version_text(s.since)}+"
        if s.values:
            out += ": " + ", ".join(s.values) + " only"
        elif s.text:
            out += ": " + s.text
    elif s.level == "no":
        out = "no: " + s.text
    else:
        out = f"{s.level}: {s.text}"
        if s.since:
            out = f"{_version_text(s.since)}+, {out}"
    return out.replace("|", "\\|")


def render_markdown() -> str:
    """The support table of docs/schema-builder.md, generated from :data:`FEATURES`."""
    lines: list[str] = []
    section = None
    for f in FEATURES_LIST:
        if f.section != section:
            if section is not None:
                lines.append("")
            section = f.section
            lines.append(f"**{section}**")
            lines.append("")
            lines.append("| operation | " + " | ".join(ENGINE_NAMES[e] for e in ENGINES) + " |")
            lines.append("|---" * (len(ENGINES) + 1) + "|")
        op = f.operation.replace("|", "\\|")
        lines.append(f"| {op if f.in_prose else f'`{op}`'} | " + " | ".join(_cell(f.on(e)) for e in ENGINES) + " |")
    return "\n".join(lines) + "\n"


DOCS_START = "<!-- support-table:start (generated by `python -m kysera.dialects.support`; do not edit) -->"
DOCS_END = "<!-- support-table:end -->"


def docs_section(text: str) -> str:
    """The generated part of a docs file (between the markers), or '' when it has none."""
    start = text.find(DOCS_START)
    end = text.find(DOCS_END)
    if start < 0 or end < start:
        return ""
    return text[start + len(DOCS_START) : end].strip("\n") + "\n"


def update_docs(text: str) -> str:
    """``text`` with its generated part replaced by the current table."""
    start = text.find(DOCS_START)
    end = text.find(DOCS_END)
    if start < 0 or end < start:
        raise ValueError("the docs have no support-table markers")
    return text[: start + len(DOCS_START)] + "\n" + render_markdown() + text[end:]


if __name__ == "__main__":  # pragma: no cover
    import sys

    if len(sys.argv) > 2 and sys.argv[1] == "--write":
        from pathlib import Path

        path = Path(sys.argv[2])
        path.write_text(update_docs(path.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        sys.stdout.write(render_markdown())
