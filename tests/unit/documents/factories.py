"""Synthetic signers and documents for the document codec tests (no real personal data)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from oberih.documents import (
    Deferral,
    InMemoryTrustStore,
    RegistrationCategory,
    RegistrationDocumentClaims,
    signer_from_certificate,
)
from oberih.documents.cose import PrivateKey

ISSUED_AT = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)
EXPIRES_AT = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
CERT_FROM = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
CERT_UNTIL = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Signer:
    key: PrivateKey
    certificate_der: bytes

    def trust_store(self, **options: Any) -> InMemoryTrustStore:
        return InMemoryTrustStore([signer_from_certificate(self.certificate_der, **options)])


def make_signer(
    *,
    rsa_bits: int | None = None,
    not_before: dt.datetime = CERT_FROM,
    not_after: dt.datetime = CERT_UNTIL,
) -> Signer:
    """A self-signed document signer: EC P-256 by default, RSA when ``rsa_bits`` is given."""
    key: PrivateKey = (
        rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
        if rsa_bits
        else ec.generate_private_key(ec.SECP256R1())
    )
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Oberih test document signer")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    return Signer(key=key, certificate_der=certificate.public_bytes(serialization.Encoding.DER))


def make_claims(**overrides: Any) -> RegistrationDocumentClaims:
    """A short, ordinary document."""
    fields: dict[str, Any] = {
        "document_id": UUID("0b8f7a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"),
        "issuer": "UA-MOD",
        "issued_at": ISSUED_AT,
        "expires_at": EXPIRES_AT,
        "surname": "Шевчук",
        "given_name": "Петро",
        "patronymic": "Іванович",
        "surname_latin": "Shevchuk",
        "given_name_latin": "Petro",
        "patronymic_latin": "Ivanovych",
        "birth_date": dt.date(1990, 5, 17),
        "category": RegistrationCategory.liable,
        "recruitment_office_code": "UA80-TCC-0117",
    }
    fields.update(overrides)
    return RegistrationDocumentClaims(**fields)


def make_long_claims() -> RegistrationDocumentClaims:
    """A realistically long document: double-barrelled names in both scripts, every optional
    field set, a long recruitment office name and a deferral with its end date."""
    return make_claims(
        surname="Височинська-Новоархангельська",
        given_name="Олександра",
        patronymic="Святославівна",
        surname_latin="Vysochynska-Novoarkhanhelska",
        given_name_latin="Oleksandra",
        patronymic_latin="Sviatoslavivna",
        category=RegistrationCategory.reservist,
        rank="старший лейтенант медичної служби",
        military_specialty="9001001",
        recruitment_office_code="UA12-TCC-0042",
        deferral=Deferral(kind="deferral", ground="art23-p1-3", valid_until=dt.date(2026, 2, 28)),
        data_being_clarified=True,
    )
