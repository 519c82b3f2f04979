"""Accounts: users with a role and compartment grants, passwords, API tokens, web sessions.

Secrets are never stored: passwords as argon2 hashes, tokens and session ids as SHA-256.
Failed sign-ins are kept so that guessing slows down per name and per address.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from amanah.access import Caller, Role, all_compartments
from amanah.db.models import (
    ApiToken,
    Grant,
    Jurisdiction,
    Provider,
    SignInAttempt,
    User,
    WebSession,
)
from amanah.workspace import Workspace

SESSION_HOURS = 12
#: Failed sign-ins allowed in the window, per user name and per network address.
MAX_FAILURES_PER_NAME = 5
MAX_FAILURES_PER_ADDRESS = 20
FAILURE_WINDOW = timedelta(minutes=15)
MIN_PASSWORD = 10
NAME_RE = re.compile(r"^[\w.@+-]{1,100}$")

_hasher = PasswordHasher()


class AccountError(Exception):
    """A user name, role, password or token that cannot be accepted; says which and why."""


class TooManyAttempts(AccountError):
    pass


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    role: Role
    provider_id: int | None
    language: str
    jurisdiction_id: int | None = None


def now() -> datetime:
    return datetime.now(UTC)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _account(u: User) -> Account:
    return Account(u.id, u.name, Role(u.role), u.provider_id, u.language, u.jurisdiction_id)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")


def add_user(
    ws: Workspace,
    name: str,
    role: str,
    password: str | None,
    *,
    compartments: tuple[str, ...] = (),
    provider: str | None = None,
    jurisdiction: str | None = None,
    language: str = "en",
    by: str,
) -> Account:
    """Create an account; a provider's account must name its provider (created if new), a
    recipient's its jurisdiction (which must exist)."""
    if not NAME_RE.match(name):
        raise AccountError(
            f"{name!r} is not a usable user name (letters, digits and . _ @ + - only)"
        )
    try:
        r = Role(role)
    except ValueError:
        raise AccountError(
            f"no role {role!r}; choose one of {', '.join(x.value for x in Role)}"
        ) from None
    if r is Role.PROVIDER and not provider:
        raise AccountError("a provider account needs --provider NAME (whose uploads it makes)")
    if provider and r is not Role.PROVIDER:
        raise AccountError("--provider is only for accounts with the provider role")
    if r is Role.RECIPIENT and not jurisdiction:
        raise AccountError("a recipient account needs --jurisdiction CODE (whose packages it sees)")
    if jurisdiction and r is not Role.RECIPIENT:
        raise AccountError("--jurisdiction is only for accounts with the recipient role")
    if password is not None:
        check_password(password)
    with ws.db.session() as s:
        if s.execute(select(User.id).where(User.name == name)).first():
            raise AccountError(f"a user named {name!r} already exists")
        provider_id = None
        if provider:
            p = s.execute(select(Provider).where(Provider.name == provider)).scalar_one_or_none()
            if p is None:
                p = Provider(name=provider, created_at=now())
                s.add(p)
                s.flush()
            provider_id = p.id
        jurisdiction_id = None
        if jurisdiction:
            j = s.execute(
                select(Jurisdiction).where(Jurisdiction.code == jurisdiction)
            ).scalar_one_or_none()
            if j is None:
                raise AccountError(
                    f"no jurisdiction {jurisdiction!r} (see `amanah jurisdiction list`)"
                )
            jurisdiction_id = j.id
        u = User(
            name=name,
            role=r.value,
            password_hash=_hasher.hash(password) if password else "",
            provider_id=provider_id,
            jurisdiction_id=jurisdiction_id,
            language=language,
            disabled=False,
            created_at=now(),
            created_by=by,
        )
        s.add(u)
        s.flush()
        for c in dict.fromkeys(compartments):
            s.add(Grant(user_id=u.id, compartment=c, granted_at=now(), granted_by=by))
        return _account(u)


def ensure_administrator(ws: Workspace) -> str | None:
    """On a first run, create `admin` with a random password and return it (shown once)."""
    with ws.db.reader() as s:
        if s.execute(select(User.id).where(User.role == Role.ADMIN.value)).first():
            return None
    password = secrets.token_urlsafe(12)
    add_user(ws, "admin", Role.ADMIN.value, password, by="amanah serve (first run)")
    return password


def set_password(ws: Workspace, name: str, password: str) -> None:
    check_password(password)
    with ws.db.session() as s:
        u = s.execute(select(User).where(User.name == name)).scalar_one_or_none()
        if u is None:
            raise AccountError(f"no user named {name!r}")
        u.password_hash = _hasher.hash(password)
        s.execute(delete(WebSession).where(WebSession.user_id == u.id))


def grant(ws: Workspace, name: str, compartment: str, by: str, revoke: bool = False) -> None:
    with ws.db.session() as s:
        u = s.execute(select(User).where(User.name == name)).scalar_one_or_none()
        if u is None:
            raise AccountError(f"no user named {name!r}")
        g = s.get(Grant, (u.id, compartment))
        if revoke and g is not None:
            s.delete(g)
        elif not revoke and g is None:
            s.add(Grant(user_id=u.id, compartment=compartment, granted_at=now(), granted_by=by))


