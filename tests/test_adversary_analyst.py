"""Attacks on the analyst's layer, survivors' consent and did-you-mean, each as a hostile user,
a user of another compartment or a hostile input would try them; each with its negative
control (the same thing, allowed, works)."""

from __future__ import annotations

from amanah.access import Caller, local_administrator
from amanah.access.users import account_of, caller_for, user_named
from amanah.search import engine, service
from amanah.sharing import person_consent, protected
from tests.webfixtures import Site


def caller(site: Site, name: str) -> Caller:
    with site.ws.db.reader() as s:
        return caller_for(s, account_of(user_named(s, name)))


def _withdrawn(site: Site, item_id: int) -> None:
    """Link the item to a protected person, who gives consent for investigation and then
    withdraws it: from then on the item is searched by no one."""
    admin = local_administrator(site.ws)
    with site.ws.db.session() as s:
        protected.add(s, admin, "Witness Q", ["Qasim Hourani"])
        person_consent.link_item(s, admin, "Witness Q", item_id)
        person_consent.give(s, admin, "Witness Q", ["investigation"])
    with site.ws.db.session() as s:
        person_consent.withdraw(s, admin, "Witness Q")


# --- consent withdrawal: did-you-mean --------------------------------------------------------


def test_did_you_mean_never_suggests_a_word_only_a_withdrawn_item_holds(site: Site) -> None:
    """`checkpoint` occurs only in statement-b. Once its person withdraws consent for
    investigation, a slip (`checkpoimt`) must not be "corrected" to it: the suggestion would
    tell that a withheld item holds the word. Both suggestion paths (the search's and the
    word-by-word one) are asked."""
    analyst = caller(site, "analyst")
    b = site.item("statement-b.txt")
    # negative control: before the withdrawal the slip is corrected
    before = service.search(site.ws, analyst, "checkpoimt")
    assert before.suggestion is not None
    assert before.suggestion["query"] == "checkpoint"
    assert "checkpoint" in engine.suggest(site.ws, analyst, "checkpoimt")
    _withdrawn(site, b)
    after = service.search(site.ws, analyst, "checkpoimt", fallback=True)
    assert after.suggestion is None
    assert after.total == 0
    assert engine.suggest(site.ws, analyst, "checkpoimt") == []
    # the word a visible item holds is still suggested (Arabic statement in blue)
    assert engine.suggest(site.ws, analyst, "الشاهذ") == ["شاهد"]
