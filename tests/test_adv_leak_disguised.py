"""A protected name in letters that are not the letters it was recorded in, as social media,
chat exports and user names write them, is found by every check that asks whether a text
names someone (`Matcher.names`): enclosed, parenthesised, squared and regional-indicator
symbols, small capitals, upside-down lines, Arabizi (A7mad al-5atib), leetspeak, the name run
together as one word (an e-mail address, a user name, a hashtag in one case), and letters
spaced out with wider gaps between the words. The same forms of text naming nobody, ordinary
text with numbers and units, and a surname that sounds like two short names glued are not."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from amanah.sharing import SharingError
from amanah.sharing.protected import Matcher
from amanah.sharing.sealing import glued_slots, seal
from tests.sharingfixtures import WITNESS_AR, WITNESS_LATIN
from tests.test_adv_leak_places import refused_then_built

HARMLESS_LATIN = "the detention centre"
HARMLESS_AR = "مركز الاحتجاز"


def _offset(start: int, alphabet: str = "abcdefghijklmnopqrstuvwxyz") -> Callable[[str], str]:
    """Each Latin letter as the symbol at `start` + its place (both cases to one symbol)."""

    def write(text: str) -> str:
        return "".join(
            chr(start + alphabet.index(c.lower())) if c.lower() in alphabet else c for c in text
        )

    return write


_SMALL = dict(zip("abcdefghijklmnopqrstuvwyz", "ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘǫʀꜱᴛᴜᴠᴡʏᴢ", strict=True))
_TURN = dict(zip("abcdefghiklmnoprtuvwyABDEFGKLMPRTUVWY",
                 "ɐqɔpǝɟƃɥᴉʞlɯuodɹʇnʌʍʎ∀ᗺᗡƎℲ⅁ꓘ˥WԀᴚ⊥∩ΛMX⅄"[:37], strict=False))  # fmt: skip


def _turned(text: str) -> str:
    return "".join(_TURN.get(c, c) for c in reversed(text))


def _arabizi(text: str) -> str:
    return text.replace("Kh", "5").replace("kh", "5").replace("h", "7")


def _leet(text: str) -> str:
    return text.translate(str.maketrans("aeiot", "4310+")).replace("+", "7")


def _glued(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalpha())


def _spaced(text: str) -> str:
    return "   ".join(" ".join(w) for w in text.split())


#: form: (how the Latin name is written, whether the Arabic one is written so too)
FORMS: dict[str, tuple[Callable[[str], str], bool]] = {
    "circled letters": (_offset(0x24D0), False),
    "parenthesised letters": (_offset(0x249C), False),
    "squared capitals": (_offset(0x1F130), False),
    "negative circled capitals": (_offset(0x1F150), False),
    "negative squared capitals": (_offset(0x1F170), False),
    "regional indicators": (_offset(0x1F1E6), False),
    "small capitals": (lambda t: "".join(_SMALL.get(c.lower(), c) for c in t), False),
    "upside down": (_turned, False),
    "full-width (NFKD's own)": (
        lambda t: "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in t),
        False,
    ),
    "Arabizi": (_arabizi, False),
    "Arabizi in capitals": (lambda t: _arabizi(t).upper(), False),
    "leetspeak": (_leet, False),
    "an e-mail address": (lambda t: _glued(t) + "@example.org", True),
    "a user name in capitals": (lambda t: "@" + _glued(t).upper(), False),
    "a profile address": (lambda t: "https://facebook.example/" + _glued(t), False),
    "spaced out, wider between words": (_spaced, True),
}


def _matcher() -> Matcher:
    return Matcher.of([("Witness A", [WITNESS_LATIN, WITNESS_AR])])


@pytest.mark.parametrize("form", list(FORMS))
def test_a_name_in_letters_in_disguise_is_found_and_harmless_text_is_not(form: str) -> None:
    write, arabic_too = FORMS[form]
    m = _matcher()
    line = f"Posted by {write(WITNESS_LATIN)} on the evening of the raid."
    assert m.names(line) == {"Witness A"}, line
    assert m.names(f"Posted by {write(HARMLESS_LATIN)} on the evening.") == set()
    if arabic_too:
        assert m.names(f"نشره {write(WITNESS_AR)} مساء المداهمة") == {"Witness A"}
        assert m.names(f"نشره {write(HARMLESS_AR)} مساء المداهمة") == set()


@pytest.mark.parametrize(
    "text",
    [
        "ahmedkhatib@example.org",  # a Latin user name of a name recorded in Arabic only
        "AHMADALKHATIB",
        "khatibahmad",  # surname first
        "AhmadalKhatib",  # a capital where no word starts
        "contact: ahmed.elkhatib1990",
        "أحمدخطيب",  # Arabic run together without the article
        "#احمدالخطيب",
    ],
)
def test_a_name_recorded_in_arabic_is_found_run_together_in_either_script(text: str) -> None:
    m = Matcher.of([("Witness A", [WITNESS_AR])])
    assert m.names(text) == {"Witness A"}


#: An adversary's search of common names run together (their sound keys, where a vowel run is
#: one letter and p is b) found ordinary words: each pair is a recorded spelling and a text.
SOUNDS_LIKE_TWO_NAMES = [
    ("Robert Awad", "It was reported that"),
    ("Robert Adly", "reportedly"),
    ("Dost Riad", "The house was destroyed."),
    ("Sami Thomas", "It sometimes happens."),
    ("Dalia Farid", "Aid was delivered."),
    ("Anton Daoud", "as intended"),
    ("Sabri Saeed", "the report was suppressed"),
    ("Roger Daoud", "widely regarded"),
    ("Antar Nawal", "internal memo"),
    ("Abla Kattan", "visa application"),
    ("Rabie Ablak", "Syrian Arab Republic"),
    ("بوستان علي", "positional argument"),
    ("Alaa al-Ahmad", "Ibrahim Alahmad signed the order"),
    # The romaniser's later candidates are other names (علي: Ammar, Nadji; سامي: Trabelsi).
    ("علي حسن", "write to ammarhassan@example.com or nadjihassan@example.com"),
    ("سامي عادل", "adeltrabelsi@example.org"),
]


@pytest.mark.parametrize(("spelling", "text"), SOUNDS_LIKE_TWO_NAMES)
def test_a_word_that_only_sounds_like_two_names_run_together_names_no_one(
    spelling: str, text: str
) -> None:
    """A name run together is matched by its exact form (and, recorded in Arabic, by its
    romanisations run together), never by its sound: the word must be the names."""
    m = Matcher.of([("W", [spelling])])
    assert m.names(text) == set()
    glued = "".join(c for c in spelling.lower() if c.isalpha())
    assert m.names(f"write to {glued}@example.org") == {"W"}


def test_run_together_forms_are_exact_keys() -> None:
    assert {k.split(":")[0] for k in glued_slots("Ahmad al-Khatib")[0]} == {"g"}
    assert {k.split(":")[0] for k in glued_slots("أحمد الخطيب")[0]} == {"e", "g"}
    assert glued_slots("Ahmad") == []  # one word is already a word
    assert glued_slots("Ahmad الخطيب") == []  # two scripts are never one word


def test_run_together_forms_are_sealed_apart_and_old_seals_still_load() -> None:
    key = b"k" * 32
    sealed = seal(key, [WITNESS_LATIN, WITNESS_AR])
    assert len(sealed["spellings"]) == 2  # what `protected list` counts: what was recorded
    assert len(sealed["glued"]) == 2
    assert json.dumps(sealed).count("Khatib") == 0 and "الخطيب" not in json.dumps(sealed)
    old = {k: v for k, v in sealed.items() if k != "glued"}  # sealed before this change
    from amanah.sharing.matcher import _load_cached

    before = _load_cached(key, (("Witness A", json.dumps(old)),))
    assert before.names(f"met {WITNESS_LATIN}") == {"Witness A"}
    assert before.names("ahmadkhatib@example.org") == set()  # needs its spellings again
    after = _load_cached(key, (("Witness A", json.dumps(sealed)),))
    assert after.names("ahmadkhatib@example.org") == {"Witness A"}


def test_a_note_keeps_a_run_together_name_as_its_pseudonym_and_refuses_symbols() -> None:
    m = _matcher()
    kept, count = m.at_rest("Write to ahmadalkhatib@example.org about the convoy.")
    assert (kept, count) == ("Write to [Witness A]@example.org about the convoy.", 1)
    with pytest.raises(SharingError):  # a reader reads it; it cannot be replaced in place
        m.at_rest(f"Seen: {_offset(0x24D0)(WITNESS_LATIN)}")


@pytest.mark.parametrize(
    "text",
    [
        "In the 1990s, 20th-century rules; 5km north, $3bn, A4 paper, H2O, MP3, COVID-19, B12.",
        "IPA: [ɐ ɔ ə ɛ ɪ ʊ ʌ] and the turned ɥ of Chinese transliteration; ʃ ʒ θ ð.",
        "Mohammadali Hassan and ① ② ③ ⓐ ⓑ, 🇸🇾 🇩🇪, user a7x9 and sha256 ab12cd34ef56.",
        "ahmad.hassan@example.org khatibzadeh@example.org info@alkhatib.example",
        "حسن والخطيبي",  # (أحمد حسن الخطيب: a father's name between, the witness)
    ],
)
def test_ordinary_text_with_numbers_symbols_and_other_names_names_no_one(text: str) -> None:
    assert _matcher().names(text) == set()


@pytest.mark.slow
def test_a_package_with_a_name_in_disguise_is_refused_with_its_place(
    sqlite_home: Path, tmp_path: Path
) -> None:
    files = {
        "post.txt": lambda n: f"Shared by {_offset(0x24D0)(n)} tonight.\n",
        "chat.txt": lambda n: f"[21:04] Abu Omar: {_arabizi(n)} saw the convoy\n",
        "contacts.csv": lambda n: f"role,address\nwitness,{_glued(n)}@example.org\n",
        "flyer.txt": lambda n: f"{_spaced(n)}\n",
    }

    def write(folder: Path, named: bool) -> None:
        for name, text in files.items():
            (folder / name).write_text(text(WITNESS_LATIN if named else HARMLESS_LATIN), "utf-8")

    said, reasons = refused_then_built(sqlite_home, tmp_path, write)
    assert set(reasons) == set(files)
    for name, reason in reasons.items():
        assert "Witness A in the body text" in reason, (name, reasons)
    assert "Khatib" not in said and "khatib" not in said


#: What an adversary found still read as a name after the first pass: Arabizi's dotted letters
#: (7' 3'), a digit opening a word, user names with underscores, years and domains, Arabizi
#: and leetspeak mixed, names run together with a capital inside or surname first, and the
#: look-alike alphabets of fancy-text generators.
READ_AS_NAMES = {
    "7'alid Hassan": "Khalid",
    "3'assan Khoury": "Ghassan",
    "3li Hassan": "Ali",
    "a7mad_al5atib": "Ahmad",
    "a7mad_5atib@gmail.com": "Ahmad",
    "a7mad.al5atib1990@hotmail.com": "Ahmad",
    "A7mad Kh4t1b": "Ahmad",
    "A7mad 3l-5atib": "Ahmad",
    "Kha+ib Ahmad": "Ahmad",
    "F4t1m4 H4ss4n": "Fatima",
    "4hm4dkh4t1b": "Ahmad",
    "AHMADalKHATIB": "Ahmad",
    "alkhatibahmad": "Ahmad",
    "ahmad1khatib": "Ahmad",
    "AhMaD aL-KhAtIb": "Ahmad",
    "ᵃʰᵐᵃᵈ ᵃˡ-ᵏʰᵃᵗᶦᵇ": "Ahmad",
    "ʏᴜsᴜғ ǫᴀʙʙᴀɴɪ": "Yusuf",
    "ᗩᕼᗰᗩᗪ ᗩᒪ-ᛕᕼᗩTᓰᗷ": "Ahmad",
    "ᎪᎻᎷᎪᎠ ᎪᏞ-ᏦᎻᎪᎢᏆᏴ": "Ahmad",
    "αнмα∂ αℓ-кнαтιв": "Ahmad",
    "卂卄爪卂ᗪ 卂ㄥ-Ҝ卄卂ㄒ丨乃": "Ahmad",
    "₳Ⱨ₥₳Đ ₳Ⱡ-₭Ⱨ₳₮ł฿": "Ahmad",
    "ȺħmȺđ Ⱥł-ꝁħȺŧɨƀ": "Ahmad",
    "ąɦɱąɗ ąʟ-ƙɦąƭɨɓ": "Ahmad",
    "คђ๓ค๔ คɭ-кђคՇเ๒": "Ahmad",
    "ДНМДD ДŁ-ЌНДТЇБ": "Ahmad",
    "qıʇɐɥꓘ-lɐ pɐɯɥⱯ": "Ahmad",
    "A✨h✨m✨a✨d✨K✨h✨a✨t✨i✨b": "Ahmad",
    "A~h~m~a~d K~h~a~t~i~b": "Ahmad",
}
PEOPLE = [
    ("Ahmad", [WITNESS_LATIN, WITNESS_AR]),
    ("Khalid", ["Khalid Hassan"]),
    ("Ghassan", ["Ghassan Khoury"]),
    ("Ali", ["Ali Hassan"]),
    ("Fatima", ["Fatima Hassan"]),
    ("Yusuf", ["Yusuf Qabbani"]),
    ("Omar", ["Omar Said"]),
]


@pytest.mark.parametrize("text", list(READ_AS_NAMES))
def test_what_the_adversary_read_as_a_name_is_found(text: str) -> None:
    assert Matcher.of(PEOPLE).names(text) == {READ_AS_NAMES[text]}


@pytest.mark.parametrize(
    "text",
    [
        "🇴🇲🇦🇷 🇸🇦🇮🇩 🇸🇾",  # flags: Oman, Argentina, Saudi Arabia, Indonesia, Syria
        "Привет, как дела? Всё хорошо.",
        "Ελληνικά κείμενα για τη Συρία",
        "In 2014, 3km from the 5th checkpoint; room 7B; 4x4 vehicles; iPhone and YouTube.",
        "Ahmadi, Alahmad, Khatibzadeh and Mohammadi signed.",
    ],
)
def test_flags_other_scripts_and_units_name_no_one(text: str) -> None:
    assert Matcher.of(PEOPLE).names(text) == set()


def _passport(surname: str, given: str) -> str:
    """A passport's machine-readable zone (ICAO 9303, 2 × 44), as OCR reads a scan of it."""
    first = f"P<SYR{surname}<<{given}".replace(" ", "<").ljust(44, "<")
    return first + "\nN12345678<SYR8001014M3001011<<<<<<<<<<<<<<06\n"


