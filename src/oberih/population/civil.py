"""Civil facts: identity, identifiers, addresses, contacts, family and death.

SOURCES
- RNOKPP: the tax register of individuals started in 1994-1995; people without one for
  religious reasons: 0.5 % of adults (estimate). Children: most born since 2016 get one with
  the birth registration (the "єМалятко" service), 60 % of older children have one (estimate).
- Identity documents: passport booklets at 16 until 2016; ID cards from 11.01.2016 at 14 (valid
  4 years, then 10 years); booklet holders who turned 25 or 45 after that got ID cards (70 %,
  estimate), others replaced theirs voluntarily (20 %, estimate). UNZR for everyone born since
  2013 and for every holder of an ID card or biometric passport (Law 5492-VI).
- Foreign (biometric) passports: about 30 % of adults 18-59, 15 % of older people (estimate
  from State Migration Service issue counts), nearly all emigrants.
- Phones: 92 % of adults and 80 % of teenagers have a mobile number; operator codes in
  proportion to subscriber counts of Kyivstar, Vodafone and lifecell (estimate). E-mail: 45 % of
  adults under 60, 20 % of older ones (estimate); only reserved example domains (RFC 2606).
- The 2024 duty of men 18-60 to update their data within 60 days of 18.05.2024 (Law 3633-IX):
  60 % of their contacts date from that window (estimate; 2.43M updates by 27.06.2024).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from oberih.population.households import ChildLink, Member
from oberih.population.life import Life
from oberih.population.places import Settlement
from oberih.population.tables import WeightedTable
from oberih.population.world import ID_CARD_START, MOBILISATION_LAW, UNZR_BIRTHS_FROM, latin

_UNZR_BIRTHS_FROM = UNZR_BIRTHS_FROM.toordinal()
_ID_CARD_START = ID_CARD_START.toordinal()
_BIOMETRIC_START = dt.date(2015, 1, 12).toordinal()
_TAX_REGISTER_START = dt.date(1995, 1, 1).toordinal()
_EMALYATKO_START = dt.date(2016, 1, 1).toordinal()
_DATA_UPDATE_FROM = MOBILISATION_LAW.toordinal()
_DATA_UPDATE_TO = _DATA_UPDATE_FROM + 60
_OPERATORS = WeightedTable(
    [
        ("67", 16.0), ("68", 8.0), ("96", 10.0), ("97", 10.0), ("98", 8.0),  # Kyivstar
        ("50", 10.0), ("66", 8.0), ("95", 7.0), ("99", 7.0),  # Vodafone
        ("63", 6.0), ("73", 6.0), ("93", 4.0),  # lifecell
    ]
)  # fmt: skip
_EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example")
_LATIN_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")
_DEATH_CERTIFICATE_SERIES = "АБВГДЕЖКЛМНОПРСТ"


def write_identity(life: Life) -> None:
    member = life.member
    payload = {
        "surname": member.surname,
        "given_name": member.given_name,
        "patronymic": member.patronymic,
        "birth_date": life.iso(member.birth),
        "birth_place": member.birth_place,
        "sex": member.sex,
        "citizenship": member.citizenship,
    }
    life.add(
        "identity",
        payload,
        source="civil_status",
        basis="birth",
        valid_from=member.birth,
        speed="birth",
    )


# Identifiers -----------------------------------------------------------------------------


def _identifier(kind: str, value: str, status: str = "active") -> dict[str, Any]:
    return {"identifier_kind": kind, "value": value, "status": status}


def write_identifiers(life: Life) -> None:
    member, rng = life.member, life.rng
    if not member.refuses_rnokpp:
        _write_rnokpp(life)
    if not life.ukrainian:
        return
    documents = _write_internal_passport(life)
    if _has_foreign_passport(life):
        documents.append(_write_foreign_passport(life))
    issued = [day for day in documents if day >= _BIOMETRIC_START]
    if member.birth >= _UNZR_BIRTHS_FROM:
        unzr_day = member.birth + rng.randint(1, 30)
    elif issued:
        unzr_day = min(issued)
    else:
        return
    if unzr_day <= life.end:
        value = life.world.unzr(member.birth_date)
        life.add(
            "identifier",
            _identifier("unzr", value),
            source="demographic",
            basis="document",
            valid_from=unzr_day,
        )


def _write_rnokpp(life: Life) -> None:
    member, rng = life.member, life.rng
    if life.age >= 18:
        first = max(member.birth + 14 * 365, _TAX_REGISTER_START)
        day = min(life.day_between(first, first + 5 * 365), life.end)
    elif member.birth >= _EMALYATKO_START and rng.random() < 0.7:
        day = member.birth + rng.randint(3, 60)
    elif rng.random() < 0.6:
        day = life.day_between(member.birth + 30, life.end)
    else:
        return
    if day > life.end:
        return
    value = life.world.rnokpp(member.birth_date, member.sex)
    life.add(
        "identifier", _identifier("rnokpp", value), source="tax", basis="rnokpp", valid_from=day
    )


def _write_internal_passport(life: Life) -> list[int]:
    """Booklet and/or ID card; returns the issue days of documents written."""
    rng = life.rng
    at_14 = life.turns(14)
    if at_14 > life.end:
        return []
    if at_14 >= _ID_CARD_START:
        return [_write_id_card(life, at_14 + rng.randint(0, 180))]
    booklet_day = life.turns(16) + rng.randint(0, 120)
    if booklet_day > life.end:
        return []
    booklet = life.world.document_number("passport_booklet")
    life.add(
        "identifier",
        _identifier("passport_booklet", booklet),
        source="demographic",
        basis="document",
        valid_from=booklet_day,
    )
    replaced = _id_card_replacement_day(life)
    if replaced is None:
        return [booklet_day]
    card_day = _write_id_card(life, replaced)
    life.add(
        "identifier",
        _identifier("passport_booklet", booklet, "invalidated"),
        source="demographic",
        basis="document",
        valid_from=card_day,
    )
    return [booklet_day, card_day]


def _id_card_replacement_day(life: Life) -> int | None:
    rng = life.rng
    for years in (25, 45):
        day = life.turns(years)
        if _ID_CARD_START <= day <= life.end and rng.random() < 0.7:
            return day + rng.randint(0, 60)
    if rng.random() < 0.2:
        return life.day_between(_ID_CARD_START, life.end)
    return None


def _write_id_card(life: Life, issued: int) -> int:
    """The current card: renewed at 18 and every 10 years after, as long as ``end`` allows."""
    issued = min(issued, life.end)
    at_18 = life.turns(18)
    if issued < at_18 <= life.end:
        issued = at_18 + life.rng.randint(0, 90)
    while issued + 3_652 <= life.end:
        issued += 3_652 + life.rng.randint(0, 30)
    issued = min(issued, life.end)
    expires = at_18 if issued < at_18 else issued + 3_652
    card = life.world.document_number("id_card")
    life.add(
        "identifier",
        _identifier("id_card", card),
        source="demographic",
        basis="document",
        valid_from=issued,
        valid_to=expires,
    )
    return issued


def _has_foreign_passport(life: Life) -> bool:
    member = life.member
    if member.exit_day is not None:
        return life.rng.random() < 0.95
    if life.age < 18:
        return False
    return life.rng.random() < (0.3 if life.age < 60 else 0.15)


def _write_foreign_passport(life: Life) -> int:
    member, rng = life.member, life.rng
    first = max(member.birth + 30, life.end - 3_650)
    last = life.end if member.exit_day is None else min(life.end, member.exit_day - 1)
    issued = min(life.day_between(first, last), life.end)
    value = life.world.document_number("foreign_passport")
    life.foreign_passport_from = issued
    valid_years = 10 if issued >= life.turns(16) else 4
    life.add(
        "identifier",
        _identifier("foreign_passport", value),
        source="demographic",
        basis="document",
        valid_from=issued,
        valid_to=issued + valid_years * 365 + rng.randint(0, 2),
    )
    return issued


# Addresses and contacts ------------------------------------------------------------------


def _address(kind: str, settlement: Settlement, street_line: str) -> dict[str, Any]:
    return {
        "address_kind": kind,
        "region": settlement.region,
        "hromada": settlement.hromada,
        "settlement": settlement.settlement,
        "street_line": street_line,
        "office_code": settlement.office_code,
    }


def write_addresses(life: Life) -> None:
    member, rng, world = life.member, life.rng, life.world
    since = min(member.address_from, life.end)
    adult = life.turns(18)
    if since - adult > 3 * 365 and rng.random() < 0.12:
        earlier = world.region_by_code[member.settlement.region].settlements.draw(rng)
        line = f"вул. {rng.choice(('Шевченка', 'Миру', 'Садова', 'Шкільна'))}, {rng.randint(1, 90)}"
        life.add(
            "address",
            _address("registered", earlier, line),
            source="demographic",
            basis="address",
            valid_from=life.day_between(adult, since - 365),
        )
    registered = _address("registered", member.settlement, member.street_line)
    life.add("address", registered, source="demographic", basis="address", valid_from=since)
    if member.actual is not None and member.actual_from <= life.end:
        line = (
            f"вул. {rng.choice(('Незалежності', 'Соборна', 'Центральна'))}, {rng.randint(1, 120)}"
        )
        actual = _address("actual", member.actual, line)
        life.add("address", actual, source="social", basis="idp", valid_from=member.actual_from)


def write_contacts(life: Life) -> None:
    rng = life.rng
    if life.age < 14:
        return
    phone = rng.random() < (0.92 if life.age >= 18 else 0.8)
    email = life.age >= 18 and rng.random() < (0.45 if life.age < 60 else 0.2)
    if not (phone or email):
        return
    payload: dict[str, Any] = {}
    if phone:
        payload["phone"] = f"+380{_OPERATORS.draw(rng)}{rng.randrange(10_000_000):07d}"
    if email:
        payload["email"] = _email(life)
    first = max(life.turns(14), life.end - 5 * 365)
    if life.male and 18 <= life.age <= 60 and life.end > _DATA_UPDATE_TO and rng.random() < 0.6:
        given = life.day_between(_DATA_UPDATE_FROM, _DATA_UPDATE_TO)
    else:
        given = life.day_between(first, life.end)
    life.add("contact", payload, source="citizen", basis="contact", valid_from=given)


def _email(life: Life) -> str:
    member, rng = life.member, life.rng
    given = "".join(c for c in latin(member.given_name).lower() if c in _LATIN_LETTERS)
    surname = "".join(c for c in latin(member.surname).lower() if c in _LATIN_LETTERS)
    return f"{given}.{surname}{rng.randint(1, 999)}@{rng.choice(_EMAIL_DOMAINS)}"


# Family ----------------------------------------------------------------------------------


def _relative(
    life: Life, relation: str, member: Member | None, name: str, birth: int, sex: str
) -> dict[str, Any]:
    payload: dict[str, Any] = {"relation": relation}
    if member is not None:
        payload["relative_id"] = str(member.person_id)
    payload["relative_name"] = name
    payload["relative_birth_date"] = life.iso(birth)
    payload["relative_sex"] = sex
    return payload


def write_family(life: Life) -> None:
    member = life.member
    spouse = member.spouse
    if spouse is not None and member.marriage <= life.end:
        payload = _relative(life, "spouse", spouse, spouse.full_name, spouse.birth, spouse.sex)
        payload["seriously_ill"] = False
        payload["alone"] = False
        ended = spouse.death if spouse.death is not None and spouse.death <= life.end else None
        life.add(
            "family",
            payload,
            source="civil_status",
            basis="marriage",
            valid_from=member.marriage,
            valid_to=ended,
        )
    for link in member.children:
        if link.birth <= life.end:
            _write_child(life, link)
    for parent in member.parents:
        payload = _relative(life, "parent", parent, parent.full_name, parent.birth, parent.sex)
        payload["seriously_ill"] = False
        payload["alone"] = False
        life.add(
            "family",
            payload,
            source="civil_status",
            basis="birth",
            valid_from=member.birth,
            speed="birth",
        )
    for ward in member.wards:
        payload = _relative(life, "ward", ward, ward.full_name, ward.birth, ward.sex)
        payload["seriously_ill"] = False
        payload["alone"] = False
        since = min(member.guardian_since, life.end)
        life.add("family", payload, source="social", basis="guardianship", valid_from=since)


def _write_child(life: Life, link: ChildLink) -> None:
    member = life.member
    payload = _relative(life, "child", link.member, link.name, link.birth, link.sex)
    if link.disability is not None:
        payload["relative_disability_group"] = link.disability
    payload["seriously_ill"] = link.seriously_ill
    minor = link.birth > life.world.reference_day - 18 * 365
    payload["alone"] = member.raising_alone and minor
    life.add(
        "family",
        payload,
        source="civil_status",
        basis="birth",
        valid_from=link.birth,
        speed="birth",
    )


def write_death(life: Life) -> None:
    member, rng = life.member, life.rng
    if member.death is None:
        return
    series = rng.choice(_DEATH_CERTIFICATE_SERIES) + rng.choice(_DEATH_CERTIFICATE_SERIES)
    payload = {
        "date_of_death": life.iso(member.death),
        "certificate": f"І-{series} №{rng.randrange(1_000_000):06d}",
    }
    life.add("death", payload, source="civil_status", basis="death", valid_from=member.death)
