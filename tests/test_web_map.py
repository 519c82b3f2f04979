"""The offline map: real JPEGs with GPS in their EXIF, ingested and processed, plotted in the
governorate they were taken in (point-in-polygon on the shipped OCHA boundaries, checked
against known cities); need-to-know as search decides it (another compartment sees no point
and no count, a provider only its own items); every map view logged as a search; Arabic
labels and digits; hostile coordinates neither plotted nor breaking the page; and the page
drawn by chromium with nothing fetched from anywhere but the site."""

from __future__ import annotations

import io
import json
import math
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from amanah.geo import boundaries
from amanah.geo.boundaries import governorate_of, usable
from amanah.intake.ingest import IntakeRequest, ingest
from amanah.processing.runner import run
from tests.conftest import CHROMIUM
from tests.webfixtures import PASSWORD, Site, copy_site, save_template

#: Known places (latitude, longitude) and the governorate (P-code) each lies in.
ALEPPO = (36.2021, 37.1343)  # Aleppo city, its citadel
DAMASCUS = (33.5138, 36.2765)  # Damascus, the old city
DEIR_EZ_ZOR = (35.3359, 40.1408)  # Deir ez-Zor city, on the Euphrates
DOUMA = (33.5711, 36.4019)  # Douma: Rural Damascus, beside the city
HOMS = (34.7324, 36.7137)
BEIRUT = (33.8938, 35.5018)  # outside Syria
MAP_BLUE, MAP_RED = "map-blue", "map-red"


def _photo(lat: float, lon: float, seed: int) -> bytes:
    """A JPEG with its GPS in the EXIF as a phone writes it (degrees, minutes, seconds)."""
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "TestPhone"
    gps = exif.get_ifd(0x8825)

    def dms(value: float) -> tuple[float, float, float]:
        value = abs(value)
        d = math.floor(value)
        m = math.floor((value - d) * 60)
        return float(d), float(m), round(((value - d) * 60 - m) * 60, 2)

    if math.isnan(lat):  # degrees of 0/0, as a broken writer leaves them
        from PIL.TiffImagePlugin import IFDRational

        gps[1], gps[2] = "N", (IFDRational(0, 0), IFDRational(0, 0), IFDRational(0, 0))
        gps[3], gps[4] = "E", dms(lon)
    else:
        gps[1], gps[2] = ("N" if lat >= 0 else "S"), dms(lat)
        gps[3], gps[4] = ("E" if lon >= 0 else "W"), dms(lon)
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (seed * 40 % 256, 90, 120)).save(buf, "JPEG", exif=exif)
    return buf.getvalue()


BLUE_PHOTOS = {
    "aleppo.jpg": ALEPPO,
    "damascus.jpg": DAMASCUS,
    "deir.jpg": DEIR_EZ_ZOR,
    "douma.jpg": DOUMA,
    "beirut.jpg": BEIRUT,
    "lat999.jpg": (999.0, 36.0),  # EXIF that is no place: processing keeps no coordinates
    "zero-over-zero.jpg": (math.nan, 36.0),
    "planted.jpg": HOMS,  # its stored coordinates are replaced by hostile values in a test
}
RED_PHOTOS = {"homs-red.jpg": HOMS}


