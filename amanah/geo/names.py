"""The words that name a governorate: its P-code, its English and Arabic names as the shipped
boundaries give them, and the other spellings analysts write (Idlib for Idleb, Latakia,
Daraa, ريف دمشق ...). Names are compared folded (case, hyphens, apostrophes, the Arabic
article and letter variants), so `gov:حماه`, `gov:"Deir ez-Zor"` and `gov:sy05` all resolve."""

from __future__ import annotations

import functools

from amanah.geo.boundaries import Governorate, load
from amanah.text.analyzer import exact_form, words

#: Spellings beside the boundaries' own `en` and `ar` names (common transliterations, the
#: names used by the UN, NGOs, the press and older maps), by P-code: one table for `gov:`,
#: the map and the gazetteer's entity aliases (`amanah.entities.gazetteer`). Reference
#: knowledge, not evidence.
VARIANTS: dict[str, tuple[str, ...]] = {
    "SY01": ("Damascus City", "Dimashq", "Damas", "مدينة دمشق", "الشام", "Al-Sham"),
    "SY02": ("Halab", "Alep", "Haleb"),
    "SY03": (
        "Rif Dimashq",
        "Rif Dimashq Governorate",
        "Damascus Countryside",
        "Reef Damascus",
        "Rif Damascus",
        "Rural Damascus Governorate",
        "ريف دمشق",
    ),
    "SY04": ("Hims", "Hums"),
    "SY05": ("Hamah", "Hamat", "حماه"),
    "SY06": ("Latakia", "Al-Ladhiqiyah", "Ladhiqiyah", "Lattaquié", "اللاذقيه"),
    "SY07": ("Idlib", "Edlib", "Idleb Governorate", "ادلب"),
    "SY08": ("Hasakah", "Al-Hasakah", "Hasakeh", "Hassakeh", "Al-Hasaka", "Hasaka", "الحسكه"),
    "SY09": (
        "Deir ez-Zor",
        "Deir al-Zour",
        "Deir Ezzor",
        "Deir Ez-Zor",
        "Dayr az-Zawr",
        "Deir ez Zor",
        "Deir Azzour",
        "Deir el-Zor",
        "Deir Ez-Zour",
    ),
    "SY10": ("Tartus", "Tartous", "Tortosa"),
    "SY11": ("Raqqa", "Al-Raqqa", "Ar-Raqqah", "Raqqah", "Rakka", "Al-Raqqah", "الرقه"),
    "SY12": ("Daraa", "Deraa", "Dara'a", "Derʿa", "Daraa Governorate", "Der'a"),
    "SY13": ("As-Suwayda", "Suwayda", "Sweida", "Suwaida", "Al-Suwayda", "Swaida", "السويدا"),
    "SY14": ("Quneitra", "Al-Qunaytirah", "Qunaytirah", "Kuneitra", "Qunaitra", "القنيطره"),
}


def fold(name: str) -> str:
    """A name's comparable form: its words as the analyzer folds them (case, Arabic letter
    variants, the article), run together so hyphens and spaces do not matter."""
    return "".join(exact_form(w) for w in words(name))


@functools.cache
def _index() -> dict[str, Governorate]:
    out: dict[str, Governorate] = {}
    for g in load().governorates:
        for name in (g.pcode, g.en, g.ar, *VARIANTS.get(g.pcode, ())):
            key = fold(name)
            if key:
                out.setdefault(key, g)
    return out


def find(value: str) -> Governorate | None:
    """The governorate `value` names (P-code, either script, a known spelling), or None."""
    if len(value) > 200:
        return None
    key = fold(value)
    return _index().get(key) if key else None


def accepted(lang: str = "en") -> list[str]:
    """The names a user may give, in the page's language, with the P-codes (for messages)."""
    return [f"{g.name(lang)} ({g.pcode})" for g in load().governorates]