def _card(surname: str, given: str) -> str:
    """An identity card's zone (3 × 30): the name is the whole third line."""
    third = f"{surname}<<{given}".replace(" ", "<").ljust(30, "<")
    return f"IDSYR1234567<<<<<<<<<<<<<<<<<<\n8001014M3001011SYR<<<<<<<<<<<6\n{third}\n"


@pytest.mark.parametrize("zone", [_passport, _card])
def test_a_name_in_a_machine_readable_zone_is_found(zone: Callable[[str, str], str]) -> None:
    """A copy of a passport or an identity card: the zone writes SURNAME<<GIVEN<NAMES, the
    state's code glued before a passport's surname, and a three-word name surname first."""
    m = Matcher.of([*PEOPLE, ("Zahra", ["Fatima Zahra Hassan"])])
    assert m.names("Copy of the passport:\n" + zone("ALKHATIB", "AHMAD")) == {"Ahmad"}
    assert "Zahra" in m.names(zone("HASSAN", "FATIMA ZAHRA"))
    assert m.names(zone("HADDAD", "NIZAR")) == set()  # another holder


@pytest.mark.parametrize(
    "text", ["HASSAN, Fatima Zahra", "Hassan Fatima Zahra", "hassan fatima zahra (detained)"]
)
def test_a_name_of_three_words_is_found_surname_first(text: str) -> None:
    """Registers, lists and identity papers write the surname first; a name of two words was
    read either way, and one of three only as recorded or wholly reversed."""
    m = Matcher.of([("Zahra", ["Fatima Zahra Hassan"])])
    assert m.names(text) == {"Zahra"}
    assert m.names("Zahra Hassan Fatima") == set()  # not any order: the surname first
    assert len(seal(b"k" * 32, ["Fatima Zahra Hassan"])["spellings"]) == 1  # as recorded


