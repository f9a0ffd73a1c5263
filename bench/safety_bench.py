"""Writers' latency while a migration runs: naive DDL vs kysera's safe path vs an expert by hand.

On PostgreSQL, a table of N rows (default 1,000,000) is written to by several connections in a
loop (an INSERT and an UPDATE of a random row, each timed). For each change:

- index:     CREATE INDEX            | kysera .concurrently()              | CREATE INDEX CONCURRENTLY
- not null:  SET NOT NULL            | kysera recipe KS205 (CHECK NOT VALID, VALIDATE, SET NOT NULL, DROP CHECK) | the same SQL by hand
- fk:        ADD FOREIGN KEY         | NOT VALID + validate_constraint      | NOT VALID + VALIDATE by hand
- backfill:  one UPDATE              | db.backfill(batch_size=10_000)       | a hand-written batched loop

the writers' p50/p99/max latency and the longest stall are recorded. Results go to
bench/results/safety-<rows>.json, a plot per change to bench/results/safety-<rows>-<change>.png,
and a table to stdout (paste it into bench/README.md).

    .venv/bin/python bench/safety_bench.py --rows 1000000
    .venv/bin/python bench/safety_bench.py --rows 10000000 --writers 4
    .venv/bin/python bench/safety_bench.py --rows 1000000 --repeat 3     # medians of 3

Needs psycopg (the `postgres` extra); the plot needs matplotlib (optional).
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing
import os
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from kysera import Database, connect, sql

URL = os.environ.get("KYSERA_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
RESULTS = Path(__file__).parent / "results"


def _writer_loop(url: str, max_id: int, ready: Any, stop: Any, out: Any) -> None:
    """One writer process: insert and update in a loop, timing every statement, until ``stop``."""
    conn = psycopg.connect(url, autocommit=True)
    rng = random.Random()
    local: list[tuple[float, float]] = []
    ready.release()
    try:
        while not stop.is_set():
            t0 = time.perf_counter()  # CLOCK_MONOTONIC: comparable across processes
            conn.execute("INSERT INTO bench_events (user_id, payload, status) VALUES (%s, 'w', 'new')", (rng.randint(1, 1000),))
            t1 = time.perf_counter()
            conn.execute("UPDATE bench_events SET payload = 'u' WHERE id = %s", (rng.randint(1, max_id),))
            t2 = time.perf_counter()
            local.append((t0, t1 - t0))
            local.append((t1, t2 - t1))
    finally:
        conn.close()
        out.send(local)
        out.close()


class Writers:
    """N connections inserting and updating in a loop, every statement timed.

    Each writer is a process of its own, as an application's writers are: in threads of this
    process they would also wait for the GIL whenever the migration code runs Python, and that
    wait would be counted as a database stall.
    """

    def __init__(self, url: str, count: int, max_id: int) -> None:
        self.url = url.replace("postgresql+psycopg", "postgresql")
        self.count = count
        self.max_id = max_id
        self.samples: list[tuple[float, float]] = []  # (start time, latency seconds)
        context = multiprocessing.get_context("spawn")
        self._ready = context.Semaphore(0)
        self._stop = context.Event()
        self._context = context
        self._workers: list[tuple[Any, Any]] = []

    def __enter__(self) -> Writers:
        for _ in range(self.count):
            receive, send = self._context.Pipe(duplex=False)
            process = self._context.Process(
                target=_writer_loop, args=(self.url, self.max_id, self._ready, self._stop, send), daemon=True
            )
            process.start()
            send.close()
            self._workers.append((process, receive))
        for _ in range(self.count):
            self._ready.acquire()  # every writer is connected and writing
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for process, receive in self._workers:
            self.samples.extend(receive.recv())
            process.join()


def setup(db: Database, rows: int) -> None:
    db.execute("DROP TABLE IF EXISTS bench_events CASCADE")
    db.execute("DROP TABLE IF EXISTS bench_users CASCADE")
    db.execute("CREATE TABLE bench_users (id integer PRIMARY KEY)")
    db.execute("INSERT INTO bench_users SELECT g FROM generate_series(1, 1000) g")
    db.execute(
        "CREATE TABLE bench_events (id bigserial PRIMARY KEY, user_id integer, payload text, status text, "
        "status_new text, created_at timestamptz DEFAULT now())"
    )
    db.execute(
        "INSERT INTO bench_events (user_id, payload, status) "
        f"SELECT 1 + (g % 1000), md5(g::text), 'old' FROM generate_series(1, {rows}) g"
    )
    db.execute("VACUUM ANALYZE bench_events")


def reset(db: Database) -> None:
    """Undo every change so each variant starts from the same table."""
    db.execute("DROP INDEX IF EXISTS bench_events_user_id")
    db.execute("ALTER TABLE bench_events DROP CONSTRAINT IF EXISTS bench_events_user_fk")
    db.execute("ALTER TABLE bench_events DROP CONSTRAINT IF EXISTS bench_events_status_not_null")
    db.execute("ALTER TABLE bench_events ALTER COLUMN status DROP NOT NULL")
    db.execute("UPDATE bench_events SET status_new = NULL WHERE status_new IS NOT NULL")
    db.execute("VACUUM bench_events")
    db.execute("CHECKPOINT")  # each variant starts without the previous one's dirty pages to write


# ---------------------------------------------------------------------------- the changes

def index_naive(db: Database) -> None:
    db.schema.create_index("bench_events_user_id").on("bench_events").column("user_id").execute()


def index_kysera(db: Database) -> None:
    db.schema.create_index("bench_events_user_id").on("bench_events").column("user_id").concurrently().execute()


def index_hand(conn: psycopg.Connection) -> None:
    conn.execute("CREATE INDEX CONCURRENTLY bench_events_user_id ON bench_events (user_id)")


def not_null_naive(db: Database) -> None:
    db.schema.alter_table("bench_events").alter_column("status", lambda c: c.set_not_null()).execute()


def not_null_kysera(db: Database) -> None:
    # the recipe kysera's KS205 finding prints, run through kysera
    sql('ALTER TABLE "bench_events" ADD CONSTRAINT bench_events_status_not_null CHECK ("status" IS NOT NULL) NOT VALID').execute(db)
    db.schema.alter_table("bench_events").validate_constraint("bench_events_status_not_null").execute()
    db.schema.alter_table("bench_events").alter_column("status", lambda c: c.set_not_null()).execute()
    db.schema.alter_table("bench_events").drop_constraint("bench_events_status_not_null").execute()


def not_null_hand(conn: psycopg.Connection) -> None:
    conn.execute("ALTER TABLE bench_events ADD CONSTRAINT bench_events_status_not_null CHECK (status IS NOT NULL) NOT VALID")
    conn.execute("ALTER TABLE bench_events VALIDATE CONSTRAINT bench_events_status_not_null")
    conn.execute("ALTER TABLE bench_events ALTER COLUMN status SET NOT NULL")
    conn.execute("ALTER TABLE bench_events DROP CONSTRAINT bench_events_status_not_null")


def fk_naive(db: Database) -> None:
    (db.schema.alter_table("bench_events")
        .add_foreign_key_constraint("bench_events_user_fk", ["user_id"], "bench_users", ["id"]).execute())


def fk_kysera(db: Database) -> None:
    sql('ALTER TABLE "bench_events" ADD CONSTRAINT "bench_events_user_fk" FOREIGN KEY ("user_id") REFERENCES "bench_users" ("id") NOT VALID').execute(db)
    db.schema.alter_table("bench_events").validate_constraint("bench_events_user_fk").execute()


def fk_hand(conn: psycopg.Connection) -> None:
    conn.execute("ALTER TABLE bench_events ADD CONSTRAINT bench_events_user_fk FOREIGN KEY (user_id) REFERENCES bench_users (id) NOT VALID")
    conn.execute("ALTER TABLE bench_events VALIDATE CONSTRAINT bench_events_user_fk")


def backfill_naive(db: Database) -> None:
    db.update_table("bench_events").set({"status_new": db.ref("status")}).execute()


def backfill_kysera(db: Database) -> None:
    db.backfill("bench_events", set={"status_new": db.ref("status")}, where=sql("status_new IS NULL"), batch_size=10_000)


def backfill_hand(conn: psycopg.Connection) -> None:
    last = 0
    while True:
        row = conn.execute(
            "SELECT max(id) FROM (SELECT id FROM bench_events WHERE id > %s AND status_new IS NULL ORDER BY id LIMIT 10000) b", (last,)
        ).fetchone()
        if row is None or row[0] is None:
            break
        conn.execute("UPDATE bench_events SET status_new = status WHERE id > %s AND id <= %s AND status_new IS NULL", (last, row[0]))
        last = row[0]


CHANGES: dict[str, tuple[Callable[[Database], None], Callable[[Database], None], Callable[[psycopg.Connection], None]]] = {
    "index": (index_naive, index_kysera, index_hand),
    "not-null": (not_null_naive, not_null_kysera, not_null_hand),
    "fk": (fk_naive, fk_kysera, fk_hand),
    "backfill": (backfill_naive, backfill_kysera, backfill_hand),
}


def measure(url: str, rows: int, writers: int, run: Callable[[], None]) -> dict[str, object]:
    with Writers(url, writers, rows) as w:
        time.sleep(1.0)  # steady state before the change
        started = time.perf_counter()
        run()
        ended = time.perf_counter()
        time.sleep(1.0)
    during = sorted(lat for t, lat in w.samples if started - 0.05 <= t <= ended)
    series = sorted(w.samples)
    return {
        "duration_s": round(ended - started, 3),
        "statements": len(during),
        "p50_ms": round(statistics.median(during) * 1000, 2) if during else None,
        "p99_ms": round(during[int(len(during) * 0.99) - 1] * 1000, 2) if len(during) >= 100 else (round(max(during) * 1000, 2) if during else None),
        "max_ms": round(max(during) * 1000, 2) if during else None,
        "longest_stall_ms": round(longest_stall(series, started, ended) * 1000, 2),
        "series": [(round(t - started, 4), round(lat * 1000, 3)) for t, lat in series],
    }


def combine(runs: list[dict[str, object]]) -> dict[str, object]:
    """Medians over repeated measurements; the first run's series is kept for the plot."""
    if len(runs) == 1:
        return runs[0]
    out = dict(runs[0])
    for key in ("duration_s", "p50_ms", "p99_ms", "max_ms", "longest_stall_ms"):
        values = [float(str(r[key])) for r in runs if r[key] is not None]
        out[key] = round(statistics.median(values), 3) if values else None
    out["runs"] = len(runs)
    return out


