"""`amanah entity`: persons, units, facilities and places, their names, their relations over
time, the evidence links behind them, the command chain on a day, and FollowTheMoney import
and export. A thin layer over amanah.entities; every change is a custody event."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.table import Table

from amanah.cli.util import emit_json, err, new_file, out, with_workspace
from amanah.entities import EntityError
from amanah.system import default_actor

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from amanah.access import Caller
    from amanah.workspace import Workspace

T = TypeVar("T")
entity_app = typer.Typer(
    help="Persons, units, facilities and places; relations; evidence links.",
    no_args_is_help=True,
)
name_app = typer.Typer(help="Names of an entity, in any script.", no_args_is_help=True)
entity_app.add_typer(name_app, name="name")
gazetteer_app = typer.Typer(
    help="Places with P-codes and names in both scripts.", no_args_is_help=True
)
entity_app.add_typer(gazetteer_app, name="gazetteer")
JSON = Annotated[bool, typer.Option("--json", help="Print JSON.")]
ACTOR = Annotated[str | None, typer.Option(help="Amanah user you act as.")]


def register(app: typer.Typer) -> None:
    app.add_typer(entity_app, name="entity")


def _write(actor: str | None, action: Callable[[Workspace, Session, Caller], T]) -> T:
    """One change in one transaction, as the local administrator under the actor's name."""
    from amanah.access import AccessDenied, local_administrator

    def run(ws: Workspace) -> T:
        caller = local_administrator(ws, default_actor(actor))
        with ws.db.session() as s:
            return action(ws, s, caller)

    return with_workspace(run, EntityError, AccessDenied)


def _read(action: Callable[[Session, Caller], T]) -> T:
    from amanah.access import AccessDenied, local_administrator

    def run(ws: Workspace) -> T:
        caller = local_administrator(ws, default_actor())
        with ws.db.reader() as s:
            return action(s, caller)

    return with_workspace(run, EntityError, AccessDenied)


@entity_app.command("add")
def entity_add(
    kind: Annotated[str, typer.Argument(help="person, organisation, facility or place.")],
    name: Annotated[str, typer.Argument(help="The official name, in any script.")],
    subkind: Annotated[
        str, typer.Option(help="Unit kind (army formation, security branch ...) or facility kind.")
    ] = "",
    sex: Annotated[str, typer.Option(help="A person's sex.")] = "",
    born: Annotated[str, typer.Option(help="Birth date: YYYY, YYYY-MM, YYYY-MM-DD, ~YYYY.")] = "",
    birth_place: Annotated[str, typer.Option(help="Birth place.")] = "",
    nationality: Annotated[str, typer.Option(help="Nationality.")] = "",
    rank: Annotated[str, typer.Option(help="Military or police rank.")] = "",
    father: Annotated[str, typer.Option(help="Father's name.")] = "",
    mother: Annotated[str, typer.Option(help="Mother's name.")] = "",
    pcode: Annotated[str, typer.Option(help="A place's P-code.")] = "",
    language: Annotated[str, typer.Option(help="Language of the name (ar, en ...).")] = "",
    actor: ACTOR = None,
    as_json: JSON = False,
) -> None:
    """Add an entity with its official name.

    Example: amanah entity add organisation "Branch 215" --subkind "security branch"
    """
    from amanah.entities.store import add_entity

    fields: dict[str, Any] = {
        k: v
        for k, v in (
            ("subkind", subkind),
            ("sex", sex),
            ("birth_date", born),
            ("birth_place", birth_place),
            ("nationality", nationality),
            ("rank", rank),
            ("father_name", father),
            ("mother_name", mother),
            ("pcode", pcode),
        )
        if v
    }
    ent_id = _write(
        actor,
        lambda ws, s, c: add_entity(s, c, kind, name, language=language, fields=fields).id,
    )
    if as_json:
        emit_json({"id": ent_id})
    else:
        out.print(f"entity {ent_id} added")


