"""Reading evidence on its item page: a bilingual PDF page by page with its line breaks and
directions, a CSV as a table, an email with its headers and attachment, metadata and custody
in words, the requests and packages an item went into (only those the reader may see), and
every label in Arabic on an Arabic page. Hostile cells and headers stay text."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import pytest

from amanah.intake.ingest import IntakeRequest, ingest
from amanah.processing.runner import run
from tests.webfixtures import Site, copy_site

READING = "reading-collection"
PAGE_ONE_AR = "قال الشاهد إنه احتُجز في الفرع ثلاثة أشهر مع معتقلين آخرين"
PAGE_ONE_EN = "The witness was held at the branch"
PAGE_TWO_AR = "ثم نُقل إلى سجن آخر"
PAGE_TWO_EN = "He was moved to another prison"
HOSTILE_CELL = "<script>document.title='PWNED'</script>"
HOSTILE_LINK = "javascript:alert(1)"
HIDDEN_REQUEST = "RFA-BLUE-AND-RED"


def _pdf() -> bytes:
    """Three pages printed by WeasyPrint: Arabic and English lines, one line break each."""
    import weasyprint

    pages = [
        (PAGE_ONE_AR, PAGE_ONE_EN),
        (PAGE_TWO_AR, PAGE_TWO_EN),
        ("الصفحة الأخيرة", "Last page"),
    ]
    body = "".join(
        f"<section style='page-break-after: always'><p dir='rtl'>{ar}</p><p>{en}</p></section>"
        for ar, en in pages
    )
    page = (
        "<html><body style='font-family: DejaVu Sans; font-size: 18px'>" + body + "</body></html>"
    )
    return weasyprint.HTML(string=page).write_pdf()  # type: ignore[no-any-return]


def _csv() -> bytes:
    rows = [
        "name,place,note",
        "أحمد,حلب,شاهد",
        f"Ahmad,Aleppo,{HOSTILE_CELL}",
        f'"Sara, K.",Homs,"=HYPERLINK(""{HOSTILE_LINK}"")"',
    ]
    return ("\n".join(rows) + "\n").encode()


def _email() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Sender <sender@example.org>"
    msg["To"] = "Legal <legal@example.org>"
    msg["Cc"] = "Archive <archive@example.org>"
    msg["Subject"] = f"Report {HOSTILE_CELL}"
    msg["Date"] = "Tue, 03 Mar 2015 10:15:00 +0300"
    msg.set_content(f"First line of the body\nSecond line: <a href='{HOSTILE_LINK}'>click</a>\n")
    msg.add_attachment(
        "ملحق: قائمة الأسماء\n".encode(),
        maintype="text",
        subtype="plain",
        filename="annex.txt",
    )
    return msg.as_bytes()


def _photo() -> bytes:
    """A JPEG with a capture time in a zone (+03:00) and GPS coordinates, as a phone writes."""
    import io

    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "TestMake"  # Make
    exif[0x0110] = "TestMake Cam 1"  # Model
    taken = exif.get_ifd(0x8769)
    taken[0x9003] = "2013:08:21 02:45:10"  # DateTimeOriginal
    taken[0x9011] = "+03:00"  # OffsetTimeOriginal
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (33.0, 30.0, 49.68)
    gps[3], gps[4] = "E", (36.0, 16.0, 55.4)
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), "gray").save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def _xlsx() -> bytes:
    import io

    import openpyxl

    wb = openpyxl.Workbook()
    first = wb.active
    first.title = "detainees"
    first.append(["الاسم", "place"])
    first.append(["سارة", HOSTILE_CELL])
    second = wb.create_sheet("units")
    second.append(["unit", "commander"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _ods() -> bytes:
    """An OpenDocument workbook written as a spreadsheet writes it: runs of empty cells and
    rows as one element "repeated", a merged cell's covered neighbour, the unused rest of the
    sheet as one empty row repeated a million times."""
    import io
    import zipfile

    t = 'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
    x = 'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    o = 'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'

    def cell(value: str = "", repeat: int = 1) -> str:
        rep = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
        body = f"<text:p>{value}</text:p>" if value else ""
        return f"<table:table-cell{rep}>{body}</table:table-cell>"

    rows = (
        "<table:table-row>" + cell("الاسم") + cell("", 2) + cell("الفرع") + "</table:table-row>"
        "<table:table-row>"
        + cell("سارة")
        + "<table:covered-table-cell/>"
        + cell("")
        + cell("215")
        + cell("", 16000)
        + "</table:table-row>"
        '<table:table-row table:number-rows-repeated="1048570">'
        + cell("", 1024)
        + "</table:table-row>"
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {o} {t} {x}>'
        f'<office:body><office:spreadsheet><table:table table:name="المعتقلون">{rows}'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


@pytest.fixture(scope="module")
def reading_site(site_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The web tests' workspace with a PDF, a CSV and an email of their own, processed, and a
    request in two compartments that a blue-only reader may not see, with its package."""
    from amanah.access import local_administrator
    from amanah.rfa import requests, review
    from amanah.sharing import package

    tmp = tmp_path_factory.mktemp("reading")
    site = copy_site(site_template, tmp)
    folder = tmp / READING
    folder.mkdir()
    (folder / "statement.pdf").write_bytes(_pdf())
    (folder / "people.csv").write_bytes(_csv())
    (folder / "report.eml").write_bytes(_email())
    (folder / "ghouta.jpg").write_bytes(_photo())
    (folder / "lists.xlsx").write_bytes(_xlsx())
    (folder / "lists.ods").write_bytes(_ods())
    ingest(
        site.ws,
        IntakeRequest(
            sources=[str(folder)],
            collection=READING,
            provider="Blue CSO",
            compartment="blue",
            actor="local:test",
        ),
    )
    run(site.ws)
    from sqlalchemy import select

    from amanah.db.models import Item

    with site.ws.db.reader() as s:
        site.items = {p: i for i, p in s.execute(select(Item.id, Item.original_path)).all()}
    admin = local_administrator(site.ws)
    with site.ws.db.session() as s:
        requests.create(
            s,
            HIDDEN_REQUEST,
            "XB-PROS",
            received_on=date(2026, 2, 1),
            actor=admin.actor,
            compartments=["blue", "red"],
        )
        review.decide(s, admin, HIDDEN_REQUEST, [site.item("statement-b.txt")], "relevant")
    built = package.build(site.ws, admin, HIDDEN_REQUEST, tmp / "packages" / "hidden")
    site.packages["hidden"] = built["package"]
    yield site
    site.ws.close()


