"""Ingest files and folders byte-exact, with provenance, custody events and a report.

Order of durability (rule 3 of DESIGN.md): a file's bytes are stored and fsynced under their
SHA-256 first; only then does one transaction add the blob row, the item row and its custody
events. A crash leaves at most unreferenced blobs, never an item without its bytes or events.
Items are committed in batches so that thousands of small files do not cost a commit each.

A full disk, a quota or an I/O error of the store or the database stops the run with a
`StorageError` naming the file (never a traceback, never a truncated blob); what was stored
whole before it is kept, and running the same command once space is back completes the rest.
An item is recorded only after its blob is confirmed stored whole (`BlobStore.confirm`).
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from sqlalchemy import func, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from amanah.blobs.durable import StorageError, from_database
from amanah.custody import ledger
from amanah.custody.ledger import EventType
from amanah.db.models import IntakeEntry, IntakeRun, Item, Provider
from amanah.intake import hashlist as hashlists
from amanah.intake import registry
from amanah.intake.preserve import Context, Recorded, Stored, display, path_hash, record_items
from amanah.intake.walk import Found, totals, walk
from amanah.system import default_actor, file_state, pid_alive
from amanah.workspace import Workspace, sqlite_file

BATCH_FILES = 256
BATCH_BYTES = 512 << 20
BATCH_SECONDS = 2.0
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_NOATIME = getattr(os, "O_NOATIME", 0)


class IntakeError(Exception):
    """The intake cannot start (a source is missing, the hash list is unreadable, …)."""


class Progress(Protocol):
    def start(self, files: int, size: int) -> None: ...
    def advance(self, files: int = 0, size: int = 0) -> None: ...
    def finish(self) -> None: ...


class NoProgress:
    def start(self, files: int, size: int) -> None:
        pass

    def advance(self, files: int = 0, size: int = 0) -> None:
        pass

    def finish(self) -> None:
        pass


@dataclass
class IntakeRequest:
    sources: list[str | bytes]
    collection: str
    provider: str | None = None
    framework_id: int | None = None
    method: str = ""
    collected_on: date | None = None
    place: str = ""
    collector: str = ""
    compartment: str | None = None
    hash_list: Path | None = None
    #: Tesseract languages for the collection's scans (checked by the caller), e.g. ara+kur+eng.
    ocr_languages: str | None = None
    actor: str = field(default_factory=default_actor)
    #: Re-read files even when path, size and modification time match an earlier intake.
    rehash: bool = False


@dataclass
class Problem:
    path: str
    kind: str
    outcome: str
    reason: str
    item_id: int | None = None


@dataclass
class IntakeReport:
    run_id: int
    collection: str
    counts: Counter[str] = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)
    bytes_stored: int = 0
    seconds: float = 0.0
    status: str = "running"

    @property
    def ok(self) -> bool:
        """True when every file was preserved and matched the provider's list."""
        bad = ("skipped", "failed", "missing", "mismatch")
        return self.status == "complete" and not any(self.counts[k] for k in bad)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "collection": self.collection,
            "status": self.status,
            "ok": self.ok,
            "counts": dict(self.counts),
            "bytes_stored": self.bytes_stored,
            "seconds": round(self.seconds, 3),
            "problems": [p.__dict__ for p in self.problems],
        }


class _Counting:
    """Reports bytes to the progress bar as they are read."""

    def __init__(self, f: BinaryIO, progress: Progress) -> None:
        self.f = f
        self.progress = progress

    def read(self, n: int = -1) -> bytes:
        data = self.f.read(n)
        self.progress.advance(size=len(data))
        return data


def _close_stale_runs(s: Session) -> None:
    """Runs left "running" by a process of this host that no longer exists were interrupted."""
    host = socket.gethostname()
    stale = s.execute(
        select(IntakeRun).where(IntakeRun.status == "running", IntakeRun.host == host)
    ).scalars()
    for run in stale:
        if run.pid != os.getpid() and not pid_alive(run.pid):
            run.status = "interrupted"


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return file_state(a) == file_state(b)


