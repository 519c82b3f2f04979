"""What every blob store offers, and the streaming hasher they share.

Bytes are streamed in fixed-size chunks, hashed as they pass, and written once under their
SHA-256; memory stays flat whatever the size of a file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol

CHUNK = 1 << 20
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


class BlobError(Exception):
    """A blob is missing, unreadable or could not be written."""


class BlobMissing(BlobError):
    pass


class BlobAltered(Exception):
    """A blob's bytes, as read, do not hash to its name: a fixity failure of the blob (not
    an outage of the store, so not a BlobError), found by whoever read them."""

    def __init__(self, sha256: str, actual: str, size: int, why: str = "") -> None:
        super().__init__(why or f"blob {sha256}: the bytes read hash to {actual} ({size} bytes)")
        self.sha256 = sha256
        self.actual = actual
        self.size = size


class BlobNotAFile(BlobAltered):
    """What stands under a blob's name is not a plain file of its own (a symbolic link, a
    hard link shared with a file elsewhere, a FIFO, a folder …): its bytes are not held by
    the store, whatever they hash to. A fixity failure, naming why."""

    def __init__(self, sha256: str, why: str) -> None:
        super().__init__(sha256, "", 0, f"blob {sha256}: {why}")
        self.why = why


class StoreUnavailable(OSError):
    """The blob store could not be reached or answered with an error of its own (an S3
    endpoint down, a timeout): a fault of the installation, not of the bytes asked for. An
    OSError, as every reader of a blob handles those."""


@dataclass
class PutResult:
    sha256: str
    size: int
    created: bool
    #: Other digests asked for (e.g. md5 to check a provider's md5sum list).
    digests: dict[str, str] = field(default_factory=dict)
    #: Non-empty when a damaged copy was found under this digest and is being replaced by
    #: these bytes: what was wrong with it (for the custody ledger).
    repaired: str = ""


def check_sha256(sha256: str) -> str:
    if not SHA256_RE.match(sha256):
        raise BlobError(f"not a SHA-256 hex digest: {sha256!r}")
    return sha256


class HashingReader:
    """Wraps a source stream; every byte read also goes through the hashers."""

    def __init__(self, source: BinaryIO, extra: tuple[str, ...] = ()) -> None:
        self.source = source
        self.sha256 = hashlib.sha256()
        self.extra = {name: hashlib.new(name) for name in extra if name != "sha256"}
        self.size = 0

    def read(self, n: int = CHUNK) -> bytes:
        data = self.source.read(n if n and n > 0 else CHUNK)
        if data:
            self.sha256.update(data)
            for h in self.extra.values():
                h.update(data)
            self.size += len(data)
        return data

    def digests(self) -> dict[str, str]:
        out = {name: h.hexdigest() for name, h in self.extra.items()}
        out["sha256"] = self.sha256.hexdigest()
        return out


class CheckedReader:
    """A blob's bytes as a stream that refuses to finish unless they hash to its name: one
    chunk is held back until the end is reached and checked, so a reader given bytes that
    are not the blob never receives all of them (BlobAltered instead of the last chunk). A
    blob of one chunk is checked before the first byte is handed over."""

    def __init__(self, source: BinaryIO, sha256: str) -> None:
        self.source = source
        self.sha256 = sha256
        self._hash = hashlib.sha256()
        self._size = 0
        self._held = b""
        self._eof = False
        try:
            self._held = self._take()
            self._ahead = self._take() if self._held else b""
        except BaseException:
            source.close()
            raise

    def _take(self) -> bytes:
        data = self.source.read(CHUNK)
        if not data:
            self._eof = True
            if self._hash.hexdigest() != self.sha256:
                raise BlobAltered(self.sha256, self._hash.hexdigest(), self._size)
            return b""
        self._hash.update(data)
        self._size += len(data)
        return data

    def read(self, n: int = CHUNK) -> bytes:
        out, self._held = self._held, self._ahead
        self._ahead = self._take() if self._held and not self._eof else b""
        return out

    def close(self) -> None:
        self.source.close()

    def __enter__(self) -> CheckedReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def hash_stream(stream: BinaryIO, chunk: int = CHUNK) -> tuple[str, int]:
    """SHA-256 and size of a stream; reuses one buffer where the stream allows it."""
    h = hashlib.sha256()
    size = 0
    readinto = getattr(stream, "readinto", None)
    if readinto is None:
        while data := stream.read(chunk):
            h.update(data)
            size += len(data)
        return h.hexdigest(), size
    buf = bytearray(chunk)
    view = memoryview(buf)
    while n := readinto(view):
        h.update(view[:n])
        size += n
    return h.hexdigest(), size


def verify_blob(store: BlobStore, sha256: str, size: int | None = None) -> str | None:
    """Re-read one blob: None when its bytes hash to its name (and size), else what differs."""
    try:
        with store.open(sha256) as f:
            actual, actual_size = hash_stream(f)
    except BlobMissing:
        return f"blob {sha256} is missing from the store"
    except BlobAltered as exc:
        return str(exc)
    except (OSError, BlobError) as exc:
        return f"blob {sha256} cannot be read: {getattr(exc, 'strerror', None) or exc}"
    if actual != sha256:
        return f"blob {sha256}: its bytes hash to {actual} ({actual_size} bytes)"
    if size is not None and actual_size != size:
        return f"blob {sha256}: holds {actual_size} bytes, {size} recorded"
    return None


class BlobStore(Protocol):
    """Content-addressed, write-once storage of evidence bytes."""

    url: str

    def put(self, source: BinaryIO, extra_digests: tuple[str, ...] = ()) -> PutResult: ...

    def sync(self) -> None:
        """Make every put so far durable; rows naming those blobs commit only after this."""
        ...

    def discard(self) -> None:
        """Forget puts not yet synced."""
        ...

    def confirm(self, sha256: str, size: int) -> str | None:
        """None when the blob is stored whole (size, and hash unless this process wrote it);
        else what is wrong. Called before a row that names the blob commits."""
        ...

    def open(self, sha256: str) -> BinaryIO: ...

    def exists(self, sha256: str) -> bool: ...

    def iter_sha256(self) -> Iterator[str]: ...

    def cleanup_temporary(self) -> int: ...
