"""Tables and forms: their rules and cell frames are erased before Tesseract reads a page.

Seized registers and lists are tables; Tesseract took their borders for letters and read such
pages at a confidence of about 50, so every clean-up variant and the orientation check ran on
each page for nothing (the fixtures' nine-page `example.pdf`: 115 s of CPU, now 26 s).
"""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from amanah.processing import cleanup, ocr
from tests.fixtures import ARABIC_FONT

pytestmark = pytest.mark.needs("arabic-font")

HEAD = ["inzet", "dikte", "breedte", "temper", "finish", "actie", "totaal"]
WIDTHS = [330, 200, 240, 230, 200, 300, 200]


def table_page(seed: int = 3, frames: bool = True) -> tuple[Image.Image, list[str]]:
    """A register printed as a table with double cell borders close to the text (the way an
    HTML table with `border=1` prints), and its cells' words; its text alone without
    `frames`."""
    rng = random.Random(seed)
    font = ImageFont.truetype(str(ARABIC_FONT), 34)
    page = Image.new("L", (2480, 1754), 255)
    draw = ImageDraw.Draw(page)
    rows = [HEAD] + [
        [
            f"{rng.randint(460000, 489999)}{rng.choice(['CA', 'AB', 'B'])}",
            str(rng.randint(100, 300)),
            str(rng.randint(9000, 10200)),
            rng.choice(["57", "65C", "DR8"]),
            rng.choice(["SF", "SS"]),
            rng.choice(["SAMENV", "OPBOEK"]),
            str(rng.randint(1, 40)),
        ]
        for _ in range(14)
    ]
    y = 100
    for row in rows:
        x = 100
        for cell, width in zip(row, WIDTHS, strict=True):
            if frames:
                draw.rectangle((x, y, x + width - 6, y + 62), outline=0, width=3)
                draw.rectangle((x + 5, y + 5, x + width - 11, y + 57), outline=0, width=2)
            draw.text((x + 10, y + 12), cell, font=font, fill=0)
            x += width
        y += 68
    return page, [cell for row in rows for cell in row]


def _found(words: list[str], text: str) -> float:
    tokens = set(text.split())
    return sum(1 for w in words if w in tokens) / len(words)


def test_a_table_reads_in_one_pass_once_its_frames_are_erased(tmp_path: Path) -> None:
    page, words = table_page()
    read = ocr.ocr_image(page, 1, tmp_path, "ara+eng")
    assert read.variant == "otsu" and list(read.tried) == ["otsu"]  # no other variant needed
    assert read.confidence is not None and read.confidence >= ocr.POOR_CONFIDENCE
    assert read.rows == read.rows_read == 15 and not read.lines_missed
    assert ocr.summary(read)["rules_erased"] == 2 * 15 * len(HEAD)  # recorded: two frames a cell
    assert _found(words, read.text) >= 0.75
    assert {"inzet", "breedte", "SAMENV", "OPBOEK"} <= set(read.text.split())


def test_a_table_cut_by_the_page_edge_loses_its_frames_too(tmp_path: Path) -> None:
    """A register going on from the page before: its first row's cells have no top border, so
    they enclose no hole; wider than high, they are frames all the same. What is left is the
    cells' text, every pixel of it."""
    box = (0, 108, 2480, 1754)  # below both top borders of the first row, above its text
    cut = table_page()[0].crop(box)
    text = np.asarray(table_page(frames=False)[0].crop(box)) < 128
    grey = ocr._to_grey(cut)
    out, parts = cleanup.unrule(grey, cleanup.text_height(grey))
    assert parts == 2 * 15 * len(HEAD)
    left = out < 128
    assert (left == (text & (grey < 128))).all()
    read = ocr.ocr_image(cut, 1, tmp_path, "ara+eng")
    assert list(read.tried) == ["otsu"] and _found(table_page()[1], read.text) >= 0.75


def test_the_same_table_with_its_frames_reads_poorly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: what the page read before frames were erased."""
    monkeypatch.setattr(cleanup, "unrule", lambda grey, height: (grey, 0))
    page, words = table_page()
    read = ocr.ocr_image(page, 1, tmp_path, "ara+eng")
    assert len(read.tried) == len(ocr.VARIANTS)  # every variant tried, each poor
    assert read.confidence is not None and read.confidence < ocr.POOR_CONFIDENCE
    assert _found(words, read.text) < 0.4


def _layers() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A page drawn in layers: text (Arabic lines, a large Latin headline of straight letters,
    Arabic headline words, hairline Latin and Arabic letters), thin rules (a grid, an
    underline, a frame), and dark marks that are not thin (a heavy rule, a filled box). Each
    layer is a mask of its ink."""
    size = (2000, 2200)
    text, thin, thick = (Image.new("L", size, 255) for _ in range(3))
    t, r, k = ImageDraw.Draw(text), ImageDraw.Draw(thin), ImageDraw.Draw(thick)
    font = ImageFont.truetype(str(ARABIC_FONT), 40)
    big = ImageFont.truetype(str(ARABIC_FONT), 150)
    t.text((120, 60), "LITHE FILE 1711", font=big, fill=0)
    t.text((1880, 260), "لا الإله الأول", font=big, fill=0, anchor="ra", direction="rtl")
    kw = {"font": font, "fill": 0, "anchor": "ra", "direction": "rtl", "language": "ar"}
    _hairline(t, 120, 1400)
    _hairline_arabic(text, 1880, 1620)
    for n, line in enumerate(["إدارة المخابرات العامة - الفرع 285", "الأوامر الصادرة لاحقاً"]):
        t.text((1880, 480 + 80 * n), line, **kw)
    for x in range(300, 1900, 400):  # a grid of cells under the lines
        r.line((x, 720, x, 1120), fill=0, width=3)
    for y in range(720, 1121, 100):
        r.line((300, y, 1700, y), fill=0, width=2)
    r.line((1100, 660, 1880, 660), fill=0, width=3)  # an underline below the text, not touching
    r.rectangle((100, 1150, 900, 1250), outline=0, width=3)  # an empty field of a form
    k.line((1000, 1200, 1900, 1200), fill=0, width=14)  # a heavy rule
    k.rectangle((1000, 1260, 1600, 1320), fill=0)  # a filled box (a redaction bar)
    masks = [np.asarray(layer) < 128 for layer in (text, thin, thick)]
    grey = np.full(size[::-1], 255, np.uint8)
    for layer in (text, thin, thick):
        grey = np.minimum(grey, np.asarray(layer))
    return grey, masks[0], masks[1], masks[2]


