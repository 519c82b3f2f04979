"""Pictures of a name the leak check and redaction did not look at (an adversary's, stop 52):
letters drawn as outlines beside a text layer (a PDF page, an SVG); black letters on a
transparent PNG (the alpha dropped: black on black); a 16-bit scan (Pillow's 8 bits clip its
ink to white); a JPEG's EXIF thumbnail of the picture before it was painted over, alone and
placed in a PDF that is redacted. Each has a control the harness reads the ordinary way."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from amanah.access import local_administrator
from amanah.db.models import Item
from amanah.sharing import redaction
from amanah.sharing.leakcheck import LeakCheck
from amanah.sharing.protected import Matcher
from amanah.workspace import Workspace
from tests.sharingfixtures import WITNESS_LATIN
from tests.test_redaction import _workspace_with as workspace_with

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


# -- writers ---------------------------------------------------------------------------------


def outline_ops(text: str, x: float, y: float, size: float, font: str = FONT) -> str:
    """PDF operators drawing `text` as filled glyph outlines, one path per glyph (PDF user
    space, y up): what "convert text to outlines" in a design tool or a print driver writes."""
    from fontTools.pens.basePen import BasePen
    from fontTools.ttLib import TTFont

    class Pen(BasePen):
        def __init__(self, gs, ox, oy, s):  # type: ignore[no-untyped-def]
            super().__init__(gs)
            self.ops: list[str] = []
            self.ox, self.oy, self.s, self.cur = ox, oy, s, (0, 0)

        def _p(self, pt):  # type: ignore[no-untyped-def]
            return f"{self.ox + pt[0] * self.s:.2f} {self.oy + pt[1] * self.s:.2f}"

        def _moveTo(self, p):  # type: ignore[no-untyped-def]
            self.ops.append(self._p(p) + " m")
            self.cur = p

        def _lineTo(self, p):  # type: ignore[no-untyped-def]
            self.ops.append(self._p(p) + " l")
            self.cur = p

        def _curveToOne(self, a, b, c):  # type: ignore[no-untyped-def]
            self.ops.append(f"{self._p(a)} {self._p(b)} {self._p(c)} c")
            self.cur = c

        def _qCurveToOne(self, a, b):  # type: ignore[no-untyped-def]
            p0 = self.cur
            c1 = (p0[0] + 2 / 3 * (a[0] - p0[0]), p0[1] + 2 / 3 * (a[1] - p0[1]))
            c2 = (b[0] + 2 / 3 * (a[0] - b[0]), b[1] + 2 / 3 * (a[1] - b[1]))
            self._curveToOne(c1, c2, b)

        def _closePath(self):  # type: ignore[no-untyped-def]
            self.ops.append("h")

    f = TTFont(font)
    gs, cmap, upm = f.getGlyphSet(), f.getBestCmap(), f["head"].unitsPerEm
    s, out = size / upm, []
    for ch in text:
        g = cmap[ord(ch)]
        pen = Pen(gs, x, y, s)
        gs[g].draw(pen)
        if pen.ops:
            out.append("\n".join(pen.ops) + "\nf")
        x += gs[g].width * s
    return "0 g\n" + "\n".join(out) + "\n"


def outlined_pdf(path: Path, outlined: str, typed: str = "") -> None:
    """A typed statement whose signature line (`outlined`) is drawn as glyph outlines."""
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 100), "Statement taken at the detention centre.", fontsize=12)
    page.insert_text((72, 130), f"Signed by the witness: {typed}", fontsize=12)
    xref = page.get_contents()[0]
    ops = outline_ops(outlined, 72, page.rect.height - 170, 16)
    doc.update_stream(xref, doc.xref_stream(xref) + b"\nq\n" + ops.encode() + b"Q\n")
    doc.save(path)
    doc.close()


# -- harness ---------------------------------------------------------------------------------


def leak_findings(ws: Workspace, item_id: int) -> list[str]:
    """What the package build's leak check says of an original item (names found)."""
    with ws.db.session() as s:
        check = LeakCheck(ws, s, Matcher.load(s))
        item = s.get(Item, item_id)
        stored = check.inventories([item_id]).get(item_id)
        found = check.item(item, stored)
        return found.names + [f"incomplete: {r}" for r in found.incomplete]


def ocr_pdf_page(path: Path, page: int = 0, dpi: int = 200) -> str:
    """An independent reading of what a recipient sees: the page rendered, OCR'd plainly."""
    import pymupdf
    from PIL import Image

    from amanah.processing import ocr

    with pymupdf.open(path) as doc:
        pix = doc[page].get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
        img = Image.frombytes("L", (pix.width, pix.height), pix.samples)
    with tempfile.TemporaryDirectory(prefix="advB-ocr-") as d:
        return ocr.ocr_image(img, 1, Path(d), "ara+eng").text


