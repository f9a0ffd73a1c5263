"""A migration runner in its own process, for the concurrency and crash tests.

    python worker.py URL FOLDER GO_FILE

Waits until GO_FILE exists (so that all workers start together), runs every pending migration
of FOLDER and prints one JSON line: {"executed": [...], "error": null | "..."}.
"""

from __future__ import annotations

import json
import os
import sys
import time

from kysera import connect
from kysera.migrations import create_migration_runner


def main() -> int:
    url, folder, go = sys.argv[1:4]
    db = connect(url)
    runner = create_migration_runner(db, folder, lock_timeout=60)
    with open(f"{go}.ready.{os.getpid()}", "w") as ready:  # connected and loaded
        ready.write("ready")
    deadline = time.monotonic() + 30
    while not os.path.exists(go) and time.monotonic() < deadline:
        time.sleep(0.005)
    try:
        result = runner.up()
    except Exception as exc:
        print(json.dumps({"executed": [], "error": f"{type(exc).__name__}: {exc}"}))
        return 1
    finally:
        db.close()
    print(json.dumps({"executed": result.executed, "error": None}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
