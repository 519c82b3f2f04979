"""Protected persons (witnesses, sources) and finding their names in any spelling recorded.

Names are matched as sequences of normalised words (the search analyzer's stems: hamza,
ta marbuta, alef maqsura, harakat, the article and attached particles are folded), so
"أحمد الخطيب" is also found as "احمد الخطيب" or "وأحمد الخطيب", and "Ahmad al-Khatib" as
"AHMAD AL KHATIB". The leak check
also reads each word reversed, since PDF text layers sometimes store Arabic in visual order.
Names never go into the custody ledger or a log: only pseudonyms do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah.access import Caller, Permission
from amanah.db.models import ProtectedPerson
from amanah.sharing import SharingError
from amanah.text.analyzer import exact_form, spans, stem_form, words

ROLES = ("witness", "source", "victim", "other")
_WORD_RUNS = re.compile(r"\b\w{2,}+(?:[\s\-\u00ad\u200b-\u200d\u0640]{1,3}+\w{2,}+)++")


@lru_cache(maxsize=200_000)
def _key(word: str) -> str:
    """A folded word's matching key: its stem (article and attached particles removed, so
    that "وأحمد" and "لأحمد" are found as "أحمد"; English words stemmed). Remembered, since
    custody records and texts repeat the same words."""
    return stem_form(exact_form(word))


def name_key(spelling: str) -> tuple[str, ...]:
    return tuple(_key(w) for w in words(spelling))


def add(
    s: Session,
    caller: Caller,
    pseudonym: str,
    spellings: Sequence[str],
    role: str = "witness",
    notes: str = "",
) -> ProtectedPerson:
    caller.require(Permission.MANAGE_REQUESTS)
    pseudonym = pseudonym.strip()
    names = [n.strip() for n in spellings if n.strip()]
    if not pseudonym:
        raise SharingError("a protected person needs a pseudonym (e.g. 'Witness A')")
    if role not in ROLES:
        raise SharingError(f"role {role!r} is not known: choose {', '.join(ROLES)}")
    if not names:
        raise SharingError("give at least one spelling of the name (--name, repeatable)")
    for n in names:
        if not name_key(n):
            raise SharingError(f"spelling {n!r} has no letters to match")
    if s.execute(select(ProtectedPerson.id).where(ProtectedPerson.pseudonym == pseudonym)).first():
        raise SharingError(f"pseudonym {pseudonym!r} is already used; choose another")
    if name_key(pseudonym) and Matcher.of([(pseudonym, names)]).find(pseudonym):
        raise SharingError("the pseudonym must not contain the name itself")
    row = ProtectedPerson(
        pseudonym=pseudonym,
        role=role,
        spellings=json.dumps(names, ensure_ascii=False),
        notes=notes,
        created_at=datetime.now(UTC),
        created_by=caller.actor,
    )
    s.add(row)
    s.flush()
    return row


def add_spelling(s: Session, caller: Caller, pseudonym: str, spelling: str) -> ProtectedPerson:
    caller.require(Permission.MANAGE_REQUESTS)
    row = get(s, pseudonym)
    if not name_key(spelling):
        raise SharingError(f"spelling {spelling!r} has no letters to match")
    names = json.loads(row.spellings)
    if spelling.strip() not in names:
        names.append(spelling.strip())
    row.spellings = json.dumps(names, ensure_ascii=False)
    return row


def get(s: Session, pseudonym: str) -> ProtectedPerson:
    row = s.execute(
        select(ProtectedPerson).where(ProtectedPerson.pseudonym == pseudonym)
    ).scalar_one_or_none()
    if row is None:
        raise SharingError(f"no protected person {pseudonym!r} (see `amanah protected list`)")
    return row


def list_all(s: Session, caller: Caller, with_names: bool = False) -> list[dict[str, Any]]:
    caller.require(Permission.MANAGE_REQUESTS)
    rows = s.execute(select(ProtectedPerson).order_by(ProtectedPerson.pseudonym)).scalars()
    out = []
    for p in rows:
        entry: dict[str, Any] = {
            "pseudonym": p.pseudonym,
            "role": p.role,
            "spellings": len(json.loads(p.spellings)),
        }
        if with_names:
            entry["names"] = json.loads(p.spellings)
        out.append(entry)
    return out


def persons(s: Session) -> list[tuple[str, list[str]]]:
    """Every protected person as (pseudonym, spellings)."""
    return [
        (p.pseudonym, json.loads(p.spellings))
        for p in s.execute(select(ProtectedPerson).order_by(ProtectedPerson.id)).scalars()
    ]


@dataclass(frozen=True)
class Match:
    pseudonym: str
    start: int  # first word (index into the words given)
    end: int  # one past the last word


class Matcher:
    """Every recorded spelling of every protected person, ready to look for in words."""

    def __init__(self, patterns: list[tuple[tuple[str, ...], str]]) -> None:
        self._by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for key, pseudonym in patterns:
            self._by_first.setdefault(key[0], []).append((key, pseudonym))

    @classmethod
    def of(cls, persons: Sequence[tuple[str, Sequence[str]]]) -> Matcher:
        patterns = []
        for pseudonym, names in persons:
            for n in names:
                key = name_key(n)
                if key:
                    patterns.append((key, pseudonym))
        return cls(patterns)

    @classmethod
    def load(cls, s: Session) -> Matcher:
        return cls.of(persons(s))

    def __bool__(self) -> bool:
        return bool(self._by_first)

    def in_forms(self, forms: Sequence[str]) -> list[Match]:
        """Matches in a sequence of exact forms (one per word)."""
        if self._by_first.keys().isdisjoint(forms):
            return []  # the common case, decided in C
        found = []
        for i, form in enumerate(forms):
            for key, pseudonym in self._by_first.get(form, ()):
                if tuple(forms[i : i + len(key)]) == key:
                    found.append(Match(pseudonym, i, i + len(key)))
        return found

    def find(self, text: str) -> set[str]:
        """Pseudonyms of everyone named in a text, reading each word as written and reversed,
        and the words of a line in either order."""
        if not self._by_first or not text:
            return set()
        found: set[str] = set()
        for line in text.splitlines() or [text]:
            folded = words(line)
            if not folded:
                continue
            for forms in ([_key(w) for w in folded], [_key(w[::-1]) for w in folded]):
                found.update(m.pseudonym for m in self.in_forms(forms))
                found.update(m.pseudonym for m in self.in_forms(forms[::-1]))
        return found

    def in_words(self, line: Sequence[str]) -> list[tuple[int, str]]:
        """Indices of the words (tokens of one line, e.g. from a PDF or OCR) that are part of a
        name, in reading order or in visual order."""
        flat: list[tuple[int, str]] = []
        for index, token in enumerate(line):
            flat.extend((index, _key(w)) for w in words(token))
        forms = [f for _, f in flat]
        hits: list[tuple[int, str]] = []
        for m in self.in_forms(forms):
            hits.extend((flat[k][0], m.pseudonym) for k in range(m.start, m.end))
        backwards = forms[::-1]
        for m in self.in_forms(backwards):
            n = len(forms)
            hits.extend((flat[n - 1 - k][0], m.pseudonym) for k in range(m.start, m.end))
        return sorted(set(hits))

    def pseudonymise(self, text: str) -> tuple[str, int]:
        """The text with each name replaced by [pseudonym]; and how many were replaced."""
        if not self._by_first or not text:
            return text, 0
        found = list(spans(text))
        matches = self.in_forms([sp.stem for sp in found])
        out, last, count = [], 0, 0
        for m in sorted(matches, key=lambda m: m.start):
            start, end = found[m.start].start, found[m.end - 1].end
            if start < last:
                continue
            out.append(text[last:start])
            out.append(f"[{m.pseudonym}]")
            last, count = end, count + 1
        out.append(text[last:])
        return "".join(out), count

    def find_in_bytes(self, data: bytes) -> set[str]:
        """Pseudonyms named anywhere in raw bytes read as UTF-8, UTF-16 (both orders) and
        Windows-1256: the last net under every reader."""
        if not self._by_first or not data:
            return set()
        found: set[str] = set()
        for encoding in ("utf-8", "utf-16-le", "utf-16-be", "cp1256"):
            for start in (0, 1) if encoding.startswith("utf-16") else (0,):
                text = data[start:].decode(encoding, errors="ignore")
                # Only runs of two words or more can hold a name: found at C speed, so that
                # binary data (which decodes to noise) costs little.
                found |= self.find("\n".join(m.group() for m in _WORD_RUNS.finditer(text)))
        return found
