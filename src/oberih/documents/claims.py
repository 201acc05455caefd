"""What a registration document says, and how it sits inside a CWT (RFC 8392).

CWT claims map (the COSE payload), all integer keys::

    1 (iss)  issuer, text               -> RegistrationDocumentClaims.issuer
    4 (exp)  NumericDate, integer        -> expires_at
    6 (iat)  NumericDate, integer        -> issued_at
    -65537   {1: {claim set, CLAIM_KEYS}} -> everything else

Why -65537: RFC 8392 §9.1 reserves claim keys below -65536 for private use. -260 is the EU
DCC's ``hcert`` and -261, the value next to it, is registered at IANA to GlobalPlatform
(``globalplatform_component``), so a key in the private range cannot collide with a real
claim. Inside it, key 1 names version 1 of our claim set, mirroring HCERT's ``-260: {1: dcc}``:
a later incompatible version gets key 2 and verifiers can tell them apart.

The QR must stay at or below version 20 (``qr.MAX_QR_VERSION``), and after the 64-byte
signature the payload has roughly 380 bytes, most of them names in two scripts (Cyrillic takes
two bytes a letter in UTF-8). Hence the compact choices:

* integer map keys (``CLAIM_KEYS``, ``DEFERRAL_KEYS``), as CWT does for its own claims: one
  byte each where DCC-style text keys take three or four;
* the document id is a UUID carried as its 16 raw bytes (a byte string), not 36 characters;
* closed lists travel as codes, the way the DCC carries vaccine and test codes and verifiers
  resolve them through published value sets: the recruitment office is its code (as the
  register stores it), the deferral ground its code; category and deferral kind are small
  integers (``CATEGORY_CODES``, ``DEFERRAL_KIND_CODES``);
* issuer and the two timestamps live only in the standard claims, not twice;
* dates are ISO ``YYYY-MM-DD`` text, never CBOR tags.

Free text remains for what has no list: the names, in Cyrillic and in KMU-55 Latin (both are
signed as printed: a verifier must not re-derive the Latin form), and the rank.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from oberih.documents.cbor import CborLimits, loads_plain
from oberih.documents.errors import MalformedDocumentError

CWT_ISS = 1
CWT_EXP = 4
CWT_NBF = 5
CWT_IAT = 6
HCERT_CLAIM = -260  # EU DCC (HCERT spec §2.6.3), IANA-registered
HCERT_V1 = 1
REGISTRATION_DOCUMENT_CLAIM = -65537  # private use, RFC 8392 §9.1 (see module doc)
REGISTRATION_DOCUMENT_V1 = 1

# The CWT claims map: a few claims, the DCC payload inside nests about six levels deep.
# Tags 0/1 (date-times) appear inside some national DCC payloads; our claims use none.
PAYLOAD_LIMITS = CborLimits(max_depth=12, max_items=2048, allowed_tags=frozenset({0, 1}))

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Cyrillic block plus the three apostrophes used in Ukrainian names (', ’, ʼ).
CYRILLIC_NAME = r"^[\u0400-\u04FF'\u2019\u02BC]+(?:[ -][\u0400-\u04FF'\u2019\u02BC]+)*$"
# KMU Resolution No. 55 of 27.01.2010: Latin letters only; apostrophe and soft sign dropped.
LATIN_NAME = r"^[A-Za-z]+(?:[ -][A-Za-z]+)*$"


def _iso_date(value: object) -> object:
    """Dates travel as ISO text; refuse the timestamps and other forms pydantic would coerce."""
    if isinstance(value, dt.datetime):
        raise ValueError("expected a date, not a date-time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        return value
    raise ValueError("expected an ISO date YYYY-MM-DD")


def _whole_seconds_utc(value: dt.datetime) -> dt.datetime:
    # NumericDate is whole seconds; normalising here makes issue -> verify round-trip exact.
    return value.astimezone(dt.UTC).replace(microsecond=0)


# Free text shown to a verifier: letters of both scripts, digits and plain punctuation only,
# so no control or bidirectional-override characters can disguise what is displayed.
DISPLAY_TEXT = (
    r"^[0-9A-Za-z\u0400-\u04FF'\u2019\u02BC][0-9A-Za-z\u0400-\u04FF'\u2019\u02BC .,()-]*$"
)

IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
Code = Annotated[
    str, Field(min_length=1, pattern=r"^[0-9A-Za-z\u0400-\u04FF][0-9A-Za-z\u0400-\u04FF._:/-]*$")
]
CyrillicName = Annotated[str, Field(min_length=1, max_length=100, pattern=CYRILLIC_NAME)]
LatinName = Annotated[str, Field(min_length=1, max_length=100, pattern=LATIN_NAME)]


class RegistrationCategory(StrEnum):
    """Category of military registration (CMU Resolution No. 1487 of 30.12.2022, the
    Procedure of military registration of conscripts, persons liable for military service
    and reservists); the same values as ``persons`` uses."""

    conscript = "conscript"
    liable = "liable"
    reservist = "reservist"
    removed = "removed"
    excluded = "excluded"


class Deferral(BaseModel):
    """A deferral (Law 3543-XII art. 23) or a reservation (Law 3543-XII art. 25)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["deferral", "reservation"]
    ground: Code = Field(max_length=64)  # the ground's code, as persons.DeferralPayload
    valid_until: IsoDate | None = None