@entity_app.command("show")
def entity_show(
    entity_id: Annotated[int, typer.Argument(help="Entity id.")], as_json: JSON = False
) -> None:
    """An entity with its names, relations and evidence links.

    Example: amanah entity show 1 --json
    """
    from amanah.access import AccessDenied, local_administrator
    from amanah.entities.links import audit_shown
    from amanah.entities.merge import keeper_of
    from amanah.entities.store import entity_dict

    def run(ws: Workspace) -> dict[str, Any]:
        caller = local_administrator(ws, default_actor())
        with ws.db.reader() as s:
            keeper, path = keeper_of(s, caller, entity_id)
            shown = entity_dict(s, caller, keeper)
        audit_shown(ws, caller, shown["evidence"])
        if len(path) > 1:  # a merged id resolves to its keeper, and says so
            return {"id": entity_id, "merged_into": path[1], "keeper": shown}
        return shown

    found = with_workspace(run, EntityError, AccessDenied)
    if as_json:
        emit_json(found)
        return
    if "merged_into" in found:
        out.print(f"entity {entity_id} merged into {found['merged_into']}")
        found = found["keeper"]
    out.print(f"entity {found['id']} ({found['kind']})")
    for n in found["names"]:
        out.print(f"  name {n['id']}: {n['name']} [{n['kind']}, {n['script']}]")
        if n.get("parts"):
            out.print("    parts: " + ", ".join(f"{k} {v}" for k, v in n["parts"].items()))
    for r in found["relations"]:
        out.print(
            f"  relation {r['id']}: {r['subject']} {r['kind']} {r['object']}"
            f" {r['valid_from'] or '…'} to {r['valid_to'] or '…'} ({r['status']},"
            f" {r['confidence']} confidence)"
        )
    for x in found["evidence"]:
        where = json.dumps(x["locator"])
        out.print(f"  evidence {x['id']}: item {x['item']} {where} {x['stance']}")


@entity_app.command("list")
def entity_list(
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
    as_json: JSON = False,
) -> None:
    """List entities (first name of each).

    Example: amanah entity list --kind person
    """
    from amanah.entities.store import list_entities

    rows = _read(lambda s, c: list_entities(s, c, kind))
    if as_json:
        emit_json(rows)
        return
    table = Table("id", "kind", "name")
    for r in rows:
        table.add_row(str(r["id"]), r["kind"], r["name"])
    out.print(table)


@name_app.command("add")
def name_add(
    entity_id: Annotated[int, typer.Argument(help="Entity id.")],
    name: Annotated[str, typer.Argument(help="The full name, in any script.")],
    kind: Annotated[
        str, typer.Option(help="official, alias, transliteration, kunya or nickname.")
    ] = "alias",
    language: Annotated[str, typer.Option(help="Language of the name (ar, en ...).")] = "",
    actor: ACTOR = None,
) -> None:
    """Add a name to an entity; the script is found from the letters.

    Example: amanah entity name add 1 "أبو عمر" --kind kunya --language ar
    """
    from amanah.entities.store import add_name

    name_id = _write(
        actor, lambda ws, s, c: add_name(s, c, entity_id, name, kind=kind, language=language).id
    )
    out.print(f"name {name_id} added to entity {entity_id}")


@name_app.command("parse")
def name_parse(
    everything: Annotated[
        bool, typer.Option("--all", help="Parse every name again (after the matcher changed).")
    ] = False,
    actor: ACTOR = None,
) -> None:
    """Fill the parts and match keys of names kept before they were parsed on entry.

    Example: amanah entity name parse
    """
    from amanah.entities.nameparts import backfill
    from amanah.entities.parser_version import parser_digest
    from amanah.entities.store import record

    def run(ws: Workspace, s: Session, c: Caller) -> int:
        n = backfill(s, c, everything=everything)
        if n:
            # A full parse records the parser's version: `amanah upgrade` reads it back.
            version = {"parser": parser_digest()} if everything else {}
            record(s, c, "entity", 0, action="parse names", names=n, all=everything, **version)
        return n

    count = _write(actor, run)
    out.print(f"{count} names parsed")


