"""Finding protected persons' names in any spelling and format: the one matcher every check asks.

Each recorded spelling is a sequence of *slots*, one per word, and each slot the set of keyed
digests (HMAC-SHA256 under the home's names key) of the word's keys (`amanah.text.names`:
exact Arabic key, Latin skeleton, consonant keys for the other script, Latin skeletons of its
romanisations). A text is searched by computing the same digests for each of its words and
looking for words that meet every slot of a spelling: consecutive, or with up to two given
names before the last (a father's and a grandfather's: `amanah.text.name_lexicon`).

What survives: any whitespace or line break between words, a line-end hyphen ("Kha-⏎tib"),
soft hyphens, zero-width and bidi control characters, harakat and tatweel, presentation forms,
hamza/alef/yeh/teh-marbuta variants, attached particles and the article, Arabic in visual order
(each word reversed, words in either order), Latin case, diacritics and punctuation, and
transliteration variants (Yusuf/Youssef, Qabbani/Kabbani, Mohammad/Mohamed, with and without
al-/el-), and a name run together as one word (`sealing.glued_slots`: ahmadkhatib@…). What
a reader's eye reads besides (markup, escapes, letters in disguise) is `protected_readings`.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah.db.models import ProtectedPerson
from amanah.sharing import SharingError, sealing
from amanah.sharing.names_key import KEY_FILE, SESSION_KEY, key_id
from amanah.sharing.protected_readings import readings
from amanah.sharing.sealing import GLUED, GLUED_LETTERS, digest, glued_key, seal
from amanah.text import name_lexicon
from amanah.text import names as nk


def _session_key(s: Session) -> bytes | None:
    key = s.info.get(SESSION_KEY)
    return key if isinstance(key, bytes) else None


def _check_sealed(data: dict[str, Any], key: bytes, pseudonym: str) -> None:
    if data.get("scheme") != nk.SCHEME:
        raise SharingError(
            f"protected person {pseudonym!r}: names sealed with key scheme"
            f" {data.get('scheme')!r}, this version reads {nk.SCHEME}: record the spellings again"
        )
    if data.get("key") != key_id(key):
        raise SharingError(
            f"protected person {pseudonym!r}: names sealed with names key {data.get('key')},"
            f" but this home's key is {key_id(key)}: restore keys/{KEY_FILE} from the backup"
            " made with the database"
        )


#: Why a text is refused by `Matcher.at_rest`: says what, never the name.
HIDDEN_NAME = (
    "{what} names a protected person in a form that cannot be replaced by the pseudonym"
    " (split by markup, spaced out, or glued to another word): write the name plainly, or the"
    " pseudonym"
)


# -- matching --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    pseudonym: str
    start: int  # first word (index into the words given)
    end: int  # one past the last word


Slots = tuple[frozenset[bytes], ...]
_CACHE_LIMIT = 400_000


class Matcher:
    """Every recorded spelling of every protected person, as digests, ready to look for."""

    def __init__(
        self, key: bytes, patterns: list[tuple[Slots, str]], kinds: Iterable[str] = ()
    ) -> None:
        self._key = key
        self._by_first: dict[bytes, list[tuple[Slots, str]]] = {}
        for slots, pseudonym in patterns:
            for d in slots[0]:
                self._by_first.setdefault(d, []).append((slots, pseudonym))
        self._first = frozenset(self._by_first)
        self._longest = max((len(slots) for slots, _ in patterns), default=1)
        self._kinds = frozenset(kinds)
        self._cache: dict[str, frozenset[bytes]] = {}
        self._tokens: dict[str, tuple[Slots, Slots, bool]] = {}
        self._between: dict[str, tuple[bool, ...]] = {}

    @property
    def longest_words(self) -> int:
        """The most words any protected spelling has."""
        return self._longest

    # -- building

    @classmethod
    def of(cls, persons: Sequence[tuple[str, Sequence[str]]], key: bytes | None = None) -> Matcher:
        """A matcher of clear spellings (while recording them, and in tests); a key of its own
        unless one is given."""
        key = key or secrets.token_bytes(32)
        patterns: list[tuple[Slots, str]] = []
        kinds: set[str] = set()
        for pseudonym, spellings in persons:
            sealed = seal(key, spellings)
            kinds.update(sealed["kinds"])
            patterns.extend((_slots(p), pseudonym) for p in sealing.patterns(sealed))
        return cls(key, patterns, kinds)

    @classmethod
    def load(cls, s: Session) -> Matcher:
        """Every protected person of the database (digests and the session's names key)."""
        rows = [
            (p, r)
            for p, r in s.execute(
                select(ProtectedPerson.pseudonym, ProtectedPerson.name_digests).order_by(
                    ProtectedPerson.id
                )
            ).all()
        ]
        key = _session_key(s)
        if not rows:
            return cls(key or b"\0" * 32, [])
        if key is None:
            raise SharingError("the names key is not loaded: protected names cannot be looked for")
        return _load_cached(key, tuple(rows))

    def __bool__(self) -> bool:
        return bool(self._by_first)

    # -- the words of a text

    def _keys(self, word: str) -> frozenset[bytes]:
        found = self._cache.get(word)
        if found is None:
            if len(self._cache) > _CACHE_LIMIT:
                self._cache.clear()
            keys = [k for k in nk.document_keys(word) if k.split(":", 1)[0] in self._kinds]
            if GLUED in self._kinds and len(word) >= GLUED_LETTERS and nk.is_latin(word):
                keys.append(glued_key(word))
            found = frozenset(digest(self._key, k) for k in keys)
            self._cache[word] = found
        return found

    def _glue(self, words: Sequence[str]) -> frozenset[bytes]:
        """The digest of one token's Latin words run together (`AhmadalKhatib`, `ahmad1khatib`,
        split at a capital or a digit): a name sealed as one word is the whole token."""
        if len(words) < 2 or GLUED not in self._kinds:
            return frozenset()
        joined = "".join(w for w in words if nk.is_latin(w))
        if len(joined) < GLUED_LETTERS or joined in words:
            return frozenset()
        return frozenset((digest(self._key, glued_key(joined)),))

    def _sequences(
        self, found: list[nk.Word], text: str | None, raw: Callable[[nk.Word], str] | None = None
    ) -> list[tuple[list[nk.Word], list[frozenset[bytes]], list[bool] | None]]:
        """The word sequences to read: as written, joined at line-end hyphens, and with Arabic
        words reversed (visual order); articles left out. With `raw` (a word's token as
        written), which words may stand within a name (`name_lexicon.between`)."""
        readings = [found]
        if text is not None and (joined := nk.joined_at_hyphens(text, found)) is not None:
            readings.append(joined)
        tokens: dict[tuple[int, int], list[str]] = {}
        for w in found:  # the words of each token (a token's words share its offsets)
            tokens.setdefault((w.start, w.end), []).append(w.folded)
        out = []
        for reading in readings:
            kept = [w for w in reading if not nk.is_article(w.folded)]
            keys = [self._keys(w.folded) for w in kept]
            for i, w in enumerate(kept):
                first_of_token = i == 0 or kept[i - 1].start != w.start
                if first_of_token and len(words := tokens.get((w.start, w.end), [])) > 1:
                    keys[i] = keys[i] | self._glue(words)
            gaps = self._gaps(kept, text, raw) if raw else None
            out.append((kept, keys, gaps))
            if any(nk.is_arabic(w.folded) for w in kept):
                out.append(
                    (
                        kept,
                        [
                            self._keys(w.folded[::-1]) if nk.is_arabic(w.folded) else k
                            for w, k in zip(kept, out[-1][1], strict=True)
                        ],
                        gaps,
                    )
                )
        return out

    @staticmethod
    def _gaps(kept: list[nk.Word], text: str | None, raw: Callable[[nk.Word], str]) -> list[bool]:
        """Which words may stand within a name (`name_lexicon.between`), unless the text between
        them and their neighbours (or, tokens given, their own punctuation) parts two names."""
        out = []
        for i, w in enumerate(kept):
            ok = name_lexicon.between(raw(w), w.folded)
            if ok and text is not None:
                initial = len(w.folded) == 1 or w.folded in name_lexicon.ABBREVIATIONS
                ok = not (
                    (i and name_lexicon.separates(text, kept[i - 1].end, w.start))
                    or (
                        i + 1 < len(kept)
                        and name_lexicon.separates(text, w.end, kept[i + 1].start, initial)
                    )
                )
            elif ok:
                ok = not name_lexicon.parted(raw(kept[i - 1]) if i else "", raw(w), w.folded)
            out.append(ok)
        return out

    def _match(
        self, seq: Sequence[frozenset[bytes]], gaps: Sequence[bool] | None = None
    ) -> list[Match]:
        """Matches in a sequence of word digests, in reading order and in reverse order; where
        `gaps` says which words may stand within a name, up to MAX_BETWEEN of them before a
        name's last word (a father's and a grandfather's name: أحمد محمود الخطيب)."""
        first = self._first
        n = len(seq)
        found = []
        starts = [i for i, ks in enumerate(seq) if not first.isdisjoint(ks)]
        between = range(name_lexicon.MAX_BETWEEN + 1) if gaps is not None else range(1)
        for direction in (1, -1):
            for i in starts:
                for d in seq[i] & first:
                    for slots, pseudonym in self._by_first[d]:
                        size = len(slots)
                        for skip in between if size > 1 else range(1):
                            last = i + direction * (size - 1 + skip)
                            if not 0 <= last < n:
                                break
                            at = [i + direction * k for k in range(1, size - 1)] + [last]
                            if skip and not gaps[last - direction]:  # type: ignore[index]
                                break  # the word before the last slot is no name: no more
                            if all(not slots[k].isdisjoint(seq[at[k - 1]]) for k in range(1, size)):
                                lo, hi = min(i, last), max(i, last)
                                found.append(Match(pseudonym, lo, hi + 1))
                                break
        return found

    def _matches(self, found: list[nk.Word], text: str | None) -> list[tuple[int, int, str]]:
        """(start, end, pseudonym) in the original text of every name in its words."""
        hits = set()
        raw = (lambda w: text[w.start : w.end]) if text is not None else None
        for words, seq, gaps in self._sequences(found, text, raw):
            for m in self._match(seq, gaps):
                hits.add((words[m.start].start, words[m.end - 1].end, m.pseudonym))
        return sorted(hits)

    # -- the public ways in

    def _token(self, token: str) -> tuple[Slots, Slots, bool]:
        """A token's word digests as written and with Arabic words reversed (articles left
        out), and whether any of them can begin a name: remembered per token."""
        found = self._tokens.get(token)
        if found is None:
            if len(self._tokens) > _CACHE_LIMIT:
                self._tokens.clear()
            words = nk.token_words(token)
            kept = [w for w in words if not nk.is_article(w)]
            fwd = tuple(self._keys(w) for w in kept)
            if kept and len(words) > 1:
                fwd = (fwd[0] | self._glue(words), *fwd[1:])
            rev = tuple(
                self._keys(w[::-1]) if nk.is_arabic(w) else k
                for w, k in zip(kept, fwd, strict=True)
            )
            hit = any(not self._first.isdisjoint(k) for k in fwd + rev)
            found = self._tokens[token] = (fwd, rev, hit)
        return found

    def _may_stand_between(self, token: str) -> tuple[bool, ...]:
        """Which of a token's words (articles left out) may stand within a name: asked only
        around a word that can begin one, so a text naming no one never loads the lexicon."""
        found = self._between.get(token)
        if found is None:
            if len(self._between) > _CACHE_LIMIT:
                self._between.clear()
            kept = [w for w in nk.token_words(token) if not nk.is_article(w)]
            found = self._between[token] = tuple(name_lexicon.between(token, w) for w in kept)
        return found

    def _standing(
        self, text: str, tokens: list[str], spans: list[tuple[int, int]], j: int
    ) -> tuple[bool, ...]:
        """`_may_stand_between` for the j-th token of a text, unless what stands between it
        and the words before and after it (articles passed over, as the words read are)
        parts two names (`name_lexicon.separates`): the same question `_gaps` asks."""
        flags = self._may_stand_between(tokens[j])
        if not any(flags):
            return flags
        i = j - 1
        while i >= 0 and not self._may_stand_between_len(tokens[i]):
            i -= 1  # an article token ("al" of al-Hassan)
        k = j + 1
        while k < len(tokens) and not self._may_stand_between_len(tokens[k]):
            k += 1
        folded = nk.token_words(tokens[j])
        initial = len(folded) == 1 and (
            len(folded[0]) == 1 or folded[0] in name_lexicon.ABBREVIATIONS
        )
        if (i >= 0 and name_lexicon.separates(text, spans[i][1], spans[j][0])) or (
            k < len(tokens) and name_lexicon.separates(text, spans[j][1], spans[k][0], initial)
        ):
            return (False,) * len(flags)
        return flags

    def _may_stand_between_len(self, token: str) -> int:
        """How many words of a token are read (none for an article's)."""
        return len(self._may_stand_between(token))

    def _find_words(self, text: str) -> set[str]:
        prepared = nk.prepare(text)
        tokens = nk.TOKEN.findall(prepared)
        info = {t: self._token(t) for t in set(tokens)}
        hits = {t for t, v in info.items() if v[2]}
        if not hits:
            return set()  # the common case: no word of the text can begin a name
        # Read once, in either order, from each word that can begin a name (`_match`): each
        # start once (windows around each, overlapping, matched each start a dozen times).
        spans = [m.span() for m in nk.TOKEN.finditer(prepared)]
        fwd = [k for t in tokens for k in info[t][0]]
        rev = [k for t in tokens for k in info[t][1]]
        gaps = [g for j in range(len(tokens)) for g in self._standing(prepared, tokens, spans, j)]
        found = {m.pseudonym for m in self._match(fwd, gaps)}
        if rev != fwd:
            found.update(m.pseudonym for m in self._match(rev, gaps))
        return found

    def find(self, text: str) -> set[str]:
        """Pseudonyms of everyone named in a text, however it is formatted."""
        if not self._by_first or not text:
            return set()
        found = self._find_words(text)
        joined = nk.join_hyphen_breaks(text)
        if joined is not None:
            found |= self._find_words(joined)
        return found

    def names(self, text: str) -> set[str]:
        """Pseudonyms of everyone a text names as stored or as a reader's eye takes it: with
        markup taken out, spaced-out letters joined, joiner-glued words split
        (`protected_readings`). The one question every check asks: does this text name a
        protected person?"""
        if not self._by_first or not text:
            return set()
        found = self.find(text)
        for reading in readings(text):
            found |= self.find(reading)
        return found

    def hidden(self, text: str) -> set[str]:
        """Pseudonyms a text names only in a reader's reading of it, not as stored: a name
        `pseudonymise` cannot replace in place (split by markup, spaced out, glued to the next
        word by a joiner), which must therefore be refused rather than kept."""
        if not self._by_first or not text:
            return set()
        found: set[str] = set()
        for reading in readings(text):
            found |= self.find(reading)
        return found

    def at_rest(
        self, text: str, what: str = "the text", error: type[Exception] = SharingError
    ) -> tuple[str, int]:
        """Free text as it may be kept (a note, a tag, what a family was told): stripped, every
        protected name replaced by [pseudonym], and how many were; refused with `error` when a
        reader would still see a name in what is left (it could not be replaced in place and
        must not rest in clear). The reason never says the name."""
        kept, count = self.pseudonymise(text.strip())
        if self.names(kept):  # hidden from the replacement, or read otherwise by it
            raise error(HIDDEN_NAME.format(what=what))
        return kept, count

    def find_in_bytes(self, data: bytes) -> set[str]:
        """Pseudonyms named anywhere in raw bytes read as UTF-8, UTF-16 (both byte orders, any
        alignment), Windows-1256 and Windows-1252: the last net over a file's bytes, in
        overlapping chunks so any size is fine (`amanah.text.rawtext`). Compressed streams
        (PDF, zip) are not opened: that is the content inventory's work."""
        if not self._by_first or not data:
            return set()
        # Here, not at the top: it imports numpy, which no command that only checks a name
        # against the list needs (a tenth of every command's start).
        from amanah.text import rawtext

        found: set[str] = set()
        for text in rawtext.readings(data):
            found |= self.find(text)
        return found

    def in_forms(self, forms: Sequence[str]) -> list[Match]:
        """Matches in a sequence of words (one string per word, as written), with indices into
        it; words given are read as they are, in either order."""
        words: list[nk.Word] = []
        for i, form in enumerate(forms):
            words.extend(nk.Word(i, i + 1, w) for w in nk.token_words(form))
        out = set()
        for kept, seq, gaps in self._sequences(words, None, lambda w: forms[w.start]):
            for m in self._match(seq, gaps):
                out.add(Match(m.pseudonym, kept[m.start].start, kept[m.end - 1].end))
        return sorted(out, key=lambda m: (m.start, m.end, m.pseudonym))

    def in_words(self, line: Sequence[str]) -> list[tuple[int, str]]:
        """Indices of the words (tokens of one line, e.g. from a PDF or OCR) that are part of a
        name, in reading or visual order; a token ending in a hyphen is also read joined to the
        next ("Kha-", "tib")."""
        if not self._by_first:
            return []
        # A page's (or a whole file's) tokens repeat: each distinct one is split once.
        split: dict[str, list[str]] = {}
        per_token = []
        for token in line:
            folded = split.get(token)
            if folded is None:
                folded = split[token] = [w.folded for w in nk.words(token)]
            per_token.append(folded)
        words = [nk.Word(i, i, f) for i, folded in enumerate(per_token) for f in folded]
        readings = [words]
        joined: list[nk.Word] = []
        merged = False
        hyphens = ("-", "\u2010", "\u2011", "\u00ad")
        for i, folded in enumerate(per_token):
            own = [nk.Word(i, i, f) for f in folded]
            prev = line[i - 1].rstrip() if i else ""
            if joined and own and prev.endswith(hyphens):
                last = joined.pop()
                joined.append(nk.Word(last.start, i, last.folded + own[0].folded))
                joined.extend(own[1:])
                merged = True
            else:
                joined.extend(own)
        if merged:
            readings.append(joined)
        hits: set[tuple[int, str]] = set()
        for reading in readings:
            for kept, seq, gaps in self._sequences(reading, None, lambda w: line[w.start]):
                for m in self._match(seq, gaps):
                    for w in kept[m.start : m.end]:
                        hits.update((k, m.pseudonym) for k in range(w.start, w.end + 1))
        return sorted(hits)

    def pseudonymise(self, text: str) -> tuple[str, int]:
        """The text with each name replaced by [pseudonym]; and how many were replaced."""
        if not self._by_first or not text or not self.find(text):
            return text, 0  # the common case, decided by the fast reading
        out, last, count = [], 0, 0
        for start, end, pseudonym in self._matches(nk.words(text), text):
            if start < last:
                continue
            out.append(text[last:start])
            out.append(f"[{pseudonym}]")
            last, count = end, count + 1
        out.append(text[last:])
        return "".join(out), count


def _slots(pattern: Sequence[Sequence[str]]) -> Slots:
    return tuple(frozenset(bytes.fromhex(d) for d in slot) for slot in pattern)


_LOADED: dict[tuple[bytes, tuple[tuple[str, str], ...]], Matcher] = {}


def _load_cached(key: bytes, rows: tuple[tuple[str, str], ...]) -> Matcher:
    """One matcher per (key, stored digests): searches and checks reuse its cache of words."""
    cached = _LOADED.get((key, rows))
    if cached is not None:
        return cached
    patterns: list[tuple[Slots, str]] = []
    kinds: set[str] = set()
    for pseudonym, raw in rows:
        try:
            data = json.loads(raw or "{}")
        except json.JSONDecodeError:
            data = {}
        if not data.get("spellings"):
            raise SharingError(
                f"protected person {pseudonym!r} has no sealed spellings: record them again"
                " (`amanah protected spelling`)"
            )
        if data.get("scheme") != nk.SCHEME or data.get("key") != key_id(key):
            _check_sealed(data, key, pseudonym)
        kinds.update(data.get("kinds", []))
        patterns.extend((_slots(p), pseudonym) for p in sealing.patterns(data))
    _LOADED.clear()
    matcher = Matcher(key, patterns, kinds)
    _LOADED[(key, rows)] = matcher
    return matcher
