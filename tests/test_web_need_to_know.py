"""The web application's need-to-know outside the access matrix: a provider's or an
analyst's search, counts, facets and downloads; duplicates; a recipient's packages; the same
conditions on PostgreSQL and S3."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from amanah.db.models import CustodyEvent, Item
from tests.conftest import amanah_here
from tests.webfixtures import BLUE, RED, Site, build_site
from tests.webfixtures import BLUE_JURISDICTION as BLUE_J

# --- need-to-know in search, counts, facets, snippets, downloads --------------------------------


def test_a_provider_sees_searches_counts_and_downloads_only_its_own(site: Site) -> None:
    provider, admin = site.api("provider"), site.api("admin")
    everything = admin.get("/api/v1/search", params={"q": "الشاهد", "facets": "true"}).json()
    own = provider.get("/api/v1/search", params={"q": "الشاهد", "facets": "true"}).json()
    assert everything["total"] == 2 and own["total"] == 1
    assert [h["collection"] for h in own["hits"]] == [BLUE]
    assert [v["value"] for v in own["facets"]["provider"]] == ["Blue CSO"]
    assert [v["value"] for v in own["facets"]["collection"]] == [BLUE]
    assert "سري" not in json.dumps(own, ensure_ascii=False)
    # Naming the other provider or collection is answered as if it did not exist.
    r = provider.get("/api/v1/search", params={"q": 'الشاهد provider:"Red CSO"'})
    assert r.status_code == 400 and "no provider named" in r.json()["error"]
    assert "(known: Blue CSO)" in r.json()["error"]
    secret = site.item("سري.txt")
    for url in (f"/api/v1/items/{secret}", f"/api/v1/items/{secret}/content"):
        r = provider.get(url)
        assert r.status_code == 404 and r.json() == {"error": f"no item with id {secret}"}
    listed = provider.get("/api/v1/collections").json()
    assert BLUE in [c["name"] for c in listed] and RED not in [c["name"] for c in listed]
    assert {c["provider"] for c in listed} == {"Blue CSO"}
    # The dashboard count is the provider's own.
    c, _ = site.browser("provider")
    from amanah.db.models import Collection, Provider

    with site.ws.db.reader() as s:
        own_count = s.execute(
            select(func.count())
            .select_from(Item)
            .join(Collection, Collection.id == Item.collection_id)
            .join(Provider, Provider.id == Collection.provider_id)
            .where(Provider.name == "Blue CSO")
        ).scalar_one()
    assert own_count >= 4
    assert re.search(rf'class="big">{own_count}<', c.get("/").text)


def test_an_analyst_without_the_grant_sees_nothing_of_the_compartment(site: Site) -> None:
    analyst = site.api("analyst")
    r = analyst.get("/api/v1/search", params={"q": "الشاهد"}).json()
    assert {h["collection"] for h in r["hits"]} == {BLUE}
    amanah_here(site.ws.home, "user", "grant", "analyst", "red", check=True)
    r = analyst.get("/api/v1/search", params={"q": "الشاهد"}).json()
    assert {h["collection"] for h in r["hits"]} == {BLUE, RED}
    amanah_here(site.ws.home, "user", "grant", "analyst", "red", "--revoke", check=True)
    assert analyst.get(f"/api/v1/items/{site.item('سري.txt')}").status_code == 404


def test_an_items_duplicates_outside_need_to_know_are_not_shown(site: Site, tmp_path: Path) -> None:
    # The same bytes in the red compartment are an exact duplicate the blue side must not learn of.
    data = "أفاد الشّاهِدُ بأنه احتُجز في فرع فلسطين عام ٢٠١٢.\n".encode()
    admin = site.api("admin")
    r = admin.post(
        f"/api/v1/collections/{RED}/items", params={"filename": "copy.txt"}, content=data
    )
    assert r.status_code == 201
    from amanah.processing.runner import run

    run(site.ws)
    blue_item = site.item("شهادة-أ.txt")
    seen_by_admin = admin.get(f"/api/v1/items/{blue_item}").json()["duplicates"]
    assert r.json()["item_id"] in [d["id"] for d in seen_by_admin]
    assert site.api("analyst").get(f"/api/v1/items/{blue_item}").json()["duplicates"] == []


# --- the scale-out engines and the real command -------------------------------------------------


def test_need_to_know_holds_on_postgresql_and_s3(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    from tests.conftest import make_home

    site = build_site(tmp_path, make_home(request, tmp_path, "postgresql-s3"))
    try:
        provider, analyst = site.api("provider"), site.api("analyst")
        assert provider.get("/api/v1/search", params={"q": "الشاهد"}).json()["total"] == 1
        assert analyst.get("/api/v1/search", params={"q": "الشاهد"}).json()["total"] == 1
        assert site.api("admin").get("/api/v1/search", params={"q": "الشاهد"}).json()["total"] == 2
        secret = site.item("سري.txt")
        assert analyst.get(f"/api/v1/items/{secret}/content").status_code == 404
        # Requests and packages: the same conditions, in PostgreSQL's SQL.
        from datetime import date

        from amanah.rfa import requests

        with site.ws.db.session() as s:
            red = requests.create(
                s, "RFA-RED", BLUE_J, received_on=date(2026, 1, 1), actor="t", compartments=["red"]
            ).id
        seen = {r["reference"] for r in analyst.get("/api/v1/requests").json()}
        assert f"RFA-{BLUE_J}" in seen and "RFA-RED" not in seen
        assert analyst.get(f"/api/v1/requests/{red}").status_code == 404
        assert site.api("admin").get(f"/api/v1/requests/{red}").status_code == 200
        assert set(site.packages.values()) == {
            p["id"] for p in analyst.get("/api/v1/packages").json()
        }
        data = b"uploaded to S3 through the API\n" * 1000
        r = site.api("intake").post(
            f"/api/v1/collections/{BLUE}/items", params={"filename": "s3.txt"}, content=data
        )
        assert r.json()["sha256"] == hashlib.sha256(data).hexdigest()
        assert (
            site.api("intake").get(f"/api/v1/items/{r.json()['item_id']}/content").content == data
        )
    finally:
        site.ws.close()


# --- requests and packages ------------------------------------------------------------------


def test_a_recipient_sees_only_its_own_jurisdictions_packages(site: Site, tmp_path: Path) -> None:
    import io
    import subprocess
    import sys
    import zipfile

    from tests.webfixtures import RED_JURISDICTION

    recipient, legal = site.api("recipient"), site.api("legal")
    own, other = site.packages[BLUE_J], site.packages[RED_JURISDICTION]
    seen = recipient.get("/api/v1/packages").json()
    assert own in {p["id"] for p in seen} and {p["recipient"] for p in seen} == {BLUE_J}
    assert {own, other} <= {p["id"] for p in legal.get("/api/v1/packages").json()}
    for url in (f"/api/v1/packages/{other}", f"/api/v1/packages/{other}/download"):
        r = recipient.get(url)
        assert r.status_code == 404 and r.json() == {"error": f"no package {other}"}
    page = site.browser("recipient")[0].get("/packages").text
    assert own in page and other not in page
    # Nothing of the repository itself: no search, no items, no requests.
    for url in (
        "/api/v1/search?q=witness",
        f"/api/v1/items/{site.item('statement-b.txt')}",
        "/api/v1/requests",
    ):
        assert recipient.get(url).status_code == 403
    # The download is the whole bag, which verifies on its own, and it is recorded.
    r = recipient.get(f"/api/v1/packages/{own}/download")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    zipfile.ZipFile(io.BytesIO(r.content)).extractall(tmp_path)
    bag = tmp_path / own
    checked = subprocess.run(
        [
            sys.executable,
            str(bag / "amanah" / "verify_package.py"),
            str(bag),
            "--key-id",
            site.ws.key.key_id,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    with site.ws.db.reader() as s:
        events = (
            s.execute(
                select(CustodyEvent).where(
                    CustodyEvent.object_type == "package", CustodyEvent.object_id == own
                )
            )
            .scalars()
            .all()
        )
    assert any(json.loads(e.details).get("role") == "recipient" for e in events)


def test_a_refused_package_lists_each_item_and_reason_on_the_page(site: Site) -> None:
    from datetime import date

    from amanah.access import local_administrator
    from amanah.rfa import requests, review

    admin = local_administrator(site.ws)
    with site.ws.db.session() as s:
        rid = requests.create(
            s,
            "RFA-RED-ITEM",
            BLUE_J,
            received_on=date(2026, 5, 1),
            actor="local:test",
            compartments=["red"],
        ).id
        review.decide(s, admin, "RFA-RED-ITEM", [site.item("سري.txt")], "relevant")
    api = site.api("admin").post(f"/api/v1/requests/{rid}/packages")
    assert api.status_code == 409
    assert api.json()["refusals"] == [
        {
            "item_id": site.item("سري.txt"),
            "reason": "blocked: collection 'red-collection' has no cooperation framework"
            " recorded: link one (`amanah collection set NAME --framework ID`)",
        }
    ]
    c, csrf = site.browser("admin")
    c.get("/lang/ar?next=/")
    r = c.post(f"/requests/{rid}/package", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 409
    assert "رُفض إعداد الحزمة" in r.text and "no cooperation framework" in r.text
    assert 'dir="rtl"' in r.text and "ممنوع" in r.text  # the review's status, in Arabic
    # Redaction is offered only where it can work: not for a text file (PDFs and images are
    # offered it: tests/test_web_legal_path.py, tests/test_redaction.py).
    assert f'href="/items/{site.item("سري.txt")}"' in r.text
    assert f"/items/{site.item('سري.txt')}/redaction" not in r.text
