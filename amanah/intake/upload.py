"""Uploads from a browser or a script: resumable, hashed while the bytes arrive.

An upload is opened with its name and size, receives its bytes in order (possibly over many
requests after a broken connection), and when complete is stored and recorded as an item
through the same path as a handover. The uploader gets the SHA-256 as a receipt. Memory stays
flat: bytes go to a spool file in the home folder, never into memory whole.

Every write to the spool is checked for its length and fsynced before the client is told how
much arrived; when the server's storage is full or failing the client gets a clear refusal
(`UploadStorageFull`, HTTP 507) naming no server path, and what arrived whole is kept for a
resume. The item is recorded only once its blob is confirmed stored whole.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import secrets
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from amanah.access import (
    Caller,
    NotVisible,
    Permission,
    visible_collection,
    visible_collection_id,
)
from amanah.blobs.base import CHUNK
from amanah.blobs.durable import StorageError, from_database, fsync_fd, write_all
from amanah.db.models import Item, Provider, Upload
from amanah.intake.preserve import Context, Stored, path_key, record_items
from amanah.workspace import Workspace

#: The largest single upload accepted (a field team's disk image fits; a typo does not).
MAX_SIZE = 1 << 40
MAX_NAME = 4096


class UploadError(Exception):
    """An upload that cannot go on: says why (wrong offset, too large, unknown id, …)."""


class UploadConflict(UploadError):
    """The part does not fit what the server holds (wrong offset, another request at work)."""


class UploadStorageFull(UploadError):
    """The server cannot store the bytes now (no space, quota, I/O error); resume later."""

    def __init__(self, filename: str, received: int, cause: StorageError) -> None:
        self.cause = cause  # with the server's path, for the log; never sent to the client
        super().__init__(
            f"{filename}: the server cannot store this upload now ({_public(cause.reason)});"
            f" {received} bytes are kept: resume later from there"
        )


def _public(reason: str) -> str:
    return reason.split(" (", 1)[0]


@dataclass
class Receipt:
    upload_id: str
    filename: str
    size: int
    received: int
    sha256: str | None = None
    item_id: int | None = None

    @property
    def complete(self) -> bool:
        return self.item_id is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "upload_id": self.upload_id,
            "filename": self.filename,
            "size": self.size,
            "received": self.received,
            "complete": self.complete,
            "sha256": self.sha256,
            "item_id": self.item_id,
        }


class _Hashers:
    """Running SHA-256 per open upload, so a 2 GB file is hashed once while it arrives."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_id: dict[str, tuple[Any, int]] = {}

    def resume(self, spool: Path, upload_id: str) -> Any:
        """The hasher for the spool's bytes so far; after a restart it is rebuilt from disk."""
        size = spool.stat().st_size if spool.exists() else 0
        with self.lock:
            found = self.by_id.get(upload_id)
        if found is not None and found[1] == size:
            return found[0]
        h = hashlib.sha256()
        if size:
            with open(spool, "rb") as f:
                while data := f.read(CHUNK):
                    h.update(data)
        return h

    def keep(self, upload_id: str, h: Any, size: int) -> None:
        with self.lock:
            self.by_id[upload_id] = (h, size)

    def drop(self, upload_id: str) -> None:
        with self.lock:
            self.by_id.pop(upload_id, None)


_hashers = _Hashers()
#: Staging a blob and making it durable is done by one upload at a time per process, so that
#: no item row can commit before its own blob is visible (rule 3).
_store_lock = threading.Lock()


#: The latest file time a browser may report: the year 9999 (JavaScript's own limit is later).
MAX_MODIFIED_MS = 253_402_300_799_999


def spool_dir(ws: Workspace) -> Path:
    path = ws.home / "uploads"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def _clean_name(filename: str) -> str:
    name = filename.strip()
    if not name:
        raise UploadError("the upload needs a file name")
    if "\x00" in name or len(name) > MAX_NAME:
        raise UploadError(f"{filename[:80]!r}: not a usable file name")
    return name.replace("\\", "/").lstrip("/")


