"""Fast start: what ``kysera --help`` and ``kysera migrate status`` import, and a terminal prompt."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import KYSERA, kysera_process
from .test_workflow import project


def imported(args: list[str]) -> set[str]:
    """The modules loaded by the end of ``kysera *args``: ``sys.modules`` as the process exits
    (``-X importtime`` would miss what ``importlib.import_module`` loads, as lazy names do)."""
    code = (
        "import atexit, sys; "
        "atexit.register(lambda: print('MODULES', *sorted(sys.modules), file=sys.stderr)); "
        f"sys.argv = {['kysera', *args]!r}; from kysera.cli import main; main()"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    lines = [line for line in run.stderr.splitlines() if line.startswith("MODULES ")]
    assert lines, run.stderr
    return set(lines[-1].split()[1:])


HEAVY = ("psycopg", "pymysql", "rich", "sqlparse")


def test_help_imports_nothing_heavy() -> None:
    modules = imported(["--help"])
    assert "click" in modules
    assert not {m for m in modules if m.split(".")[0] in HEAVY}
    assert not {m for m in modules if m.startswith(("kysera.database", "kysera.migrations", "kysera.dialects"))}
    assert "tomllib" not in modules


def test_status_on_sqlite_imports_no_driver(tmp_path: Path) -> None:
    project(f"sqlite:///{tmp_path / 'app.db'}")
    assert kysera_process("migrate", "up").returncode == 0
    modules = imported(["migrate", "status"])
    assert "kysera.migrations.status" in modules
    assert not {m for m in modules if m.split(".")[0] in HEAVY}
    # status only reads: neither the runner nor the safety analysis nor the engine-limit table
    assert not {m for m in modules if m.startswith(("kysera.migrations.runner", "kysera.safety", "kysera.dialects.support"))}
    assert "logging" not in modules


def test_up_loads_only_what_applying_python_migrations_needs(tmp_path: Path) -> None:
    """Applying needs neither the status report, nor the .sql file reader (no .sql migrations),
    nor the rule catalogue (no finding), nor the builders the migrations do not use."""
    project(f"sqlite:///{tmp_path / 'app.db'}", count=2)  # two Python migrations
    modules = imported(["migrate", "up"])
    assert {"kysera.migrations.runner", "kysera.safety.analyzer", "kysera.schema.create_table"} <= modules
    unneeded = {
        "kysera.migrations.status",
        "kysera.migrations.sql_file",
        "kysera.safety.rules",
        "kysera.schema.view",
        "kysera.schema.sequence",
        "decimal",  # SQLite binds Decimals only once something imports decimal
    }
    assert not modules & unneeded
    import sqlite3

    with sqlite3.connect(tmp_path / "app.db") as conn:  # and the run did apply them
        (count,) = conn.execute("SELECT count(*) FROM kysera_migrations WHERE state = 'applied'").fetchone()
    assert count == 2


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_confirmation_prompt_on_a_terminal(tmp_path: Path) -> None:
    """On a terminal, reset asks; 'n' changes nothing, 'y' goes ahead."""
    import pty

    project(f"sqlite:///{tmp_path / 'app.db'}", count=1)
    assert kysera_process("migrate", "up").returncode == 0

    def answer(reply: bytes) -> tuple[int, str]:
        pid, fd = pty.fork()
        if pid == 0:  # the child: kysera on the terminal
            os.execv(KYSERA, [KYSERA, "migrate", "reset"])
        output = b""
        sent = False
        while True:
            try:
                chunk = os.read(fd, 1024)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            if not sent and b"Continue?" in output:
                os.write(fd, reply + b"\n")
                sent = True
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        return os.waitstatus_to_exitcode(status), output.decode(errors="replace")

    code, text = answer(b"n")
    assert code == 1 and "roll back every applied migration (1 migration)" in text and "nothing was changed" in text
    assert "applied" in kysera_process("migrate", "status").stdout
    code, text = answer(b"y")
    assert code == 0 and "Rolled back 1 migration" in text


def test_status_process_output_and_exit_codes(tmp_path: Path) -> None:
    """status ends its process without the interpreter's teardown: its output and exit code
    must still be whole (a pipe, --json, --check)."""
    import json

    project(f"sqlite:///{tmp_path / 'app.db'}")
    assert kysera_process("migrate", "up", "--steps", "2").returncode == 0
    shown = kysera_process("migrate", "status", "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert len(data["executed"]) == 2 and len(data["pending"]) == 1
    checked = kysera_process("migrate", "status", "--check")
    assert checked.returncode == 1 and "1 pending" in checked.stdout + checked.stderr
    assert checked.stdout.rstrip().endswith("1 pending")
    piped = subprocess.run(
        f"{KYSERA} migrate status | head -1", shell=True, capture_output=True, text=True, check=False
    )
    assert piped.stdout.startswith("Database") and "Error" not in piped.stderr and "error" not in piped.stderr


def test_up_ends_without_teardown_but_runs_what_a_migration_left_behind(tmp_path: Path) -> None:
    """Commands end their process without the interpreter's teardown. What a migration left to
    happen at exit still happens: its atexit function runs, its unfinished thread finishes."""
    project(f"sqlite:///{tmp_path / 'app.db'}", count=1)
    done = tmp_path / "atexit.txt"
    joined = tmp_path / "thread.txt"
    (Path.cwd() / "migrations" / "002_side_effects.py").write_text(
        "import atexit, threading, time\n\n\n"
        "def up(db):\n"
        f"    atexit.register(lambda: open({str(done)!r}, 'w').write('ran'))\n"
        f"    threading.Thread(target=lambda: (time.sleep(0.3), open({str(joined)!r}, 'w').write('done'))).start()\n"
    )
    result = kysera_process("migrate", "up")
    assert result.returncode == 0, result.stderr
    assert done.read_text() == "ran"
    assert joined.read_text() == "done"


def test_the_command_line_writes_the_code_cache_as_it_ends(tmp_path: Path) -> None:
    """The CLI holds the migrations' code cache back until its work is done (so that writing it
    does not slow the first commits), and still writes it, for status and for the next run."""
    folder = project(f"sqlite:///{tmp_path / 'app.db'}")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    result = subprocess.run([KYSERA, "migrate", "up"], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    cached = list((folder / "__pycache__").glob("kysera-migrations.*.bin"))
    assert len(cached) == 1 and cached[0].stat().st_size > 0


def test_the_command_line_compiles_a_new_folder_ahead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``kysera migrate up`` starts compiling the folder the config names before it imports the
    rest of itself; the loader of that folder takes the work over. Other forms load as usual."""
    from kysera.cli import _compile_ahead
    from kysera.cli.common import State
    from kysera.cli.migrate.session import load_project_migrations
    from kysera.migrations import code_cache

    folder = project(f"sqlite:///{tmp_path / 'app.db'}", count=2)
    monkeypatch.setattr(code_cache, "PARALLEL_FROM", 2)
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    if not code_cache._can_fork():
        pytest.skip("compiling in two processes needs Linux, two processors and no other thread")
    try:
        for args in (["migrate", "create", "x"], ["migrate", "up", "--config", "kysera.toml"], ["db", "dump"]):
            _compile_ahead(args)
            assert code_cache._early is None, args
        _compile_ahead(["migrate", "up", "-v"])
        assert code_cache._early is not None and code_cache._early.folder == str(folder)
        result = kysera_process("migrate", "status")  # another process: this one's helper is untouched
        assert result.returncode == 0, result.stderr

        assert [m.name for m in load_project_migrations(State())] == [p.stem for p in sorted(folder.glob("*.py"))]
        assert code_cache._early is None  # taken over by the loader of that folder
    finally:
        code_cache._drop_early()


