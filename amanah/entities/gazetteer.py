"""The gazetteer: places as entities of kind `place`, each with its P-code (OCHA's common
operational dataset codes) as an identifier and its names in both scripts with their usual
spelling variants, so that mentions, search and matching find "Deir ez-Zor", "Dayr az-Zawr"
and "دير الزور" as one place. `load` reads OCHA's first-level boundaries for Syria (the 14
governorates) in place, from the GeoJSON file a user names; it can be run again: a place
already here (same P-code) only gains the names it lacks."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah.access import Caller, Permission
from amanah.db.models import Entity, EntityName
from amanah.entities.store import add_entity, add_name, record
from amanah.entities.vocab import EntityError
from amanah.geo.names import VARIANTS  # the spellings beside OCHA's, one table for all

FILE_NAME = "syr_admin1.geojson"
ORIGIN = "gazetteer:ocha-cod-ab"
PCODE = re.compile(r"^[A-Z]{2}[0-9]{2,8}$")


@dataclass(frozen=True)
class Place:
    """One place as the boundary dataset gives it."""

    pcode: str
    name_en: str
    name_ar: str
    variants: tuple[str, ...]
    level: str
    latitude: float | None
    longitude: float | None
    source: str


def _text(props: dict[str, Any], *fields: str) -> str:
    for f in fields:
        v = props.get(f)
        if isinstance(v, str) and v.strip():
            return " ".join(v.split())
    return ""


def _number(props: dict[str, Any], field: str) -> float | None:
    v = props.get(field)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def read_places(path: Path) -> list[Place]:
    """The first-level units of an OCHA boundary GeoJSON (ADM1_PCODE, ADM1_EN, ADM1_AR),
    checked whole before anything is kept: a file that is not one is refused with the
    reason and the feature it stopped at."""
    if path.is_dir():
        path = path / FILE_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EntityError(f"{path}: cannot read ({exc.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EntityError(f"{path}: not GeoJSON ({exc})") from None
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list) or not features:
        raise EntityError(f"{path}: not a GeoJSON FeatureCollection with features")
    places: list[Place] = []
    seen: set[str] = set()
    for n, feature in enumerate(features, 1):
        props = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(props, dict):
            raise EntityError(f"{path}: feature {n} has no properties")
        pcode = _text(props, "ADM1_PCODE", "adm1_pcode")
        name_en = _text(props, "ADM1_EN", "adm1_name")
        name_ar = _text(props, "ADM1_AR", "adm1_name1")
        if not PCODE.match(pcode):
            raise EntityError(f"{path}: feature {n} has no P-code (ADM1_PCODE), found {pcode!r}")
        if not name_en or not name_ar:
            raise EntityError(f"{path}: feature {n} ({pcode}) lacks ADM1_EN or ADM1_AR")
        if pcode in seen:
            raise EntityError(f"{path}: feature {n}: P-code {pcode} appears twice")
        seen.add(pcode)
        shipped = [_text(props, f) for f in ("province_name", "adm1_ref_name", "Name")]
        variants = tuple(dict.fromkeys(v for v in (*shipped, *VARIANTS.get(pcode, ())) if v))
        places.append(
            Place(
                pcode=pcode,
                name_en=name_en,
                name_ar=name_ar,
                variants=variants,
                level="governorate",
                latitude=_number(props, "center_lat"),
                longitude=_number(props, "center_lon"),
                source=f"OCHA COD-AB {_text(props, 'version')} {_text(props, 'valid_on')}".strip(),
            )
        )
    return places


def load(s: Session, caller: Caller, places: list[Place]) -> dict[str, int]:
    """Add each place not yet here (by P-code) with its names; a place already here gains
    only the names it lacks. Counts of places added, places present, names added."""
    caller.require(Permission.MANAGE_ENTITIES)
    counts = {"added": 0, "present": 0, "names": 0}
    for place in places:
        ent = s.execute(
            select(Entity).where(Entity.kind == "place", Entity.pcode == place.pcode)
        ).scalar_one_or_none()
        if ent is None:
            ent = add_entity(
                s,
                caller,
                "place",
                place.name_en,
                language="en",
                fields={
                    "subkind": place.level,
                    "pcode": place.pcode,
                    "identifiers": [{"scheme": "pcode", "value": place.pcode}],
                    "latitude": place.latitude,
                    "longitude": place.longitude,
                    "notes": place.source,
                },
                origin=ORIGIN,
            )
            counts["added"] += 1
            counts["names"] += 1
        else:
            counts["present"] += 1
        have = {
            " ".join(n.split()).casefold()
            for n in s.execute(
                select(EntityName.full_name).where(EntityName.entity_id == ent.id)
            ).scalars()
        }
        wanted = [(place.name_ar, "official", "ar")] + [
            (v, "alias", "ar" if _arabic(v) else "") for v in place.variants
        ]
        for name, kind, language in [(place.name_en, "official", "en"), *wanted]:
            if name.casefold() not in have:
                have.add(name.casefold())
                add_name(s, caller, ent.id, name, kind=kind, language=language)
                counts["names"] += 1
    record(s, caller, "entity", 0, action="gazetteer load", origin=ORIGIN, **counts)
    return counts


def _arabic(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in text)
