"""Editing a cooperation framework's terms: the same rules as recording one
(`intake.registry.check_framework`), and a custody event for each change.

Terms decide what may leave the repository, so a change to them is evidence of how a
disclosure was allowed: the event names every field that changed, with the old and new value
of the closed-list fields and dates (kind, disclosure, named jurisdictions, attribution,
confidentiality, signature and end); free text (title, parties, scope, the agreement's words)
is named, never copied, so no name written in it reaches the ledger.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from amanah.custody import ledger
from amanah.custody.ledger import EventType
from amanah.db.models import Framework, FrameworkJurisdiction, Jurisdiction, Provider
from amanah.intake.registry import RegistryError, check_framework, check_framework_words

#: What may be edited (the provider may not: a framework is that provider's agreement).
EDITABLE = (
    "title",
    "kind",
    "disclosure",
    "jurisdictions",
    "parties",
    "signed_on",
    "expires_on",
    "scope",
    "attribution_required",
    "confidentiality",
    "terms",
)
#: Fields whose values the custody event records (closed lists, dates, a yes/no).
RECORDED = (
    "kind",
    "disclosure",
    "jurisdictions",
    "signed_on",
    "expires_on",
    "attribution_required",
    "confidentiality",
)


def current(s: Session, framework_id: int) -> dict[str, Any]:
    """A framework's editable fields as they stand (parties: the others, not the provider)."""
    fw = s.get(Framework, framework_id)
    if fw is None:
        raise RegistryError(
            f"no cooperation framework {framework_id} (see `amanah framework list`)"
        )
    named = s.execute(
        select(Jurisdiction.code)
        .join(FrameworkJurisdiction, FrameworkJurisdiction.jurisdiction_id == Jurisdiction.id)
        .where(FrameworkJurisdiction.framework_id == fw.id)
        .order_by(Jurisdiction.code)
    ).scalars()
    provider = s.get(Provider, fw.provider_id)
    parties = [p for p in json.loads(fw.parties or "[]")]
    if provider is not None and parties[:1] == [provider.name]:
        parties = parties[1:]
    return {
        "provider": provider.name if provider is not None else "",
        "title": fw.title,
        "kind": fw.kind,
        "disclosure": fw.disclosure,
        "jurisdictions": list(named),
        "parties": parties,
        "signed_on": fw.signed_on,
        "expires_on": fw.expires_on,
        "scope": fw.scope,
        "attribution_required": fw.attribution_required,
        "confidentiality": fw.confidentiality,
        "terms": fw.terms,
    }


def _shown(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def edit(s: Session, framework_id: int, actor: str, **changes: Any) -> list[str]:
    """Change some of a framework's terms; returns the fields that changed (none: no event).

    Raises RegistryError naming the field that is wrong, before anything is written."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise RegistryError(
            f"{unknown[0]}: not a field of a framework that can be edited"
            f" (fields: {', '.join(EDITABLE)})"
        )
    before = current(s, framework_id)
    after = dict(before)
    for name, value in changes.items():
        if value is None:
            continue
        if name in ("jurisdictions", "parties"):
            value = list(dict.fromkeys(str(v).strip() for v in value if str(v).strip()))
            if name == "jurisdictions":  # a set, kept in code order as `current` reads it
                value = sorted(value)
        elif isinstance(value, str) and name not in ("terms", "scope"):
            value = value.strip()
        after[name] = value
    check_framework(
        after["title"],
        after["kind"],
        after["disclosure"],
        after["confidentiality"],
        after["jurisdictions"],
        after["signed_on"],
        after["expires_on"],
    )
    check_framework_words(s, after["title"], after["terms"], after["scope"], *after["parties"])
    changed = [n for n in EDITABLE if after[n] != before[n]]
    if not changed:
        return []
    ids = []
    for code in after["jurisdictions"]:
        found = s.execute(select(Jurisdiction.id).where(Jurisdiction.code == code)).scalar()
        if found is None:
            raise RegistryError(
                f"jurisdictions: no jurisdiction {code!r} (see `amanah jurisdiction list`)"
            )
        ids.append(found)
    fw = s.get(Framework, framework_id)
    assert fw is not None
    for name in ("title", "kind", "disclosure", "signed_on", "expires_on", "scope"):
        setattr(fw, name, after[name])
    fw.attribution_required = bool(after["attribution_required"])
    fw.confidentiality = after["confidentiality"]
    fw.terms = after["terms"]
    fw.parties = json.dumps([before["provider"], *after["parties"]], ensure_ascii=False)
    if "jurisdictions" in changed:
        s.execute(delete(FrameworkJurisdiction).where(FrameworkJurisdiction.framework_id == fw.id))
        for jid in ids:
            s.add(FrameworkJurisdiction(framework_id=fw.id, jurisdiction_id=jid))
    s.flush()
    ledger.append(
        s,
        EventType.FRAMEWORK_CHANGE,
        actor=actor,
        object_type="framework",
        object_id=fw.id,
        details={
            "changed": changed,
            "before": {n: _shown(before[n]) for n in changed if n in RECORDED},
            "after": {n: _shown(after[n]) for n in changed if n in RECORDED},
        },
    )
    return changed
