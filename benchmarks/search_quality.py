"""Search quality on XQuAD (Arabic and English, parallel): MRR@10 and Recall@10.

    python -m benchmarks.search_quality

The 240 Arabic paragraphs are ingested and processed as text files, exactly as a handover
would be, then every question is asked through `amanah.search.service.search`:

- Arabic questions -> Arabic paragraphs, words as alternatives (OR), Amanah's analyzer,
  against plain SQLite FTS5 (unicode61, no normalisation, BM25) on the same paragraphs and
  the same OR queries, in the same run;
- English questions -> Arabic paragraphs by meaning (--semantic) and hybrid;
- Arabic questions by meaning and hybrid, for comparison.

Needs ../shared/data/xquad_ar_en (skips with a message when it is absent).
"""

from __future__ import annotations

import re
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from amanah.access import local_administrator
from amanah.config import write_default_config
from amanah.intake.ingest import IntakeRequest, ingest
from amanah.processing.runner import run
from amanah.search.service import search
from amanah.workspace import Workspace, open_workspace
from benchmarks.common import OUT, machine, save

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "xquad_ar_en" / "derived"
K = 10
_WORD = re.compile(r"\w+")


def _tsv(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("\t")
        out[key] = value
    return out


def _qrels() -> dict[str, str]:
    out = {}
    for line in (DATA / "qrels.txt").read_text().splitlines():
        qid, _, doc, rel = line.split()
        if rel != "0":
            out[qid] = doc
    return out


def _typed(question: str) -> list[str]:
    """The question's words as an analyst would type them (no operators, no punctuation)."""
    pieces = re.sub(r'["()*=:]', " ", question).split()
    return list(dict.fromkeys(p.strip("-") for p in pieces if _WORD.search(p)))


def _either(question: str) -> str:
    """A question as the words it holds, any of which may match."""
    return " OR ".join(w for w in _typed(question) if w not in ("OR", "AND", "NOT"))


def _score(ranked: dict[str, list[str]], qrels: dict[str, str]) -> dict[str, float]:
    rr, hits = 0.0, 0
    for qid, docs in ranked.items():
        want = qrels[qid]
        if want in docs[:K]:
            hits += 1
            rr += 1.0 / (docs.index(want) + 1)
    n = len(ranked)
    return {"mrr@10": round(rr / n, 3), "recall@10": round(hits / n, 3), "questions": n}


def plain_fts5(corpus: dict[str, str], queries: dict[str, str]) -> dict[str, list[str]]:
    """The baseline: FTS5 as it comes, no Arabic normalisation."""
    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE VIRTUAL TABLE t USING fts5(pid UNINDEXED, body,"
        " tokenize='unicode61 remove_diacritics 0')"
    )
    db.executemany("INSERT INTO t VALUES (?, ?)", corpus.items())
    out = {}
    for qid, q in queries.items():
        terms = " OR ".join('"' + w.replace('"', '""') + '"' for w in _WORD.findall(q))
        rows = (
            db.execute(
                "SELECT pid FROM t WHERE t MATCH ? ORDER BY bm25(t) LIMIT ?", (terms, K)
            ).fetchall()
            if terms
            else []
        )
        out[qid] = [r[0] for r in rows]
    return out


def amanah(
    ws: Workspace, queries: dict[str, str], mode: str, pid_of: dict[int, str]
) -> tuple[dict[str, list[str]], float]:
    caller = local_administrator(ws, "benchmark")
    out = {}
    t = time.perf_counter()
    for qid, q in queries.items():
        query = _either(q) if mode != "semantic" else " ".join(_typed(q))
        r = search(ws, caller, query, limit=K, mode=mode)
        out[qid] = [pid_of[h.item_id] for h in r.hits]
    return out, (time.perf_counter() - t) / max(1, len(queries)) * 1000


def build(corpus: dict[str, str], work: Path) -> tuple[Workspace, dict[int, str], float]:
    folder = work / "paragraphs"
    folder.mkdir()
    for pid, body in corpus.items():
        (folder / f"{pid}.txt").write_text(body, encoding="utf-8")
    home = work / "home"
    write_default_config(home)
    ws = open_workspace(home)
    t = time.perf_counter()
    ingest(ws, IntakeRequest(sources=[str(folder)], collection="xquad-ar", provider="XQuAD"))
    report = run(ws, wait=True)
    if report.failed:
        raise SystemExit(f"processing failed: {report.failures[:3]}")
    seconds = time.perf_counter() - t
    from amanah.items import list_items

    pid_of = {
        i["id"]: i["original_path"].rsplit("/", 1)[-1].removesuffix(".txt") for i in list_items(ws)
    }
    return ws, pid_of, seconds


def main() -> None:
    if not DATA.exists():
        print(f"skipped: {DATA} is absent", file=sys.stderr)
        return
    corpus = _tsv(DATA / "corpus_ar.tsv")
    q_ar, q_en, qrels = _tsv(DATA / "queries_ar.tsv"), _tsv(DATA / "queries_en.tsv"), _qrels()
    result: dict[str, object] = {"machine": machine()}
    with tempfile.TemporaryDirectory(dir=OUT if OUT.exists() else None) as tmp:
        ws, pid_of, seconds = build(corpus, Path(tmp))
        result["ingest_and_process_seconds"] = round(seconds, 1)
        try:
            runs = {
                "ar->ar plain FTS5": (plain_fts5(corpus, q_ar), None),
                "ar->ar amanah words": amanah(ws, q_ar, "text", pid_of),
                "ar->ar amanah semantic": amanah(ws, q_ar, "semantic", pid_of),
                "ar->ar amanah hybrid": amanah(ws, q_ar, "hybrid", pid_of),
                "en->ar amanah words": amanah(ws, q_en, "text", pid_of),
                "en->ar amanah semantic": amanah(ws, q_en, "semantic", pid_of),
                "en->ar amanah hybrid": amanah(ws, q_en, "hybrid", pid_of),
            }
        finally:
            ws.close()
    for name, (ranked, ms) in runs.items():
        scores = _score(ranked, qrels)
        if ms is not None:
            scores["ms_per_query"] = round(ms, 1)
        result[name] = scores
        print(f"{name:28} {scores}")
    print(save("search_quality", result))


if __name__ == "__main__":
    main()
