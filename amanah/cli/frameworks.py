"""`amanah framework edit`: change a cooperation framework's terms (amanah.rfa.frameworks),
with the checks of `framework add` and a custody event naming what changed."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from amanah.cli.collections import framework_app
from amanah.cli.util import in_session, out, parse_date
from amanah.system import default_actor


@framework_app.command("edit")
def framework_edit(
    framework_id: Annotated[int, typer.Argument(help="The framework's id (framework list).")],
    title: Annotated[str | None, typer.Option(help="Title of the agreement.")] = None,
    disclosure: Annotated[str | None, typer.Option(help="any, consent, named or never.")] = None,
    kind: Annotated[str | None, typer.Option(help="mou, protocol, letter or other.")] = None,
    jurisdiction: Annotated[
        list[str] | None,
        typer.Option(help="With disclosure named: a jurisdiction code (repeatable; replaces)."),
    ] = None,
    no_jurisdictions: Annotated[
        bool, typer.Option("--no-jurisdictions", help="Name no jurisdiction any more.")
    ] = False,
    party: Annotated[
        list[str] | None, typer.Option(help="Another party (repeatable; replaces them).")
    ] = None,
    signed_on: Annotated[str | None, typer.Option(help="Date signed, YYYY-MM-DD.")] = None,
    expires_on: Annotated[str | None, typer.Option(help="Date it ends, YYYY-MM-DD.")] = None,
    scope: Annotated[str | None, typer.Option(help="What material it covers.")] = None,
    attribution: Annotated[
        bool | None,
        typer.Option("--attribution/--no-attribution", help="Packages must name the provider."),
    ] = None,
    confidentiality: Annotated[
        str | None, typer.Option(help="public, restricted, confidential, strictly_confidential.")
    ] = None,
    terms: Annotated[str | None, typer.Option(help="The agreement's own words, as notes.")] = None,
    actor: Annotated[str | None, typer.Option(help="The Amanah user acting.")] = None,
) -> None:
    """Change a cooperation framework's terms; what is not given stays as it is. Each change
    is a custody event naming the fields changed.

    Examples:
      amanah framework edit 3 --disclosure named --jurisdiction DE-GBA
      amanah framework edit 3 --disclosure consent --no-jurisdictions --expires-on 2027-12-31
    """
    from amanah.rfa import frameworks

    changes: dict[str, Any] = {
        "title": title,
        "disclosure": disclosure,
        "kind": kind,
        "jurisdictions": [] if no_jurisdictions else jurisdiction,
        "parties": party,
        "signed_on": parse_date(signed_on, "--signed-on"),
        "expires_on": parse_date(expires_on, "--expires-on"),
        "scope": scope,
        "attribution_required": attribution,
        "confidentiality": confidentiality,
        "terms": terms,
    }
    who = default_actor(actor)
    changed = in_session(lambda s, _c: frameworks.edit(s, framework_id, who, **changes))
    if changed:
        out.print(f"framework {framework_id}: changed {', '.join(changed)}")
    else:
        out.print(f"framework {framework_id}: nothing changed")
