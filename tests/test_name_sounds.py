"""Foreign names in Arabic letters (issue 15): the second reading, by sound, matches them to
their Latin spelling (vowels written as long letters or left out, g/v/p/ch/z written with the
nearest Arabic letters, Greek and Latin endings, double and silent letters), while other
people (brothers, a father and his son, a name with another final vowel) are still not
matched. The names are public-domain historical ones written here, none from a data set."""

from __future__ import annotations

import pytest

from amanah.text import name_match as nm
from amanah.text import name_sounds as ns
from tests.conftest import SHARED_DATA

# Composers, writers, painters and scientists, as Arabic spells them, by class of spelling.
FOREIGN = {
    "g written غ": [("غوغول", "Gogol"), ("هيغل", "Hegel"), ("غويا", "Goya"), ("فاغنر", "Wagner")],
    "v written ف": [("فيفالدي", "Vivaldi"), ("فيرمير", "Vermeer"), ("بروكوفييف", "Prokofiev")],
    "p written ب": [("بيكاسو", "Picasso"), ("بوشكين", "Pushkin"), ("كيبلر", "Kepler")],
    "ch written تش or ش": [
        ("تشايكوفسكي", "Tchaikovsky"),
        ("تشيخوف", "Chekhov"),
        ("شوبان", "Chopin"),
        ("بوتشيني", "Puccini"),
        ("شوبرت", "Schubert"),
    ],
    "z written تس": [("موتسارت", "Mozart"), ("ليبنتس", "Leibniz")],
    "vowels written long": [("فولتير", "Voltaire"), ("تولستوي", "Tolstoy"), ("غاليليو", "Galileo")],
    "vowels left out": [("رامبرانت", "Rembrandt"), ("بترارك", "Petrarch"), ("بلزاك", "Balzac")],
    "Greek and Latin endings": [("كوبرنيكوس", "Copernicus"), ("سبينوزا", "Spinoza")],
    "double and silent letters": [("ماكيافيلي", "Machiavelli"), ("بيتهوفن", "Beethoven")],
}
ALL = [pair for pairs in FOREIGN.values() for pair in pairs]
LATIN = [latin for _, latin in ALL]


@pytest.fixture(scope="module", autouse=True)
def _romanised() -> None:
    nm.prepare_many([arabic for arabic, _ in ALL])


@pytest.mark.parametrize("kind", sorted(FOREIGN))
def test_foreign_names_match_their_latin_spelling(kind: str) -> None:
    for arabic, latin in FOREIGN[kind]:
        sc = nm.score(arabic, latin)
        assert sc.match, (kind, latin, sc.explain())
        ranked = sorted(LATIN, key=lambda other: -nm.score(arabic, other).value)
        assert ranked[0] == latin, (kind, latin, ranked[:3])


def test_the_reading_by_sound_is_named_in_the_explanation() -> None:
    """The names the romanizer reads as Arab names (Puccini as Butshini, Wagner as Faghnar)
    are found by sound, and the explanation says so."""
    for arabic, latin in [("بوتشيني", "Puccini"), ("فاغنر", "Wagner"), ("موتسارت", "Mozart")]:
        sc = nm.score(arabic, latin)
        assert sc.match
        assert sc.explanation[0].how == "by sound", sc.explain()


def test_wrong_records_stay_below_the_threshold() -> None:
    """Each name against the 39 others: no wrong record is called a match."""
    for arabic, latin in ALL:
        for other in LATIN:
            if other != latin:
                assert not nm.score(arabic, other).match, (latin, other)


def test_another_final_vowel_is_another_name() -> None:
    """Arabic writes a foreign final vowel: Petra is بيترا, Peter بيتر."""
    assert not nm.score("بيتر", "Petra").match
    assert not nm.score("بيترا", "Peter").match
    assert nm.score("بيتر", "Peter").match
    assert nm.score("بيترا", "Petra").match


