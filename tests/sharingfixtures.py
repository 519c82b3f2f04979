"""Statements for the sharing tests: a typed Arabic PDF (text layer) and a scanned one
(image only), both naming the same witness, made here with WeasyPrint and PyMuPDF."""

from __future__ import annotations

from pathlib import Path

WITNESS_AR = "أحمد الخطيب"
WITNESS_LATIN = "Ahmad al-Khatib"
STATEMENT = f"""<html lang="ar" dir="rtl"><head><title>Statement of {WITNESS_LATIN}</title><style>
@page {{ size: A4; margin: 2cm }} body {{ font-family: 'DejaVu Sans'; font-size: 18pt }}
</style></head><body>
<p>إفادة الشاهد {WITNESS_AR} عن الاعتقال في فرع المخابرات الجوية.</p>
<p>قال {WITNESS_AR} إنه رأى المعتقلين في الزنزانة.</p>
<p>Statement of {WITNESS_LATIN}.</p>
</body></html>"""


def typed_pdf(path: Path, html: str = STATEMENT) -> Path:
    from weasyprint import HTML

    HTML(string=html).write_pdf(path)  # its title (metadata) names the witness too
    return path


def scanned_pdf(path: Path, html: str = STATEMENT, dpi: int = 200) -> Path:
    """The same statement as a scanner makes it: one grey image per page, no text layer."""
    import pymupdf
    from weasyprint import HTML

    source = pymupdf.open(stream=HTML(string=html).write_pdf(), filetype="pdf")
    scan = pymupdf.open()
    for page in source:
        pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
        new = scan.new_page(width=page.rect.width, height=page.rect.height)
        new.insert_image(new.rect, stream=pix.tobytes("png"))
    scan.set_metadata({"author": WITNESS_LATIN})
    scan.save(path)
    return path
