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

from amanah.text.analyzer import _WORD, MAX_WORD, Terms, exact_form, fold, stem_form, words

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


def _forms(folded: str) -> tuple[str, str]:
    """`_token` of a token already folded (`analyzer.words` less its `fold`)."""
    if folded.isalnum():  # the usual case: one word (re's \w is str.isalnum, less "_")
        e = exact_form(folded[:MAX_WORD])
        s = stem_form(e)
        return e, s
    exact = [exact_form(w[:MAX_WORD]) for w in _WORD.findall(folded)]
    e, s = " ".join(exact), " ".join(stem_form(x) for x in exact)
    return e, e if s == e else s


def _tokens(tokens: list[str]) -> list[tuple[str, str]]:
    """`_token` of many tokens, folded in one call: fold acts on each character with its
    neighbours inside a token only (NFKD reorders marks up to the next base character, lower
    case looks for a final sigma up to the next character that is neither cased nor
    case-ignorable), and a line feed is a base character, uncased, not case-ignorable, that
    nothing folds into or out of, so it keeps the tokens apart; checked, and else one by one."""
    folded = fold("\n".join(tokens)).split("\n")
    if len(folded) != len(tokens):  # never expected; the analyzer's own way then
        return [_token(t) for t in tokens]
    return [_forms(f) for f in folded]


def joined(text: str) -> tuple[str, str]:
    """`" ".join(analyze(text).exact)` and the same of `.stem`: what an index is fed."""
    tokens = text.split()
    found = list(map(_memo.get, tokens))
    if None in found:
        room = MEMO_SIZE - len(_memo)
        at = [i for i, value in enumerate(found) if value is None]
        missing = [tokens[i] for i in at]
        for i, token, value in zip(at, missing, _tokens(missing), strict=True):
            found[i] = value
            if room > 0 and len(token) <= MEMO_TOKEN:
                _memo[token] = value
                room -= 1
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
