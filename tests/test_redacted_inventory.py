"""A redacted copy's content inventory is taken once, in the sandbox, and kept bound to the
copy's SHA-256 and the languages it was read in: the next package plan reads it from storage
instead of starting the sandbox again; other languages (or a new copy) are inventoried anew."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from amanah.access import local_administrator
from amanah.db.models import CustodyEvent, Derivative, Item
from amanah.preservation.audit import verify
from amanah.processing.runner import run
from amanah.sharing import protected, redaction
from amanah.sharing.leakcheck import REDACTED_INVENTORY, LeakCheck
from amanah.sharing.protected import Matcher
from amanah.workspace import open_workspace
from tests.sharingfixtures import WITNESS_AR, WITNESS_LATIN, typed_pdf
from tests.test_processing import ingest_folder


def _check(ws, languages: str):  # type: ignore[no-untyped-def]
    """One plan's look at the redacted copy: its findings, and whether a sandbox started."""
    with ws.db.reader() as s:
        item = s.execute(select(Item).where(Item.original_path.like("%s.pdf"))).scalar_one()
        red = s.execute(
            select(Derivative).where(
                Derivative.item_id == item.id, Derivative.kind == redaction.REDACTED
            )
        ).scalar_one()
        check = LeakCheck(ws, s, Matcher.load(s))
        try:
            found = check.redacted(item, red, [], languages)
            return found, check._sandbox is not None, red.sha256
        finally:
            check.close()


def _stored(ws) -> list[tuple[str, dict]]:  # type: ignore[no-untyped-def]
    with ws.db.reader() as s:
        return [
            (d.sha256, json.loads(d.details))
            for d in s.execute(
                select(Derivative).where(Derivative.kind == REDACTED_INVENTORY)
            ).scalars()
        ]


def test_a_redacted_copys_inventory_is_taken_once_and_bound_to_its_sha256(
    sqlite_home: Path, tmp_path: Path
) -> None:
    config = sqlite_home / "amanah.toml"
    config.write_text(config.read_text().replace("semantic = true", "semantic = false"))
    folder = tmp_path / "h"
    folder.mkdir()
    typed_pdf(folder / "s.pdf")
    ws = open_workspace(sqlite_home)
    try:
        ingest_folder(ws, folder)
        assert run(ws, workers=1).failed == 0
        admin = local_administrator(ws)
        with ws.db.session() as s:
            protected.add(s, admin, "Witness A", [WITNESS_AR, WITNESS_LATIN])
        redaction.redact(ws, admin, 1, [])
        assert _stored(ws) == []

        first, started, red_sha = _check(ws, "ara+eng")
        assert started  # nothing stored yet: taken in the sandbox
        assert first.names == [] and first.incomplete == []
        stored = _stored(ws)
        assert [d for _, d in stored] == [{"of": red_sha, "languages": "ara+eng"}]
        with ws.db.reader() as s:  # bound by its one derivation event
            events = [
                json.loads(d)
                for d in s.execute(
                    select(CustodyEvent.details).where(CustodyEvent.event_type == "derivation")
                ).scalars()
            ]
        bound = [e for e in events if e.get("derivative") == REDACTED_INVENTORY]
        assert [(e["sha256"], e["of"]) for e in bound] == [(stored[0][0], red_sha)]

        again, started, _ = _check(ws, "ara+eng")
        assert not started  # read from storage: no sandbox
        assert (again.names, again.incomplete) == (first.names, first.incomplete)
        assert len(_stored(ws)) == 1

        # Negative control: other languages are not what was stored: taken anew.
        _other, started, _ = _check(ws, "eng")
        assert started
        assert [d["languages"] for _, d in _stored(ws)] == ["eng"]  # the newest is kept
        assert verify(ws, "t").ok
    finally:
        ws.close()
