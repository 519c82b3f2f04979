"""True redaction, tried as an adversary would: real files made here that hide a protected
name in every place a PDF or an image can hold it, redacted, then searched by an independent
scan (PyMuPDF re-opened, poppler's pdftotext, every decompressed object, the raw bytes, OCR
of the pixels). Negative controls keep the rest of each file readable."""

from __future__ import annotations

import io
import json
import subprocess
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from amanah.access import local_administrator
from amanah.db.models import CustodyEvent, Derivative
from amanah.sharing import SharingError, protected, redaction
from amanah.workspace import Workspace, open_workspace
from tests.conftest import ingest_folder, missing_engine
from tests.sharingfixtures import WITNESS_AR, WITNESS_LATIN

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
LATIN_PARTS = ("Ahmad", "Khatib", "KHATIB", "khatib")


def _workspace_with(home: Path, folder: Path) -> tuple[Workspace, dict[str, int]]:
    from sqlalchemy import select

    from amanah.db.models import Item
    from amanah.processing.runner import run

    ws = open_workspace(home)
    ingest_folder(ws, folder)
    run(ws)
    with ws.db.reader() as s:
        ids = {
            Path(p).name: i
            for i, p in s.execute(
                select(Item.id, Item.original_path).where(Item.parent_id.is_(None))
            ).all()
        }
    with ws.db.session() as s:
        protected.add(s, local_administrator(ws), "Witness A", [WITNESS_AR, WITNESS_LATIN])
    return ws, ids


def hostile_pdf(path: Path) -> Path:
    """A statement naming the witness on the text layer (wrapped across two lines), in an
    outline, a sticky note, a form field, XMP, document information, an embedded file and an
    earlier revision (an incremental update replaced the page text)."""
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 100), "Minutes of the detention hearing.", fontsize=12)
    page.insert_text((72, 130), f"Original page text: {WITNESS_LATIN} was heard.", fontsize=12)
    doc.set_toc([[1, f"Testimony of {WITNESS_LATIN}", 1]])
    doc.set_metadata({"author": WITNESS_LATIN, "title": f"Statement {WITNESS_LATIN}"})
    doc.set_xml_metadata(
        f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>{WITNESS_LATIN}</dc:creator></x:xmpmeta>'
    )
    doc.embfile_add("witness.txt", f"contact: {WITNESS_LATIN}".encode(), filename="witness.txt")
    page.add_text_annot((300, 300), f"Ask {WITNESS_LATIN} again")
    widget = pymupdf.Widget()
    widget.field_name = "witness"
    widget.field_type = pymupdf.PDF_WIDGET_TYPE_TEXT
    widget.field_value = WITNESS_LATIN
    widget.rect = pymupdf.Rect(72, 400, 300, 420)
    page.add_widget(widget)
    doc.save(path)
    doc.close()
    # The earlier revision above named the witness at line 2; the update rewrites the page,
    # with the name wrapped across two lines ("Ahmad" ends one line, "al-Khatib" starts the
    # next), and appends the change to the same file.
    doc = pymupdf.open(path)
    page = doc[0]
    page.add_redact_annot(pymupdf.Rect(60, 115, 560, 140))
    page.apply_redactions()
    page.insert_text((72, 160), "The hearing was told by Ahmad", fontsize=12)
    page.insert_text((72, 175), "al-Khatib that the cell was full.", fontsize=12)
    page.insert_text((72, 220), "The guards spoke of the river crossing.", fontsize=12)
    doc.saveIncr()
    doc.close()
    return path


def _independent_scan(path: Path) -> str:
    """Everything anyone could read from a PDF's bytes, found without Amanah's own reader."""
    import pymupdf

    said = [path.read_bytes().decode("latin-1")]
    done = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True)
    said.append(done.stdout.decode("utf-8", "replace"))
    with pymupdf.open(path) as doc:
        said += [p.get_text() for p in doc]
        said += [json.dumps(doc.metadata), doc.get_xml_metadata() or "", str(doc.get_toc())]
        said.append(str(doc.embfile_names()))
        for page in doc:
            said += [a.info.get("content", "") for a in page.annots() or []]
            said += [str(w.field_value) for w in page.widgets() or []]
        for xref in range(1, doc.xref_length()):
            said.append(doc.xref_object(xref, compressed=False))
            if doc.xref_is_stream(xref):
                said.append((doc.xref_stream(xref) or b"").decode("latin-1"))
    return "\n".join(said)