@gazetteer_app.command("load")
def gazetteer_load(
    path: Annotated[
        Path, typer.Argument(help="OCHA admin-1 GeoJSON (syr_admin1.geojson) or its folder.")
    ],
    actor: ACTOR = None,
    as_json: JSON = False,
) -> None:
    """Load Syria's governorates as places: P-code, Arabic and English names, variants.
    Run it again at will: a place already here only gains the names it lacks.

    Example: amanah entity gazetteer load data/syria_admin1
    """
    from amanah.entities.gazetteer import load, read_places

    counts = _write(actor, lambda ws, s, c: load(s, c, read_places(path)))
    if as_json:
        emit_json(counts)
    else:
        out.print(
            f"{counts['added']} places added, {counts['present']} already here,"
            f" {counts['names']} names added"
        )


@entity_app.command("relate")
def entity_relate(
    subject: Annotated[int, typer.Argument(help="Subject entity id.")],
    kind: Annotated[
        str,
        typer.Argument(
            help="member_of, commands, subordinate_of, holds_post, operates, held_at,"
            " located_in, family, associate, same_as."
        ),
    ],
    obj: Annotated[int, typer.Argument(metavar="OBJECT", help="Object entity id.")],
    valid_from: Annotated[
        str | None, typer.Option("--from", help="From: YYYY, YYYY-MM, YYYY-MM-DD, ~YYYY.")
    ] = None,
    valid_to: Annotated[str | None, typer.Option("--to", help="To, the same forms.")] = None,
    confidence: Annotated[str, typer.Option(help="low, medium or high.")] = "medium",
    status: Annotated[str, typer.Option(help="alleged, confirmed or disputed.")] = "alleged",
    detail: Annotated[str, typer.Option(help="A post's rank or title, a kinship.")] = "",
    actor: ACTOR = None,
) -> None:
    """Relate two entities over a time interval.

    Example: amanah entity relate 2 commands 1 --from 2011-03 --to 2012 --status alleged
    """
    from amanah.entities.store import relate

    rel_id = _write(
        actor,
        lambda ws, s, c: (
            relate(
                s,
                c,
                subject,
                kind,
                obj,
                valid_from=valid_from,
                valid_to=valid_to,
                confidence=confidence,
                status=status,
                detail=detail,
            ).id
        ),
    )
    out.print(f"relation {rel_id} added")


def _pair(text: str | None, what: str) -> tuple[int, int] | None:
    if text is None:
        return None
    parts = text.split(":")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise EntityError(f"{what} {text!r} is not START:END (two whole numbers)")
    return int(parts[0]), int(parts[1])


@entity_app.command("link")
def entity_link(
    item_id: Annotated[int, typer.Argument(help="Item id.")],
    entity_id: Annotated[int | None, typer.Option("--entity", help="Entity asserted.")] = None,
    name_id: Annotated[int | None, typer.Option("--name", help="Name asserted.")] = None,
    relation_id: Annotated[
        int | None, typer.Option("--relation", help="Relation asserted.")
    ] = None,
    page: Annotated[int | None, typer.Option(help="Page number (from 1).")] = None,
    rect: Annotated[
        list[str] | None, typer.Option(help="x0,y0,x1,y1 on the page, in points (repeat).")
    ] = None,
    span: Annotated[
        str | None, typer.Option(help="START:END characters of the text derivative.")
    ] = None,
    derivative: Annotated[str, typer.Option(help="Text derivative of --span: text or ocr.")] = (
        "text"
    ),
    time: Annotated[str | None, typer.Option(help="START:END milliseconds of a recording.")] = None,
    quote: Annotated[str, typer.Option(help="The quoted words.")] = "",
    translation: Annotated[str, typer.Option(help="Their translation.")] = "",
    contradicts: Annotated[
        bool, typer.Option(help="The evidence contradicts the assertion.")
    ] = False,
    actor: ACTOR = None,
) -> None:
    """Tie an entity, a name or a relation to an item, at a place in it.

    Example: amanah entity link 7 --relation 3 --page 2 --rect 72,100,300,120
    """
    from amanah.entities.links import link

    def run(ws: Workspace, s: Session, c: Caller) -> int:
        return link(
            ws,
            s,
            c,
            item_id,
            entity_id=entity_id,
            name_id=name_id,
            relation_id=relation_id,
            page=page,
            rects=rect,
            span=_pair(span, "--span"),
            derivative=derivative,
            time_ms=_pair(time, "--time"),
            quotation=quote,
            translation=translation,
            stance="contradicts" if contradicts else "supports",
        ).id

    link_id = _write(actor, run)
    out.print(f"evidence link {link_id} added")


