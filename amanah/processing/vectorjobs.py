"""The vectors of a long text made by every idle worker, stored once when every share is made.

An item's vectors for search by meaning (its `embed` job; search/semantic.py) cost about 0.4 s
of one core per passage of Arabic, up to 16 passages: 6-7 s for a long text, and they come
last, after a long scan's join, when the other workers have nothing left to do. So the
`embed` job, when the other workers are free, shares the text's passages with them: one
`vector_parts` row per share and one job `embed:FIRST` for each share but the first, committed
before it embeds the first (the largest) itself. Each share's job embeds its passages in the
sandbox and keeps them in its row; the job that keeps the last share stores the item's
vectors, every share in passage order, and deletes the rows, in the same transaction. Every
passage is embedded by itself (`search.passages.embed_file`), so the vectors are those one job
makes, bit for bit. When other jobs wait for the other workers, the `embed` job embeds every
passage itself, as before: its shares would only wait behind them (`workers_for`). Once its
own share is kept, the `embed` job also takes the shares no other worker has claimed yet (a
worker still busy elsewhere), so sharing never leaves the vectors waiting for a worker that
is not free.

Every step is idempotent and durable: a share's job retried after a crash (a killed worker,
a failing sandbox) embeds its passages again and keeps the same vectors; the rows name the
digest of the passages they were cut from, so shares of an older text never mix with a newer
one: the `embed` job that a new text queues replaces them. The item's vectors change in one
transaction, when the last share is kept; until then it keeps those it had (none when new).
Writers of one item's shares are serialised by its row (SQLite: by the write lock).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from amanah import queue
from amanah.db.models import Item, Job, SearchText, VectorPart
from amanah.processing.sandbox import Limits, Sandbox
from amanah.search import semantic
from amanah.search.passages import DIM, digest, passages
from amanah.workspace import Workspace

EMBED_JOB = "embed"
SHARE_JOB = "embed:"  # + the share's first passage (1 or more: the first share is `embed`'s)
#: The workers a text's passages are shared over: the runner's default, one per core (as a
#: long scan's page jobs are sized, processing/pagejobs.py), or AMANAH_EMBED_WORKERS.
WORKERS = int(os.environ.get("AMANAH_EMBED_WORKERS", "0")) or max(1, os.cpu_count() or 1)
#: A share holds at least this many characters of passages (about 0.2 s of one core): below
#: it, its job's fixed cost (a claim, a sandbox child, a transaction) is a large part of it.
MIN_SHARE_CHARS = 400


def is_share_job(kind: str) -> bool:
    return kind.startswith(SHARE_JOB)


def shares(sizes: list[int], workers: int) -> list[tuple[int, int]]:
    """(first passage, passages) of each share of passages of these sizes (characters) over
    `workers`, in passage order: contiguous, near-equal in characters, the first ones the
    larger (the `embed` job's own starts first); fewer shares when one would hold less than
    MIN_SHARE_CHARS (its job would cost more than it saves)."""
    n, total = len(sizes), sum(sizes)
    for k in range(max(1, min(n, workers)), 1, -1):
        out, first, held = [], 0, 0
        for j in range(1, k):
            end, held = first + 1, held + sizes[first]
            while end < n - (k - j) and held < total * j / k:
                held += sizes[end]
                end += 1
            out.append((first, end - first))
            first = end
        out.append((first, n - first))
        if all(sum(sizes[f : f + c]) >= MIN_SHARE_CHARS for f, c in out):
            return out
    return [(0, n)]


@dataclass(frozen=True)
class Share:
    first: int
    passages: int
    digest: str
    done: bool


def _lock(s: Session, item_id: int) -> None:
    """Serialise the writers of one item's shares (PostgreSQL; SQLite's writes already are)."""
    s.execute(select(Item.id).where(Item.id == item_id).with_for_update())


def _shares_of(s: Session, item_id: int) -> dict[int, Share]:
    rows = s.execute(
        select(
            VectorPart.first_passage,
            VectorPart.passages,
            VectorPart.digest,
            VectorPart.vectors.is_not(None),
        ).where(VectorPart.item_id == item_id)
    ).all()
    return {r[0]: Share(r[0], r[1], r[2], bool(r[3])) for r in rows}


def _body(s: Session, item_id: int) -> str:
    body = s.execute(
        select(SearchText.body).where(SearchText.item_id == item_id)
    ).scalar_one_or_none()
    return body or ""


def workers_for(waiting: int) -> int:
    """The workers a text's passages are shared over while `waiting` other jobs are ready to
    run: one per core, less one for every waiting job beyond the first (one, like the item's
    own `mentions` job, is taken before a share and is short; with more, the other workers
    are busy, and shares would only add jobs)."""
    return max(1, min(WORKERS, WORKERS + 1 - waiting))


def _waiting(s: Session) -> int:
    """Jobs ready to run now, up to WORKERS + 1 (enough to know that no share would help)."""
    ready = select(Job.id).where(Job.state == "queued", Job.run_after <= queue.now())
    return len(s.execute(ready.limit(WORKERS + 1)).all())


def embed(
    ws: Workspace, job: queue.Claimed, limits: Limits | None = None, sandbox: Sandbox | None = None
) -> Any:
    """The item's `embed` job: its text's vectors, alone or in shares with idle workers."""
    from amanah.processing.pipeline import Outcome

    with ws.db.reader() as s:
        body = _body(s, job.item_id)
    pieces = passages(body)
    named = digest(pieces)
    with ws.db.session() as s:
        _lock(s, job.item_id)
        found = _shares_of(s, job.item_id)
        if found and (0 not in found or any(sh.digest != named for sh in found.values())):
            # shares of an older text: this text's are cut now (their jobs see the change)
            s.execute(delete(VectorPart).where(VectorPart.item_id == job.item_id))
            found = {}
        workers = workers_for(_waiting(s)) if not found and len(pieces) > 1 else 1
        cut = shares([len(p) for p in pieces], workers) if workers > 1 else []
        if len(cut) > 1:
            now = queue.now()
            for first, count in cut:
                s.add(
                    VectorPart(
                        item_id=job.item_id,
                        first_passage=first,
                        passages=count,
                        digest=named,
                        created_at=now,
                    )
                )
            s.flush()
            found = _shares_of(s, job.item_id)
        for first, sh in found.items():  # a share's job that gave up is asked again
            if first and not sh.done:
                queue.ensure(s, job.item_id, f"{SHARE_JOB}{first}")
    if not found:  # one job, every passage
        vectors = _embed(ws, job, pieces, limits, sandbox)
        with ws.db.session() as s:
            semantic.store(s, job.item_id, vectors)
            queue.finish(s, job.id)
        return Outcome(job.item_id, 0, [])
    own = found[0]
    if own.done:
        with ws.db.session() as s:
            _lock(s, job.item_id)
            _store_if_complete(s, job.item_id)
            queue.finish(s, job.id)
    else:
        vectors = _embed(ws, job, pieces[: own.passages], limits, sandbox)
        if not _keep(ws, job, 0, named, vectors):
            raise ValueError(f"job {job.id}: the item's vector shares changed; retried")
    _take_unclaimed(ws, job.item_id, limits, sandbox)
    return Outcome(job.item_id, 0, [])


def embed_share(
    ws: Workspace, job: queue.Claimed, limits: Limits | None = None, sandbox: Sandbox | None = None
) -> Any:
    """One share's job: embed its passages in the sandbox and keep them in its row (the last
    share kept stores the item's vectors). A share withdrawn, or cut from a text the item no
    longer has (its new `embed` job shares the new text again), ends with nothing to do."""
    from amanah.processing.pipeline import Outcome

    first = int(job.kind[len(SHARE_JOB) :])
    for _ in range(3):
        with ws.db.reader() as s:
            sh = _shares_of(s, job.item_id).get(first)
            body = _body(s, job.item_id)
        pieces = passages(body)
        if sh is None or sh.done or digest(pieces) != sh.digest:
            if _finish_if_unchanged(ws, job, first, sh):
                return Outcome(job.item_id, 0, [])
            continue
        vectors = _embed(ws, job, pieces[first : first + sh.passages], limits, sandbox)
        if _keep(ws, job, first, sh.digest, vectors):
            return Outcome(job.item_id, 0, [])
    raise ValueError(f"job {job.id}: the item's vector share {first} kept changing; retried")


def _embed(
    ws: Workspace,
    job: queue.Claimed,
    pieces: list[str],
    limits: Limits | None,
    sandbox: Sandbox | None,
) -> np.ndarray:
    """These passages' vectors, embedded in the sandbox (the model reads evidence text)."""
    from amanah.processing.pipeline import _in_sandbox, _job_dir

    if not pieces:
        return np.zeros((0, DIM), np.float32)
    with _job_dir(ws, job) as (scratch, out_dir):
        source = scratch / "passages.json"
        source.write_text(json.dumps(pieces, ensure_ascii=False), encoding="utf-8")
        found = _in_sandbox(sandbox, source, "passages.json", out_dir, limits, "embed")
        raw = (out_dir / found["file"]).read_bytes()
    vectors = np.frombuffer(raw, dtype=np.float32).reshape(-1, DIM)
    if len(vectors) != len(pieces):
        raise ValueError(f"job {job.id}: {len(vectors)} vectors for {len(pieces)} passages")
    return vectors


