"""The search log written behind (amanah.search.searchlog): fast, and never loses a search.

Real processes are killed with SIGKILL right after a search returns and in the middle of
applying the journal; the home is then opened again and the log, the ledger and its
verification are checked, record by record."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from amanah.access import Caller, Role, local_administrator
from amanah.config import write_default_config
from amanah.db.models import CustodyEvent, SearchLog
from amanah.intake.ingest import IntakeRequest, ingest
from amanah.preservation.audit import verify
from amanah.processing.runner import run
from amanah.search import searchlog
from amanah.search.engine import history
from amanah.search.service import search
from amanah.sharing import protected
from amanah.sharing.names_key import key_path, load_or_create_key
from amanah.workspace import Workspace, open_workspace
from tests.conftest import REPO, copied_home, make_home

DOCS = {
    "report.txt": "The checkpoint near the hospital was closed on Monday.\n",
    "market.txt": "Minutes of a meeting near the old market about the checkpoint.\n",
    "statement.txt": "Statement of Ahmad al-Khatib on the detention at the checkpoint.\n",
}
NAME = "Ahmad al-Khatib"


def _build(home: Path, tmp: Path) -> None:
    folder = tmp / "evidence"
    folder.mkdir(exist_ok=True)
    for name, body in DOCS.items():
        (folder / name).write_text(body, encoding="utf-8")
    ws = open_workspace(home)
    try:
        request = IntakeRequest(sources=[str(folder)], collection="c", provider="P", actor="t")
        assert ingest(ws, request).status == "complete"
        assert run(ws, workers=1, wait=True).failed == 0
    finally:
        ws.close()


@pytest.fixture(params=["sqlite-file", "postgresql-file"])
def home(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    home = make_home(request, tmp_path, request.param)
    _build(home, tmp_path)
    return home


@pytest.fixture
def sqlite_home(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    """The same intake for every test on the embedded default: built once, copied."""
    return copied_home(tmp_path_factory, tmp_path, "search-log", _build)


@pytest.fixture
def slow_drain(monkeypatch: pytest.MonkeyPatch) -> None:
    """The drainer thread waits an hour: only barriers (readers, close) apply the journal."""
    monkeypatch.setattr(searchlog, "DELAY_SECONDS", 3600.0)


@pytest.fixture
def ws(sqlite_home: Path) -> Iterator[Workspace]:
    w = open_workspace(sqlite_home)
    yield w
    w.close()


def _child(home: Path, script: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", script, str(home), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _logged(ws: Workspace) -> dict[int, dict[str, object]]:
    return {e["id"]: e for e in history(ws, local_administrator(ws, "auditor"), limit=10_000)}


def _search_events(ws: Workspace) -> dict[int, dict[str, object]]:
    with ws.db.reader() as s:
        rows = s.execute(select(CustodyEvent).where(CustodyEvent.object_type == "search")).scalars()
        events = [(int(e.object_id), json.loads(e.details)) for e in rows]
    ids = [i for i, _ in events]
    assert len(ids) == len(set(ids)), "a search recorded twice in the ledger"
    return dict(events)


SEARCH_THEN_DIE = """
import json, os, signal, sys
from amanah.access import local_administrator
from amanah.search import searchlog
from amanah.search.service import search
from amanah.workspace import open_workspace

