"""Providers and their cooperation frameworks under need-to-know (an adversary's, stop 52).
A provider whose every collection is in a compartment the caller does not hold "does not
exist" for the search; the frameworks page named it with its agreement's scope and terms, a
legal officer of another compartment rewrote its disclosure rule (which decides what of its
material may leave), and intake created collections in compartments it does not hold and
under providers hidden from it. Each refused now, with a control that is let through."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from amanah.access import local_administrator
from amanah.db.models import Collection
from amanah.intake import registry
from amanah.rfa import frameworks as rfa_frameworks
from tests.webfixtures import BLUE, RED, Site

SECRET_SCOPE = "Detention files of Branch 227 handed over by the red source"
EDIT = {
    "title": "Red MoU with the red source",
    "kind": "mou",
    "disclosure": "any",
    "confidentiality": "public",
    "terms": "",
    "scope": "",
    "parties": "",
    "signed_on": "2024-02-01",
    "expires_on": "",
}


def _framework(site: Site, provider: str, collection: str, title: str) -> int:
    admin = local_administrator(site.ws)
    with site.ws.db.session() as s:
        fw = registry.add_framework(
            s, provider, title, date(2024, 2, 1), "Never outside the mechanism",
            scope=SECRET_SCOPE if provider == "Red CSO" else "", disclosure="never",
        )  # fmt: skip
        registry.link_framework(s, collection, fw.id, admin.actor)
        return fw.id


def test_staff_see_only_frameworks_of_providers_they_know(site: Site) -> None:
    _framework(site, "Red CSO", RED, "Red MoU with the red source")
    refused = site.api("analyst").get("/api/v1/search", params={"provider": "Red CSO"})
    assert refused.status_code == 400 and "no provider named" in refused.json()["error"]
    for role in ("analyst", "legal"):
        page = site.signed_in(role)[0].get("/frameworks")
        assert page.status_code == 200
        assert "Blue MoU" in page.text  # the control: its own provider's agreement
        assert "Red CSO" not in page.text and SECRET_SCOPE not in page.text, role
    admin = site.signed_in("admin")[0].get("/frameworks")
    assert "Red CSO" in admin.text and SECRET_SCOPE in admin.text


def test_a_legal_officer_changes_only_frameworks_whose_material_it_sees(site: Site) -> None:
    red = _framework(site, "Red CSO", RED, "Red MoU with the red source")
    blue = _framework(site, "Blue CSO", BLUE, "Blue second MoU")
    c, csrf = site.signed_in("legal")
    assert c.get(f"/frameworks/{red}/edit").status_code == 404
    changed = c.post(f"/frameworks/{red}/edit", data={"csrf": csrf, **EDIT})
    assert changed.status_code == 404
    with site.ws.db.reader() as s:
        assert rfa_frameworks.current(s, red)["disclosure"] == "never"
    # the control: its own compartment's provider's framework is changed
    assert c.get(f"/frameworks/{blue}/edit").status_code == 200
    done = c.post(
        f"/frameworks/{blue}/edit",
        data={"csrf": csrf, **EDIT, "title": "Blue second MoU"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    with site.ws.db.reader() as s:
        assert rfa_frameworks.current(s, blue)["disclosure"] == "any"


def test_a_framework_for_a_hidden_provider_is_not_recorded(site: Site) -> None:
    c, csrf = site.signed_in("legal")
    form = {"csrf": csrf, **EDIT, "provider": "Red CSO", "title": "Planted MoU"}
    refused = c.post("/frameworks", data=form, follow_redirects=False)
    assert refused.status_code == 404
    made = c.post("/frameworks", data={**form, "provider": "New CSO"}, follow_redirects=False)
    assert made.status_code == 303  # a provider nobody has collections of yet: anyone's
    with site.ws.db.reader() as s:
        titles = {f["title"] for f in registry.list_frameworks(s)}
    assert "Planted MoU" in titles and len([t for t in titles if t == "Planted MoU"]) == 1
    with site.ws.db.reader() as s:
        providers = {f["provider"] for f in registry.list_frameworks(s)}
    assert "New CSO" in providers


@pytest.mark.parametrize("via", ["api", "page"])
def test_intake_creates_collections_only_in_its_compartments_under_providers_it_knows(
    site: Site, via: str
) -> None:
    def create(name: str, provider: str, compartment: str) -> int:
        body = {"name": name, "provider": provider, "compartment": compartment}
        if via == "api":
            return site.api("intake").post("/api/v1/collections", json=body).status_code
        page, csrf = site.signed_in("intake")
        return page.post(
            "/collections", data={"csrf": csrf, **body}, follow_redirects=False
        ).status_code

    assert create("planted", "Blue CSO", "red") == 403
    assert create("for-red", "Red CSO", "blue") == 404
    assert create("blue-more", "Blue CSO", "blue") == (201 if via == "api" else 303)  # control
    with site.ws.db.reader() as s:
        made = set(
            s.execute(
                select(Collection.name).where(
                    Collection.name.in_(["planted", "for-red", "blue-more"])
                )
            ).scalars()
        )
    assert made == {"blue-more"}
