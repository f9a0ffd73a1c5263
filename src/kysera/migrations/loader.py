"""``load_migrations(directory)``: every ``.py`` and ``.sql`` migration of a folder, validated.

A ``.py`` migration defines ``up(db)`` and optionally ``down(db)``, and may set the module
attributes ``transaction = False`` (run outside a transaction), ``down_transaction`` and
``description``. A ``.sql`` migration has ``-- migrate:up`` / ``-- migrate:down`` sections (see
:mod:`kysera.migrations.sql_file`). The name of a migration is its file name without the
extension; migrations are returned sorted by name.

Files whose names start with ``_`` or ``.`` (helpers, editor files), ``__pycache__`` and other
extensions are ignored. Every file is loaded and checked before anything runs: one problem in any
file (a syntax error, an exception at import, no ``up``, a ``.sql`` file without sections, two
files with the same name, names that differ only in case, or numbers without zero padding that
name order would run out of turn, ``10_c`` before ``2_b``) raises :class:`MigrationLoadError` naming each bad file.

Python files are imported by path under a private module name (``_kysera_migrations_<hash>.*``),
so they never clash with, or replace, modules of the application. A migration can import a helper
module that sits next to it (``_helpers.py``, ignored as a migration): at the top of the file with
``import _helpers``, or anywhere with ``from . import _helpers``.
"""

from __future__ import annotations

import os
import re
import sys
import types
from collections.abc import Callable
from importlib.machinery import ModuleSpec, SourceFileLoader
from pathlib import Path
from stat import S_ISREG

from ..hashing import sha256
from .code_cache import CodeCache
from .errors import MigrationDefinitionError, MigrationLoadError
from .migration import Migration, file_checksum, signature_problem

EXTENSIONS = (".py", ".sql")


def load_migrations(
    directory: str | os.PathLike[str],
    *,
    meanwhile: Callable[[], object] | None = None,
    cache_later: bool = False,
) -> list[Migration]:
    """The migrations in ``directory``, sorted by name; raises :class:`MigrationLoadError`.

    ``meanwhile`` is called once, as soon as the files are compiling: when there are many new
    ones, a second process compiles part of them and work that does not need the migrations
    (the command line imports what it runs next) overlaps with that. ``cache_later`` puts off
    writing the folder's code cache until ``kysera.migrations.code_cache.save_deferred()`` (or
    the end of the process): the command line runs the migrations first.
    """
    if not isinstance(directory, str | os.PathLike):
        raise MigrationLoadError([f"load_migrations() takes the path of a folder, got {directory!r}"])
    folder = Path(directory)
    if not folder.exists():
        raise MigrationLoadError(
            [
                f"the migrations folder {folder} does not exist; create it (kysera migrate create NAME does) "
                "or point to the right folder ([migrations] directory in kysera.toml)"
            ],
            [folder],
        )
    if not folder.is_dir():
        raise MigrationLoadError([f"{folder} is not a folder; point to the folder that holds the migration files"], [folder])
    files = _migration_files(folder)
    problems: list[str] = []
    bad: list[str] = []
    for _, name, path in files:
        if not name.endswith(EXTENSIONS):  # 001_a.SQL: the extension is the only one in capitals
            problems.append(f"{path}: a migration file ends in .py or .sql, in lower case; rename it")
            bad.append(path)
    files = [f for f in files if f[2] not in bad]
    seen: dict[str, tuple[str, str]] = {}  # the name in lower case -> (the name, its file)
    for stem, _, path in files:
        first = seen.get(stem.lower())
        if first is None:
            seen[stem.lower()] = (stem, path)
        elif first[0] == stem:
            problems.append(f"{first[1]} and {path} are both migration {stem!r}; rename or delete one of them")
            bad.append(path)
        else:
            # MySQL's history table, and case-insensitive file systems, take them for one name
            problems.append(
                f"{first[1]} and {path} are migrations {first[0]!r} and {stem!r}, names that differ only in case; "
                "rename one of them"
            )
            bad.append(path)
    named = {stem: name for stem, name, _ in files}
    halves = [(path, other) for stem, _, path in files if (other := _split_pair(stem, named)) is not None]
    for path, other in halves:
        problems.append(
            f"{path} looks like the down file of {other} (golang-migrate's .up.sql and .down.sql, yoyo's "
            ".rollback.sql), which kysera would run as a migration of its own: kysera keeps both directions in "
            f"one file, so move this SQL under a '-- migrate:down' line in {other}, below a '-- migrate:up' "
            "line over that file's SQL, and delete this file"
        )
        bad.append(path)
    if halves:
        files = [f for f in files if f[2] not in bad]
    unordered = _numbers_out_of_order(files)
    if unordered is not None:
        problems.append(unordered[0])
        bad.extend(unordered[1])
    package = _private_package(folder)
    cache = CodeCache(folder)
    # file name -> (path, contents, status); paths stay strings while a folder loads (a thousand
    # Path objects, built, hashed and asked for their name, cost more than the rest of this)
    sources: dict[str, tuple[str, bytes, os.stat_result] | _Problem] = {}
    migrations: list[Migration] = []
    try:
        # a helper that compile_ahead started reads the files it takes itself: only the others
        # are read here, as they load (see CodeCache.read_ahead); else every file is read first,
        # so that a helper can start with the contents of the files the cache does not hold
        ahead = cache.take_ahead()
        if not ahead:
            for _, name, path in files:
                if name.endswith(".py"):
                    try:
                        sources[name] = (path, *_read_file(path))
                    except _Problem as problem:
                        sources[name] = problem
            cache.prepare([(name, *got) for name, got in sources.items() if not isinstance(got, _Problem)])
        if meanwhile is not None:
            meanwhile()
        with _sibling_imports(folder):
            for index, (stem, name, path) in enumerate(files):
                try:
                    if not name.endswith(".py"):
                        migrations.append(_load_sql(stem, path))
                        continue
                    read = cache.read_ahead(name, path) if ahead else None
                    if read is not None:
                        code, checksum = read
                    else:
                        got = sources.get(name) or (path, *_read_file(path))
                        if isinstance(got, _Problem):
                            raise got
                        _, data, stat = got
                        code, checksum = _compiled(cache, name, path, data, stat), file_checksum(data)
                    migrations.append(_run_module(stem, package, index, path, code, checksum))
                except _Problem as problem:
                    problems.append(str(problem))
                    bad.append(path)
    finally:
        cache.close()
    cache.save(later=cache_later)
    if problems:
        raise MigrationLoadError(problems, [Path(path) for path in bad])
    return migrations  # in name order already: the files were