def _ocr(grey: np.ndarray, prepared: bool = True) -> str:
    """What Tesseract reads: after the OCR pipeline's clean-up, or in one plain call."""
    from PIL import Image

    from amanah.processing import ocr

    with tempfile.TemporaryDirectory(prefix="ocr-") as folder:  # no page image left behind
        work = Path(folder)
        if prepared:  # black boxes painted paper-grey first: they would skew the threshold
            grey = np.where(grey < 60, 215, grey).astype(np.uint8)
            return ocr.ocr_image(Image.fromarray(grey), 1, work, "ara+eng").text
        _, _, words = ocr.tesseract(grey, work, "ara+eng", False)
        return " ".join(str(w["text"]) for w in words)


def _blob(ws: Workspace, sha256: str, target: Path) -> Path:
    with ws.blobs.open(sha256) as f:
        target.write_bytes(f.read())
    return target


def test_a_hostile_pdf_is_written_anew_with_no_trace_of_the_name(
    sqlite_home: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    hostile_pdf(folder / "hearing.pdf")
    original = _independent_scan(folder / "hearing.pdf")
    # The scan can find each hiding place: the name is in the original in clear.
    assert original.count("Khatib") >= 5 and "witness.txt" in original
    ws, ids = _workspace_with(sqlite_home, folder)
    admin = local_administrator(ws)
    done = redaction.redact(ws, admin, ids["hearing.pdf"])
    assert done["protected"] == ["Witness A"]
    red = _blob(ws, done["sha256"], tmp_path / "red.pdf")
    said = _independent_scan(red)
    for part in LATIN_PARTS:
        assert part not in said, part
    assert "%%EOF" in said and said.count("%%EOF") == 1, "one revision only"
    assert "witness.txt" not in said and "/Annots" not in said and "/AcroForm" not in said
    # Negative control: the rest of the statement is still there, on the text layer.
    text = subprocess.run(["pdftotext", str(red), "-"], capture_output=True).stdout.decode()
    assert "river crossing" in text and "cell was full" in text and "detention hearing" in text
    ws.close()


def test_an_office_document_an_email_and_an_archive_are_refused_with_the_reason(
    sqlite_home: Path, tmp_path: Path
) -> None:
    from docx import Document

    folder = tmp_path / "in"
    folder.mkdir()
    d = Document()
    d.add_paragraph(f"Statement of {WITNESS_LATIN}")
    d.save(str(folder / "statement.docx"))
    (folder / "mail.eml").write_bytes(
        f"From: a@example.org\nTo: b@example.org\nSubject: {WITNESS_LATIN}\n\nHello\n".encode()
    )
    with zipfile.ZipFile(folder / "bundle.zip", "w") as z:
        z.writestr("note.txt", f"{WITNESS_LATIN}\n")
    ws, ids = _workspace_with(sqlite_home, folder)
    admin = local_administrator(ws)
    for name, kind in (
        ("statement.docx", "an office document"),
        ("mail.eml", "an email"),
        ("bundle.zip", "an archive"),
    ):
        with pytest.raises(SharingError) as caught:
            redaction.redact(ws, admin, ids[name])
        message = str(caught.value)
        assert f"item {ids[name]} (in/{name}): " in message, message
        assert f"{kind} (" in message and "cannot be redacted here" in message, message
        assert "Khatib" not in message
        assert not redaction.redactable(_media_type(ws, ids[name]))
    ws.close()


def _media_type(ws: Workspace, item_id: int) -> str | None:
    from amanah.db.models import Item

    with ws.db.reader() as s:
        return s.get(Item, item_id).media_type


def test_a_jpeg_comes_out_without_any_metadata(sqlite_home: Path, tmp_path: Path) -> None:
    from PIL import Image, ImageDraw, ImageFont

    folder = tmp_path / "in"
    folder.mkdir()
    image = Image.new("RGB", (900, 300), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 36)
    draw.text((30, 40), "Checkpoint near the river", font=font, fill="black")
    exif = Image.Exif()
    exif[0x9286] = f"photo of {WITNESS_LATIN}"  # UserComment
    exif[0x013B] = WITNESS_LATIN  # Artist
    exif[0x010E] = f"taken by {WITNESS_LATIN}"  # ImageDescription
    image.save(folder / "photo.jpg", quality=95, exif=exif, comment=WITNESS_LATIN.encode())
    assert b"Khatib" in (folder / "photo.jpg").read_bytes()
    ws, ids = _workspace_with(sqlite_home, folder)
    done = redaction.redact(ws, local_administrator(ws), ids["photo.jpg"], [(1, 5, 5, 40, 40)])
    red = _blob(ws, done["sha256"], tmp_path / "red.jpg")
    raw = red.read_bytes()
    assert b"Khatib" not in raw and b"Exif" not in raw and b"http://ns.adobe.com" not in raw
    with Image.open(red) as im:
        assert not im.getexif() and "exif" not in im.info and "comment" not in im.info
        assert "icc_profile" not in im.info
        grey = np.asarray(im.convert("L"))
    assert grey[5:40, 5:40].mean() < 10  # the region drawn by hand is black
    assert grey[200:280, 600:880].mean() > 240  # the rest is not
    ws.close()


def _arabic_scan(path: Path) -> tuple[Path, tuple[int, int, int, int], float]:
    """A scanned statement (one image per page, no text layer) with the Arabic name drawn with
    real Arabic shaping (Pillow with raqm, DejaVu Sans); returns the name's box in the image
    and the image's pixels per PDF point."""
    import pymupdf
    from PIL import Image, ImageDraw, ImageFont, features

    if not features.check("raqm"):
        missing_engine("Pillow has no raqm layout here (Debian: libfribidi0): no Arabic shaping")
    width, height = 1700, 2200  # A4-ish at 200 dpi
    image = Image.new("L", (width, height), 215)  # a yellowed photocopy: grey ink on grey
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 34, layout_engine=ImageFont.Layout.RAQM)
    lines = [
        "إفادة عن الاعتقال في فرع المخابرات الجوية.",
        f"قال الشاهد {WITNESS_AR} إنه رأى المعتقلين في الزنزانة.",
        "وذكر أن الحراس نقلوهم إلى المستشفى العسكري.",
    ]
    y = 200
    name_box = (0, 0, 0, 0)
    for line in lines:
        draw.text((width - 150, y), line, font=font, fill=150, anchor="ra", direction="rtl")
        if WITNESS_AR in line:
            x1 = width - 150 - draw.textlength("قال الشاهد ", font=font, direction="rtl")
            x0 = x1 - draw.textlength(WITNESS_AR, font=font, direction="rtl")
            name_box = (int(x0), y, int(x1), y + 40)
        y += 70
    buf = io.BytesIO()
    image.save(buf, "PNG")
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=770)
    page.insert_image(page.rect, stream=buf.getvalue())
    doc.save(path)
    doc.close()
    return path, name_box, width / 595


