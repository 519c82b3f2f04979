"""Blobs in an S3 bucket (SeaweedFS, Ceph RGW, AWS): key = prefix + sha256.

The digest is only known once every byte has passed, so bytes are streamed to a temporary key
with a multipart upload, then copied under their digest (if not already there) and the
temporary key removed. Memory is bounded by the part size times the upload concurrency.

Nothing is trusted because the server said 200: every part is sent with its SHA-256, which the
server checks on arrival; after the copy, the object under the digest must have the size and
the SHA-256 checksum (whole-object, or the composite of its parts) of the bytes read here, or
it is read back and hashed. An object already under the digest is trusted on the same terms,
and replaced when it fails them.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import functools
import hashlib
import inspect
import io
import uuid
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO, ParamSpec, TypeVar, cast

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from amanah.blobs.base import (
    BlobError,
    BlobMissing,
    HashingReader,
    PutResult,
    StoreUnavailable,
    check_sha256,
    hash_stream,
)
from amanah.blobs.durable import StorageError

PART = 8 << 20
TRANSFER = TransferConfig(
    multipart_threshold=PART, multipart_chunksize=PART, max_concurrency=4, use_threads=True
)
CHECKSUM = {"ChecksumAlgorithm": "SHA256"}
#: Digests this process uploaded or verified, trusted after a size check alone.
KNOWN_LIMIT = 1 << 16


P = ParamSpec("P")
R = TypeVar("R")


def _s3_errors(method: Callable[P, R]) -> Callable[P, R]:
    """Every failure of the S3 client leaves the store as a BlobError naming the store: an
    unreachable endpoint, a refused request or a broken stream is a one-line error for the
    command or the page, never botocore's traceback."""
    what = method.__name__.strip("_").replace("_", " ")

    def failed(store: Any, exc: Exception) -> BlobError:
        return BlobError(f"{store.url}: S3 {what} failed: {exc}")

    if inspect.isgeneratorfunction(method):

        @functools.wraps(method)
        def generator(*args: P.args, **kwargs: P.kwargs) -> Any:
            try:
                yield from cast(Iterator[Any], method(*args, **kwargs))
            except (BotoCoreError, ClientError) as exc:
                raise failed(args[0], exc) from exc

        return cast(Callable[P, R], generator)

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except (BotoCoreError, ClientError) as exc:
            raise failed(args[0], exc) from exc

    return call