def test_arab_names_read_by_consonants_alone_still_do_not_match() -> None:
    """محمد and Mahmoud share their consonants; the reading by sound does not make them one
    (the Arabic writes none of the Latin's inner vowels)."""
    assert not nm.score("محمد", "Mahmoud").match
    assert not nm.score("محمود", "Mohammad").match
    assert nm.score("محمد", "Mohammad").match
    assert nm.score("محمود", "Mahmoud").match


def test_foreign_brothers_and_father_and_son_are_not_matched() -> None:
    me = "فولفغانغ أماديوس موتسارت"
    assert nm.score(me, "Wolfgang Amadeus Mozart").match
    brother = nm.score(me, "Leopold Amadeus Mozart")  # another ism, same father and family
    son = nm.score(me, "Franz Wolfgang Mozart")  # his ism in the father's place
    assert not brother.match, brother.explain()
    assert not son.match, son.explain()
    assert "ism: contradicts" in brother.notes


def test_sound_readings() -> None:
    assert ns.arabic_sounds("بيتر") == "bitr"
    assert ns.arabic_sounds("تشيخوف") == "cixof"  # تش one sound, و a vowel
    assert ns.arabic_sounds("اوليفر") == "elifr"  # أو: the first vowel, of any quality
    assert ns.latin_sounds("peter") == ("bitir",)
    assert "giorg" in ns.latin_sounds("george")  # a silent final e
    assert {"bocini", "bosini"} <= set(ns.latin_sounds("puccini"))  # c soft or Italian
    assert ns.latin_sounds("") == ()
    assert ns.similarity("bitr", "bitir") > 0.9  # an inner vowel left out costs little
    assert ns.similarity("bitr", "bitra") <= ns.UNWRITTEN  # a final one is another name
    assert ns.similarity("mhmd", "mahmod") <= ns.UNWRITTEN  # consonants alone
    assert ns.similarity("", "bitr") == 0.0


def test_a_record_spelt_past_its_skeleton_shares_a_key_by_sound() -> None:
    """Celsius's soft c is a k in its Latin skeleton and an s in سلسيوس: only the keys by
    sound (one alphabet for both scripts) meet, so candidate search finds it."""
    arabic, latin = nm.keys("سلسيوس"), nm.keys("Celsius")
    shared = arabic & latin
    assert shared and all(k.startswith("s:") for k in shared), shared
    parsed = nm.parse("Celsius")
    assert "silsios" in nm.sound_readings(parsed)
    assert nm.sound_readings(nm.parse("سلسيوس")) == ["slsios"]


def test_french_silent_letters_are_read_for_foreign_names_only() -> None:
    """A French final consonant and initial h are not written in Arabic (Daudet دوديه, Didier
    ديدييه, Honoré أونوريه); the readings without them are a foreign name's, not an Arab
    name's (Ahmad is not read "Ahma")."""
    for arabic, latin in [("دوديه", "Daudet"), ("ديدييه", "Didier"), ("أونوريه", "Honore")]:
        sc = nm.score(arabic, latin)
        assert sc.match and sc.explanation[0].how == "by sound", sc.explain()
    assert "daodi" in ns.latin_sounds("daudet", True)
    assert "daodi" not in ns.latin_sounds("daudet")
    assert nm.parse("Ahmad").parts[0].sounds == ("ehmad",)


def test_another_vowel_at_the_same_place_is_one_swap() -> None:
    """Arabic writes the u of Turner with ي: a vowel for a vowel costs one swap, less than a
    vowel lost and another added (which left Turner at the cap of a reading by consonants),
    and still below an exact reading."""
    swapped = ns.similarity("tirnr", "tornir")
    assert ns.UNWRITTEN < swapped < 0.9
    assert ns.similarity("mhmd", "mahmod") <= ns.UNWRITTEN  # the guards hold
    assert ns.similarity("bitr", "bitra") <= ns.UNWRITTEN
    assert not nm.score("محمد", "Mahmoud").match
    assert not nm.score("بيتر", "Petra").match


# -- the real lists: Google's held-out split, ranked as the benchmark ranks it ------------------


