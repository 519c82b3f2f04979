"""Record linkage of person lists: which records of two lists (or of one) are the same person.

A Fellegi-Sunter model (Splink, on DuckDB embedded or on PostgreSQL: `amanah.persons.engines`)
scores candidate pairs field by field:

- every name part in its own field (ism, father, grandfather, family, mother), so brothers
  (same father and grandfather, another ism) and a grandfather and the grandson named after him
  (same ism and family, another father, born 50-70 years later) disagree where it counts;
- name parts compared in the forms of `amanah.persons.name_forms`: PDF damage repaired or made
  harmless, distances per letter (not per UTF-8 byte), Arabic against Latin by romanisation
  and consonants; a one-letter difference is a typo only where one side is no attested name;
- agreement weighted by how rare the name is in the lists (term frequencies: محمد is weak
  evidence, طنبوره strong);
- birth years compared within the spread the record gives (an age is a year either way), sex,
  governorate, place of birth.

The model's parameters are estimated from the lists themselves (u by random sampling, m by
expectation maximisation), starting from priors that say what a drifted release looks like.
A record's key names it in results and is never compared. Pairs at or above the threshold are
links; links form clusters (connected components); pairs whose weight is within `review_margin`
bits of the threshold's are flagged for review.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from amanah.persons.engines import ENGINES, EngineError, open_engine
from amanah.persons.name_forms import EMPTY, forms, place, romanised
from amanah.persons.record import PersonRecord

#: A pair at or above this probability is a link.
THRESHOLD = 0.9
#: Pairs whose match weight is within this many bits of the threshold's go to review.
REVIEW_MARGIN = 4.0
#: Pairs below this probability are not reported at all.
FLOOR = 0.01
#: Evidence linkage (amanah.persons.evidence): pairs this far below the name matcher's
#: threshold are offered for review too. Here, beside the other runs' parameters, so that
#: the command line shows the default without importing the evidence engine.
EVIDENCE_MARGIN = 0.15
NAME_PARTS = ("ism", "father", "grandfather", "family", "mother")

# Candidate pairs: records that agree exactly (in damage-proof form) on three name parts, or on
# the consonants of three (Latin against Arabic), or on two and the birth year. Every rule is
# selective at 1,000,000 records: no rule rests on one name part alone.
BLOCKING_RULES = (
    "l.ism_d = r.ism_d AND l.father_d = r.father_d AND l.family_d = r.family_d",
    "l.ism_d = r.ism_d AND l.father_d = r.father_d AND l.grandfather_d = r.grandfather_d",
    "l.father_d = r.father_d AND l.grandfather_d = r.grandfather_d AND l.family_d = r.family_d",
    "l.ism_d = r.ism_d AND l.grandfather_d = r.grandfather_d AND l.family_d = r.family_d",
    "l.ism_c = r.ism_c AND l.father_c = r.father_c AND l.family_c = r.family_c",
    "l.ism_d = r.ism_d AND l.family_d = r.family_d AND l.birth_year = r.birth_year",
    "l.father_d = r.father_d AND l.family_d = r.family_d AND l.birth_year = r.birth_year",
    "l.ism_d = r.ism_d AND l.father_d = r.father_d AND l.birth_year = r.birth_year",
    "l.ism_c = r.ism_c AND l.family_c = r.family_c AND l.birth_year = r.birth_year",
    "l.father_c = r.father_c AND l.family_c = r.family_c AND l.birth_year = r.birth_year",
)
# The rule for estimating m by expectation maximisation: the pairs it admits agree on ism and
# birth year, so the father's, grandfather's and family's m are learnt from pairs that are
# nearly all one person. (A rule on father and family would admit brothers, the commonest
# near-match, and teach the model that the ism often differs within one person: the ism's and
# the birth year's m are priors.)
_EM_RULES = ("l.ism_d = r.ism_d AND l.birth_year = r.birth_year",)
#: Pairs the EM rule admits that m is estimated from, at most: the rule's pairs grow with the
#: square of the list (every two records of one common ism and birth year: about 2 million at
#: 100,000 records, 200 million at 1,000,000), m is a share of them, and a uniform sample of a
#: few million gives the same shares. Above this, the rule keeps a fixed share of its pairs,
#: chosen by their uids (the same SQL on every engine).
EM_PAIRS = 5_000_000
# Pairs surely the same person, to start the estimate of how many pairs are matches
# (`_Linker._prior_shift` ends it).
_DETERMINISTIC = (
    "l.ism_n = r.ism_n AND l.father_n = r.father_n AND l.family_n = r.family_n"
    " AND l.birth_year = r.birth_year",
)


#: Rounds of the prior's fixed point (`_Linker._prior_shift`): the sum is dominated by pairs
#: that are matches whatever the prior, so it settles in two or three.
_PRIOR_ROUNDS = 4


class LinkageError(ValueError):
    """The lists cannot be linked as asked (said in words, no names)."""


@dataclass(frozen=True)
class Pair:
    """A candidate pair: the two records' lists and keys, the probability that they are one
    person, whether that makes a link, whether it is close enough to the threshold to need a
    person's review, and per comparison the level met and its weight (log2 Bayes factor)."""

    a_list: str
    a: str
    b_list: str
    b: str
    score: float
    match: bool
    review: bool
    explanation: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "a_list": self.a_list,
            "b_list": self.b_list,
            "score": round(self.score, 6),
            "match": self.match,
            "review": self.review,
            "explanation": self.explanation,
        }


