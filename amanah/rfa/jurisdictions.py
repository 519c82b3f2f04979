"""Competent jurisdictions: the authorities that send requests and receive packages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah.db.models import Jurisdiction
from amanah.rfa import RequestError

NAMES_A_PROTECTED_PERSON = (
    "a jurisdiction's words must not name a protected person (they are kept and shown in"
    " clear): write the pseudonym"
)


def refuse_names(s: Session, *texts: str) -> None:
    """A jurisdiction's words are shown, listed and printed on cover letters in clear: none may
    name a protected person (the reason does not say which words)."""
    from amanah.sharing.protected import named_in

    if any(named_in(s, t) for t in texts):
        raise RequestError(NAMES_A_PROTECTED_PERSON, code="names_protected")


def add(
    s: Session,
    code: str,
    *,
    state: str,
    authority: str,
    unit: str = "",
    legal_basis: str = "",
    contacts: str = "",
) -> Jurisdiction:
    code = code.strip()
    if not code or len(code) > 40 or any(c.isspace() for c in code):
        raise RequestError(f"{code!r}: a jurisdiction code is one word of at most 40 characters")
    if not state.strip() or not authority.strip():
        raise RequestError("a jurisdiction needs its state and its authority")
    if s.execute(select(Jurisdiction.id).where(Jurisdiction.code == code)).first():
        raise RequestError(f"a jurisdiction with code {code!r} already exists")
    refuse_names(s, code, state, authority, unit, legal_basis, contacts)
    row = Jurisdiction(
        code=code,
        state=state.strip(),
        authority=authority.strip(),
        unit=unit.strip(),
        legal_basis=legal_basis.strip(),
        contacts=contacts.strip(),
        created_at=datetime.now(UTC),
    )
    s.add(row)
    s.flush()
    return row


def get(s: Session, code: str) -> Jurisdiction:
    row = s.execute(select(Jurisdiction).where(Jurisdiction.code == code)).scalar_one_or_none()
    if row is None:
        raise RequestError(f"no jurisdiction {code!r} (see `amanah jurisdiction list`)")
    return row


def as_dict(j: Jurisdiction) -> dict[str, Any]:
    return {
        "code": j.code,
        "state": j.state,
        "authority": j.authority,
        "unit": j.unit,
        "legal_basis": j.legal_basis,
        "contacts": j.contacts,
    }


def list_all(s: Session) -> list[dict[str, Any]]:
    return [
        as_dict(j) for j in s.execute(select(Jurisdiction).order_by(Jurisdiction.code)).scalars()
    ]
