"""Blobs in a folder: blobs/ab/cd/abcd…, written to a temp file, fsynced, renamed, read-only.

A crash at any point leaves either no blob or a complete one; leftovers sit only in .tmp/,
which is swept at start.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from amanah.blobs.base import CHUNK, BlobMissing, HashingReader, PutResult, check_sha256
from amanah.system import pid_alive


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
        self.tmp.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()  # each thread stages and syncs its own writes

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

    def put(self, source: BinaryIO, extra_digests: tuple[str, ...] = ()) -> PutResult:
        reader = HashingReader(source, extra_digests)
        tmp = self.tmp / f"{os.getpid()}-{uuid.uuid4().hex}.part"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb", buffering=0) as out:
                while data := reader.read(CHUNK):
                    out.write(data)
            digests = reader.digests()
            sha256 = digests["sha256"]
            if sha256 in self._staged or self.path(sha256).exists():
                tmp.unlink()
                return PutResult(sha256, reader.size, False, digests)
            self._staged[sha256] = tmp
            return PutResult(sha256, reader.size, True, digests)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def sync(self) -> None:
        """Make every staged blob durable and visible under its digest."""
        if not self._staged:
            return
        staged, self._staged = self._staged, {}
        if not _syncfs(self.root):
            for tmp in staged.values():
                _fsync_path(tmp)
        dirs: set[Path] = set()
        for sha256, tmp in staged.items():
            final = self.path(sha256)
            dirs.update(_make_dirs(final.parent))
            os.chmod(tmp, 0o444)
            os.replace(tmp, final)
            dirs.add(final.parent)
        if not _syncfs(self.root):
            for d in dirs:
                _fsync_dir(d)

    def discard(self) -> None:
        """Drop staged writes (their rows will not be committed)."""
        staged, self._staged = self._staged, {}
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)

    def open(self, sha256: str) -> BinaryIO:
        try:
            return open(self.path(sha256), "rb")
        except FileNotFoundError as exc:
            raise BlobMissing(f"blob {sha256} is missing from {self.root}") from exc

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
    """Create shard folders; return the folders whose entries changed (to flush)."""
    if path.is_dir():
        return []
    changed = _make_dirs(path.parent)
    try:
        path.mkdir()
    except FileExistsError:
        return changed
    return [*changed, path.parent]


_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _syncfs(path: Path) -> bool:
    """Flush the whole file system holding `path` (Linux syncfs); False where unavailable."""
    fn = getattr(_libc, "syncfs", None)
    if fn is None:
        return False
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if fn(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"syncfs failed: {os.strerror(err)}", str(path))
    finally:
        os.close(fd)
    return True


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
