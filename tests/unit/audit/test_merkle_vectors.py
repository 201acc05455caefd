"""Conformance with transparency-dev/merkle's proof vectors (third-party, read-only).

Every JSON file under ``shared/testdata/merkle`` is one proof with ``wantErr``: the verifier
must raise ``ProofError`` exactly when ``wantErr`` is true. The ``subtree*`` folders are the
Merkle Tree Certificates subtree proofs (``oberih.audit.subtrees``). The happy paths are also
regenerated from the RFC 6962 test leaves, so the generators agree with the suite too.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from oberih.audit.merkle import (
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from oberih.audit.subtrees import (
    subtree_consistency_proof,
    verify_subtree_consistency,
    verify_subtree_inclusion,
)

VECTORS = Path(__file__).resolve().parents[3] / ".." / "shared" / "testdata" / "merkle"

# The leaves of the RFC 6962 reference tests, which the suite's trees are built from.
RFC6962_LEAVES = [
    leaf_hash(bytes.fromhex(data))
    for data in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                 "606162636465666768696a6b6c6d6e6f")
]  # fmt: skip


def _vector_params(folder: str) -> list[Any]:
    if not VECTORS.is_dir():
        reason = f"third-party Merkle vectors not found at {VECTORS} (shared/ beside the repo)"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="absent")]
    files = sorted((VECTORS / folder).rglob("*.json"))
    return [pytest.param(path, id=str(path.relative_to(VECTORS / folder))) for path in files]


def _load(path: Path) -> dict[str, Any]:
    vector: dict[str, Any] = json.loads(path.read_text())
    vector["proof"] = [base64.b64decode(h) for h in vector["proof"] or []]
    return vector


def _b64(text: str) -> bytes:
    return base64.b64decode(text)


def _outcome(check: Any) -> bool:
    """True when the check raised ProofError."""
    try:
        check()
    except ProofError:
        return True
    return False


@pytest.mark.parametrize("path", _vector_params("inclusion"))
def test_inclusion_vector(path: Path) -> None:
    v = _load(path)
    failed = _outcome(
        lambda: verify_inclusion(
            leaf_hash=_b64(v["leafHash"]),
            index=v["leafIdx"],
            tree_size=v["treeSize"],
            proof=v["proof"],
            root=_b64(v["root"]),
        )
    )
    assert failed == v["wantErr"], v["desc"]


@pytest.mark.parametrize("path", _vector_params("consistency"))
def test_consistency_vector(path: Path) -> None:
    v = _load(path)
    failed = _outcome(
        lambda: verify_consistency(
            old_size=v["size1"],
            new_size=v["size2"],
            proof=v["proof"],
            old_root=_b64(v["root1"]),
            new_root=_b64(v["root2"]),
        )
    )
    assert failed == v["wantErr"], v["desc"]


@pytest.mark.parametrize("path", _vector_params("subtreeinclusion"))
def test_subtree_inclusion_vector(path: Path) -> None:
    v = _load(path)
    failed = _outcome(
        lambda: verify_subtree_inclusion(
            leaf_hash=_b64(v["leafHash"]),
            index=v["leafIdx"],
            start=v["start"],
            end=v["end"],
            proof=v["proof"],
            subtree_root=_b64(v["root"]),
        )
    )
    assert failed == v["wantErr"], v["desc"]


@pytest.mark.parametrize("path", _vector_params("subtreeconsistency"))
def test_subtree_consistency_vector(path: Path) -> None:
    v = _load(path)
    failed = _outcome(
        lambda: verify_subtree_consistency(
            start=v["start"],
            end=v["end"],
            tree_size=v["size"],
            proof=v["proof"],
            subtree_root=_b64(v["root1"]),
            root=_b64(v["root2"]),
        )
    )
    assert failed == v["wantErr"], v["desc"]


def _happy_paths(folder: str) -> list[Any]:
    params = _vector_params(folder)
    return [p for p in params if p.values[0] is None or p.values[0].name == "happy-path.json"]


@pytest.mark.parametrize("path", _happy_paths("inclusion"))
def test_inclusion_generator_reproduces_happy_path(path: Path) -> None:
    v = _load(path)
    leaves = RFC6962_LEAVES[: v["treeSize"]]
    assert leaves[v["leafIdx"]] == _b64(v["leafHash"])
    assert inclusion_proof(leaves, v["leafIdx"]) == v["proof"]


@pytest.mark.parametrize("path", _happy_paths("consistency"))
def test_consistency_generator_reproduces_happy_path(path: Path) -> None:
    v = _load(path)
    assert consistency_proof(RFC6962_LEAVES[: v["size2"]], v["size1"]) == v["proof"]


@pytest.mark.parametrize("path", _happy_paths("subtreeconsistency"))
def test_subtree_consistency_generator_reproduces_happy_path(path: Path) -> None:
    v = _load(path)
    leaves = RFC6962_LEAVES[: v["size"]]
    assert subtree_consistency_proof(leaves, start=v["start"], end=v["end"]) == v["proof"]