class _Body(io.RawIOBase):
    """An object's bytes as a file whose read errors are OSErrors (EIO), as a file's are:
    every reader of a blob already handles those, and none knows botocore's."""

    def __init__(self, body: Any, where: str) -> None:
        self._body = body
        self._where = where

    def readable(self) -> bool:
        return True

    def _read(self, n: int | None) -> bytes:
        try:
            return bytes(self._body.read(n))
        except (BotoCoreError, ClientError) as exc:
            raise StoreUnavailable(errno.EIO, f"{self._where}: S3 read failed: {exc}") from exc

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._read(len(view))
        view[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        """`read()` in one request to the stream, not the base class's 8 kB steps."""
        return self._read(None)

    def close(self) -> None:
        if not self.closed:
            with contextlib.suppress(BotoCoreError, ClientError, OSError):
                self._body.close()
        super().close()


class _PartHashingReader(HashingReader):
    """Also hashes each PART-sized slice, to recompute a multipart upload's composite checksum."""

    def __init__(self, source: BinaryIO, extra: tuple[str, ...] = ()) -> None:
        super().__init__(source, extra)
        self.parts: list[bytes] = []
        self._part = hashlib.sha256()
        self._in_part = 0

    def read(self, n: int = PART) -> bytes:
        data = super().read(n)
        view = memoryview(data)
        while view:
            take = min(len(view), PART - self._in_part)
            self._part.update(view[:take])
            self._in_part += take
            view = view[take:]
            if self._in_part == PART:
                self.parts.append(self._part.digest())
                self._part, self._in_part = hashlib.sha256(), 0
        return data

    def checksums(self) -> set[str]:
        """The whole-object SHA-256 and the composite of parts, as S3 reports them."""
        parts = [*self.parts, self._part.digest()] if self._in_part else list(self.parts)
        found = {base64.b64encode(self.sha256.digest()).decode()}
        if len(parts) > 1 or self.size >= PART:
            composite = base64.b64encode(hashlib.sha256(b"".join(parts)).digest()).decode()
            found.add(f"{composite}-{len(parts)}")
        return found


class S3Store:
    def __init__(self, url: str, endpoint: str = "", region: str = "us-east-1") -> None:
        # url: s3://bucket/optional/prefix
        rest = url.removeprefix("s3://")
        bucket, _, prefix = rest.partition("/")
        if not bucket:
            raise BlobError(f"blob store URL {url!r} names no bucket (expected s3://bucket/prefix)")
        self.url = url
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint or None,
            region_name=region,
            config=Config(retries={"max_attempts": 5, "mode": "standard"}),
        )
        self._known: set[str] = set()

    def key(self, sha256: str) -> str:
        return f"{self.prefix}sha256/{check_sha256(sha256)}"

    def _tmp_prefix(self) -> str:
        return f"{self.prefix}tmp/"

    def _know(self, sha256: str) -> None:
        if len(self._known) >= KNOWN_LIMIT:
            self._known.clear()
        self._known.add(sha256)

    @_s3_errors
    def ensure_bucket(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self.client.create_bucket(Bucket=self.bucket)

    @_s3_errors
    def put(self, source: BinaryIO, extra_digests: tuple[str, ...] = ()) -> PutResult:
        reader = _PartHashingReader(source, extra_digests)
        tmp_key = f"{self._tmp_prefix()}{uuid.uuid4().hex}"
        where = f"{self.url} ({self.bucket}/{tmp_key})"
        try:
            self.client.upload_fileobj(
                cast(Any, reader), self.bucket, tmp_key, ExtraArgs=CHECKSUM, Config=TRANSFER
            )
            digests = reader.digests()
            sha256 = digests["sha256"]
            final = self.key(sha256)
            damage = self._damage(sha256, reader.size, reader.checksums(), trust_known=True)
            if damage is None:
                return PutResult(sha256, reader.size, False, digests)
            self.client.copy(
                {"Bucket": self.bucket, "Key": tmp_key},
                self.bucket,
                final,
                ExtraArgs=CHECKSUM,
                Config=TRANSFER,
            )
            after = self._damage(sha256, reader.size, reader.checksums(), trust_known=False)
            if after is not None:
                raise StorageError(f"{self.url} ({self.bucket}/{final})", f"after upload, {after}")
            self._know(sha256)
            repaired = "" if damage == "missing" else damage
            return PutResult(sha256, reader.size, True, digests, repaired=repaired)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(where, f"S3 write failed: {exc}") from exc
        finally:
            # A temporary key left behind is swept later by cleanup_temporary.
            with contextlib.suppress(BotoCoreError, ClientError):
                self.client.delete_object(Bucket=self.bucket, Key=tmp_key)

    def _head(self, sha256: str) -> dict[str, Any] | None:
        try:
            return cast(
                dict[str, Any],
                self.client.head_object(
                    Bucket=self.bucket, Key=self.key(sha256), ChecksumMode="ENABLED"
                ),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise BlobError(f"S3 lookup of {sha256} failed: {exc}") from exc

    def _damage(
        self, sha256: str, size: int, checksums: set[str] | None, trust_known: bool
    ) -> str | None:
        """None when a sound object is stored under `sha256`; else "missing" or what is wrong.

        Sound: the right size, and a SHA-256 checksum the server checked matching the bytes
        read here, or (without one) its bytes re-read and hashed."""
        head = self._head(sha256)
        if head is None:
            return "missing"
        if head.get("ContentLength") != size:
            return f"stored object holds {head.get('ContentLength')} bytes, not {size}"
        if trust_known and sha256 in self._known:
            return None
        stored = head.get("ChecksumSHA256")
        if stored and checksums is not None and stored in checksums:
            self._know(sha256)
            return None
        try:
            with self.open(sha256) as f:
                actual, actual_size = hash_stream(f)
        except (BlobError, BotoCoreError, ClientError, OSError) as exc:
            return f"stored object unreadable: {exc}"
        if actual != sha256 or actual_size != size:
            return f"stored object hashes to {actual} ({actual_size} bytes)"
        self._know(sha256)
        return None

    @_s3_errors
    def confirm(self, sha256: str, size: int) -> str | None:
        """Before a row names a blob: None when it is stored whole, else what is wrong."""
        damage = self._damage(sha256, size, None, trust_known=True)
        return None if damage is None else f"blob {sha256}: {damage}"

    def sync(self) -> None:
        """A completed and verified S3 PUT is already durable."""

    def discard(self) -> None:
        """Nothing is staged: blobs without rows are harmless and invisible."""

    @_s3_errors
    def open(self, sha256: str) -> BinaryIO:
        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise BlobMissing(f"blob {sha256} is missing from {self.url}") from exc
            raise BlobError(f"S3 read of {sha256} failed: {exc}") from exc
        return cast(BinaryIO, _Body(obj["Body"], f"{self.url} ({sha256})"))

    @_s3_errors
    def exists(self, sha256: str) -> bool:
        return self._head(sha256) is not None

    def _keys(self, prefix: str) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        for page in pages:
            for obj in page.get("Contents", []):
                yield obj["Key"]

    @_s3_errors
    def iter_sha256(self) -> Iterator[str]:
        start = f"{self.prefix}sha256/"
        for key in self._keys(start):
            yield key[len(start) :]

    @_s3_errors
    def cleanup_temporary(self) -> int:
        """Remove temporary keys older than an hour (a live upload may own a newer one)."""
        import datetime as dt

        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        removed = 0
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self._tmp_prefix()
        )
        for page in pages:
            for obj in page.get("Contents", []):
                if obj["LastModified"] < cutoff:
                    self.client.delete_object(Bucket=self.bucket, Key=obj["Key"])
                    removed += 1
        return removed
