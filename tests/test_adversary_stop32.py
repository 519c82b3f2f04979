"""Adversary tests of the last stop's surfaces: the search journal's sealed lines (a whole journal
put back from an older copy, its permissions), the documents count among exact copies (copies
and withheld items outside the caller's need-to-know), and the web's warm sandboxes (a server
killed during a redaction). Each finding's test failed on the code before its fix; a guard
that held is kept where it adds something, with a negative control.

The site is the web tests' workspace (tests/webfixtures.py): the analyst holds the blue
compartment, "Witness Z" is a protected person whose name is "Zaid Nobody-Here"."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from sqlalchemy import func, select

from amanah.access import local_administrator
from amanah.db.models import CustodyEvent, SearchLog
from amanah.search import searchlog
from amanah.search.service import search
from amanah.workspace import Workspace, open_workspace
from tests.conftest import amanah
from tests.webfixtures import Site


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
