"""How long ``kysera migrate up`` takes to apply one large ``.sql`` migration (a seed, say).

    .venv/bin/python bench/sql_file_bench.py [--statements 64000] [--runs 5] [--url URL] [--profile]

Writes a project with one ``.sql`` migration whose ``-- migrate:up`` section holds a few
``CREATE TABLE`` and ``CREATE INDEX`` statements and ``--statements`` INSERTs with quoted strings
(some holding ``;``, ``--``, ``/*`` and doubled quotes, so the splitter has work to do): 64,000
make a file of about 4.6 MB. Then runs ``kysera migrate up`` on a new database ``--runs`` times in a child
process that marks the phases ``bench/phases.py`` marks (imported, loaded, gated, applied,
exited), and prints the medians, the whole process's time included.

``--url`` runs on another engine (``postgresql://...``, ``mysql://...``): use a database of your
own; its tables ``seed_*`` and ``kysera_migrations`` are dropped before each run. ``--profile``
runs the command once in this process under cProfile instead and prints the top functions.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from phases import CHILD, PHASES, phase_marks  # noqa: E402 - the same phase marks as the 1000-migration benchmark
from startup import bench_env  # noqa: E402 - a user's environment: no kysera variables, .pyc files used

TABLES = 4


def write_migration(path: Path, statements: int) -> None:
    """The migration: TABLES tables, an index on each, then ``statements`` INSERTs among them."""
    out = ["-- A seed, as a dump or a generator writes it.", "-- migrate:up"]
    for t in range(TABLES):
        out.append(
            f"CREATE TABLE seed_{t} (id integer PRIMARY KEY, name varchar(200) NOT NULL, note text, amount integer);"
        )
        out.append(f"CREATE INDEX ix_seed_{t}_name ON seed_{t} (name);")
    for i in range(statements):
        note = ("a; b", "it''s -- no", "plain", "/* no */")[i % 4]
        out.append(f"INSERT INTO seed_{i % TABLES} VALUES ({i}, 'customer {i:07d}', '{note}', {i * 7 % 1000});")
    out.append("-- migrate:down")
    out.extend(f"DROP TABLE seed_{t};" for t in range(TABLES))
    path.write_text("\n".join(out) + "\n")


def reset(url: str, project: Path) -> None:
    """A database without the benchmark's tables."""
    if url.startswith("sqlite:"):
        (project / "bench.db").unlink(missing_ok=True)
        return
    from kysera import connect

    db = connect(url)
    try:
        for name in ["kysera_migrations", *(f"seed_{t}" for t in range(TABLES))]:
            db.schema.drop_table(name).if_exists().execute()
    finally:
        db.close()


def run_once(project: Path, url: str) -> tuple[dict[str, float], float]:
    reset(url, project)
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, "never"], cwd=project, env=bench_env(), capture_output=True, text=True, check=False
    )
    whole = (time.perf_counter() - started) * 1000
    return phase_marks(proc), whole


def profile(project: Path, url: str) -> None:
    """One run in this process, under cProfile: the 25 functions with the most cumulative time."""
    reset(url, project)
    os.chdir(project)
    from kysera.cli import cli

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        cli.main(["migrate", "up", "-q"], standalone_mode=False)
    finally:
        profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--statements", type=int, default=64000, help="INSERT statements in the up section")
    parser.add_argument("--runs", type=int, default=5, help="runs of migrate up (medians are printed)")
    parser.add_argument("--url", default=None, help="the database (default: a new SQLite file in the project)")
    parser.add_argument("--dir", default=None, help="where the project goes (default: tmpfs when there is one)")
    parser.add_argument("--profile", action="store_true", help="one run under cProfile instead of the timings")
    args = parser.parse_args()
    where = args.dir or ("/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir())
    with tempfile.TemporaryDirectory(prefix="kysera-sqlfile-", dir=where) as tmp:
        project = Path(tmp) / "project"
        (project / "migrations").mkdir(parents=True)
        url = args.url or f"sqlite:///{project / 'bench.db'}"
        (project / "kysera.toml").write_text(f'[database]\nurl = "{url}"\n\n[migrations]\ndirectory = "migrations"\n')
        migration = project / "migrations" / "20260101000000_seed.sql"
        write_migration(migration, args.statements)
        if args.profile:
            profile(project, url)
            return
        samples: dict[str, list[float]] = {phase: [] for phase in PHASES}
        wholes: list[float] = []
        for _ in range(args.runs):
            marks, whole = run_once(project, url)
            for phase in PHASES:
                samples[phase].append(marks[phase])
            wholes.append(whole)
        reset(url, project)
        engine = url.split(":", 1)[0]
        size = migration.stat().st_size / 1e6
        print(f"kysera migrate up, one .sql migration of {args.statements + 2 * TABLES} statements ({size:.1f} MB), "
              f"{engine}, medians of {args.runs} runs (ms):")
        print("| phase | at | took |")
        print("|---|---:|---:|")
        previous = 0.0
        for phase in PHASES:
            at = statistics.median(samples[phase])
            print(f"| {phase} | {at:.0f} | {at - previous:.0f} |")
            previous = at
        print(f"| whole process | {statistics.median(wholes):.0f} | (min {min(wholes):.0f}) |")


if __name__ == "__main__":
    main()
