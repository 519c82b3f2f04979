"""The durable job table: enqueue with the item, claim, finish, retry with backoff.

A job is enqueued in the same transaction as its item, so no item is ever left without its
processing. A claimed job records which process holds it; if that process dies (kill -9, a
crash, a reboot), the job goes back to the queue instead of being lost.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, insert, select, true, update
from sqlalchemy.orm import Session

from amanah.db import Database
from amanah.db.models import Job
from amanah.system import pid_alive

MAX_ATTEMPTS = 3
#: Seconds before the first retry; doubled at each further attempt.
BACKOFF = float(os.environ.get("AMANAH_JOB_BACKOFF", "10"))
#: A running job whose worker has not been seen for this long is presumed dead.
STALE_AFTER = timedelta(hours=2)


def now() -> datetime:
    return datetime.now(UTC)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


#: Session.info key of a callable told about (job id, run after) pairs in the same transaction;
#: the scale-out runner uses it to defer its own jobs atomically with ours.
ON_ENQUEUE = "amanah.on_enqueue"


def _announce(s: Session, jobs: list[tuple[int, datetime]]) -> None:
    hook = s.info.get(ON_ENQUEUE)
    if hook is not None and jobs:
        hook(s, jobs)


def ensure(s: Session, item_id: int, kind: str) -> None:
    """Make sure the item's `kind` job will run (again): one job row per item and kind."""
    job = s.execute(
        select(Job).where(Job.item_id == item_id, Job.kind == kind)
    ).scalar_one_or_none()
    if job is None:
        enqueue(s, [item_id], kind)
    elif job.state in ("done", "failed"):
        job.state, job.attempts, job.run_after, job.last_error = "queued", 0, now(), ""
        job.locked_by, job.locked_at, job.finished_at = "", None, None
        s.flush()
        _announce(s, [(job.id, job.run_after)])


def enqueue(s: Session, item_ids: Iterable[int], kind: str = "process") -> None:
    rows = [
        {
            "item_id": i,
            "kind": kind,
            "state": "queued",
            "attempts": 0,
            "run_after": now(),
            "locked_by": "",
            "last_error": "",
            "created_at": now(),
        }
        for i in item_ids
    ]
    if rows:
        ids = s.execute(insert(Job).returning(Job.id, sort_by_parameter_order=True), rows)
        _announce(s, [(job_id, rows[0]["run_after"]) for job_id in ids.scalars()])


@dataclass
class Claimed:
    id: int
    item_id: int
    attempts: int
    kind: str = "process"


def recover_abandoned(db: Database) -> int:
    """Put back jobs whose worker process is gone (same host) or silent for too long."""
    host = socket.gethostname()
    recovered = 0
    with db.session() as s:
        running = s.execute(select(Job).where(Job.state == "running")).scalars().all()
        for job in running:
            owner_host, _, owner = job.locked_by.rpartition(":")  # host:pid/thread
            pid = owner.split("/", 1)[0]
            dead = owner_host == host and pid.isdigit() and not pid_alive(int(pid))
            locked_at = job.locked_at.replace(tzinfo=UTC) if job.locked_at else None
            silent = locked_at is not None and now() - locked_at > STALE_AFTER
            if dead or silent:
                job.state = "queued"
                job.last_error = (
                    f"worker {job.locked_by or '?'} stopped during attempt {job.attempts}"
                )
                job.locked_by = ""
                recovered += 1
    return recovered


def live_workers(db: Database) -> list[str]:
    """The workers (host:pid) holding a running job that are alive (or on another host and
    not silent): what must stop before the signing key changes under them."""
    host = socket.gethostname()
    found: set[str] = set()
    with db.reader() as s:
        for locked_by, locked_at in s.execute(
            select(Job.locked_by, Job.locked_at).where(Job.state == "running")
        ).all():
            owner_host, _, owner = (locked_by or "").rpartition(":")
            pid = owner.split("/", 1)[0]
            if owner_host == host and pid.isdigit():
                if pid_alive(int(pid)):
                    found.add(f"{owner_host}:{pid}")
            elif locked_at is not None and now() - locked_at.replace(tzinfo=UTC) <= STALE_AFTER:
                found.add(locked_by)
    return sorted(found)


