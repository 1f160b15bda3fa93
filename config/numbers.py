"""Whole numbers from user input (pages' forms, query parameters): the one way they are read.

ASCII digits only (``str.isdigit`` accepts ², ٣, …), bounded.
"""

import re

from django.core.exceptions import ValidationError

DIGITS = re.compile(r"[0-9]{1,9}")


def whole_number(text: str | None, *, low: int = 0, high: int = 10**9 - 1) -> int | None:
    """``text`` as an int if it is 1 to 9 ASCII digits within [low, high], else None."""
    text = (text or "").strip()
    if not DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def whole_numbers(texts) -> list[int]:
    """The whole numbers among ``texts`` (a form's list of ids), the rest left out."""
    return [number for number in map(whole_number, texts) if number is not None]


def number_parameter(params, name: str, *, default: int, low: int, high: int) -> int:
    """Query parameter ``name`` as a whole number in [low, high], ``default`` when it is left out.

    Anything else (text, out of range, given twice) is a ValidationError naming the parameter
    (the API answers it with a 400).
    """
    values = params.getlist(name)
    if not values:
        return default
    if len(values) > 1:
        raise ValidationError({name: ["Give this parameter once."]})
    number = whole_number(values[0], low=low, high=high)
    if number is None:
        raise ValidationError({name: [f"A whole number from {low} to {high}."]})
    return number
