"""Protected names: found whatever the formatting and spelling, never at rest in clear, never
written into the custody ledger by a search."""

from __future__ import annotations

import contextlib
import json
import os
import random
import sqlite3
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from amanah.access import local_administrator
from amanah.db.engine import alembic_config
from amanah.sharing import SharingError, protected
from amanah.sharing.protected import Matcher
from amanah.text import names as nk
from amanah.workspace import open_workspace
from tests.conftest import amanah, amanah_here, make_home

AR = "أحمد الخطيب"
LATIN = "Ahmad al-Khatib"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.of(
        [
            ("Witness A", [AR, LATIN]),
            ("Witness Y", ["Yusuf Qabbani"]),
            ("Source B", ["نزار حداد"]),
            ("Source L", ["Omar Haddad"]),
        ]
    )


# -- formatting ------------------------------------------------------------------------------

FORMATTED = {
    "line break": "statement of Ahmad\nal-Khatib, a teacher",
    "CRLF and a whitespace run": "Ahmad \r\n\t   al-Khatib",
    "hyphen at line end before the name": "Ahmad al-\nKhatib",
    "hyphen inside the name at line end": "Ahmad al-Kha-\ntib said",
    "hyphen and spaces at line end": "Ahmad al-Kha- \n   tib",
    "soft hyphen": "Ah\u00admad al-Kha\u00adtib",
    "soft hyphen at a line end": "Ahmad al-Kha\u00ad\ntib",
    "zero-width space": "Ahmad al-Kha\u200btib",
    "zero-width joiner and non-joiner": "Ah\u200dmad al-Khat\u200cib",
    "LRM and RLM": "\u200eAhmad\u200f al-Khatib",
    "word joiner and BOM": "Ahm\u2060ad al-\ufeffKhatib",
    "bidi override": "\u202eAhmad al-Khatib\u202c",
    "bidi isolates": "\u2067أحمد\u2069 \u2066الخطيب\u2069",
    "Arabic letter mark": "أحمد\u061c الخطيب",
    "harakat": "أَحْمَدُ الْخَطِيبُ",
    "tatweel": "أحـــمد الخطـيب",
    "presentation forms": "ﺃﺣﻤﺪ ﺍﻟﺨﻄﻴﺐ",
    "bare alef": "احمد الخطيب",
    "hamza below on alef": "إحمد الخطيب",
    "alef maqsura and teh marbuta elsewhere": "قالت فاطمة: أحمد الخطيب",
    "attached waw": "وأحمد الخطيب",
    "attached ba to the article": "أحمد بالخطيب",
    "attached lam": "لأحمد الخطيب",
    "without the article": "أحمد خطيب",
    "visual order": "بيطخلا دمحأ",
    "visual order across a bidi mark": "\u200fبيطخلا\u200f دمحأ",
    "Latin upper case": "AHMAD AL-KHATIB",
    "Latin punctuation": "(Ahmad) al-Khatib.",
    "surname first": "al-Khatib, Ahmad",
    "possessive": "Ahmad al-Khatib's statement",
    "ayn apostrophe and diacritics": "Aḥmad al-Khaṭīb",
    "Cyrillic look-alike letters": "\u0410hmad al-Kh\u0430tib",
    "fullwidth letters": "ＡＨＭＡＤ ＡＬ-ＫＨＡＴＩＢ",
    "a file name in camel case": "scans/AhmadAlKhatib_statement.pdf",
    "a file name with underscores": "Ahmad_al_Khatib.docx",
}


@pytest.mark.parametrize("text", FORMATTED.values(), ids=FORMATTED.keys())
def test_a_name_is_found_whatever_its_formatting(matcher: Matcher, text: str) -> None:
    assert matcher.find(text) == {"Witness A"}