def claim(db: Database, worker: str) -> Claimed | None:
    """Take the oldest runnable job, or None when nothing is runnable now."""
    with db.session() as s:
        q = (
            select(Job)
            .where(Job.state == "queued", Job.run_after <= now())
            # "process" first: text and OCR make items searchable; page images and semantic
            # vectors (the slowest per item) can wait.
            # OCR page jobs ("ocr:N", "ocr_join") with "process": a long scan's pages are
            # spread over every worker before anything slower is taken.
            .order_by(
                case(
                    (Job.kind == "process", 0),
                    (Job.kind.startswith("ocr"), 0),
                    (Job.kind == "pages", 1),
                    else_=2,
                ),
                Job.id,
            )
            .limit(1)
        )
        if db.dialect == "postgresql":
            q = q.with_for_update(skip_locked=True)
        return _take(s.execute(q).scalar_one_or_none(), worker)


def _take(job: Job | None, worker: str) -> Claimed | None:
    if job is None:
        return None
    job.state = "running"
    job.locked_by = worker
    job.locked_at = now()
    job.attempts += 1
    return Claimed(job.id, job.item_id, job.attempts, job.kind)


def finish(s: Session, job_id: int) -> None:
    s.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(state="done", finished_at=now(), locked_by="", last_error="")
    )


def release(db: Database, job_id: int, reason: str) -> None:
    """Put a claimed job back as it was: it did not fail, the installation could not do or
    record its work (the custody ledger refused to sign, a disk is full)."""
    with db.session() as s:
        job = s.get(Job, job_id)
        if job is not None and job.state == "running":
            job.state = "queued"
            job.locked_by = ""
            job.attempts = max(0, job.attempts - 1)
            job.last_error = reason[:4000]


def fail(db: Database, job_id: int, reason: str, final: bool = False) -> str:
    """Retry later with backoff, or give up after MAX_ATTEMPTS (at once when `final`);
    returns the new state."""
    with db.session() as s:
        job = s.get(Job, job_id)
        assert job is not None
        job.locked_by = ""
        job.last_error = reason[:4000]
        if job.attempts < MAX_ATTEMPTS and not final:
            job.state = "queued"
            job.run_after = now() + timedelta(seconds=BACKOFF * 2 ** (job.attempts - 1))
            _announce(s, [(job.id, job.run_after)])
        else:
            job.state = "failed"
            job.finished_at = now()
        return job.state


def retry_failed(db: Database) -> int:
    with db.session() as s:
        ids = (
            s.execute(
                update(Job)
                .where(Job.state == "failed")
                .values(state="queued", attempts=0, run_after=now(), finished_at=None)
                .returning(Job.id)
            )
            .scalars()
            .all()
        )
        _announce(s, [(i, now()) for i in ids])
        return len(ids)


def claim_job(db: Database, job_id: int, worker: str) -> Claimed | None:
    """Take one given job if it is queued and due (the scale-out runner names its job)."""
    with db.session() as s:
        q = select(Job).where(Job.id == job_id, Job.state == "queued", Job.run_after <= now())
        if db.dialect == "postgresql":
            q = q.with_for_update(skip_locked=True)
        return _take(s.execute(q).scalar_one_or_none(), worker)


def counts(db: Database, visible: Any = None) -> dict[str, int]:
    """Jobs by state; of the jobs meeting `visible` (`amanah.access.jobs_visible`) when a
    person asks, every job for the machine's own account."""
    q = select(Job.state, func.count()).group_by(Job.state)
    with db.reader() as s:
        rows = s.execute(q if visible is None else q.where(visible)).all()
    return {state: n for state, n in rows}


def counts_by_kind(db: Database) -> dict[str, dict[str, int]]:
    """Jobs by kind, then state: what `jobs --json` and the tests read to say which work ran."""
    with db.reader() as s:
        rows = s.execute(select(Job.kind, Job.state, func.count()).group_by(Job.kind, Job.state))
        out: dict[str, dict[str, int]] = {}
        for kind, state, n in rows:
            out.setdefault(kind, {})[state] = n
    return out


def pending(db: Database) -> int:
    """Jobs not yet finished one way or the other."""
    c = counts(db)
    return c.get("queued", 0) + c.get("running", 0)


def failures(
    db: Database, limit: int = 100, visible: Any = None
) -> list[tuple[int, int, int, str]]:
    """Failed jobs with their reasons; of the jobs meeting `visible`, as `counts`."""
    with db.reader() as s:
        rows = s.execute(
            select(Job.id, Job.item_id, Job.attempts, Job.last_error)
            .where(Job.state == "failed", true() if visible is None else visible)
            .order_by(Job.id)
            .limit(limit)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]
