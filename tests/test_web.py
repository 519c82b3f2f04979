"""The web application's access matrix: every route × every role × inside and outside its
need-to-know, and the answers without signing in. The rest of the web tests are in
tests/test_web_*.py, one concept a file."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select

from amanah.access import ROLE_PERMISSIONS, Permission, Role
from amanah.db.models import Derivative
from amanah.web.auth import Rule
from tests.personsfixtures import person_run
from tests.webfixtures import BLUE, PASSWORD, RED, Site
from tests.webfixtures import BLUE_JURISDICTION as BLUE_J


def rule_of(route: APIRoute) -> Rule | None:
    for dep in route.dependant.dependencies:
        rule = getattr(dep.call, "rule", None)
        if rule is not None:
            return rule
    return None


# --- the access matrix --------------------------------------------------------------------------

_n = itertools.count()
Call = Callable[[Site, str, bool], Any]


def _target_item(site: Site, inside: bool) -> int:
    return site.item("شهادة-أ.txt" if inside else "سري.txt")


def _redactable(site: Site, role: str, inside: bool) -> int:
    """An image inside the caller's need-to-know, or an item outside it (the administrator,
    who sees everything, gets the image again)."""
    return site.item("blank.png" if inside or role == "admin" else "سري.txt")


def _coll(inside: bool) -> str:
    return BLUE if inside else RED


def _derivative(site: Site, item_id: int) -> int:
    with site.ws.db.reader() as s:
        return s.execute(
            select(Derivative.id).where(Derivative.item_id == item_id, Derivative.kind == "text")
        ).scalar_one()


def _api(site: Site, role: str) -> TestClient:
    return site.api(role)


def _begin(site: Site, role: str, inside: bool, size: int = 3) -> str:
    """An upload id of this role's own (or a made-up one when it may not upload)."""
    if Permission.UPLOAD not in ROLE_PERMISSIONS[Role(role)]:
        return "0" * 32
    r = _api(site, role).post(
        f"/api/v1/collections/{BLUE}/uploads", json={"filename": f"u{next(_n)}.txt", "size": size}
    )
    assert r.status_code == 201, r.text
    return str(r.json()["upload_id"])


def _rfa(site: Site) -> int:
    return site.requests[f"RFA-{BLUE_J}"]


def _fresh_rfa(site: Site) -> int:
    """A new request in state received, so that each call has a move to make."""
    from datetime import date

    from amanah.rfa import requests

    with site.ws.db.session() as s:
        return requests.create(
            s,
            f"FRESH-{next(_n)}",
            BLUE_J,
            received_on=date(2026, 4, 1),
            actor="local:test",
            compartments=["blue"],
        ).id


def _entity(site: Site, inside: bool) -> int:
    """A person whose only evidence is a text inside the caller's need-to-know, or outside
    it (the administrator sees both): the entity is seen with its evidence or not at all."""
    from amanah.access import local_administrator
    from amanah.entities import links, store

    admin = local_administrator(site.ws)
    with site.ws.db.session() as s:
        ent = store.add_entity(s, admin, "person", f"Witness {next(_n)}")
        links.link(site.ws, s, admin, _target_item(site, inside), entity_id=ent.id, span=(0, 5))
        return ent.id


def _engagement(site: Site, inside: bool) -> int:
    """An engagement in the caller's compartment (blue), or outside it (red)."""
    from datetime import date

    from amanah.access import local_administrator
    from amanah.persons import engagements

    admin = local_administrator(site.ws)
    admin = admin.__class__(admin.actor, admin.compartments | {"blue", "red"})
    with site.ws.db.session() as s:
        return engagements.add(
            s,
            admin,
            kind="meeting",
            held_on=date(2026, 10, 1),
            compartment="blue" if inside else "red",
        ).id


def _witness(site: Site) -> str:
    """A protected person (pseudonym) for the consent pages, made once."""
    from amanah.access import local_administrator
    from amanah.sharing import protected

    if not getattr(site, "_witness", None):
        with site.ws.db.session() as s:
            protected.add(s, local_administrator(site.ws), "Witness W", ["Zaid Haddad"])
        site._witness = "Witness W"  # type: ignore[attr-defined]
    return "Witness%20W"