def _keep(ws: Workspace, job: queue.Claimed, first: int, named: str, vectors: Any) -> bool:
    """Keep a share's vectors if its row still asks for them, and store the item's vectors
    if it was the last, with the job's end, in one transaction; False if the share changed."""
    with ws.db.session() as s:
        _lock(s, job.item_id)
        kept = s.execute(
            update(VectorPart)
            .where(
                VectorPart.item_id == job.item_id,
                VectorPart.first_passage == first,
                VectorPart.digest == named,
            )
            .values(
                vectors=np.ascontiguousarray(vectors, np.float32).tobytes(),
                done_at=datetime.now(UTC),
            )
        ).rowcount
        if not kept:
            return False
        _store_if_complete(s, job.item_id)
        queue.finish(s, job.id)
    return True


def _store_if_complete(s: Session, item_id: int) -> bool:
    """The item's vectors from its shares, once every share of one text is kept."""
    rows = s.execute(
        select(VectorPart.first_passage, VectorPart.passages, VectorPart.digest, VectorPart.vectors)
        .where(VectorPart.item_id == item_id)
        .order_by(VectorPart.first_passage)
    ).all()
    if not rows or any(v is None for *_, v in rows) or len({d for _, _, d, _ in rows}) != 1:
        return False
    expected = 0
    for first, count, _, _ in rows:  # the shares follow each other from the first passage
        if first != expected:
            return False
        expected += count
    vectors = np.frombuffer(b"".join(v for *_, v in rows if v is not None), dtype=np.float32)
    semantic.store(s, item_id, vectors.reshape(-1, DIM))
    s.execute(delete(VectorPart).where(VectorPart.item_id == item_id))
    return True


