"""Arabic from every PDF text layer as written, and every language of a file with its share.

The PDFs are printed here by the producers evidence comes from (a browser, WeasyPrint,
LibreOffice from .docx and .odt): they draw Arabic in visual order, lam-alef as one glyph and
marks as glyphs of their own, which every reader returned reversed or split somewhere.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from amanah.access import local_administrator
from amanah.db.models import CustodyEvent, Item
from amanah.intake.ingest import IntakeRequest, ingest
from amanah.processing import extract, language, logicalorder, pdftext
from amanah.processing.runner import run
from amanah.search.service import search
from amanah.workspace import Workspace, open_workspace
from tests import arabic_corpus as corpus
from tests.conftest import amanah, missing_engine

PRINTED = ["chromium", "weasyprint", "libreoffice-docx", "libreoffice-odt"]
LAM_ALEF = ["لاحقاً", "بالكابلات", "لا", "لأن", "الإفراج", "لآخر", "والإسلام"]
MIXED = [line for line in corpus.LINES if any(c.isascii() and c.isalnum() for c in line)]
NAME = "علاء الأحمد"  # both words hold a lam-alef (لا, لأ)


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("printed")
    out = {}
    for producer in PRINTED:
        made = corpus.PRODUCERS[producer](corpus.LINES, folder / f"{producer}.pdf")
        if made is not None:
            out[producer] = made
    return out


def _pdf(printed: dict[str, Path], producer: str) -> Path:
    if producer not in printed:
        missing_engine(f"{producer} is not installed here: cannot print its PDF")
    return printed[producer]


def _flat(text: str) -> str:
    return " ".join(text.split())


# -- the repair itself ----------------------------------------------------------------------


def test_presentation_forms_become_letters_in_logical_order() -> None:
    assert pdftext.letters("\ufefb") == "لا"
    assert pdftext.letters("\ufef7") == "لأ"
    assert pdftext.letters("\ufef9") == "لإ"
    assert pdftext.letters("\ufef5") == "لآ"
    assert pdftext.letters("\ufe8e\ufedf\ufea4\ufed8") == "الحق"  # contextual shapes
    assert pdftext.letters("\ufe70") == "\u064b"  # an isolated mark's form: no space
    assert pdftext.letters("Syrian 2013 فرع") == "Syrian 2013 فرع"  # nothing else changes


def test_a_line_drawn_left_to_right_is_read_in_logical_order() -> None:
    # Units as a browser draws them, left to right: a lam-alef glyph is one unit "لا" and
    # must stay in its order; Latin and digits keep theirs.
    visual = ["ك", "ي", "ر", "ط", " ", "M5", " ", "ق", "ح", "لا", " ", "2013"]
    units = [visual[i] for i in pdftext.logical_order(visual)]
    assert "".join(units) == "2013 لاحق M5 طريك"
    # A left-to-right paragraph keeps its words and reverses the Arabic run only.
    visual = ["The", " ", "ل", "ا", "ع", " ", "said"]
    assert "".join(visual[i] for i in pdftext.logical_order(visual)) == "The عال said"


def test_a_long_line_is_ordered_by_the_compiled_algorithm_as_by_the_reference() -> None:
    """A full-width line holds more spaces (13), signs and Arabic-Indic digits than its
    bidi classes have stand-in characters: it is still ordered by python-bidi's compiled
    algorithm (run more than once), in the reference algorithm's order."""
    from bidi import get_display

    line = (
        "قال الشاهد إن فرع المخابرات الجوية في فلسطين نقل 45 معتقلاً عبر طريق M5 السريع"
        " في ٢٠١٣/٠٥/٢١ و٢٠١٤/٠٦/٢٢ و٢٠١٥/٠٧/٢٣ وبلغ العدد 1+2+3+4+5+6+7+8+9+10+11+12+13"
        " ثم أُفرج عن بعضهم لاحقاً بعد أن دفعت أسرهم مبالغ كبيرة للوسطاء في دمشق"
    )
    visual = list(get_display(line))  # one unit per character, drawn left to right
    for rtl in (True, False):
        kinds = [unicodedata.bidirectional(logicalorder._representative(u)) for u in visual]
        assert kinds.count("WS") > len(logicalorder._POOLS["WS"])  # more than one run is needed
        fast = logicalorder._fast_order([logicalorder._representative(u) for u in visual], rtl)
        assert fast is not None, "the long line fell back to the reference algorithm"
        assert fast == _reference_order(visual, rtl)
    assert "".join(visual[i] for i in pdftext.logical_order(visual, True)) == line
    # A character of no class (unassigned), on which the reference algorithm stops, is
    # ordered as a neutral by the compiled one and kept (tests/test_pdf_hostile_text.py).
    odd = [*visual, "\U000e0080"]  # after the 14th space: past the first run
    assert (
        logicalorder._fast_order([logicalorder._representative(u) for u in odd], True) is not None
    )
    assert sorted(pdftext.logical_order(odd, True)) == list(range(len(odd)))


