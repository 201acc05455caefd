"""The one exception every identifier parser raises.

Identifiers are personal data, so a message says what is wrong with a value (its length, which
position holds a bad character, that the check digit fails) and never repeats the value itself:
messages end up in logs, quarantine reasons and API answers read by people who must not learn
the number from them.
"""


class InvalidIdentifier(ValueError):
    """A national identifier or document number could not be parsed.

    `str(error)` is a reason fit to show to the sender of the value; it never contains the value.
    """
