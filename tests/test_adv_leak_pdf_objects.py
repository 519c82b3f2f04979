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
