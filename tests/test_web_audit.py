"""Every view, download and search through the web is audited with the user and address."""

from __future__ import annotations

import json

from tests.conftest import amanah_here
from tests.webfixtures import Site
from tests.webfixtures import custody_events as _events


def test_views_downloads_and_searches_are_audited_with_user_and_address(site: Site) -> None:
    item = site.item("statement-b.txt")
    c, _ = site.browser("legal")
    before = len(_events(site, actor="user:legal"))
    assert c.get(f"/items/{item}?q=witness").status_code == 200
    assert c.get(f"/api/v1/items/{item}/content").status_code == 200
    assert c.get("/search?q=checkpoint").status_code == 200
    new = _events(site, actor="user:legal")[before:]
    actions = [(e.event_type, json.loads(e.details).get("action")) for e in new]
    assert ("access", "view item page") in actions
    assert ("download", "download original") in actions
    assert ("access", "search") in actions
    for e in new:
        details = json.loads(e.details)
        assert details["role"] == "legal" and details["address"] == "testclient"
    audit = site.api("admin").get("/api/v1/audit", params={"actor": "user:legal"}).json()
    assert {a["type"] for a in audit} >= {"access", "download"}
    page = site.browser("admin")[0].get("/audit?actor=user:legal")
    assert "view item page" in page.text and "testclient" in page.text
    searches = amanah_here(site.ws.home, "searches", "--json", check=True)
    logged = json.loads(searches.stdout)
    assert any(s["actor"] == "user:legal" and s["address"] == "testclient" for s in logged)