def _finish_if_unchanged(ws: Workspace, job: queue.Claimed, first: int, seen: Share | None) -> bool:
    """End a share's job with nothing to do if its row is still as seen (gone, kept, or of
    another text); False if it changed meanwhile (it is then read again)."""
    with ws.db.session() as s:
        _lock(s, job.item_id)
        if _shares_of(s, job.item_id).get(first) != seen:
            return False
        queue.finish(s, job.id)
    return True


def _take_unclaimed(
    ws: Workspace, item_id: int, limits: Limits | None, sandbox: Sandbox | None
) -> None:
    """After its own share: run the item's share jobs that no other worker has claimed."""
    from amanah.processing.pipeline import record_failure

    with ws.db.reader() as s:
        waiting = s.execute(
            select(Job.id)
            .where(
                Job.item_id == item_id,
                Job.kind.startswith(SHARE_JOB),
                Job.state == "queued",
                Job.run_after <= queue.now(),
            )
            .order_by(Job.id)
        ).scalars()
        ids = list(waiting)
    for job_id in ids:
        share = queue.claim_job(ws.db, job_id, f"{queue.worker_id()}/embed-{item_id}")
        if share is None:  # another worker took it meanwhile
            continue
        try:
            embed_share(ws, share, limits, sandbox)
        except Exception as exc:  # as the runner does: retried later, or failed with a reason
            record_failure(ws, share, exc)
