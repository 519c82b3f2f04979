"""`amanah package`: redaction, sharing packages (BagIt) and their verification."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from amanah.cli.util import (
    JSON,
    Bar,
    emit_json,
    fail,
    in_session,
    new_folder,
    out,
    print_table,
    request_errors,
    with_workspace,
)

if TYPE_CHECKING:
    from amanah.workspace import Workspace

package_app = typer.Typer(
    help="Redaction, sharing packages (BagIt) and their verification.", no_args_is_help=True
)


def _region(value: str) -> tuple[int, float, float, float, float]:
    try:
        page, rest = value.split(":", 1)
        x0, y0, x1, y1 = (float(v) for v in rest.split(","))
        number = int(page)
    except ValueError:
        fail(f"--region {value!r}: expected PAGE:X0,Y0,X1,Y1 (e.g. 1:100,200,300,260)")
    if number < 1 or x1 <= x0 or y1 <= y0 or min(x0, y0) < 0:
        fail(f"--region {value!r}: pages count from 1, and X0 < X1, Y0 < Y1, none negative")
    return number, x0, y0, x1, y1


@package_app.command("redact")
def package_redact(
    item_id: int,
    region: Annotated[
        list[str] | None,
        typer.Option(
            help="Extra area to remove, PAGE:X0,Y0,X1,Y1 (PDF points; pixels and page 1 for"
            " an image). Repeatable."
        ),
    ] = None,
) -> None:
    """Make the redacted derivative of an item (the original is untouched).

    Every protected person's name is removed from its text layer and, through OCR word
    boxes, from its images; its metadata is scrubbed.

    Example: amanah package redact 42 --region 1:72,600,300,640
    """
    from amanah.access import local_administrator
    from amanah.sharing import redaction

    regions = [_region(r) for r in region or []]

    def act(ws: Workspace) -> dict[str, Any]:
        return redaction.redact(ws, local_administrator(ws), item_id, regions)

    r = with_workspace(act, *request_errors())
    out.print(
        f"item {item_id}: redacted {r['regions']} area(s)"
        f" ({', '.join(r['protected']) or 'no protected name found'}); derivative {r['sha256']}"
    )


@package_app.command("build")
def package_build(
    reference: str,
    out_dir: Annotated[Path, typer.Argument(help="A new folder for the bag.")],
    as_json: JSON = False,
) -> None:
    """Build the sharing package of a request (a BagIt bag).

    It holds the items marked relevant (redacted where a protected name appears), manifests,
    an item index, custody excerpts with inclusion proofs, the public key and a cover
    letter. It refuses, listing each item and why,
    anything blocked by its terms, lacking consent, or still naming a protected person.
    A request not yet in review moves there (each step recorded).

    Example: amanah package build RFA-2026-014 /media/out/RFA-2026-014
    """
    from amanah.access import local_administrator
    from amanah.sharing import package

    new_folder(out_dir)

    def act(ws: Workspace) -> dict[str, Any]:
        caller = local_administrator(ws)
        with Bar("package", "bytes", quiet=as_json, transient=True) as bar:
            try:
                return package.build(ws, caller, reference, out_dir, bar.advance)
            except package.PackageRefused as exc:
                bar.stop()
                out.print(str(exc))
                raise typer.Exit(1) from None

    r = with_workspace(act, *request_errors())
    if as_json:
        emit_json(r)
        return
    out.print(
        f"package {r['package']} for {r['request']} ({r['recipient']}): {r['items']} items"
        f" ({r['redacted']} redacted), {r['payload_bytes']:,} bytes in {r['path']}"
    )
    out.print(f"manifest-sha256.txt SHA-256: {r['manifest_sha256']}")
    for x in r.get("left_out", []):  # victims' and survivors' consent: see docs/engagements.md
        out.print(f"  item {x['item_id']}: {x['reason']}")
    out.print(f"request {r['request']} is {r['request_state']}")


@package_app.command("verify")
def package_verify(
    path: Annotated[Path, typer.Argument(help="The package folder.")],
    key_id: Annotated[str | None, typer.Option(help="The key id you expect.")] = None,
    public_key: Annotated[
        Path | None, typer.Option(help="The sender's public key (PEM) to verify against.")
    ] = None,
) -> None:
    """Verify a package as its recipient would (the code of tools/verify_package.py).

    Checks bag completeness and hashes, the sealed file set, custody proofs and the
    checkpoint's signature against the key given; with neither --key-id nor --public-key,
    against this installation's own key (a package built here).

    Example: amanah package verify /media/out/RFA-2026-014 --key-id e2365abd86c06c56
    """
    from amanah.sharing import verify_package

    if not path.is_dir():
        fail(f"{path}: not a folder")
    pinned = None
    try:
        if public_key is not None:
            pinned = public_key.read_bytes()
        elif key_id is None:
            # The ledger's first key, as a recipient pins it: packages signed before and
            # after a key rotation verify through the signed hand-overs of the key history.
            pinned = with_workspace(_first_public_key)
        problems = verify_package.verify(path, key_id, pinned)
    except (OSError, ValueError, LookupError, TypeError, AttributeError) as exc:
        fail(verify_package.printable(f"cannot read package {path}: {exc}"))
    for p in problems:
        out.print(verify_package.printable(f"FAIL {p}"))
    if problems:
        out.print(f"package {path}: {len(problems)} problem(s)")
        raise typer.Exit(1)
    label = verify_package.signed_for(path)
    if label is not None:  # what the sender signed, not what bag-info.txt says
        out.print(f"package {path}: {verify_package.describe(label)}")
    out.print(f"package {path}: verified")


def _first_public_key(ws: Workspace) -> bytes:
    from amanah.custody import keys

    with ws.db.reader() as s:
        return keys.root_public_pem(s, ws.key)


@package_app.command("list")
def package_list(as_json: JSON = False) -> None:
    """Packages built, newest first."""
    from amanah.sharing import package

    rows = in_session(lambda s, c: package.list_packages(s, c))
    if as_json:
        emit_json(rows)
    else:
        print_table(rows, ["id", "request", "recipient", "created_at", "items", "payload_bytes"])


@package_app.command("attest")
def package_attest(
    item_ids: Annotated[list[int] | None, typer.Argument(help="Item ids.")] = None,
    note: Annotated[str, typer.Option(help="How the item was examined by hand.")] = "",
    request: Annotated[
        str | None,
        typer.Option(help="Every relevant item of this request whose inventory is incomplete."),
    ] = None,
) -> None:
    """Attest that items whose content inventory is not complete were examined by hand.

    The package build then lets them through (its index says who attested each and when); a
    protected name found in one still stops it. Each item is its own custody event.

    Example: amanah package attest 42 --note "opened with the provider's password; read all"
    Example: amanah package attest --request RFA-2026-001 --note "watched every video"
    """
    from amanah.access import local_administrator
    from amanah.sharing import attestation

    if not item_ids and not request:
        out.print("give item ids, or --request REF")
        raise typer.Exit(2)

    def act(ws: Workspace) -> list[dict[str, Any]]:
        caller = local_administrator(ws)
        ids = list(item_ids or [])
        if request:
            ids += [i for i in attestation.request_items(ws, caller, request) if i not in ids]
        return attestation.attest_many(ws, caller, ids, note)

    for r in with_workspace(act, *request_errors()):
        out.print(
            f"item {r['item']}: content inventory {r['inventory']}; attested by"
            f" {r['attested_by']} on {r['attested_at'][:10]}"
        )
