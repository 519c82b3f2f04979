"""The analyzer's terms for the index writer, made fast by remembering tokens already seen.

Indexing a million documents analyses some hundred million words, but a corpus repeats its
words: a few hundred thousand written forms make up nearly all of a text. The functions here
give exactly `amanah.text.analyzer.analyze`'s terms, word for word and position for position,
by cutting the text at whitespace and remembering the terms of each written token: every step
of the analyzer (NFKD, stripping marks, folding letters, lower case, finding words, the exact
and stem forms) acts on a token without looking past the whitespace around it, so the terms
of a text are the terms of its tokens, one after the other. The tests check this against the
analyzer itself, every whitespace character included. Queries keep calling the analyzer.
"""

from __future__ import annotations

from operator import itemgetter

from amanah.text.analyzer import Terms, exact_form, stem_form, words

#: Tokens remembered per process (at most about 60 MB). When full, no more are added: the
#: first tokens met are mostly a corpus's frequent ones, which is what remembering is for.
MEMO_SIZE = 200_000
#: Longer tokens (base64, hashes, a text without spaces) are analysed without being remembered.
MEMO_TOKEN = 48

_memo: dict[str, tuple[str, str]] = {}
_exact = itemgetter(0)
_stem = itemgetter(1)


def _token(token: str) -> tuple[str, str]:
    """A token's exact and stem terms, each joined by spaces ("" for a token with no word)."""
    exact = [exact_form(w) for w in words(token)]
    e, s = " ".join(exact), " ".join(stem_form(x) for x in exact)
    return e, e if s == e else s


def joined(text: str) -> tuple[str, str]:
    """`" ".join(analyze(text).exact)` and the same of `.stem`: what an index is fed."""
    tokens = text.split()
    found = list(map(_memo.get, tokens))
    if None in found:
        room = len(_memo) < MEMO_SIZE
        for i, value in enumerate(found):
            if value is None:
                token = tokens[i]
                value = found[i] = _token(token)
                if room and len(token) <= MEMO_TOKEN:
                    _memo[token] = value
    return (
        " ".join(filter(None, map(_exact, found))),
        " ".join(filter(None, map(_stem, found))),
    )


def analyze(text: str) -> Terms:
    """The same as `amanah.text.analyzer.analyze(text)`, faster on a corpus."""
    exact, stem = joined(text)
    return Terms(exact=exact.split(" ") if exact else [], stem=stem.split(" ") if stem else [])


def analyze_all(bodies: list[str]) -> list[Terms]:
    """Terms of many texts, in order (the unit of work sent to a process pool)."""
    return [analyze(b) for b in bodies]


def joined_all(bodies: list[str]) -> list[tuple[str, str]]:
    """`joined` of many texts, in order (what the tantivy writer sends to its pool)."""
    return [joined(b) for b in bodies]
