"""An item's timeline tells no event of a request or package its reader may not see (an
adversary's, stop 53): a request held in blue and red (hidden from blue-only staff) took a blue
item into a package; the blue analyst's item page and record named no request nor package but
still showed "Disclosed in a package", by whom and when. Both are told by one rule
(`item_history.timeline`)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from amanah.access import local_administrator
from amanah.rfa import requests, review
from amanah.sharing import package
from tests.webfixtures import Site


def test_a_hidden_requests_disclosure_is_not_on_the_items_timeline(
    site: Site, tmp_path: Path
) -> None:
    both = local_administrator(site.ws, "user:bothlegal")
    blue = site.item("statement-b.txt")
    api = site.api("analyst")

    def told() -> list[tuple[str, str]]:
        record = api.get(f"/api/v1/items/{blue}").json()["custody"]
        return [(e["type"], e["actor"]) for e in record if e["actor"] != "user:analyst"]

    before = told()
    assert "disclosure" in {t for t, _ in before}  # the site's packages, which blue may see
    with site.ws.db.session() as s:
        requests.create(
            s, "RFA-JOINT", "XR-PROS", received_on=date(2026, 3, 1), actor=both.actor,
            subject="joint", compartments=["blue", "red"],
        )  # fmt: skip
        review.decide(s, both, "RFA-JOINT", [blue], "relevant")
    built = package.build(site.ws, both, "RFA-JOINT", tmp_path / "joint")
    assert api.get(f"/api/v1/packages/{built['package']}").status_code == 404
    assert told() == before
    browser, _ = site.signed_in("analyst")
    assert "bothlegal" not in browser.get(f"/items/{blue}").text
