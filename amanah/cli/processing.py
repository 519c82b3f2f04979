"""`amanah process`, `worker` and `jobs`: the processing queue run and watched."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.markup import escape

from amanah.cli.util import Bar, emit_json, fail, out, workspace

if TYPE_CHECKING:
    from amanah.workspace import Workspace


def process(
    wait: Annotated[
        bool, typer.Option(help="Also wait for jobs delayed before a retry, until none is left.")
    ] = False,
    workers: Annotated[
        int | None, typer.Option(help="Parallel jobs (default: one per core).", min=1, max=1024)
    ] = None,
    retry_failed: Annotated[
        bool, typer.Option(help="Queue failed jobs again before starting.")
    ] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
    follow: Annotated[
        bool, typer.Option(help="Keep running and take new jobs as they come (Ctrl-C stops).")
    ] = False,
) -> None:
    """Identify, extract text, and unpack attachments and archive members of queued items.

    Example: amanah process --wait
    """
    from amanah import queue
    from amanah.config import ConfigError
    from amanah.custody.signed import LedgerRefused
    from amanah.processing import pagejobs
    from amanah.processing.pipeline import MachineFault
    from amanah.processing.runner import WorkerDied, run
    from amanah.processing.sandbox import SandboxUnavailable

    ws = workspace()
    if follow:
        _follow(ws, workers)
    try:
        if retry_failed:
            out.print(f"queued again: {queue.retry_failed(ws.db)} failed jobs")
        total = queue.pending(ws.db)
        with Bar("process", "jobs", quiet=quiet) as bar:
            bar.expect(total)

            def tick() -> None:
                # a long scan's OCR, page by page
                bar.job_done(queue.pending(ws.db), pagejobs.pages_line(ws.db))

            report = run(ws, workers=workers, wait=wait, on_job=tick)
        counts = queue.counts(ws.db)
    except SandboxUnavailable as exc:  # isolation asked for and not to be had: refuse
        fail(str(exc), 1)
    except LedgerRefused as exc:  # the ledger was changed outside Amanah: nothing recorded
        fail(str(exc), 1)
    except MachineFault as exc:  # a disk full: the jobs wait in the queue, no item is blamed
        fail(f"processing stopped: {exc}; the job was put back in the queue", 1)
    except WorkerDied as exc:  # its job was put back; the log has the traceback
        fail(f"processing stopped: {exc}; its job was put back in the queue", 1)
    except ConfigError as exc:  # e.g. an unknown `sandbox` setting
        fail(str(exc))
    finally:
        ws.close()
    for item_id, reason in report.failures:
        out.print(f"[red]failed[/] item {item_id}: {escape(reason)}", markup=True)
    out.print(
        f"processed {report.done} items ({report.children} children found),"
        f" {report.retried} to retry, {report.failed} failed, in {report.seconds:.1f} s;"
        f" queue: {counts.get('queued', 0)} queued, {counts.get('failed', 0)} failed"
    )
    out.print(f"sandbox: {report.sandbox}")
    raise typer.Exit(1 if report.failed else 0)


def _follow(ws: Workspace, workers: int | None) -> NoReturn:
    """Run jobs as they arrive until SIGTERM or Ctrl-C; what `amanah serve` starts."""
    import signal
    import threading

    from amanah.custody.signed import LedgerRefused
    from amanah.processing.pipeline import MachineFault
    from amanah.processing.runner import WorkerDied, run

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        run(ws, workers=workers, follow=stop)
    except KeyboardInterrupt:
        stop.set()
    except (LedgerRefused, MachineFault, WorkerDied) as exc:
        ws.close()
        fail(str(exc), 1)
    finally:
        ws.close()
    raise typer.Exit(0)


def worker(
    concurrency: Annotated[int, typer.Option(help="Jobs at once in this worker.")] = 2,
    wait: Annotated[
        bool, typer.Option(help="Keep waiting for new jobs (--no-wait: stop when idle).")
    ] = True,
) -> None:
    """A procrastinate worker for the scale-out runner (PostgreSQL); run one per machine.

    Set `runner = "procrastinate"` in amanah.toml first. Example: amanah worker --concurrency 4
    """
    if concurrency < 1:
        fail("--concurrency must be at least 1")
    ws = workspace()
    if ws.settings.runner != "procrastinate":
        ws.close()
        fail(
            'the scale-out worker needs runner = "procrastinate" in amanah.toml'
            " (and a PostgreSQL database); on the embedded default use `amanah process`"
        )
    from amanah.processing.scaleout import run_worker

    try:
        run_worker(ws, concurrency, wait)
    finally:
        ws.close()


def jobs(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Processing jobs: how many are queued, running, done and failed, and why they failed.

    Example: amanah jobs
    """
    from amanah import queue
    from amanah.processing import pagejobs

    ws = workspace()
    try:
        counts = queue.counts(ws.db)
        failures = queue.failures(ws.db)
        ocr_pages = pagejobs.progress(ws.db)
    finally:
        ws.close()
    if as_json:
        emit_json(
            {
                "counts": counts,
                "ocr_pages": ocr_pages,
                "failures": [
                    {"job": j, "item": i, "attempts": a, "reason": r} for j, i, a, r in failures
                ],
            }
        )
        return
    out.print(", ".join(f"{k} {counts.get(k, 0)}" for k in ("queued", "running", "done", "failed")))
    for p in ocr_pages:
        if not p["joined"]:
            out.print(f"item {p['item']}: OCR pages {p['read']}/{p['pages']} read")
    for job_id, item_id, attempts, reason in failures:
        out.print(f"  job {job_id} (item {item_id}, {attempts} attempts): {reason}")
