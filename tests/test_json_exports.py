"""JSON exports that escape their letters are read as the words they hold: Python's default
(`\\u0623\\u062d…`) and Facebook's and Instagram's data download, which writes each UTF-8 byte
of a letter as its own escape (`\\u00d8\\u00a3` for أ, shown as "Ø£" by a JSON viewer). Search
finds an Arabic word in both, and a witness's name there is found by the leak check's readings
(before, neither: the export was searchable only as `\\u00d8…`, and its name passed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from amanah.processing.analyze import _choose
from amanah.processing.extract import json_file
from amanah.sharing.protected import Matcher
from amanah.text import escapes, rawtext
from tests.conftest import amanah
from tests.sharingfixtures import WITNESS_AR, WITNESS_LATIN

MESSAGE = "وصلت القافلة إلى الحاجز مساء الخميس"


def _facebook(sender: str, content: str) -> str:
    """A Messenger export as the data download writes it: UTF-8 bytes escaped one by one."""

    def mangled(text: str) -> str:
        return text.encode("utf-8").decode("latin-1")

    return json.dumps(
        {
            "participants": [{"name": mangled(sender)}, {"name": "Abu Omar"}],
            "messages": [
                {"sender_name": mangled(sender), "timestamp_ms": 1388534400000,
                 "content": mangled(content)},
                {"sender_name": "Abu Omar", "content": mangled("\U0001f44d ok, 100%25 a=3D")},
            ],
        },
        indent=2,
    )  # fmt: skip


def test_json_text_decodes_its_own_escapes_and_nothing_else() -> None:
    fb = _facebook("Abu Omar", MESSAGE)
    assert "\\u00d8" in fb
    read = escapes.json_text(fb)
    assert MESSAGE in read and "\U0001f44d ok, 100%25 a=3D" in read  # %25 and =3D are text
    python = json.dumps({"note": MESSAGE + " \U0001f622"})  # ensure_ascii, a surrogate pair
    assert escapes.json_text(python) == '{"note": "' + MESSAGE + ' \U0001f622"}'
    # Latin-1 letters escaped one by one are no UTF-8: kept as the letters they are.
    assert escapes.json_text('{"a": "caf\\u00e9 na\\u00efve"}') == '{"a": "café naïve"}'
    # A capital or ß before » is valid UTF-8 too (for IPA, N'Ko): no export escapes so.
    for latin in ("«LIBERTÉ»", "»Gruß«", "ÉÀ¿"):
        assert escapes.json_text(json.dumps({"t": latin})) == json.dumps(
            {"t": latin}, ensure_ascii=False
        )
    # An escaped backslash before "u" is a backslash and a "u", not an escape.
    assert escapes.json_text('{"path": "C:\\\\u0623"}') == '{"path": "C:\\\\u0623"}'
    assert escapes.json_text("no escapes at all") == "no escapes at all"


def test_a_json_file_is_read_by_the_json_reader_whatever_it_was_identified_as() -> None:
    assert _choose("application/json", "JSON data", "message_1.json")[0] == "json"
    assert _choose("text/plain", "ASCII text", "message_1.json")[0] == "json"
    assert _choose("application/x-ndjson", "", "log")[0] == "json"
    assert _choose("text/plain", "ASCII text", "notes.txt")[0] == "text"


def test_the_reader_gives_the_words_of_an_escaped_export(tmp_path: Path) -> None:
    path = tmp_path / "message_1.json"
    path.write_text(_facebook("Abu Omar", MESSAGE), encoding="ascii")
    page = json_file(path).pages[0]
    assert MESSAGE in page and "\\u00d8" not in page


@pytest.mark.parametrize("name", [WITNESS_AR, WITNESS_LATIN])
def test_a_witness_in_a_facebook_export_is_found_by_every_reading(
    name: str, tmp_path: Path
) -> None:
    m = Matcher.of([("Witness A", [WITNESS_LATIN, WITNESS_AR])])
    fb = _facebook(name, MESSAGE)
    assert m.names(fb) == {"Witness A"}
    path = tmp_path / "message_1.json"
    path.write_text(fb, encoding="ascii")
    found = {label: m.names(text) for label, text in rawtext.of_file(path).items()}
    assert any(found.values()), found
    # Negative control: the same export between two other people names no one.
    assert m.names(_facebook("Nizar Haddad", MESSAGE)) == set()


def test_search_finds_an_arabic_word_in_escaped_exports(sqlite_home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "download"
    (folder / "messages" / "inbox").mkdir(parents=True)
    (folder / "messages" / "inbox" / "message_1.json").write_text(
        _facebook("Abu Omar", MESSAGE), encoding="ascii"
    )
    (folder / "export.json").write_text(json.dumps({"note": MESSAGE}), encoding="ascii")
    (folder / "unrelated.json").write_text(json.dumps({"note": "nothing here"}), encoding="ascii")
    home = sqlite_home
    amanah(home, "ingest", str(folder), "--collection", "download", "--provider", "P", check=True)
    amanah(home, "process", check=True)
    r = amanah(home, "search", "القافلة", "--json", "--limit", "10", check=True)
    paths = {Path(h["path"]).name for h in json.loads(r.stdout)["hits"]}
    assert paths == {"message_1.json", "export.json"}


def test_arabic_decoded_twice_is_read_back_by_search_and_by_the_matcher(tmp_path: Path) -> None:
    """A database dump or a page decoded twice: Arabic's UTF-8 read as Windows-1252 and saved
    again ("Ø£Ø­Ù…Ø¯"). A strict decoder lost byte 81 (ف) as U+FFFD; a sloppy one kept it."""
    from amanah.processing.extract import plain_text

    text = f"{MESSAGE}، قال {WITNESS_AR}."
    latin = " Øresund is a strait; Ã©tÃ© stays."  # as they are, not Arabic
    for errors in ("replace", "latin-1"):
        garbled = latin + (
            text.encode().decode("latin-1")
            if errors == "latin-1"
            else text.encode().decode("cp1252", "replace")
        )
        path = tmp_path / f"dump-{errors}.csv"
        path.write_text(garbled, encoding="utf-8")
        read = plain_text(path)
        assert MESSAGE in read.pages[0] and latin in read.pages[0], read.pages[0]
        assert read.metadata["text_reading"].startswith("Arabic decoded twice")
        m = Matcher.of([("Witness A", [WITNESS_AR])])
        assert m.names(garbled) == {"Witness A"}
    assert "text_reading" not in plain_text(_write(tmp_path / "plain.txt", text)).metadata


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