def blob(ws: Workspace, sha256: str, target: Path) -> Path:
    with ws.blobs.open(sha256) as f:
        target.write_bytes(f.read())
    return target


# -- 1. a name drawn as glyph outlines beside a text layer -------------------------------------


def test_a_name_drawn_as_outlines_on_a_typed_page_is_found_by_the_leak_check(
    sqlite_home: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    outlined_pdf(folder / "outlined.pdf", WITNESS_LATIN)
    # Control: the same page with the name typed is refused.
    outlined_pdf(folder / "typed.pdf", "Damascus office", typed=WITNESS_LATIN)
    # The name is plainly on the page for a reader (independent OCR of the rendering).
    assert "Khatib" in ocr_pdf_page(folder / "outlined.pdf")
    ws, ids = workspace_with(sqlite_home, folder)
    try:
        assert any("Witness A" in f for f in leak_findings(ws, ids["typed.pdf"]))
        said = leak_findings(ws, ids["outlined.pdf"])
        assert any("Witness A" in f for f in said), said
    finally:
        ws.close()


def test_redaction_removes_a_name_drawn_as_outlines(sqlite_home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    # The typed name makes the page a redaction case; the outlined one is its signature.
    outlined_pdf(folder / "signed.pdf", WITNESS_LATIN, typed=WITNESS_LATIN)
    ws, ids = workspace_with(sqlite_home, folder)
    try:
        done = redaction.redact(ws, local_administrator(ws), ids["signed.pdf"])
        red = blob(ws, done["sha256"], tmp_path / "red.pdf")
        text = ocr_pdf_page(red)
        assert "detention centre" in text  # control: the page is still read
        assert "Khatib" not in text, text
    finally:
        ws.close()


# -- 2. a transparent image: black letters on a transparent background --------------------------


def transparent_png(text: str, mode_bg: tuple[int, int, int, int] = (0, 0, 0, 0)) -> bytes:
    """Black letters on a fully transparent background, as a sticker, a stamp or a name tag
    exported with transparency is written: every viewer shows black words on its page."""
    import io

    from PIL import Image, ImageDraw, ImageFont

    im = Image.new("RGBA", (900, 160), mode_bg)
    ImageDraw.Draw(im).text((20, 40), text, font=ImageFont.truetype(FONT, 56), fill=(0, 0, 0, 255))
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def as_shown(png: bytes) -> str:
    """OCR of the image as a viewer shows it (composited on white)."""
    import io

    from PIL import Image

    from amanah.processing import ocr

    im = Image.open(io.BytesIO(png)).convert("RGBA")
    white = Image.new("RGBA", im.size, (255, 255, 255, 255))
    shown = Image.alpha_composite(white, im).convert("L")
    with tempfile.TemporaryDirectory(prefix="advB-ocr-") as d:
        return ocr.ocr_image(shown, 1, Path(d), "ara+eng").text


def test_a_name_on_a_transparent_png_is_found_by_the_leak_check(
    sqlite_home: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    sticker = transparent_png(WITNESS_LATIN)
    assert "Khatib" in as_shown(sticker)  # what any viewer shows
    (folder / "sticker.png").write_bytes(sticker)
    # Control: the same letters on a transparent white background are found.
    (folder / "white.png").write_bytes(transparent_png(WITNESS_LATIN, (255, 255, 255, 0)))
    ws, ids = workspace_with(sqlite_home, folder)
    try:
        assert any("Witness A" in f for f in leak_findings(ws, ids["white.png"]))
        said = leak_findings(ws, ids["sticker.png"])
        assert any("Witness A" in f for f in said), said
    finally:
        ws.close()


# -- 4. a 16-bit greyscale scan ----------------------------------------------------------------


def scan16(text: str, fmt: str = "PNG") -> bytes:
    """A 16-bit greyscale scan (an archival scanner's "16-bit grey" setting): paper at
    60000, ink at about 8000 of 65535 (about 30 of 255: ordinary dark ink)."""
    import io

    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("L", (1400, 400), 255)
    d = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, 48)
    d.text((60, 60), "Statement taken at the centre.", font=font, fill=0)
    d.text((60, 200), f"Witness: {text}", font=font, fill=0)
    ink = np.asarray(page).astype(np.float64) / 255.0  # 0 ink .. 1 paper
    grey16 = (8000 + ink * (60000 - 8000)).astype(np.uint16)
    im = Image.fromarray(grey16)
    assert im.mode == "I;16"
    out = io.BytesIO()
    im.save(out, fmt, dpi=(300, 300))
    return out.getvalue()


def test_a_name_in_a_16_bit_greyscale_scan_is_found_by_the_leak_check(
    sqlite_home: Path, tmp_path: Path
) -> None:
    import io

    from PIL import Image

    from amanah.processing import ocr

    folder = tmp_path / "in"
    folder.mkdir()
    png = scan16(WITNESS_LATIN)
    (folder / "scan16.png").write_bytes(png)
    (folder / "scan16.tif").write_bytes(scan16(WITNESS_LATIN, "TIFF"))
    # What a viewer shows: the 16-bit values scaled to 8 bits, as any image viewer does.
    shown = np.asarray(Image.open(io.BytesIO(png))).astype(np.float64) / 257.0
    with tempfile.TemporaryDirectory(prefix="advB-ocr-") as d:
        text = ocr.ocr_image(Image.fromarray(shown.astype(np.uint8)), 1, Path(d), "ara+eng").text
    assert "Khatib" in text, text
    ws, ids = workspace_with(sqlite_home, folder)
    try:
        said = {n: leak_findings(ws, ids[n]) for n in ("scan16.png", "scan16.tif")}
        assert all(any("Witness A" in f for f in v) for v in said.values()), said
    finally:
        ws.close()


# -- 5. the original picture kept in a JPEG's EXIF thumbnail -----------------------------------


def _text_jpeg(lines: list[str], size: tuple[int, int], font_size: int, quality: int) -> bytes:
    import io

    from PIL import Image, ImageDraw, ImageFont

    im = Image.new("RGB", size, (255, 255, 255))
    d = ImageDraw.Draw(im)
    font = ImageFont.truetype(FONT, font_size)
    for n, line in enumerate(lines):
        d.text((20, 20 + n * int(font_size * 1.6)), line, font=font, fill=(0, 0, 0))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=quality)
    return out.getvalue()


def with_exif_thumbnail(main: bytes, thumb: bytes) -> bytes:
    """`main` with an EXIF block (APP1) whose IFD1 holds `thumb` as its JPEG thumbnail: what
    a camera or an editor writes, and what stays stale when the picture is cropped or painted
    over by a program that does not rewrite the thumbnail (`exiftool -b -ThumbnailImage`
    gives it back)."""
    import struct

    entries0 = [(0x0112, 3, 1, 1)]  # Orientation = 1
    ifd0_size = 2 + 12 * len(entries0) + 4
    ifd1_at = 8 + ifd0_size
    ifd1_size = 2 + 12 * 3 + 4
    thumb_at = ifd1_at + ifd1_size
    tiff = b"II*\x00" + struct.pack("<I", 8)
    tiff += struct.pack("<H", len(entries0))
    for tag, typ, count, value in entries0:
        tiff += struct.pack("<HHIHH", tag, typ, count, value, 0)
    tiff += struct.pack("<I", ifd1_at)
    tiff += struct.pack("<H", 3)
    tiff += struct.pack("<HHIHH", 0x0103, 3, 1, 6, 0)  # Compression: JPEG
    tiff += struct.pack("<HHII", 0x0201, 4, 1, thumb_at)
    tiff += struct.pack("<HHII", 0x0202, 4, 1, len(thumb))
    tiff += struct.pack("<I", 0)
    tiff += thumb
    app1 = b"Exif\x00\x00" + tiff
    assert len(app1) < 65533
    return main[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + main[2:]


def test_a_name_in_a_jpegs_exif_thumbnail_is_found_by_the_leak_check(
    sqlite_home: Path, tmp_path: Path
) -> None:
    import io

    from PIL import ExifTags, Image

    from amanah.processing import ocr

    folder = tmp_path / "in"
    folder.mkdir()
    main = _text_jpeg(["Statement taken at the centre.", "Witness: [removed]"], (1400, 400), 48, 90)
    thumb = _text_jpeg(["Statement taken at the centre.", f"Witness: {WITNESS_LATIN}"],
                       (640, 200), 24, 80)  # fmt: skip
    data = with_exif_thumbnail(main, thumb)
    (folder / "photo.jpg").write_bytes(data)
    # The thumbnail is there for any tool (Pillow reads it back), and it reads the name.
    back = Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.IFD1)
    assert back.get(0x0201) and Image.open(io.BytesIO(data)).size == (1400, 400)
    start = data.index(thumb)
    with tempfile.TemporaryDirectory(prefix="advB-ocr-") as d:
        shown = Image.open(io.BytesIO(data[start : start + len(thumb)]))
        assert "Khatib" in ocr.ocr_image(shown, 1, Path(d), "ara+eng").text
    ws, ids = workspace_with(sqlite_home, folder)
    try:
        said = leak_findings(ws, ids["photo.jpg"])
        assert any("Witness A" in f for f in said), said
    finally:
        ws.close()


def ocr_png(png: bytes, invert: bool = False) -> str:
    import io

    from PIL import Image, ImageOps

    from amanah.processing import ocr

    im = Image.open(io.BytesIO(png)).convert("L")
    if invert:
        im = ImageOps.invert(im)
    with tempfile.TemporaryDirectory(prefix="advB-ocr-") as d:
        return ocr.ocr_image(im, 1, Path(d), "ara+eng").text


# -- 7. a camera JPEG placed in a PDF keeps its EXIF thumbnail ---------------------------------


def photo_pdf(path: Path, typed: str = "") -> bytes:
    """A page with a photographed statement placed on it as the camera wrote it (a JPEG is
    embedded as it is, DCTDecode): the picture was painted over before, its EXIF thumbnail
    was not. Returns the thumbnail's bytes."""
    import pymupdf

    main = _text_jpeg(["Statement taken at the centre.", "Witness: [removed]"], (1400, 400), 48, 90)
    thumb = _text_jpeg(["Statement taken at the centre.", f"Witness: {WITNESS_LATIN}"],
                       (640, 200), 24, 80)  # fmt: skip
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 80), f"Cover note. {typed}", fontsize=12)
    page.insert_image(pymupdf.Rect(72, 120, 522, 249), stream=with_exif_thumbnail(main, thumb))
    doc.save(path)
    doc.close()
    return thumb