VARIANTS = {
    "Youssef": "Youssef Qabbani",
    "Yousef": "Yousef Qabbani",
    "Yusef": "Yusef Qabbani",
    "Kabbani": "Yusuf Kabbani",
    "Qabani": "Yusuf Qabani",
    "with al-": "Youssef al-Qabbani",
    "with El-": "Yousef El-Kabbani",
    "glued Al": "Yusuf Alqabbani",
    "separate Al": "Yusuf Al Qabbani",
    "Arabic (Latin recorded)": "يوسف القباني",
    "Arabic with particle": "ليوسف قباني",
    "Mohammad/Ahmed style vowels": "Ahmed El-Khateeb",
    "Arabic recorded, Latin text": "Nizar Haddad",
    "Arabic recorded, Latin variant": "Nezar al-Hadad",
    "Latin recorded, Arabic text": "عمر الحداد",
}
WHO = {
    "Mohammad/Ahmed style vowels": "Witness A",
    "Arabic recorded, Latin text": "Source B",
    "Arabic recorded, Latin variant": "Source B",
    "Latin recorded, Arabic text": "Source L",
}


@pytest.mark.parametrize("case", VARIANTS)
def test_transliteration_variants_are_found(matcher: Matcher, case: str) -> None:
    assert matcher.find(f"the report names {VARIANTS[case]} twice") == {WHO.get(case, "Witness Y")}


NOT_NAMES = {
    "near-miss first name": "Mahmoud al-Khatib",
    "near-miss Arabic first name": "محمد الخطيب",
    "near-miss surname": "Ahmad al-Kateb",
    "longer surname": "Ahmad al-Khatibi",
    "other first name": "Yunus Qabbani",
    "first name alone": "أحمد",
    "surname alone": "the Khatib family",
    "words apart": "Ahmad went to see the Khatib",
    "ordinary English": "The meeting was held on Tuesday near the old market.",
    "ordinary Arabic": "عقد الاجتماع يوم الثلاثاء قرب السوق القديم",
    "ordinary words of the same letters": "a hammad and a hat, some near bread",
    "a similar Arabic phrase": "خطيب المسجد أحمر",
}


@pytest.mark.parametrize("text", NOT_NAMES.values(), ids=NOT_NAMES.keys())
def test_near_misses_and_ordinary_words_are_not_names(matcher: Matcher, text: str) -> None:
    assert matcher.find(text) == set()


def test_pseudonymise_replaces_every_written_form(matcher: Matcher) -> None:
    text = "شهادة أحمد الخطيب، ثم Ahmad al-\nKhatib و Youssef Kabbani."
    clean, count = matcher.pseudonymise(text)
    assert clean == "شهادة [Witness A]، ثم [Witness A] و [Witness Y]."
    assert count == 3
    assert matcher.find(clean) == set()


def test_in_words_marks_each_word_of_a_name_including_hyphenated_halves(matcher: Matcher) -> None:
    assert matcher.in_words(["إفادة", "أحمد", "الخطيب", "عن"]) == [
        (1, "Witness A"),
        (2, "Witness A"),
    ]
    assert matcher.in_words(["Ahmad", "al-Kha-", "tib", "said"]) == [
        (0, "Witness A"),
        (1, "Witness A"),
        (2, "Witness A"),
    ]
    assert matcher.in_words(["Ahmad", "went", "home"]) == []
    forms = matcher.in_forms(["the", "Khatib", "Ahmad"])
    assert [(m.pseudonym, m.start, m.end) for m in forms] == [("Witness A", 1, 3)]


def _noise(size: int, seed: int = 12) -> bytes:
    """Bytes like those of an image or a video (reproducible)."""
    return random.Random(seed + size).randbytes(size)


