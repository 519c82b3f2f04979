"""The scale-out runner: procrastinate workers on PostgreSQL (`amanah worker`).

Amanah's own job table stays the record of what must be done; each queued job is also
deferred to procrastinate in the same transaction, so workers on any machine pick it up.
A procrastinate task names one Amanah job; if that job is no longer queued (done by another
runner, or waiting for a retry), the task has nothing to do.

A worker killed mid-job (kill -9, a machine lost) leaves its job "doing" in procrastinate and
"running" in Amanah's table, and nothing would ever run it again: a page job lost so, the join
of a long scan never comes. Every worker therefore runs `recover_stalled` every few seconds
(a procrastinate periodic task): a job whose worker has sent no heartbeat for
`STALLED_AFTER` seconds is put back, in both tables, and runs again (every job is idempotent).
"""

from __future__ import annotations

import os
import threading
from datetime import datetime
from typing import Any

import procrastinate
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from amanah import queue
from amanah.processing.pipeline import record_failure, run_job
from amanah.processing.sandbox import Sandbox
from amanah.workspace import Workspace, open_workspace

QUEUE = "amanah"
TASK = "amanah.process_job"
RECOVER_TASK = "amanah.recover_stalled"
#: Seconds without a heartbeat after which a worker's jobs are taken back (procrastinate's
#: workers beat every 10 seconds).
STALLED_AFTER = float(os.environ.get("AMANAH_STALLED_AFTER", "30"))
#: How often every worker looks for them (croniter's sixth field: seconds).
RECOVER_CRON = "* * * * * */10"


def conninfo(database_url: str) -> str:
    """The libpq connection string for the SQLAlchemy URL (same server, user, database)."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def make_app(database_url: str) -> procrastinate.App:
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=conninfo(database_url))
    )
    app.task(name=TASK, queue=QUEUE, pass_context=False)(_run_job)
    recover = app.task(name=RECOVER_TASK, queue=QUEUE, pass_context=True)(_recover_task)
    app.periodic(cron=RECOVER_CRON, periodic_id="recover-stalled")(recover)
    return app


def ensure_schema(app: procrastinate.App, ws: Workspace) -> None:
    """Create procrastinate's tables in our database once."""
    from sqlalchemy import text

    with ws.db.reader() as s:
        exists = s.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar()
    if exists is None:
        with app.open():
            app.schema_manager.apply_schema()


def attach(ws: Workspace) -> procrastinate.App:
    """From now on, every job this workspace enqueues is also deferred to procrastinate."""
    app = make_app(ws.settings.database_url)
    ensure_schema(app, ws)
    task = app.tasks[TASK]

    def defer(s: Session, jobs: list[tuple[int, datetime]]) -> None:
        raw = s.connection().connection.driver_connection
        for job_id, run_after in jobs:
            task.configure(connection=raw, schedule_at=run_after).defer(job_id=job_id)

    ws.db.session_info[queue.ON_ENQUEUE] = defer
    return app


# -- in the worker ---------------------------------------------------------------------------

_local = threading.local()
_workspace: Workspace | None = None
_lock = threading.Lock()


def _ws() -> Workspace:
    global _workspace
    with _lock:
        if _workspace is None:
            _workspace = open_workspace(os.environ["AMANAH_HOME"], create=False)
            attach(_workspace)
        return _workspace


def _run_job(job_id: int) -> dict[str, Any]:
    ws = _ws()
    sandbox = getattr(_local, "sandbox", None)
    if sandbox is None:
        sandbox = _local.sandbox = Sandbox.for_settings(ws.settings)
    me = f"{queue.worker_id()}/procrastinate-{threading.get_ident()}"
    job = queue.claim_job(ws.db, job_id, me)
    if job is None:
        return {"job": job_id, "skipped": "not queued (already done, running, or waiting)"}
    try:
        outcome = run_job(ws, job, sandbox=sandbox)
    except Exception as exc:  # the job fails with its reason; the worker goes on
        _, reason = record_failure(ws, job, exc)
        return {"job": job_id, "error": reason[:500]}
    return {"job": job_id, "item": outcome.item_id, "children": outcome.children}


def run_worker(ws: Workspace, concurrency: int, wait: bool) -> None:
    os.environ["AMANAH_HOME"] = str(ws.home)
    app = make_app(ws.settings.database_url)
    ensure_schema(app, ws)
    app.run_worker(queues=[QUEUE], concurrency=concurrency, wait=wait, install_signal_handlers=True)


async def _recover_task(context: procrastinate.JobContext, timestamp: int) -> dict[str, Any]:
    assert context.app is not None
    return {"recovered": await recover_stalled(context.app)}


async def recover_stalled(app: procrastinate.App) -> list[int]:
    """Jobs of workers gone silent: queued again in Amanah's table, then retried in
    procrastinate (in that order, so the retried task finds its job queued)."""
    from sqlalchemy import update

    from amanah.db.models import Job

    ws = _ws()
    stalled = await app.job_manager.get_stalled_jobs(
        queue=QUEUE, task_name=TASK, seconds_since_heartbeat=STALLED_AFTER
    )
    recovered = []
    for job in stalled:
        job_id = int(job.task_kwargs["job_id"])
        with ws.db.session() as s:
            s.execute(
                update(Job)
                .where(Job.id == job_id, Job.state == "running")
                .values(
                    state="queued",
                    locked_by="",
                    last_error=f"its worker sent no heartbeat (procrastinate job {job.id})",
                )
            )
        await app.job_manager.retry_job(job)
        recovered.append(job_id)
    return recovered
