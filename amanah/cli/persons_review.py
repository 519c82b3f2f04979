"""`amanah persons link ... --store`, `amanah persons review` and `amanah persons clusters`:
a linkage run kept, its review queue, reviews, and the clusters they make. A thin layer over
amanah.persons.review.

    amanah persons link "Families 2023" "Families 2024" --store
    amanah persons review [--run N] [--all] [--json]
    amanah persons review accept PAIR [--note TEXT]      (reject, unsure alike)
    amanah persons clusters [--run N] [--json]

Exit status: 0 done; 1 the queue still has pairs to review (`review` only, so scripts can
wait on it) or a cluster holds a rejected pair; 2 the request was wrong (no such run, pair or
list, a pair outside your need-to-know, a role that may not review).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from amanah.cli.util import (
    ACTOR_HELP,
    JSON,
    emit_json,
    fail,
    out,
    request_errors,
    with_workspace,
)

if TYPE_CHECKING:
    from amanah.workspace import Workspace

USER = Annotated[
    str | None,
    typer.Option("--user", help="See and act only as this Amanah user may (their grants)."),
]
RUN = Annotated[
    int | None,
    typer.Option("--run", min=1, help="The kept linkage run (default: the newest you see)."),
]
#: The fields shown side by side before what a record shows anywhere (review.SHOWN).
PROVENANCE = ("list", "key", "row")


def errors() -> tuple[type[Exception], ...]:
    """What a review command refuses with: a reason and exit status 2, never a traceback."""
    from amanah.access.users import AccountError
    from amanah.persons.linkage import LinkageError
    from amanah.persons.review import ReviewError

    return (*request_errors(), AccountError, LinkageError, ReviewError)


def _caller(ws: Workspace, user: str | None, actor: str | None = None) -> Any:
    from amanah.cli.persons import _caller as persons_caller

    with ws.db.reader() as s:
        return persons_caller(ws, s, user, actor)


def link_and_store(
    names: list[str],
    user: str | None,
    threshold: float,
    review_margin: float,
    floor: float,
    clusters: bool,
    engine: tuple[str, str | None] = ("duckdb", None),
) -> None:
    """Link home lists (on `engine`: its name and database), keep the run and its pairs,
    print the pairs (with their ids) or the run's clusters; a summary on standard error."""
    from amanah.persons import linkage, review

    def act(ws: Workspace) -> tuple[Any, list[Any], dict[int, str], list[dict[str, Any]]]:
        caller = _caller(ws, user)
        from amanah.access import Permission

        caller.require(Permission.MANAGE_ENTITIES)  # before reading anything
        plists, lists, keys = review.read_lists(ws, caller, names)
        pairs = linkage.link_lists(
            lists, threshold, review_margin, floor, engine=engine[0], database_url=engine[1]
        )
        run, kept = review.store_run(
            ws,
            caller,
            plists,
            pairs,
            threshold=threshold,
            review_margin=review_margin,
            floor=floor,
            settings={**_settings(plists, threshold), "linkage_engine": engine[0]},
        )
        shown: list[dict[str, Any]] = []
        if clusters:
            with ws.db.session() as s:
                kept_run, found = review.run_clusters(s, caller, run.id)
                shown = [review.cluster_dict(s, caller, kept_run, c, show=False) for c in found]
        return run, kept, keys, shown

    run, kept, keys, shown = with_workspace(act, *errors())
    write = sys.stdout.write
    if clusters:
        for c in shown:
            write(json.dumps(c, ensure_ascii=False) + "\n")
    else:
        for pair_id, p in kept:
            obj = p.as_json()
            obj.update(
                pair=pair_id,
                run=run.id,
                a=keys.get(int(p.a), p.a),
                b=keys.get(int(p.b), p.b),
                a_record=int(p.a),
                b_record=int(p.b),
            )
            write(json.dumps(obj, ensure_ascii=False) + "\n")
    typer.echo(
        f"kept as linkage run {run.id}: {run.pairs} pairs, {run.links} links,"
        f" {run.to_review} to review (amanah persons review --run {run.id})",
        err=True,
    )