def exif_thumbnails(path: Path) -> list[bytes]:
    """The JPEG thumbnails inside the PDF's JPEG images (`exiftool -b -ThumbnailImage`)."""
    import io

    import pymupdf
    from PIL import ExifTags, Image

    out = []
    with pymupdf.open(path) as doc:
        for xref in range(1, doc.xref_length()):
            if doc.xref_get_key(xref, "Subtype")[1] != "/Image":
                continue
            raw = doc.xref_stream_raw(xref) or b""
            if not raw.startswith(b"\xff\xd8"):
                continue
            ifd1 = Image.open(io.BytesIO(raw)).getexif().get_ifd(ExifTags.IFD.IFD1)
            at, size = ifd1.get(0x0201), ifd1.get(0x0202)
            if at and size:
                tiff = raw.index(b"Exif\x00\x00") + 6
                out.append(raw[tiff + at : tiff + at + size])
    return out


def test_redaction_of_a_pdf_drops_a_placed_jpegs_exif_thumbnail(
    sqlite_home: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    photo_pdf(folder / "photo.pdf", typed=WITNESS_LATIN)
    assert exif_thumbnails(folder / "photo.pdf")  # the harness finds it in the original
    ws, ids = workspace_with(sqlite_home, folder)
    try:
        done = redaction.redact(ws, local_administrator(ws), ids["photo.pdf"])  # accepted
        red = blob(ws, done["sha256"], tmp_path / "red.pdf")
        assert "centre" in ocr_pdf_page(red)  # control: the photo is still on the page
        said = [ocr_png(t) for t in exif_thumbnails(red)]
        assert not any("Khatib" in t for t in said), said
    finally:
        ws.close()


# -- 8. an SVG with the name as outlines ---------------------------------------------------------


def outlined_svg(text: str, size: float = 48) -> str:
    """An SVG (a poster, an infographic) with `text` as glyph outlines, as design tools export
    text converted to paths, beside one ordinary <text> element."""
    from fontTools.pens.svgPathPen import SVGPathPen
    from fontTools.pens.transformPen import TransformPen
    from fontTools.ttLib import TTFont

    f = TTFont(FONT)
    gs, cmap, upm = f.getGlyphSet(), f.getBestCmap(), f["head"].unitsPerEm
    s, x, paths = size / upm, 20.0, []
    for ch in text:
        g = cmap[ord(ch)]
        pen = SVGPathPen(gs)
        gs[g].draw(TransformPen(pen, (s, 0, 0, -s, x, 150)))
        if pen.getCommands():
            paths.append(f'<path d="{pen.getCommands()}"/>')
        x += gs[g].width * s
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="900" height="200" viewBox="0 0 900 200">'
        '<rect width="900" height="200" fill="white"/>'
        '<text x="20" y="60" font-family="DejaVu Sans" font-size="30">Remembered:</text>'
        f'<g fill="black">{"".join(paths)}</g></svg>'
    )


def test_a_name_as_outlines_in_an_svg_is_found_by_the_leak_check(
    sqlite_home: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "poster.svg").write_text(outlined_svg(WITNESS_LATIN), encoding="utf-8")
    # Control: the page as drawn reads the name (MuPDF renders SVG).
    import pymupdf

    with pymupdf.open(folder / "poster.svg") as doc:
        pdf = pymupdf.open("pdf", doc.convert_to_pdf())
        pdf.save(tmp_path / "shown.pdf")
    assert "Khatib" in ocr_pdf_page(tmp_path / "shown.pdf")
    ws, ids = workspace_with(sqlite_home, folder)
    try:
        said = leak_findings(ws, ids["poster.svg"])
        assert any("Witness A" in f for f in said), said
    finally:
        ws.close()
