"""Consent records follow need-to-know (an adversary's, stop 53): a legal officer of compartment
blue saw a person whose items all sit in red listed with red's note of what the person said,
and could give consent for them (releasing a red item to red's analysts) and withdraw it again;
a person-list record whose file a restriction change moved to red kept its consent page open
to blue. A person is known to a legal officer who sees one of their items (or while none is
linked); their consent is changed only by one who sees every item linked."""

from __future__ import annotations

import pytest

from amanah.access import AccessDenied, Caller, NotVisible, Role
from amanah.sharing import person_consent, protected
from tests.webfixtures import Site

RED_LEGAL = Caller("user:redlegal", frozenset({"red"}), Role.LEGAL)
BLUE_LEGAL = Caller("user:bluelegal", frozenset({"blue"}), Role.LEGAL)
BOTH_LEGAL = Caller("user:bothlegal", frozenset({"blue", "red"}), Role.LEGAL)


def _red_witness(site: Site) -> int:
    red_item = site.item("سري.txt")
    with site.ws.db.session() as s:
        protected.add(s, RED_LEGAL, "Witness R", ["Rami Redsource-Example"])
        person_consent.link_item(s, RED_LEGAL, "Witness R", red_item)
        person_consent.withdraw(
            s, RED_LEGAL, "Witness R", ["investigation"], told="REDTOLD fears reprisals"
        )
    return red_item


def test_a_person_of_another_compartment_is_neither_seen_nor_changed(site: Site) -> None:
    _red_witness(site)
    with site.ws.db.session() as s:
        assert "Witness R" in [p["person"] for p in person_consent.list_all(s, RED_LEGAL)]
        assert "Witness R" not in [p["person"] for p in person_consent.list_all(s, BLUE_LEGAL)]
        with pytest.raises(NotVisible, match="no protected person 'Witness R'"):
            person_consent.history(s, BLUE_LEGAL, "Witness R")
        with pytest.raises(NotVisible):
            person_consent.give(s, BLUE_LEGAL, "Witness R", ["investigation", "sharing"])
        assert person_consent.history(s, RED_LEGAL, "Witness R")["current"]["status"] == (
            "withdrawn"
        )
    browser, _ = site.signed_in("legal")  # holds blue only
    assert "REDTOLD" not in browser.get("/consent/persons").text
    assert browser.get("/consent/persons/Witness R").status_code == 404


def test_consent_of_a_person_of_two_compartments_is_changed_by_who_sees_both(
    site: Site,
) -> None:
    red_item = _red_witness(site)
    blue_item = site.item("statement-b.txt")
    with site.ws.db.session() as s:
        person_consent.link_item(s, BOTH_LEGAL, "Witness R", blue_item)
        history = person_consent.history(s, BLUE_LEGAL, "Witness R")  # known: one blue item
        assert history["items"] == [blue_item]
        with pytest.raises(AccessDenied, match="outside your need-to-know"):
            person_consent.give(s, BLUE_LEGAL, "Witness R", ["investigation"])
        person_consent.give(s, BOTH_LEGAL, "Witness R", ["investigation"])
        assert person_consent.history(s, RED_LEGAL, "Witness R")["items"] == [red_item]


def test_a_providers_consent_is_recorded_only_under_a_provider_the_caller_sees(
    site: Site,
) -> None:
    """`consent.record` found the provider by name alone: blue's legal officer recorded
    consent from "Red CSO" (which search says does not exist for them) on a blue request,
    and the request then showed the name to every reader."""
    from amanah.sharing import SharingError, consent

    with site.ws.db.session() as s:
        answers = []
        for provider in ("Nope CSO", "Red CSO"):
            with pytest.raises(SharingError) as refused:
                consent.record(
                    s, BLUE_LEGAL, "RFA-XB-PROS", provider, "given", given_by="the director"
                )
            answers.append(str(refused.value).replace(provider, "P"))
        assert answers[0] == answers[1] == "no provider named 'P'"
        consent.record(s, BLUE_LEGAL, "RFA-XB-PROS", "Blue CSO", "given", given_by="the director")
