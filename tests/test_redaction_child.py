"""The redaction's sandboxed child parses hostile evidence, so it is trusted with nothing but
the file: no names key, no digest of a protected name, no name. It lists the words a file
shows; Amanah matches them and sends back areas; the child removes them and says what the
written file says; Amanah looks for the names again. Tried with the real sandbox, watched
from outside, and with the child's answers spoiled as a compromised child would spoil them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from amanah.access import local_administrator
from amanah.db.models import Derivative, ProtectedPerson
from amanah.processing.sandbox import Sandbox, sandbox_mode
from amanah.sharing import SharingError, redaction, redaction_sandbox
from amanah.sharing.names_key import key_path
from tests.test_redaction import _workspace_with, hostile_pdf


class Watched(Sandbox):
    """The home's real sandbox; every spec the child is sent is kept, and `spoil` may change
    what the child wrote before Amanah reads it (a compromised child's answer)."""

    def __init__(self, *args: Any, spoil: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.specs: list[str] = []
        self.listed: list[Path] = []
        self.spoil = spoil

    def analyze(self, path: str, name: str, out_dir: str, *args: Any, **kwargs: Any) -> Any:
        self.specs.append(Path(out_dir, redaction_sandbox.SPEC).read_text(encoding="utf-8"))
        manifest = super().analyze(path, name, out_dir, *args, **kwargs)
        if self.spoil is not None:
            self.spoil(Path(out_dir), manifest)
        self.listed.append(Path(out_dir))
        return manifest


def _watched(ws: Any, spoil: Any = None) -> Watched:
    return Watched(sandbox_mode(ws.settings), ws.home / "work", (ws.home,), spoil=spoil)


def _hex_strings(value: Any) -> set[str]:
    """Every hex string of 16 or more digits in a JSON value (the sealed digests)."""
    if isinstance(value, str):
        ok = len(value) >= 16 and all(c in "0123456789abcdef" for c in value.lower())
        return {value.lower()} if ok else set()
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return set().union(*(_hex_strings(v) for v in value)) if value else set()
    return set()


def test_the_child_is_sent_no_key_no_digest_and_no_name(sqlite_home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    hostile_pdf(folder / "hearing.pdf")
    ws, ids = _workspace_with(sqlite_home, folder)
    box = _watched(ws)
    try:
        done = redaction.redact(ws, local_administrator(ws), ids["hearing.pdf"], sandbox=box)
    finally:
        box.close()
    assert done["protected"] == ["Witness A"] and done["regions"] >= 2
    assert len(box.specs) == 2  # the words, then the areas
    key = key_path(ws.home).read_text().strip().lower()
    with ws.db.reader() as s:
        sealed = s.execute(select(ProtectedPerson.name_digests)).scalar_one()
    digests = _hex_strings(json.loads(sealed))
    assert len(digests) >= 4, "the witness's digests were found to look for"
    for spec in box.specs:
        low = spec.lower()
        assert key not in low
        assert not [d for d in digests if d in low]
        assert "khatib" not in low and "الخطيب" not in spec
    areas = json.loads(box.specs[1])["areas"]
    assert all(len(a) == 5 for a in areas) and {a[0] for a in areas} == {1}
    # What the child listed is not left beside the evidence copy.
    for out in box.listed:
        assert (
            not (out / redaction_sandbox.WORDS).exists()
            and not (out / redaction_sandbox.REREAD).exists()
        )
    ws.close()


def _refused(ws: Any, item_id: int, spoil: Any) -> str:
    """The redaction's refusal, with the child's answers spoiled by `spoil`."""
    box = _watched(ws, spoil)
    try:
        with pytest.raises(SharingError) as caught:
            redaction.redact(ws, local_administrator(ws), item_id, sandbox=box)
    finally:
        box.close()
    return str(caught.value)


def _no_redaction(ws: Any, item_id: int) -> bool:
    with ws.db.reader() as s:
        kinds = s.execute(select(Derivative.kind).where(Derivative.item_id == item_id)).scalars()
        return redaction.REDACTED not in set(kinds)


@pytest.mark.parametrize(
    "spoiled",
    ["words not json", "words of the wrong shape", "area not a number", "reread missing"],
)
def test_a_spoiled_answer_of_the_child_is_refused_clearly_and_nothing_is_recorded(
    sqlite_home: Path, tmp_path: Path, spoiled: str
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    hostile_pdf(folder / "hearing.pdf")
    ws, ids = _workspace_with(sqlite_home, folder)

    def spoil(out: Path, manifest: dict[str, Any]) -> None:
        words, reread = out / redaction_sandbox.WORDS, out / redaction_sandbox.REREAD
        if spoiled == "words not json" and words.exists():
            words.write_bytes(b"\xff{not json")
        elif spoiled == "words of the wrong shape" and words.exists():
            words.write_text(json.dumps({"page_count": 1, "pages": "everything"}))
        elif spoiled == "area not a number" and words.exists():
            shown = json.loads(words.read_text())
            for page in shown["pages"]:
                page["text"] = [[w, [["x", 0, 1, 1]]] for w, _ in page["text"]]
            words.write_text(json.dumps(shown))
        elif spoiled == "reread missing" and reread.exists():
            reread.unlink()

    caught = _refused(ws, ids["hearing.pdf"], spoil)
    message = caught
    assert f"item {ids['hearing.pdf']}" in message and "sandbox" in message, message
    assert "Khatib" not in message and "Traceback" not in message
    assert _no_redaction(ws, ids["hearing.pdf"])
    ws.close()


def test_a_child_that_hides_the_name_is_caught_by_the_bytes_amanah_reads_itself(
    sqlite_home: Path, tmp_path: Path
) -> None:
    """A compromised child could list no words and say nothing of its output; the written
    file's own bytes are still read here. An uncompressed name in them refuses the copy."""
    import pymupdf

    folder = tmp_path / "in"
    folder.mkdir()
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 100), "Minutes of the hearing.", fontsize=12)
    doc.save(folder / "plain.pdf")
    doc.close()
    ws, ids = _workspace_with(sqlite_home, folder)

    def spoil(out: Path, manifest: dict[str, Any]) -> None:
        if (out / redaction_sandbox.REREAD).exists():
            (out / redaction_sandbox.REREAD).write_text(json.dumps({"texts": [], "sequences": []}))
            with (out / manifest["file"]).open("ab") as f:
                f.write(b"\n% Ahmad al-Khatib\n")  # what a compromised writer could slip in

    caught = _refused(ws, ids["plain.pdf"], spoil)
    assert "the file's bytes" in caught and "Khatib" not in caught
    assert _no_redaction(ws, ids["plain.pdf"])
    ws.close()


def test_the_type_and_method_recorded_are_amanahs_not_the_childs(
    sqlite_home: Path, tmp_path: Path
) -> None:
    """A compromised child could call its output a web page, or write a name into the method
    that goes into the custody ledger: both are said by Amanah."""
    from amanah.db.models import CustodyEvent

    folder = tmp_path / "in"
    folder.mkdir()
    hostile_pdf(folder / "hearing.pdf")
    ws, ids = _workspace_with(sqlite_home, folder)

    def spoil(out: Path, manifest: dict[str, Any]) -> None:
        if "reread" in manifest:
            manifest.update(media_type="text/html", method="Ahmad al-Khatib was here")

    box = _watched(ws, spoil)
    try:
        done = redaction.redact(ws, local_administrator(ws), ids["hearing.pdf"], sandbox=box)
    finally:
        box.close()
    assert done["media_type"] == "application/pdf" and "PyMuPDF" in done["method"]
    with ws.db.reader() as s:
        kinds = dict(
            s.execute(
                select(Derivative.kind, Derivative.media_type).where(
                    Derivative.item_id == ids["hearing.pdf"]
                )
            ).all()
        )
        events = [e.details for e in s.execute(select(CustodyEvent)).scalars()]
    assert kinds[redaction.REDACTED] == "application/pdf"
    assert not [e for e in events if "Khatib" in (e or "")]
    ws.close()
