"""The loader's bytecode cache: one file per folder, never stale, never in the way."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kysera import connect
from kysera.migrations import create_migration_runner, load_migrations
from kysera.migrations.loader import compile_ahead

from .util import tables, write


def _migration(table: str) -> str:
    return f"""
        def up(db):
            db.schema.create_table("{table}").add_column("id", "integer").execute()
    """


@pytest.fixture(autouse=True)
def _bytecode_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)


def _ten_tables(folder: Path) -> Path:
    """``folder`` with ten migrations, 000_t0.py (creates t0) to 009_t9.py."""
    for i in range(10):
        write(folder, f"{i:03d}_t{i}.py", _migration(f"t{i}"))
    return folder


def _cache_files(folder: Path) -> list[str]:
    cache = folder / "__pycache__"
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


def _applied_tables(folder: Path, tmp_path: Path) -> list[str]:
    db = connect(f"sqlite:///{tmp_path / 'check.db'}")
    try:
        create_migration_runner(db, load_migrations(folder)).up()
        return sorted(t for t in tables(db) if t != "kysera_migrations")
    finally:
        db.close()
        os.unlink(tmp_path / "check.db")


def test_one_cache_file_for_the_whole_folder(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    for i in range(5):
        write(folder, f"00{i}_t{i}.py", _migration(f"t{i}"))

    load_migrations(folder)

    assert _cache_files(folder) == [f"kysera-migrations.{sys.implementation.cache_tag}.bin"]


def test_an_edited_file_runs_its_new_code(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    path = write(folder, "001_first.py", _migration("before"))
    load_migrations(folder)  # cached
    stat = path.stat()

    write(folder, "001_first.py", _migration("after_edit"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # even within the same second

    assert _applied_tables(folder, tmp_path) == ["after_edit"]


def test_an_edit_that_keeps_the_size_and_modification_time_runs_its_new_code(tmp_path: Path) -> None:
    """An edit of the same length whose modification time was put back (touch -r, a sync tool)
    ran the old cached code while the new source's checksum was recorded: a .pyc's own check
    (modification time and size) passed. The file's status-change time, which cannot be set
    back, is part of the check now."""
    folder = tmp_path / "migrations"
    path = write(folder, "001_first.py", _migration("before_1"))
    for _ in (1, 2):  # the second load finds every file in the cache
        load_migrations(folder)
    stat = path.stat()

    write(folder, "001_first.py", _migration("edited_2"))  # the same length
    assert path.stat().st_size == stat.st_size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    assert _applied_tables(folder, tmp_path) == ["edited_2"]


def test_added_and_deleted_files_are_followed(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    write(folder, "001_a.py", _migration("a"))
    gone = write(folder, "002_b.py", _migration("b"))
    load_migrations(folder)

    gone.unlink()
    write(folder, "003_c.py", _migration("c"))

    assert [m.name for m in load_migrations(folder)] == ["001_a", "003_c"]
    assert _applied_tables(folder, tmp_path) == ["a", "c"]


def test_a_damaged_cache_is_ignored_and_rewritten(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    write(folder, "001_a.py", _migration("a"))
    load_migrations(folder)
    cache = folder / "__pycache__" / _cache_files(folder)[0]
    cache.write_bytes(cache.read_bytes()[:40])

    assert _applied_tables(folder, tmp_path) == ["a"]
    assert len(cache.read_bytes()) > 40


def test_the_checksum_comes_from_the_source_not_the_cache(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    path = write(folder, "001_a.py", _migration("a"))
    first = load_migrations(folder)[0].checksum
    stat = path.stat()

    # same size and modification time: the cache cannot tell, the checksum can
    write(folder, "001_a.py", _migration("b"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    assert load_migrations(folder)[0].checksum != first


def test_no_cache_without_permission_to_write_bytecode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    folder = tmp_path / "migrations"
    write(folder, "001_a.py", _migration("a"))

    assert [m.name for m in load_migrations(folder)] == ["001_a"]
    assert _cache_files(folder) == []


def test_a_folder_where_the_cache_cannot_be_written_still_loads(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    write(folder, "001_a.py", _migration("a"))
    (folder / "__pycache__").write_text("a file where the cache folder would go")

    assert [m.name for m in load_migrations(folder)] == ["001_a"]
    assert _applied_tables(folder, tmp_path) == ["a"]


def test_a_syntax_error_is_reported_even_after_the_file_was_cached(tmp_path: Path) -> None:
    from kysera.migrations import MigrationLoadError

    folder = tmp_path / "migrations"
    path = write(folder, "001_a.py", _migration("a"))
    load_migrations(folder)
    stat = path.stat()
    path.write_text("def up(db)\n    pass\n")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))

    with pytest.raises(MigrationLoadError, match="syntax error"):
        load_migrations(folder)


# ----------------------------------------------------------------------------- compiled on two processors


@pytest.fixture
def parallel(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Compile in two processes from 4 files on (instead of 200), and count the forks."""
    from kysera.migrations import code_cache

    forks: list[int] = []
    real = code_cache._start_helper

    def counted(files: list[tuple[Path, bytes]]) -> object:
        forks.append(len(files))
        return real(files)

    monkeypatch.setattr(code_cache, "PARALLEL_FROM", 4)
    monkeypatch.setattr(code_cache, "_start_helper", counted)
    if not code_cache._can_fork():
        pytest.skip("compiling in two processes needs Linux, two processors and no other thread")
    return forks