def _spare(site: Site, disabled: bool = False) -> str:
    """A throwaway account (with a token) for the routes that cut accounts off."""
    from amanah.access.tokens import create_token
    from amanah.access.users import add_user, set_disabled

    name = f"spare{next(_n)}"
    add_user(site.ws, name, "analyst", PASSWORD, by="local:test")
    create_token(site.ws, name)
    if disabled:
        set_disabled(site.ws, name, True, by="local:test")
    return name


def _spare_token(site: Site) -> int:
    from amanah.access.tokens import issue_token

    return issue_token(site.ws, _spare(site), by="local:test").id


def _page(site: Site, role: str, method: str, url: str, fresh: bool = False, **kw: Any) -> Any:
    """A page as this role's signed-in browser asks for it. The role signs in once per site
    (each sign-in is an argon2 check, about 0.2 s of CPU, and a matrix has hundreds of
    pages); `fresh` signs in a browser of its own, for the page that ends its session."""
    c, csrf = site.browser(role) if fresh else site.signed_in(role)
    if method == "POST":
        kw.setdefault("data", {})["csrf"] = csrf
    return c.request(method, url, follow_redirects=False, **kw)


def _saved(site: Site, role: str) -> int:
    """A saved search of this role's own account (the analyst's layer)."""
    from datetime import UTC, datetime

    from amanah.db.models import SavedSearch

    with site.ws.db.session() as s:
        row = SavedSearch(
            owner=f"user:{role}", name=f"saved {next(_n)}", query="الشاهد", options="{}"
        )
        row.created_at = datetime.now(UTC)
        s.add(row)
        s.flush()
        return row.id


def _framework(site: Site) -> int:
    """A cooperation framework of its own, for an edit case."""
    from amanah.intake.registry import add_framework

    with site.ws.db.session() as s:
        return add_framework(s, "Blue CSO", f"Matrix MoU {next(_n)}", None).id


def _jurisdiction(site: Site) -> str:
    """A jurisdiction of its own, for an edit case."""
    from amanah.rfa import jurisdictions

    with site.ws.db.session() as s:
        return jurisdictions.add(s, f"MJ-{next(_n)}", state="Matrixland", authority="Court").code


def _hit(site: Site) -> list[int]:
    return [site.item("statement-b.txt")]


