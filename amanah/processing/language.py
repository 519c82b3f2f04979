"""Which languages a text is in, among those that matter for the work.

lingua is restricted to Arabic, English, Turkish, Persian, Russian, French and German, which
makes it both faster and more accurate than an open choice. Kurdish is not in lingua: Sorani
(Arabic script) is told by its own letters (ڕ ڵ ۆ ێ ە ڤ), Kurmanji (Latin script) by ê, î,
û without Turkish's ı and ğ. Codes are ISO 639-1 where one exists, else ISO 639-3.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

_LANGUAGES = {
    Language.ARABIC: "ar",
    Language.ENGLISH: "en",
    Language.TURKISH: "tr",
    Language.PERSIAN: "fa",
    Language.RUSSIAN: "ru",
    Language.FRENCH: "fr",
    Language.GERMAN: "de",
}


#: Samples at least this long are read with trigrams alone (lingua's low accuracy mode): 0.07 s
#: and 11-14 MB to build for all seven languages, against 1.4-1.6 s and 240-300 MB for every
#: n-gram model. 120 characters is where lingua's own accuracy tables have the two modes meet; on
#: this project's corpora (benchmarks/languages.py, docs/benchmarks.md) they name the same
#: language for every sample that long, and part ways below it (an English question of 20-60
#: characters: 98.5% against 95.2%). Shorter samples get every model.
TRIGRAMS_FROM = 120


@functools.cache
def _trigrams() -> LanguageDetector:
    """Trigram models only, for long samples; built on first use, or by the zygote."""
    detector = (
        LanguageDetectorBuilder.from_languages(*_LANGUAGES)
        .with_preloaded_language_models()
        .with_low_accuracy_mode()
        .build()
    )
    detector.compute_language_confidence_values("warm up: شاهد witness témoin Zeuge tanık")
    return detector


#: The languages by the script they are written in. lingua sets aside every language whose
#: alphabet a text is not written in, so a text in one script reads the same among its script's
#: languages as among all seven (3,034 short XQuAD samples: the same confidences, to the last
#: digit) and needs only that script's models: built after the trigrams, Latin's four
#: languages cost 0.95 s of CPU and 131 MB, Arabic and Persian 0.51 s and 66 MB, Russian 0.26
#: s and 35 MB, all seven 1.69 s and 238 MB (docs/benchmarks.md, "Language models per script").
SCRIPT_LANGUAGES: dict[str, tuple[Language, ...]] = {
    "arabic": (Language.ARABIC, Language.PERSIAN),
    "latin": (Language.ENGLISH, Language.TURKISH, Language.FRENCH, Language.GERMAN),
    "cyrillic": (Language.RUSSIAN,),
}
#: A sample in more than one script, or in none: every model of every language.
EVERY = "every"
_SCRIPTS = (
    ("arabic", re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")),
    ("cyrillic", re.compile("[\u0400-\u04ff]")),
    ("latin", re.compile("[A-Za-z\u00c0-\u024f]")),
)


@functools.cache
def _detector(script: str = EVERY) -> LanguageDetector:
    """Every model of the languages of one script (all seven for EVERY), for short samples.
    The sandbox's zygote builds a script's models before a fork only once a child has needed
    them (`warm(scripts)`, `models_wanted`): a batch of long texts never pays for them, and a
    batch of short English ones never for Arabic's or Russian's."""
    detector = (
        LanguageDetectorBuilder.from_languages(*SCRIPT_LANGUAGES.get(script, tuple(_LANGUAGES)))
        .with_preloaded_language_models()
        .build()
    )
    # The first detection in a process sets up lazily built tables: do it here, once, so that
    # children forked from the zygote find them ready (saves ~0.25 s per file).
    detector.compute_language_confidence_values("warm up: شاهد witness témoin Zeuge tanık")
    return detector


@functools.cache
def _lazy() -> LanguageDetector:
    """For a process that was not warmed (the runner's worker joining OCR page jobs, the
    command line, a sandbox's first child): the same models, loaded only for the scripts a
    text is in (Arabic text: Arabic and Persian), 0.6-1.1 s instead of 1.4-1.6 s for all seven;
    the same results."""
    return LanguageDetectorBuilder.from_languages(*_LANGUAGES).build()


#: Scripts whose every model this process holds ready (built by `warm`), and those whose
#: models it loaded for itself, not warmed for them (`models_wanted`).
_WARMED: set[str] = set()
_WANTED: set[str] = set()


def warm(scripts: Iterable[str] = ()) -> None:
    """Build the trigram detector now (and every model of each of `scripts`, names of
    SCRIPT_LANGUAGES or EVERY; any other name is passed over), so that children forked after
    this inherit them ready."""
    _trigrams()
    for script in scripts:
        if script in SCRIPT_LANGUAGES or script == EVERY:
            _WARMED.add(script)
            _detector(script)


def models_wanted() -> list[str]:
    """The scripts whose every model this process loaded for itself (short samples it was not
    warmed for): a zygote's child says so, and the zygote builds them for later children."""
    return sorted(_WANTED)


def _script(sample: str) -> str | None:
    """The one script a sample's letters are in, or EVERY (several, or another script's
    letters); None for a sample without a letter (dates, numbers, punctuation), in which
    lingua names no language, so that no model is built for it."""
    found = [name for name, pattern in _SCRIPTS if pattern.search(sample)]
    if len(found) == 1:
        return found[0]
    return EVERY if found or any(c.isalpha() for c in sample) else None


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
    if len(sample) >= TRIGRAMS_FROM:
        detector, method = _trigrams(), "lingua trigrams"
    else:
        script = _script(sample)
        if script is None:
            return []
        if script in _WARMED or EVERY in _WARMED:
            detector = _detector(script if script in _WARMED else EVERY)
        else:
            detector = _lazy()
            _WANTED.add(script)
        method = "lingua"
    values = detector.compute_language_confidence_values(sample)
    return [
        {"language": _LANGUAGES[v.language], "confidence": round(v.value, 3), "method": method}
        for v in values[:3]
        if v.value >= 0.1
    ]


#: Languages are read from at most this much of an item's text.
MAX_CHARS = 5_000_000
#: At most this many parts of a long text are read (spread over the whole text).
MAX_PARTS = 80
PART_CHARS = 600
_WORD = re.compile(r"\w+", re.UNICODE)


def _parts(text: str) -> list[str]:
    """Pages and paragraphs (lines for tables), short ones joined up to PART_CHARS."""
    out: list[str] = []
    current = ""
    for line in re.split(r"[\f\n]+", text):
        line = line.strip()
        if not line:
            continue
        if current and len(current) + len(line) > PART_CHARS:
            out.append(current)
            current = ""
        current = f"{current} {line}" if current else line[: PART_CHARS * 4]
    if current:
        out.append(current)
    if len(out) > MAX_PARTS:
        step = len(out) / MAX_PARTS
        out = [out[int(i * step)] for i in range(MAX_PARTS)]
    return out


def _by_script(part: str) -> dict[str, str]:
    """The part's words grouped by the script they are written in: a line of a bilingual
    table holds an Arabic and an English name side by side."""
    groups: dict[str, list[str]] = {}
    for word in _WORD.findall(part):
        for script, pattern in _SCRIPTS:
            if pattern.search(word):
                groups.setdefault(script, []).append(word)
                break
    return {script: " ".join(words) for script, words in groups.items()}


def detect_parts(text: str) -> list[dict[str, Any]]:
    """Every language of a text with its share of the letters, read part by part (pages,
    paragraphs) and script by script, so an Arabic body under English headers, an Arabic
    page in an English report and an Arabic column of a table each count. Most first."""
    letters: dict[str, int] = {}
    confidence: dict[str, float] = {}
    method: dict[str, str] = {}
    for part in _parts(text):
        for script_text in _by_script(part).values():
            found = detect(script_text)
            if not found:
                continue
            weight = sum(len(w) for w in script_text.split())
            best = found[0]
            code = best["language"]
            letters[code] = letters.get(code, 0) + weight
            confidence[code] = max(confidence.get(code, 0.0), best["confidence"])
            method[code] = best["method"]
    total = sum(letters.values())
    if not total:
        return detect(text)
    shares = sorted(letters.items(), key=lambda kv: -kv[1])
    return [
        {
            "language": code,
            "share": round(n / total, 3),
            "confidence": round(confidence[code], 3),
            "method": f"{method[code]}, per part",
        }
        for code, n in shares
        if n / total >= 0.02
    ][:5]
