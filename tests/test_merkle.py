"""The Merkle tree follows RFC 6962 exactly, so any independent implementation agrees."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amanah.custody import verifier


def rfc6962_mth(leaves: list[bytes]) -> bytes:
    """The definition from RFC 6962 section 2.1, written as plainly as it reads."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + rfc6962_mth(leaves[:k]) + rfc6962_mth(leaves[k:])).digest()


def leaves_of(n: int) -> list[bytes]:
    return [hashlib.sha256(b"\x00" + str(i).encode()).digest() for i in range(n)]


@pytest.mark.parametrize("n", range(0, 70))
def test_root_equals_rfc6962_definition(n: int) -> None:
    leaves = leaves_of(n)
    assert verifier.merkle_root(leaves) == rfc6962_mth(leaves)


def test_known_vector_for_empty_tree() -> None:
    # RFC 6962: the hash of an empty tree is the hash of the empty string.
    assert verifier.merkle_root([]).hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


@given(st.integers(min_value=1, max_value=300), st.data())
def test_every_inclusion_proof_recomputes_the_root(n: int, data: st.DataObject) -> None:
    leaves = leaves_of(n)
    index = data.draw(st.integers(min_value=0, max_value=n - 1))
    path = verifier.inclusion_path(index, leaves)
    assert verifier.root_from_inclusion(leaves[index], index, n, path) == rfc6962_mth(leaves)


@given(st.integers(min_value=2, max_value=200), st.data())
def test_proof_fails_for_another_leaf_or_index(n: int, data: st.DataObject) -> None:
    leaves = leaves_of(n)
    index = data.draw(st.integers(min_value=0, max_value=n - 1))
    other = data.draw(st.integers(min_value=0, max_value=n - 1).filter(lambda i: i != index))
    path = verifier.inclusion_path(index, leaves)
    root = verifier.merkle_root(leaves)
    assert verifier.root_from_inclusion(leaves[other], index, n, path) != root
    # At another index the same path leads elsewhere, or, when its length does not fit that
    # index in a tree of n leaves, is rejected outright (ValueError); nothing else.
    try:
        moved = verifier.root_from_inclusion(leaves[index], other, n, path)
    except ValueError:
        assert len(path) != len(verifier.inclusion_path(other, leaves))
    else:
        assert moved != root


def test_path_of_wrong_length_is_rejected() -> None:
    leaves = leaves_of(8)
    path = verifier.inclusion_path(3, leaves)
    with pytest.raises(ValueError, match="shorter"):
        verifier.root_from_inclusion(leaves[3], 3, 8, path[:-1])
    with pytest.raises(ValueError, match="longer"):
        verifier.root_from_inclusion(leaves[3], 3, 8, [*path, path[0]])


def test_frontier_tracks_the_root_after_every_append() -> None:
    frontier: list[tuple[int, bytes]] = []
    leaves = leaves_of(100)
    for i, leaf in enumerate(leaves):
        verifier.frontier_push(frontier, leaf)
        assert verifier.frontier_root(frontier) == rfc6962_mth(leaves[: i + 1])


def rfc6962_subproof(m: int, leaves: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) from RFC 6962 section 2.1.2, as plainly as it reads."""
    n = len(leaves)
    if m == n:
        return [] if b else [rfc6962_mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*rfc6962_subproof(m, leaves[:k], b), rfc6962_mth(leaves[k:])]
    return [*rfc6962_subproof(m - k, leaves[k:], False), rfc6962_mth(leaves[:k])]


@settings(derandomize=True, max_examples=300)
@given(st.integers(min_value=1, max_value=300), st.data())
def test_consistency_proof_equals_rfc6962_and_verifies(n: int, data: st.DataObject) -> None:
    m = data.draw(st.integers(min_value=1, max_value=n))
    leaves = leaves_of(n)
    proof = verifier.consistency_path(m, leaves)
    assert proof == ([] if m == n else rfc6962_subproof(m, leaves, True))
    old, new = rfc6962_mth(leaves[:m]), rfc6962_mth(leaves)
    verifier.check_consistency(m, n, old, new, proof)


@settings(derandomize=True, max_examples=300)
@given(st.integers(min_value=2, max_value=200), st.data())
def test_consistency_proof_fails_for_any_other_history(n: int, data: st.DataObject) -> None:
    m = data.draw(st.integers(min_value=1, max_value=n - 1))
    leaves = leaves_of(n)
    proof = verifier.consistency_path(m, leaves)
    old, new = rfc6962_mth(leaves[:m]), rfc6962_mth(leaves)
    # One of the first m leaves rewritten: the old root no longer follows.
    changed = list(leaves)
    changed[data.draw(st.integers(min_value=0, max_value=m - 1))] = b"\x07" * 32
    with pytest.raises(ValueError, match=r"does not lead to the (old|new) root"):
        verifier.check_consistency(m, n, old, rfc6962_mth(changed), proof)
    with pytest.raises(ValueError, match=r"does not lead to the (old|new) root"):
        verifier.check_consistency(m, n, rfc6962_mth(changed[:m]), new, proof)
    # Any node of the proof flipped, or the proof cut or lengthened, fails.
    if proof:
        i = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        flipped = [*proof[:i], bytes([proof[i][0] ^ 1]) + proof[i][1:], *proof[i + 1 :]]
        with pytest.raises(ValueError):
            verifier.check_consistency(m, n, old, new, flipped)
        with pytest.raises(ValueError):
            verifier.check_consistency(m, n, old, new, proof[:-1])
    with pytest.raises(ValueError):
        verifier.check_consistency(m, n, old, new, [*proof, new])
    # The same proof claimed for other sizes fails.
    other = data.draw(st.integers(min_value=1, max_value=n).filter(lambda x: x != m))
    with pytest.raises(ValueError):
        verifier.check_consistency(other, n, old, new, proof)


def test_consistency_between_equal_or_empty_trees() -> None:
    leaves = leaves_of(5)
    root = rfc6962_mth(leaves)
    verifier.check_consistency(5, 5, root, root, [])
    verifier.check_consistency(0, 5, rfc6962_mth([]), root, [])
    with pytest.raises(ValueError, match="same size differ"):
        verifier.check_consistency(5, 5, root, rfc6962_mth(leaves[:4]), [])
    with pytest.raises(ValueError, match="larger than the new size"):
        verifier.check_consistency(6, 5, root, root, [])
