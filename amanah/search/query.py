"""The query language: what an analyst types, parsed into a tree both backends translate.

    torture "air force intelligence"      both, the phrase as written (AND by default)
    فرع OR شعبة                           either
    detention -release    NOT release     without
    معتق*                                  words beginning so
    =وزير                                  this word only, no stemming (variants still fold)
    (حلب OR ادلب) "برميل متفجر"            grouping
    provider:"Syrian Archive" lang:ar type:pdf has:ocr after:2012 before:2014-06 path:raqqa
    date:2012  date:2012-03..2014  received:2024   document date / date received (either of)
    *                                      everything the caller may see (browse)
    person:"محمد الحبو" unit:"Branch 215" facility:Saydnaya place:Homs
                                           items of an entity, its name in any spelling
    tag:torture                            items the caller may see that carry an analyst's tag
    gov:Aleppo  gov:حلب  gov:SY02           items whose GPS point lies in that governorate

Field filters apply to the whole query: the same field given twice means either value, and
`-field:value` excludes. A filter inside parentheses or next to OR is refused, not guessed at.
Every error says what is wrong and at which character, so the analyst can fix the query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from amanah.text.analyzer import exact_form, stem_form, words

#: Entity filters: the value is a name (any spelling, either script) of an entity of this kind.
ENTITY_FIELDS = {
    "person": "person",
    "unit": "organisation",
    "facility": "facility",
    "place": "place",
}
FIELDS = (
    "provider",
    "collection",
    "lang",
    "type",
    "has",
    "after",
    "before",
    "date",
    "received",
    "path",
    "tag",
    "gov",
    *ENTITY_FIELDS,
)
HAS = ("ocr", "text", "gps")
TYPE_ALIASES = {
    "pdf": ("application/pdf",),
    "email": ("message/", "application/vnd.ms-outlook", "application/mbox"),
    "image": ("image/",),
    "video": ("video/",),
    "audio": ("audio/",),
    "text": ("text/",),
    "word": (
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml",
        "application/vnd.oasis.opendocument.text",
        "application/rtf",
    ),
    "spreadsheet": (
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml",
        "application/vnd.oasis.opendocument.spreadsheet",
        "text/csv",
    ),
    "archive": (
        "application/zip",
        "application/x-tar",
        "application/gzip",
        "application/x-7z-compressed",
        "application/x-rar",
        "application/vnd.rar",
    ),
}
LANG_NAMES = {
    "arabic": "ar",
    "english": "en",
    "turkish": "tr",
    "persian": "fa",
    "farsi": "fa",
    "russian": "ru",
    "french": "fr",
    "german": "de",
    "kurdish": "ckb",
    "sorani": "ckb",
    "kurmanji": "kmr",
}
_FIELD_LIST = ", ".join(f + ":" for f in FIELDS)
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?$")


#: The most filters one search resolves (each entity or tag filter is a look-up of its own),
#: however they are given: typed in the words, chosen as chips, or sent as API parameters.
MAX_FILTERS = 50


class QueryError(ValueError):
    """A query that cannot be run, with the character it went wrong at (0-based)."""

    def __init__(self, message: str, position: int, query: str) -> None:
        self.message = message
        self.position = position
        self.query = query
        super().__init__(f"{message} (at character {position + 1})")

    def pointer(self) -> str:
        """The query with a caret under the place, for terminals."""
        return f"{self.query}\n{' ' * self.position}^"


# --- the tree ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One word: `kind` is "word", "prefix" (word*) or "exact" (=word)."""

    text: str
    exact: str
    stem: str
    kind: str = "word"


@dataclass(frozen=True)
class Phrase:
    text: str
    exact: tuple[str, ...]
    stem: tuple[str, ...]


@dataclass(frozen=True)
class And:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    part: Node


Node = Term | Phrase | And | Or | Not


@dataclass(frozen=True)
class Filter:
    field: str
    value: str
    negated: bool
    position: int


@dataclass
class Query:
    """A parsed query: the text part (None when only filters were given) and the filters."""

    text: str
    match: Node | None
    filters: list[Filter] = field(default_factory=list)

    def values(self, name: str, negated: bool = False) -> list[str]:
        return [f.value for f in self.filters if f.field == name and f.negated == negated]

    def terms(self) -> list[Term | Phrase]:
        """The positive leaves, for highlighting and ranking."""
        return positive_leaves(self.match) if self.match is not None else []


def positive_leaves(node: Node) -> list[Term | Phrase]:
    if isinstance(node, (Term, Phrase)):
        return [node]
    if isinstance(node, Not):
        return []
    return [leaf for p in node.parts for leaf in positive_leaves(p)]


