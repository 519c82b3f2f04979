"""`amanah fixity` and `amanah verify`: stored bytes and the ledger checked."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from amanah.cli.util import ACTOR_HELP, Bar, fail, out, workspace
from amanah.system import default_actor


def fixity(
    sample: Annotated[
        float | None, typer.Option(help="Check a random fraction of blobs, e.g. 0.05.")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Processes (default: one per core).", min=1, max=1024)
    ] = None,
    actor: Annotated[str | None, typer.Option(help=ACTOR_HELP)] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Re-hash stored blobs and record a fixity check event for each.

    Example: amanah fixity --sample 0.1
    """
    from amanah.preservation.fixity import run_fixity

    ws = workspace()
    progress = Bar("fixity", "bytes", quiet=quiet)
    try:
        with progress:
            report = run_fixity(
                ws,
                default_actor(actor),
                sample,
                workers,
                on_start=lambda _blobs, size: progress.expect(size),
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
    progress = Bar("fixity", "bytes", quiet=quiet)
    try:
        with progress:
            report = run_verify(
                ws,
                default_actor(actor),
                fixity=not no_fixity,
                on_start=lambda _blobs, size: progress.expect(size),
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
