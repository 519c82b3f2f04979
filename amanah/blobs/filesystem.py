"""Blobs in a folder: blobs/ab/cd/abcd…, written to a temp file, fsynced, renamed, read-only.

A crash at any point leaves either no blob or a complete one; leftovers sit only in .tmp/,
which is swept at start. Every write is checked for its length (`durable.write_all`); a full
disk or an I/O error stops the run with a `StorageError` and removes the partial temp file,
so nothing half-written is ever renamed under a digest. A blob found already under its digest
is trusted only once its size and (when this process did not write it) its hash are checked;
a damaged one is replaced by the bytes just read.

Modes: the folder and its shard folders 0700, blobs 0400 from the moment they are created.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from amanah.blobs.base import (
    CHUNK,
    BlobMissing,
    BlobNotAFile,
    HashingReader,
    PutResult,
    check_sha256,
    hash_stream,
)
from amanah.blobs.durable import (
    StorageError,
    fsync_path,
    storage_error,
    syncfs,
    write_all,
)
from amanah.system import pid_alive

BLOB_MODE = 0o400
DIR_MODE = 0o700
#: Digests this process wrote or verified, trusted after a size check alone (bounded memory).
KNOWN_LIMIT = 1 << 16


def private_dir(path: Path) -> None:
    """Create `path` (and parents) as 0700, or tighten an existing one that others can enter."""
    try:
        path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            os.chmod(path, mode & 0o700)
    except OSError as exc:
        raise storage_error(exc, path) from exc


class FilesystemStore:
    """Writes are staged: `put` streams to a temp file, `sync` makes a whole batch durable.

    `sync` flushes the file system once for all staged contents, renames each file under its
    digest, and flushes once more for the names, instead of two fsyncs per file. A crash
    before `sync` leaves only temp files; after it, only complete blobs. Callers commit
    the rows that reference blobs after `sync` returns.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = f"file:{root}"
        self.tmp = root / ".tmp"
        private_dir(root)
        private_dir(self.tmp)
        self._local = threading.local()  # each thread stages and syncs its own writes
        self._known: set[str] = set()

    @property
    def _staged(self) -> dict[str, Path]:
        staged = getattr(self._local, "staged", None)
        if staged is None:
            staged = self._local.staged = {}
        return staged

    @_staged.setter
    def _staged(self, value: dict[str, Path]) -> None:
        self._local.staged = value

    def path(self, sha256: str) -> Path:
        check_sha256(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def _know(self, sha256: str) -> None:
        if len(self._known) >= KNOWN_LIMIT:
            self._known.clear()
        self._known.add(sha256)

    def put(self, source: BinaryIO, extra_digests: tuple[str, ...] = ()) -> PutResult:
        reader = HashingReader(source, extra_digests)
        tmp = self.tmp / f"{os.getpid()}-{uuid.uuid4().hex}.part"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, BLOB_MODE)
        except OSError as exc:
            raise storage_error(exc, tmp) from exc
        try:
            try:
                written = 0
                while data := reader.read(CHUNK):  # a source read error stays an OSError
                    written += write_all(fd, data, tmp)
                size = os.fstat(fd).st_size
            finally:
                os.close(fd)
            if size != written or written != reader.size:
                raise StorageError(tmp, f"wrote {written} bytes but the file holds {size}")
            digests = reader.digests()
            sha256 = digests["sha256"]
            if sha256 in self._staged:
                tmp.unlink()
                return PutResult(sha256, reader.size, False, digests)
            damage = self._damage(sha256, reader.size)
            if damage is None:
                tmp.unlink()
                return PutResult(sha256, reader.size, False, digests)
            self._staged[sha256] = tmp
            repaired = "" if damage == "missing" else damage
            return PutResult(sha256, reader.size, True, digests, repaired=repaired)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def _damage(self, sha256: str, size: int) -> str | None:
        """None when a sound copy is stored under `sha256`; else "missing" or what is wrong."""
        final = self.path(sha256)
        try:
            st = final.stat()
        except FileNotFoundError:
            return "missing"
        except OSError as exc:
            return f"stored copy unreadable: {exc.strerror or exc}"
        if not stat.S_ISREG(st.st_mode):
            return "stored copy is not a regular file"
        if st.st_size != size:
            return f"stored copy holds {st.st_size} bytes, not {size}"
        if sha256 in self._known:
            return None
        try:
            with open(final, "rb") as f:
                actual, actual_size = hash_stream(f)
        except OSError as exc:
            return f"stored copy unreadable: {exc.strerror or exc}"
        if actual != sha256 or actual_size != size:
            return f"stored copy hashes to {actual} ({actual_size} bytes)"
        self._know(sha256)
        return None

    def confirm(self, sha256: str, size: int) -> str | None:
        """Before a row names a blob: None when it is stored whole, else what is wrong."""
        damage = self._damage(sha256, size)
        return None if damage is None else f"blob {sha256}: {damage}"

    def sync(self) -> None:
        """Make every staged blob durable and visible under its digest.

        On a failure no staged file is left behind in .tmp, and what was renamed already is
        complete (its contents were flushed before any rename)."""
        if not self._staged:
            return
        staged, self._staged = self._staged, {}
        try:
            if not syncfs(self.root):
                for tmp in staged.values():
                    fsync_path(tmp)
            dirs: set[Path] = set()
            for sha256, tmp in list(staged.items()):
                final = self.path(sha256)
                dirs.update(_make_dirs(final.parent))
                try:
                    os.replace(tmp, final)
                except OSError as exc:
                    raise storage_error(exc, final) from exc
                del staged[sha256]
                dirs.add(final.parent)
                self._know(sha256)
            if not syncfs(self.root):
                for d in dirs:
                    fsync_path(d)
        finally:
            for tmp in staged.values():
                tmp.unlink(missing_ok=True)

    def discard(self) -> None:
        """Drop staged writes (their rows will not be committed)."""
        staged, self._staged = self._staged, {}
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)

    def tighten(self, sha256: str) -> None:
        """A blob stored by an older version (0444 under 0755 folders) made 0400 under 0700."""
        path = self.path(sha256)
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode):  # never follow a link out of the store
            return
        mode = stat.S_IMODE(st.st_mode)
        if mode != BLOB_MODE:
            os.chmod(path, BLOB_MODE)
        for folder in (path.parent, path.parent.parent):
            mode = stat.S_IMODE(folder.stat().st_mode)
            if mode & 0o077:
                os.chmod(folder, mode & DIR_MODE)

    def open(self, sha256: str) -> BinaryIO:
        """The blob's bytes, only from a regular file of its own: not through a symbolic
        link (O_NOFOLLOW), not a FIFO or device (O_NONBLOCK: opening a FIFO cannot hang),
        not a file hard-linked from elsewhere (link count 1). Anything else is BlobNotAFile,
        a fixity failure naming what stands there."""
        path = self.path(sha256)
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            fd = os.open(path, flags)
        except FileNotFoundError as exc:
            raise BlobMissing(f"blob {sha256} is missing from {self.root}") from exc
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise BlobNotAFile(sha256, "is a symbolic link, not a file of the store") from exc
            raise
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise BlobNotAFile(sha256, f"is {_kind(st.st_mode)}, not a regular file")
            if st.st_nlink != 1:
                raise BlobNotAFile(
                    sha256,
                    f"has {st.st_nlink} hard links: its bytes are shared with a file"
                    " outside the store",
                )
            os.set_blocking(fd, True)
            return os.fdopen(fd, "rb")
        except BaseException:
            os.close(fd)
            raise

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def iter_sha256(self) -> Iterator[str]:
        for first in sorted(self.root.glob("[0-9a-f][0-9a-f]")):
            for second in sorted(first.glob("[0-9a-f][0-9a-f]")):
                for f in sorted(second.iterdir()):
                    yield f.name

    def cleanup_temporary(self) -> int:
        """Remove partial writes whose writer has died; they never had an item."""
        removed = 0
        for f in self.tmp.glob("*.part"):
            pid = f.name.split("-", 1)[0]
            if pid.isdigit() and pid_alive(int(pid)):
                continue
            f.unlink(missing_ok=True)
            removed += 1
        return removed


def _make_dirs(path: Path) -> list[Path]:
    """Create shard folders (0700); return the folders whose entries changed (to flush)."""
    if path.is_dir():
        return []
    changed = _make_dirs(path.parent)
    try:
        path.mkdir(mode=DIR_MODE)
    except FileExistsError:
        return changed
    except OSError as exc:
        raise storage_error(exc, path) from exc
    return [*changed, path.parent]


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "not a regular file"