API_CASES: dict[tuple[str, str], tuple[bool, Call]] = {
    # (method, path): (scoped to an item or collection?, call)
    ("GET", "/api/v1/me"): (False, lambda s, r, i: _api(s, r).get("/api/v1/me")),
    ("GET", "/api/v1/search"): (
        False,
        lambda s, r, i: _api(s, r).get("/api/v1/search", params={"q": "الشاهد"}),
    ),
    ("GET", "/api/v1/items/{item_id}"): (
        True,
        lambda s, r, i: _api(s, r).get(f"/api/v1/items/{_target_item(s, i)}"),
    ),
    ("GET", "/api/v1/items/{item_id}/text"): (
        True,
        lambda s, r, i: _api(s, r).get(f"/api/v1/items/{_target_item(s, i)}/text"),
    ),
    ("GET", "/api/v1/items/{item_id}/content"): (
        True,
        lambda s, r, i: _api(s, r).get(f"/api/v1/items/{_target_item(s, i)}/content"),
    ),
    ("GET", "/api/v1/items/{item_id}/derivatives/{derivative_id}"): (
        True,
        lambda s, r, i: _api(s, r).get(
            f"/api/v1/items/{_target_item(s, i)}/derivatives/{_derivative(s, _target_item(s, i))}"
        ),
    ),
    ("GET", "/api/v1/collections"): (False, lambda s, r, i: _api(s, r).get("/api/v1/collections")),
    ("POST", "/api/v1/collections"): (
        False,
        lambda s, r, i: _api(s, r).post(
            "/api/v1/collections",
            json={"name": f"new-{next(_n)}", "provider": "Blue CSO", "compartment": "blue"},
        ),
    ),
    ("POST", "/api/v1/collections/{name}/uploads"): (
        True,
        lambda s, r, i: _api(s, r).post(
            f"/api/v1/collections/{_coll(i)}/uploads", json={"filename": "x.txt", "size": 3}
        ),
    ),
    ("GET", "/api/v1/uploads/{upload_id}"): (
        False,
        lambda s, r, i: _api(s, r).get(f"/api/v1/uploads/{_begin(s, r, i)}"),
    ),
    ("PUT", "/api/v1/uploads/{upload_id}"): (
        False,
        lambda s, r, i: _api(s, r).put(
            f"/api/v1/uploads/{_begin(s, r, i)}?offset=0", content=f"{next(_n):03d}"[-3:].encode()
        ),
    ),
    ("POST", "/api/v1/collections/{name}/items"): (
        True,
        lambda s, r, i: _api(s, r).post(
            f"/api/v1/collections/{_coll(i)}/items",
            params={"filename": f"direct-{next(_n)}.txt"},
            content=f"upload {next(_n)}".encode(),
        ),
    ),
    ("GET", "/api/v1/jobs"): (False, lambda s, r, i: _api(s, r).get("/api/v1/jobs")),
    ("GET", "/api/v1/audit"): (False, lambda s, r, i: _api(s, r).get("/api/v1/audit")),
    ("GET", "/api/v1/users"): (False, lambda s, r, i: _api(s, r).get("/api/v1/users")),
    ("POST", "/api/v1/users"): (
        False,
        lambda s, r, i: _api(s, r).post(
            "/api/v1/users",
            json={"name": f"someone{next(_n)}", "role": "analyst", "password": PASSWORD},
        ),
    ),
    ("GET", "/"): (False, lambda s, r, i: _page(s, r, "GET", "/")),
    ("POST", "/signout"): (False, lambda s, r, i: _page(s, r, "POST", "/signout", fresh=True)),
    ("GET", "/upload"): (False, lambda s, r, i: _page(s, r, "GET", "/upload")),
    ("GET", "/collections"): (False, lambda s, r, i: _page(s, r, "GET", "/collections")),
    ("POST", "/collections"): (
        False,
        lambda s, r, i: _page(
            s,
            r,
            "POST",
            "/collections",
            data={"name": f"page-{next(_n)}", "provider": "Blue CSO", "compartment": "blue"},
        ),
    ),
    ("GET", "/search"): (False, lambda s, r, i: _page(s, r, "GET", "/search?q=الشاهد")),
    # The map of a search: the roles that may search (200; what it shows is the search's
    # need-to-know, tests/test_web_map.py), the others 403.
    ("GET", "/map"): (False, lambda s, r, i: _page(s, r, "GET", "/map?q=الشاهد")),
    ("GET", "/items/{item_id}"): (
        True,
        lambda s, r, i: _page(s, r, "GET", f"/items/{_target_item(s, i)}"),
    ),
    ("GET", "/entities/{entity_id}"): (
        True,
        lambda s, r, i: _page(s, r, "GET", f"/entities/{_entity(s, i)}"),
    ),
    ("GET", "/engagements"): (False, lambda s, r, i: _page(s, r, "GET", "/engagements")),
    ("POST", "/engagements"): (
        False,
        lambda s, r, i: _page(
            s,
            r,
            "POST",
            "/engagements",
            data={"kind": "meeting", "held_on": "2026-10-02", "compartment": "blue"},
        ),
    ),
    ("GET", "/engagements/{engagement_id}"): (
        True,
        lambda s, r, i: _page(s, r, "GET", f"/engagements/{_engagement(s, i)}"),
    ),
    ("GET", "/consent/persons"): (False, lambda s, r, i: _page(s, r, "GET", "/consent/persons")),
    ("GET", "/consent/persons/{person}"): (
        False,
        lambda s, r, i: _page(s, r, "GET", f"/consent/persons/{_witness(s)}"),
    ),
    ("POST", "/consent/persons/{person}"): (
        False,
        lambda s, r, i: _page(
            s,
            r,
            "POST",
            f"/consent/persons/{_witness(s)}",
            data={"status": "given", "use": "investigation"},
        ),
    ),
    ("POST", "/items/{item_id}/not-same-document"): (
        True,
        lambda s, r, i: _page(
            s,
            r,
            "POST",
            f"/items/{_target_item(s, i)}/not-same-document",
            data={"of": str(s.item("blank.png"))},
        ),
    ),
    ("GET", "/persons"): (False, lambda s, r, i: _page(s, r, "GET", "/persons")),
    ("GET", "/persons/lists/{list_id}"): (
        True,
        lambda s, r, i: _page(s, r, "GET", f"/persons/lists/{person_run(s, i).list_id}"),
    ),
    ("GET", "/persons/records/{record_id}"): (
        True,
        lambda s, r, i: _page(s, r, "GET", f"/persons/records/{person_run(s, i).records[0]}"),
    ),
    ("GET", "/persons/runs/{run_id}/clusters/{record_id}"): (
        True,
        lambda s, r, i: _page(
            s, r, "GET", "/persons/runs/{0.run}/clusters/{0.records[0]}".format(person_run(s, i))
        ),
    ),
    ("GET", "/persons/runs/{run_id}/review"): (
        True,
        lambda s, r, i: _page(s, r, "GET", f"/persons/runs/{person_run(s, i).run}/review"),
    ),
    ("POST", "/persons/pairs/{pair_id}/review"): (
        True,
        lambda s, r, i: _page(
            s,
            r,
            "POST",
            f"/persons/pairs/{person_run(s, i).near}/review",
            data={"decision": "unsure"},
        ),
    ),
    ("GET", "/jobs"): (False, lambda s, r, i: _page(s, r, "GET", "/jobs")),
    ("GET", "/users"): (False, lambda s, r, i: _page(s, r, "GET", "/users")),
    ("POST", "/users"): (
        False,
        lambda s, r, i: _page(
            s,
            r,
            "POST",
            "/users",
            data={"name": f"formuser{next(_n)}", "role": "legal", "password": PASSWORD},
        ),
    ),
    ("POST", "/users/grants"): (
        False,
        lambda s, r, i: _page(
            s, r, "POST", "/users/grants", data={"name": "legal", "compartment": "green"}
        ),
    ),
    ("GET", "/audit"): (False, lambda s, r, i: _page(s, r, "GET", "/audit")),
    # Cutting accounts off (tests/test_accounts.py has the behaviour).
    ("GET", "/tokens"): (False, lambda s, r, i: _page(s, r, "GET", "/tokens")),
    ("POST", "/users/disable"): (
        False,
        lambda s, r, i: _page(s, r, "POST", "/users/disable", data={"name": _spare(s)}),
    ),
    ("POST", "/users/enable"): (
        False,
        lambda s, r, i: _page(s, r, "POST", "/users/enable", data={"name": _spare(s, True)}),
    ),
    ("POST", "/tokens/revoke"): (
        False,
        lambda s, r, i: _page(s, r, "POST", "/tokens/revoke", data={"token": _spare_token(s)}),
    ),
    ("GET", "/api/v1/tokens"): (False, lambda s, r, i: _api(s, r).get("/api/v1/tokens")),
    ("POST", "/api/v1/match"): (
        False,
        lambda s, r, i: _api(s, r).post(
            "/api/v1/match",
            json={"queries": {"q": {"schema": "Person", "properties": {"name": ["Ali"]}}}},
        ),
    ),
    ("POST", "/api/v1/tokens/{token_id}/revoke"): (
        False,
        lambda s, r, i: _api(s, r).post(f"/api/v1/tokens/{_spare_token(s)}/revoke"),
    ),
    ("POST", "/api/v1/users/{name}/tokens/revoke"): (
        False,
        lambda s, r, i: _api(s, r).post(f"/api/v1/users/{_spare(s)}/tokens/revoke"),
    ),
    ("POST", "/api/v1/users/{name}/disable"): (
        False,
        lambda s, r, i: _api(s, r).post(f"/api/v1/users/{_spare(s)}/disable"),
    ),
    ("POST", "/api/v1/users/{name}/enable"): (
        False,
        lambda s, r, i: _api(s, r).post(f"/api/v1/users/{_spare(s, True)}/enable"),
    ),
    # Requests and packages (a recipient's isolation has a test of its own below).
    ("GET", "/api/v1/requests"): (False, lambda s, r, i: _api(s, r).get("/api/v1/requests")),
    ("POST", "/api/v1/requests"): (
        False,
        lambda s, r, i: _api(s, r).post(
            "/api/v1/requests",
            json={
                "reference": f"API-{next(_n)}",
                "jurisdiction": BLUE_J,
                "received_on": "2026-02-01",
            },
        ),
    ),
    ("GET", "/api/v1/requests/{request_id}"): (
        False,
        lambda s, r, i: _api(s, r).get(f"/api/v1/requests/{_rfa(s)}"),
    ),
    ("POST", "/api/v1/requests/{request_id}/state"): (
        False,
        lambda s, r, i: _api(s, r).post(
            f"/api/v1/requests/{_fresh_rfa(s)}/state", json={"state": "acknowledged"}
        ),
    ),
    ("POST", "/api/v1/requests/{request_id}/search"): (
        False,
        lambda s, r, i: _api(s, r).post(
            f"/api/v1/requests/{_rfa(s)}/search", json={"query": "witness"}
        ),
    ),
    ("POST", "/api/v1/requests/{request_id}/review"): (
        False,
        lambda s, r, i: _api(s, r).post(
            f"/api/v1/requests/{_rfa(s)}/review",
            json={"items": [s.item("statement-b.txt")], "decision": "relevant"},
        ),
    ),
    ("POST", "/api/v1/requests/{request_id}/packages"): (
        False,
        lambda s, r, i: _api(s, r).post(f"/api/v1/requests/{_rfa(s)}/packages"),
    ),
    ("GET", "/api/v1/packages"): (False, lambda s, r, i: _api(s, r).get("/api/v1/packages")),
    ("GET", "/api/v1/packages/{package_id}"): (
        False,
        lambda s, r, i: _api(s, r).get(f"/api/v1/packages/{s.packages[BLUE_J]}"),
    ),
    ("GET", "/api/v1/packages/{package_id}/download"): (
        False,
        lambda s, r, i: _api(s, r).get(f"/api/v1/packages/{s.packages[BLUE_J]}/download"),
    ),
    ("GET", "/api/v1/metrics/requests"): (
        False,
        lambda s, r, i: _api(s, r).get("/api/v1/metrics/requests"),
    ),
    ("GET", "/requests"): (False, lambda s, r, i: _page(s, r, "GET", "/requests")),
    ("POST", "/requests"): (
        False,
        lambda s, r, i: _page(
            s,
            r,
            "POST",
            "/requests",
            data={
                "reference": f"PAGE-{next(_n)}",
                "jurisdiction": BLUE_J,
                "received_on": "2026-03-01",
            },
        ),
    ),
    ("GET", "/requests/{request_id}"): (
        False,
        lambda s, r, i: _page(s, r, "GET", f"/requests/{_rfa(s)}"),
    ),
    ("POST", "/requests/{request_id}/state"): (
        False,
        lambda s, r, i: _page(
            s, r, "POST", f"/requests/{_fresh_rfa(s)}/state", data={"state": "acknowledged"}
        ),
    ),
    # The legal officer's pages (tests/test_web_legal.py has the behaviour): seeing the
    # frameworks and jurisdictions is for whoever sees requests; recording them, protected
    # persons and a request's assignment, deadline and notes for those who manage requests.
    ("GET", "/protected"): (False, lambda s, r, i: _page(s, r, "GET", "/protected")),
    ("POST", "/protected"): (
        False,
        lambda s, r, i: _page(
            s,
            r,
            "POST",
            "/protected",
            data={"pseudonym": f"Witness M{next(_n)}", "names": "Nizar Qasemi", "role": "source"},
        ),
    ),
    ("POST", "/protected/spelling"): (
        False,
        lambda s, r, i: _page(
            s,
            r,
            "POST",
            "/protected/spelling",
            data={"pseudonym": _witness(s).replace("%20", " "), "name": "Zeid Hadad"},
        ),
    ),
    ("GET", "/frameworks"): (False, lambda s, r, i: _page(s, r, "GET", "/frameworks")),
    ("POST", "/frameworks"): (
        False,
        lambda s, r, i: _page(
            s,
            r,
            "POST",
            "/frameworks",
            data={"provider": "Matrix Provider", "title": f"MoU {next(_n)}"},
        ),
    ),
    ("GET", "/jurisdictions"): (False, lambda s, r, i: _page(s, r, "GET", "/jurisdictions")),
    ("POST", "/jurisdictions"): (
        False,
        lambda s, r, i: _page(
            s,
            r,
            "POST",
            "/jurisdictions",
            data={"code": f"MX-{next(_n)}", "state": "Matrixland", "authority": "Prosecutor"},
        ),
    ),
    # Editing frameworks and jurisdictions is for those who manage requests (requests.manage).
    ("GET", "/frameworks/{framework_id}/edit"): (
        False,
        lambda s, r, i: _page(s, r, "GET", f"/frameworks/{_framework(s)}/edit"),
    ),
    ("POST", "/frameworks/{framework_id}/edit"): (
        False,
        lambda s, r, i: _page(
            s,
            r,
            "POST",
            f"/frameworks/{_framework(s)}/edit",
            data={"title": f"MoU edited {next(_n)}", "disclosure": "any"},
        ),
    ),
    ("GET", "/jurisdictions/{code}/edit"): (
        False,
        lambda s, r, i: _page(s, r, "GET", f"/jurisdictions/{_jurisdiction(s)}/edit"),
    ),
    ("POST", "/jurisdictions/{code}/edit"): (
        False,
        lambda s, r, i: _page(
            s,
            r,
            "POST",
            f"/jurisdictions/{_jurisdiction(s)}/edit",
            data={"state": "Matrixland", "authority": f"Prosecutor {next(_n)}"},
        ),
    ),
    ("POST", "/requests/{request_id}/assign"): (
        False,
        lambda s, r, i: _page(s, r, "POST", f"/requests/{_fresh_rfa(s)}/assign", data={}),
    ),
    ("POST", "/requests/{request_id}/deadline"): (
        False,
        lambda s, r, i: _page(
            s, r, "POST", f"/requests/{_fresh_rfa(s)}/deadline", data={"deadline": "2026-12-31"}
        ),
    ),
    ("POST", "/requests/{request_id}/note"): (
        False,
        lambda s, r, i: _page(
            s, r, "POST", f"/requests/{_fresh_rfa(s)}/note", data={"note": "scope agreed"}
        ),
    ),
    ("POST", "/requests/{request_id}/search"): (
        False,
        lambda s, r, i: _page(s, r, "POST", f"/requests/{_rfa(s)}/search", data={"query": "river"}),
    ),
    ("POST", "/requests/{request_id}/review"): (
        False,
        lambda s, r, i: _page(
            s,
            r,
            "POST",
            f"/requests/{_rfa(s)}/review",
            data={"item": str(s.item("statement-b.txt")), "decision": "relevant"},
        ),
    ),
    ("POST", "/requests/{request_id}/package"): (
        False,
        lambda s, r, i: _page(s, r, "POST", f"/requests/{_rfa(s)}/package"),
    ),
    ("GET", "/requests/{request_id}/consent-letter"): (
        False,
        lambda s, r, i: _page(
            s, r, "GET", f"/requests/{_rfa(s)}/consent-letter?provider=Blue%20CSO"
        ),
    ),
    ("POST", "/requests/{request_id}/consent"): (
        False,
        lambda s, r, i: _page(
            s,
            r,
            "POST",
            f"/requests/{_rfa(s)}/consent",
            data={"provider": "Blue CSO", "status": "requested"},
        ),
    ),
    ("POST", "/requests/{request_id}/redact"): (
        False,
        lambda s, r, i: _page(
            s, r, "POST", f"/requests/{_rfa(s)}/redact", data={"item": str(s.item("blank.png"))}
        ),
    ),
    ("GET", "/items/{item_id}/redaction"): (
        True,
        lambda s, r, i: _page(s, r, "GET", f"/items/{_redactable(s, r, i)}/redaction"),
    ),
    ("GET", "/items/{item_id}/redaction/pages/{page}.png"): (
        True,
        lambda s, r, i: _page(
            s, r, "GET", f"/items/{_redactable(s, r, i)}/redaction/pages/1.png?version=original"
        ),
    ),
    ("POST", "/items/{item_id}/redaction"): (
        True,
        lambda s, r, i: _page(
            s, r, "POST", f"/items/{_redactable(s, r, i)}/redaction", data={"regions": "1:1,1,9,9"}
        ),
    ),
    # The analyst's own layer (tests/test_web_analyst.py has the behaviour).
    ("GET", "/api/v1/items/{item_id}/annotations"): (
        True,
        lambda s, r, i: _api(s, r).get(f"/api/v1/items/{_target_item(s, i)}/annotations"),
    ),
    ("POST", "/api/v1/items/{item_id}/tags"): (
        True,
        lambda s, r, i: _api(s, r).post(
            f"/api/v1/items/{_target_item(s, i)}/tags", json={"tag": "torture"}
        ),
    ),
    ("DELETE", "/api/v1/items/{item_id}/tags"): (
        True,
        lambda s, r, i: _api(s, r).delete(
            f"/api/v1/items/{_target_item(s, i)}/tags", params={"tag": "torture"}
        ),
    ),
    ("POST", "/api/v1/items/{item_id}/notes"): (
        True,
        lambda s, r, i: _api(s, r).post(
            f"/api/v1/items/{_target_item(s, i)}/notes", json={"text": "seen before"}
        ),
    ),
    ("GET", "/api/v1/tags"): (False, lambda s, r, i: _api(s, r).get("/api/v1/tags")),
    ("GET", "/api/v1/saved-searches"): (
        False,
        lambda s, r, i: _api(s, r).get("/api/v1/saved-searches"),
    ),
    ("POST", "/api/v1/saved-searches"): (
        False,
        lambda s, r, i: _api(s, r).post(
            "/api/v1/saved-searches", json={"name": f"s{next(_n)}", "query": "river"}
        ),
    ),
    ("DELETE", "/api/v1/saved-searches/{saved_id}"): (
        False,
        lambda s, r, i: _api(s, r).delete(f"/api/v1/saved-searches/{_saved(s, r)}"),
    ),
    ("POST", "/api/v1/bulk/tag"): (
        False,
        lambda s, r, i: _api(s, r).post("/api/v1/bulk/tag", json={"items": _hit(s), "tag": "x"}),
    ),
    ("POST", "/api/v1/bulk/request"): (
        False,
        lambda s, r, i: _api(s, r).post(
            "/api/v1/bulk/request", json={"items": _hit(s), "request_id": _rfa(s)}
        ),
    ),
    ("POST", "/items/{item_id}/tags"): (
        True,
        lambda s, r, i: _page(s, r, "POST", f"/items/{_target_item(s, i)}/tags", data={"tag": "x"}),
    ),
    ("POST", "/items/{item_id}/tags/remove"): (
        True,
        lambda s, r, i: _page(
            s, r, "POST", f"/items/{_target_item(s, i)}/tags/remove", data={"tag": "x"}
        ),
    ),
    ("POST", "/items/{item_id}/notes"): (
        True,
        lambda s, r, i: _page(
            s, r, "POST", f"/items/{_target_item(s, i)}/notes", data={"text": "a note"}
        ),
    ),
    ("POST", "/searches"): (
        False,
        lambda s, r, i: _page(s, r, "POST", "/searches", data={"name": "n", "q": "river"}),
    ),
    ("GET", "/searches/{saved_id}"): (
        False,
        lambda s, r, i: _page(s, r, "GET", f"/searches/{_saved(s, r)}"),
    ),
    ("POST", "/searches/{saved_id}/delete"): (
        False,
        lambda s, r, i: _page(s, r, "POST", f"/searches/{_saved(s, r)}/delete"),
    ),
    ("POST", "/search/bulk/tag"): (
        False,
        lambda s, r, i: _page(
            s, r, "POST", "/search/bulk/tag", data={"tag": "x", "item": [str(_hit(s)[0])]}
        ),
    ),
    ("POST", "/search/bulk/request"): (
        False,
        lambda s, r, i: _page(
            s,
            r,
            "POST",
            "/search/bulk/request",
            data={"request_id": str(_rfa(s)), "item": [str(_hit(s)[0])]},
        ),
    ),
    ("GET", "/packages"): (False, lambda s, r, i: _page(s, r, "GET", "/packages")),
    ("GET", "/packages/{package_id}"): (
        False,
        lambda s, r, i: _page(s, r, "GET", f"/packages/{s.packages[BLUE_J]}"),
    ),
    ("GET", "/packages/{package_id}/download"): (
        False,
        lambda s, r, i: _page(s, r, "GET", f"/packages/{s.packages[BLUE_J]}/download"),
    ),
    ("GET", "/metrics"): (False, lambda s, r, i: _page(s, r, "GET", "/metrics")),
}
PUBLIC = {("GET", "/signin"), ("POST", "/signin"), ("GET", "/lang/{code}")}
NOT_API_ROUTES = {"/api/v1/openapi.json", "/static"}