def _main(page: str) -> str:
    found = re.search(r"<main.*</main>", page, re.S)
    assert found, page[:300]
    return found.group(0)


def _lines(fragment: str) -> list[str]:
    found = re.findall(r'<span class="line" dir="auto">(.*?)</span>', fragment)
    return [html.unescape(x) for x in found]


def _page(main: str, n: int) -> str:
    found = re.search(rf'<article class="text-page[^"]*" id="page-{n}">(.*?)</article>', main, re.S)
    assert found, f"page {n} is not on the item page"
    return found.group(1)


def test_a_bilingual_pdf_is_read_page_by_page_with_its_lines_and_directions(
    reading_site: Site,
) -> None:
    c, _ = reading_site.browser("analyst")
    r = c.get(f"/items/{reading_site.item('statement.pdf')}")
    assert r.status_code == 200
    main = _main(r.text)
    assert "Pages 1 to 3 of 3" in main
    one, two = _page(main, 1), _page(main, 2)
    # The page's two paragraphs stay two lines, each in its own direction; not one run.
    assert PAGE_ONE_AR in _lines(one) and PAGE_ONE_EN in _lines(one)
    assert PAGE_TWO_AR in _lines(two) and PAGE_TWO_EN in _lines(two)
    assert PAGE_TWO_AR not in one and PAGE_ONE_EN not in two
    # Each page's direction and language follow most of its letters; every line has its own.
    assert '<div class="evidence-text page-text" dir="rtl" lang="ar">' in one
    assert '<div class="evidence-text page-text" dir="ltr" lang="en">' in two
    assert "Arabic, English" in one and "English, Arabic" in two
    # The page's picture sits beside its text.
    image = r'<figure class="page-image"><img loading="lazy" src="/api/v1/items/\d+/derivatives/'
    image += r'\d+"'
    assert re.search(image + ' alt="Page 1">', one)
    assert "OCR" not in one  # the PDF's own text, not a reading of a picture


