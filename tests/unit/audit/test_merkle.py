from __future__ import annotations

import hashlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oberih.audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    NodeId,
    ProofError,
    complete_subtrees,
    consistency_proof,
    consistency_proof_from_nodes,
    consistency_proof_ranges,
    inclusion_proof,
    inclusion_proof_from_nodes,
    inclusion_proof_ranges,
    leaf_hash,
    node_hash,
    nodes_for_ranges,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

# Roots of the RFC 6962 reference tree (leaves "", 00, 10, 2021, 3031, 40414243, ...) for sizes
# 1..8, as published with Certificate Transparency's and transparency-dev's test suites.
RFC6962_LEAVES = [
    leaf_hash(bytes.fromhex(data))
    for data in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                 "606162636465666768696a6b6c6d6e6f")
]  # fmt: skip
RFC6962_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def synthetic_leaves(count: int, salt: int = 0) -> list[bytes]:
    return [leaf_hash(f"audit-entry-{salt}-{i}".encode()) for i in range(count)]


def node_store(leaves: list[bytes]) -> dict[NodeId, bytes]:
    """Every complete node, as a storage layer would have inserted them from append()."""
    return dict(CompactRange().extend(leaves))


def flip_bit(value: bytes, position: int) -> bytes:
    position %= len(value) * 8
    return bytes(b ^ (1 << position % 8) if i == position // 8 else b for i, b in enumerate(value))


# --- hashing -----------------------------------------------------------------------------------


def test_hashes_are_domain_separated_sha256() -> None:
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()


def test_root_hash_matches_rfc6962_reference_tree() -> None:
    assert root_hash([]) == EMPTY_ROOT
    for size, expected in enumerate(RFC6962_ROOTS, start=1):
        assert root_hash(RFC6962_LEAVES[:size]).hex() == expected


def test_rfc6962_section_2_1_3_example_proofs() -> None:
    # RFC 6962 §2.1.3, 7 leaves d0..d6: PATH(d0) = [b, h, l], PROOF(3) = [c, d, g, l].
    leaves = synthetic_leaves(7)
    a, b, c, d = leaves[:4]
    g, h = node_hash(a, b), node_hash(c, d)
    i, j = node_hash(leaves[4], leaves[5]), leaves[6]
    k, l_ = node_hash(g, h), node_hash(i, j)  # the RFC's "l"
    assert inclusion_proof(leaves, 0) == [b, h, l_]
    assert inclusion_proof(leaves, 6) == [i, k]
    assert consistency_proof(leaves, 3) == [c, d, g, l_]
    assert consistency_proof(leaves, 4) == [l_]
    assert consistency_proof(leaves, 6) == [i, j, k]


def test_generators_refuse_impossible_requests() -> None:
    leaves = synthetic_leaves(4)
    with pytest.raises(ValueError, match="outside"):
        inclusion_proof(leaves, 4)
    with pytest.raises(ValueError, match="no consistency proof"):
        consistency_proof(leaves, 0)
    with pytest.raises(ValueError, match="no consistency proof"):
        consistency_proof(leaves, 5)


# --- verifier reasons --------------------------------------------------------------------------


def test_verify_inclusion_reports_why() -> None:
    leaves = synthetic_leaves(5)
    root, proof = root_hash(leaves), inclusion_proof(leaves, 2)
    cases: dict[str, dict[str, Any]] = {
        "out of range": dict(index=5),
        "too short": dict(proof=proof[:-1]),
        "too long": dict(proof=[*proof, leaves[0]]),
        "mismatch": dict(root=root_hash(leaves[:4])),
        "leaf hash has 3 bytes": dict(leaf_hash=b"abc"),
        "proof hash 0 has 0 bytes": dict(proof=[b"", *proof[1:]]),
    }
    for reason, change in cases.items():
        arguments: dict[str, Any] = dict(
            leaf_hash=leaves[2], index=2, tree_size=5, proof=proof, root=root
        )
        with pytest.raises(ProofError, match=reason):
            verify_inclusion(**(arguments | change))


def test_verify_consistency_reports_why() -> None:
    leaves = synthetic_leaves(7)
    old, new, proof = root_hash(leaves[:3]), root_hash(leaves), consistency_proof(leaves, 3)
    cases: dict[str, dict[str, Any]] = {
        "not within": dict(old_size=8),
        "empty tree is meaningless": dict(old_size=0),
        "must be empty when both sizes are equal": dict(old_size=7, old_root=new),
        "empty consistency proof": dict(proof=[]),
        "too short": dict(proof=proof[:-1]),
        "too long": dict(proof=[*proof, leaves[0]]),
        "size 3 mismatch": dict(old_root=root_hash(leaves[:2])),
        "size 7 mismatch": dict(new_root=old),
    }
    for reason, change in cases.items():
        arguments: dict[str, Any] = dict(
            old_size=3, new_size=7, proof=proof, old_root=old, new_root=new
        )
        with pytest.raises(ProofError, match=reason):
            verify_consistency(**(arguments | change))


def test_equal_sizes_need_equal_roots_and_no_proof() -> None:
    root = root_hash(synthetic_leaves(3))
    verify_consistency(old_size=3, new_size=3, proof=[], old_root=root, new_root=root)
    with pytest.raises(ProofError, match="mismatch"):
        verify_consistency(old_size=3, new_size=3, proof=[], old_root=root, new_root=EMPTY_ROOT)


# --- property tests ----------------------------------------------------------------------------

tree_sizes = st.integers(min_value=1, max_value=70)


@st.composite
def trees_with_index(draw: st.DrawFn) -> tuple[list[bytes], int]:
    size = draw(tree_sizes)
    return synthetic_leaves(size, draw(st.integers(0, 1000))), draw(st.integers(0, size - 1))


@st.composite
def trees_with_old_size(draw: st.DrawFn) -> tuple[list[bytes], int]:
    size = draw(tree_sizes)
    return synthetic_leaves(size, draw(st.integers(0, 1000))), draw(st.integers(1, size))


def sides(index: int, tree_size: int) -> list[bool]:
    """Which side each sibling of the path is on: all a verifier's hashing depends on."""
    return [sibling.end <= index for sibling in inclusion_proof_ranges(index, tree_size)]


@given(trees_with_index())
def test_generated_inclusion_proofs_verify(tree: tuple[list[bytes], int]) -> None:
    leaves, index = tree
    proof = inclusion_proof(leaves, index)
    verify_inclusion(
        leaf_hash=leaves[index], index=index, tree_size=len(leaves), proof=proof,
        root=root_hash(leaves),
    )  # fmt: skip


@given(trees_with_index(), st.data())
def test_tampered_inclusion_proofs_fail(tree: tuple[list[bytes], int], data: st.DataObject) -> None:
    leaves, index = tree
    proof, root = inclusion_proof(leaves, index), root_hash(leaves)
    bit = data.draw(st.integers(0, 255))
    tampered = [(leaves[index], proof, flip_bit(root, bit)), (flip_bit(leaves[index], bit), proof,
                root)]  # fmt: skip
    if proof:
        position = data.draw(st.integers(0, len(proof) - 1))
        changed = [*proof[:position], flip_bit(proof[position], bit), *proof[position + 1 :]]
        tampered += [(leaves[index], changed, root), (leaves[index], proof[:-1], root)]
    for leaf, bad_proof, bad_root in tampered:
        with pytest.raises(ProofError):
            verify_inclusion(
                leaf_hash=leaf, index=index, tree_size=len(leaves), proof=bad_proof, root=bad_root
            )


@given(trees_with_index(), st.integers(0, 80), st.integers(1, 80))
def test_inclusion_verifies_for_another_position_only_on_the_same_path_shape(
    tree: tuple[list[bytes], int], other_index: int, other_size: int
) -> None:
    # The proof alone cannot tell two (index, size) pairs apart whose paths have the same shape
    # (leaf 0 of 3 and of 4 leaves): the signed checkpoint binds size and root together.
    leaves, index = tree
    proof, root = inclusion_proof(leaves, index), root_hash(leaves)
    same_shape = other_index < other_size and sides(index, len(leaves)) == sides(
        other_index, other_size
    )
    arguments: dict[str, Any] = dict(leaf_hash=leaves[index], proof=proof, root=root)
    if same_shape:
        verify_inclusion(index=other_index, tree_size=other_size, **arguments)
    else:
        with pytest.raises(ProofError):
            verify_inclusion(index=other_index, tree_size=other_size, **arguments)


@given(trees_with_old_size())
def test_generated_consistency_proofs_verify(tree: tuple[list[bytes], int]) -> None:
    leaves, old_size = tree
    verify_consistency(
        old_size=old_size,
        new_size=len(leaves),
        proof=consistency_proof(leaves, old_size),
        old_root=root_hash(leaves[:old_size]),
        new_root=root_hash(leaves),
    )


@given(trees_with_old_size(), st.data())
def test_tampered_consistency_proofs_fail(
    tree: tuple[list[bytes], int], data: st.DataObject
) -> None:
    leaves, old_size = tree
    proof = consistency_proof(leaves, old_size)
    old, new = root_hash(leaves[:old_size]), root_hash(leaves)
    bit = data.draw(st.integers(0, 255))
    tampered = [(proof, flip_bit(old, bit), new), (proof, old, flip_bit(new, bit))]
    if proof:
        position = data.draw(st.integers(0, len(proof) - 1))
        changed = [*proof[:position], flip_bit(proof[position], bit), *proof[position + 1 :]]
        tampered += [(changed, old, new), (proof[:-1], old, new), (proof[1:], old, new)]
    for bad_proof, bad_old, bad_new in tampered:
        with pytest.raises(ProofError):
            verify_consistency(
                old_size=old_size,
                new_size=len(leaves),
                proof=bad_proof,
                old_root=bad_old,
                new_root=bad_new,
            )


@given(trees_with_old_size(), st.integers(1, 80))
def test_consistency_fails_for_another_old_size_with_a_different_old_tree(
    tree: tuple[list[bytes], int], other_old_size: int
) -> None:
    # A different old size means different old leaves: the old root then cannot match.
    leaves, old_size = tree
    if other_old_size == old_size or other_old_size > len(leaves):
        return
    with pytest.raises(ProofError):
        verify_consistency(
            old_size=other_old_size,
            new_size=len(leaves),
            proof=consistency_proof(leaves, old_size),
            old_root=root_hash(leaves[:other_old_size]),
            new_root=root_hash(leaves),
        )


@given(trees_with_old_size())
def test_a_rewritten_history_fails_consistency(tree: tuple[list[bytes], int]) -> None:
    leaves, old_size = tree
    rewritten = [*leaves[: old_size - 1], leaf_hash(b"edited entry"), *leaves[old_size:]]
    with pytest.raises(ProofError):
        verify_consistency(
            old_size=old_size,
            new_size=len(leaves),
            proof=consistency_proof(rewritten, old_size),
            old_root=root_hash(leaves[:old_size]),
            new_root=root_hash(rewritten),
        )


# --- compact range and proofs from storage -----------------------------------------------------


def test_compact_range_root_equals_root_hash_for_every_size() -> None:
    leaves = synthetic_leaves(300)
    edge = CompactRange()
    assert edge.root() == EMPTY_ROOT
    for size, leaf in enumerate(leaves, start=1):
        edge.append(leaf)
        assert edge.size == size
        assert len(edge.hashes) == size.bit_count()
        assert edge.root() == root_hash(leaves[:size])


@given(st.integers(0, 200), st.integers(0, 50))
def test_compact_range_survives_storage(size: int, more: int) -> None:
    leaves = synthetic_leaves(size + more)
    edge = CompactRange()
    edge.extend(leaves[:size])
    stored = CompactRange.from_bytes(edge.to_bytes())
    assert stored == edge
    assert len(edge.to_bytes()) == 8 + 32 * size.bit_count()
    assert CompactRange.from_nodes(node_store(leaves[:size]).__getitem__, size) == edge
    stored.extend(leaves[size:])
    assert stored.root() == root_hash(leaves)


def test_append_reports_each_completed_node_with_its_hash() -> None:
    leaves = synthetic_leaves(37)
    nodes = node_store(leaves)
    assert len(nodes) == 2 * 37 - (37).bit_count()  # every complete node, exactly once
    for node, value in nodes.items():
        assert value == root_hash(leaves[node.start : node.end])


def test_compact_range_rejects_bad_storage() -> None:
    with pytest.raises(ValueError, match="edge hashes"):
        CompactRange(3, [EMPTY_ROOT])
    with pytest.raises(ValueError, match="not a stored compact range"):
        CompactRange.from_bytes(CompactRange(1, [EMPTY_ROOT]).to_bytes()[:-1])
    with pytest.raises(ValueError, match="leaf hash has"):
        CompactRange().append(b"short")


def test_complete_subtrees_cover_a_range_with_aligned_nodes() -> None:
    assert complete_subtrees(0, 13) == [NodeId(3, 0), NodeId(2, 2), NodeId(0, 12)]
    assert complete_subtrees(3, 9) == [NodeId(0, 3), NodeId(2, 1), NodeId(0, 8)]
    assert complete_subtrees(5, 5) == []


@given(trees_with_index())
def test_inclusion_proof_from_nodes_matches_and_reads_log_n_nodes(
    tree: tuple[list[bytes], int],
) -> None:
    leaves, index = tree
    store, reads = node_store(leaves), []

    def read(node: NodeId) -> bytes:
        reads.append(node)
        return store[node]

    proof = inclusion_proof_from_nodes(read, index=index, tree_size=len(leaves))
    assert proof == inclusion_proof(leaves, index)
    assert len(reads) <= 2 * len(leaves).bit_length()
    assert set(reads) == set(nodes_for_ranges(inclusion_proof_ranges(index, len(leaves))))


@given(trees_with_old_size())
def test_consistency_proof_from_nodes_matches_and_reads_log_n_nodes(
    tree: tuple[list[bytes], int],
) -> None:
    leaves, old_size = tree
    store, reads = node_store(leaves), []

    def read(node: NodeId) -> bytes:
        reads.append(node)
        return store[node]

    proof = consistency_proof_from_nodes(read, old_size=old_size, new_size=len(leaves))
    assert proof == consistency_proof(leaves, old_size)
    assert len(reads) <= 2 * len(leaves).bit_length()
    ranges = consistency_proof_ranges(old_size, len(leaves))
    assert [root_hash(leaves[r.start : r.end]) for r in ranges] == proof


def test_proofs_from_nodes_scale_to_millions_of_leaves() -> None:
    # A 3-million-leaf tree's nodes made up on demand: no leaf list is built, few nodes read.
    reads: list[NodeId] = []

    def synthetic_node(node: NodeId) -> bytes:
        reads.append(node)
        return hashlib.sha256(f"{node.level}/{node.index}".encode()).digest()

    proof = inclusion_proof_from_nodes(synthetic_node, index=2_345_678, tree_size=3_000_001)
    inner = (2_345_678 ^ 3_000_000).bit_length()  # transparency-dev's decompInclProof
    assert len(proof) == inner + (2_345_678 >> inner).bit_count()
    consistency = consistency_proof_from_nodes(
        synthetic_node, old_size=1_999_999, new_size=3_000_001
    )
    assert len(consistency) == len(consistency_proof_ranges(1_999_999, 3_000_001))
    assert len(reads) <= 4 * (3_000_001).bit_length()
