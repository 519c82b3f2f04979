"""Blobs in a folder: blobs/ab/cd/abcd…, written to a temp file, fsynced, renamed, read-only.

A crash at any point leaves either no blob or a complete one; leftovers sit only in .tmp/,
which is swept at start.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from amanah.blobs.base import CHUNK, BlobMissing, HashingReader, PutResult, check_sha256


class FilesystemStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = f"file:{root}"
        self.tmp = root / ".tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)

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
                os.fsync(out.fileno())
            digests = reader.digests()
            final = self.path(digests["sha256"])
            if final.exists():
                tmp.unlink()
                return PutResult(digests["sha256"], reader.size, False, digests)
            _make_dirs(final.parent)
            os.chmod(tmp, 0o444)
            os.replace(tmp, final)
            _fsync_dir(final.parent)
            return PutResult(digests["sha256"], reader.size, True, digests)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

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
            if pid.isdigit() and _alive(int(pid)):
                continue
            f.unlink(missing_ok=True)
            removed += 1
        return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _make_dirs(path: Path) -> None:
    """Create shard folders and fsync each new folder's parent, so the entry survives a crash."""
    if path.is_dir():
        return
    _make_dirs(path.parent)
    try:
        path.mkdir()
    except FileExistsError:
        return
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
