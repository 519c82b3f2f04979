"""The Merkle tree follows RFC 6962 exactly, so any independent implementation agrees."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
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
