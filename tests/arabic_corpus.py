"""One Arabic text printed to PDF by the producers evidence arrives from: a browser
(chromium's print to PDF), WeasyPrint, LibreOffice (from .docx and .odt) and an OCR'd scan
(Tesseract's PDF with its invisible text layer). Used by tests/test_arabic_pdf.py and
benchmarks/pdf_arabic.py; each maker returns None when its producer is not installed."""

from __future__ import annotations

import html
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

#: Ordinary words of an Arabic report, with lam-alef ligatures (لا، لأ، لإ، لآ) and lines that
#: mix Arabic, Latin words and digits.
LINES = [
    "اعتقل فرع المخابرات الجوية في فلسطين عشرات الشبان لاحقاً",
    "وقال الشاهد إن التعذيب استمر بالكابلات والأوامر جاءت من الأعلى",
    "لا يوجد دليل على الإفراج عنهم لأن الأسماء لم تظهر في الإعلان",
    "قام الضابط بإخفاء الملفات لآخر مرة قبل الاجتماع الأول",
    "في عام 2013 نقل 45 معتقلاً إلى سجن صيدنايا عبر طريق M5 السريع",
    "قدمت منظمة Syrian Archive تقريراً عن الهجوم بتاريخ 21 آب 2013",
    "الأربعين شاهداً والمحامون والإسعاف والاحتجاز والإسلام",
]


def words(lines: list[str] = LINES) -> list[str]:
    """The words of the text as a reader would type them into search."""
    return [w for line in lines for w in line.split()]


def html_page(lines: list[str], rtl: bool = True) -> str:
    body = "\n".join(f"<p>{html.escape(line)}</p>" for line in lines)
    return (
        f'<!doctype html><html dir="{"rtl" if rtl else "ltr"}"><head><meta charset="utf-8">'
        "<style>body{font-family:'DejaVu Sans',sans-serif;font-size:14pt}</style>"
        f"</head><body>{body}</body></html>"
    )


def _browser() -> str | None:
    return next((b for b in ("chromium", "chromium-browser") if shutil.which(b)), None)


def chromium(lines: list[str], out: Path) -> Path | None:
    browser = _browser()
    if browser is None:
        return None
    src = out.with_suffix(".html")
    src.write_text(html_page(lines), encoding="utf-8")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                f"--user-data-dir={profile}",
                "--no-pdf-header-footer",
                f"--print-to-pdf={out}",
                src.as_uri(),
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )
    return out if out.exists() and out.stat().st_size else None


def weasyprint(lines: list[str], out: Path, rtl: bool = True) -> Path | None:
    try:
        import weasyprint as wp
    except ImportError:
        return None
    wp.HTML(string=html_page(lines, rtl)).write_pdf(out)
    return out


def _docx(lines: list[str], out: Path) -> Path:
    import docx
    from docx.oxml.ns import qn

    document = docx.Document()
    for line in lines:
        p = document.add_paragraph()
        p.paragraph_format.alignment = 2  # right
        ppr = p._p.get_or_add_pPr()
        ppr.append(ppr.makeelement(qn("w:bidi"), {}))
        run = p.add_run(line)
        rpr = run._r.get_or_add_rPr()
        rpr.append(rpr.makeelement(qn("w:rtl"), {}))
        run.font.name = "DejaVu Sans"
    document.save(str(out))
    return out


def _odt(lines: list[str], out: Path) -> Path:
    """A minimal OpenDocument text written by hand (the format is a zip of XML)."""
    import zipfile

    paras = "".join(f'<text:p text:style-name="P1">{html.escape(line)}</text:p>' for line in lines)
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
        ' xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"'
        ' xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"'
        ' office:version="1.2"><office:automatic-styles>'
        '<style:style style:name="P1" style:family="paragraph">'
        '<style:paragraph-properties fo:text-align="end" style:writing-mode="rl-tb"/>'
        '<style:text-properties style:font-name-complex="DejaVu Sans"'
        ' style:language-complex="ar" style:country-complex="SY"/></style:style>'
        "</office:automatic-styles><office:body><office:text>"
        f"{paras}</office:text></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.2"><manifest:file-entry manifest:full-path="/"'
        ' manifest:media-type="application/vnd.oasis.opendocument.text"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text"
        )  # stored first, uncompressed
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
    return out


def _soffice(src: Path, out: Path) -> Path | None:
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                office,
                f"-env:UserInstallation=file://{tmp}/profile",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                tmp,
                str(src),
            ],
            capture_output=True,
            timeout=180,
            check=False,
        )
        made = Path(tmp) / (src.stem + ".pdf")
        if not made.exists():
            return None
        shutil.move(made, out)
    return out


def libreoffice_docx(lines: list[str], out: Path) -> Path | None:
    return _soffice(_docx(lines, out.with_suffix(".docx")), out)


def libreoffice_odt(lines: list[str], out: Path) -> Path | None:
    return _soffice(_odt(lines, out.with_suffix(".odt")), out)


def tesseract(lines: list[str], out: Path) -> Path | None:
    """A page printed, scanned (rendered to an image) and OCR'd to a PDF with a text layer."""
    if shutil.which("tesseract") is None:
        return None
    import pymupdf

    pdf = weasyprint(lines, out.with_suffix(".print.pdf"))
    if pdf is None:
        return None
    with pymupdf.open(pdf) as doc:
        png = out.with_suffix(".png")
        doc[0].get_pixmap(dpi=300, colorspace=pymupdf.csGRAY).save(png)
    subprocess.run(
        ["tesseract", str(png), str(out.with_suffix("")), "-l", "ara+eng", "pdf"],
        capture_output=True,
        timeout=300,
        check=False,
    )
    return out if out.exists() else None


PRODUCERS: dict[str, Callable[[list[str], Path], Path | None]] = {
    "chromium": chromium,
    "weasyprint": weasyprint,
    "libreoffice-docx": libreoffice_docx,
    "libreoffice-odt": libreoffice_odt,
    "tesseract": tesseract,
}