def _settings(plists: list[Any], threshold: float) -> dict[str, Any]:
    from amanah.persons import linkage

    link_type = "dedupe_only" if len(plists) == 1 else "link_only"
    model = linkage.settings(link_type)
    return {
        "engine": "splink",
        "comparisons": [c["output_column_name"] for c in model["comparisons"]],
        "blocking_rules": list(linkage.BLOCKING_RULES),
        "trained": True,
        "threshold": threshold,
    }


def persons_review(
    decision: Annotated[
        str | None,
        typer.Argument(help="accept, reject or unsure (none: show the queue)."),
    ] = None,
    pair: Annotated[
        int | None, typer.Argument(min=1, help="The pair's id (from the queue).")
    ] = None,
    run: RUN = None,
    everything: Annotated[bool, typer.Option("--all", help="Pairs already reviewed too.")] = False,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many pairs.")] = None,
    note: Annotated[str, typer.Option("--note", help="Why (kept with the review).")] = "",
    user: USER = None,
    actor: Annotated[str | None, typer.Option(help=ACTOR_HELP)] = None,
    as_json: JSON = False,
) -> None:
    """The review queue of a kept linkage run, or one review: without arguments, the pairs
    that need review, closest to the threshold first, both records side by side with the
    explanation (showing them is recorded in the custody ledger); `accept PAIR` (one person:
    joins their clusters), `reject PAIR` (two persons: splits a cluster that joined them),
    `unsure PAIR` (the model's verdict stands). A review is a custody event naming who.

    Example: amanah persons review --run 3
    Example: amanah persons review accept 42 --note "same mother, same village"
    """
    if decision is None:
        if pair is not None:
            fail("say accept, reject or unsure before the pair's id")
        _queue(run, everything, limit, user, as_json)
        return
    if decision not in ("accept", "reject", "unsure"):
        fail(f"{decision!r}: a review is accept, reject or unsure (then the pair's id)")
    if pair is None:
        fail(f"{decision} which pair? give its id (amanah persons review lists them)")
    _decide(decision, pair, note, user, actor, as_json)


def _queue(
    run: int | None, everything: bool, limit: int | None, user: str | None, as_json: bool
) -> None:
    from amanah.persons import review

    def act(ws: Workspace) -> tuple[Any, list[dict[str, Any]]]:
        caller = _caller(ws, user)
        with ws.db.session() as s:
            kept, pairs = review.queue(
                s, caller, run, include_decided=everything, limit=limit, ws=ws
            )
            return kept.id, pairs

    run_id, pairs = with_workspace(act, *errors())
    if as_json:
        emit_json({"run": run_id, "pairs": pairs})
    else:
        if not pairs:
            out.print(f"linkage run {run_id}: no pair needs review")
        for p in pairs:
            _print_pair(p)
    pending = [p for p in pairs if not p["decision"]]
    raise typer.Exit(1 if pending else 0)


def _print_pair(p: dict[str, Any]) -> None:
    verdict = "link" if p["match"] else "no link"
    decided = f", {p['decision']} by {p['decided_by']}" if p["decision"] else ""
    out.print(f"pair {p['pair']} (run {p['run']}): score {p['score']:.4f}, {verdict}{decided}")
    from amanah.persons.review import SHOWN

    if p.get("kind", "record") != "record":
        print_evidence_pair(p)
        return
    t = Table("", "A", "B")
    a, b = p["a"] or {}, p["b"] or {}
    for f in (*PROVENANCE, *SHOWN):
        va, vb = a.get(f), b.get(f)
        if va in (None, "") and vb in (None, ""):
            continue
        t.add_row(f, "" if va is None else str(va), "" if vb is None else str(vb))
    out.print(t)
    why = ", ".join(f"{k}: {v['level']} ({v['weight']:+.1f})" for k, v in p["explanation"].items())
    out.print(f"why: {why}")


