"""Small evidence files made by the tests themselves, so the suite runs on a fresh clone."""

from __future__ import annotations

import io
import random
import zipfile
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from PIL import Image


def minimal_pdf(lines: list[str]) -> bytes:
    """A valid one-page PDF whose text layer holds `lines` (Latin-1, Helvetica)."""
    content = (
        "BT /F1 14 Tf 72 720 Td 18 TL "
        + " ".join(
            "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '"
            for line in lines
        )
        + " ET"
    )
    stream = content.encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % n + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def zip_of(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def email_with(attachments: dict[str, tuple[str, bytes]], body: str = "See attached.") -> bytes:
    msg = EmailMessage()
    msg["From"] = "Documentation Team <team@example.org>"
    msg["To"] = "Intake <intake@example.org>"
    msg["Subject"] = "Handover: scans from the branch archive"
    msg["Date"] = "Mon, 02 Jun 2025 10:00:00 +0300"
    msg.set_content(body)
    for name, (ctype, data) in attachments.items():
        major, minor = ctype.split("/")
        msg.add_attachment(data, maintype=major, subtype=minor, filename=name)
    return msg.as_bytes()


def zip_bomb(size: int = 64 << 20) -> bytes:
    """Zeros compress about 1000:1: small on disk, huge when unpacked."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z, z.open("zeros.bin", "w") as f:
        chunk = bytes(1 << 20)
        for _ in range(size >> 20):
            f.write(chunk)
    return buf.getvalue()


def zip_with_symlink_and_traversal() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        link = zipfile.ZipInfo("passwords.txt")
        link.external_attr = 0o120777 << 16
        z.writestr(link, "/etc/passwd")
        z.writestr("../../outside.txt", b"climbing out")
        z.writestr("ok.txt", b"an ordinary member")
    return buf.getvalue()


def write(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return root


ARABIC_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def scanned_page(
    lines: list[str], skew: float = 2.5, noise: int = 6000, seed: int = 7
) -> Image.Image:
    """A page as a poor scanner makes it: printed lines, turned a little, speckled."""
    from PIL import ImageDraw, ImageFont

    page = Image.new("L", (1700, 900), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(ARABIC_FONT), 44)
    y = 120
    for line in lines:
        draw.text((1580, y), line, font=font, fill=0, anchor="ra", direction="rtl", language="ar")
        y += 90
    page = page.rotate(skew, resample=Image.Resampling.BICUBIC, fillcolor=255, expand=False)
    rng = random.Random(seed)
    pixels = page.load()
    for _ in range(noise):
        x, y2 = rng.randrange(page.width), rng.randrange(page.height)
        pixels[x, y2] = rng.choice((0, 90, 160))
    return page


def boxed_line_scan(
    lines: list[str], boxed: str, at: int, skew: float = 0.0, frame: int = 3
) -> Image.Image:
    """A clean page whose line `at` is `boxed`, framed by a drawn box `frame` pixels thick (a
    form's field). Tesseract's layout analysis leaves such a line out whole, confident about
    the rest of the page; the clean-up erases a thin frame (`cleanup.unrule`), not a heavy
    one."""
    from PIL import ImageDraw, ImageFont

    page = Image.new("L", (1700, 100 + 90 * (len(lines) + 2)), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(ARABIC_FONT), 44)
    y = 120
    for line in [*lines[:at], boxed, *lines[at:]]:
        kw: dict[str, Any] = dict(font=font, anchor="ra", direction="rtl", language="ar")
        draw.text((1580, y), line, fill=0, **kw)
        if line is boxed:
            x0, _, _, _ = draw.textbbox((1580, y), line, **kw)
            draw.rectangle((x0 - 180, y - 10, 1600, y + 60), outline=0, width=frame)
        y += 90
    if skew:
        page = page.rotate(skew, resample=Image.Resampling.BICUBIC, fillcolor=255)
    return page


def decompression_bomb_png() -> bytes:
    """400 million pixels of one colour: a few hundred kilobytes on disk."""
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000), 1).save(out, "PNG", optimize=False)
    return out.getvalue()


def scanned_pdf(lines: list[str], **kw: float) -> bytes:
    """An image-only PDF (no text layer) holding a JPEG-compressed scanned page."""
    jpeg = io.BytesIO()
    scanned_page(lines, **kw).save(jpeg, "JPEG", quality=55)  # type: ignore[arg-type]
    out = io.BytesIO()
    Image.open(io.BytesIO(jpeg.getvalue())).save(out, "PDF", resolution=200)
    return out.getvalue()


def photo_with_exif(seed: int = 3, quality: int = 90, size: tuple[int, int] = (640, 480)) -> bytes:
    """A JPEG 'photo' with camera, time and GPS (Damascus) in its EXIF, as phones write it."""
    rng = random.Random(seed)
    im = Image.new("RGB", (64, 48))
    im.putdata(
        [(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(64 * 48)]
    )
    im = im.resize(size, Image.Resampling.BICUBIC)
    exif = Image.Exif()
    exif[0x010F] = "TestPhone"  # Make
    exif[0x0110] = "TestPhone X2"  # Model
    exif.get_ifd(0x8769)[0x9003] = "2013:08:21 02:45:00"  # DateTimeOriginal
    exif.get_ifd(0x8769)[0x9011] = "+03:00"  # OffsetTimeOriginal
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (33.0, 30.0, 50.0)
    gps[3], gps[4] = "E", (36.0, 17.0, 30.0)
    out = io.BytesIO()
    im.save(out, "JPEG", quality=quality, exif=exif.tobytes())
    return out.getvalue()


#: Degradation levels of a scan, mildest first: skew (degrees), specks, JPEG quality, blur
#: (px), uneven light (grey levels lost toward one corner), Gaussian grain (sigma), and the
#: scale of the scan against the 44-px print `scanned_page` makes (0.5: a 100 dpi scan).
DEGRADATIONS: dict[str, dict[str, float]] = {
    "clean": dict(skew=0.0, noise=0, quality=92, blur=0, shade=0, grain=0, scale=1.0),
    "light": dict(skew=1.5, noise=4000, quality=60, blur=0, shade=30, grain=0, scale=1.0),
    "medium": dict(skew=-3.0, noise=9000, quality=40, blur=0.6, shade=60, grain=0, scale=0.8),
    "heavy": dict(skew=5.0, noise=15000, quality=25, blur=0.9, shade=90, grain=0, scale=0.65),
    "severe": dict(skew=-6.5, noise=30000, quality=18, blur=1.1, shade=120, grain=18, scale=0.5),
}


#: Faint print under heavy grain, scanned small: the start of `faint_scan`.
FAINT = dict(skew=2.0, noise=20000, quality=20, blur=1.2, shade=40, grain=30, scale=0.6)


def degraded_scan(
    lines: list[str], level: str | dict[str, float] = "heavy", seed: int = 7
) -> Image.Image:
    """`scanned_page` made worse the ways copiers and cheap scanners do, as DEGRADATIONS say
    (or as the degradation given says); returned as the JPEG-decoded image a scanner would
    hand over."""
    import numpy as np
    from PIL import ImageFilter

    d = DEGRADATIONS[level] if isinstance(level, str) else level
    page = scanned_page(lines, skew=d["skew"], noise=0, seed=seed)
    if d["blur"]:
        page = page.filter(ImageFilter.GaussianBlur(d["blur"]))
    a = np.asarray(page).astype(np.float32)
    h, w = a.shape
    rng = np.random.default_rng(seed)
    if d["shade"]:
        a -= d["shade"] * (
            0.6 * np.linspace(0, 1, w)[None, :] + 0.4 * np.linspace(0, 1, h)[:, None]
        )
    if d["grain"]:
        a += rng.normal(0, d["grain"], a.shape)
    a = np.clip(a, 0, 255).astype(np.uint8)
    n = int(d["noise"])
    if n:
        a[rng.integers(0, h, n), rng.integers(0, w, n)] = rng.choice([0, 90, 160], n)
    page = Image.fromarray(a)
    if d["scale"] != 1.0:
        size = (int(w * d["scale"]), int(h * d["scale"]))
        page = page.resize(size, Image.Resampling.BILINEAR)
    jpeg = io.BytesIO()
    page.save(jpeg, "JPEG", quality=int(d["quality"]))
    return Image.open(io.BytesIO(jpeg.getvalue()))


def scanned_book(pages: list[list[str]], level: str = "light") -> bytes:
    """An image-only PDF of many degraded scanned pages (no text layer)."""
    images = [degraded_scan(lines, level, seed=n).convert("L") for n, lines in enumerate(pages)]
    out = io.BytesIO()
    images[0].save(out, "PDF", resolution=200, save_all=True, append_images=images[1:])
    return out.getvalue()


def faint_scan(lines: list[str], seed: int = 7, grain_seed: int = 3) -> Image.Image:
    """Faint grey print under heavy grain (a photocopy of a photocopy): Otsu reads it poorly,
    so the other OCR variants are tried. Ink at grey 175 on white paper, under a second grain
    (other seeds: the same degradation with other specks and grain)."""
    import numpy as np

    faint = Image.eval(degraded_scan(lines, FAINT, seed), lambda v: 175 + v * 80 // 255)
    grain = np.random.default_rng(grain_seed).normal(0, 12, (faint.height, faint.width))
    return Image.fromarray(np.clip(np.asarray(faint) + grain, 0, 255).astype(np.uint8))
