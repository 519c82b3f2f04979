"""`amanah items` and `amanah item`: the records of preserved items and their bytes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from amanah.cli.util import ACTOR_HELP, emit_json, new_file, out, with_workspace
from amanah.system import default_actor

item_app = typer.Typer(help="One item: its record and its original bytes.", no_args_is_help=True)


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

    record = with_workspace(lambda ws: show(ws, item_id, action="read item record"), ItemError)
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

    new_file(output)
    result = with_workspace(
        lambda ws: export_original(ws, item_id, output, default_actor(actor)), ItemError
    )
    out.print(f"wrote {result['size']:,} bytes to {result['path']} (sha256 {result['sha256']})")