@pytest.fixture(scope="module")
def map_template(site_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The web tests' workspace with GPS photos of its own in blue and red, processed, an
    analyst of the red compartment only, and a facility with coordinates."""
    from amanah.access import local_administrator
    from amanah.access.tokens import create_token
    from amanah.access.users import add_user
    from amanah.entities import store

    tmp = tmp_path_factory.mktemp("map")
    site = copy_site(site_template, tmp)
    for coll, photos, provider, compartment in (
        (MAP_BLUE, BLUE_PHOTOS, "Blue CSO", "blue"),
        (MAP_RED, RED_PHOTOS, "Red CSO", "red"),
    ):
        folder = tmp / coll
        folder.mkdir()
        for n, (name, (lat, lon)) in enumerate(photos.items()):
            (folder / name).write_bytes(_photo(lat, lon, n))
        ingest(
            site.ws,
            IntakeRequest(
                sources=[str(folder)],
                collection=coll,
                provider=provider,
                compartment=compartment,
                actor="local:test",
            ),
        )
    run(site.ws)
    from sqlalchemy import select

    from amanah.db.models import Item

    with site.ws.db.reader() as s:
        site.items = {p: i for i, p in s.execute(select(Item.id, Item.original_path)).all()}
    add_user(site.ws, "redanalyst", "analyst", PASSWORD, compartments=("red",), by="local:test")
    site.tokens["redanalyst"] = create_token(site.ws, "redanalyst")
    with site.ws.db.session() as s:
        store.add_entity(
            s,
            local_administrator(site.ws),
            "facility",
            "Aleppo Central Prison",
            language="en",
            fields={"subkind": "prison", "latitude": 36.2576, "longitude": 37.1897},
        )
    root = tmp / "site"
    save_template(site, root)
    site.ws.close()
    return root


@pytest.fixture
def msite(map_template: Path, tmp_path: Path) -> Iterator[Site]:
    s = copy_site(map_template, tmp_path)
    yield s
    s.ws.close()


def _page(site: Site, role: str, url: str, language: str = "") -> str:
    """The page as this role sees it; `language` chosen as a reader does (the language link;
    the search's language filter is `?language=`)."""
    c, _ = site.browser(role)
    if language:
        c.get(f"/lang/{language}?next=/", follow_redirects=False)
    r = c.get(url)
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"].startswith("text/html")
    return r.text


def _plotted(html: str) -> dict[int, tuple[float, float]]:
    """Item id -> the SVG point drawn for it."""
    found = re.findall(
        r'<a href="/items/(\d+)" class="mark item[^"]*" data-item="\d+"><circle cx="([-\d.]+)"'
        r' cy="([-\d.]+)"',
        html,
    )
    return {int(i): (float(x), float(y)) for i, x, y in found}


def _counts(html: str) -> dict[str, int]:
    rows = re.findall(r'<tr data-pcode="([A-Za-z0-9]+)">.*?<td class="count">([^<]*)</td>', html)
    arabic = str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789")
    return {p: int(c.translate(arabic).replace(",", "").replace("٬", "")) for p, c in rows}


def _path_contains(html: str, pcode: str, x: float, y: float) -> bool:
    """Whether the SVG outline drawn for `pcode` holds the point (even-odd, as SVG fills)."""
    d = re.search(rf'data-pcode="{pcode}" d="([^"]+)"', html)
    assert d, pcode
    inside = False
    for ring in re.findall(r"M([^Z]+)Z", d.group(1)):
        pts = [tuple(map(float, p.split(","))) for p in ring.split()]
        for (x1, y1), (x2, y2) in zip(pts, pts[1:] + pts[:1], strict=True):
            if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
    return inside


# -- the shipped boundaries ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "pcode"),
    [(ALEPPO, "SY02"), (DAMASCUS, "SY01"), (DEIR_EZ_ZOR, "SY09"), (DOUMA, "SY03"), (HOMS, "SY04")],
)
def test_known_cities_fall_in_their_governorate(where: tuple[float, float], pcode: str) -> None:
    found = governorate_of(*where)
    assert found is not None and found.pcode == pcode, (where, found)


def test_points_outside_syria_have_no_governorate() -> None:
    for where in (BEIRUT, (31.9539, 35.9106), (41.0082, 28.9784), (-33.9, 18.4)):  # Amman ...
        assert governorate_of(*where) is None, where


def test_the_shipped_boundaries_are_small_attributed_and_whole() -> None:
    path = boundaries.BOUNDARIES
    assert path.stat().st_size < 100_000
    data = json.loads(path.read_text(encoding="utf-8"))
    assert "OCHA" in data["source"] and "CC BY 3.0 IGO" in data["source"] + data["licence"]
    shape = boundaries.load()
    assert sorted(g.pcode for g in shape.governorates) == [f"SY{n:02d}" for n in range(1, 15)]
    assert all(g.en and g.ar for g in shape.governorates)
    assert boundaries.load().by_pcode("SY03").ar == "ريف دمشق"


def test_the_script_makes_the_shipped_file_from_ochas_geojson(tmp_path: Path) -> None:
    """The file in the package is what the script makes from the source (same tolerance)."""
    import subprocess
    import sys

    from tests.conftest import REPO, SHARED_DATA

    source = SHARED_DATA / "syria_admin1" / "syr_admin1.geojson"
    if not source.exists():
        pytest.skip("the shared boundary data is absent")
    out = tmp_path / "made.json"
    tolerance = json.loads(boundaries.BOUNDARIES.read_text())["tolerance_degrees"]
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "make_boundaries.py"), str(source),
         "--tolerance", str(tolerance), "--out", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == boundaries.BOUNDARIES.read_bytes()


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(999, 36.0), (36.0, 999), (float("nan"), 36.0), (36.0, float("inf")), ("36.2", "37.1"),
     (True, 37.0), (None, 37.0), (0, 0), ([36], 37.0), ({"x": 1}, 37.0)],
)  # fmt: skip
def test_coordinates_that_are_no_place_are_refused(lat: object, lon: object) -> None:
    assert usable(lat, lon) is None


