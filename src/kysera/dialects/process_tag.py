"""The name a kysera process gives its PostgreSQL sessions, so that a later run can tell a
session whose process is gone.

A runner killed with SIGKILL leaves its server session behind until the statement it was
running ends (the server notices the lost client only when it next talks to it): a long index
build then keeps the migration lock for hours. Every kysera session is named
``kysera <pid> <machine>`` (``application_name``), where ``<machine>`` stands for this machine,
boot and PID namespace together. A waiter whose own ``<machine>`` is the same can ask the kernel
whether ``<pid>`` still runs; when it does not, the session is an orphan and may be ended.
Sessions of another machine, container or boot are never judged.
"""

from __future__ import annotations

import os
import socket

from ..hashing import sha256

_machine: str | None = None


def machine() -> str:
    """Ten hex digits for this host, this boot and this PID namespace."""
    global _machine
    if _machine is None:
        parts = [socket.gethostname()]
        for path in ("/proc/sys/kernel/random/boot_id",):
            try:
                with open(path, encoding="ascii") as file:
                    parts.append(file.read().strip())
            except OSError:
                parts.append("?")
        try:
            parts.append(os.readlink("/proc/self/ns/pid"))
        except OSError:
            parts.append("?")
        _machine = sha256("\0".join(parts).encode()).hexdigest()[:10]
    return _machine


def application_name() -> str:
    """``kysera <pid> <machine>``: what this process names its PostgreSQL sessions."""
    return f"kysera {os.getpid()} {machine()}"


def gone_process(name: object) -> int | None:
    """The pid in ``name`` (a session's ``application_name``) when it names a kysera process of
    this machine (:func:`machine`) that no longer runs; None otherwise, and whenever unsure."""
    if not isinstance(name, str):
        return None
    words = name.split()
    if len(words) != 3 or words[0] != "kysera" or words[2] != machine() or not words[1].isdigit():
        return None
    pid = int(words[1])
    if pid == os.getpid():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return pid
    except OSError:  # another user's process: it runs
        return None
    try:  # a zombie (killed, not reaped yet) runs no more
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as file:
            state = file.read().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return None
    return pid if state in ("Z", "X") else None