def begin(
    ws: Workspace,
    caller: Caller,
    collection: str,
    filename: str,
    size: int,
    modified_ms: int | None = None,
) -> Receipt:
    """Open an upload into a collection the caller may upload to. `modified_ms`: the file's
    last modification as the uploader's browser reports it (recorded as its claim)."""
    name = _clean_name(filename)
    if not 0 <= size <= MAX_SIZE:
        raise UploadError(f"{name}: size {size} is outside 0 … {MAX_SIZE} bytes")
    if modified_ms is not None and not 0 <= modified_ms <= MAX_MODIFIED_MS:
        raise UploadError(
            f"{name}: modification time {modified_ms} is not a time in milliseconds since 1970"
        )
    upload_id = secrets.token_hex(16)
    with ws.db.session() as s:
        caller.require(Permission.UPLOAD)
        coll = visible_collection(s, caller, collection)  # a provider's own collections only
        if caller.user_id is None:
            raise UploadError("uploads are made by a signed-in user")
        s.add(
            Upload(
                id=upload_id,
                user_id=caller.user_id,
                collection_id=coll.id,
                filename=name,
                size=size,
                received=0,
                status="open",
                created_at=datetime.now(UTC),
                address=(caller.address or "")[:100],
                modified_ms=modified_ms,
            )
        )
    (spool_dir(ws) / upload_id).touch(mode=0o600)
    return Receipt(upload_id, name, size, 0)


def _mine(ws: Workspace, caller: Caller, upload_id: str) -> Upload:
    with ws.db.reader() as s:
        up = s.get(Upload, upload_id)
        if up is None or up.user_id != caller.user_id:
            raise NotVisible(f"no upload {upload_id!r}")
        s.expunge(up)
        return up


def status(ws: Workspace, caller: Caller, upload_id: str) -> Receipt:
    up = _mine(ws, caller, upload_id)
    spool = spool_dir(ws) / upload_id
    received = up.size if up.status == "done" else (spool.stat().st_size if spool.exists() else 0)
    return Receipt(up.id, up.filename, up.size, received, up.sha256, up.item_id)


class Writer:
    """Appends one request's bytes at the offset the client says; refuses gaps and overlaps."""

    def __init__(self, ws: Workspace, caller: Caller, upload_id: str, offset: int) -> None:
        self.ws, self.caller = ws, caller
        self.up = _mine(ws, caller, upload_id)
        if self.up.status == "done":
            raise UploadError(f"upload {upload_id} is already complete (item {self.up.item_id})")
        self.spool = spool_dir(ws) / upload_id
        # Unbuffered: every write's count is checked (durable.write_all), none hides in a buffer.
        self.file = open(self.spool, "ab", buffering=0)  # noqa: SIM115 - closed in close() or abort()
        try:
            # One request at a time per upload: two parts appended at once would interleave.
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.close()
            raise UploadConflict(
                f"{self.up.filename}: another request is sending this upload; wait for it,"
                " then ask where to resume (GET /api/v1/uploads/ID)"
            ) from None
        have = os.fstat(self.file.fileno()).st_size
        if offset != have:
            self.file.close()
            raise UploadConflict(
                f"{self.up.filename}: this part starts at byte {offset}, but {have} bytes have"
                f" been received; send from byte {have}"
            )
        self.hasher = _hashers.resume(self.spool, upload_id)
        self.received = have

    def write(self, data: bytes) -> None:
        if self.received + len(data) > self.up.size:
            raise UploadError(
                f"{self.up.filename}: more bytes than the announced size of {self.up.size}"
            )
        try:
            write_all(self.file.fileno(), data, self.spool)
        except StorageError as exc:
            # Part of `data` may be in the spool: the hasher is rebuilt from disk on resume.
            _hashers.drop(self.up.id)
            raise UploadStorageFull(self.up.filename, self._on_disk(), exc) from exc
        self.hasher.update(data)
        self.received += len(data)

    def _on_disk(self) -> int:
        try:
            return os.fstat(self.file.fileno()).st_size
        except OSError:
            return self.received

    def close(self) -> Receipt:
        """Flush; when every byte is in, store and record the item and return its receipt."""
        try:
            fsync_fd(self.file.fileno(), self.spool)
        except StorageError as exc:
            _hashers.drop(self.up.id)
            held = self._on_disk()
            self.file.close()
            raise UploadStorageFull(self.up.filename, held, exc) from exc
        self.file.close()
        _hashers.keep(self.up.id, self.hasher, self.received)
        if self.received < self.up.size:
            return Receipt(self.up.id, self.up.filename, self.up.size, self.received)
        return _finish(self.ws, self.caller, self.up, self.spool, self.hasher.hexdigest())

    def abort(self) -> None:
        """A broken connection: keep what arrived whole, so the client can resume."""
        with contextlib.suppress(OSError):
            self.file.flush()
            self.file.close()
        _hashers.drop(self.up.id)


