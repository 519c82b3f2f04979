"""A name set at an angle on an upright page: a caption turned 30°, a diagonal watermark, a
stamp, a name written up the margin. Tesseract reads level lines only (a page turned as a whole
is turned back, `test_adv_leak_turned.py`), so the leak check let these through;
`processing/tilted_lines.py` cuts each tilted line out level and reads it. The same pages
naming nobody are built whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sharingfixtures import WITNESS_LATIN
from tests.test_adv_leak_places import refused_then_built
from tests.test_adv_leak_turned import _scanned_pdf

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def _page(name: str, angle: float, size: int = 40):  # type: ignore[no-untyped-def]
    """Three level lines of a statement, and a label naming `name` turned by `angle`."""
    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("L", (1400, 1000), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, 32)
    for n, line in enumerate(
        ("Statement taken at the centre", "The second paragraph", "A third line of words")
    ):
        draw.text((40, 40 + 50 * n), line, font=font, fill=0)
    label = Image.new("L", (900, 80), 255)
    ImageDraw.Draw(label).text(
        (10, 10), f"Interview of {name}", font=ImageFont.truetype(FONT, size), fill=0
    )
    turned = label.rotate(angle, expand=True, fillcolor=255, resample=Image.Resampling.BICUBIC)
    page.paste(turned, (300, 230))
    return page


@pytest.mark.slow
def test_a_name_set_at_an_angle_on_an_upright_page_is_refused(
    sqlite_home: Path, tmp_path: Path
) -> None:
    def write(folder: Path, named: bool) -> None:
        name = WITNESS_LATIN if named else "the archive office"
        _page(name, 30).save(folder / "caption-30.png")
        _page(name, -45).save(folder / "watermark-45.png")
        _page(name, 90).save(folder / "up-the-margin.png")
        _page(name, 160).save(folder / "stamp-upside-down.jpg", quality=90)
        _scanned_pdf(folder / "scan-with-a-stamp.pdf", _page(name, -20))

    _, reasons = refused_then_built(sqlite_home, tmp_path, write)
    for name, reason in reasons.items():
        assert reason.startswith("names protected person Witness A"), (name, reasons)
