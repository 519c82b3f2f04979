"""Names with a father's name between: what letting name words stand within a protected name
costs (`amanah.text.name_lexicon`), in time and in false alarms, on ordinary text.

    python -m benchmarks.name_between [--persons 300] [--data ../shared/data]

The protected list: `--persons` two-word names made of the commonest given names of the Arab
world and family names of the romaniser's dictionary (a public list), in Arabic and in Latin,
so that their first words meet the text often. The text: XQuAD's Arabic and English paragraphs.
Each paragraph is read by `Matcher.names` with no word allowed between (as before) and with up
to two, alternately, in the same run; figures are the paragraphs named and the CPU seconds.
Also: the same names written with a father's name between, planted, are all found; and the
blocks of public text with line structure (`_structured`) that the names meet.
Figures go to benchmarks/out/name_between.json and docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from pathlib import Path

from amanah.sharing.protected import Matcher
from amanah.text import name_lexicon
from benchmarks.common import OUT, machine


def _common(role: str, limit: int) -> list[tuple[str, str]]:
    """(Arabic, Latin) of the commonest names of `role` in the Arab world."""
    import arabic_name_romanizer

    db = Path(arabic_name_romanizer.__file__).parent / "resources" / "names.sqlite3"
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = con.execute(
        "SELECT arabic_key, latin, country, count FROM units WHERE role = ?"
        " AND arabic_key NOT LIKE '% %' AND latin NOT LIKE '% %'",
        (role,),
    ).fetchall()
    con.close()
    counts: dict[str, int] = {}
    spellings: dict[str, dict[str, int]] = {}
    for arabic, latin, country, count in rows:
        if country in name_lexicon.ARAB_COUNTRIES:
            counts[arabic] = counts.get(arabic, 0) + count
            seen = spellings.setdefault(arabic, {})
            seen[latin] = seen.get(latin, 0) + count
    common = sorted(counts, key=lambda a: -counts[a])[:limit]
    # each with its commonest Latin spelling
    return [(a, max(spellings[a], key=lambda s: spellings[a][s])) for a in common]


def _paragraphs(data: Path) -> list[str]:
    out: list[str] = []
    for lang in ("ar", "en"):
        doc = json.loads((data / "xquad_ar_en" / f"xquad.{lang}.json").read_text())
        for article in doc["data"]:
            out.extend(p["context"] for p in article["paragraphs"])
    return out


def _structured(data: Path) -> dict[str, list[str]]:
    """Public text with line structure, in blocks (read in place, never printed): the
    sanctions list's CSV rows (real Syrian names, a name a row), the Rome Statute's strings a
    line each, OpenITI's OCR lines, the fixtures' text files. Where line breaks, cells and
    fields now join words into a name, false alarms would show here."""
    blocks: dict[str, list[str]] = {}
    rows = [
        line
        for path in sorted((data / "ofac_sdn_syria").glob("*.csv"))
        for line in path.read_text(errors="replace").splitlines()
    ]
    blocks["sanctions list CSV, 2 rows a block"] = [
        "\n".join(rows[i : i + 2]) for i in range(0, len(rows), 2)
    ]

    def strings(x: object) -> list[str]:
        if isinstance(x, str):
            return [x]
        values = x.values() if isinstance(x, dict) else x if isinstance(x, list) else []
        return [s for v in values for s in strings(v)]

    statute = strings(json.loads((data / "rome_statute" / "RomeStatute.json").read_text()))
    blocks["Rome Statute, 3 strings a block"] = [
        "\n".join(statute[i : i + 3]) for i in range(0, len(statute), 3)
    ]
    ocr = [
        p.read_text(errors="replace")
        for p in sorted((data / "openiti_arabic_ocr_gs").rglob("*.txt"))[:3000]
    ]
    blocks["OpenITI OCR lines, 3 a block"] = [
        "\n".join(ocr[i : i + 3]) for i in range(0, len(ocr), 3)
    ]
    kinds = (".txt", ".csv", ".json", ".srt", ".vtt", ".xml", ".html", ".md", ".tsv", ".eml")
    blocks["fixtures' text files"] = [
        p.read_text(errors="replace")[:200_000]
        for p in sorted((data / "ingest_file_fixtures").rglob("*"))
        if p.is_file() and p.suffix.lower() in kinds
    ]
    return blocks


def main(persons: int, data: Path) -> dict[str, object]:
    given = _common("given", 60)
    given, fathers = given[:40], given[40:]  # a father's name that is no first name here
    family = _common("surname", max(1, persons // 40 + 1))
    pairs = [(g, f) for f in family for g in given][:persons]
    matcher = Matcher.of(
        [(f"P{i}", [f"{g[0]} {f[0]}", f"{g[1]} {f[1]}"]) for i, (g, f) in enumerate(pairs)]
    )
    paragraphs = _paragraphs(data)
    planted = [
        f"{g[0]} {fathers[i % len(fathers)][0]} {f[0]}"
        if i % 2
        else f"{g[1]} {fathers[i % len(fathers)][1]} {f[1]}"
        for i, (g, f) in enumerate(pairs)
    ]
    result: dict[str, object] = {"machine": machine(), "persons": len(pairs)}
    saved = name_lexicon.MAX_BETWEEN
    try:
        for round_ in range(2):
            for between in (0, saved):
                name_lexicon.MAX_BETWEEN = between
                start = time.process_time()
                named = sum(1 for p in paragraphs if matcher.names(p))
                cpu = time.process_time() - start
                found = sum(1 for p in planted if matcher.names(p))
                key = f"between {between}, round {round_ + 1}"
                result[key] = {
                    "paragraphs": len(paragraphs),
                    "paragraphs_named": named,
                    "cpu_s": round(cpu, 2),
                    "planted_found": f"{found}/{len(planted)}",
                }
                print(key, result[key], flush=True)
    finally:
        name_lexicon.MAX_BETWEEN = saved
    named_blocks = {
        kind: f"{sum(1 for b in blocks if matcher.names(b))}/{len(blocks)}"
        for kind, blocks in _structured(data).items()
    }
    result["structured blocks named"] = named_blocks
    print("structured blocks named", named_blocks, flush=True)
    OUT.mkdir(exist_ok=True)
    (OUT / "name_between.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=300)
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data"
    )
    args = parser.parse_args()
    main(args.persons, args.data)
