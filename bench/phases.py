"""Where ``kysera migrate up`` spends its time, phase by phase, next to the floor.

    .venv/bin/python bench/phases.py [--n 1000] [--runs 9] [--dir /dev/shm] [--cold] [--valgrind]
    .venv/bin/python bench/phases.py --fresh [--settle 10] [--runs 9]

Builds the workload of ``bench/peers_bench.py`` (migration *i* creates ``t_i`` and an index on
it) in a temporary folder, on tmpfs when there is one (no fsync then hides the CPU), and runs
``kysera migrate up`` on a new SQLite database in a child process that marks these moments:

- ``imported``: the interpreter, ``kysera.cli`` and the modules the run patches are imported;
- ``loaded``: the migrations folder is loaded (the rest of the command line imports meanwhile);
- ``gated``: the safety gate is done (every pending migration built, compiled and analysed);
- ``applied``: the last migration is committed;
- ``exited``: the command is about to end the process.

The floor of ``peers_bench.py`` (the same DDL and history rows from a bare script) runs alongside.

By default it prints wall-clock medians of ``--runs`` rounds, after one round that writes the
folder's code cache (as every later run of the real command finds it); ``--cold`` deletes that
cache before each run, as in ``peers_bench.py``, whose rounds write new projects (the files then
compile, a forked child doing most of it, and the cache is written at the end; on a project
folder in tmpfs there is no disk for that to wait on). ``--valgrind`` counts the
instructions instead (``valgrind --tool=cachegrind``: one run per phase, each stopping the child
at the end of that phase): the same to within 0.05% from run to run, so a change of 2%
shows, where wall-clock medians on a shared machine move by 20%. It takes a minute or two.
It counts only the parent process, so with ``--cold`` its figures depend on how the work fell
between the parent and the compiling child: use wall-clock times for first runs.

``--fresh`` runs as ``peers_bench.py`` does: every round writes a new project on disk (the system's
temporary folder unless ``--dir`` says otherwise), flushes the disk, waits ``--settle`` seconds,
then runs kysera (a first run) and the floor, in turns. Start-up is CPU work, and right after a
quiet spell it runs about a third slower than back to back (session 12 in ``bench/README.md``):
this mode shows the phases at that price, next to the ratio of the whole processes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from peers_bench import FLOOR, kysera_project, paired_ratio  # noqa: E402 - the same workload and ratio, from one definition
from startup import bench_env  # noqa: E402 - a user's environment: no kysera variables, .pyc files used

PHASES = ("imported", "loaded", "gated", "applied", "exited")

#: runs a command counting the instructions it executes (the count is printed on stderr); the
#: compiling child of a first run (--cold) is forked, and would print a count of its own, often first
VALGRIND = (
    "valgrind", "--tool=cachegrind", "--cache-sim=no", "--child-silent-after-fork=yes", "--cachegrind-out-file=/dev/null"
)

#: runs in the child: wraps the functions at the phase boundaries, then runs the command line
CHILD = r"""
import os, sys, time
started = time.perf_counter()
stop = sys.argv[1]
marks = {}

def mark(phase):
    marks[phase] = (time.perf_counter() - started) * 1000
    if phase == stop:
        os._exit(0)

import kysera.cli as cli
import kysera.migrations.gate as gate
import kysera.migrations.loader as loader
import kysera.migrations.runner as runner

def wrap(owner, name, phase):
    inner = getattr(owner, name)
    def wrapper(*args, **kwargs):
        result = inner(*args, **kwargs)
        mark(phase)
        return result
    setattr(owner, name, wrapper)

wrap(loader, "load_migrations", "loaded")
wrap(gate, "inspect_plan", "gated")
wrap(runner.MigrationRunner, "_run", "applied")
exit_now = cli._exit_now

def end(code):
    mark("exited")
    os.write(2, ("PHASES " + " ".join(f"{k}={v:.3f}" for k, v in marks.items()) + "\n").encode())
    exit_now(code)

