"""Fixity audit: re-hash stored blobs in parallel and record one custody event per blob.

Hashing runs in one process per core (hashlib releases the GIL only per call, and a process
pool keeps every core busy without sharing a database connection); only the parent writes to
the database.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from amanah.blobs import BlobMissing, BlobStore, hash_stream, open_store
from amanah.blobs.base import BlobNotAFile
from amanah.custody import ledger
from amanah.custody.ledger import EventType
from amanah.db.models import Blob
from amanah.workspace import Workspace

EVENT_BATCH = 500

_store: BlobStore | None = None


def _init_worker(url: str, home: str, endpoint: str, region: str) -> None:
    global _store
    _store = open_store(url, Path(home), endpoint, region)


def _check(item: tuple[str, int]) -> tuple[str, int, str, str]:
    """(sha256, size, outcome, actual digest or reason) for one blob, in a worker."""
    sha256, size = item
    assert _store is not None
    tighten = getattr(_store, "tighten", None)  # a folder store: modes of an older home
    if tighten is not None:
        with contextlib.suppress(OSError):
            tighten(sha256)
    try:
        with _store.open(sha256) as f:
            actual, actual_size = hash_stream(f)
    except BlobMissing:
        return sha256, size, "missing", "blob is missing from the store"
    except BlobNotAFile as exc:
        return sha256, size, "not a file", exc.why
    except OSError as exc:
        return sha256, size, "unreadable", f"cannot read blob: {exc.strerror or exc}"
    if actual != sha256 or actual_size != size:
        return sha256, size, "altered", f"content now hashes to {actual} ({actual_size} bytes)"
    return sha256, size, "ok", actual


@dataclass
class FixityReport:
    checked: int = 0
    bytes: int = 0
    seconds: float = 0.0
    workers: int = 1
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # sha256, outcome, reason

    @property
    def ok(self) -> bool:
        return not self.problems


def _blobs(ws: Workspace, sample: float | None, seed: int | None) -> list[tuple[str, int]]:
    with ws.db.reader() as s:
        rows = [(r.sha256, r.size) for r in s.execute(select(Blob.sha256, Blob.size)).all()]
    if sample is not None and rows:
        k = max(1, round(len(rows) * sample))
        rows = random.Random(seed).sample(rows, k)
    return rows


def run_fixity(
    ws: Workspace,
    actor: str,
    sample: float | None = None,
    workers: int | None = None,
    seed: int | None = None,
    on_result: Callable[[int], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
) -> FixityReport:
    """Check every blob (or a random `sample` fraction) and record the outcome of each."""
    if sample is not None and not 0 < sample <= 1:
        raise ValueError("--sample must be a fraction above 0 and at most 1, e.g. 0.05")
    blobs = _blobs(ws, sample, seed)
    workers = max(1, workers or os.cpu_count() or 1)
    report = FixityReport(workers=workers)
    if on_start:
        on_start(len(blobs), sum(size for _, size in blobs))
    started = time.monotonic()
    settings = ws.settings
    args = (settings.blob_store, str(settings.home), settings.s3_endpoint, settings.s3_region)
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=args) as pool:
        results = pool.map(_check, blobs, chunksize=8)
        _record(ws, actor, results, report, on_result)
    report.seconds = time.monotonic() - started
    with ws.db.session() as s:
        ledger.checkpoint(s, ws.key)
    return report


def _record(
    ws: Workspace,
    actor: str,
    results: Iterable[tuple[str, int, str, str]],
    report: FixityReport,
    on_result: Callable[[int], None] | None,
) -> None:
    batch: list[tuple[str, int, str, str]] = []

    def flush() -> None:
        with ws.db.session() as s:
            for sha256, size, outcome, detail in batch:
                ok = outcome == "ok"
                ledger.append(
                    s,
                    EventType.FIXITY_CHECK,
                    actor=actor,
                    object_type="blob",
                    object_id=sha256,
                    outcome="success" if ok else "failure",
                    details={
                        "algorithm": "SHA-256",
                        "expected": sha256,
                        "size": size,
                        "result": outcome,
                        **({"actual": detail} if ok else {"reason": detail}),
                    },
                )
        batch.clear()

    for result in results:
        sha256, size, outcome, detail = result
        report.checked += 1
        report.bytes += size
        if outcome != "ok":
            report.problems.append((sha256, outcome, detail))
        batch.append(result)
        if len(batch) >= EVENT_BATCH:
            flush()
        if on_result:
            on_result(size)
    if batch:
        flush()
