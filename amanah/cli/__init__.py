"""The `amanah` command: everything Amanah does, reachable from one place.

Exit status: 0 success; 1 the work ran but something needs attention (a file not ingested, a
verification failure); 2 the request itself is wrong (bad option, missing file, no such item).
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from rich.text import Text

from amanah import __version__
from amanah.cli.accounts import register as register_accounts
from amanah.cli.backup import register as register_backup
from amanah.cli.custody import register as register_custody
from amanah.cli.entities import register as register_entities
from amanah.cli.reprocess import register as register_reprocess
from amanah.cli.sharing import register as register_sharing
from amanah.cli.util import (
    EXPECTED_ERRORS,
    emit_json,
    err,
    fail,
    out,
    parse_date,
    state,
    with_workspace,
    workspace,
)
from amanah.workspace import Workspace, default_actor, init_home, open_workspace, private_umask

#: The ledger names the OS account (from the system, not the environment); this adds a name.
ACTOR_HELP = "Amanah user you act as; recorded after your OS account, never instead of it."
app = typer.Typer(
    help="Amanah: preserve, process, search and share evidence, with a signed chain of custody.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
item_app = typer.Typer(help="One item: its record and its original bytes.", no_args_is_help=True)
intake_app = typer.Typer(help="Intake runs and their reports.", no_args_is_help=True)
collection_app = typer.Typer(help="Collections and their compartments.", no_args_is_help=True)
app.add_typer(collection_app, name="collection")
app.add_typer(item_app, name="item")
app.add_typer(intake_app, name="intake")


@app.callback()
def main_options(
    home: Annotated[
        str | None,
        typer.Option(help="Installation folder (default: $AMANAH_HOME or ./amanah-home)."),
    ] = None,
    version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False,
) -> None:
    if version:
        out.print(f"amanah {__version__}")
        raise typer.Exit(0)
    state.home = home


@app.command()
def init(
    database_url: Annotated[
        str | None, typer.Option(help="SQLAlchemy URL; default SQLite in the home.")
    ] = None,
    blob_store: Annotated[
        str | None, typer.Option(help="file:PATH (default file:blobs) or s3://bucket/prefix.")
    ] = None,
    s3_endpoint: Annotated[str, typer.Option(help="S3 endpoint URL, for s3:// stores.")] = "",
    passphrase_stdin: Annotated[
        bool,
        typer.Option(
            "--passphrase-stdin",
            help="Encrypt the ledger signing key with a passphrase read from standard input"
            " (later commands read it from AMANAH_KEY_PASSPHRASE).",
        ),
    ] = False,
) -> None:
    """Set up an installation: configuration, database schema and ledger signing key.

    Example: amanah --home /srv/amanah init --blob-store s3://evidence --s3-endpoint http://127.0.0.1:8333
    Example: printf '%s\n' "$PASS" | amanah init --passphrase-stdin
    """
    from amanah.custody.keys import env_passphrase, is_encrypted, set_passphrase

    passphrase = None
    if passphrase_stdin:
        passphrase = sys.stdin.readline().rstrip("\r\n").encode()
        if not passphrase:
            fail("--passphrase-stdin: standard input held no passphrase")
    try:
        path = init_home(state.home, database_url, blob_store, s3_endpoint)
        ws = open_workspace(path, initializing=True, passphrase=passphrase)
        wanted = passphrase or env_passphrase()
        if wanted and not is_encrypted(ws.settings.key_path):
            set_passphrase(ws.settings.key_path, ws.key, wanted)
    except EXPECTED_ERRORS as exc:
        fail(str(exc))
    out.print(f"Amanah home: {path}")
    out.print(f"database:    {ws.db.safe_url}")
    out.print(f"blob store:  {ws.blobs.url}")
    out.print(f"ledger key:  {ws.key.key_id} (public key: {ws.settings.public_key_path})")
    if is_encrypted(ws.settings.key_path):
        out.print("             encrypted at rest: give its passphrase in AMANAH_KEY_PASSPHRASE")
    ws.close()


class BarProgress:
    """Files, bytes/s and time left on stderr while an intake runs."""

    def __init__(self, quiet: bool) -> None:
        self.bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=err,
            disable=quiet,
        )
        self.files: TaskID | None = None
        self.bytes: TaskID | None = None

    def start(self, files: int, size: int) -> None:
        self.bar.start()
        self.files = self.bar.add_task("files", total=files, visible=False)
        self.bytes = self.bar.add_task("ingest", total=size)
        self.total_files = files
        self.done_files = 0

    def advance(self, files: int = 0, size: int = 0) -> None:
        if self.bytes is None:
            return
        self.done_files += files
        self.bar.update(
            self.bytes,
            advance=size,
            description=f"ingest {self.done_files}/{self.total_files}",
        )

    def finish(self) -> None:
        self.bar.stop()


@app.command()
def ingest(
    paths: Annotated[list[str], typer.Argument(help="Files and folders to ingest.")],
    collection: Annotated[str, typer.Option(help="Collection name (created on first use).")],
    provider: Annotated[
        str | None, typer.Option(help="Provider name; required for a new collection.")
    ] = None,
    framework: Annotated[
        int | None, typer.Option(help="Cooperation framework id (see `amanah framework list`).")
    ] = None,
    method: Annotated[str, typer.Option(help="How it was collected.")] = "",
    collected_on: Annotated[str | None, typer.Option(help="Date collected, YYYY-MM-DD.")] = None,
    place: Annotated[str, typer.Option(help="Where it was collected.")] = "",
    collector: Annotated[str, typer.Option(help="Who collected it.")] = "",
    compartment: Annotated[
        str | None, typer.Option(help="Need-to-know compartment of a new collection.")
    ] = None,
    hash_list: Annotated[
        Path | None, typer.Option(help="Provider's sha256sum/md5sum list to check against.")
    ] = None,
    ocr_languages: Annotated[
        str | None,
        typer.Option(help="Tesseract languages for this collection's scans (default ara+eng)."),
    ] = None,
    actor: Annotated[str | None, typer.Option(help=ACTOR_HELP)] = None,
    rehash: Annotated[
        bool, typer.Option(help="Re-read files already ingested from the same path.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Preserve files and folders byte-exact with their provenance and custody events.

    Running the same ingest again adds nothing; after an interruption it completes the rest.
    Exit status 1 when any file was skipped or failed, or the hash list disagrees.

    Example: amanah ingest /media/usb/handover --collection "SJAC 2024-07" --provider SJAC
    --hash-list /media/usb/SHA256SUMS --method "USB handover" --collected-on 2024-07-02
    """
    from amanah.blobs import StorageError
    from amanah.intake.ingest import IntakeError, IntakeRequest
    from amanah.intake.ingest import ingest as run_ingest

    if ocr_languages is not None:
        from amanah.processing.ocr import check_languages

        try:
            ocr_languages = check_languages(ocr_languages)
        except ValueError as exc:
            fail(str(exc))
    req = IntakeRequest(
        sources=list(paths),
        ocr_languages=ocr_languages,
        collection=collection,
        provider=provider,
        framework_id=framework,
        method=method,
        collected_on=parse_date(collected_on, "--collected-on"),
        place=place,
        collector=collector,
        compartment=compartment,
        hash_list=hash_list,
        actor=default_actor(actor),
        rehash=rehash,
    )
    ws = workspace()
    try:
        report = run_ingest(ws, req, BarProgress(quiet or as_json))
    except StorageError as exc:
        fail(f"{exc}; what was stored whole is kept: free space, then run the same command", 1)
    except (IntakeError, *EXPECTED_ERRORS) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        err.print("interrupted: what was stored is kept; run the same command to finish")
        raise typer.Exit(130) from None
    finally:
        ws.close()
    if as_json:
        emit_json(report.as_dict())
    else:
        for p in report.problems:
            colour = {"link": "yellow", "mismatch": "red", "missing": "red"}.get(p.outcome, "red")
            out.print(
                f"[{colour}]{p.outcome:>8}[/] {escape(p.path)}: {escape(p.reason)}", markup=True
            )
        c = report.counts
        out.print(
            f"intake run {report.run_id} into {report.collection!r}:"
            f" {c['ingested']} ingested, {c['already_present']} already present,"
            f" {c['skipped']} skipped, {c['failed']} failed"
            + (f", {c['links']} links recorded" if c["links"] else "")
            + (f", {c['mismatch']} hash mismatches" if c["mismatch"] else "")
            + (f", {c['missing']} listed but missing" if c["missing"] else "")
            + f" ({report.bytes_stored:,} new bytes in {report.seconds:.1f} s)"
        )
    raise typer.Exit(0 if report.ok else 1)


