"""Protected persons (witnesses, sources): recorded, sealed, listed, and kept out of clear text.

A name is never stored in clear: each recorded spelling is sealed as keyed digests (HMAC-SHA256
under the home's names key, ``keys/names-hmac.key``, 0600, never in the database; `sealing`),
and found in texts by the matcher (`amanah.sharing.matcher`). A copy of the database alone says
nothing; whoever holds both the database and the key can only confirm guesses. Names go into
the custody ledger or a log only as pseudonyms.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah.access import Caller, Permission
from amanah.db.models import ProtectedPerson
from amanah.sharing import SharingError, sealing
from amanah.sharing.matcher import HIDDEN_NAME, Match, Matcher, _check_sealed, _session_key
from amanah.sharing.names_key import KEY_FILE, SESSION_KEY, key_path, load_or_create_key
from amanah.sharing.sealing import seal
from amanah.text import names as nk

ROLES = ("witness", "source", "victim", "other")
# The names key lives in its own module (the workspace loads it); re-exported for callers.
__all__ = [
    "HIDDEN_NAME",
    "KEY_FILE",
    "SESSION_KEY",
    "Match",
    "Matcher",
    "key_path",
    "load_or_create_key",
    "seal",
]


# -- sealed spellings (`sealing`) ------------------------------------------------------------


def _sealed(row: ProtectedPerson) -> dict[str, Any]:
    try:
        data = json.loads(row.name_digests or "{}")
    except json.JSONDecodeError:
        data = {}
    return data if isinstance(data, dict) else {}


# -- protected persons -----------------------------------------------------------------------


def _check_spellings(spellings: Sequence[str]) -> list[str]:
    names = [n.strip() for n in spellings if n.strip()]
    for n in names:
        if not nk.name_words(n):
            raise SharingError("a spelling has no letters to match")
    return names


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
    if not pseudonym:
        raise SharingError("a protected person needs a pseudonym (e.g. 'Witness A')")
    if role not in ROLES:
        raise SharingError(f"role {role!r} is not known: choose {', '.join(ROLES)}")
    names = _check_spellings(spellings)
    if not names:
        raise SharingError("give at least one spelling of the name (--name, repeatable)")
    if s.execute(select(ProtectedPerson.id).where(ProtectedPerson.pseudonym == pseudonym)).first():
        raise SharingError(f"pseudonym {pseudonym!r} is already used; choose another")
    clear = Matcher.of([(pseudonym, names)])
    if clear.names(pseudonym):
        raise SharingError("the pseudonym must not contain the name itself")
    if clear.names(notes):
        raise SharingError("the notes must not contain the name: names are kept only as digests")
    # Nor anyone else's: a pseudonym or a note is kept, listed and logged in clear.
    if named_in(s, pseudonym):
        raise SharingError(NAMED_IN_PSEUDONYM)
    if named_in(s, notes):
        raise SharingError(NAMED_IN_NOTES)
    key = _require_key(s)
    row = ProtectedPerson(
        pseudonym=pseudonym,
        role=role,
        spellings="[]",
        name_digests=json.dumps(seal(key, names)),
        notes=notes,
        created_at=datetime.now(UTC),
        created_by=caller.actor,
    )
    s.add(row)
    s.flush()
    return row


SPELLING_IN_PSEUDONYM = (
    "this spelling is a protected person's pseudonym, which is kept in clear:"
    " give that person another pseudonym first"
)
SPELLING_IN_NOTES = "this spelling is in a protected person's notes, which are kept in clear"
NAMED_IN_PSEUDONYM = "the pseudonym must not contain a protected person's name"
NAMED_IN_NOTES = "the notes must not contain a protected person's name"


def add_spelling(s: Session, caller: Caller, pseudonym: str, spelling: str) -> ProtectedPerson:
    caller.require(Permission.MANAGE_REQUESTS)
    row = get(s, pseudonym)
    names = _check_spellings([spelling])
    if not names:
        raise SharingError("the spelling is empty")
    key = _require_key(s)
    data = _sealed(row)
    _check_sealed(data, key, pseudonym)
    # A new spelling must not turn a pseudonym or a note, kept in clear, into a name
    # ("Abu Omar" as the pseudonym, then "Abu Omar" recorded as what people call him).
    clear = Matcher.of([(pseudonym, names)])
    others = s.execute(select(ProtectedPerson.pseudonym, ProtectedPerson.notes)).all()
    for other, notes in others:
        # The pseudonym is not said: it is what was just typed as a name.
        if clear.names(other):
            raise SharingError(SPELLING_IN_PSEUDONYM)
        if clear.names(notes or ""):
            raise SharingError(SPELLING_IN_NOTES)
    new = seal(key, names)
    for part in ("spellings", *sealing.FORMS):
        kept = data.setdefault(part, [])
        kept.extend(p for p in new[part] if p not in kept)
    data["kinds"] = sorted(set(data.get("kinds", [])) | set(new["kinds"]))
    row.name_digests = json.dumps(data)
    return row


def get(s: Session, pseudonym: str) -> ProtectedPerson:
    row = s.execute(
        select(ProtectedPerson).where(ProtectedPerson.pseudonym == pseudonym)
    ).scalar_one_or_none()
    if row is None:
        raise SharingError(f"no protected person {pseudonym!r} (see `amanah protected list`)")
    return row


def named_in(s: Session, text: str) -> bool:
    """Whether a text names any protected person, in any spelling the matcher knows and in any
    way a reader would read it (`Matcher.names`). For fields that must never hold a name (a
    pseudonym, a jurisdiction's or a framework's words): the caller refuses, without saying
    the name."""
    if not text or not text.strip():
        return False
    return bool(Matcher.load(s).names(text))


#: Reasons of `refuse_names` for words that several modules keep (each raises its own error).
COMPARTMENT_NAMES_PROTECTED = (
    "a compartment's name must not name a protected person (it is kept and shown in clear, in"
    " every grant and need-to-know event): choose another"
)
LABEL_NAMES_PROTECTED = (
    "an API token's label must not name a protected person (it is kept, listed and written to"
    " the ledger in clear): choose another"
)


def refuse_names(s: Session, refusal: Exception, *texts: str | None) -> None:
    """Words kept and shown in clear (a provider's, collection's or list's name, a framework's
    or jurisdiction's words, a user's name) never name a protected person: `refusal` is the
    calling module's own error, whose reason says which field and never which name."""
    if any(named_in(s, t) for t in texts if t):
        raise refusal