ENCODED = {
    "utf-8": b"x Ahmad al-Khatib y",
    "utf-16-le": "x Ahmad al-Khatib y".encode("utf-16-le"),
    "utf-16-be": "x أحمد الخطيب y".encode("utf-16-be"),
    "utf-16 with BOM": "أحمد الخطيب".encode("utf-16"),
    "utf-16-le at an odd offset": b"\x07" + "أحمد الخطيب".encode("utf-16-le"),
    "cp1256": "شهادة أحمد الخطيب".encode("cp1256"),
    "cp1252": "Aḥmad al-Khatîb".replace("ḥ", "h").encode("cp1252"),
    "UTF-16 inside binary": _noise(5000) + "Ahmad al-Khatib".encode("utf-16-le") + _noise(5000),
    "UTF-16-BE Arabic inside binary": _noise(9000)
    + "\0أحمد الخطيب\0".encode("utf-16-be")
    + _noise(9000),
    "UTF-8 inside binary": _noise(70_000) + "\0أحمد الخطيب\0".encode() + _noise(70_000),
    "cp1256 inside binary": _noise(70_000) + "\0أحمد الخطيب\0".encode("cp1256") + _noise(900),
    "a NUL-ended string in binary": _noise(3000) + b"\0AhmadAlKhatib\0" + _noise(3000),
}


@pytest.mark.parametrize("data", ENCODED.values(), ids=ENCODED.keys())
def test_find_in_bytes_reads_every_likely_encoding(matcher: Matcher, data: bytes) -> None:
    assert "Witness A" in matcher.find_in_bytes(data)


def test_find_in_bytes_crosses_its_chunks_and_ignores_other_text(matcher: Matcher) -> None:
    assert matcher.find_in_bytes(_noise(1 << 20)) == set()  # random bytes name no one
    filler = ("the meeting was held near the old market. " * 120_000).encode()  # ~5 MB
    assert matcher.find_in_bytes(filler) == set()
    assert matcher.find_in_bytes("محضر الاجتماع".encode("cp1256") * 1000) == set()
    cut = (4 << 20) - 2048 - 6  # the name straddles the first chunk's end
    data = b"." * cut + "Ahmad al-Khatib".encode("utf-16-le") + b"." * 100
    assert matcher.find_in_bytes(data) == {"Witness A"}


def test_keys_fold_the_documented_variants() -> None:
    skel = {nk.latin_skeleton(w) for w in ("yusuf", "youssef", "yousef", "yusef")}
    assert skel == {"yasaf"}
    assert {nk.latin_skeleton(w) for w in ("qabbani", "kabbani", "qabani")} == {"kabana"}
    assert {nk.latin_skeleton(w) for w in ("mohammad", "muhammad", "mohamed")} == {"mahamad"}
    assert nk.arabic_consonants("احمد") == nk.latin_consonants("ahmad") == "'hmd"
    assert nk.latin_skeleton("mahmoud") != nk.latin_skeleton("mohammad")


# -- never at rest in clear ------------------------------------------------------------------

SPELLINGS = [AR, LATIN, "Yusuf Qabbani"]


def _forms(spelling: str) -> set[str]:
    """A spelling as written, its folded words and its parts long enough to mean something."""
    forms = {spelling, nk.fold(spelling), spelling.lower()}
    forms.update(w for w in nk.name_words(spelling) if len(w) >= 4)
    forms.update(w for w in spelling.replace("-", " ").split() if len(w) >= 4)
    return forms


def _encodings(text: str) -> list[bytes]:
    out = [text.encode(), text.encode("utf-16-le"), text.encode("utf-16-be")]
    for enc in ("cp1256", "cp1252"):
        with contextlib.suppress(UnicodeEncodeError):
            out.append(text.encode(enc))
    return out


def _assert_no_name(blob: bytes, where: str) -> None:
    for spelling in SPELLINGS:
        for form in _forms(spelling):
            for encoded in _encodings(form):
                assert encoded.lower() not in blob.lower(), f"{form!r} found in {where}"


