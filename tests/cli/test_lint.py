"""``kysera migrate lint``: the safety analysis of pending migrations, without running them."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from click.testing import Result

from kysera import connect

from .conftest import kysera, write_config

USERS = """\
    def up(db):
        db.schema.create_table("users").add_column("id", "integer", lambda c: c.primary_key()).add_column("legacy", "text").execute()
        db.insert_into("users").values([{"id": 1, "legacy": "keep me"}]).execute()
    """
DROP_LEGACY = """\
    {allow}
    def up(db):
        db.schema.alter_table("users").drop_column("legacy").execute()
    """
INDEX = """\
    def up(db):
        db.schema.create_index("ix_users_legacy").on("users").column("legacy").execute()
    """


def _project(db_url: str) -> Path:
    write_config(Path.cwd(), db_url)
    folder = Path.cwd() / "migrations"
    folder.mkdir()
    (folder / "20260301000000_users.py").write_text(textwrap.dedent(USERS))
    assert kysera("migrate", "up").exit_code == 0
    return folder


def test_lint_reports_an_unacknowledged_error_and_exits_1_without_running_anything(db_url: str) -> None:
    folder = _project(db_url)
    (folder / "20260302000000_drop_legacy.py").write_text(textwrap.dedent(DROP_LEGACY.replace("{allow}", "")))

    result = kysera("migrate", "lint")
    assert result.exit_code == 1, result.stderr
    assert "ERROR KS102 drop-column: 20260302000000_drop_legacy" in result.stdout
    assert "1 migration checked: 1 error" in result.stdout
    data = json.loads(kysera("migrate", "lint", "--json").stdout)
    assert data["ok"] is False and data["errors"] == 1 and data["migrations"] == ["20260302000000_drop_legacy"]
    # --all judges the applied migrations too, each alone: in one plan with the pending one, the
    # table the first creates counted as new and empty, and the drop passed (exit 0)
    result = kysera("migrate", "lint", "--all")
    assert result.exit_code == 1, result.stdout
    assert "ERROR KS102 drop-column: 20260302000000_drop_legacy" in result.stdout
    assert "2 migrations checked: 1 error" in result.stdout
    with connect(db_url) as db:
        users = db.introspect_table("users")
        assert users is not None and "legacy" in [c.name for c in users.columns]  # nothing ran

    (folder / "20260302000000_drop_legacy.py").write_text(textwrap.dedent(DROP_LEGACY.replace("{allow}", 'allow_unsafe = ["KS102"]')))
    result = kysera("migrate", "lint")
    assert result.exit_code == 0, result.stderr
    # acknowledged, it stops nothing, and is not labelled ERROR
    assert "ALLOWED KS102 drop-column: 20260302000000_drop_legacy" in result.stdout and "(error, acknowledged)" in result.stdout
    assert "ERROR KS" not in result.stdout and "1 allowed" in result.stdout


def test_lint_judges_as_up_does_under_safety_auto(tmp_path: Path) -> None:
    """With [safety] mode = "auto", what migrate up rewrites safely (a concurrent index build)
    is no error for lint either; lint failed CI on a migration up would have run safely."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    path = folder / "20260303000000_index.py"
    path.write_text(textwrap.dedent(INDEX))
    write_config(Path.cwd(), extra='[safety]\nmode = "auto"\n')
    result = kysera("migrate", "lint", "--dialect", "postgres", str(path))
    assert result.exit_code == 0, result.stdout
    assert "FIXED KS201 create-index-blocking" in result.stdout and "safety=auto runs the safe recipe instead" in result.stdout
    assert "ERROR KS" not in result.stdout and "0 errors" in result.stdout


