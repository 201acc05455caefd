"""Run the EU DCC 2D-code test vectors (eu-digital-green-certificates/dgc-testdata) through
this codec, step by step, and count the outcomes.

    python -m oberih.documents.conformance ../shared/testdata/dcc

Each vector's ``EXPECTEDRESULTS`` names steps; ``true`` means the step must succeed, ``false``
that it must fail, a missing key that it is not tested. Every step below uses the same functions
``verify`` uses, on the vector's own intermediate fields:

UNPREFIX      ``split_prefix(PREFIX)`` gives context HC1 and exactly ``BASE45``
B45DECODE     ``base45_decode(BASE45) == COMPRESSED``; without ``COMPRESSED``, as the
              upstream README words it, the decoded and decompressed bytes equal ``COSE``
COMPRESSION   bounded ``decompress(COMPRESSED) == COSE`` (``COMPRESSED`` taken from ``BASE45``
              where the vector leaves it out)
VERIFY        ``check_signature(COSE)`` against the certificate in ``TESTCTX``
DECODE        the COSE payload and ``CBOR`` decode strictly and agree with each other and ``JSON``
VALIDJSON     the whole chain ``PREFIX`` -> prefix, base45, zlib, COSE, CWT decodes to ``JSON``
ENCODE        ``JSON`` encoded as CBOR decodes to the same DCC as ``CBOR``
EXPIRATIONCHECK  at ``VALIDATIONCLOCK``, the verifier's date checks on the COSE payload: the
              certificate vouches for ``iat``/``exp`` and ``validity_period_reason`` is ``ok``.
              The suite tests each step alone (PL/*/6 expects this step to pass with a
              certificate that did not sign the document), so this step reads the payload
              without the signature check that ``verify`` always does first.
CHAIN (ours)  where a vector states both VERIFY and EXPIRATIONCHECK: ``verify(PREFIX)`` at
              ``VALIDATIONCLOCK`` is ``ok`` with the ``JSON`` payload exactly when every
              stated step of the chain is ``true``

Not run, and reported as such: picture decoding (no QR image reader among the locked
dependencies), schema validation and the valid-object check (the DCC JSON schemas are not in
the suite and jsonschema is not a dependency), key usage (DCC-specific extended key usage
OIDs for test/vaccination/recovery signers, which our documents do not use).

Equality ignores encoding detail (README note 2): date-times compare as UTC second
precision, whether a CBOR date tag or ISO text.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import cbor2

from oberih.documents.cbor import loads_strict, thaw
from oberih.documents.claims import PAYLOAD_LIMITS, decode_cwt, hcert_payload, parse_envelope
from oberih.documents.codec import (
    DocumentContext,
    base45_decode,
    decode_code,
    decompress,
    split_prefix,
)
from oberih.documents.cose import decode_sign1
from oberih.documents.errors import DocumentError
from oberih.documents.trust import InMemoryTrustStore, signer_from_certificate
from oberih.documents.verify import Reason, check_signature, validity_period_reason, verify

Vector = Mapping[str, Any]


class Outcome(StrEnum):
    passed = "passed"
    failed = "failed"
    not_run = "not run"  # requested, but a step this suite does not implement
    no_input = "no input"  # requested, but the vector lacks the fields the step reads


@dataclass(frozen=True, slots=True)
class StepResult:
    step: str
    expected: bool
    outcome: Outcome
    note: str = ""


@dataclass(frozen=True, slots=True)
class VectorReport:
    name: str
    results: tuple[StepResult, ...]
    unrecognised: tuple[str, ...]  # EXPECTEDRESULTS keys that name no step (typos upstream)

    @property
    def failures(self) -> list[StepResult]:
        return [result for result in self.results if result.outcome is Outcome.failed]


class _MissingInput(Exception):
    pass


def _field(vector: Vector, name: str) -> Any:
    if name in vector and vector[name] is not None:
        return vector[name]
    context = vector.get("TESTCTX") or {}
    if name in context and context[name] is not None:
        return context[name]
    raise _MissingInput(name)


def _hex(vector: Vector, name: str) -> bytes:
    return bytes.fromhex(_field(vector, name))


def _certificate(vector: Vector) -> bytes:
    return base64.b64decode(_field(vector, "CERTIFICATE"), validate=True)


def _clock(vector: Vector) -> dt.datetime:
    clock = dt.datetime.fromisoformat(_field(vector, "VALIDATIONCLOCK"))
    return clock if clock.tzinfo else clock.replace(tzinfo=dt.UTC)


_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _normalised(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _normalised(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_normalised(item) for item in value]
    if isinstance(value, str) and _DATE_TIME.match(value):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat()
    return value


def _same(left: Any, right: Any) -> bool:
    return bool(_normalised(left) == _normalised(right))


def _dcc_level(decoded: Any) -> Any:
    """``CBOR`` fields hold either the whole CWT claims map or only the DCC inside it."""
    if isinstance(decoded, Mapping) and -260 in decoded:
        return hcert_payload(decoded)
    return decoded


def _cose_dcc(vector: Vector) -> Any:
    return hcert_payload(decode_cwt(decode_sign1(_hex(vector, "COSE")).payload))


def _cbor_dcc(vector: Vector) -> Any:
    return _dcc_level(thaw(loads_strict(_hex(vector, "CBOR"), PAYLOAD_LIMITS)))


def _step_unprefix(vector: Vector) -> bool:
    prefix, base45_text = _field(vector, "PREFIX"), _field(vector, "BASE45")
    context, text = split_prefix(prefix)
    return context is DocumentContext.eu_dcc and text == base45_text


def _step_b45decode(vector: Vector) -> bool:
    decoded = base45_decode(_field(vector, "BASE45"))
    if "COMPRESSED" in vector:
        return decoded == _hex(vector, "COMPRESSED")
    return decompress(decoded) == _hex(vector, "COSE")  # README test 3: "... the COSE content"


def _step_compression(vector: Vector) -> bool:
    if "COMPRESSED" in vector:
        compressed = _hex(vector, "COMPRESSED")
    else:
        compressed = base45_decode(_field(vector, "BASE45"))
    return decompress(compressed) == _hex(vector, "COSE")


def _step_verify(vector: Vector) -> bool:
    cose_bytes, certificate = _hex(vector, "COSE"), _certificate(vector)
    signer = signer_from_certificate(certificate, use_certificate_validity=False)
    return check_signature(cose_bytes, trust=InMemoryTrustStore([signer])).valid


def _step_decode(vector: Vector) -> bool:
    decoded = []
    for name, decode in (("COSE", _cose_dcc), ("CBOR", _cbor_dcc)):
        if name in vector:
            decoded.append(_normalised(decode(vector)))
    if "JSON" in vector:
        decoded.append(_normalised(vector["JSON"]))
    if len(decoded) < 2:
        raise _MissingInput("two of COSE, CBOR, JSON")
    return all(item == decoded[0] for item in decoded[1:])


def _step_valid_json(vector: Vector) -> bool:
    expected_json = _field(vector, "JSON")
    context, cose_bytes = decode_code(_field(vector, "PREFIX"))
    dcc = hcert_payload(decode_cwt(decode_sign1(cose_bytes).payload))
    return context is DocumentContext.eu_dcc and _same(dcc, expected_json)


def _step_encode(vector: Vector) -> bool:
    encoded = cbor2.dumps(_field(vector, "JSON"))
    reencoded = thaw(loads_strict(encoded, PAYLOAD_LIMITS))
    return _same(reencoded, _cbor_dcc(vector))


def _step_expiration(vector: Vector) -> bool | Reason:
    cose_bytes, certificate, clock = _hex(vector, "COSE"), _certificate(vector), _clock(vector)
    try:
        envelope = parse_envelope(decode_cwt(decode_sign1(cose_bytes).payload))
    except DocumentError:
        return Reason.malformed  # must not count as the expected failure of this step
    signer = signer_from_certificate(certificate)
    if not signer.vouches_for(issued_at=envelope.issued_at, expires_at=envelope.expires_at):
        return False
    return validity_period_reason(envelope, clock) is Reason.ok


_CHAIN_STEPS = (
    "EXPECTEDUNPREFIX",
    "EXPECTEDB45DECODE",
    "EXPECTEDCOMPRESSION",
    "EXPECTEDVERIFY",
    "EXPECTEDEXPIRATIONCHECK",
    "EXPECTEDDECODE",
    "EXPECTEDVALIDJSON",
)
CHAIN = "CHAIN (ours)"


def _chain_expectation(expected_results: Mapping[str, Any]) -> bool | None:
    if not {"EXPECTEDVERIFY", "EXPECTEDEXPIRATIONCHECK"} <= expected_results.keys():
        return None
    return all(bool(expected_results[step]) for step in _CHAIN_STEPS if step in expected_results)


def _step_chain(vector: Vector) -> bool:
    prefix, certificate, clock = _field(vector, "PREFIX"), _certificate(vector), _clock(vector)
    trust = InMemoryTrustStore([signer_from_certificate(certificate)])
    verdict = verify(prefix, trust=trust, revoked=None, at=clock)
    if not verdict.valid:
        return False
    return "JSON" not in vector or _same(verdict.dcc, vector["JSON"])


Step = Callable[[Vector], "bool | Reason"]
STEPS: dict[str, Step] = {
    "EXPECTEDUNPREFIX": _step_unprefix,
    "EXPECTEDB45DECODE": _step_b45decode,
    "EXPECTEDCOMPRESSION": _step_compression,
    "EXPECTEDVERIFY": _step_verify,
    "EXPECTEDDECODE": _step_decode,
    "EXPECTEDVALIDJSON": _step_valid_json,
    "EXPECTEDENCODE": _step_encode,
    "EXPECTEDEXPIRATIONCHECK": _step_expiration,
}
NOT_RUN: dict[str, str] = {
    "EXPECTEDPICTUREDECODE": "no QR image reader among the locked dependencies",
    "EXPECTEDSCHEMAVALIDATION": "DCC JSON schemas not in the suite; jsonschema not a dependency",
    "EXPECTEDVALIDOBJECT": "DCC JSON schemas not in the suite; jsonschema not a dependency",
    "EXPECTEDKEYUSAGE": "DCC-specific extended key usage OIDs; not used by our documents",
}


def _run_step(step: Step, vector: Vector, expected: bool) -> tuple[Outcome, str]:
    try:
        actual = step(vector)
    except _MissingInput as missing:
        return Outcome.no_input, f"vector has no {missing}"
    except (DocumentError, ValueError) as exc:
        # ValueError also covers bad hex, bad base64 (binascii.Error) and bad clocks.
        actual, note = False, f"{type(exc).__name__}: {exc}"
    else:
        note = "step succeeded" if actual is True else "step failed (result differs)"
    if isinstance(actual, Reason):
        return Outcome.failed, f"failed for another reason: {actual}"
    return (Outcome.passed if actual == expected else Outcome.failed), note


def run_vector(vector: Vector, name: str) -> VectorReport:
    expected_results = vector.get("EXPECTEDRESULTS") or {}
    results, unrecognised = [], []
    for key, expected in expected_results.items():
        if key in STEPS:
            outcome, note = _run_step(STEPS[key], vector, bool(expected))
            results.append(StepResult(key, bool(expected), outcome, note))
        elif key in NOT_RUN:
            results.append(StepResult(key, bool(expected), Outcome.not_run, NOT_RUN[key]))
        else:
            unrecognised.append(key)
    chain_expected = _chain_expectation(expected_results)
    if chain_expected is not None:
        outcome, note = _run_step(_step_chain, vector, chain_expected)
        results.append(StepResult(CHAIN, chain_expected, outcome, note))
    return VectorReport(name, tuple(results), tuple(unrecognised))


def vector_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.json"))


def run_file(path: Path, root: Path) -> VectorReport:
    vector = json.loads(path.read_text(encoding="utf-8"))
    return run_vector(vector, path.relative_to(root).as_posix())


def summarise(reports: Sequence[VectorReport]) -> str:
    counts: Counter[tuple[str, Outcome]] = Counter()
    unrecognised: Counter[str] = Counter()
    for report in reports:
        counts.update((result.step, result.outcome) for result in report.results)
        unrecognised.update(report.unrecognised)
    lines = [f"{len(reports)} vectors", f"{'step':<26}" + "".join(f"{o:>10}" for o in Outcome)]
    for step in [*STEPS, *NOT_RUN, CHAIN]:
        lines.append(f"{step:<26}" + "".join(f"{counts[step, o]:>10}" for o in Outcome))
    lines.extend(f"ignored unknown key {key}: {count}" for key, count in unrecognised.items())
    for report in reports:
        lines.extend(f"FAILED {report.name} {r.step}: {r.note}" for r in report.failures)
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m oberih.documents.conformance PATH-TO-DCC-TESTDATA")
        return 2
    root = Path(argv[0])
    reports = [run_file(path, root) for path in vector_files(root)]
    print(summarise(reports))
    return 1 if any(report.failures for report in reports) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