@pytest.mark.parametrize("engines", ["sqlite-file", "postgresql-file"])
def test_a_copy_of_the_database_holds_no_spelling(
    request: pytest.FixtureRequest, tmp_path: Path, engines: str
) -> None:
    home = make_home(request, tmp_path, engines)
    added = amanah(home, "protected", "add", "Witness A", "--name", AR, "--name", LATIN)
    assert added.returncode == 0, added.stderr
    fed = amanah(home, "protected", "spelling", "Witness A", "-", input="Yusuf Qabbani\n")
    assert fed.returncode == 0, fed.stderr
    listed = amanah(home, "protected", "list", "--names", "--json")
    assert listed.returncode == 0
    assert json.loads(listed.stdout) == [
        {"pseudonym": "Witness A", "role": "witness", "spellings": 3}
    ]
    assert "cannot be shown" in listed.stderr
    _assert_no_name(listed.stdout.encode() + listed.stderr.encode(), "protected list")

    key_file = home / "keys" / protected.KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key_hex = key_file.read_text().strip()
    ws = open_workspace(home)
    try:
        if engines.startswith("sqlite"):
            ws.close()
            blob = b"".join(
                p.read_bytes() for p in home.iterdir() if p.name.startswith("amanah.db")
            )
            assert len(blob) > 10_000
        else:
            with ws.db.reader() as s:
                blob = _all_text(s).encode()
            ws.close()
        _assert_no_name(blob, f"the {engines} database")
        assert key_hex.encode() not in blob and bytes.fromhex(key_hex) not in blob
        # And the digests still find the name, in a fresh process reading the same home.
        ws = open_workspace(home)
        with ws.db.reader() as s:
            assert Matcher.load(s).find("Youssef Kabbani and Ahmed Khatib") == {"Witness A"}
    finally:
        ws.close()


def _all_text(s: sa.orm.Session) -> str:
    """What a dump would show: every text column of every table."""
    cols = s.execute(
        sa.text(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND data_type IN ('text', 'character varying')"
        )
    ).all()
    parts = []
    for table, column in cols:
        parts.extend(
            str(v)
            for (v,) in s.execute(sa.text(f'SELECT "{column}" FROM "{table}"'))  # noqa: S608
            if v
        )
    return "\n".join(parts)


def test_migration_seals_clear_spellings_and_makes_the_key(sqlite_home: Path) -> None:
    ws = open_workspace(sqlite_home)
    command.downgrade(alembic_config(ws.db.engine), "0007")  # as an installation before 0009
    ws.close()
    db = sqlite_home / "amanah.db"
    con = sqlite3.connect(db)
    con.execute(
        "INSERT INTO protected_persons (pseudonym, role, spellings, notes, created_at, created_by)"
        " VALUES ('Witness A', 'witness', ?, '', '2026-01-01', 'test')",
        (json.dumps([AR, LATIN], ensure_ascii=False),),
    )
    con.commit()
    con.close()
    (sqlite_home / "keys" / protected.KEY_FILE).unlink()  # the key is made by the migration
    assert AR.encode() in db.read_bytes()

    ws = open_workspace(sqlite_home)
    try:
        with ws.db.reader() as s:
            assert Matcher.load(s).find("Ahmed\nal-Khateeb") == {"Witness A"}
            row = s.execute(sa.text("SELECT spellings, name_digests FROM protected_persons")).one()
        assert row[0] == "[]" and json.loads(row[1])["scheme"] == nk.SCHEME
    finally:
        ws.close()
    assert (sqlite_home / "keys" / protected.KEY_FILE).exists()
    blob = b"".join(p.read_bytes() for p in sqlite_home.iterdir() if p.name.startswith("amanah.db"))
    _assert_no_name(blob, "the migrated database")


def test_another_key_is_refused_not_silently_blind(sqlite_home: Path) -> None:
    ws = open_workspace(sqlite_home)
    with ws.db.session() as s:
        protected.add(s, local_administrator(ws), "Witness A", [LATIN])
    ws.close()
    (sqlite_home / "keys" / protected.KEY_FILE).write_text(os.urandom(32).hex())
    ws = open_workspace(sqlite_home)
    try:
        with ws.db.reader() as s, pytest.raises(SharingError, match=r"restore keys/names-hmac"):
            Matcher.load(s)
    finally:
        ws.close()


