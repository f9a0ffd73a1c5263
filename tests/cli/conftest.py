"""Helpers for the CLI tests: run ``kysera`` in-process (click's CliRunner) or as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from kysera.cli import cli

KYSERA = str(Path(sys.executable).with_name("kysera"))


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No URL or env from the developer's shell leaks into a test; each runs in its own folder."""
    for name in ("KYSERA_DATABASE_URL", "DATABASE_URL", "KYSERA_ENV", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    work = tmp_path / "project"
    work.mkdir()
    monkeypatch.chdir(work)
    yield


def kysera(*args: str, env: dict[str, str | None] | None = None, input: str | None = None) -> Result:
    """Run ``kysera ARGS`` in-process; stdout and stderr are kept apart."""
    return CliRunner().invoke(cli, list(args), env=env, input=input, prog_name="kysera")


def kysera_process(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``kysera`` console script as a real process."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("KYSERA_DATABASE_URL", "DATABASE_URL", "KYSERA_ENV")}
    full_env.update(env or {})
    return subprocess.run(
        [KYSERA, *args], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=timeout, check=False
    )


def write_config(folder: Path, url: str | None = None, extra: str = "") -> Path:
    lines = []
    if url is not None:
        lines += ["[database]", f'url = "{url}"', ""]
    path = folder / "kysera.toml"
    path.write_text("\n".join(lines) + extra, encoding="utf-8")
    return path


def assert_clean_error(result: Result | subprocess.CompletedProcess[str], code: int, *fragments: str) -> None:
    """Exit ``code``, a message on stderr naming each fragment, and no traceback."""
    exit_code = result.exit_code if isinstance(result, Result) else result.returncode
    if isinstance(result, Result) and result.exception is not None:
        assert isinstance(result.exception, SystemExit), f"uncaught {result.exception!r}"
    stderr = result.stderr
    assert exit_code == code, f"exit {exit_code}, wanted {code}\nstdout: {result.stdout}\nstderr: {stderr}"
    assert "Traceback" not in stderr and "Traceback" not in result.stdout, stderr
    for fragment in fragments:
        assert fragment in stderr, f"{fragment!r} not in stderr:\n{stderr}"


def names(paths: Sequence[Path]) -> list[str]:
    return [p.stem for p in paths]