# -- the model ----------------------------------------------------------------------------------


def _level(sql: str, label: str, m: float | None, **extra: Any) -> dict[str, Any]:
    out = {"sql_condition": sql, "label_for_charts": label, **extra}
    if m is not None:
        out["m_probability"] = m
    return out


#: The prior m of a name part that differs in every form: how often one person's part is
#: written as another name. The ism is the most carefully written part (and the only one that
#: tells brothers apart, who share the other three: their agreement is not independent
#: evidence, so a differing ism must outweigh it); father and grandfather are trained.
_DIFFERENT = {"ism": 1e-9, "father": 0.01, "grandfather": 0.02, "family": 0.01, "mother": 0.02}


#: ... and of a part equal to another attested name once PDF damage is made harmless: how often
#: a record's damage turns the name into that other name.
_CONFUSED = {"ism": 0.01, "father": 0.01, "grandfather": 0.01, "family": 0.01, "mother": 0.01}

#: ... and of a part met across scripts by its consonants only (محمد and Mahmud meet so).
_CONSONANTS_ONLY = {
    "ism": 1e-4,
    "father": 0.01,
    "grandfather": 0.01,
    "family": 0.01,
    "mother": 0.01,
}


def _name_comparison(part: str) -> dict[str, Any]:
    """One name part: exact, equal once PDF damage is made harmless, one letter apart where one
    side is no attested name (a typo: حسن/حسين and محمد/محمود are two names), a romanisation
    of the Arabic side equal to the Latin side, equal consonants across scripts, or different.
    Every agreeing level is weighted by how common the name is
    (`_term_frequencies`): agreeing on محمد in any form is weak evidence."""
    c = f"{part}_"
    tf = {"tf_adjustment_column": f"{c}n", "tf_adjustment_weight": 1.0}
    return {
        "output_column_name": part,
        "comparison_levels": [
            _level(f"{c}n_l IS NULL OR {c}n_r IS NULL", "unknown", None, is_null_level=True),
            _level(f"{c}n_l = {c}n_r", "exact", 0.85, **tf),
            _level(
                # صلاح and صالح: two names, and each the other's PDF damage. Brothers so named
                # share every other part, so what this agreement is worth is what a damaged
                # record's name is worth against the other name's frequency: m over the
                # name's share (not the level's u, an average over every damaged name)
                f"{c}d_l = {c}d_r AND {c}k_l AND {c}k_r",
                "two names PDF damage confuses",
                _CONFUSED[part],
                **tf,
                disable_tf_exact_match_detection=True,
            ),
            _level(f"{c}d_l = {c}d_r", "equal after PDF repair", 0.05, **tf),
            _level(
                # the length test first: it means nothing more (one edit changes a length by
                # at most one) and spares PostgreSQL most calls of its PL/pgSQL distance
                f"abs(length({c}u_l) - length({c}u_r)) <= 1"
                f" AND least(length({c}u_l), length({c}u_r)) >= 3"
                f" AND damerau_levenshtein({c}u_l, {c}u_r) <= 1"
                f" AND NOT ({c}k_l AND {c}k_r)",
                "one letter apart, not two names",
                0.04,
                **tf,
            ),
            _level(
                f"{c}s_l <> {c}s_r AND ((' ' || {c}r_l || ' ') LIKE ('% ' || {c}n_r || ' %')"
                f" OR (' ' || {c}r_r || ' ') LIKE ('% ' || {c}n_l || ' %'))",
                "romanised alike",
                0.05,
                **tf,
            ),
            _level(
                f"{c}s_l <> {c}s_r AND {c}c_l = {c}c_r",
                "same consonants across scripts",
                _CONSONANTS_ONLY[part],
                **tf,
            ),
            _level("ELSE", "different", _DIFFERENT[part]),
        ],
    }