def test_random_lines_of_every_class_get_the_reference_order() -> None:
    """Lines of up to 200 units mixing every class the stand-ins cover (Arabic, Hebrew,
    Latin, both kinds of digits, signs, separators, marks, neutrals, spaces), most of them
    longer than a class's stand-ins, in both paragraph directions."""
    import random

    alphabet = {
        "AL": "ابتثجحخدذرزسشصضطظعغفقكلمنهوي",
        "R": "אבגד",
        "L": "abcMx",
        "EN": "0123456789",
        "AN": "٠١٢٣٤٥٦٧٨٩",
        "ES": "+-",
        "ET": "%$#",
        "CS": ",.:/،",
        "NSM": "\u064b\u064e",
        "ON": "!?\"'*",
        "WS": " ",
    }
    weights = [40, 2, 10, 6, 4, 2, 2, 4, 2, 3, 15]
    rng = random.Random(14)
    several = 0
    for _ in range(300):
        kinds = rng.choices(list(alphabet), weights, k=rng.randint(1, 200))
        units = [rng.choice(alphabet[k]) for k in kinds]
        rtl = rng.random() < 0.7
        several += kinds.count("WS") > len(logicalorder._POOLS["WS"])
        fast = logicalorder._fast_order([logicalorder._representative(u) for u in units], rtl)
        assert fast is not None, "".join(units)  # the compiled algorithm, not the fallback
        assert fast == _reference_order(units, rtl), "".join(units)
    assert several > 100


def test_a_line_right_to_left_throughout_is_reversed_as_the_reference_orders_it() -> None:
    """The shortcut for a right-to-left line without Latin letters or digits (its visual
    order reversed, no bidi run) gives the reference algorithm's order; a line with a digit,
    a Latin letter is left to the algorithm."""
    import random

    alphabet = "ابتثجحخدذرزسشصضطظعغفقكلمنهويאב\u064b\u064e\u0651 ،.:/+-%#!?\"'*()«»"
    rng = random.Random(15)
    for _ in range(300):
        units = [rng.choice(alphabet) for _ in range(rng.randint(1, 120))]
        assert logicalorder._all_right_to_left([logicalorder._representative(u) for u in units])
        order = pdftext.logical_order(units, True)
        assert order == list(range(len(units) - 1, -1, -1))
        assert order == _reference_order(units, True), "".join(units)
    for odd in ("5", "٣", "a"):
        units = ["ق", "ا", "ل", " ", odd, " ", "ب"]
        assert not logicalorder._all_right_to_left([logicalorder._representative(u) for u in units])
        assert pdftext.logical_order(units, True) == _reference_order(units, True)


def _reference_order(units: list[str], rtl: bool) -> list[int]:
    """python-bidi's reference (pure Python) algorithm over the units' representatives."""
    from bidi import algorithm as uba

    storage = uba.get_empty_storage()
    storage["base_level"] = 1 if rtl else 0
    storage["base_dir"] = "R" if rtl else "L"
    uba.get_embedding_levels("".join(logicalorder._representative(u) for u in units), storage)
    for i, ch in enumerate(storage["chars"]):
        ch["unit"] = i
    uba.explicit_embed_and_overrides(storage, False)
    uba.resolve_weak_types(storage, False)
    uba.resolve_neutral_types(storage, False)
    uba.resolve_implicit_levels(storage, False)
    uba.reorder_resolved_levels(storage, False)
    return [ch["unit"] for ch in storage["chars"]]


