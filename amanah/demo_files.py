"""The demo's realistic files, made on the spot: an Arabic report printed to PDF (WeasyPrint,
and chromium when it is installed), a scanned memo (an image-only PDF of a page rendered,
turned a little and noised), an email with an attachment, photos with GPS in their EXIF, an
exact duplicate and a statement naming a protected witness. Every name, place and event is
invented, and every file says so."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

#: The protected witness of the demo: fictional, named in one statement only.
WITNESS = "Witness A"
WITNESS_SPELLINGS = ("سليم الحوراني", "Salim al-Hourani", "Saleem Hourani")

STYLE = (
    "@page { size: A4; margin: 2cm } body { font-family: 'DejaVu Sans', sans-serif;"
    " font-size: 12pt; line-height: 1.6 } h1 { font-size: 16pt } .en { direction: ltr }"
)
REPORT_HTML = f"""<!doctype html><html lang="ar" dir="rtl"><head><meta charset="utf-8">
<style>{STYLE}</style></head><body>
<h1>تقرير توثيقي تجريبي — الأسماء والأماكن كلها خيالية</h1>
<p>رصد فريق التوثيق حاجزًا عسكريًا على مدخل قرية النخيل الخيالية في ربيع عام ٢٠١٣.</p>
<p>قال سكان إن عناصر الحاجز اعتقلوا عشرة رجال ونقلوهم إلى فرع الأمن في المدينة.</p>
<p class="en" dir="ltr" lang="en">DEMO REPORT (fictional): the documentation team recorded a
military checkpoint at the entrance of the fictional village of Al-Nakhil in spring 2013.</p>
<p style="break-before: page">الصفحة الثانية: قائمة بالمحتجزين المفقودين (تجريبية).</p>
<p class="en" dir="ltr" lang="en">Page two: residents say ten men were taken from the
checkpoint to the security branch; none has been seen since (fictional).</p>
</body></html>"""
MEMO_HTML = f"""<!doctype html><html lang="ar" dir="rtl"><head><meta charset="utf-8">
<style>{STYLE} body {{ font-size: 17pt }}</style></head><body>
<h1>مذكرة داخلية (وثيقة تجريبية خيالية)</h1>
<p>التاريخ: 10/4/2013</p>
<p>إلى: رئيس قسم التحقيق</p>
<p>الموضوع: نقل المحتجزين من الحاجز إلى الفرع</p>
<p>يرجى تنفيذ التعليمات فورا وإعداد قائمة بأسماء الموقوفين.</p>
</body></html>"""


def weasyprint_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return bytes(HTML(string=html).write_pdf())


def report_pdf() -> bytes:
    return weasyprint_pdf(REPORT_HTML)


def chromium_pdf() -> bytes | None:
    """The same report printed by chromium, as a browser prints it; None when not installed."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        page, out = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        page.write_text(REPORT_HTML, encoding="utf-8")
        try:
            subprocess.run(
                [
                    browser,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--no-pdf-header-footer",
                    f"--user-data-dir={tmp}/profile",
                    f"--print-to-pdf={out}",
                    page.as_uri(),
                ],
                capture_output=True,
                timeout=60,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.read_bytes() if out.exists() and out.stat().st_size else None


def scanned_memo() -> bytes:
    """An image-only PDF: the memo rendered at 150 dpi, turned 1.2°, speckled, grey."""
    import fitz  # PyMuPDF
    import numpy as np
    from PIL import Image

    doc = fitz.open(stream=weasyprint_pdf(MEMO_HTML), filetype="pdf")
    pix = doc[0].get_pixmap(dpi=150, colorspace=fitz.csGRAY)
    image = Image.frombytes("L", (pix.width, pix.height), pix.samples)
    image = image.rotate(1.2, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    noise = np.random.default_rng(7).normal(0, 18, (image.height, image.width))
    pixels = np.clip(np.asarray(image, dtype=np.float64) * 0.92 + 10 + noise, 0, 255)
    out = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8), "L").save(out, "PDF", resolution=150)
    return out.getvalue()


def email_with_attachment() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Field Team (fictional) <field@demo.invalid>"
    msg["To"] = "Documentation Desk (fictional) <desk@demo.invalid>"
    msg["Subject"] = "تقرير الحاجز — checkpoint report (demo)"
    msg["Date"] = format_datetime(datetime(2013, 4, 12, 9, 30, tzinfo=UTC))
    msg["Message-ID"] = "<demo-0001@demo.invalid>"
    msg.set_content(
        "DEMO EMAIL - fictional.\n"
        "Attached is the list of vehicles seen at the checkpoint near Al-Nakhil.\n\n"
        "مرفق قائمة بالمركبات التي شوهدت عند الحاجز قرب النخيل (تجريبي).\n"
    )
    msg.add_attachment(
        b"plate,colour,seen\nDEMO-111,white,2013-04-11\nDEMO-222,green,2013-04-12\n",
        maintype="text",
        subtype="csv",
        filename="vehicles-demo.csv",
    )
    return bytes(msg)


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    return (float(degrees), float(minutes), round(((value - degrees) * 60 - minutes) * 60, 2))


def photo(lat: float, lon: float, taken: str, shade: int) -> bytes:
    """A small JPEG with the camera's capture time and GPS position in its EXIF."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), (shade, 150, 120))
    draw = ImageDraw.Draw(image)
    draw.rectangle((200, 160, 440, 320), fill=(90, 90, 90))
    draw.text((20, 20), "DEMO PHOTO - fictional", fill=(255, 255, 255))
    exif = Image.Exif()
    exif[0x010F] = "DemoCam"  # Make
    exif[0x0110] = "Field 1"  # Model
    exif[0x0132] = taken  # DateTime
    exif.get_ifd(0x8769)[0x9003] = taken  # DateTimeOriginal
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = ("N" if lat >= 0 else "S"), _dms(abs(lat))
    gps[3], gps[4] = ("E" if lon >= 0 else "W"), _dms(abs(lon))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()


WITNESS_STATEMENT = (
    "٣/٦/٢٠١٣\n"
    "وثيقة تجريبية — الأسماء كلها خيالية.\n"
    f"إفادة الشاهد {WITNESS_SPELLINGS[0]} عن احتجازه في فرع أمني عام ٢٠١٢.\n"
    f"DEMO: statement of {WITNESS_SPELLINGS[1]} on his detention in a security branch, 2012.\n"
).encode()

#: Relative path in the handover → its maker (None from a maker: not made on this machine).
MADE: dict[str, Callable[[], bytes | None]] = {
    "reports/تقرير-الحاجز.pdf": report_pdf,
    "reports/checkpoint-report-chromium.pdf": chromium_pdf,
    "scans/memo-scan.pdf": scanned_memo,
    "mail/checkpoint-report.eml": email_with_attachment,
    "photos/IMG_0001.jpg": lambda: photo(34.8021, 38.9968, "2013:04:11 08:15:00", 110),
    "photos/IMG_0002.jpg": lambda: photo(34.8034, 38.9991, "2013:04:11 08:17:30", 140),
    "statements/شهادة-003.txt": lambda: WITNESS_STATEMENT,
}