class RegistrationDocumentClaims(BaseModel):
    """The claims of one electronic registration document, validated field by field."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    document_id: UUID
    issuer: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._:/-]{1,63}$")
    issued_at: AwareDatetime
    expires_at: AwareDatetime
    surname: CyrillicName
    given_name: CyrillicName
    patronymic: CyrillicName | None = None
    surname_latin: LatinName
    given_name_latin: LatinName
    patronymic_latin: LatinName | None = None
    birth_date: IsoDate
    category: RegistrationCategory
    rank: str | None = Field(default=None, min_length=1, max_length=60, pattern=DISPLAY_TEXT)
    military_specialty: Code | None = Field(default=None, max_length=16)  # ВОС code
    recruitment_office_code: Code = Field(max_length=16)  # as persons stores office_code
    deferral: Deferral | None = None
    data_being_clarified: StrictBool = False

    @field_validator("issued_at", "expires_at")
    @classmethod
    def _numeric_date(cls, value: dt.datetime) -> dt.datetime:
        return _whole_seconds_utc(value)

    @model_validator(mode="after")
    def _dates_in_order(self) -> RegistrationDocumentClaims:
        if self.expires_at <= self.issued_at:
            raise ValueError("expires_at must be after issued_at")
        if self.birth_date >= self.issued_at.date():
            raise ValueError("birth_date must be before issued_at")
        if (self.patronymic is None) != (self.patronymic_latin is None):
            raise ValueError("patronymic needs both its Cyrillic and Latin forms")
        return self


_ENVELOPE_FIELDS = frozenset({"issuer", "issued_at", "expires_at"})

# Map keys of claim set version 1. Never renumber or reuse a key: add new ones at the end.
CLAIM_KEYS: dict[str, int] = {
    "document_id": 1,
    "surname": 2,
    "given_name": 3,
    "patronymic": 4,
    "surname_latin": 5,
    "given_name_latin": 6,
    "patronymic_latin": 7,
    "birth_date": 8,
    "category": 9,
    "rank": 10,
    "military_specialty": 11,
    "recruitment_office_code": 12,
    "deferral": 13,
    "data_being_clarified": 14,
}
DEFERRAL_KEYS: dict[str, int] = {"kind": 1, "ground": 2, "valid_until": 3}
CATEGORY_CODES: dict[str, int] = {
    RegistrationCategory.conscript: 1,
    RegistrationCategory.liable: 2,
    RegistrationCategory.reservist: 3,
    RegistrationCategory.removed: 4,
    RegistrationCategory.excluded: 5,
}
DEFERRAL_KIND_CODES: dict[str, int] = {"deferral": 1, "reservation": 2}
_CLAIM_NAMES = {key: name for name, key in CLAIM_KEYS.items()}
_DEFERRAL_NAMES = {key: name for name, key in DEFERRAL_KEYS.items()}


@dataclass(frozen=True, slots=True)
class CwtEnvelope:
    """The standard CWT claims every document carries (RFC 8392 §3.1)."""

    issuer: str | None
    issued_at: dt.datetime
    expires_at: dt.datetime
    not_before: dt.datetime | None = None


def _numeric_date(cwt: Mapping[Any, Any], key: int, *, required: bool) -> dt.datetime | None:
    value = cwt.get(key)
    if value is None and not required:
        return None
    # RFC 8392 §2: an integer or floating-point epoch time (some DCC issuers send floats);
    # we issue integers. bool is an int subclass in Python and is refused.
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise MalformedDocumentError(f"CWT claim {key} must be a NumericDate")
    try:
        return dt.datetime.fromtimestamp(value, dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise MalformedDocumentError(f"CWT claim {key} out of range") from None


def parse_envelope(cwt: Mapping[Any, Any]) -> CwtEnvelope:
    """Read iss/iat/exp/nbf from a decoded claims map; raises ``MalformedDocumentError``."""
    issuer = cwt.get(CWT_ISS)
    if issuer is not None and not isinstance(issuer, str):
        raise MalformedDocumentError("CWT iss must be text")
    issued_at = _numeric_date(cwt, CWT_IAT, required=True)
    expires_at = _numeric_date(cwt, CWT_EXP, required=True)
    assert issued_at is not None and expires_at is not None  # required=True never gives None
    return CwtEnvelope(
        issuer=issuer,
        issued_at=issued_at,
        expires_at=expires_at,
        not_before=_numeric_date(cwt, CWT_NBF, required=False),
    )


def decode_cwt(payload: bytes) -> dict[Any, Any]:
    """Decode the (already signature-checked) COSE payload into a plain claims map."""
    cwt = loads_plain(payload, PAYLOAD_LIMITS)
    if not isinstance(cwt, dict):
        raise MalformedDocumentError("CWT claims are not a map")
    # RFC 8392 §3: claim keys are integers or text. Python would let 4.0 or True stand for 4
    # or 1 in a lookup; exact types keep one reading of every key.
    if not all(type(key) in (int, str) for key in cwt):
        raise MalformedDocumentError("CWT claim key is neither an integer nor text")
    return cwt


def _versioned_claim(cwt: Mapping[Any, Any], claim: int, version: int) -> Mapping[Any, Any]:
    container = cwt.get(claim)
    if not isinstance(container, Mapping) or [*container] != [version] or _not_int(container):
        raise MalformedDocumentError(f"CWT claim {claim} must be a map {{{version}: ...}}")
    body = container[version]
    if not isinstance(body, Mapping):
        raise MalformedDocumentError(f"CWT claim {claim}/{version} is not a map")
    return body


def _not_int(mapping: Mapping[Any, Any]) -> bool:
    return any(type(key) is not int for key in mapping)


def _keyed(fields: Mapping[str, Any], keys: Mapping[str, int]) -> dict[int, Any]:
    return {keys[name]: value for name, value in fields.items()}


def _named(body: Mapping[Any, Any], names: Mapping[int, str], what: str) -> dict[str, Any]:
    named = {}
    for key, value in body.items():
        if type(key) is not int or key not in names:  # refuses "issuer", 2.0, True
            raise MalformedDocumentError(f"unknown key in the {what}")
        named[names[key]] = value
    return named


def _decoded_code(value: Any, codes: Mapping[str, int], what: str) -> str:
    for name, code in codes.items():
        if value == code and type(value) is int:
            return name
    raise MalformedDocumentError(f"unknown {what} code")


def _decoded_uuid(value: Any) -> UUID:
    if not isinstance(value, bytes) or len(value) != 16:
        raise MalformedDocumentError("document id must be 16 bytes")
    return UUID(bytes=value)


def claims_to_cwt(claims: RegistrationDocumentClaims) -> dict[int, Any]:
    """The CWT claims map for a document (see the module doc for its layout)."""
    fields = claims.model_dump(mode="json", exclude=set(_ENVELOPE_FIELDS), exclude_defaults=True)
    fields["document_id"] = claims.document_id.bytes
    fields["category"] = CATEGORY_CODES[claims.category]
    if claims.deferral is not None:
        deferral = fields["deferral"]
        deferral["kind"] = DEFERRAL_KIND_CODES[claims.deferral.kind]
        fields["deferral"] = _keyed(deferral, DEFERRAL_KEYS)
    return {
        CWT_ISS: claims.issuer,
        CWT_EXP: int(claims.expires_at.timestamp()),
        CWT_IAT: int(claims.issued_at.timestamp()),
        REGISTRATION_DOCUMENT_CLAIM: {REGISTRATION_DOCUMENT_V1: _keyed(fields, CLAIM_KEYS)},
    }


def _claim_fields(body: Mapping[Any, Any]) -> dict[str, Any]:
    fields = _named(body, _CLAIM_NAMES, "registration document claims")
    if "document_id" in fields:
        fields["document_id"] = _decoded_uuid(fields["document_id"])
    if "category" in fields:
        fields["category"] = _decoded_code(fields["category"], CATEGORY_CODES, "category")
    deferral = fields.get("deferral")
    if isinstance(deferral, Mapping):
        deferral = _named(deferral, _DEFERRAL_NAMES, "deferral claims")
        if "kind" in deferral:
            deferral["kind"] = _decoded_code(deferral["kind"], DEFERRAL_KIND_CODES, "deferral")
        fields["deferral"] = deferral
    return fields


def claims_from_cwt(
    cwt: Mapping[Any, Any], envelope: CwtEnvelope | None = None
) -> RegistrationDocumentClaims:
    """Validate a decoded claims map into ``RegistrationDocumentClaims`` (``envelope``: its
    ``parse_envelope``, when the caller has it already).

    Raises ``MalformedDocumentError`` naming the failing fields only (values are personal data).
    """
    envelope = envelope or parse_envelope(cwt)
    body = _versioned_claim(cwt, REGISTRATION_DOCUMENT_CLAIM, REGISTRATION_DOCUMENT_V1)
    fields = _claim_fields(body)
    try:
        return RegistrationDocumentClaims.model_validate(
            {
                **fields,
                "issuer": envelope.issuer,
                "issued_at": envelope.issued_at,
                "expires_at": envelope.expires_at,
            }
        )
    except ValidationError as exc:
        failing = sorted({".".join(str(p) for p in err["loc"]) for err in exc.errors()})
        raise MalformedDocumentError(f"invalid claims: {', '.join(failing)}") from None


def hcert_payload(cwt: Mapping[Any, Any]) -> Mapping[str, Any]:
    """The EU DCC payload in a claims map, ``-260: {1: dcc}``; its schema is not checked."""
    dcc = _versioned_claim(cwt, HCERT_CLAIM, HCERT_V1)
    if not all(isinstance(key, str) for key in dcc):
        raise MalformedDocumentError("DCC payload keys must be text")
    return dcc


def dcc_from_cwt(cwt: Mapping[Any, Any]) -> Mapping[str, Any]:
    """The EU DCC payload of an HC1 document, after checking its iat/exp claims."""
    parse_envelope(cwt)
    return hcert_payload(cwt)
