"""The support table (kysera/dialects/support.py) is true, complete, and is what the docs show.

Every feature of the table has a probe here: a builder that uses the feature. On each engine the
probe must compile to an UnsupportedError that names the operation, the engine and the
alternative exactly when the table says "no", and must execute on the real server when it says
anything else. MySQL 8 (no server in the test setup) is checked offline; MariaDB, PostgreSQL and
SQLite are checked offline and live.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from kysera import Database, excluded, sql
from kysera.dialects import offline_dialect
from kysera.dialects.support import (
    ENGINES,
    FEATURES,
    FEATURES_LIST,
    EngineKey,
    docs_section,
    effective,
    engine_of,
    render_markdown,
    require,
    too_old,
)
from kysera.errors import KyseraError, UnsupportedError
from kysera.schema import enum_type
from kysera.schema.executable import Executable
from kysera.url import parse_url

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = f"kysera_probe_{os.getpid()}"
MOOD = enum_type("mood", ["happy", "sad"])


# ------------------------------------------------------------------------------ offline databases


class NeedsCatalog(Exception):
    """An offline compile wanted to read the catalog (MySQL's MODIFY COLUMN, SQLite's rebuild)."""


class _NoConnection:
    """A connection for compiling without a server: running anything is an error."""

    def run(self, sql: str, params: Sequence[object] | None) -> tuple[list[dict[str, object]], int]:
        raise NeedsCatalog(f"an offline compile tried to run: {sql}")

    def close(self) -> None:
        pass

    def server_version(self) -> tuple[int, ...]:
        return ()

    def server_version_text(self) -> str:
        return ""

    def is_connection_error(self, error: BaseException) -> bool:
        return False


def offline(engine: EngineKey, version: tuple[int, ...] | None = None) -> Database:
    """A Database that compiles for ``engine`` (MySQL 8.0, MariaDB 10.11, PostgreSQL 15) and runs nothing."""
    dialect = offline_dialect(engine)
    if version is not None:
        dialect.server_version = version
    return Database(_NoConnection(), dialect, parse_url("sqlite://"))


# ------------------------------------------------------------------------------ schemas for probes


def make_schema(db: Database) -> None:
    """A schema named SCHEMA: a PostgreSQL schema, a MariaDB database, an attached SQLite file."""
    drop_schema(db)
    if db.dialect.name == "sqlite":
        path = Path(tempfile.gettempdir()) / f"{SCHEMA}.db"
        path.unlink(missing_ok=True)
        db.execute(sql("ATTACH DATABASE {} AS {}", sql.lit(str(path)), sql.id(SCHEMA)))
    else:
        db.schema.create_schema(SCHEMA).execute()


def drop_schema(db: Database) -> None:
    if db.dialect.name == "sqlite":
        attached = {str(r["name"]) for r in db.fetch("PRAGMA database_list")}
        if SCHEMA in attached:
            db.execute(sql("DETACH DATABASE {}", sql.id(SCHEMA)))
    else:
        db.schema.drop_schema(SCHEMA).if_exists().cascade().execute()


# ------------------------------------------------------------------------------ probes


Setup = Callable[[Database], None]
Build = Callable[[Database], Executable]  # type: ignore[type-arg]


@dataclass
class Probe:
    build: Build
    setup: Setup | None = None


def table_t(db: Database) -> None:
    (
        db.schema.create_table("t")
        .add_column("id", "integer", lambda col: col.primary_key())
        .add_column("a", "integer")
        .add_column("b", "varchar(20)")
        .add_unique_constraint("t_b_key", ["b"])
        .execute()
    )


def table_g(db: Database) -> None:
    """A table with a stored generated column (NOT NULL where the engine has that)."""
    not_null = effective("generated_not_null", engine_of(db.dialect), db.dialect.server_version).allowed
    (
        db.schema.create_table("g")
        .add_column("a", "integer")
        .add_column("b", "integer", lambda col: col.generated_always_as(sql("a * 2")).stored().not_null() if not_null
                    else col.generated_always_as(sql("a * 2")).stored())
        .execute()
    )


def t_with_check(db: Database) -> None:
    table_t(db)
    db.schema.alter_table("t").add_check_constraint("ck_a", sql("a > 0")).execute()


def t_with_index(db: Database) -> None:
    table_t(db)
    db.schema.create_index("ix_a").on("t").column("a").execute()


def t_with_view(db: Database) -> None:
    table_t(db)
    db.schema.create_view("v").as_(db.select_from("t").select(["a"])).execute()


def t_with_matview(db: Database) -> None:
    table_t(db)
    db.schema.create_view("mv").materialized().as_(db.select_from("t").select(["id", "a"])).execute()
    db.schema.create_index("mv_id").on("mv").column("id").unique().execute()


def t_and_schema(db: Database) -> None:
    table_t(db)
    make_schema(db)


def with_type(db: Database) -> None:
    db.schema.create_type(MOOD).execute()


def with_sequence(db: Database) -> None:
    table_t(db)
    if effective("sequence", engine_of(db.dialect), db.dialect.server_version).allowed:
        db.schema.create_sequence("seq").execute()


def schema_with_table(db: Database) -> None:
    make_schema(db)
    db.schema.create_table(f"{SCHEMA}.inside").add_column("a", "integer").execute()


def collation(db: Database) -> str:
    return {"postgres": "C", "mysql": "utf8mb4_bin", "sqlite": "NOCASE"}[db.dialect.name]


def select_a(db: Database) -> object:
    return db.select_from("t").select(["a"]).where("b", "=", "it's")


PROBES: dict[str, Probe] = {
    # tables
    "temporary_table": Probe(lambda db: db.schema.create_table("tmp").temporary().add_column("a", "integer")),
    "temporary_table_in_schema": Probe(
        lambda db: db.schema.create_table(f"{SCHEMA}.tmp").temporary().add_column("a", "integer"),
        make_schema,
    ),
    "create_table_if_not_exists": Probe(
        lambda db: db.schema.create_table("t").if_not_exists().add_column("a", "integer"), table_t
    ),
    "create_table_as": Probe(lambda db: db.schema.create_table("copy").as_(select_a(db)), table_t),
    "on_commit": Probe(
        lambda db: db.schema.create_table("tmp").temporary().on_commit("drop").add_column("a", "integer")
    ),
    "table_comment": Probe(lambda db: db.schema.create_table("c").add_column("a", "integer").comment("hello")),
    "drop_table_cascade": Probe(lambda db: db.schema.drop_table("t").cascade(), t_with_view),
    "rename_table": Probe(lambda db: db.schema.alter_table("t").rename_to("t2"), table_t),
    "set_schema": Probe(lambda db: db.schema.alter_table("t").set_schema(SCHEMA), t_and_schema),
    "rename_constraint": Probe(lambda db: db.schema.alter_table("t").rename_constraint("ck_a", "ck_a2"), t_with_check),
    "modify_column": Probe(
        lambda db: db.schema.alter_table("t").modify_column("a", "bigint", lambda col: col.not_null().default_to(0)),
        table_t,
    ),
    "alter_column": Probe(
        lambda db: db.schema.alter_table("t").alter_column("a", lambda col: col.set_default(3)),
        table_t,
    ),
    "set_data_type_using": Probe(
        lambda db: db.schema.alter_table("t").alter_column("a", lambda col: col.set_data_type("bigint", using=sql("a * 2"))),
        table_t,
    ),
    "add_constraint": Probe(
        lambda db: db.schema.alter_table("t").add_check_constraint("ck_b", sql("a < 100")), table_t
    ),
    "add_column_if_not_exists": Probe(
        lambda db: db.schema.alter_table("t").add_column("a", "integer", lambda col: col.if_not_exists()), table_t
    ),
    "drop_column_if_exists": Probe(
        lambda db: db.schema.alter_table("t").drop_column("nope", if_exists=True), table_t
    ),
    "drop_constraint_cascade": Probe(
        lambda db: db.schema.alter_table("t").drop_constraint("t_b_key", cascade=True), table_t
    ),
    "not_valid": Probe(
        lambda db: db.schema.alter_table("t").add_check_constraint("ck_nv", sql("a > 0"), not_valid=True), table_t
    ),
    "constraint_using_index": Probe(
        lambda db: db.schema.alter_table("t").add_unique_constraint("t_a_key", using_index="t_a_key"),
        lambda db: (table_t(db), db.schema.create_index("t_a_key").on("t").column("a").unique().execute()),
    ),
    # columns
    "generated_stored": Probe(
        lambda db: db.schema.create_table("g")
        .add_column("a", "integer")
        .add_column("b", "integer", lambda col: col.generated_always_as(sql("a * 2")).stored())
    ),
    "generated_virtual": Probe(
        lambda db: db.schema.create_table("g")
        .add_column("a", "integer")
        .add_column("b", "integer", lambda col: col.generated_always_as(sql("a * 2")))
    ),
    "generated_not_null": Probe(
        lambda db: db.schema.create_table("g")
        .add_column("a", "integer")
        .add_column("b", "integer", lambda col: col.generated_always_as(sql("a * 2")).stored().not_null())
    ),
    "generated_drop_not_null": Probe(
        lambda db: db.schema.alter_table("g").alter_column("b", lambda col: col.drop_not_null()), table_g
    ),
    "identity": Probe(
        lambda db: db.schema.create_table("i").add_column(
            "id", "integer", lambda col: col.generated_by_default_as_identity().primary_key()
        )
    ),
    "auto_increment": Probe(
        lambda db: db.schema.create_table("ai").add_column("id", "integer", lambda col: col.primary_key().auto_increment())
    ),
    "auto_increment_without_key": Probe(
        lambda db: db.schema.create_table("ak").add_column("id", "serial").add_column("x", "integer")
    ),
    "unsigned": Probe(lambda db: db.schema.create_table("u").add_column("a", "integer", lambda col: col.unsigned())),
    "collate": Probe(
        lambda db: db.schema.create_table("co").add_column("a", "varchar(10)", lambda col: col.collate(collation(db)))
    ),
    "column_comment": Probe(
        lambda db: db.schema.create_table("cc").add_column("a", "integer", lambda col: col.comment("x"))
    ),
    "check": Probe(
        lambda db: db.schema.create_table("ck").add_column("a", "integer", lambda col: col.check(sql("a > 0")))
    ),
    "nulls_not_distinct": Probe(
        lambda db: db.schema.create_table("n").add_column("a", "integer", lambda col: col.unique().nulls_not_distinct())
    ),
    "deferrable": Probe(
        lambda db: db.schema.create_table("child")
        .add_column("tid", "integer")
        .add_foreign_key_constraint("fk_child_t", ["tid"], "t", ["id"])
        .initially_deferred(),
        table_t,
    ),
    "fk_set_default": Probe(
        lambda db: db.schema.create_table("child").add_column(
            "tid", "integer", lambda col: col.default_to(1).references("t.id").on_delete("set default")
        ),
        table_t,
    ),
    "inline_references": Probe(
        lambda db: db.schema.create_table("child").add_column("tid", "integer", lambda col: col.references("t.id")),
        table_t,
    ),
    # indexes
    "expression_index": Probe(lambda db: db.schema.create_index("ix").on("t").column(sql("lower(b)")), table_t),
    "descending_index": Probe(lambda db: db.schema.create_index("ix").on("t").columns(["a desc", "b"]), table_t),
    "partial_index": Probe(lambda db: db.schema.create_index("ix").on("t").column("a").where(sql("a > {}", 0)), table_t),
    "index_using": Probe(lambda db: db.schema.create_index("ix").on("t").column("a").using("btree"), table_t),
    "index_include": Probe(lambda db: db.schema.create_index("ix").on("t").column("a").include(["b"]), table_t),
    "create_index_if_not_exists": Probe(
        lambda db: db.schema.create_index("ix_a").on("t").column("a").if_not_exists(), t_with_index
    ),
    "create_index_concurrently": Probe(
        lambda db: db.schema.create_index("ix").on("t").column("a").concurrently(), table_t
    ),
    "drop_index_if_exists": Probe(lambda db: db.schema.drop_index("nope").on("t").if_exists(), table_t),
    "drop_index_cascade": Probe(lambda db: db.schema.drop_index("ix_a").on("t").cascade(), t_with_index),
    "drop_index_concurrently": Probe(lambda db: db.schema.drop_index("ix_a").on("t").concurrently(), t_with_index),
    "drop_index_without_table": Probe(lambda db: db.schema.drop_index("ix_a"), t_with_index),
    # online DDL (MySQL's ALGORITHM / LOCK clauses)
    "ddl_algorithm": Probe(lambda db: db.schema.create_index("ix").on("t").column("a").algorithm("inplace"), table_t),
    "ddl_algorithm_instant": Probe(
        lambda db: db.schema.alter_table("t").add_column("c", "integer").algorithm("instant"), table_t
    ),
    "ddl_algorithm_nocopy": Probe(
        lambda db: db.schema.alter_table("t").add_column("c", "integer").algorithm("nocopy"), table_t
    ),
    "index_algorithm_instant": Probe(
        lambda db: db.schema.create_index("ix").on("t").column("a").algorithm("instant"), table_t
    ),
    "ddl_lock": Probe(lambda db: db.schema.create_index("ix").on("t").column("a").lock("none"), table_t),
    "instant_with_lock": Probe(
        lambda db: db.schema.alter_table("t").add_column("c", "integer").algorithm("instant").lock("none"), table_t
    ),
    "drop_index_online_clauses": Probe(
        lambda db: db.schema.drop_index("ix_a").on("t").algorithm("inplace").lock("none"), t_with_index
    ),
    # views
    "create_view": Probe(lambda db: db.schema.create_view("v").columns(["x"]).as_(select_a(db)), table_t),
    "view_or_replace": Probe(lambda db: db.schema.create_view("v").or_replace().as_(select_a(db)), t_with_view),
    "view_if_not_exists": Probe(lambda db: db.schema.create_view("v").if_not_exists().as_(select_a(db)), t_with_view),
    "temporary_view": Probe(lambda db: db.schema.create_view("tv").temporary().as_(select_a(db)), table_t),
    "materialized_view": Probe(lambda db: db.schema.create_view("mv").materialized().as_(select_a(db)), table_t),
    "refresh_concurrently": Probe(
        lambda db: db.schema.refresh_materialized_view("mv").concurrently(),
        lambda db: t_with_matview(db) if db.dialect.name == "postgres" else table_t(db),
    ),
    "drop_view_cascade": Probe(lambda db: db.schema.drop_view("v").cascade(), t_with_view),
    # schemas
    "create_schema": Probe(lambda db: db.schema.create_schema(SCHEMA).if_not_exists(), drop_schema),
    "drop_schema_cascade": Probe(
        lambda db: db.schema.drop_schema(SCHEMA).cascade(),
        lambda db: schema_with_table(db) if db.dialect.name != "sqlite" else None,
    ),
    "with_schema": Probe(
        lambda db: db.with_schema(SCHEMA)
        .schema.create_table("w")
        .add_column("id", "integer", lambda col: col.primary_key())
        .add_column("parent", "integer", lambda col: col.references("w.id")),
        make_schema,
    ),
    # types
    "enum_column": Probe(lambda db: db.schema.create_table("e").add_column("m", MOOD), with_type),
    "create_type": Probe(lambda db: db.schema.create_type(MOOD)),
    "create_type_if_not_exists": Probe(lambda db: db.schema.create_type(MOOD).if_not_exists(), with_type),
    "alter_type_add_value": Probe(lambda db: db.schema.alter_type("mood").add_value("meh", after="happy"), with_type),
    "alter_type_rename_value": Probe(lambda db: db.schema.alter_type("mood").rename_value("sad", "blue"), with_type),
    "alter_type_rename": Probe(lambda db: db.schema.alter_type("mood").rename_to("feeling"), with_type),
    # sequences
    "sequence": Probe(lambda db: db.schema.create_sequence("seq2").increment_by(2).start_with(10).cycle(False)),
    "sequence_owned_by": Probe(lambda db: db.schema.create_sequence("seq2").owned_by("t.id"), table_t),
    "drop_sequence_cascade": Probe(lambda db: db.schema.drop_sequence("seq").cascade(), with_sequence),
}


def _assert_refusal(exc: UnsupportedError, feature: str, engine: EngineKey, version: tuple[int, ...]) -> None:
    row = FEATURES[feature]
    cell = effective(feature, engine, version)
    assert exc.operation.startswith(row.operation), (exc.operation, row.operation)
    assert exc.engine.startswith({"mysql": "MySQL", "mariadb": "MariaDB"}.get(engine, exc.engine.split()[0]))
    # offline, MySQL's refusal of what MariaDB has says so (--dialect mariadb)
    mariadb_hint = "; MariaDB has it (for a MariaDB script: --dialect mariadb)"
    assert cell.text and exc.alternative in (cell.text, cell.text + mariadb_hint)
    if engine == "mysql" and not version and FEATURES[feature].on("mariadb").allowed:
        assert exc.alternative == cell.text + mariadb_hint
    message = str(exc)
    assert "is not supported on" in message and message.count("\n") == 0


# ------------------------------------------------------------------------------ the docs


def test_docs_show_the_generated_table() -> None:
    docs = (ROOT / "docs" / "schema-builder.md").read_text(encoding="utf-8")
    assert docs_section(docs) == render_markdown(), (
        "docs/schema-builder.md's support table differs from kysera/dialects/support.py; regenerate it with "
        "`python -m kysera.dialects.support --write docs/schema-builder.md`"
    )


def test_every_feature_has_a_probe_and_every_probe_a_feature() -> None:
    assert set(PROBES) == set(FEATURES)
    assert len(FEATURES) == len(FEATURES_LIST), "two features share a name"


def test_every_refusal_names_an_alternative() -> None:
    for feature in FEATURES_LIST:
        for engine in ENGINES:
            cell = feature.on(engine)
            if cell.level != "yes" or cell.since:
                assert cell.text or cell.before, (feature.name, engine)


def test_version_comparison() -> None:
    assert too_old((14, 9), (15,)) and not too_old((15, 0), (15,))
    assert too_old((8, 0, 15), (8, 0, 16)) and not too_old((8, 0, 16), (8, 0, 16))
    assert not too_old((8, 0), (8, 0, 16))  # an offline "8.0" is any 8.0
    assert not too_old((), (15,))


# ------------------------------------------------------------------------------ offline, all four engines


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("feature", list(FEATURES))
def test_offline_compile_agrees_with_the_table(feature: str, engine: EngineKey) -> None:
    probe = PROBES[feature]
    db = offline(engine)
    cell = effective(feature, engine, db.dialect.server_version)
    if cell.allowed:
        try:
            probe.build(db).compile()
        except KyseraError as exc:
            if not isinstance(exc.__cause__, NeedsCatalog):
                raise
            pytest.skip("compiled from the live catalog on this engine; checked on the server")
    else:
        with pytest.raises(UnsupportedError) as info:
            probe.build(db).compile()
        _assert_refusal(info.value, feature, engine, db.dialect.server_version)


@pytest.mark.parametrize(
    ("engine", "version", "feature"),
    [
        ("postgres", (14, 9), "nulls_not_distinct"),
        ("postgres", (10, 0), "index_include"),
        ("postgres", (17, 2), "generated_virtual"),
        ("mysql", (8, 0, 12), "expression_index"),
        ("mysql", (8, 0, 15), "check"),
        ("mariadb", (10, 2, 0), "sequence"),
        ("mysql", (8, 0, 11), "ddl_algorithm_instant"),
        ("mariadb", (10, 2, 44), "ddl_algorithm_nocopy"),
        ("sqlite", (3, 30, 1), "generated_stored"),
        ("sqlite", (3, 34, 1), "insert_returning"),
        ("sqlite", (3, 34, 1), "delete_returning"),
        ("sqlite", (3, 23, 0), "on_conflict"),
        ("mariadb", (10, 4, 30), "insert_returning"),
        ("mariadb", (10, 0, 4), "delete_returning"),
    ],
)
def test_too_old_a_server_is_refused_with_the_version_it_needs(
    engine: EngineKey, version: tuple[int, ...], feature: str
) -> None:
    db = offline(engine, version)
    with pytest.raises(UnsupportedError, match=r"\(it needs [\d.]+ or newer\)") as info:
        PROBES[feature].build(db).compile()
    _assert_refusal(info.value, feature, engine, version)


def test_postgres_18_has_virtual_generated_columns() -> None:
    db = offline("postgres", (18, 0))
    text = PROBES["generated_virtual"].build(db).compile().sql
    assert "GENERATED ALWAYS AS (a * 2)" in text and "STORED" not in text


def test_value_limits() -> None:
    db = offline("mysql")
    with pytest.raises(UnsupportedError, match="use one of: btree, hash"):
        db.schema.create_index("ix").on("t").column("a").using("gin").compile()
    assert "USING HASH ON" in db.schema.create_index("ix").on("t").column("a").using("hash").compile().sql
    with pytest.raises(UnsupportedError):
        require("index_using", "sqlite")


# ------------------------------------------------------------------------------ live: the table's "yes" is true


@pytest.fixture
def probe_db(db: Database) -> Iterator[Database]:
    """``db``, and SCHEMA dropped after the test (a server's schemas outlive its test database)."""
    yield db
    try:
        drop_schema(db)
    except KyseraError:
        pass


@pytest.mark.parametrize("feature", list(FEATURES))
def test_live_engines_do_what_the_table_says(feature: str, probe_db: Database) -> None:
    db = probe_db
    probe = PROBES[feature]
    engine = engine_of(db.dialect)
    cell = effective(feature, engine, db.dialect.server_version)
    if probe.setup is not None:
        probe.setup(db)
    builder = probe.build(db)
    if not cell.allowed:
        with pytest.raises(UnsupportedError) as info:
            builder.compile()
        _assert_refusal(info.value, feature, engine, db.dialect.server_version)
        return
    result = builder.execute()
    if cell.level == "ignored":
        # what the engine ignores is not in the SQL it was sent
        ignored_words = {"table_comment": "COMMENT", "column_comment": "COMMENT", "create_index_concurrently": "CONCURRENTLY",
                         "drop_index_concurrently": "CONCURRENTLY", "create_type": "TYPE",
                         "create_type_if_not_exists": "TYPE", "alter_type_rename": "TYPE",
                         "ddl_algorithm": "ALGORITHM", "ddl_algorithm_instant": "ALGORITHM",
                         "ddl_algorithm_nocopy": "ALGORITHM", "index_algorithm_instant": "ALGORITHM",
                         "ddl_lock": "LOCK", "instant_with_lock": "ALGORITHM", "drop_index_online_clauses": "ALGORITHM",
                         "generated_drop_not_null": "MODIFY"}
        word = ignored_words[feature]
        assert not any(re.search(rf"\b{word}\b", s.sql) for s in result.statements)


# ------------------------------------------------------------------------------ data statements

# the probes of the data statements' rows (upserts and RETURNING), with the rest above
PROBES.update(
    {
        "insert_returning": Probe(lambda db: db.insert_into("t").values({"id": 1, "a": 1}).returning("id", "a"), table_t),
        "returning_with_ignore_conflicts": Probe(
            lambda db: db.insert_into("t").values({"id": 1, "a": 1}).ignore_conflicts().returning("id"), table_t
        ),
        "update_returning": Probe(lambda db: db.update_table("t").set({"a": 2}).where("id", "=", 1).returning("id"), table_t),
        "delete_returning": Probe(lambda db: db.delete_from("t").where("id", "=", 1).returning("id"), table_t),
        "on_conflict": Probe(
            lambda db: db.insert_into("t").values({"id": 1, "a": 1}).on_conflict(
                lambda oc: oc.column("id").do_update_set({"a": excluded("a")})
            ),
            table_t,
        ),
        "on_conflict_constraint": Probe(
            lambda db: db.insert_into("t").values({"id": 1, "b": "x"}).on_conflict(lambda oc: oc.constraint("t_b_key").do_nothing()),
            table_t,
        ),
        "on_duplicate_key_update": Probe(
            lambda db: db.insert_into("t").values({"id": 1, "a": 1}).on_duplicate_key_update({"a": excluded("a")}), table_t
        ),
    }
)
