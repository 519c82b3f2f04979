"""`amanah ingest` and `amanah intake`: evidence preserved byte-exact, and the reports of
its intake runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from amanah.cli.util import (
    ACTOR_HELP,
    Bar,
    emit_json,
    err,
    exit_code,
    expected_errors,
    fail,
    out,
    parse_date,
    with_workspace,
    workspace,
)
from amanah.system import default_actor

intake_app = typer.Typer(help="Intake runs and their reports.", no_args_is_help=True)


class IngestBar:
    """Files, bytes/s and time left while an intake runs: intake's progress on the one bar."""

    def __init__(self, quiet: bool) -> None:
        self.bar = Bar("ingest", "bytes", quiet=quiet)
        self.total_files = 0
        self.done_files = 0

    def start(self, files: int, size: int) -> None:
        self.bar.progress.start()
        self.bar.expect(size)
        self.total_files = files

    def advance(self, files: int = 0, size: int = 0) -> None:
        self.done_files += files
        self.bar.describe(f"ingest {self.done_files}/{self.total_files}")
        self.bar.advance(size)

    def finish(self) -> None:
        self.bar.stop()


def _kept(kept: int | None) -> str:
    """What a failed run leaves, for its one line: the re-run starts from there."""
    if kept is None:
        return "what was stored whole is kept"
    if kept == 0:
        return "no file of this run could be recorded"
    if kept == 1:
        return "the 1 file recorded before it stopped is kept"
    return f"the {kept} files recorded before it stopped are kept"


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
        collected_on=parse_date(collected_on, "--collected-on", past=True),
        place=place,
        collector=collector,
        compartment=compartment,
        hash_list=hash_list,
        actor=default_actor(actor),
        rehash=rehash,
    )
    ws = workspace()
    try:
        report = run_ingest(ws, req, IngestBar(quiet or as_json))
    except StorageError as exc:
        fail(f"{exc}; {_kept(exc.kept)}: free space, then run the same command", 1)
    except expected_errors(IntakeError) as exc:
        fail(str(exc), exit_code(exc))
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