def test_the_text_is_shown_twenty_pages_at_a_time(reading_site: Site) -> None:
    from amanah.web import reading

    texts = {"text": "\f".join(f"line one of page {n}\nline two" for n in range(1, 501))}
    shown = reading.pages(texts, [], ["en"], first=481)
    assert (shown.first, shown.last, shown.total) == (481, 500, 500)
    assert [p.number for p in shown.pages] == list(range(481, 501))
    assert shown.pages[0].lines == [[("line one of page 481", False)], [("line two", False)]]
    scanned = reading.pages(
        {"ocr": "first\fسطر مقروء"},
        [{"kind": "ocr", "id": 9, "page": 0, "pages": [{"page": 2, "confidence": 71.5}]}],
        ["ar"],
    )
    assert [(p.source, p.confidence, p.direction) for p in scanned.pages] == [
        ("ocr", None, "ltr"),
        ("ocr", 71.5, "rtl"),
    ]
    c, _ = reading_site.browser("analyst")
    r = c.get(f"/items/{reading_site.item('statement.pdf')}", params={"page": 3})
    main = _main(r.text)
    assert 'id="page-3"' in main and 'id="page-1"' not in main
    assert re.search(r'href="/items/\d+\?page=1#text">Earlier pages', main)


def test_a_csv_is_a_table_and_its_hostile_cells_stay_text(reading_site: Site) -> None:
    c, _ = reading_site.browser("analyst")
    r = c.get(f"/items/{reading_site.item('people.csv')}")
    assert r.status_code == 200
    main = _main(r.text)
    table = re.search(r'<table class="evidence-table">(.*?)</table>', main, re.S)
    assert table, main[:2000]
    rows = [
        [html.unescape(c) for c in re.findall(r'<td dir="auto">(.*?)</td>', row)]
        for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)
    ]
    assert rows[0] == ["name", "place", "note"]
    assert rows[1] == ["أحمد", "حلب", "شاهد"]
    assert rows[2] == ["Ahmad", "Aleppo", HOSTILE_CELL]
    assert rows[3] == ["Sara, K.", "Homs", f'=HYPERLINK("{HOSTILE_LINK}")']
    assert "Rows shown: 4 of 4." in main
    # Escaped, never markup or a link: no script element and no javascript: href on the page.
    assert "<script>document.title" not in r.text
    assert "&lt;script&gt;document.title=" in main
    assert not re.search(r"href=[\"']?\s*javascript:", r.text, re.I)


def test_an_email_shows_headers_body_and_its_attachment_as_a_child_item(
    reading_site: Site,
) -> None:
    c, _ = reading_site.browser("analyst")
    email_id = reading_site.item("report.eml")
    r = c.get(f"/items/{email_id}")
    assert r.status_code == 200
    main = _main(r.text)
    headers = dict(
        (k, html.unescape(v))
        for k, v in re.findall(r"<dt>([A-Za-z]+)</dt><dd dir=\"auto\">(.*?)</dd>", main)
    )
    assert headers["From"] == "Sender <sender@example.org>"
    assert headers["To"] == "Legal <legal@example.org>"
    assert headers["Cc"] == "Archive <archive@example.org>"
    assert headers["Subject"] == f"Report {HOSTILE_CELL}"
    assert headers["Date"] == "Tue, 03 Mar 2015 10:15:00 +0300"
    body = re.search(r'<div class="evidence-text email-body">(.*?)</div>', main, re.S)
    assert body
    assert _lines(body.group(1))[:2] == [
        "First line of the body",
        f"Second line: <a href='{HOSTILE_LINK}'>click</a>",
    ]
    child = reading_site.item("annex.txt")
    link = f'<ul class="attachments"><li><a href="/items/{child}" dir="auto">annex.txt</a>'
    assert link in main
    assert "<script>document.title" not in r.text
    assert not re.search(r"href=[\"']?\s*javascript:", r.text, re.I)
    # The sending time is the capture time, shown with its zone.
    capture = re.search(r'<dl class="facts" id="capture">(.*?)</dl>', main, re.S)
    assert capture and "Mar 3, 2015" in capture.group(1) and "UTC+03:00" in capture.group(1)


