"""HTML pages in Arabic (RTL) and English (LTR), rendered on the server with Jinja2.

Every string goes through the gettext catalogs; evidence text is always escaped (Jinja2's
autoescape), shown with dir="auto" so each text keeps its own direction, and has its bidi
controls made visible (amanah.display.reveal, applied to every value a template prints; a
value the page must keep exact, such as a query in a search box, is marked `|exact`). The
pages use the same functions as the API and hold no access logic of their own.

Routes live one module per concept beside this one; this module makes their pages.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from amanah import display
from amanah.access import Permission
from amanah.web import i18n
from amanah.web.auth import LANG_COOKIE, identify

TEMPLATES = Path(__file__).parent / "templates"


@functools.cache
def environment(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True),
        extensions=["jinja2.ext.i18n"],
        finalize=display.reveal,
    )
    env.filters["reveal"] = display.reveal
    env.filters["exact"] = display.exact
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
    # when/num: the app's own text (i18n marks it display.own), never revealed like evidence.
    env.filters["when"] = lambda v: i18n.when(v, lang)
    env.filters["num"] = lambda v: i18n.number(v, lang)
    env.filters["size"] = lambda v: _size(v, lang)
    env.filters["digits"] = lambda v: i18n.digits(str(v), lang)
    # A command or format inside a translated sentence: left to right, never translated.
    env.filters["code"] = lambda v: Markup('<code dir="ltr">{}</code>').format(v)
    return env


def _size(n: int | None, lang: str) -> str:
    if n is None:
        return ""
    value, unit = float(n), "B"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            break
        value /= 1024
    shown = f"{value:.0f}" if unit == "B" else f"{value:.1f}"
    return i18n.digits(f"{shown} {unit}", lang)


def language(request: Request) -> str:
    return i18n.pick(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        accept=request.headers.get("accept-language", ""),
    )


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    lang = language(request)
    found = getattr(request.state, "caller", None)
    csrf = getattr(request.state, "csrf", None)
    if found is None and (who := identify(request)) is not None:  # public and error pages
        found, csrf = who
    html = (
        environment(lang)
        .get_template(template)
        .render(
            lang=lang,
            dir=i18n.direction(lang),
            languages=i18n.LANGUAGES,
            caller=found,
            can=(lambda p: found is not None and found.can(Permission(p))),
            csrf=csrf,
            here=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            quote=quote,
            **context,
        )
    )
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", status=status, status_code=status, message=message)


def signin_url(target: str) -> str:
    return "/signin?" + urlencode({"next": target})
