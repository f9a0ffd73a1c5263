"""The package is typed (py.typed): what the docs show type-checks in a user's `mypy --strict`."""

from __future__ import annotations

from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

SRC = Path(__file__).parent.parent / "src"


def strict_errors(tmp_path: Path, code: str) -> list[str]:
    """The errors `mypy --strict` finds in ``code``, a user's module, checked against kysera."""
    (tmp_path / "user.py").write_text(code)
    out, err, _ = mypy_api.run(
        [
            "--strict",
            "--no-incremental",
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            "--python-version",
            "3.11",
            "--config-file",
            "",
            str(tmp_path / "user.py"),
        ]
    )
    assert not err, err
    return [line for line in out.splitlines() if ": error:" in line]


def test_the_runner_options_as_the_docs_write_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYPYPATH", str(SRC))
    code = """
import logging

from kysera import connect
from kysera.migrations import Migration, create_migration_runner, run_migrations

db = connect("sqlite:///:memory:")
migrations: list[Migration] = []
runner = create_migration_runner(
    db,
    migrations,
    use_transactions=True,
    logger=logging.getLogger("app"),
    dry_run=False,
    lock_timeout=None,
    before=None,
    after=None,
    on_error=None,
    hooks=None,
    safety="error",
    safety_start_after=None,
)
run_migrations(db, migrations, hooks=None)
"""
    assert strict_errors(tmp_path, code) == []


def test_the_loggers_the_docs_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYPYPATH", str(SRC))
    code = """
import logging
import sys

from kysera import connect
from kysera.migrations import Migration, create_migration_runner


class Console:  # the guide's logger: console
    def info(self, message: str) -> None: ...
    def warn(self, message: str) -> None: ...
    def error(self, message: str) -> None: ...


db = connect("sqlite:///:memory:")
migrations: list[Migration] = []
for logger in (print, sys.stderr, logging.getLogger("app"), Console()):
    create_migration_runner(db, migrations, logger=logger)
create_migration_runner(db, migrations, {"logger": Console()})
"""
    assert strict_errors(tmp_path, code) == []


def test_the_click_group_for_click_testing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/cli.md: ``from kysera.cli import cli`` for click's CliRunner; to mypy it was an object."""
    monkeypatch.setenv("MYPYPATH", str(SRC))
    code = """
from click.testing import CliRunner

from kysera.cli import cli

result = CliRunner().invoke(cli, ["migrate", "status", "--url", "sqlite:///app.db"])
print(result.exit_code)
"""
    assert strict_errors(tmp_path, code) == []


def test_the_refused_findings_of_an_unsafe_migration_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/safety.md reads ``error.result.refused``: the runner always gives the error its result,
    and the attribute said it might be None."""
    monkeypatch.setenv("MYPYPATH", str(SRC))
    code = """
from kysera import Database, connect
from kysera.migrations import Migration, UnsafeMigrationError, create_migration_runner

db = connect("sqlite:///:memory:")


def drop_legacy(db: Database) -> None:
    db.schema.alter_table("t").drop_column("legacy").execute()


try:
    create_migration_runner(db, [Migration("001_drop_legacy", drop_legacy)]).up()
except UnsafeMigrationError as error:
    print([f.code for f in error.findings], [f.code for f in error.result.refused], error.applied)
"""
    assert strict_errors(tmp_path, code) == []


def test_the_result_of_a_migration_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/migrations.md lists ``MigrationError.result`` (what ran before, and this one in
    ``failed``); the runner always sets it, and the attribute said it might be None."""
    monkeypatch.setenv("MYPYPATH", str(SRC))
    code = """
from kysera import MigrationError, connect, run_migrations

db = connect("sqlite:///:memory:")
try:
    run_migrations(db, "migrations")
except MigrationError as error:
    print(error.name, error.direction, error.statement, error.cause, error.rolled_back, error.recorded)
    print(error.result.executed, error.result.failed, error.result.sql())
"""
    assert strict_errors(tmp_path, code) == []


def test_what_compile_returns_imports_from_kysera(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/schema-builder.md names CompiledQuery and CompiledStatement: a user annotates with them."""
    monkeypatch.setenv("MYPYPATH", str(SRC))
    code = """
from kysera import CompiledQuery, CompiledStatement, connect

db = connect("sqlite:///:memory:")
query: CompiledQuery = db.schema.create_table("t").add_column("id", "integer").compile()
first: CompiledStatement = query[0]
print(query.sql, query.params, first.sql, first.transactional)
"""
    assert strict_errors(tmp_path, code) == []
    import kysera

    query = kysera.connect("sqlite:///:memory:").schema.create_table("t").add_column("id", "integer").compile()
    assert isinstance(query, kysera.CompiledQuery) and isinstance(query[0], kysera.CompiledStatement)


def test_the_data_migrations_example_type_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/data-migrations.md's example (the upsert's callback, returning's rows, excluded) and
    the builders' classes a user annotates with pass `mypy --strict`."""
    monkeypatch.setenv("MYPYPATH", str(SRC))
    docs = (SRC.parent / "docs" / "data-migrations.md").read_text(encoding="utf-8")
    example = docs.split("This example runs as it is", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    extra = """
from kysera import Row
from kysera.query.builders import InsertBuilder, SelectBuilder
from kysera.query.conflict import OnConflictAction, OnConflictBuilder


def keep_newest(oc: OnConflictBuilder) -> OnConflictAction:
    return oc.columns("pet").do_update_set({"owner": excluded("owner")}).where("pet_owner.seen", "<", 5)


insert: InsertBuilder = db.insert_into("pet_owner").values({"pet": "Rex", "owner": "Cy"}).on_conflict(keep_newest)
query: SelectBuilder = db.select_from("pet").left_join("person", "person.id", "pet.owner_id")
first: Row | None = insert.returning("pet").fetch_one()
"""
    assert strict_errors(tmp_path, example + extra) == []
