"""Adversary A's files: each names the invented witness where a reader still reads it.
`write_all(folder, latin, arabic)` writes every attack; a control passes harmless words."""

from __future__ import annotations

import base64
import io
import subprocess
import zipfile
from pathlib import Path

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def _split(latin: str) -> tuple[str, str]:
    return latin[:2], latin[2:]


# -- DOCX -----------------------------------------------------------------------------------


def docx_header_runs(path: Path, latin: str) -> None:
    """A header whose name is split in two runs (a bold first two letters)."""
    import docx

    d = docx.Document()
    d.add_paragraph("Statement about the detention centre.")
    p = d.sections[0].header.paragraphs[0]
    a, b = _split(latin)
    p.add_run("Interview with ")
    p.add_run(a).bold = True
    p.add_run(b)
    d.save(str(path))


def docx_comment_runs(path: Path, latin: str) -> None:
    import docx

    d = docx.Document()
    para = d.add_paragraph("Statement about the detention centre.")
    a, b = _split(latin)
    c = d.add_comment(para.runs, text="", author="Reviewer", initials="R")
    cp = c.paragraphs[0]
    cp.add_run("ask ")
    cp.add_run(a).italic = True
    cp.add_run(b)
    d.save(str(path))


def docx_vanish(path: Path, latin: str) -> None:
    """Body: 'Ah' + hidden run 'zq' + 'mad al-Khatib' (Word shows 'Ahmad al-Khatib')."""
    import docx

    d = docx.Document()
    p = d.add_paragraph("Statement of ")
    a, b = _split(latin)
    p.add_run(a)
    p.add_run("zq").font.hidden = True
    p.add_run(b)
    d.save(str(path))


def docx_sym(path: Path, latin: str) -> None:
    """Every letter of the name as a w:sym (a symbol character of a font): Word shows it."""
    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    d = docx.Document()
    p = d.add_paragraph("Statement of ")
    for ch in latin:
        r = OxmlElement("w:r")
        s = OxmlElement("w:sym")
        s.set(qn("w:font"), "Arial")
        s.set(qn("w:char"), f"{ord(ch):04X}")
        r.append(s)
        p._p.append(r)
    p.add_run(" about the centre.")
    d.save(str(path))


# -- PPTX / XLSX ----------------------------------------------------------------------------


def pptx_notes_runs(path: Path, latin: str) -> None:
    import pptx

    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[6])
    tf = slide.notes_slide.notes_text_frame
    a, b = _split(latin)
    para = tf.paragraphs[0]
    r1 = para.add_run()
    r1.text = "protect " + a
    r1.font.bold = True
    r2 = para.add_run()
    r2.text = b
    deck.save(str(path))


def xlsx_formula(path: Path, latin: str) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "Detainees at the branch"
    a, b = _split(latin)
    ws["A2"] = f'=CONCATENATE("{a}","{b}")'
    wb.save(path)


def xlsx_char_formula(path: Path, latin: str) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "Detainees at the branch"
    ws["A2"] = "=" + "&".join(f"CHAR({ord(c)})" for c in latin)
    wb.save(path)


def xlsx_two_cells(path: Path, latin: str) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    first, last = latin.split(" ", 1)
    ws["A1"], ws["B1"] = "Given name", "Family name"
    ws["A2"], ws["B2"] = first, last
    wb.save(path)


# -- HTML / SVG / text ------------------------------------------------------------------------


def html_long_tag(latin: str) -> str:
    a, b = latin[:1], latin[1:]
    return (
        f'<html><body><p>Statement of {a}<span data-x="{"q" * 300}">{b}</span>.</p></body></html>'
    )


def html_hidden_between(latin: str) -> str:
    a, b = _split(latin)
    return (
        f'<html><body><p>Statement of {a}<span style="display:none">zq</span>{b}.</p></body></html>'
    )


def html_class_hidden(latin: str) -> str:
    a, b = _split(latin)
    return (
        "<html><head><style>.x{display:none}</style></head><body>"
        f'<p>Statement of {a}<span class="x">zq</span>{b}.</p></body></html>'
    )


def html_css_escape(latin: str) -> str:
    esc = "".join(f"\\{ord(c):x} " for c in latin)
    return (
        f'<html><head><style>.n::before{{content:"{esc}"}}</style></head><body>'
        '<p>Statement of <span class="n"></span>.</p></body></html>'
    )


def html_css_split(latin: str) -> str:
    first, last = latin.split(" ", 1)
    return (
        f'<html><head><style>.n::before{{content:"{first} "}}</style></head><body>'
        f'<p>Statement of <span class="n"></span>{last}.</p></body></html>'
    )


def html_bdo(latin: str) -> str:
    return f'<html><body><p>Statement of <bdo dir="rtl">{latin[::-1]}</bdo>.</p></body></html>'


def html_flex_order(latin: str) -> str:
    a, b = latin[:3], latin[3:]
    return (
        '<html><body><p>Statement of <span style="display:inline-flex">'
        f'<span style="order:2">{b}</span><span style="order:1">{a}</span></span>.</p>'
        "</body></html>"
    )


def svg_order(latin: str) -> str:
    a, b = latin[:3], latin[3:]
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="600" height="100">'
        '<text y="50" font-family="DejaVu Sans Mono" font-size="20">'
        f'<tspan x="46">{b}</tspan><tspan x="10">{a}</tspan></text></svg>'
    )


