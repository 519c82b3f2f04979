"""OCR's Latin confusions undone for the leak check (`text.ocr_confusions`): a name read from a
scan as "Ahrnad aI-Khatib" is the name the picture shows; a text typed so is not OCR's."""

from __future__ import annotations

import pytest

from amanah.sharing.leakcheck import LeakCheck
from amanah.sharing.matcher import Matcher
from amanah.text.ocr_confusions import readings, undone

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


def test_an_h_read_as_n_is_found_in_ocr_places_only() -> None:
    """A turned or blurred `h` loses its ascender ("Anmad"); the reading with `n` taken for `h`
    finds the name, with the other confusions undone too; a typed "Anmad" is not OCR's."""
    check = LeakCheck(None, None, Matcher.of([("Witness A", [NAME])]))  # type: ignore[arg-type]
    for read in ("Interview of Anmad al-Khatib", "Anrnad aI-Khatib"):
        assert check._in_parts(_parts("OCR of the file's images", read)) == [
            "names protected person Witness A in OCR of the file's images (page 1)"
        ], read
    assert check._in_parts(_parts("the body text", "Interview of Anmad al-Khatib")) == []
    assert readings("Hassan in town") == ["Hassah ih towh"]  # one more reading, the text kept
    assert readings("1234 ٢٠١٢") == []
