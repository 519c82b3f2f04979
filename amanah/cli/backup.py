"""`amanah backup` and `amanah restore`: the drill that proves a home can be rebuilt.

Example:
    amanah --home /srv/amanah backup /mnt/offsite/amanah-2026-12-01
    amanah restore /mnt/offsite/amanah-2026-12-01 /srv/amanah-restored
    amanah --home /srv/amanah-restored verify
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from amanah.cli.util import err, expected_errors, fail, new_folder, out, workspace
from amanah.errors import message
from amanah.system import default_actor


def register(app: typer.Typer) -> None:
    app.command("backup")(backup_cmd)
    app.command("restore")(restore_cmd)
    app.command("partials")(partials_cmd)


def backup_cmd(
    output: Annotated[Path, typer.Argument(help="New folder to write the backup to.")],
    actor: Annotated[
        str | None, typer.Option(help="Amanah user you act as (recorded after your OS account).")
    ] = None,
) -> None:
    """Copy the whole installation to a new folder: a consistent snapshot of the database
    (SQLite online backup, or pg_dump), every blob re-hashed as it is copied, keys,
    configuration and checkpoint log, with SHA256SUMS of every file. Recorded in the ledger.

    Exit status 1 when a blob could not be copied whole (each is named).

    Example: amanah backup /mnt/offsite/amanah-2026-12-01
    """
    from amanah.blobs import StorageError
    from amanah.custody import ledger
    from amanah.custody.ledger import EventType
    from amanah.preservation.backup import SUMS, BackupError, backup

    new_folder(output)
    ws = workspace()
    try:
        report = backup(ws, output, on_step=lambda step: err.print(f"backup: {step}"))
        sums = (report.path / SUMS).read_bytes()
        with ws.db.session() as s:
            ledger.append(
                s,
                EventType.REPLICATION,
                actor=default_actor(actor),
                object_type="installation",
                object_id=ws.settings.home.name,
                outcome="success" if report.ok else "failure",
                details={
                    "action": "backup",
                    "to": str(report.path),
                    "files": report.files,
                    "blobs": report.blobs,
                    "bytes": report.bytes,
                    "database": report.database,
                    "sha256sums_sha256": hashlib.sha256(sums).hexdigest(),
                    "problems": report.problems[:100],
                },
            )
    except StorageError as exc:
        fail(f"{exc}; no backup was written", 1)
    except expected_errors(BackupError) as exc:
        fail(message(exc))
    finally:
        ws.close()
    for p in report.problems:
        out.print(f"[red]FAIL[/] {escape(p)}", markup=True)
    out.print(
        f"backup {report.path}: {report.files} files, {report.blobs} blobs,"
        f" {report.bytes:,} bytes, database {report.database}"
        + ("" if report.ok else f"; {len(report.problems)} problem(s)")
    )
    raise typer.Exit(0 if report.ok else 1)


def restore_cmd(
    backup_folder: Annotated[Path, typer.Argument(help="A folder written by `amanah backup`.")],
    home: Annotated[Path, typer.Argument(help="New home folder to rebuild (must not exist).")],
    database_url: Annotated[
        str | None,
        typer.Option(help="PostgreSQL backups: a new, empty database to restore into."),
    ] = None,
    blob_store: Annotated[
        str | None,
        typer.Option(help="s3://bucket/prefix to restore blobs into (default: file:blobs)."),
    ] = None,
    s3_endpoint: Annotated[str, typer.Option(help="S3 endpoint URL, for s3:// stores.")] = "",
    no_verify: Annotated[
        bool, typer.Option("--no-verify", help="Skip `amanah verify` of the restored home.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Rebuild a home from a backup, after checking every file against its SHA256SUMS;
    never overwrites. Then verifies the restored home (ledger, items, derivatives, fixity).

    Example: amanah restore /mnt/offsite/amanah-2026-12-01 /srv/amanah
    """
    from amanah.blobs import StorageError
    from amanah.preservation.audit import verify
    from amanah.preservation.backup import BackupError, restore
    from amanah.workspace import open_workspace

    try:
        result = restore(backup_folder, home, database_url, blob_store, s3_endpoint)
    except StorageError as exc:
        fail(f"{exc}; nothing was restored", 1)
    except expected_errors(BackupError) as exc:
        fail(message(exc))
    ok = True
    if not no_verify:
        try:
            ws = open_workspace(home, create=False)
        except expected_errors() as exc:
            fail(f"restored {home}, but it does not open: {message(exc)}", 1)
        try:
            report = verify(ws, default_actor())
        finally:
            ws.close()
        ok = report.ok
        result["verified"] = ok
        result["problems"] = report.problems
        for p in report.problems:
            out.print(f"[red]FAIL[/] {escape(p)}", markup=True)
    if as_json:
        out.print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        out.print(
            f"restored {result['home']} from {result['from']} (backup of {result['created']}):"
            f" {result['files']} files, {result['blobs']} blobs, database {result['database']}"
            + ("" if no_verify else (": verified" if ok else ": NOT verified"))
        )
    raise typer.Exit(0 if ok else 1)


def partials_cmd(
    folders: Annotated[
        list[Path], typer.Argument(help="Folders that packages, backups or homes are written to.")
    ],
    remove: Annotated[
        bool, typer.Option("--remove", help="Remove those whose run was killed on this host.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the hidden work folders (.NAME.partial-…, .NAME.restoring-…) that package builds,
    backups and restores leave when killed: they hold copies of evidence, the database and the
    keys. Each is `running` (never removed), `gone` (its run was killed; the next run into the
    folder removes it) or `unknown` (another host's, or naming no process: judge by hand).

    Exit status 1 when any is left that is not running.
    Example: amanah partials /mnt/offsite --remove
    """
    from amanah import partials

    found = [item for folder in folders for item in partials.find(folder.absolute())]
    removed = set()
    if remove:
        for folder in folders:
            removed |= {item.path for item in partials.sweep(folder.absolute())}
    rows = [
        {
            "path": str(item.path),
            "kind": item.kind,
            "pid": item.pid,
            "host": item.host,
            "state": "removed" if item.path in removed else item.state,
        }
        for item in found
    ]
    if as_json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        for r in rows:
            owner = f"process {r['pid']}" if r["pid"] is not None else "no process named"
            out.print(
                f"{r['state']:9} {r['path']}  ({owner}{'@' + r['host'] if r['host'] else ''})"
            )
        if not rows:
            out.print("no partial folders")
    raise typer.Exit(1 if any(r["state"] in ("gone", "unknown") for r in rows) else 0)
