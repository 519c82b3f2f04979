"""Pictures of a witness's name written into text as base64 (an adversary's): a reader shows
each, so the content inventory reads each (`amanah.processing.base64_pictures`, one scan for
every text-like file and text part) and the package build refuses the file. A Markdown
`data:` URI, a notebook's PNG output, a vCard's PHOTO and a calendar's ATTACH (folded lines),
a flat ODF document's `office:binary-data`, an email's and an MHTML page's HTML body, an XMP
thumbnail (`xmpGImg:image`) in a PDF and in a JPEG; a WebP picture in a DOCX. An EMF picture,
which nothing here draws, leaves the inventory incomplete, naming the part. The scan stays
linear on hostile text."""

from __future__ import annotations

import base64
import io
import json
import re
import time
import zipfile
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest

from amanah.processing import base64_pictures, inventory
from amanah.sharing.matcher import Matcher
from tests.sharingfixtures import WITNESS_LATIN
from tests.test_adv_leak_places import _setup
from tests.test_leak_check import _ids, _ingest, _ok, _request, refused_build

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
CONTROL = "the centre"


def _picture(words: str, fmt: str = "PNG") -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    im = Image.new("L", (60 + 36 * len(words), 110), 255)
    ImageDraw.Draw(im).text((30, 20), words, font=ImageFont.truetype(FONT, 56), fill=0)
    buf = io.BytesIO()
    im.save(buf, fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    return buf.getvalue()


def _b64(words: str) -> str:
    return base64.b64encode(_picture(words)).decode()


def _folded(words: str) -> str:
    """Base64 folded as vCard and iCalendar fold long lines (CRLF and a space)."""
    b = _b64(words)
    return "\r\n ".join(b[i : i + 74] for i in range(0, len(b), 74))


def _notebook(words: str) -> str:
    b = _b64(words)  # nbformat writes base64 with line breaks: `\n` escapes in the JSON
    lines = "\n".join(b[i : i + 76] for i in range(0, len(b), 76))
    output = {"output_type": "display_data", "metadata": {}, "data": {"image/png": lines}}
    cell = {"cell_type": "code", "execution_count": 1, "metadata": {}, "source": ["show()"],
            "outputs": [output]}  # fmt: skip
    return json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def _eml(words: str) -> bytes:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "team@example.org", "unit@example.org", "statement"
    m.set_content("Statement attached.")
    m.add_alternative(f'<p>Signed:</p><img src="data:image/png;base64,{_b64(words)}">', "html")
    return bytes(m)


def _mhtml(words: str) -> str:
    return (
        "From: <Saved by Blink>\r\nSubject: Profile\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/related; type="text/html"; boundary="B"\r\n\r\n--B\r\n'
        "Content-Type: text/html\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        f'<html><body><img src="data:image/png;base64,{_b64(words)}"></body></html>\r\n--B--\r\n'
    )


def _fodt(words: str) -> str:
    ns = 'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:o' \
         'asis:names:tc:opendocument:xmlns:text:1.0" xmlns:draw="urn:oasis:names:tc:opendocu' \
         'ment:xmlns:drawing:1.0"'  # fmt: skip
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document {ns} office:mimetype='
        '"application/vnd.oasis.opendocument.text"><office:body><office:text><text:p>Signed:'
        f"</text:p><draw:frame><draw:image><office:binary-data>{_folded(words)}"
        "</office:binary-data></draw:image></draw:frame></office:text></office:body>"
        "</office:document>\n"
    )


def _docx_picture(path: Path, media: str, data: bytes) -> None:
    """A DOCX whose one picture is stored as `media` (another format than the PNG it had)."""
    import docx

    d = docx.Document()
    d.add_paragraph("Statement about the centre. Signed:")
    d.add_picture(io.BytesIO(_picture("placeholder")))
    buf = io.BytesIO()
    d.save(buf)
    ext = media.rsplit(".", 1)[-1]
    with zipfile.ZipFile(buf) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            part = zin.read(info)
            if info.filename.startswith("word/media/"):
                zout.writestr(f"word/media/{media}", data)
                continue
            if info.filename == "word/_rels/document.xml.rels":
                part = re.sub(rb"media/image\d+\.png", f"media/{media}".encode(), part)
            elif info.filename == "[Content_Types].xml":
                part = part.replace(
                    b"<Default ",
                    f'<Default Extension="{ext}" ContentType="image/{ext}"/><Default '.encode(),
                    1,
                )
            zout.writestr(info, part)


