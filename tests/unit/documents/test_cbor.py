from collections.abc import Callable
from typing import Any

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oberih.documents.cbor import (
    CborLimits,
    _scan_definite,
    _Scanner,
    check_well_formed,
    loads_strict,
)
from oberih.documents.errors import MalformedDocumentError

LIMITS = CborLimits(max_depth=8, max_items=64, allowed_tags=frozenset({18}))


def test_decodes_a_well_formed_item() -> None:
    assert loads_strict(cbor2.dumps({1: [b"x", "y", 2.5, None, True]}), LIMITS) == {
        1: [b"x", "y", 2.5, None, True]
    }


def test_accepts_indefinite_length_strings_and_containers() -> None:
    # 0x5f 41 61 41 62 ff = (_ h'61', h'62'); 0xbf 01 9f 02 ff ff = {_ 1: [_ 2]}
    assert loads_strict(bytes.fromhex("5f41614162ff"), LIMITS) == b"ab"
    assert loads_strict(bytes.fromhex("bf019f02ffff"), LIMITS) == {1: [2]}


def test_rejects_nesting_deeper_than_the_limit_before_decoding() -> None:
    # 100 000 nested arrays would exhaust the recursion of a naive decoder.
    with pytest.raises(MalformedDocumentError, match="too deep"):
        check_well_formed(b"\x81" * 100_000 + b"\x00", LIMITS)


def test_rejects_more_items_than_the_limit() -> None:
    with pytest.raises(MalformedDocumentError, match="too many"):
        loads_strict(cbor2.dumps(list(range(100))), LIMITS)


@pytest.mark.parametrize(
    "encoded",
    [
        "5b00000000ffffffff",  # byte string claiming 4 GiB
        "9b00000000ffffffff",  # array claiming 4 billion items
        "bb00000000ffffffff",  # map claiming 4 billion pairs
        "62616263",  # text string of 2 followed by a stray byte: trailing data
        "0101",  # two items where one is expected
        "1c",  # reserved additional information 28
        "ff",  # break outside an indefinite item
        "5f4161",  # indefinite byte string without break
        "5f6161ff",  # text chunk inside a byte string
        "f800",  # simple value below 32 in two-byte form
        "c100",  # tag 1 not allowed by these limits
    ],
)
def test_rejects_malformed_or_lying_input(encoded: str) -> None:
    with pytest.raises(MalformedDocumentError):
        loads_strict(bytes.fromhex(encoded), LIMITS)


def test_rejects_duplicate_map_keys() -> None:
    with pytest.raises(MalformedDocumentError):
        loads_strict(bytes.fromhex("a201010102"), LIMITS)


def test_rejects_invalid_utf8_text() -> None:
    with pytest.raises(MalformedDocumentError):
        loads_strict(bytes.fromhex("62c328"), LIMITS)


# The one-loop scanner for definite-length items must accept and refuse exactly what the
# general recursive scanner does (it hands indefinite-length input over to it).
_LIMITS = CborLimits(max_depth=5, max_items=40, allowed_tags=frozenset({1, 18}))
_cbor_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.binary(max_size=8) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.integers(-3, 3), children, max_size=4)
        | st.builds(lambda value: cbor2.CBORTag(18, value), children)
    ),
    max_leaves=30,
)


def _outcome(scan: Callable[[], object]) -> object:
    try:
        return scan()
    except MalformedDocumentError as exc:
        return str(exc)


def _same_verdict(data: bytes) -> None:
    general = _outcome(lambda: _Scanner(data, _LIMITS).scan())
    fast = _outcome(lambda: _scan_definite(data, _LIMITS))
    if fast is None:  # indefinite length: left to the general scanner
        return
    assert (general is None) == isinstance(fast, bool), (data.hex(), general, fast)
    if isinstance(fast, str):
        assert fast == general


@given(_cbor_values)
@settings(max_examples=300, deadline=None)
def test_fast_scanner_agrees_on_encoded_values(value: Any) -> None:
    _same_verdict(cbor2.dumps(value))


@given(st.binary(max_size=40))
@settings(max_examples=500, deadline=None)
def test_fast_scanner_agrees_on_arbitrary_bytes(data: bytes) -> None:
    _same_verdict(data)


@given(_cbor_values, st.data())
@settings(max_examples=300, deadline=None)
def test_fast_scanner_agrees_on_damaged_encodings(value: Any, data: st.DataObject) -> None:
    encoded = bytearray(cbor2.dumps(value))
    index = data.draw(st.integers(0, len(encoded) - 1))
    encoded[index] = data.draw(st.integers(0, 255))
    _same_verdict(bytes(encoded[: data.draw(st.integers(0, len(encoded)))]))
