"""True redaction: the protected names' text and pixels are removed, not covered.

PDFs: each word of the text layer that is part of a protected name, and each word that OCR
reads in a page's images, gets a redaction area; PyMuPDF's apply_redactions then deletes the
glyphs under it and blanks the image pixels under it, and the document is scrubbed (metadata,
XMP, hidden text, attachments, scripts, links). Images: the OCR'd words (and regions given by
hand, e.g. a face) are painted over and the file is written anew without its metadata.

The original is never touched: the redacted file is a derivative with its own hash and a
derivation event. What the redacted file still says (its text layer, and OCR of its images) is
kept beside it, so the package build can prove that no recorded spelling of a name survived.
The parsing of evidence runs in the processing sandbox (a forked child with limits).
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

from amanah.access import Caller, Permission, visible_item
from amanah.custody import ledger
from amanah.custody.ledger import EventType
from amanah.db.models import Collection, Derivative
from amanah.processing.pipeline import local_copy, put_derivative
from amanah.processing.sandbox import Limits, Sandbox, SandboxError
from amanah.sharing import SharingError
from amanah.sharing.protected import Matcher
from amanah.workspace import Workspace

DPI = 300
PAD = 1.0  # points around each word, so that anti-aliased edges go too
IMAGE_TYPES = {
    "image/png": ("PNG", "png"),
    "image/jpeg": ("JPEG", "jpg"),
    "image/tiff": ("PNG", "png"),
    "image/bmp": ("PNG", "png"),
    "image/webp": ("PNG", "png"),
    "image/gif": ("PNG", "png"),
}
REDACTED, REDACTED_TEXT, PSEUDONYMISED = "redacted", "redacted-text", "pseudonymised-text"
SPEC = "redact.json"


def redactable(media_type: str | None) -> bool:
    return media_type == "application/pdf" or media_type in IMAGE_TYPES


# -- in the sandbox's child ------------------------------------------------------------------


def redact_file(path: str, out_dir: str) -> dict[str, Any]:
    """Entry point in the sandbox: read the spec, write the redacted file and its text."""
    out = Path(out_dir)
    spec = json.loads((out / SPEC).read_text(encoding="utf-8"))
    (out / SPEC).unlink()  # the names do not stay on disk longer than needed
    matcher = Matcher.from_spec(spec["matcher"])
    if spec["media_type"] == "application/pdf":
        return _redact_pdf(Path(path), out, matcher, spec)
    return _redact_image(Path(path), out, matcher, spec)


def _ocr_words(grey: Any, work: Path, languages: str) -> list[dict[str, Any]]:
    from amanah.processing import ocr

    work.mkdir(exist_ok=True)
    _, _, found = ocr.tesseract(grey, work, languages, single_line=False)
    return found


def _by_line(found: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    lines: dict[tuple[int, ...], list[dict[str, Any]]] = {}
    for w in found:
        lines.setdefault(tuple(w["line"]), []).append(w)
    return list(lines.values())


def _named_boxes(found: list[dict[str, Any]], matcher: Matcher) -> list[tuple[list[int], str]]:
    boxes = []
    for line in _by_line(found):
        for index, pseudonym in matcher.in_words([w["text"] for w in line]):
            boxes.append((line[index]["box"], pseudonym))
    return boxes


def _grey_of(pix: Any) -> Any:
    import numpy as np

    data = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.stride)
    return np.ascontiguousarray(data[:, : pix.width])


def _redact_pdf(path: Path, out: Path, matcher: Matcher, spec: dict[str, Any]) -> dict[str, Any]:
    import pymupdf

    languages = spec["languages"]
    doc = pymupdf.open(path)
    if doc.needs_pass or doc.is_encrypted:
        raise ValueError("the PDF is encrypted: it cannot be redacted without its password")
    names: dict[str, int] = {}
    regions = 0
    ocr_pages = []
    zoom = DPI / 72
    for page in doc:
        rects = []
        lines: dict[tuple[int, int], list[tuple[str, Any]]] = {}
        for x0, y0, x1, y1, word, block, line, _ in page.get_text("words"):
            lines.setdefault((block, line), []).append((word, pymupdf.Rect(x0, y0, x1, y1)))
        for words in lines.values():
            for index, pseudonym in matcher.in_words([w for w, _ in words]):
                rects.append(words[index][1])
                names[pseudonym] = names.get(pseudonym, 0) + 1
        if page.get_images(full=True):
            ocr_pages.append(page.number + 1)
            pix = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), colorspace=pymupdf.csGRAY)
            found = _ocr_words(_grey_of(pix), out / "ocr", languages)
            for (left, top, width, height), pseudonym in _named_boxes(found, matcher):
                r = pymupdf.Rect(
                    left / zoom, top / zoom, (left + width) / zoom, (top + height) / zoom
                )
                rects.append(r * page.derotation_matrix)
                names[pseudonym] = names.get(pseudonym, 0) + 1
        for number, x0, y0, x1, y1 in spec["regions"]:
            if number == page.number + 1:
                rects.append(pymupdf.Rect(x0, y0, x1, y1))
        for r in rects:
            page.add_redact_annot(
                pymupdf.Rect(r.x0 - PAD, r.y0 - PAD, r.x1 + PAD, r.y1 + PAD), fill=(0, 0, 0)
            )
        if rects:
            page.apply_redactions(images=pymupdf.PDF_REDACT_IMAGE_PIXELS)
            regions += len(rects)
    doc.scrub()  # metadata, XMP, hidden text, attachments, scripts, links, thumbnails
    doc.set_metadata({})
    target = out / "redacted.pdf"
    doc.save(target, garbage=4, deflate=True, clean=True)
    doc.close()
    # What the redacted file still says, read back from the file itself.
    check = []
    redacted = pymupdf.open(target)
    for page in redacted:
        check.append(page.get_text())
        if page.number + 1 in ocr_pages:
            pix = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), colorspace=pymupdf.csGRAY)
            lines = _by_line(_ocr_words(_grey_of(pix), out / "ocr", languages))
            check.append("\n".join(" ".join(w["text"] for w in line) for line in lines))
    check.append(json.dumps(redacted.metadata, ensure_ascii=False))
    check.append(redacted.get_xml_metadata())
    redacted.close()
    (out / "check.txt").write_text("\n".join(check), encoding="utf-8")
    shutil.rmtree(out / "ocr", ignore_errors=True)
    return {
        "file": target.name,
        "media_type": "application/pdf",
        "regions": regions,
        "names": names,
        "ocr_pages": ocr_pages,
        "method": f"PyMuPDF {pymupdf.VersionBind} apply_redactions (text removed, image pixels"
        " blanked) and scrub; Tesseract word boxes on image content",
    }


def _redact_image(path: Path, out: Path, matcher: Matcher, spec: dict[str, Any]) -> dict[str, Any]:
    import numpy as np
    from PIL import Image, ImageDraw, ImageOps

    fmt, ext = IMAGE_TYPES[spec["media_type"]]
    with Image.open(path) as im:
        im.load()
        image = ImageOps.exif_transpose(im)  # boxes are found on the image as it is seen
    rgb = image.convert("RGB")
    grey = np.asarray(rgb.convert("L"))
    names: dict[str, int] = {}
    boxes = []
    for (left, top, width, height), pseudonym in _named_boxes(
        _ocr_words(grey, out / "ocr", spec["languages"]), matcher
    ):
        boxes.append((left - 2, top - 2, left + width + 2, top + height + 2))
        names[pseudonym] = names.get(pseudonym, 0) + 1
    boxes.extend((x0, y0, x1, y1) for _, x0, y0, x1, y1 in spec["regions"])
    draw = ImageDraw.Draw(rgb)
    for box in boxes:
        draw.rectangle(box, fill=(0, 0, 0))
    target = out / f"redacted.{ext}"
    # A new image from the pixels alone: no EXIF, XMP, ICC text or comments survive.
    clean = Image.new("RGB", rgb.size)
    clean.paste(rgb)
    clean.save(target, fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    with Image.open(target) as again:
        lines = _by_line(_ocr_words(np.asarray(again.convert("L")), out / "ocr", spec["languages"]))
    (out / "check.txt").write_text(
        "\n".join(" ".join(w["text"] for w in line) for line in lines), encoding="utf-8"
    )
    shutil.rmtree(out / "ocr", ignore_errors=True)
    return {
        "file": target.name,
        "media_type": "image/jpeg" if fmt == "JPEG" else "image/png",
        "regions": len(boxes),
        "names": names,
        "ocr_pages": [1],
        "method": "Tesseract word boxes painted over; image written anew without metadata",
    }


# -- in Amanah -------------------------------------------------------------------------------


def redact(
    ws: Workspace,
    caller: Caller,
    item_id: int,
    regions: list[tuple[int, float, float, float, float]] | None = None,
    sandbox: Sandbox | None = None,
) -> dict[str, Any]:
    """Make (or make again) the redacted derivative of one item for every protected person.

    `regions` are extra areas to remove by hand: (page, x0, y0, x1, y1) in PDF points, or
    (1, left, top, right, bottom) in pixels for an image."""
    caller.require(Permission.MANAGE_REQUESTS)
    with ws.db.reader() as s:
        item = visible_item(s, caller, item_id)
        coll = s.get(Collection, item.collection_id)
        matcher = Matcher.load(s)
        text_derivs = list(
            s.execute(
                Derivative.__table__.select().where(
                    Derivative.item_id == item_id, Derivative.kind.in_(("text", "ocr"))
                )
            ).all()
        )
    if not redactable(item.media_type):
        raise SharingError(
            f"item {item_id} ({item.original_path}): {item.media_type or 'an unknown type'} cannot"
            " be redacted here (PDFs and images can); leave it out of the package"
        )
    if not matcher and not regions:
        raise SharingError(
            "no protected person is recorded and no region was given: nothing to redact"
        )
    work = ws.home / "work" / f"redact-{uuid.uuid4().hex}"
    work.mkdir(parents=True)
    try:
        spec = {
            "matcher": matcher.to_spec(),
            "media_type": item.media_type,
            "regions": [list(r) for r in regions or []],
            "languages": coll.ocr_languages if coll else "ara+eng",
        }
        (work / SPEC).write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
        (work / SPEC).chmod(0o600)
        box = sandbox or Sandbox.for_settings(ws.settings)
        try:
            source = local_copy(ws, item.sha256, work)
            manifest = box.analyze(
                str(source), item.original_path, str(work), Limits(cpu_seconds=1800), task="redact"
            )
        except SandboxError as exc:
            raise SharingError(
                f"item {item_id} ({item.original_path}): redaction failed: {exc}"
            ) from exc
        finally:
            if sandbox is None:
                box.close()
        with (work / manifest["file"]).open("rb") as f:
            put = ws.blobs.put(f)
        with (work / "check.txt").open("rb") as f:
            check = ws.blobs.put(f)
        pseudo = None
        if text_derivs:
            parts = []
            for d in sorted(text_derivs, key=lambda d: (d.kind, d.page)):
                with ws.blobs.open(d.sha256) as f:
                    parts.append(f.read().decode("utf-8", "replace"))
            clean, _ = matcher.pseudonymise("\n".join(parts))
            (work / "pseudonymised.txt").write_text(clean, encoding="utf-8")
            with (work / "pseudonymised.txt").open("rb") as f:
                pseudo = ws.blobs.put(f)
        ws.blobs.sync()
        details = {
            "derivative": REDACTED,
            "sha256": put.sha256,
            "size": put.size,
            "source_sha256": item.sha256,
            "media_type": manifest["media_type"],
            "method": manifest["method"],
            "regions": manifest["regions"],
            "protected": sorted(manifest["names"]),
            "ocr_pages": manifest["ocr_pages"],
            "sandbox": manifest.get("sandbox"),
        }
        with ws.db.session() as s:
            put_derivative(s, item_id, REDACTED, put, manifest["media_type"], details)
            put_derivative(s, item_id, REDACTED_TEXT, check, "text/plain", {"of": put.sha256})
            if pseudo is not None:
                put_derivative(s, item_id, PSEUDONYMISED, pseudo, "text/plain", {"of": item.sha256})
            ledger.append(
                s,
                EventType.DERIVATION,
                actor=caller.actor,
                object_type="item",
                object_id=item_id,
                details={"action": "redaction", **details, **caller.audit()},
            )
        return {"item_id": item_id, **details}
    finally:
        shutil.rmtree(work, ignore_errors=True)