def compile_ahead(directory: str | os.PathLike[str]) -> None:
    """Start compiling the folder's Python migrations in a second process, ahead of
    :func:`load_migrations`, when there are many and its code cache looks stale; loading the
    folder later in the process uses that work. Best effort and quiet: whatever is wrong with
    the folder is reported by :func:`load_migrations`. The command line calls it first thing.
    """
    from . import code_cache

    folder = Path(directory)
    try:
        files = _migration_files(folder)
    except OSError:
        return
    code_cache.compile_ahead(
        folder, [(name, path) for _, name, path in files if name.endswith(".py")], _read_file, file_checksum
    )


def _migration_files(folder: Path) -> list[tuple[str, str, str]]:
    """The migration files of ``folder`` as (migration name, file name, path), sorted by name
    then extension: ``.py`` and ``.sql`` files whose names do not start with ``_`` or ``.``;
    from one directory listing (no stat per file). Each path is spelled as ``folder / name``
    would be."""
    found: list[tuple[str, str, str]] = []
    with os.scandir(folder) as entries:
        for entry in entries:
            name = entry.name
            stem, dot, suffix = name.rpartition(".")
            if dot and stem and f".{suffix.lower()}" in EXTENSIONS and not name.startswith(("_", ".")) and not _is_dir(entry):
                found.append((stem, suffix, name))  # a .SQL is reported, not skipped (load_migrations)
    found.sort()
    prefix = str(folder / "_")[:-1]  # "" for Path("."), as pathlib spells its children
    return [(stem, name, prefix + name) for stem, _, name in found]


def _split_pair(stem: str, named: dict[str, str]) -> str | None:
    """The file of the migration that ``stem`` is the down half of (``1_a.down`` of ``1_a.up``,
    ``x.rollback`` of ``x``), or None; ``named`` maps each migration name to its file name."""
    base, dot, suffix = stem.rpartition(".")
    if not dot or suffix.lower() not in ("down", "rollback"):
        return None
    for other in (f"{base}.up", base) if suffix.lower() == "down" else (base,):
        if other in named:
            return named[other]
    return None


_NUMBER = re.compile(r"[Vv]?(\d+)")  # Flyway's V1__a too


