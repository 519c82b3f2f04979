"""What reading QR codes and other barcodes adds to the OCR of a page
(`amanah.processing.codes.read`): CPU milliseconds on an A4 page at 300 dpi with no code, one
code and two, a licence's PDF417 code, a small picture with a code, a page tiled with codes
(OpenCV's detector alone took two minutes on one) and a hostile page (a checkerboard of
3-pixel cells).

    python -m benchmarks.qr_codes [--repeat 5]

Figures go to benchmarks/out/qr_codes.json and docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from amanah.processing import codes
from benchmarks.common import OUT, machine
from tests.test_qr_codes import _checker, _licence, _page, _qr, _vcard, tiled


def _pdf417() -> np.ndarray:
    import zxingcpp

    made = zxingcpp.create_barcode(_licence("OMAR", "HADDAD"), zxingcpp.BarcodeFormat.PDF417)
    page = _page()
    symbol = np.asarray(made.to_image(scale=3))
    page[1200 : 1200 + symbol.shape[0], 250 : 250 + symbol.shape[1]] = symbol
    return page


def main(repeat: int = 5) -> dict[str, object]:
    pages = {
        "A4 300 dpi, text only": _page(),
        "A4 300 dpi, one code": _page(_vcard("Abu Omar")),
        "A4 300 dpi, two codes": _page(_vcard("Abu Omar"), "https://example.org/p/1"),
        "A4 300 dpi, a licence's PDF417 code": _pdf417(),
        "a picture 600x800, one code": np.pad(_qr("https://example.org/p/1", 3), 150, "maximum"),
        "A4 tiled with 540 codes": tiled(),
        "A4 checkerboard of 3-pixel cells": _checker(3508, 3)[:, :2480].copy(),
    }
    result: dict[str, object] = {"machine": machine()}
    for label, page in pages.items():
        times: list[float] = []
        said = codes.read(page)  # warm
        for _ in range(repeat):
            start = time.process_time()
            said = codes.read(page)
            times.append(time.process_time() - start)
        result[label] = {
            "ms_median": round(sorted(times)[len(times) // 2] * 1000, 1),
            "codes_read": len(said.texts),
            "unread": said.unread,
        }
    OUT.mkdir(exist_ok=True)
    (OUT / "qr_codes.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    main(parser.parse_args().repeat)
