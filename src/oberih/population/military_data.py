"""Military specialties, ranks, units and border checkpoints of the synthetic population.

SOURCES
- Specialty codes (ВОС): "100" rifleman and "879" junior medical specialist are the Ministry of
  Defence's own examples (explanations republished by rbc.ua and 24tv.ua, November 2025); the
  other codes are illustrative three-digit codes (estimate, not checked against the MoD list).
- Ranks: the rank ladder of the Armed Forces of Ukraine (Law 2232-XII art. 5, as amended in
  2022 with the NATO-style sergeant ranks). The mix of ranks within each composition is an
  estimate.
- Units: synthetic "А" + four digits, the public form of military unit numbers.
- Border checkpoints: road checkpoints on the western borders and their neighbour country; the
  airport only before 24.02.2022, when civil flights stopped.
"""

from __future__ import annotations

from oberih.population.tables import WeightedTable

PRIVATE_SPECIALTIES = WeightedTable(
    [
        ("100", 40.0),  # rifleman (MoD example)
        ("837", 12.0),  # driver (illustrative)
        ("106", 8.0),
        ("113", 6.0),
        ("131", 6.0),
        ("145", 5.0),
        ("166", 5.0),
        ("396", 4.0),
        ("420", 4.0),
        ("558", 3.0),
        ("600", 3.0),
        ("790", 2.0),
    ]
)
MEDICAL_SPECIALTY = "879"  # junior medical specialist (MoD example)
OFFICER_SPECIALTIES = WeightedTable(
    [("0101001", 4.0), ("0202001", 2.0), ("0301002", 2.0), ("0905001", 1.0), ("1101001", 1.0)]
)
MEDICAL_OFFICER_SPECIALTY = "1201001"  # illustrative

RANKS: dict[str, WeightedTable[str]] = {
    "private": WeightedTable([("солдат", 0.8), ("старший солдат", 0.2)]),
    "sergeant": WeightedTable(
        [
            ("молодший сержант", 0.35),
            ("сержант", 0.3),
            ("старший сержант", 0.2),
            ("головний сержант", 0.1),
            ("штаб-сержант", 0.05),
        ]
    ),
    "officer": WeightedTable(
        [
            ("молодший лейтенант", 0.25),
            ("лейтенант", 0.3),
            ("старший лейтенант", 0.2),
            ("капітан", 0.13),
            ("майор", 0.07),
            ("підполковник", 0.04),
            ("полковник", 0.01),
        ]
    ),
}

ROAD_CHECKPOINTS = WeightedTable(
    [
        (("Шегині", "POL"), 12.0),
        (("Краковець", "POL"), 8.0),
        (("Рава-Руська", "POL"), 6.0),
        (("Ягодин", "POL"), 8.0),
        (("Устилуг", "POL"), 4.0),
        (("Грушів", "POL"), 2.0),
        (("Ужгород", "SVK"), 5.0),
        (("Малий Березний", "SVK"), 2.0),
        (("Чоп (Тиса)", "HUN"), 5.0),
        (("Лужанка", "HUN"), 2.0),
        (("Дякове", "ROU"), 2.0),
        (("Порубне", "ROU"), 6.0),
        (("Дяківці", "ROU"), 2.0),
        (("Солотвино", "ROU"), 2.0),
        (("Паланка", "MDA"), 5.0),
        (("Маяки-Удобне", "MDA"), 3.0),
        (("Могилів-Подільський", "MDA"), 3.0),
    ]
)
AIRPORT_CHECKPOINT = "Бориспіль (аеропорт)"
FLIGHT_COUNTRIES = WeightedTable(
    [("TUR", 5.0), ("EGY", 3.0), ("POL", 2.0), ("DEU", 2.0), ("ITA", 1.0), ("ESP", 1.0)]
)