class Intake:
    """One intake run. Use `run()`; it never raises for a bad file, only for bad requests."""

    def __init__(self, ws: Workspace, req: IntakeRequest, progress: Progress | None = None):
        self.ws = ws
        self.req = req
        self.progress = progress or NoProgress()
        self.hashes = hashlists.load(req.hash_list) if req.hash_list else None
        self.roots = [os.fsencode(s) for s in req.sources]
        for root in self.roots:
            if not os.path.lexists(root):
                raise IntakeError(f"{display(root)}: no such file or folder")
        self.pending: list[Stored] = []
        self.pending_entries: list[Problem] = []
        self.pending_bytes = 0
        self.last_commit = time.monotonic()
        #: Damaged copies found under a digest and replaced from a source: (sha256, what, path).
        self.repairs: list[tuple[str, str, str]] = []

    # -- set-up ---------------------------------------------------------------------------

    def _open_run(self) -> None:
        req = self.req
        with self.ws.db.session() as s:
            coll = registry.collection(
                s,
                req.collection,
                req.provider,
                req.framework_id,
                req.method,
                req.collected_on,
                req.place,
                req.collector,
                req.compartment,
                req.ocr_languages,
            )
            prov = s.get(Provider, coll.provider_id)
            assert prov is not None
            _close_stale_runs(s)
            run = IntakeRun(
                collection_id=coll.id,
                host=socket.gethostname(),
                pid=os.getpid(),
                actor=req.actor,
                sources=json.dumps([display(os.path.abspath(r)) for r in self.roots]),
                hash_list=str(req.hash_list or ""),
                started_at=datetime.now(UTC),
                status="running",
            )
            s.add(run)
            s.flush()
            self.collection_id = coll.id
            self.context = Context(
                collection_id=coll.id,
                collection_name=coll.name,
                provider_name=prov.name,
                actor=req.actor,
                run_id=run.id,
                hash_list=str(req.hash_list or ""),
            )
            self.report = IntakeReport(run_id=run.id, collection=coll.name)

    # -- per entry ------------------------------------------------------------------------

    def _problem(self, found: Found, outcome: str, reason: str, item_id: int | None = None) -> None:
        self.report.counts[outcome] += 1
        problem = Problem(display(found.original), found.kind, outcome, reason, item_id)
        self.pending_entries.append(problem)

    def _priors(self, batch: list[Found]) -> dict[str, list[Any]]:
        """Earlier items from the same paths, for a whole folder batch in one query."""
        hashes = [path_hash(None, f.original) for f in batch if f.kind == "file"]
        if not hashes or self.req.rehash:
            return {}
        found: dict[str, list[Any]] = {}
        with self.ws.db.reader() as s:
            rows = s.execute(
                select(Item.path_hash, Item.size, Item.mtime_ns, Item.ctime_ns, Item.sha256).where(
                    Item.collection_id == self.collection_id, Item.path_hash.in_(hashes)
                )
            )
            for row in rows:
                found.setdefault(row.path_hash, []).append(row)
        return found

    def _check_listed_present(self, found: Found, sha256: str) -> None:
        if self.hashes is None:
            return
        hit = self.hashes.lookup(found.inside, found.original)
        if hit and hit[1].algorithm == "sha256" and hit[1].digest != sha256:
            self._problem(
                found,
                "mismatch",
                f"provider's hash list line {hit[1].line} says sha256 {hit[1].digest},"
                f" the preserved file has {sha256}",
            )

    def _handle(self, found: Found, priors: dict[str, list[Any]]) -> None:
        if found.kind == "symlink":
            self.report.counts["links"] += 1
            target = display(found.link_target) if not found.error else f"? ({found.error})"
            self.pending_entries.append(
                Problem(
                    display(found.original),
                    "symlink",
                    "link",
                    f"symbolic link to {target}: recorded, not followed",
                )
            )
            return
        if found.error:
            self._problem(found, "failed", f"cannot read {found.kind}: {found.error}")
            return
        if found.kind != "file":
            self._problem(
                found, "skipped", f"a {found.kind} is not a regular file; nothing to preserve"
            )
            return
        assert found.st is not None
        if not self.req.rehash:
            # Size and modification time can be kept while the bytes change (`touch -r`,
            # `exiftool -P`, any tool that puts the time back); the inode's change time cannot
            # be set back, so a file is taken as already present only when all three agree.
            for prior in priors.get(path_hash(None, found.original), []):
                if (
                    prior.size == found.st.st_size
                    and prior.mtime_ns == found.st.st_mtime_ns
                    and prior.ctime_ns == found.st.st_ctime_ns
                ):
                    self.report.counts["already_present"] += 1
                    self._check_listed_present(found, prior.sha256)
                    self.progress.advance(files=1, size=found.st.st_size)
                    return
        self._store(found)

    def _open(self, found: Found) -> int:
        try:
            return os.open(found.name, _READ_FLAGS | _NOATIME, dir_fd=found.dir_fd)
        except PermissionError:
            if not _NOATIME:
                raise
            # O_NOATIME is only allowed to the file's owner; keep atime untouched where we can.
            return os.open(found.name, _READ_FLAGS, dir_fd=found.dir_fd)

    def _store(self, found: Found) -> None:
        assert found.st is not None
        extra = self.hashes.algorithms if self.hashes else ()
        try:
            fd = self._open(found)
        except OSError as exc:
            self._problem(found, "failed", f"cannot open: {exc.strerror}")
            self.progress.advance(files=1, size=found.st.st_size)
            return
        try:
            before = os.fstat(fd)
            if before.st_ino != found.st.st_ino:
                self._problem(found, "failed", "file was replaced between listing and reading")
                return
            with os.fdopen(fd, "rb", buffering=0, closefd=False) as raw:
                result = self.ws.blobs.put(_Counting(raw, self.progress), extra)  # type: ignore[arg-type]
            after = os.fstat(fd)
            try:
                again = os.stat(found.name, dir_fd=found.dir_fd, follow_symlinks=False)
            except OSError:
                again = None
        except StorageError as exc:  # the store, not this file, failed: the run cannot go on
            raise StorageError(
                display(found.source), f"not preserved: {exc.reason} (writing {exc.path})"
            ) from exc
        except OSError as exc:
            self._problem(found, "failed", f"read error: {exc.strerror or exc}")
            return
        except Exception as exc:  # a blob store failure must not stop the rest of the run
            self._problem(found, "failed", f"could not store: {exc}")
            return
        finally:
            os.close(fd)
            self.progress.advance(files=1)
        if (
            again is None
            or not _same_file(before, after)
            or not _same_file(before, again)
            or result.size != before.st_size
        ):
            self._problem(
                found,
                "failed",
                "file changed while being read (size, time or identity differ before and after);"
                " copy the handover to stable storage and ingest again",
            )
            return
        if result.repaired:
            self.repairs.append((result.sha256, result.repaired, display(found.source)))
        flags: list[dict[str, str]] = []
        if result.size == 0:
            flags.append({"code": "empty", "message": "zero-byte file"})
        self.pending.append(
            Stored(
                original=found.original,
                source=display(found.source),
                sha256=result.sha256,
                size=result.size,
                mtime_ns=before.st_mtime_ns,
                atime_ns=before.st_atime_ns,
                ctime_ns=before.st_ctime_ns,
                digests=result.digests,
                flags=flags,
            )
        )
        self._check_hash_list(found, self.pending[-1])
        self.pending_bytes += result.size
        self.report.bytes_stored += result.size if result.created else 0

    def _check_hash_list(self, found: Found, stored: Stored) -> None:
        if self.hashes is None:
            return
        hit = self.hashes.lookup(found.inside, found.original)
        if hit is None:
            stored.flags.append(
                {"code": "not_in_hash_list", "message": "not listed in the provider's hash list"}
            )
            return
        _, expected = hit
        actual = stored.digests.get(expected.algorithm, "")
        stored.flags.append(
            {
                "code": "hash_list_match" if actual == expected.digest else "hash_mismatch",
                "message": f"provider's hash list line {expected.line}: {expected.algorithm}"
                f" {expected.digest}; received {actual}",
                "algorithm": expected.algorithm,
                "expected": expected.digest,
                "actual": actual,
                "line": str(expected.line),
            }
        )

    # -- commit ---------------------------------------------------------------------------

    def _due(self) -> bool:
        return (
            len(self.pending) >= BATCH_FILES
            or self.pending_bytes >= BATCH_BYTES
            or time.monotonic() - self.last_commit >= BATCH_SECONDS
        )

    def _confirm_pending(self) -> None:
        """Keep only files whose blob is confirmed stored whole; the others failed."""
        kept = []
        for p in self.pending:
            wrong = self.ws.blobs.confirm(p.sha256, p.size)
            if wrong is None:
                kept.append(p)
                continue
            self.report.counts["failed"] += 1
            reason = f"stored copy not confirmed: {wrong}"
            self.pending_entries.append(Problem(display(p.original), "file", "failed", reason))
        self.pending = kept

    def _commit(self) -> None:
        if not self.pending and not self.pending_entries and not self.repairs:
            return
        self.ws.blobs.sync()  # bytes durable before any row names them
        self._confirm_pending()
        with self.ws.db.session() as s:
            for sha256, damage, source in self.repairs:
                ledger.append(
                    s,
                    EventType.FIXITY_CHECK,
                    actor=self.context.actor,
                    object_type="blob",
                    object_id=sha256,
                    outcome="failure",
                    details={
                        "algorithm": "SHA-256",
                        "expected": sha256,
                        "result": "replaced",
                        "reason": damage,
                        "replaced_from": source,
                        "intake_run": self.report.run_id,
                    },
                )
            if self.pending:
                for rec in record_items(s, self.context, self.pending, self.report.counts):
                    self._note_mismatch(rec)
            if self.pending_entries:
                s.execute(
                    insert(IntakeEntry),
                    [
                        {
                            "run_id": self.report.run_id,
                            "path": e.path,
                            "path_raw": e.path.encode("utf-8", "surrogateescape"),
                            "kind": e.kind,
                            "outcome": e.outcome,
                            "reason": e.reason,
                            "item_id": e.item_id,
                        }
                        for e in self.pending_entries
                    ],
                )
        self.report.problems.extend(self.pending_entries)
        self.repairs.clear()
        self.pending.clear()
        self.pending_entries.clear()
        self.pending_bytes = 0
        self.last_commit = time.monotonic()

    def _note_mismatch(self, rec: Recorded) -> None:
        for f in rec.stored.flags:
            if f["code"] == "hash_mismatch":
                self.report.counts["mismatch"] += 1
                self.pending_entries.append(
                    Problem(
                        display(rec.stored.original), "file", "mismatch", f["message"], rec.item_id
                    )
                )

    # -- the run --------------------------------------------------------------------------

    def run(self) -> IntakeReport:
        """The run; a full or failing database, like the store, ends it with a StorageError."""
        try:
            return self._run()
        except StorageError as exc:
            exc.kept = self._kept()
            raise
        except DBAPIError as exc:
            db_file = sqlite_file(self.ws.settings.database_url)
            full = from_database(exc, f"database {db_file or self.ws.db.safe_url}")
            if full is None:
                raise
            full.kept = self._kept()
            raise full from exc

    def _kept(self) -> int | None:
        """Items this run recorded before a storage failure, so its message can say what the
        re-run starts from; None when the database cannot be read either."""
        try:
            with self.ws.db.reader() as s:
                return s.execute(
                    select(func.count())
                    .select_from(Item)
                    .where(Item.intake_run_id == self.report.run_id)
                ).scalar_one()
        except (DBAPIError, OSError):
            return None

    def _salvage(self) -> None:
        """After a storage failure: keep what is stored whole if the storage still takes the
        rows, else drop the staged blobs (their space comes back; a re-run stores them)."""
        try:
            self._commit()
        except (StorageError, DBAPIError, OSError):
            self.ws.blobs.discard()
            self.pending.clear()
            self.repairs.clear()

    def _run(self) -> IntakeReport:
        started = time.monotonic()
        self.ws.blobs.cleanup_temporary()
        self._open_run()
        files, size = totals(self.roots)
        self.progress.start(files, size)
        failure: BaseException | None = None
        try:
            for root in self.roots:
                for batch in walk(root):
                    priors = self._priors(batch)
                    for found in batch:
                        self._handle(found, priors)
                        if self._due():
                            self._commit()
            self._commit()
            self._missing_from_list()
            self.report.status = "complete"
        except KeyboardInterrupt as exc:
            failure = exc
            self._commit()  # what is already stored is kept; a re-run completes the rest
            self.report.status = "interrupted"
            raise
        except (StorageError, DBAPIError) as exc:
            failure = exc
            self.report.status = "failed"
            self._salvage()
            raise
        except Exception as exc:
            failure = exc
            self.report.status = "failed"
            raise
        finally:
            self.progress.finish()
            self.report.seconds = time.monotonic() - started
            try:
                self._close_run()
            except (StorageError, DBAPIError, OSError):
                if failure is None:
                    raise
                # The first failure is the one to report; the run row stays "running" and
                # the next run on this host marks it interrupted.
        return self.report

    def _missing_from_list(self) -> None:
        if self.hashes is None:
            return
        for name, expected in self.hashes.missing():
            self.report.counts["missing"] += 1
            self.pending_entries.append(
                Problem(
                    display(name),
                    "file",
                    "missing",
                    f"listed in the provider's hash list (line {expected.line}) but not received",
                )
            )
        self._commit()

    def _close_run(self) -> None:
        with self.ws.db.session() as s:
            run = s.get(IntakeRun, self.report.run_id)
            assert run is not None
            run.finished_at = datetime.now(UTC)
            run.status = self.report.status
            run.counts = json.dumps(dict(self.report.counts))
            ledger.checkpoint(s, self.ws.key)


def ingest(ws: Workspace, req: IntakeRequest, progress: Progress | None = None) -> IntakeReport:
    return Intake(ws, req, progress).run()
