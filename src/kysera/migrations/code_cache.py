"""One bytecode cache per migrations folder: ``__pycache__/kysera-migrations.<python>.bin``.

Loading a folder compiles every Python migration in it (``kysera migrate status`` too). Python's
own ``.pyc`` files would mean one file per migration: a thousand files to create on the first run
(which costs more than compiling them on many file systems, and leaves the disk busy writing them
back while the migrations' own commits wait for it) and to open on every later run. This cache
holds the code of the whole folder in one file instead. Like a ``.pyc``, each entry is valid for
its file's modification time (ns), status-change time and size (a ``.pyc`` checks only the first and
the last, which an edit followed by ``touch -r`` keeps); a changed, new or deleted file rewrites the cache,
atomically, so concurrent runs never read half a file. The checksum that detects edited
migrations is always computed from the source itself, never from this cache.
"""

from __future__ import annotations

import marshal
import mmap
import os
import sys
import types
from collections.abc import Callable
from importlib.util import MAGIC_NUMBER
from pathlib import Path

#: changes whenever the layout below changes
_FORMAT = b"KYSERA-CODE-3\n" + MAGIC_NUMBER

Entry = tuple[int, int, types.CodeType]  # stamp (see _stamp), size, code
#: what a compiling child sent, as it sent it: the file names it was given, and the marshalled
#: list of (index into those names, stamp, size, code) it compiled. The cache file holds such
#: parts as they are, so a first run does not marshal that code a second time to write it.
Part = tuple[list[str], bytes]


class CodeCache:
    """The cached code of one folder's migrations; :meth:`save` writes it back when it changed."""

    def __init__(self, folder: Path) -> None:
        # code objects remember the path they were compiled from (tracebacks, error lines): the
        # cache holds for the folder as spelled when it was written
        self.folder = str(folder)
        self.path = _cache_path(self.folder)
        self._old: dict[str, Entry] = self._read()
        self._new: dict[str, Entry] = {}
        self._compiled = False
        #: the process compiling part of the files, started by :meth:`prepare`
        self._helper: _Helper | None = None
        #: the helper was started by :func:`compile_ahead`, so the cache looked stale
        self._ahead = False
        #: the helper's code as it sent it, and the files whose code in ``_new`` came from it
        self._part: Part | None = None
        self._from_part: set[str] = set()

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
            folder, entries, parts = marshal.loads(memoryview(blob)[len(_FORMAT) :])
            if folder != self.folder or not isinstance(entries, dict):
                return {}
            merged: dict[str, Entry] = {}
            for names, part in parts:
                for i, stamp, size, code in marshal.loads(part):
                    merged[names[i]] = (stamp, size, code)
        except (EOFError, ValueError, TypeError, IndexError):
            return {}  # a damaged cache is a missing one
        merged.update(entries)  # the parent's own entries are the newer ones
        return merged

    def _cached(self, name: str, stat: os.stat_result) -> types.CodeType | None:
        return _code_at(self._old.get(name), _stamp(stat), stat.st_size)  # twice per file: one call less

    def take_ahead(self) -> bool:
        """Take over the helper that :func:`compile_ahead` started for this folder earlier in the
        process, if there is one. That helper reads the files it takes itself: the loader then
        asks :meth:`read_ahead` for each file before reading it, and needs no :meth:`prepare`."""
        self._helper = _take_early(self.folder)
        self._ahead = self._helper is not None
        return self._ahead

    def prepare(self, files: list[tuple[str, str, bytes, os.stat_result]]) -> None:
        """Get ready to compile the files the cache does not hold, given as (file name, path,
        contents, status) in the order they will be loaded. When there are many (a first run, a
        fresh checkout in CI), a forked second process compiles them from the last one backwards
        while this one compiles and runs them from the first on, since compiling is most of what
        loading costs then; they meet where the work of each ends, whatever else this process
        does meanwhile."""
        missing = [(name, path, data, stat) for name, path, data, stat in files if self._cached(name, stat) is None]
        if len(missing) >= PARALLEL_FROM and _can_fork():
            self._helper = _start_helper(missing)

    def read_ahead(self, name: str, path: str) -> tuple[types.CodeType, str] | None:
        """With the helper of :meth:`take_ahead`: the code and the checksum of the file ``name``
        at ``path`` as the helper read it, when the helper took that file (compiled it, or found
        it cached) and the file still has the stamp and size it had then (a stat,
        as the cache checks a file). None when this process is to read the file and ask
        :meth:`code`: the helper has not got to it, could not read or compile it (the loader
        reports why), or the file changed since."""
        helper = self._helper
        if helper is None or helper.claim(name):
            return None
        seen = helper.collect_read().get(name)
        if seen is None:
            return None
        stamp, size, checksum = seen
        try:
            now = os.stat(path)
        except OSError:
            return None
        if _stamp(now) != stamp or now.st_size != size:
            return None
        code = _code_at(helper.collect().get(name), stamp, size)
        if code is not None:
            self._compiled = True
            self._from_part.add(name)
        else:
            code = _code_at(self._old.get(name), stamp, size)
            if code is None:
                return None  # it did not compile: compiled here, which reports the error
        self._new[name] = (stamp, size, code)
        return code, checksum

    def code(self, name: str, path: str, data: bytes, stat: os.stat_result) -> types.CodeType:
        """The code of the file ``name`` at ``path``, whose contents are ``data`` (read after
        ``stat`` was taken)."""
        code = self._cached(name, stat)
        if code is None:
            helper = self._helper
            from_part = False
            if helper is not None and not helper.claim(name):
                # compiled by the helper from the file as it was then: the same file still?
                code = _code_for(helper.collect().get(name), stat)
                from_part = code is not None
            if code is None:
                code = _compile(path, data)  # SyntaxError propagates
            self._compiled = True
            if from_part:
                self._from_part.add(name)
            else:
                self._from_part.discard(name)
        if stat.st_size == len(data):  # not rewritten between the stat and the read
            self._new[name] = (_stamp(stat), stat.st_size, code)
        return code

    def close(self) -> None:
        """Stop and reap the helper process, if one was started: what it has not sent by now
        (loading stopped early, or every file was found compiled) is not needed."""
        if self._helper is not None:
            self._helper.stop()
            self._part = self._helper.part
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
            if self._ahead:
                # the folder changed, but not its migrations (another file added, say): mark the
                # cache current, or every later command would start a helper for nothing
                try:
                    os.utime(self.path)
                except OSError:
                    pass
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
        own, parts = self._new, []
        if self._part is not None and self._from_part:
            # the helper's code goes in as it arrived; the rest is this process's own
            own = {name: entry for name, entry in self._new.items() if name not in self._from_part}
            parts = [self._part]
        blob = _FORMAT + marshal.dumps((self.folder, own, parts))
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


