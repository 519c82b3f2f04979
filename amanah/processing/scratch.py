"""Scratch folders of the home's work folder that outlive no process.

A redaction, its preview and a sandbox's scratch root hold, while they run, a copy of the
evidence and the words read from it (the text layer's and OCR's). A process killed
(SIGKILL, a power cut) runs no `finally`: its folder stayed in the work folder for good. Each
such folder is held with a lock on the folder itself for as long as its process uses it (the
kernel lets go when the process dies), and `sweep` removes the ones nobody holds.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

#: The folders made here; nothing else in the work folder is ever swept.
PREFIXES = ("redact-", "preview-", "sandbox-")
#: A folder younger than this is left alone: its maker may not have locked it yet.
GRACE_SECONDS = 60.0

log = logging.getLogger(__name__)


class Held:
    """A scratch folder and the lock that says its process lives."""

    def __init__(self, work: Path, prefix: str) -> None:
        if prefix not in PREFIXES:
            raise ValueError(f"scratch folders are named {PREFIXES}, not {prefix!r}")
        work.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=prefix, dir=work))
        self._fd: int | None = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        fcntl.flock(self._fd, fcntl.LOCK_SH)  # shared: only a sweep asks for it exclusively

    def release(self, remove: bool = True) -> None:
        """Let go (and remove the folder, unless asked to keep it)."""
        if remove:
            shutil.rmtree(self.path, ignore_errors=True)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


@contextlib.contextmanager
def held(work: Path, prefix: str) -> Iterator[Path]:
    """A scratch folder for the length of the block, removed after it."""
    folder = Held(work, prefix)
    try:
        yield folder.path
    finally:
        folder.release()


def sweep(work: Path, grace: float = GRACE_SECONDS) -> list[str]:
    """Remove the scratch folders no living process holds; returns their names."""
    removed: list[str] = []
    try:
        entries = list(os.scandir(work))
    except FileNotFoundError:
        return removed
    now = time.time()
    for entry in entries:
        if not entry.name.startswith(PREFIXES):
            continue
        try:
            fd = os.open(entry.path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            continue  # gone meanwhile, or not a folder (a link): not ours to remove
        try:
            found = os.fstat(fd)
            if not stat.S_ISDIR(found.st_mode) or now - found.st_mtime < grace:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its process lives
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.name)
        finally:
            os.close(fd)
    if removed:
        log.warning("removed %d scratch folder(s) left by a stopped process", len(removed))
    return removed
