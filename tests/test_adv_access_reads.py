"""Adversary tests of need-to-know on the reads around a request and an item's record: a
candidate withheld by a withdrawal of consent for investigation, and views of an item that
read no text. Each test failed on the code before its fix and keeps a negative control."""

from __future__ import annotations

import json

from amanah.access import Caller, Role, local_administrator
from amanah.sharing import consent, person_consent
from tests.webfixtures import Site, custody_events


def _withhold(site: Site, item_id: int) -> Caller:
    legal = local_administrator(site.ws, "legal:test")
    with site.ws.db.session() as s:
        person_consent.link_item(s, legal, "Witness Z", item_id)
        person_consent.withdraw(s, legal, "Witness Z", ["investigation"])
    return legal


def test_a_withheld_candidate_is_neither_listed_nor_counted_in_its_request(site: Site) -> None:
    """A witness withdrew consent for investigation of their statement, a candidate of a
    request: its item page shows nothing of it, yet the request's review (page and API) still
    listed its file name, type, collection and provider to every reader of the request, counted
    it, and a consent letter still named it."""
    withheld, other = site.item("statement-b.txt"), site.item("blank.png")
    rid = site.requests["RFA-XB-PROS"]
    legal = _withhold(site, withheld)
    blue_legal = Caller("user:legal", frozenset({"blue"}), Role.LEGAL)
    for role in ("analyst", "legal"):
        found = site.api(role).get(f"/api/v1/requests/{rid}").json()
        assert [r["item_id"] for r in found["review_rows"]] == [other], role
        assert found["candidates"] == 1 and found["review"] == {"relevant": 1}, role
        page = site.signed_in(role)[0].get(f"/requests/{rid}")
        assert page.status_code == 200
        assert "statement-b" not in page.text and "blank.png" in page.text, role
    with site.ws.db.reader() as s:
        listed = consent.relevant_items_of(s, blue_legal, "RFA-XB-PROS", "Blue CSO")
    assert [i.id for i in listed] == [other]
    # Negative control: consent given again brings the candidate back everywhere.
    with site.ws.db.session() as s:
        person_consent.give(s, legal, "Witness Z", ["investigation", "sharing"])
    found = site.api("analyst").get(f"/api/v1/requests/{rid}").json()
    assert sorted(r["item_id"] for r in found["review_rows"]) == sorted([other, withheld])
    assert found["candidates"] == 2 and found["review"] == {"relevant": 2}
    assert "statement-b" in site.signed_in("analyst")[0].get(f"/requests/{rid}").text
    with site.ws.db.reader() as s:
        listed = consent.relevant_items_of(s, blue_legal, "RFA-XB-PROS", "Blue CSO")
    assert sorted(i.id for i in listed) == sorted([other, withheld])


def _reads(site: Site, item_id: int, actor: str) -> list[str]:
    return [
        json.loads(e.details).get("action")
        for e in custody_events(site, object_type="item", object_id=str(item_id), actor=actor)
        if e.event_type in ("access", "download")
    ]


def test_every_view_of_an_items_record_is_recorded_even_without_text(site: Site) -> None:
    """The item page of an image (no text: its metadata, GPS and EXIF, name and thumbnail
    shown) and the API's record of any item (metadata: EXIF, GPS, an email's headers, a
    document's author) were read with no custody event, while the map logs a view because an
    item's coordinates are evidence."""
    image, text = site.item("blank.png"), site.item("statement-b.txt")
    c, _ = site.signed_in("analyst")
    assert c.get(f"/items/{image}").status_code == 200
    assert _reads(site, image, "user:analyst") == ["view item page"]
    assert site.api("analyst").get(f"/api/v1/items/{image}").status_code == 200
    assert _reads(site, image, "user:analyst") == ["view item page", "read item record"]
    # Negative control: a page that reads the text is still one event, not two.
    assert c.get(f"/items/{text}").status_code == 200
    assert _reads(site, text, "user:analyst") == ["view item page"]
    # Nor is anything recorded for an item the caller may not see.
    red = site.item("سري.txt")
    assert site.api("analyst").get(f"/api/v1/items/{red}").status_code == 404
    assert _reads(site, red, "user:analyst") == []


def test_a_view_is_recorded_as_such_only_for_what_the_page_plays(site: Site) -> None:
    """`?view=true` is how the item page's image, audio and video players ask for the
    original (a view, not a download); any client could add it to any item's content URL and
    take a PDF, an archive or a text as an attachment recorded as 'view original', hidden
    from who lists the downloads (rule 5)."""
    text, image = site.item("statement-b.txt"), site.item("blank.png")
    api = site.api("analyst")
    got = api.get(f"/api/v1/items/{text}/content", params={"view": "true"})
    assert got.status_code == 200 and got.headers["content-disposition"].startswith("attachment")
    assert _reads(site, text, "user:analyst") == ["download original"]
    events = custody_events(site, object_id=str(text), actor="user:analyst")
    assert [e.event_type for e in events] == ["download"]
    # Negative control: the picture the page shows is a view.
    assert api.get(f"/api/v1/items/{image}/content", params={"view": "true"}).status_code == 200
    assert _reads(site, image, "user:analyst") == ["view original"]
