"""API tokens for scripts: made with an expiry, revocable one by one or all of a user's at once,
listed without their secret. A token works only while it is not revoked, not expired, its user
is enabled and the user's session epoch has not risen since it was made (a password reset or a
disable ends every token at once, see amanah.access.users).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from amanah.access.users import (
    LAST_USE_PRECISION,
    Account,
    AccountError,
    account_of,
    aware,
    digest,
    iso,
    now,
    record_change,
    user_named,
)
from amanah.db.models import ApiToken, User
from amanah.workspace import Workspace


@dataclass(frozen=True)
class IssuedToken:
    id: int
    secret: str  # shown once, never stored
    expires_at: datetime


def issue_token(
    ws: Workspace,
    name: str,
    label: str = "",
    *,
    expires_in_days: int | None = None,
    by: str = "",
    address: str | None = None,
    at: datetime | None = None,
) -> IssuedToken:
    """A new API token for `name`, valid `expires_in_days` (default: the installation's
    `token_expiry_days`); only its hash is kept, so it is shown once."""
    days = expires_in_days if expires_in_days is not None else ws.settings.token_expiry_days
    if not 1 <= days <= 3650:
        raise AccountError(f"a token's life must be 1 to 3650 days, not {days}")
    at = at or now()
    token = "amanah_" + secrets.token_urlsafe(32)
    with ws.db.session() as s:
        from amanah.sharing.protected import LABEL_NAMES_PROTECTED, refuse_names

        refuse_names(s, AccountError(LABEL_NAMES_PROTECTED), label)
        u = user_named(s, name)
        if u.disabled:
            raise AccountError(f"user {name!r} is disabled; enable it first")
        row = ApiToken(
            user_id=u.id,
            token_hash=digest(token),
            label=label[:200],
            created_at=at,
            created_by=by,
            expires_at=at + timedelta(days=days),
            revoked=False,
            session_epoch=u.session_epoch,
        )
        s.add(row)
        s.flush()
        record_change(
            s,
            u,
            "token created",
            by=by or u.name,
            address=address,
            token_id=row.id,
            label=row.label,
            expires_at=iso(row.expires_at),
        )
        return IssuedToken(row.id, token, row.expires_at)


def create_token(ws: Workspace, name: str, label: str = "", **options: Any) -> str:
    """`issue_token`, returning only the secret (for scripts and tests)."""
    return issue_token(ws, name, label, **options).secret


def revoke_token(ws: Workspace, token_id: int, *, by: str, address: str | None = None) -> bool:
    """Revoke one token by its id; False when it was already revoked."""
    with ws.db.session() as s:
        row = s.get(ApiToken, token_id)
        if row is None:
            raise AccountError(f"no token with id {token_id} (see `amanah token list`)")
        if row.revoked:
            return False
        row.revoked, row.revoked_at, row.revoked_by = True, now(), by
        u = s.get(User, row.user_id)
        assert u is not None
        record_change(
            s, u, "token revoked", by=by, address=address, token_id=row.id, label=row.label
        )
    return True


def revoke_user_tokens(ws: Workspace, name: str, *, by: str, address: str | None = None) -> int:
    """Revoke every token of a user; how many were still working."""
    with ws.db.session() as s:
        u = user_named(s, name)
        ids = list(
            s.execute(
                select(ApiToken.id).where(ApiToken.user_id == u.id, ApiToken.revoked.is_(False))
            ).scalars()
        )
        if not ids:
            return 0
        s.execute(
            update(ApiToken)
            .where(ApiToken.id.in_(ids))
            .values(revoked=True, revoked_at=now(), revoked_by=by)
            .execution_options(synchronize_session=False)
        )
        record_change(s, u, "tokens revoked", by=by, address=address, token_ids=sorted(ids))
        return len(ids)


def list_tokens(
    ws: Workspace, name: str | None = None, at: datetime | None = None
) -> list[dict[str, Any]]:
    """Tokens with their state (active, expired, revoked); never the secret nor its hash."""
    at = at or now()
    q = select(ApiToken, User.name, User.session_epoch, User.disabled).join(
        User, User.id == ApiToken.user_id
    )
    with ws.db.reader() as s:
        if name is not None:
            user_named(s, name)
            q = q.where(User.name == name)
        rows = s.execute(q.order_by(ApiToken.id)).all()
    out = []
    for t, user, epoch, disabled in rows:
        if t.revoked or t.session_epoch != epoch:
            state = "revoked"
        elif aware(t.expires_at) <= at:
            state = "expired"
        elif disabled:
            state = "user disabled"
        else:
            state = "active"
        out.append(
            {
                "id": t.id,
                "user": user,
                "label": t.label,
                "state": state,
                "created_at": iso(t.created_at),
                "created_by": t.created_by,
                "expires_at": iso(t.expires_at),
                "last_used_at": iso(t.last_used_at),
                "revoked_at": iso(t.revoked_at),
                "revoked_by": t.revoked_by or None,
            }
        )
    return out


def _valid_token(token: str, at: datetime) -> Any:
    return (
        select(User, ApiToken.id, ApiToken.last_used_at)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == digest(token),
            ApiToken.revoked.is_(False),
            ApiToken.expires_at > at,
            ApiToken.session_epoch == User.session_epoch,
            User.disabled.is_(False),
        )
    )


def token_account(s: Session, token: str, at: datetime | None = None) -> Account | None:
    """The account a bearer token acts for, if the token is still valid: not revoked, not
    expired, its user enabled and not reset since it was made."""
    row = s.execute(_valid_token(token, at or now())).first()
    return None if row is None else account_of(row[0])


def use_token(ws: Workspace, token: str, at: datetime | None = None) -> Account | None:
    """`token_account`, noting the token's last use (at most once a minute: a busy script
    must not cost a write per request)."""
    at = at or now()
    with ws.db.reader() as s:
        row = s.execute(_valid_token(token, at)).first()
    if row is None:
        return None
    user, token_id, last = row
    if last is None or aware(last) < at - LAST_USE_PRECISION:
        ws.db.write_soon(
            lambda s: s.execute(
                update(ApiToken)
                .where(ApiToken.id == token_id)
                .values(last_used_at=at)
                .execution_options(synchronize_session=False)
            )
        )
    return account_of(user)
