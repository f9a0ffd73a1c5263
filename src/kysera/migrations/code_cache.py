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

    def code(self, path: Path, data: bytes, stat: os.stat_result) -> types.CodeType:
        """The code of ``path``, whose contents are ``data`` (read after ``stat`` was taken)."""
        name = path.name
        entry = self._old.get(name)
        if entry is not None and entry[0] == stat.st_mtime_ns and entry[1] == stat.st_size:
            code = entry[2]
        else:
            code = compile(data, str(path), "exec", dont_inherit=True)  # SyntaxError propagates
            self._compiled = True
        if stat.st_size == len(data):  # not rewritten between the stat and the read
            self._new[name] = (stat.st_mtime_ns, stat.st_size, code)
        return code

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
