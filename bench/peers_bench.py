"""kysera against Alembic, yoyo-migrations and a bare-driver floor, on the same workload.

Migration i creates table t_i (three columns) and an index on it; its down drops the table. For
N = 100 and 1000 (``--n``), on SQLite and PostgreSQL, each tool is run as whole processes, median
of ``--runs`` rounds, side by side (each round runs every tool once):

- apply all N; roll back all N; ``status`` with N applied; cold start of ``--help`` and ``status``;
  peak memory (max RSS of the apply process); apply as a multiple of the floor, from the medians
  and "paired": the median, over each cycle of rounds in which every tool ran once in every
  place of the order, of the tool's total time over the floor's (this cancels the machine's
  drift, and the place a tool runs in: the first tool of a round runs after a quiet spell, a CPU
  that has slowed down and, on PostgreSQL, a server still busy with the last round's work, and
  measured here that place alone costs PostgreSQL runs 25%);
- the floor: the same DDL and history inserts sent by a bare script on one connection, one
  transaction per migration, in the driver's default journal mode on SQLite. ``--tool
  floor-persist`` adds the floor in the journal mode kysera's runs use on SQLite
  (``journal_mode=PERSIST``, see ``Dialect.many_commits``): kysera's own cost, like for like.

Alembic and yoyo are installed into a side virtualenv (``--side-venv``, created when missing);
they are never dependencies of kysera. Results print as a table with ratios, go to
bench/results/peers.json, and the table goes into bench/README.md (``--no-readme`` to leave it).

    .venv/bin/python bench/peers_bench.py --n 100 --n 1000 --runs 4
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# every tool runs in a user's environment: no kysera variables, and bytecode caching on. An
# inherited PYTHONDONTWRITEBYTECODE (set in some workplaces) makes each run of a tool recompile
# those of its modules whose .pyc is missing or stale, without writing it: for an editable
# install whose sources just changed, tens of ms on every run of that tool alone.
from startup import bench_env  # noqa: E402

RESULTS = HERE / "results"
KYSERA = Path(sys.executable).with_name("kysera")
PG_ADMIN = os.environ.get("KYSERA_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
PG_DB = "kysera_peer_bench"


def sh(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, int]:
    """Run a whole process; return (wall seconds, max RSS in KiB). Fails loudly on a non-zero exit.

    Output goes to pipes that threads drain as it comes, as a terminal would take it. Not to
    files: a tool that prints a line per migration would then write to the disk that its own
    commits fsync (and the journal flushes those writes with every commit). Not to unread pipes:
    a tool that logs more than a pipe holds (64 KiB, a thousand migrations' lines) would block.
    """
    import threading

    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env={**bench_env(), **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    output: dict[str, bytes] = {}

    def drain(name: str, stream: Any) -> None:
        output[name] = stream.read()

    readers = [threading.Thread(target=drain, args=(name, stream)) for name, stream in (("out", proc.stdout), ("err", proc.stderr))]
    for reader in readers:
        reader.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    for reader in readers:
        reader.join()
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    if code != 0:
        out = output.get("out", b"").decode(errors="replace")
        err = output.get("err", b"").decode(errors="replace")
        raise SystemExit(f"{' '.join(cmd)} failed ({code}) in {cwd}:\n{out[-2000:]}\n{err[-2000:]}")
    return wall, usage.ru_maxrss


# ----------------------------------------------------------------------------- projects

def ddl(i: int) -> tuple[str, str, str]:
    return (
        f"CREATE TABLE t_{i} (id integer PRIMARY KEY, name varchar(100) NOT NULL, created_at timestamp)",
        f"CREATE INDEX ix_t_{i}_name ON t_{i} (name)",
        f"DROP TABLE t_{i}",
    )


def kysera_project(root: Path, n: int, url: str) -> tuple[list[str], ...]:
    (root / "migrations").mkdir(parents=True)
    (root / "kysera.toml").write_text(f'[database]\nurl = "{url}"\n\n[migrations]\ndirectory = "migrations"\n')
    for i in range(1, n + 1):
        (root / "migrations" / f"{i:05d}_t_{i}.py").write_text(
            "from kysera import Database\n\n\n"
            "def up(db: Database) -> None:\n"
            f"    (db.schema.create_table('t_{i}')\n"
            "        .add_column('id', 'integer', lambda c: c.primary_key())\n"
            "        .add_column('name', 'varchar(100)', lambda c: c.not_null())\n"
            "        .add_column('created_at', 'timestamp')\n"
            "        .execute())\n"
            f"    db.schema.create_index('ix_t_{i}_name').on('t_{i}').column('name').execute()\n\n\n"
            "def down(db: Database) -> None:\n"
            f"    db.schema.drop_table('t_{i}').execute()\n"
        )
    k = str(KYSERA)
    return [k, "migrate", "up"], [k, "migrate", "down", "--all", "--yes"], [k, "migrate", "status"], [k, "--help"]


def alembic_project(root: Path, n: int, url: str, venv: Path) -> tuple[list[str], ...]:
    (root / "versions").mkdir(parents=True)
    sa_url = url.replace("postgresql://", "postgresql+psycopg://")
    (root / "alembic.ini").write_text(f"[alembic]\nscript_location = {root}\nsqlalchemy.url = {sa_url}\n")
    (root / "env.py").write_text(
        "from alembic import context\nfrom sqlalchemy import engine_from_config, pool\n"
        "config = context.config\n"
        "connectable = engine_from_config(config.get_section(config.config_ini_section), prefix='sqlalchemy.', poolclass=pool.NullPool)\n"
        "with connectable.connect() as connection:\n"
        "    context.configure(connection=connection, target_metadata=None, transaction_per_migration=True)\n"
        "    with context.begin_transaction():\n"
        "        context.run_migrations()\n"
    )
    (root / "script.py.mako").write_text("")
    for i in range(1, n + 1):
        prev = f"'r{i - 1:05d}'" if i > 1 else "None"
        (root / "versions" / f"r{i:05d}.py").write_text(
            "from alembic import op\nimport sqlalchemy as sa\n"
            f"revision = 'r{i:05d}'\ndown_revision = {prev}\nbranch_labels = None\ndepends_on = None\n\n"
            "def upgrade():\n"
            f"    op.create_table('t_{i}', sa.Column('id', sa.Integer, primary_key=True), "
            "sa.Column('name', sa.String(100), nullable=False), sa.Column('created_at', sa.DateTime))\n"
            f"    op.create_index('ix_t_{i}_name', 't_{i}', ['name'])\n\n"
            "def downgrade():\n"
            f"    op.drop_table('t_{i}')\n"
        )
    a = str(venv / "bin" / "alembic")
    return [a, "upgrade", "head"], [a, "downgrade", "base"], [a, "current"], [a, "--help"]


def yoyo_project(root: Path, n: int, url: str, venv: Path) -> tuple[list[str], ...]:
    (root / "migrations").mkdir(parents=True)
    for i in range(1, n + 1):
        create, index, drop = ddl(i)
        depends = f"__depends__ = {{'{i - 1:05d}_t_{i - 1}'}}\n" if i > 1 else ""
        (root / "migrations" / f"{i:05d}_t_{i}.py").write_text(
            f"from yoyo import step\n{depends}steps = [step({create!r}, {drop!r}), step({index!r})]\n"
        )
    y = str(venv / "bin" / "yoyo")
    db = url
    return (
        [y, "apply", "--batch", "--database", db, "migrations"],
        [y, "rollback", "--all", "--batch", "--database", db, "migrations"],
        [y, "list", "--database", db, "migrations"],
        [y, "--help"],
    )


FLOOR = '''
import sys, time
url, n, action = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if url.startswith("sqlite"):
    import sqlite3
    conn = sqlite3.connect(url[len("sqlite:///"):], isolation_level=None)
    if len(sys.argv) > 4:  # floor-persist: the journal mode kysera's runs use
        conn.execute(f"PRAGMA journal_mode = {sys.argv[4]}")
    ph = "?"
else:
    import psycopg
    conn = psycopg.connect(url, autocommit=True)
    ph = "%s"
conn.execute("CREATE TABLE IF NOT EXISTS floor_history (name varchar(255) PRIMARY KEY, applied_at varchar(40))")
for i in (range(1, n + 1) if action == "up" else range(n, 0, -1)):
    conn.execute("BEGIN")
    if action == "up":
        conn.execute(f"CREATE TABLE t_{i} (id integer PRIMARY KEY, name varchar(100) NOT NULL, created_at timestamp)")
        conn.execute(f"CREATE INDEX ix_t_{i}_name ON t_{i} (name)")
        conn.execute(f"INSERT INTO floor_history (name, applied_at) VALUES ({ph}, {ph})", (f"t_{i}", str(time.time())))
    else:
        conn.execute(f"DROP TABLE t_{i}")
        conn.execute(f"DELETE FROM floor_history WHERE name = {ph}", (f"t_{i}",))
    conn.execute("COMMIT")
'''


def floor_project(root: Path, n: int, url: str, venv: Path, journal: str | None = None) -> tuple[list[str], ...]:
    root.mkdir(parents=True, exist_ok=True)
    (root / "floor.py").write_text(FLOOR)
    py = str(venv / "bin" / "python")
    extra = [journal] if journal else []
    return [py, "floor.py", url, str(n), "up", *extra], [py, "floor.py", url, str(n), "down", *extra], [], []


# ----------------------------------------------------------------------------- databases

def fresh_database(engine: str, root: Path, tool: str) -> str:
    if engine == "sqlite":
        path = root / "bench.db"
        if path.exists():
            path.unlink()
        return f"sqlite:///{path}"
    import psycopg

    name = _pg_database(tool)
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    base = PG_ADMIN.rsplit("/", 1)[0]
    return f"{base}/{name}"


def drop_databases(tools: list[str]) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        for tool in tools:
            conn.execute(f"DROP DATABASE IF EXISTS {_pg_database(tool)} WITH (FORCE)")


def _pg_database(tool: str) -> str:
    """The PostgreSQL database a tool's rounds use (made new for each run, dropped at the end)."""
    return f"{PG_DB}_{tool.replace('-', '_')}"  # floor-persist: a name that needs no quotes


def ensure_side_venv(venv: Path) -> None:
    if (venv / "bin" / "alembic").exists() and (venv / "bin" / "yoyo").exists():
        return
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "alembic", "yoyo-migrations", "psycopg[binary]"], check=True)


