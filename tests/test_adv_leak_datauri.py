"""A saved web page or an SVG inlines its pictures as `data:` URIs (SingleFile captures,
pages saved from a browser, an SVG's embedded photo): a picture naming a protected person
is read (OCR) as a file of its own, and the package build refuses the page. (A web font
inlined the same way makes the page's inventory incomplete, since what it draws may differ
from the text: tests/test_adv_leak_pdf_objects.py.)"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest

from tests.conftest import amanah
from tests.sharingfixtures import WITNESS_LATIN
from tests.test_adv_leak_places import _setup
from tests.test_leak_check import _ids, _ingest, _ok, _request, refused_build

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def _png(words: str) -> str:
    from PIL import Image, ImageDraw, ImageFont

    im = Image.new("L", (1000, 200), 255)
    ImageDraw.Draw(im).text((20, 70), f"Interview of {words}", font=ImageFont.truetype(FONT, 40))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def handover(folder: Path, words: str) -> None:
    folder.mkdir(parents=True)
    (folder / "capture.html").write_text(
        "<html><head><style>@font-face{font-family:x;src:local(DejaVu Sans)}"
        f'</style></head><body><p>Capture.</p><img src="data:image/png;base64,{_png(words)}">'
        "</body></html>"
    )
    (folder / "poster.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'width="1000" height="200"><image width="1000" height="200" '
        f'xlink:href="data:image/png;base64,{_png(words)}"/></svg>'
    )


@pytest.mark.slow
def test_pictures_inlined_as_data_uris_are_read(sqlite_home: Path, tmp_path: Path) -> None:
    home = sqlite_home
    _setup(home)
    handover(tmp_path / "named", WITNESS_LATIN)
    handover(tmp_path / "clean", "the archive office")
    _ingest(home, tmp_path / "named", "named")
    _ingest(home, tmp_path / "clean", "clean")
    _ok(home, "process")
    ids = _ids(home, "named")
    _, reasons = refused_build(home, "RFA-1", sorted(ids.values()), tmp_path / "p1")
    for name in ("capture.html", "poster.svg"):
        assert reasons.get(ids[name], "").startswith("names protected person Witness A"), reasons
    controls = _ids(home, "clean")
    _request(home, "RFA-2", sorted(controls.values()))
    built = amanah(home, "package", "build", "RFA-2", str(tmp_path / "p2"))
    assert built.returncode == 0, built.stdout + built.stderr
