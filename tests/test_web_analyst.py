"""The analyst's own layer on the web, as each role meets it: the item page's tags and notes,
saved searches on the search page and the dashboard, and bulk actions on a hit list that
touch and count only what the caller may see. CSRF is required of every form."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from sqlalchemy import select

from amanah.db.models import ItemTag, Review
from tests.webfixtures import BLUE_JURISDICTION, Site


def _rfa(site: Site) -> int:
    return site.requests[f"RFA-{BLUE_JURISDICTION}"]


def _tagged(site: Site, key: str) -> set[int]:
    with site.ws.db.reader() as s:
        return set(s.execute(select(ItemTag.item_id).where(ItemTag.key == key)).scalars())


def test_item_page_tags_and_notes_by_role(site: Site) -> None:
    item = site.item("statement-b.txt")
    c, csrf = site.browser("analyst")
    r = c.post(
        f"/items/{item}/tags", data={"tag": "Checkpoint", "csrf": csrf}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == f"/items/{item}#annotations"
    c.post(f"/items/{item}/notes", data={"text": "Same river as item 3", "csrf": csrf})
    page = c.get(f"/items/{item}").text
    assert 'id="annotations"' in page and "Checkpoint" in page and "Same river as item 3" in page
    assert "user:analyst" in page and f'action="/items/{item}/tags"' in page
    # intake reads the panel but gets no form to change it
    intake, _ = site.browser("intake")
    seen = intake.get(f"/items/{item}").text
    assert "Same river as item 3" in seen and f'action="/items/{item}/tags"' not in seen
    # the provider's own item: no panel, no words of the analyst
    provider, pcsrf = site.browser("provider")
    theirs = provider.get(f"/items/{item}").text
    assert provider.get(f"/items/{item}").status_code == 200
    assert 'id="annotations"' not in theirs and "Same river" not in theirs
    assert "Checkpoint" not in theirs
    refused = provider.post(f"/items/{item}/tags", data={"tag": "x", "csrf": pcsrf})
    assert refused.status_code == 403 and "may not annotations.manage" in refused.text
    # an item in a compartment the analyst lacks does not exist for them
    red = site.item("سري.txt")
    hidden = c.post(f"/items/{red}/tags", data={"tag": "x", "csrf": csrf}, follow_redirects=False)
    assert hidden.status_code == 404 and f"no item with id {red}" in hidden.text
    assert _tagged(site, "x") == set()
    api = site.api("analyst").get(f"/api/v1/items/{red}/annotations")
    assert api.status_code == 404


def test_every_form_needs_the_csrf_token(site: Site) -> None:
    item = site.item("statement-b.txt")
    c, csrf = site.browser("legal")
    forms = [
        (f"/items/{item}/tags", {"tag": "nocsrf"}),
        (f"/items/{item}/tags/remove", {"tag": "nocsrf"}),
        (f"/items/{item}/notes", {"text": "nocsrf"}),
        ("/searches", {"name": "nocsrf", "q": "river"}),
        ("/search/bulk/tag", {"tag": "nocsrf", "item": [str(item)]}),
        ("/search/bulk/request", {"request_id": str(_rfa(site)), "item": [str(item)]}),
    ]
    for url, data in forms:
        r = c.post(url, data=data, follow_redirects=False)
        assert r.status_code == 403, url
        assert "did not come from this site" in r.text, url
        wrong = c.post(url, data={**data, "csrf": "x" * len(csrf)}, follow_redirects=False)
        assert wrong.status_code == 403, url
    assert _tagged(site, "nocsrf") == set()
    # negative control: the same form with the token is accepted
    ok = c.post(
        "/search/bulk/tag",
        data={"tag": "nocsrf", "item": [str(item)], "csrf": csrf},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and _tagged(site, "nocsrf") == {item}


def test_bulk_tag_skips_and_does_not_count_invisible_items(site: Site) -> None:
    blue = [site.item("statement-b.txt"), site.item("شهادة-أ.txt"), site.item("blank.png")]
    red = site.item("سري.txt")
    c, csrf = site.browser("analyst")
    r = c.post(
        "/search/bulk/tag",
        data={"tag": "Batch", "item": [str(i) for i in [*blue, red]], "q": "x", "csrf": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    shown = parse_qs(urlparse(r.headers["location"]).query)
    assert shown["done"] == ["tagged"] and shown["n"] == ["3"]  # not 4: red is not theirs
    assert _tagged(site, "batch") == set(blue)
    page = c.get(r.headers["location"]).text
    assert "3 items tagged" in page
    c.cookies.set("amanah_lang", "ar")
    assert "وُسِمت ٣ عناصر" in c.get(r.headers["location"]).text
    one = c.get("/search?q=x&done=tagged&n=1").text
    assert "وُسِم عنصر واحد" in one
    c.cookies.set("amanah_lang", "en")
    assert "1 item tagged" in c.get("/search?q=x&done=tagged&n=1").text
    # the API says the same
    api = site.api("analyst").post("/api/v1/bulk/tag", json={"items": [red, blue[0]], "tag": "b2"})
    assert api.status_code == 200 and api.json() == {"items": 1, "tagged": 1}
    assert _tagged(site, "b2") == {blue[0]}


def test_bulk_add_to_a_request_and_mark_reviewed(site: Site) -> None:
    rid = _rfa(site)
    a, b = site.item("شهادة-أ.txt"), site.item("web/page.html")
    red = site.item("سري.txt")
    c, csrf = site.browser("legal")
    page = c.get("/search?q=الشاهد").text
    assert 'form="bulk"' in page and 'data-select-all="item"' in page
    assert f'<option value="{rid}" dir="ltr">RFA-{BLUE_JURISDICTION}</option>' in page
    r = c.post(
        "/search/bulk/request",
        data={"request_id": str(rid), "item": [str(a), str(b), str(red)], "csrf": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    said = re.sub(r"<[^>]+>", "", c.get(r.headers["location"]).text)
    assert f"2 items added to request RFA-{BLUE_JURISDICTION}" in said
    with site.ws.db.reader() as s:
        decisions = dict(
            s.execute(select(Review.item_id, Review.decision).where(Review.request_id == rid)).all()
        )
    assert decisions.get(a) == "pending" and decisions.get(b) == "pending" and red not in decisions
    r = c.post(
        "/search/bulk/request",
        data={
            "request_id": str(rid),
            "item": [str(a), str(red)],
            "decision": "relevant",
            "csrf": csrf,
        },
        follow_redirects=False,
    )
    assert "n=1" in r.headers["location"]
    with site.ws.db.reader() as s:
        assert s.get(Review, (rid, a)).decision == "relevant"  # type: ignore[union-attr]
    # an analyst may tag but not add to a request
    analyst, acsrf = site.browser("analyst")
    no = analyst.post(
        "/search/bulk/request",
        data={"request_id": str(rid), "item": [str(a)], "csrf": acsrf},
        follow_redirects=False,
    )
    assert no.status_code == 403 and "may not requests.manage" in no.text
    assert 'formaction="/search/bulk/request"' not in analyst.get("/search?q=الشاهد").text


def test_saved_searches_on_the_search_page_and_dashboard(site: Site) -> None:
    admin_api = site.api("admin")
    made = admin_api.post(
        "/api/v1/saved-searches",
        json={"name": "Witnesses", "query": "الشاهد", "shared_with": "blue"},
    )
    assert made.status_code == 201, made.text
    sid = made.json()["id"]
    c, csrf = site.browser("analyst")
    assert "Witnesses" in c.get("/search").text and "Witnesses" in c.get("/").text
    rerun = c.get(f"/searches/{sid}", follow_redirects=False)
    assert (
        rerun.status_code == 303
        and "q=%D8%A7%D9%84%D8%B4%D8%A7%D9%87%D8%AF" in rerun.headers["location"]
    )
    shown = c.get(rerun.headers["location"]).text
    # the analyst's own need-to-know: the red witness is the admin's only
    assert "سري.txt" not in shown and "شهادة-أ.txt" in shown
    assert "سري.txt" in site.api("admin").get("/api/v1/search", params={"q": "الشاهد"}).text
    # the analyst may not delete the admin's, may save and delete their own
    assert c.post(f"/searches/{sid}/delete", data={"csrf": csrf}).status_code == 403
    saved = c.post(
        "/searches", data={"name": "River", "q": "river", "csrf": csrf}, follow_redirects=False
    )
    assert saved.status_code == 303
    mine = [x for x in site.api("analyst").get("/api/v1/saved-searches").json() if x["mine"]]
    assert [x["name"] for x in mine] == ["River"]
    again = c.post("/searches", data={"name": " River ", "q": "x", "csrf": csrf})
    assert again.status_code == 400 and "already have a saved search named" in again.text
    gone = c.post(f"/searches/{mine[0]['id']}/delete", data={"csrf": csrf}, follow_redirects=False)
    assert gone.status_code == 303
    # another user's private saved search "does not exist"
    private = admin_api.post("/api/v1/saved-searches", json={"name": "Mine", "query": "x"}).json()
    assert c.get(f"/searches/{private['id']}", follow_redirects=False).status_code == 404


def test_tag_filter_through_the_api(site: Site) -> None:
    blue, red = site.item("statement-b.txt"), site.item("سري.txt")
    for item in (blue, red):
        assert (
            site.api("admin").post(f"/api/v1/items/{item}/tags", json={"tag": "Both"}).status_code
            == 201
        )
    found = site.api("analyst").get("/api/v1/search", params={"q": "tag:both"}).json()
    assert [h["item_id"] for h in found["hits"]] == [blue]
    assert {t["tag"]: t["items"] for t in site.api("analyst").get("/api/v1/tags").json()} == {
        "Both": 1
    }
    # the tag shows on the Arabic item page under Arabic labels, as written
    c, _ = site.browser("analyst")
    c.cookies.set("amanah_lang", "ar")
    page = c.get(f"/items/{blue}").text
    assert "الوسوم والملاحظات" in page and re.search(r">Both<", page)