def test_a_pseudonym_or_notes_naming_the_person_are_refused(sqlite_home: Path) -> None:
    ws = open_workspace(sqlite_home)
    try:
        with ws.db.session() as s:
            admin = local_administrator(ws)
            with pytest.raises(SharingError, match="pseudonym must not contain"):
                protected.add(s, admin, "Ahmed Khatib", [LATIN])
            with pytest.raises(SharingError, match="notes must not contain"):
                protected.add(s, admin, "Witness A", [LATIN], notes="met Ahmad al-Khatib")
    finally:
        ws.close()


# -- searches ---------------------------------------------------------------------------------


def test_a_search_naming_a_protected_person_leaves_no_trace_in_the_ledger(
    sqlite_home: Path, tmp_path: Path
) -> None:
    home = sqlite_home  # each step runs in this process: the subject is what is stored
    folder = tmp_path / "evidence"
    folder.mkdir()
    (folder / "statement.txt").write_text(f"Statement of {LATIN} ({AR}) on the detention.\n")
    (folder / "other.txt").write_text("Minutes of a meeting near the old market.\n")
    for args in (
        ("ingest", str(folder), "--collection", "c", "--provider", "P", "--quiet"),
        ("process",),
        ("protected", "add", "Witness A", "--name", AR, "--name", LATIN),
        ("jurisdiction", "add", "DE-GBA", "--state", "Germany", "--authority", "GBA"),
        ("rfa", "add", "RFA-1", "--jurisdiction", "DE-GBA", "--received-on", "2026-09-01"),
    ):
        done = amanah_here(home, *args)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    query = '"Ahmad al-Khatib"'
    found = amanah_here(home, "search", query)
    assert found.returncode == 0, found.stderr
    assert "statement.txt" in found.stdout
    assert amanah_here(home, "search", "أحمد الخطيب").returncode == 0
    rfa = amanah_here(home, "rfa", "search", "RFA-1", "Youssef OR Ahmed Khatib")
    assert rfa.returncode == 0, rfa.stderr
    assert amanah_here(home, "search", "market").returncode == 0  # a control: its words are kept

    exported = tmp_path / "ledger"
    assert amanah_here(home, "custody", "export", str(exported)).returncode == 0
    blob = b"".join(p.read_bytes() for p in exported.rglob("*") if p.is_file())
    _assert_no_name(blob, "the ledger export")
    assert b"market" not in blob  # no query's words at all, only digests
    events = [
        json.loads(line)
        for p in exported.rglob("*.jsonl")
        for line in p.read_text().splitlines()
        if line.strip()
    ]
    searches = [e for e in events if '"search"' in json.dumps(e)]
    assert searches and all("query_hmac" in json.dumps(e) for e in searches)

    log = json.loads(amanah_here(home, "searches", "--json").stdout)
    shown = [e["query"] for e in log]
    assert '"[Witness A]"' in shown and "[Witness A]" in shown and "market" in shown
    assert "Youssef OR [Witness A]" in shown
    shown_rfa = json.loads(amanah_here(home, "rfa", "show", "RFA-1", "--json").stdout)
    assert [s["query"] for s in shown_rfa["searches"]] == ["Youssef OR [Witness A]"]
    # The database holds the evidence's own text (it names the witness), but neither the
    # search log nor the ledger's rows do.
    con = sqlite3.connect(home / "amanah.db")
    rows = con.execute("SELECT query, options FROM search_log").fetchall()
    rows += con.execute("SELECT details, '' FROM custody_events").fetchall()
    con.close()
    _assert_no_name("\n".join(a + b for a, b in rows).encode(), "the search log and ledger rows")
