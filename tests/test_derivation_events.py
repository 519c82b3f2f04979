"""One derivation event per derivative, saying what it is: the event that binds a derivative
row to its blob also says how it was made (extractor, engine, languages …); no second event
repeats it, and a re-run of the same bytes records none."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from amanah.db.models import CustodyEvent, Derivative
from amanah.preservation.audit import verify
from amanah.processing.runner import run
from amanah.workspace import open_workspace
from tests.fixtures import minimal_pdf, write
from tests.test_processing import ingest_folder


def _derivations(ws) -> list[dict]:  # type: ignore[no-untyped-def]
    with ws.db.reader() as s:
        rows = s.execute(
            select(CustodyEvent.object_id, CustodyEvent.details).where(
                CustodyEvent.event_type == "derivation"
            )
        ).all()
    return [{"item": int(i), **json.loads(d)} for i, d in rows]


def test_each_derivative_has_one_derivation_event_that_says_what_it_is(
    sqlite_home: Path, tmp_path: Path
) -> None:
    config = sqlite_home / "amanah.toml"
    config.write_text(config.read_text().replace("semantic = true", "semantic = false"))
    write(tmp_path / "h", {"report.pdf": minimal_pdf(["Convoy seen at the checkpoint", "p2"])})
    ws = open_workspace(sqlite_home)
    try:
        ingest_folder(ws, tmp_path / "h")
        assert run(ws, workers=1).failed == 0
        with ws.db.reader() as s:
            rows = s.execute(select(Derivative)).scalars().all()
        kinds = {d.kind for d in rows}
        assert {"text", "inventory", "page_image", "thumbnail"} <= kinds, kinds
        events = _derivations(ws)
        per = Counter((e["item"], e["derivative"], e.get("page", 0)) for e in events)
        assert all(n == 1 for n in per.values()), per
        assert sorted(per) == sorted((d.item_id, d.kind, d.page) for d in rows)
        assert not [e for e in events if "images" in e]  # no second event per kind of image
        by = {(e["item"], e["derivative"], e.get("page", 0)): e for e in events}
        for d in rows:
            event = by[(d.item_id, d.kind, d.page)]
            assert (event["sha256"], event["size"]) == (d.sha256, d.size)
        text = next(by[k] for k in by if k[1] == "text")
        assert text["extractor"] == "application/pdf" and text["pages"] == 1 and "sandbox" in text
        inventory = next(by[k] for k in by if k[1] == "inventory")
        assert inventory["complete"] is True and inventory["version"] >= 2
        images = [by[k] for k in by if k[1] == "page_image"]
        assert images and all(e["dpi"] == 100 for e in images)
        # The same run again: the same bytes, no new event.
        before = len(events)
        with ws.db.session() as s:
            from amanah.db.models import Job

            s.execute(Job.__table__.update().values(state="queued", attempts=0))
        assert run(ws, workers=1).failed == 0
        assert len(_derivations(ws)) == before
        assert verify(ws, "t").ok  # every derivative still bound to its event
    finally:
        ws.close()