def _numbers_out_of_order(files: list[tuple[str, str, str]]) -> tuple[str, list[str]] | None:
    """Names numbered without zero padding (``1_a``, ``2_b``, ``10_c``, as goose, dbmate or
    golang-migrate take them; Flyway's ``V1__a``): migrations run in name order, which puts
    ``10_c`` before ``2_b``. The message and the files concerned, or None when name order and
    number order agree (``001_a`` ... ``010_c``, timestamps)."""
    # V1__a and 2_b are not compared: a letter sorts after every digit
    numbered: dict[str, list[tuple[int, int, int, str, str]]] = {"": [], "v": []}  # by prefix
    for stem, _, path in files:
        m = _NUMBER.match(stem)
        if m is not None:
            start, end = m.span(1)
            numbered[stem[:start].lower()].append((int(m.group(1)), start, end, stem, path))
    for prefix in ("", "v"):
        found = _out_of_turn(numbered[prefix])
        if found is not None:
            return found
    return None


def _out_of_turn(numbered: list[tuple[int, int, int, str, str]]) -> tuple[str, list[str]] | None:
    """:func:`_numbers_out_of_order` for names of one prefix: (number, where its digits start
    and end, name, path) each, in name order."""
    highest: tuple[int, int, int, str, str] | None = None  # the largest leading number so far
    early: tuple[int, int, int, str, str] | None = None  # the first name that sorts before a lower number
    late: list[tuple[int, int, int, str, str]] = []  # the names whose number is lower than one before them
    for entry in numbered:
        if highest is not None and entry[0] < highest[0]:
            early = early or highest
            late.append(entry)
        elif highest is None or entry[0] > highest[0]:
            highest = entry
    if early is None:
        return None
    width = max(end - start for _, start, end, _, _ in (early, *late))
    shown = [name for _, _, _, name, _ in late[:3]] + (["..."] if len(late) > 3 else [])
    padded = [name[:start] + str(number).zfill(width) + name[end:] for number, start, end, name, _ in (*late[:2], early)]
    return (
        f"{early[4]} sorts before {', '.join(shown)}, though its number is higher: migrations run in name "
        f"order, not by number, so {early[3]!r} would run first; pad the numbers with zeros to one width "
        f"({', '.join(padded)}), or use the YYYYMMDDHHMMSS_ prefix that kysera migrate create writes. "
        "A renamed migration that was applied already: record it under its new name with kysera migrate "
        "mark-applied NEW, and forget the old one with kysera migrate accept OLD",
        [early[4], *(path for _, _, _, _, path in late)],
    )


def _is_dir(entry: os.DirEntry[str]) -> bool:
    """A dangling link, a loop of links or an unreadable file is not skipped: reading it reports it."""
    try:
        return entry.is_dir()
    except OSError:
        return False


class _Problem(Exception):
    pass


def _unreadable(path: str, exc: OSError) -> _Problem:
    return _Problem(f"{path} cannot be read: {exc.strerror or exc}")


def _load_sql(stem: str, path: str) -> Migration:
    from .sql_file import SqlFileError, sql_migration  # only folders with .sql files need it

    data, _ = _read_file(path)
    try:
        return sql_migration(stem, path, data)
    except SqlFileError as exc:
        raise _Problem(f"{path} {exc}") from None
    except MigrationDefinitionError as exc:
        raise _Problem(f"{path}: {exc}") from None


def _private_package(folder: Path) -> types.ModuleType:
    """A package named after the folder's path that holds the imported migration modules."""
    resolved = str(folder.resolve())
    name = "_kysera_migrations_" + sha256(resolved.encode()).hexdigest()[:12]
    package = types.ModuleType(name, f"kysera migrations loaded from {resolved}")
    package.__path__ = [resolved]
    package.__package__ = name
    package.__file__ = None
    sys.modules[name] = package
    return package


