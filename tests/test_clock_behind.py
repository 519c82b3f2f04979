"""A clock set back is refused, not written into the ledger (adversary I, F1 of stop 53).

With the machine's clock set back to 2019, `amanah item get` handed out an original and
recorded its access stamped years before the ingestion it follows; the ledger and the exported
ledger's verifier took times running backwards without a word. Now an event is not recorded
when the clock reads more than `CLOCK_SLACK` seconds before the ledger's newest event (the
command stops, says why, and logs the refusal outside the database), and both verifiers name
an entry stamped that far before an earlier one.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from amanah.custody import ledger, verifier
from amanah.custody.signed import REFUSALS_LOG
from tests.conftest import amanah, amanah_here, ingest_cli
from tests.webfixtures import Site


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    amanah(home, "init", check=True)
    folder = tmp_path / "handover"
    folder.mkdir()
    (folder / "statement.txt").write_text("synthetic statement\n")
    ingest_cli(home, folder)
    return home


def _events(home: Path) -> list[tuple[int, str]]:
    db = sqlite3.connect(home / "amanah.db")
    try:
        return db.execute("select seq, occurred_at from custody_events order by seq").fetchall()
    finally:
        db.close()


def _at(stamp: str, seconds: float) -> str:
    when = datetime.fromisoformat(stamp.replace("Z", "+00:00")) + timedelta(seconds=seconds)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_a_clock_set_back_records_nothing_and_hands_nothing_out(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _events(home)
    monkeypatch.setattr(ledger, "utc_now", lambda: "2019-03-01T12:00:00.000000Z")
    got = tmp_path / "got.txt"
    done = amanah_here(home, "item", "get", "1", str(got))
    said = done.stdout + done.stderr
    assert done.returncode == 1, said
    assert "clock reads 2019-03-01T12:00:00.000000Z" in said and "nothing was" in said, said
    assert not got.exists()  # an access that cannot be recorded does not happen
    assert _events(home) == before
    refusal = json.loads((home / REFUSALS_LOG).read_text().splitlines()[-1])
    assert "clock reads 2019" in refusal["reason"]

    # a clock a minute behind the newest event (another machine's, a time-sync step) is fine
    newest = before[-1][1]
    monkeypatch.setattr(ledger, "utc_now", lambda: _at(newest, -60))
    done = amanah_here(home, "item", "get", "1", str(got))
    assert done.returncode == 0, done.stdout + done.stderr
    assert got.read_text() == "synthetic statement\n"
    assert len(_events(home)) > len(before)
    # stepped back again and again, each time by less than the slack from the last event: held
    # to the newest time, not the last one's
    monkeypatch.setattr(ledger, "utc_now", lambda: _at(newest, -250))
    again = amanah_here(home, "item", "get", "1", str(tmp_path / "again.txt"))
    assert again.returncode == 0, again.stdout + again.stderr
    monkeypatch.setattr(ledger, "utc_now", lambda: _at(newest, -400))
    third = amanah_here(home, "item", "get", "1", str(tmp_path / "third.txt"))
    assert third.returncode == 1 and "clock reads" in third.stdout + third.stderr
    monkeypatch.undo()
    assert "verified" in amanah(home, "verify", "--no-fixity", check=True).stdout


def _chain(times: list[str]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    prev = verifier.GENESIS
    for n, time in enumerate(times, 1):
        entry: dict[str, object] = {
            "seq": n, "event_id": f"e{n}", "type": "access", "time": time, "actor": "a",
            "agent": "amanah", "object_type": "item", "object_id": "1", "outcome": "success",
            "details": {}, "prev": prev,
        }  # fmt: skip
        entry["hash"] = hashlib.sha256(verifier.entry_bytes(entry)).hexdigest()
        prev = str(entry["hash"])
        out.append(entry)
    return out


def test_the_ledger_verifier_names_an_entry_stamped_before_an_earlier_one() -> None:
    start = "2026-12-07T10:00:00.000000Z"
    back = _chain([start, _at(start, 10), "2019-03-01T12:00:00.000000Z", _at(start, 20)])
    problems, _ = verifier.check_chain(back)
    assert problems == [
        "ledger entry 3: stamped 2019-03-01T12:00:00.000000Z, 245,196,010 s before an earlier"
        " entry (2026-12-07T10:00:10.000000Z): the clock ran backwards, its time is not true"
    ]
    skew = _chain([start, _at(start, -60), _at(start, 5)])  # within CLOCK_SLACK
    assert verifier.check_chain(skew)[0] == []


def test_a_page_that_would_record_a_reading_answers_503_and_shows_nothing(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading an item's text is an access event: with the clock set back the page says why,
    as an error the administrator can act on, not an internal error, and shows none of it."""
    c, _ = site.signed_in("analyst")
    item = site.item("statement-b.txt")
    monkeypatch.setattr(ledger, "utc_now", lambda: "2019-03-01T12:00:00.000000Z")
    page = c.get(f"/items/{item}")
    assert page.status_code == 503, page.text[:500]
    assert "clock reads 2019-03-01" in page.text
    assert "checkpoint near the river" not in page.text
    api = site.api("analyst").get(f"/api/v1/items/{item}")
    assert api.status_code == 503 and "clock reads" in api.json()["error"]
