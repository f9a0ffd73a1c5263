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
import mmap
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
        loaded. When there are many (a first run, a fresh checkout in CI), a forked second process
        compiles them from the last one backwards while this one compiles and runs them from the
        first on, since compiling is most of what loading costs then; they meet where the work
        of each ends, whatever else this process does meanwhile."""
        missing = [(path, data) for path, data, stat in files if self._cached(path.name, stat) is None]
        if len(missing) >= PARALLEL_FROM and _can_fork():
            self._helper = _start_helper(missing)

    def code(self, path: Path, data: bytes, stat: os.stat_result) -> types.CodeType:
        """The code of ``path``, whose contents are ``data`` (read after ``stat`` was taken)."""
        name = path.name
        code = self._cached(name, stat)
        if code is None:
            helper = self._helper
            if helper is not None and not helper.claim(name):
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

    def save(self, *, later: bool = False) -> None:
        """Write the cache when a file was compiled, added or removed; best effort, like ``.pyc``
        files (a read-only folder, or ``PYTHONDONTWRITEBYTECODE``, just means no cache).

        ``later``: write it when :func:`save_deferred` is called, or else as the process ends.
        The command line does that: a first run writes about a kilobyte per migration, and the
        first commits after that write wait for the disk to take it too (with ext4's ordered
        journal, a commit flushes what other files wrote before it). Measured on a thousand
        migrations on SQLite: about 0.1 s of the run, against none when the cache is written
        after the migrations' commits.
        """
        if self.path is None or sys.dont_write_bytecode:
            return
        if not self._compiled and self._new.keys() == self._old.keys():
            return
        if later:
            if not _deferred:
                import atexit

                atexit.unregister(save_deferred)  # registered once, however often it is used
                atexit.register(save_deferred)
            _deferred.append(self)
            return
        self._write()

    def _write(self) -> None:
        assert self.path is not None
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


#: caches whose writing was put off (``save(later=True)``)
_deferred: list[CodeCache] = []


def save_deferred() -> None:
    """Write the caches whose writing was put off."""
    while _deferred:
        _deferred.pop(0)._write()


#: from this many files to compile, a second process helps
PARALLEL_FROM = 200

#: a file's mark in the map both processes share: not taken yet, compiled here, by the helper
_FREE, _OURS, _HELPERS = 0, 1, 2


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
    """A forked child that compiles files from the last one backwards and sends their code back
    through a pipe. Each process marks a file in a shared byte map before compiling it, and the
    child stops at the first file already marked; :meth:`collect` waits for the child the first
    time this process meets a file the child took. Should both take the same file at the same
    instant, it is compiled twice, which is harmless."""

    def __init__(self, pid: int, pipe: int, files: list[tuple[Path, bytes]], marks: mmap.mmap) -> None:
        self.pid = pid
        self.pipe = pipe
        self.files = files
        self.marks = marks
        self.position = {path.name: i for i, (path, _) in enumerate(files)}
        self._done: dict[str, types.CodeType] | None = None

    def claim(self, name: str) -> bool:
        """Take ``name`` to compile here: False when the child has taken it already."""
        if self._done is not None:  # the child is done: what it compiled is all it will
            return name not in self._done
        i = self.position.get(name)
        if i is None:
            return True
        if self.marks[i] == _HELPERS:
            return False
        self.marks[i] = _OURS
        return True

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
                self.marks.close()
        if status != 0:
            return self._done
        try:
            compiled = marshal.loads(blob)
        except (EOFError, ValueError, TypeError):
            return self._done
        if isinstance(compiled, list):
            for i, code in compiled:
                if code is not None:
                    self._done[self.files[i][0].name] = code
        return self._done


def _start_helper(files: list[tuple[Path, bytes]]) -> _Helper | None:
    """Fork the child that compiles ``files`` from the last one backwards; None if it cannot."""
    marks = mmap.mmap(-1, len(files))  # anonymous and shared with the child
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        marks.close()
        return None
    if pid == 0:  # the child: compile, send, and leave without running any of the parent's cleanup
        status = 1
        try:
            os.close(read_end)
            compiled: list[tuple[int, types.CodeType | None]] = []
            for i in range(len(files) - 1, -1, -1):
                if marks[i] != _FREE:
                    break  # the parent got here: the rest is its own
                marks[i] = _HELPERS
                compiled.append((i, _try_compile(*files[i])))
            blob = marshal.dumps(compiled)
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(blob)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    return _Helper(pid, read_end, files, marks)


def _compile(path: Path, data: bytes) -> types.CodeType:
    return compile(data, str(path), "exec", dont_inherit=True)


def _try_compile(path: Path, data: bytes) -> types.CodeType | None:
    try:
        return _compile(path, data)
    except (SyntaxError, ValueError):
        return None  # compiled again by the loader, which reports the error
