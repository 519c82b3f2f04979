"""The logical order of a line's units drawn in visual order: the Unicode bidirectional
algorithm (python-bidi's reference implementation) run on one stand-in character per unit
(a glyph with its marks, a ligature), and a fast path for the common shapes of a line (one
direction, or a few runs) that gives the same order without it. Split from `pdftext`, which
reads the glyphs and rebuilds the lines; this is only the ordering.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from bidi import algorithm as uba

_RTL = {"R", "AL"}
_STRONG = {"L", "R", "AL", "EN", "AN"}
#: Classes that would change the bidi algorithm's state (embeddings, isolates) or end a
#: paragraph: inside one drawn line they are read as a space.
_CONTROL = {"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI", "B", "S", "BN"}

#: The stand-in for a character the bidirectional algorithm cannot classify (an unassigned
#: code point or a noncharacter: Python's table gives no class, and python-bidi's reference
#: algorithm stops on it): an other neutral (ON), never mirrored, so that it takes the
#: direction of the text around it. Only the order is computed from stand-ins: the unit's
#: own text is put back.
_NEUTRAL = "!"
#: The classes the algorithm resolves; `_CONTROL` are read as a space.
_CLASSES = frozenset(("L", "R", "AL", "EN", "ES", "ET", "AN", "CS", "NSM", "ON", "WS"))


@lru_cache(maxsize=4096)
def _representative(text: str) -> str:
    for c in text:
        kind = unicodedata.bidirectional(c)
        if kind in _STRONG:
            return c
    c = text[:1] or " "
    kind = unicodedata.bidirectional(c)
    if kind in _CONTROL:
        return " "
    return c if kind in _CLASSES else _NEUTRAL


def _class_pools() -> dict[str, list[str]]:
    """Distinct characters of each bidirectional class (never mirrored ones), so that a line
    of units can be written as a string of distinct characters of the units' classes."""
    pools: dict[str, list[str]] = {k: [] for k in ("L", "R", "AL", "EN", "ES", "ET", "AN",
                                                    "CS", "NSM", "ON", "WS")}  # fmt: skip
    blocks = ((0x21, 0x300), (0x590, 0x900), (0x2000, 0x2C00), (0x4E00, 0x5200), (0xFB1D, 0xFFF0))
    for cp in (cp for lo, hi in blocks for cp in range(lo, hi)):
        c = chr(cp)
        kind = unicodedata.bidirectional(c)
        if kind in pools and not unicodedata.mirrored(c) and unicodedata.category(c) != "Cn":
            pools[kind].append(c)
    return pools


_POOLS = _class_pools()
#: Each stand-in's class and its place in its class's pool.
_POOL_INDEX = {c: (kind, i) for kind, pool in _POOLS.items() for i, c in enumerate(pool)}
#: The most runs of the algorithm over one line (see `_fast_order_runs`): 13 stand-ins of
#: the smallest class (spaces) tell 13**3 of its units apart, more than any drawn line holds.
_MAX_RUNS = 3


def _fast_order(reps: list[str], rtl: bool) -> list[int] | None:
    """The same order from python-bidi's compiled algorithm, which gives only the reordered
    string: each unit is written as a distinct character of its class, and found again in
    the result. None for a class without stand-ins (controls, unassigned characters)."""
    from bidi import get_display

    kinds = list(map(unicodedata.bidirectional, reps))
    pools = {kind: iter(pool) for kind, pool in _POOLS.items()}
    try:
        stand_in = [next(pools[kind]) for kind in kinds]
    except KeyError:  # a class without stand-ins
        return None
    except StopIteration:  # more units of a class than stand-ins (13 spaces: a long line)
        return _fast_order_runs(kinds, rtl)
    where = {c: i for i, c in enumerate(stand_in)}
    shown = get_display("".join(stand_in), base_dir="R" if rtl else "L")
    order = list(map(where.get, shown))
    return order if len(order) == len(reps) and None not in order else None  # type: ignore[return-value]


