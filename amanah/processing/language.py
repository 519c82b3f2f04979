"""Which languages a text is in, among those that matter for the work.

lingua is restricted to Arabic, English, Turkish, Persian, Russian, French and German, which
makes it both faster and more accurate than an open choice. Kurdish is not in lingua: Sorani
(Arabic script) is told by its own letters (ڕ ڵ ۆ ێ ە ڤ), Kurmanji (Latin script) by ê, î,
û without Turkish's ı and ğ. Codes are ISO 639-1 where one exists, else ISO 639-3.
"""

from __future__ import annotations

import re
from typing import Any

from lingua import Language, LanguageDetectorBuilder

_LANGUAGES = {
    Language.ARABIC: "ar",
    Language.ENGLISH: "en",
    Language.TURKISH: "tr",
    Language.PERSIAN: "fa",
    Language.RUSSIAN: "ru",
    Language.FRENCH: "fr",
    Language.GERMAN: "de",
}
# Built once per process (in the zygote before any fork): loading models takes about a second.
_DETECTOR = (
    LanguageDetectorBuilder.from_languages(*_LANGUAGES).with_preloaded_language_models().build()
)

# The first detection in a process sets up lazily built tables: do it here, once, so that
# children forked from the sandbox's zygote find them ready (saves ~0.25 s per file).
_DETECTOR.compute_language_confidence_values("warm up: شاهد witness témoin Zeuge tanık")

SAMPLE = 20_000
_SORANI = re.compile("[ڕڵۆێەڤ]")
_ARABIC_SCRIPT = re.compile("[\u0600-\u06ff]")
_KURMANJI = re.compile("[êîûÊÎÛ]")
_TURKISH_ONLY = re.compile("[ıİğĞ]")
_LATIN = re.compile("[A-Za-zÀ-ɏ]")


def _kurdish(sample: str) -> str | None:
    arabic = len(_ARABIC_SCRIPT.findall(sample))
    if arabic >= 20 and len(_SORANI.findall(sample)) / arabic > 0.02:
        return "ckb"
    latin = len(_LATIN.findall(sample))
    if (
        latin >= 40
        and len(_KURMANJI.findall(sample)) / latin > 0.015
        and not _TURKISH_ONLY.search(sample)
    ):
        return "kmr"
    return None


def detect(text: str) -> list[dict[str, Any]]:
    """Languages with their share of confidence, most likely first (at most three)."""
    sample = " ".join(text[:SAMPLE].split())
    if len(sample) < 20:
        return []
    if kurdish := _kurdish(sample):
        return [{"language": kurdish, "confidence": 1.0, "method": "script rule"}]
    values = _DETECTOR.compute_language_confidence_values(sample)
    return [
        {"language": _LANGUAGES[v.language], "confidence": round(v.value, 3), "method": "lingua"}
        for v in values[:3]
        if v.value >= 0.1
    ]