def svg_long_tspan(latin: str) -> str:
    a, b = latin[:1], latin[1:]
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="600" height="100">'
        f'<text x="10" y="50" font-size="20">{a}<tspan data-x="{"q" * 300}">{b}</tspan></text>'
        "</svg>"
    )


def rlo_text(latin: str) -> str:
    return f"Statement of \u202e{latin[::-1]}\u202c about the centre.\n"


# -- PDF --------------------------------------------------------------------------------------


def _glyph_svg(text: str, size: float = 28) -> str:
    from fontTools.pens.svgPathPen import SVGPathPen
    from fontTools.pens.transformPen import TransformPen
    from fontTools.ttLib import TTFont

    font = TTFont(FONT)
    gs = font.getGlyphSet()
    cmap = font.getBestCmap()
    upm = font["head"].unitsPerEm
    scale = size / upm
    x = 10.0
    paths = []
    for ch in text:
        g = cmap.get(ord(ch))
        if g is None:
            continue
        pen = SVGPathPen(gs)
        gs[g].draw(TransformPen(pen, (scale, 0, 0, -scale, x, 40)))
        paths.append(f'<path d="{pen.getCommands()}"/>')
        x += gs[g].width * scale
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{int(x) + 20}" height="60">'
        + "".join(paths)
        + "</svg>"
    )


def pdf_vector_name(path: Path, latin: str) -> None:
    """A page with a text line, and the name drawn as the glyphs' outlines (no text)."""
    import pymupdf

    svg = pymupdf.open(stream=_glyph_svg(latin).encode(), filetype="svg")
    pdfbytes = svg.convert_to_pdf()
    src = pymupdf.open("pdf", pdfbytes)
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "Statement about the centre. Signed:", fontfile=FONT, fontname="dv")
    r = src[0].rect
    page.show_pdf_page(pymupdf.Rect(72, 90, 72 + r.width, 90 + r.height), src, 0)
    doc.save(path)


def _png(text: str, w: int, h: int, size: int, fill: int = 0, bg: int = 255) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(FONT, size)
    image = Image.new("L", (w, h), bg)
    ImageDraw.Draw(image).text((2, 2), text, font=font, fill=fill)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def pdf_letter_tiles(path: Path, latin: str) -> None:
    """The name as one small picture per letter (each 20 px wide), side by side."""
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "Statement about the centre. Signed:", fontfile=FONT, fontname="dv")
    x = 72.0
    for ch in latin:
        if ch == " ":
            x += 10
            continue
        page.insert_image(pymupdf.Rect(x, 90, x + 20, 122), stream=_png(ch, 20, 32, 24))
        x += 20
    doc.save(path)


def pdf_image_reused(path: Path, latin: str) -> None:
    """One picture of the name placed twice: first tiny, then large and readable."""
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "Statement about the centre. Signed:", fontfile=FONT, fontname="dv")
    data = _png(latin, 60 + 40 * len(latin), 120, 64)
    xref = page.insert_image(pymupdf.Rect(500, 780, 512, 783), stream=data)
    page.insert_image(pymupdf.Rect(72, 100, 472, 180), xref=xref)
    doc.save(path)


# -- images -------------------------------------------------------------------------------------


def png_low_contrast(latin: str) -> bytes:
    return _png(latin, 60 + 40 * len(latin), 120, 64, fill=215, bg=255)


def png_small(latin: str) -> bytes:
    return _png(latin, 12 + 6 * len(latin), 16, 10)


# -- mail -----------------------------------------------------------------------------------------


def eml_split_encoded_word(arabic: str) -> bytes:
    raw = arabic.encode("utf-8")
    cut = 5  # inside the third letter (each two bytes)
    a = base64.b64encode(raw[:cut]).decode()
    b = base64.b64encode(raw[cut:]).decode()
    return (
        "From: office@example.org\r\nTo: desk@example.org\r\n"
        f"Subject: =?UTF-8?B?{a}?= =?UTF-8?B?{b}?=\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "The statement is attached.\r\n"
    ).encode()


def eml_split_q_word(arabic: str) -> bytes:
    raw = arabic.encode("utf-8")
    q = "".join(f"={x:02X}" for x in raw)
    cut = 3 * 5
    return (
        "From: office@example.org\r\nTo: desk@example.org\r\n"
        f"Subject: =?UTF-8?Q?{q[:cut]}?= =?UTF-8?Q?{q[cut:]}?=\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "The statement is attached.\r\n"
    ).encode()


def eml_2231_filename(latin: str) -> bytes:
    a, b = _split(latin)
    from urllib.parse import quote

    return (
        "From: office@example.org\r\nTo: desk@example.org\r\nSubject: files\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="BB"\r\n\r\n'
        "--BB\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
        "--BB\r\nContent-Type: application/octet-stream\r\n"
        "Content-Disposition: attachment;\r\n"
        f" filename*0*=utf-8''{quote(a)};\r\n filename*1*={quote(b)}.bin\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\nAAECAwQF\r\n--BB--\r\n"
    ).encode()


# -- archives and compressors ------------------------------------------------------------------


def zip_split_members(latin: str) -> bytes:
    first, last = latin.split(" ", 1)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(f"{first}/{last}.txt", "nothing here")
    return buf.getvalue()


