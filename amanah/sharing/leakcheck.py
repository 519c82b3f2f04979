"""The leak check: whether an item (or its redacted copy) may leave, read from its inventory.

An item may go into a package only when its content inventory, and the inventory of every
part at every depth, is complete and names no protected person. Every place of the inventory
is read (body, headers, notes, annotations, revisions, OCR …, and the raw readings of the
bytes: UTF-8, UTF-16, the legacy code pages, taken with the inventory in the sandbox), then the
file name and the metadata. An inventory taken before raw readings were stored (no `"raw"`)
gets the live raw scan of the stored bytes instead, as a net under everything. A redacted copy
is inventoried the same way, in the sandbox, with OCR in the collection's languages. Reasons
say the place, never the name.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanah.db.models import Derivative, InventoryAttestation, Item
from amanah.processing import inventory, pathnames
from amanah.sharing.protected import Matcher
from amanah.text import margins, ocr_confusions, rawtext
from amanah.workspace import Workspace

MAX_PLACES = 3  # places named in one refusal reason
#: What the inventory of a redacted copy is stored as (by the first plan that takes it).
REDACTED_INVENTORY = "redacted-inventory"
#: How a redacted copy's inventory that could not be taken begins (never stored: taken again).
SANDBOX_FAILED = "the inventory failed in the sandbox"
_EXT = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


@dataclass
class Findings:
    """What stops an item: names found (by place) and why its inventory is not complete."""

    names: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)


class LeakCheck:
    """One package plan's inspection: inventories read once, a sandbox started only when a
    redacted copy has no stored inventory."""

    def __init__(self, ws: Workspace, s: Session, matcher: Matcher) -> None:
        self.ws, self.s, self.matcher = ws, s, matcher
        self._sandbox: Any = None
        #: Items whose inventory row points at a blob no derivation event names for them.
        self.untrusted: set[int] = set()

    # -- what is stored ---------------------------------------------------------------------

    def inventories(self, item_ids: list[int]) -> dict[int, Derivative]:
        """The stored inventories of these items (by item id; a redacted copy's by minus its
        row's id), each only if the ledger's derivation events name its blob for its item: a
        row pointed by hand at another item's clean inventory is not trusted (`untrusted`)."""
        from amanah.preservation.derivatives import recorded_blobs

        out: dict[int, Derivative] = {}
        recorded = recorded_blobs(self.s, item_ids)
        for i in range(0, len(item_ids), 900):
            for d in self.s.execute(
                select(Derivative).where(
                    Derivative.item_id.in_(item_ids[i : i + 900]),
                    Derivative.kind.in_(("inventory", REDACTED_INVENTORY)),
                )
            ).scalars():
                if (d.item_id, d.kind, d.sha256) not in recorded:
                    self.untrusted.add(d.item_id)
                    continue
                out[d.item_id if d.kind == "inventory" else -d.id] = d
        return out

    def attestations(self, items: list[Item]) -> dict[int, InventoryAttestation]:
        """The latest attestation of each item, for its bytes as they are."""
        sha = {i.id: i.sha256 for i in items}
        out: dict[int, InventoryAttestation] = {}
        ids = sorted(sha)
        for i in range(0, len(ids), 900):
            for a in self.s.execute(
                select(InventoryAttestation)
                .where(InventoryAttestation.item_id.in_(ids[i : i + 900]))
                .order_by(InventoryAttestation.id)
            ).scalars():
                if a.sha256 == sha[a.item_id]:
                    out[a.item_id] = a
        return out

    def _load(self, d: Derivative) -> dict[str, Any] | None:
        with self.ws.blobs.open(d.sha256) as f:
            data = f.read()
        if hashlib.sha256(data).hexdigest() != d.sha256:
            return None
        return json.loads(data)

    # -- inspection -------------------------------------------------------------------------

    def item(self, item: Item, stored: Derivative | None) -> Findings:
        """An item's own findings (its parts are inspected as items of their own)."""
        out = Findings()
        if item.processing != "done":
            state = {"pending": "still pending", "running": "still running"}.get(
                item.processing, item.processing
            )
            out.incomplete.append(f"processing {state}")
        doc = None
        if stored is None and item.id in self.untrusted:
            out.incomplete.append(
                "its content inventory is not the one the custody ledger records for it (its"
                " record was changed outside Amanah): not trusted; run `amanah verify`"
            )
        elif stored is None:
            if item.processing == "done":
                out.incomplete.append("no content inventory was taken (process it again)")
        else:
            doc = self._load(stored)
            if doc is None:
                out.incomplete.append("its stored inventory does not match its SHA-256")
            elif not doc.get("complete"):
                out.incomplete.extend(doc.get("reasons") or ["not complete"])
        if doc is not None:
            out.names.extend(self._in_parts(doc))
        path = item.original_path
        if (read := _path_read(item.original_path_raw)) != path:  # not UTF-8: shown escaped
            path += "\n" + read
        for text, place in (
            (path.replace("/", "\n"), "its file name"),
            (item.doc_metadata or "", "its metadata"),
        ):
            if hit := self.matcher.names(text):
                out.names.append(f"{_who(hit)} in {place}")
        self._raw_scan(item.sha256, doc, out)
        return out

    def redacted(
        self, item: Item, red: Derivative, texts: list[Derivative], languages: str | None
    ) -> Findings:
        """The redacted copy, inspected with the same inventory as an original."""
        out = Findings()
        doc = self._redacted_inventory(item, red, languages or "ara+eng")
        if doc is None:
            out.incomplete.append("its stored inventory does not match its SHA-256")
        else:
            if not doc.get("complete"):
                out.incomplete.extend(doc.get("reasons") or ["not complete"])
            out.names.extend(self._in_parts(doc))
        for t in texts:
            with self.ws.blobs.open(t.sha256) as f:
                if hit := self.matcher.names(f.read().decode("utf-8", "replace")):
                    out.names.append(f"{_who(hit)} in its redacted text")
        self._raw_scan(red.sha256, doc, out)
        return out

    def _in_parts(self, doc: dict[str, Any]) -> list[str]:
        found: dict[str, set[str]] = {}
        pages: dict[str, list[tuple[int, str]]] = {}
        for p in doc.get("parts", []):
            hit = self.matcher.names(p["text"])
            if p["place"].startswith("OCR"):  # "Ahrnad aI-Khatib": read as the picture
                for reading in ocr_confusions.readings(p["text"]):
                    hit |= self.matcher.names(reading)
            if hit:
                where = p["place"] + (f" ({p['locator']})" if p.get("locator") else "")
                found.setdefault(where, set()).update(hit)
            if p.get("page") is not None:
                pages.setdefault(p["place"], []).append((p["page"], p["text"]))
        for place, texts in pages.items():  # a name a page turn cuts in two
            for page, joined in margins.page_turns(texts):
                if hit := self.matcher.names(joined):
                    found.setdefault(f"{place} (across pages {page - 1} and {page})", hit)
        return [f"{_who(hit)} in {where}" for where, hit in found.items()]

    def _raw_scan(self, sha256: str, doc: dict[str, Any] | None, out: Findings) -> None:
        """The raw scan, when nothing else named anyone and the inventory holds no raw readings
        (one taken before they were stored)."""
        if out.names or _has_raw(doc):
            return
        hit, cut = self.raw(sha256)
        if hit:
            out.names.append(f"{_who(hit)} in its stored bytes (found by the raw scan)")
        if cut:
            out.incomplete.append(rawtext.INFLATE_CUT_REASON)

    def raw(self, sha256: str) -> tuple[set[str], bool]:
        """The last net: names in the stored bytes read as UTF-8, UTF-16 and code pages, and
        whether compressed data in them inflated past what the readings read (then a name may
        be in what was not read, as the inventory's raw readings say).

        Chunked once, as the inventory's raw readings are (`rawtext.file_chunks`): each chunk
        is decoded once and a name across a chunk boundary is inside the overlap."""
        if not self.matcher:
            return set(), False
        found: set[str] = set()
        cut = False
        with self.ws.blobs.open(sha256) as f:
            for chunk in rawtext.file_chunks(f):
                for encoding, text in rawtext.chunk_readings(chunk):
                    cut = cut or encoding == rawtext.INFLATE_CUT
                    found |= self.matcher.find(text)
        return found, cut

    # -- the redacted copy's inventory, taken in the sandbox ---------------------------------

    def _redacted_inventory(
        self, item: Item, red: Derivative, languages: str
    ) -> dict[str, Any] | None:
        for d in self.inventories([item.id]).values():
            details = json.loads(d.details or "{}")
            if (
                d.kind == REDACTED_INVENTORY
                and details.get("of") == red.sha256
                and details.get("languages") == languages
            ):
                doc = self._load(d)
                if doc is None or (doc.get("of"), doc.get("languages")) == (red.sha256, languages):
                    return doc
        doc = self.take(red.sha256, f"redacted{_EXT.get(red.media_type, '')}", languages)
        if not any(r.startswith(SANDBOX_FAILED) for r in doc.get("reasons", [])):
            self._store(item, red, languages, doc)
        return doc

    def _store(self, item: Item, red: Derivative, languages: str, doc: dict[str, Any]) -> None:
        """Keep the redacted copy's inventory, bound to the copy's SHA-256 and the languages
        it was read in, so the next plan reads it instead of taking it again in the sandbox
        (a new copy, or other languages, is inventoried anew). A derivative like any other:
        its blob durable first, its row bound to it by its derivation event."""
        from amanah.processing.pipeline import put_derivative

        bound = {"of": red.sha256, "languages": languages}
        # the blob itself says what it is the inventory of (and differs by languages)
        data = json.dumps({**doc, **bound}, ensure_ascii=False, sort_keys=True).encode("utf-8")
        put = self.ws.blobs.put(io.BytesIO(data))
        self.ws.blobs.sync()
        with self.ws.db.session() as w:
            put_derivative(
                w,
                item.id,
                REDACTED_INVENTORY,
                put,
                "application/json",
                bound,
                about={**bound, "complete": bool(doc.get("complete"))},
            )

    def take(self, sha256: str, name: str, languages: str) -> dict[str, Any]:
        """Inventory stored bytes in the processing sandbox (never in this process)."""
        from amanah.processing.pipeline import local_copy
        from amanah.processing.sandbox import Limits, Sandbox, SandboxError

        work = self.ws.home / "work"
        work.mkdir(exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix="amanah-inventory-", dir=work))
        try:
            out_dir = scratch / "out"
            out_dir.mkdir()
            (out_dir / inventory.SPEC).write_text(
                json.dumps({"name": name, "languages": languages}), encoding="utf-8"
            )
            path = local_copy(self.ws, sha256, scratch)
            if self._sandbox is None:
                # The home's own sandbox: its mode and its work folder (a plain Sandbox() was
                # caged whatever the home's setting, its jobs in the system's temporary folder).
                self._sandbox = Sandbox.for_settings(self.ws.settings)
            try:
                self._sandbox.analyze(
                    str(path), name, str(out_dir), Limits(), languages, task="inventory"
                )
            except SandboxError as exc:
                failed = inventory.Inventory()
                failed.incomplete(f"{SANDBOX_FAILED}: {exc}")
                return failed.to_json()
            return json.loads((out_dir / inventory.FILE).read_text(encoding="utf-8"))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None


def _path_read(raw: bytes | None) -> str:
    """The file name as its code page reads it (shown escaped when it is not UTF-8)."""
    if not raw:
        return ""
    return "\n".join([pathnames.read_name(raw), *pathnames.other_readings(raw)])


def _has_raw(doc: dict[str, Any] | None) -> bool:
    """Whether a stored inventory holds the raw readings of the bytes (version 2 on): then they
    are read as its parts, else the bytes are scanned live (an inventory taken before)."""
    return bool(doc and doc.get("raw"))


def _who(pseudonyms: set[str]) -> str:
    return f"names protected person {', '.join(sorted(pseudonyms))}"


def summary(reasons: list[str]) -> str:
    """A few places, then how many more."""
    unique = list(dict.fromkeys(reasons))
    more = len(unique) - MAX_PLACES
    return "; ".join(unique[:MAX_PLACES]) + (f"; and {more} more" if more > 0 else "")