def test_requests_and_packages_are_listed_only_where_the_reader_may_see_them(
    reading_site: Site,
) -> None:
    c, _ = reading_site.browser("analyst")  # holds blue only
    statement = reading_site.item("statement-b.txt")
    main = _main(c.get(f"/items/{statement}").text)
    uses = re.search(r'<ul class="uses">(.*?)</ul>', main, re.S)
    assert uses and "RFA-XB-PROS" in uses.group(1)  # the negative control: seen
    assert HIDDEN_REQUEST not in main
    hidden = reading_site.packages["hidden"]
    assert hidden not in main
    seen = reading_site.packages["XB-PROS"]
    assert f'Disclosed in package <a href="/packages/{seen}" dir="ltr">{seen}</a>' in main
    # the hidden one is not told at all (stop 53): not even that the item went out in it
    assert "Disclosed in a package</strong>" not in main
    # The local administrator holds every compartment and sees both.
    from amanah.access import local_administrator
    from amanah.item_history import history

    everything = history(reading_site.ws, local_administrator(reading_site.ws), statement)
    assert HIDDEN_REQUEST in {r["reference"] for r in everything["requests"]}
    assert hidden in {p["id"] for p in everything["packages"]}


def test_an_item_in_a_compartment_the_reader_lacks_is_not_found(reading_site: Site) -> None:
    c, _ = reading_site.browser("analyst")
    secret = reading_site.item("سري.txt")
    r = c.get(f"/items/{secret}")
    assert r.status_code == 404
    assert "الشاهد الآخر" not in r.text
    assert c.get(f"/items/{reading_site.item('statement-b.txt')}").status_code == 200


def test_custody_is_told_in_words_with_time_zones(reading_site: Site) -> None:
    c, _ = reading_site.browser("analyst")
    main = _main(c.get(f"/items/{reading_site.item('statement.pdf')}").text)
    timeline = re.search(r'<ol class="timeline">(.*?)</ol>', main, re.S)
    assert timeline
    words = timeline.group(1)
    assert "Received into the collection" in words and "Text extracted from the file" in words
    assert "<strong>derivation</strong>" not in words and "<strong>access</strong>" not in words
    assert words.count('<span class="zone">UTC</span>') >= 3
    for raw in ("media_type", "has_ocr", "False", "True", "exact_duplicate", "in_progress"):
        assert raw not in re.sub(r"<[^>]+>", " ", main), raw


def test_an_arabic_item_page_shows_none_of_the_english_labels(reading_site: Site) -> None:
    from babel.messages.extract import extract_from_file

    from amanah.web.i18n import translations

    template = Path(__file__).parent.parent / "amanah/web/templates/item.html"
    ar = translations("ar")
    labels = {
        m[1] if isinstance(m[1], str) else m[1][0]
        for m in extract_from_file(
            "jinja2", str(template), options={"extensions": "jinja2.ext.i18n"}
        )
    }
    missing = [m for m in labels if ar.gettext(m) == m and m != "SHA-256"]
    assert not missing, missing
    c, _ = reading_site.browser("analyst")
    c.get("/lang/ar?next=/")
    for name in ("statement.pdf", "people.csv", "report.eml", "statement-b.txt"):
        main = _main(c.get(f"/items/{reading_site.item(name)}").text)
        # Labels only: the values from evidence and registries (names of formats, paths,
        # headers) are in elements of their own direction, and may be in any language.
        data = r'<(\w+)[^>]*\bdir="(?:auto|ltr)"[^>]*>.*?</\1>'
        labels_only = re.sub(data, " ", main, flags=re.S)
        words = html.unescape(re.sub(r"<[^>]+>", "\n", labels_only))
        english = [
            m
            for m in labels
            if "%(" not in m
            and len(m) > 3
            and m != "SHA-256"
            and re.search(rf"\b{re.escape(m)}\b", words)
        ]
        assert not english, (name, english)
        assert "<strong>صفحة ١</strong>" in main or name != "statement.pdf"


def test_a_workbook_is_a_table_per_sheet(reading_site: Site) -> None:
    c, _ = reading_site.browser("analyst")
    main = _main(c.get(f"/items/{reading_site.item('lists.xlsx')}").text)
    sheets = re.findall(r'<h2>Sheet <span dir="auto">(.*?)</span></h2>', main)
    assert sheets == ["detainees", "units"]
    cells = [html.unescape(x) for x in re.findall(r'<td dir="auto">(.*?)</td>', main)]
    assert cells[:4] == ["الاسم", "place", "سارة", HOSTILE_CELL]
    assert "<script>document.title" not in main


