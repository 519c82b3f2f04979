"""The web application: access matrix, need-to-know, audit, uploads, security, i18n, API."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from amanah.access import ROLE_PERMISSIONS, Permission, Role
from amanah.db.models import CustodyEvent, Derivative, Item
from amanah.web.auth import Rule
from tests.conftest import amanah
from tests.personsfixtures import person_run
from tests.webfixtures import BLUE, PASSWORD, RED, Site, build_site, sign_in
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


def _page(site: Site, role: str, method: str, url: str, **kw: Any) -> Any:
    c, csrf = site.browser(role)
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
    ("POST", "/signout"): (False, lambda s, r, i: _page(s, r, "POST", "/signout")),
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
    from amanah.db.models import Collection, Item, Provider

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
    amanah(site.ws.home, "user", "grant", "analyst", "red", check=True)
    r = analyst.get("/api/v1/search", params={"q": "الشاهد"}).json()
    assert {h["collection"] for h in r["hits"]} == {BLUE, RED}
    amanah(site.ws.home, "user", "grant", "analyst", "red", "--revoke", check=True)
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


# --- audit --------------------------------------------------------------------------------------


def _events(site: Site, **where: Any) -> list[CustodyEvent]:
    with site.ws.db.reader() as s:
        q = select(CustodyEvent).order_by(CustodyEvent.seq)
        for k, v in where.items():
            q = q.where(getattr(CustodyEvent, k) == v)
        return list(s.execute(q).scalars())


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
    searches = amanah(site.ws.home, "searches", "--json", check=True)
    logged = json.loads(searches.stdout)
    assert any(s["actor"] == "user:legal" and s["address"] == "testclient" for s in logged)


# --- uploads ------------------------------------------------------------------------------------


def test_a_resumable_upload_gives_the_sha256_receipt_and_records_the_item(site: Site) -> None:
    data = "بيان مرفوع من الميدان\n".encode() * 50_000  # ~1.8 MB, three parts
    api = site.api("intake")
    up = api.post(
        f"/api/v1/collections/{BLUE}/uploads",
        json={"filename": "الميدان/بيان.txt", "size": len(data)},
    ).json()
    uid, third = up["upload_id"], len(data) // 3
    r = api.put(f"/api/v1/uploads/{uid}?offset=0", content=data[:third])
    assert r.json()["received"] == third and not r.json()["complete"]
    # A part sent from the wrong place is refused and says where to resume.
    r = api.put(f"/api/v1/uploads/{uid}?offset=5", content=data[5:third])
    assert r.status_code == 409 and f"send from byte {third}" in r.json()["error"]
    assert api.get(f"/api/v1/uploads/{uid}").json()["received"] == third
    api.put(f"/api/v1/uploads/{uid}?offset={third}", content=data[third : 2 * third])
    r = api.put(f"/api/v1/uploads/{uid}?offset={2 * third}", content=data[2 * third :])
    receipt = r.json()
    assert receipt["complete"] and receipt["sha256"] == hashlib.sha256(data).hexdigest()
    item = site.api("admin").get(f"/api/v1/items/{receipt['item_id']}").json()
    assert item["original_path"] == "الميدان/بيان.txt" and item["sha256"] == receipt["sha256"]
    assert [e["type"] for e in item["custody"]][:2] == ["ingestion", "message digest calculation"]
    assert item["intake"]["actor"] == "user:intake"
    # More bytes than announced are refused; another user cannot touch this upload.
    assert api.put(f"/api/v1/uploads/{uid}?offset=0", content=b"x").status_code == 400
    assert site.api("admin").get(f"/api/v1/uploads/{uid}").status_code == 404
    with site.ws.blobs.open(receipt["sha256"]) as f:
        assert f.read() == data


def test_a_provider_uploads_only_into_its_own_collections(site: Site) -> None:
    provider = site.api("provider")
    ok = provider.post(
        f"/api/v1/collections/{BLUE}/items", params={"filename": "field.txt"}, content=b"field"
    )
    assert ok.status_code == 201
    no = provider.post(
        f"/api/v1/collections/{RED}/items", params={"filename": "field.txt"}, content=b"field"
    )
    assert no.status_code == 404


def test_an_upload_keeps_the_files_modification_time_as_the_browsers_claim(site: Site) -> None:
    """The browser's File.lastModified reaches the ingestion event (marked as its claim) and
    the item, on both upload routes; a time that is no time is refused before any byte."""
    api = site.api("intake")
    when_ms = 1_356_998_400_123  # 2013-01-01T00:00:00.123Z
    up = api.post(
        f"/api/v1/collections/{BLUE}/uploads",
        json={"filename": "dated.txt", "size": 5, "modified": when_ms},
    ).json()
    one = api.put(f"/api/v1/uploads/{up['upload_id']}?offset=0", content=b"dated").json()
    two = api.post(
        f"/api/v1/collections/{BLUE}/items",
        params={"filename": "dated-2.txt", "modified": when_ms},
        content=b"dated two",
    ).json()
    undated = api.post(
        f"/api/v1/collections/{BLUE}/items", params={"filename": "undated.txt"}, content=b"u"
    ).json()
    with site.ws.db.reader() as s:
        for receipt, expected in ((one, when_ms), (two, when_ms), (undated, None)):
            item = s.get(Item, receipt["item_id"])
            assert item is not None
            assert item.mtime_ns == (None if expected is None else expected * 1_000_000)
            event = s.execute(
                select(CustodyEvent).where(
                    CustodyEvent.object_id == str(receipt["item_id"]),
                    CustodyEvent.event_type == "ingestion",
                )
            ).scalar_one()
            details = json.loads(event.details)
            if expected is None:
                assert details["file_times"]["modified"] is None
                assert "file_times_from" not in details
            else:
                assert details["file_times"]["modified"] == "2013-01-01T00:00:00.123000000Z"
                assert details["file_times_from"] == "uploader's browser"
    for bad in (-1, 10**17, "yesterday"):
        r = api.post(
            f"/api/v1/collections/{BLUE}/uploads",
            json={"filename": "bad.txt", "size": 1, "modified": bad},
        )
        assert r.status_code == 422, (bad, r.text)
        r = api.post(
            f"/api/v1/collections/{BLUE}/items",
            params={"filename": "bad.txt", "modified": bad},
            content=b"x",
        )
        assert r.status_code == 422, (bad, r.text)


# --- evidence is never live content, sessions, CSRF, sign-in limits ------------------------------


def test_pages_and_evidence_carry_restrictive_headers(site: Site) -> None:
    c, _ = site.browser("analyst")
    page = c.get("/")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "object-src 'none'" in csp and "unsafe" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    for suffix in ("page.html", "map.svg"):
        r = c.get(f"/api/v1/items/{site.item(suffix)}/content")
        assert r.headers["content-type"] == "application/octet-stream"
        assert r.headers["content-disposition"].startswith("attachment;")
        assert r.headers["content-security-policy"].startswith("sandbox")
        assert r.headers["x-content-type-options"] == "nosniff"
    for suffix in ("page.html", "map.svg"):
        page_html = c.get(f"/items/{site.item(suffix)}").text
        assert page_html.count("<script") == 1  # ours: /static/app.js, nothing from evidence
        assert "onerror=" not in page_html and "onload=" not in page_html


def test_the_session_cookie_is_httponly_and_samesite(site: Site) -> None:
    c = TestClient(site.app)  # type: ignore[arg-type]
    r = sign_in(c, "analyst")
    cookie = r.headers["set-cookie"]  # type: ignore[attr-defined]
    assert "amanah_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_forms_without_the_csrf_token_are_refused(site: Site) -> None:
    c, csrf = site.browser("admin")
    form = {"name": "csrf-test", "provider": "Blue CSO", "compartment": "blue"}
    r = c.post("/collections", data=form, follow_redirects=False)
    assert r.status_code == 403
    r = c.post("/collections", data={**form, "csrf": "forged"}, follow_redirects=False)
    assert r.status_code == 403
    r = c.post("/collections", data={**form, "csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303


def test_sign_in_is_rate_limited_per_name(site: Site) -> None:
    amanah(site.ws.home, "user", "add", "guessme", "--role", "analyst", check=True)
    c = TestClient(site.app)  # type: ignore[arg-type]
    for _ in range(5):
        r = sign_in(c, "guessme", "wrong password!")
        assert r.status_code == 401  # type: ignore[attr-defined]
        assert "unknown user name or wrong password" in r.text  # type: ignore[attr-defined]
    r = sign_in(c, "guessme", "still wrong!!")
    assert r.status_code == 429  # type: ignore[attr-defined]


def test_the_open_redirect_after_sign_in_is_closed(site: Site) -> None:
    c = TestClient(site.app)  # type: ignore[arg-type]
    form = c.get("/signin?next=//evil.example/x")
    assert 'name="next" value="/"' in form.text


def test_api_errors_are_json_with_a_message(site: Site) -> None:
    api = site.api("analyst")
    r = api.get("/api/v1/search", params={"q": 'الشاهد "غير مغلق'})
    assert r.status_code == 400 and r.json()["position"] >= 0 and "^" in r.json()["pointer"]
    r = api.get("/api/v1/search", params={"q": "x", "limit": 0})
    assert r.status_code == 422 and "limit" in r.json()["error"]
    r = api.get("/api/v1/items/not-a-number")
    assert r.status_code == 422 and "item_id" in r.json()["error"]
    r = api.get("/api/v1/nothing-here")
    assert r.status_code == 404 and "error" in r.json()


# --- languages ----------------------------------------------------------------------------------


def test_every_template_string_and_data_word_has_an_arabic_translation() -> None:
    from babel.messages.extract import extract_from_dir

    from amanah.web.i18n import dynamic_messages, translations

    ar = translations("ar")
    found = [
        m[2] if isinstance(m[2], str) else m[2][0]
        for m in extract_from_dir(
            str(Path(__file__).parent.parent / "amanah" / "web" / "templates"),
            method_map=[("**.html", "jinja2")],
            options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
        )
    ]
    assert len(found) > 100
    missing = [m for m in found + dynamic_messages() if ar.gettext(m) == m and m != "SHA-256"]
    assert not missing, missing


def test_arabic_pages_are_rtl_with_arabic_digits_and_english_ltr(site: Site) -> None:
    c, _ = site.browser("analyst")
    c.get("/lang/ar?next=/")
    page = c.get("/search?q=الشاهد").text
    assert '<html lang="ar" dir="rtl">' in page and "بحث" in page
    # the count in Arabic's plural forms (one hit: "نتيجة واحدة"), digits Arabic-Indic
    assert re.search(r"نتيجة واحدة|نتيجتان|[٠-٩]+ نتائج|[٠-٩]+ نتيجة", page)
    assert re.search(r"[٠-٩]+ ملي ثانية", page)
    c.get("/lang/en?next=/")
    page = c.get("/search?q=الشاهد").text
    assert '<html lang="en" dir="ltr">' in page and re.search(r"\b\d+ hits?\b", page)


# --- CLI ----------------------------------------------------------------------------------------


def test_cli_accounts_tokens_and_compartments(site: Site) -> None:
    home = site.ws.home
    r = amanah(
        home,
        "user",
        "add",
        "rania",
        "--role",
        "analyst",
        "--compartment",
        "blue",
        "--password-stdin",
        input="  a password with spaces  \n",
        check=True,
    )
    assert "rania (analyst)" in r.stdout and "shown once" not in r.stdout
    c = TestClient(site.app)  # type: ignore[arg-type]
    assert sign_in(c, "rania", "  a password with spaces  ").status_code == 303  # type: ignore[attr-defined]
    r = amanah(home, "user", "add", "x", "--role", "wizard")
    assert r.returncode == 2 and "no role 'wizard'" in r.stderr
    r = amanah(home, "user", "add", "cso", "--role", "provider")
    assert r.returncode == 2 and "--provider NAME" in r.stderr
    token = amanah(home, "token", "create", "rania", check=True).stdout.strip()
    api = TestClient(site.app)  # type: ignore[arg-type]
    api.headers["Authorization"] = f"Bearer {token}"
    assert api.get("/api/v1/me").json()["actor"] == "user:rania"
    # Moving a collection to another compartment is recorded, and search follows at once.
    assert api.get("/api/v1/search", params={"q": "checkpoint"}).json()["total"] == 1
    amanah(home, "collection", "set", BLUE, "--compartment", "blue-2", check=True)
    try:
        assert api.get("/api/v1/search", params={"q": "checkpoint"}).json()["total"] == 0
        change = _events(site, event_type="restriction change")[-1]
        assert json.loads(change.details)["compartment"] == {"from": "blue", "to": "blue-2"}
        r = amanah(home, "ingest", str(home), "--collection", BLUE, "--compartment", "blue")
        assert r.returncode == 2 and "amanah collection set" in r.stderr
    finally:
        amanah(home, "collection", "set", BLUE, "--compartment", "blue", check=True)


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


def test_amanah_serve_creates_the_administrator_and_runs_the_runner(tmp_path: Path) -> None:
    import subprocess
    import time

    import httpx

    from tests.conftest import REPO

    home = tmp_path / "home"
    amanah(home, "init", check=True)
    amanah(
        home,
        "ingest",
        str(REPO / "docs"),
        "--collection",
        "docs",
        "--provider",
        "P",
        "--quiet",
        check=True,
    )
    from tests.servers import start_serve

    log = tmp_path / "serve.log"
    proc, base = start_serve(home, "--web-workers", "2", log_path=log)
    try:
        first = log.read_text().splitlines()[0]
        assert first.startswith("first run: user admin, password (shown once): ")
        password = first.rsplit(" ", 1)[1].strip()
        c = httpx.Client(base_url=base, timeout=30)
        token = re.search(r'name="csrf" value="([^"]+)"', c.get("/signin").text)
        assert token
        r = c.post("/signin", data={"name": "admin", "password": password, "csrf": token.group(1)})
        assert r.status_code == 303
        # The embedded runner processes what was ingested: the docs become searchable.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            found = c.get("/search", params={"q": "custody"})
            if 'article class="hit"' in found.text:
                break
            time.sleep(1)
        assert 'article class="hit"' in found.text
        c.close()
    finally:
        proc.terminate()
        proc.wait(60)
    time.sleep(1)
    runners = subprocess.run(
        ["pgrep", "-f", f"--home {home} process --follow"], capture_output=True, text=True
    )
    assert runners.stdout.strip() == "", "the runner outlived amanah serve"


def test_two_requests_cannot_append_to_one_upload_at_once(site: Site) -> None:
    from amanah.access.tokens import token_account
    from amanah.access.users import caller_for
    from amanah.intake import upload

    api = site.api("intake")
    uid = api.post(
        f"/api/v1/collections/{BLUE}/uploads", json={"filename": "busy.txt", "size": 4}
    ).json()["upload_id"]
    with site.ws.db.reader() as s:
        account = token_account(s, site.tokens["intake"])
        assert account is not None
        caller = caller_for(s, account)
    busy = upload.Writer(site.ws, caller, uid, 0)  # a request still receiving
    try:
        r = api.put(f"/api/v1/uploads/{uid}?offset=0", content=b"abcd")
        assert r.status_code == 409 and "another request" in r.json()["error"]
    finally:
        busy.abort()
    r = api.put(f"/api/v1/uploads/{uid}?offset=0", content=b"abcd")
    assert r.json()["complete"] and r.json()["sha256"] == hashlib.sha256(b"abcd").hexdigest()


def test_a_signed_in_user_can_sign_in_again_as_someone_else(site: Site) -> None:
    c, _ = site.browser("analyst")
    r = sign_in(c, "legal")
    assert r.status_code == 303  # type: ignore[attr-defined]
    assert c.get("/api/v1/me").json()["actor"] == "user:legal"


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
