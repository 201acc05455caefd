"""The FEBRL linker's pieces: comparison levels, blocking and one-to-one links (small data)."""

from __future__ import annotations

from oberih.exchange.febrl import CLOSE, EXACT, MISSING, candidate_pairs, comparison_vector, link

BASE = {
    "given_name": "michaela",
    "surname": "neumann",
    "street_number": "8",
    "address_1": "stanley street",
    "address_2": "miami",
    "suburb": "winston hills",
    "postcode": "4223",
    "state": "nsw",
    "date_of_birth": "19151111",
    "soc_sec_id": "5304218",
}


def test_levels_see_typos_swaps_and_gaps() -> None:
    other = {**BASE, "surname": "neuman", "date_of_birth": "19151111", "address_2": ""}
    vector = dict(zip(BASE, comparison_vector(BASE, other), strict=False))
    assert comparison_vector(BASE, BASE)[0] == EXACT
    assert CLOSE in comparison_vector(BASE, other)
    assert MISSING in comparison_vector(BASE, other)
    assert vector


def test_one_to_one_links_the_corrupted_copies() -> None:
    people = {
        f"a{i}": {
            **BASE,
            "given_name": name,
            "soc_sec_id": f"53042{i:02d}",
            "date_of_birth": f"1915{i + 1:02d}11",
        }
        for i, name in enumerate(["michaela", "courtney", "charles", "oliver", "hannah", "ruby"])
    }
    copies = {
        f"b{key[1:]}": {**record, "surname": record["surname"][:-1]}
        for key, record in people.items()
    }
    assert ("a0", "b0") in candidate_pairs(people, copies)
    linked = link(people, copies)
    assert {(a[1:], b[1:]) for a, b in linked} <= {(k[1:], k[1:]) for k in people}
