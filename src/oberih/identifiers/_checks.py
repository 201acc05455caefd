"""Shape checks shared by the identifier parsers; messages name positions, never the value."""

from oberih.identifiers.errors import InvalidIdentifier

# str.isdigit() also accepts other scripts' digits and superscripts ("٣", "²"); registers send
# ASCII, so anything else is a typing or encoding fault to report, not to convert.
ASCII_DIGITS = frozenset("0123456789")


def first_non_digit(text: str) -> int | None:
    """1-based position of the first character that is not an ASCII digit, or None."""
    if text.isascii() and text.isdigit():  # the usual case, without a loop in Python
        return None
    for index, char in enumerate(text):
        if char not in ASCII_DIGITS:
            return index + 1
    return None


def require_ascii_digits(text: str, *, label: str, length: int) -> None:
    """Raise unless `text` is exactly `length` ASCII digits."""
    if len(text) != length:
        raise InvalidIdentifier(f"{label} must have {length} digits, got {len(text)}")
    position = first_non_digit(text)
    if position is not None:
        raise InvalidIdentifier(f"{label} must be ASCII digits only; position {position} is not")
