"""Which version of the name-parts parser the names of this database were parsed with, and
parsing them all again when it changed (`amanah upgrade`).

The parts and blocking keys of every entity name are derived by the one name matcher
(`amanah.text.name_match`) when a name is added. A new matcher reads names differently, and
the names kept before it would then be found by other keys than new ones: they must be parsed
again (`amanah entity name parse --all`). The parser's version is its behaviour, not a number
someone must remember to raise: a digest of what it makes of a fixed set of probe names (their
parts and keys). Each full re-parse is a custody event that records that digest; the last one
says which parser the database was parsed with."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import desc, func, select
from sqlalchemy.orm import Session

from amanah.access import Caller
from amanah.db.models import CustodyEvent, EntityName
from amanah.entities.nameparts import backfill, parts_of
from amanah.entities.store import record
from amanah.text import name_match as nm

#: Raise it when the parser changes in a way the probes below would not show (2: the keys by
#: sound read ث as th, a Latin v as و too, j as خ too, Hungarian sz and cs, pinyin x, a
#: silent English gh, English long vowels).
PARSER_VERSION = 2
#: Names that exercise every part the parser reads: ism, father, grandfather, family and
#: nisba, kunya, compounds with عبد, the article, and Latin transliterations.
PROBES = (
    "محمد أحمد عبد الله الحلبي",
    "أبو عمر خالد بن يوسف القباني",
    "فاطمة بنت علي حسن الخطيب",
    "عبد الرحمن محمود الحمصي",
    "Mohammad Ahmad Abdullah al-Halabi",
    "Abu Omar Khaled bin Yusuf Qabbani",
)
ACTION = "parse names"


def parser_digest() -> str:
    """The running parser's version: its number and a digest of its reading of the probes."""
    seen: list[Any] = [PARSER_VERSION]
    for name in PROBES:
        seen.append([name, parts_of(name), sorted(nm.keys(name))])
    blob = json.dumps(seen, ensure_ascii=False, sort_keys=True).encode()
    return f"{PARSER_VERSION}:{hashlib.sha256(blob).hexdigest()[:16]}"


def parsed_with(s: Session) -> str | None:
    """The parser digest recorded by the last full re-parse (None: none was recorded)."""
    rows = s.execute(
        select(CustodyEvent.details)
        .where(CustodyEvent.object_type == "entity", CustodyEvent.object_id == "0")
        .order_by(desc(CustodyEvent.seq))
    ).scalars()
    for raw in rows:
        try:
            details = json.loads(raw)
        except json.JSONDecodeError:
            continue
        if details.get("action") == ACTION and details.get("all") and details.get("parser"):
            return str(details["parser"])
    return None


def reparse_if_changed(s: Session, caller: Caller) -> dict[str, Any]:
    """Parse every entity name again when the parser is not the one the names were parsed
    with (or no full parse was ever recorded and there are names); record it with the parser
    digest. Says what it found and did."""
    names = s.execute(select(func.count()).select_from(EntityName)).scalar_one()
    current = parser_digest()
    before = parsed_with(s)
    if before == current or (before is None and not names):
        return {"parser": current, "was": before, "names": names, "parsed": 0}
    n = backfill(s, caller, everything=True)
    record(s, caller, "entity", 0, action=ACTION, names=n, all=True, parser=current, was=before)
    return {"parser": current, "was": before, "names": names, "parsed": n}
