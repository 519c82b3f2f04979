"""A provider's own hash list (sha256sum/md5sum output, GNU or BSD style).

The list is what the provider says it sent; every received file is checked against it, and
what it lists but never arrived is reported. Paths are kept as bytes so that names in legacy
encodings match byte for byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ALGORITHMS = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}
_GNU = re.compile(rb"^(\\?)([0-9a-fA-F]{32,128}) [ *](.+)$")
_BSD = re.compile(rb"^(\\?)(MD5|SHA1|SHA256|SHA512) ?\((.+)\) ?= ?([0-9a-fA-F]{32,128})$")


class HashListError(Exception):
    """The list cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Expected:
    algorithm: str
    digest: str
    line: int


def _unescape(raw: bytes) -> bytes:
    # GNU coreutils escapes backslash and newline in names and marks such lines with '\'.
    return raw.replace(b"\\n", b"\n").replace(b"\\\\", b"\\")


def normalise(path: bytes) -> bytes:
    path = path.replace(b"\\", b"/") if b"/" not in path else path
    while path.startswith(b"./"):
        path = path[2:]
    return path.lstrip(b"/")


class HashList:
    def __init__(self, source: Path, entries: dict[bytes, Expected]) -> None:
        self.source = source
        self.entries = entries
        self.algorithms = tuple(sorted({e.algorithm for e in entries.values()}))
        self.seen: set[bytes] = set()

    def lookup(self, *candidates: bytes) -> tuple[bytes, Expected] | None:
        for c in candidates:
            key = normalise(c)
            if key in self.entries:
                self.seen.add(key)
                return key, self.entries[key]
        return None

    def missing(self) -> list[tuple[bytes, Expected]]:
        return sorted((k, v) for k, v in self.entries.items() if k not in self.seen)


def load(path: Path) -> HashList:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise HashListError(f"{path}: cannot read hash list: {exc.strerror}") from exc
    entries: dict[bytes, Expected] = {}
    for lineno, line in enumerate(data.splitlines(), 1):
        line = line.rstrip(b"\r")
        if not line.strip() or line.lstrip().startswith(b"#"):
            continue
        if m := _GNU.match(line):
            escaped, digest, name = m.group(1), m.group(2), m.group(3)
        elif m := _BSD.match(line):
            escaped, name, digest = m.group(1), m.group(3), m.group(4)
        else:
            raise HashListError(
                f"{path}:{lineno}: not a line of sha256sum/md5sum output"
                " (expected 'DIGEST  PATH' or 'SHA256 (PATH) = DIGEST')"
            )
        algorithm = ALGORITHMS.get(len(digest))
        if algorithm is None:
            raise HashListError(
                f"{path}:{lineno}: a digest of {len(digest)} hex digits is not MD5, SHA-1,"
                " SHA-256 or SHA-512"
            )
        if escaped:
            name = _unescape(name)
        key = normalise(name)
        if key in entries and entries[key].digest != digest.decode().lower():
            raise HashListError(f"{path}:{lineno}: {key!r} is listed twice with different digests")
        entries[key] = Expected(algorithm, digest.decode().lower(), lineno)
    if not entries:
        raise HashListError(f"{path}: the hash list has no entries")
    return HashList(path, entries)
