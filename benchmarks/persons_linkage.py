"""Record linkage of person lists: accuracy against a plain Splink model, and scale.

    python -m benchmarks.persons_linkage --quality 2000 --dedupe 100000

- quality: two generated releases of N records each (`benchmarks.persons_lists`, drifted as
  real releases are), linked by `amanah.persons.linkage` and by a plain Splink model with
  default comparisons (NameComparison on the names as written, exact birth year, sex and
  governorate, the same kind of blocking and training) in the same run: precision, recall, F1.
- scale: one generated list of N records with duplicates, de-duplicated in a child process:
  wall time of the linkage alone, peak RSS of the child (generation included), pairs, links,
  precision and recall. The load average is recorded: the machine is shared.
  `--engines duckdb postgresql` runs each size on each engine in turn, in the same session
  (PostgreSQL: a server started on loopback by `tests.servers`; its peak memory is the
  largest sum of its processes' proportional set sizes, sampled every half second).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from benchmarks.common import machine, run_timed, save
from benchmarks.persons_lists import (
    Person,
    cached_duplicated,
    make_lists,
    make_people,
    true_pairs,
)


def _scores(found: set, gold: set) -> dict[str, float]:
    tp = len(found & gold)
    p = tp / len(found) if found else 0.0
    r = tp / len(gold) if gold else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(f1, 4),
        "links": len(found),
    }


def _key(x: tuple[str, str], y: tuple[str, str]) -> tuple:
    return (min(x, y), max(x, y))


def ours(a: list, b: list, threshold: float) -> set:
    from amanah.persons.linkage import link

    return {_key((p.a_list, p.a), (p.b_list, p.b)) for p in link(a, b, threshold) if p.match}


def plain(a: list, b: list, threshold: float) -> set:
    """Splink as the manual sets it up: default comparisons on the names as written."""
    import duckdb
    import pyarrow as pa
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    def table(records: list, first: int) -> Any:
        cols: dict[str, list[Any]] = {
            k: []
            for k in (
                "uid",
                "ism",
                "father",
                "grandfather",
                "family",
                "birth_year",
                "sex",
                "governorate",
            )
        }
        for i, r in enumerate(records):
            cols["uid"].append(first + i)
            for k in ("ism", "father", "grandfather", "family", "sex", "governorate"):
                cols[k].append(getattr(r, k) or None)
            cols["birth_year"].append(r.birth_year)
        return pa.table(cols)

    keys = [(r.list_name, r.key) for r in a + b]
    api = DuckDBAPI(connection=duckdb.connect())
    frames = [
        api.register(table(a, 0), table_name="a"),
        api.register(table(b, len(a)), table_name="b"),
    ]
    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name="uid",
        comparisons=[
            cl.NameComparison("ism"),
            cl.NameComparison("father"),
            cl.NameComparison("grandfather"),
            cl.NameComparison("family"),
            cl.ExactMatch("birth_year"),
            cl.ExactMatch("sex"),
            cl.ExactMatch("governorate"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("ism", "father", "family"),
            block_on("ism", "father", "grandfather"),
            block_on("father", "grandfather", "family"),
            block_on("ism", "grandfather", "family"),
            block_on("ism", "family", "birth_year"),
            block_on("father", "family", "birth_year"),
        ],
    )
    linker = Linker(frames, settings, log_level=None)
    import logging

    logging.getLogger("splink").setLevel(logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("ism", "father", "family", "birth_year")], recall=0.6
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("ism", "birth_year")
    )
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("father", "family"))
    df = linker.inference.predict(threshold_match_probability=threshold)
    rows = api._con.execute(f"SELECT uid_l, uid_r FROM {df.physical_name}").fetchall()  # noqa: S608
    return {_key(keys[x], keys[y]) for x, y in rows}


def quality(n: int, seed: int, threshold: float) -> dict[str, Any]:
    a, b, truth = make_lists(n, seed=seed)
    gold = true_pairs(a + b, truth)
    out: dict[str, Any] = {"records_per_list": n, "true_pairs": len(gold), "seed": seed}
    for name, fn in (("amanah", ours), ("plain_splink", plain)):
        t = time.perf_counter()
        found = fn(a, b, threshold)
        out[name] = {**_scores(found, gold), "seconds": round(time.perf_counter() - t, 1)}
    return out


def _relation(p: Person, q: Person) -> str:
    """What two generated people of one name (or nearly) are to each other, by the truth they
    were drawn from: the class a false link between their records falls in."""
    names = ("ism", "father", "grandfather", "family")
    differ = [f for f in names if getattr(p, f)[0] != getattr(q, f)[0]]
    years = abs(p.birth_year - q.birth_year)
    if (
        p.ism[0] == q.ism[0]
        and p.family[0] == q.family[0]
        and q.ism[0] in (p.grandfather[0], q.grandfather[0])
        and years >= 40
    ):
        return "grandfather and grandson of one name"
    if differ == ["ism"]:
        return "siblings (another ism)" if years <= 12 else "another ism, lineage shared"
    if not differ:
        band = "0" if years == 0 else "1-2" if years <= 2 else "3-5" if years <= 5 else ">5"
        return f"namesakes (four names), birth years {band} apart"
    return "three names alike or fewer (differ: " + ", ".join(differ) + ")"


def false_positive_classes(
    records: list, truth: dict, found: set, gold: set, n: int, seed: int
) -> dict[str, int]:
    """The false links of a de-duplication (`cached_duplicated(n, seed)`) by class: the
    relation of the two people (`_relation`), and whether a record lacks its grandfather."""
    people = make_people(int(n / 1.3) + 1, seed)  # as make_duplicated draws them
    by_key = {r.key: r for r in records}
    out: dict[str, int] = {}
    for x, y in found - gold:
        a, b = by_key[x[1]], by_key[y[1]]
        label = _relation(people[truth[x]], people[truth[y]])
        if not a.grandfather or not b.grandfather:
            label += "; a grandfather not given"
        if any(c.isascii() and c.isalpha() for c in a.ism + b.ism):
            label += "; Latin"
        out[label] = out.get(label, 0) + 1
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def _child_dedupe(n: int, engine: str, database_url: str | None, classify: bool = False) -> None:
    from amanah.persons.linkage import link

    t = time.perf_counter()
    records, truth = cached_duplicated(n, seed=5)
    generated = time.perf_counter() - t
    gold = true_pairs(records, truth, across=False)
    t, cpu = time.perf_counter(), time.process_time()
    pairs = 0
    found = set()
    for p in link(records, engine=engine, database_url=database_url):
        pairs += 1
        if p.match:
            found.add(_key((p.a_list, p.a), (p.b_list, p.b)))
    seconds = time.perf_counter() - t
    cpu_seconds = time.process_time() - cpu
    classes = false_positive_classes(records, truth, found, gold, n, 5) if classify else None
    print(
        json.dumps(
            {
                "records": len(records),
                # generating the list, or reading it from benchmarks/out/ once generated
                "list_seconds": round(generated, 1),
                "seconds": round(seconds, 1),
                # CPU seconds of every thread: what the run costs on a machine others share
                "cpu_seconds": round(cpu_seconds, 1),
                "pairs_reported": pairs,
                **_scores(found, gold),
                **({"false_links": classes} if classes is not None else {}),
            },
            ensure_ascii=False,
        )
    )


def _server_pss_kib(data_dir: str) -> int:
    """The proportional set size of a PostgreSQL server's processes (postmaster and children)."""
    from pathlib import Path

    try:
        root = int(Path(data_dir, "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if int(proc.name) != root and ppid != root:
                continue
            for line in (proc / "smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return total


def dedupe(
    n: int, engine: str = "duckdb", server: Any = None, classify: bool = False
) -> dict[str, Any]:
    import threading

    load_before = os.getloadavg()
    cmd = [sys.executable, "-m", "benchmarks.persons_linkage", "--child-dedupe", str(n)]
    cmd += ["--engine", engine] + (["--classify"] if classify else [])
    peak = [0]
    stop = threading.Event()
    if server is not None:
        cmd += ["--database-url", server.create_database()]

        def sample() -> None:
            while not stop.wait(0.5):
                peak[0] = max(peak[0], _server_pss_kib(str(server.data)))

        threading.Thread(target=sample, daemon=True).start()
    try:
        wall, rss_kib, proc = run_timed(cmd)
    finally:
        stop.set()
    assert proc is not None
    result = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    result.update(
        {
            "engine": engine,
            "child_wall_seconds": round(wall, 1),
            "peak_rss_mib": round(rss_kib / 1024),
            "load_before": [round(x, 1) for x in load_before],
            "load_after": [round(x, 1) for x in os.getloadavg()],
        }
    )
    if server is not None:
        result["server_peak_pss_mib"] = round(peak[0] / 1024)
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quality", type=int, default=2000, help="records per list (0: skip)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threshold", type=float, default=0.9)
    ap.add_argument("--dedupe", type=int, nargs="*", default=[100_000], help="list sizes")
    ap.add_argument("--engines", nargs="+", default=["duckdb"], choices=["duckdb", "postgresql"])
    ap.add_argument(
        "--classify",
        action="store_true",
        help="count the de-duplication's false links by the generated people's relation",
    )
    ap.add_argument("--child-dedupe", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--engine", default="duckdb", help=argparse.SUPPRESS)
    ap.add_argument("--database-url", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_dedupe:
        _child_dedupe(args.child_dedupe, args.engine, args.database_url, args.classify)
        return
    result: dict[str, Any] = {"machine": machine()}
    if args.quality:
        result["quality"] = quality(args.quality, args.seed, args.threshold)
        print(json.dumps(result["quality"]), flush=True)
    result["dedupe"] = []
    server = None
    if "postgresql" in args.engines:
        from tests.servers import start_postgres

        server = start_postgres()
        if isinstance(server, str):
            raise SystemExit(f"PostgreSQL cannot run here: {server}")
    try:
        for n in args.dedupe:
            for engine in args.engines:
                pg = server if engine == "postgresql" else None
                result["dedupe"].append(dedupe(n, engine, pg, args.classify))
                print(json.dumps(result["dedupe"][-1], ensure_ascii=False), flush=True)
    finally:
        if server is not None:
            server.stop()
    print(save("persons_linkage", result))


if __name__ == "__main__":
    main()
