from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oberih.audit.merkle import EMPTY_ROOT, ProofError, consistency_proof, leaf_hash, root_hash
from oberih.audit.subtrees import (
    is_valid_subtree,
    subtree_consistency_proof,
    subtree_inclusion_proof,
    verify_subtree_consistency,
    verify_subtree_inclusion,
)


def synthetic_leaves(count: int, salt: int = 0) -> list[bytes]:
    return [leaf_hash(f"audit-entry-{salt}-{i}".encode()) for i in range(count)]


@st.composite
def trees_with_subtree(draw: st.DrawFn) -> tuple[list[bytes], int, int]:
    size = draw(st.integers(1, 70))
    level = draw(st.integers(0, (size - 1).bit_length()))
    width = 1 << level
    start = width * draw(st.integers(0, (size - 1) // width))
    end = draw(st.integers(start + 1, min(start + width, size)))
    return synthetic_leaves(size, draw(st.integers(0, 1000))), start, end


def test_valid_subtrees_sit_under_one_node() -> None:
    assert is_valid_subtree(0, 13)  # any prefix
    assert is_valid_subtree(8, 13)  # 5 leaves, start a multiple of 8
    assert is_valid_subtree(4, 4)  # empty
    assert not is_valid_subtree(4, 13)  # 9 leaves need a multiple of 16
    assert not is_valid_subtree(2, 5)
    assert not is_valid_subtree(3, 2)


def test_day_batch_is_proven_inside_a_later_checkpoint() -> None:
    leaves = synthetic_leaves(14)
    proof = subtree_consistency_proof(leaves, start=8, end=13)
    verify_subtree_consistency(
        start=8,
        end=13,
        tree_size=14,
        proof=proof,
        subtree_root=root_hash(leaves[8:13]),
        root=root_hash(leaves),
    )


def test_prefix_subtree_proof_is_the_rfc6962_consistency_proof() -> None:
    leaves = synthetic_leaves(11)
    for old_size in range(1, 12):
        assert subtree_consistency_proof(leaves, start=0, end=old_size) == consistency_proof(
            leaves, old_size
        )


def test_empty_subtree_needs_the_empty_hash_and_no_proof() -> None:
    root = root_hash(synthetic_leaves(4))
    arguments: dict[str, Any] = dict(start=2, end=2, tree_size=4, root=root)
    verify_subtree_consistency(proof=[], subtree_root=EMPTY_ROOT, **arguments)
    with pytest.raises(ProofError, match="empty tree hash"):
        verify_subtree_consistency(proof=[], subtree_root=root, **arguments)
    with pytest.raises(ProofError, match="must be empty"):
        verify_subtree_consistency(proof=[root], subtree_root=EMPTY_ROOT, **arguments)


def test_subtree_verifiers_report_why() -> None:
    leaves = synthetic_leaves(8)
    with pytest.raises(ProofError, match="not a subtree"):
        verify_subtree_consistency(
            start=2, end=5, tree_size=8, proof=[], subtree_root=EMPTY_ROOT, root=EMPTY_ROOT
        )
    with pytest.raises(ProofError, match="beyond tree size"):
        verify_subtree_consistency(
            start=0, end=9, tree_size=8, proof=[], subtree_root=EMPTY_ROOT, root=EMPTY_ROOT
        )
    with pytest.raises(ProofError, match="outside the subtree"):
        verify_subtree_inclusion(
            leaf_hash=leaves[3], index=3, start=4, end=8, proof=[], subtree_root=EMPTY_ROOT
        )
    with pytest.raises(ValueError, match="not a non-empty subtree"):
        subtree_consistency_proof(leaves, start=3, end=6)


@given(trees_with_subtree(), st.data())
def test_subtree_inclusion_proofs_verify_and_detect_tampering(
    tree: tuple[list[bytes], int, int], data: st.DataObject
) -> None:
    leaves, start, end = tree
    index = data.draw(st.integers(start, end - 1))
    proof = subtree_inclusion_proof(leaves, index=index, start=start, end=end)
    subtree_root = root_hash(leaves[start:end])
    verify_subtree_inclusion(
        leaf_hash=leaves[index], index=index, start=start, end=end, proof=proof,
        subtree_root=subtree_root,
    )  # fmt: skip
    with pytest.raises(ProofError):
        verify_subtree_inclusion(
            leaf_hash=leaf_hash(b"forged"), index=index, start=start, end=end, proof=proof,
            subtree_root=subtree_root,
        )  # fmt: skip


@given(trees_with_subtree(), st.data())
def test_subtree_consistency_proofs_verify_and_detect_tampering(
    tree: tuple[list[bytes], int, int], data: st.DataObject
) -> None:
    leaves, start, end = tree
    proof = subtree_consistency_proof(leaves, start=start, end=end)
    subtree_root, root = root_hash(leaves[start:end]), root_hash(leaves)
    arguments: dict[str, Any] = dict(start=start, end=end, tree_size=len(leaves))
    verify_subtree_consistency(proof=proof, subtree_root=subtree_root, root=root, **arguments)
    forged = leaf_hash(b"forged")
    tampered = [(proof, forged, root), (proof, subtree_root, forged)]
    if proof:
        position = data.draw(st.integers(0, len(proof) - 1))
        changed = [*proof[:position], forged, *proof[position + 1 :]]
        tampered += [(changed, subtree_root, root), (proof[:-1], subtree_root, root)]
    for bad_proof, bad_subtree_root, bad_root in tampered:
        with pytest.raises(ProofError):
            verify_subtree_consistency(
                proof=bad_proof,
                subtree_root=bad_subtree_root,
                root=bad_root,
                **arguments,
            )
