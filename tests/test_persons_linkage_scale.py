"""What keeps a linkage run's cost near linear in the list: romanising only the parts a Latin
part can meet, training m on a bounded sample of the EM rule's pairs; and the generated lists
the scale benchmark reads (fast to make, kept once made, the same draws as before)."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from amanah.persons import linkage
from amanah.persons.linkage import link
from amanah.persons.record import PersonRecord
from benchmarks.persons_lists import FAMILIES, _Pool, cached_duplicated, make_duplicated


def _rec(key: str, ism: str, father: str, family: str, year: int = 1980) -> PersonRecord:
    return PersonRecord(
        key=key,
        list_name="A",
        ism=ism,
        father=father,
        grandfather="",
        family=family,
        sex="m",
        birth_year=year,
    )


LATIN = _rec("latin", "Ahmad", "Hassan", "al-Khatib")
PARTNER = _rec("partner", "أحمد", "حسن", "الخطيب")  # the same man in Arabic script
UNRELATED = _rec("unrelated", "زهير", "منذر", "طنبورة", 1961)


def test_only_parts_a_latin_record_can_meet_are_romanised() -> None:
    values = linkage._to_romanise([[LATIN, PARTNER, UNRELATED]])
    assert {"Ahmad", "Hassan", "al-Khatib", "أحمد", "حسن", "الخطيب"} <= values
    assert not values & {"زهير", "منذر", "طنبورة"}  # no rule pairs it with a Latin record
    assert linkage._to_romanise([[PARTNER, UNRELATED]]) == set()  # one script: none
    # and the Arabic partner still meets the Latin record by romanisation
    romanised = linkage._romanisations([[LATIN, PARTNER, UNRELATED]])
    assert "ahmad" in romanised["أحمد"].split()
    assert "زهير" not in romanised


def test_an_arabic_record_paired_with_a_latin_one_only_by_its_birth_year_is_romanised() -> None:
    # a rule of two parts and the birth year (ism, family, year): father spelt past it
    latin = _rec("latin", "Ahmad", "Zuhair", "al-Khatib", 1975)
    arabic = _rec("arabic", "أحمد", "منذر", "الخطيب", 1975)
    assert "منذر" in linkage._to_romanise([[latin, arabic]])
    assert "منذر" not in linkage._to_romanise([[latin, replace(arabic, birth_year=1990)]])


def test_rule_pairs_counts_what_the_rule_admits() -> None:
    records, _ = make_duplicated(400, seed=3)
    run = linkage._Linker([records], "duckdb", None)
    rule = linkage._EM_RULES[0]
    columns = linkage._rule_columns(rule)
    assert columns == ("ism_d", "birth_year")
    keys = [tuple(linkage._column(r, c) for c in columns) for r in records]
    brute = sum(
        1
        for i, k in enumerate(keys)
        for j in range(i + 1, len(keys))
        if None not in k and k == keys[j]
    )
    assert run._rule_pairs(rule) == brute
    # across two lists: pairs with one record of each
    a, b = records[:200], records[200:]
    across = linkage._Linker([a, b], "duckdb", None)
    ka, kb = keys[:200], keys[200:]
    assert across._rule_pairs(rule) == sum(1 for x in ka for y in kb if None not in x and x == y)


@pytest.mark.slow
def test_em_rule_is_sampled_above_em_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    records, _ = make_duplicated(1200, seed=3)
    rule = linkage._EM_RULES[0]
    run = linkage._Linker([records], "duckdb", None)
    assert run._em_rule(rule) == rule
    full = {(p.a, p.b) for p in link(records) if p.match}
    monkeypatch.setattr(linkage, "EM_PAIRS", run._rule_pairs(rule) // 2)  # half of them
    sampled_rule = linkage._Linker([records], "duckdb", None)._em_rule(rule)
    assert sampled_rule.startswith(rule) and "% 1000 <" in sampled_rule
    sampled = {(p.a, p.b) for p in link(records) if p.match}
    # m learnt from a sample: the same links but for a handful near the threshold
    assert len(full ^ sampled) <= len(full) // 100, (len(full), len(full ^ sampled))


def test_pool_draws_are_those_of_choices_with_weights() -> None:
    items = FAMILIES
    pool = _Pool(random.Random(4), items)
    rng = random.Random(4)
    plain = [rng.choices([(a, la) for a, la, _ in items], [w for *_, w in items])[0]]
    plain += [rng.choices([(a, la) for a, la, _ in items], [w for *_, w in items])[0]]
    assert [pool.draw(), pool.draw()] == plain


def test_cached_list_is_the_generated_one(tmp_path: Path) -> None:
    made = make_duplicated(500, seed=2)
    first = cached_duplicated(500, seed=2, cache=tmp_path)
    (kept,) = tmp_path.iterdir()
    again = cached_duplicated(500, seed=2, cache=tmp_path)
    assert first == made and again == made
    assert list(tmp_path.iterdir()) == [kept]  # read, not made again
