"""Walk a provider's handover without following links and without path-length limits.

Folders are opened relative to their parent's descriptor (openat), so a tree deeper than
PATH_MAX still walks, and names are bytes, so a name in a legacy encoding is kept exactly.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)

KINDS = {
    stat.S_IFREG: "file",
    stat.S_IFDIR: "directory",
    stat.S_IFLNK: "symlink",
    stat.S_IFIFO: "fifo",
    stat.S_IFSOCK: "socket",
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
}


@dataclass
class Found:
    """One entry of the handover. dir_fd and name are valid only while the walk is on it."""

    original: bytes  # path as recorded: root's name, then the path inside it
    inside: bytes  # path inside the root (for matching a provider's hash list)
    source: bytes  # absolute path on this machine, for messages
    kind: str
    dir_fd: int
    name: bytes
    st: os.stat_result | None
    error: str = ""
    link_target: bytes = b""


def kind_of(st: os.stat_result) -> str:
    return KINDS.get(stat.S_IFMT(st.st_mode), "unknown")


def _describe(exc: OSError) -> str:
    return exc.strerror or str(exc)


BATCH = 512


def walk(root: bytes) -> Iterator[list[Found]]:
    """Entries below `root` (a folder or a single file) in batches from one folder each.

    A batch's descriptors stay open until the next batch is asked for, so the caller can look
    up a whole batch in the database at once and then read its files.
    """
    root = os.path.abspath(root)
    parent, base = os.path.split(root.rstrip(b"/") or b"/")
    parent_fd = os.open(parent or b"/", _DIR_FLAGS)
    try:
        st = os.stat(base, dir_fd=parent_fd)  # a root named by the user is followed
        if stat.S_ISDIR(st.st_mode):
            try:
                fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY, dir_fd=parent_fd)
            except OSError as exc:
                yield [Found(base, b"", root, "directory", parent_fd, base, st, _describe(exc))]
                return
            try:
                yield from _walk_dir(fd, base, b"", root)
            finally:
                os.close(fd)
        else:
            yield [_entry(parent_fd, base, base, base, root, st)]
    finally:
        os.close(parent_fd)


def _entry(
    dir_fd: int, name: bytes, original: bytes, inside: bytes, source: bytes, st: os.stat_result
) -> Found:
    kind = kind_of(st)
    found = Found(original, inside, source, kind, dir_fd, name, st)
    if kind == "symlink":
        try:
            found.link_target = os.readlink(name, dir_fd=dir_fd)
        except OSError as exc:
            found.error = _describe(exc)
    return found


def _walk_dir(fd: int, original: bytes, inside: bytes, source: bytes) -> Iterator[list[Found]]:
    """This folder's entries first (in name order, in batches), then each subfolder."""
    try:
        # listdir(fd) decodes with surrogateescape; fsencode gives the exact bytes back.
        names = sorted(os.fsencode(n) for n in os.listdir(fd))
    except OSError as exc:
        yield [Found(original, inside, source, "directory", fd, b".", None, _describe(exc))]
        return
    batch: list[Found] = []
    subdirs: list[tuple[bytes, Found]] = []
    for name in names:
        where = (
            original + b"/" + name,
            inside + b"/" + name if inside else name,
            source + b"/" + name,
        )
        try:
            st = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except OSError as exc:
            batch.append(Found(*where, "unknown", fd, name, None, _describe(exc)))
        else:
            if stat.S_ISDIR(st.st_mode):
                subdirs.append((name, Found(*where, "directory", fd, name, st)))
            else:
                batch.append(_entry(fd, name, *where, st))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
    for name, found in subdirs:
        try:
            child = os.open(name, _DIR_FLAGS, dir_fd=fd)
        except OSError as exc:
            found.error = _describe(exc)
            yield [found]
            continue
        try:
            yield from _walk_dir(child, found.original, found.inside, found.source)
        finally:
            os.close(child)


def totals(roots: list[bytes]) -> tuple[int, int]:
    """Files and bytes to expect, for the progress bar (a cheap first pass of lstat only)."""
    files = size = 0
    for root in roots:
        for batch in walk(root):
            for found in batch:
                if found.kind == "file" and found.st is not None:
                    files += 1
                    size += found.st.st_size
    return files, size