def compressed(path: Path, tool: list[str], text: str) -> None:
    data = subprocess.run(tool, input=text.encode(), capture_output=True, check=True).stdout
    path.write_bytes(data)


def write_all(folder: Path, latin: str, arabic: str) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    docx_header_runs(folder / "header_runs.docx", latin)
    docx_comment_runs(folder / "comment_runs.docx", latin)
    docx_vanish(folder / "vanish.docx", latin)
    docx_sym(folder / "sym.docx", latin)
    pptx_notes_runs(folder / "notes_runs.pptx", latin)
    xlsx_formula(folder / "formula.xlsx", latin)
    xlsx_char_formula(folder / "charformula.xlsx", latin)
    xlsx_two_cells(folder / "twocells.xlsx", latin)
    for name, fn in (
        ("longtag.html", html_long_tag), ("hidden_between.html", html_hidden_between),
        ("class_hidden.html", html_class_hidden), ("css_escape.html", html_css_escape),
        ("css_split.html", html_css_split), ("bdo.html", html_bdo),
        ("flex_order.html", html_flex_order), ("order.svg", svg_order),
        ("long_tspan.svg", svg_long_tspan),
    ):  # fmt: skip
        (folder / name).write_text(fn(latin))
    (folder / "rlo.txt").write_text(rlo_text(latin))
    pdf_vector_name(folder / "vector.pdf", latin)
    pdf_letter_tiles(folder / "tiles.pdf", latin)
    pdf_image_reused(folder / "reused.pdf", latin)
    (folder / "lowcontrast.png").write_bytes(png_low_contrast(latin))
    (folder / "small.png").write_bytes(png_small(latin))
    (folder / "split_b.eml").write_bytes(eml_split_encoded_word(arabic))
    (folder / "split_q.eml").write_bytes(eml_split_q_word(arabic))
    (folder / "rfc2231.eml").write_bytes(eml_2231_filename(latin))
    (folder / "split_members.zip").write_bytes(zip_split_members(latin))
    text = f"Statement of {latin} about the centre.\n"
    compressed(folder / "statement.txt.zst", ["zstd", "-q", "-c"], text)
    compressed(folder / "statement.txt.lz4", ["lz4", "-q", "-c"], text)
    return sorted(p.name for p in folder.iterdir())


# -- round 2 -----------------------------------------------------------------------------------


def pdf_annot_appearance(path: Path, latin: str) -> None:
    """A stamp whose /Contents says nothing; its appearance stream draws the name."""
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "Statement about the centre.", fontfile=FONT, fontname="dv")
    annot = page.add_freetext_annot(pymupdf.Rect(72, 100, 400, 140), latin, fontsize=18)
    annot.update()
    xref = annot.xref
    doc.xref_set_key(xref, "Contents", pymupdf.get_pdf_str("stamp"))
    doc.xref_set_key(xref, "RC", "null")
    doc.save(path, deflate=True)


def docx_runs_arabic(path: Path, arabic: str) -> None:
    import docx

    d = docx.Document()
    d.add_paragraph("إفادة عن مركز الاحتجاز.")
    p = d.sections[0].footer.paragraphs[0]
    p.add_run("مقابلة مع ")
    p.add_run(arabic[:3]).bold = True
    p.add_run(arabic[3:])
    d.save(str(path))


def docx_image_other_extension(path: Path, latin: str) -> None:
    """A picture of the name stored as word/media/image1.dat (its content type says PNG)."""
    import docx
    from docx.shared import Inches

    d = docx.Document()
    d.add_paragraph("Statement about the detention centre. Signed:")
    d.add_picture(io.BytesIO(_png(latin, 60 + 40 * len(latin), 120, 64)), width=Inches(4))
    tmp = io.BytesIO()
    d.save(tmp)
    src = zipfile.ZipFile(tmp)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info)
            name = info.filename
            if name == "word/media/image1.png":
                name = "word/media/image1.dat"
            elif name == "word/_rels/document.xml.rels":
                data = data.replace(b"media/image1.png", b"media/image1.dat")
            elif name == "[Content_Types].xml":
                data = data.replace(
                    b"<Default ", b'<Default Extension="dat" ContentType="image/png"/><Default ', 1
                )
            out.writestr(name, data)


def svg_paths(latin: str) -> str:
    return _glyph_svg(latin)


def jpeg_thumbnail(path: Path, latin: str, work: Path) -> None:
    """A photo of a wall; its EXIF thumbnail (shown by file browsers) is the name."""
    from PIL import Image

    Image.new("RGB", (800, 600), (120, 130, 140)).save(path, quality=90)
    thumb = work / "thumb.jpg"
    Image.open(io.BytesIO(_png(latin, 160, 40, 14))).convert("RGB").save(thumb, quality=95)
    subprocess.run(["exiftool", "-q", "-overwrite_original", f"-ThumbnailImage<={thumb}", str(path)],  # noqa: E501
                   check=True, timeout=60)  # fmt: skip