def test_a_real_point_is_usable() -> None:
    assert usable(36, 37.5) == (36.0, 37.5) and usable(-33.9, 18.4) == (-33.9, 18.4)


# -- the page ------------------------------------------------------------------------------


def test_each_photo_is_plotted_in_the_governorate_it_was_taken_in(msite: Site) -> None:
    html = _page(msite, "analyst", "/map")
    plotted = _plotted(html)
    for name, pcode in (("aleppo.jpg", "SY02"), ("damascus.jpg", "SY01"), ("deir.jpg", "SY09"),
                        ("douma.jpg", "SY03"), ("planted.jpg", "SY04")):  # fmt: skip
        item = msite.item(name)
        assert item in plotted, name
        assert _path_contains(html, pcode, *plotted[item]), (name, pcode, plotted[item])
        others = [g.pcode for g in boundaries.load().governorates if g.pcode != pcode]
        assert not any(_path_contains(html, p, *plotted[item]) for p in others), name
        assert f'href="/items/{item}"' in html
    counts = _counts(html)
    assert counts["SY02"] == 1 and counts["SY01"] == 1 and counts["SY09"] == 1
    assert counts["SY03"] == 1 and counts["SY04"] == 1  # planted.jpg; homs-red.jpg is red
    # Beirut is outside: drawn at the edge, counted, listed; not lost.
    beirut = msite.item("beirut.jpg")
    assert beirut in plotted and counts["outside"] == 1
    assert re.search(rf'class="mark item outside" data-item="{beirut}"', html)
    assert re.search(rf'<tr data-item="{beirut}">.*?Outside Syria', html)
    # The list under the map holds every plotted item, with its coordinates written out.
    assert re.search(rf'<tr data-item="{msite.item("aleppo.jpg")}">.*?Aleppo.*?36\.20210° N', html)
    # EXIF that is no place never got coordinates: neither plotted nor listed.
    for name in ("lat999.jpg", "zero-over-zero.jpg"):
        assert msite.item(name) not in plotted and f'data-item="{msite.item(name)}"' not in html
    # The facility with coordinates is the other layer, linked to its entity page.
    assert re.search(r'class="mark entity" data-entity="\d+"><rect', html)
    assert "Aleppo Central Prison" in html
    assert "OCHA" in html and "CC BY 3.0 IGO" in html


def test_another_compartment_sees_no_point_and_no_count(msite: Site) -> None:
    red = _page(msite, "redanalyst", "/map")
    plotted = _plotted(red)
    assert set(plotted) == {msite.item("homs-red.jpg")}
    counts = _counts(red)
    assert counts["SY04"] == 1 and counts["SY02"] == 0 and counts["SY01"] == 0
    assert counts["outside"] == 0
    for name in BLUE_PHOTOS:
        assert f'data-item="{msite.item(name)}"' not in red
        assert f'/items/{msite.item(name)}"' not in red
    blue = _page(msite, "analyst", "/map")
    assert msite.item("homs-red.jpg") not in _plotted(blue)
    # Asked for the other's governorate by name: still nothing of theirs.
    assert _plotted(_page(msite, "redanalyst", "/map?gov=SY02")) == {}
    # The red analyst may not see the facility either (entities follow their evidence) or
    # may: an unlinked reference entity is visible to every reader; no item is shown by it.


def test_a_provider_sees_only_its_own_items_and_no_entity_layer(msite: Site) -> None:
    html = _page(msite, "provider", "/map")
    plotted = _plotted(html)
    assert msite.item("aleppo.jpg") in plotted
    assert msite.item("homs-red.jpg") not in plotted
    assert "data-entity=" not in html  # a provider reads no entities