def _fast_order_runs(kinds: list[str], rtl: bool) -> list[int] | None:
    """The order of a line holding more units of a class than the class has stand-ins. The
    algorithm sees only classes (stand-ins are never mirrored), so every string of the same
    classes is reordered alike: the line is run a few times, the m-th unit of a class
    written in run j as the stand-in numbered by the j-th digit of m in base (pool size),
    and the digits read back at each place of the results name the unit there."""
    from bidi import get_display

    members: dict[str, list[int]] = {}
    nth: list[int] = []
    for i, kind in enumerate(kinds):
        units = members.setdefault(kind, [])
        nth.append(len(units))
        units.append(i)
    if any(kind not in _POOLS for kind in members):  # a class without stand-ins
        return None
    runs = 1
    for kind, units in members.items():
        while len(_POOLS[kind]) ** runs < len(units):
            runs += 1
    if runs > _MAX_RUNS:
        return None
    base = "R" if rtl else "L"
    found: list[tuple[str, int]] = []
    for run in range(runs):
        stand_in = "".join(
            _POOLS[kind][m // len(_POOLS[kind]) ** run % len(_POOLS[kind])]
            for kind, m in zip(kinds, nth, strict=True)
        )
        shown = get_display(stand_in, base_dir=base)
        if len(shown) != len(kinds):
            return None
        read = [_POOL_INDEX.get(c) for c in shown]
        if None in read:
            return None
        if run == 0:
            found = [(kind, digit) for kind, digit in read]  # type: ignore[misc]
            continue
        for place, (kind, digit) in enumerate(read):  # type: ignore[misc]
            if kind != found[place][0]:  # the classes did not stay in place
                return None
            found[place] = (kind, found[place][1] + digit * len(_POOLS[kind]) ** run)
    order = []
    for kind, m in found:
        units = members[kind]
        if m >= len(units):
            return None
        order.append(units[m])
    return order if len(set(order)) == len(order) else None


#: Classes that, in a right-to-left paragraph without left-to-right letters or digits, all
#: resolve to the paragraph's level: neutrals and separators between right-to-left letters
#: (or the paragraph's edges) take their direction (rules W4-W7, N1), marks their letter's
#: (W1), and a line's trailing spaces the paragraph's (L1).
_RESOLVE_RIGHT_TO_LEFT = frozenset(("R", "AL", "NSM", "WS", "CS", "ON", "ET", "ES"))


def _all_right_to_left(reps: list[str]) -> bool:
    """Whether a right-to-left line is right to left throughout, so that its logical order
    is its visual order reversed (most Arabic lines): no bidi run needed."""
    return _RESOLVE_RIGHT_TO_LEFT.issuperset(map(unicodedata.bidirectional, reps))


def right_to_left(text: str) -> bool:
    """A paragraph's direction: that of the majority of its letters (a line of a paragraph
    may open with a Latin name and still be part of an Arabic text)."""
    kinds = [unicodedata.bidirectional(c) for c in text]
    return sum(k in _RTL for k in kinds) >= sum(k == "L" for k in kinds)


def logical_order(units: list[str], rtl: bool | None = None) -> list[int]:
    """The logical order of units given in visual (left to right) order: the bidirectional
    algorithm run over one character standing for each unit (reordering is its own inverse
    for the runs a line of text holds). `rtl`: the paragraph's direction, else its letters'."""
    reps = list(map(_representative, units))
    if rtl is None:
        rtl = right_to_left("".join(units))
    if rtl and _all_right_to_left(reps):
        return list(range(len(reps) - 1, -1, -1))
    fast = _fast_order(reps, rtl)
    if fast is not None:
        return fast
    storage = uba.get_empty_storage()
    storage["base_level"] = 1 if rtl else 0
    storage["base_dir"] = "R" if rtl else "L"
    uba.get_embedding_levels("".join(reps), storage)
    for i, ch in enumerate(storage["chars"]):
        ch["unit"] = i
    uba.explicit_embed_and_overrides(storage, False)
    uba.resolve_weak_types(storage, False)
    uba.resolve_neutral_types(storage, False)
    uba.resolve_implicit_levels(storage, False)
    uba.reorder_resolved_levels(storage, False)
    # Reordering visual order gives back the logical one.
    return [ch["unit"] for ch in storage["chars"]]
