"""Test support for oberih.auth: signing keys, their JWKS and tokens (synthetic only)."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from oberih.auth.tokens import InlineJwksSource, TrustedIssuer

ISSUER = "https://idp.test.oberih.example/realms/oberih"
AUDIENCE = "oberih-api"

OFFICER_CLAIMS: dict[str, Any] = {
    "sub": "officer-17",
    "oberih_role": "tcc_officer",
    "oberih_office": "TCC-UA46-03",
}


@dataclass
class SigningKey:
    kid: str
    algorithm: str
    private_key: Any

    @classmethod
    def es256(cls, kid: str = "es-1") -> SigningKey:
        return cls(kid, "ES256", ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def eddsa(cls, kid: str = "ed-1") -> SigningKey:
        return cls(kid, "EdDSA", ed25519.Ed25519PrivateKey.generate())

    @classmethod
    def rs256(cls, kid: str = "rs-1") -> SigningKey:
        return cls(kid, "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def public_jwk(self) -> dict[str, Any]:
        public = self.private_key.public_key()
        converter: Any = {"ES256": ECAlgorithm, "EdDSA": OKPAlgorithm, "RS256": RSAAlgorithm}[
            self.algorithm
        ]
        jwk: dict[str, Any] = converter.to_jwk(public, as_dict=True)
        return {**jwk, "kid": self.kid, "use": "sig"}

    def sign(self, claims: dict[str, Any], *, headers: dict[str, Any] | None = None) -> str:
        return jwt.encode(
            claims,
            self.private_key,
            algorithm=self.algorithm,
            headers={"kid": self.kid, **(headers or {})},
        )


def jwks(*keys: SigningKey) -> dict[str, Any]:
    return {"keys": [key.public_jwk() for key in keys]}


def trusted(
    *keys: SigningKey,
    issuer: str = ISSUER,
    algorithms: frozenset[str] = frozenset({"ES256", "EdDSA"}),
    **options: Any,
) -> TrustedIssuer:
    return TrustedIssuer(
        issuer=issuer,
        audience=AUDIENCE,
        jwks=InlineJwksSource(jwks(*keys)),
        algorithms=algorithms,
        **options,
    )


def claims(
    extra: dict[str, Any] | None = None,
    *,
    issued: float | None = None,
    lifetime: int = 600,
    issuer: str = ISSUER,
    drop: tuple[str, ...] = (),
) -> dict[str, Any]:
    issued_at = int(issued if issued is not None else time.time())
    document: dict[str, Any] = {
        "iss": issuer,
        "aud": AUDIENCE,
        "iat": issued_at,
        "exp": issued_at + lifetime,
        "jti": uuid.uuid4().hex,
        **OFFICER_CLAIMS,
        **(extra or {}),
    }
    return {name: value for name, value in document.items() if name not in drop}


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