def test_lint_offline_assumes_every_table_is_large(tmp_path: Path) -> None:
    """--dialect lints without a database: an index on an existing table blocks writes on PostgreSQL."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    path = folder / "20260303000000_index.py"
    path.write_text(textwrap.dedent(INDEX))
    result = kysera("migrate", "lint", "--dialect", "postgres", str(path))
    assert result.exit_code == 1, result.stderr
    assert "KS201 create-index-blocking" in result.stdout and "concurrently()" in result.stdout
    assert kysera("migrate", "lint", "--dialect", "mysql", str(path)).exit_code == 0  # InnoDB builds it online


def test_lint_offline_for_sqlite_lists_what_needs_the_table_instead_of_failing(tmp_path: Path) -> None:
    """SQLite's alter_column rebuilds the table from its definition. Offline it comes from the
    migrations before it, run in a scratch database; a table none of them makes has none: that
    migration is listed as not analysed, with the reason, and the others are judged; the whole
    lint used to stop with exit 2 and an error naming migrate sql. A dropped column needs no
    definition offline (SQLite's own DROP COLUMN), so it is judged as on the other engines."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "20260303000000_index.py").write_text(textwrap.dedent(INDEX))
    (folder / "20260304000000_widen.py").write_text(
        "def up(db):\n    db.schema.alter_table('users').alter_column('legacy', lambda c: c.set_data_type('text')).execute()\n"
    )
    write_config(Path.cwd())
    files = sorted(str(p) for p in folder.iterdir())
    result = kysera("migrate", "lint", "--dialect", "sqlite", *files)
    assert result.exit_code == 0, result.stderr
    assert "WARNING KS201 create-index-blocking: 20260303000000_index" in result.stdout
    assert "1 migration checked: 0 errors, 1 warning; 1 not analysed" in result.stdout
    assert "20260304000000_widen could not be analysed" in result.stderr
    assert "no such table: main.users" in result.stderr and "migrate sql cannot" not in result.stderr
    data = json.loads(kysera("migrate", "lint", "--dialect", "sqlite", "--json", *files).stdout)
    assert data["unanalysed"] == ["20260304000000_widen"] and [f["code"] for f in data["findings"]] == ["KS201"]

    drop = folder / "20260305000000_drop_legacy.py"
    drop.write_text(textwrap.dedent(DROP_LEGACY.replace("{allow}", "")))
    judged = kysera("migrate", "lint", "--dialect", "sqlite", str(drop))
    assert judged.exit_code == 1 and "KS102" in judged.stdout, judged.stdout + judged.stderr


def test_lint_says_which_migrations_it_could_not_analyse(tmp_path: Path) -> None:
    """A contract step that uses what the expand step adds cannot be dry-run before that step:
    lint says so, and that the run judges it right before it runs."""
    _project(f"sqlite:///{tmp_path / 'app.db'}")
    folder = Path.cwd() / "migrations"
    (folder / "20260302000000_expand.py").write_text(
        'def up(db):\n    db.schema.alter_table("users").add_column("legacy2", "text").execute()\n'
    )
    (folder / "20260303000000_contract.py").write_text(
        'def up(db):\n    db.schema.alter_table("users").alter_column("legacy2", lambda c: c.set_not_null()).drop_column("legacy").execute()\n'
    )
    result = kysera("migrate", "lint")
    assert result.exit_code == 0, result.stderr
    assert "20260303000000_contract could not be analysed" in result.stderr
    assert "judges it right before it runs" in result.stderr
    assert "1 migration checked: 0 errors, 0 warnings; 1 not analysed" in result.stdout


def test_lint_fails_a_migration_the_engine_cannot_run(db_url: str) -> None:
    """bigserial without a primary key is refused by SQLite and MariaDB whatever runs before it:
    an error naming the migration, not 'not analysed'."""
    folder = _project(db_url)
    (folder / "20260302000000_counter.py").write_text(
        'def up(db):\n    db.schema.alter_table("users").add_column("seq", "bigserial").execute()\n'
    )
    result = kysera("migrate", "lint")
    if "postgresql" in db_url:
        assert result.exit_code == 0, result.stdout + result.stderr
        return
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "ERROR 20260302000000_counter cannot run on" in result.stdout
    assert "1 error" in result.stdout and "not analysed" not in result.stdout
    data = json.loads(kysera("migrate", "lint", "--json").stdout)
    assert data["ok"] is False and "20260302000000_counter" in data["cannot_run"]


def test_lint_fails_code_that_fails_whatever_runs_before_it(db_url: str) -> None:
    """A builder used wrongly, or a misspelt name, fails the real run on any database: lint
    says so as an error with the reason, where it used to pass such a migration as 'not
    analysed'. What reads a table an earlier migration would create stays 'not analysed',
    now with the reason."""
    folder = _project(db_url)
    (folder / "20260302000000_typo.py").write_text(
        'def up(db):\n    db.schema.create_table("things").add_column("id", "").execute()\n'
    )
    (folder / "20260302000001_name.py").write_text("def up(db):\n    undefined_helper(db)\n")
    (folder / "20260302000002_reads.py").write_text('def up(db):\n    db.fetch("SELECT x FROM not_there")\n')
    # its own exception, with nothing before it that could not be dry-run: up applies the
    # migrations before it first, but lint knows it fails
    (folder / "20260301000000_raises.py").write_text("def up(db):\n    raise RuntimeError('not yet')\n")
    result = kysera("migrate", "lint")
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "ERROR 20260302000000_typo cannot run on" in result.stdout
    assert "a column type cannot be empty" in result.stdout
    assert "ERROR 20260302000001_name cannot run on" in result.stdout and "NameError" in result.stdout
    assert "ERROR 20260301000000_raises cannot run on" in result.stdout and "RuntimeError: not yet" in result.stdout
    assert "20260302000002_reads could not be analysed" in result.stderr and "not_there" in result.stderr
    data = json.loads(kysera("migrate", "lint", "--json").stdout)
    assert data["ok"] is False and data["errors"] == 3
    assert set(data["cannot_run"]) == {"20260302000000_typo", "20260302000001_name", "20260301000000_raises"}
    assert data["unanalysed"] == ["20260302000002_reads"]
    assert "not_there" in data["unanalysed_because"]["20260302000002_reads"]


def test_a_mysql_string_default_with_a_backslash_is_a_constant(tmp_path: Path) -> None:
    """'it\\'s' (and "x") are MySQL string literals: adding a column with one as its default is
    instant, not the table rebuild of an expression default (KS207) that blocked up."""
    result = _lint_mysql_sql(tmp_path, "ALTER TABLE t ADD COLUMN f3 varchar(9) DEFAULT 'it\\'s', ADD COLUMN f4 varchar(9) DEFAULT \"x\";")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "KS207" not in result.stdout
    assert "KS207" in _lint_mysql_sql(tmp_path, "ALTER TABLE t ADD COLUMN f3 varchar(30) DEFAULT (uuid());").stdout


def test_a_drop_column_next_to_an_action_the_classifier_cannot_read_is_still_judged(tmp_path: Path) -> None:
    """ALTER TABLE t COMMENT 'a;b', DROP COLUMN j was one unknown statement (a warning), so the
    drop went unjudged; now the parts read are judged and only the rest is unknown."""
    result = _lint_mysql_sql(tmp_path, "ALTER TABLE t COMMENT 'a;b', DROP COLUMN j;")
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "ERROR KS102 drop-column" in result.stdout and "KS901" in result.stdout


def _lint_mysql_sql(tmp_path: Path, up: str) -> Result:
    """``kysera migrate lint --dialect mysql`` of one .sql migration whose up section is ``up``."""
    folder = tmp_path / "migrations"
    folder.mkdir(exist_ok=True)
    path = folder / "20260303000000_x.sql"
    path.write_text(f"-- migrate:up\n{up}\n")
    return kysera("migrate", "lint", "--dialect", "mysql", str(path))
