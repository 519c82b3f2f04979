"""The item reading page attacked as another role would: a page number out of range, negative
or huge; a derivative of another compartment's item asked for under an item the reader may
see; a text derivative holding HTML, script and a right-to-left override; every view of the
text a custody event. The real app (its test client) on a copy of the web tests' home."""

from __future__ import annotations

from sqlalchemy import func, select

from amanah.db.models import CustodyEvent, Derivative
from amanah.intake.ingest import IntakeRequest, ingest
from amanah.processing.runner import run
from tests.webfixtures import BLUE, Site

HOSTILE_TEXT = (
    "Minutes of the meeting held on the second day and typed by the secretary.\n" * 30
    + "The note said <script>document.title='PWNED'</script> <img src=x onerror=alert(1)>\n"
    + "Cells 5 &lt; 7 &amp; 9 &gt; 2 were counted.\n"
    + "file report\u202etxt.exe\n"
)


def _reads(site: Site, item: int) -> int:
    with site.ws.db.reader() as s:
        return s.execute(
            select(func.count()).where(
                CustodyEvent.object_type == "item",
                CustodyEvent.object_id == str(item),
                CustodyEvent.event_type == "access",
            )
        ).scalar_one()


def test_page_numbers_out_of_range_are_refused_or_empty(site: Site) -> None:
    c, _ = site.browser("analyst")
    item = site.item("statement-b.txt")
    for bad in ("0", "-1", "10000001", "1e3", "99999999999999999999"):
        r = c.get(f"/items/{item}", params={"page": bad})
        assert r.status_code == 422, (bad, r.status_code)
        assert "checkpoint near the river" not in r.text
    far = c.get(f"/items/{item}", params={"page": "10000000"})  # past the end: the last page
    assert far.status_code == 200 and "checkpoint near the river" in far.text
    ok = c.get(f"/items/{item}")  # negative control
    assert ok.status_code == 200 and "checkpoint near the river" in ok.text


def test_a_derivative_of_a_hidden_item_is_not_served_under_a_visible_one(site: Site) -> None:
    secret, visible = site.item("سري.txt"), site.item("statement-b.txt")
    with site.ws.db.reader() as s:
        hidden = s.execute(
            select(Derivative.id).where(Derivative.item_id == secret, Derivative.kind == "text")
        ).scalar_one()
        own = s.execute(
            select(Derivative.id).where(Derivative.item_id == visible, Derivative.kind == "text")
        ).scalar_one()
    api = site.api("analyst")
    before = _reads(site, secret)
    for path in (
        f"/api/v1/items/{visible}/derivatives/{hidden}",
        f"/api/v1/items/{secret}/derivatives/{hidden}",
    ):
        r = api.get(path)
        assert r.status_code == 404, (path, r.status_code)
        assert "الشاهد الآخر" not in r.text
    assert _reads(site, secret) == before
    # Negative control: the item's own derivative is served, and the view is recorded.
    seen = _reads(site, visible)
    r = api.get(f"/api/v1/items/{visible}/derivatives/{own}")
    assert r.status_code == 200 and "checkpoint near the river" in r.text
    assert _reads(site, visible) == seen + 1


def test_hostile_text_is_shown_escaped_with_its_override_visible(site: Site, tmp_path) -> None:
    folder = tmp_path / "hostile"
    folder.mkdir()
    (folder / "minutes.txt").write_text(HOSTILE_TEXT, encoding="utf-8")
    report = ingest(
        site.ws,
        IntakeRequest(sources=[str(folder)], collection=BLUE, actor="local:test"),
    )
    assert report.status == "complete", report
    run(site.ws)
    with site.ws.db.reader() as s:
        from amanah.db.models import Item

        item, media = s.execute(
            select(Item.id, Item.media_type).where(Item.original_path.like("%minutes.txt"))
        ).one()
    assert media.startswith("text/html"), media  # the tags make it HTML: read, never run
    c, _ = site.browser("analyst")
    before = _reads(site, item)
    page = c.get(f"/items/{item}")
    assert page.status_code == 200
    assert "<script>document.title='PWNED'</script>" not in page.text
    assert "<img src=x onerror" not in page.text
    assert "document.title=" not in page.text  # a script is no text of the page it is in
    assert "The note said" in page.text
    assert "Cells 5 &lt; 7 &amp; 9 &gt; 2 were counted." in page.text  # shown, escaped
    assert "\u202e" not in page.text and "⟨U+202E⟩" in page.text
    assert _reads(site, item) == before + 1
