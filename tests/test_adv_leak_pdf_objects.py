"""PDF places an adversary found the inventory did not read (stop 54), read by mechanism: PDF
name objects (keys that are not the format's own, name values, decoded), every stream that is
not page content, an image or a font program (read as text and markup, or as a file when it is
one), every appearance of every annotation, and every string of marked-content properties.
Each file naming Witness A is found in its inventory and refused by a package build; the same
files naming nobody find nothing and are packaged whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from amanah.processing import inventory
from amanah.sharing.protected import Matcher
from tests.adv_leak_pdf_files import PDFS
from tests.sharingfixtures import WITNESS_AR, WITNESS_LATIN
from tests.test_adv_leak_places import refused_then_built

LATIN_CONTROL = "the centre"
ARABIC_CONTROL = "مركز الاحتجاز"


def _matcher() -> Matcher:
    return Matcher.of([("Witness A", [WITNESS_LATIN, WITNESS_AR])])


@pytest.mark.parametrize("key", sorted(PDFS))
def test_a_name_hidden_in_a_pdf_object_is_found_in_the_inventory(key: str, tmp_path: Path) -> None:
    matcher = _matcher()
    for named in (True, False):
        folder = tmp_path / ("named" if named else "clean")
        folder.mkdir()
        if named:
            PDFS[key](folder, WITNESS_LATIN, WITNESS_AR)
        else:
            PDFS[key](folder, LATIN_CONTROL, ARABIC_CONTROL)
        (path,) = folder.iterdir()
        inv = inventory.of_file(path, path.name, tmp_path / f"work-{named}")
        found = [p.place for p in inv.parts if matcher.names(p.text)]
        assert bool(found) == named, (key, named, found)
        if not named:
            assert inv.complete, (key, inv.reasons)


def test_every_pdf_naming_the_witness_is_refused_and_the_same_naming_nobody_built(
    sqlite_home: Path, tmp_path: Path
) -> None:
    def write(folder: Path, named: bool) -> None:
        for make in PDFS.values():
            make(
                folder, *((WITNESS_LATIN, WITNESS_AR) if named else (LATIN_CONTROL, ARABIC_CONTROL))
            )

    said, reasons = refused_then_built(sqlite_home, tmp_path, write)
    assert set(reasons) == {p.name for p in _names(tmp_path / "named")}
    for name, reason in reasons.items():
        assert reason.startswith("names protected"), (name, reason, said)


def _names(folder: Path) -> list[Path]:
    return sorted(folder.iterdir())


def test_a_page_drawn_with_a_type3_font_is_read_by_ocr(tmp_path: Path) -> None:
    from amanah.processing.inventory_pdf import TYPE3_PAGE
    from tests.adv_leak_pdf_files import FONTS

    FONTS["type3"](tmp_path, WITNESS_LATIN, WITNESS_AR)
    path = tmp_path / "type3_text.pdf"
    inv = inventory.of_file(path, path.name, tmp_path / "work")
    found = [p.place for p in inv.parts if _matcher().names(p.text)]
    assert f"OCR of {TYPE3_PAGE}" in found, found


_FONT_FACE = "@font-face{font-family:Sig;src:url(data:font/ttf;base64,AAEAAAALAIAAAwAwT1MvMg==)}"
CARRIED_FONTS = {
    "page.html": "<!doctype html><html><head><style>" + _FONT_FACE + ".s{font-family:Sig}</style>"
    "</head><body><p>Statement.</p><p class='s'>Wesnr</p></body></html>",
    "file.html": "<html><head><style>@font-face { font-family: Sig; src: url('sig.woff2')"
    " format('woff2') }</style></head><body><p>Statement.</p></body></html>",
    "drawing.svg": "<svg xmlns='http://www.w3.org/2000/svg' width='600' height='200'><style>"
    + _FONT_FACE
    + "</style><text x='20' y='50' font-family='Sig'>Wesnr</text></svg>",
    "svgfont.svg": "<svg xmlns='http://www.w3.org/2000/svg'><defs><font id='f'><glyph"
    " unicode='W' d='M0 0L10 10'/></font></defs><text x='2' y='20'>W</text></svg>",
}


@pytest.mark.parametrize("name", sorted(CARRIED_FONTS))
def test_a_page_drawn_with_a_font_it_carries_is_incomplete(name: str, tmp_path: Path) -> None:
    from amanah.processing.inventory_markup import OWN_FONT

    path = tmp_path / name
    path.write_text(CARRIED_FONTS[name], encoding="utf-8")
    inv = inventory.of_file(path, path.name, tmp_path / "work")
    assert OWN_FONT in inv.reasons, inv.reasons
    plain = tmp_path / f"plain-{name}"
    plain.write_text(CARRIED_FONTS[name].replace("url(", "local(").replace("glyph", "g"))
    assert OWN_FONT not in inventory.of_file(plain, plain.name, tmp_path / "w2").reasons


def test_a_page_drawn_with_a_remapped_font_is_read_by_ocr(tmp_path: Path) -> None:
    pytest.importorskip("fontTools")
    from amanah.processing.inventory_pdf import REMAPPED_PAGE
    from tests.adv_leak_pdf_files import FONTS

    FONTS["glyph-swap"](tmp_path, WITNESS_LATIN, WITNESS_AR)
    path = tmp_path / "glyph_swap.pdf"
    inv = inventory.of_file(path, path.name, tmp_path / "work")
    found = [p.place for p in inv.parts if _matcher().names(p.text)]
    assert f"OCR of {REMAPPED_PAGE}" in found, found