def _page_grey(page: object, scale: float) -> np.ndarray:
    import pymupdf

    pix = page.get_pixmap(  # type: ignore[attr-defined]
        matrix=pymupdf.Matrix(scale, scale), colorspace=pymupdf.csGRAY
    )
    grey = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.stride)
    return np.ascontiguousarray(grey[:, : pix.width])


@pytest.mark.slow
def test_an_arabic_name_in_a_scan_is_removed_from_the_pixels(
    sqlite_home: Path, tmp_path: Path
) -> None:
    import pymupdf

    folder = tmp_path / "in"
    folder.mkdir()
    _, (x0, y0, x1, y1), scale = _arabic_scan(folder / "scan.pdf")
    with pymupdf.open(folder / "scan.pdf") as doc:
        before = _page_grey(doc[0], scale)
    # Why the name survived before: one plain Tesseract call on such a page reads no word at
    # all (so no box), while the cleaned-up page reads the name.
    assert not _ocr(before, prepared=False).strip()
    assert "الخطيب" in _ocr(before)
    ws, ids = _workspace_with(sqlite_home, folder)
    done = redaction.redact(ws, local_administrator(ws), ids["scan.pdf"])
    assert done["protected"] == ["Witness A"] and done["ocr_pages"] == [1]
    red = _blob(ws, done["sha256"], tmp_path / "red.pdf")
    with pymupdf.open(red) as doc:
        grey = _page_grey(doc[0], scale)
    # The pixels where the name was drawn are dark; Tesseract no longer reads it.
    assert grey[y0 + 8 : y1 - 8, x0 + 4 : x1 - 4].mean() < 60
    read = _ocr(grey)
    assert "الخطيب" not in read and "أحمد" not in read and "احمد" not in read
    assert "المخابرات" in read and "المستشفى" in read  # negative control
    # The re-read of the output was not blind: it read the rest of the page, not the name.
    with ws.db.reader() as s:
        check = s.execute(
            select(Derivative.sha256).where(
                Derivative.item_id == ids["scan.pdf"], Derivative.kind == redaction.REDACTED_TEXT
            )
        ).scalar_one()
    with ws.blobs.open(check) as f:
        reread = f.read().decode()
    assert "الزنزانة" in reread and "الخطيب" not in reread
    ws.close()