searchlog.DELAY_SECONDS = 3600.0  # the drainer would apply it later: the crash comes first
ws = open_workspace(sys.argv[1])
r = search(ws, local_administrator(ws, "analyst:crash"), sys.argv[2], limit=5)
print(json.dumps({"id": r.search_id, "shown": [h.item_id for h in r.hits]}), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_search_killed_right_after_it_returns_is_in_the_log_and_the_ledger(home: Path) -> None:
    child = _child(home, SEARCH_THEN_DIE, "checkpoint")
    out, err = child.communicate(timeout=120)
    assert child.returncode == -signal.SIGKILL, err
    seen = json.loads(out)
    assert len(seen["shown"]) == 3
    journal = home / searchlog.JOURNAL
    assert journal.exists() and b'"checkpoint"' in journal.read_bytes()
    db_file = home / "amanah.db"
    if db_file.exists():  # SQLite: the database itself did not get it before the kill
        with sqlite3.connect(db_file) as raw:
            assert raw.execute("select count(*) from search_log").fetchone() == (0,)

    ws = open_workspace(home)  # opening applies the journal
    try:
        assert not journal.exists() or journal.stat().st_size == 0
        entry = _logged(ws)[seen["id"]]
        assert entry["actor"] == "analyst:crash"
        assert entry["query"] == "checkpoint"
        assert entry["shown"] == seen["shown"] and entry["hits"] == 3
        event = _search_events(ws)[seen["id"]]
        assert event["shown"] == seen["shown"] and event["action"] == "search"
        assert "checkpoint" not in json.dumps(event)  # a digest, not the words
        assert verify(ws, actor="t").ok
        # The next search gets the next id: none is given twice.
        again = search(ws, local_administrator(ws, "analyst:after"), "hospital", limit=1)
        assert again.search_id == seen["id"] + 1
    finally:
        ws.close()


SEARCH_FOREVER = """
import os, sys
from amanah.access import local_administrator
from amanah.search.service import search
from amanah.workspace import open_workspace

ws = open_workspace(sys.argv[1])
caller = local_administrator(ws, "analyst:loop")
words = ["checkpoint", "hospital", "market", "detention", "meeting"]
for i in range(100000):
    r = search(ws, caller, words[i % len(words)], limit=2)
    print(r.search_id, flush=True)
"""


def test_every_acknowledged_search_survives_a_kill_at_any_moment(sqlite_home: Path) -> None:
    """The drainer runs for real (commits batches while searches go on); SIGKILL from outside
    lands anywhere: in an append, in a commit, between them."""
    child = _child(sqlite_home, SEARCH_FOREVER)
    assert child.stdout is not None
    acknowledged = []
    for line in child.stdout:
        acknowledged.append(int(line))
        if len(acknowledged) == 40:
            break
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=60)
    ws = open_workspace(sqlite_home)
    try:
        logged, events = _logged(ws), _search_events(ws)
        assert set(acknowledged) <= set(logged)
        assert set(logged) == set(events)  # log and ledger agree, one event each
        assert sorted(logged) == list(range(1, len(logged) + 1))  # no id lost or doubled
        assert verify(ws, actor="t").ok
    finally:
        ws.close()


SEARCH_N_TIMES = """
import os, sys, time
from amanah.access import local_administrator
from amanah.search.service import search
from amanah.workspace import open_workspace

ws = open_workspace(sys.argv[1])
caller = local_administrator(ws, "analyst:" + sys.argv[2])
print("ready", flush=True)
while not os.path.exists(sys.argv[4]):  # both start searching together
    time.sleep(0.01)
for i in range(int(sys.argv[3])):
    print(search(ws, caller, ["checkpoint", "market"][i % 2], limit=1).search_id, flush=True)
ws.close()
"""


def test_two_processes_searching_one_home_never_share_an_id(sqlite_home: Path) -> None:
    """Each process remembers the journal as its last write left it and, when nothing changed
    since, takes the next id without reading the journal; a write, drain or copy by the other
    process changes the file, and it reads again. Two real processes at once: every id once,
    each in the log and the ledger once."""
    go = sqlite_home.parent / "go"
    children = [_child(sqlite_home, SEARCH_N_TIMES, n, "40", str(go)) for n in ("one", "two")]
    for child in children:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
    go.touch()
    said = {}
    for name, child in zip(("one", "two"), children, strict=True):
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err
        said[name] = [int(line) for line in out.split()]
    ids = said["one"] + said["two"]
    assert len(ids) == 80 and len(set(ids)) == 80, sorted(ids)
    assert said["one"] == sorted(said["one"]) and said["two"] == sorted(said["two"])
    ws = open_workspace(sqlite_home)
    try:
        logged, events = _logged(ws), _search_events(ws)
        assert set(logged) == set(ids) == set(events)
        assert {logged[i]["actor"] for i in said["two"]} == {"analyst:two"}
        assert verify(ws, actor="t").ok
    finally:
        ws.close()