def png_rotated(latin: str) -> bytes:
    from PIL import Image

    im = Image.open(io.BytesIO(_png(latin, 60 + 40 * len(latin), 120, 64)))
    im = im.rotate(40, expand=True, fillcolor=255)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def zstd_big(path: Path, latin: str) -> None:
    import random

    rnd = random.Random(5)
    words = ["the", "centre", "detention", "branch", "guard", "cell", "night", "moved", "we"]
    body = " ".join(rnd.choice(words) for _ in range(20000))
    text = body + f" Statement of {latin}. " + body
    compressed(path, ["zstd", "-q", "-19", "-c"], text)


def odt_hidden_between(path: Path, latin: str) -> None:
    a, b = _split(latin)
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
        ' xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"'
        ' xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" office:version="1.2">'  # noqa: E501
        '<office:automatic-styles><style:style style:name="H" style:family="text">'
        '<style:text-properties text:display="none"/></style:style></office:automatic-styles>'
        f'<office:body><office:text><text:p>Statement of {a}<text:span text:style-name="H">zq'
        f"</text:span>{b}.</text:p></office:text></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest'
        ' xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'  # noqa: E501
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>'  # noqa: E501
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text", zipfile.ZIP_STORED)
        z.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)


def write_round2(folder: Path, latin: str, arabic: str) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    pdf_annot_appearance(folder / "annot_ap.pdf", latin)
    docx_runs_arabic(folder / "footer_runs_ar.docx", arabic)
    docx_image_other_extension(folder / "image_dat.docx", latin)
    (folder / "paths.svg").write_text(svg_paths(latin))
    jpeg_thumbnail(folder / "thumb.jpg", latin, folder.parent)
    (folder / "rotated.png").write_bytes(png_rotated(latin))
    zstd_big(folder / "big.txt.zst", latin)
    odt_hidden_between(folder / "hidden.odt", latin)
    return sorted(p.name for p in folder.iterdir())


# -- round 3 -----------------------------------------------------------------------------------

VARIANTS = {
    "v_cyrillic.txt": "Ахмад аль-Хатиб",
    "v_german.txt": "Achmad al-Chatib",
    "v_turkish.txt": "Ahmet el-Hatip",
    "v_french.txt": "Ahmed el-Khatîb",
    "v_hebrew.txt": "אחמד אל-ח'טיב",
    "v_persian.txt": "احمد خطیب",
    "v_greek.txt": "Αχμάντ αλ-Χατίμπ",
    "v_dotted.txt": "Aḥmad al-Ḫaṭīb",
    "v_spaced_arabic.txt": "أ ح م د   ا ل خ ط ي ب",
    "v_initial.txt": "A. al-Khatib",
    "v_surname_comma.txt": "al-Khatib, Ahmad",
    "v_upper.txt": "AHMAD AL-KHATIB",
    "v_fullwidth.txt": "Ａｈｍａｄ ａｌ－Ｋｈａｔｉｂ",
    "v_homoglyph.txt": "Аhmаd аl-Khаtib",  # Cyrillic а
    "v_math.txt": "𝐀𝐡𝐦𝐚𝐝 𝐚𝐥-𝐊𝐡𝐚𝐭𝐢𝐛",
    "v_combining.txt": "A\u0336h\u0336m\u0336a\u0336d\u0336 a\u0336l\u0336-K\u0336h\u0336a\u0336t\u0336i\u0336b\u0336",  # noqa: E501
    "v_arabizi.txt": "A7mad el-7'atib",
    "v_ar_latin_mix.txt": "أحمد al-Khatib",
    "v_ar_kashida_hamza.txt": "احمـــد الخـــطيب",
    "v_ar_digits_between.txt": "أحمد ١ الخطيب",
}


def pdf_actualtext(path: Path, latin: str) -> None:
    """The name drawn, its text layer replaced by ActualText ("Statement")."""
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "Statement about the centre.", fontfile=FONT, fontname="dv")
    page.insert_text((72, 120), latin, fontfile=FONT, fontname="dv", fontsize=20)
    xrefs = page.get_contents()
    last = xrefs[-1]
    body = doc.xref_stream(last)
    body = b"/Span <</ActualText (signed) >> BDC\n" + body + b"\nEMC\n"
    doc.update_stream(last, body)
    doc.save(path, deflate=True)


def pdf_tounicode_shift(path: Path, latin: str) -> None:
    """The page drawn with a font whose ToUnicode map is off by one (a broken map, as old
    PDF makers write them): the page shows the name, its text layer says "Binbe!bm.Libujc"."""
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "Statement about the centre.", fontfile=FONT, fontname="dv")
    page.insert_text((72, 120), latin, fontfile=FONT, fontname="dv", fontsize=20)
    doc.save(path)
    doc.close()
    doc = pymupdf.open(path)
    for xref in range(1, doc.xref_length()):
        ref = doc.xref_get_key(xref, "ToUnicode")
        if ref[0] == "xref":
            cmap = int(ref[1].split()[0])
            stream = doc.xref_stream(cmap)
            doc.update_stream(
                cmap, stream.replace(b"<0003> <0061> <0020>", b"<0003> <0061> <0021>")
            )
    data = doc.tobytes(garbage=4, deflate=True)  # one revision: the old map is gone
    doc.close()
    Path(path).write_bytes(data)


