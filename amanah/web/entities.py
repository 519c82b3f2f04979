"""An entity's page: its names in both scripts, its relations over time, the evidence links
and mentions behind it and the items they stand in, as `amanah entity show` decides them
(need-to-know in `amanah.access`; showing evidence and mentions is an audited read). A merged
entity's page sends the reader to its keeper."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from amanah.access import Caller, NotVisible, Permission, names_visible
from amanah.db.models import EntityName
from amanah.entities.links import audit_shown
from amanah.entities.mentions import list_mentions
from amanah.entities.merge import keeper_of
from amanah.entities.store import entity_dict
from amanah.entities.vocab import EntityError
from amanah.web.auth import allow, workspace
from amanah.web.pages import render

router = APIRouter(include_in_schema=False)
Reader = Annotated[Caller, Depends(allow(Permission.READ_ENTITIES))]
EntityId = Annotated[int, Path(ge=1, le=2**62)]
#: Relation kinds as the page says them (translated in the catalogs).
KIND_WORDS = {
    "member_of": "member of",
    "commands": "commands",
    "subordinate_of": "subordinate unit of",
    "holds_post": "holds post",
    "operates": "operates",
    "held_at": "held at",
    "located_in": "located in",
    "family": "family",
    "associate": "associate",
    "same_as": "same as",
}


@router.get("/entities/{entity_id}")
def entity_page(request: Request, entity_id: EntityId, caller: Reader) -> Response:
    ws = workspace(request)
    with ws.db.reader() as s:
        try:
            keeper, path = keeper_of(s, caller, entity_id)
        except EntityError as exc:
            raise NotVisible(str(exc)) from None
        if len(path) > 1:
            return RedirectResponse(f"/entities/{keeper.id}", status_code=303)
        shown = entity_dict(s, caller, keeper)
        ends = {r["subject"] for r in shown["relations"]} | {
            r["object"] for r in shown["relations"]
        }
        label: dict[int, str] = {}
        for ent_id, name in s.execute(
            select(EntityName.entity_id, EntityName.full_name)
            .where(EntityName.entity_id.in_(ends), names_visible(caller))
            .order_by(EntityName.id)
        ).all():
            label.setdefault(ent_id, name)
        mentions = list_mentions(ws, s, caller, entity_id=keeper.id, limit=500)
    audit_shown(ws, caller, shown["evidence"])
    relations = sorted(
        shown["relations"], key=lambda r: (r["valid_from"].lstrip("~") or "0", r["id"])
    )
    rows: list[dict[str, Any]] = []
    for r in relations:
        outward = r["subject"] == keeper.id
        other = r["object"] if outward else r["subject"]
        rows.append(
            {**r, "outward": outward, "other": other, "other_name": label.get(other, ""),
             "words": KIND_WORDS.get(r["kind"], r["kind"])}
        )  # fmt: skip
    items = sorted({int(x["item"]) for x in shown["evidence"]} | {m["item"] for m in mentions})
    return render(
        request,
        "entity.html",
        entity=shown,
        arabic=[n for n in shown["names"] if n["script"] == "Arab"],
        latin=[n for n in shown["names"] if n["script"] != "Arab"],
        relations=rows,
        mentions=mentions,
        items=items,
    )
