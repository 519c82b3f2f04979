"""A name written light on dark, or in colour on colour, in a picture: white letters on black
(a screenshot in a dark theme), red on blue, grey on black, white in a coloured box on a white
page. Tesseract read such a page as nothing or as noise, so the leak check let it through;
`processing/ground.py` turns ink of any colour on any ground dark on white before OCR. The
same pictures naming nobody are built whole (no false alarm from a box's edges)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sharingfixtures import WITNESS_AR, WITNESS_LATIN
from tests.test_adv_leak_places import refused_then_built

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
INK = {"L": 0, "RGB": (0, 0, 0)}


def _page(name: str, ground: object, ink: object, box: object = None, mode: str = "L"):  # type: ignore[no-untyped-def]
    from PIL import Image, ImageDraw, ImageFont

    page = Image.new(mode, (1240, 460), ground)  # type: ignore[arg-type]
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, 40)
    first = INK[mode] if box is not None else ink
    draw.text((40, 40), "Statement taken at the centre", font=font, fill=first)  # type: ignore[arg-type]
    if box is not None:
        draw.rectangle((20, 230, 1100, 330), fill=box)  # type: ignore[arg-type]
    draw.text((40, 250), f"Interview of {name}", font=font, fill=ink, direction=None)  # type: ignore[arg-type]
    return page


def _arabic(name: str):  # type: ignore[no-untyped-def]
    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("L", (1240, 300), 0)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, 48)
    draw.text((1200, 100), f"إفادة {name}", font=font, fill=255, anchor="ra", direction="rtl")
    return page


@pytest.mark.slow
def test_a_name_light_on_dark_or_colour_on_colour_is_refused(
    sqlite_home: Path, tmp_path: Path
) -> None:
    def write(folder: Path, named: bool) -> None:
        name = WITNESS_LATIN if named else "the archive office"
        _page(name, 0, 255).save(folder / "white-on-black.png")
        _page(name, 20, 90).save(folder / "grey-on-black.png")
        _page(name, (30, 30, 200), (200, 30, 30), mode="RGB").save(folder / "red-on-blue.png")
        _page(name, (255, 255, 255), (255, 255, 255), (20, 40, 160), "RGB").save(
            folder / "white-in-a-blue-box.png"
        )
        _page(name, 255, 230, 110).save(folder / "light-in-a-grey-box.jpg", quality=85)
        _arabic(WITNESS_AR if named else "مكتب الأرشيف").save(folder / "arabic-white-on-black.png")

    _, reasons = refused_then_built(sqlite_home, tmp_path, write)
    for name, reason in reasons.items():
        assert reason.startswith("names protected person Witness A"), (name, reasons)
