"""A code point no reader shows as a letter, put inside a protected name, does not hide the
name from the matcher (the leak check and redaction use it): unassigned code points in any
block, lone surrogates, private use, noncharacters, tags. A different name is not made up."""

from __future__ import annotations

import pytest

from amanah.sharing.protected import Matcher

NAMES = [("Witness A", ["علاء الأحمد", "Alaa al-Ahmad"])]
HIDDEN = {
    "unassigned in Greek": "\u0378",
    "unassigned in Arabic Presentation Forms": "\ufbc3",
    "unassigned, plane 1": "\U0001fffd",
    "unassigned, plane 5": "\U00050000",
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