#: Years beyond the records' spreads from which two records are of two generations: a father
#: and his son, a grandfather and the grandson named after him (50-70 years apart).
GENERATION = 15
#: The prior m of birth years a generation apart: a veto. No weight of names may outweigh it
#: (four rare names agreeing weigh about 55 bits, this about -66): a grandfather and his
#: grandson share every name the grandson was named after. (At 1e-4, about -13 bits, names
#: outweighed it: such pairs were links at 100,000 records.)
_GENERATION_APART = 1e-20


def _birth_comparison() -> dict[str, Any]:
    """Birth years: consistent within the records' spreads, a year beyond, a few years,
    within `GENERATION` years beyond the spreads, or a generation apart (never one person)."""
    diff = "abs(birth_year_l - birth_year_r)"
    spread = "(birth_year_spread_l + birth_year_spread_r)"
    return {
        "output_column_name": "birth_year",
        "comparison_levels": [
            _level(
                "birth_year_l IS NULL OR birth_year_r IS NULL", "unknown", None, is_null_level=True
            ),
            _level(f"{diff} = 0", "same year", 0.84),
            _level(f"{diff} <= {spread}", "consistent within the spread", 0.1),
            _level(f"{diff} <= {spread} + 1", "a year beyond the spread", 0.05),
            _level(f"{diff} <= {spread} + 5", "within five years", 0.01),
            _level(f"{diff} <= {spread} + {GENERATION}", "far apart", 1e-5),
            _level("ELSE", "a generation apart", _GENERATION_APART),
        ],
    }


def _exact_comparison(column: str, m_same: float = 0.95) -> dict[str, Any]:
    return {
        "output_column_name": column,
        "comparison_levels": [
            _level(
                f"{column}_l IS NULL OR {column}_r IS NULL", "unknown", None, is_null_level=True
            ),
            _level(f"{column}_l = {column}_r", "same", m_same),
            _level("ELSE", "different", 1 - m_same),
        ],
    }


def settings(
    link_type: str, present: set[str] | None = None, dialect: str = "duckdb"
) -> dict[str, Any]:
    """The Splink settings of the model (priors as m probabilities; u and m estimated), with
    the comparisons of the fields in `present` (all when None): a field no record gives
    carries no evidence and cannot be trained. Its SQL is one text for every engine's
    `dialect` (`amanah.persons.engines` says why it means the same on each)."""
    comparisons = [
        *(_name_comparison(p) for p in NAME_PARTS),
        _birth_comparison(),
        _exact_comparison("sex", 0.999),
        _exact_comparison("governorate", 0.95),
        _exact_comparison("place", 0.9),
    ]
    if present is not None:
        comparisons = [c for c in comparisons if c["output_column_name"] in present]
    return {
        "link_type": link_type,
        "unique_id_column_name": "uid",
        "probability_two_random_records_match": 1e-4,
        "comparisons": comparisons,
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": r, "sql_dialect": dialect} for r in BLOCKING_RULES
        ],
        "retain_intermediate_calculation_columns": True,
        "retain_matching_columns": False,
        "additional_columns_to_retain": [],
    }


# -- the lists as tables ------------------------------------------------------------------------


def _with_parts(record: PersonRecord) -> PersonRecord:
    """A record that gives only a full name, with its parts as the name matcher parses them
    (ism, father, grandfather, family; بن and compounds understood)."""
    if not record.full_name or any(getattr(record, p) for p in NAME_PARTS[:4]):
        return record
    from amanah.text.name_match import parse

    name = parse(record.full_name)

    def part(role: str) -> str:
        return " ".join(p.text for p in name.get(role))

    return replace(
        record,
        ism=part("ism"),
        father=part("father"),
        grandfather=part("grandfather"),
        family=part("family"),
    )


