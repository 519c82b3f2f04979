"""The map page: where the items a search finds were captured, and the places and facilities
with coordinates, drawn on the server as SVG over Syria's governorates (shipped reference
data: nothing fetched, no script needed). The same query and filters as the search page, the
same need-to-know (`amanah.geo.evidence` runs the search); every view is logged as a search."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from amanah.access import Caller, Permission
from amanah.geo import boundaries, evidence, labels
from amanah.geo import names as governorate_names
from amanah.search.query import QueryError, clause, parse
from amanah.web import i18n
from amanah.web.auth import allow, workspace
from amanah.web.pages import language, render
from amanah.web.search_pages import CHIP_LABELS, URL_PARAM, chip_filters, url_params

router = APIRouter(include_in_schema=False)
#: How many points the list under the map shows (the counts cover them all).
LIST_AT_MOST = 500


def map_url(params: list[tuple[str, str]], path: str = "/map", view: str = "") -> str:
    """The page with these filters; `view`: a governorate's view (`gov=`, counts whole),
    which is not the `governorate=` filter (that one narrows the counts too)."""
    query = url_params(params)
    if view:
        query = "&".join(part for part in (query, urlencode([("gov", view)])) if part)
    return path + "?" + query


@router.get("/map")
def map_page(
    request: Request,
    caller: Annotated[Caller, Depends(allow(Permission.SEARCH))],
    chosen: Annotated[list[tuple[str, str]], Depends(chip_filters)],
    q: Annotated[str, Query(max_length=2000)] = "",
    gov: Annotated[str, Query(max_length=200, pattern=r"^[\w\s'’ʿ-]*$")] = "",
) -> Response:
    """`gov=SY02` (or `gov=Aleppo`, `gov=حلب`, as the `gov:` filter takes them): only that
    governorate's items plotted and listed, the items `gov:` finds (its counts row links
    here; the counts stay whole). Filters are the search page's, as URL parameters."""
    page_lang = language(request)
    shape = boundaries.load()
    place = governorate_names.find(gov) if gov.strip() else None
    base = [("q", q), *chosen]
    view, problem = None, None
    try:
        if gov.strip() and place is None:
            parse(clause("gov", gov.strip()))  # refused as the query language refuses it
        view = evidence.build(
            workspace(request),
            caller,
            q,
            chosen,
            lang=page_lang,
            pcode=place.pcode if place else None,
        )
    except QueryError as exc:
        problem = {"message": str(exc), "pointer": exc.pointer()}
    except ValueError as exc:
        problem = {"message": str(exc), "pointer": ""}
    rows: list[dict[str, Any]] = []
    if view is not None:
        for g in shape.governorates:
            rows.append(
                {
                    "pcode": g.pcode,
                    "name": g.name(page_lang),
                    "count": view.counts.get(g.pcode, 0),
                    "link": map_url(base, view=g.pcode),
                }
            )
        rows.sort(key=lambda r: (-r["count"], r["name"]))
    names = {g.pcode: g.name(page_lang) for g in shape.governorates}
    proj = boundaries.projection()
    return render(
        request,
        "map.html",
        q=q,
        chosen=chosen,
        url_param=URL_PARAM,
        chip_labels=CHIP_LABELS,
        view=view,
        problem=problem,
        rows=rows,
        names=names,
        place=place,
        outlines=[(g.pcode, g.name(page_lang), d, xy) for g, d, xy in boundaries.outlines()],
        labels=labels.place(page_lang),
        leader_end=labels.leader_end,
        label_font=f"{labels.FONT:g}",
        width=proj.width,
        height=proj.height,
        attribution=shape.source,
        licence=shape.licence.split(" (")[0],
        whole=map_url(base),
        search_link=map_url(base, "/search") if (q.strip() or chosen) else "/search?browse=1",
        cluster_link=lambda pcode: map_url(base, view=pcode) if pcode else None,
        list_at_most=LIST_AT_MOST,
        max_items=evidence.MAX_ITEMS,
        where=lambda p: _where(p, page_lang),
    )


def _where(p: evidence.Point, lang: str) -> str:
    """Degrees with their hemisphere, in the page's words and digits."""
    say = i18n.translations(lang).gettext
    lat = f"{abs(p.latitude):.5f}° {say('N') if p.latitude >= 0 else say('S')}"
    lon = f"{abs(p.longitude):.5f}° {say('E') if p.longitude >= 0 else say('W')}"
    text = f"{lat}{say(', ')}{lon}"
    return i18n.digits(text.replace(".", "٫"), lang) if lang == "ar" else text