def pptx_table_runs(path: Path, latin: str) -> None:
    import pptx
    from pptx.util import Inches

    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[6])
    table = slide.shapes.add_table(2, 1, Inches(1), Inches(1), Inches(6), Inches(1)).table
    table.cell(0, 0).text = "Witness"
    para = table.cell(1, 0).text_frame.paragraphs[0]
    a, b = _split(latin)
    r1 = para.add_run()
    r1.text = a
    r1.font.bold = True
    r2 = para.add_run()
    r2.text = b
    deck.save(str(path))


def pptx_group_runs(path: Path, latin: str) -> None:
    import pptx
    from pptx.util import Inches

    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[6])
    group = slide.shapes.add_group_shape()
    box = group.shapes.add_textbox(Inches(1), Inches(1), Inches(5), Inches(1))
    para = box.text_frame.paragraphs[0]
    a, b = _split(latin)
    r1 = para.add_run()
    r1.text = a
    r1.font.bold = True
    r2 = para.add_run()
    r2.text = b
    deck.save(str(path))


def png_noisy(latin: str) -> bytes:
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    rng = np.random.default_rng(3)
    w, h = 60 + 40 * len(latin), 120
    bg = rng.integers(110, 256, (h, w), dtype=np.uint8)
    image = Image.fromarray(bg, "L")
    ImageDraw.Draw(image).text((30, 20), latin, font=ImageFont.truetype(FONT, 64), fill=20)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def webp(latin: str) -> bytes:
    from PIL import Image

    im = Image.open(io.BytesIO(_png(latin, 60 + 40 * len(latin), 120, 64)))
    buf = io.BytesIO()
    im.save(buf, format="WEBP", lossless=True)
    return buf.getvalue()


def write_round3(folder: Path, latin: str, arabic: str) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in VARIANTS.items():
        (folder / name).write_text(f"Statement of {text} about the centre.\n")
    pdf_actualtext(folder / "actualtext.pdf", latin)
    pdf_tounicode_shift(folder / "tounicode.pdf", latin)
    pptx_table_runs(folder / "table_runs.pptx", latin)
    pptx_group_runs(folder / "group_runs.pptx", latin)
    (folder / "noisy.png").write_bytes(png_noisy(latin))
    (folder / "name.webp").write_bytes(webp(latin))
    return sorted(p.name for p in folder.iterdir())


# -- round 4 -----------------------------------------------------------------------------------

BETWEEN = {
    "b_nickname.txt": "Ahmad (Abu Omar) al-Khatib",
    "b_quoted.txt": 'Ahmad "the teacher" al-Khatib',
    "b_three_between.txt": "Ahmad Mahmoud Hassan Ali al-Khatib",
    "b_ar_nickname.txt": "أحمد (أبو عمر) الخطيب",
    "b_lro_arabic.txt": "\u202dبيطخلا دمحأ\u202c",
}


def docx_textbox_runs(path: Path, latin: str) -> None:
    """A text box in the body (a signature block) whose name is in two runs."""
    import docx
    from docx.oxml import parse_xml

    a, b = _split(latin)
    d = docx.Document()
    p = d.add_paragraph("Statement about the detention centre.")
    W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    V = 'xmlns:v="urn:schemas-microsoft-com:vml"'
    xml = (
        f'<w:r {W} {V}><w:pict><v:shape id="tb1" style="width:300pt;height:40pt">'
        "<v:textbox><w:txbxContent><w:p>"
        f"<w:r><w:rPr><w:b/></w:rPr><w:t>{a}</w:t></w:r><w:r><w:t>{b}</w:t></w:r>"
        "</w:p></w:txbxContent></v:textbox></v:shape></w:pict></w:r>"
    )
    p._p.append(parse_xml(xml))
    d.save(str(path))


def eml_html_hidden(latin: str) -> bytes:
    a, b = _split(latin)
    html = (
        f'<html><body><p>Statement of {a}<span style="display:none">zq</span>{b}.</p></body></html>'
    )
    return (
        "From: office@example.org\r\nTo: desk@example.org\r\nSubject: statement\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html + "\r\n"
    ).encode()


def write_round4(folder: Path, latin: str, arabic: str) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in BETWEEN.items():
        (folder / name).write_text(f"Statement of {text} about the centre.\n")
    (folder / f"statement \u202e{latin[::-1]}\u202c.txt").write_text(
        "Statement about the centre.\n"
    )
    docx_textbox_runs(folder / "textbox_runs.docx", latin)
    (folder / "hidden.eml").write_bytes(eml_html_hidden(latin))
    pdf_tounicode_shift(folder / "tounicode1.pdf", latin)
    return sorted(p.name for p in folder.iterdir())


# -- round 5 -----------------------------------------------------------------------------------

_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def docx_wrapped(path: Path, latin: str, how: str) -> None:
    """Body paragraph 'Statement of Ah' + <wrapper>'mad al-Khatib'</wrapper>: Word shows
    'Statement of Ahmad al-Khatib' (a tracked insertion shown, a content control, custom XML,
    a simple field's result, a smart tag)."""
    import docx
    from docx.oxml import parse_xml

    a, b = _split(latin)
    d = docx.Document()
    p = d.add_paragraph("Statement of " + a)
    run = f'<w:r><w:t xml:space="preserve">{b}</w:t></w:r>'
    xml = {
        "ins": f'<w:ins {_W} w:id="1" w:author="Clerk" w:date="2026-01-01T00:00:00Z">{run}</w:ins>',
        "sdt": f"<w:sdt {_W}><w:sdtPr/><w:sdtContent>{run}</w:sdtContent></w:sdt>",
        "customXml": f'<w:customXml {_W} w:element="person">{run}</w:customXml>',
        "fldSimple": f'<w:fldSimple {_W} w:instr=" MERGEFIELD name ">{run}</w:fldSimple>',
        "smartTag": f'<w:smartTag {_W} w:element="PersonName">{run}</w:smartTag>',
    }[how]
    p._p.append(parse_xml(xml))
    d.save(str(path))


