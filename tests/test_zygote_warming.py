"""A zygote imports every reader's libraries before its first child of a reading task, and
builds their models (fido's signatures, lingua's trigrams) only before its second; lingua's
every model only once a child has needed them for a short text.

Most runs read one file, and the models cost 1.9 s of CPU that such a run never used: its
child builds what its own file needs. That first reading must equal a warm one, inside the real
cage (Landlock and seccomp see what the child builds), and the zygote must hold the models
afterwards, not before.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import docx
import pytest

from amanah.processing.analyze import ON_DEMAND
from amanah.processing.sandbox import TEST_TASKS_ENV, WANTS_MODULES, Limits, Sandbox, SandboxError
from tests.conftest import require_isolation
from tests.fixtures import email_with, minimal_pdf, zip_of
from tests.test_language_models import PARAGRAPHS
from tests.test_ocr_speedups import TEXTS

ENGLISH = [
    "The witness was held at the branch for three months in the winter of 2012.",
    "Interrogations took place at night in the basement, under the orders of the head",
    "of the investigation section, who signed the transfer lists himself. Detainees",
    "were moved between the branch and the military airport every second week, and",
    "their families were told nothing about where they were or whether they lived.",
] * 4
ARABIC = "احتُجز الشاهد في الفرع ثلاثة أشهر، وكانت التحقيقات تجري ليلاً في القبو بأوامر رئيس القسم."


def _docx() -> bytes:
    document = docx.Document()
    document.add_paragraph(ARABIC * 6)
    document.add_paragraph(" ".join(ENGLISH[:5]))
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


FILES = {
    "statement.pdf": lambda: minimal_pdf(ENGLISH),
    "statement.docx": _docx,
    "handover.eml": lambda: email_with(
        {"scans.zip": ("application/zip", zip_of({"note.txt": "\n".join(ENGLISH).encode()}))},
        body="\n".join(ENGLISH[:5]),
    ),
}


def _read(box: Sandbox, path: Path, out: Path) -> tuple[dict[str, object], dict[str, bytes]]:
    out.mkdir()
    manifest = box.analyze(str(path), path.name, str(out))
    files = {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}
    return manifest, files


@pytest.mark.parametrize("name", sorted(FILES))
def test_a_first_reading_in_a_fresh_caged_zygote_equals_a_warm_one(
    name: str, tmp_path: Path
) -> None:
    require_isolation()
    path = tmp_path / name
    path.write_bytes(FILES[name]())
    box = Sandbox("isolated", work_dir=tmp_path)
    try:
        first, first_files = _read(box, path, tmp_path / "first")  # lazy: imports its own
        second, second_files = _read(box, path, tmp_path / "second")  # the zygote warmed
    finally:
        box.close()
    assert "error" not in first, first
    assert first == second
    assert first_files == second_files
    # What makes the comparison worth making: the reading found text and its languages.
    assert first["languages"], first
    text = first_files["text.txt"].decode("utf-8")
    assert "witness" in text or "الشاهد" in text, name
    if name == "handover.eml":
        children = first["children"]
        assert [bytes.fromhex(c["path_hex"]) for c in children] == [b"scans.zip"]  # type: ignore[union-attr,index]
    if name == "statement.docx":
        assert {lang["language"] for lang in first["languages"]} >= {"ar", "en"}  # type: ignore[index]


def _resident_mib(pid: int | None) -> int:
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    return int(next(line for line in status if line.startswith("VmRSS")).split()[1]) >> 10


def _own_cpu(pid: int | None) -> float:
    """CPU seconds a process has spent itself (not its children's): what it built."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_the_zygote_builds_the_readers_models_before_its_second_reading_not_its_first(
    tmp_path: Path,
) -> None:
    path = tmp_path / "note.txt"
    path.write_text("\n".join(ENGLISH), encoding="utf-8")
    box = Sandbox("limits-only", work_dir=tmp_path)  # its pid is the zygote's own
    try:
        first, _ = _read(box, path, tmp_path / "first")
        before = _resident_mib(box.pid)  # the libraries, not lingua's models (the child's)
        second, _ = _read(box, path, tmp_path / "second")
        after = _resident_mib(box.pid)  # fido's signatures and lingua's trigrams (about 45 MB)
        third, _ = _read(box, path, tmp_path / "third")
        assert _resident_mib(box.pid) - after < 50  # built once
    finally:
        box.close()
    assert after - before > 25, (before, after)
    assert first == second == third
    assert [lang["language"] for lang in first["languages"]] == ["en"]  # type: ignore[union-attr,index]


def test_the_zygote_builds_a_scripts_every_model_only_after_a_child_needed_them(
    tmp_path: Path,
) -> None:
    """A batch of long texts never costs the zygote every model (1.7 s of CPU, 238 MB for all
    seven languages); a short English text makes it build the Latin script's (about 130 MB)
    once, before its next child, and not Arabic's until a short Arabic text comes."""
    box = Sandbox("limits-only", work_dir=tmp_path)
    texts = iter(range(100))

    def languages(text: str) -> list[dict[str, object]]:
        path = tmp_path / f"in{next(texts)}.txt"
        path.write_text(text, encoding="utf-8")
        manifest, _ = _read(box, path, tmp_path / f"out-{path.stem}")
        assert "error" not in manifest, manifest
        return manifest["languages"]  # type: ignore[return-value]

    try:
        for code in ("en", "ar", "de"):
            assert languages(PARAGRAPHS[code])[0]["method"] == "lingua trigrams, per part"
        trigrams_only, cpu = _resident_mib(box.pid), _own_cpu(box.pid)
        assert languages(TEXTS[1])[0]["method"] == "lingua, per part"  # short: the child loads
        assert _own_cpu(box.pid) - cpu < 0.15  # ... for itself, not the zygote
        languages(PARAGRAPHS["ru"])  # the zygote built the Latin script's before this fork
        latin, cpu = _resident_mib(box.pid), _own_cpu(box.pid)
        assert 90 < latin - trigrams_only < 180, (trigrams_only, latin)
        assert languages(TEXTS[2])[0]["language"] == "fr"  # Latin again: nothing more built
        assert languages(TEXTS[0])[0]["language"] == "ar"  # short Arabic: the child loads
        assert _own_cpu(box.pid) - cpu < 0.15
        languages(PARAGRAPHS["ru"])  # ... and the zygote builds Arabic's before this fork
        # 0.5 s of the zygote's own CPU (its memory grows by 20-80 MB: the heap's holes vary)
        assert _own_cpu(box.pid) - cpu > 0.25, cpu
        assert languages(TEXTS[0]) == languages(TEXTS[0])  # read warm as the child read it
    finally:
        box.close()