# --- the lexer --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tok:
    kind: str  # "(", ")", "word", "phrase", "OR", "AND", "NOT", "-"
    value: str
    pos: int
    field: str = ""


def _lex(q: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(q)
    while i < n:
        c = q[i]
        if c.isspace():
            i += 1
        elif c in "()":
            toks.append(_Tok(c, c, i))
            i += 1
        elif c == '"':
            end = q.find('"', i + 1)
            if end < 0:
                raise QueryError('this quote is never closed: add the closing "', i, q)
            toks.append(_Tok("phrase", q[i + 1 : end], i))
            i = end + 1
        elif c == "-" and i + 1 < n and not q[i + 1].isspace():
            toks.append(_Tok("-", c, i))
            i += 1
        else:
            start = i
            while i < n and not q[i].isspace() and q[i] not in '()"':
                i += 1
            word = q[start:i]
            name, colon, rest = word.partition(":")
            if colon and name.isascii() and name.isalpha():
                fname = name.lower()
                if fname not in FIELDS:
                    raise QueryError(
                        f"unknown field '{name}:' (fields are {_FIELD_LIST});"
                        " to search for the text itself, put it in quotes",
                        start,
                        q,
                    )
                if not rest and i < n and q[i] == '"':
                    end = q.find('"', i + 1)
                    if end < 0:
                        raise QueryError('this quote is never closed: add the closing "', i, q)
                    rest, i = q[i + 1 : end], end + 1
                if not rest.strip():
                    raise QueryError(f"'{fname}:' needs a value, e.g. {_EXAMPLE[fname]}", start, q)
                toks.append(_Tok("word", rest.strip(), start, field=fname))
            elif word in ("OR", "AND", "NOT"):
                toks.append(_Tok(word, word, start))
            elif word == "*":
                continue  # everything: the filters alone (or nothing) choose the items
            else:
                toks.append(_Tok("word", word, start))
    return toks


_EXAMPLE = {
    "provider": 'provider:"Syrian Archive"',
    "collection": "collection:handover-2024-03",
    "lang": "lang:ar",
    "type": "type:pdf",
    "has": "has:ocr",
    "after": "after:2012-03",
    "before": "before:2014",
    "date": "date:2012, date:2012-03, date:2012..2014",
    "received": "received:2024, received:2024-03",
    "path": "path:raqqa",
    "person": 'person:"Mohammad al-Habbo"',
    "unit": 'unit:"Branch 215"',
    "facility": "facility:Saydnaya",
    "place": "place:Homs",
    "gov": "gov:Aleppo, gov:حلب, gov:SY02",
}


# --- the parser -------------------------------------------------------------------------------


class _Parser:
    def __init__(self, q: str) -> None:
        self.q = q
        self.toks = _lex(q)
        self.i = 0
        self.filters: list[Filter] = []

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def error(self, message: str, tok: _Tok | None) -> QueryError:
        return QueryError(message, tok.pos if tok else len(self.q), self.q)

    def parse(self) -> Node | None:
        node = self.or_expr(top=True)
        tok = self.peek()
        if tok is not None:
            raise self.error("this ')' has no '(' before it", tok)
        return node

    def or_expr(self, top: bool) -> Node | None:
        first = self.and_expr(top)
        parts = [first] if first is not None else []
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.i += 1
            if not parts:
                raise self.error("OR needs words on both sides", tok)
            if top and self.filters:
                f = self.filters[0]
                raise QueryError(
                    f"'{f.field}:' filters apply to the whole query: with OR, write the"
                    " alternatives in parentheses, e.g. 'lang:ar (a OR b)'",
                    f.position,
                    self.q,
                )
            nxt = self.and_expr(top=False, after_or=tok)
            if nxt is None:
                raise self.error("OR needs words on both sides", tok)
            parts.append(nxt)
        if len(parts) > 1:
            for p in parts:
                if _only_negative(p):
                    raise self.error(
                        "a NOT part of an OR has nothing to subtract from: write e.g."
                        " 'a OR (b -c)'",
                        tok,
                    )
            return Or(tuple(parts))
        return parts[0] if parts else None

    def and_expr(self, top: bool, after_or: _Tok | None = None) -> Node | None:
        parts: list[Node] = []
        start = self.peek()
        while (tok := self.peek()) is not None and tok.kind not in ("OR", ")"):
            if tok.kind == "AND":
                self.i += 1
                if not parts or self.peek() is None or self.peek().kind in ("OR", ")", "AND"):  # type: ignore[union-attr]
                    raise self.error("AND needs words on both sides", tok)
                continue
            node = self.unary(top and after_or is None)
            if node is not None:
                parts.append(node)
        if not parts:
            return None
        if not top and all(isinstance(p, Not) for p in parts):
            raise self.error(
                "NOT needs something to subtract from in the same group: write e.g. 'a -b'",
                start,
            )
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def unary(self, top: bool) -> Node | None:
        tok = self.peek()
        assert tok is not None
        if tok.kind in ("NOT", "-"):
            self.i += 1
            nxt = self.peek()
            if nxt is None or nxt.kind in ("OR", "AND", ")", "NOT", "-"):
                raise self.error(f"'{tok.value}' needs a word, phrase or group after it", tok)
            if nxt.field:
                self.i += 1
                self.add_filter(nxt, negated=True, top=top)
                return None
            inner = self.unary(top=False)
            if inner is None:
                raise self.error(f"'{tok.value}' needs a word, phrase or group after it", tok)
            return Not(inner)
        if tok.kind == "(":
            self.i += 1
            inner = self.or_expr(top=False)
            close = self.peek()
            if close is None or close.kind != ")":
                raise self.error("this '(' is never closed: add ')'", tok)
            self.i += 1
            if inner is None:
                raise self.error("empty parentheses", tok)
            return inner
        self.i += 1
        if tok.field:
            self.add_filter(tok, negated=False, top=top)
            return None
        if tok.kind == "phrase":
            return self.phrase(tok)
        return self.term(tok)

    def add_filter(self, tok: _Tok, negated: bool, top: bool) -> None:
        if not top:
            raise self.error(
                f"'{tok.field}:' filters apply to the whole query: move it out of the"
                " parentheses and away from OR",
                tok,
            )
        if len(self.filters) == MAX_FILTERS:
            raise self.error(f"at most {MAX_FILTERS} filters in one search", tok)
        self.filters.append(Filter(tok.field, _check_filter(tok, self.q), negated, tok.pos))

    def phrase(self, tok: _Tok) -> Node:
        exact = tuple(exact_form(w) for w in words(tok.value))
        if not exact:
            raise self.error("this phrase has no word to search for", tok)
        if len(exact) == 1:
            return Term(tok.value, exact[0], stem_form(exact[0]))
        return Phrase(tok.value, exact, tuple(stem_form(e) for e in exact))

    def term(self, tok: _Tok) -> Node:
        raw, kind = tok.value, "word"
        if raw.startswith("="):
            raw, kind = raw[1:], "exact"
        if raw.endswith("*"):
            if kind == "exact":
                raise self.error("'=' and '*' cannot be used together", tok)
            raw, kind = raw.rstrip("*"), "prefix"
        found = [exact_form(w) for w in words(raw)]
        if not found:
            raise self.error(f"'{tok.value}' has no letters or digits to search for", tok)
        if len(found) > 1:
            if kind != "word":
                raise self.error(
                    f"'{tok.value}' is several words: '=' and '*' apply to one word", tok
                )
            # "al-Assad" or "2012/03": the pieces in order, as a phrase.
            return Phrase(raw, tuple(found), tuple(stem_form(e) for e in found))
        e = found[0]
        return Term(tok.value, e, stem_form(e), kind)


def _only_negative(node: Node) -> bool:
    return isinstance(node, Not) or (
        isinstance(node, And) and all(isinstance(p, Not) for p in node.parts)
    )


def _check_filter(tok: _Tok, q: str) -> str:
    name, value = tok.field, tok.value
    if name in ("after", "before"):
        m = _DATE.match(value)
        try:
            if m is None:
                raise ValueError
            y, mo, d = int(m[1]), int(m[2] or 1), int(m[3] or 1)
            return date(y, mo, d).isoformat()
        except ValueError:
            raise QueryError(
                f"'{name}:{value}' is not a date: use YYYY, YYYY-MM or YYYY-MM-DD", tok.pos, q
            ) from None
    if name in ("date", "received"):
        try:
            start, end = period(value)
        except ValueError:
            raise QueryError(
                f"'{name}:{value}' is not a date: use YYYY, YYYY-MM, YYYY-MM-DD or a range"
                " FROM..TO of them",
                tok.pos,
                q,
            ) from None
        return f"{start}..{end}"
    if name == "has" and value.lower() not in HAS:
        raise QueryError(
            f"'has:{value}' is not known: use one of {', '.join('has:' + h for h in HAS)}",
            tok.pos,
            q,
        )
    if name == "type" and "/" not in value and value.lower() not in TYPE_ALIASES:
        raise QueryError(
            f"'type:{value}' is not known: give a media type (type:application/pdf, type:image/*)"
            f" or one of {', '.join(TYPE_ALIASES)}",
            tok.pos,
            q,
        )
    if name == "lang":
        code = LANG_NAMES.get(value.lower(), value.lower())
        if not (2 <= len(code) <= 3 and code.isascii() and code.isalpha()):
            raise QueryError(
                f"'lang:{value}' is not a language code: use e.g. lang:ar, lang:en, lang:ckb",
                tok.pos,
                q,
            )
        return code
    if name == "gov":
        return _governorate(tok, q)
    if name in ("has", "type"):
        return value.lower()
    if name in ENTITY_FIELDS or name == "tag":
        return " ".join(value.split())
    return value


def _governorate(tok: _Tok, q: str) -> str:
    """A `gov:` value as its governorate's P-code; an unknown one named, with the names
    accepted, in English and Arabic (the message is read on pages in either language)."""
    from amanah.geo import names

    found = names.find(tok.value)
    if found is not None:
        return found.pcode
    shown = tok.value if len(tok.value) <= 60 else tok.value[:60] + "…"
    raise QueryError(
        f"'gov:{shown}' is not a governorate of Syria: use a name or P-code:"
        f" {', '.join(names.accepted('en'))}"
        f" — «{shown}» ليست محافظة سورية: اكتب اسمها أو رمزها: {'، '.join(names.accepted('ar'))}",
        tok.pos,
        q,
    )


def _day(text: str, last: bool) -> date:
    """The first day of YYYY, YYYY-MM or YYYY-MM-DD, or the day after its last (`last`)."""
    m = _DATE.match(text.strip())
    if m is None:
        raise ValueError(text)
    y, mo, d = int(m[1]), int(m[2] or 1), int(m[3] or 1)
    first = date(y, mo, d)
    if not last:
        return first
    if m[3]:
        return date.fromordinal(first.toordinal() + 1)
    if m[2]:
        return date(y + 1, 1, 1) if mo == 12 else date(y, mo + 1, 1)
    return date(y + 1, 1, 1)


def period(value: str) -> tuple[str, str]:
    """A `date:`/`received:` value as [start, end) ISO days: a year, month or day, or a range
    FROM..TO of them (either side may be left open: `2012..`, `..2014`)."""
    start, dots, end = value.partition("..")
    if not dots:
        end = start
    lo = _day(start, last=False).isoformat() if start.strip() else "0001-01-01"
    hi = _day(end, last=True).isoformat() if end.strip() else "9999-12-31"
    if lo >= hi:
        raise ValueError(value)
    return lo, hi


def parse(q: str) -> Query:
    """Parse what was typed; raises QueryError that says where. `*` alone means everything
    the caller may see (to browse, with filters or without)."""
    if len(q) > 4000:
        raise QueryError("the query is longer than 4,000 characters", 4000, q[:4000])
    p = _Parser(q)
    node = p.parse()
    if node is None and not p.filters and "*" not in q:
        raise QueryError(
            "the query is empty: type words to search for, a filter, or * for everything", 0, q
        )
    return Query(text=q, match=node, filters=p.filters)


def clause(name: str, value: str) -> str:
    """One filter as the query language writes it (quoted when it holds a space)."""
    if name not in FIELDS:
        raise QueryError(f"unknown field '{name}:' (fields are {_FIELD_LIST})", 0, name)
    if '"' in value:
        raise QueryError(f"a '{name}:' value cannot hold a quote", 0, f"{name}:{value}")
    quoted = any(c.isspace() or c in '()"' for c in value) or not value
    return f'{name}:"{value}"' if quoted else f"{name}:{value}"


def with_filters(words: str, filters: list[tuple[str, str]]) -> str:
    """The query that runs when filters are chosen apart from the words (the search page's
    chips): the words, grouped when they hold an OR, then each filter; validated by `parse`."""
    if not filters:
        return words
    clauses = " ".join(clause(n, v) for n, v in filters)
    parse(clauses)  # a wrong filter is named on its own, not inside the words
    if not words.strip() or words.strip() == "*":
        return clauses
    typed = parse(words)  # the words' own error, where it is in what was typed
    if len(typed.filters) + len(filters) > MAX_FILTERS:
        raise QueryError(f"at most {MAX_FILTERS} filters in one search", len(words), words)
    try:
        parse(f"{words} {clauses}")
        return f"{words} {clauses}"
    except QueryError:
        return f"({words}) {clauses}"


def type_prefixes(value: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(exact media types, media-type prefixes) a `type:` value stands for."""
    if "/" in value:
        if value.endswith("*"):
            return (), (value.rstrip("*"),)
        return (value,), ()
    return (), TYPE_ALIASES[value]
