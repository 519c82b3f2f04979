"""A protected name written in full, with the father's and the grandfather's names between the
given name and the family name (أحمد محمود الخطيب, "Ahmad bin Mahmoud al-Khatib"), as a
register, an identity card or a list of detainees writes it, is found by the one matcher every
check asks, and redacted whole; words that are no name standing there (a verb, a preposition,
a title, an English word) do not make one."""

from __future__ import annotations

import pytest

from amanah.sharing.protected import Matcher
from amanah.text import name_lexicon
from tests.sharingfixtures import WITNESS_AR, WITNESS_LATIN


def _matcher() -> Matcher:
    return Matcher.of([("Witness A", [WITNESS_LATIN, WITNESS_AR])])


@pytest.mark.parametrize(
    "text",
    [
        "أحمد محمود الخطيب",
        "اعتقل أحمد محمود حسن الخطيب من منزله",  # the grandfather's name too
        "أحمد بن محمود الخطيب",
        "الخطيب محمود أحمد",  # a register's order: family, father, given
        "Ahmad Mahmoud al-Khatib was taken to the branch.",
        "AHMAD MAHMOUD AL-KHATIB",
        "Ahmad bin Mahmoud al-Khatib",
        "Ahmad M. al-Khatib",
        "Ahmad 'Abbas al-Khatib",
        "Ahmad Marwan Khalil al-Khatib",
    ],
)
def test_a_name_with_a_fathers_name_between_is_found(text: str) -> None:
    assert _matcher().names(text) == {"Witness A"}, text


@pytest.mark.parametrize(
    "text",
    [
        "Ahmad said al-Khatib had left.",  # a verb, in lower case
        "Ahmad and al-Khatib",
        "Ahmad Damascus al-Khatib",  # a capitalised word that is no given name
        "أحمد قال الخطيب",  # a verb
        "أحمد على الخطيب",  # على folds onto علي, written as a preposition
        "قال أحمد إن الخطيبي غادر",  # "that", which folds onto a rare name
        "أحمد السيد الخطيب",  # a title: a word with the article
        "أحمد مع الخطيب",
        "Ahmad Mahmoud Ali Hassan al-Khatib",  # three names between: beyond MAX_BETWEEN
        "Ahmad Hassan\nKhaled al-Khatib",  # a list, a name a line: two people
        "Ahmad, Mahmoud al-Khatib",
        "أحمد، محمود الخطيب",
        "Ahmad Hassan; Khaled al-Khatib",
        "Ahmad (Mahmoud) al-Khatib",
    ],
)
def test_words_that_are_no_name_between_make_no_name(text: str) -> None:
    assert _matcher().names(text) == set(), text


def test_the_names_between_are_redacted_and_pseudonymised_with_the_name() -> None:
    matcher = _matcher()
    words = ["شهد", "أحمد", "بن", "محمود", "الخطيب", "على", "الحادثة"]
    assert [i for i, _ in matcher.in_words(words)] == [1, 2, 3, 4]
    said, count = matcher.pseudonymise("Statement of Ahmad Mahmoud al-Khatib, 2019.")
    assert (said, count) == ("Statement of [Witness A], 2019.", 1)
    assert [(m.start, m.end) for m in matcher.in_forms(["Ahmad", "Mahmoud", "Khatib"])] == [(0, 3)]
    # A line's tokens carry their own punctuation: a list is two people there too.
    assert matcher.in_words(["Ahmad,", "Mahmoud", "al-Khatib"]) == []
    assert matcher.in_words(["Ahmad", "Hassan;", "Khaled", "al-Khatib"]) == []


def test_the_lexicon_holds_the_given_names_of_the_arab_world_and_not_common_words() -> None:
    for word in ("محمود", "مروان", "خالد", "عمر"):
        assert name_lexicon.between(word, word), word
    for raw in ("Mahmoud", "Marwan", "Khaled", "Yahya", "M", "Bin"):
        assert name_lexicon.between(raw, raw.lower()), raw
    for raw, folded in (("mahmoud", "mahmoud"), ("Army", "army"), ("The", "the"), ("In", "in")):
        assert not name_lexicon.between(raw, folded), raw
    for word in ("أكبر", "كبير", "رئيس", "واحد", "مدينة", "المخابرات", "الشيخ"):
        assert not name_lexicon.between(word, word), word