def make_project(tool: str, engine: str, n: int, root: Path, venv: Path) -> tuple[list[str], ...]:
    """Write ``tool``'s project for N migrations under ``root``; its (up, down, status, help) commands."""
    url = fresh_database(engine, root, tool)
    if tool == "kysera":
        return kysera_project(root, n, url)
    if tool == "alembic":
        return alembic_project(root, n, url, venv)
    if tool == "yoyo":
        url = url.replace("postgresql://", "postgresql+psycopg://") if engine == "postgres" else url
        return yoyo_project(root, n, url, venv)
    return floor_project(root, n, url, venv, "persist" if tool == "floor-persist" else None)


def bench_round(
    tools: list[str], engine: str, n: int, venv: Path, samples: dict[str, dict[str, list[float]]], turn: int, settle: float
) -> None:
    """One round: every tool's project is written first, then each tool runs (in an order that
    rotates from round to round), so that no tool runs right after writing its own files.

    Writing a thousand migration files leaves the machine's disk busy for seconds (even after a
    sync), which slows every fsync: measured here, a run of the floor is up to 40% slower right
    after the generator wrote a project. Written all together and flushed before any tool runs,
    that cost falls on every tool alike instead of only on the tools with many files. Then the
    round waits ``settle`` seconds: right after thousands of files were written (and the last
    round's deleted), every fsync is slower for a while, and the first tool to run would pay.

    The first tool of a round still runs in other conditions than the next ones (a CPU slowed
    down by the quiet spell; on PostgreSQL, measured on 2026-12-07, each first run took ~25%
    longer than the second, whichever tool it was). The order rotates, ``--runs`` is a multiple
    of the number of tools, and :func:`paired_ratio` compares whole rotations, so every tool
    pays that alike.
    """
    with tempfile.TemporaryDirectory(prefix="bench-round-") as tmp:
        commands = {}
        for tool in tools:
            root = Path(tmp) / tool
            root.mkdir()
            commands[tool] = (root, make_project(tool, engine, n, root, venv))
        os.sync()
        time.sleep(settle)
        order = tools[turn % len(tools):] + tools[: turn % len(tools)]
        for tool in order:
            root, (up, down, status, helpcmd) = commands[tool]
            wall, rss = sh(up, root)
            got = samples[tool]
            got["apply"].append(wall)
            got["peak_mib"].append(rss / 1024)
            if status:
                got["status"].append(min(sh(status, root)[0] for _ in range(3)))
            if helpcmd:
                got["help"].append(min(sh(helpcmd, root)[0] for _ in range(3)))
            got["rollback"].append(sh(down, root)[0])