@entity_app.command("chain")
def entity_chain(
    unit: Annotated[int, typer.Argument(help="Unit (organisation) id.")],
    as_of: Annotated[str, typer.Option("--as-of", help="The day: YYYY-MM-DD.")],
    as_json: JSON = False,
) -> None:
    """The command chain of a unit on a day: its commanders, then its parent unit's, upward.

    Example: amanah entity chain 1 --as-of 2012-06-01
    """
    from amanah.entities.store import chain

    rows = _read(lambda s, c: chain(s, c, unit, as_of))
    if as_json:
        emit_json(rows)
        return
    for depth, r in enumerate(rows):
        who = ", ".join(f"{c['name']} ({c['subject']})" for c in r["commanders"]) or "no commander"
        out.print(f"{'  ' * depth}{r['name']} ({r['unit']}): {who}")


@entity_app.command("import")
def entity_import(
    file: Annotated[Path, typer.Argument(help="FollowTheMoney JSON lines, or an OFAC folder.")],
    dataset: Annotated[str, typer.Option(help="Name of the list, kept as the origin.")] = "",
    ofac: Annotated[
        bool, typer.Option("--ofac", help="FILE is a folder of OFAC SDN CSV (sdn, alt, add).")
    ] = False,
    actor: ACTOR = None,
    as_json: JSON = False,
) -> None:
    """Import entities from FollowTheMoney JSON lines (Aleph, OpenSanctions) or OFAC's SDN CSV;
    entities already here (same FtM id) are left as they are.

    Example: amanah entity import sanctions.ftm.json --dataset opensanctions
    """
    from amanah.entities.ftm import import_entities, ofac_proxies, read_lines

    def run(ws: Workspace, s: Session, c: Caller) -> dict[str, int]:
        if ofac:
            if not file.is_dir():
                raise EntityError(f"{file}: --ofac needs the folder of the SDN CSV files")
            return import_entities(s, c, ofac_proxies(file), dataset or "ofac")
        try:
            stream = file.open(encoding="utf-8")
        except OSError as exc:
            raise EntityError(f"{file}: cannot read ({exc.strerror})") from None
        with stream:
            try:
                return import_entities(s, c, read_lines(stream, str(file)), dataset or file.stem)
            except UnicodeDecodeError as exc:  # the transaction is rolled back: nothing kept
                raise EntityError(
                    f"{file}: not UTF-8 (byte {exc.start} of a block); FollowTheMoney JSON"
                    " lines are UTF-8"
                ) from None

    counts = _write(actor, run)
    if as_json:
        emit_json(counts)
    else:
        out.print(
            f"{counts['added']} entities added ({counts['names']} names),"
            f" {counts['present']} already here, {counts['skipped']} skipped"
        )


@entity_app.command("match")
def entity_match(
    file: Annotated[Path, typer.Argument(help="FollowTheMoney entities (JSON lines) to match.")],
    limit: Annotated[int, typer.Option(help="Results per query (1 to 100).")] = 5,
    as_json: JSON = False,
) -> None:
    """Match FtM entities against the entities you may see: per query the best candidates,
    each with score, verdict at the default threshold and the explanation.

    Example: amanah entity match suspects.ftm.json --limit 3 --json
    """
    from amanah.entities.match import match_all, read_queries

    def run(s: Session, c: Caller) -> list[dict[str, Any]]:
        try:
            lines = file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or "not UTF-8 text"
            raise EntityError(f"{file}: cannot read ({reason})") from None
        return list(match_all(s, c, read_queries(lines, str(file)), limit))

    answers = _read(run)
    for a in answers:
        if as_json:
            sys.stdout.write(json.dumps(a, ensure_ascii=False, sort_keys=True) + "\n")
            continue
        out.print(f"{a['query']}: {len(a['results'])} candidates")
        for r in a["results"]:
            verdict = "match" if r["match"] else "no match"
            why = r["explanation"]
            out.print(f"  {r['id']} {r['score']:.2f} {verdict}: {why['name']}")