def test_many_new_files_compile_in_two_processes_and_run(tmp_path: Path, parallel: list[int]) -> None:
    folder = _ten_tables(tmp_path / "migrations")

    assert _applied_tables(folder, tmp_path) == [f"t{i}" for i in range(10)]
    assert parallel == [10]
    parallel.clear()
    assert [m.name for m in load_migrations(folder)][:2] == ["000_t0", "001_t1"]
    assert parallel == []  # all cached now: nothing to compile


def test_the_helpers_code_is_cached_as_it_arrived_and_not_compiled_again(
    tmp_path: Path, parallel: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache file keeps the compiling child's code as the child sent it (not marshalled a
    second time), next to the parent's own; the next load compiles nothing."""
    import marshal

    from kysera.migrations import code_cache

    folder = tmp_path / "migrations"
    for i in range(300):
        write(folder, f"{i:03d}_t{i}.py", _migration(f"t{i}"))
    load_migrations(folder)
    assert parallel == [300]
    (name,) = _cache_files(folder)
    blob = (folder / "__pycache__" / name).read_bytes()
    _, own, parts = marshal.loads(blob[len(code_cache._FORMAT) :])
    from_child = [names[i] for names, part in parts for i, *_ in marshal.loads(part)]
    assert from_child, "the child compiled part of 300 files"
    assert sorted({*own, *from_child}) == sorted(f"{i:03d}_t{i}.py" for i in range(300))

    def never(path: str, data: bytes) -> object:
        raise AssertionError(f"{path} compiled again")

    monkeypatch.setattr(code_cache, "_compile", never)
    loaded = load_migrations(folder)
    assert len(loaded) == 300
    assert parallel == [300]  # no second helper either


def test_syntax_errors_in_either_half_are_reported(tmp_path: Path, parallel: list[int]) -> None:
    from kysera.migrations import MigrationLoadError

    folder = tmp_path / "migrations"
    for i in range(10):
        write(folder, f"{i:03d}_t{i}.py", "def up(db)\n    pass\n" if i in (1, 8) else _migration(f"t{i}"))

    with pytest.raises(MigrationLoadError) as caught:
        load_migrations(folder)

    text = str(caught.value)
    assert "001_t1.py has a syntax error on line 1" in text
    assert "008_t8.py has a syntax error on line 1" in text
    assert parallel == [10]