def _new_samples(tools: list[str]) -> dict[str, dict[str, list[float]]]:
    return {tool: {"apply": [], "rollback": [], "status": [], "help": [], "peak_mib": []} for tool in tools}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, action="append", help="migrations in the workload; repeat it (default: 100 and 1000)")
    parser.add_argument("--engine", choices=["sqlite", "postgres"], action="append", help="repeat it (default: both)")
    parser.add_argument(
        "--tool",
        choices=["kysera", "alembic", "yoyo", "floor", "floor-persist"],
        action="append",
        help="repeat it (default: the first four). floor-persist is the floor with the SQLite journal mode "
        "kysera's runs switch to (journal_mode=PERSIST; the same as the floor elsewhere): the like-for-like floor",
    )
    parser.add_argument("--runs", type=int, default=3, help="rounds, rounded up to a multiple of the tools (default: 3)")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds to wait after writing the projects")
    parser.add_argument(
        "--side-venv",
        type=Path,
        default=Path(tempfile.gettempdir()) / "kysera-peers-venv",
        help="the virtualenv Alembic and yoyo are installed into (made when missing; default: %(default)s)",
    )
    parser.add_argument(
        "--no-readme",
        action="store_true",
        help="print the table only: leave bench/README.md and bench/results/peers.json as they are",
    )
    args = parser.parse_args()
    tools = args.tool or ["kysera", "alembic", "yoyo", "floor"]
    if args.runs % len(tools):
        # every tool runs in every place of the order equally often (see bench_round)
        args.runs += len(tools) - args.runs % len(tools)
        print(f"--runs rounded up to {args.runs}: a multiple of the {len(tools)} tools, so each runs first as often as the others", flush=True)
    ensure_side_venv(args.side_venv)
    RESULTS.mkdir(exist_ok=True)
    ns = args.n or [100, 1000]
    engines = args.engine or ["sqlite", "postgres"]
    results: dict[str, dict[str, Any]] = {}
    warmed = False
    for engine in engines:
        for n in ns:
            # side by side: each round runs every tool once (see bench_round), so a machine that
            # gets busier or quieter during the benchmark affects all tools alike
            samples = _new_samples(tools)
            if not warmed:
                # one round first, not counted: each tool writes its own bytecode cache (.pyc), as
                # on a user's machine after its first run (an editable install has none yet)
                warmed = True
                bench_round(tools, engine, min(ns), args.side_venv, _new_samples(tools), 0, 0.0)
            for turn in range(args.runs):
                bench_round(tools, engine, n, args.side_venv, samples, turn, args.settle)
            if engine == "postgres":
                drop_databases(tools)  # the rounds' databases: none is left on the server
            for tool in tools:
                result: dict[str, object] = {k: round(statistics.median(v), 3) for k, v in samples[tool].items() if v}
                result["apply_runs"] = [round(v, 3) for v in samples[tool]["apply"]]
                for floor in ("floor", "floor-persist"):
                    if floor in samples and tool != floor:
                        result[f"apply_x_{floor}_paired"] = round(
                            paired_ratio(samples[tool]["apply"], samples[floor]["apply"], len(tools)), 3
                        )
                results[f"{engine}/{n}/{tool}"] = result
                print(f"{engine}/{n}/{tool}", result, flush=True)
    table = ratio_table(results, engines, ns, tools)
    print("\n" + "\n".join(table))
    if not args.no_readme:  # a partial run must not replace the saved results of a whole one
        (RESULTS / "peers.json").write_text(json.dumps(results, indent=2))
        write_readme(table, args.runs)
        print(f"\nwritten into {README}")