DRAIN_THEN_DIE = """
import os, signal, sys
from amanah.access import local_administrator
from amanah.search import searchlog
from amanah.search.service import search
from amanah.workspace import open_workspace

searchlog.DELAY_SECONDS = 3600.0
ws = open_workspace(sys.argv[1])
for word in ["checkpoint", "hospital", "market", "meeting", "detention"]:
    search(ws, local_administrator(ws, "analyst:x"), word, limit=1)
journal = searchlog._journal(ws)
applied = journal._apply

def apply_then_die(records):
    applied(records)
    os.kill(os.getpid(), signal.SIGKILL)  # committed, the journal not yet removed

journal._apply = apply_then_die
journal.drain()
"""


def test_a_crash_between_commit_and_cleanup_applies_nothing_twice(sqlite_home: Path) -> None:
    child = _child(sqlite_home, DRAIN_THEN_DIE)
    _, err = child.communicate(timeout=120)
    assert child.returncode == -signal.SIGKILL, err
    assert (sqlite_home / searchlog.DRAINING).exists()
    ws = open_workspace(sqlite_home)
    try:
        assert not (sqlite_home / searchlog.DRAINING).exists()
        assert sorted(_logged(ws)) == [1, 2, 3, 4, 5]
        assert sorted(_search_events(ws)) == [1, 2, 3, 4, 5]
        assert verify(ws, actor="t").ok
    finally:
        ws.close()


def test_a_torn_line_and_a_bad_record_do_not_stop_the_others(sqlite_home: Path) -> None:
    journal = sqlite_home / searchlog.JOURNAL
    good = {
        "id": 1,
        "actor": "analyst:a",
        "at": "2026-12-01T10:00:00+00:00",
        "query": "hospital",
        "options": {"mode": "text", "sort": "relevance"},
        "hits": 1,
        "shown": [1],
        "duration_ms": 3.0,
        "request_id": None,
        "address": "",
        "query_hmac": "00" * 32,
        "query_length": 8,
        "audit": {},
    }
    bad = {"id": 2, "actor": "analyst:a"}  # written by a broken version: fields missing
    open_workspace(sqlite_home).close()  # the names key, which seals the journal's lines
    key = searchlog.journal_key(load_or_create_key(key_path(sqlite_home)))
    good, bad = searchlog.seal(key, good), searchlog.seal(key, bad)
    journal.write_bytes(
        (json.dumps(good) + "\n" + json.dumps(bad) + "\n" + '{"id": 3, "actor": "ana').encode()
    )
    ws = open_workspace(sqlite_home)
    try:
        assert set(_logged(ws)) == {1}
        rejected = (sqlite_home / searchlog.REJECTED).read_text()
        assert '"id": 2' in rejected and "KeyError" in rejected
        # The next search does not glue itself to the torn line, and takes the next id.
        r = search(ws, local_administrator(ws, "analyst:b"), "checkpoint", limit=1)
        assert r.search_id == 2
        assert _logged(ws)[2]["query"] == "checkpoint"
        assert verify(ws, actor="t").ok
    finally:
        ws.close()


def test_ids_follow_a_record_longer_than_the_journal_tail(tmp_path: Path, slow_drain: None) -> None:
    home = tmp_path / "home"
    write_default_config(home)
    ws = open_workspace(home)
    try:
        journal = searchlog._journal(ws)
        entry = {
            "actor": "analyst:a",
            "at": "2026-12-01T10:00:00+00:00",
            "query": "checkpoint " * 20_000,  # 220,000 characters: past the 64 KiB tail
            "options": {"mode": "text", "sort": "relevance"},
            "hits": 0,
            "shown": [],
            "duration_ms": 1.0,
            "request_id": None,
            "address": "",
            "query_hmac": "00" * 32,
            "query_length": 220_000,
            "audit": {},
        }
        first = journal.append(entry)
        second = journal.append({**entry, "query": "hospital"})
        assert (first, second) == (1, 2)
        logged = _logged(ws)
        assert logged[1]["query"] == entry["query"] and logged[2]["query"] == "hospital"
    finally:
        ws.close()


