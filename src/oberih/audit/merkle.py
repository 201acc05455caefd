"""RFC 6962 / RFC 9162 Merkle tree: hashing, proofs, their verification, and the compact range.

The audit log is an append-only list of entries; its tree hash commits to every entry, so an
entry changed or deleted after a checkpoint was published is detectable (an inclusion proof
fails) and a rewritten history is provable (a consistency proof between two checkpoints fails).

Three ways to get at a tree, by what the caller holds:

* **all leaf hashes in memory** (tests, small logs): ``root_hash``, ``inclusion_proof``,
  ``consistency_proof``, the literal MTH / PATH / SUBPROOF definitions of RFC 6962 §2.1;
  O(n) hashes each.
* **a store of complete-subtree hashes** (the production log, millions of leaves):
  ``inclusion_proof_from_nodes`` and ``consistency_proof_from_nodes`` read O(log n) nodes through
  a ``NodeReader`` callback and hash O(log n) times. A node is a *complete* subtree
  (``NodeId(level, index)`` covers leaves ``[index * 2**level, (index + 1) * 2**level)``), so a
  node's hash never changes once written: a storage layer can insert the nodes that
  ``CompactRange.append`` reports (about two per leaf) and never update them. Callers that
  want one database round trip ask ``nodes_for_ranges(inclusion_proof_ranges(...))`` first,
  fetch those nodes in one query, and pass ``dict.__getitem__`` as the reader.
* **only the right edge** (the writer appending entries): ``CompactRange``, the roots of the
  complete subtrees of ``[0, size)``; ``append`` costs O(log n) time (amortised O(1) hashes),
  ``root`` O(log n), and ``to_bytes`` stores it in one row (8 + 32 * popcount(size) bytes).

Verifiers follow RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency) step by step, with the
precondition checks transparency-dev/merkle applies, and raise ``ProofError`` with the reason.

Exceptions: ``ProofError(ValueError)`` means a proof or tree head did not verify (evidence of
tampering, a buggy log, or a wrong request). Generators raise a plain ``ValueError`` for an
impossible request (index beyond the tree, old size larger than the new one): a caller bug.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

HASH_SIZE = 32
_LEAF_PREFIX = b"\x00"  # RFC 6962 §2.1: domain separation of leaves and interior nodes
_NODE_PREFIX = b"\x01"
_SIZE_BYTES = 8  # a tree size fits a uint64 in every RFC 6962 implementation

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}) of RFC 6962 §2.1: the root hash of the empty tree."""


class ProofError(ValueError):
    """A Merkle proof or tree head failed verification; the message says why."""


def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d), RFC 6962 §2.1."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right), RFC 6962 §2.1."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """k of RFC 6962 §2.1: the largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


# --- in memory: the RFC 6962 §2.1 definitions -----------------------------------------------


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes (not raw entries). O(n) hashes."""
    if not leaf_hashes:
        return EMPTY_ROOT
    return _mth(leaf_hashes, 0, len(leaf_hashes))


def _mth(leaves: Sequence[bytes], start: int, end: int) -> bytes:
    if end - start == 1:
        return leaves[start]
    middle = start + _split(end - start)
    return node_hash(_mth(leaves, start, middle), _mth(leaves, middle, end))


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(index, D[n]) of RFC 6962 §2.1.1, lowest sibling first. O(n) hashes."""
    if not 0 <= index < len(leaf_hashes):
        raise ValueError(f"leaf index {index} is outside a tree of {len(leaf_hashes)} leaves")
    return _path(leaf_hashes, index, 0, len(leaf_hashes))


def _path(leaves: Sequence[bytes], index: int, start: int, end: int) -> list[bytes]:
    if end - start == 1:
        return []
    middle = start + _split(end - start)
    if index < middle:
        return [*_path(leaves, index, start, middle), _mth(leaves, middle, end)]
    return [*_path(leaves, index, middle, end), _mth(leaves, start, middle)]


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """PROOF(old_size, D[n]) of RFC 6962 §2.1.2; empty when old_size == n. O(n) hashes."""
    _require_proof_sizes(old_size, len(leaf_hashes))
    return _subproof(leaf_hashes, old_size, 0, len(leaf_hashes), known=True)


def _subproof(
    leaves: Sequence[bytes], old_size: int, start: int, end: int, *, known: bool
) -> list[bytes]:
    # old_size counts leaves from `start`; `known` is the b of SUBPROOF(m, D[n], b).
    if old_size == end - start:
        return [] if known else [_mth(leaves, start, end)]
    k = _split(end - start)
    if old_size <= k:
        left = _subproof(leaves, old_size, start, start + k, known=known)
        return [*left, _mth(leaves, start + k, end)]
    right = _subproof(leaves, old_size - k, start + k, end, known=False)
    return [*right, _mth(leaves, start, start + k)]


def _require_proof_sizes(old_size: int, new_size: int) -> None:
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")


# --- verification: RFC 9162 §2.1.3.2 and §2.1.4.2 --------------------------------------------


def verify_inclusion(
    *, leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``tree_size`` with ``root``."""
    _require_hash(leaf_hash, "leaf hash")
    _require_proof_hashes(proof)
    if not 0 <= index < tree_size:
        raise ProofError(f"leaf index {index} is out of range for tree size {tree_size}")
    fn, sn = index, tree_size - 1
    computed = leaf_hash
    for sibling in proof:
        if sn == 0:
            raise ProofError(f"inclusion proof is too long ({len(proof)} hashes)")
        if fn & 1 or fn == sn:
            computed = node_hash(sibling, computed)
            # On the right border a node may have no sibling for several levels.
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            computed = node_hash(computed, sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"inclusion proof is too short ({len(proof)} hashes)")
    _require_match(computed, root, f"root of the tree of size {tree_size}")


