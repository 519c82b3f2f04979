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


def test_a_package_build_names_no_candidate_the_builder_may_not_see(site: Site) -> None:
    """After a restriction change moved the candidates out of blue, building the request's
    package answered "item 1: outside your need-to-know (compartment)" for each: their ids
    and count. The refusal now names neither."""
    from amanah.intake import registry

    rid = site.requests["RFA-XB-PROS"]
    hidden = sorted((site.item("statement-b.txt"), site.item("blank.png")))
    with site.ws.db.session() as s:
        registry.set_compartment(s, "blue-collection", "restricted", "local:test")
    legal = site.api("legal")
    assert legal.get(f"/api/v1/requests/{rid}").json()["candidates"] == 0
    refused = legal.post(f"/api/v1/requests/{rid}/packages")
    assert refused.status_code == 400
    said = refused.json()["error"]
    assert "outside your need-to-know" in said
    assert not any(f"item {i}" in said for i in hidden) and "2" not in said.replace("RFA", "")
