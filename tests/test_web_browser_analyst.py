"""The analyst's layer in Debian's chromium, in Arabic: a legal officer selects every hit,
tags them, and adds them to a request's review; items outside their need-to-know are never
touched. Screenshots in test-artifacts/browser/ (or $AMANAH_TEST_ARTIFACTS)."""

from __future__ import annotations

from sqlalchemy import select

from amanah.analyst.tags import tag_key
from amanah.db.models import ItemTag, Review
from tests.test_web_browser import browser, live, shot, sign_in  # noqa: F401 (fixtures)
from tests.test_web_browser import pytestmark as browser_mark
from tests.webfixtures import BLUE_JURISDICTION, Site

pytestmark = browser_mark


def test_tag_and_add_hits_to_a_request_in_arabic(
    live: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    site, base = live
    rid = site.requests[f"RFA-{BLUE_JURISDICTION}"]
    page = browser.new_page(locale="ar")  # type: ignore[attr-defined]
    sign_in(page, base, "legal")
    page.goto(f"{base}/lang/ar?next=/search%3Fq%3D%D8%A7%D9%84%D8%B4%D8%A7%D9%87%D8%AF")
    page.wait_for_selector("html[dir=rtl] article.hit")
    hits = page.locator('article.hit input[name="item"]')
    shown = sorted(int(v) for v in hits.evaluate_all("els => els.map(e => e.value)"))
    assert shown and site.item("سري.txt") not in shown  # the red witness is not theirs
    page.check('input[data-select-all="item"]')  # app.js ticks every hit, outside the form too
    assert all(hits.nth(i).is_checked() for i in range(hits.count()))
    page.fill('#bulk input[name="tag"]', "شهادة مهمة")
    shot(page, "analyst-01-selected-ar")
    page.click('#bulk button[formaction="/search/bulk/tag"]')
    page.wait_for_selector(".notice")
    said = page.inner_text(".notice")
    expected = {1: "وُسِم عنصر واحد", 2: "وُسِم عنصران"}.get(len(shown))
    assert said == expected if expected else "عناصر" in said, said
    shot(page, "analyst-02-tagged-ar")
    with site.ws.db.reader() as s:
        tagged = set(
            s.execute(select(ItemTag.item_id).where(ItemTag.key == tag_key("شهادة مهمة"))).scalars()
        )
    assert tagged == set(shown)
    page.check('input[data-select-all="item"]')
    page.select_option('#bulk select[name="request_id"]', str(rid))
    page.click('#bulk button[formaction="/search/bulk/request"]')
    page.wait_for_selector(".notice")
    assert f"RFA-{BLUE_JURISDICTION}" in page.inner_text(".notice")
    assert "الطلب" in page.inner_text(".notice")
    shot(page, "analyst-03-added-ar")
    with site.ws.db.reader() as s:
        candidates = set(
            s.execute(select(Review.item_id).where(Review.request_id == rid)).scalars()
        )
    assert set(shown) <= candidates and site.item("سري.txt") not in candidates
    # the item page shows the tag in its Arabic panel
    page.goto(f"{base}/items/{shown[0]}")
    assert "شهادة مهمة" in page.inner_text("#annotations")
    shot(page, "analyst-04-item-ar")
    page.close()
