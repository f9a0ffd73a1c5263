"""Says what a long migration is doing: a note on stderr after a few seconds, then now and then.

A migration that runs long is usually waiting: for a lock someone else holds, or for a big
statement to finish. The command line would otherwise say nothing until it ends. After
:data:`FIRST_NOTE` seconds the watchdog writes ``001_x is still running (10 s): <statement>; waiting
for a relation lock held by pid 4242 (<its statement>)``, then again every :data:`EVERY` seconds.
What the statement is and what it waits for come from the server (PostgreSQL's
``pg_stat_activity``, MySQL's process list and InnoDB's transactions), read through a second
connection that is opened only then; SQLite has no server to ask, so its note names the migration and the time.

One thread per command, started with the first migration; each migration only records its name
and start time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

#: seconds before the first note about a migration
#: (later than the default statement_lock_timeout of 5 s: a lock wait that long gives up and is
#: retried before a note would only race its failure)
FIRST_NOTE = 10.0
#: seconds between the notes after it
EVERY = 15.0


class Watchdog:
    """Call :meth:`started` as a migration begins and :meth:`finished` when it ends; :meth:`close`
    at the end of the command. ``note(text)`` writes a line; ``describe()`` says what the
    migration's session is doing, or None (it may block on the server; it runs in this thread)."""

    def __init__(
        self,
        note: Callable[[str], None],
        describe: Callable[[], str | None],
        first: float = FIRST_NOTE,
        every: float = EVERY,
    ) -> None:
        self._note = note
        self._describe = describe
        self._first = first
        self._every = every
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._label: str | None = None
        self._since = 0.0
        self._due = 0.0
        self._thread: threading.Thread | None = None
        self._closed = False

    def started(self, label: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._label, self._since, self._due = label, now, now + self._first
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="kysera-watchdog", daemon=True)
                self._thread.start()

    def finished(self) -> None:
        with self._lock:
            self._label = None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._label = None
        self._wake.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    return
                wait = self._due - time.monotonic() if self._label is not None else self._first
            if wait > 0 and self._wake.wait(wait):
                return  # closed
            with self._lock:
                label, since = self._label, self._since
                if label is None or self._closed or time.monotonic() < self._due:
                    continue
                self._due += self._every
            try:
                doing = self._describe()
            except Exception:  # a note is a courtesy: never let it break the run
                doing = None
            with self._lock:
                if self._label != label or self._since != since or self._closed:
                    continue  # it ended while the server was asked
            try:
                self._note(f"{label} is still running ({time.monotonic() - since:.0f} s){': ' + doing if doing else ''}")
            except Exception:  # stderr is gone: nobody to tell
                return
