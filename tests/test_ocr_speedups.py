"""What makes OCR cheaper without reading worse: the variants' denoisers, the variants
skipped once a reading is good, and page jobs queued before the item's analysis is done."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from amanah.processing import cleanup, ocr
from tests.fixtures import DEGRADATIONS, degraded_scan, faint_scan
from tests.test_ocr_degraded import MEMO, cer

pytestmark = pytest.mark.needs("arabic-font")


@pytest.mark.parametrize("level", [*DEGRADATIONS, "faint"])
def test_the_second_variant_alone_reads_every_level(level: str, tmp_path: Path) -> None:
    """The second variant (a small Gaussian, then Otsu) reads each level on its own as well
    as the target asks (<= 0.05, the faint photocopy too), not only when Otsu already did."""
    image = faint_scan(MEMO) if level == "faint" else degraded_scan(MEMO, level)
    prep = cleanup.prepare(ocr._to_grey(image))
    text, confidence, _ = ocr.tesseract(
        cleanup.denoised_otsu(prep), tmp_path, "ara", False, ocr.PSM[prep.layout]
    )
    assert cer(MEMO, text) <= 0.05, (level, confidence)
    assert "denoised_otsu" in prep.steps


def test_the_denoisers_used_are_the_ones_the_benchmark_chose() -> None:
    """Non-local means cost 18-65 s on a 300 dpi page; it stays only as the benchmarks'
    comparison, never as the default. Before the global threshold, a small Gaussian: on a
    faint page under grain it keeps a dot of ink and leaves almost no speck of grain, where
    Otsu on the page as it is leaves specks everywhere (the control)."""
    assert cleanup.DENOISER == "bilateral" and cleanup.GRAIN_DENOISER == "gaussian"
    grey = np.full((50, 50), 200, np.uint8)
    grey[20:30, 10:40] = 30  # a stroke: kept dark, its edges kept where they were
    out = cleanup.DENOISERS[cleanup.DENOISER](grey)
    assert out[25, 25] < 60 and out[5, 5] > 180
    assert out[19, 25] > 150 and out[20, 25] < 80
    rng = np.random.default_rng(1)
    page = np.full((120, 160), 240.0)
    page[40:46, 20:140] = 170  # a faint stroke
    page[70:74, 60:64] = 170  # the dot of a letter, 4 px
    faint = cleanup.Prepared(np.clip(page + rng.normal(0, 14, page.shape), 0, 255).astype(np.uint8))
    ink = cleanup.denoised_otsu(faint) == 0
    assert ink[42, 30:130].all() and ink[71:73, 61:63].all()
    background = np.ones_like(ink)
    background[36:50, 16:144] = background[66:78, 56:68] = False
    assert ink[background].mean() < 0.002
    _, plain = cv2.threshold(faint.grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    assert (plain == 0)[background].mean() > 0.01


def test_a_good_first_reading_reads_no_other_variant(tmp_path: Path) -> None:
    page = ocr.ocr_image(degraded_scan(MEMO, "light"), 1, tmp_path, "ara")
    assert list(page.tried) == ["otsu"] and page.variant == "otsu"
    assert page.confidence is not None and page.confidence >= ocr.POOR_CONFIDENCE
    assert "denoised_otsu" not in page.steps and "adaptive" not in page.steps
    # the control: a faint page is read by the second variant too, whose good reading ends
    # the search before the third; its clean-up time is recorded
    faint = ocr.ocr_image(faint_scan(MEMO), 1, tmp_path, "ara")
    assert list(faint.tried) == ["otsu", "denoised_otsu"]
    assert "denoised_otsu" in faint.steps and "adaptive" not in faint.steps
    assert cer(MEMO, faint.text) <= 0.05


def test_later_variants_stop_at_the_first_good_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whichever variant first reads well ends the search: a blank first variant (nothing
    read) is followed by Otsu, whose good reading means the denoised variants never run."""

    def blank(p: cleanup.Prepared) -> np.ndarray:
        return np.full_like(p.grey, 255)

    ran: list[str] = []

    def watch(name: str, fn):  # type: ignore[no-untyped-def]
        def run(p: cleanup.Prepared) -> np.ndarray:
            ran.append(name)
            return fn(p)

        return run

    variants = (("blank", blank), *((n, watch(n, f)) for n, f in ocr.VARIANTS))
    monkeypatch.setattr(ocr, "VARIANTS", variants)
    page = ocr.ocr_image(degraded_scan(MEMO, "medium"), 1, tmp_path, "ara")
    assert page.tried["blank"] is None
    assert list(page.tried) == ["blank", "otsu"] and ran == ["otsu"]
    assert page.variant == "otsu" and cer(MEMO, page.text) <= 0.03


TEXTS = [
    "إدارة المخابرات العامة - الفرع 285 إلى رئيس قسم التحقيق في فرع فلسطين",
    "The witness said the officer gave the order on 12 March 2012 at the branch.",
    "Le témoin a déclaré que l'officier avait donné l'ordre au poste de police.",
    "Der Zeuge sagte, dass der Offizier den Befehl in der Abteilung gegeben hat.",
    "Свидетель сказал, что офицер отдал приказ в отделении в марте.",
    "Tanık, subayın emri şubede verdiğini söyledi ve ayrıldı.",
    "شاهد گفت که افسر دستور را در شعبه داد و رفت",
    "نقل الموقوفين إلى سجن صيدنايا — transferred to Saydnaya prison by order",
]


def test_language_detection_without_a_warm_up_reads_as_the_warmed_detector() -> None:
    """A process that joins page jobs detects with models loaded for the scripts it meets,
    not all seven preloaded; the same models, so the same languages and confidences."""
    from amanah.processing import language

    lazy, warm = language._lazy(), language._detector()
    for text in TEXTS:
        got = [
            (v.language, round(v.value, 6)) for v in lazy.compute_language_confidence_values(text)
        ]
        want = [
            (v.language, round(v.value, 6)) for v in warm.compute_language_confidence_values(text)
        ]
        assert got == want, text


def test_a_process_not_warmed_never_preloads_every_model() -> None:
    import subprocess
    import sys

    code = (
        "from amanah.processing import language as l\n"
        f"a = l.detect({TEXTS[0]!r})\n"
        "n, m = l._detector.cache_info().currsize, l._lazy.cache_info().currsize\n"
        "print(a[0]['language'], n, m, *l.models_wanted())\n"
        "l.warm(l.models_wanted())\n"
        f"b = l.detect({TEXTS[0]!r})\n"
        "print(a == b, l._detector.cache_info().currsize)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    assert out.stdout.split("\n")[:2] == ["ar 0 1 arabic", "True 1"], out.stderr[-2000:]