def list_users(ws: Workspace) -> list[dict[str, object]]:
    with ws.db.reader() as s:
        grants: dict[int, list[str]] = {}
        for g in s.execute(select(Grant).order_by(Grant.compartment)).scalars():
            grants.setdefault(g.user_id, []).append(g.compartment)
        providers = {i: n for i, n in s.execute(select(Provider.id, Provider.name)).all()}
        codes = {i: c for i, c in s.execute(select(Jurisdiction.id, Jurisdiction.code)).all()}
        return [
            {
                "name": u.name,
                "role": u.role,
                "compartments": grants.get(u.id, []),
                "provider": providers.get(u.provider_id) if u.provider_id else None,
                "jurisdiction": codes.get(u.jurisdiction_id) if u.jurisdiction_id else None,
                "disabled": u.disabled,
                "created_at": u.created_at.isoformat(),
            }
            for u in s.execute(select(User).order_by(User.name)).scalars()
        ]


def caller_for(s: Session, account: Account, address: str | None = None) -> Caller:
    """The caller a signed-in account acts as: its grants (an administrator holds all)."""
    if account.role in (Role.ADMIN, Role.PROVIDER):
        # A provider's account is held to its provider by `provider_id`, not by compartments.
        compartments = all_compartments(s)
    else:
        compartments = frozenset(
            s.execute(select(Grant.compartment).where(Grant.user_id == account.id)).scalars()
        )
    return Caller(
        actor=f"user:{account.name}",
        compartments=compartments,
        role=account.role,
        user_id=account.id,
        provider_id=account.provider_id if account.role is Role.PROVIDER else None,
        address=address,
        jurisdiction_id=account.jurisdiction_id if account.role is Role.RECIPIENT else None,
    )


def authenticate(ws: Workspace, name: str, password: str, address: str) -> Account:
    """Check a password, slowing guessers down; one message for every kind of failure.

    The hash is checked outside any write transaction: Argon2 takes tens of milliseconds on
    purpose, and other writers must not wait for it."""
    since = now() - FAILURE_WINDOW
    with ws.db.reader() as s:
        by_name, by_address = s.execute(
            select(
                func.count().filter(SignInAttempt.name == name),
                func.count().filter(SignInAttempt.address == address),
            ).where(
                SignInAttempt.at >= since,
                or_(SignInAttempt.name == name, SignInAttempt.address == address),
            )
        ).one()
        u = s.execute(select(User).where(User.name == name)).scalar_one_or_none()
        if u is not None:
            s.expunge(u)
    if by_name >= MAX_FAILURES_PER_NAME or by_address >= MAX_FAILURES_PER_ADDRESS:
        raise TooManyAttempts("too many failed sign-ins; wait 15 minutes or ask an administrator")
    ok = False
    if u is not None and u.password_hash and not u.disabled:
        try:
            ok = _hasher.verify(u.password_hash, password)
        except (VerificationError, InvalidHashError):
            ok = False
    else:
        _hasher.hash(password)  # the same time for unknown names, so they cannot be probed
    with ws.db.session() as s:
        if not ok:
            s.add(SignInAttempt(name=name[:200], address=address[:100], at=now()))
        else:
            s.execute(delete(SignInAttempt).where(SignInAttempt.name == name))
    if not ok or u is None:
        raise AccountError("unknown user name or wrong password")
    return _account(u)


def open_session(ws: Workspace, account: Account, address: str) -> tuple[str, str]:
    """A new browser session: (cookie value, CSRF token)."""
    sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with ws.db.session() as s:
        s.execute(delete(WebSession).where(WebSession.expires_at < now()))
        s.add(
            WebSession(
                id_hash=_digest(sid),
                user_id=account.id,
                csrf=csrf,
                created_at=now(),
                expires_at=now() + timedelta(hours=SESSION_HOURS),
                address=address[:100],
            )
        )
    return sid, csrf


def session_account(s: Session, sid: str) -> tuple[Account, str] | None:
    """The account and CSRF token behind a session cookie, if it is still valid."""
    row = s.execute(
        select(User, WebSession.csrf)
        .join(WebSession, WebSession.user_id == User.id)
        .where(WebSession.id_hash == _digest(sid), WebSession.expires_at > now())
    ).first()
    if row is None or row[0].disabled:
        return None
    return _account(row[0]), row[1]


def close_session(ws: Workspace, sid: str) -> None:
    with ws.db.session() as s:
        s.execute(delete(WebSession).where(WebSession.id_hash == _digest(sid)))


def create_token(ws: Workspace, name: str, label: str = "") -> str:
    """A new API token for `name`; only its hash is kept, so it is shown once."""
    token = "amanah_" + secrets.token_urlsafe(32)
    with ws.db.session() as s:
        u = s.execute(select(User).where(User.name == name)).scalar_one_or_none()
        if u is None:
            raise AccountError(f"no user named {name!r}")
        s.add(
            ApiToken(
                user_id=u.id,
                token_hash=_digest(token),
                label=label,
                created_at=now(),
                revoked=False,
            )
        )
    return token


def token_account(s: Session, token: str) -> Account | None:
    u = s.execute(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == _digest(token), ApiToken.revoked.is_(False))
    ).scalar_one_or_none()
    if u is None or u.disabled:
        return None
    return _account(u)
