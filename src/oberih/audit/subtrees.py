"""Subtree inclusion and consistency proofs (draft-ietf-plants-merkle-tree-certs, "Subtrees").

A *subtree* ``[start, end)`` is a run of leaves that sits under one node of every tree that
contains it: ``start`` is a multiple of the smallest power of two >= ``end - start``. Its hash is
MTH(D[start:end]). A subtree consistency proof shows that such a run, known only by its hash,
is part of a larger tree; the RFC 6962 consistency proof is the special case ``start == 0``.

For the audit log this lets a day's (or any aligned batch's) entries be published or archived
as one hash and later proven to be inside a signed checkpoint, without the whole log.
transparency-dev/merkle verifies the same proofs (``VerifySubtreeInclusion``,
``VerifySubtreeConsistency``); its test vectors run against these functions.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from enum import Enum

from oberih.audit.merkle import (
    EMPTY_ROOT,
    LeafRange,
    ProofError,
    inclusion_proof,
    node_hash,
    root_hash,
    verify_inclusion,
)


def is_valid_subtree(start: int, end: int) -> bool:
    """``[start, end)`` lies under one tree node; the empty ``[k, k)`` counts as valid."""
    if not 0 <= start <= end:
        return False
    return start == end or start % (1 << (end - start - 1).bit_length()) == 0


def _require_valid_subtree(start: int, end: int) -> None:
    if not is_valid_subtree(start, end):
        raise ProofError(
            f"[{start}, {end}) is not a subtree: start must be a multiple of the "
            "smallest power of two not below its size"
        )


def subtree_inclusion_proof(
    leaf_hashes: Sequence[bytes], *, index: int, start: int, end: int
) -> list[bytes]:
    """The path from leaf ``index`` to the hash of the subtree ``[start, end)``."""
    if not is_valid_subtree(start, end) or not start <= index < end <= len(leaf_hashes):
        raise ValueError(f"leaf {index} is not in a subtree [{start}, {end}) of the tree")
    return inclusion_proof(leaf_hashes[start:end], index - start)


def verify_subtree_inclusion(
    *,
    leaf_hash: bytes,
    index: int,
    start: int,
    end: int,
    proof: Sequence[bytes],
    subtree_root: bytes,
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the subtree ``[start, end)``."""
    _require_valid_subtree(start, end)
    if not start <= index < end:
        raise ProofError(f"leaf index {index} is outside the subtree [{start}, {end})")
    verify_inclusion(
        leaf_hash=leaf_hash,
        index=index - start,
        tree_size=end - start,
        proof=proof,
        root=subtree_root,
    )


class _Sibling(Enum):
    """Where a proof hash sits relative to the subtree, on the way from the root down."""

    after = "after"  # right of the subtree: only in the larger tree
    before = "before"  # left of the subtree, outside it
    inside = "inside"  # left part of the subtree itself (a prefix subtree, start == 0)


def _proof_plan(start: int, end: int, tree_size: int) -> tuple[list[_Sibling], list[LeafRange]]:
    """The siblings of SUBTREE_PROOF(start, end, D[tree_size]) and the ranges the proof hashes.

    Walks down from the root as RFC 6962 SUBPROOF does. The walk ends on the node whose leaves
    are exactly the subtree's rest; its hash opens the proof unless the verifier holds it (the
    whole subtree, never entered through an ``inside`` step). Returns sibling kinds in proof
    order (lowest first) and the proof's leaf ranges. Requires a valid, non-empty subtree.
    """
    kinds: list[_Sibling] = []
    ranges: list[LeafRange] = []
    offset, known = 0, True
    start, end, size = start, end, tree_size  # relative to `offset` from here on
    while not (start == 0 and end == size):
        k = 1 << ((size - 1).bit_length() - 1)
        if end <= k:
            kinds.append(_Sibling.after)
            ranges.append(LeafRange(offset + k, offset + size))
            size = k
        else:
            kinds.append(_Sibling.before if start >= k else _Sibling.inside)
            ranges.append(LeafRange(offset, offset + k))
            known = known and start >= k
            offset, start, end, size = offset + k, max(start - k, 0), end - k, size - k
    if not known:
        ranges.append(LeafRange(offset, offset + size))
    return kinds[::-1], ranges[::-1]


def subtree_consistency_proof(leaf_hashes: Sequence[bytes], *, start: int, end: int) -> list[bytes]:
    """SUBTREE_PROOF(start, end, D[n]): the hashes proving ``[start, end)`` is in the tree."""
    if start == end or not is_valid_subtree(start, end) or end > len(leaf_hashes):
        raise ValueError(f"[{start}, {end}) is not a non-empty subtree of the tree")
    _, ranges = _proof_plan(start, end, len(leaf_hashes))
    return [root_hash(leaf_hashes[r.start : r.end]) for r in ranges]


def verify_subtree_consistency(
    *,
    start: int,
    end: int,
    tree_size: int,
    proof: Sequence[bytes],
    subtree_root: bytes,
    root: bytes,
) -> None:
    """Check that the subtree ``[start, end)`` with ``subtree_root`` is in the tree ``root``."""
    _require_valid_subtree(start, end)
    if end > tree_size:
        raise ProofError(f"subtree [{start}, {end}) ends beyond tree size {tree_size}")
    if start == end:
        # An empty run of leaves is in every tree; only its hash and an empty proof can be wrong.
        if proof:
            raise ProofError("the proof for an empty subtree must be empty")
        if subtree_root != EMPTY_ROOT:
            raise ProofError("the hash of an empty subtree must be the empty tree hash")
        return
    kinds, _ = _proof_plan(start, end, tree_size)
    # The verifier holds the subtree's node unless a prefix of it is a separate node.
    holds_subtree_node = _Sibling.inside not in kinds
    expected = len(kinds) + (0 if holds_subtree_node else 1)
    if len(proof) != expected:
        raise ProofError(f"subtree consistency proof has {len(proof)} hashes, expected {expected}")
    hashes: Iterator[bytes] = iter(proof)
    seed = subtree_root if holds_subtree_node else next(hashes)
    subtree_computed, tree_computed = seed, seed
    for kind, sibling in zip(kinds, hashes, strict=True):
        if kind is _Sibling.after:
            tree_computed = node_hash(tree_computed, sibling)
        else:
            tree_computed = node_hash(sibling, tree_computed)
            if kind is _Sibling.inside:
                subtree_computed = node_hash(sibling, subtree_computed)
    _require(subtree_computed == subtree_root, f"subtree [{start}, {end}) root mismatch")
    _require(tree_computed == root, f"root of the tree of size {tree_size} mismatch")


def _require(condition: bool, reason: str) -> None:
    if not condition:
        raise ProofError(reason)