@entity_app.command("export")
def entity_export(
    output: Annotated[
        Path | None, typer.Option(help="Write here instead of standard output.")
    ] = None,
) -> None:
    """Export the entities and relations you may see as FollowTheMoney JSON lines; relations
    as FtM intervals (Membership, Directorship, Occupancy, Family, Associate, UnknownLink) with
    their dates. One custody event: who, how many of each schema, the output's SHA-256.

    Example: amanah entity export --output entities.ftm.json
    """
    from amanah.entities.ftm import export_file

    if output is not None:
        new_file(output)

    def run(ws: Workspace, s: Session, c: Caller) -> tuple[str, dict[str, Any]]:
        text, summary = export_file(s, c)
        if output is not None:  # inside the transaction: no event for a file not written
            try:
                with open(output, "x", encoding="utf-8") as f:  # never over an existing file
                    f.write(text)
            except OSError as exc:
                raise EntityError(f"{output}: cannot write ({exc.strerror})") from None
        return text, summary

    text, summary = _write(None, run)
    if output is None:
        sys.stdout.write(text)
    else:
        per = ", ".join(f"{n} {schema}" for schema, n in summary["schemata"].items())
        out.print(f"{summary['rows']} written to {output} ({per or 'nothing'})")
    if summary["withheld"]:  # an export is sharing: a protected person's name does not leave
        err.print(
            f"withheld {summary['withheld']} rows that name a protected person"
            " (or point at a row that does)"
        )
        raise typer.Exit(1)


mention_app = typer.Typer(
    help="Mentions: entity names found in items' text, to accept or reject.",
    no_args_is_help=True,
)
entity_app.add_typer(mention_app, name="mention")


@entity_app.command("mentions")
def entity_mentions(
    item: Annotated[
        list[int] | None, typer.Option("--item", help="Only this item (repeat); default all.")
    ] = None,
    actor: ACTOR = None,
    as_json: JSON = False,
) -> None:
    """Look for every entity name (all spellings, either script) in items' text derivatives;
    what is found becomes suggested mentions (processing does this for new items).

    Example: amanah entity mentions --item 7
    """
    from amanah.access import AccessDenied, local_administrator
    from amanah.entities.mentions import find_in_items

    def run(ws: Workspace) -> dict[str, int]:
        return find_in_items(ws, local_administrator(ws, default_actor(actor)), item)

    found = with_workspace(run, EntityError, AccessDenied)
    if as_json:
        emit_json(found)
    else:
        out.print(f"{found['mentions']} new mention(s) in {found['items']} item(s)")


@mention_app.command("list")
def mention_list(
    item: Annotated[int | None, typer.Option("--item", help="Only this item.")] = None,
    entity_id: Annotated[int | None, typer.Option("--entity", help="Only this entity.")] = None,
    state: Annotated[str | None, typer.Option(help="suggested, accepted or rejected.")] = None,
    as_json: JSON = False,
) -> None:
    """Mentions you may see, with the text found (an audited read).

    Example: amanah entity mention list --state suggested --json
    """
    from amanah.access import AccessDenied, local_administrator
    from amanah.entities.mentions import list_mentions

    def run(ws: Workspace) -> list[dict[str, Any]]:
        caller = local_administrator(ws, default_actor())
        with ws.db.reader() as s:
            return list_mentions(ws, s, caller, item_id=item, entity_id=entity_id, state=state)

    rows = with_workspace(run, EntityError, AccessDenied)
    if as_json:
        emit_json(rows)
        return
    table = Table("id", "entity", "item", "page", "span", "score", "state", "text")
    for r in rows:
        table.add_row(
            str(r["id"]),
            str(r["entity"]),
            str(r["item"]),
            str(r["page"]),
            f"{r['span'][0]}:{r['span'][1]}",
            f"{r['score']:.2f}",
            r["state"],
            r["text"],
        )
    out.print(table)


def _decide(mention_id: int, accept: bool, actor: str | None, as_json: bool) -> None:
    from amanah.entities.mentions import decide

    done = _write(actor, lambda ws, s, c: decide(ws, s, c, mention_id, accept))
    if as_json:
        emit_json(done)
    elif accept:
        out.print(f"mention {mention_id} accepted: evidence link {done['link']}")
    else:
        out.print(f"mention {mention_id} rejected")