def _table(
    records: Sequence[PersonRecord],
    first_uid: int,
    keys: list[tuple[str, str]],
    latin: dict[str, str],
) -> Any:
    """The records as a columnar table of compared forms; `keys` receives (list, key) by uid."""
    import pyarrow as pa

    cols: dict[str, list[Any]] = {"uid": []}
    for p in NAME_PARTS:
        for f in "nduscrk":
            cols[f"{p}_{f}"] = []
    for extra in ("birth_year", "birth_year_spread", "sex", "governorate", "place"):
        cols[extra] = []
    uid = first_uid
    for r in records:
        keys.append((r.list_name, r.key))
        cols["uid"].append(uid)
        uid += 1
        for p in NAME_PARTS:
            value = getattr(r, p)
            fm = forms(value) if value else EMPTY
            cols[f"{p}_n"].append(fm.n or None)
            cols[f"{p}_d"].append(fm.d or None)
            cols[f"{p}_u"].append(fm.u or None)
            cols[f"{p}_s"].append(fm.script or None)
            cols[f"{p}_c"].append(fm.c or None)
            cols[f"{p}_k"].append(fm.known)
            cols[f"{p}_r"].append(latin.get(value) or None)
        cols["birth_year"].append(r.birth_year)
        cols["birth_year_spread"].append(max(0, r.birth_year_spread or 0))
        cols["sex"].append(r.sex or None)
        cols["governorate"].append(r.governorate or None)
        cols["place"].append(place(r.place_of_birth) or None if r.place_of_birth else None)
    schema = {"uid": pa.int64(), "birth_year": pa.int32(), "birth_year_spread": pa.int32()}
    schema.update({f"{p}_k": pa.bool_() for p in NAME_PARTS})
    return pa.table(
        {
            name: pa.array(values, type=schema.get(name, pa.string()))
            for name, values in cols.items()
        }
    )


_EQUAL = re.compile(r"l\.(\w+) = r\.\1\b")


def _rule_columns(rule: str) -> tuple[str, ...]:
    """The columns a blocking rule asks to be equal ("l.ism_d = r.ism_d AND ..." → ism_d, ...)."""
    return tuple(_EQUAL.findall(rule))


_FORMS = {"s": "script", "k": "known"}


def _column(record: PersonRecord, column: str) -> Any:
    """A record's value of a table column (`_table`): "ism_d" is its ism's damage-proof form;
    None where the table holds NULL."""
    part, _, form = column.rpartition("_")
    if part in NAME_PARTS:
        value = getattr(record, part)
        return getattr(forms(value), _FORMS.get(form, form)) or None if value else None
    return getattr(record, column)


def _to_romanise(lists: Sequence[Sequence[PersonRecord]]) -> set[str]:
    """The name parts whose romanisations a run can compare. Romanising is the slow step (a
    model runs for every part the romanizer's dictionary lacks: most rare family names, about
    4 ms each), and "romanised alike" is only ever asked of two records of which one gives a
    part in Latin: such a record's parts, and those of every record a blocking rule (or the
    EM rule) can pair with it, which share its values on the rule's columns. The other
    records' parts meet Latin ones only in the pairs sampled at random to estimate u."""
    records = [r for rs in lists for r in rs]
    latin = [r for r in records if any(_column(r, f"{p}_s") == "la" for p in NAME_PARTS)]
    if not latin:
        return set()
    rules = [_rule_columns(rule) for rule in (*BLOCKING_RULES, *_EM_RULES)]
    met: list[set[tuple[Any, ...]]] = []
    for columns in rules:
        keys = (tuple(_column(r, c) for c in columns) for r in latin)
        met.append({k for k in keys if None not in k})
    out: set[str] = set()
    for r in records:
        if any(
            tuple(_column(r, c) for c in columns) in keys
            for columns, keys in zip(rules, met, strict=True)
        ):
            out.update(v for p in NAME_PARTS if (v := getattr(r, p)))
    for r in latin:
        out.update(v for p in NAME_PARTS if (v := getattr(r, p)))
    return out


def _romanisations(lists: Sequence[Sequence[PersonRecord]]) -> dict[str, str]:
    """The romanised skeletons of the name parts that can meet a Latin part (`_to_romanise`;
    none when no part is written in Latin)."""
    values = _to_romanise(lists)
    return romanised(sorted(values)) if values else {}


