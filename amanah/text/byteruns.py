"""Runs in a chunk's byte classes, found with numpy: where a regular expression would be tried
at every byte of megabytes (a few MB/s on binary), a few whole-array passes in C find the few
places worth trying it."""

from __future__ import annotations

import numpy as np


def starts(mask: np.ndarray, length: int) -> np.ndarray:
    """Where a run of `length` or more True begins, and the positions after it that still
    have `length` True ahead (by doubling: a few passes in C)."""
    out, have = mask, 1
    while have < length:
        step = min(have, length - have)
        out = out[:-step] & out[step:]
        have += step
    return np.flatnonzero(out)
