"""A name a reader is shown that the stored text does not spell (an adversary's, stop 53), found
in the file's inventory: escapes decoded (OOXML `_x0041_`, uuencoding, CDATA, internal
entities one level), a CSV formula computed, ruby annotations left out, a DOCX's alternate
content and field instructions read apart, a flowed mail un-flowed, `>` inside a comment or
a quoted attribute, LaTeX's `{}`, MediaWiki's `''`, BBCode, LDIF's and GEDCOM's name fields.
The same files naming nobody find nothing; hostile input stays linear."""

from __future__ import annotations

import binascii
import time
from pathlib import Path

import pytest

from amanah.processing import inventory
from amanah.processing.inventory_markup import unflowed
from amanah.sharing.protected import Matcher
from amanah.text import formfields, markupread
from tests.adv_leak_shown_files import SHOWN
from tests.sharingfixtures import WITNESS_AR, WITNESS_LATIN

LATIN_CONTROL = "the centre"
ARABIC_CONTROL = "مركز الاحتجاز"


def _matcher() -> Matcher:
    return Matcher.of([("Witness A", [WITNESS_LATIN, WITNESS_AR])])


@pytest.mark.parametrize("key", sorted(SHOWN))
def test_a_name_shown_by_the_reader_is_found_in_the_inventory(key: str, tmp_path: Path) -> None:
    matcher = _matcher()
    for named in (True, False):
        folder = tmp_path / ("named" if named else "clean")
        folder.mkdir()
        if named:
            SHOWN[key](folder, WITNESS_LATIN, WITNESS_AR)
        else:
            SHOWN[key](folder, LATIN_CONTROL, ARABIC_CONTROL)
        (path,) = folder.iterdir()
        inv = inventory.of_file(path, path.name, tmp_path)
        found = [p.place for p in inv.parts if matcher.names(p.text)]
        assert bool(found) == named, (key, named, found)
        if named and key in PLACES:  # found where its reader shows it, not only in the bytes
            assert PLACES[key] in found, (key, found)


#: Where a reader of the format shows the name (besides the raw readings of the bytes).
PLACES = {
    "xlsx-xescape-latin": "an XLSX sheet",
    "xlsx-xescape-arabic": "an XLSX sheet",
    "xlsx-xescape-partial": "an XLSX sheet",
    "html-ruby": "the HTML text as a browser shows it (hidden elements left out)",
    "html-ruby-arabic": "the HTML text as a browser shows it (hidden elements left out)",
    "docx-ruby": "the DOCX body, as shown (hidden text left out)",
    "docx-alternatecontent": "the DOCX body",
    "docx-complex-field-header": "a DOCX header",
    "eml-flowed-delsp": "the text body of an email",
    "eml-flowed-delsp-arabic": "the text body of an email",
    "eml-uuencode-inline": f"the body text in {inventory.UUENCODED_PLACE}",
    "txt-uuencode": f"the body text in {inventory.UUENCODED_PLACE}",
}


def test_markup_is_read_as_an_xml_or_html_reader_reads_it() -> None:
    read = markupread.tags_read
    assert "Ahmad al-Khatib" in read("<n>Ah<![CDATA[mad]]> al-Khatib</n>")
    assert "Ahmad al-Khatib" in read("Ah<!-- > -->mad al-Khatib")
    assert "Ahmad al-Khatib" in read("Ah<span title='a>b'>mad</span> al-Khatib")
    assert "al-Khatib" in read("al-K<ruby>ha<rp>(</rp><rt>1</rt><rp>)</rp></ruby>tib")[0]
    assert "Ahmad al-Khatib" in read("Ah<!-- a < b > c -->mad al-Khatib")  # ends only at -->
    assert "al-Khatib" in read("al-K<ruby>ha<rt><b>1</b></rt></ruby>tib")[0]  # markup inside
    assert "al-Khatib" in read("al-K<ruby>ha<rp>(<rt>1<rp>)</ruby>tib")[0]  # ends unwritten
    assert read("no markup at all, 3 > 2") == []
    assert read("<b>Ah</b>mad") == []  # the plain markup reading has it already


def test_internal_entities_are_expanded_once_and_never_external_ones() -> None:
    doc = '<!DOCTYPE r [<!ENTITY a "Ahm"><!ENTITY b "ad al-">]><r>&a;&b;Khatib</r>'
    assert "Ahmad al-Khatib" in markupread.tags_read(doc)[0]
    charref = '<!DOCTYPE r [<!ENTITY a "&#65;h&#x6d;">]><r>&a;ad al-Khatib</r>'
    assert "Ahmad al-Khatib" in markupread.tags_read(charref)[0]  # read when declared
    nested = '<!DOCTYPE r [<!ENTITY a "Ahm"><!ENTITY b "&a;ad">]><r>&b;</r>'
    assert "Ahmad" not in markupread.tags_read(nested)[0]  # one level: never recursion
    external = '<!DOCTYPE r [<!ENTITY a SYSTEM "file:///etc/passwd">]><r>&a;</r>'
    assert "&a;" in markupread.tags_read(external)[0]
    laughs = '<!DOCTYPE r [<!ENTITY a "' + "x" * 1000 + '">]><r>' + "&a;" * 100_000 + "</r>"
    assert len(markupread.tags_read(laughs)[0]) < markupread.MAX_EXPANSION + len(laughs)