def _hairline(draw: ImageDraw.ImageDraw, x: int, y: int) -> None:
    """Letters of straight hairline strokes (3 px), five text heights tall and wider than a
    cell, as a title in a thin, wide typeface prints: E, L, T, H, F, and I (a standing stroke,
    like a large alef). Each is thin and straight; none encloses a hole or is long enough
    for a rule."""
    high, wide = 150, 140
    strokes = {
        "E": [(0, 0, 0, 1), (0, 0, 1, 0), (0, 0.5, 0.8, 0.5), (0, 1, 1, 1)],
        "L": [(0, 0, 0, 1), (0, 1, 1, 1)],
        "T": [(0, 0, 1, 0), (0.5, 0, 0.5, 1)],
        "H": [(0, 0, 0, 1), (1, 0, 1, 1), (0, 0.5, 1, 0.5)],
        "F": [(0, 0, 0, 1), (0, 0, 1, 0), (0, 0.5, 0.8, 0.5)],
        "I": [(0.5, 0, 0.5, 1)],
    }
    for letter in "ELTHFI":
        for x0, y0, x1, y1 in strokes[letter]:
            xy = (x + x0 * wide, y + y0 * high, x + x1 * wide, y + y1 * high)
            draw.line(xy, fill=0, width=3)
        x += wide + 60


def _hairline_arabic(layer: Image.Image, right: int, top: int) -> None:
    """Arabic headline words in a hairline typeface, stretched with tatweel (long, thin,
    straight strokes along the baseline, and standing alefs and lams): DejaVu's letters
    thinned to their skeleton, two pixels wide."""
    big = Image.new("L", layer.size, 0)
    font = ImageFont.truetype(str(ARABIC_FONT), 160)
    draw = ImageDraw.Draw(big)
    for n, word in enumerate(["الـــمـــخـــابـــرات", "ســـجـــل بـــلاغ"]):
        draw.text((right, top + 240 * n), word, font=font, fill=255, anchor="ra", direction="rtl")
    ink = np.asarray(big).copy()
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    skeleton = np.zeros_like(ink)
    while cv2.countNonZero(ink):  # Lantuejoul's skeleton: what each erosion's opening loses
        eroded = cv2.erode(ink, cross)
        skeleton |= cv2.subtract(ink, cv2.dilate(eroded, cross))
        ink = eroded
    hair = cv2.dilate(skeleton, np.ones((2, 2), np.uint8))
    layer.paste(Image.fromarray(np.minimum(np.asarray(layer), 255 - hair)))


def test_only_thin_straight_rules_are_erased_never_a_letter() -> None:
    grey, text, thin, thick = _layers()
    height = cleanup.text_height(grey)
    assert height is not None
    out, erased_parts = cleanup.unrule(grey, height)
    erased = (out > grey) & (grey < 128)
    assert erased_parts >= 3
    assert not (erased & text).any()  # no pixel of any letter, large or small
    assert not (erased & thick).any()  # a heavy rule and a filled box are not thin rules
    assert erased[thin].mean() >= 0.95  # the grid, the underline and the field are gone
    assert (out[text] == grey[text]).all()


def test_a_page_of_text_is_left_as_it_is() -> None:
    grey, text, _, _ = _layers()
    only_text = np.where(text, grey, 255).astype(np.uint8)
    out, parts = cleanup.unrule(only_text, cleanup.text_height(only_text))
    assert parts == 0 and (out == only_text).all()
    assert cleanup.unrule(only_text, None) == (only_text, 0)  # no text measured: nothing done


def test_a_rule_touching_a_letter_is_kept_with_it() -> None:
    """A letter written onto its field's line is one part with the line: not straight as a
    whole (nor thin: its letters have cores), so it is kept and read as before, rather than
    the letter erased with the line."""
    page = Image.new("L", (1600, 500), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(ARABIC_FONT), 40)
    for n, line in enumerate(["الاسم الكامل", "تاريخ التوقيف 2013"]):
        draw.text((1500, 80 + 80 * n), line, font=font, fill=0, anchor="ra", direction="rtl")
    draw.text((120, 341), "Name of the detainee", font=font, fill=0, anchor="ls")
    draw.line((100, 340, 1500, 340), fill=0, width=3)  # the text's baseline sits on it
    grey = np.asarray(page)
    out, parts = cleanup.unrule(grey, cleanup.text_height(grey))
    assert parts == 0 and (out == grey).all()


def test_the_step_is_timed_and_counted(tmp_path: Path) -> None:
    page, _ = table_page()
    prep = cleanup.prepare(ocr._to_grey(page))
    assert prep.rules >= 2 * 15 * len(HEAD)  # two frames a cell
    assert "rules" in prep.steps
