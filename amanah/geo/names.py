"""The words that name a governorate: its P-code, its English and Arabic names as the shipped
boundaries give them, and the other spellings analysts write (Idlib for Idleb, Latakia,
Daraa, ريف دمشق ...). Names are compared folded (case, hyphens, apostrophes, the Arabic
article and letter variants), so `gov:حماه`, `gov:"Deir ez-Zor"` and `gov:sy05` all resolve."""

from __future__ import annotations

import functools

from amanah.geo.boundaries import Governorate, load
from amanah.text.analyzer import exact_form, words

#: Spellings beside the boundaries' own `en` and `ar` names (common transliterations and the
#: names used by the UN, the gazetteer and the press), by P-code.
VARIANTS: dict[str, tuple[str, ...]] = {
    "SY01": ("Damascus City", "Dimashq", "Damas", "مدينة دمشق", "الشام"),
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
    "SY04": ("Hims",),
    "SY05": ("Hamah", "Hamat"),
    "SY06": ("Latakia", "Al-Ladhiqiyah", "Ladhiqiyah", "Lattaquié"),
    "SY07": ("Idlib", "Edlib", "Idleb Governorate"),
    "SY08": ("Hasakah", "Al-Hasakah", "Hasakeh", "Hassakeh", "Al-Hasaka", "Hasaka"),
    "SY09": (
        "Deir ez-Zor",
        "Deir al-Zour",
        "Deir Ezzor",
        "Deir Ez-Zor",
        "Dayr az-Zawr",
        "Deir ez Zor",
        "Deir Azzour",
        "Deir el-Zor",
    ),
    "SY10": ("Tartus", "Tartous", "Tortosa"),
    "SY11": ("Raqqa", "Al-Raqqa", "Ar-Raqqah", "Raqqah", "Rakka"),
    "SY12": ("Daraa", "Deraa", "Dara'a", "Derʿa", "Daraa Governorate"),
    "SY13": ("As-Suwayda", "Suwayda", "Sweida", "Suwaida", "Al-Suwayda", "Swaida"),
    "SY14": ("Quneitra", "Al-Qunaytirah", "Qunaytirah", "Kuneitra"),
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
