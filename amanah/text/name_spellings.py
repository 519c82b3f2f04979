"""How usual a Latin spelling is for an Arabic name part: the tie-break among near-equal scores.

Two records read the same way (two spellings of one sound: ph or v, k or c, a doubled
letter or not) score within a hair of each other however the letters are compared: the sound
is the same. What tells them apart is usage: which spelling people with that Arabic name are
written with. The romanizer's model (`arabic-name-romanizer`, trained on attested pairs of
Arabic and Latin names) gives that as the probability of a Latin spelling given the Arabic:
here the mean log-probability per letter of the spelling, the model's decoder fed the
spelling letter by letter (forced decoding: no search, one pass a batch).

It is asked only to order scores that are already near-equal (`name_match.order`), never to
score a pair, so the pair scorings per second are unchanged. Without the model (the package
without its resources) every spelling is equally usual and the order is the scores'.
The pinned package version's internals are used (its public API only searches), so a
failure of the model reads as "no preference", never as an error.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

log = logging.getLogger(__name__)

#: The log-probability given to a spelling when the model cannot say (no preference).
UNKNOWN = 0.0
_CACHE: dict[tuple[str, str], float] = {}
_CACHE_MAX = 100_000
_BATCH = 256
_WARNED: set[str] = set()


def _warn_once(what: str, exc: Exception) -> None:
    """Say once per process that names are ordered by score alone, and why: a silent
    fall-back would hide a changed package from whoever reads the match's order."""
    if what not in _WARNED:
        _WARNED.add(what)
        log.warning(
            "names of near-equal scores are ordered by score alone: %s (%s: %s)",
            what, type(exc).__name__, str(exc).splitlines()[0][:200] if str(exc) else "",
        )  # fmt: skip


@lru_cache(maxsize=1)
def romaniser() -> Any:
    """The one Arabic-name romanizer of the process (its dictionary and model are loaded once,
    whether matching, sealing or ranking spellings asks first)."""
    from arabic_name_romanizer import Transliterator

    return Transliterator()


@lru_cache(maxsize=1)
def _model() -> object | None:
    """The romanizer's sequence model (encoder and decoder), or None."""
    try:
        return getattr(romaniser(), "model", None)
    except Exception as exc:  # the package or its model absent: no preference
        _warn_once("the romanizer's model could not be loaded", exc)
        return None


def log_probabilities(pairs: Sequence[tuple[str, str]]) -> list[float]:
    """For each (Arabic part, Latin spelling), the mean log-probability per letter (end
    included) of the spelling given the Arabic, by the romanizer's model; `UNKNOWN` when the
    model is absent. Remembered per pair; the pairs not yet known are decoded in batches."""
    todo = sorted({p for p in pairs if p not in _CACHE})
    if todo:
        found = _decode(todo)
        if len(_CACHE) + len(todo) > _CACHE_MAX:
            _CACHE.clear()
        _CACHE.update(zip(todo, found, strict=True))
    return [_CACHE.get(p, UNKNOWN) for p in pairs]


def _decode(pairs: list[tuple[str, str]]) -> list[float]:
    model = _model()
    if model is None:
        return [UNKNOWN] * len(pairs)
    try:
        out: list[float] = []
        for start in range(0, len(pairs), _BATCH):
            out += _forced(model, pairs[start : start + _BATCH])
        return out
    except Exception as exc:  # a model that does not answer as expected: no preference
        _warn_once("the romanizer's model did not answer as expected", exc)
        return [UNKNOWN] * len(pairs)


def _forced(model: object, pairs: list[tuple[str, str]]) -> list[float]:
    """One batch: the Arabic parts encoded, then each spelling fed to the decoder letter by
    letter, adding the log-probability the decoder gave each next letter. Latin is given
    capitalised, as the model's training pairs write names."""
    import numpy as np
    from arabic_name_romanizer.inference import encode_source_ids, pad_batch
    from arabic_name_romanizer.normalize import normalize_arabic

    vocab, backend = model.vocab, model.backend  # type: ignore[attr-defined]
    src = [encode_source_ids(vocab, normalize_arabic(a), None, "unknown") for a, _ in pairs]
    tgt = [vocab.encode(latin.title(), eos=True) for _, latin in pairs]
    ids, mask = pad_batch(src, vocab.pad_id)
    state = backend.encode(ids, mask)
    n = len(pairs)
    rows = np.arange(n)
    total = np.zeros(n)
    prefix = np.full((n, 1), vocab.bos_id, dtype=np.int64)
    for t in range(max(len(s) for s in tgt)):
        logprobs, state = backend.step(prefix, state)
        nxt = np.array([s[t] if t < len(s) else vocab.pad_id for s in tgt], dtype=np.int64)
        alive = np.array([t < len(s) for s in tgt])
        total += np.where(alive, logprobs[rows, nxt], 0.0)
        prefix = np.concatenate([prefix, nxt[:, None]], axis=1)
    return [float(total[i] / len(tgt[i])) for i in range(n)]
