import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from oberih.documents.cbor import dumps_deterministic
from oberih.documents.claims import (
    CLAIM_KEYS,
    CWT_EXP,
    CWT_IAT,
    CWT_ISS,
    REGISTRATION_DOCUMENT_CLAIM,
    Deferral,
    RegistrationDocumentClaims,
    claims_from_cwt,
    claims_to_cwt,
    decode_cwt,
)
from oberih.documents.errors import MalformedDocumentError
from tests.unit.documents.factories import ISSUED_AT, make_claims, make_long_claims


def _body(cwt: dict[int, Any]) -> dict[int, Any]:
    body: dict[int, Any] = cwt[REGISTRATION_DOCUMENT_CLAIM][1]
    return body


def test_claim_keys_cover_every_field_but_the_cwt_envelope() -> None:
    envelope = {"issuer", "issued_at", "expires_at"}
    assert set(CLAIM_KEYS) == set(RegistrationDocumentClaims.model_fields) - envelope
    assert len(set(CLAIM_KEYS.values())) == len(CLAIM_KEYS)


@pytest.mark.parametrize("claims", [make_claims(), make_long_claims()])
def test_round_trip_through_the_cwt_claims_map(claims: RegistrationDocumentClaims) -> None:
    assert claims_from_cwt(claims_to_cwt(claims)) == claims


def test_envelope_carries_issuer_and_whole_second_timestamps() -> None:
    cwt = claims_to_cwt(make_claims(issued_at=ISSUED_AT.replace(microsecond=750_000)))
    assert cwt[CWT_ISS] == "UA-MOD"
    assert cwt[CWT_IAT] == int(ISSUED_AT.timestamp())
    assert isinstance(cwt[CWT_EXP], int)
    assert CLAIM_KEYS["category"] in _body(cwt)
    assert CLAIM_KEYS["rank"] not in _body(cwt)  # absent optional fields are left out


def test_document_id_travels_as_sixteen_bytes() -> None:
    claims = make_claims()
    assert _body(claims_to_cwt(claims))[CLAIM_KEYS["document_id"]] == claims.document_id.bytes


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("surname", "Shevchuk"),  # Latin in the Cyrillic field
        ("surname_latin", "Шевчук"),  # Cyrillic in the Latin field
        ("surname_latin", "Shevchuk'"),  # KMU-55 drops the apostrophe
        ("given_name", ""),
        ("birth_date", "17.05.1990"),
        ("expires_at", ISSUED_AT),  # not after issue
        ("issued_at", dt.datetime(2025, 3, 1, 9, 30)),  # naive
        ("recruitment_office_code", "офіс 1"),  # a space is not part of a code
        ("rank", "солдат\u202e"),  # a bidirectional override could disguise the display
        ("rank", "солдат\n"),
        ("military_specialty", "1" * 17),
    ],
)
def test_model_rejects_invalid_fields(field: str, value: object) -> None:
    with pytest.raises(ValidationError):
        make_claims(**{field: value})


def test_deferral_ground_is_a_bounded_code() -> None:
    with pytest.raises(ValidationError):
        Deferral(kind="deferral", ground="a" * 65)
    with pytest.raises(ValidationError):
        Deferral(kind="exemption", ground="art23")  # type: ignore[arg-type]


def test_patronymic_needs_both_scripts() -> None:
    with pytest.raises(ValidationError):
        make_claims(patronymic_latin=None)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (CLAIM_KEYS["data_being_clarified"], 1),  # an integer is not a boolean
        (CLAIM_KEYS["birth_date"], 643_593_600),  # a timestamp is not an ISO date
        (CLAIM_KEYS["category"], 9),  # unknown category code
        (CLAIM_KEYS["category"], True),  # bool is not the code 1
        (CLAIM_KEYS["document_id"], "0b8f7a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"),  # text, not bytes
        (CLAIM_KEYS["surname"], ["Шевчук"]),
        (99, "x"),  # unknown key
        ("issuer", "smuggled"),  # a field name instead of a key
        (15.0, "x"),  # a float key
    ],
)
def test_decoding_rejects_tampered_claims(key: object, value: object) -> None:
    cwt = claims_to_cwt(make_claims())
    _body(cwt)[key] = value  # type: ignore[index]
    with pytest.raises(MalformedDocumentError):
        claims_from_cwt(cwt)


def test_decoding_names_failing_fields_but_not_their_values() -> None:
    cwt = claims_to_cwt(make_claims())
    _body(cwt)[CLAIM_KEYS["surname"]] = "Secret"
    with pytest.raises(MalformedDocumentError, match="surname") as caught:
        claims_from_cwt(cwt)
    assert "Secret" not in str(caught.value)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda cwt: cwt.pop(CWT_IAT),
        lambda cwt: cwt.update({CWT_EXP: "tomorrow"}),
        lambda cwt: cwt.update({CWT_EXP: True}),
        lambda cwt: cwt.update({CWT_ISS: 7}),
        lambda cwt: cwt.update({REGISTRATION_DOCUMENT_CLAIM: {2: {}}}),
        lambda cwt: cwt.update({REGISTRATION_DOCUMENT_CLAIM: []}),
        lambda cwt: cwt.update(
            {REGISTRATION_DOCUMENT_CLAIM: {True: cwt[REGISTRATION_DOCUMENT_CLAIM][1]}}
        ),
    ],
)
def test_decoding_rejects_a_broken_envelope(tamper: Any) -> None:
    cwt = claims_to_cwt(make_claims())
    tamper(cwt)
    with pytest.raises(MalformedDocumentError):
        claims_from_cwt(cwt)


@pytest.mark.parametrize("key", [1.0, True, b"\x01"])  # each would pass for iss (1)
def test_cwt_claim_keys_must_be_integers_or_text(key: object) -> None:
    cwt: dict[object, Any] = dict(claims_to_cwt(make_claims()))
    cwt[key] = cwt.pop(CWT_ISS)
    with pytest.raises(MalformedDocumentError):
        decode_cwt(dumps_deterministic(cwt))