def test_a_protected_name_is_pseudonymised_in_the_journal_too(
    ws: Workspace, slow_drain: None
) -> None:
    admin = local_administrator(ws, "legal:a")
    with ws.db.session() as s:
        protected.add(s, admin, "Witness A", [NAME])
    found = search(ws, admin, f'"{NAME}"', limit=5)
    control = search(ws, admin, "market", limit=5)
    assert found.total == 1 and control.total == 1
    journal = (ws.home / searchlog.JOURNAL).read_bytes()  # not yet applied (slow drain)
    assert b"Khatib" not in journal and b"Ahmad" not in journal
    assert b'"\\"[Witness A]\\""' in journal and b'"market"' in journal
    log = _logged(ws)
    assert log[found.search_id]["query"] == '"[Witness A]"'
    assert log[control.search_id]["query"] == "market"  # a control: other words are kept
    events = json.dumps(_search_events(ws))
    assert "Khatib" not in events and "market" not in events


def test_history_is_current_and_still_filtered_by_need_to_know(
    ws: Workspace, slow_drain: None
) -> None:
    me = Caller(actor="analyst:me", compartments=frozenset({"default"}), role=Role.ANALYST)
    other = Caller(actor="analyst:other", compartments=frozenset({"default"}), role=Role.ANALYST)
    mine = search(ws, me, "checkpoint", limit=1).search_id
    theirs = search(ws, other, "hospital", limit=1).search_id
    seen = {e["id"]: e["actor"] for e in history(ws, me)}  # applied by the reader's barrier
    assert mine in seen and theirs not in seen
    assert set(seen.values()) == {"analyst:me"}
    assert {mine, theirs} <= {e["id"] for e in history(ws, local_administrator(ws, "a"))}