def clean_text(s: Session, text: str, what: str) -> str:
    """Free text a person typed (a request's note, its subject), kept with every protected
    person's name replaced by the pseudonym (`Matcher.at_rest`): names never rest in clear; a
    name hidden where it cannot be replaced in place is refused (SharingError) without saying
    it."""
    if not text or not text.strip():
        return text
    return Matcher.load(s).at_rest(text, what)[0]


NAMES_NOT_KEPT = (
    "names are kept only as keyed digests (docs/sharing.md): they cannot be shown;"
    " pseudonyms and counts are"
)


def list_all(s: Session, caller: Caller, with_names: bool = False) -> list[dict[str, Any]]:
    """Pseudonyms, roles and how many spellings each has; names cannot be listed (`with_names`
    is kept for callers that ask: it changes nothing, see NAMES_NOT_KEPT)."""
    caller.require(Permission.MANAGE_REQUESTS)
    rows = s.execute(select(ProtectedPerson).order_by(ProtectedPerson.pseudonym)).scalars()
    return [
        {
            "pseudonym": p.pseudonym,
            "role": p.role,
            "spellings": len(_sealed(p).get("spellings", [])),
        }
        for p in rows
    ]


def query_digest(s: Session, text: str) -> str:
    """A keyed digest of a search query (HMAC-SHA256 under the names key): what the custody
    ledger records instead of the words. Whoever holds the key can confirm that a given query
    was run; no one can read it back."""
    return hmac.new(_require_key(s), b"search query|" + text.encode(), "sha256").hexdigest()


def _require_key(s: Session) -> bytes:
    key = _session_key(s)
    if key is None:
        raise SharingError(
            "the names key is not loaded (open the home with amanah.workspace.open_workspace)"
        )
    return key