def test_up_on_many_new_migrations(tmp_path: Path) -> None:
    """A first run over more files than one process compiles alone, through the command line."""
    folder = project(f"sqlite:///{tmp_path / 'app.db'}", count=0)
    for i in range(250):
        (folder / f"{i:04d}_t{i}.py").write_text(f"def up(db):\n    db.schema.create_table('t{i}').add_column('id', 'integer').execute()\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    result = subprocess.run([KYSERA, "migrate", "up"], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    assert "Applied 250 migrations" in result.stdout
    status = subprocess.run([KYSERA, "migrate", "status"], capture_output=True, text=True, env=env, check=False)
    assert "250 applied, 0 pending" in status.stdout


def test_the_entry_point_and_the_group_can_be_imported_from_the_package() -> None:
    """``kysera.cli:main`` (the console script) stays the function after the command line has
    been imported in the same process, and ``kysera.cli.cli`` is the click group."""
    code = (
        "import click; from kysera.cli import main; import kysera.cli.app\n"
        "from kysera.cli import main as again, cli\n"
        "assert again is main and callable(main), again\n"
        "assert isinstance(cli, click.Group) and cli.name == 'cli', cli\n"
        "print('ok')\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert run.stdout.strip() == "ok", run.stderr


def test_only_the_console_command_keeps_its_objects_until_exit(tmp_path: Path) -> None:
    """``kysera`` (the process) skips freeing what a run built, since it ends with os._exit; the
    same commands run in-process, as by click's CliRunner, keep nothing: no memory grows."""
    import kysera.cli as package

    from .conftest import kysera

    project(f"sqlite:///{tmp_path / 'app.db'}", count=3)
    assert kysera("migrate", "up").exit_code == 0
    assert kysera("migrate", "down", "--steps", "1").exit_code == 0
    assert package._kept is None
    done = kysera_process("migrate", "up")
    assert done.returncode == 0, done.stderr
    assert "Applied 1 migration" in done.stdout
