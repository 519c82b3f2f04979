"""Content-addressed blob stores: a folder (default) or S3."""

from __future__ import annotations

from pathlib import Path

from amanah.blobs.base import (
    BlobError,
    BlobMissing,
    BlobStore,
    PutResult,
    hash_stream,
    verify_blob,
)
from amanah.blobs.durable import StorageError
from amanah.blobs.filesystem import FilesystemStore

__all__ = [
    "BlobError",
    "BlobMissing",
    "BlobStore",
    "FilesystemStore",
    "PutResult",
    "StorageError",
    "hash_stream",
    "open_store",
    "verify_blob",
]


def open_store(url: str, home: Path, endpoint: str = "", region: str = "us-east-1") -> BlobStore:
    """`file:PATH` (relative to the home) or `s3://bucket/prefix`."""
    if url.startswith("s3://"):
        from amanah.blobs.s3 import S3Store

        return S3Store(url, endpoint=endpoint, region=region)
    if url.startswith("file:"):
        path = Path(url.removeprefix("file:").removeprefix("//"))
        return FilesystemStore(path if path.is_absolute() else home / path)
    raise BlobError(f"blob store {url!r}: expected file:PATH or s3://bucket/prefix")