@pytest.mark.parametrize("producer", PRINTED)
def test_every_word_of_a_printed_arabic_pdf_is_read_as_written(
    printed: dict[str, Path], producer: str
) -> None:
    read = extract.pdf(_pdf(printed, producer))
    text = "\n".join(read.pages)
    words = set(text.split())
    missing = [w for w in corpus.words() if w not in words]
    assert missing == [], f"{producer}: {missing}"
    for word in LAM_ALEF:
        assert word in words, f"{producer}: lam-alef broken in {word}"
    assert "الحقا" not in text and "بالكابالت" not in text  # what poppler reads
    for line in MIXED:
        assert line in _flat(text), f"{producer}: mixed line out of order: {line}"
    assert not any("\ufb50" <= c <= "\ufdff" or "\ufe70" <= c <= "\ufeff" for c in text)
    reading = read.metadata["text_reading"]
    assert reading["pages by reader"] == {pdftext.ENGINE: "1"}
    assert reading["right-to-left lines drawn in"] == {"visual": "1"}
    assert reading["repairs"]["lines reordered"] >= len(corpus.LINES)


PUNCTUATED = [
    "قال المحامي (وهو شاهد) إن المحكمة، في ٢٠١٣، رفضت الطلب.",
    "سأل: «هل أنت متأكد؟» فأجاب: نعم، 100% - بلا شك!",
    "رقم الهاتف +963-11-1234567 والبريد a.b@example.org",
    "שלום עולם and Hebrew too",
]


@pytest.mark.parametrize("producer", ["chromium", "weasyprint"])
def test_brackets_quotes_numbers_and_other_scripts_keep_their_place(
    producer: str, tmp_path: Path
) -> None:
    """A browser writes a bracket drawn mirrored in an Arabic run as the character of its
    shape; a Hebrew line opening an English phrase in a right-aligned paragraph is still a
    right-to-left paragraph; digits, signs and an address keep their order."""
    pdf = corpus.PRODUCERS[producer](PUNCTUATED, tmp_path / "p.pdf")
    if pdf is None:
        missing_engine(f"{producer} is not installed here")
    lines = [_flat(ln) for ln in extract.pdf(pdf).pages[0].splitlines() if ln.strip()]
    assert lines == PUNCTUATED


def test_brackets_are_swapped_only_when_that_balances_them() -> None:
    box = (0.0, 0.0, 1.0, 1.0)
    fixed = pdftext._brackets([(")وهو", box), ("شاهد(", box)])
    assert [w for w, _ in fixed] == ["(وهو", "شاهد)"]
    kept = pdftext._brackets([("1)", box), ("البند", box)])  # a list number, not a pair
    assert [w for w, _ in kept] == ["1)", "البند"]


def test_an_english_pdf_is_read_as_before(tmp_path: Path) -> None:
    """The control: a page without right-to-left text is MuPDF's reading, untouched."""
    lines = ["Detention at the Air Force Intelligence branch, 2013.", "Witness: none named."]
    pdf = corpus.weasyprint(lines, tmp_path / "english.pdf", rtl=False)
    assert pdf is not None
    read = extract.pdf(pdf)
    assert [ln for ln in read.pages[0].splitlines() if ln.strip()] == lines
    assert read.metadata["text_reading"]["repairs"]["lines reordered"] == 0


def test_redaction_sees_the_words_in_logical_order(
    printed: dict[str, Path], tmp_path: Path
) -> None:
    import pymupdf

    from amanah.sharing.redact_pdf import tokens

    pdf = corpus.chromium([f"قال الشاهد {NAME} إن التعذيب استمر"], tmp_path / "named.pdf")
    if pdf is None:
        missing_engine("chromium is not installed here")
    with pymupdf.open(pdf) as doc:
        words = [w for w, _ in tokens(doc[0])]
    assert " ".join(words) == f"قال الشاهد {NAME} إن التعذيب استمر"


# -- through intake, processing and search --------------------------------------------------


