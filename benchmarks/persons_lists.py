"""Synthetic person lists with the drift of real releases, and their ground truth.

Real lists of the missing and detained cannot be used in tests, so this makes lists that look
like them: Syrian four-part names (ism, father, grandfather, family) drawn from
frequency-weighted pools of common names (no real person's data), families whose children
share father and grandfather, grandsons named after their grandfathers, and a second release
of the same people with the damage seen between releases of one real list: Latin spellings
that differ, lam-alef ligatures and the ligature of الله broken by PDF extraction, ى/ي and
ة/ه, hamza forms, split or joined عبد compounds, ages off by one, dropped grandfather names,
typos. `person` in each record's truth says who it is.

    python -m benchmarks.persons_lists 2000 > a.jsonl   # (see `make_lists`)

`cached_duplicated` keeps a generated de-duplication list in benchmarks/out/ (git-ignored), so a
1,000,000-record run spends its time linking, not generating.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os
import random
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from amanah.persons.record import PersonRecord

# (Arabic, Latin spellings, weight): weights are rough shares among Syrian men and women.
MALE = [
    ("محمد", ("Mohammad", "Muhammad", "Mohamed", "Mohammed"), 120),
    ("أحمد", ("Ahmad", "Ahmed"), 60),
    ("علي", ("Ali",), 30),
    ("محمود", ("Mahmoud", "Mahmud"), 28),
    ("خالد", ("Khaled", "Khalid"), 25),
    ("عمر", ("Omar", "Umar"), 22),
    ("حسن", ("Hassan", "Hasan"), 20),
    ("حسين", ("Hussein", "Hussain", "Husayn"), 18),
    ("مصطفى", ("Mustafa", "Moustafa"), 18),
    ("إبراهيم", ("Ibrahim", "Ebrahim"), 18),
    ("يوسف", ("Youssef", "Yusuf", "Yousef"), 16),
    ("عبد الله", ("Abdullah", "Abdallah", "Abd Allah"), 24),
    ("عبد الرحمن", ("Abdulrahman", "Abdul Rahman", "Abdelrahman"), 14),
    ("عبد القادر", ("Abdulkader", "Abdel Qader"), 8),
    ("عبد الكريم", ("Abdulkarim", "Abdel Karim"), 7),
    ("عبد الرزاق", ("Abdulrazzaq", "Abdel Razzak"), 5),
    ("عبد اللطيف", ("Abdullatif", "Abdel Latif"), 5),
    ("سعيد", ("Said", "Saeed"), 10),
    ("سامر", ("Samer", "Samir"), 8),
    ("رامي", ("Rami",), 8),
    ("باسل", ("Basel", "Basil"), 7),
    ("وليد", ("Walid", "Waleed"), 9),
    ("عماد", ("Imad", "Emad"), 7),
    ("علاء", ("Alaa", "Ala"), 8),
    ("صلاح", ("Salah",), 6),
    ("صالح", ("Saleh", "Salih"), 6),
    ("بلال", ("Bilal", "Belal"), 6),
    ("جمال", ("Jamal", "Gamal"), 7),
    ("كمال", ("Kamal",), 5),
    ("فيصل", ("Faisal", "Faysal"), 5),
    ("ياسر", ("Yaser", "Yasser"), 6),
    ("طارق", ("Tareq", "Tariq"), 6),
    ("زياد", ("Ziad", "Ziyad"), 6),
    ("فراس", ("Firas", "Feras"), 5),
    ("أيمن", ("Ayman",), 5),
    ("مازن", ("Mazen",), 5),
    ("نادر", ("Nader",), 4),
    ("هيثم", ("Haytham", "Haitham"), 5),
    ("غسان", ("Ghassan",), 4),
    ("عدنان", ("Adnan",), 5),
    ("مهند", ("Mohannad", "Muhannad"), 5),
    ("أنس", ("Anas",), 5),
    ("حمزة", ("Hamza", "Hamzeh"), 6),
    ("عثمان", ("Othman", "Uthman"), 4),
    ("قاسم", ("Qasim", "Kassem"), 4),
    ("ماهر", ("Maher",), 4),
    ("نبيل", ("Nabil", "Nabeel"), 4),
    ("رياض", ("Riad", "Riyad"), 4),
    ("سليمان", ("Suleiman", "Sulayman"), 5),
    ("موسى", ("Musa", "Moussa"), 5),
    ("عيسى", ("Issa", "Eisa"), 4),
    ("إسماعيل", ("Ismail", "Ismael"), 4),
    ("منذر", ("Munther", "Monzer"), 3),
    ("وائل", ("Wael", "Wa'il"), 4),
    ("رائد", ("Raed", "Ra'id"), 4),
    ("مؤيد", ("Muayyad", "Moayad"), 3),
    ("أسامة", ("Osama", "Usama"), 5),
    ("نور الدين", ("Nour al-Din", "Noureddine", "Nureddin"), 3),
    ("أبو بكر", ("Abu Bakr", "Abubakr"), 2),
    ("طه", ("Taha",), 3),
    ("شادي", ("Shadi", "Chadi"), 4),
    ("جهاد", ("Jihad",), 3),
    ("عبدو", ("Abdo", "Abdou"), 3),
    ("غياث", ("Ghiath", "Ghiyath"), 3),
    ("معاذ", ("Muath", "Moaz"), 3),
    ("هشام", ("Hisham", "Hesham"), 4),
    ("بشار", ("Bashar",), 3),
    ("ضياء", ("Diaa", "Dia"), 2),
    ("لؤي", ("Louay", "Luay"), 3),
    ("تامر", ("Tamer",), 3),
    ("خليل", ("Khalil",), 4),
    ("إياد", ("Iyad", "Eyad"), 3),
    ("مالك", ("Malek", "Malik"), 3),
    ("حازم", ("Hazem",), 3),
    ("أكرم", ("Akram",), 3),
    ("عامر", ("Amer", "Aamer"), 3),
    ("ناصر", ("Nasser", "Naser"), 4),
    ("منصور", ("Mansour", "Mansur"), 3),
    ("سلامة", ("Salameh", "Salama"), 2),
    ("إسلام", ("Islam",), 2),
]
FEMALE = [
    ("فاطمة", ("Fatima", "Fatmeh"), 40),
    ("مريم", ("Maryam", "Mariam"), 25),
    ("عائشة", ("Aisha", "Aysha"), 18),
    ("خديجة", ("Khadija", "Khadijeh"), 15),
    ("زينب", ("Zainab", "Zeinab"), 15),
    ("نور", ("Nour", "Noor"), 14),
    ("هدى", ("Huda", "Houda"), 10),
    ("أمل", ("Amal",), 10),
    ("سارة", ("Sara", "Sarah"), 10),
    ("رنا", ("Rana",), 8),
    ("ريم", ("Reem", "Rim"), 8),
    ("لينا", ("Lina", "Leena"), 7),
    ("ليلى", ("Layla", "Leila"), 8),
    ("سلمى", ("Salma",), 6),
    ("هبة", ("Hiba", "Heba"), 8),
    ("آمنة", ("Amina", "Ameneh"), 8),
    ("رشا", ("Rasha",), 6),
    ("دعاء", ("Duaa", "Doaa"), 6),
    ("آلاء", ("Alaa", "Ala'a"), 5),
    ("إيمان", ("Iman", "Eman"), 8),
    ("أسماء", ("Asmaa", "Asma"), 7),
    ("منى", ("Mona", "Muna"), 6),
    ("سعاد", ("Suad", "Souad"), 5),
    ("وفاء", ("Wafaa", "Wafa"), 5),
    ("رغد", ("Raghad",), 4),
    ("بتول", ("Batoul", "Batul"), 4),
    ("جميلة", ("Jamila", "Jamileh"), 4),
    ("نجلاء", ("Najlaa", "Najla"), 4),
    ("غادة", ("Ghada",), 5),
    ("سوسن", ("Sawsan", "Sausan"), 4),
]
FAMILIES = [
    ("الأحمد", ("al-Ahmad", "Al Ahmed", "Alahmad"), 40),
    ("المحمد", ("al-Mohammad", "Al Muhammad"), 35),
    ("العلي", ("al-Ali", "Alali"), 30),
    ("الحسن", ("al-Hassan", "Al Hasan"), 20),
    ("الحسين", ("al-Hussein", "Al Hussain"), 18),
    ("الخطيب", ("al-Khatib", "Alkhatib", "el-Khateeb"), 15),
    ("الحلبي", ("al-Halabi", "Halabi"), 12),
    ("الحمصي", ("al-Homsi", "Homsi"), 10),
    ("الشامي", ("al-Shami", "ash-Shami"), 10),
    ("الإدلبي", ("al-Idlibi", "Idlibi"), 6),
    ("الحوراني", ("al-Hourani", "Hourani"), 8),
    ("الديري", ("al-Deiri", "Deiri"), 6),
    ("الحموي", ("al-Hamawi", "Hamwi"), 7),
    ("السوري", ("al-Souri", "Souri"), 5),
    ("النجار", ("al-Najjar", "Najjar"), 9),
    ("الحداد", ("al-Haddad", "Haddad"), 9),
    ("الخياط", ("al-Khayyat", "Khayat"), 7),
    ("العطار", ("al-Attar", "Attar"), 6),
    ("الحلاق", ("al-Hallaq", "Hallak"), 5),
    ("الصباغ", ("al-Sabbagh", "Sabbagh"), 5),
    ("الزعبي", ("al-Zoubi", "Zoubi", "al-Zu'bi"), 8),
    ("المقداد", ("al-Miqdad", "Mikdad"), 5),
    ("الحريري", ("al-Hariri", "Hariri"), 6),
    ("الكردي", ("al-Kurdi", "Kurdi"), 7),
    ("التركماني", ("al-Turkmani", "Turkmani"), 4),
    ("العمر", ("al-Omar", "Alomar"), 12),
    ("الخليل", ("al-Khalil", "Khalil"), 8),
    ("الصالح", ("al-Saleh", "Saleh"), 8),
    ("عبد الله", ("Abdullah", "Abdallah"), 8),
    ("عبد الرحمن", ("Abdulrahman", "Abdel Rahman"), 5),
    ("طنبورة", ("Tanboura", "Tanbura"), 1),
    ("قباني", ("Qabbani", "Kabbani"), 3),
    ("الأسعد", ("al-Asaad", "Asaad"), 5),
    ("السيد", ("al-Sayed", "Sayyid"), 7),
    ("الشيخ", ("al-Sheikh", "Sheikh"), 8),
    ("الملا", ("al-Mulla", "Mulla"), 5),
    ("درويش", ("Darwish", "Darweesh"), 6),
    ("سلامة", ("Salameh", "Salama"), 5),
    ("العلاوي", ("al-Alawi", "Allawi"), 3),
    ("البلالي", ("al-Bilali", "Bilali"), 2),
]
# Letters from which rare family names are made (most Syrian families are rare ones).
_LETTERS = "بتجحخدرزسشصطعغفقكلمنهوي"
_ENDINGS = ("", "", "ي", "ة", "ان", "اوي", "ون")

LATIN_SHARE = 0.06  # records written in Latin in a release


def _rare_families(rng: random.Random, n: int) -> list[tuple[str, tuple[str, ...], int]]:
    out = set()
    while len(out) < n:
        body = "".join(rng.choice(_LETTERS) for _ in range(rng.choice((3, 3, 4, 4, 5))))
        body = body[:2] + rng.choice(("ا", "و", "ي", "")) + body[2:]
        name = ("ال" if rng.random() < 0.5 else "") + body + rng.choice(_ENDINGS)
        out.add(name)
    return [(name, (), 1) for name in sorted(out)]


@dataclass(frozen=True)
class Person:
    """A generated person: the truth every record of them is drawn from."""

    pid: int
    ism: tuple[str, tuple[str, ...]]
    father: tuple[str, tuple[str, ...]]
    grandfather: tuple[str, tuple[str, ...]]
    family: tuple[str, tuple[str, ...]]
    sex: str
    birth_year: int
    governorate: str


GOVERNORATES = [f"SY{i:02d}" for i in range(1, 15)]


class _Pool:
    """Weighted draws. The cumulative weights are summed once: `choices(items, weights)` sums
    them on every call, which made a draw from the rare-family pool (a third of the list's
    size) cost as much as the list is long: generating 1,000,000 records was quadratic. The
    draws are the same either way (`choices` bisects the same cumulative sums)."""

    def __init__(self, rng: random.Random, items: list[tuple[str, tuple[str, ...], int]]):
        self.rng = rng
        self.items = [(a, latin) for a, latin, _ in items]
        self.cum_weights = list(itertools.accumulate(w for _, _, w in items))

    def draw(self) -> tuple[str, tuple[str, ...]]:
        return self.rng.choices(self.items, cum_weights=self.cum_weights)[0]


def make_people(n: int, seed: int = 1) -> list[Person]:
    """About `n` people in families: siblings share father, grandfather and family; some
    grandfathers are in the list with a grandson named after them (same ism and family)."""
    rng = random.Random(seed)
    male, female = _Pool(rng, MALE), _Pool(rng, FEMALE)
    common = _Pool(rng, FAMILIES)
    rare = _Pool(rng, _rare_families(rng, max(50, n // 3)))
    people: list[Person] = []
    while len(people) < n:
        family = common.draw() if rng.random() < 0.35 else rare.draw()
        father, grandfather = male.draw(), male.draw()
        gov = rng.choice(GOVERNORATES)
        base = rng.randint(1950, 2005)
        names: set[str] = set()
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 4))):  # siblings, each their own ism
            sex = "m" if rng.random() < 0.8 else "f"
            ism = male.draw() if sex == "m" else female.draw()
            while ism[0] in names:
                ism = male.draw() if sex == "m" else female.draw()
            names.add(ism[0])
            year = base + rng.randint(-6, 6)
            people.append(Person(len(people), ism, father, grandfather, family, sex, year, gov))
            if sex == "m" and rng.random() < 0.05 and len(people) < n:
                # this man's grandson, named after him: same ism and family, another father,
                # and this man as the grandson's grandfather
                son = male.draw()
                people.append(
                    Person(
                        len(people),
                        ism,
                        son,
                        ism,
                        family,
                        "m",
                        year + rng.randint(50, 70),
                        gov,
                    )
                )
    return people[:n]


# -- drift --------------------------------------------------------------------------------------

_ALEFS = "اأإآ"


def break_lam_alef(text: str) -> str:
    """The lam-alef ligature read back reversed by a PDF extractor: لا → ال, لأ → أل."""
    out = list(text)
    i = 0
    while i < len(out) - 1:
        if out[i] == "ل" and out[i + 1] in _ALEFS:
            out[i], out[i + 1] = out[i + 1], out[i]
            i += 2
        else:
            i += 1
    return "".join(out)


def break_allah(text: str) -> str:
    """The ligature of الله read back as هللا."""
    return text.replace("الله", "هللا")


_SWAPS = {"ي": "ى", "ى": "ي", "ة": "ه", "ه": "ة", "أ": "ا", "إ": "ا", "آ": "ا", "ا": "أ"}


def _letter_variant(text: str, rng: random.Random) -> str:
    # ى/ي and ة/ه differ only at a word's end, bare alef and hamza forms at its start
    last = {i for i, c in enumerate(text) if i == len(text) - 1 or text[i + 1] == " "}
    first = {0} | {i + 1 for i, c in enumerate(text) if c == " "}
    spots = [
        i
        for i, c in enumerate(text)
        if (c in "يىةه" and i in last) or (c in "اأإآ" and i in first) or c in "أإآ"
    ]
    if not spots:
        return text
    i = rng.choice(spots)
    return text[:i] + _SWAPS[text[i]] + text[i + 1 :]


def _typo(text: str, rng: random.Random) -> str:
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 1)
    kind = rng.random()
    if kind < 0.4:  # a letter replaced by a neighbour on the keyboard's row: any letter here
        letters = _LETTERS if "\u0600" <= text[i] <= "\u06ff" else "abcdefghiklmnorstuy"
        return text[:i] + rng.choice(letters) + text[i + 1 :]
    if kind < 0.7:  # a letter dropped
        return text[:i] + text[i + 1 :]
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]  # two letters swapped


def _compound(text: str, rng: random.Random) -> str:
    if text.startswith("عبد "):
        return text.replace(" ", "", 1)
    if text.startswith("عبد") and len(text) > 5:
        return "عبد " + text[3:]
    return text


@dataclass(frozen=True)
class Drift:
    """How often each kind of damage touches a record of the second release."""

    latin_respelt: float = 1.0  # a Latin record spelt another way
    lam_alef: float = 0.15  # the release was partly read from a PDF
    allah: float = 0.5  # of records with الله, when PDF-damaged
    letter_variant: float = 0.12
    compound: float = 0.5  # of records with an عبد compound
    age_off: float = 0.12
    grandfather_dropped: float = 0.10
    typo: float = 0.04
    governorate_missing: float = 0.1


def _record(p: Person, key: str, list_name: str, latin: bool, rng: random.Random) -> dict:
    def spell(part: tuple[str, tuple[str, ...]]) -> str:
        return rng.choice(part[1]) if latin else part[0]

    return {
        "key": key,
        "list_name": list_name,
        "ism": spell(p.ism),
        "father": spell(p.father),
        "grandfather": spell(p.grandfather),
        "family": spell(p.family),
        "sex": p.sex,
        "birth_year": p.birth_year,
        "birth_year_spread": 0,
        "governorate": p.governorate,
    }


def _can_latin(p: Person) -> bool:
    return all(part[1] for part in (p.ism, p.father, p.grandfather, p.family))


def _drifted(r: dict, p: Person, latin: bool, d: Drift, rng: random.Random) -> dict:
    r = dict(r)
    names = ("ism", "father", "grandfather", "family")
    if latin:
        if rng.random() < d.latin_respelt:
            for f, part in zip(names, (p.ism, p.father, p.grandfather, p.family), strict=True):
                r[f] = rng.choice(part[1])
    else:
        pdf = rng.random() < d.lam_alef
        for f in names:
            v = r[f]
            if rng.random() < d.compound:
                v = _compound(v, rng)
            if rng.random() < d.letter_variant:
                v = _letter_variant(v, rng)
            if pdf:
                v = break_lam_alef(v)
                if "الله" in v and rng.random() < d.allah:
                    v = break_allah(v)
            r[f] = v
    if rng.random() < d.typo:
        f = rng.choice(names)
        r[f] = _typo(r[f], rng)
    if rng.random() < d.grandfather_dropped:
        r["grandfather"] = ""
    if rng.random() < d.age_off:  # an age given instead of a date, a year off
        r["birth_year"] += rng.choice((-1, 1))
        r["birth_year_spread"] = 1
    if rng.random() < d.governorate_missing:
        r["governorate"] = ""
    return r


def make_lists(
    n: int, seed: int = 1, overlap: float = 0.7, drift: Drift | None = None
) -> tuple[list[PersonRecord], list[PersonRecord], dict[tuple[str, str], int]]:
    """Two releases of a list of about `n` people each: `overlap` of the people are in both,
    the second release drifted. Returns both lists and the truth: (list, key) → person."""
    rng = random.Random(seed + 1000)
    d = drift or Drift()
    people = make_people(int(n * (2 - overlap)) + 1, seed)
    rng.shuffle(people)
    both = int(n * overlap)
    in_a = people[:n]
    in_b = people[:both] + people[n : n + (n - both)]
    truth: dict[tuple[str, str], int] = {}
    a: list[PersonRecord] = []
    b: list[PersonRecord] = []
    for i, p in enumerate(in_a):
        latin = _can_latin(p) and rng.random() < LATIN_SHARE
        r = _record(p, f"A{i:06d}", "A", latin, rng)
        a.append(PersonRecord(**r))
        truth[("A", r["key"])] = p.pid
    rng.shuffle(in_b)
    for i, p in enumerate(in_b):
        latin = _can_latin(p) and rng.random() < LATIN_SHARE
        r = _drifted(_record(p, f"B{i:06d}", "B", latin, rng), p, latin, d, rng)
        b.append(PersonRecord(**r))
        truth[("B", r["key"])] = p.pid
    return a, b, truth


def make_duplicated(
    n: int, seed: int = 1, duplicates: float = 0.3, drift: Drift | None = None
) -> tuple[list[PersonRecord], dict[tuple[str, str], int]]:
    """One list of about `n` records in which `duplicates` of the people appear twice (the
    second time drifted): the de-duplication case."""
    a, b, truth = make_lists(int(n / (1 + duplicates)), seed, 1.0, drift)
    extra = b[: n - len(a)]
    merged = a + [replace(r, list_name="A") for r in extra]
    return merged, {("A", r.key): truth[(r.list_name, r.key)] for r in a + extra}


#: Where generated lists are kept between runs (git-ignored).
CACHE = Path(__file__).resolve().parent / "out" / "persons_lists"


def _version() -> str:
    """A digest of the code a cached list was made by: a change to the generator or to the
    record's shape makes a new file, never reads a stale one."""
    from amanah.persons import record

    h = hashlib.sha256(Path(__file__).read_bytes())
    h.update(Path(record.__file__).read_bytes())
    return h.hexdigest()[:16]


