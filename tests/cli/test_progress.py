"""The per-migration progress lines: written in batches by a thread, never out of order, never lost."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from kysera.cli.output import ProgressLines

from .conftest import kysera_process, write_config


def test_lines_written_together_in_order() -> None:
    written: list[str] = []
    lines = ProgressLines(written.append, delay=0.05)
    for i in range(100):
        lines.add(f"line {i}")
    deadline = time.monotonic() + 5
    while not written and time.monotonic() < deadline:
        time.sleep(0.01)
    lines.close()
    text = "\n".join(written)
    assert text.splitlines() == [f"line {i}" for i in range(100)]
    assert len(written) < 10  # batched, not one write per line


def test_flush_writes_pending_lines_before_anything_else() -> None:
    written: list[str] = []
    lines = ProgressLines(written.append, delay=60)  # the thread would wait a minute
    lines.add("applied a")
    lines.add("applied b")
    lines.flush()
    written.append("summary")
    lines.close()
    assert written == ["applied a\napplied b", "summary"]


def test_close_does_not_wait_for_the_delay() -> None:
    lines = ProgressLines(lambda text: None, delay=60)
    lines.add("applied a")
    time.sleep(0.05)  # the thread is waiting out its delay now
    started = time.monotonic()
    lines.close()
    assert time.monotonic() - started < 5
    assert not any(t.name == "kysera-progress" for t in threading.enumerate())


def test_a_failed_write_is_raised_in_the_callers_thread() -> None:
    def broken(text: str) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    lines = ProgressLines(broken, delay=0.01)
    lines.add("applied a")
    deadline = time.monotonic() + 5
    with pytest.raises(BrokenPipeError):
        while time.monotonic() < deadline:
            lines.add("applied b")  # raises once the thread's write failed
            time.sleep(0.01)
    lines._lines.clear()
    lines.close()


def _project(folder: Path, count: int, failing: int | None = None) -> None:
    write_config(folder, f"sqlite:///{folder / 'app.db'}")
    migrations = folder / "migrations"
    migrations.mkdir()
    for i in range(1, count + 1):
        # the failing one reads first: a dry run that raises without reading stops the run before it starts
        body = "    db.fetch('SELECT 1 AS one')\n    raise RuntimeError('boom')\n" if i == failing else f"    db.schema.create_table('t{i}').add_column('id', 'integer').execute()\n"
        (migrations / f"{i:03d}_t{i}.py").write_text(f"def up(db):\n{body}\n\ndef down(db):\n    pass\n")


def test_every_line_before_the_summary(tmp_path: Path) -> None:
    _project(tmp_path, 60)
    result = kysera_process("migrate", "up", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[1] for line in lines[:-1]] == [f"{i:03d}_t{i}" for i in range(1, 61)]
    assert all(line.startswith("applied ") for line in lines[:-1])
    assert lines[-1].startswith("Applied 60 migrations in ")


def test_a_closed_stdout_does_not_stop_the_run(tmp_path: Path) -> None:
    """kysera migrate up | head -1: the reader goes away, the migrations still all run."""
    import subprocess

    from .conftest import KYSERA

    _project(tmp_path, 200)
    child = subprocess.Popen([KYSERA, "migrate", "up"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stderr is not None
    assert child.stdout.readline().startswith("applied ")
    child.stdout.close()
    assert child.wait(timeout=60) == 0
    assert "Error" not in child.stderr.read()
    status = kysera_process("migrate", "status", cwd=tmp_path)
    assert "200 applied, 0 pending" in status.stdout


def test_lines_of_what_ran_come_before_the_failure(tmp_path: Path) -> None:
    _project(tmp_path, 30, failing=30)
    result = kysera_process("migrate", "up", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert [line.split()[1] for line in lines] == [f"{i:03d}_t{i}" for i in range(1, 31)]
    assert lines[-1].startswith("FAILED ")
    assert all(line.endswith(" ms)") for line in lines), lines  # each with its duration, the failed one too
    assert "030_t30" in result.stderr and "boom" in result.stderr


def test_lines_still_pending_at_exit_are_written() -> None:
    import subprocess
    import sys

    script = (
        "from kysera.cli.output import Output\n"
        "from kysera.cli import _exit_now\n"
        "out = Output()\n"
        "out.progress('applied a')\n"
        "out.progress('applied b')\n"
        "_exit_now(0)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["applied a", "applied b"]


def test_a_closed_stdout_does_not_hide_the_runs_own_error() -> None:
    from kysera import connect
    from kysera.cli.migrate.session import Session
    from kysera.cli.output import Output

    class ClosedStdout(Output):
        def end_progress(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    def session() -> Session:
        from kysera.cli.watchdog import Watchdog

        made = Session.__new__(Session)
        made.out = ClosedStdout()
        made.db = connect("sqlite:///:memory:")
        made._peer = None
        made._watchdog = Watchdog(made.out.aside, lambda: None)
        return made

    failed = session()
    failed.__exit__(RuntimeError, RuntimeError("boom"), None)  # the run's error propagates instead
    assert failed.db.closed
    succeeded = session()
    with pytest.raises(BrokenPipeError):
        succeeded.__exit__(None, None, None)
    assert succeeded.db.closed


def _on_a_terminal(args: list[str], cwd: Path) -> str:
    """Run the kysera console script with stdout and stderr on one terminal, as a person sees
    it: what the terminal got."""
    import os
    import pty
    import subprocess

    from .conftest import KYSERA

    main, terminal = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("KYSERA_DATABASE_URL", "DATABASE_URL", "KYSERA_ENV")}
    env["NO_COLOR"] = "1"
    process = subprocess.Popen(
        [KYSERA, *args], cwd=cwd, stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal, env=env
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the program ended and closed its side
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=60)
    os.close(main)
    assert process.returncode == 0, b"".join(chunks)
    return b"".join(chunks).decode()


def test_a_backfills_progress_line_on_a_terminal_is_not_glued_to_the_lines_before_it(db_url: str, tmp_path: Path) -> None:
    """On a terminal, a backfill redraws its rows done with \\r on stderr; the line of the
    migration before it, still waiting to be written, came out after that text, on the same
    line ("backfill t: 3000/20000 rows ... about 0s leftapplied   001_t  (9 ms)"). With -q
    the backfill's line still showed, though -q leaves out progress lines."""
    write_config(tmp_path, db_url)
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "001_t.py").write_text(
        "def up(db):\n"
        "    db.schema.create_table('t').add_column('id', 'integer', lambda c: c.primary_key())"
        ".add_column('x', 'integer').execute()\n"
        "    db.insert_into('t').values([{'id': i, 'x': None} for i in range(1, 2001)]).execute()\n\n"
        "def down(db):\n    db.schema.drop_table('t').execute()\n"
    )
    (folder / "002_fill.py").write_text(
        "transaction = False\n\n"
        "def up(db):\n    db.backfill('t', set={'x': 1}, where=('x', 'is', None), batch_size=100, pause=0.02)\n\n"
        "def down(db):\n    db.update_table('t').set({'x': None}).execute()\n"
    )
    shown = _on_a_terminal(["migrate", "up"], tmp_path)
    assert "backfill t: 2000/2000 rows" in shown, shown
    for line in shown.replace("\r\n", "\n").split("\n"):
        assert not ("backfill t:" in line and "applied" in line), repr(line)
    assert _on_a_terminal(["migrate", "down", "--all", "--yes", "-q"], tmp_path) == ""
    quiet = _on_a_terminal(["migrate", "up", "-q"], tmp_path)
    assert "backfill" not in quiet, quiet
