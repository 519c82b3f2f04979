"""The document date is what the document states (its metadata, then its date line), never its
file's modification time: a memo copied in 2019 that states 2013 is a document of 2013, and
one that states nothing has no date, whenever it was copied. Every backend agrees, and the
item page says where the date came from, in English and Arabic."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from amanah.access import local_administrator
from amanah.access.users import add_user
from amanah.db.models import Item, SearchDoc
from amanah.demo_files import photo
from amanah.intake.ingest import IntakeRequest, ingest
from amanah.processing.runner import run
from amanah.search import document_date, redate
from amanah.search.index import reindex
from amanah.search.service import search
from amanah.text.stated_date import stated_date
from amanah.web.app import create_app
from amanah.workspace import Workspace, open_workspace
from tests.conftest import amanah
from tests.test_search import BACKENDS, make_search_home
from tests.webfixtures import PASSWORD, sign_in

TODAY = date(2026, 12, 2)

# --- what a date line states (no index needed) -------------------------------------------------

STATED = [
    ("دمشق في ١٥ آذار ٢٠١٣", "2013-03-15"),
    ("التاريخ: 15/3/2013 م", "2013-03-15"),  # day first, the Syrian reading
    ("التاريخ: ٠٤/٠٣/٢٠١٣", "2013-03-04"),  # not 3 April
    ("15.03.2013", "2013-03-15"),
    ("2013-03-15", "2013-03-15"),
    ("٢٠١٣/٣/١٥", "2013-03-15"),
    ("15 March 2013", "2013-03-15"),
    ("March 15, 2013", "2013-03-15"),
    ("the 1st of June, 2015", "2015-06-01"),
    ("Sept 9 2011", "2011-09-09"),
    ("3/15/2013", "2013-03-15"),  # only the month-first reading is a date
    ("١ كانون الثاني ٢٠١٤", "2014-01-01"),
    ("حلب في ٢٠ كانون  الأول ٢٠١٢", "2012-12-20"),  # two spaces inside the month's name
    ("٧ تشرين الأول ٢٠١١", "2011-10-07"),
    ("٢٨ تشرين الثاني ٢٠١١", "2011-11-28"),
    ("١٢ شباط ٢٠١٢", "2012-02-12"),
    ("٩ نيسان ٢٠١٢", "2012-04-09"),
    ("9 أيار 2012", "2012-05-09"),
    ("30 حزيران 2012", "2012-06-30"),
    ("4 تموز 2012", "2012-07-04"),
    ("5 آب 2012", "2012-08-05"),
    ("6 أيلول 2012", "2012-09-06"),
    ("القاهرة في ٢ يناير ٢٠١٣", "2013-01-02"),
    ("١٠ فبراير ٢٠١٣", "2013-02-10"),
    ("١٠ إبريل ٢٠١٣", "2013-04-10"),
    ("١٠ يونيو ٢٠١٣", "2013-06-10"),
    ("١٠ أغسطس ٢٠١٣", "2013-08-10"),
    ("١٠ ديسمبر ٢٠١٣", "2013-12-10"),
    ("تونس في ١٠ جانفي ٢٠١٣", "2013-01-10"),
    ("١٥ من شهر نيسان لعام ٢٠١٤", "2014-04-15"),
    ("١٥ آذار سنة ٢٠١٣", "2013-03-15"),
    ("۱۵/۳/۲۰۱۳", "2013-03-15"),  # Persian digits
    # a Hijri date is skipped; the Gregorian one beside it is taken
    ("دمشق في ٤/٥/١٤٣٤ هـ الموافق ١٥/٣/٢٠١٣ م", "2013-03-15"),
    # a reference number before the date line is not the date
    ("الرقم: 12/4/2013\nالتاريخ: 20/4/2013", "2013-04-20"),
    ("Ref. 2011-04-02\nDate: 2 May 2012", "2012-05-02"),
    ("Tel: 011-21-03-2013 · 1 June 2014", "2014-06-01"),
    ("بتاريخ 12 آذار 2012 صدرت الأوامر", "2012-03-12"),
    ("1 January 1900", "1900-01-01"),  # the earliest year read
]


@pytest.mark.parametrize(("text", "expected"), STATED, ids=[s[0] for s in STATED])
def test_a_date_line_is_read_in_either_script_and_calendar_form(text: str, expected: str) -> None:
    found = stated_date(text, today=TODAY)
    assert found is not None, text
    assert found.day.isoformat() == expected
    assert re.search(r"\d", text[found.start : found.end].translate(_EASTERN))  # the date's span


_EASTERN = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")

NOT_DATES = [
    "31/2/2013",  # 31 February
    "29/2/2013",  # not a leap year
    "31 April 2013",
    "15/13/2013",  # neither reading is a date
    "0/3/2013",
    "1 January 1899",  # before 1900
    "15/3/2030",  # after today + one year
    "10:30 15:45",  # times of day
    "the meeting began at 09:15 and ended at 11.30",
    "+963 11 2013 0315",  # a phone number
    "0944-15-03-2013",  # a number with a date-like tail
    "15/3/2013/77",  # a reference number
    "رقم 15/3/2013",  # the reference word says so
    "هاتف: 21-03-2013",
    "No. 2013-03-15",
    "4/5/1434 هـ",  # Hijri, not converted
    "وقع القصف عام ٢٠١٢",  # a year alone is no date line
    "March 2013",  # nor a month and year
    "15 March",  # nor a day and month
    "1.5 million in 2013",
    "",
]


@pytest.mark.parametrize("text", NOT_DATES)
def test_what_is_no_date_line_gives_no_date(text: str) -> None:
    assert stated_date(text, today=TODAY) is None


def test_a_date_beyond_the_window_or_joined_to_a_version_is_not_the_documents() -> None:
    # "2.3.2013" alone reads as 2 March 2013 (day first): the negative control of the next.
    assert stated_date("version 2.3.2013", today=TODAY) is not None
    assert stated_date("version 2.3.2013.1", today=TODAY) is None
    far = "x" * 2_000 + " 15/3/2013"
    assert stated_date(far, today=TODAY) is None
    assert stated_date(far[-1_900:], today=TODAY) is not None


def test_the_first_plausible_date_wins_and_metadata_comes_before_the_text() -> None:
    text = "31/2/2013 then 1/3/2013 and 15 March 2014"
    found = stated_date(text, today=TODAY)
    assert found is not None and found.day == date(2013, 3, 1)
    assert text[found.start : found.end] == "1/3/2013"
    body = "Memo\n1 March 2013\n"
    assert document_date.choose({"captured_at": "2012-08-01T10:00:00"}, body, today=TODAY) == {
        "date": "2012-08-01",
        "source": "metadata",
        "field": "captured_at",
    }
    # a camera clock left at its factory date is not believed: the text is read instead
    assert document_date.choose({"captured_at": "1899-12-31T00:00:00"}, body, today=TODAY) == {
        "date": "2013-03-01",
        "source": "text",
        "start": 5,
        "end": 17,
    }
    # a table's first rows hold data, not its date line
    table = "plate,seen\nDEMO-1,2013-04-11\n"
    assert document_date.choose({}, table, "text/csv", today=TODAY) is None
    assert document_date.choose({}, table, "text/plain", today=TODAY) is not None


def test_reading_a_50_mb_text_reads_its_start_only() -> None:
    big = "نص بلا تاريخ " * 2_000_000  # 26 million characters, ~48 MB as UTF-8
    assert stated_date(big) is None
    assert stated_date("١٥ آذار ٢٠١٣\n" + big) is not None


# --- in the index, on every backend ------------------------------------------------------------

COPIED_2019 = datetime(2019, 6, 1, 12, tzinfo=UTC).timestamp()
COPIED_2013 = datetime(2013, 5, 5, 12, tzinfo=UTC).timestamp()
MEMO = "الجمهورية العربية السورية (وثيقة تجريبية)\nدمشق في ١٥ آذار ٢٠١٣\nمذكرة بشأن الحاجز\n"
LETTER = "Ref. 2019/44/12\nMarch 3, 2014\nDear Sir, the committee met about the checkpoint.\n"
UNDATED = "ملاحظات عن الحاجز بلا تاريخ\n"
# name: (bytes, file time)
FILES: dict[str, tuple[bytes, float]] = {
    "memo.txt": (MEMO.encode(), COPIED_2019),  # states 2013, copied 2019
    "letter.txt": (LETTER.encode(), COPIED_2013),  # states 2014, copied 2013
    "undated.txt": (UNDATED.encode(), COPIED_2013),  # states nothing
    "photo.jpg": (photo(34.8, 38.9, "2012:08:01 10:00:00", 100), COPIED_2019),  # EXIF 2012
}


@pytest.fixture(scope="module", params=BACKENDS)
def corpus(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Workspace]:
    tmp = tmp_path_factory.mktemp("dates")
    ws = open_workspace(make_search_home(request, tmp, request.param))
    folder = tmp / "handover"
    folder.mkdir()
    for name, (data, mtime) in FILES.items():
        (folder / name).write_bytes(data)
        os.utime(folder / name, (mtime, mtime))
    report = ingest(
        ws,
        IntakeRequest(
            sources=[str(folder)],
            collection="dated",
            provider="Demo Centre",
            compartment="default",
            actor="t",
        ),
    )
    assert report.status == "complete"
    assert run(ws, workers=2, wait=True).failed == 0
    yield ws
    ws.close()


def _found(ws: Workspace, q: str) -> set[str]:
    caller = local_administrator(ws, "analyst:test")
    return {h.path.rsplit("/", 1)[-1] for h in search(ws, caller, q, limit=50).hits}


def _recorded(ws: Workspace) -> dict[str, dict[str, object] | None]:
    with ws.db.reader() as s:
        rows = s.execute(select(Item.original_path, Item.doc_metadata)).all()
    return {
        path.rsplit("/", 1)[-1]: json.loads(meta).get(document_date.KEY, "not read")
        for path, meta in rows
    }


def test_the_date_filter_goes_by_what_the_document_states_not_its_file_time(
    corpus: Workspace,
) -> None:
    assert _found(corpus, "date:2013") == {"memo.txt"}
    assert _found(corpus, "date:2019") == set()  # the memo was copied then: not its date
    assert _found(corpus, "date:2014") == {"letter.txt"}  # copied in 2013, states 2014
    assert _found(corpus, "date:2012") == {"photo.jpg"}  # its camera's capture time
    assert _found(corpus, "after:2013 before:2014-12-31") == {"memo.txt", "letter.txt"}
    # the undated note is found by its words, under no date at all
    assert _found(corpus, "بلا") == {"undated.txt"}
    assert _found(corpus, "بلا date:2013") == set()


def test_the_year_facet_and_date_sort_agree_and_an_undated_item_has_no_date(
    corpus: Workspace,
) -> None:
    caller = local_administrator(corpus, "analyst:test")
    r = search(corpus, caller, "", limit=50, facets=True, sort="date")
    assert {v["value"]: v["count"] for v in r.facets["year"]} == {
        2012: 1,
        2013: 1,
        2014: 1,
        "unknown": 1,
    }
    dated = [(h.path.rsplit("/", 1)[-1], h.date) for h in r.hits if h.date]
    assert dated == [
        ("letter.txt", "2014-03-03"),
        ("memo.txt", "2013-03-15"),
        ("photo.jpg", "2012-08-01"),
    ]
    assert [h.date for h in r.hits if h.path.endswith("undated.txt")] == [""]


def test_the_item_keeps_where_its_date_came_from_and_a_rebuild_keeps_it(
    corpus: Workspace,
) -> None:
    recorded = _recorded(corpus)
    memo = recorded["memo.txt"]
    assert isinstance(memo, dict) and memo["source"] == "text" and memo["date"] == "2013-03-15"
    start, end = int(memo["start"]), int(memo["end"])  # type: ignore[call-overload]
    assert MEMO[start:end] == "١٥ آذار ٢٠١٣"
    assert recorded["photo.jpg"] == {
        "date": "2012-08-01",
        "source": "metadata",
        "field": "captured_at",
    }
    assert recorded["undated.txt"] is None  # read, and states none
    # the record goes when the reading goes: a rebuild of the index writes it again
    with corpus.db.session() as s:
        item = s.execute(select(Item).where(Item.original_path.like("%memo.txt"))).scalar_one()
        meta = json.loads(item.doc_metadata)
        meta.pop(document_date.KEY)
        item.doc_metadata = json.dumps(meta)
    assert _recorded(corpus)["memo.txt"] == "not read"
    reindex(corpus, workers=1)
    assert _recorded(corpus) == recorded
    assert _found(corpus, "date:2013") == {"memo.txt"}


@pytest.fixture(scope="module")
def pages(corpus: Workspace) -> TestClient:
    name = f"dates-{os.getpid()}-{id(corpus)}"
    add_user(corpus, name, "analyst", PASSWORD, compartments=("default",), by="local:test")
    c = TestClient(create_app(corpus))
    sign_in(c, name)
    return c


def _item_id(ws: Workspace, name: str) -> int:
    with ws.db.reader() as s:
        return int(
            s.execute(select(Item.id).where(Item.original_path.like(f"%{name}"))).scalar_one()
        )


def _date_row(c: TestClient, item_id: int) -> str:
    page = c.get(f"/items/{item_id}")
    assert page.status_code == 200
    found = re.search(r'<dd id="document-date">(.*?)</dd>', page.text)
    assert found, page.text[:2000]
    return found.group(1)


def test_the_item_page_says_where_the_date_came_from_in_english_and_arabic(
    corpus: Workspace, pages: TestClient
) -> None:
    memo, shot, bare = (_item_id(corpus, n) for n in ("memo.txt", "photo.jpg", "undated.txt"))
    pages.get("/lang/en?next=/")
    row = _date_row(pages, memo)
    assert '<time datetime="2013-03-15">March 15, 2013</time>' in row
    assert "(stated in the text)" in row
    assert "from its metadata: when it was created or captured" in _date_row(pages, shot)
    assert "none stated (the file's time is not the document's date)" in _date_row(pages, bare)
    # the file's time is still shown, apart, as a file fact
    assert "Modified (file time)" in pages.get(f"/items/{memo}").text
    pages.get("/lang/ar?next=/")
    try:
        row = _date_row(pages, memo)
        assert "١٥ مارس ٢٠١٣" in row and "(مذكور في النص)" in row
        assert "من بياناتها الوصفية: وقت إنشائها أو التقاطها" in _date_row(pages, shot)
        assert "لا تذكر تاريخاً" in _date_row(pages, bare)
        assert "Document date" not in pages.get(f"/items/{memo}").text
    finally:
        pages.get("/lang/en?next=/")


def test_an_item_indexed_before_dates_were_recorded_shows_no_date_row(
    corpus: Workspace, pages: TestClient, tmp_path: Path
) -> None:
    """Its metadata has no record yet (a home from before): the page claims nothing."""
    letter = _item_id(corpus, "letter.txt")
    with corpus.db.session() as s:
        item = s.get(Item, letter)
        assert item is not None
        before = item.doc_metadata
        meta = json.loads(before)
        meta.pop(document_date.KEY)
        item.doc_metadata = json.dumps(meta)
    try:
        assert 'id="document-date"' not in pages.get(f"/items/{letter}").text
    finally:
        with corpus.db.session() as s:
            item = s.get(Item, letter)
            assert item is not None
            item.doc_metadata = before
    assert "March 3, 2014" in _date_row(pages, letter)


# --- a home indexed before the date was recorded: `amanah upgrade` -----------------------------


@pytest.mark.parametrize("engines", ["sqlite-file", "sqlite-file+fts5"])
def test_upgrade_reads_the_dates_of_items_indexed_before_and_drops_the_file_time(
    request: pytest.FixtureRequest, tmp_path: Path, engines: str
) -> None:
    home = make_search_home(request, tmp_path, engines)
    folder = tmp_path / "handover"
    folder.mkdir()
    for name in ("memo.txt", "undated.txt"):
        data, _ = FILES[name]
        (folder / name).write_bytes(data)
        os.utime(folder / name, (COPIED_2019, COPIED_2019))
    amanah(home, "ingest", str(folder), "--collection", "old", "--provider", "P", check=True)
    amanah(home, "process", check=True)
    # As an earlier version left it: no record in the metadata, the file's year in the index.
    ws = open_workspace(home, create=False)
    try:
        with ws.db.session() as s:
            for item in s.execute(select(Item)).scalars():
                meta = json.loads(item.doc_metadata)
                meta.pop(document_date.KEY)
                item.doc_metadata = json.dumps(meta)
                s.execute(
                    update(SearchDoc)
                    .where(SearchDoc.item_id == item.id)
                    .values(doc_date="2019-06-01", year=2019)
                )
        with ws.db.reader() as s:
            assert len(redate.unread(s)) == 2
        if engines.endswith("fts5"):  # the index itself holds the file's year (tantivy's not)
            assert _found(ws, "date:2019") == {"memo.txt", "undated.txt"}
    finally:
        ws.close()
    done = json.loads(amanah(home, "upgrade", "--json", check=True).stdout)
    assert done["dated"] == 2
    again = json.loads(amanah(home, "upgrade", "--json", check=True).stdout)
    assert again["dated"] == 0  # read once
    ws = open_workspace(home, create=False)
    try:
        assert _found(ws, "date:2013") == {"memo.txt"}
        assert _found(ws, "date:2019") == set()
        assert _recorded(ws)["undated.txt"] is None
    finally:
        ws.close()