def _mapped(pid: int | None, library: str) -> bool:
    """Whether a process has a shared object of `library` mapped (its C code imported)."""
    return f"/{library}/" in Path(f"/proc/{pid}/maps").read_text()


def test_the_zygote_imports_a_readers_costly_library_only_after_a_child_needed_it(
    tmp_path: Path,
) -> None:
    """datasketch (MinHash, for texts of 20 words or more) pulls in scipy: 0.4 s of a zygote's
    start that a run of short texts, a web upload or a redaction preview never used. A child
    that needs it imports it for itself; the zygote imports it before its next child, so that a
    batch pays once, and the readings are the same."""
    assert "datasketch" in ON_DEMAND
    box = Sandbox("limits-only", work_dir=tmp_path)  # its pid is the zygote's own
    short, long = tmp_path / "short.txt", tmp_path / "long.txt"
    short.write_text(ENGLISH[0], encoding="utf-8")
    long.write_text("\n".join(ENGLISH), encoding="utf-8")
    try:
        _read(box, short, tmp_path / "short-1")
        assert not _mapped(box.pid, "scipy")
        first, first_files = _read(box, long, tmp_path / "long-1")  # the child imports it
        assert not _mapped(box.pid, "scipy")  # ... for itself
        _read(box, short, tmp_path / "short-2")  # the zygote imported it before this fork
        assert _mapped(box.pid, "scipy")
        warm, warm_files = _read(box, long, tmp_path / "long-2")
    finally:
        box.close()
    assert first == warm and first_files == warm_files
    assert len(first["fingerprints"]["minhash"]) == 128  # type: ignore[index]


def test_a_child_that_names_any_module_makes_the_zygote_import_only_the_readers_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A child's wish list is the child's to write, and a child a hostile file took over
    writes what it likes. `this` prints the Zen of Python when imported: in the zygote, onto
    the pipe its answers go down, the next job would read it as its answer. Only the readers'
    ON_DEMAND libraries are imported; the next reading is answered as usual."""
    monkeypatch.setenv(TEST_TASKS_ENV, "1")
    box = Sandbox("limits-only", work_dir=tmp_path)
    note = tmp_path / "note.txt"
    note.write_text(ENGLISH[0], encoding="utf-8")
    forged = {"ok": {}, WANTS_MODULES: ["this", "os", 7, {"x": 1}, "datasketch", "this" * 999]}
    try:
        before, _ = _read(box, note, tmp_path / "before")  # the zygote holds the analysis
        (tmp_path / "forged").mkdir()
        (tmp_path / "forged" / "hostile.json").write_text(
            json.dumps({"manifest": json.dumps(forged)})
        )
        box.analyze(str(note), note.name, str(tmp_path / "forged"), task="scribble")
        after, _ = _read(box, note, tmp_path / "after")
        assert _mapped(box.pid, "scipy")  # datasketch: a reader's, imported
    finally:
        box.close()
    assert after == before


@pytest.mark.parametrize("mode", ["limits-only", "isolated"])
def test_a_library_imported_on_demand_near_the_memory_limit_fails_at_once_never_spins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """A child imports the ON_DEMAND libraries for itself, within its own memory limit. SciPy's
    OpenBLAS (datasketch imports it) allocates in a loop until it succeeds: a child that loaded
    it near the limit ran until its CPU limit (300 s by default) before the zygote loaded it
    (`analyze.load_native`). Every library, with little memory left, is imported or refused
    at once, whichever it is, and never reaches the CPU limit."""
    if mode == "isolated":
        require_isolation()
    monkeypatch.setenv(TEST_TASKS_ENV, "1")
    box = Sandbox(mode, work_dir=tmp_path)
    note = tmp_path / "note.txt"
    note.write_text("a short note", encoding="utf-8")
    ended: dict[tuple[str, int], str] = {}
    try:
        _read(box, note, tmp_path / "warm")  # the zygote holds the analysis's libraries
        for module in ON_DEMAND:
            for mib in (32, 64, 128):  # once one imports, the zygote imports it for the rest
                out = tmp_path / f"{module}-{mib}"
                out.mkdir()
                (out / "hostile.json").write_text(json.dumps({"module": module}))
                limits = Limits(memory_bytes=mib << 20, cpu_seconds=5, wall_seconds=60)
                try:
                    box.analyze(str(note), note.name, str(out), limits, task="squeeze")
                    ended[(module, mib)] = "imported"
                except SandboxError as exc:
                    ended[(module, mib)] = str(exc)
    finally:
        box.close()
    refused = {f"memory limit of {mib} MiB exceeded" for mib in (32, 64, 128)}
    assert {k: v for k, v in ended.items() if v != "imported" and v not in refused} == {}
    assert any(v in refused for v in ended.values())  # the limits were close enough to bite