def verify_consistency(
    *,
    old_size: int,
    new_size: int,
    proof: Sequence[bytes],
    old_root: bytes,
    new_root: bytes,
) -> None:
    """Check that the tree (new_size, new_root) extends the tree (old_size, old_root)."""
    _require_proof_hashes(proof)
    if old_size < 0 or old_size > new_size:
        raise ProofError(f"old size {old_size} is not within 0..new size {new_size}")
    if old_size == 0:
        # Every tree extends the empty one: such a "proof" proves nothing, so refuse it.
        raise ProofError("a consistency proof from the empty tree is meaningless")
    if old_size == new_size:
        if proof:
            raise ProofError("the proof must be empty when both sizes are equal")
        _require_match(old_root, new_root, f"root of the tree of size {new_size}")
        return
    if not proof:
        raise ProofError("empty consistency proof between different sizes")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is itself a node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    old_computed = new_computed = path[0]
    for sibling in path[1:]:
        if sn == 0:
            raise ProofError(f"consistency proof is too long ({len(proof)} hashes)")
        if fn & 1 or fn == sn:
            old_computed = node_hash(sibling, old_computed)
            new_computed = node_hash(sibling, new_computed)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            new_computed = node_hash(new_computed, sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"consistency proof is too short ({len(proof)} hashes)")
    _require_match(old_computed, old_root, f"root of the tree of size {old_size}")
    _require_match(new_computed, new_root, f"root of the tree of size {new_size}")


def _require_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} has {len(value)} bytes, expected {HASH_SIZE}")


def _require_proof_hashes(proof: Sequence[bytes]) -> None:
    for position, value in enumerate(proof):
        _require_hash(value, f"proof hash {position}")


def _require_match(computed: bytes, expected: bytes, what: str) -> None:
    if computed != expected:
        raise ProofError(f"{what} mismatch: computed {computed.hex()}, expected {expected.hex()}")


# --- from storage: complete-subtree nodes ------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class NodeId:
    """The complete subtree of 2**level leaves starting at leaf ``index * 2**level``."""

    level: int
    index: int

    @property
    def start(self) -> int:
        return self.index << self.level

    @property
    def end(self) -> int:
        return (self.index + 1) << self.level


class LeafRange(NamedTuple):
    """Leaves ``[start, end)``; each proof hash is MTH of one such range."""

    start: int
    end: int


NodeReader = Callable[[NodeId], bytes]
"""Returns the stored hash of a complete subtree (level 0: a leaf hash)."""


def complete_subtrees(start: int, end: int) -> list[NodeId]:
    """The fewest complete subtrees covering ``[start, end)``, left to right.

    For ``[0, size)`` these are the nodes of the compact range; for a proof range (``start`` a
    multiple of a power of two at least ``end - start``) sizes strictly decrease, so the range
    hash is their fold from the right (``subtree_hash_from_nodes``). At most 2 log2(n) nodes.
    """
    if not 0 <= start <= end:
        raise ValueError(f"[{start}, {end}) is not a range of leaves")
    nodes = []
    while start < end:
        alignment = (start & -start).bit_length() - 1 if start else end.bit_length()
        level = min(alignment, (end - start).bit_length() - 1)
        nodes.append(NodeId(level, start >> level))
        start += 1 << level
    return nodes


def inclusion_proof_ranges(index: int, tree_size: int) -> list[LeafRange]:
    """The leaf ranges whose hashes form PATH(index, D[tree_size]), lowest first."""
    if not 0 <= index < tree_size:
        raise ValueError(f"leaf index {index} is outside a tree of {tree_size} leaves")
    ranges = []
    start, end = 0, tree_size
    while end - start > 1:
        middle = start + _split(end - start)
        if index < middle:
            ranges.append(LeafRange(middle, end))
            end = middle
        else:
            ranges.append(LeafRange(start, middle))
            start = middle
    return ranges[::-1]


def consistency_proof_ranges(old_size: int, new_size: int) -> list[LeafRange]:
    """The leaf ranges whose hashes form PROOF(old_size, D[new_size]), in proof order."""
    _require_proof_sizes(old_size, new_size)
    ranges = []
    start, end, known = 0, new_size, True
    while old_size != end - start:  # old_size counts leaves from `start`
        k = _split(end - start)
        if old_size <= k:
            ranges.append(LeafRange(start + k, end))
            end = start + k
        else:
            ranges.append(LeafRange(start, start + k))
            start, old_size, known = start + k, old_size - k, False
    if not known:
        ranges.append(LeafRange(start, end))
    return ranges[::-1]