def routes(site: Site) -> list[tuple[str, str, Rule]]:
    found = []
    flat = []
    for route in site.app.routes:  # type: ignore[attr-defined]
        included = getattr(route, "original_router", None)  # FastAPI's include_router wrapper
        flat.extend(included.routes if included is not None else [route])
    for route in flat:
        if not isinstance(route, APIRoute):
            assert route.path in NOT_API_ROUTES, f"{route.path}: a route outside the rule table"
            continue
        rule = rule_of(route)
        assert rule is not None, f"{route.path} declares no access rule (use auth.allow)"
        for method in route.methods:
            found.append((method, route.path, rule))
    return found


def test_every_route_has_a_rule_and_a_case_in_the_matrix(site: Site) -> None:
    for method, path, rule in routes(site):
        if rule.public:
            assert (method, path) in PUBLIC, f"{method} {path} is public: is that intended?"
        else:
            assert (method, path) in API_CASES, f"{method} {path} is missing from the matrix"


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_access_matrix(site: Site, role: str) -> None:
    """Every route × this role × inside/outside its need-to-know → allowed, 403 or 404."""
    failures = []
    for method, path, rule in routes(site):
        if rule.public:
            continue
        scoped, call = API_CASES[(method, path)]
        for inside in (True, False) if scoped else (True,):
            allowed = rule.permission is None or rule.permission in ROLE_PERMISSIONS[Role(role)]
            if not allowed:
                expected = {403}
            elif not inside and role != "admin":
                expected = {404}
            else:
                expected = {200, 201, 303}
            answer = call(site, role, inside)
            where = "inside" if inside else "outside"
            if answer.status_code not in expected:
                failures.append(
                    f"{method} {path} as {role} ({where}): {answer.status_code}, not {expected}"
                )
            elif problem := _wrong_body(path, answer):
                failures.append(f"{method} {path} as {role} ({where}): {problem}")
    assert not failures, "\n".join(failures)


