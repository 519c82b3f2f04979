"""A code point no reader shows as a letter, put inside a protected name, does not hide the
name from the matcher (the leak check and redaction use it): unassigned code points in any
block, lone surrogates, private use, noncharacters, tags. A different name is not made up."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amanah.sharing.protected import Matcher

NAMES = [("Witness A", ["علاء الأحمد", "Alaa al-Ahmad"])]
HIDDEN = {
    "unassigned in Greek": "\u0378",
    "unassigned in Arabic Presentation Forms": "\ufbc3",
    "unassigned, plane 1": "\U0001fffd",
    "unassigned, plane 3 past its last block": "\U00031350",
    "unassigned, plane 5": "\U00050000",
    "unassigned, plane 14 past its tags": "\U000e1000",
    "lone surrogate": "\ud800",
    "private use": "\ue000",
    "noncharacter": "\ufdd0",
    "tag": "\U000e0041",
}


@pytest.mark.parametrize("kind", sorted(HIDDEN))
def test_a_hidden_code_point_inside_the_name_does_not_hide_it(kind: str) -> None:
    import unicodedata

    x = HIDDEN[kind]
    assert unicodedata.category(x) in ("Cn", "Cs", "Co", "Cf")
    m = Matcher.of(NAMES)
    assert m.find(f"قال علاء الأح{x}مد أمس") == {"Witness A"}
    assert m.find(f"met Alaa al-Ah{x}mad yesterday") == {"Witness A"}
    # Negative controls: another name with the same code point is not this one.
    assert m.find(f"قال علاء الأحم{x}ز أمس") == set()
    assert m.find(f"met Alaa al-Kha{x}tib yesterday") == set()


def test_every_unassigned_code_point_of_every_plane_sits_inside_a_word() -> None:
    """Not a sample: each of Unicode's unassigned code points is one the folding drops and a
    token holds (U+31350 and U+E1000 and their neighbours once split a name in two)."""
    import unicodedata

    from amanah.text import names as nk

    for c in range(0x110000):
        if unicodedata.category(chr(c)) == "Cn":
            assert nk._STRIP.fullmatch(chr(c)), hex(c)
            assert nk.TOKEN.fullmatch(f"a{chr(c)}b"), hex(c)


# The alphabet of a hostile or binary text: letters of both scripts, digits, marks, joiners,
# apostrophes, U+FFFD (undecodable bytes), private use, astral letters, tags, unassigned.
ALPHABET = (
    "aZ9بلاأ\u064e\u0301\u200c\u200d'\u2019 .-"
    "\ufffd\ue000\U0001d400\U000e0041\U00031350\u0378\U0010fffd"
)


@settings(max_examples=300)
@given(st.text(alphabet=ALPHABET, max_size=60))
def test_the_fast_patterns_read_as_one_character_class_would(text: str) -> None:
    """`MARK_OR_INVISIBLE` splits the class at U+FFFF only for speed: tokens and folding are
    those of the single class it replaced."""
    import re

    from amanah.text import names as nk

    one = f"[{nk._MARKS}{nk._INVISIBLE}]"
    word = f"[\\w{nk._MARKS}{nk._INVISIBLE}\u02bf\u02be\u02bb]"
    token = re.compile(f"{word}+(?:[{nk._APOSTROPHES}]{word}+)*")
    assert nk.TOKEN.findall(text) == token.findall(text)
    assert nk._STRIP.sub("", text) == re.sub(f"{one}+", "", text)
