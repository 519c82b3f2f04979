"""Seconds per web request of a redaction preview and of a redaction, on a real `amanah serve`.

    python -m benchmarks.web_redaction [--rounds 10] [--code DIR] [--label NAME]

A workspace is made here: a two-page PDF with a text layer that names a protected person
(benchmarks.redaction's statement), processed, and a legal officer. One web process (no job
runner) is started on loopback and a signed-in browser session asks, round after round: the
preview of page 1 of the original, a redaction (POST, every protected person), the preview of
page 1 of the redacted file. The first round starts from a server that has not yet parsed any
evidence; the figures of the later rounds are what a legal officer at work waits.

`--code DIR` serves the Amanah tree in DIR instead of this one (PYTHONPATH of the server):
the same requests against an earlier version, e.g. one exported with `git archive`.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from amanah.access import local_administrator
from amanah.access.users import add_user
from amanah.db.models import Item
from amanah.intake.ingest import IntakeRequest, ingest
from amanah.processing.runner import run
from amanah.sharing import protected
from amanah.workspace import open_workspace
from benchmarks.common import machine, save
from benchmarks.redaction import NAME_AR, NAME_LATIN, text_pdf
from benchmarks.webserver import PASSWORD, Server, signed_in_client


def _workspace(root: Path) -> int:
    folder = root / "evidence"
    folder.mkdir()
    text_pdf(folder / "statement.pdf", 2)
    home = root / "home"
    ws = open_workspace(home)
    config = home / "amanah.toml"
    config.write_text(config.read_text().replace("semantic = true", "semantic = false"))
    ws.close()
    ws = open_workspace(home)
    ingest(
        ws,
        IntakeRequest(sources=[str(folder)], collection="bench", provider="P", actor="local:bench"),
    )
    run(ws)
    with ws.db.session() as s:
        protected.add(s, local_administrator(ws), "Witness A", [NAME_LATIN, NAME_AR])
    add_user(ws, "bench-legal", "legal", PASSWORD, compartments=("default",), by="benchmark")
    with ws.db.reader() as s:
        item = s.execute(select(Item.id).where(Item.original_path.like("%statement.pdf"))).scalar()
    ws.close()
    assert item is not None
    return int(item)


def _timed(call: object) -> float:
    start = time.perf_counter()
    response = call()  # type: ignore[operator]
    elapsed = time.perf_counter() - start
    if response.status_code not in (200, 303):
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text[:300]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--code", type=Path, help="the Amanah tree the server runs")
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    if args.code:
        os.environ["PYTHONPATH"] = str(args.code.resolve())
    with tempfile.TemporaryDirectory(prefix="bench-web-redaction-") as tmp:
        item = _workspace(Path(tmp))
        server = Server(Path(tmp) / "home", runner=False, web_workers=1)
        try:
            c = signed_in_client(server.base, "bench-legal")
            csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/").text)
            assert csrf, "no CSRF token on the home page"
            page = f"/items/{item}/redaction/pages/1.png"
            rounds = []
            for _ in range(args.rounds):
                rounds.append(
                    {
                        "preview": _timed(lambda: c.get(page, params={"version": "original"})),
                        "redact": _timed(
                            lambda: c.post(
                                f"/items/{item}/redaction",
                                data={"csrf": csrf.group(1), "regions": ""},
                                follow_redirects=False,
                            )
                        ),
                        "preview_redacted": _timed(
                            lambda: c.get(page, params={"version": "redacted"})
                        ),
                    }
                )
            c.close()
        finally:
            server.stop()
    later = rounds[1:] or rounds
    summary = {
        kind: {
            "first_s": round(rounds[0][kind], 3),
            "median_s": round(statistics.median(r[kind] for r in later), 3),
            "min_s": round(min(r[kind] for r in later), 3),
            "max_s": round(max(r[kind] for r in later), 3),
        }
        for kind in ("preview", "redact", "preview_redacted")
    }
    result = {
        "machine": machine(),
        "load_average": os.getloadavg(),
        "code": str(args.code or "this tree"),
        "rounds": args.rounds,
        "summary": summary,
        "all": rounds,
    }
    path = save("web_redaction" + (f"-{args.label}" if args.label else ""), result)
    print(f"{'request':<18} {'first':>8} {'median':>8} {'min':>8} {'max':>8}")
    for kind, s in summary.items():
        print(
            f"{kind:<18} {s['first_s']:>7.2f}s {s['median_s']:>7.2f}s"
            f" {s['min_s']:>7.2f}s {s['max_s']:>7.2f}s"
        )
    print(f"figures: {path}")


if __name__ == "__main__":
    main()
