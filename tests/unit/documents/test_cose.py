import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from oberih.documents.cose import (
    ALG_ES256,
    ALG_PS256,
    HEADER_ALG,
    HEADER_KID,
    Sign1Message,
    algorithm_for,
    decode_sign1,
    encode_sign1,
    sig_structure,
    verify_signature,
)
from oberih.documents.errors import MalformedDocumentError, SignerError, UnsupportedDocumentError
from tests.unit.documents.factories import make_signer

KID = b"\x01\x02\x03\x04\x05\x06\x07\x08"


def test_sig_structure_is_the_rfc_9052_signature1_array() -> None:
    assert cbor2.loads(sig_structure(b"\xa1\x01\x26", b"payload")) == [
        "Signature1",
        b"\xa1\x01\x26",
        b"",
        b"payload",
    ]


def test_es256_message_has_protected_alg_and_kid_and_a_raw_64_byte_signature() -> None:
    signer = make_signer()
    message = decode_sign1(encode_sign1(b"payload", key=signer.key, kid=KID))
    assert message.protected == {HEADER_ALG: ALG_ES256, HEADER_KID: KID}
    assert message.unprotected == {}
    assert len(message.signature) == 64
    assert verify_signature(message, signer.key.public_key())


def test_ps256_signs_and_verifies() -> None:
    signer = make_signer(rsa_bits=2048)
    message = decode_sign1(encode_sign1(b"payload", key=signer.key, kid=KID))
    assert message.algorithm == ALG_PS256
    assert len(message.signature) == 256
    assert verify_signature(message, signer.key.public_key())


def test_a_key_of_the_other_type_never_verifies() -> None:
    ec_signer, rsa_signer = make_signer(), make_signer(rsa_bits=2048)
    message = decode_sign1(encode_sign1(b"payload", key=ec_signer.key, kid=KID))
    assert not verify_signature(message, rsa_signer.key.public_key())


def test_kid_in_the_protected_header_wins_over_the_unprotected_one() -> None:
    message = Sign1Message(b"", {HEADER_KID: b"right"}, {HEADER_KID: b"wrong"}, b"", b"")
    assert message.kid == b"right"
    assert Sign1Message(b"", {}, {HEADER_KID: b"only"}, b"", b"").kid == b"only"


@pytest.mark.parametrize("alg", [-8, -35, "ES256", None])  # EdDSA, ES384, text, absent
def test_other_algorithms_are_unsupported(alg: object) -> None:
    with pytest.raises(UnsupportedDocumentError):
        decode_sign1(cbor2.dumps(cbor2.CBORTag(18, [b"", {HEADER_ALG: alg}, b"", b""])))


def test_only_p256_and_rsa_2048_keys_sign() -> None:
    assert algorithm_for(make_signer().key) == ALG_ES256
    with pytest.raises(SignerError):
        algorithm_for(ec.generate_private_key(ec.SECP384R1()))


@pytest.mark.parametrize(
    "envelope",
    [
        cbor2.CBORTag(17, [b"", {}, b"", b""]),  # COSE_Mac0 is not COSE_Sign1
        cbor2.CBORTag(18, [b"", {}, b""]),  # three items
        cbor2.CBORTag(18, [b"", {}, None, b""]),  # detached payload
        cbor2.CBORTag(18, [{}, {}, b"", b""]),  # protected header not wrapped in bytes
        cbor2.CBORTag(18, [b"\x80", {}, b"", b""]),  # protected header not a map
        cbor2.CBORTag(18, cbor2.CBORTag(18, [b"", {}, b"", b""])),  # tag inside tag
    ],
)
def test_wrong_tags_and_structures_are_malformed(envelope: object) -> None:
    with pytest.raises(MalformedDocumentError):
        decode_sign1(cbor2.dumps(envelope))


def test_cwt_tag_around_cose_sign1_and_an_untagged_array_are_accepted() -> None:
    body = [b"", {HEADER_ALG: ALG_ES256, HEADER_KID: KID}, b"payload", b"sig"]
    assert decode_sign1(cbor2.dumps(cbor2.CBORTag(61, cbor2.CBORTag(18, body)))).kid == KID
    assert decode_sign1(cbor2.dumps(body)).kid == KID
