"""The app's own text (dates and numbers it formats) is shown as it is, while evidence text
keeps its direction controls revealed: Babel writes RLM marks into Arabic dates, and the
pages' reveal-everything finalize once printed each as a literal ⟨U+200F⟩."""

from __future__ import annotations

from sqlalchemy import select

from amanah.db.models import Item
from amanah.intake.ingest import IntakeRequest, ingest
from tests.webfixtures import BLUE, Site


def test_arabic_dates_are_not_revealed_but_evidence_controls_are(site: Site, tmp_path) -> None:
    folder = tmp_path / "hostile"
    folder.mkdir()
    (folder / "report\u202etxt.exe").write_text("a note\n", encoding="utf-8")
    report = ingest(
        site.ws, IntakeRequest(sources=[str(folder)], collection=BLUE, actor="local:test")
    )
    assert report.status == "complete", report
    with site.ws.db.reader() as s:
        item = s.execute(select(Item.id).where(Item.original_path.like("%txt.exe"))).scalar_one()
    c, _ = site.browser("analyst")
    page = c.get(f"/items/{item}?lang=ar")
    assert page.status_code == 200
    assert 'lang="ar"' in page.text
    assert "⟨U+202E⟩" in page.text and "\u202e" not in page.text  # evidence: revealed
    assert "U+200F" not in page.text  # the app's own Arabic dates: as Babel wrote them
    assert "&#x200F;" in page.text  # … with their marks, for the browser to apply
    listing = c.get("/items?lang=ar")
    assert "U+200F" not in listing.text, listing.text[:300]
