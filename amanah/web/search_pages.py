"""The search page: the same search as the API, with snippets, facets as removable filter
chips, browsing with no words, and exact duplicates under one hit."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from babel import Locale
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from amanah.access import Caller, Permission
from amanah.geo import names
from amanah.search import service, snippets
from amanah.search.query import LANG_NAMES, QueryError, type_prefixes
from amanah.web import analyst, i18n
from amanah.web.auth import allow, workspace
from amanah.web.pages import language, render

router = APIRouter(include_in_schema=False)

#: The filters a facet (or a chip) chooses, as URL parameters: the query language's fields.
CHIP_FIELDS = ("provider", "collection", "type", "lang", "has", "date", "received", "gov")
#: Which chip field each facet chooses.
FACET_FIELD = {
    "provider": "provider",
    "collection": "collection",
    "media_type": "type",
    "language": "lang",
    "year": "date",
    "received": "received",
    "has_ocr": "has",
}
#: Headings of the facets and names of the chips (English; the catalog translates them).
FACET_LABELS = {
    "provider": "Provider",
    "collection": "Collection",
    "media_type": "Type",
    "language": "Language",
    "year": "Document date",
    "received": "Received",
    "has_ocr": "OCR",
}
CHIP_LABELS = {
    "provider": "Provider",
    "collection": "Collection",
    "type": "Type",
    "lang": "Language",
    "has": "Has",
    "date": "Document date",
    "received": "Received",
    "gov": "Governorate",
}
Values = Annotated[list[str], Query(max_length=300)]
#: The `lang:` filter, as `?language=`: `?lang=` is the page's language on every page.
LanguageFilter = Annotated[list[str], Query(alias="language", max_length=300)]
#: Words for the values a facet or chip holds as codes (English; the catalog translates them):
#: a page never shows a raw boolean, media type family or `has:` code.
HAS_WORDS = {"ocr": "With OCR text", "text": "With text", "gps": "With a GPS position"}
OCR_WORDS = {True: "With OCR text", False: "Without OCR text"}
TYPE_WORDS = {
    "pdf": "PDF",
    "email": "Email",
    "image": "Image",
    "video": "Video",
    "audio": "Audio",
    "text": "Text",
    "word": "Word-processed document",
    "spreadsheet": "Spreadsheet",
    "archive": "Archive",
}


def _media_word(value: str) -> str | None:
    """The family a media type (or a `type:` alias) belongs to, in words."""
    if value in TYPE_WORDS:
        return TYPE_WORDS[value]
    for alias, (exact, prefixes) in ((a, type_prefixes(a)) for a in TYPE_WORDS):
        if value in exact or any(value.startswith(p) for p in prefixes):
            return TYPE_WORDS[alias]
    return None


def value_label(field: str, value: Any, lang: str) -> str:
    """A facet's or chip's value as the page says it in `lang`: words for codes and booleans
    (languages by name, media types by family), the page's digits for dates, names as given."""
    say = i18n.translations(lang).gettext
    if value == "unknown" or value is None:
        return say("unknown")
    if field == "has_ocr":
        return say(OCR_WORDS[bool(value)])
    if field == "has":
        return say(HAS_WORDS.get(str(value), str(value)))
    if field in ("language", "lang"):
        code = LANG_NAMES.get(str(value).lower(), str(value))
        return Locale.parse(lang).languages.get(code, str(value))
    if field in ("media_type", "type"):
        word = _media_word(str(value))
        return say(word) if word else str(value)
    if field in ("year", "received", "date"):
        return i18n.digits(str(value), lang)
    if field == "gov" and (place := names.find(str(value))) is not None:
        return place.name(lang)
    return str(value)


#: A filter whose URL parameter is not its field's name: `?lang=` chooses the page's language on
#: every page, so the language filter is `?language=` (else choosing Arabic documents would turn
#: the page into Arabic, and `?lang=ar` would filter out every English document).
URL_PARAM = {"lang": "language", "gov": "governorate"}


def url_params(params: list[tuple[str, str]]) -> str:
    """The query string of a page's parameters, filters under their URL names."""
    return urlencode([(URL_PARAM.get(k, k), v) for k, v in params if v != ""])


def _url(params: list[tuple[str, str]]) -> str:
    return "/search?" + url_params(params)


def _chips(
    base: list[tuple[str, str]], chosen: list[tuple[str, str]], lang: str
) -> list[dict[str, Any]]:
    """Each chosen filter, in words, with the page's address without it (its remove link)."""
    out = []
    for i, (name, value) in enumerate(chosen):
        label = value_label(name, value, lang)
        rest = chosen[:i] + chosen[i + 1 :]
        out.append({"field": name, "value": value, "remove": _url(base + rest), "label": label})
    return out