def test_concurrent_searches_share_commits_and_each_gets_its_own_id(ws: Workspace) -> None:
    caller = local_administrator(ws, "analyst:many")
    ids: list[int] = []
    lock = threading.Lock()

    def worker(word: str) -> None:
        for _ in range(10):
            sid = search(ws, caller, word, limit=1).search_id
            assert sid is not None
            with lock:
                ids.append(sid)

    threads = [threading.Thread(target=worker, args=(w,)) for w in ("checkpoint", "market") * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(ids) == list(range(1, 61))
    deadline = time.monotonic() + 30
    left = (ws.home / searchlog.JOURNAL, ws.home / searchlog.DRAINING)
    while any(_size(p) for p in left) and time.monotonic() < deadline:
        time.sleep(0.05)  # the drainer thread applies the journal by itself, no reader asks
    with ws.db.reader(barrier=False) as s:
        assert s.execute(select(func.count()).select_from(SearchLog)).scalar_one() == 60
    assert len(_search_events(ws)) == 60
    assert verify(ws, actor="t").ok


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def test_after_a_drain_the_next_search_appends_to_a_journal_already_on_disk(ws: Workspace) -> None:
    """The drain makes the fresh journal and flushes its name to the directory, off the search's
    path; a search then appends to that very file (it does not create one)."""
    caller = local_administrator(ws, "analyst:a")
    first = search(ws, caller, "checkpoint", limit=1).search_id
    searchlog._journal(ws).drain()
    journal = ws.home / searchlog.JOURNAL
    assert journal.exists() and journal.stat().st_size == 0
    assert not searchlog._journal(ws).pending()
    inode = journal.stat().st_ino
    second = search(ws, caller, "hospital", limit=1).search_id
    assert second == (first or 0) + 1
    # The drainer may have taken it already; if not, it is in the file the drain made.
    if _size(journal):
        assert journal.stat().st_ino == inode and b'"hospital"' in journal.read_bytes()
    assert _logged(ws)[second]["query"] == "hospital"


def test_no_result_leaves_before_its_record_is_on_disk(
    ws: Workspace, slow_drain: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record is written while the snippets are made; a slow disk delays the answer, it
    never lets the answer overtake the record."""
    append = searchlog.SearchJournal.append

    def slow_append(self: searchlog.SearchJournal, entry: dict[str, object]) -> int:
        time.sleep(0.5)  # a device that takes its time to flush
        return append(self, entry)

    monkeypatch.setattr(searchlog.SearchJournal, "append", slow_append)
    found = search(ws, local_administrator(ws, "analyst:a"), "checkpoint", limit=5)
    assert found.total == 3 and len(found.hits) == 3
    records = [json.loads(x) for x in (ws.home / searchlog.JOURNAL).read_bytes().splitlines()]
    assert [r["id"] for r in records] == [found.search_id]
    assert records[0]["shown"] == [h.item_id for h in found.hits]


def test_a_search_whose_record_cannot_be_written_shows_nothing(
    ws: Workspace, slow_drain: None
) -> None:
    """A journal that cannot take the record (here a folder where the file should be, as a
    full or failing disk would refuse the write) fails the search: no hit is shown unlogged."""
    caller = local_administrator(ws, "analyst:a")
    assert search(ws, caller, "market", limit=5).total == 1  # a control: the journal works
    searchlog._journal(ws).drain()
    journal = ws.home / searchlog.JOURNAL
    journal.unlink(missing_ok=True)
    journal.mkdir()
    try:
        with pytest.raises(searchlog.SearchJournalError, match="could not be recorded"):
            search(ws, caller, "checkpoint", limit=5)
    finally:
        journal.rmdir()
    assert [e["query"] for e in _logged(ws).values()] == ["market"]


def test_a_close_landing_between_the_drainers_wait_and_its_clear_still_stops_it(
    ws: Workspace,
) -> None:
    """`close` sets the stop and the wake-up, then joins the drainer. Landing just after the
    drainer's pause and just before it clears the wake-up, it lost the wake-up and the join
    waited for ever (seen: an `amanah search` that never exited). Here close's two sets are
    made exactly there, by the drainer's own clear."""
    journal = searchlog._journal(ws)

    class LateClose(threading.Event):
        def clear(self) -> None:
            journal._stop.set()  # what `close` does, at the worst moment
            super().set()
            super().clear()

    journal._due = LateClose()
    search(ws, local_administrator(ws, "analyst:a"), "checkpoint", limit=1)
    thread = journal._thread
    assert thread is not None
    thread.join(timeout=30)
    assert not thread.is_alive()
    journal.close()  # applies what is left; returns at once
    assert len(_logged(ws)) == 1


def test_a_grouped_search_leaves_its_record_to_be_written_behind(
    sqlite_home: Path, slow_drain: None
) -> None:
    """The search page groups duplicates after the search: that step reads no log, so it
    must not apply the journal itself (one commit and signed checkpoint per search, which the
    journal exists to share). With the drainer held back, nothing is applied until a barrier."""
    ws = open_workspace(sqlite_home)
    try:
        analyst = local_administrator(ws, "analyst")
        for group in (False, True):
            r = search(ws, analyst, "checkpoint", limit=2, facets=True, group=group)
            assert r.total == 3 and r.documents == (3 if group else None)
        con = sqlite3.connect(sqlite_home / "amanah.db")
        try:
            assert con.execute("SELECT count(*) FROM search_log").fetchone()[0] == 0
        finally:
            con.close()
    finally:
        ws.close()
    ws = open_workspace(sqlite_home)
    try:
        assert len(_logged(ws)) == 2  # nothing lost: closing applied both
    finally:
        ws.close()
