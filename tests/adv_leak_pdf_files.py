"""PDFs that hide a name where a PDF reader finds it but the inventory did not read (an
adversary's, stop 54): as a PDF name object (a custom information key or value, a font's
`/BaseFont`, a `/Dests` key), in a stream other than page content (a page's own XMP, an
associated file, JavaScript, XFA, rich text, an XMP element name), in an annotation's other
appearances (rollover, down, a checkbox's on state) and in marked-content properties (`/Alt`).
Each writer: (folder, latin, arabic) -> one file in the folder. Written byte by byte, as the
adversary does: a library writing PDFs would not write most of these."""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable
from pathlib import Path

Writer = Callable[[Path, str, str], None]


def pdf_name(text: str, full: bool = False) -> str:
    """`text` as a PDF name: UTF-8 bytes, #xx escapes for delimiters and non-ASCII (all
    bytes when `full`)."""
    out = []
    for b in text.encode("utf-8"):
        c = chr(b)
        out.append(f"#{b:02X}" if full or b <= 0x20 or b >= 0x7F or c in "#()<>[]{}/%" else c)
    return "/" + "".join(out)


def _build(objs: dict[int, str | bytes], info: int | None = None) -> bytes:
    buf = io.BytesIO()
    buf.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    n = max(objs)
    for i in range(1, n + 1):
        offsets[i] = buf.tell()
        body = objs.get(i, "null")
        raw = body.encode("latin-1") if isinstance(body, str) else body
        buf.write(b"%d 0 obj\n" % i + raw + b"\nendobj\n")
    xref = buf.tell()
    buf.write(b"xref\n0 %d\n0000000000 65535 f \n" % (n + 1))
    for i in range(1, n + 1):
        buf.write(b"%010d 00000 n \n" % offsets[i])
    trailer = f"trailer\n<< /Size {n + 1} /Root 1 0 R" + (f" /Info {info} 0 R" if info else "")
    buf.write(trailer.encode() + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return buf.getvalue()


def _stream(d: str, data: bytes) -> bytes:
    packed = zlib.compress(data)
    return f"<< {d} /Filter /FlateDecode /Length {len(packed)} >>\nstream\n".encode() + (
        packed + b"\nendstream"
    )


def _pdf(
    catalog: str = "",
    page: str = "",
    font: str = "/Helvetica",
    content: bytes = b"BT /F1 14 Tf 72 720 Td (Statement of the witness about the centre.) Tj ET",
    resources: str = "",
    more: dict[int, str | bytes] | None = None,
    info: str = "",
) -> bytes:
    objs: dict[int, str | bytes] = {
        1: f"<< /Type /Catalog /Pages 2 0 R {catalog} >>",
        2: "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R"
        f" >> {resources} >> /Contents 4 0 R {page} >>",
        4: _stream("", content),
        5: f"<< /Type /Font /Subtype /Type1 /BaseFont {font} /Encoding /WinAnsiEncoding >>",
    }
    if info:
        objs[6] = info
    objs.update(more or {})
    return _build(objs, 6 if info else None)


def _xmp(inner: str) -> bytes:
    return (
        '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        'rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        f'xmlns:pdfx="http://ns.adobe.com/pdfx/1.3/">{inner}</rdf:Description></rdf:RDF>'
        '</x:xmpmeta><?xpacket end="w"?>'
    ).encode()


def _w(name: str, make: Callable[[str, str], bytes]) -> Writer:
    return lambda folder, latin, arabic: (folder / name).write_bytes(make(latin, arabic))


_FORM = "/Type /XObject /Subtype /Form /BBox [0 0 200 24] /Resources << /Font << /Helv 5 0 R >> >>"


def _shows(text: str) -> bytes:
    return b"BT /Helv 12 Tf 2 6 Td (" + text.encode() + b") Tj ET"


#: Names: a custom key of the document information, escaped as needed or every byte, Latin
#: and Arabic (UTF-8 bytes); a name as a value; a font's name; a named destination.
NAMES: dict[str, Writer] = {
    "info-key": _w(
        "info_key.pdf", lambda la, ar: _pdf(info=f"<< /Title (S) {pdf_name(la)} (W) >>")
    ),
    "info-key-arabic": _w(
        "info_key_ar.pdf", lambda la, ar: _pdf(info=f"<< /Title (S) {pdf_name(ar)} (W) >>")
    ),
    "info-key-escaped": _w(
        "fullesc_key.pdf", lambda la, ar: _pdf(info=f"<< /Title (S) {pdf_name(la, True)} (W) >>")
    ),
    "info-name-value": _w(
        "info_nameval.pdf", lambda la, ar: _pdf(info=f"<< /Title (S) /Witness {pdf_name(la)} >>")
    ),
    "basefont": _w("basefont.pdf", lambda la, ar: _pdf(font=pdf_name(la))),
    "dests": _w(
        "dests.pdf",
        lambda la, ar: _pdf(catalog="/Dests 7 0 R", more={7: f"<< {pdf_name(la)} [3 0 R /Fit] >>"}),
    ),
}

#: Streams other than page content: a page's own XMP, an associated file outside the
#: embedded-files tree, JavaScript as a stream, XFA, rich text, an XMP element named so.
STREAMS: dict[str, Writer] = {
    "page-xmp": _w(
        "page_xmp.pdf",
        lambda la, ar: _pdf(
            page="/Metadata 7 0 R",
            more={
                7: _stream("/Type /Metadata /Subtype /XML", _xmp(f"<dc:creator>{la}</dc:creator>"))
            },
        ),
    ),
    "af-file": _w(
        "af_file.pdf",
        lambda la, ar: _pdf(
            catalog="/AF [8 0 R]",
            more={
                7: _stream("/Type /EmbeddedFile", f"Interview notes. Source: {la}.\n".encode()),
                8: "<< /Type /Filespec /F (notes.txt) /UF (notes.txt) /AFRelationship /Supplement"
                " /EF << /F 7 0 R /UF 7 0 R >> >>",
            },
        ),
    ),
    "js-stream": _w(
        "js_stream.pdf",
        lambda la, ar: _pdf(
            catalog="/OpenAction 8 0 R",
            more={
                7: _stream("", f'app.alert("Witness: {la}");'.encode()),
                8: "<< /Type /Action /S /JavaScript /JS 7 0 R >>",
            },
        ),
    ),
    "xfa": _w(
        "xfa.pdf",
        lambda la, ar: _pdf(
            catalog="/AcroForm << /Fields [] /XFA 7 0 R >>",
            more={
                7: _stream(
                    "",
                    b'<?xml version="1.0"?><xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/">'
                    b"<xfa:datasets xmlns:xfa='http://www.xfa.org/schema/xfa-data/1.0/'><xfa:data>"
                    b"<form><witness>" + ar.encode() + b"</witness></form></xfa:data>"
                    b"</xfa:datasets></xdp:xdp>",
                )
            },
        ),
    ),
    "annot-rc": _w(
        "annot_rc.pdf",
        lambda la, ar: _pdf(
            page="/Annots [8 0 R]",
            more={
                7: _stream(
                    "",
                    b'<?xml version="1.0"?><body xmlns="http://www.w3.org/1999/xhtml"><p>Source: '
                    + la.encode()
                    + b"</p></body>",
                ),
                8: "<< /Type /Annot /Subtype /Text /Rect [72 600 92 620] /Contents (See note)"
                " /RC 7 0 R /T (Reviewer) >>",
            },
        ),
    ),
    "xmp-element-name": _w(
        "xmp_custom_key.pdf",
        lambda la, ar: _pdf(
            catalog="/Metadata 7 0 R",
            more={
                7: _stream(
                    "/Type /Metadata /Subtype /XML",
                    _xmp(f"<pdfx:{la.replace(' ', '_')}>Witness</pdfx:{la.replace(' ', '_')}>"),
                )
            },
        ),
    ),
}

_WIDGET = "/Type /Annot /Subtype /Widget /Rect [72 600 272 624] /F 4 /P 3 0 R"

#: Appearances not shown until the reader acts: rollover and down, a checkbox's on state.
APPEARANCES: dict[str, Writer] = {
    "ap-rollover": _w(
        "ap_rollover.pdf",
        lambda la, ar: _pdf(
            page="/Annots [9 0 R]",
            catalog="/AcroForm << /Fields [9 0 R] >>",
            more={
                7: _stream(_FORM, _shows("Show source")),
                8: _stream(_FORM, _shows(la)),
                9: f"<< {_WIDGET} /FT /Btn /Ff 65536 /T (b1) /MK << /CA (Show source) >>"
                " /AP << /N 7 0 R /R 8 0 R /D 8 0 R >> >>",
            },
        ),
    ),
    "ap-on-state": _w(
        "ap_on_state.pdf",
        lambda la, ar: _pdf(
            page="/Annots [9 0 R]",
            catalog="/AcroForm << /Fields [9 0 R] >>",
            more={
                7: _stream(_FORM, b""),
                8: _stream(_FORM, _shows(la)),
                9: f"<< {_WIDGET} /FT /Btn /T (reveal) /V /Off /AS /Off"
                " /AP << /N << /Off 7 0 R /Yes 8 0 R >> >> >>",
            },
        ),
    ),
}

#: Marked-content properties of page content: `/Alt` of a figure, inline and named.
MARKED: dict[str, Writer] = {
    "bdc-alt": _w(
        "bdc_alt.pdf",
        lambda la, ar: _pdf(
            content=b"BT /F1 14 Tf 72 720 Td (Statement of the witness.) Tj ET /Figure << /Alt"
            b" (Photo of " + la.encode() + b") >> BDC 0 0 1 rg 72 500 100 100 re f EMC"
        ),
    ),
    "dp-arabic": _w(
        "dp_arabic.pdf",
        lambda la, ar: _pdf(
            content=b"BT /F1 14 Tf 72 720 Td (Statement of the witness.) Tj ET /Note << /Caption"
            b" <feff" + ar.encode("utf-16-be").hex().encode() + b"> >> DP",
        ),
    ),
}


def _type3(la: str, ar: str) -> bytes:
    """A Type3 font whose glyph for `x` draws the whole name in Helvetica: the text layer
    says `x`, the page shows the name."""
    glyph = b"1000 0 d0 BT /F1 1000 Tf 0 0 Td (" + la.encode() + b") Tj ET"
    return _pdf(
        content=b"BT /F1 14 Tf 72 720 Td (Statement of the witness.) Tj ET"
        b" BT /T3 20 Tf 72 650 Td (x) Tj ET",
        resources="",
        more={
            6: "<< /Type /Font /Subtype /Type3 /FontBBox [0 0 9000 1000] /FontMatrix [0.001 0"
            " 0 0.001 0 0] /CharProcs << /g 7 0 R >> /Encoding << /Type /Encoding /Differences"
            " [120 /g] >> /FirstChar 120 /LastChar 120 /Widths [9000] /Resources << /Font"
            " << /F1 5 0 R >> >> >>",
            7: _stream("", glyph),
        },
    ).replace(
        b"/Font << /F1 5 0 R >>  >> /Contents", b"/Font << /F1 5 0 R /T3 6 0 R >> >> /Contents"
    )


def _glyph_swap(folder: Path, latin: str, arabic: str) -> None:
    """An embedded TrueType font whose character map was edited so that other letters draw
    the name's: the text layer says `Whsnr …`, the page shows the name."""
    import tempfile

    import pymupdf
    from fontTools.ttLib import TTFont

    font = TTFont("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    best = font.getBestCmap()
    pool = iter("WesnrouDcyvgpqzjkxw")
    decoy_of: dict[str, str] = {" ": " "}
    for ch in latin:
        decoy_of.setdefault(ch, ch if not ch.isalpha() else next(pool))
    for table in font["cmap"].tables:
        if table.isUnicode():
            for real, decoy in decoy_of.items():
                table.cmap[ord(decoy)] = best[ord(real)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "swap.ttf"
        font.save(str(path))
        doc = pymupdf.open()
        page = doc.new_page()
        page.insert_text((72, 72), "Statement of the witness about the centre.", fontsize=12)
        decoy = "".join(decoy_of[c] for c in latin)
        page.insert_text((72, 120), decoy, fontfile=str(path), fontname="sw", fontsize=20)
        doc.save(folder / "glyph_swap.pdf", garbage=4, deflate=True)
        doc.close()


#: What a font draws is not its code points: a Type3 glyph drawing the whole name, an
#: embedded font whose character map was remapped.
FONTS: dict[str, Writer] = {"type3": _w("type3_text.pdf", _type3), "glyph-swap": _glyph_swap}

#: The tables read by the inventory so far.
PDFS: dict[str, Writer] = {**NAMES, **STREAMS, **APPEARANCES, **MARKED, **FONTS}
