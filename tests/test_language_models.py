"""Which of lingua's models read a sample: trigrams for a long one (0.07 s and 11-14 MB to build
for the seven languages), every model for a short one (1.4-1.6 s, 240-300 MB). When a sandbox's
zygote builds them: tests/test_zygote_warming.py. Every model of one script at a time: below."""

from __future__ import annotations

from amanah.processing import language
from tests.test_ocr_speedups import TEXTS

#: A paragraph of each language, written for this test, each longer than TRIGRAMS_FROM.
PARAGRAPHS = {
    "ar": "قال الشاهد إن عناصر الفرع اعتقلوه عند الحاجز في صباح يوم الجمعة، ثم نقلوه مع"
    " ثلاثة رجال آخرين إلى مبنى المخابرات حيث بقي في زنزانة جماعية مدة أربعة أشهر.",
    "en": "The witness said that officers of the branch arrested him at the checkpoint on a"
    " Friday morning and took him, with three other men, to a crowded cell for four months.",
    "fr": "Le témoin a déclaré que des agents de la section l'avaient arrêté au poste de"
    " contrôle un vendredi matin, puis conduit avec trois autres hommes dans une cellule.",
    "de": "Der Zeuge sagte, dass Beamte der Abteilung ihn an einem Freitagmorgen am"
    " Kontrollpunkt festgenommen und mit drei anderen Männern in eine Zelle gebracht haben.",
    "ru": "Свидетель рассказал, что сотрудники отдела задержали его на блокпосту в пятницу"
    " утром и вместе с тремя другими мужчинами доставили в переполненную камеру.",
    "tr": "Tanık, şube görevlilerinin kendisini bir cuma sabahı kontrol noktasında"
    " gözaltına aldığını ve üç adamla birlikte kalabalık bir hücreye götürdüğünü söyledi.",
    "fa": "شاهد گفت که ماموران شعبه او را در صبح روز جمعه در ایست بازرسی بازداشت کردند و"
    " همراه با سه مرد دیگر به یک سلول شلوغ بردند و چهار ماه در آنجا نگه داشتند.",
}


def test_a_long_sample_is_read_with_trigrams_and_named_as_every_model_names_it() -> None:
    full = language._detector()
    for code, text in PARAGRAPHS.items():
        assert len(text) >= language.TRIGRAMS_FROM, code
        best = full.compute_language_confidence_values(text)[0].language
        got = language.detect(text)
        assert language._LANGUAGES[best] == code, code
        assert (got[0]["language"], got[0]["method"]) == (code, "lingua trigrams"), code
    for text in TEXTS:  # every one shorter than TRIGRAMS_FROM: every model
        assert len(text) < language.TRIGRAMS_FROM, text
        assert language.detect(text)[0]["method"] == "lingua", text


def test_a_short_sample_reads_the_same_among_its_scripts_languages_as_among_all_seven() -> None:
    """The zygote builds every model of one script at a time (Latin's four languages cost 1.0 s
    and 131 MB, all seven 1.7 s and 238 MB): lingua sets aside the languages of other
    alphabets, so the script's detector must give the same languages and confidences."""
    every = language._detector(language.EVERY)
    shorts = [
        *TEXTS,
        "Die Zeugin wurde in der Abteilung festgehalten.",
        "Tanık şubede üç ay tutuldu.",
        "شاهد در بازداشتگاه ماند",
    ]
    seen = set()
    for text in shorts:
        for part in language._by_script(text).values():
            script = language._script(part)
            assert script in language.SCRIPT_LANGUAGES, part  # one script per part
            seen.add(script)
            ours = language._detector(script).compute_language_confidence_values(part)
            theirs = every.compute_language_confidence_values(part)
            assert [(v.language, round(v.value, 9)) for v in ours if v.value > 0] == [
                (v.language, round(v.value, 9)) for v in theirs if v.value > 0
            ], part
    assert seen == set(language.SCRIPT_LANGUAGES)
    # A sample in two scripts, or in none, is read among all seven.
    assert language._script("نقل الموقوفين transferred") == language.EVERY
    assert language._script("Η επιτροπή συνεδρίασε") == language.EVERY  # no model of ours
    # Without a letter, lingua names no language with every model: none is built for it.
    letterless = "2013-03-12 / 285 / 17 / 9"
    assert language._script(letterless) is None
    assert not every.compute_language_confidence_values(letterless)[0].value
    wanted = language.models_wanted()
    assert language.detect(letterless) == [] and language.models_wanted() == wanted