def test_ooxml_escapes_uuencoding_and_csv_formulas_are_read_as_shown() -> None:
    assert markupread.ooxml_unescaped("_x0041__x0068_mad") == "Ahmad"
    assert markupread.ooxml_unescaped("a plain_x cell") is None
    assert markupread.formulas_computed('14,"=""Ahm""&""ad al-Khatib""",x') == (
        "14,Ahmad al-Khatib,x"
    )
    assert markupread.formulas_computed("14,=SUM(A1:A9),x") is None
    assert markupread.formulas_computed('14,+"Ahm"&"ad",x') == "14,Ahmad,x"  # `+` starts one
    m = _matcher()
    assert m.names(markupread.uudecoded(SHOWN_UU) or "") == {"Witness A"}


SHOWN_UU = (
    "begin 644 s.txt\n" + binascii.b2a_uu(b"Statement of Ahmad al-Khatib.").decode() + "`\nend\n"
)


def test_a_flowed_mail_is_read_as_a_mail_client_shows_it() -> None:
    body = "Dear team,\r\n\r\nby Ahmad al-Kha \r\ntib at.\r\n> a \r\n> b\r\n-- \r\nsig"
    assert unflowed(body, True) == "Dear team,\n\nby Ahmad al-Khatib at.\n>ab\n-- \nsig"
    assert unflowed(body, False).startswith("Dear team,\n\nby Ahmad al-Kha tib at.")


def test_directory_and_family_tree_name_fields_are_joined() -> None:
    assert formfields.reading("givenName: Ahmad\nsn: al-Khatib\nmail: a@b\n") == ("Ahmad al-Khatib")
    assert formfields.reading("0 @I1@ INDI\n1 NAME\n2 GIVN Ahmad\n2 SURN al-Khatib\n") == (
        "Ahmad al-Khatib"
    )
    assert formfields.reading("2 DATE 1985\n2 PLAC Aleppo\n") is None


def test_light_markup_inside_a_name_is_read_as_shown() -> None:
    m = _matcher()
    for text in (
        "Statement of Ah{}mad al-Kh{}atib.",
        "Statement of Ahmad al-Kh''at''ib.",
        "Statement of Ahmad al-Kh'''at'''ib.",
        "[quote]Ahmad al-Kh[b]at[/b]ib[/quote]",
        "Ahmad al-Kh[color=red]at[/color]ib",
    ):
        assert m.names(text) == {"Witness A"}, text
    assert m.names("the {} of O''Neil [b]bold[/b]") == set()


HOSTILE = {
    "comments": "<!--" * 50_000,
    "comments ended once": "<!--" * 50_000 + "-->",
    "ruby notes with markup": "<rt><i>" * 30_000,
    "comments with >": "<!-- >" * 34_000,
    "open quotes": "<a title='" * 20_000,
    "quoted >": '<a b="x>' * 25_000,
    "CDATA": "<![CDATA[" * 22_000,
    "ruby notes": "<rt>" * 50_000,
    "entities": '<!ENTITY a "' + "x" * 1000 + '">' + "&a;" * 66_000,
    "wiki quotes": "a''" * 66_000,
    "bbcode": "[b" * 100_000,
    "bbcode values": "[color=" * 28_000,
    "empty groups": "a{}" * 66_000,
    "ooxml escapes": "_x00" * 50_000,
    "uuencoded": "begin 644 a\n" + ("M" + "!" * 60 + "\n") * 3_200,
    "uu begins": "begin 644 a\n" * 16_000,
    "formulas": '1,="a"&"b"\n' * 18_000,
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_200_kb_of_hostile_input_is_read_fast(case: str) -> None:
    from amanah.sharing.protected_readings import readings

    text = HOSTILE[case]
    start = time.process_time()
    readings(text)
    assert time.process_time() - start < 3.0, case


def test_a_file_uuencoded_in_a_text_is_read_as_its_own_format(tmp_path: Path) -> None:
    import io

    import docx

    matcher = _matcher()
    for who, named in ((WITNESS_LATIN, True), (LATIN_CONTROL, False)):
        d = docx.Document()
        d.add_paragraph(f"Statement of {who}.")
        buf = io.BytesIO()
        d.save(buf)
        data = buf.getvalue()
        lines = [binascii.b2a_uu(data[i : i + 45]).decode() for i in range(0, len(data), 45)]
        path = tmp_path / f"{named}.txt"
        path.write_text("Attached:\nbegin 644 statement.docx\n" + "".join(lines) + "`\nend\n")
        inv = inventory.of_file(path, path.name, tmp_path)
        found = [p.place for p in inv.parts if matcher.names(p.text)]
        if named:
            assert f"the DOCX body in {inventory.UUENCODED_PLACE}" in found, found
        else:
            assert found == []
            assert any(p.place.endswith(inventory.UUENCODED_PLACE) for p in inv.parts)