def _wrong_body(path: str, r: Any) -> str | None:
    """A status code alone proves little (a redirect to sign-in is a 303 too): what the
    answer says must fit it."""
    json_body = r.headers.get("content-type", "").startswith("application/json")
    body = r.json() if json_body else None
    if r.status_code in (200, 201):
        if isinstance(body, dict) and "error" in body:
            return f"{r.status_code} with an error: {body['error']}"
        if not json_body and 'action="/signin"' in r.text and 'name="password"' in r.text:
            return "an allowed page shows the sign-in form"
    elif r.status_code == 303:
        if r.headers["location"].startswith("/signin") and path != "/signout":
            return f"redirected to sign-in ({r.headers['location']})"
    elif r.status_code == 403:
        said = body["error"] if isinstance(body, dict) else r.text
        if "may not" not in said:
            return f"403 without the refusal's reason: {said[:120]!r}"
    elif (
        r.status_code == 404
        and path.startswith("/api/")
        and not (isinstance(body, dict) and str(body.get("error", "")).startswith("no "))
    ):
        return f"404 without 'no such …': {body!r}"
    return None


def test_without_signing_in_the_api_says_401_and_pages_go_to_sign_in(site: Site) -> None:
    c = TestClient(site.app)  # type: ignore[arg-type]
    for method, path, rule in routes(site):
        if rule.public:
            continue
        url = re.sub(r"\{[a-z_]+\}", "1", path)
        r = c.request(method, url, follow_redirects=False)
        if path.startswith("/api/"):
            assert r.status_code == 401, (method, path, r.status_code)
            assert r.json() == {"error": "sign in first"}
        else:
            assert r.status_code == 303 and r.headers["location"].startswith("/signin?next="), (
                method,
                path,
            )
    bad = TestClient(site.app)  # type: ignore[arg-type]
    bad.headers["Authorization"] = "Bearer amanah_not-a-token"
    assert bad.get("/api/v1/me").status_code == 401
