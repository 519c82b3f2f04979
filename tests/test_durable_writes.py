"""The write helpers every evidence byte goes through (amanah/blobs/durable.py): failures of
the storage become one StorageError naming the file, and nothing half-written stays.

The failures are the kernel's own (a pipe that cannot be flushed, /dev/full, a folder where a
file should be); the database errors Amanah cannot provoke here (an I/O error of SQLite or
of the PostgreSQL server) are the driver's own exception classes. A full database, on SQLite
and on PostgreSQL, is tested for real in test_durability.py.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import psycopg.errors
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from amanah.blobs.durable import (
    StorageError,
    from_database,
    fsync_fd,
    fsync_path,
    storage_error,
    write_all,
    write_file,
)


def test_a_device_that_is_full_stops_write_all_naming_the_file() -> None:
    fd = os.open("/dev/full", os.O_WRONLY)
    try:
        with pytest.raises(StorageError) as got:
            write_all(fd, b"x" * 10_000, "/evidence/part")
    finally:
        os.close(fd)
    assert str(got.value) == "/evidence/part: no space left on device"


def test_a_flush_the_kernel_refuses_is_a_storage_error_in_words() -> None:
    read, write = os.pipe()  # fsync of a pipe: EINVAL, a reason outside the known table
    try:
        with pytest.raises(StorageError) as got:
            fsync_fd(write, "/evidence/pipe")
    finally:
        os.close(read)
        os.close(write)
    assert str(got.value) == "/evidence/pipe: invalid argument"


def test_flushing_a_path_that_is_gone_names_it(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as got:
        fsync_path(tmp_path / "gone")
    assert got.value.path == str(tmp_path / "gone")
    assert got.value.reason == "no such file or directory"


def test_write_file_into_a_missing_folder_names_its_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "absent" / "manifest.json"
    with pytest.raises(StorageError) as got:
        write_file(target, b"{}")
    assert got.value.path.startswith(str(tmp_path / "absent" / ".manifest.json."))
    assert got.value.reason == "no such file or directory"


def test_write_file_that_cannot_take_the_place_of_a_folder_leaves_no_temporary(
    tmp_path: Path,
) -> None:
    (tmp_path / "SHA256SUMS").mkdir()
    with pytest.raises(StorageError) as got:
        write_file(tmp_path / "SHA256SUMS", b"abc  x\n")
    assert got.value.path == str(tmp_path / "SHA256SUMS")
    assert got.value.reason == "is a directory"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["SHA256SUMS"]


def test_write_file_replaces_a_file_whole_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "amanah.toml"
    target.write_bytes(b"old")
    write_file(target, b"new contents")
    assert target.read_bytes() == b"new contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["amanah.toml"]


def test_no_space_with_inodes_left_is_plain_no_space(tmp_path: Path) -> None:
    said = storage_error(OSError(28, "No space left on device"), tmp_path / "x" / "y")
    assert said.reason == "no space left on device"  # tmp_path's file system has inodes


def test_a_real_sqlite_database_that_may_not_grow_is_full(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'small.db'}")
    with engine.begin() as c:
        c.execute(text("CREATE TABLE t (v BLOB)"))
    with pytest.raises(DBAPIError) as got, engine.begin() as c:
        c.execute(text("PRAGMA max_page_count = 3"))
        c.execute(text("INSERT INTO t VALUES (zeroblob(100000))"))
    engine.dispose()
    full = from_database(got.value, "database small.db")
    assert full is not None and str(full) == "database small.db: no space left on device"


def _sqlite_error(message: str, code: int | None) -> sqlite3.Error:
    exc = sqlite3.OperationalError(message)
    if code is not None:
        exc.sqlite_errorcode = code  # what the driver sets on every error it raises
    return exc


@pytest.mark.parametrize(
    ("exc", "said"),
    [
        (_sqlite_error("disk I/O error", 778), "input/output error"),  # SQLITE_IOERR_WRITE
        (_sqlite_error("disk I/O error", None), "input/output error"),
        (_sqlite_error("database or disk is full", None), "no space left on device"),
        (_sqlite_error("no such table: items", 1), None),
        (psycopg.errors.DiskFull("could not extend file"), "has no space left on device"),
        (psycopg.errors.InsufficientResources("out of resources"), "has no space left"),
        (psycopg.errors.IoError("could not read block"), "reports an input/output error"),
        (psycopg.errors.UniqueViolation("duplicate key"), None),
        (ValueError("not a database error"), None),
    ],
)
def test_database_errors_that_mean_its_storage_failed(exc: BaseException, said: str | None) -> None:
    got = from_database(DBAPIError("INSERT", None, exc), "database d")  # type: ignore[arg-type]
    if said is None:
        assert got is None
    else:
        assert got is not None and got.path == "database d" and said in got.reason, got