def test_a_name_the_writer_does_not_strip_is_caught_by_the_reread_and_nothing_is_recorded(
    sqlite_home: Path, tmp_path: Path
) -> None:
    """A private key in a font's dictionary is copied with the page's resources: the re-read
    of every object of the written file finds the name there, and the redaction is refused."""
    import pymupdf

    folder = tmp_path / "in"
    folder.mkdir()
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 100), "Notes on the river crossing.", fontsize=12)
    doc.xref_set_key(page.get_fonts()[0][0], "Note", f"({WITNESS_LATIN})")
    doc.save(folder / "notes.pdf")
    doc.close()
    ws, ids = _workspace_with(sqlite_home, folder)
    with pytest.raises(SharingError) as caught:
        redaction.redact(ws, local_administrator(ws), ids["notes.pdf"])
    message = str(caught.value)
    assert "still reads a protected name (Witness A: PDF object" in message, message
    assert "Khatib" not in message and "nothing was recorded" in message
    with ws.db.reader() as s:
        kinds = set(
            s.execute(select(Derivative.kind).where(Derivative.item_id == ids["notes.pdf"]))
            .scalars()
            .all()
        )
        events = [
            json.loads(e.details)
            for e in s.execute(
                select(CustodyEvent).where(CustodyEvent.object_id == str(ids["notes.pdf"]))
            ).scalars()
        ]
    assert redaction.REDACTED not in kinds
    assert any(e.get("refused") for e in events)
    assert "Khatib" not in json.dumps(events)
    ws.close()


# -- the web: see and correct before it leaves -----------------------------------------------


# `site` (tests/conftest.py): each test its own copy of the web tests' workspace, built once per
# session, instead of a site built for this module and shared by its tests.


