"""Writes that either land whole or stop the run, saying which file and why.

`os.write` may store fewer bytes than it was given (a nearly full disk, a quota, a signal);
a write that ignores the count keeps a truncated file that looks complete. Every write of
evidence-derived bytes goes through `write_all`, which loops until every byte is stored, and
every failure of the storage itself (no space, quota, I/O error, read-only file system)
becomes a `StorageError`: the run cannot go on, and the message names the file.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import re
import sqlite3
from pathlib import Path

from amanah.blobs.base import BlobError

_REASONS = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EIO: "input/output error (the storage device may be failing)",
    errno.EROFS: "read-only file system",
    errno.EFBIG: "file too large for this file system",
}


class StorageError(BlobError):
    """The storage cannot take or keep the bytes: the run stops; nothing half-written remains.

    Raised for the store's side only (the place Amanah writes to); a handover file that cannot
    be read is a problem of that file, recorded, and the run goes on.
    """

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        #: Files of the failed run recorded whole before it stopped (None: not known, the
        #: database could not be read either); an intake run fills it in for its message.
        self.kept: int | None = None
        super().__init__(f"{self.path}: {reason}")


def reason_of(exc: OSError) -> str:
    """A storage failure in words, lower case as the rest of a one-line message."""
    if exc.errno in _REASONS:
        return _REASONS[exc.errno]
    return (exc.strerror or str(exc)).lower()


def storage_error(exc: OSError, path: str | os.PathLike[str]) -> StorageError:
    if exc.errno == errno.ENOSPC and _no_free_inodes(Path(path)):
        # `df` shows free space: say what is really exhausted, and what to do.
        return StorageError(path, NO_INODES)
    return StorageError(path, reason_of(exc))


NO_INODES = "no space left on device: no free inodes (it holds as many files as it can)"


def _no_free_inodes(path: Path) -> bool:
    """Whether the file system holding `path` (or its nearest existing parent) has no inode
    left for a new file or folder, though it may have free blocks."""
    for where in (path, *path.parents):
        try:
            st = os.statvfs(where)
        except OSError:
            continue
        return st.f_files > 0 and st.f_favail == 0
    return False


def write_all(fd: int, data: bytes | bytearray | memoryview, path: str | os.PathLike[str]) -> int:
    """Write every byte of `data` to `fd` or raise StorageError; returns the count written."""
    view = memoryview(data)
    total = len(view)
    while view:
        try:
            n = os.write(fd, view)
        except InterruptedError:
            continue
        except OSError as exc:
            raise storage_error(exc, path) from exc
        if n <= 0:  # a write that stores nothing and reports no error: the device is full
            raise StorageError(path, _REASONS[errno.ENOSPC])
        view = view[n:]
    return total


def fsync_fd(fd: int, path: str | os.PathLike[str]) -> None:
    try:
        os.fsync(fd)
    except OSError as exc:
        raise storage_error(exc, path) from exc


def fsync_path(path: Path) -> None:
    """Flush one file (or folder: its entries) to the device."""
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise storage_error(exc, path) from exc
    try:
        fsync_fd(fd, path)
    finally:
        os.close(fd)


_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def syncfs(path: Path) -> bool:
    """Flush the whole file system holding `path` (Linux syncfs); False where unavailable.

    Since Linux 5.8 syncfs also reports a write-back error of any file on that file system,
    so an I/O error after `write` returned is not lost."""
    fn = getattr(_libc, "syncfs", None)
    if fn is None:
        return False
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if fn(fd) != 0:
            err = ctypes.get_errno()
            raise StorageError(path, reason_of(OSError(err, os.strerror(err))))
    finally:
        os.close(fd)
    return True


def write_file(path: Path, data: bytes, mode: int = 0o600) -> None:
    """A small file (configuration, manifest) written whole and durable, or not at all."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    except OSError as exc:
        raise storage_error(exc, tmp) from exc
    try:
        try:
            write_all(fd, data, path)
            fsync_fd(fd, path)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise storage_error(exc, path) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_path(path.parent)


def from_database(exc: BaseException, where: str) -> StorageError | None:
    """A database error that means its storage is full or failing, as a StorageError.

    SQLite says "database or disk is full" (SQLITE_FULL) or "disk I/O error" (SQLITE_IOERR);
    PostgreSQL raises SQLSTATE 53100 disk_full or 58030 io_error."""
    orig = getattr(exc, "orig", exc)
    if isinstance(orig, sqlite3.Error):
        code = getattr(orig, "sqlite_errorcode", None)
        text = str(orig).lower()
        if code == sqlite3.SQLITE_FULL or "database or disk is full" in text:
            return StorageError(where, _REASONS[errno.ENOSPC])
        if (code is not None and (code & 0xFF) == sqlite3.SQLITE_IOERR) or "disk i/o error" in text:
            return StorageError(where, _REASONS[errno.EIO])
        return None
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate in ("53100", "53000"):
        return StorageError(where, "the database server has no space left on device")
    if sqlstate == "58030":
        return StorageError(where, "the database server reports an input/output error")
    return None


def storage_full(exc: BaseException) -> str | None:
    """Why an error means a local disk, a quota or the database's storage is full, looked for
    along the exception's causes (readers and libraries wrap what they raise); else None.
    Covers ENOSPC/EDQUOT (by errno, never by message), SQLite's "database or disk is full",
    PostgreSQL's disk_full and an index library's "StorageFull" (tantivy reports ENOSPC so).
    Nothing raised while handling a sandbox's failure counts: its words may be a file's."""
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < 10:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    if any(type(e).__name__ == "SandboxError" for e in chain):
        return None
    seen = exc
    for _ in range(10):
        if seen is None:
            return None
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            where = f" ({seen.filename})" if seen.filename else ""
            return f"{os.strerror(seen.errno)}{where}"
        if isinstance(seen, StorageError) and seen.reason in (
            _REASONS[errno.ENOSPC],
            _REASONS[errno.EDQUOT],
        ):
            return f"{seen.reason} ({seen.path})"
        db = from_database(seen, "the database")
        if db is not None and "space" in db.reason:
            return f"{db.reason} ({db.path})"
        if _index_storage_full(seen):
            return f"no space left on device ({str(seen)[:200]})"
        seen = seen.__cause__ or seen.__context__
    return None


def _index_storage_full(exc: BaseException) -> bool:
    """The search index library's own report of a full disk (tantivy raises a ValueError whose
    text is its Rust error, `IoError { … kind: StorageFull … }`). Only that shape is taken:
    words a file's parser says (a member named "No space left on device") are never read as
    the machine's, or one hostile file would stop every worker for good."""
    return type(exc) is ValueError and _TANTIVY_FULL.match(str(exc)) is not None


_TANTIVY_FULL = re.compile(
    r"Failed to [a-z ]{1,40}: '?IoError \{ io_error: Os \{ code: (?:28|122), kind: "
    r"(?:StorageFull|QuotaExceeded),"
)