def _emf() -> bytes:
    """The smallest EMF: its header (" EMF" at byte 40) and its end record."""
    import struct

    bounds, frame, size = (0, 0, 99, 29), (0, 0, 2646, 767), (1920, 1080, 508, 286)
    header = struct.pack(
        "<II4i4iIIIIHHIIIiiii", 1, 88, *bounds, *frame, 0x464D4520, 0x10000, 108, 2, 1, 0, 0,
        0, 0, *size
    )  # fmt: skip
    return header + struct.pack("<IIIII", 14, 20, 0, 16, 20)


def _xmp(words: str) -> str:
    """An XMP packet whose thumbnail (`xmpGImg:image`) is the picture, its lines broken as
    Adobe writes them (`&#xA;`)."""
    b = base64.b64encode(_picture(words, "JPEG")).decode()
    lines = "&#xA;".join(b[i : i + 76] for i in range(0, len(b), 76))
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-'
        'rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
        ' xmlns:xmpGImg="http://ns.adobe.com/xap/1.0/g/img/"><xmp:Thumbnails><rdf:Alt><rdf:li'
        ' rdf:parseType="Resource"><xmpGImg:format>JPEG</xmpGImg:format><xmpGImg:image>'
        f"{lines}</xmpGImg:image></rdf:li></rdf:Alt></xmp:Thumbnails></rdf:Description>"
        "</rdf:RDF></x:xmpmeta>"
    )


def _pdf_xmp(path: Path, words: str) -> None:
    import pymupdf

    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "Statement about the centre.")
    doc.set_xml_metadata(_xmp(words))
    doc.save(path)


def _jpeg_xmp(path: Path, words: str) -> None:
    _photo = _picture(CONTROL, "JPEG")  # the picture shown names nobody; its XMP's does
    xmp = b"http://ns.adobe.com/xap/1.0/\x00" + _xmp(words).encode()
    path.write_bytes(
        _photo[:2] + b"\xff\xe1" + (len(xmp) + 2).to_bytes(2, "big") + xmp + _photo[2:]
    )


def _text(name: str, make: Callable[[str], str]) -> Callable[[Path, str], None]:
    return lambda folder, words: (folder / name).write_text(make(words), newline="")