cli._exit_now = end
mark("imported")
sys.argv = ["kysera", "migrate", "up"]
cli.main()
"""


def run_kysera(project: Path, stop: str, valgrind: bool, cold: bool = False) -> tuple[dict[str, float], int | None]:
    (project / "bench.db").unlink(missing_ok=True)
    if cold:  # a first run: the folder's code cache is not written yet
        shutil.rmtree(project / "migrations" / "__pycache__", ignore_errors=True)
    cmd = [sys.executable, "-c", CHILD, stop]
    if valgrind:
        cmd = [*VALGRIND, *cmd]
    proc = subprocess.run(cmd, cwd=project, env=bench_env(), capture_output=True, text=True, check=False)
    return phase_marks(proc), instructions(proc.stderr) if valgrind else None


def phase_marks(proc: subprocess.CompletedProcess[str]) -> dict[str, float]:
    """The moments the child of :data:`CHILD` marked (ms since it started), from its stderr; a
    failed run ends the benchmark with what it printed."""
    if proc.returncode != 0:
        raise SystemExit(f"kysera migrate up failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    marks: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        if line.startswith("PHASES "):
            marks = {k: float(v) for k, v in (item.split("=") for item in line.split()[1:])}
    return marks


def run_floor(project: Path, valgrind: bool) -> tuple[float, int | None]:
    (project / "floor.db").unlink(missing_ok=True)
    cmd = [sys.executable, "floor.py", f"sqlite:///{project / 'floor.db'}", str(count_migrations(project)), "up"]
    if valgrind:
        cmd = [*VALGRIND, *cmd]
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=project, env=bench_env(), capture_output=True, text=True, check=True)
    return (time.perf_counter() - started) * 1000, instructions(proc.stderr) if valgrind else None


def instructions(valgrind_output: str) -> int:
    for line in valgrind_output.splitlines():
        if "I   refs:" in line or "I refs:" in line:
            return int(line.rsplit(":", 1)[1].strip().replace(",", ""))
    raise SystemExit(f"no instruction count in valgrind's output:\n{valgrind_output[-2000:]}")


def count_migrations(project: Path) -> int:
    return sum(1 for _ in (project / "migrations").glob("*.py"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="migrations in the workload")
    parser.add_argument("--runs", type=int, default=9, help="rounds for the wall-clock medians")
    tmpfs = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
    parser.add_argument(
        "--dir", default=None, help="where the project goes (default: tmpfs when there is one; with --fresh, the disk)"
    )
    parser.add_argument("--valgrind", action="store_true", help="count instructions per phase instead of timing")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="every run is a first run, without the folder's code cache (as in peers_bench.py, whose rounds write new projects)",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="a new project on disk for every round, flushed and left --settle seconds before the runs (as in peers_bench.py)",
    )
    parser.add_argument("--settle", type=float, default=10.0, help="with --fresh: seconds of quiet before each round's runs")
    args = parser.parse_args()
    if args.valgrind and shutil.which("valgrind") is None:
        raise SystemExit("--valgrind needs valgrind on the PATH (Debian: apt-get install valgrind)")
    if args.fresh:
        if args.valgrind:
            raise SystemExit("--fresh measures time; it does not go with --valgrind")
        report_fresh(args.n, args.runs, args.dir or tempfile.gettempdir(), args.settle)
        return
    with tempfile.TemporaryDirectory(prefix="kysera-phases-", dir=args.dir or tmpfs) as tmp:
        project = Path(tmp) / "project"
        kysera_project(project, args.n, f"sqlite:///{project / 'bench.db'}")
        (project / "floor.py").write_text(FLOOR)
        run_kysera(project, "never", False)  # writes the folder's code cache, as a first run does
        if args.valgrind:
            report_instructions(project, args.cold)
        else:
            report_times(project, args.runs, args.cold)


def print_phase_medians(samples: dict[str, list[float]]) -> None:
    """Each phase's median moment, and how long after the previous one it came."""
    previous = 0.0
    for phase in PHASES:
        at = statistics.median(samples[phase])
        print(f"  {phase:<9} {at:8.1f}   (+{at - previous:.1f})")
        previous = at