@intake_app.command("runs")
def intake_runs(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List intake runs with their status and counts.

    Example: amanah intake runs --json
    """
    from amanah.intake.reports import list_runs

    runs = with_workspace(list_runs)
    if as_json:
        emit_json(runs)
        return
    table = Table("run", "collection", "status", "started", "counts")
    for r in runs:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(r["counts"].items()))
        table.add_row(str(r["id"]), r["collection"], r["status"], r["started_at"][:19], counts)
    out.print(table)


@intake_app.command("report")
def intake_report(
    run_id: Annotated[int, typer.Argument(help="Intake run id (see `amanah intake runs`).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """One intake run's report: sources, counts, and every file that needs attention.

    Example: amanah intake report 3 --json
    """
    from amanah.intake.reports import run_report

    report = with_workspace(lambda ws: run_report(ws, run_id), LookupError)
    if as_json:
        emit_json(report)
        return
    out.print(f"intake run {report['id']} into {report['collection']!r}: {report['status']}")
    out.print(f"sources: {', '.join(report['sources'])}")
    out.print("counts: " + ", ".join(f"{k} {v}" for k, v in sorted(report["counts"].items())))
    for p in report["problems"]:
        out.print(f"{p['outcome']:>8} {p['path']}: {p['reason']}")


@app.command("items")
def items_cmd(
    collection: Annotated[str | None, typer.Option(help="Only this collection.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List items: id, sha256, size, original path, parent, status.

    Example: amanah items --collection "SJAC 2024-07" --json
    """
    from amanah.items import ItemError, list_items

    rows = with_workspace(lambda ws: list_items(ws, collection), ItemError)
    if as_json:
        emit_json(rows)
        return
    table = Table("id", "sha256", "size", "status", "original path")
    for r in rows:
        table.add_row(
            str(r["id"]), r["sha256"][:16] + "…", f"{r['size']:,}", r["status"], r["original_path"]
        )
    out.print(table)


@item_app.command("show")
def item_show(
    item_id: Annotated[int, typer.Argument(help="Item id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Everything recorded about one item: provenance, hash, flags, custody events.

    Example: amanah item show 42 --json
    """
    from amanah.items import ItemError, show

    record = with_workspace(lambda ws: show(ws, item_id), ItemError)
    if as_json:
        emit_json(record)
        return
    for key in ("id", "original_path", "sha256", "size", "status", "collection", "provider"):
        out.print(f"{key:>14}: {record[key]}")
    for f in record["flags"]:
        out.print(f"{'flag':>14}: {f['code']}: {f['message']}")
    for e in record["custody"]:
        out.print(
            f"{'custody':>14}: #{e['seq']} {e['time']} {e['type']} ({e['outcome']}) {e['actor']}"
        )


@item_app.command("text")
def item_text(
    item_id: Annotated[int, typer.Argument(help="Item id.")],
    actor: Annotated[str | None, typer.Option(help=ACTOR_HELP)] = None,
) -> None:
    """Print an item's extracted text (pages separated by form feeds); the read is recorded.

    Example: amanah item text 42 | less
    """
    from amanah.items import ItemError, text

    content = with_workspace(lambda ws: text(ws, item_id, default_actor(actor)), ItemError)
    sys.stdout.write(content if content.endswith("\n") else content + "\n")


@item_app.command("get")
def item_get(
    item_id: Annotated[int, typer.Argument(help="Item id.")],
    output: Annotated[Path, typer.Argument(help="File to write (must not exist).")],
    actor: Annotated[str | None, typer.Option(help=ACTOR_HELP)] = None,
) -> None:
    """Write an item's original bytes to a file; the access is recorded in the ledger.

    Example: amanah item get 42 ./statement.pdf
    """
    from amanah.items import ItemError, export_original

    result = with_workspace(
        lambda ws: export_original(ws, item_id, output, default_actor(actor)), ItemError
    )
    out.print(f"wrote {result['size']:,} bytes to {result['path']} (sha256 {result['sha256']})")


@app.command()
def process(
    wait: Annotated[
        bool, typer.Option(help="Also wait for jobs delayed before a retry, until none is left.")
    ] = False,
    workers: Annotated[
        int | None, typer.Option(help="Parallel jobs (default: one per core).")
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
    from amanah.processing import pagejobs
    from amanah.processing.runner import run
    from amanah.processing.sandbox import SandboxUnavailable

    ws = workspace()
    if follow:
        _follow(ws, workers)
    try:
        if retry_failed:
            out.print(f"queued again: {queue.retry_failed(ws.db)} failed jobs")
        total = queue.pending(ws.db)
        bar = Progress(
            TextColumn("[bold]process"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} jobs"),
            TextColumn("{task.fields[pages]}"),
            TimeRemainingColumn(),
            console=err,
            disable=quiet,
        )
        with bar:
            task = bar.add_task("jobs", total=total, pages="")

            def tick() -> None:
                bar.update(
                    task,
                    advance=1,
                    total=max(total, queue.pending(ws.db) + bar.tasks[0].completed),
                    pages=pagejobs.pages_line(ws.db),  # a long scan's OCR, page by page
                )

            report = run(ws, workers=workers, wait=wait, on_job=tick)
        counts = queue.counts(ws.db)
    except SandboxUnavailable as exc:  # isolation asked for and not to be had: refuse
        fail(str(exc), 1)
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

    from amanah.processing.runner import run

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        run(ws, workers=workers, follow=stop)
    except KeyboardInterrupt:
        stop.set()
    finally:
        ws.close()
    raise typer.Exit(0)


@app.command()
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


@app.command()
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


@app.command()
def search(
    query: Annotated[
        str, typer.Argument(help='Words, "phrases", OR, -word, word*, field:value (see below).')
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    limit: Annotated[int, typer.Option(help="Hits per page (1-1000).")] = 20,
    facets: Annotated[bool, typer.Option("--facets", help="Also count hits per facet.")] = False,
    sort: Annotated[
        str | None, typer.Option(help="relevance or date (default: relevance, date if no words).")
    ] = None,
    cursor: Annotated[
        str | None, typer.Option(help="Next page: the cursor a previous page printed.")
    ] = None,
    semantic: Annotated[
        bool, typer.Option("--semantic", help="Rank by meaning (finds Arabic for English).")
    ] = False,
    hybrid: Annotated[
        bool, typer.Option("--hybrid", help="Combine word and meaning rankings.")
    ] = False,
    actor: Annotated[str | None, typer.Option(help=ACTOR_HELP)] = None,
) -> None:
    """Search every item's text, Arabic and English, however it is spelt. Every search is logged.

    \b
    Query language:
      torture "air force intelligence"   words (all must match) and phrases
      فرع OR شعبة                        either word
      detention -release                 without a word (also: NOT release)
      معتق*                               words that begin so
      =وزير                               this exact word, not its stem
      (حلب OR ادلب) "برميل متفجر"         grouping
    \b
    Filters, for the whole query (-lang:en excludes):
      provider:"Syrian Archive"  collection:NAME  lang:ar  type:pdf
      has:ocr  after:2012  before:2014-06  path:raqqa

    Hamza, taa marbuta, alef maqsura, Persian letters, diacritics, tatweel,
    Eastern Arabic digits and attached particles (و ف ب ل ك ال) match whichever
    way they are written. More in docs/search.md.

    Example: amanah search 'الفرع 215 has:ocr after:2012' --facets
    """
    from amanah.access import local_administrator
    from amanah.search.index import IndexOutdated
    from amanah.search.query import QueryError
    from amanah.search.service import search as run_search

    if semantic and hybrid:
        fail("choose one of --semantic and --hybrid")
    mode = "semantic" if semantic else "hybrid" if hybrid else "text"

    def act(ws: Workspace) -> Any:
        caller = local_administrator(ws, default_actor(actor))
        try:
            return run_search(
                ws, caller, query, limit=limit, cursor=cursor, sort=sort, facets=facets, mode=mode
            )
        except QueryError as exc:
            err.print(exc.pointer())
            fail(exc.message)

    results = with_workspace(act, ValueError, IndexOutdated)
    if as_json:
        emit_json(results.as_json())
        return
    shown = f"{len(results.hits)} shown" if results.hits else "none shown"
    out.print(
        Text(
            f"{results.total:,} items ({shown}, {results.took_ms:.0f} ms,"
            f" search #{results.search_id})",
            style="bold",
        )
    )
    for h in results.hits:
        out.print(Text(f"\n#{h.item_id}  {h.path}", style="bold"))
        out.print(
            Text(
                f"    {h.collection} · {h.media_type or 'unknown type'} · {h.date or 'no date'}"
                f" · score {h.score:.3f}",
                style="dim",
            )
        )
        snippet = Text("    " + h.snippet)
        for start, end in h.highlights:
            snippet.stylize("bold yellow", start + 4, end + 4)
        out.print(snippet)
    if results.facets:
        out.print()
    for name, values in results.facets.items():
        line = ", ".join(f"{v['value']} ({v['count']:,})" for v in values[:10])
        out.print(Text(f"{name}: ", style="bold") + Text(line or "—"))
    if results.next_cursor:
        out.print(Text(f"\nmore: --cursor {results.next_cursor}", style="dim"))


@app.command()
def searches(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
) -> None:
    """The search log: who searched what, when, how many hits, which items were shown.

    Example: amanah searches --json
    """
    from amanah.access import local_administrator
    from amanah.search.engine import history

    rows = with_workspace(lambda ws: history(ws, local_administrator(ws), limit))
    if as_json:
        emit_json(rows)
        return
    table = Table("id", "when", "who", "query", "mode", "hits")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["at"][:19],
            r["actor"],
            r["query"],
            r["options"]["mode"],
            f"{r['hits']:,}",
        )
    out.print(table)


@app.command()
def reindex(
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
    workers: Annotated[int | None, typer.Option(help="Processes analysing text.")] = None,
) -> None:
    """Rebuild the search index from the database and text in the blob store (it is derived).

    Example: amanah reindex
    """
    from amanah.search.index import reindex as rebuild

    with Progress(
        TextColumn("reindex"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=quiet,
    ) as bar:
        task = bar.add_task("reindex", total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        stats = with_workspace(lambda ws: rebuild(ws, progress=tick, workers=workers))
    out.print(
        f"indexed {stats.items:,} items in {stats.seconds:.1f} s; index size"
        f" {stats.index_bytes / 2**20:.1f} MiB"
    )


@app.command()
def fixity(
    sample: Annotated[
        float | None, typer.Option(help="Check a random fraction of blobs, e.g. 0.05.")
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Processes (default: one per core).")] = None,
    actor: Annotated[str | None, typer.Option(help=ACTOR_HELP)] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Re-hash stored blobs and record a fixity check event for each.

    Example: amanah fixity --sample 0.1
    """
    from amanah.preservation.fixity import run_fixity

    ws = workspace()
    progress = _ByteBar(quiet, "fixity")
    try:
        with progress.bar:
            report = run_fixity(
                ws,
                default_actor(actor),
                sample,
                workers,
                on_start=progress.start,
                on_result=progress.advance,
            )
    except ValueError as exc:
        fail(str(exc))
    finally:
        ws.close()
    for sha256, outcome, reason in report.problems:
        out.print(f"[red]{outcome:>10}[/] blob {sha256}: {escape(reason)}", markup=True)
    rate = report.bytes / report.seconds / 1e6 if report.seconds else 0.0
    out.print(
        f"fixity: {report.checked} blobs, {report.bytes:,} bytes checked with {report.workers}"
        f" processes in {report.seconds:.1f} s ({rate:.0f} MB/s); {len(report.problems)} problems"
    )
    raise typer.Exit(0 if report.ok else 1)


class _ByteBar:
    def __init__(self, quiet: bool, label: str) -> None:
        self.bar = Progress(
            TextColumn(f"[bold]{label}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=err,
            disable=quiet,
        )
        self.task: TaskID | None = None

    def start(self, count: int, size: int) -> None:
        self.task = self.bar.add_task(f"{count} blobs", total=size)

    def advance(self, size: int) -> None:
        if self.task is not None:
            self.bar.update(self.task, advance=size)


@app.command()
def verify(
    no_fixity: Annotated[
        bool, typer.Option("--no-fixity", help="Skip re-hashing blobs (ledger checks only).")
    ] = False,
    actor: Annotated[str | None, typer.Option(help=ACTOR_HELP)] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
    witness: Annotated[
        list[Path] | None,
        typer.Option(
            "--witness",
            help="A checkpoint kept earlier (custody checkpoint --json); the ledger must not be"
            " behind it and must extend it. Repeatable.",
        ),
    ] = None,
) -> None:
    """Check everything: blob fixity, hash chain, signed checkpoints under the key history,
    the home's checkpoint log and any witnessed checkpoint, every item's events.

    Exit status 0 only when all hold; each problem is named otherwise.
    Example: amanah verify --witness kept-checkpoint.json
    """
    from amanah.custody.witness import read_witness
    from amanah.preservation.audit import verify as run_verify

    kept = []
    for path in witness or []:
        try:
            kept.append((f"witnessed checkpoint {path}", read_witness(path)))
        except ValueError as exc:
            fail(str(exc))
    ws = workspace()
    progress = _ByteBar(quiet, "fixity")
    try:
        with progress.bar:
            report = run_verify(
                ws,
                default_actor(actor),
                fixity=not no_fixity,
                on_start=progress.start,
                on_result=progress.advance,
                witnesses=kept,
            )
    finally:
        ws.close()
    for p in report.problems:
        out.print(f"[red]FAIL[/] {escape(p)}", markup=True)
    blobs = f", {report.fixity.checked} blobs re-hashed" if report.fixity else ""
    verdict = "verified" if report.ok else f"{len(report.problems)} problem(s)"
    out.print(
        f"{report.ledger_entries} ledger entries, {report.checkpoints} signed checkpoints,"
        f" {report.items} items, {report.derivatives} derivatives{blobs}: {verdict}"
    )
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def demo() -> None:
    """Build a small fictional demo workspace in the home and show what it holds.

    Example: amanah --home ./amanah-home demo
    """
    from amanah.demo import COLLECTION, create_demo, create_demo_request, demo_accounts
    from amanah.items import list_items, show
    from amanah.preservation.audit import verify as run_verify
    from amanah.processing.runner import run as run_jobs

    ws = workspace()
    try:
        report = create_demo(ws, default_actor())
        run_jobs(ws)
        shared = create_demo_request(ws)
        rows = [show(ws, r["id"]) for r in list_items(ws, COLLECTION)]
        checked = run_verify(ws, default_actor())
    finally:
        ws.close()
    table = Table(
        "id",
        "sha256",
        "type",
        "language",
        "status",
        "original path",
        title=f"collection {COLLECTION}",
    )
    for r in rows:
        langs = ",".join(x["language"] for x in r["languages"][:2])
        table.add_row(
            str(r["id"]),
            r["sha256"][:12] + "…",
            r["media_type"] or "",
            langs,
            r["status"],
            r["original_path"],
        )
    out.print(table)
    out.print(
        f"intake: {report.counts['ingested']} new, {report.counts['already_present']} already"
        f" present; verify: {'all checks hold' if checked.ok else checked.problems}"
    )
    if shared:
        out.print(f"request for assistance DEMO-RFA-001 answered with package {shared}")
    home = state.home or "./amanah-home"
    accounts = with_workspace(demo_accounts)
    if accounts:
        out.print("\nDemo accounts for the web application (passwords shown once):")
        for name, role, password in accounts:
            out.print(f"  {name:<14} {role:<9} {password}")
    out.print("\nTry next:")
    for line in (
        f"amanah --home {home} serve    (then open http://127.0.0.1:8000)",
        f"amanah --home {home} item show {rows[0]['id']}",
        f"amanah --home {home} item text {rows[-1]['id']}",
        f"amanah --home {home} search 'الشاهد فرع' --facets",
        f"amanah --home {home} search 'witness detained in a security branch' --semantic",
        f"amanah --home {home} searches",
        f"amanah --home {home} custody proof {rows[0]['id']} --out proof.json",
        f"amanah --home {home} custody public-key > pub.pem",
        "python3 tools/verify_ledger.py --proof proof.json --public-key pub.pem",
        f"amanah --home {home} custody export ./ledger-export",
        f"amanah --home {home} verify",
    ):
        out.print(f"  {line}")


@collection_app.command("set")
def collection_set(
    name: Annotated[str, typer.Argument(help="Collection name.")],
    compartment: Annotated[
        str | None, typer.Option(help="Need-to-know compartment to place it in.")
    ] = None,
    framework: Annotated[
        int | None,
        typer.Option(help="Cooperation framework whose terms its items follow (an id)."),
    ] = None,
) -> None:
    """Place a collection in a compartment, or under a cooperation framework (each change is
    a restriction change in the custody ledger).

    Examples: amanah collection set "SJAC 2024-07" --compartment syria-detention
              amanah collection set "SJAC 2024-07" --framework 3
    """
    from amanah.intake.registry import link_framework, set_compartment

    if compartment is None and framework is None:
        fail("give --compartment or --framework")

    def act(ws: Workspace) -> None:
        with ws.db.session() as s:
            if compartment is not None:
                set_compartment(s, name, compartment, default_actor())
            if framework is not None:
                link_framework(s, name, framework, default_actor())

    with_workspace(act)
    if compartment is not None:
        out.print(f"collection {name!r} is in compartment {compartment!r}")
    if framework is not None:
        out.print(f"collection {name!r} follows the terms of framework {framework}")


@collection_app.command("list")
def collection_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List collections with provider, compartment and item count."""
    from amanah.access import collections_visible, local_administrator
    from amanah.intake.registry import list_collections

    def act(ws: Workspace) -> list[dict[str, Any]]:
        caller = local_administrator(ws)
        with ws.db.reader() as s:
            return list_collections(s, collections_visible(caller))

    rows = with_workspace(act)
    if as_json:
        emit_json(rows)
        return
    table = Table("collection", "provider", "compartment", "items")
    for r in rows:
        table.add_row(r["name"], r["provider"], r["compartment"], f"{r['items']:,}")
    out.print(table)


def _runner_child() -> None:
    """In the runner started by `serve`: yield the CPU to people waiting for a page, and end
    with the server even when it is killed outright."""
    import ctypes
    import os
    import signal

    os.nice(10)
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    web_workers: Annotated[
        int | None, typer.Option(help="Web server processes (default: one per core, up to 4).")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Processing jobs at once (default: half the cores, at least one)."),
    ] = None,
    runner: Annotated[
        bool, typer.Option(help="Run the embedded job runner beside the web server.")
    ] = True,
) -> None:
    """Run the web application (pages and /api/v1) with the embedded job runner.

    On the first run it creates the user `admin` and prints its password once.

    Example: amanah serve --port 8000   (then open http://127.0.0.1:8000)
    """
    import os
    import subprocess

    import uvicorn

    from amanah.access.users import ensure_administrator

    ws = workspace()
    password = ensure_administrator(ws)
    home = str(ws.home)
    embedded = ws.settings.runner == "embedded"
    ws.close()
    if password:
        out.print(f"first run: user admin, password (shown once): {password}")
    child = None
    if runner and embedded:
        # Half the cores process; the rest answer the people waiting for pages.
        jobs_at_once = workers or max(1, (os.cpu_count() or 1) // 2)
        cmd = [sys.executable, "-m", "amanah.cli", "--home", home, "process", "--follow"]
        cmd += ["--workers", str(jobs_at_once)]
        child = subprocess.Popen(cmd, preexec_fn=_runner_child)
    elif runner:
        out.print("runner = procrastinate: start workers with `amanah worker`")
    procs = web_workers or min(4, os.cpu_count() or 1)
    out.print(f"Amanah on http://{host}:{port}/ ({procs} web processes; Ctrl-C stops)")
    os.environ["AMANAH_HOME"] = home
    try:
        uvicorn.run(
            "amanah.web.app:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=procs,
            timeout_graceful_shutdown=10,
            # Browsers keep connections open for a minute or more; uvicorn's 5 s default
            # makes a reused connection race its own closing under load.
            timeout_keep_alive=65,
            log_level="warning",
            access_log=False,
            # The address of a caller is decided by amanah.web.auth (trusted_proxies), never
            # by uvicorn, which believes X-Forwarded-For from 127.0.0.1 by default.
            proxy_headers=False,
        )
    finally:
        if child is not None:
            # The runner ends its current job if it can; one still running after 10 s is
            # killed and put back in the queue by the next runner (as after a crash).
            child.terminate()
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()


register_sharing(app)
register_backup(app)
register_custody(app)
register_accounts(app)
register_reprocess(app)
register_entities(app)


def main() -> None:
    private_umask()  # evidence, keys and exports made by this process are the owner's alone
    app()


if __name__ == "__main__":
    main()