def paired_ratio(runs: list[float], floor: list[float], cycle: int) -> float:
    """The median, over each cycle of ``cycle`` rounds (in which the order rotated once, so every
    tool ran once in every place), of the tool's total time over the floor's in that cycle: the
    machine's drift between cycles and the cost of running first both cancel out."""
    ratios = [
        sum(runs[start : start + cycle]) / sum(floor[start : start + cycle])
        for start in range(0, len(runs) - cycle + 1, cycle)
    ]
    return statistics.median(ratios)


def ratio_table(results: dict[str, dict[str, Any]], engines: list[str], ns: list[int], tools: list[str]) -> list[str]:
    lines = [
        "| engine | N | tool | apply s | x floor | x floor, paired | rollback s | status s | `--help` s | peak MiB |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for engine in engines:
        for n in ns:
            floor = results.get(f"{engine}/{n}/floor", {}).get("apply")
            for tool in tools:
                r = results[f"{engine}/{n}/{tool}"]
                ratio = f"{r['apply'] / floor:.2f}" if floor else ""
                shown_paired = f"{r['apply_x_floor_paired']:.2f}" if "apply_x_floor_paired" in r else ""
                if "apply_x_floor-persist_paired" in r:
                    alike = results[f"{engine}/{n}/floor-persist"]["apply"]
                    shown_paired += f" (x floor-persist {r['apply'] / alike:.2f}, paired {r['apply_x_floor-persist_paired']:.2f})"
                lines.append(
                    f"| {engine} | {n} | {tool} | {r['apply']} | {ratio} | {shown_paired} | {r['rollback']} | "
                    f"{r.get('status', '')} | {r.get('help', '')} | {r['peak_mib']:.0f} |"
                )
    return lines


README = HERE / "README.md"
START, END = "<!-- peers-latest:start -->", "<!-- peers-latest:end -->"


def write_readme(table: list[str], runs: int) -> None:
    """Put the table of this run in bench/README.md, between its markers (or at the end)."""
    import platform
    import sqlite3

    stamp = time.strftime("%Y-%m-%d", time.gmtime())
    head = (
        f"Latest run of this script ({stamp}, median of {runs} rounds, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}):"
    )
    block = "\n".join([START, "", head, "", *table, "", END])
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    if START in text and END in text:
        before, _, rest = text.partition(START)
        _, _, after = rest.partition(END)
        text = before + block + after
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    README.write_text(text)


if __name__ == "__main__":
    main()
