"""Startup time of the ``kysera`` CLI, and of ``alembic current`` on the same project.

    .venv/bin/python bench/startup.py [--runs 21] [--migrations 100] [--alembic PATH]

Builds, in a temporary folder, a SQLite project with N migrations (one table each), applies them,
then times whole processes, side by side (each round runs every command once; median and minimum
wall time of ``--runs`` rounds):

- ``python -c pass`` (the interpreter alone),
- ``kysera --help``,
- ``kysera migrate status`` (loads the N migration files, reads the history table),
- ``alembic current`` on an equivalent Alembic project with N revisions, if an ``alembic``
  executable is found: ``--alembic PATH``, ``$ALEMBIC``, or ``/tmp/alembic-venv/bin/alembic``.
  Alembic is never a dependency of kysera; make a side venv for it:
  ``python -m venv /tmp/alembic-venv && /tmp/alembic-venv/bin/pip install alembic``.

It also checks that ``kysera --help`` and ``kysera migrate status`` import none of psycopg,
pymysql, rich and sqlparse (and that ``--help`` imports neither kysera.database nor the runner).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ("psycopg", "pymysql", "rich", "sqlparse")
NOT_FOR_HELP = ("kysera.database", "kysera.migrations")


def kysera_executable() -> str:
    found = Path(sys.executable).with_name("kysera")
    if found.exists():
        return str(found)
    which = shutil.which("kysera")
    if which is None:
        sys.exit("kysera is not installed in this environment; run: pip install -e .")
    return which


def make_kysera_project(root: Path, count: int) -> None:
    (root / "migrations").mkdir(parents=True)
    (root / "kysera.toml").write_text('[database]\nurl = "sqlite:///app.db"\n', encoding="utf-8")
    for i in range(count):
        name = f"2026010100{i // 60:02d}{i % 60:02d}_create_table_{i:03d}"
        (root / "migrations" / f"{name}.py").write_text(
            "from kysera import Database\n\n\n"
            "def up(db: Database) -> None:\n"
            f'    db.schema.create_table("t{i:03d}")'
            '.add_column("id", "integer", lambda c: c.primary_key())'
            '.add_column("name", "varchar(100)").execute()\n\n\n'
            "def down(db: Database) -> None:\n"
            f'    db.schema.drop_table("t{i:03d}").execute()\n',
            encoding="utf-8",
        )


def make_alembic_project(root: Path, count: int) -> None:
    versions = root / "alembic" / "versions"
    versions.mkdir(parents=True)
    (root / "alembic.ini").write_text(
        "[alembic]\nscript_location = alembic\nsqlalchemy.url = sqlite:///app.db\n\n"
        "[loggers]\nkeys = root\n[handlers]\nkeys = console\n[formatters]\nkeys = generic\n"
        "[logger_root]\nlevel = WARN\nhandlers = console\n"
        "[handler_console]\nclass = StreamHandler\nargs = (sys.stderr,)\nlevel = NOTSET\nformatter = generic\n"
        "[formatter_generic]\nformat = %(levelname)s %(message)s\n",
        encoding="utf-8",
    )
    (root / "alembic" / "env.py").write_text(
        "from alembic import context\nfrom sqlalchemy import engine_from_config, pool\n\n"
        "config = context.config\n\n"
        "connectable = engine_from_config(config.get_section(config.config_ini_section), "
        "prefix='sqlalchemy.', poolclass=pool.NullPool)\n"
        "with connectable.connect() as connection:\n"
        "    context.configure(connection=connection, target_metadata=None)\n"
        "    with context.begin_transaction():\n"
        "        context.run_migrations()\n",
        encoding="utf-8",
    )
    (root / "alembic" / "script.py.mako").write_text("", encoding="utf-8")
    previous = None
    for i in range(count):
        rev = f"r{i:04d}"
        (versions / f"{rev}_create_table_{i:03d}.py").write_text(
            "import sqlalchemy as sa\nfrom alembic import op\n\n"
            f"revision = {rev!r}\ndown_revision = {previous!r}\nbranch_labels = None\ndepends_on = None\n\n\n"
            "def upgrade():\n"
            f"    op.create_table('t{i:03d}', sa.Column('id', sa.Integer, primary_key=True), "
            "sa.Column('name', sa.String(100)))\n\n\n"
            "def downgrade():\n"
            f"    op.drop_table('t{i:03d}')\n",
            encoding="utf-8",
        )
        previous = rev


def bench_env() -> dict[str, str]:
    """The environment of a user's shell: no kysera variables, and bytecode caching on (an
    inherited PYTHONDONTWRITEBYTECODE would make every run recompile kysera from source)."""
    skip = ("DATABASE_URL", "KYSERA_DATABASE_URL", "KYSERA_ENV", "PYTHONDONTWRITEBYTECODE")
    return {k: v for k, v in os.environ.items() if k not in skip}


def time_commands(commands: list[tuple[list[str], Path]], runs: int) -> list[tuple[float, float]]:
    """Median and minimum wall milliseconds of each command over ``runs`` rounds.

    The commands run side by side: each round runs every command once (after one warm-up run
    of each), so a machine that gets busier or quieter during the benchmark affects all alike.
    """
    env = bench_env()
    for argv, cwd in commands:
        run = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
        if run.returncode != 0:
            sys.exit(f"{' '.join(argv)} failed ({run.returncode}):\n{run.stdout}{run.stderr}")
    samples: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for index, (argv, cwd) in enumerate(commands):
            start = time.perf_counter()
            subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            samples[index].append((time.perf_counter() - start) * 1000)
    return [(statistics.median(s), min(s)) for s in samples]


def imported_modules(argv: list[str], cwd: Path) -> set[str]:
    """The modules a kysera command imports, from ``python -X importtime``."""
    code = f"import sys; sys.argv = {['kysera', *argv]!r}; from kysera.cli import main; main()"
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        cwd=cwd,
        env=bench_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    modules = set()
    for line in run.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            modules.add(line.rsplit("|", 1)[1].strip())
    return modules


def find_alembic(option: str | None) -> str | None:
    for candidate in (option, os.environ.get("ALEMBIC"), "/tmp/alembic-venv/bin/alembic"):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="rounds for the medians (default: 21)")
    parser.add_argument("--migrations", type=int, default=100, help="migrations in the project (default: 100)")
    parser.add_argument("--alembic", default=None, help="path of an alembic executable (side venv)")
    args = parser.parse_args()
    kysera = kysera_executable()
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="kysera-startup-") as tmp:
        root = Path(tmp)
        project = root / "kysera"
        make_kysera_project(project, args.migrations)
        subprocess.run([kysera, "migrate", "up"], cwd=project, env=bench_env(), check=True, capture_output=True)
        commands: list[tuple[str, list[str], Path]] = [
            ("python -c pass", [sys.executable, "-c", "pass"], project),
            ("kysera --help", [kysera, "--help"], project),
            (f"kysera migrate status ({args.migrations} applied)", [kysera, "migrate", "status"], project),
        ]
        for argv in (["--help"], ["migrate", "status"]):
            loaded = imported_modules(argv, project)
            banned = HEAVY + (NOT_FOR_HELP if argv == ["--help"] else ())
            found = sorted(m for m in loaded if m.split(".")[0] in banned or m in banned or m.startswith(tuple(b + "." for b in banned)))
            if found:
                problems.append(f"kysera {' '.join(argv)} imports {', '.join(found)}")
        alembic = find_alembic(args.alembic)
        if alembic:
            other = root / "alembic_project"
            make_alembic_project(other, args.migrations)
            subprocess.run([alembic, "upgrade", "head"], cwd=other, env=bench_env(), check=True, capture_output=True)
            commands.append((f"alembic current ({args.migrations} revisions)", [alembic, "current"], other))
        timings = time_commands([(argv, cwd) for _, argv, cwd in commands], args.runs)
        rows = [(label, median, minimum) for (label, _, _), (median, minimum) in zip(commands, timings, strict=True)]
    width = max(len(r[0]) for r in rows)
    print(f"{'command'.ljust(width)}  median ms  min ms")
    print(f"{'-' * width}  ---------  ------")
    for label, median, minimum in rows:
        print(f"{label.ljust(width)}  {median:9.1f}  {minimum:6.1f}")
    print(f"\n{args.runs} runs each, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    status = next(r for r in rows if r[0].startswith("kysera migrate status"))
    alembic_row = next((r for r in rows if r[0].startswith("alembic")), None)
    if alembic_row:
        print(
            f"kysera migrate status / alembic current = {status[1] / alembic_row[1]:.2f} by median, "
            f"{status[2] / alembic_row[2]:.2f} by minimum (goal: <= 0.20)"
        )
    else:
        print("alembic not found: pass --alembic PATH to compare")
    if problems:
        print("\nimport check FAILED:\n  " + "\n  ".join(problems))
        sys.exit(1)
    print("import check: --help and migrate status import none of " + ", ".join(HEAVY))


if __name__ == "__main__":
    main()
