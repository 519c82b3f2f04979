"""`amanah upgrade`: bring a home up to this version of Amanah after installing it. The
database's migrations are applied on opening (as every command does); then the data derived
from a part of the code that changed is derived again: today, entity names are parsed again
when the name-parts parser changed (as `amanah entity name parse --all` does by hand), and each
item with coordinates gets the governorate it was captured in (`amanah.geo.placed`).

Exit status: 0 up to date (or brought up to date); 2 the request was wrong."""

from __future__ import annotations

from typing import Any

import typer

from amanah.access import AccessDenied, local_administrator
from amanah.cli.util import ACTOR_HELP, JSON, emit_json, out, with_workspace
from amanah.entities.store import EntityError
from amanah.geo import placed
from amanah.workspace import Workspace, default_actor


def register(app: typer.Typer) -> None:
    app.command("upgrade")(upgrade)


def upgrade(
    actor: str | None = typer.Option(None, help=ACTOR_HELP),
    as_json: JSON = False,
) -> None:
    """Apply the migrations, then re-derive what a changed parser made (entity name parts).

    Example: amanah upgrade
    """
    from amanah.entities.parser_version import reparse_if_changed

    def run(ws: Workspace) -> dict[str, Any]:
        caller = local_administrator(ws, default_actor(actor))
        with ws.db.session() as s:
            done = reparse_if_changed(s, caller)
            done["placed"] = placed.fill(s)
            return done

    done = with_workspace(run, EntityError, AccessDenied)
    if as_json:
        emit_json(done)
        return
    if done["placed"]:
        out.print(f"{done['placed']} items placed in their governorate (for gov: and the map)")
    if done["parsed"]:
        out.print(
            f"name parser changed ({done['was'] or 'not recorded'} → {done['parser']}):"
            f" {done['parsed']} names parsed again"
        )
    else:
        out.print(f"up to date: {done['names']} names parsed with parser {done['parser']}")
