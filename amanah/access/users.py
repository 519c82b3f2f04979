"""Accounts: users with a role and compartment grants, passwords, API tokens, web sessions.

Secrets are never stored: passwords as argon2 hashes, tokens and session ids as SHA-256.
An account can be cut off at once: disabling it or resetting its password raises its session
epoch, which ends every browser session and API token made before; tokens also expire and can
be revoked one by one. Each such change is a custody event (never with a secret in it).
Sign-in failures are limited per name and per address (amanah.access.limits).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from amanah.access import Caller, Permission, Role, all_compartments, limits
from amanah.custody import ledger
from amanah.custody.ledger import EventType
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
LAST_USE_PRECISION = timedelta(minutes=1)
#: The one answer for an unknown name, a wrong password and a disabled account.
WRONG = "unknown user name or wrong password"
MIN_PASSWORD = 10
NAME_RE = re.compile(r"^[\w.@+-]{1,100}$")

_hasher = PasswordHasher()


ACCOUNT_NAMES_PROTECTED = (
    "a user's name and provider must not name a protected person (they are kept and shown in"
    " clear): choose another"
)


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
    epoch: int = 0  # the user's session epoch when the password was checked


def now() -> datetime:
    return datetime.now(UTC)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def aware(at: datetime) -> datetime:
    """SQLite gives times back without their zone; every time here is UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def iso(at: datetime | None) -> str | None:
    return None if at is None else aware(at).isoformat()


def account_of(u: User) -> Account:
    return Account(
        u.id,
        u.name,
        Role(u.role),
        u.provider_id,
        u.language,
        u.jurisdiction_id,
        u.session_epoch or 0,
    )


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
    address: str | None = None,
    create_provider: bool = True,
) -> Account:
    """Create an account; a provider's account must name its provider (created if new, unless
    `create_provider` is False: the web form picks from a list, so that a misspelt name is an
    error instead of an orphan provider), a recipient's its jurisdiction (which must exist)."""
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
        from amanah.sharing.protected import COMPARTMENT_NAMES_PROTECTED, refuse_names

        refuse_names(s, AccountError(ACCOUNT_NAMES_PROTECTED), name, provider)
        refuse_names(s, AccountError(COMPARTMENT_NAMES_PROTECTED), *compartments)
        provider_id = None
        if provider:
            p = s.execute(select(Provider).where(Provider.name == provider)).scalar_one_or_none()
            if p is None and not create_provider:
                raise AccountError(f"no provider {provider!r}; choose one of the list")
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
            session_epoch=0,
        )
        s.add(u)
        s.flush()
        granted = list(dict.fromkeys(compartments))
        for c in granted:
            s.add(Grant(user_id=u.id, compartment=c, granted_at=now(), granted_by=by))
        record_change(
            s,
            u,
            "created",
            by=by,
            address=address,
            role=r.value,
            compartments=granted,
            provider=provider,
            jurisdiction=jurisdiction,
        )
        return account_of(u)


def ensure_administrator(ws: Workspace) -> str | None:
    """On a first run, create `admin` with a random password and return it (shown once)."""
    with ws.db.reader() as s:
        if s.execute(select(User.id).where(User.role == Role.ADMIN.value)).first():
            return None
    password = secrets.token_urlsafe(12)
    add_user(ws, "admin", Role.ADMIN.value, password, by="amanah serve (first run)")
    return password


def user_named(s: Session, name: str) -> User:
    u = s.execute(select(User).where(User.name == name)).scalar_one_or_none()
    if u is None:
        raise AccountError(f"no user named {name!r}")
    return u


def record_change(
    s: Session, u: User, change: str, *, by: str, address: str | None = None, **details: Any
) -> None:
    """One custody event for a change to an account: who, whose, what. Never a secret."""
    found: dict[str, Any] = {"user": u.name, "change": change, **details}
    if address:
        found["address"] = address
    ledger.append(
        s, EventType.ACCOUNT_CHANGE, actor=by, object_type="user", object_id=u.id, details=found
    )