def test_the_same_filters_as_search_and_a_governorate_view(msite: Site) -> None:
    html = _page(msite, "analyst", f"/map?q=&collection={MAP_BLUE}&gov=SY02")
    assert set(_plotted(html)) == {msite.item("aleppo.jpg")}
    assert _counts(html)["SY01"] == 1  # the counts stay whole
    other = _page(msite, "analyst", "/map?collection=blue-collection")
    assert _plotted(other) == {} and _counts(other)["SY02"] == 0
    # A governorate's row links to its own view, keeping the filters.
    assert re.search(rf'<a href="/map\?collection={MAP_BLUE}&amp;gov=SY02">Aleppo</a>',
                     _page(msite, "analyst", f"/map?collection={MAP_BLUE}"))  # fmt: skip
    # A query the search refuses is shown as the search shows it, not a traceback.
    bad = _page(msite, "analyst", "/map?q=provider:Nobody")
    assert 'class="problem"' in bad and "no provider named" in bad


def test_a_bad_governorate_code_is_refused_with_the_reason(msite: Site) -> None:
    c, _ = msite.browser("analyst")
    r = c.get("/map?gov=../../etc")
    assert r.status_code == 422 and "gov" in r.text


def test_each_map_view_is_logged_as_a_search(msite: Site) -> None:
    from sqlalchemy import select

    from amanah.db.models import CustodyEvent, SearchLog

    _page(msite, "analyst", "/map?gov=SY09")
    with msite.ws.db.reader() as s:
        row = s.execute(select(SearchLog).order_by(SearchLog.id.desc()).limit(1)).scalar_one()
        assert row.actor == "user:analyst"
        assert json.loads(row.options)["view"] == "map"
        assert json.loads(row.options)["governorate"] == "SY09"
        assert json.loads(row.top_ids) == [msite.item("deir.jpg")]
        event = s.execute(
            select(CustodyEvent).where(
                CustodyEvent.object_type == "search", CustodyEvent.object_id == row.id
            )
        ).scalar_one()
        details = json.loads(event.details)
        assert details["shown"] == [msite.item("deir.jpg")] and details["action"] == "search"


def test_the_arabic_page_names_governorates_in_arabic_with_arabic_digits(msite: Site) -> None:
    html = _page(msite, "analyst", "/map", language="ar")
    assert 'dir="rtl"' in html and 'lang="ar"' in html
    for name in ("حلب", "دمشق", "دير الزور", "ريف دمشق"):
        assert f">{name}<" in html
    assert re.search(r'<tr data-pcode="SY02">.*?<td class="count">١</td>', html)
    assert "Aleppo<" not in html and "Items per governorate" not in html
    assert "٣٦٫٢٠٢١٠° شمالًا، ٣٧٫١٣٤٣٠° شرقًا" in html  # in the page's words and digits
    from tests.test_web_arabic_pages import english_words

    assert not english_words(html), english_words(html)


def test_hostile_stored_coordinates_are_not_plotted_and_the_page_stands(msite: Site) -> None:
    """Whatever a stored record says (999, NaN, a string, a list), no point is drawn."""
    from sqlalchemy import update

    from amanah.db.models import Item

    planted = msite.item("planted.jpg")
    hostile_records = [
        '{"latitude": 999, "longitude": 36}',
        '{"latitude": NaN, "longitude": 36}',
        '{"latitude": "36.2", "longitude": "37.1"}',
        '{"latitude": [36], "longitude": 1}',
        '{"latitude": Infinity, "longitude": 36}',
        "not json",
        "[1, 2]",
    ]
    for hostile in hostile_records:
        with msite.ws.db.session() as s:
            s.execute(update(Item).where(Item.id == planted).values(doc_metadata=hostile))
        html = _page(msite, "analyst", "/map")
        assert planted not in _plotted(html), hostile
        assert f'data-item="{planted}"' not in html, hostile
        assert "with coordinates that are no place" in html, hostile
        assert _counts(html)["SY04"] == 0 and msite.item("aleppo.jpg") in _plotted(html)


