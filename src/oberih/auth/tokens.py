"""Bearer tokens: JWTs verified against configured issuers and their JWKS (OIDC-compatible).

A token is accepted only when all of these hold (RFC 7519, RFC 8725 "JWT Best Current Practices"):
- its header names a key id (``kid``) found in the JWKS of the issuer named by its ``iss``;
- the key's algorithm is one of the pinned asymmetric algorithms (ES256, EdDSA, RS256): the
  algorithm comes from our configuration and the key, never from the token, so ``alg: none`` and
  HS* (including HMAC keyed with the public key) cannot verify;
- the signature verifies; ``iss`` and ``aud`` are ours; ``exp``, ``iat`` and ``sub`` are present,
  the token is not expired and not from the future, with a small clock-skew leeway;
- its lifetime (``exp - iat``) is within the configured maximum;
- its claims describe a principal that fits its role (``principals.principal_from_claims``) and
  that its issuer may vouch for (a source register's own issuer speaks only for that register).

Keys come from a ``JwksSource``. Here, with no network at run time, the sources are a file and
inline JSON; a real identity provider usually publishes its JWKS at ``jwks_uri`` (OIDC Discovery),
and an ``HttpJwksSource`` would implement the same ``load()`` by fetching that URL with a cache
(honouring ``Cache-Control``) and a timeout. ``TrustedIssuer`` already reloads its source when a
token names an unknown ``kid`` (at most once per ``refresh_interval``), which is how key rotation
reaches us from any source.

A verified token is remembered (``TokenVerifier``, keyed by the whole token) for at most
``cache_seconds`` and never past its ``exp``: a client sends the same token with every request
for its lifetime, and checking an ES256 signature and decoding the JWT twice was the largest
CPU cost of a request. Only successful verifications are remembered, so a refused token is
checked again each time.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import jwt

from oberih.auth.errors import NotAuthenticated
from oberih.auth.principals import (
    SOURCE_REGISTERS,
    InvalidPrincipal,
    Principal,
    Role,
    principal_from_claims,
)
from oberih.config import ACCEPTED_TOKEN_ALGORITHMS, InsecureConfiguration, Settings

logger = logging.getLogger("oberih.auth")

REQUIRED_CLAIMS = ("iss", "aud", "sub", "exp", "iat")
MAX_TOKEN_BYTES = 8192  # far above any real token; stops parsing of junk early
DEFAULT_REFRESH_INTERVAL = 60.0  # seconds between JWKS reloads caused by unknown key ids
VERIFIED_CACHE_SIZE = 4096  # tokens remembered per process (least recently used dropped)
VERIFIED_CACHE_SECONDS = 60.0
DEVELOPMENT_AUDIENCE = "oberih-development"  # only when OBERIH_OIDC_AUDIENCE is unset (dev/test)

# PyJWT's exceptions, mapped to the stable reason codes of NotAuthenticated (most specific first).
_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "expired"),
    (jwt.ImmatureSignatureError, "not-yet-valid"),
    (jwt.InvalidAudienceError, "audience"),
    (jwt.InvalidIssuerError, "issuer"),
    (jwt.MissingRequiredClaimError, "missing-claim"),
    (jwt.InvalidSignatureError, "signature"),
    (jwt.InvalidAlgorithmError, "algorithm"),
)


class InvalidJwks(ValueError):
    """A key set we refuse to verify with (a configuration error, raised at start-up)."""


class JwksSource(Protocol):
    """Where an issuer's public keys come from: returns a JWKS document (RFC 7517 section 5)."""

    def load(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class FileJwksSource:
    path: Path

    def load(self) -> Mapping[str, Any]:
        try:
            document: Mapping[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidJwks(
                f"cannot read JWKS file {self.path}: {exc.__class__.__name__}"
            ) from None
        return document


@dataclass(frozen=True, slots=True)
class InlineJwksSource:
    document: Mapping[str, Any]

    @classmethod
    def from_json(cls, text: str) -> InlineJwksSource:
        try:
            return cls(json.loads(text))
        except ValueError:
            raise InvalidJwks("inline JWKS is not JSON") from None

    def load(self) -> Mapping[str, Any]:
        return self.document


def verification_keys(
    document: Mapping[str, Any], algorithms: Iterable[str]
) -> dict[str, jwt.PyJWK]:
    """The signing keys of a JWKS by key id, keeping only keys of the pinned algorithms.

    Refuses (``InvalidJwks``) symmetric keys, private key material, keys without ``kid``, repeated
    ``kid``s and a set with no usable key: each means the configuration is wrong.
    """
    pinned = frozenset(algorithms)
    raw_keys = document.get("keys") if isinstance(document, Mapping) else None
    if not isinstance(raw_keys, list):
        raise InvalidJwks("a JWKS is an object with a 'keys' list")
    keys: dict[str, jwt.PyJWK] = {}
    for raw in raw_keys:
        parsed = _verification_key(raw, pinned)
        if parsed is None:
            continue
        kid, key = parsed
        if kid in keys:
            raise InvalidJwks(f"key id {kid!r} appears twice")
        keys[kid] = key
    if not keys:
        raise InvalidJwks(f"no signing key for the pinned algorithms {sorted(pinned)}")
    return keys


def _verification_key(raw: Any, pinned: frozenset[str]) -> tuple[str, jwt.PyJWK] | None:
    if not isinstance(raw, dict):
        raise InvalidJwks("every JWKS member must be an object")
    kid = raw.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidJwks("every key needs a 'kid'")
    if raw.get("kty") == "oct":
        raise InvalidJwks(f"key {kid!r} is symmetric; only public keys are accepted")
    if "d" in raw or "p" in raw:
        raise InvalidJwks(f"key {kid!r} contains private key material")
    if raw.get("use", "sig") != "sig":
        return None  # an encryption key published alongside: not ours to use
    try:
        key = jwt.PyJWK.from_dict(raw)
    except jwt.PyJWTError:
        raise InvalidJwks(f"key {kid!r} is not a usable key") from None
    if key.algorithm_name not in pinned:
        return None  # e.g. an RS384 key when RS384 is not pinned
    return kid, key


@dataclass
class TrustedIssuer:
    """An issuer whose tokens we accept, with its keys and what it may vouch for.

    ``source`` set: the issuer of one source register's client tokens, which may speak only for
    that register (role ``source_register`` with ``oberih_source`` equal to it). ``roles`` set:
    the only roles this issuer may grant. Neither set: the identity provider, any role.
    """

    issuer: str
    audience: str
    jwks: JwksSource
    algorithms: frozenset[str] = frozenset({"ES256", "EdDSA"})
    source: str | None = None
    roles: frozenset[Role] | None = None
    refresh_interval: float = DEFAULT_REFRESH_INTERVAL
    monotonic: Callable[[], float] = time.monotonic
    _keys: dict[str, jwt.PyJWK] = field(init=False, repr=False)
    _loaded_at: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        refused = self.algorithms - ACCEPTED_TOKEN_ALGORITHMS
        if refused or not self.algorithms:
            raise InvalidJwks(f"algorithms {sorted(refused)} are not accepted")
        self._keys = verification_keys(self.jwks.load(), self.algorithms)
        self._loaded_at = self.monotonic()

    def key(self, kid: str) -> jwt.PyJWK | None:
        if kid not in self._keys and self._may_refresh():
            self._refresh()
        return self._keys.get(kid)

    def may_vouch_for(self, principal: Principal) -> bool:
        if self.source is not None:
            return principal.role is Role.source_register and principal.source == self.source
        return self.roles is None or principal.role in self.roles

    def _may_refresh(self) -> bool:
        return self.monotonic() - self._loaded_at >= self.refresh_interval

    def _refresh(self) -> None:
        self._loaded_at = self.monotonic()
        try:
            self._keys = verification_keys(self.jwks.load(), self.algorithms)
        except InvalidJwks as exc:
            # Keep verifying with the keys we have; a broken reload must not lock everyone out.
            logger.warning("JWKS reload for %s failed: %s", self.issuer, exc)


class TokenVerifier:
    """Turns a bearer token into a ``Principal`` or raises ``NotAuthenticated``."""

    def __init__(
        self,
        issuers: Iterable[TrustedIssuer],
        *,
        leeway_seconds: int = 30,
        max_lifetime_seconds: int = 3600,
        cache_size: int = VERIFIED_CACHE_SIZE,
        cache_seconds: float = VERIFIED_CACHE_SECONDS,
        wall_clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._issuers = {trusted.issuer: trusted for trusted in issuers}
        if not self._issuers:
            raise InsecureConfiguration(["no token issuer is configured"])
        self.leeway_seconds = leeway_seconds
        self.max_lifetime_seconds = max_lifetime_seconds
        self.cache_size = cache_size
        self.cache_seconds = cache_seconds
        self._wall_clock = wall_clock  # PyJWT checks exp against time.time() too
        self._monotonic = monotonic
        self._verified: OrderedDict[str, _Verified] = OrderedDict()

    @property
    def issuers(self) -> tuple[str, ...]:
        return tuple(self._issuers)

    def verify(self, token: str) -> Principal:
        remembered = self._remembered(token)
        if remembered is not None:
            return remembered
        principal, expires = self._verify(token)
        if self.cache_size > 0:
            until = min(expires + self.leeway_seconds, self._wall_clock() + self.cache_seconds)
            self._verified[token] = _Verified(
                principal, until, self._monotonic() + self.cache_seconds
            )
            if len(self._verified) > self.cache_size:
                self._verified.popitem(last=False)
        return principal

    def _remembered(self, token: str) -> Principal | None:
        # No lock: each dict operation is atomic, and a race only costs a verification.
        verified = self._verified.get(token)
        if verified is None:
            return None
        # The same rule as PyJWT's: expired once exp + leeway is reached.
        if self._wall_clock() >= verified.valid_until or self._monotonic() >= verified.forget_at:
            self._verified.pop(token, None)
            return None
        with contextlib.suppress(KeyError):
            self._verified.move_to_end(token)
        return verified.principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        if not token or len(token) > MAX_TOKEN_BYTES:
            raise NotAuthenticated("malformed")
        kid = _key_id(token)
        trusted = self._issuer_of(token)
        key = trusted.key(kid)
        if key is None:
            raise NotAuthenticated("unknown-key")
        claims = self._verified_claims(token, trusted, key)
        self._check_lifetime(claims)
        try:
            principal = principal_from_claims(claims)
        except InvalidPrincipal as exc:
            raise NotAuthenticated(f"claims: {exc.reason}") from None
        if not trusted.may_vouch_for(principal):
            raise NotAuthenticated("issuer-not-entitled")
        return principal, float(claims["exp"])

    def _issuer_of(self, token: str) -> TrustedIssuer:
        # Reading iss before verifying only chooses which keys to verify with (RFC 8725 3.8).
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise NotAuthenticated("malformed") from None
        issuer = unverified.get("iss")
        trusted = self._issuers.get(issuer) if isinstance(issuer, str) else None
        if trusted is None:
            raise NotAuthenticated("issuer")
        return trusted

    def _verified_claims(
        self, token: str, trusted: TrustedIssuer, key: jwt.PyJWK
    ) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key=key,
                algorithms=[key.algorithm_name],  # from our key, never from the token header
                audience=trusted.audience,
                issuer=trusted.issuer,
                leeway=self.leeway_seconds,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.PyJWTError as exc:
            raise NotAuthenticated(_reason(exc)) from None

    def _check_lifetime(self, claims: Mapping[str, Any]) -> None:
        issued_at, expires = claims["iat"], claims["exp"]
        if not all(isinstance(value, int | float) for value in (issued_at, expires)):
            raise NotAuthenticated("malformed")
        if expires - issued_at > self.max_lifetime_seconds:
            raise NotAuthenticated("lifetime")


@dataclass(frozen=True, slots=True)
class _Verified:
    principal: Principal
    valid_until: float  # wall clock: exp plus the leeway, or the cache's limit if sooner
    forget_at: float  # monotonic: cache_seconds after the verification


def _key_id(token: str) -> str:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise NotAuthenticated("malformed") from None
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise NotAuthenticated("unknown-key")
    return kid


def _reason(exc: jwt.PyJWTError) -> str:
    for exception_type, reason in _REASONS:
        if isinstance(exc, exception_type):
            return reason
    return "invalid"


def register_audience(settings: Settings) -> str:
    """The ``aud`` the register expects (validated as set outside development)."""
    return settings.oidc_audience or DEVELOPMENT_AUDIENCE


def identity_provider(settings: Settings) -> TrustedIssuer | None:
    """The configured identity provider, if any (``OBERIH_OIDC_*``)."""
    if not settings.oidc_issuer:
        return None
    source: JwksSource
    if settings.oidc_jwks_file is not None:
        source = FileJwksSource(settings.oidc_jwks_file)
    elif settings.oidc_jwks_json is not None:
        source = InlineJwksSource.from_json(settings.oidc_jwks_json)
    else:
        raise InsecureConfiguration(["OBERIH_OIDC_ISSUER is set without a JWKS"])
    return TrustedIssuer(
        issuer=settings.oidc_issuer,
        audience=register_audience(settings),
        jwks=source,
        algorithms=frozenset(settings.oidc_algorithms),
    )


def source_register_clients(settings: Settings) -> list[TrustedIssuer]:
    """The source registers that sign their own client tokens (``OBERIH_SOURCE_CLIENTS_FILE``).

    The file is a JSON list of ``{"issuer": ..., "source": "tax", "jwks": {...}}`` or with
    ``"jwks_file"`` (relative to the list's directory) instead of ``"jwks"``.
    """
    path = settings.source_clients_file
    if path is None:
        return []
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidJwks(f"cannot read {path}: {exc.__class__.__name__}") from None
    if not isinstance(entries, list):
        raise InvalidJwks(f"{path} must hold a JSON list of source-register clients")
    return [_source_client(entry, base=path.parent, settings=settings) for entry in entries]


def _source_client(entry: Any, *, base: Path, settings: Settings) -> TrustedIssuer:
    if not isinstance(entry, dict) or not {"issuer", "source"} <= entry.keys():
        raise InvalidJwks("each source-register client needs 'issuer' and 'source'")
    if entry["source"] not in SOURCE_REGISTERS:
        raise InvalidJwks(f"unknown source register {entry['source']!r}")
    source: JwksSource
    if "jwks_file" in entry:
        source = FileJwksSource(base / str(entry["jwks_file"]))
    else:
        source = InlineJwksSource(entry.get("jwks") or {})
    return TrustedIssuer(
        issuer=str(entry["issuer"]),
        audience=register_audience(settings),
        jwks=source,
        algorithms=frozenset(settings.oidc_algorithms),
        source=str(entry["source"]),
    )


def build_token_verifier(settings: Settings) -> TokenVerifier:
    """The verifier the service uses; refuses to build an insecure one (composition root only).

    Outside development: the identity provider (required) and any source-register clients.
    In development and test: those if configured, plus the local development issuer.
    """
    settings.validate_for_production()
    issuers = [trusted for trusted in [identity_provider(settings)] if trusted is not None]
    issuers.extend(source_register_clients(settings))
    if settings.is_development:
        from oberih.auth.development import development_issuer

        issuers.append(development_issuer(settings).trusted_issuer())
    return TokenVerifier(
        issuers,
        leeway_seconds=settings.oidc_leeway_seconds,
        max_lifetime_seconds=settings.oidc_max_token_lifetime_seconds,
    )
