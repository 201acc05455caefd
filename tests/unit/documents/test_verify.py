import dataclasses
import datetime as dt
import zlib
from collections.abc import Callable

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oberih.documents import (
    DocumentContext,
    InMemoryRevocationList,
    InMemoryTrustStore,
    Reason,
    RegistrationDocumentClaims,
    Verdict,
    issue,
    kid_for_certificate,
    signer_from_certificate,
    verify,
)
from oberih.documents.cbor import dumps_deterministic
from oberih.documents.claims import CLAIM_KEYS, REGISTRATION_DOCUMENT_CLAIM, claims_to_cwt
from oberih.documents.codec import add_prefix, base45_encode, decode_code, encode_code
from oberih.documents.cose import decode_sign1, encode_sign1
from tests.unit.documents.factories import (
    EXPIRES_AT,
    ISSUED_AT,
    Signer,
    make_claims,
    make_long_claims,
    make_signer,
)

BASE45_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
SIGNER = make_signer()
DURING = ISSUED_AT + dt.timedelta(days=30)


def _issue(claims: RegistrationDocumentClaims | None = None, signer: Signer = SIGNER) -> str:
    claims = claims or make_claims()
    return issue(claims, signer_key=signer.key, signer_cert_der=signer.certificate_der)


def _verify(
    code: str,
    *,
    signer: Signer = SIGNER,
    at: dt.datetime = DURING,
    revoked: InMemoryRevocationList | None = None,
) -> Verdict:
    return verify(code, trust=signer.trust_store(), revoked=revoked, at=at)


def _signed_payload(payload: bytes, signer: Signer = SIGNER) -> str:
    """A code whose COSE payload is ``payload``, correctly signed by a trusted key."""
    kid = kid_for_certificate(signer.certificate_der)
    return encode_code(DocumentContext.registration, encode_sign1(payload, key=signer.key, kid=kid))


def _recoded(code: str, change: Callable[[bytes], bytes]) -> str:
    context, cose_bytes = decode_code(code)
    return encode_code(context, change(cose_bytes))


def test_issue_then_verify_gives_back_the_claims() -> None:
    claims = make_long_claims()
    verdict = _verify(_issue(claims))
    assert verdict.valid and verdict.reason is Reason.ok
    assert verdict.claims == claims
    assert verdict.context is DocumentContext.registration
    assert verdict.kid == kid_for_certificate(SIGNER.certificate_der)


def test_ps256_documents_verify() -> None:
    rsa_signer = make_signer(rsa_bits=2048)
    verdict = _verify(_issue(signer=rsa_signer), signer=rsa_signer)
    assert verdict.reason is Reason.ok


def test_a_changed_claim_under_the_old_signature_is_a_bad_signature() -> None:
    def extend_expiry(cose_bytes: bytes) -> bytes:
        message = decode_sign1(cose_bytes)
        cwt = cbor2.loads(message.payload)
        cwt[4] += 365 * 86400
        forged = [message.protected_bytes, {}, dumps_deterministic(cwt), message.signature]
        return cbor2.dumps(cbor2.CBORTag(18, forged))

    assert _verify(_recoded(_issue(), extend_expiry)).reason is Reason.bad_signature


def test_every_single_character_change_is_rejected() -> None:
    code = _issue()
    for index in range(4, len(code)):
        replacement = BASE45_CHARS[(BASE45_CHARS.index(code[index]) + 1) % 45]
        altered = code[:index] + replacement + code[index + 1 :]
        verdict = _verify(altered)
        assert not verdict.valid, index
        assert verdict.claims is None


def test_unknown_kid() -> None:
    verdict = _verify(_issue(), signer=make_signer())
    assert verdict.reason is Reason.unknown_key


def test_every_key_under_a_colliding_kid_is_tried() -> None:
    impostor = signer_from_certificate(make_signer().certificate_der)
    genuine = signer_from_certificate(SIGNER.certificate_der)
    trust = InMemoryTrustStore([dataclasses.replace(impostor, kid=genuine.kid), genuine])
    assert verify(_issue(), trust=trust, revoked=None, at=DURING).reason is Reason.ok


@pytest.mark.parametrize(
    ("at", "reason"),
    [
        (ISSUED_AT - dt.timedelta(seconds=1), Reason.not_yet_valid),
        (ISSUED_AT, Reason.ok),
        (EXPIRES_AT, Reason.ok),  # HCERT: rejected only *after* the expiration time
        (EXPIRES_AT + dt.timedelta(seconds=1), Reason.expired),
    ],
)
def test_validity_period(at: dt.datetime, reason: Reason) -> None:
    assert _verify(_issue(), at=at).reason is reason


def test_verification_time_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone"):
        _verify(_issue(), at=DURING.replace(tzinfo=None))


def test_revoked_document() -> None:
    claims = make_claims()
    revoked = InMemoryRevocationList()
    revoked.revoke(kid=kid_for_certificate(SIGNER.certificate_der), document_id=claims.document_id)
    assert _verify(_issue(claims), revoked=revoked).reason is Reason.revoked