@mention_app.command("accept")
def mention_accept(
    mention_id: Annotated[int, typer.Argument(help="Mention id.")],
    actor: ACTOR = None,
    as_json: JSON = False,
) -> None:
    """Accept a mention: it becomes an evidence link with its span.

    Example: amanah entity mention accept 12
    """
    _decide(mention_id, True, actor, as_json)


@mention_app.command("reject")
def mention_reject(
    mention_id: Annotated[int, typer.Argument(help="Mention id.")],
    actor: ACTOR = None,
    as_json: JSON = False,
) -> None:
    """Reject a mention (it stays recorded as rejected, and is not suggested again).

    Example: amanah entity mention reject 12
    """
    _decide(mention_id, False, actor, as_json)


def _id_list(text: str | None, what: str) -> list[int]:
    """'3,5,8' as ids; anything else is refused (exit 2) naming the option."""
    if not text:
        return []
    parts = [p.strip() for p in text.split(",")]
    if not all(p.isdigit() for p in parts):
        raise EntityError(f"{what} {text!r} is not a list of ids (ID,ID,...)")
    return [int(p) for p in parts]


def _moved(done: dict[str, Any]) -> str:
    m = done["moved"]
    return (
        f"{m['names']} name(s), {m['relations']} relation(s), {m['links']} evidence link(s),"
        f" {m['mentions']} mention(s)"
    )


@entity_app.command("merge")
def entity_merge(
    keep: Annotated[int, typer.Argument(help="The entity that stays.")],
    other: Annotated[
        int, typer.Argument(help="The entity merged into KEEP (kept, pointing at it).")
    ],
    reason: Annotated[
        str, typer.Option(help="Why they are one (kept; its SHA-256 in the ledger).")
    ] = "",
    actor: ACTOR = None,
    as_json: JSON = False,
) -> None:
    """Merge OTHER into KEEP: names, relations, evidence links and mentions move; OTHER's id
    still resolves to KEEP. One custody event; `entity unmerge OTHER` undoes it.

    Example: amanah entity merge 3 7 --reason "same passport number"
    """
    from amanah.entities.merge import merge

    done = _write(actor, lambda ws, s, c: merge(s, c, keep, other, reason))
    if as_json:
        emit_json(done)
    else:
        out.print(f"entity {other} merged into {keep}: {_moved(done)} moved")


@entity_app.command("unmerge")
def entity_unmerge(
    other: Annotated[int, typer.Argument(help="The entity that was merged into another.")],
    actor: ACTOR = None,
    as_json: JSON = False,
) -> None:
    """Undo a merge: exactly the rows that came from OTHER go back to it.

    Example: amanah entity unmerge 7
    """
    from amanah.entities.merge import unmerge

    done = _write(actor, lambda ws, s, c: unmerge(s, c, other))
    if as_json:
        emit_json(done)
    else:
        out.print(f"entity {other} taken out of {done['keep']}: {_moved(done)} moved back")


@entity_app.command("split")
def entity_split(
    entity_id: Annotated[int, typer.Argument(metavar="ENTITY", help="The entity to split.")],
    names: Annotated[str, typer.Option("--names", help="Name ids for the new entity: ID,ID.")],
    relations: Annotated[
        str | None, typer.Option("--relations", help="Relation ids whose ENTITY end moves.")
    ] = None,
    links: Annotated[
        str | None, typer.Option("--links", help="Evidence links on ENTITY that move.")
    ] = None,
    reason: Annotated[str, typer.Option(help="Why (kept; its SHA-256 in the ledger).")] = "",
    actor: ACTOR = None,
    as_json: JSON = False,
) -> None:
    """Make a new entity from chosen names (with their mentions), relations and evidence links
    of ENTITY. One custody event.

    Example: amanah entity split 3 --names 8,9 --relations 4 --links 12
    """
    from amanah.entities.merge import split

    def run(ws: Workspace, s: Session, c: Caller) -> dict[str, Any]:
        return split(
            s,
            c,
            entity_id,
            _id_list(names, "--names"),
            _id_list(relations, "--relations"),
            _id_list(links, "--links"),
            reason,
        )

    done = _write(actor, run)
    if as_json:
        emit_json(done)
    else:
        out.print(f"entity {done['entity']} split from {entity_id}: {_moved(done)} moved")
