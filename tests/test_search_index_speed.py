"""The index writer's faster paths give the same answers as the plain ones: the analysis of
tokens not remembered, folded many at a time, is the analyzer's, even where neighbouring
tokens could leak into each other (final sigma, marks, what NFKD splits); and `verify`'s
index check, walking the index and the database a chunk at a time, names the same faults
whatever the chunk, across chunk boundaries too."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from amanah.db.models import SearchDoc
from amanah.search import bulk_terms, tantivy_check, tantivy_index
from amanah.text.analyzer import analyze
from amanah.workspace import open_workspace
from tests.test_search_index import corpus_template, home  # noqa: F401  (the fixtures)

NEIGHBOURS = [
    ["ΑΣ", "Β"],  # a final sigma: the next token must not make it medial
    ["Α", "ΣΑ"],
    ["ΑΣ", "\u0301Β"],  # a mark opening the next token: no reordering across tokens
    ["\u0301", "\u0308", "a"],  # tokens that fold to nothing
    ["ﷺ", "ﬁx", "½"],  # NFKD makes several words, or spaces, of one character
    ["x_y", "'quoted'", "«مقتبس»", "٣٤", "İstanbul"],
    ["كـــتـــاب", "\u200cزرد\u200d", "والكتاب،", "a" * 70, "ب" * 70],
]


@pytest.mark.parametrize("tokens", NEIGHBOURS)
def test_tokens_folded_together_give_the_analyzer_s_terms(
    tokens: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk_terms, "_memo", {})  # every token missed: all folded in one call
    text_ = " ".join(tokens)
    want = analyze(text_)
    assert bulk_terms.joined(text_) == (" ".join(want.exact), " ".join(want.stem))
    for token in tokens:
        one = analyze(token)
        assert bulk_terms._memo.get(token, (" ".join(one.exact), " ".join(one.stem))) == (
            " ".join(one.exact),
            " ".join(one.stem),
        )


def test_the_chunked_check_names_the_same_faults_at_every_chunk_size(
    home: Path,  # noqa: F811
) -> None:
    ws = open_workspace(home)
    try:
        with ws.db.reader() as s:
            ids = list(s.execute(select(SearchDoc.item_id).order_by(SearchDoc.item_id)).scalars())
        first, second, late, last = ids[0], ids[1], ids[-2], ids[-1]
        assert tantivy_check.check(ws, chunk=1) == []  # negative control: a whole index
        idx = tantivy_index.open_index(ws)
        with idx.lock():  # the last item lost from the index: after the index's last id
            writer = idx.index.writer(tantivy_index.HEAP, 1)
            writer.delete_documents_by_term("item_id", last)
            writer.commit()
            writer.wait_merging_threads()
        with ws.db.session() as s:  # changes the index is not fed: it keeps the old
            s.execute(text("DELETE FROM search_feeds"))
            s.execute(
                update(SearchDoc).where(SearchDoc.item_id == first).values(compartment="sealed")
            )
            for gone in (second, late):
                s.execute(text("DELETE FROM search_texts WHERE item_id = :i"), {"i": gone})
                s.execute(text("DELETE FROM search_docs WHERE item_id = :i"), {"i": gone})
        want = [
            "search index: the database does not feed it (no search_feeds row), so changes"
            " since are missing: run `amanah reindex`",
            f"search index: holds 2 items not searchable in the database: {second}, {late}",
            "search index: holds 1 item under another compartment or provider than the"
            f" database: {first}",
            f"search index: misses 1 item searchable in the database: {last}",
        ]
        for chunk in (1, 2, 3, len(ids), 10**6):
            assert tantivy_check.check(ws, chunk=chunk) == want, chunk
    finally:
        ws.db.dispose()
