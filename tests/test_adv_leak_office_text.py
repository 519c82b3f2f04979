"""Text a reader assembles that no stored string spells (an adversary's, stop 54), found in the
file's inventory: a spreadsheet's text functions computed. The same files naming nobody find
nothing."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from amanah.processing import inventory
from amanah.sharing.protected import Matcher
from tests.adv_leak_office_text_files import OFFICE_TEXT
from tests.sharingfixtures import WITNESS_AR, WITNESS_LATIN

LATIN_CONTROL = "the centre"
ARABIC_CONTROL = "مركز الاحتجاز"


@pytest.mark.parametrize("key", sorted(OFFICE_TEXT))
def test_text_a_reader_assembles_is_found_in_the_inventory(key: str, tmp_path: Path) -> None:
    matcher = Matcher.of([("Witness A", [WITNESS_LATIN, WITNESS_AR])])
    for named in (True, False):
        folder = tmp_path / ("named" if named else "clean")
        folder.mkdir()
        if named:
            OFFICE_TEXT[key](folder, WITNESS_LATIN, WITNESS_AR)
        else:
            OFFICE_TEXT[key](folder, LATIN_CONTROL, ARABIC_CONTROL)
        (path,) = folder.iterdir()
        inv = inventory.of_file(path, path.name, tmp_path)
        found = [p.place for p in inv.parts if matcher.names(p.text)]
        assert bool(found) == named, (key, named, found)


def test_an_attribute_value_of_joined_words_may_hold_a_name() -> None:
    from amanah.processing.inventory_office import holds_words

    assert holds_words("ahmad.alkhatib@example.org")
    assert holds_words("ahmad_al-khatib")
    assert holds_words("Ahmad al-Khatib") and holds_words("أحمد")
    for enumeration in ("portrait", "rId12", "A1", "1:3", "s", "x"):
        assert not holds_words(enumeration), enumeration


def test_a_script_is_read_as_the_text_it_builds_and_fast() -> None:
    import time

    from amanah.text.markupread import script_decoded

    assert "Ahmad" in (script_decoded("t=String.fromCharCode(65,104,0x6d)+'ad'") or "")
    assert script_decoded("no script here") is None
    start = time.process_time()
    for hostile in ("fromCharCode(1," * 60_000, '"+' * 100_000, "String " * 30_000):
        script_decoded(hostile)
    assert time.process_time() - start < 2.0


@pytest.mark.parametrize("encoding", ["cp1255", "cp866"])
def test_a_member_name_in_a_code_page_not_told_is_read(encoding: str, tmp_path: Path) -> None:
    """A zip's member name without the UTF-8 flag, in Windows-1255 or DOS Cyrillic: the
    archive's text (its member names) holds the reading that names the witness."""
    from amanah.processing.pathnames import other_readings
    from tests.adv_leak_office_text_files import _zip_name

    matcher = Matcher.of([("Witness A", [WITNESS_LATIN, WITNESS_AR])])
    _zip_name("he" if encoding == "cp1255" else "ru", encoding)(tmp_path, WITNESS_LATIN, "")
    (path,) = tmp_path.glob("*.zip")
    with zipfile.ZipFile(path) as z:
        raw = z.infolist()[1].orig_filename.encode("cp437")
    assert any(matcher.names(r) for r in other_readings(raw))