def _finish(ws: Workspace, caller: Caller, up: Upload, spool: Path, sha256: str) -> Receipt:
    try:
        return _store_and_record(ws, caller, up, spool, sha256)
    except StorageError as exc:
        raise UploadStorageFull(up.filename, up.size, exc) from exc
    except DBAPIError as exc:
        full = from_database(exc, "database")
        if full is None:
            raise
        raise UploadStorageFull(up.filename, up.size, full) from exc


def _store_and_record(
    ws: Workspace, caller: Caller, up: Upload, spool: Path, sha256: str
) -> Receipt:
    with _store_lock:
        try:
            with open(spool, "rb") as f:
                put = ws.blobs.put(f)
            ws.blobs.sync()
        except BaseException:
            ws.blobs.discard()
            raise
    if put.sha256 != sha256 or put.size != up.size:
        raise UploadError(
            f"{up.filename}: the spooled bytes changed on disk ({put.sha256} ≠ {sha256});"
            " nothing was recorded, upload the file again"
        )
    wrong = ws.blobs.confirm(put.sha256, put.size)
    if wrong is not None:
        raise UploadError(f"{up.filename}: the stored copy is not whole ({wrong}); send it again")
    with ws.db.session() as s:
        row = s.get(Upload, up.id)
        assert row is not None
        if row.status == "done":  # a retried final request: the same receipt
            return Receipt(up.id, up.filename, up.size, up.size, row.sha256, row.item_id)
        coll = visible_collection_id(s, caller, up.collection_id)
        provider = s.get(Provider, coll.provider_id)
        ctx = Context(
            collection_id=coll.id,
            collection_name=coll.name,
            provider_name=provider.name if provider else "",
            actor=caller.actor,
        )
        flags = [{"code": "empty", "message": "zero-byte file"}] if up.size == 0 else []
        stored = Stored(
            original=up.filename.encode("utf-8", "surrogateescape"),
            source=f"upload {up.id}",
            sha256=sha256,
            size=up.size,
            mtime_ns=None if up.modified_ms is None else up.modified_ms * 1_000_000,
            flags=flags,
            extra={
                "channel": "upload",
                "upload": up.id,
                **({"file_times_from": "uploader's browser"} if up.modified_ms is not None else {}),
                **caller.audit(),
            },
        )
        recorded = record_items(s, ctx, [stored], Counter())
        # Nothing recorded: the same name and bytes were uploaded before into this collection.
        item_id = recorded[0].item_id if recorded else _existing_item(s, coll.id, stored)
        row.status, row.received, row.sha256, row.item_id = "done", up.size, sha256, item_id
    spool.unlink(missing_ok=True)
    _hashers.drop(up.id)
    return Receipt(up.id, up.filename, up.size, up.size, sha256, item_id)


def _existing_item(s: Any, collection_id: int, stored: Stored) -> int:
    return int(
        s.execute(
            select(Item.id).where(
                Item.collection_id == collection_id,
                Item.path_key == path_key(None, stored.original, stored.sha256),
            )
        ).scalar_one()
    )