def _end_access(s: Session, u: User, by: str, at: datetime) -> tuple[int, int]:
    """End every session and token of `u` at once: (sessions ended, tokens revoked).

    The epoch rises first, so a session or token being made from the old state right now
    (its password already checked) is refused on its first use."""
    u.session_epoch = (u.session_epoch or 0) + 1
    sessions = s.execute(delete(WebSession).where(WebSession.user_id == u.id)).rowcount  # type: ignore[attr-defined]
    tokens = s.execute(
        update(ApiToken)
        .where(ApiToken.user_id == u.id, ApiToken.revoked.is_(False))
        .values(revoked=True, revoked_at=at, revoked_by=by)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return int(sessions or 0), int(tokens or 0)


def set_password(
    ws: Workspace, name: str, password: str, *, by: str, address: str | None = None
) -> tuple[int, int]:
    """A new password ends every session and token of the user: (sessions, tokens) ended."""
    check_password(password)
    with ws.db.session() as s:
        u = user_named(s, name)
        u.password_hash = _hasher.hash(password)
        sessions, tokens = _end_access(s, u, by, now())
        record_change(
            s,
            u,
            "password reset",
            by=by,
            address=address,
            sessions_ended=sessions,
            tokens_revoked=tokens,
        )
    return sessions, tokens


def set_disabled(
    ws: Workspace, name: str, disabled: bool, *, by: str, address: str | None = None
) -> bool:
    """Disable (cut off at once: sessions end, tokens are revoked) or enable an account.

    Enabling gives back sign-in, not the old tokens. False when nothing changed. The last
    enabled administrator cannot be disabled (nobody could enable anyone again)."""
    with ws.db.session() as s:
        u = user_named(s, name)
        if bool(u.disabled) == disabled:
            return False
        details: dict[str, Any] = {}
        if disabled:
            if u.role == Role.ADMIN.value:
                admins = s.execute(
                    select(func.count())
                    .select_from(User)
                    .where(User.role == Role.ADMIN.value, User.disabled.is_(False))
                ).scalar_one()
                if admins <= 1:
                    raise AccountError(
                        f"{name!r} is the last enabled administrator; enable or add another first"
                    )
            sessions, tokens = _end_access(s, u, by, now())
            details = {"sessions_ended": sessions, "tokens_revoked": tokens}
        u.disabled = disabled
        record_change(
            s, u, "disabled" if disabled else "enabled", by=by, address=address, **details
        )
    return True


def grant(
    ws: Workspace,
    name: str,
    compartment: str,
    by: str,
    revoke: bool = False,
    address: str | None = None,
) -> None:
    """Grant or take away a compartment; a change of need-to-know is a custody event."""
    with ws.db.session() as s:
        if not revoke:  # a compartment's name is kept and shown in clear (taking it away is not)
            from amanah.sharing.protected import COMPARTMENT_NAMES_PROTECTED, refuse_names

            refuse_names(s, AccountError(COMPARTMENT_NAMES_PROTECTED), compartment)
        u = user_named(s, name)
        g = s.get(Grant, (u.id, compartment))
        if revoke and g is not None:
            s.delete(g)
        elif not revoke and g is None:
            s.add(Grant(user_id=u.id, compartment=compartment, granted_at=now(), granted_by=by))
        else:
            return
        change = "compartment revoked" if revoke else "compartment granted"
        record_change(s, u, change, by=by, address=address, compartment=compartment)


@dataclass(frozen=True)
class Choices:
    """What an account may be given, for the forms that create and change accounts: lists to
    choose from instead of free text that a typo turns into something new."""

    providers: tuple[str, ...]
    compartments: tuple[str, ...]
    jurisdictions: tuple[tuple[str, str], ...]  # (code, authority)


def choices(ws: Workspace) -> Choices:
    with ws.db.reader() as s:
        return Choices(
            providers=tuple(s.execute(select(Provider.name).order_by(Provider.name)).scalars()),
            compartments=tuple(sorted(all_compartments(s))),
            jurisdictions=tuple(
                (c, n)
                for c, n in s.execute(
                    select(Jurisdiction.code, Jurisdiction.authority).order_by(Jurisdiction.code)
                ).all()
            ),
        )


def list_users(ws: Workspace) -> list[dict[str, object]]:
    """Accounts with role, grants, provider or jurisdiction, state and working tokens."""
    with ws.db.reader() as s:
        grants: dict[int, list[str]] = {}
        for g in s.execute(select(Grant).order_by(Grant.compartment)).scalars():
            grants.setdefault(g.user_id, []).append(g.compartment)
        providers = {i: n for i, n in s.execute(select(Provider.id, Provider.name)).all()}
        codes = {i: c for i, c in s.execute(select(Jurisdiction.id, Jurisdiction.code)).all()}
        working = dict(
            s.execute(
                select(ApiToken.user_id, func.count())
                .join(User, User.id == ApiToken.user_id)
                .where(
                    ApiToken.revoked.is_(False),
                    ApiToken.expires_at > now(),
                    ApiToken.session_epoch == User.session_epoch,
                )
                .group_by(ApiToken.user_id)
            ).all()
        )
        return [
            {
                "name": u.name,
                "role": u.role,
                "compartments": grants.get(u.id, []),
                "provider": providers.get(u.provider_id) if u.provider_id else None,
                "jurisdiction": codes.get(u.jurisdiction_id) if u.jurisdiction_id else None,
                "disabled": u.disabled,
                "tokens": int(working.get(u.id, 0)),
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


def authenticate(
    ws: Workspace, name: str, password: str, address: str, at: datetime | None = None
) -> Account:
    """Check a password, slowing guessers down; one message for every kind of failure.

    The attempt first reserves a place under the name's and the address's limits, in one
    transaction (amanah.access.limits): parallel guesses cannot all pass a count read before
    any of them was recorded, and a right password past the limit is refused like a wrong one
    until the window passes. The hash is checked outside any write transaction: Argon2 takes
    tens of milliseconds on purpose, and other writers must not wait for it."""
    at = at or now()
    keys = (limits.name_key(name), limits.address_key(address))
    with ws.db.session() as s:
        if not (
            limits.reserve(s, keys[0], MAX_FAILURES_PER_NAME, FAILURE_WINDOW, at)
            and limits.reserve(s, keys[1], MAX_FAILURES_PER_ADDRESS, FAILURE_WINDOW, at)
        ):
            # Raising rolls the transaction back: a refused attempt takes no place.
            raise TooManyAttempts(
                "too many failed sign-ins; wait 15 minutes or ask an administrator"
            )
    with ws.db.reader() as s:
        u = s.execute(select(User).where(User.name == name)).scalar_one_or_none()
        if u is not None:
            s.expunge(u)
    ok = False
    if u is not None and u.password_hash and not u.disabled:
        try:
            ok = _hasher.verify(u.password_hash, password)
        except (VerificationError, InvalidHashError):
            ok = False
    else:
        _hasher.hash(password)  # the same time for unknown or disabled names: no probing
    with ws.db.session() as s:
        if not ok:
            s.add(SignInAttempt(name=name[:200], address=address[:100], at=at))
        else:
            limits.release(s, keys[0], all_of_them=True)
            limits.release(s, keys[1])
            s.execute(delete(SignInAttempt).where(SignInAttempt.name == name))
    if not ok or u is None:
        raise AccountError(WRONG)
    return account_of(u)


def open_session(
    ws: Workspace, account: Account, address: str, at: datetime | None = None
) -> tuple[str, str]:
    """A new browser session: (cookie value, CSRF token).

    Refused when the account was disabled or its password changed since it was checked."""
    at = at or now()
    sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with ws.db.session() as s:
        u = s.get(User, account.id)
        if u is None or u.disabled or u.session_epoch != account.epoch:
            raise AccountError(WRONG)
        s.execute(delete(WebSession).where(WebSession.expires_at < at))
        s.add(
            WebSession(
                id_hash=digest(sid),
                user_id=account.id,
                csrf=csrf,
                created_at=at,
                expires_at=at + timedelta(hours=SESSION_HOURS),
                address=address[:100],
                session_epoch=account.epoch,
            )
        )
    return sid, csrf


def session_account(s: Session, sid: str, at: datetime | None = None) -> tuple[Account, str] | None:
    """The account and CSRF token behind a session cookie, if it is still valid: not signed
    out, not past its 12 hours, its user enabled and not reset since."""
    row = s.execute(
        select(User, WebSession.csrf)
        .join(WebSession, WebSession.user_id == User.id)
        .where(
            WebSession.id_hash == digest(sid),
            WebSession.expires_at > (at or now()),
            WebSession.session_epoch == User.session_epoch,
            User.disabled.is_(False),
        )
    ).first()
    if row is None:
        return None
    return account_of(row[0]), row[1]


def close_session(ws: Workspace, sid: str) -> None:
    with ws.db.session() as s:
        s.execute(delete(WebSession).where(WebSession.id_hash == digest(sid)))


def account_known(s: Session, caller: Caller, other: Caller) -> bool:
    """Whether an account exists for the caller: one that shares a compartment with it, or
    any for who manages accounts. Another compartment's account (its name, that it is
    disabled, that it may not see something) is answered as no account at all. A provider's
    account counts by the compartments of its own collections (`compartments_seen`): it
    holds every compartment only as a formality, and another provider's account is not a
    colleague of everyone."""
    from amanah.access.items import compartments_seen

    if caller.can(Permission.MANAGE_USERS):
        return True
    return bool(set(compartments_seen(s, caller)) & set(compartments_seen(s, other)))