# -- linking ------------------------------------------------------------------------------------


def _probability_to_weight(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log2(p / (1 - p))


def link(
    records_a: Sequence[PersonRecord],
    records_b: Sequence[PersonRecord] | None = None,
    threshold: float = THRESHOLD,
    review_margin: float = REVIEW_MARGIN,
    floor: float = FLOOR,
    max_pairs_u: float = 1e6,
    train: bool = True,
    engine: str = "duckdb",
    database_url: str | None = None,
) -> Iterator[Pair]:
    """Candidate pairs across two lists, or within one (`records_b` None: de-duplication),
    with a probability of at least `floor`, in no particular order."""
    lists = [records_a] if records_b is None else [records_a, records_b]
    yield from link_lists(
        lists, threshold, review_margin, floor, max_pairs_u, train, engine, database_url
    )


def link_lists(
    lists: Sequence[Sequence[PersonRecord]],
    threshold: float = THRESHOLD,
    review_margin: float = REVIEW_MARGIN,
    floor: float = FLOOR,
    max_pairs_u: float = 1e6,
    train: bool = True,
    engine: str = "duckdb",
    database_url: str | None = None,
) -> Iterator[Pair]:
    """Candidate pairs of records from different lists (one list: within it), computed on
    `engine` ("duckdb" embedded, or "postgresql" in a private schema of `database_url`)."""
    if not 0 < threshold < 1:
        raise LinkageError(f"the threshold must be between 0 and 1, not {threshold}")
    if not 0 <= floor < 1:
        raise LinkageError(f"the floor must be between 0 and 1, not {floor}")
    if engine not in ENGINES:
        raise LinkageError(f"no linkage engine {engine!r}: one of {', '.join(ENGINES)}")
    given = [list(x) for x in lists if x]
    if not given or (len(given) == 1 and len(given[0]) < 2):
        return
    yield from _Linker(given, engine, database_url).run(
        threshold, review_margin, floor, max_pairs_u, train
    )


class _Linker:
    """One linkage run on a private engine (`amanah.persons.engines`)."""

    def __init__(self, lists: list[list[PersonRecord]], engine: str, database_url: str | None):
        self.keys: list[tuple[str, str]] = []
        self.engine_name, self.database_url = engine, database_url
        lists = [[_with_parts(r) for r in records] for records in lists]
        latin = _romanisations(lists)
        self.tables = []
        for records in lists:
            self.tables.append(_table(records, len(self.keys), self.keys, latin))
        self.link_type = "link_only" if len(lists) > 1 else "dedupe_only"
        #: the prior the run scored with (`_prior_shift`), once it has
        self.prior: float | None = None

    def _present(self) -> set[str]:
        """The compared fields that some record of every list gives."""
        out = None
        for t in self.tables:
            given = {
                name
                for name in (*NAME_PARTS, "birth_year", "sex", "governorate", "place")
                if t.column(f"{name}_n" if name in NAME_PARTS else name).null_count < len(t)
            }
            out = given if out is None else out & given
        return out or set()

    def _linker(self, engine: Any) -> Any:
        from splink import Linker

        api = engine.api()
        frames = [engine.register(api, t, f"persons_{i}") for i, t in enumerate(self.tables)]
        present = self._present()
        model = settings(self.link_type, present, engine.dialect)
        linker = Linker(frames if len(frames) > 1 else frames[0], model, log_level=None)
        for part in NAME_PARTS:
            if part in present:
                lookup = engine.register(api, self._term_frequencies(part), f"tf_{part}")
                linker.table_management.register_term_frequency_lookup(lookup, f"{part}_n")
        return linker

    def _term_frequencies(self, part: str) -> Any:
        """How common each value of a name part is, as a share of the records giving the part,
        counted across scripts: an Arabic value by its normal form, a Latin one by its
        consonants, which Arabic records of the name share (Mohammad: every محمد, and محمود).
        Splink's own count, per normal form, put a Latin spelling among the few records
        written in Latin: Mohammad weighed as a rare name (8.3 bits against محمد's 2.8) and
        Latin namesakes were linked."""
        import pyarrow as pa

        cols = [f"{part}_n", f"{part}_s", f"{part}_c"]
        rows = pa.concat_tables([t.select(cols) for t in self.tables]).drop_null()
        total = len(rows)
        by_value = rows.group_by(cols).aggregate([([], "count_all")]).to_pylist()
        by_consonants: dict[str, int] = {}
        for r in by_value:
            by_consonants[r[cols[2]]] = by_consonants.get(r[cols[2]], 0) + r["count_all"]
        tf: dict[str, float] = {}
        for r in by_value:
            n = r["count_all"] if r[cols[1]] != "la" else by_consonants[r[cols[2]]]
            value = r[cols[0]]
            tf[value] = max(tf.get(value, 0.0), n / total)
        return pa.table(
            {
                f"{part}_n": pa.array(list(tf), type=pa.string()),
                f"tf_{part}_n": pa.array(list(tf.values()), type=pa.float64()),
            }
        )

    def _all_pairs(self) -> int:
        """How many pairs the run could make: within the list, or across the lists."""
        sizes = [len(t) for t in self.tables]
        if self.link_type == "dedupe_only":
            return sizes[0] * (sizes[0] - 1) // 2
        return sum(a * b for i, a in enumerate(sizes) for b in sizes[i + 1 :])

    def _prior_shift(self, engine: Any, predictions: str, prior: float) -> float:
        """The shift of every pair's weight that makes the prior (the probability that two
        records drawn at random are one person) equal the share of matches the scores
        themselves expect: their sum over every pair the run could make (Fellegi-Sunter's
        fixed point for the prior, m and u held). The count of pairs that agree exactly on
        three names and the year (`_DETERMINISTIC`), divided by an assumed recall, starts it;
        it counts namesakes too and assumes the recall, and was 1.4 times the truth on the
        generated lists at 100,000 and 300,000 records. The sum is over the reported pairs
        (p ≥ floor): the rest add little."""
        total = self._all_pairs()
        base = _probability_to_weight(prior)
        shift = 0.0
        for _ in range(_PRIOR_ROUNDS):
            # a table name of Splink's; the shift is a float this run computed
            sql = (
                f"SELECT sum(1.0 / (1.0 + power(2.0, -(match_weight + {shift!r}))))"  # noqa: S608
                f" FROM {predictions}"
            )
            expected = next(iter(engine.rows(sql)))[0] or 0.0
            estimate = min(max(float(expected) / total, 1e-15), 0.5)
            shift = _probability_to_weight(estimate) - base
        return shift

    def _rule_pairs(self, rule: str) -> int:
        """How many pairs an equality rule admits (within a list or across lists, as the run
        links), counted on the tables: one group-by, no pair made."""
        columns = list(_rule_columns(rule))
        counts: dict[tuple[Any, ...], list[int]] = {}
        for i, t in enumerate(self.tables):
            groups = t.select(columns).drop_null().group_by(columns).aggregate([([], "count_all")])
            keys = zip(*(groups.column(c).to_pylist() for c in columns), strict=True)
            for key, n in zip(keys, groups.column("count_all").to_pylist(), strict=True):
                counts.setdefault(key, [0] * len(self.tables))[i] = n
        if self.link_type == "dedupe_only":
            return sum(n * (n - 1) // 2 for (n,) in counts.values())
        return sum(
            sum(c[i] * c[j] for i in range(len(c)) for j in range(i + 1, len(c)))
            for c in counts.values()
        )

    def _em_rule(self, rule: str) -> str:
        """The EM rule, keeping a fixed share of its pairs (by a hash of their uids) when it
        admits more than EM_PAIRS."""
        pairs = self._rule_pairs(rule)
        if pairs <= EM_PAIRS:
            return rule
        per_mille = max(1, EM_PAIRS * 1000 // pairs)
        return f"{rule} AND (l.uid * 2654435761 + r.uid * 40503) % 1000 < {per_mille}"

    def _train(self, linker: Any, max_pairs_u: float) -> None:
        linker.training.estimate_probability_two_random_records_match(
            list(_DETERMINISTIC), recall=0.6
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs_u, seed=1)
        for rule in _EM_RULES:
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(
                    self._em_rule(rule), estimate_without_term_frequencies=True
                )
            except Exception as e:  # too few pairs to train on: the priors stand
                if _lost(e):
                    raise
                logging.getLogger(__name__).info("m not re-estimated: %s", type(e).__name__)

    def run(
        self, threshold: float, margin: float, floor: float, max_pairs_u: float, train: bool
    ) -> Iterator[Pair]:
        try:
            engine = open_engine(self.engine_name, self.database_url)
        except EngineError as e:
            raise LinkageError(str(e)) from None
        try:
            yield from self._run(engine, threshold, margin, floor, max_pairs_u, train)
        except Exception as e:
            if _lost(e):
                raise LinkageError(
                    f"the {self.engine_name} engine failed during the run"
                    f" ({type(e).__name__}); nothing was kept, run the linkage again"
                ) from None
            raise
        finally:
            engine.close()

    def _run(
        self,
        engine: Any,
        threshold: float,
        margin: float,
        floor: float,
        max_pairs_u: float,
        train: bool,
    ) -> Iterator[Pair]:
        logging.getLogger("splink").setLevel(logging.ERROR)
        linker = self._linker(engine)
        if train:
            self._train(linker, max_pairs_u)
        predictions = linker.inference.predict(threshold_match_probability=floor)
        cut = _probability_to_weight(threshold)
        shift = 0.0
        if train:
            prior = linker._settings_obj._probability_two_random_records_match
            shift = self._prior_shift(engine, predictions.physical_name, prior)
            self.prior = 1.0 / (1.0 + 2.0 ** -(_probability_to_weight(prior) + shift))
        levels = _trained_levels(linker)
        have = engine.columns(predictions.physical_name)
        cols = ["uid_l", "uid_r", "match_weight"]
        for c in levels:
            cols.append(f"mw_{c}")
            cols.append(f"mw_tf_adj_{c}" if f"mw_tf_adj_{c}" in have else "0.0")
        # table and column names are Splink's and this module's, never from the lists
        sql = f"SELECT {', '.join(cols)} FROM {predictions.physical_name}"  # noqa: S608
        for row in engine.rows(sql):
            pair = self._pair(row, levels, cut, margin, shift)
            if pair.score >= floor:
                yield pair

    def _pair(
        self,
        row: tuple[Any, ...],
        levels: dict[str, list[tuple[str, float]]],
        cut: float,
        margin: float,
        shift: float,
    ) -> Pair:
        uid_l, uid_r, weight = row[:3]
        weight = float(weight) + shift
        prob = 1.0 / (1.0 + 2.0 ** min(-weight, 1000.0))
        explanation: dict[str, dict[str, Any]] = {}
        for i, (c, options) in enumerate(levels.items()):
            mw, tf = row[3 + 2 * i], row[4 + 2 * i] or 0.0
            # the level met is the one whose weight this is (Splink reports weights only)
            label = min(options, key=lambda o: abs(o[1] - mw))[0]
            explanation[c] = {"level": label, "weight": round(float(mw) + float(tf), 3)}
        (la, ka), (lb, kb) = self.keys[uid_l], self.keys[uid_r]
        return Pair(
            la,
            ka,
            lb,
            kb,
            float(prob),
            bool(weight >= cut),
            bool(abs(weight - cut) < margin),
            explanation,
        )


def _lost(exc: BaseException) -> bool:
    """Whether an error is the database's (a killed connection, a server gone), not the
    model's: such a run stops with a clear error, never falls back to the priors."""
    seen: BaseException | None = exc
    while seen is not None:  # Splink wraps the driver's error in its own
        if type(seen).__module__.startswith(("sqlalchemy", "psycopg")):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _trained_levels(linker: Any) -> dict[str, list[tuple[str, float]]]:
    """Each comparison's levels as (label, match weight) once the model is trained."""
    out: dict[str, list[tuple[str, float]]] = {}
    for comp in linker._settings_obj.comparisons:
        out[comp.output_column_name] = [
            (lv.label_for_charts, lv._match_weight if lv._match_weight is not None else 0.0)
            for lv in comp.comparison_levels
        ]
    return out


def clusters(pairs: Iterable[Pair]) -> list[set[tuple[str, str]]]:
    """The connected components of the links (pairs with `match`): each one person, as the set
    of its records' (list, key). Records linked to nothing are not listed."""
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(x: tuple[str, str]) -> tuple[str, str]:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for p in pairs:
        if p.match:
            ra, rb = find((p.a_list, p.a)), find((p.b_list, p.b))
            if ra != rb:
                parent[ra] = rb
    groups: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for x in parent:
        groups.setdefault(find(x), set()).add(x)
    return list(groups.values())