def longest_stall(series: list[tuple[float, float]], start: float, end: float) -> float:
    """The longest single statement that was running at any point during the change."""
    worst = 0.0
    for t, lat in series:
        if t <= end and t + lat >= start:
            worst = max(worst, lat)
    return worst


def plot(rows: int, change: str, results: dict[str, dict[str, object]]) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, axes = plt.subplots(1, 3, figsize=(15, 4), sharey=True)
    for ax, variant in zip(axes, ("naive", "kysera", "hand"), strict=True):
        series = results[variant]["series"]
        assert isinstance(series, list)
        xs = [x for x, _ in series]
        ys = [y for _, y in series]
        ax.scatter(xs, ys, s=2)
        ax.axvspan(0, float(str(results[variant]["duration_s"])), color="orange", alpha=0.2, label="migration running")
        ax.set_title(f"{change}: {variant} (longest stall {results[variant]['longest_stall_ms']} ms)")
        ax.set_xlabel("seconds since the change started")
        ax.set_yscale("log")
    axes[0].set_ylabel("writer statement latency (ms, log)")
    axes[0].legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(RESULTS / f"safety-{rows}-{change}.png", dpi=80)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the table (default: 1000000)")
    parser.add_argument("--writers", type=int, default=4, help="concurrent writer threads (default: 4)")
    parser.add_argument("--url", default=URL, help="PostgreSQL database to use (default: $KYSERA_BENCH_PG_URL or %(default)s)")
    parser.add_argument("--only", choices=sorted(CHANGES), action="append", help="repeat it (default: every change)")
    parser.add_argument("--repeat", type=int, default=1, help="measure each variant N times; report medians")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    db = connect(args.url)
    print(f"setting up {args.rows} rows ...", flush=True)
    setup(db, args.rows)
    hand_conn = psycopg.connect(args.url.replace("postgresql+psycopg", "postgresql"), autocommit=True)
    report: dict[str, dict[str, dict[str, object]]] = {}
    for change, (naive, safe, hand) in CHANGES.items():
        if args.only and change not in args.only:
            continue
        report[change] = {}
        variants: list[tuple[str, Callable[[], None]]] = [
            ("naive", functools.partial(naive, db)),
            ("kysera", functools.partial(safe, db)),
            ("hand", functools.partial(hand, hand_conn)),
        ]
        # rounds of the three variants, the order rotating each round: a variant never always
        # follows the same one (e.g. the naive run's background I/O)
        runs: dict[str, list[dict[str, object]]] = {name: [] for name, _ in variants}
        for round_number in range(max(1, args.repeat)):
            shift = round_number % len(variants)
            for variant, fn in variants[shift:] + variants[:shift]:
                reset(db)
                runs[variant].append(measure(args.url, args.rows, args.writers, fn))
        for variant, _ in variants:
            report[change][variant] = combine(runs[variant])
            r = report[change][variant]
            print(f"{change:9} {variant:7} took {r['duration_s']:>7}s  p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms  "
                  f"max {r['max_ms']} ms  longest stall {r['longest_stall_ms']} ms", flush=True)
        plot(args.rows, change, report[change])
    reset(db)
    summary = {c: {v: {k: x for k, x in r.items() if k != "series"} for v, r in vs.items()} for c, vs in report.items()}
    (RESULTS / f"safety-{args.rows}.json").write_text(json.dumps(summary, indent=2))
    print("\n| change | variant | p50 ms | p99 ms | max ms | longest stall ms | ratio to hand (stall, p99) |\n|---|---|---|---|---|---|---|")
    for change, measured in summary.items():
        hand = measured["hand"]
        for variant, r in measured.items():
            ratio = ""
            if variant == "kysera":
                ratio = f"{float(str(r['longest_stall_ms'])) / max(float(str(hand['longest_stall_ms'])), 0.001):.2f}x, {float(str(r['p99_ms'])) / max(float(str(hand['p99_ms'])), 0.001):.2f}x"
            print(f"| {change} | {variant} | {r['p50_ms']} | {r['p99_ms']} | {r['max_ms']} | {r['longest_stall_ms']} | {ratio} |")
    db.execute("DROP TABLE IF EXISTS bench_events CASCADE")
    db.execute("DROP TABLE IF EXISTS bench_users CASCADE")
    db.close()
    hand_conn.close()


if __name__ == "__main__":
    main()
