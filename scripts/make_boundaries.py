"""Make the map's reference boundaries (amanah/geo/syria_admin1.json) from OCHA's GeoJSON.

    python scripts/make_boundaries.py PATH/syr_admin1.geojson [--tolerance 0.01]

Syria's 14 governorates (OCHA COD-AB, CC BY 3.0 IGO) are simplified with Douglas–Peucker
(`amanah.geo.simplify`; no geometry library is a dependency) at `--tolerance` degrees and
rounded to 4 decimals (about 11 m), so the file shipped in the package stays small. Each
ring is simplified on its own: shared borders may part by up to the tolerance, which the
point-in-polygon lookup allows for (`amanah.geo.boundaries.governorate_of`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from amanah.geo.boundaries import BOUNDARIES
from amanah.geo.simplify import simplify_ring

ATTRIBUTION = (
    "Boundaries: OCHA, Syrian Arab Republic administrative level 1 (governorates), common"
    " operational dataset COD-AB {version} valid on {valid_on}, CC BY 3.0 IGO; simplified."
)


def rings_of(geometry: dict) -> list[list[list[float]]]:
    polygons = geometry["coordinates"]
    if geometry["type"] == "Polygon":
        polygons = [polygons]
    return [ring for polygon in polygons for ring in polygon]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("geojson", type=Path)
    parser.add_argument("--tolerance", type=float, default=0.01, help="degrees")
    parser.add_argument("--out", type=Path, default=BOUNDARIES)
    args = parser.parse_args(argv)
    data = json.loads(args.geojson.read_text(encoding="utf-8"))
    governorates = []
    version = valid_on = ""
    for feature in data["features"]:
        p = feature["properties"]
        version, valid_on = p.get("version") or "", p.get("valid_on") or ""
        rings = []
        for ring in rings_of(feature["geometry"]):
            kept = simplify_ring([(float(x), float(y)) for x, y, *_ in ring], args.tolerance)
            rings.append([[round(x, 4), round(y, 4)] for x, y in kept])
        governorates.append(
            {"pcode": p["ADM1_PCODE"], "en": p["ADM1_EN"], "ar": p["ADM1_AR"], "rings": rings}
        )
    governorates.sort(key=lambda g: g["pcode"])
    out = {
        "source": ATTRIBUTION.format(version=version, valid_on=valid_on),
        "licence": "CC BY 3.0 IGO (https://creativecommons.org/licenses/by/3.0/igo/)",
        "tolerance_degrees": args.tolerance,
        "governorates": governorates,
    }
    args.out.write_text(json.dumps(out, ensure_ascii=False, separators=(",", ":")) + "\n")
    points = sum(len(r) for g in governorates for r in g["rings"])
    print(
        f"{args.out}: {len(governorates)} governorates, {points} points,"
        f" {args.out.stat().st_size} bytes"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
