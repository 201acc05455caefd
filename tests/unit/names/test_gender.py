import pytest

from oberih.names import feminine_surname, patronymic_from

PATRONYMICS = [
    # father's given name, son's patronymic, daughter's patronymic
    ("Іван", "Іванович", "Іванівна"),
    ("Олександр", "Олександрович", "Олександрівна"),
    ("Микола", "Миколайович", "Миколаївна"),
    ("Ілля", "Ілліч", "Іллівна"),
    ("Лука", "Лукич", "Луківна"),
    ("Андрій", "Андрійович", "Андріївна"),
    ("Юрій", "Юрійович", "Юріївна"),
    ("Василь", "Васильович", "Василівна"),
    ("Ігор", "Ігорович", "Ігорівна"),
    ("Олег", "Олегович", "Олегівна"),
    ("Сергій", "Сергійович", "Сергіївна"),
    ("Петро", "Петрович", "Петрівна"),
    ("Павло", "Павлович", "Павлівна"),
    ("Дмитро", "Дмитрович", "Дмитрівна"),
    ("Яків", "Якович", "Яківна"),
    ("Григорій", "Григорович", "Григорівна"),
    ("Кузьма", "Кузьмич", "Кузьмівна"),
    ("Хома", "Хомич", "Хомівна"),
    ("Сава", "Савич", "Савівна"),
    ("Михайло", "Михайлович", "Михайлівна"),
    ("Лев", "Львович", "Львівна"),
    ("Федір", "Федорович", "Федорівна"),
    ("Антін", "Антонович", "Антонівна"),
    ("Мамай", "Мамайович", "Мамаївна"),
]


@pytest.mark.parametrize(("father", "son", "daughter"), PATRONYMICS)
def test_patronymic(father: str, son: str, daughter: str) -> None:
    assert patronymic_from(father, "male") == son
    assert patronymic_from(father, "female") == daughter


@pytest.mark.parametrize(("father", "son", "daughter"), PATRONYMICS)
def test_patronymic_keeps_the_case_pattern(father: str, son: str, daughter: str) -> None:
    assert patronymic_from(father.upper(), "male") == son.upper()
    assert patronymic_from(father.lower(), "female") == daughter.lower()
    assert patronymic_from(f"  {father} ", "male") == son


@pytest.mark.parametrize(
    ("name", "sex", "reason"),
    [("", "male", "empty"), ("   ", "female", "empty"), ("Іван", "other", "sex must be")],
)
def test_patronymic_rejects_bad_input(name: str, sex: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        patronymic_from(name, sex)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("masculine", "feminine"),
    [
        ("Вишневський", "Вишневська"),
        ("Коцький", "Коцька"),
        ("Загорський", "Загорська"),
        ("Бродзький", "Бродзька"),
        ("Білий", "Біла"),
        ("Чорний", "Чорна"),
        ("Задорожній", "Задорожня"),
        ("Толстой", "Толста"),
        ("Іванов", "Іванова"),
        ("Ковальов", "Ковальова"),
        ("Соловйов", "Соловйова"),
        ("Гуляєв", "Гуляєва"),
        ("Пушкін", "Пушкіна"),
        ("Ільїн", "Ільїна"),
        ("Кузьмин", "Кузьмина"),
        # unchanged
        ("Шевченко", "Шевченко"),
        ("Ковальчук", "Ковальчук"),
        ("Ткачук", "Ткачук"),
        ("Панасюк", "Панасюк"),
        ("Мельник", "Мельник"),
        ("Бойко", "Бойко"),
        ("Петрович", "Петрович"),
        ("Павлів", "Павлів"),
        ("Коваль", "Коваль"),
        ("Гонта", "Гонта"),
        ("Соловій", "Соловій"),
        # already feminine
        ("Вишневська", "Вишневська"),
        # capitals and double surnames
        ("БІЛИЙ", "БІЛА"),
        ("Білий-Вишневський", "Біла-Вишневська"),
        ("Шевченко-Іванов", "Шевченко-Іванова"),
        (" Білий ", "Біла"),
        ("", ""),
    ],
)
def test_feminine_surname(masculine: str, feminine: str) -> None:
    assert feminine_surname(masculine) == feminine
