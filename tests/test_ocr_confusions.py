"""OCR's Latin confusions undone for the leak check (`text.ocr_confusions`): a name read from a
scan as "Ahrnad aI-Khatib" is the name the picture shows; a text typed so is not OCR's."""

from __future__ import annotations

import pytest

from amanah.sharing.leakcheck import LeakCheck
from amanah.sharing.matcher import Matcher
from amanah.text.ocr_confusions import undone

NAME = "Ahmad al-Khatib"


@pytest.mark.parametrize(
    ("read", "fixed"),
    [
        ("Ahrnad al-Khatib", NAME),
        ("Ahmad aI-Khatib", NAME),
        ("Ahmad a1-Khatib", NAME),
        ("Ahmad a|-Khatib", NAME),
        ("Ahrnad aI-Kh4tib", "Ahmad al-Kh4tib"),  # a digit no letter is confused with stays
        ("the modern turn", "the modem tum"),  # another reading only: the text is kept too
    ],
)
def test_a_confusion_is_undone_inside_words(read: str, fixed: str) -> None:
    assert undone(read) == fixed


@pytest.mark.parametrize("text", ["Room 101, floor 10", "I went in.", "A 1-0 win", "أحمد الخطيب"])
def test_numbers_and_words_without_confusions_are_left_alone(text: str) -> None:
    assert undone(text) is None


def _parts(place: str, text: str) -> dict[str, object]:
    return {"parts": [{"place": place, "locator": "page 1", "text": text, "page": 1}]}


def test_only_ocr_places_are_read_with_confusions_undone() -> None:
    check = LeakCheck(None, None, Matcher.of([("Witness A", [NAME])]))  # type: ignore[arg-type]
    assert check._in_parts(_parts("OCR of an image on a PDF page", "Signed Ahrnad aI-Khatib")) == [
        "names protected person Witness A in OCR of an image on a PDF page (page 1)"
    ]
    assert check._in_parts(_parts("the body text", "Signed Ahrnad aI-Khatib")) == []
