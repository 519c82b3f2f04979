"""Adversary tests of the last two stops' surfaces: the search journal written behind (a process
killed between its append and its drain, a full disk, the journal replaced, forged or made a
folder, a protected name searched for); snippets of hostile texts (no white space, a hit far
in, marks and controls around it, markup); a PDF plan of hostile pages; and the year-received
facet, totals, suggestions and collection counts seen from another compartment or for a
person who withdrew consent. Each finding's test failed on the code before its fix; the tests
of what held are kept as guards, each with a negative control.

The site is the web tests' workspace (tests/webfixtures.py): built once per worker, copied per
test; the analyst holds the blue compartment, "Witness Z" is a protected person whose name is
"Zaid Nobody-Here"."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update

from amanah.access import local_administrator
from amanah.db.models import CustodyEvent, Item, SearchLog
from amanah.intake.ingest import IntakeRequest, ingest
from amanah.processing import ocrplan
from amanah.processing.runner import run
from amanah.search import searchlog, snippets
from amanah.search.query import parse
from amanah.search.service import search
from amanah.sharing import person_consent
from amanah.workspace import open_workspace
from tests.conftest import REPO, amanah, missing_engine
from tests.servers import start_serve, stop_process
from tests.webfixtures import BLUE, Site

NAME = "Zaid Nobody-Here"


def _searches(site: Site) -> dict[int, SearchLog]:
    with site.ws.db.reader() as s:
        return {r.id: r for r in s.execute(select(SearchLog)).scalars()}


def _search_events(site: Site) -> list[CustodyEvent]:
    with site.ws.db.reader() as s:
        return list(
            s.execute(select(CustodyEvent).where(CustodyEvent.object_type == "search")).scalars()
        )


@contextmanager
def _drain_held(home: Path) -> Iterator[None]:
    """The journal's drain lock held from outside: every drain of the home waits."""
    fd = os.open(home / "search-journal.drain-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


# -- 1. the search journal -------------------------------------------------------------------


def test_a_server_killed_between_the_journal_and_the_drain_loses_and_doubles_nothing(
    site: Site, tmp_path: Path
) -> None:
    """Guard. `amanah serve` answers a search (its record in the journal, the drain held from
    outside), then SIGKILL: the home reopened holds the search once in the log, once in the
    ledger, and `amanah verify` passes. Negative control: before the reopening, the database
    did not have it (the journal alone did)."""
    home = site.ws.home
    site.ws.close()
    proc, base = start_serve(home, log_path=tmp_path / "serve.log")
    try:
        with _drain_held(home):
            r = httpx.get(f"{base}/api/v1/search", params={"q": "checkpoint"},
                          headers={"Authorization": f"Bearer {site.tokens['analyst']}"},
                          timeout=120)  # fmt: skip
            assert r.status_code == 200, r.text
            search_id = r.json()["search_id"]
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(30)
            journal = (home / searchlog.JOURNAL).read_bytes()
            assert f'"id": {search_id},'.encode() in journal
            with sqlite3.connect(home / "amanah.db") as raw:
                found = raw.execute("select count(*) from search_log where id = ?", (search_id,))
                assert found.fetchone() == (0,)  # the database did not have it yet
    finally:
        if proc.poll() is None:
            stop_process(proc)
    ws = open_workspace(home)
    try:
        with ws.db.reader() as s:
            logged = s.execute(select(SearchLog.id).where(SearchLog.id == search_id)).all()
            events = s.execute(
                select(CustodyEvent.seq).where(
                    CustodyEvent.object_type == "search", CustodyEvent.object_id == str(search_id)
                )
            ).all()
        assert (len(logged), len(events)) == (1, 1)
    finally:
        ws.close()
    verified = amanah(home, "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def _forged(search_id: int, **fields: object) -> str:
    record = {
        "id": search_id,
        "actor": "web:legal",
        "at": "2020-01-01T00:00:00+00:00",
        "query": "forged words",
        "options": {},
        "hits": 0,
        "shown": [6],
        "duration_ms": 1.0,
        "request_id": None,
        "address": "",
        "query_hmac": "00" * 32,
        "query_length": 12,
        "audit": {},
        **fields,
    }
    return json.dumps(record) + "\n"


def test_a_journal_line_the_process_did_not_write_is_never_applied(site: Site) -> None:
    """Finding: any line of the journal that parsed was applied: a forged search (another
    actor, words never typed, a red item "shown") went into the search log and was signed into
    the custody ledger, and a forged id of 2**70 made every later search's id overflow (each
    then set aside, never recorded). Now each line is sealed under a key derived from the
    names key: a line without a true seal is set aside, said, and applied never."""
    home = site.ws.home
    real = search(site.ws, local_administrator(site.ws, "analyst:real"), "checkpoint")
    site.ws.close()
    journal = home / searchlog.JOURNAL
    sealed_copy = None
    with journal.open("a", encoding="utf-8") as f:
        f.write(_forged(real.search_id + 1))
        f.write(_forged(2**70, actor="web:admin"))
        f.write('{"id": 9, "seal": "00", "actor": "web:x"}\n')
        f.write("garbage that is not json\n")
        f.write('{"id": 10, "actor": "tor')  # a torn last line
    ws = open_workspace(home)
    try:
        with ws.db.reader() as s:
            actors = set(s.execute(select(SearchLog.actor)).scalars())
            words = set(s.execute(select(SearchLog.query)).scalars())
            signed = {e.actor for e in s.execute(select(CustodyEvent)).scalars()}
        assert "forged words" not in words and not {"web:legal", "web:admin"} & actors
        assert not {"web:legal", "web:admin", "web:x"} & signed
        rejected = (home / searchlog.REJECTED).read_text(encoding="utf-8")
        assert rejected.count("not sealed by this home") == 3
        # The next search takes the next id after the real one, and is recorded.
        nxt = search(ws, local_administrator(ws, "analyst:next"), "river")
        assert nxt.search_id == real.search_id + 1
        with ws.db.reader() as s:
            assert s.get(SearchLog, nxt.search_id).actor == "analyst:next"  # type: ignore[union-attr]
        # Negative control: a line sealed with the home's key (as the process writes) applies.
        sealed_copy = searchlog.seal(
            searchlog._journal(ws)._key,
            json.loads(_forged(nxt.search_id + 1, actor="analyst:sealed")),
        )
    finally:
        ws.close()
    journal.write_text(json.dumps(sealed_copy) + "\n", encoding="utf-8")
    ws = open_workspace(home)
    try:
        with ws.db.reader() as s:
            assert s.get(SearchLog, nxt.search_id + 1).actor == "analyst:sealed"  # type: ignore[union-attr]
    finally:
        ws.close()
    assert amanah(home, "verify").returncode == 0


def test_a_link_or_a_folder_in_the_journals_place_is_set_aside_never_written_through(
    site: Site, tmp_path: Path
) -> None:
    """Finding: the journal was opened following links: replaced by a symbolic link while a
    process ran, its searches were appended to the link's target (a file outside the home);
    a folder put in its place made every command of the home end in a traceback
    (IsADirectoryError, at opening). Now the journal is opened without following a link and
    only as a regular file: the search is refused clearly, and the next drain moves the link
    or folder aside (its target untouched); searches then go on."""
    home, ws = site.ws.home, site.ws
    journal = home / searchlog.JOURNAL
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"")  # empty: the journal looked drained
    search(ws, local_administrator(ws), "river")  # the journal exists
    with ws.db.reader():  # its record applied: the journal is empty
        pass
    journal.unlink()
    journal.symlink_to(victim)
    after = search(ws, local_administrator(ws, "analyst:after"), "checkpoint")
    assert victim.read_bytes() == b"" and not journal.is_symlink()
    assert _searches(site)[after.search_id].actor == "analyst:after"
    # Put back between a reader's look and the append: the append refuses, clearly.
    journal.unlink()
    journal.symlink_to(victim)
    with pytest.raises(searchlog.SearchJournalError, match="symbolic link") as refused:
        searchlog._journal(ws).append({"actor": "analyst:through"})
    assert str(home) not in str(refused.value)  # a web page shows it: no path of the server
    assert victim.read_bytes() == b""
    ws.close()
    # A folder in its place: the home opens, the folder is moved aside, commands work.
    journal.unlink()
    journal.mkdir()
    (journal / "x").write_text("x")
    proc = amanah(home, "search", "checkpoint")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "1 items" in proc.stdout
    assert [p for p in home.iterdir() if "not-a-journal" in p.name]
    # Negative control: the regular journal is used as before.
    assert journal.is_file() and not journal.is_symlink()


FULL_DISK = r"""
set -u
M="$1"; HOME_COPY="$2"; FREE_KB="$3"; O="$4"
mount -t tmpfs -o size=8m tmpfs "$M" || exit 77
cp -a "$HOME_COPY" "$M/h"
printf '{"record": {"id": 0}, "reason": "an earlier one"}\n' > "$M/h/search-journal.rejected"
A() { "$PYEXE" -m amanah.cli --home "$M/h" "$@"; }
A search witness > /dev/null 2>&1
dd if=/dev/zero of="$M/fill" bs=4k 2>/dev/null
truncate -s "-${FREE_KB}K" "$M/fill"
A search checkpoint > "$O/out" 2> "$O/err"; echo "rc=$?"
echo "--out"; cat "$O/out"; echo "--err"; cat "$O/err"
rm -f "$M/fill"
echo "--log"; A searches --json --limit 100
echo "--verify"; A verify > /dev/null 2>&1; echo "verify=$?"
"""


@pytest.mark.parametrize("free_kb", [32, 44, 56])
def test_a_full_disk_while_searching_fails_clearly_or_still_records(
    site: Site, tmp_path: Path, free_kb: int
) -> None:
    """Finding: on a disk almost full, the journal's append failed with a traceback
    (OSError: No space left on device); with a little more room, the search was shown, its
    record's commit failed ("database or disk is full") and the record was set aside in
    search-journal.rejected as if it were bad: never in the log nor the ledger once the disk
    had room again. Now a failed append is a clear error (exit 1, no results), and a database
    that cannot take the batch keeps it in the journal for the next reader. A small tmpfs in
    a user namespace of its own; each amount of free room must end one of the two ways."""
    if shutil.which("unshare") is None:
        missing_engine("unshare is not installed (Debian: util-linux): no tmpfs of our own to fill")
    site.ws.close()
    mount = tmp_path / "mnt"
    mount.mkdir()
    script = tmp_path / "full.sh"
    script.write_text(FULL_DISK)
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYEXE": sys.executable, "COLUMNS": "200"}
    proc = subprocess.run(
        ["unshare", "-rm", "sh", str(script), str(mount), str(site.ws.home), str(free_kb),
         str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip
    if proc.returncode == 77 or "unshare:" in proc.stderr:
        pytest.skip(f"no user namespace with a tmpfs here: {proc.stderr.strip()[:200]}")
    said = proc.stdout
    rc = int(said.split("rc=", 1)[1].split("\n", 1)[0])
    out = said.split("--out\n", 1)[1].split("--err\n", 1)[0]
    err = said.split("--err\n", 1)[1].split("--log\n", 1)[0]
    log = json.loads(said.split("--log\n", 1)[1].split("--verify\n", 1)[0])
    assert "Traceback" not in out + err, err[-2000:]
    queries = [e["query"] for e in log]
    if rc == 0:  # shown: so it is recorded, once, once the disk has room
        assert "search #2" in out and queries.count("checkpoint") == 1, (out, err, queries)
    else:  # refused: clearly, with nothing of the search shown
        assert "checkpoint near the river" not in out and "error:" in err, (out, err)
        assert "checkpoint" not in queries
    assert "verify=0" in said, said[-2000:]


def test_a_protected_name_searched_for_is_never_in_the_journal_nor_the_database(
    site: Site,
) -> None:
    """Guard. The legal officer searches for a protected person's name; with the drain held,
    the journal's bytes hold the pseudonym, never a spelling; after the drain, neither do the
    database's bytes (file and WAL). Negative control: the pseudonym is there, so the bytes
    read are the record's."""
    home = site.ws.home
    legal = site.api("legal")
    with _drain_held(home):
        r = legal.get("/api/v1/search", params={"q": f'"{NAME}" OR checkpoint'})
        assert r.status_code == 200
        journal = (home / searchlog.JOURNAL).read_bytes()
    assert b"[Witness Z]" in journal
    for spelling in (NAME, "Zaid", "Nobody"):
        assert spelling.lower().encode() not in journal.lower()
    with site.ws.db.reader() as s:
        assert s.get(SearchLog, r.json()["search_id"]) is not None  # drained
    site.ws.close()
    for path in home.glob("amanah.db*"):
        data = path.read_bytes().lower()
        for spelling in (NAME, "Zaid", "Nobody"):
            assert spelling.lower().encode() not in data, path.name
    assert b"[witness z]" in (home / "amanah.db").read_bytes().lower()


# -- 2. snippets of hostile texts -------------------------------------------------------------


MB = 1_000_000
HOSTILE_TEXTS = [
    ("no white space for 1 MB, then the word", "x" * MB + " checkpoint", "checkpoint"),
    ("Arabic without white space for 1 MB", "ب" * MB + " checkpoint", "checkpoint"),
    ("the word only past 200,000 characters", "word " * 60_000 + "checkpoint tail", "checkpoint"),
    ("the word only past 1 MB", "word " * 250_000 + "checkpoint tail", "checkpoint"),
    ("1 MB of combining marks", "\u0301" * MB + " checkpoint", "checkpoint"),
    ("RTL overrides around it", "the \u202echeckpoint\u202c here", "checkpoint"),
    ("zero-width joiners in it", "the \u200dcheckpoint\u200d here", "\u200dcheckpoint\u200d"),
    ("lone surrogates around it", "the \ud800checkpoint\udfff here", "checkpoint"),
    ("NUL bytes around it", "the \x00checkpoint\x00 here", "checkpoint"),
    ("markup around it", "<script>alert(1)</script> checkpoint <img src=x>", "checkpoint"),
]


@pytest.mark.parametrize(
    ("what", "body", "marked"), HOSTILE_TEXTS, ids=[t[0] for t in HOSTILE_TEXTS]
)
def test_a_hostile_texts_snippet_is_found_bounded_and_clean(
    what: str, body: str, marked: str
) -> None:
    """Guard. Each text holds the word once: the snippet marks it, in well under a second,
    its text is a snippet's width, and no control or direction override is left in it."""
    leaves = parse("checkpoint").terms()
    started = time.perf_counter()
    snip = snippets.make(body, leaves)
    took = time.perf_counter() - started
    assert took < 3, (what, took)
    assert [snip.text[a:b] for a, b in snip.highlights] == [marked], what
    assert len(snip.text) <= snippets.WIDTH + 40
    assert not any(c in snip.text for c in "\x00\u202e\u202c"), what


def test_a_word_glued_into_a_megabyte_and_a_word_cut_at_every_window_edge() -> None:
    """Guard. A word glued to a megabyte of letters is no word (nothing marked, as the index
    finds nothing); the word placed across each offset around the first window's cut is
    marked once, whole. Negative control: the same word alone is marked."""
    leaves = parse("checkpoint").terms()
    assert snippets.make("x" * MB + "checkpoint", leaves).highlights == []
    for at in range(snippets.FIRST - 12, snippets.FIRST + 12):
        body = "w" * at + " checkpoint" + " z" * 300
        snip = snippets.make(body, leaves)
        assert [snip.text[a:b] for a, b in snip.highlights] == ["checkpoint"], at
    alone = snippets.make("checkpoint", leaves)
    assert [alone.text[a:b] for a, b in alone.highlights] == ["checkpoint"]


def test_a_query_of_combining_marks_only_is_refused_clearly(site: Site) -> None:
    """Guard: no letter to search for is a clear 400 naming it, never a traceback or a 500.
    Negative control: a mark on a letter searches."""
    api = site.api("analyst")
    r = api.get("/api/v1/search", params={"q": "\u0301\u0301"})
    assert r.status_code == 400 and "no letters or digits" in r.json()["error"]
    assert api.get("/api/v1/search", params={"q": "rive\u0301r"}).status_code == 200


def test_markup_around_a_hit_is_shown_escaped_in_the_search_page(
    site: Site, tmp_path: Path
) -> None:
    """Guard. A plain text whose hit sits beside tags with an event handler: the search page
    shows them as text (escaped), the hit marked. Negative control: the hit's word is
    marked in the page, so the snippet is the one looked at."""
    folder = tmp_path / "markup"
    folder.mkdir()
    (folder / "note.txt").write_text(
        "Notes of the meeting: 1 < 2 and 3 > 2, as the witness typed them.\n"
        "the word zanzibar <b onmouseover=alert(1)>bold</b> <i>x</i>\n",
        encoding="utf-8",
    )
    ingest(site.ws, IntakeRequest(sources=[str(folder)], collection=BLUE, actor="local:test"))
    run(site.ws)
    c, _ = site.signed_in("analyst")
    page = c.get("/search", params={"q": "zanzibar"}).text
    assert "<b onmouseover" not in page and "<i>x</i>" not in page
    assert "&lt;b onmouseover=alert(1)&gt;" in page
    assert "<mark>zanzibar</mark>" in page


# -- 3. plans of hostile PDFs -----------------------------------------------------------------


def _pdf(pages: list[str], count: int | None = None) -> bytes:
    """A PDF of empty pages with these MediaBoxes; its /Count says `count` if given."""
    objs = ["<< /Type /Catalog /Pages 2 0 R >>", ""]
    kids = []
    for box in pages:
        kids.append(f"{len(objs) + 1} 0 R")
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [{box}] >>")
    objs[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {count or len(pages)} >>"
    out = b"%PDF-1.4\n"
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


@pytest.mark.parametrize(
    ("what", "boxes", "count"),
    [
        ("claims 100,000 pages, has 2", ["0 0 612 792", "0 0 612 792"], 100_000),
        ("a page of 1e9 points", ["0 0 1000000000 1000000000"], None),
        ("a page of zero size", ["0 0 0 0"], None),
        ("a page of negative size", ["0 0 -612 -792"], None),
    ],
)
def test_a_hostile_pdfs_plan_is_bounded_and_sane(
    tmp_path: Path, what: str, boxes: list[str], count: int | None
) -> None:
    """Guard. The plan reads at most `ocr.MAX_PAGES` pages, each page's pixels within
    (0, MAX_PAGE_PIXELS]; a count that lies plans nothing and says why. Negative control: a
    letter-size page plans one page of a typical cost."""
    path = tmp_path / "hostile.pdf"
    path.write_bytes(_pdf(boxes, count))
    started = time.perf_counter()
    plan = ocrplan.plan_task(str(path), str(tmp_path))
    assert time.perf_counter() - started < 10, what
    assert all(0 < p <= ocrplan.MAX_PAGE_PIXELS for p in plan["pixels"]), (what, plan)
    if count:
        assert plan["pages"] == [] and "cannot be loaded" in plan["problem"], plan
    else:
        assert len(plan["pages"]) <= 1, plan
    path.write_bytes(_pdf(["0 0 612 792"]))
    control = ocrplan.plan_task(str(path), str(tmp_path))
    assert control["pages"] == [1] and 8_000_000 < control["pixels"][0] < 9_000_000


# -- 4. counts across compartments and a withdrawn consent -----------------------------------


def _seen(site: Site, role: str, q: str, **params: str) -> dict[str, object]:
    r = site.api(role).get("/api/v1/search", params={"q": q, "facets": "true", **params})
    assert r.status_code == 200, r.text
    j = r.json()
    return {
        "total": j["total"],
        "hits": sorted(h["item_id"] for h in j["hits"]),
        "received": {v["value"]: v["count"] for v in j["facets"]["received"]},
        "collections": {v["value"]: v["count"] for v in j["facets"]["collection"]},
        "suggestion": (j.get("suggestion") or {}).get("query"),
    }


def test_the_year_received_of_another_compartments_items_is_not_counted(site: Site) -> None:
    """Guard. The red item was received in 2019, every blue one this year: the blue analyst's
    year-received facet, `received:2019` and its total say nothing of 2019, exactly as for a
    year nothing was received (2018); the suggestions for a slip of a red-only word say
    nothing. Negative control: the administrator (every compartment) sees 2019 counted and
    the red word suggested."""
    red = site.item("سري.txt")
    with site.ws.db.session() as s:
        s.execute(
            update(Item)
            .where(Item.id == red)
            .values(intake_at=datetime(2019, 6, 1, 10, tzinfo=UTC))
        )
    blue = _seen(site, "analyst", "*")
    assert 2019 not in blue["received"] and red not in blue["hits"]  # type: ignore[operator]
    for year in ("2019", "2018"):
        seen = _seen(site, "analyst", f"received:{year}")
        assert (seen["total"], seen["received"]) == (0, {}), year
    assert _seen(site, "analyst", "سريي")["suggestion"] is None
    admin = _seen(site, "admin", "*")
    assert admin["received"].get(2019) == 1  # type: ignore[union-attr]
    assert _seen(site, "admin", "received:2019")["hits"] == [red]
    assert _seen(site, "admin", "سريي")["suggestion"] == "سري"


def test_a_withdrawn_persons_items_are_in_no_count_the_analyst_sees(site: Site) -> None:
    """Guard. After Witness Z withdrew consent for the statement they are linked to: the blue
    analyst's totals, year-received and collection facets, grouped documents, suggestions and
    the blue collection's item count are those of the other four items, as if it were not
    there. Negative control: before the withdrawal the same asks counted it."""
    statement = site.item("statement-b.txt")
    analyst = site.api("analyst")

    def counts() -> tuple[object, ...]:
        everything = _seen(site, "analyst", "*")
        grouped = analyst.get("/api/v1/search", params={"q": "*", "group": "true"}).json()
        colls = {c["name"]: c["items"] for c in analyst.get("/api/v1/collections").json()}
        return (
            everything["total"],
            everything["received"],
            everything["collections"],
            grouped["documents"],
            _seen(site, "analyst", "chekpoint")["suggestion"],
            colls,
        )

    before = counts()
    assert before[0] == 5 and before[4] == "checkpoint" and before[5] == {BLUE: 5}
    admin = local_administrator(site.ws)
    with site.ws.db.session() as s:
        person_consent.link_item(s, admin, "Witness Z", statement)
        person_consent.withdraw(s, admin, "Witness Z")
    total, received, colls_facet, documents, suggestion, colls = counts()
    assert (total, documents, suggestion, colls) == (4, 4, None, {BLUE: 4})
    assert sum(received.values()) == 4 and sum(colls_facet.values()) == 4  # type: ignore[attr-defined]