class _sibling_imports:
    """Put the folder on ``sys.path`` while its files are imported; forget its helpers afterwards.

    The folder goes at the end of ``sys.path``, so a file in it never shadows a real module.
    Helper modules of the folder (``_name``) are dropped from ``sys.modules`` again, so loading
    another folder with a helper of the same name gets its own helper.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = str(folder.resolve())
        self.before: set[str] = set()

    def __enter__(self) -> None:
        self.before = set(sys.modules)
        sys.path.append(self.folder)

    def __exit__(self, *exc: object) -> None:
        try:
            sys.path.remove(self.folder)
        except ValueError:
            pass
        prefix = self.folder + os.sep
        for name in set(sys.modules) - self.before:
            if name.startswith("_kysera_migrations_") or not name.startswith("_"):
                continue
            module = sys.modules.get(name)
            origin = getattr(module, "__file__", None) or ""
            if origin.startswith(prefix):
                del sys.modules[name]


_NOT_IDENTIFIER = re.compile(r"\W")


def _module_name(package: types.ModuleType, index: int, stem: str) -> str:
    return f"{package.__name__}.m{index}_{_NOT_IDENTIFIER.sub('_', stem)}"


#: O_NONBLOCK: opening a FIFO would otherwise wait for a writer, forever
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)


def _read_file(path: str) -> tuple[bytes, os.stat_result]:
    """The file's contents, and its status taken before they were read (for the code cache)."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise _unreadable(path, exc) from None
    try:
        stat = os.fstat(fd)
        if not S_ISREG(stat.st_mode):
            raise _Problem(f"{path} is not a regular file (a pipe, a socket or a device); a migration is a file")
        chunks = [os.read(fd, stat.st_size + 1)]
        while chunks[-1]:  # the file grew since fstat, or is not a regular file
            chunks.append(os.read(fd, 1 << 16))
        return b"".join(chunks), stat
    except OSError as exc:
        raise _unreadable(path, exc) from None
    finally:
        os.close(fd)


def _compiled(cache: CodeCache, file_name: str, path: str, data: bytes, stat: os.stat_result) -> types.CodeType:
    """The code of a migration file, from the cache or compiled; a _Problem when it does not compile."""
    try:
        return cache.code(file_name, path, data, stat)
    except SyntaxError as exc:
        where = f" on line {exc.lineno}" if exc.lineno else ""
        fix = "fix the file"
        if "codec" in str(exc.msg) or "UTF-8" in str(exc.msg):
            fix = "save it as UTF-8, or declare its encoding on the first line (# -*- coding: latin-1 -*-)"
        raise _Problem(f"{path} has a syntax error{where}: {exc.msg}; {fix}") from None
    except ValueError as exc:  # e.g. source code with NUL bytes
        raise _Problem(f"{path} cannot be compiled: {exc}; fix the file") from None


def _run_module(
    stem: str, package: types.ModuleType, index: int, path: str, code: types.CodeType, checksum: str
) -> Migration:
    """Run the code of a migration file as a module of ``package``; its Migration."""
    name = _module_name(package, index, stem)
    spec = ModuleSpec(name, SourceFileLoader(name, path), origin=path)
    spec.has_location = True
    module = types.ModuleType(name)
    module.__spec__ = spec
    module.__loader__ = spec.loader
    module.__file__ = path
    sys.modules[name] = module
    try:
        exec(code, module.__dict__)
    except (Exception, SystemExit) as exc:
        del sys.modules[name]
        line = _failing_line(exc, path)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise _Problem(
            f"{path} raised {type(exc).__name__}{': ' + reason if reason else ''} while it was imported"
            f"{line}; fix the file"
        ) from None
    return _migration_from_module(stem, module, path, checksum)


def _failing_line(exc: BaseException, filename: str) -> str:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return f" (line {line})" if line else ""


def _migration_from_module(stem: str, module: types.ModuleType, path: str, checksum: str) -> Migration:
    names = module.__dict__  # what the file defined; looked up without AttributeErrors
    up = names.get("up")
    down = names.get("down")
    if up is None:
        raise _Problem(f"{path} has no up(db) function; define 'def up(db): ...' (and 'def down(db): ...' to undo it)")
    for label, fn in (("up", up), ("down", down)):
        if fn is None:
            continue
        if not callable(fn):
            raise _Problem(f"{path}: {label} is not a function; define 'def {label}(db): ...'")
        problem = signature_problem(fn)
        if problem:
            raise _Problem(f"{path}: {label}{problem}; define it as 'def {label}(db): ...'")
    try:
        return Migration(
            stem,
            up,
            down,
            transaction=names.get("transaction", True),
            down_transaction=names.get("down_transaction"),
            description=names.get("description"),
            allow_unsafe=names.get("allow_unsafe", ()),
            checksum=checksum,
            path=path,
        )
    except MigrationDefinitionError as exc:
        raise _Problem(str(exc)) from None
