"""`amanah init` and `amanah demo`: an installation set up, and a demo to try it."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from amanah.cli.util import expected_errors, fail, out, state, with_workspace, workspace
from amanah.system import default_actor


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
    Example: printf '%s\\n' "$PASS" | amanah init --passphrase-stdin
    """
    from amanah.custody.keys import env_passphrase, is_encrypted, set_passphrase
    from amanah.workspace import init_home, open_workspace

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
    except expected_errors() as exc:
        fail(str(exc))
    out.print(f"Amanah home: {path}")
    out.print(f"database:    {ws.db.safe_url}")
    out.print(f"blob store:  {ws.blobs.url}")
    out.print(f"ledger key:  {ws.key.key_id} (public key: {ws.settings.public_key_path})")
    if is_encrypted(ws.settings.key_path):
        out.print("             encrypted at rest: give its passphrase in AMANAH_KEY_PASSPHRASE")
    ws.close()


def demo() -> None:
    """Build a small fictional demo workspace in the home and show what it holds.

    Example: amanah --home ./amanah-home demo
    """
    from amanah.demo import (
        COLLECTION,
        QUERIES,
        create_demo,
        create_demo_request,
        demo_accounts,
    )
    from amanah.items import list_items, show
    from amanah.preservation.audit import verify as run_verify
    from amanah.processing.runner import run as run_jobs

    ws = workspace(create=True)  # the demo makes its home
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
        *(f"amanah --home {home} search '{q}'    ({said})" for q, said, _found in QUERIES),
        f"amanah --home {home} search 'الشاهد فرع' --facets",
        f"amanah --home {home} protected list    (the witness named in one statement)",
        f"amanah --home {home} search 'witness detained in a security branch' --semantic",
        f"amanah --home {home} searches",
        f"amanah --home {home} custody proof {rows[0]['id']} --out proof.json",
        f"amanah --home {home} custody public-key > pub.pem",
        "python3 tools/verify_ledger.py --proof proof.json --public-key pub.pem",
        f"amanah --home {home} custody export ./ledger-export",
        f"amanah --home {home} verify",
    ):
        out.print(f"  {line}")