def test_the_helper_is_waited_for_when_loading_stops_early(
    tmp_path: Path, parallel: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Work done meanwhile that fails ends the load, and the helper process is reaped with it."""
    from kysera.migrations import code_cache

    folder = _ten_tables(tmp_path / "migrations")
    started: list[int] = []
    start = code_cache._start_helper

    def recorded(files: list[tuple[Path, bytes]]) -> object:
        helper = start(files)
        if helper is not None:
            started.append(helper.pid)
        return helper

    monkeypatch.setattr(code_cache, "_start_helper", recorded)

    def fail() -> None:
        raise RuntimeError("meanwhile failed")

    with pytest.raises(RuntimeError, match="meanwhile failed"):
        load_migrations(folder, meanwhile=fail)
    assert len(started) == 1
    with pytest.raises(ChildProcessError):  # reaped already: not a zombie left to wait for
        os.waitpid(started[0], os.WNOHANG)


def test_meanwhile_runs_once_and_the_cache_can_wait(tmp_path: Path) -> None:
    from kysera.migrations.code_cache import save_deferred

    folder = tmp_path / "migrations"
    write(folder, "001_a.py", _migration("a"))
    calls: list[int] = []

    assert [m.name for m in load_migrations(folder, meanwhile=lambda: calls.append(1), cache_later=True)] == ["001_a"]
    assert calls == [1]
    assert _cache_files(folder) == []  # not yet
    save_deferred()
    assert _cache_files(folder) == [f"kysera-migrations.{sys.implementation.cache_tag}.bin"]


# ----------------------------------------------------------------------------- compiled ahead of loading


@pytest.fixture
def ahead(parallel: list[int]) -> Iterator[Any]:
    """compile_ahead from 4 files on; whatever helper a test leaves is stopped afterwards."""
    from kysera.migrations import code_cache

    yield code_cache
    code_cache._drop_early()


def test_compiled_ahead_the_folder_loads_without_a_second_helper(
    tmp_path: Path, parallel: list[int], ahead: Any
) -> None:
    folder = _ten_tables(tmp_path / "migrations")

    compile_ahead(folder)
    pid = ahead._early.pid

    assert _applied_tables(folder, tmp_path) == [f"t{i}" for i in range(10)]
    assert parallel == []  # the helper started ahead did the work
    assert ahead._early is None
    with pytest.raises(ChildProcessError):  # taken over and reaped
        os.waitpid(pid, os.WNOHANG)
    assert _cache_files(folder) == [f"kysera-migrations.{sys.implementation.cache_tag}.bin"]
    compile_ahead(folder)
    assert ahead._early is None  # the cache is current: nothing to compile ahead


def test_a_file_changed_after_it_was_compiled_ahead_runs_its_new_code(
    tmp_path: Path, parallel: list[int], ahead: Any
) -> None:
    import time

    folder = _ten_tables(tmp_path / "migrations")
    compile_ahead(folder)
    time.sleep(0.5)  # the helper has compiled every file by now
    write(folder, "009_t9.py", _migration("t9_edited"))

    assert _applied_tables(folder, tmp_path) == [f"t{i}" for i in range(9)] + ["t9_edited"]


def test_files_the_helper_read_ahead_are_not_read_again(
    tmp_path: Path, parallel: list[int], ahead: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The helper of compile_ahead sends each file's checksum with its code: the loader reads
    none of the files it took, and the checksums are those of the sources."""
    import time

    from kysera.migrations import loader
    from kysera.migrations.migration import file_checksum

    folder = _ten_tables(tmp_path / "migrations")
    compile_ahead(folder)
    time.sleep(0.5)  # the helper has read every file by now
    read_here: list[str] = []
    real = loader._read_file

    def counted(path: str) -> tuple[bytes, os.stat_result]:
        read_here.append(path)
        return real(path)

    monkeypatch.setattr(loader, "_read_file", counted)
    loaded = load_migrations(folder)

    assert read_here == []
    assert [m.checksum for m in loaded] == [file_checksum((folder / f"{i:03d}_t{i}.py").read_bytes()) for i in range(10)]
    assert _applied_tables(folder, tmp_path) == [f"t{i}" for i in range(10)]


def test_cached_files_the_helper_read_ahead_come_from_the_cache(
    tmp_path: Path, parallel: list[int], ahead: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new file makes the cache look stale: the helper compiles it, finds the others cached
    and sends their checksums; the loader reads no file and compiles nothing more."""
    import time

    from kysera.migrations import code_cache, loader
    from kysera.migrations.migration import file_checksum

    folder = _ten_tables(tmp_path / "migrations")
    load_migrations(folder)
    (cache,) = (folder / "__pycache__").iterdir()
    write(folder, "010_t10.py", _migration("t10"))
    os.utime(cache, ns=(cache.stat().st_atime_ns, folder.stat().st_mtime_ns - 10**9))  # before the new file
    compile_ahead(folder)
    assert ahead._early is not None
    time.sleep(0.5)
    read_here: list[str] = []
    real = loader._read_file

    def counted(path: str) -> tuple[bytes, os.stat_result]:
        read_here.append(path)
        return real(path)

    def never(path: str, data: bytes) -> object:
        raise AssertionError(f"{path} compiled in this process")

    monkeypatch.setattr(loader, "_read_file", counted)
    monkeypatch.setattr(code_cache, "_compile", never)
    loaded = load_migrations(folder)

    assert read_here == []
    assert [m.name for m in loaded][-1] == "010_t10"
    assert [m.checksum for m in loaded] == [file_checksum((folder / f"{i:03d}_t{i}.py").read_bytes()) for i in range(11)]


def test_syntax_errors_are_reported_from_files_read_ahead(tmp_path: Path, parallel: list[int], ahead: Any) -> None:
    import time

    from kysera.migrations import MigrationLoadError

    folder = tmp_path / "migrations"
    for i in range(10):
        write(folder, f"{i:03d}_t{i}.py", "def up(db)\n    pass\n" if i in (1, 8) else _migration(f"t{i}"))
    compile_ahead(folder)
    time.sleep(0.5)

    with pytest.raises(MigrationLoadError) as caught:
        load_migrations(folder)
    assert "001_t1.py has a syntax error on line 1" in str(caught.value)
    assert "008_t8.py has a syntax error on line 1" in str(caught.value)


def test_a_helper_started_ahead_for_another_folder_is_stopped_at_exit(
    tmp_path: Path, parallel: list[int], ahead: Any
) -> None:
    for name in ("one", "two"):
        _ten_tables(tmp_path / name)
    compile_ahead(tmp_path / "one")
    pid = ahead._early.pid

    assert [m.name for m in load_migrations(tmp_path / "two")][-1] == "009_t9"
    assert parallel == [10]  # its own helper: the other one is not for this folder
    ahead._drop_early()  # what atexit runs
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def test_another_file_in_the_folder_starts_a_helper_once(
    tmp_path: Path, parallel: list[int], ahead: Any
) -> None:
    folder = _ten_tables(tmp_path / "migrations")
    load_migrations(folder)
    (folder / "README.md").write_text("notes\n")
    (cache,) = (folder / "__pycache__").iterdir()
    os.utime(cache, ns=(cache.stat().st_atime_ns, folder.stat().st_mtime_ns - 10**9))  # written before README.md

    compile_ahead(folder)
    assert ahead._early is not None  # the folder changed after the cache was written
    load_migrations(folder)
    compile_ahead(folder)
    assert ahead._early is None  # nothing to compile: the cache was marked current