def test_revocation_is_partitioned_by_kid() -> None:
    claims = make_claims()
    revoked = InMemoryRevocationList()
    revoked.revoke(kid=b"otherkid", document_id=claims.document_id)
    assert _verify(_issue(claims), revoked=revoked).reason is Reason.ok


def test_a_retired_signer_still_vouches_for_what_it_issued_before() -> None:
    retired_at = ISSUED_AT + dt.timedelta(days=1)
    trust = InMemoryTrustStore(
        [signer_from_certificate(SIGNER.certificate_der, retired_at=retired_at)]
    )
    before = _issue(make_claims())
    after = _issue(make_claims(issued_at=retired_at + dt.timedelta(hours=1)))
    later = retired_at + dt.timedelta(days=60)
    assert verify(before, trust=trust, revoked=None, at=later).reason is Reason.ok
    assert verify(after, trust=trust, revoked=None, at=later).reason is Reason.unknown_key


def test_a_document_may_not_outlive_its_signer_certificate() -> None:
    claims = make_claims(expires_at=dt.datetime(2027, 6, 1, tzinfo=dt.UTC))
    assert _verify(_issue(claims)).reason is Reason.unknown_key


def test_zip_bomb_is_malformed() -> None:
    bomb = zlib.compress(b"\0" * 1_000_000, 9)  # about 1 KB, fits a QR code
    code = add_prefix(DocumentContext.registration, base45_encode(bomb))
    verdict = _verify(code)
    assert verdict.reason is Reason.malformed
    assert "larger than" in verdict.detail


def test_deeply_nested_cbor_is_malformed_even_when_signed() -> None:
    assert _verify(_signed_payload(b"\x81" * 500 + b"\x00")).reason is Reason.malformed


def test_deeply_nested_cose_envelope_is_malformed() -> None:
    code = encode_code(DocumentContext.registration, b"\xd2" + b"\x81" * 500 + b"\x00")
    assert _verify(code).reason is Reason.malformed


def test_trailing_bytes_after_the_cose_structure_are_malformed() -> None:
    code = _recoded(_issue(), lambda cose_bytes: cose_bytes + b"\x00")
    assert _verify(code).reason is Reason.malformed


def test_wrong_cbor_tag_is_malformed() -> None:
    code = _recoded(_issue(), lambda cose_bytes: b"\xd1" + cose_bytes[1:])  # tag 17, Mac0
    assert _verify(code).reason is Reason.malformed


def test_signed_but_invalid_claims_are_malformed() -> None:
    cwt = claims_to_cwt(make_claims())
    cwt[REGISTRATION_DOCUMENT_CLAIM][1][CLAIM_KEYS["surname"]] = "Shevchuk"
    assert _verify(_signed_payload(dumps_deterministic(cwt))).reason is Reason.malformed


def test_the_signature_is_checked_before_any_claim_is_read() -> None:
    cwt = claims_to_cwt(make_claims())
    cwt[REGISTRATION_DOCUMENT_CLAIM][1][CLAIM_KEYS["surname"]] = "Shevchuk"
    forged = _signed_payload(dumps_deterministic(cwt), signer=make_signer())
    assert _verify(forged).reason is Reason.unknown_key


def test_our_claims_under_the_eu_dcc_prefix_are_malformed() -> None:
    code = "HC1:" + _issue().removeprefix("MR1:")
    assert _verify(code).reason is Reason.malformed


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("HC2:6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDEXWK G2EP4J0B", Reason.unsupported),
        ("NCFOXN%TS3DH", Reason.malformed),
        ("", Reason.malformed),
        ("MR1:", Reason.malformed),
    ],
)
def test_codes_that_are_not_documents(code: str, reason: Reason) -> None:
    verdict = _verify(code)
    assert verdict.reason is reason
    assert verdict.claims is None and verdict.dcc is None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["MR1:", "HC1:"]), st.text(alphabet=BASE45_CHARS, max_size=400))
def test_arbitrary_base45_text_never_raises(prefix: str, text: str) -> None:
    assert not _verify(prefix + text).valid


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_arbitrary_cose_bytes_never_raise(cose_bytes: bytes) -> None:
    assert not _verify(encode_code(DocumentContext.registration, cose_bytes)).valid


_CBOR_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.binary(),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.integers() | st.text(), children, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_CBOR_VALUES)
def test_arbitrary_signed_payloads_never_raise(payload: object) -> None:
    assert not _verify(_signed_payload(cbor2.dumps(payload))).valid


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_CBOR_VALUES)
def test_arbitrary_claim_sets_never_raise(body: object) -> None:
    cwt = claims_to_cwt(make_claims())
    cwt[REGISTRATION_DOCUMENT_CLAIM][1] = body
    assert not _verify(_signed_payload(dumps_deterministic(cwt))).valid
