"""Blobs in an S3 bucket (SeaweedFS, Ceph RGW, AWS): key = prefix + sha256.

The digest is only known once every byte has passed, so bytes are streamed to a temporary key
with a multipart upload, then copied under their digest (if not already there) and the
temporary key removed. Memory is bounded by the part size times the upload concurrency.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any, BinaryIO, cast

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from amanah.blobs.base import BlobError, BlobMissing, HashingReader, PutResult, check_sha256

PART = 8 << 20
TRANSFER = TransferConfig(
    multipart_threshold=PART, multipart_chunksize=PART, max_concurrency=4, use_threads=True
)


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

    def key(self, sha256: str) -> str:
        return f"{self.prefix}sha256/{check_sha256(sha256)}"

    def _tmp_prefix(self) -> str:
        return f"{self.prefix}tmp/"

    def ensure_bucket(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self.client.create_bucket(Bucket=self.bucket)

    def put(self, source: BinaryIO, extra_digests: tuple[str, ...] = ()) -> PutResult:
        reader = HashingReader(source, extra_digests)
        tmp_key = f"{self._tmp_prefix()}{uuid.uuid4().hex}"
        try:
            self.client.upload_fileobj(cast(Any, reader), self.bucket, tmp_key, Config=TRANSFER)
            digests = reader.digests()
            final = self.key(digests["sha256"])
            created = not self.exists(digests["sha256"])
            if created:
                self.client.copy(
                    {"Bucket": self.bucket, "Key": tmp_key}, self.bucket, final, Config=TRANSFER
                )
            return PutResult(digests["sha256"], reader.size, created, digests)
        except (BotoCoreError, ClientError) as exc:
            raise BlobError(f"S3 write to {self.bucket} failed: {exc}") from exc
        finally:
            # A temporary key left behind is swept later by cleanup_temporary.
            with contextlib.suppress(BotoCoreError, ClientError):
                self.client.delete_object(Bucket=self.bucket, Key=tmp_key)

    def sync(self) -> None:
        """A completed S3 PUT is already durable."""

    def discard(self) -> None:
        """Nothing is staged: blobs without rows are harmless and invisible."""

    def open(self, sha256: str) -> BinaryIO:
        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise BlobMissing(f"blob {sha256} is missing from {self.url}") from exc
            raise BlobError(f"S3 read of {sha256} failed: {exc}") from exc
        return cast(BinaryIO, obj["Body"])

    def exists(self, sha256: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise BlobError(f"S3 lookup of {sha256} failed: {exc}") from exc
        return True

    def _keys(self, prefix: str) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        for page in pages:
            for obj in page.get("Contents", []):
                yield obj["Key"]

    def iter_sha256(self) -> Iterator[str]:
        start = f"{self.prefix}sha256/"
        for key in self._keys(start):
            yield key[len(start) :]

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
