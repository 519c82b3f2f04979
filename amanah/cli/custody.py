"""`amanah custody …`: the custody ledger for people outside the installation.

Exports, inclusion and consistency proofs, signed checkpoints to keep (every keeper is a
witness), the key to pin and its history, and key rotation.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from amanah.cli.util import (
    emit_json,
    fail,
    new_file,
    new_folder,
    out,
    with_workspace,
    workspace,
    write_new_file,
)
from amanah.errors import message
from amanah.system import default_actor

if TYPE_CHECKING:
    from amanah.workspace import Workspace

custody_app = typer.Typer(
    help="The custody ledger: export, proofs, checkpoints, keys.", no_args_is_help=True
)
JSON = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def register(app: typer.Typer) -> None:
    app.add_typer(custody_app, name="custody")


def _write_or_print(doc: dict[str, Any], output: Path | None, what: str) -> None:
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    if output:
        write_new_file(output, text + "\n")
        out.print(f"wrote {what} to {output}")
    else:
        sys.stdout.write(text + "\n")


@custody_app.command("export")
def custody_export(
    output: Annotated[Path, typer.Argument(help="New folder to write the export to.")],
) -> None:
    """Write the ledger, signed checkpoints, checkpoint log, key history and the verifier.

    Example: amanah custody export ./ledger
             python3 ./ledger/verify_ledger.py ./ledger --public-key key.pem
    """
    from amanah.custody.checkpoint_log import LOG_NAME
    from amanah.custody.export import ExportError, export_ledger

    new_folder(output)
    result = with_workspace(
        lambda ws: export_ledger(ws.db, ws.key, output, ws.home / LOG_NAME), ExportError
    )
    out.print(
        f"exported {result['entries']} events and {result['checkpoints']} checkpoints"
        f" to {result['folder']}"
    )


@custody_app.command("proof")
def custody_proof(
    item_id: Annotated[int, typer.Argument(help="Item id.")],
    output: Annotated[Path | None, typer.Option("--out", help="Write to this file.")] = None,
) -> None:
    """Print an inclusion proof: the item's events, audit paths and a signed checkpoint.

    Example: amanah custody proof 42 --out p.json
             python3 tools/verify_ledger.py --proof p.json --public-key key.pem
    """
    from amanah.custody import ledger

    if output:
        new_file(output)  # before a checkpoint is signed for it
    ws = workspace()
    try:
        with ws.db.session() as s:
            ledger.checkpoint(s, ws.key)
        with ws.db.reader() as s:
            proof = ledger.inclusion_proof(s, "item", item_id, ws.key.public_pem)
    except LookupError as exc:
        fail(message(exc))
    finally:
        ws.close()
    if output:
        _write_or_print(proof, output, f"proof of {len(proof['events'])} events")
    else:
        _write_or_print(proof, None, "")


def _signed_now(ws: Workspace) -> dict[str, Any]:
    from amanah.custody import ledger

    with ws.db.session() as s:
        return ledger.checkpoint_of(ledger.checkpoint(s, ws.key))


@custody_app.command("checkpoint")
def custody_checkpoint(as_json: JSON = False) -> None:
    """Sign the ledger's current Merkle root (if not yet signed) and print the checkpoint.

    Keep the JSON somewhere the installation cannot rewrite: `amanah verify --witness FILE`
    (or the standalone verifier) later fails if the ledger is behind it or does not extend it.
    Example: amanah custody checkpoint --json > checkpoint-$(date +%F).json
    """
    cp = with_workspace(_signed_now)
    if as_json:
        emit_json(cp)
        return
    out.print(
        f"checkpoint {cp['id']}: {cp['tree_size']} events, root {cp['root']},"
        f" signed {cp['time']} by key {cp['key_id']}"
    )
    out.print(f"signature {cp['signature']}")


@custody_app.command("consistency")
def custody_consistency(
    old_size: Annotated[int, typer.Argument(help="Tree size of the earlier checkpoint.", min=0)],
    new_size: Annotated[
        int | None, typer.Argument(help="Tree size of the later one (default: the latest).")
    ] = None,
    as_json: JSON = False,
    output: Annotated[Path | None, typer.Option("--out", help="Write JSON to this file.")] = None,
) -> None:
    """Prove that the ledger of the later checkpoint extends the earlier one (RFC 6962).

    Example: amanah custody consistency 1200 --out c.json
             python3 tools/verify_ledger.py --consistency c.json --public-key key.pem
    """
    from amanah.custody import keys, tree

    if output:
        new_file(output)

    def prove(ws: Workspace) -> dict[str, Any]:
        if new_size is None:
            _signed_now(ws)
        with ws.db.reader() as s:
            return tree.consistency_document(s, keys.key_history(s, ws.key), old_size, new_size)

    doc = with_workspace(prove, LookupError)
    if as_json or output:
        _write_or_print(doc, output, "consistency proof")
        return
    old, new = doc["old"], doc["new"]
    out.print(f"old checkpoint {old['id']}: size {old['tree_size']}, root {old['root']}")
    out.print(f"new checkpoint {new['id']}: size {new['tree_size']}, root {new['root']}")
    out.print(f"proof ({len(doc['proof'])} nodes):")
    for h in doc["proof"]:
        out.print(f"  {h}")


@custody_app.command("public-key")
def custody_public_key(
    current: Annotated[
        bool, typer.Option("--current", help="The key signing now, not the ledger's first.")
    ] = False,
) -> None:
    """Print the ledger's first public key (PEM), the one verifiers pin.

    Later keys are trusted through the signed hand-overs of the key history.
    """
    from amanah.custody import keys

    def pem(ws: Workspace) -> bytes:
        if current:
            return ws.key.public_pem
        with ws.db.reader() as s:
            return keys.root_public_pem(s, ws.key)

    sys.stdout.write(with_workspace(pem).decode())


@custody_app.command("key-history")
def custody_key_history(as_json: JSON = False) -> None:
    """Every key the ledger was signed with, the tree sizes each signs, and the hand-overs."""
    from amanah.custody import keys

    def history(ws: Workspace) -> dict[str, Any]:
        with ws.db.reader() as s:
            return keys.key_history(s, ws.key)

    doc = with_workspace(history)
    if as_json:
        emit_json(doc)
        return
    rows = doc["keys"]
    for i, row in enumerate(rows):
        upto = f"to {rows[i + 1]['from_size']}" if i + 1 < len(rows) else "on (current)"
        out.print(f"key {row['key_id']}: signs tree sizes {row['from_size']} {upto}")


@custody_app.command("rotate-key")
def custody_rotate_key(
    reason: Annotated[str, typer.Option(help="Why the key is changed (recorded).")] = "",
    actor: Annotated[str | None, typer.Option(help="Who rotates the key.")] = None,
) -> None:
    """Start a new signing key, handed over by the current one in a signed ledger event.

    The outgoing key signs the hand-over and a checkpoint over it; the incoming key signs the
    same tree; earlier checkpoints still verify through the key history. The old private key
    is destroyed. Stop other amanah processes first. An encrypted key stays encrypted with
    the same passphrase (AMANAH_KEY_PASSPHRASE).
    Example: amanah custody rotate-key --reason "yearly rotation"
    """
    from amanah.custody.rotation import RotationRefused, rotate_key

    def rotate(ws: Workspace) -> dict[str, Any]:
        return rotate_key(
            ws.db,
            ws.key,
            ws.settings.key_path,
            ws.settings.public_key_path,
            actor or default_actor(),
            reason,
        )

    result = with_workspace(rotate, RotationRefused)
    out.print(
        f"key {result['old_key_id']} handed the ledger over to key {result['new_key_id']}"
        f" at event {result['seq']}"
    )