def _email() -> bytes:
    msg = EmailMessage()
    msg["From"] = "documentation team <team@example.org>"
    msg["To"] = "intake@example.org"
    msg["Subject"] = "Statement received"
    msg.set_content(" ".join(corpus.LINES[:4]))
    return bytes(msg)


CSV = (
    "name,الاسم,place,المكان\n"
    "Ahmad Khalil,أحمد خليل,Damascus,دمشق\n"
    "Sara Haddad,سارة حداد,Aleppo,حلب\n"
    "Omar Nasser,عمر ناصر,Homs,حمص\n"
    "Huda Saleh,هدى صالح,Daraa,درعا\n"
)


@pytest.fixture(scope="module")
def processed(
    request: pytest.FixtureRequest,
    printed: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Workspace]:
    from tests.conftest import make_home

    tmp = tmp_path_factory.mktemp("arabic-home")
    # The request, not None: the first home of a worker migrates the template through it
    # (with None, this module failed whenever it made its worker's first SQLite home).
    home = make_home(request, tmp, "sqlite-file")
    toml = home / "amanah.toml"
    toml.write_text(toml.read_text().replace("semantic = true", "semantic = false"))
    folder = tmp / "handover"
    folder.mkdir()
    for producer, pdf in printed.items():
        (folder / f"{producer}.pdf").write_bytes(pdf.read_bytes())
    bilingual = corpus.weasyprint(
        [*corpus.LINES, "Summary: forty witnesses described the branch."],
        tmp / "bilingual.pdf",
    )
    assert bilingual is not None
    (folder / "bilingual.pdf").write_bytes(bilingual.read_bytes())
    english = corpus.weasyprint(
        ["The witness described the detention in English only, at some length."],
        tmp / "english.pdf",
        rtl=False,
    )
    assert english is not None
    (folder / "english.pdf").write_bytes(english.read_bytes())
    (folder / "statement.eml").write_bytes(_email())
    (folder / "names.csv").write_text(CSV, encoding="utf-8")
    ws = open_workspace(home)
    report = ingest(
        ws, IntakeRequest(sources=[str(folder)], collection="c", provider="P", actor="t")
    )
    assert report.status == "complete"
    assert run(ws, workers=1, wait=True).failed == 0
    yield ws
    ws.close()


def _found(ws: Workspace, query: str) -> set[str]:
    hits = search(ws, local_administrator(ws, "analyst:test"), query, limit=100).hits
    return {h.path.rsplit("/", 1)[-1] for h in hits}


@pytest.mark.slow
def test_every_word_is_found_by_search_in_every_printed_pdf(
    processed: Workspace, printed: dict[str, Path]
) -> None:
    want = {f"{p}.pdf" for p in printed}
    assert want, "no PDF producer installed"
    missed = {w: want - _found(processed, w) for w in dict.fromkeys(corpus.words())}
    assert {w: sorted(m) for w, m in missed.items() if m} == {}


@pytest.mark.slow
def test_the_derivation_event_says_which_reader_and_repair(
    processed: Workspace, printed: dict[str, Path]
) -> None:
    with processed.db.reader() as s:
        ids = {Path(i.original_path).name: i.id for i in s.scalars(select(Item))}
        for producer in printed:
            details = [
                json.loads(e.details)
                for e in s.scalars(
                    select(CustodyEvent).where(
                        CustodyEvent.object_type == "item",
                        CustodyEvent.object_id == str(ids[f"{producer}.pdf"]),
                        CustodyEvent.event_type == "derivation",
                    )
                )
            ]
            text = [d for d in details if d.get("derivative") == "text" and "extractor" in d]
            assert len(text) == 1, producer
            assert text[0]["reading"]["pages by reader"] == {pdftext.ENGINE: "1"}
            assert text[0]["reading"]["right-to-left lines drawn in"] == {"visual": "1"}