def cached_duplicated(
    n: int, seed: int = 1, cache: Path = CACHE
) -> tuple[list[PersonRecord], dict[tuple[str, str], int]]:
    """`make_duplicated(n, seed)` (default drift), generated once and then read from a JSON
    file in `cache`: one row of field values per record, and the person each record is."""
    path = cache / f"duplicated-{n}-{seed}-{_version()}.json"
    names = [f.name for f in dataclasses.fields(PersonRecord)]
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        records = [PersonRecord(*row) for row in data["records"]]
        persons = data["persons"]
        del data
        return records, {(r.list_name, r.key): pid for r, pid in zip(records, persons, strict=True)}
    records, truth = make_duplicated(n, seed)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as out:
        json.dump(
            {
                "fields": names,
                "records": [[getattr(r, f) for f in names] for r in records],
                "persons": [truth[(r.list_name, r.key)] for r in records],
            },
            out,
            ensure_ascii=False,
            separators=(",", ":"),
        )
    tmp.replace(path)  # whole or not at all: a run stopped while writing leaves no half file
    return records, truth


def true_pairs(
    records: list[PersonRecord], truth: dict[tuple[str, str], int], across: bool = True
) -> set[tuple[tuple[str, str], tuple[str, str]]]:
    """Every pair of records of one person (ordered, each pair once)."""
    by_person: dict[int, list[tuple[str, str]]] = {}
    for r in records:
        by_person.setdefault(truth[(r.list_name, r.key)], []).append((r.list_name, r.key))
    out = set()
    for recs in by_person.values():
        for i, x in enumerate(recs):
            for y in recs[i + 1 :]:
                if across and x[0] == y[0]:
                    continue
                out.add((min(x, y), max(x, y)))
    return out


if __name__ == "__main__":  # pragma: no cover - a helper for looking at the data
    a_list, b_list, _ = make_lists(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
    for rec in a_list + b_list:
        print(json.dumps(asdict(rec), ensure_ascii=False))