def test_an_opendocument_workbook_is_a_table_with_each_cell_in_its_column(
    reading_site: Site,
) -> None:
    c, _ = reading_site.browser("analyst")
    main = _main(c.get(f"/items/{reading_site.item('lists.ods')}").text)
    sheets = re.findall(r'<h2>Sheet <span dir="auto">(.*?)</span></h2>', main)
    assert sheets == ["المعتقلون"]
    rows = re.findall(r"<tr>(.*?)</tr>", main, re.S)
    cells = [[html.unescape(x) for x in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)] for r in rows]
    cells = [r for r in cells if r]
    # the branch stands in the fourth column on both rows: the repeated and covered cells
    # were written out, and the million empty rows at the end are not a million rows
    assert cells[0][:4] == ["الاسم", "", "", "الفرع"]
    assert cells[1][:4] == ["سارة", "", "", "215"]
    assert len(cells) == 2


def test_a_photos_capture_time_and_place_are_labelled_fields(reading_site: Site) -> None:
    c, _ = reading_site.browser("analyst")
    photo = reading_site.item("ghouta.jpg")
    main = _main(c.get(f"/items/{photo}").text)
    capture = re.search(r'<dl class="facts" id="capture">(.*?)</dl>', main, re.S)
    assert capture, main[:3000]
    facts = capture.group(1)
    assert "<dt>Captured</dt><dd><time>Aug 21, 2013, 2:45:10" in facts
    assert '<span dir="ltr">UTC+03:00</span>' in facts
    assert '<dd class="place" dir="auto">33.513800° N, 36.282056° E</dd>' in facts
    assert '<dd dir="auto">TestMake Cam 1</dd>' in facts
    # Shown, linked to nothing: no map tiles, no outside address on the page.
    assert not re.search(r"(src|href)=\"https?://", main)
    assert '"captured_at"' not in main and "{" not in re.sub(r"<[^>]+>", "", facts)
    # In Arabic: the same facts, Arabic labels and digits.
    c.get("/lang/ar?next=/")
    arabic = _main(c.get(f"/items/{photo}").text)
    assert "وقت الالتقاط" in arabic and "٣٣٫٥١٣٨٠٠° شمالًا، ٣٦٫٢٨٢٠٥٦° شرقًا" in arabic


# --- in a browser -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reading_live(reading_site: Site) -> Iterator[str]:
    """The reading workspace served on loopback for Debian's chromium."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(reading_site.app, host="127.0.0.1", port=port, log_level="warning")  # type: ignore[arg-type]
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_in_chromium_each_line_of_a_bilingual_page_reads_in_its_own_direction(
    reading_site: Site, reading_live: str
) -> None:
    from tests.conftest import CHROMIUM, need
    from tests.test_web_browser import shot, sign_in

    need("chromium")
    from playwright.sync_api import sync_playwright

    item = reading_site.item("statement.pdf")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(locale="en-GB")
            sign_in(page, reading_live, "analyst")
            page.goto(f"{reading_live}/items/{item}")
            page.wait_for_selector("#page-1 .page-text")
            directions = page.evaluate(
                """() => [...document.querySelectorAll('#page-1 .page-text .line')]
                     .map(l => [l.textContent, getComputedStyle(l).direction])"""
            )
            assert [PAGE_ONE_AR, "rtl"] in directions and [PAGE_ONE_EN, "ltr"] in directions
            shot(page, "item-reading-pdf-en")
            page.goto(f"{reading_live}/items/{reading_site.item('people.csv')}")
            page.wait_for_selector("table.evidence-table")
            assert page.title() != "PWNED"
            assert HOSTILE_CELL in page.inner_text("table.evidence-table")
            shot(page, "item-reading-csv-en")
            page.click("a.lang[lang=ar]")
            page.wait_for_selector("html[dir=rtl]")
            page.goto(f"{reading_live}/items/{item}")
            assert page.inner_text("#page-1 .page-head") == "صفحة ١ · العربية، الإنجليزية"
            shot(page, "item-reading-pdf-ar")
        finally:
            browser.close()