def report_fresh(n: int, runs: int, where: str, settle: float) -> None:
    """Rounds of ``peers_bench.py``'s kind: a new project, a flush, ``settle`` seconds of quiet,
    then kysera (a first run) and the floor, whichever went second last time going first."""
    samples: dict[str, list[float]] = {phase: [] for phase in PHASES}
    kysera: list[float] = []
    floor: list[float] = []
    runs += runs % 2  # each runs first as often as the other: the first after the quiet spell pays more
    for turn in range(runs):
        with tempfile.TemporaryDirectory(prefix="kysera-phases-", dir=where) as tmp:
            project = Path(tmp) / "project"
            kysera_project(project, n, f"sqlite:///{project / 'bench.db'}")
            (project / "floor.py").write_text(FLOOR)
            os.sync()
            time.sleep(settle)
            for tool in (("kysera", "floor") if turn % 2 == 0 else ("floor", "kysera")):
                if tool == "floor":
                    floor.append(run_floor(project, False)[0])
                    continue
                started = time.perf_counter()
                marks, _ = run_kysera(project, "never", False, cold=True)
                kysera.append((time.perf_counter() - started) * 1000)
                for phase in PHASES:
                    samples[phase].append(marks[phase])
    print(f"kysera migrate up, {n} new migrations, a new project per round after {settle:g} s of quiet, medians of {runs} rounds:")
    print_phase_medians(samples)
    paired = paired_ratio(kysera, floor, 2)  # over pairs of rounds: each tool first once
    print(f"  whole processes: kysera {statistics.median(kysera):.1f} ms, the floor {statistics.median(floor):.1f} ms")
    print(f"  kysera / floor: {statistics.median(kysera) / statistics.median(floor):.2f} by medians, {paired:.2f} paired")
    print(json.dumps({"kysera": samples, "kysera_ms": kysera, "floor": floor}), file=sys.stderr)


def report_times(project: Path, runs: int, cold: bool) -> None:
    samples: dict[str, list[float]] = {phase: [] for phase in PHASES}
    floor: list[float] = []
    for _ in range(runs):
        marks, _ = run_kysera(project, "never", False, cold)
        for phase in PHASES:
            samples[phase].append(marks[phase])
        floor.append(run_floor(project, False)[0])
    first = ", first runs (no code cache)" if cold else ""
    print(f"kysera migrate up, {count_migrations(project)} new migrations{first}, medians of {runs} rounds (ms since the child started):")
    print_phase_medians(samples)
    print(f"  the floor, whole process: {statistics.median(floor):.1f} ms")
    print(json.dumps({"kysera": samples, "floor": floor}), file=sys.stderr)


def report_instructions(project: Path, cold: bool) -> None:
    bare = instructions(
        subprocess.run(
            [*VALGRIND, sys.executable, "-c", "pass"],
            capture_output=True, text=True, check=True,
        ).stderr
    )
    print(f"instructions (millions), {count_migrations(project)} new migrations:")
    print(f"  python -c pass           {bare / 1e6:8.1f}")
    previous = 0
    for phase in PHASES:
        _, count = run_kysera(project, phase, True, cold)
        assert count is not None
        print(f"  kysera up to {phase:<9}  {count / 1e6:8.1f}   (+{(count - previous) / 1e6:.1f})")
        previous = count
    _, floor = run_floor(project, True)
    assert floor is not None
    print(f"  the floor, whole process {floor / 1e6:8.1f}")
    print(f"  kysera / floor           {previous / floor:8.2f}")


if __name__ == "__main__":
    main()
