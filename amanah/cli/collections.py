"""`amanah collection`: collections, their compartments and cooperation frameworks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from amanah.cli.util import (
    JSON,
    emit_json,
    fail,
    in_session,
    out,
    parse_date,
    print_table,
    with_workspace,
)
from amanah.system import default_actor

if TYPE_CHECKING:
    from amanah.workspace import Workspace

collection_app = typer.Typer(help="Collections and their compartments.", no_args_is_help=True)
framework_app = typer.Typer(
    help="Cooperation frameworks with providers, and their terms.", no_args_is_help=True
)


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


# -- frameworks ------------------------------------------------------------------------------


@framework_app.command("add")
def framework_add(
    provider: Annotated[str, typer.Option(help="Provider name (created if new).")],
    title: Annotated[str, typer.Option(help="Title of the agreement.")],
    disclosure: Annotated[
        str,
        typer.Option(
            help="any (to competent jurisdictions), consent (each time), named, or never."
        ),
    ] = "consent",
    kind: Annotated[str, typer.Option(help="mou, protocol, letter or other.")] = "mou",
    jurisdiction: Annotated[
        list[str] | None, typer.Option(help="With --disclosure named: a jurisdiction code.")
    ] = None,
    party: Annotated[list[str] | None, typer.Option(help="Another party (repeatable).")] = None,
    signed_on: Annotated[str | None, typer.Option(help="Date signed, YYYY-MM-DD.")] = None,
    expires_on: Annotated[str | None, typer.Option(help="Date it ends, YYYY-MM-DD.")] = None,
    scope: Annotated[str, typer.Option(help="What material it covers.")] = "",
    attribution: Annotated[
        bool, typer.Option("--attribution", help="Packages must name the provider.")
    ] = False,
    confidentiality: Annotated[
        str, typer.Option(help="public, restricted, confidential, strictly_confidential.")
    ] = "confidential",
    terms: Annotated[str, typer.Option(help="The agreement's own words, as notes.")] = "",
) -> None:
    """Record a cooperation framework with a provider, with its terms as data.

    Examples:
      amanah framework add --provider "Detainees Association" --title "MoU 2023"
        --disclosure consent --signed-on 2023-03-01 --attribution
      amanah framework add --provider SJAC --title "Protocol 2" --disclosure named
        --jurisdiction DE-GBA --jurisdiction SE-NOA
    """
    from amanah.intake.registry import add_framework

    signed, expires = parse_date(signed_on, "--signed-on"), parse_date(expires_on, "--expires-on")

    def work(s: Any, _caller: Any) -> Any:
        fw = add_framework(
            s,
            provider,
            title,
            signed,
            terms,
            kind=kind,
            parties=party,
            expires_on=expires,
            scope=scope,
            disclosure=disclosure,
            jurisdictions=jurisdiction,
            attribution_required=attribution,
            confidentiality=confidentiality,
        )
        return fw.id, fw.title

    fid, ftitle = in_session(work)
    out.print(f"framework {fid}: {ftitle} ({provider}), disclosure: {disclosure}")


@framework_app.command("list")
def framework_list(as_json: JSON = False) -> None:
    """List cooperation frameworks and their terms."""
    from amanah.intake.registry import list_frameworks

    rows = in_session(lambda s, _c: list_frameworks(s))
    if as_json:
        emit_json(rows)
        return
    print_table(
        [{**r, "jurisdictions": " ".join(r["jurisdictions"])} for r in rows],
        ["id", "provider", "title", "kind", "disclosure", "jurisdictions", "expires_on"],
    )
