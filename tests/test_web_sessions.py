"""Evidence is never live content; sessions, CSRF, sign-in limits, redirects, API errors."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import amanah_here
from tests.webfixtures import Site, sign_in


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
    amanah_here(site.ws.home, "user", "add", "guessme", "--role", "analyst", check=True)
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


def test_a_signed_in_user_can_sign_in_again_as_someone_else(site: Site) -> None:
    c, _ = site.browser("analyst")
    r = sign_in(c, "legal")
    assert r.status_code == 303  # type: ignore[attr-defined]
    assert c.get("/api/v1/me").json()["actor"] == "user:legal"
