"""Every page, for every role, in Arabic: no English word outside what is data (evidence text,
names, codes, digests), which pages mark as such (`dir="auto"`/`dir="ltr"`, `<code>`,
`<bdi>`, `<pre>`, `translate="no"`). A label added without its translation fails here."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.personsfixtures import person_run
from tests.webfixtures import BLUE_JURISDICTION, Site

#: Words that are names in Arabic text too.
ALLOWED = frozenset({"Amanah", "BagIt", "SHA", "ZIP", "PDF", "CSV", "JSON", "API", "OCR", "PNG"})
_VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    ]
)
#: <title> too: a page's title is its heading or the record's own name (a reference, an id).
_DATA_TAGS = frozenset(
    {"code", "pre", "bdi", "kbd", "samp", "script", "style", "textarea", "title"}
)
_LATIN = re.compile(r"[A-Za-z][A-Za-z'’-]{2,}")


class _Words(HTMLParser):
    """Collects the Latin words of a page's text that is not marked as data."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []  # per open element: is it (or an ancestor) data?
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        data = bool(self.stack and self.stack[-1])
        data = data or tag in _DATA_TAGS or a.get("dir") in ("auto", "ltr")
        data = data or a.get("translate") == "no" or "hash" in (a.get("class") or "").split()
        data = data or a.get("lang") not in (None, "ar")  # e.g. "English" in the language menu
        if tag not in _VOID:
            self.stack.append(data)
        # Words people read in attributes: tooltips, labels, placeholders.
        if not data:
            for name in ("title", "aria-label", "placeholder", "alt"):
                self._text(a.get(name) or "")

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID and self.stack:
            self.stack.pop()

    def handle_data(self, text: str) -> None:
        if not (self.stack and self.stack[-1]):
            self._text(text)

    def _text(self, text: str) -> None:
        words = (w.strip("-'’") for w in _LATIN.findall(text))
        self.found += [w for w in words if w not in ALLOWED and len(w) > 2]


def english_words(page: str) -> list[str]:
    p = _Words()
    p.feed(page)
    return p.found


def test_the_detector_finds_english_and_spares_data() -> None:
    page = (
        '<p>مرحبا Welcome <span dir="auto">Khatib report</span> <code>amanah verify</code>'
        ' <b title="Download">⤓</b> <td class="hash">abcdef</td> PDF SHA-256'
        ' <a lang="en">English</a> <img alt="Photo"></p>'
    )
    assert english_words(page) == ["Welcome", "Download", "Photo"]


def _pages(site: Site) -> list[str]:
    rid = site.requests[f"RFA-{BLUE_JURISDICTION}"]
    item = site.item("statement-b.txt")
    pr = person_run(site, True)
    return [
        "/persons",
        f"/persons/lists/{pr.list_id}",
        f"/persons/records/{pr.records[0]}",
        f"/persons/runs/{pr.run}/clusters/{pr.records[0]}",
        f"/persons/runs/{pr.run}/review",
        "/",
        "/search?q=witness",
        "/search?q=الشاهد",
        "/map",
        f"/items/{item}",
        f"/items/{site.item('شهادة-أ.txt')}",
        f"/items/{site.item('blank.png')}",
        f"/items/{site.item('blank.png')}/redaction",
        "/collections",
        "/upload",
        "/jobs",
        "/users",
        "/audit",
        "/tokens",
        "/requests",
        f"/requests/{rid}",
        "/packages",
        f"/packages/{site.packages[BLUE_JURISDICTION]}",
        "/metrics",
        "/items/999999",  # an error page
        "/engagements",
        f"/engagements/{_engagement(site)}",
        "/consent/persons",
        f"/consent/persons/{_person(site)}",
        # the analyst's layer: what a bulk action did (plural forms), saved searches
        "/search?q=الشاهد&done=tagged&n=3",
        f"/search?q=witness&done=added&n=11&request=RFA-{BLUE_JURISDICTION}",
        f"/search?q=witness&done=not_relevant&n=1&request=RFA-{BLUE_JURISDICTION}",
    ]


def _engagement(site: Site) -> int:
    """An engagement with every part filled in (made once per site)."""
    from datetime import date

    from amanah.access import local_administrator
    from amanah.persons import engagements
    from amanah.sharing import person_consent, protected

    if getattr(site, "_engagement_id", None) is None:
        admin = local_administrator(site.ws)
        admin = admin.__class__(admin.actor, admin.compartments | {"blue"})
        with site.ws.db.session() as s:
            protected.add(s, admin, "Witness AR", ["Zaid Haddad"])
            person_consent.give(s, admin, "Witness AR", ["investigation", "sharing"])
            person_consent.withdraw(s, admin, "Witness AR", ["sharing"], told="شرحنا السحب")
            e = engagements.add(
                s,
                admin,
                kind="consultation",
                held_on=date(2026, 10, 1),
                compartment="blue",
                place="مركز",
                pcode="SY01",
                organisations=["رابطة"],
                topics=["قوائم"],
                participants={"f:18-59": 3},
                persons=["Witness AR"],
                tasks=[engagements.Task("اتصال", "legal", date(2026, 10, 9))],
            )
            s.flush()
            engagements.add_contact(
                s, admin, e.id, "Witness AR", "Contact AR-1", "أُبلغوا", date(2026, 10, 2)
            )
            site._engagement_id = e.id  # type: ignore[attr-defined]
    return int(site._engagement_id)  # type: ignore[attr-defined]


def _person(site: Site) -> str:
    _engagement(site)
    return "Witness%20AR"


def _annotate(site: Site) -> None:
    """A tag, a note and a shared saved search, so that their panels show with data in them."""
    from amanah.access import local_administrator
    from amanah.analyst import notes, saved_searches, tags

    admin = local_administrator(site.ws, "user:admin")
    with site.ws.db.session() as s:
        for item in (site.item("statement-b.txt"), site.item("شهادة-أ.txt")):
            tags.add(s, admin, item, "Checkpoint")
            notes.add(s, admin, item, "Same river as the other statement")
        saved_searches.save(s, admin, "Witnesses", "witness", shared_with="blue")


@pytest.mark.parametrize("role", ["admin", "intake", "analyst", "legal", "provider", "recipient"])
def test_no_english_on_an_arabic_page(site: Site, role: str) -> None:
    _annotate(site)
    c, _ = site.browser(role)
    c.cookies.set("amanah_lang", "ar")
    found: dict[str, list[str]] = {}
    for url in _pages(site):
        r = c.get(url)
        if r.headers.get("content-type", "").startswith("text/html"):
            words = english_words(r.text)
            if words:
                found[url] = sorted(set(words))
    assert not found, found
