"""Bearer-token verification: what is accepted, and every way a token is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from oberih.auth.errors import NotAuthenticated
from oberih.auth.principals import Principal, Role
from oberih.auth.tokens import (
    InlineJwksSource,
    InvalidJwks,
    TokenVerifier,
    TrustedIssuer,
    verification_keys,
)
from oberih.config import InsecureConfiguration
from tests.auth_support import AUDIENCE, ISSUER, SigningKey, claims, jwks, trusted


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], payload: dict[str, Any]) -> str:
    return ".".join(_b64(json.dumps(part).encode()) for part in (header, payload))


def _reason(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(NotAuthenticated) as caught:
        verifier.verify(token)
    return caught.value.reason


@pytest.fixture(scope="module")
def es_key() -> SigningKey:
    return SigningKey.es256()


@pytest.fixture(scope="module")
def verifier(es_key: SigningKey) -> TokenVerifier:
    return TokenVerifier([trusted(es_key)], leeway_seconds=30, max_lifetime_seconds=3600)


# --- accepted ------------------------------------------------------------------------------------


def test_a_valid_es256_token_gives_its_principal(
    es_key: SigningKey, verifier: TokenVerifier
) -> None:
    principal = verifier.verify(es_key.sign(claims({"name": "Officer 17"})))
    assert principal.role is Role.tcc_officer
    assert principal.subject == "officer-17"
    assert principal.office_code == "TCC-UA46-03"
    assert principal.display_name == "Officer 17"
    assert principal.actor == "tcc_officer:officer-17"


class CountingVerifier(TokenVerifier):
    """Counts the verifications it really does (signature and claims)."""

    verifications = 0

    def _verify(self, token: str) -> tuple[Principal, float]:
        self.verifications += 1
        return super()._verify(token)


def test_a_verified_token_is_remembered_and_a_refused_one_is_not(es_key: SigningKey) -> None:
    verifier = CountingVerifier([trusted(es_key)], leeway_seconds=30)
    token = es_key.sign(claims())
    assert verifier.verify(token) == verifier.verify(token)
    assert verifier.verifications == 1
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert _reason(verifier, forged) == "signature"
    assert _reason(verifier, forged) == "signature"
    assert verifier.verifications == 3


def test_a_remembered_token_is_refused_once_it_expires(es_key: SigningKey) -> None:
    verifier = TokenVerifier([trusted(es_key)], leeway_seconds=0)
    token = es_key.sign(claims(issued=time.time() - 599))  # one second of its life left
    assert verifier.verify(token).subject == "officer-17"
    time.sleep(1.1)
    assert _reason(verifier, token) == "expired"


def test_a_remembered_token_is_checked_again_after_cache_seconds(es_key: SigningKey) -> None:
    now = [100.0]
    verifier = CountingVerifier([trusted(es_key)], cache_seconds=60, monotonic=lambda: now[0])
    token = es_key.sign(claims())
    verifier.verify(token)
    now[0] += 59
    verifier.verify(token)
    now[0] += 2
    verifier.verify(token)
    assert verifier.verifications == 2


def test_the_cache_keeps_the_most_recently_used_tokens(es_key: SigningKey) -> None:
    verifier = CountingVerifier([trusted(es_key)], cache_size=2)
    first, second, third = (es_key.sign(claims()) for _ in range(3))
    for token in (first, second, first, third, first, second):
        verifier.verify(token)
    # second was the least recently used when third came: it was verified again at the end.
    assert verifier.verifications == 4


def test_eddsa_and_pinned_rs256_keys_verify() -> None:
    ed, rs = SigningKey.eddsa(), SigningKey.rs256()
    verifier = TokenVerifier(
        [trusted(ed, rs, algorithms=frozenset({"EdDSA", "RS256"}))], max_lifetime_seconds=3600
    )
    assert verifier.verify(ed.sign(claims())).subject == "officer-17"
    assert verifier.verify(rs.sign(claims())).subject == "officer-17"


def test_an_audience_list_containing_ours_is_accepted(
    es_key: SigningKey, verifier: TokenVerifier
) -> None:
    token = es_key.sign(claims({"aud": ["account", AUDIENCE]}))
    assert verifier.verify(token).role is Role.tcc_officer


def test_expiry_within_the_leeway_is_tolerated(es_key: SigningKey, verifier: TokenVerifier) -> None:
    token = es_key.sign(claims(issued=time.time() - 610, lifetime=600))  # expired 10 s ago
    assert verifier.verify(token).subject == "officer-17"


# --- refused -------------------------------------------------------------------------------------


def test_an_expired_token_is_refused(es_key: SigningKey, verifier: TokenVerifier) -> None:
    token = es_key.sign(claims(issued=time.time() - 700, lifetime=600))
    assert _reason(verifier, token) == "expired"


def test_a_token_issued_in_the_future_is_refused(
    es_key: SigningKey, verifier: TokenVerifier
) -> None:
    token = es_key.sign(claims(issued=time.time() + 300))
    assert _reason(verifier, token) == "not-yet-valid"


def test_a_token_of_another_issuer_is_refused(es_key: SigningKey, verifier: TokenVerifier) -> None:
    token = es_key.sign(claims(issuer="https://evil.example/"))
    assert _reason(verifier, token) == "issuer"


def test_a_token_for_another_audience_is_refused(
    es_key: SigningKey, verifier: TokenVerifier
) -> None:
    assert _reason(verifier, es_key.sign(claims({"aud": "some-other-api"}))) == "audience"


def test_alg_none_is_refused(es_key: SigningKey, verifier: TokenVerifier) -> None:
    token = _unsigned({"alg": "none", "typ": "JWT", "kid": es_key.kid}, claims()) + "."
    assert _reason(verifier, token) in {"algorithm", "signature", "invalid"}


def test_hs256_keyed_with_the_public_key_is_refused(
    es_key: SigningKey, verifier: TokenVerifier
) -> None:
    # The classic algorithm confusion: the attacker knows the public key and uses it as an HMAC
    # secret, hoping the verifier takes the algorithm from the token header.
    public_pem = es_key.private_key.public_key().public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = _unsigned({"alg": "HS256", "typ": "JWT", "kid": es_key.kid}, claims())
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    assert _reason(verifier, f"{signing_input}.{_b64(signature)}") == "algorithm"


def test_an_unknown_key_id_is_refused(verifier: TokenVerifier) -> None:
    stranger = SigningKey.es256(kid="es-unknown")
    assert _reason(verifier, stranger.sign(claims())) == "unknown-key"


def test_a_known_key_id_with_another_key_fails_the_signature(verifier: TokenVerifier) -> None:
    impostor = SigningKey.es256(kid="es-1")
    assert _reason(verifier, impostor.sign(claims())) == "signature"


def test_a_token_without_key_id_is_refused(es_key: SigningKey, verifier: TokenVerifier) -> None:
    token = jwt.encode(claims(), es_key.private_key, algorithm="ES256")
    assert _reason(verifier, token) == "unknown-key"


def test_a_tampered_payload_fails_the_signature(
    es_key: SigningKey, verifier: TokenVerifier
) -> None:
    header, _payload, signature = es_key.sign(claims()).split(".")
    widened = _b64(
        json.dumps(claims({"oberih_role": "registry_admin"}, drop=("oberih_office",))).encode()
    )
    assert _reason(verifier, f"{header}.{widened}.{signature}") == "signature"


def test_a_tampered_signature_is_refused(es_key: SigningKey, verifier: TokenVerifier) -> None:
    header, payload, signature = es_key.sign(claims()).split(".")
    flipped = signature[:-4] + ("AAAA" if not signature.endswith("AAAA") else "BBBB")
    assert _reason(verifier, f"{header}.{payload}.{flipped}") == "signature"


@pytest.mark.parametrize("claim", ["exp", "iat", "sub", "aud", "iss"])
def test_a_token_missing_a_required_claim_is_refused(
    claim: str, es_key: SigningKey, verifier: TokenVerifier
) -> None:
    expected = {"iss": "issuer"}.get(claim, "missing-claim")
    assert _reason(verifier, es_key.sign(claims(drop=(claim,)))) == expected


def test_a_token_living_longer_than_the_maximum_is_refused(es_key: SigningKey) -> None:
    verifier = TokenVerifier([trusted(es_key)], max_lifetime_seconds=900)
    assert _reason(verifier, es_key.sign(claims(lifetime=901))) == "lifetime"


def test_claims_that_do_not_fit_the_role_are_refused(
    es_key: SigningKey, verifier: TokenVerifier
) -> None:
    token = es_key.sign(claims(drop=("oberih_office",)))  # an officer of no office
    assert _reason(verifier, token).startswith("claims:")


@pytest.mark.parametrize("token", ["", "junk", "a.b.c", "x" * 9000])
def test_malformed_tokens_are_refused(token: str, verifier: TokenVerifier) -> None:
    assert _reason(verifier, token) in {"malformed", "unknown-key"}


# --- source-register clients ---------------------------------------------------------------------

TAX_ISSUER = "urn:ua:tax:oberih-client"


def _tax_verifier(key: SigningKey) -> TokenVerifier:
    return TokenVerifier([trusted(key, issuer=TAX_ISSUER, source="tax")])


def _client_claims(**extra: Any) -> dict[str, Any]:
    base = {"sub": "tax-gateway", "oberih_role": "source_register", "oberih_source": "tax"}
    return claims({**base, **extra}, issuer=TAX_ISSUER, drop=("oberih_office",))


def test_a_source_register_signs_for_itself() -> None:
    key = SigningKey.es256(kid="tax-1")
    principal = _tax_verifier(key).verify(key.sign(_client_claims()))
    assert (principal.role, principal.source) == (Role.source_register, "tax")


@pytest.mark.parametrize(
    "extra",
    [
        {"oberih_source": "border"},
        {"oberih_role": "registry_admin", "oberih_source": None},
    ],
)
def test_a_source_register_cannot_speak_for_others(extra: dict[str, Any]) -> None:
    key = SigningKey.es256(kid="tax-1")
    token_claims = {k: v for k, v in _client_claims(**extra).items() if v is not None}
    assert _reason(_tax_verifier(key), key.sign(token_claims)) == "issuer-not-entitled"


# --- key sets ------------------------------------------------------------------------------------


def test_a_verifier_needs_an_issuer() -> None:
    with pytest.raises(InsecureConfiguration):
        TokenVerifier([])


@pytest.mark.parametrize(
    ("mutation", "message"),
    [
        ({"kty": "oct", "k": "c2VjcmV0"}, "symmetric"),
        ({"d": "AAAA"}, "private"),
        ({"kid": None}, "kid"),
    ],
)
def test_unsafe_key_sets_are_refused(mutation: dict[str, Any], message: str) -> None:
    jwk = {**SigningKey.es256().public_jwk(), **mutation}
    with pytest.raises(InvalidJwks, match=message):
        verification_keys({"keys": [jwk]}, {"ES256"})


def test_repeated_key_ids_and_empty_sets_are_refused() -> None:
    key = SigningKey.es256()
    with pytest.raises(InvalidJwks, match="twice"):
        verification_keys({"keys": [key.public_jwk(), key.public_jwk()]}, {"ES256"})
    with pytest.raises(InvalidJwks):
        verification_keys({"keys": []}, {"ES256"})
    with pytest.raises(InvalidJwks):
        verification_keys({"not": "a jwks"}, {"ES256"})


def test_keys_of_unpinned_algorithms_and_encryption_keys_are_left_out() -> None:
    es, rs = SigningKey.es256(), SigningKey.rs256()
    encryption = {**SigningKey.es256(kid="enc-1").public_jwk(), "use": "enc"}
    document = {"keys": [es.public_jwk(), rs.public_jwk(), encryption]}
    assert set(verification_keys(document, {"ES256"})) == {"es-1"}


def test_symmetric_or_unknown_algorithms_cannot_be_pinned() -> None:
    with pytest.raises(InvalidJwks):
        trusted(SigningKey.es256(), algorithms=frozenset({"HS256"}))


class _RotatingSource:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.loads = 0

    def load(self) -> dict[str, Any]:
        self.loads += 1
        return self.document


def test_an_unknown_key_id_reloads_the_key_set_at_most_once_per_interval() -> None:
    old, new = SigningKey.es256(kid="2025"), SigningKey.es256(kid="2026")
    source = _RotatingSource(jwks(old))
    clock = [0.0]
    issuer = TrustedIssuer(
        issuer=ISSUER,
        audience=AUDIENCE,
        jwks=source,
        refresh_interval=60,
        monotonic=lambda: clock[0],
    )
    verifier = TokenVerifier([issuer])
    source.document = jwks(old, new)  # the identity provider rotates its key
    clock[0] = 10.0
    assert _reason(verifier, new.sign(claims())) == "unknown-key"  # too soon to reload
    clock[0] = 61.0
    assert verifier.verify(new.sign(claims())).subject == "officer-17"
    assert source.loads == 2


def test_a_broken_reload_keeps_the_keys_we_have() -> None:
    key = SigningKey.es256()
    source = _RotatingSource(jwks(key))
    clock = [0.0]
    issuer = TrustedIssuer(
        issuer=ISSUER,
        audience=AUDIENCE,
        jwks=source,
        refresh_interval=1,
        monotonic=lambda: clock[0],
    )
    source.document = {"keys": []}
    clock[0] = 5.0
    assert issuer.key("unknown") is None
    assert issuer.key(key.kid) is not None


def test_inline_jwks_must_be_json() -> None:
    with pytest.raises(InvalidJwks):
        InlineJwksSource.from_json("{not json")