@pytest.mark.skipif(
    not (SHARED_DATA / "google_ar2en_names" / "ar2en-test.txt").exists(),
    reason="no ../shared/data/google_ar2en_names",
)
def test_google_ar2en_test_recall_and_false_matches() -> None:
    """400 queries of the held-out split against their 400 records, the 20 nearest re-scored
    (`benchmarks.name_match`): recall@1 ≥ 0.97 and false matches ≤ 1% of pairs re-scored.
    Nothing about the names is printed: only the two rates on failure."""
    from benchmarks.name_match import Records, load, nearest

    pairs = load(SHARED_DATA, 400)["google_ar2en test"]
    queries, records = [a for a, _ in pairs], [b for _, b in pairs]
    nm.prepare_many(queries)
    recs = Records(records)
    first = false = scored = 0
    for qi, q in enumerate(queries):
        parsed = nm.parse(q)
        ranked = sorted(
            ((nm.score(parsed, records[i]), i) for i in nearest(q, parsed, recs)),
            key=lambda t: -t[0].value,
        )
        first += bool(ranked) and ranked[0][1] == qi
        false += sum(sc.match and i != qi for sc, i in ranked)
        scored += len(ranked)
    recall, rate = first / len(queries), false / scored
    assert recall >= 0.97 and rate <= 0.01, f"recall@1 {recall:.3f}, false matches {rate:.4f}"


def test_more_foreign_letters_are_read_as_they_sound() -> None:
    """ث writes the English th (Boethius, Smith); و a Persian or Turkish v (Pahlavi,
    Tavakoli); خ a Spanish j (Juárez); Hungarian sz is s and cs ch (Liszt, Széchenyi,
    Kocsis). Each pair met by sound only after its letter was read so."""
    assert ns.arabic_sounds("سميث") == "smit"
    assert "bahlaoi" in ns.latin_sounds("pahlavi")
    assert "xoaris" in ns.latin_sounds("juarez")
    assert "list" in ns.latin_sounds("liszt")
    pairs = [
        ("بهلوي", "Pahlavi"),
        ("توكلي", "Tavakoli"),
        ("خواريز", "Juarez"),
        ("ليست", "Liszt"),
        ("سيتشيني", "Szechenyi"),
        ("كوتشيش", "Kocsis"),
    ]
    nm.prepare_many([arabic for arabic, _ in pairs])
    for arabic, latin in pairs:
        sc = nm.score(arabic, latin)
        assert sc.match and sc.explanation[0].how == "by sound", sc.explain()
    assert not nm.score("محمد", "Mahmoud").match  # the guards hold
    assert not nm.score("بيتر", "Petra").match


def test_a_digraph_is_one_vowel_the_arabic_writes_once() -> None:
    """Dutch oe, German ie or oe are one vowel that Arabic writes with one long letter (or
    none): the cap of a reading by consonants alone counts vowels, not vowel letters; محمد
    still writes none of Mahmoud's."""
    assert ns.similarity("stor", "soitor") > ns.UNWRITTEN  # oe (oi) unwritten, o written
    assert ns.similarity("mhmd", "mahmod") <= ns.UNWRITTEN


def test_pinyin_x_english_gh_and_long_vowels() -> None:
    """Pinyin's x is sh (Xi, Xiang: شي, شيانغ); an English gh after a vowel is silent
    (Leigh لي, Vaughan فون); an English vowel before a silent final e is said long, as
    Arabic writes it (Blake بليك, Hyde هايد, White وايت)."""
    pairs = [
        ("شي", "Xi"),
        ("شيانغ", "Xiang"),
        ("لي", "Leigh"),
        ("فون", "Vaughan"),
        ("وايت", "White"),
    ]
    nm.prepare_many([arabic for arabic, _ in pairs] + ["بليك", "هايد"])
    for arabic, latin in pairs:
        sc = nm.score(arabic, latin)
        assert sc.match and sc.explanation[0].how == "by sound", sc.explain()
    assert nm.score("بليك", "Blake").value > 0.9  # was 0.82: a vowel swapped
    assert nm.score("هايد", "Hyde").value > 0.9
    assert "haid" in ns.latin_sounds("hyde", True)
    assert "haid" not in ns.latin_sounds("hyde")  # a foreign name's reading only
