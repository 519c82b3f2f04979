"""Accounts that can be cut off, sign-in limits that hold, and sessions that end.

The race runs against a real `amanah serve` on 127.0.0.1 (uvicorn, two web processes); the
clock is moved by passing a time, never by sleeping.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from amanah.access import users as accounts
from amanah.access.tokens import create_token, issue_token, list_tokens, token_account
from amanah.access.users import (
    FAILURE_WINDOW,
    MAX_FAILURES_PER_ADDRESS,
    MAX_FAILURES_PER_NAME,
    SESSION_HOURS,
    WRONG,
    AccountError,
    TooManyAttempts,
    add_user,
    authenticate,
    now,
    session_account,
)
from amanah.config import ConfigError, write_default_config
from amanah.db.models import CustodyEvent, SignInAttempt, SignInLimit
from amanah.web.app import create_app
from amanah.web.auth import SESSION_COOKIE, client_address
from amanah.workspace import Workspace, open_workspace
from tests.conftest import amanah
from tests.servers import start_serve, stop_process
from tests.webfixtures import PASSWORD, sign_in

NEW_PASSWORD = "another long password"


@dataclass
class Home:
    ws: Workspace
    app: object

    @property
    def path(self) -> Path:
        return self.ws.home

    def client(self, peer: str = "testclient") -> TestClient:
        return TestClient(self.app, client=(peer, 50000))  # type: ignore[arg-type]

    def api(self, token: str) -> TestClient:
        c = self.client()
        c.headers["Authorization"] = f"Bearer {token}"
        return c

    def browser(self, name: str, password: str = PASSWORD, peer: str = "testclient") -> TestClient:
        c = self.client(peer)
        r = sign_in(c, name, password)
        assert r.status_code == 303, r.text  # type: ignore[attr-defined]
        return c

    def events(self, change: str | None = None) -> list[dict[str, object]]:
        with self.ws.db.reader() as s:
            rows = s.execute(
                select(CustodyEvent)
                .where(CustodyEvent.event_type == "account change")
                .order_by(CustodyEvent.seq)
            ).scalars()
            found = [
                {"actor": e.actor, "object_id": e.object_id, **json.loads(e.details)} for e in rows
            ]
        return [e for e in found if change is None or e["change"] == change]


def _configure(home: Path, line: str) -> None:
    """Set one `key = value` of amanah.toml in place of the template's default."""
    if not line:
        return
    config = home / "amanah.toml"
    key = line.split("=")[0].strip()
    text, n = re.subn(rf"(?m)^{key} = .*$", line.strip(), config.read_text(encoding="utf-8"))
    assert n == 1, key
    config.write_text(text, encoding="utf-8")


def _make_home(path: Path, extra_config: str = "") -> Home:
    write_default_config(path)
    _configure(path, extra_config)
    ws = open_workspace(path)
    for name, role in (("admin", "admin"), ("rania", "analyst"), ("omar", "analyst")):
        add_user(ws, name, role, PASSWORD, compartments=("blue",), by="local:test")
    return Home(ws, create_app(ws))


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Home]:
    h = _make_home(tmp_path / "home")
    yield h
    h.ws.close()


def _form_said(response: object, name: str) -> str:
    """A sign-in page as the person sees it, without its fresh CSRF token and typed name."""
    text = re.sub(r'name="csrf" value="[^"]+"', "", response.text)  # type: ignore[attr-defined]
    return text.replace(f'value="{name}"', "")


def _csrf(c: TestClient) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', c.get("/users").text)
    assert found
    return found.group(1)


# --- cutting an account off ---------------------------------------------------------------------