def nodes_for_ranges(ranges: Iterable[LeafRange]) -> list[NodeId]:
    """Every node the hashes of ``ranges`` need: fetch these in one query."""
    return sorted({node for leaves in ranges for node in complete_subtrees(*leaves)})


def subtree_hash_from_nodes(read_node: NodeReader, leaves: LeafRange) -> bytes:
    """MTH of a proof range from stored complete subtrees: O(log n) reads and hashes."""
    start, end = leaves
    if start >= end or start % (1 << (end - start - 1).bit_length()):
        raise ValueError(f"[{start}, {end}) is not the leaf range of a tree node")
    nodes = complete_subtrees(start, end)
    computed = read_node(nodes[-1])
    for node in reversed(nodes[:-1]):
        computed = node_hash(read_node(node), computed)
    return computed


def inclusion_proof_from_nodes(read_node: NodeReader, *, index: int, tree_size: int) -> list[bytes]:
    """PATH(index, D[tree_size]) from storage: O(log n) node reads and hashes."""
    return [subtree_hash_from_nodes(read_node, r) for r in inclusion_proof_ranges(index, tree_size)]


def consistency_proof_from_nodes(
    read_node: NodeReader, *, old_size: int, new_size: int
) -> list[bytes]:
    """PROOF(old_size, D[new_size]) from storage: O(log n) node reads and hashes."""
    ranges = consistency_proof_ranges(old_size, new_size)
    return [subtree_hash_from_nodes(read_node, r) for r in ranges]


# --- the writer's right edge -------------------------------------------------------------------


class CompactRange:
    """The roots of the complete subtrees of ``[0, size)`` (the tree's right edge), left to right.

    Enough to append leaves and compute the root without reading any earlier leaf, like
    transparency-dev/merkle's ``compact.Range`` starting at 0. Memory: popcount(size) hashes.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if not 0 <= size < 1 << (8 * _SIZE_BYTES):
            raise ValueError(f"tree size {size} is not a uint64")
        if len(hashes) != size.bit_count():
            raise ValueError(f"a tree of {size} leaves has {size.bit_count()} edge hashes")
        for value in hashes:
            if len(value) != HASH_SIZE:
                raise ValueError(f"edge hash has {len(value)} bytes, expected {HASH_SIZE}")
        self._size = size
        self._hashes = list(hashes)

    @property
    def size(self) -> int:
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        return tuple(self._hashes)

    def nodes(self) -> list[NodeId]:
        """Which complete subtrees ``hashes`` are the roots of."""
        return complete_subtrees(0, self._size)

    def append(self, leaf_hash: bytes) -> list[tuple[NodeId, bytes]]:
        """Add a leaf; return the nodes it completed (the leaf first), for storage to insert."""
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"leaf hash has {len(leaf_hash)} bytes, expected {HASH_SIZE}")
        node, computed = NodeId(0, self._size), leaf_hash
        completed = [(node, computed)]
        while node.index & 1:  # a right child: its left sibling is the last edge hash
            computed = node_hash(self._hashes.pop(), computed)
            node = NodeId(node.level + 1, node.index >> 1)
            completed.append((node, computed))
        self._hashes.append(computed)
        self._size += 1
        return completed

    def extend(self, leaf_hashes: Iterable[bytes]) -> list[tuple[NodeId, bytes]]:
        """Append several leaves; return every node they completed."""
        return [completed for leaf in leaf_hashes for completed in self.append(leaf)]

    def root(self) -> bytes:
        """MTH(D[size]): the edge hashes folded from the right. O(log n) hashes."""
        if not self._hashes:
            return EMPTY_ROOT
        computed = self._hashes[-1]
        for edge in reversed(self._hashes[:-1]):
            computed = node_hash(edge, computed)
        return computed

    def to_bytes(self) -> bytes:
        """uint64 big-endian size, then the edge hashes: one database column."""
        return self._size.to_bytes(_SIZE_BYTES, "big") + b"".join(self._hashes)

    @classmethod
    def from_bytes(cls, data: bytes) -> CompactRange:
        size = int.from_bytes(data[:_SIZE_BYTES], "big")
        body = data[_SIZE_BYTES:]
        if len(data) < _SIZE_BYTES or len(body) != HASH_SIZE * size.bit_count():
            raise ValueError(f"{len(data)} bytes are not a stored compact range")
        return cls(size, [body[i : i + HASH_SIZE] for i in range(0, len(body), HASH_SIZE)])

    @classmethod
    def from_nodes(cls, read_node: NodeReader, size: int) -> CompactRange:
        """Rebuild the edge of the tree of ``size`` leaves from stored nodes."""
        return cls(size, [read_node(node) for node in complete_subtrees(0, size)])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CompactRange):
            return NotImplemented
        return self._size == other._size and self._hashes == other._hashes

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size}, root={self.root().hex()})"
