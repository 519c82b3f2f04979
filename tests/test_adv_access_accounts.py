"""Accounts of other compartments do not exist for a legal officer assigning a request (an
adversary's, stop 53): the assign form answered "No account has this name." for a name nobody
holds, "This account may not see this request." for a red-only account and "This account is
disabled." for a disabled red account, which told blue's staff who works in red."""

from __future__ import annotations

import re

from amanah.access.users import add_user, set_disabled
from tests.webfixtures import PASSWORD, Site


def _problem(html: str) -> str:
    found = re.search(r'<p class="problem"[^>]*>(.*?)</p>', html, re.S)
    return found.group(1).strip() if found else ""


def test_another_compartments_account_is_answered_as_none(site: Site) -> None:
    add_user(site.ws, "red-handler", "legal", PASSWORD, compartments=("red",), by="local:test")
    add_user(site.ws, "red-gone", "legal", PASSWORD, compartments=("red",), by="local:test")
    set_disabled(site.ws, "red-gone", True, by="local:test")
    add_user(site.ws, "blue-gone", "legal", PASSWORD, compartments=("blue",), by="local:test")
    set_disabled(site.ws, "blue-gone", True, by="local:test")
    rid = site.requests["RFA-XB-PROS"]
    browser, csrf = site.signed_in("legal")
    said = {
        name: _problem(
            browser.post(f"/requests/{rid}/assign", data={"csrf": csrf, "assignee": name}).text
        )
        for name in ("nobody-here", "red-handler", "red-gone", "blue-gone")
    }
    assert said == {
        "nobody-here": "No account has this name.",
        "red-handler": "No account has this name.",
        "red-gone": "No account has this name.",
        "blue-gone": "This account is disabled.",  # a colleague of the caller's compartment
    }


def test_another_providers_account_is_answered_as_none(site: Site) -> None:
    """A provider's account holds every compartment only as a formality: Red CSO's accounts
    (red collections only) are no colleagues of blue's legal officer, active or disabled."""
    add_user(site.ws, "red-cso", "provider", PASSWORD, provider="Red CSO", by="local:test")
    add_user(site.ws, "red-cso-old", "provider", PASSWORD, provider="Red CSO", by="local:test")
    set_disabled(site.ws, "red-cso-old", True, by="local:test")
    rid = site.requests["RFA-XB-PROS"]
    browser, csrf = site.signed_in("legal")
    said = {
        name: _problem(
            browser.post(f"/requests/{rid}/assign", data={"csrf": csrf, "assignee": name}).text
        )
        for name in ("nobody-here", "red-cso", "red-cso-old")
    }
    assert set(said.values()) == {"No account has this name."}, said
    api = site.api("legal")
    answers = {
        name: api.post(
            "/api/v1/requests",
            json={
                "reference": f"RFA-U-{name}",
                "jurisdiction": "XB-PROS",
                "received_on": "2026-02-01",
                "assignee": name,
                "compartments": ["blue"],
            },
        )
        for name in ("nobody-here", "red-cso", "red-cso-old")
    }
    shapes = {(r.status_code, r.text.replace(name, "NAME")) for name, r in answers.items()}
    assert len(shapes) == 1, shapes
