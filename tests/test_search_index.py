"""The word index outside the database (tantivy, the embedded default): fed by one writer as
items are processed, never searched around after a restriction change, checked by `verify`,
whole after a kill -9 in the middle of indexing, and moved to from FTS5 by `reindex`."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import tantivy
from sqlalchemy import select, text, update

from amanah.access import Caller
from amanah.config import CONFIG_NAME, load_settings, write_default_config
from amanah.db.models import SearchDoc
from amanah.search import engine, index, request, tantivy_index
from amanah.search.index import SAFETY_NET, IndexOutdated, check_index
from amanah.search.query import parse
from amanah.search.service import search
from amanah.search.tantivy_index import IndexBehind
from amanah.workspace import Workspace, open_workspace
from tests.conftest import amanah
from tests.test_search import OPEN_DOCS, PROTECTED_DOCS, build_corpus, use_backend

OUTSIDER = Caller(actor="analyst:open", compartments=frozenset({"default"}))
SEALED = Caller(actor="analyst:sealed", compartments=frozenset({"sealed"}))
WITNESS = Caller(actor="analyst:w", compartments=frozenset({"witness-protection"}))
ALL_DOCS = len(OPEN_DOCS) + len(PROTECTED_DOCS)


def _flat(out: str) -> str:
    """Console output on one line (rich wraps long lines at the terminal's width)."""
    return " ".join(out.split())


@pytest.fixture(scope="module")
def corpus_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite home on the default backend with the corpus processed (and closed), built once
    per module: ingesting and processing it (vectors included) is most of each test's time."""
    tmp = tmp_path_factory.mktemp("index-corpus")
    home = tmp / "home"
    write_default_config(home)
    build_corpus(home, tmp).close()
    return home


@pytest.fixture
def home(corpus_template: Path, tmp_path: Path) -> Iterator[Path]:
    """A private copy of the processed home (its database, blobs and tantivy index, as the
    processing run left them): each test changes its own."""
    home = tmp_path / "home"
    shutil.copytree(corpus_template, home, symlinks=True)
    yield home


def _num_docs(ws: Workspace) -> int:
    idx = tantivy_index.open_index(ws)
    idx.index.reload()
    return int(idx.index.searcher().num_docs)


def _fts_hits(ws: Workspace, word: str) -> int:
    with ws.db.reader() as s:
        q = text("SELECT count(*) FROM search_fts WHERE search_fts MATCH :w")
        return int(s.execute(q, {"w": f'stem : "{word}"'}).scalar() or 0)


def test_the_default_is_tantivy_on_sqlite_and_the_database_on_postgresql(tmp_path: Path) -> None:
    sqlite_home, pg_home = tmp_path / "a", tmp_path / "b"
    write_default_config(sqlite_home)
    write_default_config(pg_home, "postgresql+psycopg://u@localhost/db")
    assert 'search_backend = "default"' in (sqlite_home / CONFIG_NAME).read_text()
    assert load_settings(sqlite_home).search_backend == "tantivy"
    assert load_settings(pg_home).search_backend == "database"
    config = sqlite_home / CONFIG_NAME
    # What older homes wrote means the default now (they move over); fts5 stays selectable.
    for value, resolved in (("database", "tantivy"), ("fts5", "database"), ("tantivy", "tantivy")):
        config.write_text(
            config.read_text().replace('search_backend = "default"', f'search_backend = "{value}"')
        )
        assert load_settings(sqlite_home).search_backend == resolved, value
        config.write_text(
            config.read_text().replace(f'search_backend = "{value}"', 'search_backend = "default"')
        )


def test_processing_feeds_the_index_and_writes_no_fts5_terms(home: Path) -> None:
    ws = open_workspace(home)
    try:
        # Before any search: the processing run's writer made and fed the index.
        assert tantivy_index.exists(ws)
        assert tantivy_index.pending(ws) == 0
        assert _num_docs(ws) == ALL_DOCS
        assert check_index(ws) == []
        # FTS5 holds nothing: tantivy and the snippets need only search_docs and the text.
        assert _fts_hits(ws, "checkpoint") == 0
        r = search(ws, OUTSIDER, "checkpoint")
        assert r.backend == "tantivy" and r.total == 2
    finally:
        ws.close()


def test_a_compartment_change_is_in_the_index_before_the_command_returns(home: Path) -> None:
    proc = amanah(home, "collection", "set", "open-handover", "--compartment", "sealed")
    assert proc.returncode == 0, proc.stderr
    ws = open_workspace(home)
    try:
        # The command applied its own changes: nothing is left for a search to apply.
        assert tantivy_index.pending(ws) == 0
        with ws.db.reader() as s:
            req = request.build(s, OUTSIDER, parse("مدرسة"))
            found = engine.backend(ws, s).search(s, req)
            assert (found.total, found.rows) == (0, [])
            sealed = request.build(s, SEALED, parse("مدرسة"))
            assert engine.backend(ws, s).search(s, sealed).total == 3
        assert search(ws, OUTSIDER, "مدرسة", facets=True).total == 0
        assert search(ws, SEALED, "مدرسة").total == 3
    finally:
        ws.close()
    out = amanah(home, "search", "مدرسة", "--json")
    assert out.returncode == 0, out.stderr  # the local administrator holds every compartment


def test_a_search_applies_a_small_remainder_but_refuses_a_backlog(home: Path) -> None:
    ws = open_workspace(home)
    try:
        with ws.db.session() as s:
            ids = list(s.execute(select(SearchDoc.item_id)).scalars())
            s.execute(update(SearchDoc).values(compartment="sealed"))
        assert tantivy_index.pending(ws) == ALL_DOCS
        # A small remainder: applied by the search itself, never searched around.
        assert search(ws, OUTSIDER, "مدرسة").total == 0
        assert tantivy_index.pending(ws) == 0
        with ws.db.session() as s:
            rows = [{"i": ids[n % len(ids)]} for n in range(SAFETY_NET + 1)]
            s.execute(text("INSERT INTO search_outbox (item_id) VALUES (:i)"), rows)
        with pytest.raises(IndexBehind, match=f"behind the database by {SAFETY_NET + 1:,}"):
            search(ws, SEALED, "مدرسة")
    finally:
        ws.db.dispose()  # not ws.close(): the backlog stays for the command line
    proc = amanah(home, "search", "مدرسة")
    assert proc.returncode == 2
    assert (
        f"error: the search index is behind the database by {SAFETY_NET + 1:,} changes; they"
        " are applied by `amanah process` (or a running `amanah serve`): wait for it, or run"
        " `amanah reindex`"
    ) in _flat(proc.stderr)
    assert "Traceback" not in proc.stderr


def test_verify_names_an_index_that_is_behind(home: Path) -> None:
    clean = amanah(home, "verify", "--no-fixity")
    assert clean.returncode == 0, clean.stdout  # negative control
    assert "search index" not in clean.stdout
    ws = open_workspace(home)
    with ws.db.session() as s:
        item = s.execute(select(SearchDoc.item_id).order_by(SearchDoc.item_id)).scalars().first()
        s.execute(text("INSERT INTO search_outbox (item_id) VALUES (:i)"), {"i": item})
    ws.db.dispose()
    proc = amanah(home, "verify", "--no-fixity")
    assert proc.returncode == 1
    assert (
        f"FAIL search index: behind the database by 1 queued changes (items {item}): run"
        " `amanah process` or `amanah reindex`" in _flat(proc.stdout)
    )
    # The command's own close applied it: verify is clean again.
    assert amanah(home, "verify", "--no-fixity").returncode == 0


def test_verify_names_items_the_index_should_not_hold(home: Path) -> None:
    ws = open_workspace(home)
    try:
        with ws.db.reader() as s:
            first, second = s.execute(
                select(SearchDoc.item_id).order_by(SearchDoc.item_id).limit(2)
            ).scalars()
        # Changes the database does not feed (its feed row removed): the index keeps the old.
        with ws.db.session() as s:
            s.execute(text("DELETE FROM search_feeds"))
            s.execute(
                update(SearchDoc).where(SearchDoc.item_id == first).values(compartment="sealed")
            )
            s.execute(text("DELETE FROM search_texts WHERE item_id = :i"), {"i": second})
            s.execute(text("DELETE FROM search_docs WHERE item_id = :i"), {"i": second})
        problems = check_index(ws)
    finally:
        ws.db.dispose()
    assert problems == [
        "search index: the database does not feed it (no search_feeds row), so changes since"
        " are missing: run `amanah reindex`",
        f"search index: holds 1 item not searchable in the database: {second}",
        f"search index: holds 1 item under another compartment or provider than the database:"
        f" {first}",
    ]
    proc = amanah(home, "verify", "--no-fixity")
    assert proc.returncode == 1
    assert f"FAIL search index: holds 1 item not searchable in the database: {second}" in _flat(
        proc.stdout
    )
    assert amanah(home, "reindex", "--quiet").returncode == 0
    assert amanah(home, "verify", "--no-fixity").returncode == 0


CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from amanah.search import tantivy_index
    from amanah.workspace import open_workspace

    where, after = sys.argv[1], int(sys.argv[2])
    calls = 0

    def kill_at(name):
        real = getattr(tantivy_index, name)

        def wrapped(*args, **kw):
            global calls
            calls += 1
            if calls == after:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*args, **kw)

        setattr(tantivy_index, name, wrapped)

    # "_document": while documents are being added (deletes done, nothing committed);
    # "delete": right after a commit, before its outbox rows are deleted.
    kill_at(where)
    tantivy_index.BATCH = 3
    ws = open_workspace(sys.argv[3])
    tantivy_index.rebuild(ws) if sys.argv[4] == "rebuild" else tantivy_index.catch_up(ws, batch=3)
    print("finished")
    """
)


@pytest.mark.parametrize(
    ("where", "after", "how"),
    [("_document", 5, "rebuild"), ("delete", 3, "rebuild"), ("_document", 8, "catch_up")],
)
def test_kill_9_in_the_middle_of_indexing_loses_nothing_and_adds_nothing(
    home: Path, where: str, after: int, how: str
) -> None:
    ws = open_workspace(home)
    try:
        with ws.db.session() as s:  # every item changed: all re-indexed, three a batch
            s.execute(update(SearchDoc).values(compartment="sealed"))
        child = subprocess.run(
            [sys.executable, "-c", CHILD, where, str(after), str(home), how],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert child.returncode == -signal.SIGKILL, child.stderr
        assert "finished" not in child.stdout
        assert tantivy_index.pending(ws) > 0  # it died with work left
        # The restart: the next writer applies what is left, from the outbox.
        restart = subprocess.run(
            [sys.executable, "-c", CHILD, where, "0", str(home), "catch_up"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert restart.returncode == 0, restart.stderr
        assert tantivy_index.pending(ws) == 0
        assert check_index(ws) == []  # none missing, none extra, none twice, none stale
        assert _num_docs(ws) == ALL_DOCS
        assert search(ws, OUTSIDER, "مدرسة").total == 0
        assert search(ws, SEALED, "مدرسة").total == 4  # the protected item's moved too
    finally:
        ws.close()


def test_an_fts5_home_moves_over_with_reindex(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    write_default_config(home)
    use_backend(home, "fts5")
    ws = build_corpus(home, tmp_path)
    try:
        assert search(ws, OUTSIDER, "checkpoint").backend == "sqlite-fts5"
        assert not tantivy_index.exists(ws)
        assert _fts_hits(ws, "checkpoint") == 2
    finally:
        ws.close()
    config = home / CONFIG_NAME
    config.write_text(config.read_text().replace('"fts5"', '"default"'))
    # A search does not build a large home's index: it says which command does.
    monkeypatch.setattr(index, "SAFETY_NET", ALL_DOCS - 1)
    ws = open_workspace(home)
    try:
        with pytest.raises(IndexBehind) as err:
            search(ws, OUTSIDER, "checkpoint")
        assert str(err.value) == (
            f"the search index (tantivy) has not been built for this home's {ALL_DOCS} items:"
            " run `amanah reindex`"
        )
        assert not tantivy_index.exists(ws)
    finally:
        ws.close()
    assert not tantivy_index.folder_of(ws).exists()  # nor does the command's close
    monkeypatch.undo()
    proc = amanah(home, "verify", "--no-fixity")
    assert proc.returncode == 1
    assert (
        f"FAIL search index: the tantivy index is missing ({ALL_DOCS} searchable items are not"
        " in it): run `amanah reindex`" in _flat(proc.stdout)
    )
    assert f"indexed {ALL_DOCS} items" in amanah(home, "reindex", "--quiet", check=True).stdout
    assert amanah(home, "verify", "--no-fixity").returncode == 0
    ws = open_workspace(home)
    try:
        assert _fts_hits(ws, "checkpoint") == 0  # the old terms are gone, none written
        r = search(ws, OUTSIDER, "checkpoint")
        assert (r.backend, r.total) == ("tantivy", 2)
    finally:
        ws.close()
    # And back: FTS5 is refused until reindexed (its terms were not written), then works.
    config.write_text(config.read_text().replace('"default"', '"fts5"'))
    ws = open_workspace(home)
    try:
        with pytest.raises(IndexOutdated, match="run `amanah reindex`"):
            search(ws, OUTSIDER, "checkpoint")
    finally:
        ws.close()
    amanah(home, "reindex", "--quiet", check=True)
    ws = open_workspace(home)
    try:
        assert search(ws, OUTSIDER, "checkpoint").total == 2
    finally:
        ws.close()


def test_did_you_mean_offers_close_words_only_from_items_the_caller_may_see(
    home: Path,
) -> None:
    ws = open_workspace(home)
    try:
        assert engine.suggest(ws, OUTSIDER, "مدرصة") == ["مدرسه"]
        assert engine.suggest(ws, OUTSIDER, "checkpont") == ["checkpoint"]
        # سري occurs only in the protected collection: never suggested outside it.
        assert engine.suggest(ws, OUTSIDER, "السزي") == []
        assert engine.suggest(ws, WITNESS, "السزي") == ["سري"]
        assert engine.suggest(ws, Caller(actor="x", compartments=frozenset()), "مدرصة") == []
        assert engine.suggest(ws, OUTSIDER, "checkpoint") == []  # the word itself is no typo
    finally:
        ws.close()
    config = home / CONFIG_NAME
    config.write_text(config.read_text().replace('"default"', '"fts5"'))
    amanah(home, "reindex", "--quiet", check=True)
    ws = open_workspace(home)
    try:
        # FTS5 suggests too, from its own vocabulary, inside the caller's scope.
        assert engine.suggest(ws, OUTSIDER, "checkpont") == ["checkpoint"]
        assert engine.suggest(ws, OUTSIDER, "السزي") == []
        assert engine.suggest(ws, WITNESS, "السزي") == ["سري"]
    finally:
        ws.close()


def test_an_index_entry_is_upserted_by_item_id(home: Path) -> None:
    """Queued twice, applied twice: one document per item (tantivy's own view)."""
    ws = open_workspace(home)
    try:
        with ws.db.session() as s:
            item = s.execute(select(SearchDoc.item_id)).scalars().first()
            for _ in range(3):
                s.execute(text("INSERT INTO search_outbox (item_id) VALUES (:i)"), {"i": item})
        assert tantivy_index.catch_up(ws) == 3
        assert tantivy_index.catch_up(ws) == 0
        idx = tantivy_index.open_index(ws)
        idx.index.reload()
        q = tantivy.Query.term_query(idx.schema, "item_id", item)
        assert idx.index.searcher().search(q, 10, count=True).count == 1
    finally:
        ws.close()
