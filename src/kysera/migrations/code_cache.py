"""One bytecode cache per migrations folder: ``__pycache__/kysera-migrations.<python>.bin``.

Loading a folder compiles every Python migration in it (``kysera migrate status`` too). Python's
own ``.pyc`` files would mean one file per migration: a thousand files to create on the first run
(which costs more than compiling them on many file systems, and leaves the disk busy writing them
back while the migrations' own commits wait for it) and to open on every later run. This cache
holds the code of the whole folder in one file instead. Like a ``.pyc``, each entry is valid for
its file's modification time (ns) and size; a changed, new or deleted file rewrites the cache,
atomically, so concurrent runs never read half a file. The checksum that detects edited
migrations is always computed from the source itself, never from this cache.
"""

from __future__ import annotations

import marshal
import os
import sys
import types
from importlib.util import MAGIC_NUMBER
from pathlib import Path

#: changes whenever the layout below changes
_FORMAT = b"KYSERA-CODE-1\n" + MAGIC_NUMBER

Entry = tuple[int, int, types.CodeType]  # mtime_ns, size, code


class CodeCache:
    """The cached code of one folder's migrations; :meth:`save` writes it back when it changed."""

    def __init__(self, folder: Path) -> None:
        # code objects remember the path they were compiled from (tracebacks, error lines): the
        # cache holds for the folder as spelled when it was written
        self.folder = str(folder)
        tag = sys.implementation.cache_tag
        self.path = os.path.join(self.folder, "__pycache__", f"kysera-migrations.{tag}.bin") if tag else None
        self._old: dict[str, Entry] = self._read()
        self._new: dict[str, Entry] = {}
        self._compiled = False
        #: the process compiling part of the files, started by :meth:`prepare`
        self._helper: _Helper | None = None

    def _read(self) -> dict[str, Entry]:
        if self.path is None:
            return {}
        try:
            with open(self.path, "rb") as file:
                blob = file.read()
        except OSError:
            return {}
        if not blob.startswith(_FORMAT):
            return {}
        try:
            folder, entries = marshal.loads(memoryview(blob)[len(_FORMAT) :])
        except (EOFError, ValueError, TypeError):
            return {}  # a damaged cache is a missing one
        return entries if folder == self.folder and isinstance(entries, dict) else {}

    def _cached(self, name: str, stat: os.stat_result) -> types.CodeType | None:
        entry = self._old.get(name)
        if entry is not None and entry[0] == stat.st_mtime_ns and entry[1] == stat.st_size:
            return entry[2]
        return None

    def prepare(self, files: list[tuple[Path, bytes, os.stat_result]]) -> None:
        """Get ready to compile the files the cache does not hold, given in the order they will be
        loaded. When there are many (a first run, a fresh checkout in CI), the later part of them
        compiles in a forked second process while this one compiles and runs the first part,
        since compiling is most of what loading costs then."""
        missing = [(path, data) for path, data, stat in files if self._cached(path.name, stat) is None]
        if len(missing) >= PARALLEL_FROM and _can_fork():
            self._helper = _start_helper(missing)

    def code(self, path: Path, data: bytes, stat: os.stat_result) -> types.CodeType:
        """The code of ``path``, whose contents are ``data`` (read after ``stat`` was taken)."""
        name = path.name
        code = self._cached(name, stat)
        if code is None:
            helper = self._helper
            if helper is not None and name in helper.names:
                code = helper.collect().pop(name, None)
            if code is None:
                code = _compile(path, data)  # SyntaxError propagates
            self._compiled = True
        if stat.st_size == len(data):  # not rewritten between the stat and the read
            self._new[name] = (stat.st_mtime_ns, stat.st_size, code)
        return code

    def close(self) -> None:
        """Wait for the helper process, if one was started (loading stopped early, say)."""
        if self._helper is not None:
            self._helper.collect()
            self._helper = None

    def save(self) -> None:
        """Write the cache when a file was compiled, added or removed; best effort, like ``.pyc``
        files (a read-only folder, or ``PYTHONDONTWRITEBYTECODE``, just means no cache)."""
        if self.path is None or sys.dont_write_bytecode:
            return
        if not self._compiled and self._new.keys() == self._old.keys():
            return
        blob = _FORMAT + marshal.dumps((self.folder, self._new))
        temporary = f"{self.path}.{os.getpid()}.tmp"
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(temporary, "wb") as file:
                file.write(blob)
            os.replace(temporary, self.path)
        except OSError:
            try:
                os.unlink(temporary)
            except OSError:
                pass


#: from this many files to compile, part of them compile in a second process
PARALLEL_FROM = 200

#: the share of the files the second process compiles: this process also runs every module, and
#: it runs its own share first, while the helper still compiles (measured best near 0.56)
HELPER_SHARE = 0.55


def _can_fork() -> bool:
    """Fork only where it is safe and useful: Linux, two processors, and no other thread (a
    thread holding a lock at fork time would leave the child stuck on it)."""
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    try:
        processors = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        processors = os.cpu_count() or 1
    import threading

    return processors >= 2 and threading.active_count() == 1


class _Helper:
    """A forked child that compiles the last files of a load and sends their code back through
    a pipe; :meth:`collect` waits for it the first time one of those files is needed."""

    def __init__(self, pid: int, pipe: int, files: list[tuple[Path, bytes]]) -> None:
        self.pid = pid
        self.pipe = pipe
        self.files = files
        self.names = {path.name for path, _ in files}
        self._done: dict[str, types.CodeType] | None = None

    def collect(self) -> dict[str, types.CodeType]:
        """The code the child compiled, by file name. Whatever it could not compile (or all of
        it, when the child failed) is missing: the caller compiles those and reports errors."""
        if self._done is not None:
            return self._done
        self._done = {}
        status = 1
        # closing the pipe early (an interrupt) makes the child's write fail, so it always ends
        with os.fdopen(self.pipe, "rb") as pipe:
            try:
                blob = pipe.read()
            finally:
                pipe.close()
                _, status = os.waitpid(self.pid, 0)
        if status != 0:
            return self._done
        try:
            codes = marshal.loads(blob)
        except (EOFError, ValueError, TypeError):
            return self._done
        if isinstance(codes, list) and len(codes) == len(self.files):
            self._done.update((path.name, code) for (path, _), code in zip(self.files, codes, strict=True) if code is not None)
        return self._done


def _start_helper(files: list[tuple[Path, bytes]]) -> _Helper | None:
    """Fork a child that compiles the last :data:`HELPER_SHARE` of ``files``; None if it cannot."""
    theirs = files[len(files) - int(len(files) * HELPER_SHARE) :]
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:  # the child: compile, send, and leave without running any of the parent's cleanup
        status = 1
        try:
            os.close(read_end)
            blob = marshal.dumps([_try_compile(path, data) for path, data in theirs])
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(blob)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    return _Helper(pid, read_end, theirs)


def _compile(path: Path, data: bytes) -> types.CodeType:
    return compile(data, str(path), "exec", dont_inherit=True)


def _try_compile(path: Path, data: bytes) -> types.CodeType | None:
    try:
        return _compile(path, data)
    except (SyntaxError, ValueError):
        return None  # compiled again by the loader, which reports the error
