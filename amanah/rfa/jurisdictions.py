"""Competent jurisdictions: the authorities that send requests and receive packages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah.custody import ledger
from amanah.custody.ledger import EventType
from amanah.db.models import Jurisdiction
from amanah.rfa import RequestError

NAMES_A_PROTECTED_PERSON = (
    "a jurisdiction's words must not name a protected person (they are kept and shown in"
    " clear): write the pseudonym"
)


def _refuse_names(s: Session, *texts: str) -> None:
    """A jurisdiction's words are shown, listed and printed on cover letters in clear: none may
    name a protected person (the reason does not say which words)."""
    from amanah.sharing.protected import refuse_names

    refuse_names(s, RequestError(NAMES_A_PROTECTED_PERSON, code="names_protected"), *texts)


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
    _refuse_names(s, code, state, authority, unit, legal_basis, contacts)
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


#: What may be edited: everything but the code (requests, accounts and frameworks refer to it).
EDITABLE = ("state", "authority", "unit", "legal_basis", "contacts")


def edit(s: Session, code: str, actor: str, **changes: str | None) -> list[str]:
    """Change some of a jurisdiction's record, with the checks of `add`; returns the fields
    that changed (none: no event). The custody event names the fields, never their text
    (contacts hold people's names)."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise RequestError(
            f"{unknown[0]}: not a field of a jurisdiction that can be edited"
            f" (fields: {', '.join(EDITABLE)})"
        )
    row = get(s, code)
    changed = []
    for name, value in changes.items():
        if value is None:
            continue
        value = value.strip()
        if name in ("state", "authority") and not value:
            raise RequestError(f"{name}: a jurisdiction needs its state and its authority")
        if value != getattr(row, name):
            changed.append(name)
    if not changed:
        return []
    _refuse_names(s, *((changes[n] or "") for n in changed))
    for name in changed:
        setattr(row, name, (changes[name] or "").strip())
    s.flush()
    ledger.append(
        s,
        EventType.JURISDICTION_CHANGE,
        actor=actor,
        object_type="jurisdiction",
        object_id=row.code,
        details={"changed": [n for n in EDITABLE if n in changed]},
    )
    return [n for n in EDITABLE if n in changed]


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
