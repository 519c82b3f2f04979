"""The item page of a 500-page document: how long the server takes to render it.

    python -m benchmarks.item_page [--pages 500] [--runs 20]

One item gets a generated text derivative of N pages (form feeds between pages, Arabic and
English lines, about 2,500 characters a page); the page is asked for as a signed-in analyst
through the application in-process (no network), first pages, last pages and with a search's
words highlighted. Each view reads the whole text derivative and records its audited read,
as in use; only the pages shown are shaped and rendered.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from amanah.access import Role
from amanah.access.tokens import create_token
from amanah.access.users import add_user
from amanah.intake.ingest import IntakeRequest, ingest
from amanah.processing.pipeline import put_derivative
from amanah.web.app import create_app
from amanah.workspace import open_workspace
from benchmarks.common import machine, save

LINE_AR = "قال الشاهد إنه احتُجز في فرع فلسطين عام ٢٠١٢ مع آخرين"
LINE_EN = "The witness said he was held at the branch with others in 2012"


def document(pages: int) -> str:
    page = "\n".join([LINE_AR, LINE_EN] * 20)
    return "\f".join(f"{n}\n{page}" for n in range(1, pages + 1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=500)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "in").mkdir()
        (root / "in" / "long.txt").write_text("placeholder\n", encoding="utf-8")
        ws = open_workspace(root / "home")
        ingest(
            ws,
            IntakeRequest(
                sources=[str(root / "in")],
                collection="bench",
                provider="Bench CSO",
                compartment="bench",
                actor="local:bench",
            ),
        )
        text = document(args.pages).encode("utf-8")
        put = ws.blobs.put(io.BytesIO(text))
        ws.blobs.sync()  # durable before its row, as processing does
        with ws.db.session() as s:
            put_derivative(s, 1, "text", put, "text/plain; charset=utf-8", {"pages": args.pages})
        add_user(
            ws,
            "reader",
            Role.ANALYST.value,
            "a long bench password",
            compartments=("bench",),
            by="b",
        )
        client = TestClient(create_app(ws))  # type: ignore[arg-type]
        client.headers["Authorization"] = f"Bearer {create_token(ws, 'reader')}"
        figures = {}
        for label, params in (
            ("first pages", {}),
            ("last pages", {"page": str(args.pages - 19)}),
            ("first pages, words highlighted", {"q": "witness"}),
        ):
            times = []
            for _ in range(args.runs + 1):
                start = time.perf_counter()
                r = client.get("/items/1", params=params)
                times.append((time.perf_counter() - start) * 1000)
                assert r.status_code == 200, r.text[:300]
            times = sorted(times[1:])  # the first warms the templates
            figures[label] = {
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
                "max_ms": round(times[-1], 1),
                "html_bytes": len(r.content),
            }
            print(f"{label}: {figures[label]}")
        ws.close()
    save(
        "item_page",
        {"machine": machine(), "pages": args.pages, "text_bytes": len(text), "figures": figures},
    )


if __name__ == "__main__":
    main()
