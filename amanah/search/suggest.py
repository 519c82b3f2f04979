"""Did you mean: close indexed words for the words of a query that find nothing.

The same mechanism on every backend, so the same data gives the same suggestions:

1. **candidates** from the backend's term dictionary of the analyzer's exact forms (tantivy's
   term dictionary, SQLite FTS5's `fts5vocab`, PostgreSQL's `ts_stat`): every word one edit
   away (a letter dropped, added, replaced, or two neighbours swapped, anywhere) looked up;
   and for words of six letters or more, the indexed words within two edits that share the
   first three letters;
2. **need-to-know**: a term dictionary knows nothing of compartments, so every candidate is
   counted again by the backend's own search (an `=word` query inside the caller's scope,
   the very query a search runs): a word that occurs only in items the caller may not see
   counts 0 and is never suggested. A protected name typed with one slip is not "corrected"
   for someone without its compartment, and not even its existence shows;
3. the nearest visible words win, then the most frequent among the caller's items.

`did_you_mean` does this for each word of a query that finds nothing the caller may see,
and writes the corrected query; `amanah.search.service.search` offers it (and, asked to,
runs it when the query as typed found nothing).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from rapidfuzz import process
from rapidfuzz.distance import OSA
from sqlalchemy import text
from sqlalchemy.orm import Session

from amanah.access import Caller, SearchScope, search_scope
from amanah.search.backends import _lexeme
from amanah.search.query import And, Node, Or, Query, Term, _lex
from amanah.search.request import FieldFilter, SearchBackend, SearchRequest
from amanah.text.analyzer import exact_form, stem_form, words

if TYPE_CHECKING:
    from amanah.search.tantivy_index import TantivySearch
    from amanah.workspace import Workspace

MIN_LEN = 3  # shorter words have too many neighbours to guess from
MAX_LEN = 40  # no word is this long; a hostile one must not cost a walk
FEW = 3  # a query with fewer hits than this is offered corrections
CHECK = 20  # candidates counted against the caller's scope, per word
MAX_WORDS = 8  # words of one query corrected: a query of a thousand words costs no more
LATIN = "abcdefghijklmnopqrstuvwxyz"
ARABIC = "".join(chr(c) for c in range(0x621, 0x64B))


@dataclass
class Correction:
    typed: str
    word: str
    #: Items the caller may see that hold the word.
    count: int


@dataclass
class Suggestion:
    """The query with its words corrected; `applied` when the results shown are its own."""

    query: str
    original: str
    corrections: list[Correction] = field(default_factory=list)
    applied: bool = False

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def withheld(s: Session) -> tuple[FieldFilter, ...]:
    """What a search applies besides the caller's scope (`request.build`), for counting
    candidates: the items of a person who withdrew consent for investigation are searched by
    no one, so a word only they hold is no suggestion (it would tell they hold it)."""
    from amanah.access import withheld_item_ids

    found = withheld_item_ids(s)
    return (FieldFilter("item", tuple(sorted(found)), True),) if found else ()


class Vocabulary(Protocol):
    """A backend's term dictionary of exact forms, with document frequencies over the whole
    index (not scoped: see the module's step 2), and the count inside a caller's scope."""

    def starting(self, prefix: str) -> list[tuple[str, int]]: ...

    def frequencies(self, terms: list[str]) -> dict[str, int]: ...

    def visible(self, scope: SearchScope, term: Term) -> int: ...


class SqlVocabulary:
    """A visible count is the backend's own search, need-to-know inside its SQL."""

    def __init__(self, backend: SearchBackend, s: Session) -> None:
        self.backend = backend
        self.s = s
        self.filters = withheld(s)

    def visible(self, scope: SearchScope, term: Term) -> int:
        req = SearchRequest(match=term, scope=scope, filters=self.filters, limit=1)
        return self.backend.search(self.s, req).total


class TantivyVocabulary:
    """tantivy's term dictionary; a visible count is the backend's own query (need-to-know
    first, `TantivySearch.query`) counted on one searcher, the index loaded once."""

    def __init__(self, backend: TantivySearch, s: Session) -> None:
        self.backend = backend
        self.filters = withheld(s)
        backend.idx.fresh()
        self.searcher = backend.idx.index.searcher()

    def starting(self, prefix: str) -> list[tuple[str, int]]:
        found: list[tuple[str, int]] = self.searcher.terms_with_prefix("exact", prefix)
        return found

    def frequencies(self, terms: list[str]) -> dict[str, int]:
        found = {t: int(self.searcher.doc_freq("exact", t)) for t in terms}
        return {t: n for t, n in found.items() if n > 0}

    def visible(self, scope: SearchScope, term: Term) -> int:
        q = self.backend.query(
            SearchRequest(match=term, scope=scope, filters=self.filters, limit=1)
        )
        return 0 if q is None else int(self.searcher.search(q, 1, count=True).count or 0)


class Fts5Vocabulary(SqlVocabulary):
    """FTS5's own term list (`fts5vocab`, a temporary table of this connection: no schema
    change); the `exact` column only."""

    def __init__(self, backend: SearchBackend, s: Session) -> None:
        super().__init__(backend, s)
        s.execute(
            text(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.amanah_vocab"
                " USING fts5vocab(main, search_fts, col)"
            )
        )

    def starting(self, prefix: str) -> list[tuple[str, int]]:
        rows = self.s.execute(
            text(
                "SELECT term, doc FROM temp.amanah_vocab"
                " WHERE term >= :lo AND term < :hi AND col = 'exact'"
            ),
            {"lo": prefix, "hi": prefix + "\U0010ffff"},
        ).all()
        return [(str(t), int(n)) for t, n in rows]

    def frequencies(self, terms: list[str]) -> dict[str, int]:
        # A hundred lookups of one term each: on the driver's cursor (in this session's
        # transaction), where a statement costs microseconds, not SQLAlchemy's milliseconds.
        cursor = self.s.connection().connection.cursor()
        out = {}
        try:
            for t in terms:
                row = cursor.execute(
                    "SELECT doc FROM temp.amanah_vocab WHERE term = ? AND col = 'exact'", (t,)
                ).fetchone()
                if row and row[0]:
                    out[t] = int(row[0])
        finally:
            cursor.close()
        return out


class PostgresVocabulary(SqlVocabulary):
    """PostgreSQL's lexemes by `ts_stat`, over the rows the GIN index says hold a candidate
    (it reads those rows' tsvectors: see docs/search.md for its cost)."""

    @staticmethod
    def _stat() -> str:
        return (
            "SELECT word, ndoc FROM ts_stat('SELECT exact_tsv FROM search_docs"
            " WHERE exact_tsv @@ ' || quote_literal(CAST(:tq AS text)) || '::tsquery')"
        )

    def starting(self, prefix: str) -> list[tuple[str, int]]:
        sql = self._stat() + " WHERE left(word, :n) = :p"
        rows = self.s.execute(
            text(sql), {"tq": _lexeme(prefix) + ":*", "n": len(prefix), "p": prefix}
        ).all()
        return [(str(t), int(n)) for t, n in rows]

    def frequencies(self, terms: list[str]) -> dict[str, int]:
        if not terms:
            return {}
        sql = self._stat() + " WHERE word = ANY(:ws)"
        rows = self.s.execute(
            text(sql), {"tq": " | ".join(_lexeme(t) for t in terms), "ws": list(terms)}
        ).all()
        return {str(t): int(n) for t, n in rows}


def vocabulary(backend: SearchBackend, s: Session) -> Vocabulary:
    from amanah.search.tantivy_index import TantivySearch

    if isinstance(backend, TantivySearch):
        return TantivyVocabulary(backend, s)
    if s.get_bind().dialect.name == "postgresql":
        return PostgresVocabulary(backend, s)
    return Fts5Vocabulary(backend, s)


def _cutoff(word: str) -> int:
    return 1 if len(word) <= 5 else 2


def _alphabet(word: str) -> str:
    """Letters a slip may have put in: the word's script, and its own letters."""
    arabic = any("\u0600" <= c <= "\u06ff" for c in word)
    return "".join(sorted(set((ARABIC if arabic else LATIN) + word)))


def edits1(word: str) -> set[str]:
    """Every word one edit away: a letter dropped, added or replaced, two neighbours swapped
    (Norvig's generator; a few hundred words, each looked up in the term dictionary)."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    letters = _alphabet(word)
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in letters}
    out |= {a + c + b for a, b in splits for c in letters}
    out.discard(word)
    return out


def candidates(vocab: Vocabulary, word: str) -> list[tuple[str, int, int]]:
    """(term, distance, index-wide frequency) for indexed words close to `word` (an exact
    form), nearest then most frequent first; not yet checked against anyone's scope.

    Every word one edit away is looked up (any letter, the first included); two edits are
    allowed in words of six letters or more, among the indexed words sharing the first three
    letters (a walk of the term dictionary that stays short however large the index: walking
    all the words of one first letter cost seconds at two million words)."""
    cutoff = _cutoff(word)
    found = vocab.frequencies(sorted(edits1(word)))
    if cutoff > 1:
        found.update(vocab.starting(word[:3]))
    found.pop(word, None)
    # rapidfuzz's loop in C
    close = [
        (term, int(d), found[term])
        for term, d, _ in process.extract(
            word, list(found), scorer=OSA.distance, score_cutoff=cutoff, limit=None
        )
        if found[term] > 0
    ]
    close.sort(key=lambda c: (c[1], -c[2], c[0]))
    return close


def close_words(
    backend: SearchBackend,
    s: Session,
    scope: SearchScope,
    typed: str,
    limit: int = 5,
    vocab: Vocabulary | None = None,
) -> list[Correction]:
    """Visible indexed words close to `typed` (one word), nearest then most frequent among
    the caller's items first. The word itself is not its own correction."""
    forms = [exact_form(w) for w in words(typed)]
    if len(forms) != 1 or not MIN_LEN <= len(forms[0]) <= MAX_LEN or scope.empty:
        return []
    word = forms[0]
    # Ranked by (distance, items the caller sees). An index-wide frequency is at least the
    # visible one, so within a distance, once `limit` words are found, a candidate whose
    # index-wide frequency is no more than the last of them cannot rank before it: the
    # counting stops there (most often after one search).
    found: list[tuple[int, int, str]] = []
    vocab = vocab or vocabulary(backend, s)
    for checked, (term, d, n) in enumerate(candidates(vocab, word)):
        if len(found) >= limit:
            last_d, last_n, last_term = found[limit - 1]
            if d > last_d or n < -last_n or (n == -last_n and term > last_term):
                break
        if checked == CHECK:
            break
        visible = vocab.visible(scope, Term(term, term, stem_form(term), "exact"))
        if visible > 0:
            found.append((d, -visible, term))
            found.sort()
    return [Correction(typed, term, -n) for _, n, term in found[:limit]]


def _open(field_name: str, prev: str, negated_depth: int | None) -> bool:
    """Whether a word token is searched for (not a filter's value, not negated)."""
    return not field_name and negated_depth is None and prev not in ("-", "NOT")


def _spans(q: str) -> list[tuple[int, int, str]]:
    """(start, end, text) of each single word of the query that a correction may replace:
    plain words and the words of phrases; not filters, prefixes, `=word` or what is negated."""
    out: list[tuple[int, int, str]] = []
    depth, negated_depth = 0, None
    prev = ""
    for tok in _lex(q):
        if tok.kind == "(":
            depth += 1
            if prev in ("-", "NOT") and negated_depth is None:
                negated_depth = depth
        elif tok.kind == ")":
            if negated_depth == depth:
                negated_depth = None
            depth -= 1
        elif tok.kind == "word" and _open(tok.field, prev, negated_depth):
            raw = tok.value
            if not raw.startswith("=") and not raw.endswith("*"):
                out.append((tok.pos, tok.pos + len(raw), raw))
        elif tok.kind == "phrase" and _open(tok.field, prev, negated_depth):
            for m in re.finditer(r"\S+", tok.value):
                start = tok.pos + 1 + m.start()
                out.append((start, start + len(m.group()), m.group()))
        prev = tok.kind
    return [(a, b, w) for a, b, w in out if len(words(w)) == 1]


def every_word_required(node: Node) -> bool:
    """Whether every word `did_you_mean` would look at must be in every hit (no OR outside
    a negation): then a query with a hit has no word that finds nothing, and needs no
    correction (each hit is one the caller may see)."""
    if isinstance(node, Or):
        return False
    if isinstance(node, And):
        return all(every_word_required(p) for p in node.parts)
    return True  # a word, a phrase, or a negation (whose words are never corrected)


def did_you_mean(backend: SearchBackend, s: Session, caller: Caller, q: Query) -> Suggestion | None:
    """The query with each word that finds nothing the caller may see replaced by its best
    visible close word; None when no word needs or has one."""
    scope = search_scope(caller)
    if scope.empty or q.match is None:
        return None
    vocab = vocabulary(backend, s)
    corrections: list[tuple[int, int, Correction]] = []
    seen: dict[str, Correction | None] = {}
    for start, end, raw in _spans(q.text):
        form = exact_form(words(raw)[0])
        if not MIN_LEN <= len(form) <= MAX_LEN:
            continue
        if form not in seen:
            if len(seen) == MAX_WORDS:
                continue
            seen[form] = None
            if vocab.visible(scope, Term(raw, form, stem_form(form))) == 0:
                best = close_words(backend, s, scope, raw, limit=1, vocab=vocab)
                seen[form] = best[0] if best else None
        found = seen[form]
        if found is not None:
            corrections.append((start, end, Correction(raw, found.word, found.count)))
    if not corrections:
        return None
    corrected = q.text
    for start, end, c in sorted(corrections, key=lambda x: -x[0]):
        corrected = corrected[:start] + c.word + corrected[end:]
    return Suggestion(corrected, q.text, [c for _, _, c in corrections])


def suggest_query(ws: Workspace, caller: Caller, q: Query) -> Suggestion | None:
    """`did_you_mean` on the home's backend (the index already caught up by the search)."""
    from amanah.search import engine

    with ws.db.reader(barrier=False) as s:
        return did_you_mean(engine.backend(ws, s), s, caller, q)