LEAKS: dict[str, Callable[[Path, str], None]] = {
    "md-datauri-png": _text(
        "notes.md", lambda w: f"# Notes\n\n![sig](data:image/png;base64,{_b64(w)})\n"
    ),
    "ipynb-png-output": _text("analysis.ipynb", _notebook),
    "vcf-photo": _text(
        "contact.vcf",
        lambda w: (
            "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Contact\r\n"
            f"PHOTO;ENCODING=b;TYPE=PNG:{_folded(w)}\r\nEND:VCARD\r\n"
        ),
    ),
    "ics-attach-png": _text(
        "meeting.ics",
        lambda w: (
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:1@example.org\r\n"
            "SUMMARY:Interview\r\nATTACH;FMTTYPE=image/png;ENCODING=BASE64;VALUE=BINARY:"
            f"{_folded(w)}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        ),
    ),
    "fodt-image": _text("statement.fodt", _fodt),
    "eml-html-datauri-png": lambda folder, w: (folder / "datauri.eml").write_bytes(_eml(w)),
    "mhtml-datauri-png": _text("page.mhtml", _mhtml),
    "pdf-xmp-thumbnail": lambda folder, w: _pdf_xmp(folder / "xmp.pdf", w),
    "jpeg-xmp-thumbnail": lambda folder, w: _jpeg_xmp(folder / "xmp.jpg", w),
    "docx-webp-picture": lambda folder, w: _docx_picture(
        folder / "webp_picture.docx", "image1.webp", _picture(w, "WEBP")
    ),
}
WITNESS = Matcher.of([("Witness A", [WITNESS_LATIN])])


def _inventory(folder: Path, tmp_path: Path) -> inventory.Inventory:
    (file,) = list(folder.iterdir())
    return inventory.of_file(file, file.name, tmp_path / f"work-{folder.name}")


@pytest.mark.parametrize("leak", sorted(LEAKS))
def test_a_picture_written_as_base64_is_read(leak: str, tmp_path: Path) -> None:
    for words in (WITNESS_LATIN, CONTROL):
        folder = tmp_path / ("named" if words == WITNESS_LATIN else "clean")
        folder.mkdir()
        LEAKS[leak](folder, words)
        inv = _inventory(folder, tmp_path)
        named = [p.place for p in inv.parts if WITNESS.names(p.text)]
        if words == WITNESS_LATIN:
            assert any(not p.startswith(inventory.RAW_PLACE) for p in named), inv.parts
        else:
            assert not named and inv.complete, (named, inv.reasons)


def test_an_emf_picture_leaves_the_inventory_incomplete(tmp_path: Path) -> None:
    _docx_picture(tmp_path / "emf.docx", "image1.emf", _emf())
    inv = inventory.of_file(tmp_path / "emf.docx", "emf.docx", tmp_path / "work")
    assert "a picture in a format not read (EMF): word/media/image1.emf" in inv.reasons


def test_the_scan_is_linear_on_hostile_text() -> None:
    """A 20 MB run of base64 that starts as a PNG is cut at the bound (said, not read); runs
    that start as pictures and stop short, by the hundred thousand, cost a pass."""
    started = time.monotonic()
    found = list(base64_pictures.find("iVBORw0KGgo" + "A" * 20_000_000))
    assert [f.data for f in found] == [None] and "longer than" in found[0].why
    for hostile in (
        "A" * 20_000_000,
        "iVBORw0KGgo! " * 1_500_000,
        ("iVBORw0KGgo" + "A" * 32 + "!") * 400_000,
        "Qk!" * 6_000_000,
        " AQk" * 5_000_000,
    ):
        assert list(base64_pictures.find(hostile)) == []
    many = ("data:image/png;base64," + _b64("x") + " ") * (base64_pictures.MAX_PICTURES + 5)
    found = list(base64_pictures.find(many))
    assert len(found) == base64_pictures.MAX_PICTURES + 1 and found[-1].data is None
    assert time.monotonic() - started < 30


def test_past_the_bounds_the_inventory_is_incomplete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inv = inventory.Inventory()
    inventory.base64_pictures(inv, "iVBORw0KGgo" + "A" * 20_000_000, tmp_path, "eng", 0)
    assert inv.reasons and "longer than" in inv.reasons[0], inv.reasons
    monkeypatch.setattr(base64_pictures, "MAX_PICTURES", 0)
    inv = inventory.Inventory()
    inventory.base64_pictures(inv, f"data:image/png;base64,{_b64('x')}", tmp_path, "eng", 0, "x")
    assert inv.reasons == [
        "past an unpack limit: more than 0 pictures written as base64 (x, base64 at character 22)"
    ]


@pytest.mark.slow
def test_pictures_written_as_base64_are_refused_in_one_build(
    sqlite_home: Path, tmp_path: Path
) -> None:
    _setup(sqlite_home)
    for named in (True, False):
        folder = tmp_path / ("named" if named else "clean")
        folder.mkdir()
        for make in LEAKS.values():
            make(folder, WITNESS_LATIN if named else CONTROL)
        _ingest(sqlite_home, folder, folder.name)
    _ok(sqlite_home, "process")
    controls = _ids(sqlite_home, "clean")
    _request(sqlite_home, "RFA-2", sorted(controls.values()))
    built = json.loads(
        _ok(sqlite_home, "package", "build", "RFA-2", str(tmp_path / "p2"), "--json")
    )
    assert built["items"] == len(controls) == len(LEAKS)  # the files naming nobody are packaged
    ids = _ids(sqlite_home, "named")
    _, reasons = refused_build(sqlite_home, "RFA-1", sorted(ids.values()), tmp_path / "p1")
    missed = sorted(
        n for n, i in ids.items() if not reasons.get(i, "").startswith("names protected person")
    )
    assert not missed, (missed, reasons)
