"""`amanah jurisdiction edit`: change a jurisdiction's record (amanah.rfa.jurisdictions),
with the checks of `jurisdiction add` and a custody event naming the fields changed."""

from __future__ import annotations

from typing import Annotated

import typer

from amanah.cli.requests import jurisdiction_app
from amanah.cli.util import in_session, out
from amanah.system import default_actor


@jurisdiction_app.command("edit")
def jurisdiction_edit(
    code: Annotated[str, typer.Argument(help="The jurisdiction's code (it stays).")],
    state: Annotated[str | None, typer.Option(help="The state.")] = None,
    authority: Annotated[str | None, typer.Option(help="The authority.")] = None,
    unit: Annotated[str | None, typer.Option(help="The unit.")] = None,
    legal_basis: Annotated[str | None, typer.Option(help="Legal basis for cooperation.")] = None,
    contacts: Annotated[str | None, typer.Option(help="Contacts (names, addresses).")] = None,
    actor: Annotated[str | None, typer.Option(help="The Amanah user acting.")] = None,
) -> None:
    """Change a jurisdiction's record; what is not given stays as it is.

    Example: amanah jurisdiction edit DE-GBA --unit "War crimes unit (S4)" --contacts "…"
    """
    from amanah.rfa import jurisdictions

    who = default_actor(actor)
    changed = in_session(
        lambda s, _c: jurisdictions.edit(
            s,
            code,
            who,
            state=state,
            authority=authority,
            unit=unit,
            legal_basis=legal_basis,
            contacts=contacts,
        )
    )
    if changed:
        out.print(f"jurisdiction {code}: changed {', '.join(changed)}")
    else:
        out.print(f"jurisdiction {code}: nothing changed")
