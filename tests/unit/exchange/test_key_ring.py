"""The source registers' key ring: a ring that cannot be used is refused whole, saying which
entry and why (a silently dropped entry would reject that source's every batch later)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from oberih.exchange.signing import InvalidKeyRing, key_entry, load_key_ring


def _entry(source: str = "tax", kid: str = "tax-1", *, ec_curve: Any = None) -> dict[str, Any]:
    key = (
        ed25519.Ed25519PrivateKey.generate()
        if ec_curve is None
        else ec.generate_private_key(ec_curve)
    )
    return key_entry(source=source, kid=kid, private_key=key)


def _ring(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "ring.json"
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return path


def test_a_valid_ring_registers_every_key(tmp_path: Path) -> None:
    path = _ring(tmp_path, {"keys": [_entry(), _entry("border", "b-1", ec_curve=ec.SECP256R1())]})
    ring = load_key_ring(path)
    assert ring.find("tax", "tax-1") is not None
    found = ring.find("border", "b-1")
    assert found is not None and found.alg == "ES256"


@pytest.mark.parametrize(
    ("document", "says"),
    [
        ('{"keys": [', "not JSON"),
        ([], 'expected {"keys": [...]}'),
        ({"keys": ["tax"]}, "keys[0]: expected an object"),
        ({"keys": [{"source": "tax", "kid": "k"}]}, "keys[0]: missing alg, public_key"),
        ({"keys": [{**_entry(), "alg": "RS256"}]}, "keys[0]: unsupported algorithm 'RS256'"),
        ({"keys": [{**_entry(), "public_key": "not a key"}]}, "keys[0]: public_key is not a PEM"),
        ({"keys": [{**_entry(), "alg": "ES256"}]}, "keys[0]: an ES256 key must be P-256"),
        (
            {"keys": [{**_entry(ec_curve=ec.SECP384R1()), "alg": "ES256"}]},
            "keys[0]: an ES256 key must be P-256",
        ),
        ({"keys": [_entry(), _entry()]}, "keys[1]: key 'tax-1' of 'tax' is registered twice"),
    ],
)
def test_a_ring_that_cannot_be_used_is_refused_saying_where(
    tmp_path: Path, document: Any, says: str
) -> None:
    path = _ring(tmp_path, document)
    with pytest.raises(InvalidKeyRing) as refused:
        load_key_ring(path)
    assert str(refused.value).startswith(f"key ring {path}: ")
    assert says in str(refused.value)


def test_the_same_key_id_under_two_sources_is_two_keys(tmp_path: Path) -> None:
    ring = load_key_ring(_ring(tmp_path, {"keys": [_entry("tax", "k"), _entry("border", "k")]}))
    assert ring.find("tax", "k") is not None and ring.find("border", "k") is not None
