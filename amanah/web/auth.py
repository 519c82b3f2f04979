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
from urllib.parse import unquote_to_bytes

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
NOT_UTF8 = "the form is not UTF-8: send its fields in UTF-8"
NOT_UTF8_FLAG = "form_not_utf8"


def _form_is_utf8(ctype: str, body: bytes) -> bool:
    """Whether every field of a form is UTF-8 (raw or percent-encoded). File parts of a
    multipart form are content, not text, and are not asked."""
    try:
        if ctype.lower().startswith(FORM_TYPES[0]):
            for pair in body.split(b"&"):
                for piece in pair.split(b"=", 1):
                    unquote_to_bytes(piece.replace(b"+", b" ")).decode("utf-8")
            return True
        params = (p.strip() for p in ctype.split(";")[1:])
        boundary = next((p[9:].strip('"') for p in params if p.lower().startswith("boundary=")), "")
        if not boundary:
            return True  # the parser refuses it
        for part in body.split(b"--" + boundary.encode("latin-1")):
            head, sep, content = part.partition(b"\r\n\r\n")
            if sep:
                head.decode("utf-8")
                if b"filename=" not in head.lower():
                    content.removesuffix(b"\r\n").decode("utf-8")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return False
    return True


class FormsInUtf8:
    """ASGI middleware: reads a form's body (url-encoded or multipart), notes on the request
    whether its fields are UTF-8, and passes the same bytes on. The parser would read other
    bytes as Latin-1, and a name stored as that mojibake is never matched again; `allow`
    (every route's dependency) refuses such a form with 400 before the route runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in UNSAFE:
            return await self.app(scope, receive, send)
        ctype = dict(scope.get("headers") or []).get(b"content-type", b"").decode("latin-1")
        if not ctype.lower().startswith(FORM_TYPES):
            return await self.app(scope, receive, send)
        chunks, more, last, total = [], True, None, 0
        while more:
            last = await receive()
            if last["type"] != "http.request":
                break
            chunks.append(last.get("body", b""))
            total += len(chunks[-1])
            if total > MAX_FORM_BYTES:  # read before anyone signed in: never without a bound
                return await _too_large(send)
            more = last.get("more_body", False)
        body = b"".join(chunks)
        if not _form_is_utf8(ctype, body):
            scope.setdefault("state", {})[NOT_UTF8_FLAG] = True
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


#: The largest form body read (no form of Amanah's comes near it: a field is at most 1 MiB,
#: and files arrive by the resumable upload, not as forms); past it 413, nothing read further.
MAX_FORM_BYTES = 4 * 1024 * 1024


async def _too_large(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": b"this form is larger than 4 MiB\n"})


async def _check_csrf(request: Request, expected: str) -> None:
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(FORM_TYPES):
        form = await request.form()
        value = form.get("csrf")
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, expected):
        raise BadCsrf("this form has expired or did not come from this site; reload the page")


def allow(permission: Permission | None = None, *, public: bool = False) -> Callable[..., object]:
    """A FastAPI dependency that signs the caller in and checks the route's permission."""
    rule = Rule(permission, public)

    async def dependency(request: Request) -> Caller | None:
        if getattr(request.state, NOT_UTF8_FLAG, False):  # noted by FormsInUtf8
            raise HTTPException(400, NOT_UTF8)
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