def _code_for(entry: Entry | None, stat: os.stat_result) -> types.CodeType | None:
    """The code of ``entry`` if it was compiled from the file that ``stat`` describes (the same
    stamp and size: see :func:`_stamp`), else None."""
    return _code_at(entry, _stamp(stat), stat.st_size)


def _stamp(stat: os.stat_result) -> int:
    """When the file last changed, as one number: its modification time and its status-change
    time (ns). The second cannot be set back: an edit that keeps the size and restores the
    modification time (``touch -r``, some sync tools) still changes it, so old code never runs."""
    return (stat.st_mtime_ns << 64) | stat.st_ctime_ns


def _code_at(entry: Entry | None, stamp: int, size: int) -> types.CodeType | None:
    if entry is not None and entry[0] == stamp and entry[1] == size:
        return entry[2]
    return None


def _cache_path(folder: str) -> str | None:
    tag = sys.implementation.cache_tag
    return os.path.join(folder, "__pycache__", f"kysera-migrations.{tag}.bin") if tag else None


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
    through a pipe (with, from the helper of :func:`compile_ahead`, the checksum of each file it
    read, so that this process need not read those files). Each process marks a file in a shared byte map before compiling it, and the
    child stops at the first file already marked; :meth:`collect` waits for the child the first
    time this process meets a file the child took. Should both take the same file at the same
    instant, it is compiled twice, which is harmless. The child sends each file's modification
    time and size with its code, as the cache keeps them: code compiled from a file that has
    changed since is not used."""

    def __init__(self, pid: int, pipe: int, names: list[str], marks: mmap.mmap, folder: str) -> None:
        self.pid = pid
        self.pipe = pipe
        self.names = names
        self.marks = marks
        self.folder = folder
        self.position = {name: i for i, name in enumerate(names)}
        self._done: dict[str, Entry] | None = None
        #: the files the child read: stamp, size and checksum, by file name
        self._read: dict[str, tuple[int, int, str]] = {}
        #: what the child sent, for the cache file (:data:`Part`); None until it sent it whole
        self.part: Part | None = None

    def claim(self, name: str) -> bool:
        """Take ``name`` to compile here: False when the child has taken it already."""
        if self._done is not None:  # the child is done: what it compiled is all it will
            return name not in self._done and name not in self._read
        i = self.position.get(name)
        if i is None:
            return True
        if self.marks[i] == _HELPERS:
            return False
        self.marks[i] = _OURS
        return True

    def collect(self) -> dict[str, Entry]:
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
            part, read = marshal.loads(blob)
            compiled = marshal.loads(part)
        except (EOFError, ValueError, TypeError):
            return self._done
        names = self.names
        for i, stamp, size, code in compiled:
            self._done[names[i]] = (stamp, size, code)
        for i, stamp, size, checksum in read:
            self._read[names[i]] = (stamp, size, checksum)
        self.part = (names, part)
        return self._done

    def collect_read(self) -> dict[str, tuple[int, int, str]]:
        """What the child read, by file name: stamp, size and checksum (waits for
        the child, like :meth:`collect`)."""
        self.collect()
        return self._read

    def stop(self) -> None:
        """End the child without its work (nobody will use it), and reap it."""
        if self._done is None:
            import signal

            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
            self.collect()


Compiled = tuple[int, int, int, types.CodeType]  # the file's index, stamp, size, code
#: a file the child read whole: its index, stamp, size and checksum
Read = tuple[int, int, int, str]


def _fork_helper(
    names: list[str], folder: str, compile_one: Callable[[int], tuple[Compiled | None, Read | None]]
) -> _Helper | None:
    """Fork the child that runs ``compile_one`` on the files from the last one backwards."""
    marks = mmap.mmap(-1, len(names))  # anonymous and shared with the child
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
            compiled: list[Compiled] = []
            read: list[Read] = []
            for i in range(len(names) - 1, -1, -1):
                # stop where the parent gets to, or a little before: sending what the child
                # compiled takes about a sixteenth of the time compiling it took, and the
                # parent compiles the files in between meanwhile instead of waiting for it
                if marks[i] != _FREE or marks[max(i - len(compiled) // 16, 0)] != _FREE:
                    break  # the rest is the parent's
                marks[i] = _HELPERS
                code, seen = compile_one(i)
                if code is not None:
                    compiled.append(code)
                if seen is not None:
                    read.append(seen)
            # the code apart, marshalled once: the cache file keeps it as it is (see Part)
            blob = marshal.dumps((marshal.dumps(compiled), read))
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(blob)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    return _Helper(pid, read_end, names, marks, folder)


def _start_helper(files: list[tuple[str, str, bytes, os.stat_result]]) -> _Helper | None:
    """Fork the child that compiles ``files`` (name, path, contents, status; read already)
    from the last one backwards."""

    def compile_one(i: int) -> tuple[Compiled | None, Read | None]:
        _, path, data, stat = files[i]
        if stat.st_size != len(data):
            return None, None  # rewritten between the stat and the read: the loader compiles it
        code = _try_compile(path, data)
        return (None if code is None else (i, _stamp(stat), stat.st_size, code)), None

    return _fork_helper([name for name, _, _, _ in files], "", compile_one)


# ----------------------------------------------------------------------------- ahead of loading

#: the helper :func:`compile_ahead` started, until a :class:`CodeCache` of its folder takes it
_early: _Helper | None = None


def compile_ahead(
    folder: Path,
    files: list[tuple[str, str]],
    read: Callable[[str], tuple[bytes, os.stat_result]],
    checksum: Callable[[bytes], str],
) -> None:
    """Start compiling the Python migrations ``files`` (file name, path) of ``folder``, in load
    order, in a second process now, when many of them will need it; ``read(path)`` gives a file's
    contents and status, ``checksum(contents)`` its checksum. The :class:`CodeCache` of ``folder``
    takes the helper over when the folder is loaded (:meth:`CodeCache.take_ahead`); a helper
    nobody took is stopped as the process ends.

    The helper sends the checksum of every file it read, cached or not, with the code it
    compiled: the loader does not read those files again. Code and checksum come from the same
    read, so they always describe the same contents.

    The command line calls this before it imports anything else (click, the database layer),
    which costs a first run about as long as compiling a few hundred files: the helper
    compiles meanwhile. Whether the cache is stale is judged from two modification times
    (the cache file's and the folder's, which changes when a file is added, removed or saved
    by renaming): a folder whose cache looks current gets no helper, and a file edited in
    place since then is compiled as the folder loads.
    """
    global _early
    if _early is not None or len(files) < PARALLEL_FROM or not _can_fork():
        return
    cache_path = _cache_path(str(folder))
    if cache_path is not None:
        try:
            if os.stat(cache_path).st_mtime_ns >= os.stat(folder).st_mtime_ns:
                return  # looks current: nothing, or next to nothing, to compile
        except OSError:
            pass
    cache: list[CodeCache] = []  # read by the child, once, when it starts compiling

    def compile_one(i: int) -> tuple[Compiled | None, Read | None]:
        name, path = files[i]
        try:
            data, stat = read(path)
        except Exception:
            return None, None  # the loader reads it, and reports what is wrong
        if stat.st_size != len(data):
            return None, None  # rewritten between the stat and the read: the loader reads it
        seen = (i, _stamp(stat), stat.st_size, checksum(data))
        if not cache:
            cache.append(CodeCache(folder))
        if cache[0]._cached(name, stat) is not None:
            return None, seen  # cached: the loader finds its code there
        code = _try_compile(path, data)
        return (None if code is None else (i, _stamp(stat), stat.st_size, code)), seen

    _early = _fork_helper([name for name, _ in files], str(folder), compile_one)
    if _early is not None:
        import atexit

        atexit.register(_drop_early)


def _take_early(folder: str) -> _Helper | None:
    global _early
    helper = _early
    if helper is None or helper.folder != folder:
        return None
    _early = None
    return helper


def _drop_early() -> None:
    global _early
    helper, _early = _early, None
    if helper is not None:
        helper.stop()


def _compile(path: str, data: bytes) -> types.CodeType:
    return compile(data, path, "exec", dont_inherit=True)


def _try_compile(path: str, data: bytes) -> types.CodeType | None:
    try:
        return _compile(path, data)
    except (SyntaxError, ValueError):
        return None  # compiled again by the loader, which reports the error
