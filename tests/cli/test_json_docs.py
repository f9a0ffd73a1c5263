"""Every key of every command's ``--json`` document is described in docs/cli.md."""

from __future__ import annotations

import json
import re
from pathlib import Path

from .conftest import kysera
from .test_workflow import NAMES, project

CLI_DOC = Path(__file__).parent.parent.parent / "docs" / "cli.md"

#: the keys whose values map migration names to reasons: the names are no keys to document
_NAME_MAPS = {"cannot_run", "unanalysed_because"}


def _keys(document: object, seen: set[str]) -> set[str]:
    if isinstance(document, dict):
        for key, value in document.items():
            seen.add(key)
            if key not in _NAME_MAPS:
                _keys(value, seen)
    elif isinstance(document, list):
        for item in document:
            _keys(item, seen)
    return seen


def test_every_json_key_is_described_in_the_cli_doc(db_url: str, tmp_path: Path) -> None:
    """The --json documents of lint, test, create, resolve, accept, mark-applied, db dump,
    db restore and init, and the keys of a safety finding, were described nowhere: a deploy
    script had to guess what `resolved_as`, `not_reached` or `suppressed` mean."""
    folder = project(db_url, count=2)
    documents: list[object] = []

    def run(*args: str, code: int = 0) -> None:
        result = kysera(*args, "--json")
        assert result.exit_code == code, (args, result.stdout, result.stderr)
        documents.append(json.loads(result.stdout))

    run("migrate", "create", "drop_email")
    created = sorted(folder.glob("*_drop_email.py"))[0]
    created.write_text("def up(db):\n    db.schema.alter_table('users').drop_column('email').execute()\n")
    run("migrate", "up", "--to", NAMES[1])
    run("migrate", "up", code=1)  # refused by the safety analysis: a finding
    run("migrate", "up", "--dry-run", code=1)
    run("migrate", "lint", code=1)
    created.unlink()
    run("migrate", "status")
    run("migrate", "down", "--dry-run")
    run("migrate", "test")
    posts = folder / f"{NAMES[1]}.py"
    posts.write_text(posts.read_text() + "\n# edited\n")
    run("migrate", "accept", NAMES[1])
    run("migrate", "down", "--to", NAMES[0])
    run("migrate", "mark-applied", "--all")
    run("migrate", "resolve", NAMES[0], "--applied", code=1)  # an error document
    dump = tmp_path / "dump.sql"
    run("db", "dump", "-o", str(dump))
    run("db", "restore", str(dump), code=2)  # not empty: refused
    run("init", "--force")
    described = CLI_DOC.read_text(encoding="utf-8")
    missing = sorted(key for key in _keys(documents, set()) if not re.search(rf'[`"]{re.escape(key)}[`"]', described))
    assert missing == [], f"--json keys not described in docs/cli.md: {missing}"


def test_a_finding_without_a_recipe_has_null(db_url: str) -> None:
    """docs/cli.md says a finding's ``recipe`` is the safe way "or ``null``", but one without a
    recipe (KS102 drop-column) had ``""``, which jq takes as true: ``.findings[] | select(.recipe)``
    kept it, and a script printed an empty recipe."""
    folder = project(db_url, count=1)
    (folder / "20991231000000_drop_b.sql").write_text(
        "-- migrate:up\nCREATE TABLE t (a integer, b integer);\nALTER TABLE t DROP COLUMN b;\n"
    )
    result = kysera("migrate", "up", "--json")  # t is new: an info finding, which has no recipe
    assert result.exit_code == 0, result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert [f["code"] for f in findings] == ["KS102"], result.stdout
    assert findings[0]["recipe"] is None
