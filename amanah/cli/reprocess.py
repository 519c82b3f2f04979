"""`amanah reprocess`: extraction again for items preserved before a reader improved.

Example:
    amanah reprocess --where 'type:pdf lang:ar' --dry-run
    amanah reprocess --where 'type:image/vnd.djvu' --workers 2
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.markup import escape

from amanah.cli.util import Bar, expected_errors, fail, out, workspace
from amanah.errors import message
from amanah.system import default_actor


def register(app: typer.Typer) -> None:
    app.command("reprocess")(reprocess_cmd)


def reprocess_cmd(
    where: Annotated[
        str,
        typer.Option(
            "--where",
            help="The items, as a search would find them: filters such as 'type:pdf lang:ar"
            " collection:NAME after:2013' and words if wanted.",
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say how many items, by type; change nothing.")
    ] = False,
    workers: Annotated[
        int | None, typer.Option(help="Parallel jobs (default: one per core).", min=1, max=1024)
    ] = None,
    queue_only: Annotated[
        bool,
        typer.Option("--queue-only", help="Queue the items; leave the jobs to `amanah process`."),
    ] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
    actor: Annotated[
        str | None, typer.Option(help="Amanah user you act as (recorded after your OS account).")
    ] = None,
) -> None:
    """Run identification, extraction, OCR and indexing again for items preserved earlier.

    New derivatives replace the ones in use; the earlier ones are kept. Each item gets a
    custody event (reprocessing) naming the query. Runs as the local administrator.
    Exit status 1 when an item's processing failed, 2 when the query is wrong.

    Example: amanah reprocess --where 'type:pdf lang:ar'
    """
    from amanah import queue
    from amanah.access import local_administrator
    from amanah.config import ConfigError
    from amanah.processing import reprocess
    from amanah.processing.pipeline import MachineFault
    from amanah.processing.runner import run
    from amanah.processing.sandbox import SandboxUnavailable
    from amanah.search.query import QueryError

    ws = workspace()
    try:
        caller = local_administrator(ws, default_actor(actor))
        try:
            found = reprocess.choose(ws, caller, where)
        except QueryError as exc:
            fail(f"--where {where!r}: {exc}")
        kinds = ", ".join(f"{n} {t}" for t, n in found.by_type.most_common())
        out.print(f"{len(found.item_ids)} items match {where!r}" + (f" ({kinds})" if kinds else ""))
        if dry_run or not found.item_ids:
            out.print("dry run: nothing queued" if dry_run else "nothing to reprocess")
            raise typer.Exit(0)
        started = datetime.now(UTC)
        queued = reprocess.request(ws, caller, found)
        out.print(f"queued {queued} items again (custody: one reprocessing event each)")
        if queue_only:
            raise typer.Exit(0)
        total = queue.pending(ws.db)
        with Bar("reprocess", "jobs", quiet=quiet) as bar:
            bar.expect(total)
            report = run(ws, workers=workers, on_job=lambda: bar.job_done(queue.pending(ws.db)))
        replaced = reprocess.superseded_since(ws, found.item_ids, started)
    except SandboxUnavailable as exc:
        fail(f"{exc}; the items stay queued for `amanah process`", 1)
    except MachineFault as exc:  # a disk full: not the items' fault
        fail(f"processing stopped: {exc}; the items stay queued for `amanah process`", 1)
    except expected_errors(ConfigError) as exc:
        fail(message(exc))
    finally:
        ws.close()
    for item_id, reason in report.failures:
        out.print(f"[red]failed[/] item {item_id}: {escape(reason)}", markup=True)
    out.print(
        f"reprocessed: {report.done} jobs run ({report.children} new children),"
        f" {replaced} derivatives replaced by new ones (the earlier ones kept),"
        f" {report.failed} failed, in {report.seconds:.1f} s"
    )
    raise typer.Exit(1 if report.failed else 0)