def _facet_link(
    base: list[tuple[str, str]], chosen: list[tuple[str, str]], facet: str, value: Any
) -> str | None:
    """The page with this facet value added as a filter; None where it cannot be one."""
    if value == "unknown" or (facet == "has_ocr" and not value):
        return None
    pair = (FACET_FIELD[facet], "ocr" if facet == "has_ocr" else str(value))
    if pair in chosen:
        return None
    return _url(base + chosen + [pair])


def chip_filters(
    provider: Values = [],  # noqa: B006 (FastAPI copies defaults)
    collection: Values = [],  # noqa: B006
    type: Values = [],  # noqa: B006
    languages: LanguageFilter = [],  # noqa: B006
    has: Values = [],  # noqa: B006
    date: Values = [],  # noqa: B006
    received: Values = [],  # noqa: B006
    governorate: Values = [],  # noqa: B006
) -> list[tuple[str, str]]:
    """The filters a page's URL chose (a facet or a chip), as (field, value) pairs of the query
    language, at most 20: the search page's and the map's parameters, read in one place."""
    given = dict(
        provider=provider,
        collection=collection,
        type=type,
        lang=languages,
        has=has,
        date=date,
        received=received,
        gov=governorate,
    )
    return [(name, v) for name in CHIP_FIELDS for v in given[name] if v.strip()][:20]


@router.get("/search")
def search_page(
    request: Request,
    caller: Annotated[Caller, Depends(allow(Permission.SEARCH))],
    chosen: Annotated[list[tuple[str, str]], Depends(chip_filters)],
    q: Annotated[str, Query(max_length=2000)] = "",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    sort: Annotated[str | None, Query(pattern="^(relevance|date|received|oldest)$")] = None,
    mode: Annotated[str, Query(pattern="^(text|semantic|hybrid)$")] = "text",
    fuzzy: Annotated[int, Query(ge=0, le=1)] = 1,
    browse: Annotated[int, Query(ge=0, le=1)] = 0,
    done: Annotated[str | None, Query(pattern="^(tagged|added|relevant|not_relevant)$")] = None,
    n: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    request_ref: Annotated[str, Query(alias="request", max_length=100)] = "",
) -> Response:
    """`fuzzy=0`: the query as typed even when it finds nothing (no corrected fall-back).
    `browse=1` (or `q=*`, or a filter alone): every item the caller may see. Filters chosen
    from the facets are URL parameters shown as chips, each with a link that removes it."""
    browsing = bool(browse or chosen or q.strip() == "*")
    if browsing and not q.strip():
        mode = "text"
    base = [("q", q), ("mode", mode), ("sort", sort or "")]
    if browse and not q.strip():
        base.append(("browse", "1"))
    results, problem = None, None
    if q.strip() or browsing:
        try:
            results = service.search(
                workspace(request),
                caller,
                q,
                limit=20,
                cursor=cursor if mode == "text" else None,
                sort=sort if mode == "text" else None,
                facets=True,
                mode=mode,
                fallback=bool(fuzzy),
                filters=chosen,
                group=True,
            )
        except QueryError as exc:
            problem = {"message": str(exc), "pointer": exc.pointer()}
        except ValueError as exc:
            problem = {"message": str(exc), "pointer": ""}
    hits = []
    lang = language(request)
    facets: dict[str, list[dict[str, Any]]] = {}
    if results is not None:
        hits = [(h, snippets.segments(h.snippet, h.highlights)) for h in results.hits]
        for name, values in results.facets.items():
            facets[name] = [
                dict(
                    v,
                    link=_facet_link(base, chosen, name, v["value"]),
                    label=value_label(name, v["value"], lang),
                )
                for v in values
            ]
    return render(
        request,
        "search.html",
        q=q,
        mode=mode,
        sort=sort or ("relevance" if q.strip() and q.strip() != "*" else "date"),
        results=results,
        hits=hits,
        facets=facets,
        chips=_chips(base, chosen, lang),
        label=lambda field, value: value_label(field, value, lang),
        chosen=chosen,
        url_param=URL_PARAM,
        facet_labels=FACET_LABELS,
        chip_labels=CHIP_LABELS,
        browse=bool(browse),
        next_page=_url(base + chosen + [("cursor", results.next_cursor)])
        if results is not None and results.next_cursor
        else None,
        problem=problem,
        map_link=map_link(q, chosen),
        **analyst.search_context(request, caller, done, n, request_ref),
    )


def map_link(q: str, chosen: list[tuple[str, str]]) -> str:
    """The map of the same search (`web.map`): the same words and filters."""
    return "/map?" + url_params([("q", q), *chosen])