def print_evidence_pair(p: dict[str, Any]) -> None:
    """A record beside its evidence (the entity's names, or the mention's item and quoted
    span), then the matcher's explanation."""
    a, ev = p["a"] or {}, p["evidence"] or {}
    t = Table("", "record", "evidence")
    if ev.get("kind") == "mention":
        right = [
            ("item", f"{ev['item']} {ev['title']}"),
            ("sha256", ev["sha256"]),
            ("where", f"page {ev['page']}, {ev['derivative']} {ev['span'][0]}-{ev['span'][1]}"),
            ("quotation", ev.get("quotation", "")),
        ]
    else:
        right = [("entity", str(ev.get("entity", ""))), ("names", " | ".join(ev.get("names", [])))]
    left = [
        ("list", str(a.get("list", ""))),
        ("key", str(a.get("key", ""))),
        ("row", str(a.get("row", ""))),
        ("full_name", str(a.get("full_name", ""))),
    ]
    for i in range(max(len(left), len(right))):
        lk, lv = left[i] if i < len(left) else ("", "")
        rk, rv = right[i] if i < len(right) else ("", "")
        t.add_row(f"{lk} / {rk}".strip(" /"), lv, rv)
    out.print(t)
    why = ", ".join(
        f"{x['field']}: {x['how']} ({x['similarity']})" for x in p["explanation"].get("parts", [])
    )
    out.print(f"why: {why}")


def _decide(
    decision: str, pair: int, note: str, user: str | None, actor: str | None, as_json: bool
) -> None:
    from amanah.persons import review

    def act(ws: Workspace) -> dict[str, Any]:
        caller = _caller(ws, user, actor)
        return review.review(ws, caller, pair, decision, note)

    done = with_workspace(act, *errors())
    if as_json:
        emit_json(done)
        return
    if done["together_before"] is None:  # a record and evidence
        made = f": record link {done['record_link']} made" if done.get("record_link") else ""
        out.print(f"pair {done['pair']} {done['decision']} by {done['by']} at {done['at']}{made}")
        return
    before = "one cluster" if done["together_before"] else "apart"
    after = "one cluster" if done["together_after"] else "apart"
    out.print(
        f"pair {done['pair']} {done['decision']} by {done['by']} at {done['at']}:"
        f" its two records were {before}, now {after}"
    )


def persons_clusters(
    run: RUN = None,
    user: USER = None,
    as_json: JSON = False,
) -> None:
    """The clusters of a kept run (each one person), with the provenance of every record:
    list, item and line (showing them is recorded in the custody ledger)."""
    from amanah.persons import review

    def act(ws: Workspace) -> tuple[int, list[dict[str, Any]]]:
        caller = _caller(ws, user)
        with ws.db.session() as s:
            kept, found = review.run_clusters(s, caller, run)
            return kept.id, [review.cluster_dict(s, caller, kept, c) for c in found]

    run_id, found = with_workspace(act, *errors())
    if as_json:
        emit_json({"run": run_id, "clusters": found})
    else:
        out.print(f"linkage run {run_id}: {len(found)} clusters")
        for c in found:
            warn = f", rejected pairs inside: {c['conflicts']}" if c["conflicts"] else ""
            out.print(f"cluster {c['cluster']} ({c['size']} records{warn})")
            for r in c["records"]:
                out.print(
                    f"  record {r['id']}: list {r['list']!r} item {r['item']} line {r['row']}"
                    f" key {r['key']}: {r['full_name']}"
                )
    raise typer.Exit(1 if any(c["conflicts"] for c in found) else 0)


def register(app: typer.Typer) -> None:
    """Attach `review` and `clusters` to the `amanah persons` group (call after it is made)."""
    for info in app.registered_groups:
        if info.name == "persons" and info.typer_instance is not None:
            info.typer_instance.command("review")(persons_review)
            info.typer_instance.command("clusters")(persons_clusters)
            return
    raise RuntimeError("the persons group must be registered before its review")
