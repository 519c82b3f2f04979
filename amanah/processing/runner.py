"""The embedded runner: a few worker threads draining the durable job table.

Each worker claims a job, and the heavy work happens in a sandboxed child process, so
threads are enough here: they mostly wait. A worker that dies leaves its job "running"
under its process id; the next runner puts such jobs back in the queue.

A job that fails because the machine cannot do it (its scratch folder or home full:
`pipeline.machine_fault`) is put back without counting an attempt, the item is not flagged,
and every worker stops: `run` raises MachineFault with the reason. So does a storage-full
error while recording the failure, or in the search index feed. A worker thread that dies of
an unexpected error puts its job back and stops the run: `run` raises WorkerDied.

The runner refuses to start when the home asks for an isolated sandbox (the default) and this
machine cannot give one: no job is claimed, nothing is marked failed for want of a cage.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from amanah import queue
from amanah.custody.signed import LedgerRefused
from amanah.processing.pipeline import MachineFault, machine_fault, record_failure, run_job
from amanah.processing.sandbox import Limits, Sandbox
from amanah.search.index import feeding
from amanah.workspace import Workspace

log = logging.getLogger(__name__)


class WorkerDied(Exception):
    """A worker thread stopped on an unexpected error (its job was put back): the run fails."""


@dataclass
class RunReport:
    done: int = 0
    retried: int = 0
    failed: int = 0
    children: int = 0
    seconds: float = 0.0
    #: What isolated the analyses, e.g. "bwrap+seccomp+landlock" or "limits-only".
    sandbox: str = ""
    failures: list[tuple[int, str]] = field(default_factory=list)


def run(
    ws: Workspace,
    workers: int | None = None,
    wait: bool = False,
    limits: Limits | None = None,
    on_job: Callable[[], None] | None = None,
    follow: threading.Event | None = None,
) -> RunReport:
    """Process runnable jobs until none is left; with `wait`, also wait out retry delays.

    With `follow` (what `amanah serve` runs), keep waiting for new jobs until the event is set.
    """
    workers = max(1, workers or os.cpu_count() or 1)
    report = RunReport(sandbox=Sandbox.for_settings(ws.settings).isolation)  # or refuse
    queue.recover_abandoned(ws.db)
    lock = threading.Lock()
    started = time.monotonic()
    busy = [0]  # workers of this run inside a job: what they finish may queue more jobs
    #: The ledger refused to sign (events added outside Amanah): no job can be recorded.
    refused: list[LedgerRefused] = []
    #: The machine cannot do jobs (a disk full): every worker stops, the job goes back.
    halted: list[MachineFault] = []
    #: A worker died of an unexpected error: every worker stops, the run fails.
    died: list[WorkerDied] = []

    def release(job_id: int, why: str) -> None:
        try:
            queue.release(ws.db, job_id, why)
        except Exception as exc:  # the database itself full: the next run puts it back
            log.warning("job %s could not be put back now (%s); the next run will", job_id, exc)

    def halt(job_id: int | None, why: str) -> None:
        if job_id is not None:
            release(job_id, why)
        halted.append(MachineFault(why))

    def work(n: int) -> None:
        me = f"{queue.worker_id()}/{n}"
        holding: list[int] = []  # the job this worker has claimed and not yet settled
        try:
            sandbox = Sandbox.for_settings(ws.settings)
            try:
                loop(me, sandbox, holding)
            finally:
                sandbox.close()
        except Exception as exc:  # a worker must not die silently, nor keep its job "running"
            job_id = holding[0] if holding else None
            if why := machine_fault(exc):
                halt(job_id, why)
                return
            log.exception("worker %s stopped", me)
            if job_id is not None:
                release(job_id, f"the worker stopped: {type(exc).__name__}: {exc}")
            died.append(WorkerDied(f"a worker stopped: {type(exc).__name__}: {exc}"))

    def stopped() -> bool:
        return bool(refused or halted or died) or (follow is not None and follow.is_set())

    def loop(me: str, sandbox: Sandbox, holding: list[int]) -> None:
        while not stopped():  # asked to stop, or another worker stopped the run
            job = queue.claim(ws.db, me)
            if job is None:
                if follow is not None:
                    if follow.wait(0.5):
                        return
                    continue
                if wait and queue.pending(ws.db) > 0:
                    time.sleep(0.2)
                    continue
                # Another worker's job may queue more (a long scan's page jobs): stay for them.
                if busy[0] > 0:
                    time.sleep(0.2)
                    continue
                return
            holding[:] = [job.id]
            with lock:
                busy[0] += 1
            try:
                outcome = run_job(ws, job, limits, sandbox)
                with lock:
                    report.done += 1
                    report.children += outcome.children
            except LedgerRefused as exc:  # not the job's fault: every worker stops
                release(job.id, str(exc))
                refused.append(exc)
                return
            except Exception as exc:  # the job fails with its reason; the worker goes on
                if why := machine_fault(exc):  # not the item's fault: every worker stops
                    halt(job.id, why)
                    return
                try:
                    state, reason = record_failure(ws, job, exc)
                except LedgerRefused as refusal:
                    release(job.id, str(refusal))
                    refused.append(refusal)
                    return
                with lock:
                    if state == "failed":
                        report.failed += 1
                        report.failures.append((job.item_id, reason))
                    else:
                        report.retried += 1
            finally:
                with lock:
                    busy[0] -= 1
            holding.clear()
            if on_job:
                on_job()

    def fed_badly(exc: Exception) -> None:
        """A round of the search index feed failed: a full disk stops the run."""
        if why := machine_fault(exc):
            halt(None, why)

    threads = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(workers)]
    try:
        with feeding(ws, on_error=fed_badly):  # an index outside the database (tantivy) is
            for t in threads:  # fed as items are done
                t.start()
            for t in threads:
                t.join()
    except Exception as exc:  # the feed's last round: the outbox keeps what it did not apply
        if not (why := machine_fault(exc)):
            raise
        halted.append(MachineFault(why))
    report.seconds = time.monotonic() - started
    if refused:
        raise refused[0]
    if halted:
        raise halted[0]
    if died:
        raise died[0]
    return report