def test_many_points_are_clustered_with_their_count(
    msite: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    from amanah.geo import evidence

    monkeypatch.setattr(evidence, "CLUSTER_ABOVE", 2)
    html = _page(msite, "analyst", "/map")
    # Damascus and Douma share a grid cell: one circle saying 2, linking to the governorate.
    assert re.search(r'class="mark cluster item" data-count="2">.*?<text[^>]*>2</text>', html)
    assert msite.item("aleppo.jpg") in _plotted(html)  # alone in its cell: still a point


def test_the_search_page_links_to_the_map_of_the_same_search(msite: Site) -> None:
    html = _page(msite, "analyst", f"/search?q=&collection={MAP_BLUE}")
    assert f'href="/map?collection={MAP_BLUE}"' in html


# -- in chromium ---------------------------------------------------------------------------


@pytest.mark.needs("chromium")
def test_chromium_draws_the_map_and_fetches_nothing_from_elsewhere(msite: Site) -> None:
    import uvicorn
    from playwright.sync_api import sync_playwright

    from tests.test_web_browser import shot

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(msite.app, host="127.0.0.1", port=port, log_level="warning")  # type: ignore[arg-type]
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(locale="ar")
            asked: list[str] = []
            errors: list[str] = []
            page.on("request", lambda r: asked.append(r.url))
            page.on("pageerror", lambda e: errors.append(str(e)))
            failed: list[str] = []  # what the page asked for and did not get (bar the icon)
            page.on(
                "response",
                lambda r: (
                    failed.append(f"{r.status} {r.url}")
                    if r.status >= 400 and not r.url.endswith("/favicon.ico")
                    else None
                ),
            )
            page.goto(f"{base}/signin")
            page.fill("input[name=name]", "analyst")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")
            page.goto(f"{base}/lang/ar?next=/map")
            page.wait_for_load_state("networkidle")
            svg = page.locator("svg.map-svg")
            box = svg.bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 250
            assert page.locator("svg.map-svg path.gov").count() == 14
            aleppo = page.locator(f'svg.map-svg a[data-item="{msite.item("aleppo.jpg")}"] circle')
            dot = aleppo.bounding_box()
            assert dot is not None and dot["width"] > 4  # drawn, not collapsed
            fill = aleppo.evaluate("e => getComputedStyle(e).fill")
            assert fill == "rgb(179, 38, 30)", fill  # the stylesheet applied (no inline style)
            assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
            shot(page, "map-ar")
            page.click(f'svg.map-svg a[data-item="{msite.item("aleppo.jpg")}"]')
            page.wait_for_url(f"{base}/items/{msite.item('aleppo.jpg')}")
            browser.close()
    finally:
        server.should_exit = True
        thread.join(10)
    elsewhere = [u for u in asked if not u.startswith(base)]
    assert not elsewhere, elsewhere
    assert not errors and not failed, (errors, failed)


def test_a_photo_whose_person_withdrew_consent_leaves_the_map(msite: Site) -> None:
    """A place is evidence too: a withdrawal of consent for investigation takes the photo's
    point, its row in the list and its governorate's count off every reader's map (the map
    asks the search, which asks need-to-know); consent given again brings it back."""
    from amanah.access import local_administrator
    from amanah.sharing import person_consent, protected

    admin = local_administrator(msite.ws)
    photo = msite.item("aleppo.jpg")
    with msite.ws.db.session() as s:
        protected.add(s, admin, "Witness Map", ["Rami Shaheen Fictional"])
        person_consent.link_item(s, admin, "Witness Map", photo)
        person_consent.withdraw(s, admin, "Witness Map", ["investigation"])
    for role in ("analyst", "legal"):
        html = _page(msite, role, "/map")
        assert photo not in _plotted(html), role
        assert f'data-item="{photo}"' not in html and f"/items/{photo}" not in html, role
        assert _counts(html)["SY02"] == 0, role
        assert _plotted(_page(msite, role, "/map?gov=SY02")) == {}, role
    # Control: the other photos stay, and consent given again brings the point back.
    assert msite.item("damascus.jpg") in _plotted(_page(msite, "analyst", "/map"))
    with msite.ws.db.session() as s:
        person_consent.give(s, admin, "Witness Map", ["investigation"])
    html = _page(msite, "analyst", "/map")
    assert photo in _plotted(html) and _counts(html)["SY02"] == 1


# -- labels, counts beyond the plotted points, the governorate filter ---------------------


def _label_boxes(html: str) -> dict[str, tuple[float, float, float, float]]:
    """Each governorate label's box as the SVG pins it: centred on (x, y) (text-anchor
    middle, dominant-baseline central), `textLength` wide, a line of its font-size high."""
    from amanah.geo.labels import FONT, HEIGHT

    boxes = {}
    for attrs in re.findall(r'<text class="gov-label" ([^>]*)>', html):
        a = dict(re.findall(r'([\w-]+)="([^"]*)"', attrs))
        assert a["text-anchor"] == "middle" and a["dominant-baseline"] == "central"
        assert a["lengthAdjust"] == "spacingAndGlyphs" and float(a["font-size"]) == FONT
        x, y, w = float(a["x"]), float(a["y"]), float(a["textLength"])
        h = HEIGHT * float(a["font-size"]) / FONT
        boxes[a["data-pcode"]] = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
    return boxes


@pytest.mark.parametrize("language", ["en", "ar"])
def test_no_two_governorate_labels_overlap_and_each_is_on_the_map(
    msite: Site, language: str
) -> None:
    from amanah.geo.labels import overlap, width_of

    html = _page(msite, "analyst", "/map", language=language)
    boxes = _label_boxes(html)
    assert len(boxes) == 14
    width, height = (float(v) for v in re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', html).groups())  # type: ignore[union-attr]
    for pcode, box in boxes.items():
        assert box[0] >= 0 and box[2] <= width and box[1] >= 0 and box[3] <= height, pcode
    pairs = [(a, b) for a in boxes for b in boxes if a < b and overlap(boxes[a], boxes[b])]
    assert not pairs, pairs
    # The width is the name's, in its script: Arabic names are given their own room.
    name = "حلب" if language == "ar" else "Aleppo"
    assert f">{name}</text>" in html
    assert boxes["SY02"][2] - boxes["SY02"][0] == pytest.approx(width_of(name, language))
    # A label moved off its centroid has a leader line back to it.
    for pcode in re.findall(r'<line class="gov-leader" data-pcode="(SY\d\d)"', html):
        assert pcode in boxes


def test_labels_that_would_overlap_are_moved_with_a_leader_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Negative control: at twice the size, labels at their centroids overlap (Damascus and
    its neighbours); the placement moves them apart and draws leader lines."""
    from amanah.geo import labels

    monkeypatch.setattr(labels, "FONT", 26.0)
    monkeypatch.setattr(labels, "HEIGHT", 26.0 * 1.3)
    labels.place.cache_clear()
    try:
        placed = labels.place("ar")
        naive = [
            labels.Label(lab.pcode, lab.text, *lab.anchor, lab.width, lab.anchor, False)
            for lab in placed
        ]
        clash = [
            (a.pcode, b.pcode)
            for a in naive
            for b in naive
            if a.pcode < b.pcode and labels.overlap(a.box, b.box)
        ]
        assert clash  # the problem is real at this size
        for a in placed:
            for b in placed:
                assert a.pcode == b.pcode or not labels.overlap(a.box, b.box), (a, b)
        assert any(lab.leader for lab in placed)
    finally:
        labels.place.cache_clear()


def _many_photos(site: Site, where: dict[tuple[float, float], int]) -> None:
    """Cheap items: copies of a processed photo's row, each with its own point, indexed as
    processing indexes them (no JPEG, no processing: the map and gov: read the rows)."""
    from sqlalchemy import select

    from amanah.db.models import Collection, Item
    from amanah.geo import placed
    from amanah.search import index

    with site.ws.db.session() as s:
        source = s.get(Item, site.item("aleppo.jpg"))
        assert source is not None
        coll = s.get(Collection, source.collection_id)
        assert coll is not None
        base = {
            c.name: getattr(source, c.key) for c in Item.__table__.columns if c.name not in ("id",)
        }
        rows, n = [], 0
        for (lat, lon), count in where.items():
            for k in range(count):
                n += 1
                point = {"latitude": lat + (k % 97) * 1e-4, "longitude": lon + (k // 97) * 1e-4}
                path = f"bulk/photo-{n:05d}.jpg"
                rows.append(
                    base
                    | {
                        "path_hash": f"{n:064d}",
                        "path_key": f"{n:064x}",
                        "original_path": path,
                        "original_path_raw": path.encode(),
                        "doc_metadata": placed.dumps(placed.place(point)),
                    }
                )
        s.execute(Item.__table__.insert(), rows)
        made = s.execute(select(Item).where(Item.original_path.like("bulk/%"))).scalars().all()
        index.put(s, [index.document(i, coll, "", False) for i in made], fresh=True)
    index.settle(site.ws)


def test_the_map_counts_every_item_and_says_when_points_were_thinned(msite: Site) -> None:
    """More items than the map draws: every one counted in its governorate (not the first
    5,000), the points drawn up to the cap, and the page says so in both languages."""
    from amanah.geo import evidence

    _many_photos(msite, {ALEPPO: 4000, HOMS: 2100})
    html = _page(msite, "analyst", f"/map?collection={MAP_BLUE}")
    counts = _counts(html)
    assert counts["SY02"] == 4001 and counts["SY04"] == 2101  # + the processed photos
    assert counts["SY01"] == 1 and counts["SY03"] == 1 and counts["outside"] == 1
    drawn = sum(int(n) for n in re.findall(r'data-count="(\d+)"', html)) + len(_plotted(html))
    assert drawn == evidence.MAX_ITEMS
    total = 4001 + 2101 + 1 + 1 + 1 + 1  # Damascus, Douma, Deir ez-Zor, Beirut
    assert f"Showing 5,000 of {total:,} points; the counts are complete." in html
    arabic = _page(msite, "analyst", f"/map?collection={MAP_BLUE}", language="ar")
    assert "تُعرض ٥٬٠٠٠ من ٦٬١٠٦ نقطة؛ أما الأعداد فكاملة." in arabic
    # A governorate's view: its own points (under the cap: none thinned), counts whole.
    homs = _page(msite, "analyst", f"/map?collection={MAP_BLUE}&gov=Homs")
    assert _counts(homs)["SY02"] == 4001 and 'id="thinned"' not in homs
    drawn = sum(int(n) for n in re.findall(r'data-count="(\d+)"', homs)) + len(_plotted(homs))
    assert drawn == 2101
    # The search's gov: agrees with the map's count.
    r = msite.api("analyst").get(
        "/api/v1/search", params={"q": "has:gps", "governorate": "حلب", "limit": 1}
    )
    assert r.status_code == 200 and r.json()["total"] == 4001


def test_the_governorate_filter_on_the_api_the_search_page_and_the_map(msite: Site) -> None:
    c = msite.api("analyst")
    for value in ("Aleppo", "حلب", "SY02", "halab"):
        r = c.get("/api/v1/search", params={"q": "*", "governorate": value, "limit": 50})
        assert r.status_code == 200, r.text
        assert {h["item_id"] for h in r.json()["hits"]} == {msite.item("aleppo.jpg")}, value
    r = c.get("/api/v1/search", params={"q": "gov:Narnia"})
    assert r.status_code == 400 and "Aleppo (SY02)" in r.json()["error"]
    assert "حلب (SY02)" in r.json()["error"]
    r = c.get("/api/v1/search", params={"governorate": "x" * 10_000})
    assert r.status_code == 400 and "longer than 4,000" in r.json()["error"]
    assert "Traceback" not in r.text
    # Another compartment: the filter finds nothing it could not see anyway.
    red = msite.api("redanalyst")
    r = red.get("/api/v1/search", params={"q": "*", "governorate": "Aleppo"})
    assert r.status_code == 200 and r.json()["total"] == 0
    r = red.get("/api/v1/search", params={"q": "*", "governorate": "Homs"})
    assert {h["item_id"] for h in r.json()["hits"]} == {msite.item("homs-red.jpg")}
    # The search page: a removable chip in the page's language; its map link keeps it.
    html = _page(msite, "analyst", "/search?q=&governorate=SY02")
    assert 'data-field="gov"' in html and "Aleppo" in html
    assert 'href="/map?governorate=SY02"' in html
    assert "حلب" in _page(msite, "analyst", "/search?q=&governorate=SY02", language="ar")
    narrowed = _page(msite, "analyst", "/map?governorate=SY02")
    assert set(_plotted(narrowed)) == {msite.item("aleppo.jpg")}
    assert _counts(narrowed)["SY01"] == 0  # a filter: the counts narrow too
    # The map's governorate view takes the same names; an unknown one is said, not a 500.
    by_name = _page(msite, "analyst", "/map?gov=حلب")
    assert set(_plotted(by_name)) == {msite.item("aleppo.jpg")} and _counts(by_name)["SY01"] == 1
    unknown = _page(msite, "analyst", "/map?gov=Narnia")
    assert 'class="problem"' in unknown and "Aleppo (SY02)" in unknown
