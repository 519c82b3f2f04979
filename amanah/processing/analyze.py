"""Everything read from one file's bytes: identity, text, properties, children.

This is what runs inside the sandbox. It reads one blob, writes its findings into the job's
own folder, and returns a small manifest; it never touches the database or the blob store.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from amanah.processing import (
    children,
    djvu,
    fingerprints,
    inventory,
    language,
    metadata,
    ocr,
    previews,
    unpack,
)
from amanah.processing.extract import (
    EXTRACTORS,
    MAX_TEXT_CHARS,
    Encrypted,
    Extraction,
    json_file,
    plain_text,
)
from amanah.processing.identify import identify

#: Libraries the extractors import lazily (so the command line starts fast); the sandbox's
#: zygote imports them up front, so that no forked child pays for an import.
PRELOAD = (
    "imagehash",
    "pypdfium2",
    "xlrd",
    "striprtf.striprtf",
    "selectolax.lexbor",
    "libarchive",
    "charset_normalizer",
    "email.policy",
    "mailbox",
    "amanah.processing.inventory_markup",
    "amanah.processing.inventory_office",
    "amanah.processing.inventory_pdf",
    "amanah.text.rawtext",
    "amanah.processing.pdftext",
)

#: Libraries only some files need, and costly to import: datasketch (MinHash, for texts of
#: 20 words or more) pulls in scipy, 0.40 s; PyMuPDF pulls in pymupdf4llm and onnxruntime,
#: 0.18 s; extract_msg 0.17 s; python-pptx, openpyxl and python-docx 0.04-0.08 s each. Up
#: front they were two thirds of a zygote's imports, paid by every web upload, redaction
#: preview and `amanah process` whatever its files. The zygote imports one only once a
#: child needed it (the child says so: `sandbox.WANTS_MODULES`), so that every later child
#: inherits it; the first pays its import once. None of them runs a program when imported,
#: which Landlock refuses a child (libarchive's ldconfig: it stays in PRELOAD). Not yet even:
#: the child that imports one spends its address space (datasketch 161 MiB, PyMuPDF 118) out
#: of its own limit, which a later child inherits for free: a file within that of its 3 GiB
#: can fail in a zygote that had not imported it and pass in one that had.
ON_DEMAND = ("datasketch", "pymupdf", "extract_msg", "pptx", "openpyxl", "docx")


def load_native() -> None:
    """Load, in the zygote, the native libraries of ON_DEMAND ones that allocate in a loop
    until they succeed when first loaded: a child that loads one near its memory limit would
    spin there until its CPU limit (300 s) instead of failing at once. SciPy's OpenBLAS (for
    datasketch) does, in `blas_memory_alloc` (OpenBLAS issue 5289): 2 ms of CPU and 94 MiB of
    address space here, inherited by every child and left out of its memory limit."""
    import ctypes
    import importlib.util

    spec = importlib.util.find_spec("scipy")  # found, not imported
    if spec is None or spec.origin is None:
        return
    for library in sorted(
        Path(spec.origin).parent.parent.joinpath("scipy.libs").glob("libscipy_openblas*.so")
    ):
        ctypes.CDLL(str(library))  # loaded once: SciPy's later import reuses it


def warm(languages: bool = True, language_scripts: Iterable[str] = ()) -> None:
    """Build what the readers otherwise build on first use, for the zygote to do once before
    it forks: fido's compiled signatures and lingua's trigram models (and, asked for once a
    child needed them, every model of the `language_scripts`: 0.95 s of CPU and 131 MB for
    the Latin script's four languages, 1.7 s and 238 MB for all seven). `languages`
    False: for tasks that never detect a language (redaction, the leak check's inventory)."""
    from amanah.processing import identify as identify_module

    identify_module.warm()
    if languages:
        language.warm(language_scripts)


TEXT_TYPES = {
    "application/json",
    "application/xml",
    "application/csv",
    "application/x-subrip",
    "application/javascript",
    "application/x-ndjson",
    "application/ld+json",
}
JSON_TYPES = {"application/json", "application/ld+json", "application/x-ndjson"}
JSON_NAMES = (".json", ".jsonl", ".ndjson", ".geojson", ".har")
#: Images Tesseract cannot read directly (vector, or handled as documents).
NOT_OCR = {"image/svg+xml", "image/vnd.djvu"}
#: Containers we recognise but cannot open yet: preserved, and said so.
UNSUPPORTED: dict[str, str] = {}


def _choose(media_type: str, description: str, name: str) -> tuple[str, Any]:
    lower = name.lower()
    if lower.endswith(".emlx"):
        return "emlx", unpack.emlx
    if media_type == "image/vnd.djvu":
        return "djvu", djvu.text
    if media_type in EXTRACTORS:
        return media_type, EXTRACTORS[media_type]
    if media_type in unpack.ARCHIVES:
        return "archive", unpack.archive
    if media_type == "application/vnd.ms-outlook" and unpack.is_mailbox_store(description):
        return "application/vnd.ms-outlook-pst", unpack.pst
    if media_type in unpack.EMAILS:
        return media_type, unpack.EMAILS[media_type]
    if media_type.startswith("text/") and (
        lower.endswith((".eml", ".mht", ".mhtml")) or description.startswith("MIME entity")
    ):  # a web page saved as one file (MHTML: Word, Internet Explorer) is a MIME message
        return "message/rfc822", unpack.eml
    if lower.endswith(".mbox") and media_type.startswith("text/"):
        return "application/mbox", unpack.mbox
    if media_type in JSON_TYPES or (
        lower.endswith(JSON_NAMES) and (media_type.startswith("text/") or media_type in TEXT_TYPES)
    ):
        return "json", json_file
    if media_type.startswith("text/") or media_type in TEXT_TYPES:
        return "text", plain_text
    if media_type == "application/encrypted" or "encrypted" in description.lower():
        return "encrypted", None
    return "", None


def _ocr(
    src: Path,
    out: Path,
    media_type: str,
    result: Extraction,
    flags: list[dict[str, str]],
    languages: str = ocr.DEFAULT_LANGUAGES,
) -> dict[str, Any] | None:
    """OCR images and the PDF pages that have no usable text layer."""
    if media_type.startswith("image/") and media_type not in NOT_OCR:
        targets = None
    elif media_type in ("application/pdf", "image/vnd.djvu") and result.pages_without_text:
        targets = result.pages_without_text
    else:
        return None
    work = out / "ocr-work"
    work.mkdir(exist_ok=True)
    try:
        pages = (
            ocr.image_pages(src, work, languages)
            if targets is None
            else djvu.ocr_pages(src, targets, work, languages, flags)
            if media_type == "image/vnd.djvu"
            else ocr.pdf_pages(src, targets, work, languages)
        )
    except MemoryError:  # the job's memory limit: the job fails and is retried
        raise
    except Exception as exc:
        flags.append({"code": "ocr_failed", "message": f"OCR failed: {type(exc).__name__}: {exc}"})
        return None
    if not pages:
        return None
    missed = ocr.lines_missed_flag([p.page for p in pages if p.lines_missed])
    if missed:
        flags.append(missed)
    total = max(p.page for p in pages)
    by_page = {p.page: p for p in pages}
    text = "\f".join(
        by_page[n].text.replace("\f", " ") if n in by_page else "" for n in range(1, total + 1)
    )
    (out / "ocr.txt").write_text(text, encoding="utf-8")
    with (out / "ocr_words.jsonl").open("w", encoding="utf-8") as f:
        for p in pages:
            for w in p.words:
                f.write(json.dumps({"page": p.page, **w}, ensure_ascii=False) + "\n")
    return {
        "file": "ocr.txt",
        "words_file": "ocr_words.jsonl",
        "languages": languages,
        "engine": ocr.ENGINE,
        "pages": [ocr.summary(p) for p in pages],
        "has_text": any(p.text.strip() for p in pages),
    }


#: The content inventory's reason while a long scan's page jobs have not all been joined.
OCR_PENDING = "OCR of its scanned pages is still running in page jobs"


def _deferred(
    src: Path,
    media_type: str,
    result: Extraction,
    languages: str,
    split_from: int,
    flags: list[dict[str, str]],
) -> dict[str, Any] | None:
    """The pages to OCR in page jobs (any worker's) instead of here, for a long scan."""
    if media_type.startswith("image/") and media_type not in NOT_OCR:
        try:
            count = ocr.frame_count(src)
        except Exception:  # unreadable here: `_ocr` says why, in this job
            return None
        pages, kind = list(range(1, count + 1)), "image"
    elif media_type == "application/pdf" and result.pages_without_text:
        pages, kind = list(result.pages_without_text), "pdf"
        if len(pages) > ocr.MAX_PAGES:
            flags.append(ocr_limit(len(pages)))
            pages = pages[: ocr.MAX_PAGES]
    else:
        return None
    return deferral(pages, kind, languages, split_from)


def deferral(pages: list[int], kind: str, languages: str, split_from: int) -> dict[str, Any] | None:
    """What page jobs read (pages, "pdf" or "image", languages), or None below `split_from`
    pages: the one rule the analysis and the plan made before it (processing/ocrplan.py) share."""
    if len(pages) < split_from:
        return None
    return {"pages": list(pages), "kind": kind, "languages": languages}


def ocr_limit(pages: int) -> dict[str, str]:
    """The flag of a file with more pages to OCR than one item's OCR reads (ocr.MAX_PAGES)."""
    return {
        "code": "unpack_limit",
        "message": f"{pages} pages have no text layer; only the first {ocr.MAX_PAGES}"
        " were OCR'd (limit against files of endless empty pages)",
    }


def out_of_memory() -> bool:
    """Whether the job reached its memory limit (`sandbox.reached_memory_limit`): a reader's
    error is then the limit's, and the job fails with it at once instead of reading on."""
    from amanah.processing.sandbox import reached_memory_limit

    return reached_memory_limit()


def analyze(
    path: str,
    name: str,
    out_dir: str,
    limits: children.Limits | None = None,
    ocr_languages: str = ocr.DEFAULT_LANGUAGES,
    split_from: int | None = None,
) -> dict[str, Any]:
    """`split_from`: the worker's `ocr.SPLIT_FROM`, passed here because the sandbox's cage
    keeps its environment from the child (without it, this module's own default)."""
    src, out = Path(path), Path(out_dir)
    try:
        ident = identify(path, name)
    except MemoryError:
        raise
    except Exception as exc:
        if out_of_memory():  # libmagic, too, wraps a failed allocation in its own error
            raise MemoryError from exc
        raise
    manifest: dict[str, Any] = {
        "identity": {k: v for k, v in asdict(ident).items() if k != "flags"},
        "flags": list(ident.flags),
        "metadata": {},
        "text_file": None,
        "pages": 0,
        "pages_without_text": [],
        "children": [],
        "extractor": None,
    }
    if ident.puid in UNSUPPORTED:
        manifest["flags"].append(
            {"code": "unsupported_format", "message": f"preserved as is: {UNSUPPORTED[ident.puid]}"}
        )
        manifest["inventory"] = _inventory(src, out, "", Extraction(), manifest, ocr_languages)
        return manifest
    kind, handler = _choose(ident.media_type, ident.description, name)
    manifest["extractor"] = kind or None
    result = Extraction()
    try:
        if kind == "encrypted":
            raise Encrypted(f"content is encrypted ({ident.description[:120]})")
        if handler is not None:
            if handler.__module__ == unpack.__name__:
                result = handler(src, out, limits or children.Limits())
            else:
                result = handler(src)
    except Encrypted as exc:
        manifest["flags"].append({"code": "encrypted", "message": str(exc)})
    except children.LimitReached as exc:
        manifest["flags"].append({"code": "unpack_limit", "message": str(exc)})
    except MemoryError:  # the job's memory limit: the job fails and is retried
        raise
    except Exception as exc:  # a damaged file: say why, keep going with what we have
        if out_of_memory():
            raise MemoryError from exc  # a reader that wrapped its failed allocation
        reason = f"{type(exc).__name__}: {exc}".strip()[:500]
        manifest["flags"].append({"code": "unreadable", "message": f"cannot be read: {reason}"})
    manifest["flags"].extend(result.flags)
    # Which reader and repair gave the text: for the derivation event, not the item's metadata.
    manifest["text_reading"] = result.metadata.pop("text_reading", None)
    manifest["metadata"] = result.metadata
    if metadata.wanted(ident.media_type):
        found, problems = metadata.extract(src, ident.media_type)
        manifest["metadata"] = {**result.metadata, **found}
        manifest["flags"].extend(problems)
    elif result.metadata:
        sent = result.metadata.get("email_date_utc")
        manifest["metadata"] = {**metadata.from_document(result.metadata), **result.metadata}
        if sent:
            manifest["metadata"]["captured_at"] = sent
    manifest["children"] = result.children
    manifest["pages_without_text"] = result.pages_without_text
    pages = [p.replace("\f", " ") for p in result.pages]
    if any(p.strip() for p in pages):
        text = "\f".join(pages)
        if len(text) > MAX_TEXT_CHARS:
            text = text[:MAX_TEXT_CHARS]
            manifest["flags"].append(
                {"code": "text_truncated", "message": f"text cut at {MAX_TEXT_CHARS:,} characters"}
            )
        (out / "text.txt").write_text(text, encoding="utf-8")
        manifest["text_file"] = "text.txt"
        manifest["pages"] = len(pages)
    split = ocr.SPLIT_FROM if split_from is None else int(split_from)
    deferred = _deferred(src, ident.media_type, result, ocr_languages, split, manifest["flags"])
    if deferred:
        manifest["ocr_deferred"] = deferred
        manifest["ocr"] = None
    else:
        manifest["ocr"] = _ocr(src, out, ident.media_type, result, manifest["flags"], ocr_languages)
    readable = [out / f for f in ("text.txt", "ocr.txt") if (out / f).exists()]
    # Every page and paragraph counts (a bilingual file is both): the text and its OCR.
    said = "\f".join(f.read_text(encoding="utf-8")[: language.MAX_CHARS] for f in readable)
    manifest["languages"] = language.detect_parts(said)
    manifest["fingerprints"] = fingerprints.compute(src, ident.media_type, readable, out)
    manifest["previews"] = {}
    if not any(f["code"] == "encrypted" for f in manifest["flags"]):
        try:
            manifest["previews"] = previews.make(src, ident.media_type, out)
        except MemoryError:  # the job's memory limit: the job fails and is retried
            raise
        except Exception as exc:  # no picture: the item is still readable as text
            manifest["flags"].append(
                {"code": "no_preview", "message": f"no preview image: {type(exc).__name__}: {exc}"}
            )
    manifest["inventory"] = _inventory(src, out, kind, result, manifest, ocr_languages)
    json.dumps(manifest)  # fail here, inside the sandbox, if anything is not plain data
    return manifest


def _inventory(
    src: Path,
    out: Path,
    kind: str,
    result: Extraction,
    manifest: dict[str, Any],
    languages: str,
) -> dict[str, Any]:
    """The content inventory (inventory.json), from what was extracted plus every other place
    of the format; an inventory that fails is written anyway, incomplete, with the reason."""
    media_type = manifest["identity"]["media_type"]
    ocr_text: dict[int, str] = {}
    found = manifest.get("ocr")
    if found and (out / found["file"]).exists():
        pages = (out / found["file"]).read_text(encoding="utf-8").split("\f")
        ocr_text = {
            p["page"]: pages[p["page"] - 1] for p in found["pages"] if p["page"] <= len(pages)
        }
    # Pages left to page jobs are not read again here; the join adds their text.
    for n in (manifest.get("ocr_deferred") or {}).get("pages", []):
        ocr_text.setdefault(n, "")
    work = out / "inventory-work"
    try:
        doc = inventory.take(
            src,
            media_type,
            kind,
            result.pages,
            manifest["metadata"],
            work,
            languages,
            ocr_text,
            manifest["flags"],
        ).to_json()
    except MemoryError:  # the job's memory limit: the job fails and is retried
        raise
    except Exception as exc:
        empty = inventory.Inventory(media_type=media_type)
        empty.incomplete(f"the inventory failed: {type(exc).__name__}: {exc}"[:500])
        doc = empty.to_json()
    shutil.rmtree(work, ignore_errors=True)
    if manifest.get("ocr_deferred") and OCR_PENDING not in doc["reasons"]:
        doc = {**doc, "reasons": [*doc["reasons"], OCR_PENDING], "complete": False}
    (out / inventory.FILE).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return {"file": inventory.FILE, "complete": doc["complete"], "parts": len(doc["parts"])}
