"""Need-to-know on everything that leaves: packages, consent letters, requests and the searches
run for them, per compartment and per role; custody timelines seen by role; evidence text
with its bidi controls made visible; no server path in a message to a recipient.

Two compartments, `open` and `secret`, each with its provider, collection, request, searches,
consent record and package; one account per role holding both, and an analyst and a legal
officer holding only `open` (the caller of the attack: an analyst with `open` downloading a
`secret` package).
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pymupdf
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from amanah.access import PROVIDER_CUSTODY_TYPES, Role, local_administrator
from amanah.access.tokens import create_token
from amanah.access.users import add_user
from amanah.db.models import Item, Package, Review
from amanah.intake import registry
from amanah.intake.ingest import IntakeRequest, ingest
from amanah.processing.runner import run
from amanah.rfa import jurisdictions, requests, review
from amanah.sharing import consent, package
from amanah.web.app import create_app
from amanah.workspace import Workspace, open_workspace
from tests.conftest import amanah

PASSWORD = "a long test password"
RLO_NAME = "report\u202etxt.exe"
SECRET_SUBJECT = "Transfers from the Saydnaya annex, 2013"
SECRET_QUERY = "annexcode OR transfer"
OPEN_SUBJECT = "Checkpoint at the river bridge"
OPEN_QUERY = "checkpoint"
FILES = {
    "open": {
        "statements/open-statement.txt": b"The witness saw the checkpoint near the river.\n",
        f"odd/{RLO_NAME}": b"A checkpoint log with a file name that lies about its type.\n",
    },
    "secret": {
        "statements/secret-statement.txt": b"annexcode: the transfer of detainees at night.\n",
    },
}
PROVIDERS = {"open": "Open CSO", "secret": "Secret CSO"}
JURISDICTIONS = {"open": "XO-PROS", "secret": "XS-PROS"}
#: Accounts: role, grants, provider, jurisdiction.
ACCOUNTS = {
    "admin": (Role.ADMIN, (), None, None),
    "intake": (Role.INTAKE, ("open", "secret"), None, None),
    "analyst": (Role.ANALYST, ("open", "secret"), None, None),
    "legal": (Role.LEGAL, ("open", "secret"), None, None),
    "provider": (Role.PROVIDER, (), PROVIDERS["open"], None),
    "recipient": (Role.RECIPIENT, (), None, JURISDICTIONS["open"]),
    "analyst-open": (Role.ANALYST, ("open",), None, None),
    "legal-open": (Role.LEGAL, ("open",), None, None),
}


@dataclass
class Site:
    ws: Workspace
    app: Any
    tmp: Path
    tokens: dict[str, str] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)  # file name -> item id
    requests: dict[str, int] = field(default_factory=dict)  # open/secret/both -> request id
    packages: dict[str, str] = field(default_factory=dict)  # open/secret/both -> package id
    sha256: dict[str, str] = field(default_factory=dict)  # file name -> SHA-256

    def client(self, who: str) -> TestClient:
        c = TestClient(self.app)
        c.headers["Authorization"] = f"Bearer {self.tokens[who]}"
        return c


def _build(tmp: Path) -> Site:
    ws = open_workspace(tmp / "home")
    for compartment, files in FILES.items():
        folder = tmp / compartment
        for rel, data in files.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_bytes(data)
        ingest(
            ws,
            IntakeRequest(
                sources=[str(folder)],
                collection=f"{compartment}-collection",
                provider=PROVIDERS[compartment],
                compartment=compartment,
                actor="local:test",
            ),
        )
    run(ws)
    site = Site(ws, create_app(ws), tmp)
    with ws.db.reader() as s:
        for i, path, sha in s.execute(select(Item.id, Item.original_path, Item.sha256)):
            site.items[path.rsplit("/", 1)[-1]] = i
            site.sha256[path.rsplit("/", 1)[-1]] = sha
    admin = local_administrator(ws)
    with ws.db.session() as s:
        for compartment in ("open", "secret"):
            jurisdictions.add(
                s, JURISDICTIONS[compartment], state=compartment.title(), authority="Prosecutor"
            )
            fw = registry.add_framework(
                s, PROVIDERS[compartment], f"MoU {compartment}", date(2024, 1, 1), disclosure="any"
            )
            registry.link_framework(s, f"{compartment}-collection", fw.id, admin.actor)
        for key, comps, subject, jur in (
            ("open", ["open"], OPEN_SUBJECT, "open"),
            ("secret", ["secret"], SECRET_SUBJECT, "secret"),
            ("both", ["open", "secret"], "Both compartments", "open"),
        ):
            site.requests[key] = requests.create(
                s,
                f"RFA-{key.upper()}",
                JURISDICTIONS[jur],
                received_on=date(2026, 3, 1),
                actor=admin.actor,
                subject=subject,
                fields={"persons": [f"person of {key}"]},
                compartments=comps,
            ).id
    # Searches run for each request: the record of its scope.
    review.candidates_from_search(ws, admin, "RFA-OPEN", OPEN_QUERY)
    review.candidates_from_search(ws, admin, "RFA-SECRET", SECRET_QUERY)
    with ws.db.session() as s:
        review.decide(s, admin, "RFA-OPEN", [site.items["open-statement.txt"]], "relevant")
        review.decide(s, admin, "RFA-SECRET", [site.items["secret-statement.txt"]], "relevant")
        both = [site.items["open-statement.txt"], site.items["secret-statement.txt"]]
        review.decide(s, admin, "RFA-BOTH", both, "relevant")
        for key in ("open", "secret"):
            consent.record(
                s, admin, f"RFA-{key.upper()}", PROVIDERS[key], "requested", note=f"asked {key}"
            )
    for key in ("open", "secret", "both"):
        built = package.build(ws, admin, f"RFA-{key.upper()}", tmp / "packages" / key)
        site.packages[key] = built["package"]
    for name, (role, grants, provider, jurisdiction) in ACCOUNTS.items():
        add_user(
            ws,
            name,
            role.value,
            PASSWORD,
            compartments=grants,
            provider=provider,
            jurisdiction=jurisdiction,
            by="local:test",
        )
        site.tokens[name] = create_token(ws, name)
    return site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    s = _build(tmp_path_factory.mktemp("ntk"))
    yield s
    s.ws.close()


#: Which packages and requests each account may see (the rest: 404, or 403 by role).
SEES_PACKAGES = {
    "admin": {"open", "secret", "both"},
    "analyst": {"open", "secret", "both"},
    "legal": {"open", "secret", "both"},
    "recipient": {"open", "both"},  # built for its jurisdiction
    "analyst-open": {"open"},
    "legal-open": {"open"},
}
SEES_REQUESTS = {
    "admin": {"open", "secret", "both"},
    "analyst": {"open", "secret", "both"},
    "legal": {"open", "secret", "both"},
    "analyst-open": {"open"},
    "legal-open": {"open"},
}


@pytest.mark.parametrize("who", list(ACCOUNTS))
def test_packages_list_page_api_and_download_follow_need_to_know(site: Site, who: str) -> None:
    c = site.client(who)
    seen = SEES_PACKAGES.get(who)
    listed = c.get("/api/v1/packages")
    page = c.get("/packages")
    if seen is None:  # the role may not view packages at all
        assert listed.status_code == 403 and page.status_code == 403
        for key in site.packages:
            assert c.get(f"/api/v1/packages/{site.packages[key]}").status_code == 403
        return
    assert listed.status_code == 200 and page.status_code == 200
    # Other tests of this module may build packages of their own: judge the fixture's.
    known = set(site.packages.values())
    assert {p["id"] for p in listed.json()} & known == {site.packages[k] for k in seen}
    for key, pid in site.packages.items():
        urls = (
            f"/api/v1/packages/{pid}",
            f"/packages/{pid}",
            f"/api/v1/packages/{pid}/download",
            f"/packages/{pid}/download",
        )
        if key in seen:
            assert pid in page.text
            assert c.get(urls[0]).json()["id"] == pid
            assert pid in c.get(urls[1]).text
            for url in urls[2:]:
                r = c.get(url)
                assert r.status_code == 200, (who, url, r.text[:300])
                assert r.headers["content-type"] == "application/zip"
                assert f"{pid}/bagit.txt".encode() in r.content
        else:
            assert pid not in page.text
            for url in urls:
                r = c.get(url)
                assert r.status_code == 404, (who, url, r.status_code)
                assert pid.encode() in r.content  # "no package PKG-…": nothing else
                assert b"bagit" not in r.content


def test_an_analyst_holding_open_cannot_download_a_secret_package(site: Site) -> None:
    """The attack of the audit, exactly; then the same analyst with the grant (the control)."""
    secret = site.packages["secret"]
    r = site.client("analyst-open").get(f"/api/v1/packages/{secret}/download")
    assert r.status_code == 404 and r.json() == {"error": f"no package {secret}"}
    # A package holding one secret item among open ones is hidden as a whole.
    both = site.packages["both"]
    assert site.client("analyst-open").get(f"/api/v1/packages/{both}").status_code == 404
    assert site.client("analyst").get(f"/api/v1/packages/{secret}/download").status_code == 200
    assert site.client("analyst").get(f"/api/v1/packages/{both}").status_code == 200


@pytest.mark.parametrize("who", list(ACCOUNTS))
def test_requests_their_subject_and_searches_follow_need_to_know(site: Site, who: str) -> None:
    c = site.client(who)
    seen = SEES_REQUESTS.get(who)
    listed = c.get("/api/v1/requests")
    if seen is None:
        assert listed.status_code == 403 and c.get("/requests").status_code == 403
        assert c.get(f"/api/v1/requests/{site.requests['open']}").status_code == 403
        assert c.get("/api/v1/metrics/requests").status_code == 403
        return
    assert listed.status_code == 200
    known = {f"RFA-{k.upper()}" for k in site.requests}
    expected = {f"RFA-{k.upper()}" for k in seen}
    assert {r["reference"] for r in listed.json()} & known == expected
    page = c.get("/requests").text
    metrics = c.get("/api/v1/metrics/requests").json()
    assert {r["reference"] for r in metrics["per_request"]} & known == expected
    for key, rid in site.requests.items():
        api = c.get(f"/api/v1/requests/{rid}")
        html = c.get(f"/requests/{rid}")
        if key in seen:
            assert api.status_code == 200 and html.status_code == 200
            assert f"RFA-{key.upper()}" in page
            body = api.json()
            assert body["compartments"] == sorted(
                {"open": ["open"], "secret": ["secret"], "both": ["open", "secret"]}[key]
            )
            if key == "secret":
                assert body["subject"] == SECRET_SUBJECT
                assert [q["query"] for q in body["searches"]] == [SECRET_QUERY]
                assert SECRET_QUERY in html.text and SECRET_SUBJECT in html.text
                assert [x["provider"] for x in body["consents"]] == [PROVIDERS["secret"]]
        else:
            assert api.status_code == 404 and html.status_code == 404
            assert api.json() == {"error": f"no request for assistance with id {rid}"}
            assert f"RFA-{key.upper()}" not in page
    if "secret" not in seen:
        # Not the subject, not the queries, not the consent history: anywhere.
        everything = listed.text + page + json.dumps(metrics)
        for rid in site.requests.values():
            everything += c.get(f"/api/v1/requests/{rid}").text
            everything += c.get(f"/requests/{rid}").text
        for secret in (SECRET_SUBJECT, "annexcode", "person of secret", "asked secret"):
            assert secret not in everything, (who, secret)


def test_a_consent_letter_lists_only_what_the_caller_and_the_request_may_see(site: Site) -> None:
    def letter(who: str, key: str, provider: str) -> Any:
        return site.client(who).get(
            f"/requests/{site.requests[key]}/consent-letter", params={"provider": provider}
        )

    def text(pdf: bytes) -> str:
        with pymupdf.open(stream=pdf, filetype="pdf") as doc:
            return "".join(page.get_text() for page in doc).replace("\n", "")

    secret_sha = site.sha256["secret-statement.txt"]
    # A legal officer holding `open` only: the secret request does not exist for them.
    r = letter("legal-open", "secret", PROVIDERS["secret"])
    assert r.status_code == 404 and secret_sha not in r.text
    assert letter("legal-open", "both", PROVIDERS["secret"]).status_code == 404
    assert letter("analyst-open", "secret", PROVIDERS["secret"]).status_code == 403  # role
    own = letter("legal-open", "open", PROVIDERS["open"])
    assert own.status_code == 200 and own.headers["content-type"] == "application/pdf"
    assert site.sha256["open-statement.txt"] in text(own.content)
    # The negative control: with the grant, the secret letter lists the secret item.
    full = letter("legal", "secret", PROVIDERS["secret"])
    assert full.status_code == 200 and secret_sha in text(full.content)
    # A request sees items of its compartments only, even a candidate recorded before
    # requests had compartments: the open request's letter never lists a secret item.
    with site.ws.db.session() as s:
        s.add(
            Review(
                request_id=site.requests["open"],
                item_id=site.items["secret-statement.txt"],
                decision="relevant",
                source="legacy",
            )
        )
    try:
        admin = local_administrator(site.ws)
        with site.ws.db.reader() as s:
            found = consent.relevant_items_of(s, admin, "RFA-OPEN", PROVIDERS["secret"])
            rows = review.rows(s, admin, "RFA-OPEN")
        assert found == [] and site.items["open-statement.txt"] in {r["item_id"] for r in rows}
        assert site.items["secret-statement.txt"] not in {r["item_id"] for r in rows}
        r = letter("legal", "open", PROVIDERS["secret"])
        assert r.status_code == 400 and "nothing to ask about" in r.text
    finally:
        with site.ws.db.session() as s:
            s.execute(
                Review.__table__.delete().where(
                    Review.request_id == site.requests["open"], Review.source == "legacy"
                )
            )


def test_a_request_sees_items_of_its_compartments_only(site: Site) -> None:
    admin = local_administrator(site.ws)
    secret_item = site.items["secret-statement.txt"]
    # By hand: a secret item "does not exist" for the open request.
    r = site.client("legal").post(
        f"/api/v1/requests/{site.requests['open']}/review",
        json={"items": [secret_item], "decision": "relevant"},
    )
    assert r.status_code == 400 and r.json() == {"error": f"no item with id {secret_item}"}
    # By search: the search run for the open request finds no secret item, though the same
    # words find it for whoever may see it (the control). The probe is a word of the secret
    # statement that no other test looks for: the search stays on the shared open request.
    found = review.candidates_from_search(site.ws, admin, "RFA-OPEN", "detainees")
    assert found["hits"] == 0 and found["added"] == 0
    hits = site.client("legal").get("/api/v1/search", params={"q": "detainees"}).json()
    assert [h["item_id"] for h in hits["hits"]] == [secret_item]
    # Filing a request in a compartment one does not hold is refused (403), and nothing
    # chosen gives the caller's own compartments.
    legal_open = site.client("legal-open")
    body = {
        "reference": "RFA-TRY",
        "jurisdiction": JURISDICTIONS["open"],
        "received_on": "2026-04-01",
    }
    r = legal_open.post("/api/v1/requests", json={**body, "compartments": ["secret"]})
    assert r.status_code == 403 and "secret" in r.json()["error"]
    r = legal_open.post("/api/v1/requests", json=body)
    assert r.status_code == 201 and r.json()["compartments"] == ["open"]
    r = site.client("admin").post(
        "/api/v1/requests", json={**body, "reference": "RFA-TRY2", "compartments": ["secret"]}
    )
    assert r.status_code == 201 and r.json()["compartments"] == ["secret"]
    assert legal_open.get(f"/api/v1/requests/{r.json()['id']}").status_code == 404
    # The web form: the compartments ticked, among the caller's own.
    form = {"reference": "RFA-FORM", "jurisdiction": JURISDICTIONS["open"]}
    form |= {"received_on": "2026-04-02", "compartment": ["open", "secret"]}
    r = site.client("legal").post("/requests", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    rid = int(r.headers["location"].rsplit("/", 1)[-1])
    assert site.client("analyst").get(f"/api/v1/requests/{rid}").json()["compartments"] == [
        "open",
        "secret",
    ]
    assert site.client("analyst-open").get(f"/requests/{rid}").status_code == 404
    form |= {"reference": "RFA-FORM-2", "compartment": ["secret"]}
    r = site.client("legal-open").post("/requests", data=form, follow_redirects=False)
    assert r.status_code == 403 and "do not hold compartment secret" in r.text
    page = site.client("legal-open").get("/requests").text
    assert 'name="compartment" value="open" checked' in page and 'value="secret"' not in page


def test_cli_rfa_add_takes_compartments_and_refuses_unknown_ones(site: Site) -> None:
    home = site.ws.home
    r = amanah(
        home,
        "rfa",
        "add",
        "RFA-CLI",
        "--jurisdiction",
        JURISDICTIONS["open"],
        "--received-on",
        "2026-05-01",
        "--compartment",
        "secret",
        "--compartment",
        "open",
    )
    assert r.returncode == 0, r.stderr
    assert "compartments: open, secret" in r.stdout
    shown = json.loads(amanah(home, "rfa", "show", "RFA-CLI", "--json").stdout)
    assert shown["compartments"] == ["open", "secret"]
    r = amanah(
        home,
        "rfa",
        "add",
        "RFA-CLI-2",
        "--jurisdiction",
        JURISDICTIONS["open"],
        "--received-on",
        "2026-05-01",
        "--compartment",
        "no-such-compartment",
    )
    assert r.returncode == 2 and "do not hold compartment no-such-compartment" in r.stderr
    r = amanah(
        home, "rfa", "add", "RFA-CLI-3", "--jurisdiction", JURISDICTIONS["open"],
        "--received-on", "2026-05-01",
    )  # fmt: skip
    assert r.returncode == 0 and "compartments: default" in r.stdout
    assert site.client("analyst").get("/api/v1/requests").status_code == 200
    refs = {x["reference"] for x in site.client("analyst").get("/api/v1/requests").json()}
    assert "RFA-CLI" in refs and "RFA-CLI-3" not in refs  # `default` is not held
    assert "RFA-CLI" not in {
        x["reference"] for x in site.client("analyst-open").get("/api/v1/requests").json()
    }


def _types(body: dict[str, Any]) -> set[str]:
    return {e["type"] for e in body["custody"]}


def test_a_provider_sees_only_preservation_events_on_its_items(site: Site) -> None:
    item = site.items["open-statement.txt"]
    # Someone at the mechanism reads it (an access event); it was derived from (text) and
    # disclosed (the packages) already.
    assert site.client("analyst").get(f"/api/v1/items/{item}/text").status_code == 200
    staff = _types(site.client("admin").get(f"/api/v1/items/{item}").json())
    assert {"ingestion", "access", "derivation", "disclosure"} <= staff
    seen = site.client("provider").get(f"/api/v1/items/{item}")
    assert seen.status_code == 200
    types = _types(seen.json())
    assert "ingestion" in types and "message digest calculation" in types
    assert types <= PROVIDER_CUSTODY_TYPES
    assert not types & {"access", "download", "derivation", "disclosure", "restriction change"}
    assert "user:analyst" not in seen.text
    page = site.client("provider").get(f"/items/{item}").text
    assert "<strong>Received into the collection" in page  # the item page tells it in words
    assert "user:analyst" not in page and "<strong>Disclosed in" not in page
    control = site.client("admin").get(f"/items/{item}").text
    assert "user:analyst" in control and "<strong>Disclosed in" in control
    # Another provider's item does not exist for it.
    secret = site.items["secret-statement.txt"]
    assert site.client("provider").get(f"/api/v1/items/{secret}").status_code == 404


def test_a_recipient_sees_its_package_and_nothing_else(site: Site) -> None:
    c = site.client("recipient")
    own = site.packages["open"]
    page = c.get(f"/packages/{own}")
    assert page.status_code == 200 and "open-statement.txt" in page.text
    files = c.get(f"/api/v1/packages/{own}").json()["files"]
    assert [f["file"].endswith("open-statement.txt") for f in files] == [True]
    for url in (
        f"/api/v1/items/{site.items['open-statement.txt']}",
        f"/items/{site.items['open-statement.txt']}",
        "/api/v1/search?q=checkpoint",
        f"/api/v1/requests/{site.requests['open']}",
        "/requests",
        "/collections",
    ):
        assert c.get(url).status_code == 403, url


def test_bidi_controls_in_evidence_text_are_shown_not_obeyed(site: Site) -> None:
    item = site.items[RLO_NAME]
    c = site.client("analyst")
    shown = "report⟨U+202E⟩txt.exe"
    page = c.get(f"/items/{item}").text
    assert "\u202e" not in page
    assert f"{shown}</h1>" in page and f"{shown}</td>" in c.get("/").text  # heading, list
    results = c.get("/search", params={"q": "lies"}).text
    assert shown in results and "\u202e" not in results
    # The API keeps the exact value, and the original's exact bytes; the name it is saved
    # under shows the control too.
    assert c.get(f"/api/v1/items/{item}").json()["original_path"] == f"open/odd/{RLO_NAME}"
    download = c.get(f"/api/v1/items/{item}/content")
    assert download.content == FILES["open"][f"odd/{RLO_NAME}"]
    disposition = download.headers["content-disposition"]
    assert (
        "report%E2%9F%A8U%2B202E%E2%9F%A9txt.exe" in disposition and "%E2%80%AE" not in disposition
    )
    # The negative control: a name without controls is shown as it is.
    assert "open-statement.txt</h1>" in c.get(f"/items/{site.items['open-statement.txt']}").text


def test_a_recipient_is_never_told_a_server_path(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    admin = local_administrator(site.ws)
    with site.ws.db.session() as s:
        requests.create(
            s,
            "RFA-GONE",
            JURISDICTIONS["open"],
            received_on=date(2026, 6, 1),
            actor=admin.actor,
            compartments=["open"],
        )
        review.decide(s, admin, "RFA-GONE", [site.items["open-statement.txt"]], "relevant")
    folder = site.tmp / "packages" / "gone"
    pid = package.build(site.ws, admin, "RFA-GONE", folder)["package"]
    with site.ws.db.reader() as s:
        stored = s.get(Package, pid)
        assert stored is not None and Path(stored.path) == folder.resolve()
        path = stored.path
    shutil.move(folder, site.tmp / "elsewhere")
    c = site.client("recipient")
    with caplog.at_level(logging.WARNING, logger="amanah.web"):
        api = c.get(f"/api/v1/packages/{pid}/download")
        page = c.get(f"/packages/{pid}/download")
    assert api.status_code == 404
    assert api.json() == {"error": f"package {pid} is not available; ask the mechanism"}
    assert page.status_code == 404 and "is not available; ask the mechanism" in page.text
    for body in (api.text, page.text):
        assert str(site.tmp) not in body and "packages/gone" not in body
    assert path in caplog.text  # for staff, in the server's log


def test_requests_recorded_before_compartments_get_their_candidates_compartments(
    site: Site,
) -> None:
    """Migration 0010's backfill: a request gets the compartments of its candidates'
    collections, or `default` when it has none; one that has compartments is left alone."""
    import importlib.util

    from sqlalchemy import text

    from amanah.db.engine import MIGRATIONS
    from amanah.db.models import RequestCompartment

    path = Path(MIGRATIONS) / "versions" / "0010_request_compartments.py"
    spec = importlib.util.spec_from_file_location("m0010", path)
    assert spec is not None and spec.loader is not None
    m0010 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m0010)
    admin = local_administrator(site.ws)
    with site.ws.db.session() as s:
        old = requests.create(
            s, "RFA-OLD", JURISDICTIONS["open"], received_on=date(2026, 1, 1), actor=admin.actor
        ).id
        empty = requests.create(
            s, "RFA-OLD-EMPTY", JURISDICTIONS["open"], received_on=date(2026, 1, 1), actor="a"
        ).id
        for name in ("open-statement.txt", "secret-statement.txt"):
            s.add(Review(request_id=old, item_id=site.items[name], decision="relevant"))
        s.execute(
            RequestCompartment.__table__.delete().where(
                RequestCompartment.request_id.in_([old, empty])
            )
        )
    with site.ws.db.engine.begin() as conn:
        for statement in m0010.BACKFILL:
            conn.execute(text(statement))
    with site.ws.db.reader() as s:
        got = requests.compartments_of(s, [old, empty, site.requests["open"]])
    assert got == {old: ["open", "secret"], empty: ["default"], site.requests["open"]: ["open"]}
    assert site.client("analyst").get(f"/api/v1/requests/{old}").status_code == 200
    assert site.client("analyst-open").get(f"/api/v1/requests/{old}").status_code == 404
