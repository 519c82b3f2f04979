"""The gazetteer: Syria's governorates as places with P-codes and names in both scripts,
loaded from OCHA's boundary file where it lies, re-runnable, refusing what is not one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from amanah.db.models import Entity, EntityName
from amanah.workspace import open_workspace
from tests.conftest import SHARED_DATA, amanah

ADMIN1 = SHARED_DATA / "syria_admin1"


def counts(home: Path) -> tuple[int, int]:
    ws = open_workspace(home)
    with ws.db.reader() as s:
        places = s.execute(select(func.count()).where(Entity.kind == "place")).scalar_one()
        names = s.execute(select(func.count()).select_from(EntityName)).scalar_one()
    ws.close()
    return places, names


def feature(pcode: object, en: str, ar: str, **more: object) -> dict[str, object]:
    props = {"ADM1_PCODE": pcode, "ADM1_EN": en, "ADM1_AR": ar, **more}
    return {"type": "Feature", "properties": props, "geometry": None}


def write(path: Path, *features: dict[str, object]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": list(features)}))
    return path


@pytest.mark.skipif(not ADMIN1.is_dir(), reason="shared data syria_admin1 absent")
def test_the_fourteen_governorates_load_once_with_both_scripts(sqlite_home: Path) -> None:
    first = amanah(sqlite_home, "entity", "gazetteer", "load", str(ADMIN1), "--json", check=True)
    loaded = json.loads(first.stdout)
    assert loaded["added"] == 14 and loaded["present"] == 0
    places, names = counts(sqlite_home)
    assert places == 14 and names == loaded["names"]
    again = amanah(sqlite_home, "entity", "gazetteer", "load", str(ADMIN1), check=True)
    assert again.stdout.strip() == "0 places added, 14 already here, 0 names added"
    assert counts(sqlite_home) == (places, names)  # re-runnable: no duplicates
    listed = json.loads(
        amanah(sqlite_home, "entity", "list", "--kind", "place", "--json", check=True).stdout
    )
    deir = next(p for p in listed if p["name"] == "Deir-ez-Zor")
    shown = json.loads(
        amanah(sqlite_home, "entity", "show", str(deir["id"]), "--json", check=True).stdout
    )
    assert shown["pcode"] == "SY09" and shown["subkind"] == "governorate"
    assert shown["identifiers"] == [{"scheme": "pcode", "value": "SY09"}]
    assert 35 < shown["coordinates"][0] < 36 and 39 < shown["coordinates"][1] < 41
    spelled = {(n["name"], n["script"], n["kind"]) for n in shown["names"]}
    assert ("Deir-ez-Zor", "Latn", "official") in spelled
    assert ("دير الزور", "Arab", "official") in spelled
    assert ("Dayr az-Zawr", "Latn", "alias") in spelled
    assert {p["name"] for p in listed} >= {"Aleppo", "Damascus", "Rural Damascus", "Idleb"}


def test_a_place_already_here_gains_only_the_names_it_lacks(
    sqlite_home: Path, tmp_path: Path
) -> None:
    amanah(sqlite_home, "entity", "add", "place", "Aleppo", "--pcode", "SY02", check=True)
    geo = write(tmp_path / "a.geojson", feature("SY02", "Aleppo", "حلب", center_lat=36.2))
    done = amanah(sqlite_home, "entity", "gazetteer", "load", str(geo), check=True)
    # Halab, Haleb, Alep are the shipped variants; Aleppo was here already
    assert done.stdout.strip() == "0 places added, 1 already here, 4 names added"
    assert counts(sqlite_home) == (1, 5)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "not GeoJSON"),
        (json.dumps({"type": "FeatureCollection", "features": []}), "with features"),
        (None, "feature 2 has no P-code (ADM1_PCODE), found 'Homs'"),
        (None, "feature 2: P-code SY02 appears twice"),
    ],
)
def test_a_file_that_is_not_a_boundary_set_is_refused_whole(
    sqlite_home: Path, tmp_path: Path, content: str | None, reason: str
) -> None:
    path = tmp_path / "bad.geojson"
    good = feature("SY02", "Aleppo", "حلب")
    if content is not None:
        path.write_text(content)
    elif "twice" in reason:
        write(path, good, feature("SY02", "Halab", "حلب"))
    else:
        write(path, good, feature("Homs", "Homs", "حمص"))
    proc = amanah(sqlite_home, "entity", "gazetteer", "load", str(path))
    assert proc.returncode == 2, proc.stderr
    assert str(path) in proc.stderr and reason in proc.stderr
    assert "Traceback" not in proc.stderr
    assert counts(sqlite_home) == (0, 0)  # nothing of it kept, not even the good feature