def xlsx_numfmt_suffix(path: Path, latin: str) -> None:
    """A cell 'Ahmad' whose number format adds ' al-Khatib': Excel shows 'Ahmad al-Khatib'."""
    import openpyxl

    first, last = latin.split(" ", 1)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "Detainees at the branch"
    ws["A2"] = first
    ws["A2"].number_format = f'@" {last}"'
    wb.save(path)


def pdf_thumbnail(path: Path, latin: str) -> None:
    """A page that says 'Statement'; its /Thumb (shown in a viewer's page panel) is the name."""
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "Statement about the centre.", fontfile=FONT, fontname="dv")
    from PIL import Image

    im = Image.open(io.BytesIO(_png(latin, 60 + 40 * len(latin), 120, 64))).convert("L")
    xref = doc.get_new_xref()
    doc.update_object(
        xref,
        f"<</Type/XObject/Subtype/Image/Width {im.width}/Height {im.height}"
        "/ColorSpace/DeviceGray/BitsPerComponent 8>>",
    )
    doc.update_stream(xref, im.tobytes())
    doc.xref_set_key(page.xref, "Thumb", f"{xref} 0 R")
    doc.save(path, deflate=True)


def pdf_image_stamp(path: Path, latin: str) -> None:
    """A stamp annotation whose appearance is a picture of the name (a signature stamp)."""
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "Statement about the centre. Signed:", fontfile=FONT, fontname="dv")
    holder = doc.new_page()
    img = holder.insert_image(holder.rect, stream=_png(latin, 60 + 40 * len(latin), 120, 64))
    page = doc[0]
    annot = page.add_stamp_annot(pymupdf.Rect(72, 100, 472, 180), stamp=0)
    annot.set_info(content="", title="")
    annot.update()
    ap_xref = int(doc.xref_get_key(annot.xref, "AP/N")[1].split()[0])
    doc.update_object(
        ap_xref,
        "<</Type/XObject/Subtype/Form/BBox[0 0 400 80]/Matrix[1 0 0 1 0 0]"
        f"/Resources<</XObject<</Im {img} 0 R>>>>>>",
    )
    doc.update_stream(ap_xref, b"q 400 0 0 80 0 0 cm /Im Do Q")
    doc.delete_page(holder.number)
    doc.save(path, garbage=0, deflate=True)


def write_round5(folder: Path, latin: str, arabic: str) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for how in ("ins", "sdt", "customXml", "fldSimple", "smartTag"):
        docx_wrapped(folder / f"wrap_{how}.docx", latin, how)
    xlsx_numfmt_suffix(folder / "numfmt_suffix.xlsx", latin)
    pdf_thumbnail(folder / "thumb.pdf", latin)
    try:
        pdf_image_stamp(folder / "stamp.pdf", latin)
    except Exception as exc:
        print("stamp failed", exc)
    return sorted(p.name for p in folder.iterdir())


# -- round 6 -----------------------------------------------------------------------------------


def pdf_draw_order(path: Path, latin: str, shuffle: bool) -> None:
    """The name's pieces drawn where they belong but in another order: the last ones first
    (or each letter at its place in a shuffled order)."""
    import random

    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "Statement about the centre. Signed:", fontfile=FONT, fontname="dv")
    font = pymupdf.Font(fontfile=FONT)
    size = 20
    xs, x = [], 72.0
    for ch in latin:
        xs.append(x)
        x += font.text_length(ch, fontsize=size)
    if shuffle:
        order = list(range(len(latin)))
        random.Random(7).shuffle(order)
        pieces = [(latin[i], xs[i]) for i in order if latin[i] != " "]
    else:
        pieces = [(latin[3:], xs[3]), (latin[:3], xs[0])]
    for text, at in pieces:
        page.insert_text((at, 120), text, fontfile=FONT, fontname="dv", fontsize=size)
    doc.save(path, deflate=True)


def pptx_two_boxes(path: Path, latin: str) -> None:
    import pptx
    from pptx.util import Emu, Pt

    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[6])
    a, b = latin[:3], latin[3:]
    left = Emu(914400)
    font = __import__("pymupdf").Font(fontfile=FONT)
    w = Pt(font.text_length(a, fontsize=28))
    for text, x, width in ((b, left + w, Pt(400)), (a, left, w)):
        box = slide.shapes.add_textbox(x, Emu(914400), width, Pt(40))
        tf = box.text_frame
        tf.margin_left = tf.margin_right = 0
        tf.word_wrap = False
        run = tf.paragraphs[0].add_run()
        run.text = text
        run.font.size = Pt(28)
        run.font.name = "DejaVu Sans"
    deck.save(str(path))


