"""The search page in Debian's chromium, in English and Arabic: browse everything from the
dashboard, choose facets as removable filter chips, and see exact duplicates as one hit with
the copies the analyst may see (a copy in another compartment is neither shown nor counted).
Screenshots in test-artifacts/browser/ (or $AMANAH_TEST_ARTIFACTS)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from amanah.intake.ingest import IntakeRequest, ingest
from amanah.processing.runner import run
from tests.test_web_browser import browser, live, shot, sign_in  # noqa: F401 (fixtures)
from tests.test_web_browser import pytestmark as browser_mark
from tests.webfixtures import BLUE, FILES, Site

pytestmark = browser_mark
STATEMENT = "statements/statement-b.txt"


@pytest.fixture(scope="module")
def copies(live: tuple[Site, str], tmp_path_factory: pytest.TempPathFactory) -> tuple[Site, str]:  # noqa: F811
    """The blue statement handed over twice more: again to blue, and to red."""
    site, base = live
    tmp = tmp_path_factory.mktemp("copies")
    for coll, compartment, provider in (
        ("blue-again", "blue", "Blue CSO"),
        ("red-again", "red", "Red CSO"),
    ):
        folder: Path = tmp / coll
        folder.mkdir()
        (folder / f"{coll}-statement.txt").write_bytes(FILES[BLUE][STATEMENT])
        report = ingest(
            site.ws,
            IntakeRequest(
                sources=[str(folder)],
                collection=coll,
                provider=provider,
                compartment=compartment,
                actor="local:test",
            ),
        )
        assert report.status == "complete"
    assert run(site.ws).failed == 0
    return site, base


def _chips(page: object) -> list[str]:
    return page.locator("ul.chips li.chip").evaluate_all(  # type: ignore[attr-defined]
        "els => els.map(e => e.dataset.field)"
    )


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_browse_choose_and_remove_filter_chips_and_see_duplicates_once(
    copies: tuple[Site, str],
    browser: object,  # noqa: F811
    lang: str,
) -> None:
    _site, base = copies
    page = browser.new_page(locale=lang)  # type: ignore[attr-defined]
    sign_in(page, base, "analyst")
    page.goto(f"{base}/lang/{lang}?next=/")
    words = {
        "en": ("Browse everything", "Remove filter", "2 copies", "Document date", "Received"),
        "ar": ("تصفّح الكل", "إزالة عامل التصفية", "نسختان", "تاريخ الوثيقة", "الاستلام"),
    }[lang]
    # the dashboard links to browsing everything, newest received first
    page.click(f"a.button:has-text('{words[0]}')")
    page.wait_for_selector("article.hit")
    assert parse_qs(urlparse(page.url).query) == {"browse": ["1"], "sort": ["received"]}
    assert page.input_value("input[name=q]") == ""
    shown = page.locator("article.hit h3 a").all_inner_texts()
    assert "secret/سري.txt" not in shown and "red-again-statement.txt" not in " ".join(shown)
    ids = [
        int(h.split("/")[-1])
        for h in page.locator("article.hit h3 a").evaluate_all(
            "els => els.map(e => e.getAttribute('href').split('?')[0])"
        )
    ]
    assert ids == sorted(ids, reverse=True)  # newest received first
    headings = page.locator("aside.facets h3").all_inner_texts()
    assert words[3] in headings and any(words[4] in h for h in headings), headings
    shot(page, f"search-01-browse-{lang}")
    # a facet becomes a chip, not words in the query
    page.click("ul[data-facet=provider] a")
    page.wait_for_selector("li.chip[data-field=provider]")
    assert page.input_value("input[name=q]") == ""
    page.click("ul[data-facet=received] a")
    page.wait_for_selector("li.chip[data-field=received]")
    assert _chips(page) == ["provider", "received"]
    assert page.input_value("input[name=q]") == ""
    shot(page, f"search-02-chips-{lang}")
    remove = page.locator("li.chip[data-field=provider] a.remove")
    assert words[1] in (remove.get_attribute("aria-label") or "")
    remove.click()
    page.wait_for_selector("li.chip[data-field=received]")
    assert _chips(page) == ["received"]
    # words typed keep the chosen chips
    page.fill("input[name=q]", "checkpoint")
    page.click("form.searchbar button[type=submit]")
    page.wait_for_selector("details.copies")
    assert _chips(page) == ["received"]
    hits = page.locator("article.hit")
    assert hits.count() == 1  # three copies in all, two the analyst may see: one hit
    page.click("details.copies summary")
    text = hits.first.inner_text()
    assert words[2] in text and "blue-again" in text
    assert "red-again" not in page.content()
    shot(page, f"search-03-duplicates-{lang}")
    page.locator("li.chip[data-field=received] a.remove").click()
    page.wait_for_selector("article.hit")
    assert _chips(page) == [] and page.input_value("input[name=q]") == "checkpoint"
    page.close()