def _png(data: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "PNG"
        return np.asarray(im.convert("L"))


def test_web_a_legal_officer_draws_an_area_and_sees_it_removed(site) -> None:  # type: ignore[no-untyped-def]
    import re

    item = site.item("blank.png")
    c, csrf = site.browser("legal")
    page = c.get(f"/items/{item}/redaction?request=1")
    assert page.status_code == 200, page.text[:300]
    assert 'data-width="240"' in page.text and "/static/redaction.js" in page.text
    assert "pages/1.png?version=original" in page.text and "version=redacted" not in page.text
    original = c.get(f"/items/{item}/redaction/pages/1.png?version=original")
    assert original.status_code == 200 and original.headers["content-type"] == "image/png"
    assert _png(original.content).mean() > 250  # a white page
    # An area drawn with the mouse arrives as PAGE:X0,Y0,X1,Y1 (pixels for an image).
    done = c.post(
        f"/items/{item}/redaction",
        data={"csrf": csrf, "regions": "1:20,30,120,90", "request": "1"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text[:300]
    assert done.headers["location"] == f"/items/{item}/redaction?request=1"
    page = c.get(done.headers["location"])
    assert "version=redacted" in page.text
    assert re.search(r"1:20,30,120,90\s*</textarea>", page.text)  # kept, to adjust
    red = _png(c.get(f"/items/{item}/redaction/pages/1.png?version=redacted").content)
    scale = red.shape[1] / 240
    inside = red[int(32 * scale) : int(88 * scale), int(22 * scale) : int(118 * scale)]
    assert inside.mean() < 10, "the area drawn is black in the redacted file"
    assert red[int(100 * scale) :, :].mean() > 250 and red[:, int(130 * scale) :].mean() > 250
    # The original preview outlines the area drawn by hand (blue).
    outlined = c.get(f"/items/{item}/redaction/pages/1.png?version=original")
    from PIL import Image

    with Image.open(io.BytesIO(outlined.content)) as im:
        rgb = np.asarray(im.convert("RGB")).reshape(-1, 3)
    assert ((rgb[:, 2] > 180) & (rgb[:, 0] < 40)).any()
    # Each page shown was a read of evidence: custody events name the preview.
    from amanah.db.models import CustodyEvent

    with site.ws.db.reader() as s:
        actions = [
            json.loads(e.details).get("action")
            for e in s.execute(
                select(CustodyEvent).where(CustodyEvent.object_id == str(item))
            ).scalars()
        ]
    assert "redaction preview (original)" in actions and "redaction preview (redacted)" in actions
    # A malformed region is refused with the reason, and nothing changes.
    bad = c.post(f"/items/{item}/redaction", data={"csrf": csrf, "regions": "1:90,10,20,60"})
    assert bad.status_code == 400 and "X0 &lt; X1" in bad.text


def test_web_redaction_is_for_legal_officers_on_items_they_may_see(site) -> None:  # type: ignore[no-untyped-def]
    item = site.item("blank.png")
    analyst = site.api("analyst")
    for url in (f"/items/{item}/redaction", f"/items/{item}/redaction/pages/1.png"):
        assert analyst.get(url).status_code == 403
    legal = site.api("legal")
    secret = site.item("سري.txt")  # in the red compartment: the legal officer holds blue only
    for url in (f"/items/{secret}/redaction", f"/items/{secret}/redaction/pages/1.png"):
        r = legal.get(url)
        assert r.status_code == 404, (url, r.status_code)
    assert legal.post(f"/items/{secret}/redaction", data={"regions": ""}).status_code == 404
    # A text file the officer may see: no Redact button, the reason instead.
    text = site.item("statement-b.txt")
    c, _ = site.browser("legal")
    page = c.get(f"/items/{text}/redaction")
    assert page.status_code == 200
    assert "cannot be redacted here" in page.text and 'action="/items/' not in page.text


@pytest.mark.slow
def test_arabic_words_get_their_own_boxes_on_a_faint_small_print(tmp_path: Path) -> None:
    """Per-word boxes for Arabic where one plain Tesseract call gives none: grey ink on a grey
    page, letters about 14 px high (a 100 dpi scan of small print)."""
    from PIL import Image, ImageDraw, ImageFont, features

    from amanah.processing import ocr, wordboxes

    if not features.check("raqm"):
        missing_engine("Pillow has no raqm layout here (Debian: libfribidi0): no Arabic shaping")
    image = Image.new("L", (900, 160), 215)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 17, layout_engine=ImageFont.Layout.RAQM)
    before, after = "قال الشاهد ", " إنه رأى المعتقلين في الزنزانة."
    right = 850
    draw.text(
        (right, 60), before + WITNESS_AR + after, font=font, fill=150, anchor="ra", direction="rtl"
    )
    name_x1 = right - draw.textlength(before, font=font, direction="rtl")
    name_x0 = name_x1 - draw.textlength(WITNESS_AR, font=font, direction="rtl")
    grey = np.asarray(image)
    _, _, plain = ocr.tesseract(grey, tmp_path, "ara+eng", False)
    assert not plain, "the cause: one plain call reads no word, so gives no box"
    found = wordboxes.words(grey, tmp_path / "wb", "ara+eng")
    boxes = {w.text: w.box for w in found if w.reading == 0}
    assert "أحمد" in boxes and "الخطيب" in boxes, [w.text for w in found]
    first, last = boxes["أحمد"], boxes["الخطيب"]
    for x0, y0, x1, y1 in (first, last):
        assert name_x0 - 6 <= x0 < x1 <= name_x1 + 6 and 45 <= y0 < y1 <= 95
    assert last[2] <= first[0] + 2, "right to left: the first name is right of the surname"
    # Reading order is logical: the name's two words are consecutive, first name first.
    texts = [w.text for w in wordboxes.readings(found)[0]]
    assert texts[texts.index("أحمد") + 1] == "الخطيب"
