"""A name wrapped across what a reader reads past is one name (an adversary's, stop 51): a
line-numbered transcript's numbers, a page's number or footer, a subtitle's cue number and
timing, a double-spaced text's blank lines; before, each stood between its words and the
file passed the leak check."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from amanah.sharing.protected import Matcher
from amanah.text import margins
from tests.sharingfixtures import WITNESS_AR, WITNESS_LATIN


def _matcher() -> Matcher:
    return Matcher.of([("Witness A", [WITNESS_LATIN, WITNESS_AR])])


SRT = (
    "1\n00:00:01,000 --> 00:00:03,000\nmy name is Ahmad\n\n"
    "2\n00:00:03,000 --> 00:00:05,000\nal-Khatib and I was taken\n"
)


@pytest.mark.parametrize(
    "text",
    [
        "12   Q. Did the witness Ahmad\n13   al-Khatib say where he was taken?\n14   A. To the"
        " branch in Kafr Sousa.",  # a transcript's numbered lines
        "12   and then the witness Ahmad\n\n13   al-Khatib said that on that day\n\n14   he was"
        " taken to the branch\n\n15",  # pleading paper: numbered and double-spaced
        "[00:01:02] the witness Ahmad\n[00:01:05] al-Khatib said that he was\n[00:01:09] taken",
        SRT.replace("\n", "\r\n"),  # as most subtitles ship
        "1\n00:00:01,000 --> 00:00:03,000\n<i>my name is Ahmad</i>\n\n2\n"
        "00:00:03,000 --> 00:00:05,000\n<i>al-Khatib</i>\n",
        "WEBVTT\n\nintro\n00:01.000 --> 00:03.000\nmy name is Ahmad\n\nq2\n"
        "00:03.000 --> 00:05.000\nal-Khatib\n",
        "[00:00.000 --> 00:03.000]  my name is Ahmad\n[00:03.000 --> 00:05.000]  al-Khatib and",
        "Dialogue: 0,0:00:01.00,0:00:03.00,Default,,0,0,0,,my name is Ahmad\n"
        "Dialogue: 0,0:00:03.00,0:00:05.00,Default,,0,0,0,,al-Khatib and I was taken",
        "the witness Ahmad\nCase No. IT-95-14-T   Page 3\nal-Khatib said",
        # an adversary's fourth round: cue settings, override tags, SBV, speakers, stamps
        "WEBVTT\n\n00:01.000 --> 00:04.000 align:start position:10%\nthe witness Ahmad\n\n"
        "00:04.000 --> 00:06.000 align:start position:10%\nal-Khatib said\n",
        SRT.replace("my name", "{\\an8}my name"),
        "Dialogue: 0,0:00:01.00,0:00:03.00,Default,,0,0,0,,{\\i1}the witness\\NAhmad{\\i0}\n"
        "Dialogue: 0,0:00:03.00,0:00:05.00,Default,,0,0,0,,al-Khatib said",
        "0:00:01.000,0:00:04.000\nthe witness Ahmad\n\n0:00:04.000,0:00:06.000\nal-Khatib said\n",
        "Speaker 1  00:01\nthe witness Ahmad\n\nSpeaker 2  00:05\nal-Khatib said that he was\n",
        "(00:01:02) and then the witness Ahmad\n(00:01:05) al-Khatib said that he was taken\n"
        "(00:01:09) to the branch in the city",
        "the witness Ahmad\n- 3 -\nal-Khatib said",  # a page's number between
        "the witness Ahmad\nPage 3 of 12\nal-Khatib said",
        "الشاهد أحمد\nصفحة ٣ من ١٢\nالخطيب قال",
        SRT,
        "WEBVTT\n\n00:01.000 --> 00:03.000\nاسمي أحمد\n\n00:03.000 --> 00:05.000\nالخطيب\n",
        "the witness Ahmad Mahmoud\n\nal-Khatib said that\n\nhe was taken to the\n\nbranch",
        # a right-to-left transcript: its margin's numbers after each line's words
        "في الجلسة الأولى أمام المحكمة قال الشاهد 1\nإنه رأى في الفرع المعتقل أحمد 2\n"
        "الخطيب مع أخيه في الزنزانة نفسها 3\nوبقي هناك ثلاثة أشهر كاملة 4",
        "في الجلسة الأولى أمام المحكمة قال الشاهد ١\nإنه رأى في الفرع المعتقل أحمد ٢\n"
        "الخطيب مع أخيه في الزنزانة نفسها ٣\nوبقي هناك ثلاثة أشهر كاملة ٤",
    ],
)
def test_a_name_wrapped_across_a_margins_numbers_is_found(text: str) -> None:
    assert _matcher().names(text) == {"Witness A"}, margins.reading(text)


@pytest.mark.parametrize(
    "text",
    [
        "1. Ahmad Hassan\n2. Khaled al-Khatib\n3. Omar Said",  # a list, its items marked
        "1- أحمد حسن\n2- خالد الخطيب\n3- عمر",
        "A paragraph about Ahmad.\n\nA second paragraph, about the al-Khatib family, longer.",
        "the witness Ahmad\nsaid 3 times that al-Khatib",
        "1 Ahmad Hassan\n2 Khaled al-Khatib\n3 Omar Said",  # a list, OCR lost its marks
        "10234 Ahmad Hassan\n10235 Khaled al-Khatib\n10236 Omar Said",
        "case,victim,witness\n12,Ahmad Hassan,Khaled al-Khatib\n",  # whole names a cell
        "|Ahmad Hassan|Khaled al-Khatib|",
        "Ahmad Hassan 1\nKhaled al-Khatib 2\nOmar Said 3",  # numbers after a list's names
        "أحمد حسن ١\nخالد الخطيب ٢\nعمر سعيد ٣",
    ],
)
def test_lists_and_paragraphs_keep_their_people_apart(text: str) -> None:
    assert _matcher().names(text) == set(), margins.reading(text)


def test_a_subtitle_file_naming_the_witness_is_refused(tmp_path: Path) -> None:
    from amanah.processing import inventory

    matcher = _matcher()
    for text, named in ((SRT, True), (SRT.replace("Ahmad", "Yusuf"), False)):
        path = tmp_path / f"testimony-{named}.srt"
        path.write_text(text)
        work = tmp_path / f"work-{named}"
        work.mkdir()
        inv = inventory.of_file(path, path.name, work)
        found = set().union(*(matcher.names(p.text) for p in inv.parts))
        assert inv.complete and (found == {"Witness A"}) is named, found


def _turned(*pages: str) -> list[str]:
    from amanah.sharing.leakcheck import LeakCheck

    check = LeakCheck.__new__(LeakCheck)
    check.matcher = _matcher()
    return check._in_parts(
        {"parts": [{"place": "body", "page": n, "text": t} for n, t in enumerate(pages, 1)]}
    )


@pytest.mark.parametrize(
    "pages",
    [
        ("Head\nthe witness Ahmad\n1 Tape 2, side B.\n1", "Head\nal-Khatib said\n2", "Head\n3"),
        ("the witness Ahmad\n1", "Statement of W-12\nal-Khatib said\n2"),  # a first page's own
        ("Preface\nthe witness Ahmad\n- i -", "Preface\nal-Khatib said\n- ii -", "Preface\n."),
        ("إفادة\nقال الشاهد أحمد\n- ١ -", "إفادة\nالخطيب إنه اعتقل\n- ٢ -", "إفادة\n."),
    ],
)
def test_a_page_turn_is_read_past_a_footnote_a_letterhead_and_roman_numbers(
    pages: tuple[str, ...],
) -> None:
    """An adversary's fourth round: lines that are no running head (a footnote, a first
    page's letterhead, page numbers in Roman numerals) stood between a name's halves."""
    assert any("across pages 1 and 2" in said for said in _turned(*pages))
    assert _turned(*(p.replace("Ahmad", "Yusuf").replace("أحمد", "يوسف") for p in pages)) == []


def test_page_turns_of_pages_of_many_lines_are_read_in_one_pass() -> None:
    started = time.process_time()
    margins.page_turns([(n, "7\n" * 80_000) for n in (1, 2, 3)])
    assert time.process_time() - started < 2.0  # one line a pass took 24 s


def test_hostile_margins_are_read_in_one_pass() -> None:
    """Runs of spaces, dashes, digits or blank lines a line long: milliseconds each (a pattern
    tried from each character would take minutes)."""
    for text in (
        " " * 200_000 + "\n",
        "-" * 200_000 + "\n",
        "1" * 200_000 + "\n",
        "\n \n" * 100_000,
        "00:00:01,000 --> " * 50_000 + "\n",
        "\n".join(["- " + " " * 50 + "3"] * 20_000),
    ):
        started = time.process_time()
        margins.reading(text)
        assert time.process_time() - started < 2.0, text[:20]


def _two_page_pdf(path: Path, first: str, second: str) -> None:
    import pymupdf

    document = pymupdf.open()
    for n, text in enumerate((first, second), start=1):
        page = document.new_page()
        page.insert_text((72, 60), "Witness statement, case 12", fontsize=9)  # running head
        page.insert_text((72, 100), text, fontsize=11)
        page.insert_text((290, 800), f"- {n} -", fontsize=9)  # its number
    document.save(path)


def test_a_name_a_page_turn_cuts_in_two_is_refused(tmp_path: Path) -> None:
    """Each page of a PDF is a part of its inventory, read alone: "the witness Ahmad" ends
    page 1 and "al-Khatib said …" starts page 2 (an adversary's PDF passed). The turn is read
    across, the running head and the page numbers left out."""
    from amanah.processing import inventory
    from amanah.sharing.leakcheck import LeakCheck

    for given, named in (("Ahmad", True), ("Yusuf", False)):
        path = tmp_path / f"statement-{named}.pdf"
        _two_page_pdf(path, f"The events of that day.\nthe witness {given}", "al-Khatib said.")
        work = tmp_path / f"work-{named}"
        work.mkdir()
        doc = inventory.of_file(path, path.name, work).to_json()
        check = LeakCheck.__new__(LeakCheck)
        check.matcher = _matcher()
        said = check._in_parts(doc)
        assert bool(said) is named, said
        if named:
            assert any("across pages 1 and 2" in s for s in said), said


def test_an_odt_line_break_tab_or_spaces_keep_the_words_apart(tmp_path: Path) -> None:
    """An adversary's fourth round: LibreOffice's Shift+Enter (text:line-break), a tab and a
    run of spaces are elements in an ODT paragraph, which the extraction dropped, gluing
    "Ahmad" to "al-Khatib" so that no reading found the name. A span nested thousands deep
    is read too (no recursion)."""
    import zipfile

    from amanah.processing import extract

    ns = 'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    deep = "<text:span>" * 5000 + "x" + "</text:span>" * 5000
    body = (
        "<text:p>the witness Ahmad<text:line-break/>al-Khatib<text:tab/>said<text:s"
        f' text:c="2"/>so</text:p><text:p>{deep}</text:p>'
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content'
        ' xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        f" {ns}><office:body><office:text>{body}</office:text></office:body>"
        "</office:document-content>"
    )
    path = tmp_path / "statement.odt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", content)
    text = extract.odf(path).pages[0]
    assert "the witness Ahmad\nal-Khatib\tsaid  so" in text
    assert _matcher().names(text) == {"Witness A"}
