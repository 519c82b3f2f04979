"""Who is calling: a bearer token (scripts) or a session cookie (browsers), and CSRF.

Every route declares its rule with `allow(...)`: the permission it needs, or that it is
public. The access-matrix test reads these rules from the route table, so a route without
one fails the suite.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from amanah.access import Caller, Permission
from amanah.access.tokens import use_token
from amanah.access.users import caller_for, session_account
from amanah.workspace import Workspace

if TYPE_CHECKING:
    from amanah.processing.sandbox_pool import SandboxPool

SESSION_COOKIE = "amanah_session"
LANG_COOKIE = "amanah_lang"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class NotSignedIn(Exception):
    """No valid session or token (401 for the API, a redirect to sign-in for pages)."""


class BadCsrf(Exception):
    """A form or request from a browser session without the session's CSRF token (403)."""


@dataclass(frozen=True)
class Rule:
    """What a route needs: nothing (public), a signed-in user, or a permission."""

    permission: Permission | None
    public: bool = False


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.cache
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(n, strict=False) for n in trusted)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket is the IPv4 client.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def client_address(peer: str, forwarded_for: list[str], trusted: tuple[str, ...]) -> str:
    """Who is calling: the peer, unless the peer is a trusted proxy; then the right-most
    address of X-Forwarded-For that is not itself a trusted proxy.

    Each proxy appends the address it saw, so only entries right of the first untrusted one
    were written by someone we trust; anything further left is the client's own claim. A
    malformed entry where a trusted proxy should have written ends the walk at the last
    trusted hop, never at a claim."""
    nets = _networks(trusted)

    def is_trusted(ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
        return ip is not None and any(ip in n for n in nets)

    peer_ip = _ip(peer)
    if not nets or not is_trusted(peer_ip):
        return peer
    last = str(peer_ip)
    hops = [h for value in forwarded_for for h in value.split(",") if h.strip()]
    for hop in reversed(hops):
        ip = _ip(hop)
        if ip is None:
            return last
        if not is_trusted(ip):
            return str(ip)
        last = str(ip)
    return last


def address(request: Request) -> str:
    """The caller's network address, the one recorded in sign-in limits, the search log and
    custody events (see `client_address`)."""
    peer = request.client.host if request.client else ""
    trusted = request.app.state.ws.settings.trusted_proxies
    if not trusted:
        return peer
    return client_address(peer, request.headers.getlist("x-forwarded-for"), trusted)


def workspace(request: Request) -> Workspace:
    ws: Workspace = request.app.state.ws
    return ws


def sandboxes(request: Request) -> SandboxPool:
    """The app's warm sandboxes, lent to redaction and its previews (amanah.web.app owns them)."""
    pool: SandboxPool = request.app.state.sandboxes
    return pool


def identify(request: Request) -> tuple[Caller, str | None] | None:
    """The caller and, for a browser session, its CSRF token; None when not signed in."""
    ws = workspace(request)
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        token = use_token(ws, auth[7:].strip())  # notes the token's last use
        if token is None:
            return None
        with ws.db.reader() as s:
            return caller_for(s, token, address(request)), None
    sid = request.cookies.get(SESSION_COOKIE)
    if not sid:
        return None
    with ws.db.reader() as s:
        found = session_account(s, sid)
        if found is None:
            return None
        account, csrf = found
        return caller_for(s, account, address(request)), csrf


async def _check_csrf(request: Request, expected: str) -> None:
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf")
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, expected):
        raise BadCsrf("this form has expired or did not come from this site; reload the page")


def allow(permission: Permission | None = None, *, public: bool = False) -> Callable[..., object]:
    """A FastAPI dependency that signs the caller in and checks the route's permission."""
    rule = Rule(permission, public)

    async def dependency(request: Request) -> Caller | None:
        found = await run_in_threadpool(identify, request)  # database work off the event loop
        if found is None:
            if public:
                return None
            raise NotSignedIn("sign in first")
        caller, csrf = found
        if csrf is not None and request.method in UNSAFE and not public:
            await _check_csrf(request, csrf)  # public forms (sign-in) carry their own token
        if permission is not None:
            caller.require(permission)
        request.state.caller = caller
        request.state.csrf = csrf
        return caller

    dependency.rule = rule  # type: ignore[attr-defined]
    return dependency