def test_a_short_name_run_together_is_not_a_form_it_would_be_a_common_word() -> None:
    m = Matcher.of([("W", ["Ali Bi"])])
    assert m.names("He had an alibi.") == set()
    assert m.names("Ali Bi was there") == {"W"}  # as recorded, still


@pytest.mark.parametrize(
    "line",
    [
        "P«SYRALKHATIB««AHMAD".ljust(44, "«"),  # OCR's « for <
        "P‹SYRALKHATIB‹‹AHMAD".ljust(44, "‹"),
        "p<syralkhatib<<ahmad".ljust(44, "<"),  # in lower case
        "P<SYRALKHATIB<<AHMAD".ljust(53, "<"),  # filler read twice
        "P<SYR AL KHATIB<<AHMAD <<<<".ljust(44, "<"),  # spaces
    ],
)
def test_a_machine_readable_zone_as_ocr_misreads_it_is_read(line: str) -> None:
    assert Matcher.of(PEOPLE).names(f"{line}\nN12345678<SYR8001014M3001011<<<<<<<<<<<<<<06") == {
        "Ahmad"
    }


@pytest.mark.parametrize(
    "text",
    ["std::cout << Ahmad << std::endl << Hassan;", "<<<<<<< HEAD\nKhatib notes\n=======\n"],
)
def test_shift_operators_and_conflict_markers_are_no_zone(text: str) -> None:
    assert Matcher.of(PEOPLE).names(text) == set()