def test_disable_ends_the_session_and_token_and_enable_lets_sign_in_again(home: Home) -> None:
    token = create_token(home.ws, "rania")
    browser = home.browser("rania")
    assert browser.get("/api/v1/me").json()["actor"] == "user:rania"
    admin = home.browser("admin")
    r = admin.post(
        "/users/disable", data={"name": "rania", "csrf": _csrf(admin)}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/users"

    assert browser.get("/api/v1/me").json() == {"error": "sign in first"}
    assert browser.get("/api/v1/me").status_code == 401
    page = browser.get("/search?q=x", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/signin?next=")
    assert home.api(token).get("/api/v1/me").status_code == 401
    # The sign-in form says the same for a disabled account as for a wrong password.
    disabled = sign_in(home.client(), "rania")
    wrong = sign_in(home.client(), "omar", "not the password")
    assert disabled.status_code == wrong.status_code == 401  # type: ignore[attr-defined]
    assert WRONG in disabled.text  # type: ignore[attr-defined]
    assert _form_said(disabled, "rania") == _form_said(wrong, "omar")

    event = home.events("disabled")[-1]
    assert event["actor"] == "user:admin" and event["user"] == "rania"
    assert event["sessions_ended"] == 1 and event["tokens_revoked"] == 1
    assert event["address"] == "testclient"

    r = home.api(create_token(home.ws, "admin")).post("/api/v1/users/rania/enable")
    assert r.json() == {"user": "rania", "disabled": False, "changed": True}
    assert home.events("enabled")[-1]["user"] == "rania"
    again = home.browser("rania")
    assert again.get("/api/v1/me").json()["actor"] == "user:rania"
    # Enabling gives sign-in back, not the old token.
    assert home.api(token).get("/api/v1/me").status_code == 401
    # Negative control: omar was never touched and still works.
    assert home.browser("omar").get("/api/v1/me").status_code == 200


def test_the_cli_disables_and_enables_and_keeps_the_last_administrator(home: Home) -> None:
    r = amanah(home.path, "user", "disable", "rania")
    assert r.returncode == 0 and r.stdout.strip() == "user rania disabled"
    r = amanah(home.path, "user", "disable", "rania")
    assert r.returncode == 0 and "already disabled" in r.stdout
    rows = json.loads(amanah(home.path, "user", "list", "--json", check=True).stdout)
    assert {r["name"]: r["disabled"] for r in rows} == {
        "admin": False,
        "omar": False,
        "rania": True,
    }
    r = amanah(home.path, "token", "create", "rania")
    assert r.returncode == 2 and "disabled" in r.stderr
    r = amanah(home.path, "user", "disable", "admin")
    assert r.returncode == 2 and "last enabled administrator" in r.stderr
    r = amanah(home.path, "user", "disable", "nobody")
    assert r.returncode == 2 and "no user named 'nobody'" in r.stderr
    amanah(home.path, "user", "enable", "rania", check=True)
    assert [e["change"] for e in home.events() if e["user"] == "rania"] == [
        "created",
        "disabled",
        "enabled",
    ]
    assert home.events("disabled")[0]["actor"].startswith("os:")  # type: ignore[union-attr]
    table = amanah(home.path, "user", "list", check=True).stdout
    assert re.search(r"rania\s.*analyst.*enabled", table)


def test_revoking_one_token_leaves_the_others_working(home: Home) -> None:
    first = issue_token(home.ws, "rania", "first", by="local:test")
    second = issue_token(home.ws, "rania", "second", by="local:test")
    r = amanah(home.path, "token", "revoke", str(first.id))
    assert r.returncode == 0 and r.stdout.strip() == f"token {first.id} revoked"
    assert home.api(first.secret).get("/api/v1/me").status_code == 401
    assert home.api(second.secret).get("/api/v1/me").json()["actor"] == "user:rania"

    listed = amanah(home.path, "token", "list", "--user", "rania", "--json", check=True).stdout
    assert first.secret not in listed and second.secret not in listed
    states = {t["id"]: t for t in json.loads(listed)}
    assert states[first.id]["state"] == "revoked" and states[first.id]["revoked_by"]
    assert states[second.id]["state"] == "active" and states[second.id]["last_used_at"]
    assert states[first.id]["last_used_at"] is None
    assert set(states[first.id]) == {
        "id",
        "user",
        "label",
        "state",
        "created_at",
        "created_by",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    }
    event = home.events("token revoked")[-1]
    assert event["token_id"] == first.id and event["user"] == "rania"

    r = amanah(home.path, "token", "revoke", "--user", "rania")
    assert r.returncode == 0 and "1 token(s) of rania revoked" in r.stdout
    assert home.api(second.secret).get("/api/v1/me").status_code == 401
    assert home.events("tokens revoked")[-1]["token_ids"] == [second.id]
    r = amanah(home.path, "token", "revoke", "999")
    assert r.returncode == 2 and "no token with id 999" in r.stderr
    r = amanah(home.path, "token", "revoke")
    assert r.returncode == 2 and "a token id or --user NAME" in r.stderr


def test_the_web_revokes_tokens_for_administrators_only(home: Home) -> None:
    target = issue_token(home.ws, "omar", "nightly", by="local:test")
    analyst = home.api(create_token(home.ws, "rania"))
    assert analyst.post(f"/api/v1/tokens/{target.id}/revoke").status_code == 403
    assert analyst.get("/api/v1/tokens").status_code == 403
    assert home.api(target.secret).get("/api/v1/me").status_code == 200

    admin = home.browser("admin")
    page = admin.get("/tokens?user=omar").text
    assert "nightly" in page and target.secret not in page
    r = admin.post(
        "/tokens/revoke",
        data={"token": str(target.id), "csrf": _csrf(admin)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert home.api(target.secret).get("/api/v1/me").status_code == 401
    listed = home.api(create_token(home.ws, "admin")).get("/api/v1/tokens", params={"user": "omar"})
    assert [(t["id"], t["state"]) for t in listed.json()] == [(target.id, "revoked")]
    assert target.secret not in listed.text


def test_an_expired_token_is_refused(tmp_path: Path) -> None:
    h = _make_home(tmp_path / "home", "token_expiry_days = 7\n")
    try:
        old = issue_token(h.ws, "rania", by="local:test", at=now() - timedelta(days=8))
        fresh = issue_token(h.ws, "rania", by="local:test")
        assert abs(fresh.expires_at - (now() + timedelta(days=7))) < timedelta(minutes=1)
        assert h.api(old.secret).get("/api/v1/me").status_code == 401
        assert h.api(fresh.secret).get("/api/v1/me").status_code == 200  # negative control
        # The clock moved past the fresh token's seven days: refused too.
        with h.ws.db.reader() as s:
            assert token_account(s, fresh.secret) is not None
            assert token_account(s, fresh.secret, at=now() + timedelta(days=7, seconds=1)) is None
        states = {t["id"]: t["state"] for t in list_tokens(h.ws, "rania")}
        assert states == {old.id: "expired", fresh.id: "active"}
        r = amanah(h.path, "token", "create", "rania", "--expires-in", "2", check=True)
        assert re.search(r"token \d+ for rania, expires ", r.stderr)
        token = r.stdout.strip()
        listed = json.loads(amanah(h.path, "token", "list", "--json", check=True).stdout)
        newest = max(listed, key=lambda t: t["id"])
        assert newest["expires_at"][:10] == (now() + timedelta(days=2)).date().isoformat()
        assert token not in json.dumps(listed)
        r = amanah(h.path, "token", "create", "rania", "--expires-in", "0")
        assert r.returncode == 2 and "1 to 3650 days" in r.stderr
    finally:
        h.ws.close()


def test_a_password_reset_ends_every_session_and_token(home: Home) -> None:
    token = create_token(home.ws, "rania")
    browser = home.browser("rania")
    other = home.browser("omar")
    r = amanah(
        home.path, "user", "password", "rania", "--password-stdin", input=NEW_PASSWORD + "\n"
    )
    assert r.returncode == 0, r.stderr
    assert "1 session(s) ended, 1 token(s) revoked" in r.stdout and NEW_PASSWORD not in r.stdout
    assert browser.get("/api/v1/me").status_code == 401
    assert home.api(token).get("/api/v1/me").status_code == 401
    assert other.get("/api/v1/me").status_code == 200  # another user's session is untouched
    assert sign_in(home.client(), "rania", PASSWORD).status_code == 401  # type: ignore[attr-defined]
    assert home.browser("rania", NEW_PASSWORD).get("/api/v1/me").status_code == 200
    event = home.events("password reset")[-1]
    assert event["user"] == "rania" and event["sessions_ended"] == 1
    assert event["tokens_revoked"] == 1
    r = amanah(home.path, "user", "password", "rania", "--password-stdin", input="short\n")
    assert r.returncode == 2 and "at least 10 characters" in r.stderr
    r = amanah(home.path, "user", "password", "rania")  # a random one, shown once
    assert r.returncode == 0 and "password (shown once): " in r.stdout


def test_a_password_checked_before_a_reset_opens_no_session(home: Home) -> None:
    """The race a session epoch closes: the old password was right when it was checked."""
    account = authenticate(home.ws, "rania", PASSWORD, "192.0.2.1")
    accounts.set_password(home.ws, "rania", NEW_PASSWORD, by="local:test")
    with pytest.raises(AccountError, match=WRONG):
        accounts.open_session(home.ws, account, "192.0.2.1")
    token = issue_token(home.ws, "rania", by="local:test")
    account = authenticate(home.ws, "rania", NEW_PASSWORD, "192.0.2.1")
    accounts.set_disabled(home.ws, "rania", True, by="local:test")
    with pytest.raises(AccountError, match=WRONG):
        accounts.open_session(home.ws, account, "192.0.2.1")
    with home.ws.db.reader() as s:
        assert token_account(s, token.secret) is None


def test_no_password_or_token_is_in_the_ledger(home: Home, tmp_path: Path) -> None:
    token = issue_token(home.ws, "rania", "export job", by="local:test")
    amanah(home.path, "token", "revoke", str(token.id), check=True)
    amanah(home.path, "user", "password", "omar", "--password-stdin", input=NEW_PASSWORD + "\n")
    amanah(home.path, "user", "disable", "omar", check=True)
    amanah(home.path, "user", "grant", "omar", "red", check=True)
    amanah(home.path, "custody", "export", str(tmp_path / "ledger"), check=True)
    exported = b"".join(p.read_bytes() for p in (tmp_path / "ledger").rglob("*") if p.is_file())
    assert b"account change" in exported and b"omar" in exported  # the events are there
    for secret in (token.secret, PASSWORD, NEW_PASSWORD, token.secret.removeprefix("amanah_")):
        assert secret.encode() not in exported
    assert [e["change"] for e in home.events() if e["user"] == "omar"] == [
        "created",
        "password reset",
        "disabled",
        "compartment granted",
    ]
    pub = tmp_path / "pub.pem"
    pub.write_bytes(home.ws.key.public_pem)  # pinned: the key the verifier is told to expect
    r = subprocess.run(
        [
            sys.executable,
            str(tmp_path / "ledger" / "verify_ledger.py"),
            str(tmp_path / "ledger"),
            "--public-key",
            str(pub),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr


# --- sessions -----------------------------------------------------------------------------------


def test_a_signed_out_cookie_is_refused(home: Home) -> None:
    c = home.browser("rania")
    stale = c.cookies[SESSION_COOKIE]
    r = c.post("/signout", data={"csrf": _csrf_any(c)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signin"
    replay = home.client()
    replay.cookies.set(SESSION_COOKIE, stale)
    assert replay.get("/api/v1/me").status_code == 401
    page = replay.get("/search?q=x", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/signin?next=%2Fsearch%3Fq%3Dx"
    fresh = home.browser("rania")  # negative control: a live cookie works
    assert fresh.get("/api/v1/me").status_code == 200


def _csrf_any(c: TestClient) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', c.get("/").text)
    assert found
    return found.group(1)


def test_a_session_ends_after_twelve_hours(home: Home) -> None:
    c = home.browser("rania")
    sid = c.cookies[SESSION_COOKIE]
    with home.ws.db.reader() as s:
        assert session_account(s, sid) is not None
        almost = now() + timedelta(hours=SESSION_HOURS) - timedelta(minutes=1)
        assert session_account(s, sid, at=almost) is not None
        later = now() + timedelta(hours=SESSION_HOURS, seconds=1)
        assert session_account(s, sid, at=later) is None
    # A session opened 12 hours ago is refused by the server now.
    sid_old, _ = accounts.open_session(
        home.ws,
        authenticate(home.ws, "omar", PASSWORD, "192.0.2.2"),
        "192.0.2.2",
        at=now() - timedelta(hours=SESSION_HOURS, seconds=1),
    )
    old = home.client()
    old.cookies.set(SESSION_COOKIE, sid_old)
    assert old.get("/api/v1/me").status_code == 401


# --- sign-in limits -----------------------------------------------------------------------------


def test_an_unknown_name_is_answered_like_a_wrong_password(home: Home) -> None:
    unknown = sign_in(home.client(), "nobody-here", PASSWORD)
    wrong = sign_in(home.client(), "rania", "wrong password!")
    assert unknown.status_code == wrong.status_code == 401  # type: ignore[attr-defined]
    assert WRONG in unknown.text and WRONG in wrong.text  # type: ignore[attr-defined]
    with pytest.raises(AccountError, match=WRONG):
        authenticate(home.ws, "nobody-here", PASSWORD, "192.0.2.3")


def test_the_per_address_limit_holds_across_names(home: Home) -> None:
    address, at = "198.51.100.7", now()
    for i in range(MAX_FAILURES_PER_ADDRESS):
        with pytest.raises(AccountError, match=WRONG):
            authenticate(home.ws, f"guess{i}", "wrong password!", address, at=at)
    with pytest.raises(TooManyAttempts):  # the right password of an untouched account
        authenticate(home.ws, "omar", PASSWORD, address, at=at)
    assert authenticate(home.ws, "omar", PASSWORD, "198.51.100.8", at=at).name == "omar"
    later = at + FAILURE_WINDOW + timedelta(seconds=1)
    assert authenticate(home.ws, "omar", PASSWORD, address, at=later).name == "omar"


def test_a_correct_password_resets_the_name_count_and_gives_its_place_back(home: Home) -> None:
    at = now()
    for _ in range(MAX_FAILURES_PER_NAME - 1):
        with pytest.raises(AccountError, match=WRONG):
            authenticate(home.ws, "rania", "wrong password!", "192.0.2.9", at=at)
    authenticate(home.ws, "rania", PASSWORD, "192.0.2.9", at=at)
    with home.ws.db.reader() as s:
        rows = {r.key: r.failures for r in s.execute(select(SignInLimit)).scalars()}
    assert rows == {"name:rania": 0, "address:192.0.2.9": MAX_FAILURES_PER_NAME - 1}


def _race(ws_or_url: object, name: str, attempts: int = 30) -> list[int]:
    """`attempts` wrong passwords at once; the HTTP status (or 401/429) of each."""
    results: list[int] = []
    barrier = threading.Barrier(attempts)
    lock = threading.Lock()

    def one() -> None:
        if isinstance(ws_or_url, str):
            with httpx.Client(base_url=ws_or_url, timeout=60) as c:
                csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/signin").text)
                assert csrf
                barrier.wait()
                r = c.post(
                    "/signin",
                    data={"name": name, "password": "wrong password!", "csrf": csrf.group(1)},
                )
                status = r.status_code
        else:
            barrier.wait()
            try:
                authenticate(ws_or_url, name, "wrong password!", "192.0.2.50")  # type: ignore[arg-type]
                status = 200
            except TooManyAttempts:
                status = 429
            except AccountError:
                status = 401
        with lock:
            results.append(status)

    threads = [threading.Thread(target=one) for _ in range(attempts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def _recorded(ws: Workspace, name: str) -> tuple[int, int]:
    with ws.db.reader() as s:
        failures = s.execute(
            select(SignInLimit.failures).where(SignInLimit.key == f"name:{name}")
        ).scalar_one()
        checked = len(s.execute(select(SignInAttempt.id).where(SignInAttempt.name == name)).all())
    return failures, checked


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A real `amanah serve` on 127.0.0.1 with two web processes (so that two processes race
    on the database, not two threads on one lock) and no job runner; shared by the tests that
    need it, which touch different accounts."""
    home = tmp_path_factory.mktemp("served") / "home"
    amanah(home, "init", check=True)
    for name, role in (("admin", "admin"), ("rania", "analyst"), ("omar", "analyst")):
        amanah(home, "user", "add", name, "--role", role, "--password-stdin",
               input=PASSWORD + "\n", check=True)  # fmt: skip
    proc, base = start_serve(
        home, "--web-workers", "2", "--no-runner", log_path=home.parent / "serve.log"
    )
    try:
        yield base, home
    finally:
        stop_process(proc)


def test_thirty_parallel_wrong_passwords_against_a_real_server(
    served: tuple[str, Path],
) -> None:
    base, home = served
    statuses = _race(base, "rania")
    assert len(statuses) == 30
    assert sorted(set(statuses)) == [401, 429], statuses
    assert statuses.count(401) == MAX_FAILURES_PER_NAME  # only these had a password check
    ws = open_workspace(home)
    try:
        assert _recorded(ws, "rania") == (MAX_FAILURES_PER_NAME, MAX_FAILURES_PER_NAME)
        with httpx.Client(base_url=base, timeout=30) as c:
            csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/signin").text)
            assert csrf
            r = c.post(
                "/signin",
                data={"name": "rania", "password": PASSWORD, "csrf": csrf.group(1)},
                follow_redirects=False,
            )
            assert r.status_code == 429 and "too many failed sign-ins" in r.text
        # Until the window passes, the right password is refused; then it works.
        inside = now() + FAILURE_WINDOW - timedelta(minutes=1)
        with pytest.raises(TooManyAttempts):
            authenticate(ws, "rania", PASSWORD, "127.0.0.1", at=inside)
        after = now() + FAILURE_WINDOW + timedelta(seconds=1)
        assert authenticate(ws, "rania", PASSWORD, "127.0.0.1", at=after).name == "rania"
        # Negative control: admin was not guessed at and signs in.
        assert authenticate(ws, "admin", PASSWORD, "127.0.0.1").name == "admin"
    finally:
        ws.close()


def test_x_forwarded_for_from_an_untrusted_peer_is_ignored_by_the_real_server(
    served: tuple[str, Path],
) -> None:
    base, home = served
    forged = {"X-Forwarded-For": "203.0.113.66"}
    with httpx.Client(base_url=base, timeout=30, headers=forged) as c:
        csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/signin").text)
        assert csrf
        r = c.post(
            "/signin",
            data={"name": "nobody", "password": "wrong password!", "csrf": csrf.group(1)},
        )
        assert r.status_code == 401
        csrf = re.search(r'name="csrf" value="([^"]+)"', r.text)
        assert csrf
        r = c.post(
            "/signin",
            data={"name": "admin", "password": PASSWORD, "csrf": csrf.group(1)},
            follow_redirects=False,
        )
        assert r.status_code == 303
        page = c.get("/users").text
        session_csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert session_csrf
        r = c.post(
            "/users/disable",
            data={"name": "omar", "csrf": session_csrf.group(1)},
            follow_redirects=False,
        )
        assert r.status_code == 303
    ws = open_workspace(home)
    try:
        with ws.db.reader() as s:
            event = s.execute(
                select(CustodyEvent).where(CustodyEvent.event_type == "account change")
                .order_by(CustodyEvent.seq.desc())
            ).scalars().first()  # fmt: skip
            assert event is not None
            details = json.loads(event.details)
            assert details["change"] == "disabled" and details["user"] == "omar"
            assert details["address"] == "127.0.0.1"
            tried = (
                s.execute(select(SignInAttempt.address).where(SignInAttempt.name == "nobody"))
                .scalars()
                .all()
            )
            addresses = set(s.execute(select(SignInLimit.key)).scalars())
        assert tried == ["127.0.0.1"]
        assert "address:127.0.0.1" in addresses
        assert not any("203.0.113.66" in a for a in addresses)
    finally:
        ws.close()


def test_x_forwarded_for_is_believed_only_from_a_configured_proxy(tmp_path: Path) -> None:
    h = _make_home(tmp_path / "home", 'trusted_proxies = ["10.0.0.0/8"]\n')
    try:
        forged = {"X-Forwarded-For": "203.0.113.5"}
        # From the proxy: the client it names is the address recorded.
        proxied = h.client("10.1.2.3")
        proxied.headers.update(forged)
        r = sign_in(proxied, "rania", "wrong password!")
        assert r.status_code == 401  # type: ignore[attr-defined]
        # From anyone else: the header is ignored.
        direct = h.client("192.0.2.77")
        direct.headers.update(forged)
        sign_in(direct, "rania", "wrong password!")
        with h.ws.db.reader() as s:
            recorded = sorted(s.execute(select(SignInAttempt.address)).scalars())
        assert recorded == ["192.0.2.77", "203.0.113.5"]
        admin = h.browser("admin", peer="10.1.2.3")
        admin.post(
            "/users/disable",
            data={"name": "omar", "csrf": _csrf(admin)},
            headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.9, 10.0.0.2"},
        )
        assert h.events("disabled")[-1]["address"] == "203.0.113.9"
    finally:
        h.ws.close()


@pytest.mark.parametrize(
    ("peer", "chain", "expected"),
    [
        ("10.0.0.1", ["198.51.100.1"], "198.51.100.1"),
        # A client's own claim on the left is never believed: the right-most untrusted wins.
        ("10.0.0.1", ["1.2.3.4, 198.51.100.1"], "198.51.100.1"),
        ("10.0.0.1", ["1.2.3.4", "198.51.100.1, 10.0.0.7"], "198.51.100.1"),
        # Garbage where a trusted proxy should have written: stop at the last trusted hop.
        ("10.0.0.1", ["198.51.100.1, not-an-address"], "10.0.0.1"),
        ("10.0.0.1", [], "10.0.0.1"),
        ("10.0.0.1", ["10.0.0.3"], "10.0.0.3"),
        ("::ffff:10.0.0.1", ["2001:db8::1"], "2001:db8::1"),
        # Not a trusted peer: the header is ignored, whatever it says.
        ("192.0.2.1", ["198.51.100.1"], "192.0.2.1"),
        ("testclient", ["198.51.100.1"], "testclient"),
    ],
)
def test_client_address(peer: str, chain: list[str], expected: str) -> None:
    assert client_address(peer, chain, ("10.0.0.0/8",)) == expected
    assert client_address(peer, chain, ()) == peer  # no proxies configured: never believed


def test_a_bad_trusted_proxies_setting_stops_the_start(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_default_config(home)
    _configure(home, 'trusted_proxies = ["10.0.0.0/33"]')
    with pytest.raises(ConfigError, match=r"trusted_proxies: '10.0.0.0/33' is not an IP"):
        open_workspace(home)
    r = amanah(home, "user", "list")
    assert r.returncode == 2 and "10.0.0.0/33" in r.stderr


def test_thirty_parallel_wrong_passwords_on_postgresql(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """PostgreSQL's READ COMMITTED is where a count read before a write lets everyone in."""
    from tests.conftest import make_home

    path = make_home(request, tmp_path, "postgresql-file")
    ws = open_workspace(path)
    try:
        add_user(ws, "rania", "analyst", PASSWORD, by="local:test")
        statuses = _race(ws, "rania")
        assert statuses.count(401) == MAX_FAILURES_PER_NAME, statuses
        assert statuses.count(429) == 30 - MAX_FAILURES_PER_NAME
        assert _recorded(ws, "rania") == (MAX_FAILURES_PER_NAME, MAX_FAILURES_PER_NAME)
        with pytest.raises(TooManyAttempts):
            authenticate(ws, "rania", PASSWORD, "192.0.2.51")
    finally:
        ws.close()


# --- errors -------------------------------------------------------------------------------------


def test_an_unexpected_error_shows_no_traceback_or_path(home: Home) -> None:
    app = create_app(home.ws)
    secret_path = "/srv/amanah-home/secret/place.db"

    def boom() -> None:
        raise RuntimeError(f"cannot open {secret_path}")

    app.add_api_route("/api/v1/boom", boom)
    app.add_api_route("/boom", boom)
    c = TestClient(app, raise_server_exceptions=False)
    r = c.get("/api/v1/boom")
    assert r.status_code == 500
    assert re.fullmatch(
        r"internal error \(reference [0-9a-f]{8}\); the administrator can find it in the log",
        r.json()["error"],
    )
    page = c.get("/boom")
    assert page.status_code == 500 and "internal error (reference" in page.text
    for body in (r.text, page.text):
        assert secret_path not in body and "Traceback" not in body and "RuntimeError" not in body


def test_the_upgrade_gives_existing_tokens_an_expiry_and_keeps_them_working(
    tmp_path: Path,
) -> None:
    from alembic import command
    from sqlalchemy import text

    from amanah.db.engine import alembic_config, make_engine

    home = tmp_path / "home"
    write_default_config(home)
    engine = make_engine(f"sqlite:///{home / 'amanah.db'}")
    command.upgrade(alembic_config(engine), "0007")
    secret = "amanah_made-before-expiry-existed"
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO users (name, role, password_hash, language, disabled, created_at,"
                " created_by) VALUES ('old', 'analyst', '', 'en', 0, '2026-01-01', 'test')"
            )
        )
        c.execute(
            text(
                "INSERT INTO api_tokens (user_id, token_hash, label, created_at, revoked)"
                " VALUES (1, :h, '', '2026-01-01', 0)"
            ),
            {"h": accounts.digest(secret)},
        )
    engine.dispose()
    ws = open_workspace(home)  # upgrades to the head
    try:
        [row] = list_tokens(ws)
        assert row["state"] == "active"
        expires = row["expires_at"]
        assert isinstance(expires, str)
        assert expires[:10] == (now() + timedelta(days=90)).date().isoformat()
        with ws.db.reader() as s:
            assert token_account(s, secret) is not None
            assert token_account(s, secret, at=now() + timedelta(days=91)) is None
    finally:
        ws.close()
