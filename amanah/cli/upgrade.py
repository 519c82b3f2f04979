"""`amanah upgrade`: bring a home up to this version of Amanah after installing it. The
database's migrations are applied on opening (as every command does); then the data derived
from a part of the code that changed is derived again: today, entity names are parsed again
when the name-parts parser changed (as `amanah entity name parse --all` does by hand), each
item with coordinates gets the governorate it was captured in (`amanah.geo.placed`), and
items indexed before their document date was recorded are indexed again, so their date is the
one they state and never their file's time (`amanah.search.redate`).

Exit status: 0 up to date (or brought up to date); 2 the request was wrong."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from amanah.cli.util import ACTOR_HELP, JSON, emit_json, out, with_workspace
from amanah.entities import EntityError
from amanah.system import default_actor

if TYPE_CHECKING:
    from amanah.workspace import Workspace


def register(app: typer.Typer) -> None:
    app.command("upgrade")(upgrade)


def upgrade(
    actor: str | None = typer.Option(None, help=ACTOR_HELP),
    as_json: JSON = False,
) -> None:
    """Apply the migrations, then re-derive what changed code makes: entity name parts, the
    governorate of items with coordinates, and the document date of items indexed before it
    was recorded.

    Example: amanah upgrade
    """
    from amanah.access import AccessDenied, local_administrator
    from amanah.entities.parser_version import reparse_if_changed
    from amanah.geo import placed
    from amanah.search.index import IndexOutdated
    from amanah.search.redate import read_dates

    def run(ws: Workspace) -> dict[str, Any]:
        caller = local_administrator(ws, default_actor(actor))
        with ws.db.session() as s:
            done = reparse_if_changed(s, caller)
            done["placed"] = placed.fill(s)
        done["dated"] = read_dates(ws)
        return done

    done = with_workspace(run, EntityError, AccessDenied, IndexOutdated)
    if as_json:
        emit_json(done)
        return
    if done["placed"]:
        out.print(f"{done['placed']} items placed in their governorate (for gov: and the map)")
    if done["dated"]:
        out.print(f"document dates read for {done['dated']} items indexed before they were kept")
    if done["parsed"]:
        out.print(
            f"name parser changed ({done['was'] or 'not recorded'} → {done['parser']}):"
            f" {done['parsed']} names parsed again"
        )
    else:
        out.print(f"up to date: {done['names']} names parsed with parser {done['parser']}")