def png_isoluminant(latin: str) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(FONT, 64)
    image = Image.new("RGB", (60 + 40 * len(latin), 120), (0, 160, 0))  # L = 94
    ImageDraw.Draw(image).text((30, 20), latin, font=font, fill=(255, 35, 60))  # L ~ 96
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def png_inverted(latin: str) -> bytes:
    return _png(latin, 60 + 40 * len(latin), 120, 64, fill=255, bg=0)


def png_large_small_text(latin: str) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", (4000, 3000), 255)
    ImageDraw.Draw(image).text((3000, 2800), latin, font=ImageFont.truetype(FONT, 22), fill=0)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def write_round6(folder: Path, latin: str, arabic: str) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    pdf_draw_order(folder / "order_reversed.pdf", latin, False)
    pdf_draw_order(folder / "order_shuffled.pdf", latin, True)
    pptx_two_boxes(folder / "two_boxes.pptx", latin)
    (folder / "isoluminant.png").write_bytes(png_isoluminant(latin))
    (folder / "inverted.png").write_bytes(png_inverted(latin))
    (folder / "large.png").write_bytes(png_large_small_text(latin))
    return sorted(p.name for p in folder.iterdir())


# -- round 7 -----------------------------------------------------------------------------------

SPELLINGS7 = {
    "s_alkhatib_glued.txt": "Ahmed Alkhatib",
    "s_no_article.txt": "Ahmad Khatib",
    "s_el_space.txt": "Ahmad El Khatib",
    "s_khateeb.txt": "Ahmad Al Khateeb",
    "s_akhmed.txt": "Akhmed al-Khatib",
    "s_khattib.txt": "Ahmad al-Khattib",
    "s_spanish.txt": "Ahmad al-Jatib",
    "s_katib.txt": "Ahmad al-Katib",
    "s_xatib.txt": "Ahmad al-Xatib",
    "s_elkhatip.txt": "Ahmed Elkhatip",
    "s_hatib_ar_dropped_kh.txt": "Ahmad al-Hatib",
    "s_cyr_upper.txt": "АХМЕД АЛЬ-ХАТИБ",
    "s_urdu.txt": "احمد الخطیب",
}


def write_round7(folder: Path, latin: str, arabic: str) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in SPELLINGS7.items():
        (folder / name).write_text(f"Statement of {text} about the centre.\n")
    a, b = _split(latin)
    (folder / "bold.md").write_text(f"# Statement\n\nStatement of **{a}**{b} about the centre.\n")
    (folder / "link.md").write_text(
        f"Statement of {a}[{b}](https://example.org) about the centre.\n"
    )
    (folder / "emph.rst").write_text(f"Statement of *{a}*\\ {b} about the centre.\n")
    (folder / "bold.tex").write_text(
        "\\documentclass{article}\\begin{document}\n"
        f"Statement of \\textbf{{{a}}}{b} about the centre.\n\\end{{document}}\n"
    )
    (folder / "overstrike.txt").write_text(
        "Statement of " + "".join(f"{c}\b{c}" for c in latin) + " about the centre.\n"
    )
    (folder / "noisy_ar.png").write_bytes(png_noisy_ar(arabic))
    (folder / "hidden_ar.html").write_text(
        f'<html dir="rtl"><body><p>إفادة {arabic[:2]}<span style="display:none">زز</span>'
        f"{arabic[2:]}.</p></body></html>"
    )
    return sorted(p.name for p in folder.iterdir())