@pytest.mark.slow
def test_every_language_of_a_file_is_recorded_with_its_share(processed: Workspace) -> None:
    with processed.db.reader() as s:
        langs = {
            Path(i.original_path).name: {x["language"]: x for x in json.loads(i.languages)}
            for i in s.scalars(select(Item).where(Item.parent_id.is_(None)))
        }
    for name in ("bilingual.pdf", "statement.eml", "names.csv"):
        assert {"ar", "en"} <= set(langs[name]), (name, langs[name])
        assert 0 < langs[name]["en"]["share"] < 1 and 0 < langs[name]["ar"]["share"] < 1
    assert langs["bilingual.pdf"]["ar"]["share"] > langs["bilingual.pdf"]["en"]["share"]
    assert set(langs["english.pdf"]) == {"en"}  # the control
    found = _found(processed, "lang:ar")
    assert {"bilingual.pdf", "statement.eml", "names.csv"} <= found
    assert "english.pdf" not in found
    assert "english.pdf" in _found(processed, "lang:en")


def test_languages_per_part_and_per_script() -> None:
    body = "\n".join(corpus.LINES)
    found = {x["language"]: x["share"] for x in language.detect_parts(f"Re: notes\n\n{body}")}
    assert set(found) == {"ar", "en"} and found["ar"] > 0.8
    found = {x["language"] for x in language.detect_parts(CSV)}
    assert found == {"ar", "en"}
    assert [x["language"] for x in language.detect_parts("The witness was moved.")] == ["en"]
    assert language.detect_parts("") == []


# -- the leak check -------------------------------------------------------------------------


@pytest.mark.slow
def test_the_leak_check_catches_an_arabic_name_printed_by_a_browser(
    sqlite_home: Path, tmp_path: Path
) -> None:
    home = sqlite_home
    folder = tmp_path / "h"
    folder.mkdir()
    named = corpus.chromium([*corpus.LINES[:2], f"قال الشاهد {NAME} إن"], folder / "named.pdf")
    if named is None:
        missing_engine("chromium is not installed here")
    corpus.chromium(corpus.LINES[:3], folder / "control.pdf")
    for path in folder.glob("*.html"):
        path.unlink()

    def ok(*args: str) -> str:
        return amanah(home, *args, check=True).stdout

    toml = home / "amanah.toml"
    toml.write_text(toml.read_text().replace("semantic = true", "semantic = false"))
    ok("jurisdiction", "add", "DE-GBA", "--state", "Germany", "--authority", "GBA")
    framework = ok("framework", "add", "--provider", "P", "--title", "MoU", "--disclosure", "any")
    ok("protected", "add", "Witness B", "--name", NAME)
    ok("ingest", str(folder), "--collection", "h", "--provider", "P", "--framework",
       framework.split(":")[0].split()[-1])  # fmt: skip
    ok("process")
    ws = open_workspace(home)
    try:
        with ws.db.reader() as s:
            ids = {Path(i.original_path).name: i.id for i in s.scalars(select(Item))}
    finally:
        ws.close()
    ok("rfa", "add", "RFA-1", "--jurisdiction", "DE-GBA", "--received-on", "2026-09-01",
       "--subject", "Detentions")  # fmt: skip
    ok("rfa", "move", "RFA-1", "acknowledged")
    ok("rfa", "move", "RFA-1", "in_progress")
    ok("rfa", "review", "RFA-1", "relevant", str(ids["named.pdf"]), str(ids["control.pdf"]))
    refused = amanah(home, "package", "build", "RFA-1", str(tmp_path / "p"))
    assert refused.returncode == 1, refused.stdout + refused.stderr
    reasons = {}
    for line in refused.stdout.splitlines():
        head, _, reason = line.strip().partition(":")
        if head.startswith("item "):
            reasons[int(head.split()[1])] = reason.strip()
    assert (
        "names protected person Witness B in the text layer of a PDF page (page 1)"
        in (reasons[ids["named.pdf"]])
    ), reasons
    assert ids["control.pdf"] not in reasons  # the same producer, no name: let through
    assert NAME not in refused.stdout + refused.stderr  # the name itself is never printed


def test_presentation_form_text_is_normalised_as_letters() -> None:
    """A text layer that maps glyphs to presentation forms (old producers) reads as letters."""
    shaped = "".join(chr(c) for c in (0xFE8D, 0xFEDF, 0xFEA4, 0xFED8))
    assert unicodedata.normalize("NFKC", shaped) == pdftext.letters(shaped) == "الحق"
