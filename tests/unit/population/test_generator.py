"""The generator's contract: deterministic, streaming, bounded by the reference date."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from oberih.persons.facts import validate_payload
from oberih.population import generate_population, write_jsonl


def _file(tmp_path: Path, name: str, **kwargs: object) -> bytes:
    path = tmp_path / name
    write_jsonl(generate_population(**kwargs), path)  # type: ignore[arg-type]
    return path.read_bytes()


def test_same_arguments_give_byte_identical_output(tmp_path: Path) -> None:
    arguments = {"persons": 1_500, "seed": 42, "reference_date": dt.date(2025, 6, 30)}
    first = _file(tmp_path, "a.jsonl", **arguments)
    second = _file(tmp_path, "b.jsonl", **arguments)
    assert first == second
    assert first.count(b"\n") == 1_500


_DIGEST_SCRIPT = """
import datetime as dt, hashlib, sys
from oberih.population import generate_population, write_jsonl
write_jsonl(generate_population(persons=800, seed=77, reference_date=dt.date(2025, 12, 1)), sys.argv[1])
print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())
"""


def test_output_does_not_depend_on_string_hashing(tmp_path: Path) -> None:
    # Separate interpreters with different hash seeds: no set or hash order leaks into output.
    digests = set()
    for hash_seed in ("1", "2"):
        environment = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", _DIGEST_SCRIPT, str(tmp_path / f"{hash_seed}.jsonl")],
            capture_output=True,
            check=True,
            env=environment,
            text=True,
        )
        digests.add(result.stdout.strip())
    assert len(digests) == 1


def test_another_seed_gives_another_population(tmp_path: Path) -> None:
    date = dt.date(2025, 6, 30)
    one = _file(tmp_path, "a.jsonl", persons=200, seed=1, reference_date=date)
    two = _file(tmp_path, "b.jsonl", persons=200, seed=2, reference_date=date)
    assert one != two


def test_a_smaller_run_is_a_prefix_of_a_larger_one() -> None:
    date = dt.date(2025, 6, 30)
    small = list(generate_population(persons=300, seed=9, reference_date=date))
    large = list(generate_population(persons=600, seed=9, reference_date=date))
    # All but the last household of the small run are the same persons with the same facts.
    same = [a == b for a, b in zip(small, large, strict=False)]
    assert all(same[:280])
    assert len(small) == 300 and len(large) == 600


def test_persons_stream_one_at_a_time() -> None:
    # A billion persons: only what is taken is ever generated.
    people = generate_population(persons=10**9, seed=3, reference_date=dt.date(2025, 1, 1))
    taken = list(itertools.islice(people, 50))
    assert len(taken) == 50


def test_zero_and_negative_counts() -> None:
    assert list(generate_population(persons=0, seed=1, reference_date=dt.date(2025, 1, 1))) == []
    with pytest.raises(ValueError, match="negative"):
        generate_population(persons=-1, seed=1, reference_date=dt.date(2025, 1, 1))


@pytest.mark.parametrize(
    "reference_date", [dt.date(2016, 6, 1), dt.date(2022, 3, 1), dt.date(2030, 1, 1)]
)
def test_any_reference_date_gives_valid_facts_before_it(reference_date: dt.date) -> None:
    start = dt.datetime.combine(reference_date, dt.time(), dt.UTC)
    kinds: set[str] = set()
    for person in generate_population(persons=1_500, seed=5, reference_date=reference_date):
        for fact in person.facts:
            assert validate_payload(fact.kind, fact.payload) == fact.payload
            assert fact.valid_from is not None and fact.valid_from < reference_date
            assert fact.recorded_at < start
            kinds.add(fact.kind)
    if reference_date < dt.date(2022, 2, 24):
        assert "reservation" not in kinds and "medical_decision" not in kinds