def png_noisy_ar(arabic: str) -> bytes:
    """The Arabic name (shaped by Raqm) on the noisy background of `png_noisy`."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    rng = np.random.default_rng(3)
    w, h = 80 + 45 * len(arabic), 140
    image = Image.fromarray(rng.integers(110, 256, (h, w), dtype=np.uint8), "L")
    ImageDraw.Draw(image).text((30, 20), arabic, font=ImageFont.truetype(FONT, 64), fill=20)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def _shaped(arabic: str) -> str:
    """Visual order with presentation forms, for a renderer without complex layout."""
    try:
        import arabic_reshaper  # type: ignore[import-not-found]
        from bidi.algorithm import get_display  # type: ignore[import-not-found]

        return get_display(arabic_reshaper.reshape(arabic))
    except ImportError:
        return arabic


# -- round 8: pictures a reader reads and OCR does not -----------------------------------------


def _canvas(w: int, h: int) -> tuple[Image.Image, ImageDraw.ImageDraw, ImageFont.FreeTypeFont]:  # noqa: F821
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", (w, h), 255)
    return image, ImageDraw.Draw(image), ImageFont.truetype(FONT, 56)


def _save(image: Image.Image) -> bytes:  # noqa: F821
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def png_vertical_stack(latin: str) -> bytes:
    """Each letter below the one before (a shop sign, a spine label); words side by side."""
    words = latin.split(" ")
    image, draw, font = _canvas(120 * len(words) + 40, 70 * max(map(len, words)) + 40)
    for k, word in enumerate(words):
        for n, ch in enumerate(word):
            draw.text((20 + 120 * k, 20 + 70 * n), ch, font=font, fill=0)
    return _save(image)


def png_outline(latin: str) -> bytes:
    """Hollow letters: a black outline, white inside."""
    image, draw, font = _canvas(60 + 38 * len(latin), 120)
    draw.text((30, 20), latin, font=font, fill=255, stroke_width=2, stroke_fill=0)
    return _save(image)


def png_struck(latin: str) -> bytes:
    """The name struck through with a line (as a clerk crosses out, still legible)."""
    image, draw, font = _canvas(60 + 38 * len(latin), 120)
    draw.text((30, 20), latin, font=font, fill=0)
    draw.line((20, 58, 40 + 36 * len(latin), 58), fill=0, width=4)
    return _save(image)


def png_arc(latin: str) -> bytes:
    """The name along an arc (a stamp, a seal)."""
    import math

    from PIL import Image

    image, _draw, font = _canvas(900, 520)
    n = len(latin)
    for i, ch in enumerate(latin):
        angle = math.pi * (0.85 - 0.7 * i / (n - 1))
        x, y = 450 + 360 * math.cos(angle), 470 - 360 * math.sin(angle)
        tile = Image.new("L", (70, 70), 255)
        from PIL import ImageDraw

        ImageDraw.Draw(tile).text((12, 2), ch, font=font, fill=0)
        tile = tile.rotate(math.degrees(angle) - 90, expand=True, fillcolor=255)
        image.paste(tile, (int(x - tile.width / 2), int(y - tile.height / 2)),
                    mask=tile.point(lambda v: 255 - v))  # fmt: skip
    return _save(image)


def write_round8(folder: Path, latin: str, arabic: str) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, fn in (("vertical.png", png_vertical_stack), ("outline.png", png_outline),
                     ("struck.png", png_struck), ("arc.png", png_arc)):  # fmt: skip
        (folder / name).write_bytes(fn(latin))
    return sorted(p.name for p in folder.iterdir())


# -- round 9 ---------------------------------------------------------------------------------------


def png_alpha(latin: str) -> bytes:
    """Black everywhere; the letters are in the alpha channel only (a viewer shows black
    letters on its white background; the RGB planes alone are one black rectangle)."""
    from PIL import Image

    mask = Image.open(io.BytesIO(_png(latin, 60 + 40 * len(latin), 120, 64))).point(
        lambda v: 255 - v
    )
    image = Image.new("RGBA", mask.size, (0, 0, 0, 0))
    image.putalpha(mask)
    return _save(image)


def gif_transparent(latin: str) -> bytes:
    """A palette GIF whose background index is transparent and black: the letters white?
    no: letters index 1 = dark blue, background index 0 = black, transparent."""
    from PIL import Image

    grey = Image.open(io.BytesIO(_png(latin, 60 + 40 * len(latin), 120, 64)))
    image = Image.new("P", grey.size, 0)
    image.putpalette([0, 0, 0, 20, 20, 90] + [0] * 762)
    image.paste(1, mask=grey.point(lambda v: 255 if v < 128 else 0))
    buf = io.BytesIO()
    image.save(buf, format="GIF", transparency=0)
    return buf.getvalue()


def eml_uuencoded(latin: str) -> bytes:
    import binascii

    body = f"Statement of {latin} about the centre.\n".encode()
    lines = ["begin 644 statement.txt"]
    for i in range(0, len(body), 45):
        lines.append(binascii.b2a_uu(body[i : i + 45]).decode().rstrip("\n"))
    lines += ["`", "end"]
    return (
        "From: office@example.org\r\nTo: desk@example.org\r\nSubject: statement\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: x-uuencode\r\n\r\n" + "\r\n".join(lines) + "\r\n"
    ).encode()


def rtf_picture(latin: str) -> str:
    """An RTF letter with a PNG picture of the name (a scanned signature block)."""
    data = _png(latin, 60 + 40 * len(latin), 120, 64)
    hexed = data.hex()
    lines = "\n".join(hexed[i : i + 128] for i in range(0, len(hexed), 128))
    return (
        r"{\rtf1\ansi{\fonttbl{\f0 Arial;}}\f0 Statement about the centre. Signed:\par"
        r"{\pict\pngblip\picw660\pich120\picwgoal9900\pichgoal1800" + "\n" + lines + "}\\par}"
    )


def write_round9(folder: Path, latin: str, arabic: str) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "alpha.png").write_bytes(png_alpha(latin))
    (folder / "transparent.gif").write_bytes(gif_transparent(latin))
    (folder / "uu.eml").write_bytes(eml_uuencoded(latin))
    (folder / "picture.rtf").write_text(rtf_picture(latin))
    return sorted(p.name for p in folder.iterdir())


# -- round 10: cost ---------------------------------------------------------------------------------  # noqa: E501


def pdf_many_images(path: Path, count: int = 400) -> None:
    """One page with text and `count` distinct small pictures (each 24 x 8 px and OCR'd)."""
    import numpy as np
    import pymupdf
    from PIL import Image

    rng = np.random.default_rng(1)
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 40), "Statement about the centre.", fontfile=FONT, fontname="dv")
    for k in range(count):
        im = Image.fromarray(rng.integers(0, 256, (8, 24), dtype=np.uint8), "L")
        x, y = 20 + (k % 20) * 28, 60 + (k // 20) * 12
        page.insert_image(pymupdf.Rect(x, y, x + 24, y + 8), stream=_save(im))
    doc.save(path, deflate=True)


def write_round10(folder: Path, latin: str, arabic: str) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    pdf_many_images(folder / "many_images.pdf")
    return sorted(p.name for p in folder.iterdir())
