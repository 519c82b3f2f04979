"""`amanah persons link-evidence`: a person list's records paired with the entities and the
mentions in items that may be the same person, kept as a run of the review queue. A thin
layer over amanah.persons.evidence; reviews go through `amanah persons review`.

    amanah persons link-evidence "Families 2024" [--threshold 0.8] [--margin 0.15] [--json]
    amanah persons review --run N             (the record beside the entity or the quoted span)
    amanah persons review accept PAIR          (makes the link: a custody event)

Exit status: 0 done; 2 the request was wrong (no such list, or one outside your need-to-know,
a role that may not link, a threshold outside (0, 1]).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from amanah.cli.util import ACTOR_HELP, JSON, out, with_workspace
from amanah.persons.linkage import EVIDENCE_MARGIN
from amanah.text.name_match import THRESHOLD

if TYPE_CHECKING:
    from amanah.workspace import Workspace


def persons_link_evidence(
    list_name: Annotated[str, typer.Argument(help="The person list whose records are linked.")],
    threshold: Annotated[
        float, typer.Option("--threshold", help="A pair at this score or above is proposed.")
    ] = THRESHOLD,
    margin: Annotated[
        float, typer.Option("--margin", help="Pairs this far below the threshold are reviewed.")
    ] = EVIDENCE_MARGIN,
    user: Annotated[
        str | None,
        typer.Option("--user", help="See and act only as this Amanah user may (their grants)."),
    ] = None,
    actor: Annotated[str | None, typer.Option(help=ACTOR_HELP)] = None,
    as_json: JSON = False,
) -> None:
    """Pair each record of a list with the persons (entities) and the mentions found in items
    you may see that the name matcher finds close to it; keep them as a linkage run whose
    pairs go into the review queue (proposals at or above the threshold first, then those
    near it). Records of a person who withdrew consent are not proposed; a pair once accepted
    or rejected is not proposed again. With --json, one line per pair.

    Example: amanah persons link-evidence "Families 2024" --json
    """
    from amanah.cli.persons import errors
    from amanah.cli.persons_review import _caller
    from amanah.cli.persons_review import errors as review_errors
    from amanah.persons import evidence

    def act(ws: Workspace) -> tuple[Any, list[Any], dict[str, int]]:
        caller = _caller(ws, user, actor)
        return evidence.link_evidence(ws, caller, list_name, threshold=threshold, margin=margin)

    run, kept, counts = with_workspace(act, *errors(), *review_errors())
    if as_json:
        for pair_id, p in kept:
            line = {"pair": pair_id, "run": run.id, **p.as_json()}
            sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
    else:
        t = Table("pair", "record", "evidence", "score", "proposed")
        for pair_id, p in kept:
            side = (
                f"entity {p.entity_id}"
                if p.entity_id is not None
                else f"mention {p.mention_id} in item {p.item_id}"
            )
            t.add_row(str(pair_id), str(p.record_id), side, f"{p.score:.4f}", str(p.match))
        out.print(t)
    left = ""
    if counts["withdrawn"] or counts["unnamed"]:
        left = (
            f"; left out: {counts['withdrawn']} withdrawn consent,"
            f" {counts['unnamed']} without a name"
        )
    typer.echo(
        f"kept as linkage run {run.id}: {run.pairs} pairs, {run.links} proposed,"
        f" {run.to_review} to review (amanah persons review --run {run.id}){left}",
        err=True,
    )


def register(app: typer.Typer) -> None:
    """Attach `link-evidence` to the `amanah persons` group (call after it is made)."""
    for info in app.registered_groups:
        if info.name == "persons" and info.typer_instance is not None:
            info.typer_instance.command("link-evidence")(persons_link_evidence)
            return
    raise RuntimeError("the persons group must be registered before link-evidence")
